"""A witness, run as its own process against a live server: it cosigns only a checkpoint
signed by the log key it trusts and consistent with the last one it cosigned, and refuses a
rollback. The server's background sequencer keeps the receipt's promise."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from apiworld import World, uscc
from sqlalchemy.orm import Session, sessionmaker

from chainfin.app import create_app
from chainfin.config import Settings
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_CLOCK_ENV

ORIGIN = "chainfin.test/ledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, session_factory: sessionmaker[Session]
) -> Iterator[str]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        secret_key="k" * 40,
        data_keys=TEST_DATA_KEYS,
        ledger_origin=ORIGIN,
        ledger_sequencer=True,
        ledger_sequencer_interval_seconds=0.2,
    )
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)
    assert not thread.is_alive(), "server did not stop"
    app.state.engine.dispose()


def chainfin(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, on the test world's day like the server it talks to."""
    return subprocess.run(
        [sys.executable, "-m", "chainfin.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **WORLD_CLOCK_ENV},
        timeout=120,
    )


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_receipt_promise_is_kept_and_a_witness_cosigns(
    live: str, world: World, tmp_path: Path
) -> None:
    import httpx2 as httpx

    with httpx.Client(base_url=live) as http:
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "username": "a-admin",
                "password": "correct horse battery",
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(
            "/v1/enterprises",
            json={
                "uscc": uscc("320505", 900),
                "name": "见证测试",
                "region_code": "320505",
                "industry_code": "C36",
                "roles": "supplier",
            },
            headers=auth,
        ).json()
        entry_id = created["receipt"]["entries"][0]["entry_id"]
        wait_for(
            lambda: (
                http.get(f"/v1/ledger/receipts/{entry_id}", headers=auth).json()["status"]
                == "sequenced"
            )
        )
        key_file, state = tmp_path / "w.key", tmp_path / "w.state"
        made = chainfin("ledger", "witness-key", "bank-a-witness", "-o", str(key_file))
        assert made.returncode == 0, made.stderr
        assert (
            http.post(
                "/v1/ledger/witnesses", json={"vkey": made.stdout.strip()}, headers=auth
            ).status_code
            == 201
        )
        log_vkey = http.get("/v1/ledger/keys").json()["log"][0]["vkey"]
        args = [
            "ledger",
            "witness",
            "--url",
            live,
            "--key-file",
            str(key_file),
            "--log-vkey",
            log_vkey,
            "--state-file",
            str(state),
            "--token",
            token,
        ]
        first = chainfin(*args)
        assert first.returncode == 0, first.stdout + first.stderr
        size1 = json.loads(state.read_text())["size"]
        assert http.get(f"/v1/ledger/checkpoints/{size1}").json()["cosigned_by"] == [
            "bank-a-witness"
        ]
        http.post(
            "/v1/enterprises",
            json={
                "uscc": uscc("320505", 901),
                "name": "见证测试二",
                "region_code": "320505",
                "industry_code": "C36",
                "roles": "supplier",
            },
            headers=auth,
        )
        wait_for(lambda: http.get("/v1/ledger/checkpoint").json()["tree_size"] > size1)
        second = chainfin(*args)
        assert second.returncode == 0, second.stdout + second.stderr
        assert json.loads(state.read_text())["size"] > size1
        # a log that shows less than we already cosigned is a rollback: refuse
        state.write_text(json.dumps({"size": 10**6, "root": "00" * 32}))
        rollback = chainfin(*args)
        assert rollback.returncode == 1
        assert "rollback" in rollback.stderr
        # a checkpoint under a key the witness does not trust is refused
        other = chainfin("ledger", "witness-key", "x", "-o", str(tmp_path / "x.key"))
        state.unlink()
        wrong = chainfin(*args[:-6], "--log-vkey", other.stdout.strip(), *args[-4:])
        assert wrong.returncode == 1
        assert "witness failed" in wrong.stderr
