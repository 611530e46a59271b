"""The `chainfin` command from a user's terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.config import get_settings
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
VALID = "91110000600037341L"
BAD = "91110000600037341N"


@pytest.fixture
def cli_db(
    database_url: str, session_factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_check_uscc_lines_and_exit_status() -> None:
    ok = runner.invoke(app, ["check", "uscc", VALID])
    assert ok.exit_code == 0
    assert ok.stdout == f"{VALID}\tvalid\n"
    mixed = runner.invoke(app, ["check", "uscc", VALID, BAD, "12345"])
    assert mixed.exit_code == 1
    assert mixed.stdout.splitlines() == [
        f"{VALID}\tvalid",
        f"{BAD}\tinvalid: check digit should be L",
        "12345\tinvalid: length: expected 18 characters, got 5",
    ]


def test_check_uscc_json() -> None:
    result = runner.invoke(app, ["check", "uscc", "--json", VALID, BAD])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [(r["code"], r["valid"], r["reason"]) for r in rows] == [
        (VALID, True, None),
        (BAD, False, "check digit should be L"),
    ]
    assert rows[0]["region_code"] == "110000"


def test_check_uscc_as_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "chainfin.cli", "check", "uscc", BAD],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.strip() == f"{BAD}\tinvalid: check digit should be L"


def test_registry_import_reports_rows_and_writes_nothing(cli_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "firms.csv"
    bad.write_text(
        "uscc,name,region_code,industry_code,roles\n"
        f"{VALID},北京甲,110105,C36,core\n"
        f"{BAD},北京乙,110105,C36,supplier\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["registry", "import", str(bad), "--kind", "enterprises", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["code"] == "validation_failed"
    assert body["errors"] == [{"field": "uscc", "reason": "check digit should be L", "row": 3}]
    export = runner.invoke(app, ["registry", "export", "--kind", "enterprises", "--format", "json"])
    assert json.loads(export.stdout) == []

    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {
                "uscc": VALID,
                "name": "北京甲",
                "region_code": "110105",
                "industry_code": "C36",
                "roles": ["core"],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    ok = runner.invoke(app, ["registry", "import", str(good), "--kind", "enterprises"])
    assert ok.exit_code == 0, ok.output
    assert "1 created" in ok.stdout


def test_users_and_clients_bootstrap(cli_db: str) -> None:
    missing_bank = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "x",
            "--role",
            "admin",
            "--bank",
            "NOPE",
            "--password",
            "long enough password",
        ],
    )
    assert missing_bank.exit_code == 1
    assert "no bank with code 'NOPE'" in missing_bank.stderr
    short = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "x",
            "--role",
            "admin",
            "--bank",
            "NOPE",
            "--password",
            "short",
        ],
    )
    assert "password: must be at least 12 characters" in short.stderr
    no_owner = runner.invoke(app, ["clients", "create", "--name", "x", "--scope", "registry:read"])
    assert no_owner.exit_code == 2


def test_new_data_key_is_usable() -> None:
    from chainfin.adapters.db.crypto import FieldCipher

    result = runner.invoke(app, ["new-data-key", "--key-id", "k7"])
    assert result.exit_code == 0
    cipher = FieldCipher.from_spec(result.stdout.strip())
    assert cipher.current == "k7"


def test_demo_seed_small_and_chain_listing(cli_db: str) -> None:
    result = runner.invoke(
        app, ["demo", "seed", "--region", "yrd", "--scale", "small", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "seeded" in result.stdout
    listing = runner.invoke(app, ["chains", "list"])
    assert listing.exit_code == 0
    assert "T1:" in listing.stdout
    assert "T4:" in listing.stdout
