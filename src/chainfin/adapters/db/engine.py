"""Engines and sessions for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


WRITE = {"sqlite_begin_immediate": True}
"""Execution options for a unit of work that will write (see :func:`transaction`)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, issue BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """A writing transaction takes SQLite's write lock up front (BEGIN IMMEDIATE), so two
    writers queue on busy_timeout instead of one failing with a stale snapshot; readers
    stay DEFERRED and never block in WAL mode."""
    immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose flushes the state guard checks (see :mod:`.state_guard`)."""
    # Imported here: the guard loads every model, which `chainfin --help` need not pay for.
    from chainfin.adapters.db import state_guard

    factory = sessionmaker(engine, expire_on_commit=False)
    state_guard.install(factory)
    return factory


ON_ROLLBACK = "chainfin.on_rollback"


def on_rollback(session: Session, write: Callable[[Session], None]) -> None:
    """Register a write that must survive this unit of work failing — for example the record
    of a refused data access, which must be kept although the request is refused."""
    session.info.setdefault(ON_ROLLBACK, []).append(write)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception. Writes registered
    with :func:`on_rollback` then run in a fresh transaction of their own."""
    session = factory()
    try:
        with session.begin():
            if write:
                session.connection(execution_options=WRITE)
            yield session
    except BaseException:
        survivors = session.info.pop(ON_ROLLBACK, [])
        session.close()
        if survivors:
            with factory() as again, again.begin():
                again.connection(execution_options=WRITE)
                for survivor in survivors:
                    survivor(again)
        raise
    finally:
        session.close()
