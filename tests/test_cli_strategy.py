"""`chainfin strategy …` from a terminal: on a bank's own CSV files (``--data``, no database)
and on the database acting as a bank (``--bank``), with the small region of
``strategy_csv``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import transaction
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import BankRecord, EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import registry
from strategy_csv import NAME, POSITION, USCC, write
from testkeys import TEST_DATA_KEYS

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write(tmp_path / "bank-files")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["strategy", *args])
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------------------- --data


def test_rank_prints_one_line_per_chain_with_its_interval_and_reason(folder: Path) -> None:
    code, stdout, stderr = run("rank", "--region", "yrd", "--data", str(folder), "--draws", "50")
    assert code == 0, stderr
    lines = [line for line in stdout.splitlines() if re.match(r"^\s*\d+\s+\[", line)]
    assert len(lines) == 2  # sz-nev and hz-pv; sz-disp lies in gba
    first = re.match(r"^\s*1\s+\[(\d)(?:–(\d))?\]\s+(0\.\d{3})\s+(\w+)\s+(\S+) — (.+)$", lines[0])
    assert first is not None, lines[0]
    assert first.group(4) in ("pursue", "build", "maintain", "watch")
    assert first.group(5) in ("苏州新能源车", "杭州光伏")
    assert first.group(6)  # the one-line reason
    assert "weights: entropy method only" in stdout


def test_rank_as_json_is_the_api_resource(folder: Path) -> None:
    code, stdout, _ = run("rank", "--region", "yrd", "--data", str(folder), "--seed", "5", "--json")
    assert code == 0
    body = json.loads(stdout)
    assert (body["region"], body["as_of"], body["seed"], body["draws"]) == (
        "yrd", "2026-10-31", 5, 500,
    )  # fmt: skip
    assert sorted(c["chain_key"] for c in body["chains"]) == ["hz-pv", "sz-nev"]
    assert set(body["weights"]["final"]) == set(body["weights"]["entropy"])


def test_a_gate_excludes_a_chain(folder: Path) -> None:
    code, stdout, _ = run(
        "rank", "--region", "yrd", "--data", str(folder), "--min-core-rating", "aa", "--json"
    )
    assert code == 0
    chains = {c["chain_key"]: c for c in json.loads(stdout)["chains"]}
    assert chains["hz-pv"]["rank"] is None
    assert chains["hz-pv"]["excluded_by"]


def test_measures_mark_missing_values_and_fallbacks(folder: Path) -> None:
    code, stdout, stderr = run("measures", "--region", "yrd", "--data", str(folder))
    assert code == 0, stderr
    policy = [line for line in stdout.splitlines() if line.strip().startswith("Policy priority")]
    assert len(policy) == 2
    assert all(line.rstrip().endswith("—") for line in policy)
    assert "†" in stdout
    assert "policy_priority: no policy list imported" in stdout


def test_a_missing_measure_is_null_in_json(folder: Path) -> None:
    code, stdout, _ = run("measures", "--region", "yrd", "--data", str(folder), "--json")
    assert code == 0
    nev = next(c for c in json.loads(stdout)["chains"] if c["chain_key"] == "sz-nev")
    policy = next(m for m in nev["measures"] if m["key"] == "policy_priority")
    assert (policy["value"], policy["basis"]) == (None, "missing")


def test_map_without_a_chain_lists_the_regions_chains(folder: Path) -> None:
    code, stdout, _ = run("map", "--region", "yrd", "--data", str(folder), "--json")
    assert code == 0
    rows = json.loads(stdout)["items"]
    assert [(r["chain_key"], r["firms"], r["freshness"]) for r in rows] == [
        ("hz-pv", 2, "fresh"),
        ("sz-nev", 6, "fresh"),
    ]


def test_map_of_a_chain_shows_its_segments_and_firms(folder: Path) -> None:
    code, stdout, stderr = run("map", "--region", "yrd", "--data", str(folder), "--chain", "sz-nev")
    assert code == 0, stderr
    assert "苏州新能源车 (sz-nev, nev) in yrd as of 2026-10-31: 6 firms, 5 links" in stdout
    assert "电气机械和器材制造业" in stdout  # a segment, by its GB/T 4754 name
    assert NAME["S3"] in stdout


def test_a_chain_not_in_the_region_is_named(folder: Path) -> None:
    code, _, stderr = run("map", "--region", "yrd", "--data", str(folder), "--chain", "sz-disp")
    assert code == 1
    assert "no chain 'sz-disp' in region yrd (its chains: hz-pv, sz-nev)" in stderr


def test_leads_and_their_csv_for_branches(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "leads.csv"
    code, stdout, stderr = run(
        "leads", "--region", "yrd", "--data", str(folder), "--chain", "sz-nev",
        "--csv", str(target), "--json",
    )  # fmt: skip
    assert code == 0, stderr
    body = json.loads(stdout)
    assert [lead["uscc"] for lead in body["leads"]] == [USCC["S1"], USCC["D1"]]
    assert body["leads"][0]["financeable"] == "300000.00"
    rows = target.read_text("utf-8").splitlines()
    assert rows[0].startswith("rank,uscc,name")
    assert rows[1].startswith(f"1,{USCC['S1']},{NAME['S1']}")


def test_report_writes_a_pdf(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    code, stdout, stderr = run(
        "report", "--region", "yrd", "--data", str(folder), "--out", str(target), "--lang", "en"
    )
    assert code == 0, stderr
    assert target.read_bytes().startswith(b"%PDF-")
    assert f"wrote {target}" in stdout


def test_a_bad_input_row_names_its_file_row_and_column(folder: Path) -> None:
    with (folder / "chains.csv").open("a", encoding="utf-8") as f:
        f.write("sz-x,坏链,spaceships,91320505000000019Y\n")
    code, _, stderr = run("rank", "--region", "yrd", "--data", str(folder))
    assert code == 1
    assert "chains.csv row 5: kind" in stderr


def test_a_folder_without_csv_files_is_refused(tmp_path: Path) -> None:
    code, _, stderr = run("rank", "--region", "yrd", "--data", str(tmp_path))
    assert code == 1
    assert "holds no .csv files" in stderr


# ---------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("weights", "says"),
    [
        ("{not json", "not JSON"),
        ('{"direct": {"customer_share": 3}}', "no weight for completeness"),
        (
            json.dumps(
                {
                    "pairwise": {
                        "criteria": ["completeness", "customer_share", "risk"],
                        "matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]],
                    }
                }
            ),
            "CR",
        ),
    ],
)
def test_a_weights_file_that_cannot_be_used_is_a_usage_error(
    folder: Path, tmp_path: Path, weights: str, says: str
) -> None:
    path = tmp_path / "weights.json"
    path.write_text(weights, encoding="utf-8")
    code, _, stderr = run("rank", "--region", "yrd", "--data", str(folder), "--weights", str(path))
    assert code == 2
    assert f"--weights {path}:" in stderr
    assert says in stderr


def test_direct_weights_are_blended(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    path.write_text('{"direct": {"customer_share": 3, "others": 1}}', encoding="utf-8")
    code, stdout, _ = run(
        "rank", "--region", "yrd", "--data", str(folder), "--weights", str(path),
        "--blend", "0.8", "--json",
    )  # fmt: skip
    assert code == 0
    weights = json.loads(stdout)["weights"]
    assert (weights["subjective_method"], weights["blend"]) == ("direct", 0.8)


@pytest.mark.parametrize("sources", [[], ["--bank", "BKA", "--data", "."]])
def test_exactly_one_source(sources: list[str]) -> None:
    code, _, stderr = run("rank", "--region", "yrd", *sources)
    assert code == 2
    assert "give exactly one source: --bank CODE" in stderr


def test_an_unknown_region_is_a_usage_error(folder: Path) -> None:
    code, _, stderr = run("measures", "--region", "prd", "--data", str(folder))
    assert code == 2
    assert "--region: 'prd' is not a region: give jjj, yrd or gba" in stderr


# ---------------------------------------------------------------------------- --bank


@pytest.fixture
def bank_db(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[None]:
    """Bank BKA on a migrated database; CORE1 its customer."""
    bank = make_uscc("9", "1", "310115", "99000001")
    with transaction(session_factory) as s:
        registry.import_enterprises(
            s,
            SYSTEM,
            [
                EnterpriseRecord(bank, "bank A", "310115", "J66", frozenset({Role.BANK})),
                EnterpriseRecord(
                    USCC["CORE1"], NAME["CORE1"], "320505", "C36", frozenset({Role.CORE})
                ),
            ],
        )
        row = registry.create_bank(s, SYSTEM, BankRecord("BKA", "bank A", bank))
        s.flush()
        registry.link_customers(
            s, SYSTEM, row.id, list(registry.ids_by_uscc(s, [USCC["CORE1"]]).values())
        )
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_before_an_import_there_is_no_market_data(bank_db: None) -> None:
    code, _, stderr = run("rank", "--region", "yrd", "--bank", "BKA")
    assert code == 1
    assert "(strategy_no_market_data)" in stderr


def test_import_then_rank_on_the_banks_data(bank_db: None, tmp_path: Path) -> None:
    market = write(tmp_path / "market", without=POSITION)
    code, stdout, stderr = run("import", str(market), "--bank", "BKA", "--label", "vendor")
    assert code == 0, stderr
    assert "'vendor' as of 2026-10-31: enterprises 10, chains 3, relations 7" in stdout
    assert "missing inputs" in stdout
    code, stdout, stderr = run("rank", "--region", "yrd", "--bank", "BKA", "--json")
    assert code == 0, stderr
    assert sorted(c["chain_key"] for c in json.loads(stdout)["chains"]) == ["hz-pv", "sz-nev"]


def test_the_position_is_live_not_imported(bank_db: None, folder: Path) -> None:
    code, _, stderr = run("import", str(folder), "--bank", "BKA")
    assert code == 1
    assert "customers.csv: the bank's position is read live from the platform" in stderr


def test_leads_on_the_banks_data_follow_its_live_customers(bank_db: None, tmp_path: Path) -> None:
    """On the platform only CORE1 is the bank's customer: S2 (a customer in customers.csv,
    so no lead with --data) is a lead here."""
    market = write(tmp_path / "market", without=POSITION)
    assert run("import", str(market), "--bank", "BKA")[0] == 0
    code, stdout, stderr = run(
        "leads", "--region", "yrd", "--bank", "BKA", "--chain", "sz-nev", "--json"
    )
    assert code == 0, stderr
    found = [lead["uscc"] for lead in json.loads(stdout)["leads"]]
    assert sorted(found) == sorted([USCC["S1"], USCC["S2"], USCC["D1"]])
    assert found[0] == USCC["S1"]


def test_the_defaults_spelled_out_for_help_agree_with_the_ranking() -> None:
    import inspect

    from chainfin.cli import strategy as strategy_cli
    from chainfin.risk.strategy import ranking

    defaults = inspect.signature(ranking.rank).parameters
    assert (
        defaults["draws"].default,
        defaults["seed"].default,
    ) == (strategy_cli.DRAWS, strategy_cli.SEED)
