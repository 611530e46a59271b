"""The landing page: sign in with a form, see the chains your bank defined."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import PASSWORD, World


def test_landing_page_asks_to_sign_in(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert 'action="/login"' in r.text
    assert "chain A" not in r.text


def test_wrong_password_shows_an_error(client: TestClient, world: World) -> None:
    r = client.post("/login", data={"username": "a-rm", "password": "wrong"})
    assert r.status_code == 401
    assert "wrong username or password" in r.text


def test_staff_see_their_bank_chains_with_tiers(client: TestClient, world: World) -> None:
    r = client.post("/login", data={"username": "a-rm", "password": PASSWORD})
    assert r.status_code == 200  # followed the 303 to /
    cookie = r.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "chain A" in r.text
    assert "chain B" not in r.text
    assert "<td>upstream</td><td>2</td><td>1</td>" in r.text
    client.post("/logout")
    assert "chain A" not in client.get("/").text
