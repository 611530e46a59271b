"""`GET /v1/portfolio/exposure`: a bank's own portfolio only."""

from __future__ import annotations

from apiworld import World, login
from fastapi.testclient import TestClient


def test_a_bank_reads_its_own_exposure(client: TestClient, world: World) -> None:
    r = client.get("/v1/portfolio/exposure?by=region_province", headers=login(client, "a-rm"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["by"], body["total"], body["currency"], body["rows"]) == (
        "region_province",
        "0.00",
        "CNY",
        [],
    )
    bad = client.get("/v1/portfolio/exposure?by=colour", headers=login(client, "a-rm"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "by"
    assert client.get("/v1/portfolio/exposure", headers=login(client, "s1")).status_code == 403


def test_early_warning_scan_and_alerts_by_api(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    r = client.post("/v1/early-warning/scan", json={"as_of": "2026-11-30"}, headers=rm)
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == 0
    assert "receipt" in r.json()
    assert client.get("/v1/alerts", headers=rm).json() == {"items": [], "next_cursor": None}
    r = client.post("/v1/alerts/alr_nope/resolve", json={"note": "x"}, headers=rm)
    assert r.status_code == 404
    r = client.post("/v1/alerts/escalate", json={}, headers=rm)
    assert r.json()["escalated"] == 0


def test_contagion_scenario_needs_trade(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    r = client.get(f"/v1/risk/contagion?core={world.usccs['core A']}", headers=rm)
    # the API world has relations but no invoices: nothing to propagate through
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "core"


def test_sector_rates_by_api(client: TestClient, world: World) -> None:
    r = client.get("/v1/portfolio/sectors?by=region_province", headers=login(client, "a-rm"))
    assert r.status_code == 200, r.text
    assert r.json()["sectors"] == []
    assert len(r.json()["months"]) == 12
