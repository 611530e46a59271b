"""The receivables registry: one active registration per receivable across all banks; a bank
registers only its consenting customer's invoices; other banks see only the public part."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from apiworld import World, login
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.services import ledger, ledger_verify, receivables, registry


def jsonl(r: Response) -> list[dict[str, Any]]:
    """A JSON Lines answer, one object a line."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in r.text.splitlines()]


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


def consent_to(client: TestClient, bank: str, purposes: list[str] | None = None) -> None:
    """s1 lets ``bank`` use its invoices for financing (registering them)."""
    r = client.post(
        "/v1/consents",
        json={
            "bank_code": bank,
            "categories": ["invoices"],
            "purposes": purposes or ["financing"],
            "expires_at": (utcnow() + timedelta(days=90)).isoformat(),
        },
        headers=login(client, "s1"),
    )
    assert r.status_code == 201, r.text


def bank_b_serves_s1(session_factory: sessionmaker[Session], world: World) -> None:
    with transaction(session_factory) as s:
        bank_b = registry.bank_by_code(s, "BKB")
        registry.link_customers(s, SYSTEM, bank_b.id, [world.ids["s1"]])


def test_second_registration_by_any_bank_is_refused_naming_only_the_public_part(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    doc = invoice_id(client, world)
    consent_to(client, "BKA")
    a = login(client, "a-rm")
    first = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "pledge", "financing_ref": "LN-001"},
        headers=a,
    )
    assert first.status_code == 201, first.text
    reg = first.json()
    assert (reg["amount"], reg["due_on"]) == ("1130.00", "2026-06-06")
    bank_b_serves_s1(session_factory, world)
    consent_to(client, "BKB")
    again = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "transfer"},
        headers=login(client, "b-rm"),
    )
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert reg["id"] in detail
    assert "应收账款质押" in detail
    assert "LN-001" not in detail
    assert reg["bank_id"] not in detail
    # released, it can back a new financing
    assert client.post(f"/v1/receivables/{reg['id']}/release", headers=a).status_code == 200
    b = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "transfer"},
        headers=login(client, "b-rm"),
    )
    assert b.status_code == 201


