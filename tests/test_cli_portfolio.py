"""`chainfin risk exposure` from a terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import transaction
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.money import Money
from chainfin.services.lending import applications, loans
from lending_world import PAYEE, TODAY, LendingWorld, build_lending
from testkeys import TEST_DATA_KEYS

runner = CliRunner()


@pytest.fixture
def lw(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[LendingWorld]:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        app_row = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        assert app_row.status == "approved"
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
    yield world
    get_settings.cache_clear()


def test_exposure_by_industry_and_refusal(lw: LendingWorld) -> None:
    result = runner.invoke(
        app, ["risk", "exposure", "--bank", "BKA", "--by", "industry_division", "--json"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert (body["total"], body["currency"]) == ("400000.00", "CNY")
    assert body["rows"][0]["exposure"] == "400000.00"
    assert [(r["key"], r["share_pct"]) for r in body["rows"]] == [("C36", "100")]
    assert (body["hhi_points"], body["concentration"]) == (10_000, "high")
    people = runner.invoke(app, ["risk", "exposure", "--bank", "BKA", "--by", "core"])
    assert people.exit_code == 0
    assert "HHI 10,000" in people.stdout
    assert "400,000.00" in people.stdout  # amounts in full, the currency in the header
    assert "total 400,000.00 CNY" in people.stdout
    bad = runner.invoke(app, ["risk", "exposure", "--bank", "BKA", "--by", "colour", "--json"])
    assert bad.exit_code == 1
    assert "by" in bad.stdout + bad.stderr


def test_warning_scan_and_alert_life_from_a_terminal(lw: LendingWorld) -> None:
    result = runner.invoke(app, ["risk", "warn-scan", "--bank", "BKA", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert (body["subjects"], body["without_consent"]) == (2, 0)  # the core's line, t1's loan
    listed = runner.invoke(app, ["risk", "alerts", "--bank", "BKA", "--json"])
    assert json.loads(listed.stdout) == {"items": [], "next_cursor": None}
    people = runner.invoke(app, ["risk", "alerts", "--bank", "BKA"])
    assert (people.exit_code, people.stdout) == (0, "no alerts\n")
    missing = runner.invoke(app, ["risk", "resolve", "alr_nope", "--bank", "BKA", "--note", "x"])
    assert missing.exit_code == 1
    escalated = runner.invoke(app, ["risk", "escalate", "--bank", "BKA", "--json"])
    assert json.loads(escalated.stdout) == {"escalated": 0}


def test_a_core_default_scenario_from_a_terminal(lw: LendingWorld) -> None:
    args = ["risk", "scenario", "--bank", "BKA", "--core", lw.ids["core"]]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["scenario"]["kind"] == "default"
    assert body["top"][0]["id"] == lw.ids["core"]
    late = json.loads(runner.invoke(app, [*args, "--delay-days", "45", "--json"]).stdout)
    assert late["scenario"]["shock_pct"] == "50"
    people = runner.invoke(app, args)
    assert "expected loss" in people.stdout


def test_sector_rates_from_a_terminal(lw: LendingWorld) -> None:
    result = runner.invoke(app, ["risk", "sectors", "--bank", "BKA", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert [(r["key"], r["borrowers"], r["warning"]) for r in body["sectors"]] == [("C", 2, False)]
    people = runner.invoke(app, ["risk", "sectors", "--bank", "BKA", "--by", "region_province"])
    assert "320000" in people.stdout
    warned = runner.invoke(app, ["risk", "warn-sectors", "--bank", "BKA"])
    assert warned.exit_code == 0, warned.stdout + warned.stderr
    assert "no sector rising: no alert raised" in warned.stdout
    refused = runner.invoke(app, ["risk", "sectors", "--bank", "BKA", "--warn"])
    assert refused.exit_code == 2  # the read takes no --warn: raising alerts is warn-sectors
