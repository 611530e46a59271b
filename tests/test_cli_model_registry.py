"""`chainfin risk model …` from a terminal: register, promote, score, monitor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.config import get_settings
from lending_world import LendingWorld, build_lending
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
DATA = Path(__file__).parent / "risk" / "data" / "applications.csv"


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
    yield build_lending(session_factory)
    get_settings.cache_clear()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["risk", "model", *args, "--json"])
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_register_promote_score_monitor(lw: LendingWorld, tmp_path: Path) -> None:
    common = ("--bank", "BKA", "--name", "sme", "--data", str(DATA), "--target", "default")
    first = run("register", *common)
    assert (first["version"], first["status"]) == (1, "challenger")
    run("promote", first["id"], "--bank", "BKA")
    second = run("register", *common)
    assert second["version"] == 2
    listed = run("list", "--bank", "BKA")
    assert sorted((m["version"], m["status"]) for m in listed["items"]) == [
        (1, "champion"),
        (2, "challenger"),
    ]
    scores = run("score", "--bank", "BKA", "--name", "sme", "--data", str(DATA), "--compare")
    assert scores["challenger"] is not None
    check = run("monitor", first["id"], "--bank", "BKA", "--data", str(DATA))
    assert check["status"] == "stable"
    history = run("history", first["id"], "--bank", "BKA")
    assert len(history["items"]) == 1
    # another bank sees none of it
    assert run("list", "--bank", "BKB") == {"items": [], "next_cursor": None}
