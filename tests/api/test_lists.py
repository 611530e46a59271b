"""Lists from the client's side: every list is a page ``{items, next_cursor}``; walking it with
a small ``limit`` visits every item once, in a stable order; filters narrow it; a limit out
of range or a cursor the API did not issue is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM
from chainfin.ledger.note import KeyKind, NoteSigner
from chainfin.services import alerts, registry


def walk(
    client: TestClient, path: str, headers: dict[str, str], limit: int, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a list, page by page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(
    "path", ["/v1/banks", "/v1/alerts", "/v1/consents", "/v1/reference/industries"]
)
def test_a_limit_out_of_range_or_a_foreign_cursor_is_refused(
    client: TestClient, world: World, path: str
) -> None:
    rm = login(client, "a-rm")
    for limit in (0, 501):
        assert client.get(path, params={"limit": limit}, headers=rm).status_code == 422
    bad = client.get(path, params={"cursor": "not a cursor!"}, headers=rm)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


def test_industries_page_in_code_order_and_search(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    everything = walk(client, "/v1/reference/industries", rm, 30)
    codes = [i["code"] for i in everything]
    assert len(codes) == 20 + 97  # every section and division of GB/T 4754-2017, once
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert codes[:3] == ["A", "A01", "A02"]
    sections = walk(client, "/v1/reference/industries", rm, 50, level="section")
    assert [i["code"] for i in sections] == [c for c in codes if len(c) == 1]
    of_c = walk(client, "/v1/reference/industries", rm, 50, section="C", level="division")
    assert {i["section"] for i in of_c} == {"C"}
    assert len(of_c) == 31
    found = walk(client, "/v1/reference/industries", rm, 5, q="汽车")
    assert [i["code"] for i in found] == ["C36"]
    assert walk(client, "/v1/reference/industries", rm, 5, q="AUTOMOBILES") == found
    assert [i["code"] for i in walk(client, "/v1/reference/industries", rm, 5, q="c3")] == [
        f"C3{n}" for n in range(10)
    ]


def test_banks_page_in_code_order(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    assert [b["code"] for b in walk(client, "/v1/banks", s1, 1)] == ["BKA", "BKB"]


def test_consents_filter_by_state_and_counterparty(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    later = clock.utcnow() + timedelta(days=30)

    def grant(bank: str, **over: str) -> str:
        body = {
            "bank_code": bank,
            "categories": ["invoices"],
            "purposes": ["credit_assessment"],
            "expires_at": later.isoformat(),
            **over,
        }
        r = client.post("/v1/consents", json=body, headers=s1)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    to_a = grant("BKA")
    to_b = grant("BKB")
    future = grant("BKA", valid_from=(clock.utcnow() + timedelta(days=2)).isoformat())
    revoked = grant("BKB")
    assert client.post(f"/v1/consents/{revoked}/revoke", headers=s1).status_code == 200

    mine = walk(client, "/v1/consents", s1, 1)
    assert [c["id"] for c in mine] == [revoked, future, to_b, to_a]  # newest first
    assert [c["id"] for c in walk(client, "/v1/consents", s1, 2, state="active")] == [to_b, to_a]
    assert [c["id"] for c in walk(client, "/v1/consents", s1, 2, state="revoked")] == [revoked]
    waiting = walk(client, "/v1/consents", s1, 2, state="not yet valid")
    assert [c["state"] for c in waiting] == ["not yet valid"]
    bank_a = next(b["id"] for b in walk(client, "/v1/banks", s1, 10) if b["code"] == "BKA")
    assert [c["id"] for c in walk(client, "/v1/consents", s1, 5, bank_id=bank_a)] == [future, to_a]
    # the bank sees what it holds, and can narrow it to one enterprise
    held = walk(client, "/v1/consents", login(client, "a-rm"), 5, enterprise_id=world.ids["s1"])
    assert [c["id"] for c in held] == [future, to_a]
    assert walk(client, "/v1/consents", s1, 5, state="expired") == []
    assert client.get("/v1/consents", params={"state": "paused"}, headers=s1).status_code == 422


def _raise(session_factory: sessionmaker[Session], world: World) -> list[str]:
    """Five of bank A's alerts, oldest first: two high on s1, then medium, low and critical
    on core A."""
    with transaction(session_factory) as s:
        bank_a = registry.bank_by_code(s, "BKA").id
        made = []
        for n, (severity, who) in enumerate(
            [
                ("high", "s1"),
                ("high", "s1"),
                ("medium", "core A"),
                ("low", "core A"),
                ("critical", "core A"),
            ]
        ):
            row = alerts.raise_alert(
                s,
                SYSTEM,
                kind=f"test_{n}",
                severity=severity,
                subject_kind="enterprise",
                subject_id=world.ids[who],
                bank_id=bank_a,
                enterprise_id=world.ids[who],
                message=f"alert {n}",
            )
            assert row is not None
            made.append(row.id)
    return made


def test_alerts_page_newest_first_and_filter(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    made = _raise(session_factory, world)
    rm = login(client, "a-rm")
    assert [a["id"] for a in walk(client, "/v1/alerts", rm, 2)] == made[::-1]
    high = walk(client, "/v1/alerts", rm, 1, severity="high")
    assert [a["id"] for a in high] == [made[1], made[0]]
    on_core = walk(client, "/v1/alerts", rm, 2, enterprise_id=world.ids["core A"])
    assert [a["id"] for a in on_core] == [made[4], made[3], made[2]]
    ack = client.post(f"/v1/alerts/{made[2]}/acknowledge", json={"note": "on it"}, headers=rm)
    assert ack.status_code == 200, ack.text
    assert ack.json()["state"] == "acknowledged"
    assert "receipt" in ack.json()
    assert [a["id"] for a in walk(client, "/v1/alerts", rm, 3, state="acknowledged")] == [made[2]]
    assert len(walk(client, "/v1/alerts", rm, 3, state="open")) == 4
    future = (clock.utcnow() + timedelta(hours=1)).isoformat()
    assert walk(client, "/v1/alerts", rm, 3, since=future) == []
    assert len(walk(client, "/v1/alerts", rm, 3, until=future)) == 5
    # another bank sees none of them
    assert walk(client, "/v1/alerts", login(client, "b-rm"), 3) == []
    naive = client.get("/v1/alerts", params={"since": "2026-01-01T00:00:00"}, headers=rm)
    assert naive.status_code == 422


def test_witnesses_page_by_name(client: TestClient, world: World) -> None:
    admin = login(client, "a-admin")
    for name in ("witness-c", "witness-a", "witness-b"):
        vkey = NoteSigner.generate(name, KeyKind.COSIGNATURE_V1).verifier().vkey()
        r = client.post("/v1/ledger/witnesses", json={"vkey": vkey}, headers=admin)
        assert r.status_code == 201, r.text
    public: dict[str, str] = {}  # the witnesses are public, like the log's keys
    names = [w["name"] for w in walk(client, "/v1/ledger/witnesses", public, 2)]
    assert names == ["witness-a", "witness-b", "witness-c"]
    assert walk(client, "/v1/ledger/witnesses", public, 2, active=False) == []
