"""`chainfin strategy io-shares`: pymrio's own test MRIO turned into the io_shares.csv input,
then read by the strategy inputs' parser."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.risk.strategy.io_table import local_shares, read_z

Z_FILE = resources.files("pymrio").joinpath("mrio_models/test_mrio/mrio_data/trade_flows_Z.txt")
runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    z = tmp_path / "Z.txt"
    z.write_text(Z_FILE.read_text("utf-8"), "utf-8")
    regions = tmp_path / "regions.csv"
    regions.write_text("mrio_region,region_code\nreg1,320000\nreg2,330000\n", "utf-8")
    sectors = tmp_path / "sectors.csv"
    sectors.write_text("mrio_sector,division\nmanufactoring,C38\nmanufactoring,39\n", "utf-8")
    return {"z": z, "regions": regions, "sectors": sectors, "out": tmp_path / "io_shares.csv"}


def _run(f: dict[str, Path], *extra: str) -> tuple[int, str, str]:
    args = ["strategy", "io-shares", str(f["z"]), "--regions", str(f["regions"])]
    args += ["--sectors", str(f["sectors"]), "--out", str(f["out"]), *extra]
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_the_shares_of_the_mapped_provinces_and_divisions_are_written(
    files: dict[str, Path],
) -> None:
    code, stdout, _ = _run(files)
    assert code == 0, stdout
    assert "4 (province, division) shares" in stdout
    rows = list(csv.DictReader(files["out"].read_text("utf-8").splitlines()))
    got = {(r["region_code"], r["division"]): float(r["local_share"]) for r in rows}
    shares = local_shares(read_z(Z_FILE.read_text("utf-8")))
    assert got[("320000", "C39")] == pytest.approx(shares[("reg1", "manufactoring")], abs=1e-6)
    assert got[("330000", "C38")] == pytest.approx(shares[("reg2", "manufactoring")], abs=1e-6)


def test_the_file_is_an_input_the_strategy_parser_takes(files: dict[str, Path]) -> None:
    from chainfin.domain.strategy.csv_input import parse_inputs
    from strategy_csv import write

    assert _run(files)[0] == 0
    folder = write(files["out"].parent / "bank")
    given = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".csv"}
    given["io_shares.csv"] = files["out"].read_bytes()
    dataset = parse_inputs(given)
    assert {(s.region_code, s.division) for s in dataset.io_shares} >= {("320000", "C38")}


def test_a_concordance_naming_a_prefecture_is_refused(files: dict[str, Path]) -> None:
    files["regions"].write_text("mrio_region,region_code\nreg1,320500\n", "utf-8")
    code, _, stderr = _run(files)
    assert code == 2
    assert "'320500' is not a GB/T 2260 province code" in stderr


def test_a_matrix_that_does_not_parse_is_refused_naming_the_line(files: dict[str, Path]) -> None:
    files["z"].write_text("\t\tA\tB\n\t\tx\tx\nA\tx\t1\n", "utf-8")
    code, _, stderr = _run(files)
    assert code == 2
    assert "Z line 3" in stderr


def test_json_names_the_file_and_the_count(files: dict[str, Path]) -> None:
    import json

    code, stdout, _ = _run(files, "--json")
    assert code == 0
    assert json.loads(stdout) == {"file": str(files["out"]), "shares": 4}
