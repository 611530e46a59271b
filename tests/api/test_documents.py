"""Trade documents through the API: single and batch submission, idempotency, all-or-nothing
and partial batches, attribution, UBL/Peppol ingestion, safe XML, consent-gated reads, and
the ledger."""

from __future__ import annotations

import json
from datetime import timedelta

from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import TradeDocumentRow
from chainfin.domain import clock
from chainfin.services import ledger, ledger_verify
from reference import REFERENCE

UBL = REFERENCE / "ubl21"
ORIGIN = "chainfin.test/ledger"


def order(world: World, number: str = "PO-1", total: str = "1130.00") -> dict:  # type: ignore[type-arg]
    return {
        "kind": "purchase_order",
        "number": number,
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": "2026-03-01",
        "currency": "CNY",
        "total": total,
        "tax": "130.00",
        "lines": [
            {
                "item": "电芯",
                "quantity": "10",
                "unit": "件",
                "unit_price": "100.00",
                "amount": "1000.00",
            }
        ],
    }


def count(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(TradeDocumentRow)) or 0)


def test_submit_one_with_an_idempotency_key(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = {**login(client, "s1"), "Idempotency-Key": "po-1-attempt"}
    first = client.post("/v1/documents", json=order(world), headers=s1)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["accepted"] == 1
    assert body["receipt"]["entries"][0]["event_type"] == "document.purchase_order.accepted"
    again = client.post("/v1/documents", json=order(world), headers=s1)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == body
    assert count(session_factory) == 1
    reuse = client.post("/v1/documents", json=order(world, "PO-2"), headers=s1)
    assert reuse.status_code == 409
    # the same document again without a key: recognised as unchanged, not duplicated
    plain = login(client, "s1")
    same = client.post("/v1/documents", json=order(world), headers=plain).json()
    assert (same["accepted"], same["unchanged"]) == (0, 1)
    changed = client.post("/v1/documents", json=order(world, total="1131.00"), headers=plain)
    assert changed.status_code == 422


def test_batch_is_all_or_nothing_unless_partial(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    bad = {**order(world, "PO-9"), "issue_date": "2026-02-30", "kind": "purchase_order"}
    rows = [order(world, "PO-7"), bad, order(world, "PO-7")]
    r = client.post(
        "/v1/documents/batch",
        content=json.dumps(rows),
        headers={**s1, "content-type": "application/json"},
    )
    assert r.status_code == 422
    errors = {(e["row"], e["field"]): e["reason"] for e in r.json()["errors"]}
    assert errors[(2, "issue_date")] == "'2026-02-30' is not a calendar date"
    assert errors[(3, "number")] == "duplicate of row 1"
    assert count(session_factory) == 0
    r = client.post(
        "/v1/documents/batch?partial=true",
        content=json.dumps(rows),
        headers={**s1, "content-type": "application/json"},
    )
    assert r.status_code == 201
    assert [row["status"] for row in r.json()["rows"]] == ["accepted", "rejected", "rejected"]
    assert count(session_factory) == 1


def test_csv_batch_with_lines_as_json(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    lines = json.dumps(order(world)["lines"], ensure_ascii=False).replace('"', '""')
    csv_text = (
        "kind,number,seller_uscc,buyer_uscc,issue_date,total,tax,lines\n"
        f"purchase_order,PO-C1,{world.usccs['s1']},{world.usccs['core A']},"
        f'2026-03-02,1130.00,130.00,"{lines}"\n'
    )
    r = client.post(
        "/v1/documents/batch", content=csv_text.encode(), headers={**s1, "content-type": "text/csv"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["rows"][0]["row"] == 2


def test_only_parties_submit(client: TestClient, world: World) -> None:
    r = client.post("/v1/documents", json=order(world), headers=login(client, "coreB"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"] == "you may only submit documents you are a party to"
    assert (
        client.post("/v1/documents", json=order(world), headers=login(client, "a-rm")).status_code
        == 403
    )


def _peppol(world: World) -> bytes:
    xml = (UBL / "peppol_bis3_base-example.xml").read_text(encoding="utf-8")
    return (
        xml.replace("GB983294", world.usccs["s1"])
        .replace("39937423947", world.usccs["core A"])
        # a Chinese invoice carries its official 全电 number as cbc:ID
        .replace("<cbc:ID>Snippet1<", "<cbc:ID>26320000000000000042<")
    ).encode()


def test_a_peppol_invoice_ingests_with_its_totals(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    r = client.post(
        "/v1/documents/batch",
        content=_peppol(world),
        headers={**s1, "content-type": "application/xml"},
    )
    assert r.status_code == 201, r.text
    doc_id = r.json()["rows"][0]["document_id"]
    doc = client.get(f"/v1/documents/{doc_id}", headers=s1).json()
    expected = json.loads((UBL / "expected_totals.json").read_text())
    want = next(v for k, v in expected.items() if "base-example" in k)
    assert doc["kind"] == "invoice"
    assert doc["currency"] == "EUR"
    assert (
        doc["content"]["total"] == want["TaxInclusiveAmount"]
        if "TaxInclusiveAmount" in want
        else True
    )


def test_malicious_xml_is_refused_and_nothing_is_written(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = {**login(client, "s1"), "content-type": "application/xml"}
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    r = client.post("/v1/documents/batch", content=xxe, headers=s1)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "xml"
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'
    )
    assert client.post("/v1/documents/batch", content=laughs, headers=s1).status_code == 422
    assert count(session_factory) == 0


def test_bank_reads_need_consent_and_are_logged(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    client.post("/v1/documents", json=order(world), headers=s1)
    bank = login(client, "a-rm")
    path = f"/v1/enterprises/{world.ids['s1']}/documents"
    refused = client.get(path, headers=bank)
    assert refused.status_code == 403
    assert refused.json()["code"] == "consent_refused"
    client.post(
        "/v1/consents",
        json={
            "bank_code": "BKA",
            "categories": ["trade_documents"],
            "purposes": ["credit_assessment"],
            "expires_at": (clock.utcnow() + timedelta(days=30)).isoformat(),
        },
        headers=s1,
    )
    allowed = client.get(path, headers=bank)
    assert allowed.status_code == 200
    assert [d["number"] for d in allowed.json()["items"]] == ["PO-1"]
    # invoices are a separate category: not covered by a trade-documents consent
    assert client.get(path + "?kind=invoice", headers=bank).status_code == 403
    log = client.get("/v1/consents/access-log", headers=s1).json()["items"]
    assert [e["allowed"] for e in log] == [False, True, False]
    # the enterprise reads its own documents without consent
    assert client.get(path, headers=s1).status_code == 200


def test_documents_are_on_the_ledger_and_content_edits_are_caught(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    client.post("/v1/documents", json=order(world), headers=login(client, "s1"))
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok
    with transaction(session_factory) as s:
        row = s.scalars(select(TradeDocumentRow)).one()
        content = dict(row.content)
        content["lines"] = [{**content["lines"][0], "quantity": "12"}]
        s.execute(update(TradeDocumentRow).values(content=content))
    with session_factory() as s:
        findings = ledger_verify.verify(s, origin=ORIGIN).findings
    assert any(f.where.endswith("field content_hash") for f in findings), findings


def _chain(world: World, invoiced_quantity: str = "10") -> list[dict]:  # type: ignore[type-arg]
    seller, buyer = world.usccs["s1"], world.usccs["core A"]
    base = {"seller_uscc": seller, "buyer_uscc": buyer, "currency": "CNY"}
    line = {
        "item": "电芯",
        "quantity": "10",
        "unit": "件",
        "unit_price": "100.00",
        "amount": "1000.00",
    }
    billed = {**line, "quantity": invoiced_quantity, "amount": f"{int(invoiced_quantity) * 100}.00"}
    tax = int(invoiced_quantity) * 13
    return [
        {
            **base,
            "kind": "purchase_order",
            "number": "PO-T",
            "issue_date": "2026-03-01",
            "total": "1130.00",
            "tax": "130.00",
            "lines": [line],
        },
        {
            **base,
            "kind": "delivery_note",
            "number": "DN-T",
            "issue_date": "2026-03-03",
            "order_number": "PO-T",
            "total": "1130.00",
            "tax": "130.00",
            "lines": [line],
        },
        {
            **base,
            "kind": "goods_receipt",
            "number": "GR-T",
            "issue_date": "2026-03-05",
            "delivery_number": "DN-T",
            "order_number": "PO-T",
            "total": "1130.00",
            "tax": "130.00",
            "lines": [line],
        },
        {
            **base,
            "kind": "invoice",
            "number": "INV-T",
            "issue_date": "2026-03-06",
            "order_number": "PO-T",
            "delivery_number": "DN-T",
            "invoice_number": "26320000000000000777",
            "due_date": "2026-06-06",
            "total": f"{int(invoiced_quantity) * 113}.00",
            "tax": f"{tax}.00",
            "lines": [billed],
        },
        {
            **base,
            "kind": "payment",
            "number": "PAY-T",
            "issue_date": "2026-04-01",
            "invoice_number": "26320000000000000777",
            "total": f"{int(invoiced_quantity) * 113}.00",
        },
    ]


def test_trade_cases_match_and_explain_differences(client: TestClient, world: World) -> None:
    s1 = {**login(client, "s1"), "content-type": "application/json"}
    r = client.post("/v1/documents/batch", content=json.dumps(_chain(world)), headers=s1)
    assert r.status_code == 201, r.text
    path = f"/v1/enterprises/{world.ids['s1']}/trade-cases"
    cases = client.get(path, headers=s1).json()
    assert [(c["case_key"].split("/")[-1], c["status"], c["ways"]) for c in cases["items"]] == [
        ("PO-T", "matched", 4)
    ]
    assert cases["next_cursor"] is None
    # filters: by status, and by the other party
    assert client.get(path, params={"status": "mismatched"}, headers=s1).json()["items"] == []
    buyer = {"counterparty": world.usccs["core A"]}
    assert len(client.get(path, params=buyer, headers=s1).json()["items"]) == 1
    stranger = {"counterparty": world.usccs["core B"]}
    assert client.get(path, params=stranger, headers=s1).json()["items"] == []
    # the bank needs consent for every category the cases draw on
    bank = login(client, "a-rm")
    assert client.get(path, headers=bank).status_code == 403


def test_an_over_billed_invoice_is_a_mismatch_with_a_readable_reason(
    client: TestClient, world: World
) -> None:
    s1 = {**login(client, "s1"), "content-type": "application/json"}
    r = client.post("/v1/documents/batch", content=json.dumps(_chain(world, "12")), headers=s1)
    assert r.status_code == 201, r.text
    path = f"/v1/enterprises/{world.ids['s1']}/trade-cases"
    (case,) = client.get(path, headers=s1).json()["items"]
    assert case["status"] == "mismatched"
    messages = " | ".join(d["message"] for d in case["differences"])
    assert "INV-T" in messages
    assert "12" in messages


def test_findings_flag_an_invoice_dated_before_its_delivery(
    client: TestClient, world: World
) -> None:
    docs = _chain(world)
    docs[3] = {**docs[3], "issue_date": "2026-02-20"}  # invoiced before delivery on 03-03
    s1 = {**login(client, "s1"), "content-type": "application/json"}
    assert (
        client.post("/v1/documents/batch", content=json.dumps(docs), headers=s1).status_code == 201
    )
    path = f"/v1/enterprises/{world.ids['s1']}/findings"
    found = client.get(path, headers=s1).json()["items"]
    # the test world gives every firm the same legal representative, address and phone
    by_kind = {f["kind"]: f for f in found}
    assert sorted(by_kind) == ["invoice_before_delivery", "related_party"]
    assert "share a legal representative" in by_kind["related_party"]["reason"]
    assert "王小明" not in by_kind["related_party"]["reason"]  # the value itself is never shown
    assert "INV-T" in by_kind["invoice_before_delivery"]["reason"]
    # one at a time, in id order, each once; and by kind
    first = client.get(path, params={"limit": 1}, headers=s1).json()
    second = client.get(path, params={"limit": 1, "cursor": first["next_cursor"]}, headers=s1)
    assert [f["id"] for f in first["items"] + second.json()["items"]] == [f["id"] for f in found]
    assert second.json()["next_cursor"] is None
    only = client.get(path, params={"kind": "related_party"}, headers=s1).json()["items"]
    assert [f["id"] for f in only] == [by_kind["related_party"]["id"]]
    assert (
        client.get(
            f"/v1/enterprises/{world.ids['s1']}/findings", headers=login(client, "a-rm")
        ).status_code
        == 403
    )


def test_the_buyer_confirms_a_receipt_or_invoice(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = {**login(client, "s1"), "content-type": "application/json"}
    rows = client.post("/v1/documents/batch", content=json.dumps(_chain(world)), headers=s1).json()
    ids = {r["key"].split("/")[-1]: r["document_id"] for r in rows["rows"]}
    buyer = login(client, "coreA")
    assert (
        client.post(
            f"/v1/documents/{ids['INV-T']}/confirm", headers=login(client, "s1")
        ).status_code
        == 403
    )
    first = client.post(f"/v1/documents/{ids['INV-T']}/confirm", headers=buyer)
    assert first.status_code == 200, first.text
    assert first.json()["receipt"]["entries"][0]["event_type"] == "document.invoice.confirmed"
    again = client.post(f"/v1/documents/{ids['INV-T']}/confirm", headers=buyer).json()
    assert again["confirmed_at"] == first.json()["confirmed_at"]
    assert again["receipt"] is None  # nothing new recorded
    order = client.post(f"/v1/documents/{ids['PO-T']}/confirm", headers=buyer)
    assert order.status_code == 422
    assert (
        client.post(
            f"/v1/documents/{ids['INV-T']}/confirm", headers=login(client, "coreB")
        ).status_code
        == 404
    )
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok
