"""`/v1/risk/models`: train and register, promote, score with the champion, monitor."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from apiworld import World, login
from fastapi.testclient import TestClient

DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"


def test_register_promote_score_and_monitor(client: TestClient, world: World) -> None:
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rm = login(client, "a-rm")
    body = {"name": "sme", "target": "default", "rows": rows, "id_column": "app_id"}
    r = client.post("/v1/risk/models", json=body, headers=rm)
    assert r.status_code == 201, r.text
    model = r.json()
    assert (model["version"], model["status"]) == (1, "challenger")
    assert "receipt" in model
    r = client.post(f"/v1/risk/models/{model['id']}/promote", headers=rm)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "champion"
    scored = client.post("/v1/risk/models/sme/score", json={"rows": rows[:3]}, headers=rm)
    assert scored.status_code == 200, scored.text
    first = scored.json()["rows"][0]["champion"]
    assert 0 < Decimal(first["pd_pct"]) < 100  # a probability, as a percentage
    check = client.post(
        f"/v1/risk/models/{model['id']}/monitoring", json={"rows": rows}, headers=rm
    )
    assert check.status_code == 201, check.text
    assert check.json()["status"] == "stable"
    assert Decimal(check.json()["psi"]) < Decimal("0.1")
    history = client.get(f"/v1/risk/models/{model['id']}/monitoring", headers=rm).json()
    assert [c["id"] for c in history["items"]] == [check.json()["id"]]
    champions = client.get("/v1/risk/models", params={"status": "champion"}, headers=rm).json()
    assert [m["id"] for m in champions["items"]] == [model["id"]]
    assert champions["items"][0]["auc_pct"] == model["auc_pct"]
    challengers = client.get("/v1/risk/models", params={"status": "challenger"}, headers=rm)
    assert challengers.json()["items"] == []
    # another bank's staff see nothing of it
    other = login(client, "b-rm")
    assert client.get(f"/v1/risk/models/{model['id']}", headers=other).status_code == 404
    assert client.get("/v1/risk/models", headers=other).json() == {"items": [], "next_cursor": None}
