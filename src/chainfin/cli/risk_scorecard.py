"""``chainfin risk train`` and ``chainfin risk score``: scorecards on tabular data.

``train`` fits a scorecard (optbinning: monotonic optimal binning, WoE, logistic regression,
points) on any CSV, JSON or JSON Lines file with a binary target, evaluates it on a holdout
and writes the model (a pickle) with its card (``<model>.card.json``: metrics, points table,
columns, SHA-256 of the pickle). ``score`` scores a file with a model, with the three reasons
that cost each row most points. Models are pickles: score only with model files you trust.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from chainfin.cli.common import Col, err, fail, out, print_json, progress, table
from chainfin.cli.risk import risk_app
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed

if TYPE_CHECKING:
    from chainfin.risk.scorecard import Scored

PRINT_ROWS = 50  # rows a terminal gets before it is told to use --out or --json

DataOpt = Annotated[
    Path, typer.Option("--data", help="CSV (header line first), JSON array or JSON Lines file")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in value.split(",") if n.strip()) if value else ()


def _read(path: Path) -> tuple[list[dict[str, object]], list[str], int]:
    """Rows, the columns (a CSV header keeps columns that are empty in every row) and the
    number of the first row."""
    from chainfin.adapters.formats.tabular import TabularFormat, read_rows

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            [FieldError("data", f"cannot read {path}: {exc.strerror}")], code="file_unreadable"
        ) from None
    fmt = TabularFormat.from_filename(path.name)
    parsed = read_rows(data, fmt)
    if fmt is TabularFormat.CSV:
        header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        columns = [h.strip() for h in header]
    else:
        columns = list(dict.fromkeys(k for r in parsed.rows for k in r))
    return parsed.rows, columns, parsed.first_row


def _r(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}f}"


@risk_app.command("train")
def train_cmd(
    data: DataOpt,
    target: Annotated[str, typer.Option("--target", help="the column that says good or bad")],
    bad: Annotated[
        str | None,
        typer.Option("--bad", help="the target value meaning bad (default: target is 0/1, 1=bad)"),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="where to write the model [default: <data>.scorecard.pkl]"),
    ] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="COL,... [default: all other columns]")
    ] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="COL,... not features")] = None,
    categorical: Annotated[
        str | None,
        typer.Option("--categorical", help="COL,... to bin as categories (text columns are)"),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="an identifier column, not a feature")
    ] = None,
    test_size: Annotated[float, typer.Option("--test-size", help="holdout share")] = 0.3,
    folds: Annotated[
        int | None, typer.Option("--folds", help="stratified k-fold instead of a holdout")
    ] = None,
    time_column: Annotated[
        str | None,
        typer.Option("--time-column", help="hold out the latest rows by this column instead"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the split")] = 42,
    pdo: Annotated[float, typer.Option("--pdo", help="points to double the odds")] = 20.0,
    odds: Annotated[float, typer.Option("--odds", help="good:bad odds at --points")] = 50.0,
    points: Annotated[float, typer.Option("--points", help="score at --odds")] = 600.0,
    trend: Annotated[
        str,
        typer.Option("--trend", help="numeric bins' event-rate trend (optbinning monotonic_trend)"),
    ] = "auto_asc_desc",
    as_json: JsonOpt = False,
) -> None:
    """Train a scorecard on a file, evaluate it (AUC, KS, Gini on a holdout) and write it.

    The model is a pickle with a card beside it (<model>.card.json) that records its SHA-256;
    `risk score` loads only a pickle that matches its card. Pickles run code when loaded:
    keep and share model files as you would programs."""
    from chainfin.risk.scorecard import TrainOptions, train

    options = TrainOptions(
        features=_names(features) or None,
        exclude=_names(exclude),
        categorical=_names(categorical),
        id_column=id_column,
        test_size=test_size,
        folds=folds,
        time_column=time_column,
        seed=seed,
        pdo=pdo,
        odds=odds,
        points=points,
        monotonic_trend=trend,
    )
    path = model or Path(f"{data.stem}.scorecard.pkl")
    try:
        with progress(f"training a scorecard on {data.name}", enabled=not as_json):
            rows, columns, first = _read(data)
            trained = train(rows, target, bad, options, columns=columns, first_row=first)
            card_path = trained.save(path)
    except ChainfinError as exc:
        fail(exc, as_json)
    card = trained.card
    m = card["metrics"]
    if as_json:
        body: dict[str, Any] = {
            "model": str(path),
            "card": str(card_path),
            "sha256": card["model_file"]["sha256"],
            "split": card["split"],
            "auc": m["auc"],
            "ks": m["ks"],
            "gini": m["gini"],
            "baseline_logistic_auc": m["baseline_logistic_auc"],
            "psi": m["psi"],
            "metrics": m,
            "points_table": card["points_table"],
        }
        print_json(body)
        return
    split = card["split"]
    how = split["method"] + (f", {split['folds']} folds (means)" if "folds" in split else "")
    out.print(f"scorecard on {card['data']['rows']} rows ({card['data']['bads']} bad) · {how}")
    out.print(
        f"AUC {_r(m['auc'])}  KS {_r(m['ks'])}  Gini {_r(m['gini'])}  "
        f"(plain logistic regression AUC {_r(m['baseline_logistic_auc'])}; "
        f"train AUC {_r(m['train_auc'])}; PSI train→test {_r(m['psi'])})"
    )
    table(
        "points",
        [
            Col("variable"),
            Col("bin"),
            Col("count", "number"),
            Col("bad rate", "pct"),
            Col("points", "number"),
        ],
        [
            [r["variable"], r["bin"], r["count"], f"{r['event_rate']:.3f}", f"{r['points']:.0f}"]
            for r in card["points_table"]
        ],
        empty="no bins",
    )
    out.print(f"model {path} · card {card_path}")


@risk_app.command("score")
def score_cmd(
    model: Annotated[Path, typer.Option("--model", help="a model written by risk train")],
    data: DataOpt,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="copy this column to the output as id")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write the scores here (csv, json or jsonl)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a file: per row the score, the PD and the three reasons that lost most points.

    The model is loaded only if its SHA-256 matches its card (<model>.card.json). Pickles run
    code when loaded: score only with model files you trust."""
    from chainfin.adapters.formats.tabular import TabularFormat, write_rows
    from chainfin.risk.scorecard import TrainedModel, card_path_for

    try:
        trained = TrainedModel.load(model)
        rows, columns, first = _read(data)
        scored = trained.score(rows, columns=columns, first_row=first, id_column=id_column)
        if out_file is not None:
            flat = [_flat(s) for s in scored]
            fmt = TabularFormat.from_filename(out_file.name)
            out_file.write_bytes(write_rows(flat, fmt, list(flat[0])))
    except ChainfinError as exc:
        fail(exc, as_json)
    for drift in trained.version_drift():
        err.print(f"[yellow]note[/yellow]: trained with {escape(drift)}")
    if as_json:
        print_json(
            {
                "model": str(model),
                "card": str(card_path_for(model)),
                "rows": len(scored),
                "out": str(out_file) if out_file else None,
                "scores": [s.as_dict() for s in scored],
            }
        )
        return
    table(
        "scores",
        [
            Col("row", "number"),
            Col("id", "code", drop=1),
            Col("score", "number"),
            Col("PD", "pct"),
            Col("reasons (points lost)"),
        ],
        [
            [
                s.row,
                s.id or "",
                f"{s.score:.0f}",
                f"{s.pd:.4f}",
                "; ".join(
                    f"{r.variable} {r.bin} (−{r.points_lost:.0f})"
                    for r in s.reasons
                    if r.points_lost
                ),
            ]
            for s in scored[:PRINT_ROWS]
        ],
        empty="no rows",
    )
    more = len(scored) - PRINT_ROWS
    if more > 0:
        out.print(f"… and {more} more rows; use --out FILE or --json for all")
    if out_file is not None:
        out.print(f"{len(scored)} rows scored → {out_file}")


def _flat(s: Scored) -> dict[str, object]:
    row: dict[str, object] = {"row": s.row, "id": s.id, "score": s.score, "pd": s.pd}
    for k, r in enumerate(s.reasons, start=1):
        row[f"reason{k}_variable"] = r.variable
        row[f"reason{k}_bin"] = r.bin
        row[f"reason{k}_points"] = r.points
        row[f"reason{k}_max_points"] = r.max_points
    return row
