"""Kill -9 under load (issue 13): every write a client holds a 201 for survives.

``chainfin serve`` runs as a process of its own on a fresh database (a SQLite file, or a
PostgreSQL schema when CHAINFIN_TEST_DATABASE_URL is set, so ``make test`` and
``make test-pg`` both run this). Client threads submit documents and record each one
acknowledged with 201, with the ledger entries its receipt names; the moment the
``KILL_AT``-th 201 arrives the server gets SIGKILL, with other requests still in flight.
The server then starts again on the same database, and every acknowledged document must be
there — through the restarted API and through a connection of the test's own — with every
receipt's ledger entry, and the log must sequence and pass ``chainfin ledger verify``.

Before the fix the session committed after the response had been sent, so the write whose
201 triggered the kill was usually lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner, Result

from chainfin.adapters.db import migrate
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import LedgerEntry, TradeDocumentRow
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM, OwnerKind
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, registry
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_NOW

PG_URL = os.environ.get("CHAINFIN_TEST_DATABASE_URL")
ORIGIN = "chainfin.test/crash"
CLIENTS = 4  # client threads
PER_CLIENT = 100  # documents each, at most: the load is bounded
KILL_AT = 120  # the acknowledged write whose 201 triggers SIGKILL
SELLER = make_uscc("9", "1", "320506", "00000041")
BUYER = make_uscc("9", "1", "320505", "00000042")
STARTUP = 60.0  # seconds a server may take to answer /readyz (a bound, not a measurement)


@dataclass
class Load:
    sent: int = 0
    answered: int = 0  # 201s received
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # document -> entries
    unanswered: int = 0  # in flight when the server died: either outcome is allowed
    refused: list[str] = field(default_factory=list)  # any other answer is a failure
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def fresh_database(tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A database of this test's own, migrated: a SQLite file, or a PostgreSQL schema."""
    schema = None
    if PG_URL:
        schema = f"chainfin_crash_{worker_id}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    migrate.upgrade(url)
    yield url
    if schema is not None:
        admin = make_engine(PG_URL or "")
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _seed(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as s:
            registry.import_enterprises(
                s,
                SYSTEM,
                [
                    EnterpriseRecord(SELLER, "卖方", "320506", "C38", frozenset({Role.SUPPLIER})),
                    EnterpriseRecord(BUYER, "买方", "320505", "C36", frozenset({Role.CORE})),
                ],
            )
            client = auth.create_client(
                s,
                SYSTEM,
                name="seller's ERP",
                owner_kind=OwnerKind.ENTERPRISE,
                owner=SELLER,
                scopes=["documents:write", "documents:read"],
            )
        return client.client_id, client.client_secret
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``chainfin serve`` in its own process (one uvicorn process: its pid is the server)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chainfin.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(log)
        except BaseException:
            self.kill()
            self.stop()
            raise

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + STARTUP
        while True:
            assert self.proc.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"the server is not ready: {log.read_text()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            self.proc.wait(timeout=30)
        finally:
            self._log.close()


def _token(base: str, client: tuple[str, str]) -> dict[str, str]:
    r = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client[0]}
        | {"client_secret": client[1]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _order(number: str) -> dict[str, Any]:
    return {
        "kind": "purchase_order",
        "number": number,
        "seller_uscc": SELLER,
        "buyer_uscc": BUYER,
        "issue_date": "2026-11-20",
        "currency": "CNY",
        "total": "1130.00",
        "tax": "130.00",
    }


def _submit(server: Server, headers: dict[str, str], n: int, load: Load) -> None:
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        for i in range(PER_CLIENT):
            with load.lock:
                if load.answered >= KILL_AT:
                    return  # the server is dead or dying
                load.sent += 1
            try:
                r = http.post("/v1/documents", json=_order(f"PO-{n}-{i}"))
            except httpx.TransportError:
                with load.lock:
                    load.unanswered += 1
                return
            if r.status_code != 201:
                with load.lock:
                    load.refused.append(f"{r.status_code} {r.text[:300]}")
                return
            with load.lock:
                load.answered += 1
                if load.answered == KILL_AT:
                    server.kill()  # the instant the 201 is in hand, before anything else
            body = r.json()
            with load.lock:
                load.acknowledged[body["rows"][0]["document_id"]] = [
                    e["entry_id"] for e in body["receipt"]["entries"]
                ]


def _chainfin(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """The CLI, in this process (a new one would spend seconds importing the stack)."""
    for name, value in env.items():
        if name.startswith("CHAINFIN_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_every_acknowledged_write_survives_kill_9(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database
    client = _seed(url)
    started = time.monotonic()
    env = {
        **os.environ,
        "CHAINFIN_DATABASE_URL": url,
        "CHAINFIN_VAR_DIR": str(tmp_path / "var"),
        "CHAINFIN_SECRET_KEY": "k" * 40,
        "CHAINFIN_DATA_KEYS": TEST_DATA_KEYS,
        "CHAINFIN_LEDGER_ORIGIN": ORIGIN,
        "CHAINFIN_LEDGER_SEQUENCER_INTERVAL_SECONDS": "0.2",  # sequencing runs under the load
        "CHAINFIN_CLOCK": WORLD_NOW.isoformat(),
    }
    log = tmp_path / "server.log"

    server = Server(env, log)
    load = Load()
    try:
        headers = _token(server.url, client)
        threads = [
            threading.Thread(target=_submit, args=(server, headers, n, load))
            for n in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a client thread hung"
        assert not load.refused, load.refused[:3]
        assert len(load.acknowledged) >= KILL_AT  # and any 201 already on its way
        assert server.proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        server.kill()
        server.stop()

    # The same database, a new process; its clock goes on from where the first one's was.
    env["CHAINFIN_CLOCK"] = (
        WORLD_NOW + timedelta(seconds=time.monotonic() - started + 1)
    ).isoformat()
    again = Server(env, log)
    try:
        headers = _token(again.url, client)
        with httpx.Client(base_url=again.url, headers=headers, timeout=30) as http:
            lost = [
                doc
                for doc in load.acknowledged
                if http.get(f"/v1/documents/{doc}").status_code != 200
            ]
            after = http.post("/v1/documents", json=_order("PO-after-restart"))
            assert after.status_code == 201, after.text
    finally:
        again.stop()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = set(
                conn.execute(
                    select(TradeDocumentRow.id).where(TradeDocumentRow.id.in_(load.acknowledged))
                ).scalars()
            )
            entries = [e for es in load.acknowledged.values() for e in es]
            logged = conn.execute(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.id.in_(entries))
            ).scalar_one()
    finally:
        engine.dispose()
    print(  # noqa: T201 - the figures for the reader, never an assertion
        f"\n{engine.dialect.name}: {load.sent} sent, {len(load.acknowledged)} acknowledged, "
        f"{load.unanswered} unanswered at the kill, {len(stored)} of the acknowledged found "
        f"after the restart, {len(lost)} lost"
    )
    assert lost == [], f"{len(lost)} acknowledged documents lost by kill -9: {lost[:5]}"
    assert stored == set(load.acknowledged)
    assert logged == len(entries), "a receipt names a ledger entry that was not committed"

    sequenced = _chainfin(env, monkeypatch, "ledger", "sequence", "--json")
    assert sequenced.exit_code == 0, sequenced.output
    verified = _chainfin(env, monkeypatch, "ledger", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["pending"] == 0
    assert report["entries"] >= len(entries) + 1
