"""``chainfin risk exposure``, ``warn-scan``, ``alerts``, ``ack``, ``resolve``,
``escalate``, ``scenario``, ``sectors`` and ``warn-sectors``: the bank's portfolio and its
post-loan monitoring. Reads (``exposure``, ``alerts``, ``scenario``, ``sectors``) never
write; the commands that raise or move alerts are named for it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape

from chainfin.cli.common import (
    Col,
    CursorOpt,
    JsonOpt,
    LimitOpt,
    money,
    more,
    name_of,
    out,
    page_of,
    table,
)
from chainfin.cli.lending import bank_actor, run_as
from chainfin.cli.risk import risk_app
from chainfin.domain import clock

# services.portfolio.DIMENSIONS, spelled out so that --help does not load the services
# (tests/test_cli_start.py checks the two agree).
EXPOSURE_DIMENSIONS = (
    "core, chain, industry_section, industry_division, region_province, region_prefecture, obligor"
)


BankOpt = Annotated[str, typer.Option(help="the bank (code)")]
AsOfOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")]
SectorByOpt = Annotated[str, typer.Option(help="industry_section or region_province")]


def _show(body: dict[str, Any]) -> None:
    table(
        f"exposure by {body['by']}",
        [
            Col(body["by"].split("_")[0]),
            Col("exposure", "amount"),
            Col("limit", "amount", drop=2),
            Col("share %", "pct"),
            Col("items", "number", drop=1),
            Col("key", "code", drop=3),
        ],
        [
            [
                r["label"],
                {"amount": r["exposure"], "currency": body["currency"]},
                {"amount": r["limit"], "currency": body["currency"]} if r["limit"] else None,
                r["share_pct"],
                r["items"],
                r["key"],
            ]
            for r in body["rows"]
        ],
        empty="no exposure",
    )
    out.print(
        f"total {money(body['total'], body['currency'])}; "
        f"HHI {body['hhi_points']:,} ({body['concentration']}); "
        f"top-5 share {body['top5_share_pct']} %"
    )


@risk_app.command("exposure")
def exposure_cmd(
    bank: BankOpt,
    by: Annotated[str, typer.Option(help=EXPOSURE_DIMENSIONS)] = "core",
    currency: Annotated[str, typer.Option()] = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Exposure and limits by core enterprise, chain, industry, region or obligor, with the
    Herfindahl-Hirschman index and the top-5 share."""
    from chainfin.resources.risk import ExposureOut
    from chainfin.services import portfolio

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: ExposureOut.build(portfolio.exposure(s, a, by=by, currency=currency)),
        _show,
    )


def _date(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a YYYY-MM-DD date") from None


def _show_alerts(body: dict[str, Any]) -> None:
    table(
        "alerts",
        [
            Col("about"),
            Col("kind", drop=3),
            Col("severity"),
            Col("lvl", "number", drop=2),
            Col("raised", "date", drop=1),
            Col("message", drop=4),
            Col("id", "id"),
        ],
        [
            [
                name_of(r["enterprise_id"]) or r["subject_id"],
                r["kind"],
                r["severity"],
                r["escalation_level"],
                r["created_at"],
                r["message"],
                r["id"],
            ]
            for r in body["items"]
        ],
        empty="no alerts",
    )
    more(body)


@risk_app.command("warn-scan")
def warn_scan_cmd(bank: BankOpt, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Early warning, full rescan: signals of every borrower (under consent), policies,
    alerts for the relationship managers."""
    from chainfin.resources.alerts import ScanOut
    from chainfin.services import early_warning

    day = _date(as_of)
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: ScanOut.build(early_warning.scan(s, a, as_of=day)),
        lambda b: out.print(
            f"{b['subjects']:,} borrowers ({b['without_consent']:,} without consent): "
            f"{b['warnings']:,} warnings, {b['alerts_raised']:,} new alerts"
            + "".join(f"\n  {escape(k)}  {v:,}" for k, v in sorted(b["by_code"].items()))
        ),
        slow="early-warning scan",
    )


@risk_app.command("alerts")
def alerts_cmd(
    bank: BankOpt,
    state: Annotated[str, typer.Option(help="open, acknowledged or resolved")] = "open",
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's alerts, newest first."""
    from chainfin.resources.alerts import AlertOut
    from chainfin.services import alerts

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            alerts.alerts(s, a, alerts.AlertFilter(state=state), cursor=cursor, limit=limit),
            AlertOut.build,
        ),
        _show_alerts,
    )