def test_a_bank_without_the_sellers_relationship_and_consent_is_told_nothing(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    doc = invoice_id(client, world)
    b = login(client, "b-rm")
    pledge = {"invoice_document_id": doc, "kind": "pledge", "financing_ref": "B-1"}
    missing = {"invoice_document_id": "doc_01NOTANINVOICE000000000000", "kind": "pledge"}
    # not its customer: exactly the answer for a document that does not exist
    stranger = client.post("/v1/receivables", json=pledge, headers=b)
    nothing = client.post("/v1/receivables", json=missing, headers=b)
    assert stranger.status_code == nothing.status_code == 404
    assert stranger.json()["title"] == nothing.json()["title"]
    assert "1130" not in stranger.text
    assert "26320000000000000888" not in stranger.text
    # its customer, but no consent to use the invoices for financing (credit assessment
    # is not enough): still 404, and the seller's access log shows the refused attempt
    bank_b_serves_s1(session_factory, world)
    consent_to(client, "BKB", ["credit_assessment"])
    assert client.post("/v1/receivables", json=pledge, headers=b).status_code == 404
    log = client.get("/v1/consents/access-log", headers=login(client, "s1")).json()["items"]
    refused = [e for e in log if e["purpose"] == "financing"]
    assert refused
    assert refused[-1]["allowed"] is False
    consent_to(client, "BKB")
    assert client.post("/v1/receivables", json=pledge, headers=b).status_code == 201


def test_the_seller_registers_its_own_receivable_naming_its_bank(
    client: TestClient, world: World
) -> None:
    doc = invoice_id(client, world)
    s1 = login(client, "s1")
    body = {"invoice_document_id": doc, "kind": "transfer"}
    unnamed = client.post("/v1/receivables", json=body, headers=s1)
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "bank"
    not_its_bank = client.post("/v1/receivables", json={**body, "bank": "BKB"}, headers=s1)
    assert not_its_bank.status_code == 422
    r = client.post("/v1/receivables", json={**body, "bank": "BKA"}, headers=s1)
    assert r.status_code == 201, r.text
    assert r.json()["bank_id"] is not None
    # another enterprise cannot register s1's invoice: it does not exist for it
    other = client.post(
        "/v1/receivables", json={**body, "bank": "BKB"}, headers=login(client, "coreB")
    )
    assert other.status_code == 404


def test_search_filing_and_ledger(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    doc = invoice_id(client, world)
    consent_to(client, "BKA")
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
        page = client.get(f"/v1/receivables?{query}", headers=login(client, "b-rm")).json()
        found = page["items"]
        assert len(found) == 1, query
        # another bank's registration: its public part only
        assert found[0]["public"] is True
        assert (found[0]["bank_id"], found[0]["amount"], found[0]["invoice_number"]) == (
            None,
            None,
            None,
        )
        assert found[0]["invoice_document_id"] is None
        assert found[0]["amount_band"] == "0-10000"
    own = client.get("/v1/receivables", headers=a).json()["items"]
    assert own[0]["public"] is False
    assert own[0]["amount"] == "1130.00"
    none = client.get(f"/v1/receivables?debtor_uscc={world.usccs['s2']}", headers=a).json()
    assert none == {"items": [], "next_cursor": None}
    # parties see their own registrations; a stranger enterprise sees none
    assert len(client.get("/v1/receivables", headers=login(client, "s1")).json()["items"]) == 1
    assert client.get("/v1/receivables", headers=login(client, "coreB")).json()["items"] == []
    filing = jsonl(client.get("/v1/receivables/filing?format=jsonl", headers=a))
    assert filing[0]["registration_type"] == "应收账款质押"
    assert filing[0]["grantor_uscc"] == world.usccs["s1"]
    assert filing[0]["debtor_uscc"] == world.usccs["core A"]
    assert filing[0]["financing_ref"] == "LN-9"
    assert json.dumps(filing, ensure_ascii=False).count("26320000000000000888") == 1
    # bank B's export: the public registry fields of bank A's filing, nothing more
    theirs = jsonl(client.get("/v1/receivables/filing?format=jsonl", headers=login(client, "b-rm")))
    assert set(theirs[0]) == {
        "registration_id",
        "registration_type",
        "grantor_name",
        "grantor_uscc",
        "debtor_name",
        "debtor_uscc",
        "amount_band",
        "currency",
        "registered_on",
        "public",
    }
    text = json.dumps(theirs, ensure_ascii=False)
    for secret in ("LN-9", "26320000000000000888", "1130", "bank A"):
        assert secret not in text, secret
    with transaction(session_factory) as s:
        ledger.sequence(s, "chainfin.test/ledger")
    with session_factory() as s:
        assert ledger_verify.verify(s, origin="chainfin.test/ledger").ok


def test_only_banks_and_the_creditor_register_and_only_invoices(
    client: TestClient, world: World
) -> None:
    doc = invoice_id(client, world)
    r = client.post(
        "/v1/receivables",
        json={"invoice_document_id": doc, "kind": "pledge"},
        headers=login(client, "coreA"),
    )
    assert r.status_code == 404  # the debtor does not register its creditor's receivable
    bad = client.post(
        "/v1/receivables",
        json={"invoice_document_id": "doc_x", "kind": "pledge"},
        headers=login(client, "a-rm"),
    )
    assert bad.status_code == 404


def many_registrations(session_factory: sessionmaker[Session], world: World, n: int) -> list[str]:
    """``n`` of bank A's registrations (s1's receivables on core A), in registration order."""
    with transaction(session_factory) as s:
        bank_a = registry.bank_by_code(s, "BKA")
        return [
            receivables.register_key(
                s,
                SYSTEM,
                key=f"order/{world.ids['s1']}/PO-{i}",
                what=f"order PO-{i}",
                kind="pledge",
                creditor_id=world.ids["s1"],
                debtor_id=world.ids["core A"],
                bank_id=bank_a.id,
                amount=Money(100_00 + i),
                due_on=None,
                financing_ref=f"LN-{i}",
            ).id
            for i in range(n)
        ]


def test_the_filing_export_streams_every_registration_as_csv_or_json_lines(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    ids = many_registrations(session_factory, world, 1_234)  # more than one batch of reads
    a = login(client, "a-rm")
    with client.stream("GET", "/v1/receivables/filing", headers=a) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert "content-length" not in r.headers  # sent as it is read, not as one body
        lines = list(r.iter_lines())
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert list(rows[0]) == list(receivables.FILING_COLUMNS)
    assert [row["registration_id"] for row in rows] == ids  # each once, in order
    assert {row["public"] for row in rows} == {"False"}
    assert rows[7]["amount"] == "100.07"
    assert rows[7]["financing_ref"] == "LN-7"
    # as JSON Lines; another bank sees the same registrations, only their public part
    theirs = jsonl(client.get("/v1/receivables/filing?format=jsonl", headers=login(client, "b-rm")))
    assert [row["registration_id"] for row in theirs] == ids
    assert all(row["public"] and "amount" not in row for row in theirs)
    # the search's filters apply to the export
    since = client.get(
        "/v1/receivables/filing",
        params={"format": "jsonl", "creditor_uscc": world.usccs["s2"]},
        headers=a,
    )
    assert jsonl(since) == []


def test_the_filing_export_refuses_before_it_streams(client: TestClient, world: World) -> None:
    # a stranger to every registration: a header line and nothing else
    r = client.get("/v1/receivables/filing", headers=login(client, "coreB"))
    assert r.status_code == 200
    assert r.text.splitlines() == [",".join(receivables.FILING_COLUMNS)]
    # a platform is neither a bank nor a party: refused with a problem, not a broken stream
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.platform_client_id,
            "client_secret": world.platform_client_secret,
        },
    ).json()["access_token"]
    refused = client.get("/v1/receivables/filing", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/receivables/filing").status_code == 401
    bad = client.get("/v1/receivables/filing?format=xml", headers=login(client, "a-rm"))
    assert bad.status_code == 422


def test_searching_the_registry_pages_through_every_registration_in_order(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    ids = many_registrations(session_factory, world, 7)
    a = login(client, "a-rm")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/receivables", params=params, headers=a).json()
        assert len(page["items"]) <= 3
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    later = client.get("/v1/receivables", params={"since": utcnow().isoformat()}, headers=a).json()
    assert later["items"] == []
    assert client.get("/v1/receivables", params={"limit": 0}, headers=a).status_code == 422
