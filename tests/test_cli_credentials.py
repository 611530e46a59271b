"""`chainfin credential|books|rates|calendar` from a terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.config import get_settings
from credit_world import CreditWorld, build, uscc
from testkeys import TEST_DATA_KEYS

runner = CliRunner()


@pytest.fixture
def cw(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[CreditWorld]:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield build(session_factory)
    get_settings.cache_clear()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


CORE, T1, T2, T3 = uscc(3), uscc(4), uscc(5), uscc(6)


def test_credential_story_from_the_terminal(cw: CreditWorld, tmp_path: Path) -> None:
    credential = run(
        "credential", "issue", cw.programme_id, "800000.00", "2027-02-11",
        "--confirmation", cw.confirmation_id, "--as", CORE, "--issued-on", "2026-11-26",
    )  # fmt: skip
    # 2027 is projected: Thursday 2027-02-11 is a working day, provisionally
    assert (credential["payment_on"], credential["payment_provisional"]) == ("2027-02-11", True)
    root = credential["pieces"][0]["id"]
    run("credential", "accept", root, "--as", T1)
    pieces = run("credential", "split", root, "500000.00", "300000.00", "--as", T1)["pieces"]
    offer = run("credential", "transfer", pieces[0]["id"], T2, "--as", T1)["offered"]
    run("credential", "accept", offer["id"], "--as", T2)
    part = run("credential", "transfer", offer["id"], T3, "--amount", "200000.00", "--as", T2)
    run("credential", "accept", part["offered"]["id"], "--as", T3)
    run("rates", "lpr", "set", "2026-11-20", "3.00", "3.50")
    q = run(
        "credential", "quote", part["offered"]["id"], "BKA", "--as", T3, "--as-of", "2026-11-26"
    )
    assert q["fixing"]["fixed_on"] == "2026-11-20"
    assert q["warnings"] == []
    fin = run("credential", "finance", q["id"], "--as", T3)
    assert fin["net_proceeds"] == q["net_proceeds"]
    tree = run("credential", "tree", credential["id"], "--as", CORE)
    assert {p["tier"] for p in tree["pieces"]} == {1, 2, 3}
    # the official 2027 schedule arrives: Feb 11 and 12 are declared days off
    schedule = tmp_path / "2027.json"
    schedule.write_text(
        json.dumps(
            {
                "year": 2027,
                "source": "国务院办公厅关于2027年部分节假日安排的通知 (test fixture)",
                "holidays": ["2027-01-01"]
                + [f"2027-02-{d:02d}" for d in range(6, 13)]
                + ["2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"],
                "workdays": ["2027-02-20"],
            }
        ),
        encoding="utf-8",
    )
    loaded = run("calendar", "load", str(schedule))
    assert loaded["payment_dates_changed"] == [
        {"credential_id": credential["id"], "payment_on": "2027-02-15"}
    ]
    shown = run("credential", "show", credential["id"], "--as", CORE)
    assert (shown["maturity_on"], shown["payment_on"]) == ("2027-02-11", "2027-02-15")
    assert shown["payment_provisional"] is False
    paid = run(
        "credential", "settle", credential["id"], "800000.00",
        "--ref", "P-1", "--as", CORE, "--paid-on", "2027-02-15",
    )  # fmt: skip
    assert sum(Decimal(a["principal"]) for a in paid["allocations"]) == Decimal("800000.00")
    for book in ("BKA", "platform"):
        assert run("books", "trial-balance", book)["balanced"] is True
    stmt = run("books", "statement", "BKA", "6011")
    assert stmt["lines"]
    assert Decimal(stmt["lines"][-1]["balance"]) < 0  # income: a credit balance


def test_cli_errors_are_precise(cw: CreditWorld) -> None:
    body = run(
        "credential", "issue", cw.programme_id, "800000.00", "2027-12-01",
        "--confirmation", cw.confirmation_id, "--as", CORE, "--issued-on", "2026-11-26",
        code=1,
    )  # fmt: skip
    assert body["errors"][0]["field"] == "maturity_on"
    clash = run("rates", "lpr", "set", "2026-08-20", "3.10", "3.50", code=1)
    assert clash["code"] == "exists_with_different_request"  # a published fixing stands
    assert "rate_1y_pct was 3.00, now 3.10" in clash["detail"]
    roll = run("calendar", "roll", "2026-10-01")
    assert roll == {
        "date": "2026-10-08",  # 2026 National Day holiday: Oct 1-7 (official schedule)
        "provisional": False,
        "moved": True,
        "convention": "following",
    }


def test_a_payment_ref_pays_once_from_the_terminal(cw: CreditWorld) -> None:
    credential = run(
        "credential", "issue", cw.programme_id, "800000.00", "2027-02-11",
        "--confirmation", cw.confirmation_id, "--as", CORE, "--issued-on", "2026-11-26",
    )  # fmt: skip
    run("credential", "accept", credential["pieces"][0]["id"], "--as", T1)
    pay = ("credential", "settle", credential["id"], "800000.00", "--ref", "P-9", "--as", CORE)
    first = run(*pay)
    again = run(*pay)
    assert again["id"] == first["id"]
    other = run(
        "credential", "settle", credential["id"], "700000.00", "--ref", "P-9", "--as", CORE,
        code=1,
    )  # fmt: skip
    assert other["code"] == "exists_with_different_request"
    assert "amount was 800000.00 CNY, now 700000.00 CNY" in other["detail"]
    person = runner.invoke(app, [*pay[:3], "1.00", *pay[4:]])
    assert person.exit_code == 1
    assert "exists_with_different_request" in person.stderr
