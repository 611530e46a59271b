"""`chainfin risk debtrank` on CSV files: the same numbers as the library, a table for a
person, and bad input refused (exit 1) naming the file, the row and the field. No database."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.risk.debtrank import Network, debtrank

runner = CliRunner()

NODES = [
    ("id", "equity", "value", "name"),  # an extra column is ignored
    ("CORE", "1000", "600", "core enterprise"),
    ("T1", "100", "250", "tier-1 supplier"),
    ("T2", "40", "100", "tier-2 supplier"),
    ("BANK", "80", "50", "bank"),
]
EDGES = [
    ("holder", "counterparty", "exposure"),
    ("T1", "CORE", "60"),  # T1's receivable on the core: W = 0.6
    ("T2", "T1", "30"),  # W = 0.75
    ("T2", "CORE", "10"),  # W = 0.25
    ("BANK", "T1", "20"),  # W = 0.25
    ("BANK", "T2", "50"),  # W = 0.625
    ("CORE", "T1", "5"),  # W = 0.005
]


def write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "nodes.csv", NODES), write(tmp_path / "edges.csv", EDGES)


def invoke(nodes: Path, edges: Path, *extra: str) -> Any:
    return runner.invoke(
        app, ["risk", "debtrank", "--nodes", str(nodes), "--edges", str(edges), *extra]
    )


def test_json_matches_the_library(files: tuple[Path, Path]) -> None:
    nodes, edges = files
    result = invoke(nodes, edges, "--shock", "CORE=1,T2=0.3", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    expected = debtrank(
        Network.from_rows(
            [dict(zip(NODES[0], r, strict=True)) for r in NODES[1:]],
            [dict(zip(EDGES[0], r, strict=True)) for r in EDGES[1:]],
        ),
        {"CORE": 1.0, "T2": 0.3},
    )
    assert body == expected.to_dict()
    assert set(body) >= {"debtrank", "total", "rounds", "h"}
    assert body["h"]["T1"] == pytest.approx(0.6)  # 0.6·1
    # T2 at t=2: 0.3 + 0.25·1 = 0.55; T1 is D at t=2 and passes 0.75·0.6 to T2 at t=3.
    assert body["h"]["T2"] == pytest.approx(0.55 + 0.45)
    # The shock is repeatable and order-free: the same result.
    again = invoke(nodes, edges, "--shock", "T2=0.3", "--shock", "CORE=1", "--json")
    assert json.loads(again.stdout) == body


def test_table_for_a_person(files: tuple[Path, Path]) -> None:
    nodes, edges = files
    result = invoke(nodes, edges, "--shock", "CORE=1", "--top", "2")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "most distressed" in result.stdout
    # h: CORE 1 (shocked); T2 0.25·1 at t=2, + 0.75·0.6 from T1 at t=3 = 0.7; T1 0.6;
    # BANK 0.25·0.6 + 0.625·0.25 = 0.30625. The top 2 are CORE and T2.
    assert "CORE" in result.stdout
    assert "0.7000" in result.stdout
    assert "T1" not in result.stdout
    assert "BANK" not in result.stdout
    assert "DebtRank" in result.stdout
    assert "rounds" in result.stdout


def test_bad_row_names_file_row_and_field(files: tuple[Path, Path], tmp_path: Path) -> None:
    nodes, _ = files
    edges = write(
        tmp_path / "bad-edges.csv",
        [*EDGES[:3], ("T2", "NOBODY", "5"), ("BANK", "T1", "-1")],
    )
    result = invoke(nodes, edges, "--shock", "CORE=1")
    assert result.exit_code == 1
    assert f"row 4, {edges}:counterparty: 'NOBODY' is not a node in {nodes}" in result.stderr
    assert f"row 5, {edges}:exposure: must not be negative, got -1" in result.stderr
    as_json = invoke(nodes, edges, "--shock", "CORE=1", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["errors"] == [
        {
            "field": f"{edges}:counterparty",
            "reason": f"'NOBODY' is not a node in {nodes}",
            "row": 4,
        },
        {"field": f"{edges}:exposure", "reason": "must not be negative, got -1", "row": 5},
    ]


def test_bad_node_row(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, edges = files
    nodes = write(tmp_path / "n.csv", [*NODES[:3], ("T2", "0", "100", ""), NODES[4]])
    result = invoke(nodes, edges, "--shock", "CORE=1", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {"field": f"{nodes}:equity", "reason": "must be positive, got 0", "row": 4}
    ]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([("id", "equity"), ("A", "1")], "missing column(s) value: the header must name"),
        ([], "empty file: a header line id,equity,value is required"),
        ([("id", "id", "equity", "value")], "duplicate column(s) in header: id"),
        ([*NODES[:2], ("X", "1")], "has 2 fields, the header has 4"),
        ([*NODES[:2], (), *NODES[2:]], "blank line inside the data"),
    ],
)
def test_malformed_node_files(
    files: tuple[Path, Path], tmp_path: Path, rows: list[tuple[str, ...]], error: str
) -> None:
    _, edges = files
    nodes = write(tmp_path / "n.csv", rows)
    result = invoke(nodes, edges, "--shock", "CORE=1", "--json")
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["errors"]
    assert problem["field"] == str(nodes)
    assert problem["reason"].startswith(error)


def test_trailing_blank_lines_are_fine(files: tuple[Path, Path]) -> None:
    nodes, edges = files
    with edges.open("a") as f:
        f.write("\n\n")
    assert invoke(nodes, edges, "--shock", "CORE=1", "--json").exit_code == 0


def test_bad_shocks_and_missing_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    nodes, edges = files
    unknown = invoke(nodes, edges, "--shock", "ACME=1", "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["errors"] == [
        {"field": "shock[ACME]", "reason": "is not a node of the network"}
    ]
    too_big = invoke(nodes, edges, "--shock", "CORE=2")
    assert too_big.exit_code == 1
    assert "shock[CORE]: fraction must be in (0, 1], got 2" in too_big.stderr
    markup_like = invoke(nodes, edges, "--shock", "red=1")  # not read as rich markup
    assert markup_like.exit_code == 1
    assert "shock[red]: is not a node of the network" in markup_like.stderr
    garbled = invoke(nodes, edges, "--shock", "CORE")
    assert garbled.exit_code == 1
    assert "--shock: 'CORE' is not ID=FRACTION" in garbled.stderr
    missing = invoke(tmp_path / "nope.csv", edges, "--shock", "CORE=1")
    assert missing.exit_code == 1
    assert f"{tmp_path / 'nope.csv'}: cannot read" in missing.stderr
