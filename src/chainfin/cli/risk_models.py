"""``chainfin risk model …``: the bank's model registry — register (train on a file),
list, promote, score with the champion (``--compare``: and the challenger), monitor a
population's stability, and its history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from chainfin.cli.common import Col, CursorOpt, JsonOpt, LimitOpt, group, more, page_of, table
from chainfin.cli.lending import bank_actor, run_as
from chainfin.cli.risk import risk_app
from chainfin.cli.risk_scorecard import _read
from chainfin.domain import clock
from chainfin.domain.errors import FieldError, ValidationFailed

model_app = group("The bank's model registry: champion, challengers, stability")
risk_app.add_typer(model_app, name="model")

BankOpt = Annotated[str, typer.Option("--bank", help="the bank (code)")]
DataOpt = Annotated[
    Path, typer.Option("--data", help="CSV (header line first), JSON array or JSON Lines file")
]


def _show_model_page(body: dict[str, Any]) -> None:
    _show_models(body["items"])
    more(body)


def _show_models(rows: list[dict[str, Any]]) -> None:
    table(
        "models",
        [
            Col("name"),
            Col("v", "number"),
            Col("status"),
            Col("AUC %", "pct"),
            Col("population", "number", drop=2),
            Col("created", "date", drop=1),
            Col("id", "id"),
        ],
        [
            [
                r["name"],
                r["version"],
                r["status"],
                r["auc_pct"],
                r["population"],
                r["created_at"],
                r["id"],
            ]
            for r in rows
        ],
        empty="no models",
    )


def _show_model(r: dict[str, Any]) -> None:
    _show_models([r])


def _show_check(r: dict[str, Any]) -> None:
    _show_history([r])


def _show_history_page(body: dict[str, Any]) -> None:
    _show_history(body["items"])
    more(body)


def _show_history(rows: list[dict[str, Any]]) -> None:
    shifts = []
    for r in rows:
        top = max(r["variables"], key=lambda v: Decimal(v["psi"]), default=None)
        shifts.append(f"{top['variable']} {top['psi']}" if top else "")
    table(
        "stability (PSI against the training population)",
        [
            Col("as of", "date"),
            Col("rows", "number"),
            Col("PSI", "pct"),
            Col("status"),
            Col("largest shift", drop=2),
            Col("alert", "id", drop=1),
        ],
        [
            [r["as_of"], r["count"], r["psi"], r["status"], shift, r["alert_id"]]
            for r, shift in zip(rows, shifts, strict=True)
        ],
        empty="no stability checks yet",
    )


def _show_scores(body: dict[str, Any]) -> None:
    challenger = body["challenger"]
    columns = [Col("row", "number"), Col("score", "number"), Col("PD %", "pct")]
    if challenger:
        v = challenger["version"]
        columns += [Col(f"v{v} score", "number"), Col(f"v{v} PD %", "pct")]
    rows = []
    for r in body["rows"]:
        cells = [r["row"], f"{r['champion']['score']:.0f}", r["champion"]["pd_pct"]]
        if challenger:
            other = r.get("challenger") or {}
            cells += [
                f"{other['score']:.0f}" if other else "",
                other.get("pd_pct", ""),
            ]
        rows.append(cells)
    table(
        f"{body['name']} v{body['champion']['version']} (champion)",
        columns,
        rows,
        empty="no rows scored",
    )


def _as_of(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise ValidationFailed(
            [FieldError("--as-of", f"{text!r} is not YYYY-MM-DD")], code="date_invalid"
        ) from None


@model_app.command("register")
def register_cmd(
    bank: BankOpt,
    name: Annotated[str, typer.Option("--name", help="the model's name in the registry")],
    data: DataOpt,
    target: Annotated[str, typer.Option("--target", help="the column that says good or bad")],
    bad: Annotated[
        str | None,
        typer.Option("--bad", help="the target value meaning bad (default: target is 0/1, 1=bad)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a scorecard on a file and register it as the name's next version (a
    challenger); the file's scores are the baseline its stability is measured against."""
    from chainfin.resources.risk import RiskModelOut
    from chainfin.services import models

    def work(s: Any, a: Any) -> Any:
        rows, columns, first = _read(data)
        row = models.train_and_register(
            s, a, name, rows, target=target, bad=bad, columns=columns, first_row=first
        )
        return RiskModelOut.build(row)

    run_as(as_json, bank_actor(bank), work, _show_model, slow="training the scorecard")


@model_app.command("list")
def list_cmd(
    bank: BankOpt,
    name: Annotated[str | None, typer.Option("--name", help="only this name")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's models, by name and version."""
    from chainfin.resources.risk import RiskModelOut
    from chainfin.services import models

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            models.models(s, a, name=name, cursor=cursor, limit=limit), RiskModelOut.build
        ),
        _show_model_page,
    )


@model_app.command("promote")
def promote_cmd(
    model_id: Annotated[str, typer.Argument(help="the version to make champion")],
    bank: BankOpt,
    as_json: JsonOpt = False,
) -> None:
    """Make a version its name's champion; the previous champion is retired."""
    from chainfin.resources.risk import RiskModelOut
    from chainfin.services import models

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: RiskModelOut.build(models.promote(s, a, model_id)),
        _show_model,
    )


@model_app.command("score")
def score_cmd(
    bank: BankOpt,
    name: Annotated[str, typer.Option("--name", help="the model's name")],
    data: DataOpt,
    compare: Annotated[
        bool, typer.Option("--compare", help="score with the latest challenger too")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score a file with the name's champion."""
    from chainfin.resources.risk import ModelScoreOut
    from chainfin.services import models

    def work(s: Any, a: Any) -> Any:
        rows, columns, first = _read(data)
        return ModelScoreOut.build(
            models.score(s, a, name, rows, compare=compare, columns=columns, first_row=first)
        )

    run_as(as_json, bank_actor(bank), work, _show_scores)


@model_app.command("monitor")
def monitor_cmd(
    model_id: Annotated[str, typer.Argument(help="the version to check")],
    bank: BankOpt,
    data: DataOpt,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD [today]")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a population's stability against the model's training population (PSI); a
    shift above 0.25 raises a model_drift alert."""
    from chainfin.resources.risk import MonitoringOut
    from chainfin.services import models

    def work(s: Any, a: Any) -> Any:
        rows, columns, first = _read(data)
        check = models.monitor(
            s, a, model_id, rows, as_of=_as_of(as_of), columns=columns, first_row=first
        )
        return MonitoringOut.build(check)

    run_as(as_json, bank_actor(bank), work, _show_check)


@model_app.command("history")
def history_cmd(
    model_id: Annotated[str, typer.Argument(help="the version")],
    bank: BankOpt,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A model's stability checks over time."""
    from chainfin.resources.risk import MonitoringOut
    from chainfin.services import models

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            models.history(s, a, model_id, cursor=cursor, limit=limit), MonitoringOut.build
        ),
        _show_history_page,
    )
