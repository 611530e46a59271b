"""Commit, then acknowledge (issue 13): no 2xx and no receipt leaves before the write's
transaction has committed, and a commit that fails is an error, never a 2xx.

The visibility test runs the real ASGI app in a real uvicorn server and, the instant each
201 arrives, reads the written row through a connection of its own (not the app's): it must
be there every time. Before the fix (the request session committed in a request-scoped
``yield`` dependency, whose exit runs after the response is sent) almost every read missed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from apiworld import PASSWORD, World, uscc
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import make_engine, transaction
from chainfin.adapters.db.models import (
    CredentialProgramme,
    Enterprise,
    LedgerEntry,
    TradeDocumentRow,
)
from chainfin.api import deps
from chainfin.app import create_app
from chainfin.config import Settings
from chainfin.domain.access import SYSTEM
from chainfin.services import rates
from chainfin.web import pages
from testkeys import TEST_DATA_KEYS

ORIGIN = "chainfin.test/ledger"
CLIENTS = 4  # client threads submitting documents at once
PER_CLIENT = 25  # documents each


def _settings(database_url: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        secret_key="k" * 40,
        data_keys=TEST_DATA_KEYS,
        ledger_origin=ORIGIN,
        ledger_sequencer=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(database_url: str, tmp_path: Path, world: World) -> Iterator[str]:
    """The app in a real uvicorn server on a thread (real sockets, real send order)."""
    app = create_app(_settings(database_url, tmp_path))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server thread died"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)
    assert not thread.is_alive(), "server did not stop"
    app.state.engine.dispose()


@pytest.fixture
def observer(database_url: str) -> Iterator[Engine]:
    """A separate engine: its connections see only what has been committed."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _token(http: httpx.Client | TestClient, username: str) -> dict[str, str]:
    r = http.post(
        "/oauth/token", data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _document(world: World, number: str) -> dict[str, Any]:
    return {
        "kind": "purchase_order",
        "number": number,
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": "2026-11-20",
        "currency": "CNY",
        "total": "1130.00",
        "tax": "130.00",
        "lines": [
            {
                "item": "电芯",
                "quantity": "10",
                "unit": "件",
                "unit_price": "100.00",
                "amount": "1000.00",
            }
        ],
    }


def _present(observer: Engine, model: Any, row_id: str, entry_ids: list[str]) -> bool:
    """Is the row, and every ledger entry its receipt names, committed?"""
    with observer.connect() as conn:
        row = conn.execute(select(model.id).where(model.id == row_id)).first()
        entries = conn.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))
        ).scalar_one()
    return row is not None and entries == len(entry_ids)


def test_every_acknowledged_write_is_visible_the_instant_its_201_arrives(
    live: str, world: World, observer: Engine, session_factory: sessionmaker[Session]
) -> None:
    """Documents (a JSONResponse built by hand), enterprises (a response model) and
    credential programmes (the ``write_once`` idempotency wrapper), from several client
    threads at once."""
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    sent: list[str] = []
    acknowledged: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def check(what: str, model: Any, row_id: str, body: dict[str, Any]) -> None:
        entries = [e["entry_id"] for e in body["receipt"]["entries"]]
        seen = _present(observer, model, row_id, entries)  # before anything else
        with lock:
            acknowledged.append((what, row_id))
            if not seen:
                missing.append((what, row_id))

    with httpx.Client(base_url=live, timeout=30) as http:
        supplier, rm = _token(http, "s1"), _token(http, "a-rm")

    def submitter(n: int) -> None:
        with httpx.Client(base_url=live, headers=supplier, timeout=30) as http:
            for i in range(PER_CLIENT):
                with lock:
                    sent.append("document")
                r = http.post("/v1/documents", json=_document(world, f"PO-{n}-{i}"))
                if r.status_code != 201:
                    failures.append(f"document {n}/{i}: {r.status_code} {r.text[:200]}")
                    continue
                body = r.json()
                check("document", TradeDocumentRow, body["rows"][0]["document_id"], body)

    def registrar() -> None:
        with httpx.Client(base_url=live, headers=rm, timeout=30) as http:
            for i in range(10):
                with lock:
                    sent.append("enterprise")
                body = {
                    "uscc": uscc("320505", 700 + i),
                    "name": f"可见性 {i}",
                    "region_code": "320505",
                    "industry_code": "C36",
                    "roles": "supplier",
                }
                r = http.post("/v1/enterprises", json=body)
                if r.status_code != 201:
                    failures.append(f"enterprise {i}: {r.status_code} {r.text[:200]}")
                    continue
                check("enterprise", Enterprise, r.json()["id"], r.json())
                with lock:
                    sent.append("programme")
                programme = {
                    "core": world.usccs["core A"],
                    "name": f"programme {i}",
                    "line": "1000000.00",
                    "rating": "AA+",
                }
                headers = {"Idempotency-Key": f"programme-{i}"}
                r = http.post("/v1/credentials/programmes", json=programme, headers=headers)
                if r.status_code != 201:
                    failures.append(f"programme {i}: {r.status_code} {r.text[:200]}")
                    continue
                check("programme", CredentialProgramme, r.json()["id"], r.json())

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=registrar))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures[:5]
    assert len(acknowledged) == len(sent) == CLIENTS * PER_CLIENT + 20
    assert not missing, (
        f"{len(missing)} of {len(acknowledged)} acknowledged writes were not yet committed "
        f"when their 201 arrived: {Counter(w for w, _ in missing)} of "
        f"{Counter(w for w, _ in acknowledged)}"
    )


