"""`chainfin ingest` from an integrator's terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.uscc import make_uscc
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
SELLER = make_uscc("9", "1", "320505", "00000101")
BUYER = make_uscc("9", "1", "320506", "00000102")


@pytest.fixture
def registered(
    database_url: str, session_factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    firms = tmp_path / "firms.csv"
    firms.write_text(
        "uscc,name,region_code,industry_code,roles\n"
        f"{SELLER},苏州卖方,320505,C38,supplier\n{BUYER},苏州买方,320506,C36,core\n",
        encoding="utf-8",
    )
    assert (
        runner.invoke(app, ["registry", "import", str(firms), "--kind", "enterprises"]).exit_code
        == 0
    )
    yield tmp_path
    get_settings.cache_clear()


def po(number: str, **over: object) -> str:
    row = {
        "kind": "purchase_order",
        "number": number,
        "seller_uscc": SELLER,
        "buyer_uscc": BUYER,
        "issue_date": "2026-03-01",
        "total": "100.00",
        **over,
    }
    return json.dumps(row, ensure_ascii=False) + "\n"


def test_a_bad_row_rejects_the_batch_with_row_field_reason(registered: Path) -> None:
    f = registered / "docs.jsonl"
    f.write_text(po("PO-1") + po("PO-2", total="-1.00") + po("PO-3", kind="memo"), encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(f), "--as", SELLER, "--json"])
    assert r.exit_code == 1
    body = json.loads(r.stdout)
    assert body["code"] == "validation_failed"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "total"), (3, "kind")]
    partial = runner.invoke(app, ["ingest", str(f), "--as", SELLER, "--partial", "--json"])
    assert partial.exit_code == 1
    rows = json.loads(partial.stdout)["rows"]
    assert [r["status"] for r in rows] == ["accepted", "rejected", "rejected"]
    again = runner.invoke(
        app, ["ingest", str(registered / "docs.jsonl"), "--as", SELLER, "--partial"]
    )
    assert "row 1: unchanged" in again.stdout


def test_all_good_exits_zero(registered: Path) -> None:
    f = registered / "ok.jsonl"
    f.write_text(po("PO-8") + po("PO-9"), encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(f), "--as", BUYER])
    assert r.exit_code == 0, r.output
    assert "2 accepted, 0 unchanged, 0 rejected" in r.stdout


def test_unknown_submitter_and_format(registered: Path) -> None:
    f = registered / "ok.txt"
    f.write_text("x", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(f), "--as", SELLER]).exit_code == 2
    g = registered / "ok.jsonl"
    g.write_text(po("PO-5"), encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(g), "--as", make_uscc("9", "1", "110105", "00000999")])
    assert r.exit_code == 1
    assert "no enterprise with USCC" in r.stderr


def test_demo_history_is_detected_from_the_database(
    database_url: str,
    session_factory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The synthetic year of trade goes in through the ingestion services; the checks find
    the planted anomalies from the database alone; the ground truth stays in a file."""
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    truth = tmp_path / "truth.jsonl"
    seeded = runner.invoke(
        app, ["demo", "seed", "--region", "yrd", "--no-users", "--history", "--truth", str(truth)]
    )
    assert seeded.exit_code == 0, seeded.output
    assert truth.exists()
    r = runner.invoke(app, ["checks", "run", "--truth", str(truth), "--json"])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.stdout)["scores"]
    for kind, s in scores.items():
        if kind == "double_financing":
            continue  # refused at registration by the receivables registry
        assert s["precision"] >= 0.9, (kind, s)
        assert s["recall"] >= 0.95, (kind, s)
    get_settings.cache_clear()
