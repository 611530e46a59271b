"""``chainfin risk model …``: the bank's model registry — register (train on a file),
list, promote, score with the champion (``--compare``: and the challenger), monitor a
population's stability, and its history."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from chainfin.cli.common import out
from chainfin.cli.lending import bank_actor, run_as
from chainfin.cli.risk import risk_app
from chainfin.cli.risk_scorecard import _read
from chainfin.domain import clock
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.services import models

model_app = typer.Typer(
    help="The bank's model registry: champion, challengers, stability", no_args_is_help=True
)
risk_app.add_typer(model_app, name="model")

BankOpt = Annotated[str, typer.Option("--bank", help="the bank (code)")]
DataOpt = Annotated[
    Path, typer.Option("--data", help="CSV (header line first), JSON array or JSON Lines file")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _show_models(rows: list[dict[str, Any]]) -> None:
    table = Table(title="models")
    for column in ("id", "name", "version", "status", "auc", "population", "digest"):
        table.add_column(column)
    for r in rows:
        auc = f"{r['auc']:.4f}" if r["auc"] is not None else ""
        table.add_row(
            r["id"], escape(r["name"]), str(r["version"]), r["status"], auc,
            str(r["population"]), r["digest"][:12],
        )  # fmt: skip
    out.print(table)


def _show_model(r: dict[str, Any]) -> None:
    _show_models([r])


def _show_check(r: dict[str, Any]) -> None:
    _show_history([r])


def _show_history(rows: list[dict[str, Any]]) -> None:
    table = Table(title="stability (PSI against the training population)")
    for column in ("as of", "rows", "psi", "status", "largest shift", "alert"):
        table.add_column(column)
    for r in rows:
        top = max(r["variables"], key=lambda v: v["psi"], default=None)
        shift = f"{escape(top['variable'])} {top['psi']:.4f}" if top else ""
        table.add_row(
            r["as_of"], str(r["count"]), f"{r['psi']:.4f}", r["status"], shift,
            r["alert_id"] or "",
        )  # fmt: skip
    out.print(table)


def _show_scores(body: dict[str, Any]) -> None:
    challenger = body["challenger"]
    table = Table(title=f"{escape(body['name'])} v{body['champion']['version']} (champion)")
    table.add_column("row")
    table.add_column("score", justify="right")
    table.add_column("pd", justify="right")
    if challenger:
        table.add_column(f"v{challenger['version']} score", justify="right")
        table.add_column(f"v{challenger['version']} pd", justify="right")
    for r in body["rows"]:
        cells = [str(r["row"]), f"{r['champion']['score']:.0f}", f"{r['champion']['pd']:.4f}"]
        if challenger and r.get("challenger"):
            cells += [f"{r['challenger']['score']:.0f}", f"{r['challenger']['pd']:.4f}"]
        table.add_row(*cells)
    out.print(table)


def _as_of(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise ValidationFailed([FieldError("--as-of", f"{text!r} is not YYYY-MM-DD")]) from None


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

    def work(s: Any, a: Any) -> dict[str, Any]:
        rows, columns, first = _read(data)
        row = models.train_and_register(
            s, a, name, rows, target=target, bad=bad, columns=columns, first_row=first
        )
        return models.model_out(row)

    run_as(as_json, bank_actor(bank), work, _show_model)


@model_app.command("list")
def list_cmd(
    bank: BankOpt,
    name: Annotated[str | None, typer.Option("--name", help="only this name")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's models, by name and version."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [models.model_out(m) for m in models.models(s, a, name=name)],
        _show_models,
    )


@model_app.command("promote")
def promote_cmd(
    model_id: Annotated[str, typer.Argument(help="the version to make champion")],
    bank: BankOpt,
    as_json: JsonOpt = False,
) -> None:
    """Make a version its name's champion; the previous champion is retired."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: models.model_out(models.promote(s, a, model_id)),
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

    def work(s: Any, a: Any) -> dict[str, Any]:
        rows, columns, first = _read(data)
        return models.score(s, a, name, rows, compare=compare, columns=columns, first_row=first)

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

    def work(s: Any, a: Any) -> dict[str, Any]:
        rows, columns, first = _read(data)
        check = models.monitor(
            s, a, model_id, rows, as_of=_as_of(as_of), columns=columns, first_row=first
        )
        return models.monitoring_out(check)

    run_as(as_json, bank_actor(bank), work, _show_check)


@model_app.command("history")
def history_cmd(
    model_id: Annotated[str, typer.Argument(help="the version")],
    bank: BankOpt,
    as_json: JsonOpt = False,
) -> None:
    """A model's stability checks over time."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [models.monitoring_out(m) for m in models.history(s, a, model_id)],
        _show_history,
    )
