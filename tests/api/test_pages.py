"""The landing page: sign in with a form, see the chains your bank defined. (These read the
English pages: the ``lang`` cookie; tests/web_http has the portal's own tests.)"""

from __future__ import annotations

from apiworld import PASSWORD, World
from fastapi.testclient import TestClient


def test_landing_page_asks_to_sign_in(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert 'action="/login"' in r.text
    assert "chain A" not in r.text


def test_wrong_password_shows_an_error(client: TestClient, world: World) -> None:
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": "a-rm", "password": "wrong"})
    assert r.status_code == 401
    assert "wrong username or password" in r.text


def test_staff_see_their_bank_chains_with_tiers(client: TestClient, world: World) -> None:
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": "a-rm", "password": PASSWORD})
    assert r.status_code == 200  # followed the 303 to /
    cookie = r.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "chain A" in r.text
    assert "chain B" not in r.text
    row = '"Side">Upstream</td><td data-label="Tier">2</td><td data-label="Members">1</td>'
    assert row in r.text
    token = r.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/logout", data={"csrf_token": token})
    assert "chain A" not in client.get("/").text
