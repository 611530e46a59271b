"""``chainfin risk debtrank``: contagion on a network.

Reads any network from two CSV files (a header line is required; extra columns are ignored),
shocks the named firms and prints each firm's distress ``h`` and the DebtRank (see
:mod:`chainfin.risk.debtrank` and docs/risk-contagion.md). It needs no database.

- nodes: ``id,equity,value`` — equity > 0, economic value >= 0;
- edges: ``holder,counterparty,exposure`` — the holder is exposed to the counterparty by that
  amount (>= 0); its impact on the holder is ``min(1, exposure / equity)``.

Row numbers are what a spreadsheet shows: the header is row 1, the first record row 2. Errors
name the file and column (``edges.csv:holder``) and the row, and exit 1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer

from chainfin.cli.common import Col, fail, out, print_json, table
from chainfin.cli.risk import risk_app
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed


def _pct(share: float) -> str:
    """A share as a percentage with 4 significant digits (tiny shares stay visible)."""
    return f"{share * 100:.4g} %"


def _bad(source: str, reason: str, row: int | None = None) -> ValidationFailed:
    return ValidationFailed([FieldError(source, reason, row)])


def read_csv(path: Path, columns: Sequence[str]) -> Iterator[dict[str, str]]:
    """The file's records as ``{column: text}``, streamed. The header must name every one of
    ``columns``; a record must have as many fields as the header; blank lines may only
    trail. Raises :class:`ValidationFailed` naming the file and row."""
    source = str(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise _bad(source, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise _bad(
                source, f"empty file: a header line {','.join(columns)} is required"
            ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _bad(source, f"unreadable header: {exc}", 1) from None
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise _bad(source, f"duplicate column(s) in header: {', '.join(dupes)}", 1)
        missing = [c for c in columns if c not in header]
        if missing:
            raise _bad(
                source,
                f"missing column(s) {', '.join(missing)}: the header must name "
                f"{', '.join(columns)}",
                1,
            )
        blank: int | None = None
        row = 1
        try:
            for line in reader:
                row += 1
                if not any(cell.strip() for cell in line):
                    blank = blank or row
                    continue
                if blank is not None:
                    raise _bad(source, "blank line inside the data", blank)
                if len(line) != len(header):
                    raise _bad(source, f"has {len(line)} fields, the header has {len(header)}", row)
                yield dict(zip(header, line, strict=True))
        except csv.Error as exc:
            raise _bad(source, f"malformed CSV: {exc}", row + 1) from None
        except UnicodeDecodeError as exc:
            raise _bad(source, f"not UTF-8 text (near row {row + 1}): {exc.reason}") from None


@risk_app.command("debtrank")
def debtrank_cmd(
    nodes: Annotated[Path, typer.Option("--nodes", help="CSV with header id,equity,value")],
    edges: Annotated[
        Path, typer.Option("--edges", help="CSV with header holder,counterparty,exposure")
    ],
    shock: Annotated[
        list[str],
        typer.Option(
            "--shock",
            metavar="ID=FRACTION[,ID=FRACTION...]",
            help="firms to shock, fraction of equity lost in (0, 1]; repeatable",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="rows in the table")] = 10,
) -> None:
    """DebtRank (Battiston et al., 2012): shock firms, print each firm's distress h and the
    loss beyond the shock as a fraction of the network's total value."""
    from chainfin.risk.debtrank import EDGE_COLUMNS, NODE_COLUMNS, Network, debtrank, parse_shocks

    try:
        shocks = parse_shocks(shock, field="--shock")
        network = Network.from_rows(
            read_csv(nodes, NODE_COLUMNS),
            read_csv(edges, EDGE_COLUMNS),
            first_row=2,
            nodes_source=str(nodes),
            edges_source=str(edges),
        )
        result = debtrank(network, shocks)
    except ValidationFailed as exc:
        refused = ValidationFailed(exc.errors)  # fail() escapes the user's ids and paths
        refused.hint = "Correct the listed rows or --shock and run again."
        fail(refused, as_json)
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(result.to_dict())
        return
    table(
        f"DebtRank: the most distressed firms (top {top})",
        [
            Col("#", "number"),
            Col("id"),
            Col("h", "pct"),
            Col("shock", "pct", drop=1),
            Col("value share v", "pct"),
            Col("loss h·v", "pct"),
        ],
        [
            [
                rank,
                d.id,
                f"{d.h:.4f}",
                f"{d.shock:.4f}" if d.shock else "",
                _pct(d.value),
                _pct(d.loss),
            ]
            for rank, d in enumerate(result.top(top), start=1)
        ],
        empty="no firm distressed",
    )
    out.print(
        f"nodes {network.n_nodes:,}   links {network.n_links:,}   shocked {len(shocks)}   "
        f"rounds {result.rounds}   distressed {result.distressed:,}"
    )
    out.print(
        f"shock (initial loss) {_pct(result.initial)}   DebtRank {_pct(result.debtrank)}   "
        f"total {_pct(result.total)}  [dim](shares of the network's total value)[/dim]"
    )
