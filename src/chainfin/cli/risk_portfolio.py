"""``chainfin risk exposure``, ``warn-scan``, ``alerts``, ``ack``, ``resolve``,
``escalate``: the bank's portfolio and its post-loan monitoring."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from chainfin.cli.common import out
from chainfin.cli.lending import bank_actor, run_as
from chainfin.cli.risk import risk_app
from chainfin.domain import clock
from chainfin.services import alerts, contagion, early_warning, portfolio, sectors


def _show(body: dict[str, Any]) -> None:
    table = Table(title=f"exposure by {body['by']} ({body['currency']})")
    for column in ("key", "name", "exposure", "limit", "share", "items"):
        table.add_column(column, justify="right" if column in ("exposure", "limit") else "left")
    for row in body["rows"]:
        limit = row["limit"]["amount"] if row["limit"] else ""
        table.add_row(
            row["key"],
            row["label"],
            row["exposure"]["amount"],
            limit,
            f"{float(row['share']):.1%}",
            str(row["items"]),
        )
    out.print(table)
    out.print(
        f"total {body['total']['amount']} {body['currency']}; HHI {body['hhi_points']} "
        f"({body['concentration']}); top-5 share {float(body['top5_share']):.1%}"
    )


@risk_app.command("exposure")
def exposure_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    by: Annotated[str, typer.Option(help=", ".join(portfolio.DIMENSIONS))] = "core",
    currency: Annotated[str, typer.Option()] = "CNY",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Exposure and limits by core enterprise, chain, industry, region or obligor, with the
    Herfindahl-Hirschman index and the top-5 share."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: portfolio.exposure(s, a, by=by, currency=currency).to_dict(),
        _show,
    )


def _date(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a YYYY-MM-DD date") from None


def _show_alerts(rows: list[dict[str, Any]]) -> None:
    table = Table(title="alerts")
    for column in ("id", "kind", "severity", "level", "state", "message"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["kind"],
            row["severity"],
            str(row["escalation_level"]),
            row["state"],
            row["message"],
        )
    out.print(table)


@risk_app.command("warn-scan")
def warn_scan_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Early warning, full rescan: signals of every borrower (under consent), policies,
    alerts for the relationship managers."""
    day = _date(as_of)
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: early_warning.scan(s, a, as_of=day).to_dict(),
        lambda b: out.print(
            f"{b['subjects']} borrowers ({b['without_consent']} without consent): "
            f"{b['warnings']} warnings, {b['alerts_raised']} new alerts {b['by_code']}"
        ),
    )


@risk_app.command("alerts")
def alerts_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    state: Annotated[str, typer.Option(help="open, acknowledged or resolved")] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The bank's alerts."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [alerts.alert_out(r) for r in alerts.alerts(s, a, state=state)],
        _show_alerts,
    )


@risk_app.command("ack")
def ack_cmd(
    alert_id: str,
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    note: Annotated[str, typer.Option()] = "",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Acknowledge an alert: someone is on it."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: alerts.alert_out(alerts.acknowledge(s, a, alert_id, note=note)),
        lambda b: out.print(f"{b['id']} acknowledged"),
    )


@risk_app.command("resolve")
def resolve_cmd(
    alert_id: str,
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    note: Annotated[str, typer.Option(help="what was found and done (required)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Resolve an alert with a note."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: alerts.alert_out(alerts.resolve(s, a, alert_id, note=note)),
        lambda b: out.print(f"{b['id']} resolved"),
    )


@risk_app.command("escalate")
def escalate_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Escalate alerts nobody acknowledged in time (critical 4 h, high 24 h, medium 72 h)."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: {"escalated": alerts.escalate(s, a)},
        lambda b: out.print(f"{b['escalated']} alert(s) escalated"),
    )


def _show_scenario(body: dict[str, Any]) -> None:
    sc = body["scenario"]
    what = "defaults" if sc["kind"] == "default" else f"pays {sc['days']} days late"
    out.print(
        f"{sc['core'] or sc['core_uscc']} {what} (shock {sc['shock']:.2f}) on a network of "
        f"{body['network']['nodes']} firms, {body['network']['links']} links: DebtRank "
        f"{body['debtrank']:.4f}, {body['distressed']} firms distressed in {body['rounds']} rounds"
    )
    table = Table(title="most distressed")
    for column in ("firm", "tier", "h"):
        table.add_column(column)
    for row in body["top"]:
        table.add_row(row["name"], row["tier"] or "", f"{row['h']:.4f}")
    out.print(table)
    bank = body["bank"]
    out.print(
        f"bank exposure {bank['exposure']['amount']}, expected loss "
        f"{bank['expected_loss']['amount']} (LGD {bank['lgd']})"
    )
    for tier, loss in bank["by_tier"].items():
        out.print(f"  {tier}: {loss['amount']}")
    for chain in body["chains_hit"]:
        out.print(f"  chain hit: {chain['name']} ({chain['members_distressed']} members)")


@risk_app.command("scenario")
def scenario_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    core: Annotated[str, typer.Option(help="the core enterprise (USCC or id)")],
    delay_days: Annotated[
        int, typer.Option(help="the core pays this many days late (0: it defaults)")
    ] = 0,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    top: Annotated[int, typer.Option(help="how many firms to list")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Contagion of a core enterprise's default or late payment down its supply network
    (DebtRank), and the bank's expected loss by tier."""
    day = _date(as_of)
    kind = "delay" if delay_days else "default"
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: contagion.run(s, a, core=core, kind=kind, days=delay_days, as_of=day, top=top),
        _show_scenario,
    )


@risk_app.command("sectors")
def sectors_cmd(
    bank: Annotated[str, typer.Option(help="the bank (code)")],
    by: Annotated[str, typer.Option(help="industry_section or region_province")] = (
        "industry_section"
    ),
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    warn: Annotated[bool, typer.Option(help="raise sector_warning alerts")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Monthly alert rates of the bank's borrowers by industry or region, and the sectors
    rising beyond their own history."""
    day = _date(as_of)

    def work(s: Any, a: Any) -> dict[str, Any]:
        if warn:
            return sectors.scan(s, a, by=by, as_of=day).to_dict()
        return sectors.rates(s, a, by=by, as_of=day).to_dict()

    def show(body: dict[str, Any]) -> None:
        table = Table(title=f"alert rates by {body['by']}")
        table.add_column("sector")
        table.add_column("borrowers", justify="right")
        for month in body["months"][-6:]:
            table.add_column(month, justify="right")
        table.add_column("warning")
        for row in body["sectors"]:
            rates = [f"{float(r):.0%}" for r in row["rates"][-6:]]
            flag = "RISING" if row["warning"] else ""
            table.add_row(row["key"], str(row["borrowers"]), *rates, flag)
        out.print(table)

    run_as(as_json, bank_actor(bank), work, show)
