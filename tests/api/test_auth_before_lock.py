"""Bad credentials are refused before the unit of work opens: on SQLite a write transaction
takes the database's one write lock from its first statement, so a write route that checked
a forged token inside its transaction would queue behind (and hold up) every other writer.
Here another connection holds the write lock for the whole request: a request with a bad
token must still be answered 401, which it could not be if it waited for the lock (it would
time out after SQLite's busy timeout and answer 503)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient


@pytest.fixture
def write_lock_held(database_url: str, backend: str) -> Iterator[None]:
    if backend != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL locks rows, not the database")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("PRAGMA busy_timeout=100")
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


BAD_TOKENS = [
    "garbage",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # alg none
    "a" * 600,
]


@pytest.mark.parametrize("token", BAD_TOKENS, ids=["garbage", "alg-none", "long"])
def test_a_write_with_a_bad_token_is_refused_without_the_write_lock(
    client: TestClient, world: World, write_lock_held: None, token: str
) -> None:
    r = client.post(
        "/v1/enterprises",
        json={"uscc": "x", "name": "x", "region_code": "320505", "industry_code": "C36"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_bad_page_cookie_is_refused_the_same_way(
    client: TestClient, world: World, write_lock_held: None
) -> None:
    client.cookies.set("chainfin_token", "garbage")
    r = client.post("/v1/relations", json={})
    assert r.status_code == 401, r.text


def test_a_good_token_still_writes_and_a_public_page_ignores_a_stale_cookie(
    client: TestClient, world: World
) -> None:
    headers = login(client, "a-admin")
    r = client.get("/v1/me", headers=headers)
    assert r.status_code == 200, r.text
    client.cookies.set("chainfin_token", "stale")
    page = client.get("/")
    assert page.status_code == 200  # the sign-in page, not a 401
    assert "password" in page.text
