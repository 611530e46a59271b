"""Local supporting rates from a multi-regional input-output table (MRIO), for the regions and
divisions where the bank's trade data is thin.

An MRIO's intermediate-flow matrix ``Z`` has a row and a column per (region, sector): the
cell at row (r, s) and column (r', s') is what sector s' in region r' bought from sector s in
region r in a year. Of what the buyer column (r', s') bought from anywhere, the share bought
inside its own region is

    local_share(r', s') = Σ_s Z[(r', s), (r', s')] / Σ_{r, s} Z[(r, s), (r', s')]

(a column with no intermediate purchases has no share). The table is read from the text
layout pymrio stores (``Z.txt``/``trade_flows_Z.txt``: tab-separated, two header rows giving
each column's region and sector, then per row its region, sector and optionally a unit,
then the values), the layout China's provincial MRIO tables are commonly shared in once
loaded with pymrio. A concordance maps the table's regions to GB/T 2260 province codes and
its sectors to GB/T 4754 divisions; a division fed by several sectors gets their
purchase-weighted share. The result is the ``io_shares.csv`` input (see docs/strategy.md).

>>> rows = ["\\t\\tA\\tA\\tB", "\\t\\tx\\ty\\tx", "A\\tx\\t1\\t2\\t3", "A\\ty\\t4\\t5\\t6"]
>>> table = read_z("\\n".join([*rows, "B\\tx\\t7\\t8\\t9"]))
>>> round(local_shares(table)[("A", "y")], 4)  # A/y bought 2+5 inside A out of 2+5+8
0.4667
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


class IoTableError(ValueError):
    """A table or concordance that cannot be read; the message names the line and cell."""


@dataclass(frozen=True)
class IoTable:
    labels: tuple[tuple[str, str], ...]  # (region, sector) of each row and column
    z: npt.NDArray[np.float64]


def _number(text: str, line: int, column: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise IoTableError(f"Z line {line}, column {column}: {text!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise IoTableError(f"Z line {line}, column {column}: flows are finite and not negative")
    return value


def read_z(text: str) -> IoTable:
    """The intermediate-flow matrix from pymrio's text layout; :class:`IoTableError` names
    the first line that does not fit."""
    rows = [r for r in csv.reader(io.StringIO(text), delimiter="\t") if any(c.strip() for c in r)]
    if len(rows) < 3:
        raise IoTableError("Z: give two header rows (regions, sectors) and at least one row")
    regions_row, sectors_row = rows[0], rows[1]
    lead = next((i for i, c in enumerate(regions_row) if c.strip()), len(regions_row))
    columns = list(
        zip(
            (c.strip() for c in regions_row[lead:]),
            (c.strip() for c in sectors_row[lead:]),
            strict=False,
        )
    )
    if not columns or len(sectors_row) != len(regions_row):
        raise IoTableError("Z lines 1-2: the region and sector header rows differ in length")
    n = len(columns)
    if len(set(columns)) != n:
        raise IoTableError("Z lines 1-2: a (region, sector) column is repeated")
    labels: list[tuple[str, str]] = []
    values = np.zeros((len(rows) - 2, n))
    for i, row in enumerate(rows[2:]):
        line = i + 3
        if len(row) != lead + n:
            raise IoTableError(f"Z line {line}: {len(row)} cells, expected {lead + n}")
        labels.append((row[0].strip(), row[1].strip()))
        values[i] = [_number(c, line, lead + j + 1) for j, c in enumerate(row[lead:])]
    if labels != columns:
        raise IoTableError("Z: the rows must list the same (region, sector) pairs as the columns")
    return IoTable(tuple(labels), values)


def local_shares(table: IoTable) -> dict[tuple[str, str], float]:
    """Each buying (region, sector)'s share of intermediate purchases bought in its region;
    columns without purchases are left out."""
    regions = np.array([r for r, _ in table.labels])
    totals = table.z.sum(axis=0)
    out: dict[tuple[str, str], float] = {}
    for j, (region, sector) in enumerate(table.labels):
        if totals[j] > 0:
            out[(region, sector)] = float(table.z[regions == region, j].sum() / totals[j])
    return out


def io_shares_csv(
    table: IoTable,
    regions: Mapping[str, str],
    sectors: Mapping[str, tuple[str, ...]],
) -> str:
    """``io_shares.csv`` (region_code, division, local_share) for the mapped regions
    (table region → GB/T 2260 province code) and sectors (table sector → GB/T 4754
    divisions); a division fed by several sectors gets their purchase-weighted share."""
    shares = local_shares(table)
    bought = dict(zip(table.labels, table.z.sum(axis=0), strict=True))
    weighted: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (region, sector), share in shares.items():
        code = regions.get(region)
        if code is None:
            continue
        for division in sectors.get(sector, ()):
            weighted.setdefault((code, division), []).append(
                (share, float(bought[(region, sector)]))
            )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["region_code", "division", "local_share"])
    for (code, division), parts in sorted(weighted.items()):
        total = sum(w for _, w in parts)
        share = sum(s * w for s, w in parts) / total
        writer.writerow([code, division, f"{share:.6f}"])
    return out.getvalue()
