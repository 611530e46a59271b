"""Tenancy from a terminal: a bank joins a programme by invitation, prices are a bank's own
or a platform source's (corrections are versions), the platform operator's people."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.models import User
from chainfin.cli import app
from chainfin.config import get_settings
from credit_world import CreditWorld, build, uscc
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
CORE = uscc(3)


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
    yield build(session_factory, second_line=None)  # bank A's programme, bank B not in it
    get_settings.cache_clear()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout) if code == 0 else result.stdout


def test_a_bank_joins_a_programme_by_invitation_from_the_terminal(cw: CreditWorld) -> None:
    invited = run("credential", "invite", cw.programme_id, "BKB", "--bank", "BKA")
    assert (invited["status"], invited["bank_code"]) == ("invited", "BKB")
    # bank B is not the lead: it cannot invite; nor accept before the core approves
    run("credential", "invite", cw.programme_id, "BKB", "--bank", "BKB", code=1)
    run("credential", "accept-invitation", invited["id"], "5000000.00", "--bank", "BKB", code=1)
    assert [i["id"] for i in run("credential", "invitations", "--bank", "BKB")["items"]] == [
        invited["id"]
    ]
    approved = run("credential", "approve-invitation", invited["id"], "--as", CORE)
    assert approved["status"] == "approved"
    joined = run("credential", "accept-invitation", invited["id"], "5000000.00", "--bank", "BKB")
    assert (joined["status"], joined["line"]) == ("accepted", "5000000.00")
    again = run("credential", "invite", cw.programme_id, "BKB", "--bank", "BKA", code=1)
    assert "already funds" in again


def test_prices_and_platform_sources_from_the_terminal(cw: CreditWorld) -> None:
    day = ["--item", "copper foil", "--on", "2026-11-20", "--unit", "t"]
    first = run(
        "loan", "price", "set", *day, "--price", "80000.00", "--source", "own", "--bank", "BKA"
    )
    fixed = run(
        "loan", "price", "set", *day, "--price", "79000.00", "--source", "own",
        "--bank", "BKA", "--note", "revised",
    )  # fmt: skip
    assert (first["version"], fixed["version"]) == (1, 2)
    run("loan", "price", "set", *day, "--price", "1.00", "--source", "x", "--bank", "BKB")
    listed = run("loan", "price", "list", "--bank", "BKA")
    assert [(p["version"], p["price"]) for p in listed["items"]] == [  # in the order recorded
        (1, "80000.00"),
        (2, "79000.00"),
    ]
    # a platform source: the operator creates it and writes its prices
    run(
        "loan",
        "price",
        "set",
        *day,
        "--price",
        "1.00",
        "--source",
        "x",
        "--platform-source",
        "SHFE",
        code=1,
    )
    assert run("loan", "price", "source", "SHFE", "--name", "上期所")["code"] == "SHFE"
    shfe = run(
        "loan", "price", "set", *day, "--price", "81000.00", "--source", "settlement",
        "--platform-source", "SHFE",
    )  # fmt: skip
    assert (shfe["owner"], shfe["platform_source"]) == ("platform", "SHFE")
    both = runner.invoke(
        app, ["loan", "price", "list", "--bank", "BKA", "--platform-source", "SHFE"]
    )
    assert both.exit_code != 0


def test_the_platform_operators_people(
    cw: CreditWorld, monkeypatch: pytest.MonkeyPatch, session_factory: sessionmaker[Session]
) -> None:
    monkeypatch.setenv("CHAINFIN_NEW_PASSWORD", "correct horse battery")
    result = runner.invoke(
        app, ["users", "create", "--username", "pa", "--role", "platform_auditor"]
    )
    assert result.exit_code == 0, result.stdout
    with session_factory() as s:
        user = s.scalars(select(User).where(User.username == "pa")).one()
        assert (user.kind, user.bank_id, user.enterprise_id) == ("operator", None, None)
    wrong = runner.invoke(
        app, ["users", "create", "--username", "pb", "--role", "auditor"]
    )  # a bank's role needs its bank
    assert wrong.exit_code != 0
