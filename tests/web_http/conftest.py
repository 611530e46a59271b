"""Fixtures of the pages' HTTP tests: an app on the test database and the portal's firms
(http_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import http_world
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.app import create_app
from chainfin.config import Settings
from testkeys import TEST_DATA_KEYS


@pytest.fixture
def portal(session_factory: sessionmaker[Session]) -> http_world.Portal:
    return http_world.build(session_factory)


@pytest.fixture
def client(
    database_url: str, tmp_path: Path, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        data_keys=TEST_DATA_KEYS,
        ledger_sequencer=False,
        ledger_origin="chainfin.test/ledger",
    )
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()
