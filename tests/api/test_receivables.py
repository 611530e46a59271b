"""The receivables registry: one active registration per receivable across all banks."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.services import ledger, ledger_verify
from conftest import World, login


def invoice_id(client: TestClient, world: World) -> str:
    body = {
        "kind": "invoice",
        "number": "INV-R1",
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": "2026-03-06",
        "currency": "CNY",
        "total": "1130.00",
        "tax": "130.00",
        "invoice_number": "26320000000000000888",
        "due_date": "2026-06-06",
    }
    r = client.post("/v1/documents", json=body, headers=login(client, "s1"))
    assert r.status_code == 201, r.text
    return str(r.json()["rows"][0]["document_id"])


def test_second_registration_by_any_bank_is_refused_naming_the_first(
    client: TestClient, world: World
) -> None:
    doc = invoice_id(client, world)
    a = login(client, "a-rm")
    first = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "pledge", "financing_ref": "LN-001"},
        headers=a,
    )
    assert first.status_code == 201, first.text
    reg = first.json()
    assert (reg["amount"], reg["due_on"]) == ("1130.00", "2026-06-06")
    again = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "transfer"},
        headers=login(client, "b-rm"),
    )
    assert again.status_code == 409
    assert reg["id"] in again.json()["detail"]
    # released, it can back a new financing
    assert client.post(f"/v1/receivables/{reg['id']}/release", headers=a).status_code == 200
    b = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "transfer"},
        headers=login(client, "b-rm"),
    )
    assert b.status_code == 201


def test_search_filing_and_ledger(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    doc = invoice_id(client, world)
    a = login(client, "a-rm")
    client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "pledge", "financing_ref": "LN-9"},
        headers=a,
    )
    for query in (
        f"debtor_uscc={world.usccs['core A']}",
        f"creditor_uscc={world.usccs['s1']}",
        "invoice_number=26320000000000000888",
        "amount=1130.00",
    ):
        found = client.get(f"/v1/receivables?{query}", headers=login(client, "b-rm")).json()
        assert len(found) == 1, query
    assert client.get(f"/v1/receivables?debtor_uscc={world.usccs['s2']}", headers=a).json() == []
    # parties see their own registrations; a stranger enterprise sees none
    assert len(client.get("/v1/receivables", headers=login(client, "s1")).json()) == 1
    assert client.get("/v1/receivables", headers=login(client, "coreB")).json() == []
    filing = client.get("/v1/receivables/filing", headers=a).json()
    assert filing[0]["registration_type"] == "应收账款质押"
    assert filing[0]["grantor_uscc"] == world.usccs["s1"]
    assert filing[0]["debtor_uscc"] == world.usccs["core A"]
    assert json.dumps(filing, ensure_ascii=False).count("26320000000000000888") == 1
    with transaction(session_factory) as s:
        ledger.sequence(s, "chainfin.test/ledger")
    with session_factory() as s:
        assert ledger_verify.verify(s, origin="chainfin.test/ledger").ok


def test_only_banks_register_and_only_invoices(client: TestClient, world: World) -> None:
    doc = invoice_id(client, world)
    r = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "pledge"},
        headers=login(client, "s1"),
    )
    assert r.status_code == 403
    bad = client.post(
        "/v1/receivables",
        json={"invoice_document_id": "doc_x", "kind": "pledge"},
        headers=login(client, "a-rm"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "invoice_document_id"
