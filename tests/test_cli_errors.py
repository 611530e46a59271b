"""When the database is not what the code expects, ``chainfin`` says so in one line with the
command that fixes it, and writes nothing: no empty SQLite file for a read, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainfin.adapters.db import migrate
from chainfin.cli import app
from chainfin.config import get_settings
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
HEAD = migrate.head_revision()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", url)
    get_settings.cache_clear()


def test_a_read_of_a_missing_sqlite_file_says_where_and_creates_nothing(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = env / "nowhere" / "chainfin.db"
    use(monkeypatch, f"sqlite:///{missing}")
    for args in (["chains", "list"], ["risk", "alerts", "--bank", "BKA"], ["ledger", "verify"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"error (database_missing): no database at {missing}",
            "run `chainfin db upgrade` (it creates and migrates the database), or set "
            "CHAINFIN_DATABASE_URL to the database you mean",
        ]
    as_json = runner.invoke(app, ["loan", "list", "--bank", "BKA", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "code": "database_missing",
        "detail": f"no database at {missing}",
    }
    assert not missing.parent.exists()  # neither the file nor its folder was made


def test_a_relative_sqlite_path_is_shown_absolute(tmp_path: Path) -> None:
    """Run from another folder, ``sqlite:///var/chainfin.db`` is that folder's: the message
    names the file it looked for, and nothing is created there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFIN_")}
    environ.update(
        CHAINFIN_DATABASE_URL="sqlite:///var/chainfin.db",
        CHAINFIN_DATA_KEYS=TEST_DATA_KEYS,
    )
    done = subprocess.run(
        [sys.executable, "-m", "chainfin.cli", "loan", "list", "--bank", "BKA"],
        cwd=elsewhere,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"error (database_missing): no database at {elsewhere / 'var' / 'chainfin.db'}"
    )
    assert "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []


def test_an_empty_database_is_not_migrated(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = env / "empty.db"
    empty.touch()  # what an earlier version left behind when a read ran in the wrong folder
    use(monkeypatch, f"sqlite:///{empty}")
    result = runner.invoke(app, ["chains", "list"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error (database_not_migrated): database at {empty} is at revision none (empty), "
        f"code expects {HEAD}",
        "run `chainfin db upgrade` (it creates and migrates the database)",
    ]
    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0
    assert current.stdout.splitlines() == [
        f"database at {empty}: current None · head {HEAD}",
        "behind the code: run `chainfin db upgrade`",
    ]


def test_a_database_behind_the_code_names_both_revisions(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = env / "old.db"
    migrate.upgrade(f"sqlite:///{old}", "0001")
    use(monkeypatch, f"sqlite:///{old}")
    result = runner.invoke(app, ["ledger", "checkpoint"])  # its table came in 0002
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error (database_not_migrated): database at {old} is at revision 0001, code expects {HEAD}"
    )
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout == f"database at {old} is at revision {HEAD}\n"
    after = runner.invoke(app, ["ledger", "checkpoint"])
    assert (after.exit_code, after.stderr) == (
        1,
        "no checkpoint yet: run `chainfin ledger sequence`\n",
    )


def test_a_refusal_outside_any_handler_is_one_diagnosis(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root command turns any ChainfinError into its diagnostics: ``serve`` refuses a
    missing database before starting, with no handler of its own."""
    use(monkeypatch, f"sqlite:///{env / 'absent.db'}")
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error (database_missing): no database at ")
    assert result.exception is None or isinstance(result.exception, SystemExit)
