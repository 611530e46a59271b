"""Schemathesis over the whole OpenAPI: every operation, as bank staff, as an enterprise and
with no token, against the ASGI app in process on a real seeded database (SQLite, or
PostgreSQL when CHAINFIN_TEST_DATABASE_URL is set).

Each operation gets a few derandomized examples (valid and invalid data) plus Schemathesis'
boundary "coverage" cases. Valid data is sent three times, once per principal; invalid data
(which validation refuses whoever sends it) once, as one of the three in turn. Path
parameters naming a record take, in every other case, the id of one this module seeded (an
enterprise, a chain, a document, a consent, a credit line), so the operations get past "not
found" into their services. Every response must pass: no 5xx (``not_a_server_error``), a
status code the operation documents (``status_code_conformance``; every operation documents
its problem responses, see ``api.problems.document``), a documented content type and a body
matching the documented schema.

The schema is the app's own OpenAPI document (what ``/openapi.json`` serves), loaded when
the module is collected so that each operation is a test of its own, spread over the xdist
workers; each call goes to the module's app in process (``case.call(app=...)``).
(``schemathesis.pytest.from_fixture`` would load it from a fixture, but its pytest
integration reads ``Function._nodeid``, which pytest 9 no longer has.) The database is this
module's own, built once per test worker, so the fuzzing writes whatever it manages to write
without disturbing other tests, and other tests cannot empty it under the fuzzer's feet.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from apiworld import PASSWORD, World, build_world
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from chainfin.adapters.db import migrate
from chainfin.adapters.db.engine import make_engine, make_session_factory
from chainfin.app import create_app
from chainfin.config import Settings
from chainfin.domain import clock
from propbudget import PROFILE, budget
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_NOW

# Examples per operation (beyond the coverage cases); CHAINFIN_FUZZ_EXAMPLES explores more.
EXAMPLES = budget(int(os.environ.get("CHAINFIN_FUZZ_EXAMPLES", "10")))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _settings(database_url: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        data_keys=TEST_DATA_KEYS,
        ledger_sequencer=False,
        ledger_origin="chainfin.test/ledger",
    )


def _openapi() -> dict[str, object]:
    """The OpenAPI document (no database is touched to produce it)."""
    app = create_app(_settings("sqlite://", Path(tempfile.gettempdir())))
    document = app.openapi()
    app.state.engine.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi())
# JSON Lines bodies are documented as text; send them as such.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@dataclass
class Target:
    app: FastAPI
    world: World
    tokens: dict[str, dict[str, str]]  # principal -> headers
    ids: dict[str, str]  # path parameter name -> a seeded record's id


def _seed(client: TestClient, world: World, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    """A few records for path parameters to name: a document, a consent, a credit line."""
    s1, rm = tokens["enterprise"], tokens["staff"]
    invoice = {
        "kind": "invoice",
        "number": "FUZZ-INV-1",
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": "2026-11-20",
        "total": "1130.00",
        "tax": "130.00",
        "order_number": "FUZZ-PO-1",
        "invoice_number": "26320000000000000901",
    }
    r = client.post("/v1/documents", json=invoice, headers=s1)
    assert r.status_code == 201, r.text
    document_id = r.json()["rows"][0]["document_id"]
    consent = {
        "bank_code": "BKA",
        "categories": ["trade_documents", "invoices", "logistics"],
        "purposes": ["credit_assessment", "post_loan_monitoring"],
        "expires_at": "2027-11-26T00:00:00+08:00",
    }
    r = client.post("/v1/consents", json=consent, headers=s1)
    assert r.status_code == 201, r.text
    consent_id = r.json()["id"]
    line = {
        "obligor": world.usccs["core A"],
        "limit": "5000000.00",
        "starts_on": "2026-11-26",
        "expires_on": "2027-11-25",
    }
    r = client.post("/v1/credit-lines", json=line, headers=rm)
    assert r.status_code == 201, r.text
    return {
        "enterprise_id": world.ids["s1"],
        "chain_id": world.chain_a,
        "book": "BKA",
        "document_id": document_id,
        "consent_id": consent_id,
        "line_id": r.json()["id"],
    }


def _database(tmp: Path, worker_id: str) -> Iterator[str]:
    base = os.environ.get("CHAINFIN_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp / 'fuzz.db'}"
        return
    schema_name = f"chainfin_fuzz_{worker_id}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema_name}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("fuzz")
    databases = _database(tmp, worker_id)
    url = next(databases)
    migrate.upgrade(url)
    engine = make_engine(url)
    with clock.using(clock.FixedClock(WORLD_NOW)), pytest.MonkeyPatch.context() as mp:
        from argon2 import PasswordHasher
        from argon2.profiles import CHEAPEST

        from chainfin.services import auth

        mp.setattr(auth, "_hasher", PasswordHasher.from_parameters(CHEAPEST))
        world = build_world(make_session_factory(engine))
        app = create_app(_settings(url, tmp))
        with TestClient(app) as client:
            tokens: dict[str, dict[str, str]] = {"anonymous": {}}
            for principal, username in (("staff", "a-rm"), ("enterprise", "s1")):
                r = client.post(
                    "/oauth/token",
                    data={"grant_type": "password", "username": username, "password": PASSWORD},
                )
                assert r.status_code == 200, r.text
                tokens[principal] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            ids = _seed(client, world, tokens)
        yield Target(app, world, tokens, ids)
    app.state.engine.dispose()
    engine.dispose()
    next(databases, None)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=PROFILE != "fuzz",  # repeatable in CI; `make fuzz` explores with random seeds
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, target: Target) -> None:
    # Deterministic choices from the case itself (str hashes vary per process).
    seed = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    if seed % 2 and case.path_parameters:
        for name in case.path_parameters:
            if name in target.ids:
                case.path_parameters[name] = target.ids[name]
    principals = list(target.tokens.values())
    meta = case._meta  # schemathesis' record of how the case was generated
    if meta is not None and meta.generation.mode is GenerationMode.NEGATIVE:
        principals = [principals[seed % len(principals)]]
    for headers in principals:
        # The in-process transport's 10 s read timeout is about a loaded CI host, not the API:
        # a slow answer is not a wrong one (bench/ measures speed).
        case.call_and_validate(app=target.app, headers=headers, checks=CHECKS, timeout=120)