@risk_app.command("ack")
def ack_cmd(
    alert_id: str,
    bank: BankOpt,
    note: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Acknowledge an alert: someone is on it."""
    from chainfin.resources.alerts import AlertOut
    from chainfin.services import alerts

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: AlertOut.build(alerts.acknowledge(s, a, alert_id, note=note)),
        lambda b: out.print(f"{b['id']} acknowledged"),
    )


@risk_app.command("resolve")
def resolve_cmd(
    alert_id: str,
    bank: BankOpt,
    note: Annotated[str, typer.Option(help="what was found and done (required)")],
    as_json: JsonOpt = False,
) -> None:
    """Resolve an alert with a note."""
    from chainfin.resources.alerts import AlertOut
    from chainfin.services import alerts

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: AlertOut.build(alerts.resolve(s, a, alert_id, note=note)),
        lambda b: out.print(f"{b['id']} resolved"),
    )


@risk_app.command("escalate")
def escalate_cmd(bank: BankOpt, as_json: JsonOpt = False) -> None:
    """Escalate alerts nobody acknowledged in time (critical 4 h, high 24 h, medium 72 h)."""
    from chainfin.services import alerts

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: {"escalated": alerts.escalate(s, a)},
        lambda b: out.print(f"{b['escalated']:,} alert(s) escalated"),
    )


def _show_scenario(body: dict[str, Any]) -> None:
    sc = body["scenario"]
    what = "defaults" if sc["kind"] == "default" else f"pays {sc['days']} days late"
    out.print(
        f"{escape(sc['core'] or sc['core_uscc'])} {what} (shock {sc['shock_pct']} %) on a "
        f"network of {body['network']['nodes']:,} firms, {body['network']['links']:,} links: "
        f"DebtRank {body['debtrank_pct']} %, {body['distressed']:,} firms distressed in "
        f"{body['rounds']} rounds"
    )
    table(
        "most distressed",
        [Col("firm"), Col("tier", "code"), Col("distress %", "pct")],
        [[r["name"], r["tier"] or "", r["distress_pct"]] for r in body["top"]],
        empty="no firm distressed",
    )
    bank = body["bank"]
    out.print(
        f"bank exposure {money(bank['exposure'], bank['currency'])}, expected loss "
        f"{money(bank['expected_loss'], bank['currency'])} (LGD {bank['lgd_pct']} %)"
    )
    for tier, loss in bank["by_tier"].items():
        out.print(f"  {escape(tier)}: {money(loss, bank['currency'])}")
    for chain in body["chains_hit"]:
        out.print(f"  chain hit: {escape(chain['name'])} ({chain['members_distressed']} members)")


@risk_app.command("scenario")
def scenario_cmd(
    bank: BankOpt,
    core: Annotated[str, typer.Option(help="the core enterprise (USCC or id)")],
    delay_days: Annotated[
        int, typer.Option(help="the core pays this many days late (0: it defaults)")
    ] = 0,
    as_of: AsOfOpt = None,
    top: Annotated[int, typer.Option(help="how many firms to list")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Contagion of a core enterprise's default or late payment down its supply network
    (DebtRank), and the bank's expected loss by tier."""
    from chainfin.resources.risk import ContagionOut
    from chainfin.services import contagion

    day = _date(as_of)
    kind = "delay" if delay_days else "default"
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: ContagionOut.build(
            contagion.run(s, a, core=core, kind=kind, days=delay_days, as_of=day, top=top)
        ),
        _show_scenario,
    )


def _show_sectors(body: dict[str, Any]) -> None:
    months = body["months"][-6:]
    table(
        f"alert rates by {body['by']} (%)",
        [
            Col("sector", "code"),
            Col("borrowers", "number"),
            *(Col(m, "pct", drop=len(months) - n) for n, m in enumerate(months)),
            Col("warning", "code"),
        ],
        [
            [
                row["key"],
                row["borrowers"],
                *row["alert_rates_pct"][-6:],
                "RISING" if row["warning"] else "",
            ]
            for row in body["sectors"]
        ],
        empty="no borrowers",
    )


@risk_app.command("sectors")
def sectors_cmd(
    bank: BankOpt,
    by: SectorByOpt = "industry_section",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Monthly alert rates of the bank's borrowers by industry or region, and the sectors
    rising beyond their own history. Only reads: `chainfin risk warn-sectors` raises the
    alerts."""
    from chainfin.resources.risk import SectorRatesOut
    from chainfin.services import sectors

    day = _date(as_of)
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: SectorRatesOut.build(sectors.rates(s, a, by=by, as_of=day)),
        _show_sectors,
    )


@risk_app.command("warn-sectors")
def warn_sectors_cmd(
    bank: BankOpt,
    by: SectorByOpt = "industry_section",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Raise a sector_warning alert for every sector whose alert rate rises beyond its own
    history (the rates `chainfin risk sectors` shows), then print the rates."""
    from chainfin.resources.risk import SectorRatesOut
    from chainfin.services import sectors

    day = _date(as_of)

    def show(body: dict[str, Any]) -> None:
        _show_sectors(body)
        rising = [row["key"] for row in body["sectors"] if row["warning"]]
        out.print(
            f"sector_warning raised for {', '.join(rising)}"
            if rising
            else "no sector rising: no alert raised"
        )

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: SectorRatesOut.build(sectors.scan(s, a, by=by, as_of=day)),
        show,
    )
