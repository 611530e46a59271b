"""Local supporting rates from an input-output table, checked on pymrio's own small
multi-regional test table (six regions, eight sectors), read from the file pymrio ships and
cross-checked against pymrio's loader."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
import pymrio
import pytest

from chainfin.risk.strategy.io_table import (
    IoTable,
    IoTableError,
    io_shares_csv,
    local_shares,
    read_z,
)

Z_FILE = resources.files("pymrio").joinpath("mrio_models/test_mrio/mrio_data/trade_flows_Z.txt")


@pytest.fixture(scope="module")
def table() -> IoTable:
    return read_z(Z_FILE.read_text("utf-8"))


def test_the_matrix_read_is_the_one_pymrio_loads(table: IoTable) -> None:
    theirs = pymrio.load_test().Z
    assert table.labels == tuple(theirs.index)
    assert np.allclose(table.z, theirs.to_numpy())


def test_a_local_share_is_the_columns_own_region_over_its_total(table: IoTable) -> None:
    z = pymrio.load_test().Z
    column = z[("reg2", "manufactoring")]
    expected = column.loc["reg2"].sum() / column.sum()
    assert local_shares(table)[("reg2", "manufactoring")] == pytest.approx(expected)
    assert 0 < expected < 1


def test_shares_map_to_provinces_and_divisions_weighted_by_purchases(table: IoTable) -> None:
    text = io_shares_csv(
        table,
        regions={"reg1": "320000", "reg2": "330000"},
        sectors={"manufactoring": ("C38", "C39"), "mining": ("B08",), "food": ("C38",)},
    )
    rows = {
        (r["region_code"], r["division"]): float(r["local_share"])
        for r in csv.DictReader(io.StringIO(text))
    }
    assert set(rows) == {
        (code, div) for code in ("320000", "330000") for div in ("B08", "C38", "C39")
    }
    shares = local_shares(table)
    bought = dict(zip(table.labels, table.z.sum(axis=0), strict=True))
    food, manu = ("reg1", "food"), ("reg1", "manufactoring")
    expected = (shares[food] * bought[food] + shares[manu] * bought[manu]) / (
        bought[food] + bought[manu]
    )
    assert rows[("320000", "C38")] == pytest.approx(expected, abs=1e-6)
    assert rows[("320000", "C39")] == pytest.approx(shares[manu], abs=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\t\tA\n\t\tx\n", "two header rows"),
        ("\t\tA\tB\n\t\tx\tx\nA\tx\t1\nB\tx\t1\t2\n", "Z line 3: 3 cells, expected 4"),
        ("\t\tA\tB\n\t\tx\tx\nA\tx\t1\tq\nB\tx\t1\t2\n", "Z line 3, column 4: 'q' is not a number"),
        ("\t\tA\tB\n\t\tx\tx\nA\tx\t1\t-2\nB\tx\t1\t2\n", "not negative"),
        ("\t\tA\tB\n\t\tx\tx\nA\tx\t1\t2\nC\tx\t1\t2\n", "same (region, sector) pairs"),
    ],
)
def test_a_table_that_does_not_fit_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(IoTableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_z(text)
