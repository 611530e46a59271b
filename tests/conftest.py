"""Test fixtures: a migrated database per test worker (SQLite by default, PostgreSQL when
CHAINFIN_TEST_DATABASE_URL is set), emptied before each test that uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import propbudget  # noqa: F401 - registers and loads the Hypothesis profile
from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory
from chainfin.domain import clock
from dbreset import empty_database
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_NOW

PG_URL = os.environ.get("CHAINFIN_TEST_DATABASE_URL")


def _pg_worker_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def _data_key() -> None:
    """One field-encryption key for the whole test process; apps built in tests get the
    same one through Settings(data_keys=TEST_DATA_KEYS)."""
    crypto.configure(FieldCipher.from_spec(TEST_DATA_KEYS))


@pytest.fixture(autouse=True)
def world_clock() -> Iterator[clock.FixedClock]:
    """Every test runs on the test worlds' day (see worldclock.py), never the wall clock."""
    fixed = clock.FixedClock(WORLD_NOW)
    with clock.using(fixed):
        yield fixed


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    if PG_URL:
        schema = f"chainfin_test_{worker_id}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = _pg_worker_url(PG_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    empty_database(engine)
    return make_session_factory(engine)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes ~50 ms a hash; tests use the cheapest parameters so
    that fixtures with many users stay fast. Production code is not touched."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from chainfin.services import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(CHEAPEST))


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"