# ---------------------------------------------------------------------------- failed commits


@pytest.fixture
def app(database_url: str, tmp_path: Path, world: World) -> Iterator[FastAPI]:
    application = create_app(_settings(database_url, tmp_path))
    yield application
    application.state.engine.dispose()


def _failing_commits(app: FastAPI, exc: Callable[[], BaseException]) -> Callable[[], None]:
    """Make every commit of the app's sessions fail with ``exc()``, as a lost database, a
    deferred constraint or a full disk would; returns the undo."""

    def before_commit(session: Session) -> None:
        if not session.in_nested_transaction():  # the commit, not a savepoint's release
            raise exc()

    factory = app.state.session_factory
    event.listen(factory, "before_commit", before_commit)
    return lambda: event.remove(factory, "before_commit", before_commit)


FAILURES: dict[str, tuple[Callable[[], BaseException], int, str]] = {
    "the database is gone": (
        lambda: OperationalError("COMMIT", {}, Exception("disk I/O error")),
        503,
        "database_unavailable",
    ),
    "a deferred constraint fails": (
        lambda: IntegrityError("COMMIT", {}, Exception("deferred constraint violated")),
        409,
        "concurrent_change",
    ),
    "anything else": (lambda: RuntimeError("commit refused"), 500, "internal_error"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_commit_is_an_error_and_never_a_2xx_with_a_receipt(
    app: FastAPI, world: World, session_factory: sessionmaker[Session], failure: str
) -> None:
    exc, status, code = FAILURES[failure]
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    with TestClient(app, raise_server_exceptions=False) as client:
        supplier, rm = _token(client, "s1"), _token(client, "a-rm")
        enterprise = {
            "uscc": uscc("320505", 800),
            "name": "提交失败",
            "region_code": "320505",
            "industry_code": "C36",
            "roles": "supplier",
        }
        programme = {
            "core": world.usccs["core A"],
            "name": "never",
            "line": "1000000.00",
            "rating": "AA+",
        }
        restore = _failing_commits(app, exc)
        try:
            answers = [
                client.post("/v1/documents", json=_document(world, "PO-F"), headers=supplier),
                client.post(
                    "/v1/documents/batch",
                    json=[_document(world, "PO-G")],
                    headers={**supplier, "Idempotency-Key": "batch-g"},
                ),
                client.post("/v1/enterprises", json=enterprise, headers=rm),
                client.post(
                    "/v1/credentials/programmes",
                    json=programme,
                    headers={**rm, "Idempotency-Key": "programme-never"},
                ),
            ]
            page = client.post(
                "/login",
                data={"username": "s1", "password": PASSWORD},
                follow_redirects=False,
            )
        finally:
            restore()
        assert page.status_code == status  # not the 303 and its cookie
        assert "set-cookie" not in page.headers
        for r in answers:
            assert r.status_code == status, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == code
            assert "receipt" not in r.json()
            # an error answer, 500s included, carries the security headers too
            assert r.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        # Nothing was written, and the same requests succeed once commits work again.
        with session_factory() as s:
            assert s.scalar(select(func.count()).select_from(TradeDocumentRow)) == 0
            assert s.scalar(select(Enterprise.id).where(Enterprise.name == "提交失败")) is None
            assert s.scalar(select(func.count()).select_from(CredentialProgramme)) == 0
        again = client.post("/v1/documents", json=_document(world, "PO-F"), headers=supplier)
        assert again.status_code == 201, again.text
        assert again.json()["receipt"]["entries"]


# ---------------------------------------------------------------------------- every route


def _routes() -> Iterator[APIRoute]:
    """Every path operation of every router the app includes (the API's and the pages')."""
    import chainfin.api.routers as package

    routers = [
        importlib.import_module(f"{package.__name__}.{m.name}").router
        for m in pkgutil.iter_modules(package.__path__)
    ]
    for router in (*routers, pages.router):
        yield from (r for r in router.routes if isinstance(r, APIRoute))


def _yield_dependencies(route: APIRoute) -> Iterator[tuple[str, str | None]]:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        stack.extend(dep.dependencies)
        if inspect.isgeneratorfunction(dep.call) or inspect.isasyncgenfunction(dep.call):
            yield getattr(dep.call, "__name__", repr(dep.call)), dep.scope


def test_every_route_commits_before_it_answers() -> None:
    """Every ``yield`` dependency of every route (the unit-of-work sessions) is
    function-scoped: its exit, the commit, runs before the response is sent."""
    found = [(r.path, name, scope) for r in _routes() for name, scope in _yield_dependencies(r)]
    assert {deps.get_session.__name__, deps.get_write_session.__name__} <= {
        name for _, name, _ in found
    }
    late = sorted({(path, name) for path, name, scope in found if scope != "function"})
    assert not late, f"these routes would commit after their response is sent: {late}"
