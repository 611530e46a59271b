"""Payable credentials from the client's side: confirm, issue, pass down, finance, settle,
read the books; with tenancy, idempotency and precise errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.services import rates


@pytest.fixture
def story(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> dict[str, Any]:
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    s1, core = login(client, "s1"), login(client, "coreA")
    invoice = {
        "kind": "invoice",
        "number": "INV-CR-1",
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": "2026-11-20",
        "currency": "CNY",
        "total": "500000.00",
        "tax": "57522.12",
        "invoice_number": "26320000000000000777",
        "due_date": "2027-02-20",
    }
    r = client.post("/v1/documents", json=invoice, headers=s1)
    assert r.status_code == 201, r.text
    doc = r.json()["rows"][0]["document_id"]
    assert client.post(f"/v1/documents/{doc}/confirm", headers=core).status_code in (200, 201)
    r = client.post(
        "/v1/credentials/confirmations",
        json={
            "supplier": world.usccs["s1"],
            "amount": "500000.00",
            "due_on": "2027-02-20",
            "document_ids": [doc],
        },
        headers=core,
    )
    assert r.status_code == 201, r.text
    confirmation = r.json()
    assert confirmation["receipt"] is not None  # on the ledger
    r = client.post(
        "/v1/credentials/programmes",
        json={
            "core": world.usccs["core A"],
            "name": "core A payables",
            "line": "2000000.00",
            "rating": "AA+",
            "min_piece": "1000.00",
        },
        headers=login(client, "a-rm"),
    )
    assert r.status_code == 201, r.text
    return {"confirmation": confirmation["id"], "programme": r.json()["id"]}


def test_issue_pass_down_finance_settle_through_the_api(
    client: TestClient, world: World, story: dict[str, Any]
) -> None:
    core, s1, s2 = login(client, "coreA"), login(client, "s1"), login(client, "s2-staff")
    r = client.post(
        "/v1/credentials",
        json={
            "programme_id": story["programme"],
            "confirmation_ids": [story["confirmation"]],
            "amount": "300000.00",
            "maturity_on": "2027-05-22",  # a Saturday: paid the next working day
            "issued_on": "2026-11-26",
        },
        headers=core,
    )
    assert r.status_code == 201, r.text
    credential = r.json()
    assert credential["maturity_on"] == "2027-05-22"
    assert credential["payment_on"] == "2027-05-24"
    assert credential["payment_provisional"] is True
    root = credential["pieces"][0]["id"]
    assert client.post(f"/v1/credentials/pieces/{root}/accept", headers=s1).status_code == 200
    r = client.post(
        f"/v1/credentials/pieces/{root}/transfer",
        json={"to": world.usccs["s2"], "amount": "120000.00"},
        headers=s1,
    )
    assert r.status_code == 201, r.text
    offered = r.json()["offered"]
    assert (offered["tier"], offered["amount"], offered["currency"]) == (2, "120000.00", "CNY")
    assert r.json()["kept"]["amount"] == "180000.00"
    r = client.post(f"/v1/credentials/pieces/{offered['id']}/accept", headers=s2)
    assert r.status_code == 200, r.text
    # the holder sees its branch; the issuer the whole tree; another bank nothing
    mine = client.get(f"/v1/credentials/{credential['id']}/tree", headers=s2).json()["pieces"]
    assert [p["id"] for p in mine] == [offered["id"]]
    whole = client.get(f"/v1/credentials/{credential['id']}/tree", headers=core).json()["pieces"]
    assert len(whole) == 3
    other = client.get(f"/v1/credentials/{credential['id']}", headers=login(client, "b-rm"))
    assert other.status_code == 404
    r = client.post(
        f"/v1/credentials/pieces/{offered['id']}/quote",
        json={"bank": "BKA", "as_of": "2026-11-26"},
        headers=s2,
    )
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["fixing"]["fixed_on"] == "2026-08-20"
    assert q["warnings"]
    assert q["discount_rate_pct"] == "3.65"  # LPR 3.00 + AA+ 65 bp (179 days)
    assert (Decimal(q["base_rate_pct"]), q["spread_bp"]) == (Decimal("3.00"), 65)
    assert q["base_rate_pct"] == q["fixing"]["rate_1y_pct"]
    assert [f["code"] for f in q["fees"]] == ["platform_service", "handling", "registry_filing"]
    headers = {**s2, "Idempotency-Key": "fin-1"}
    first = client.post(f"/v1/credentials/quotes/{q['id']}/finance", headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(f"/v1/credentials/quotes/{q['id']}/finance", headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    due = client.get(f"/v1/credentials/{credential['id']}/due?on=2027-05-24", headers=core)
    assert (due.json()["total"], due.json()["currency"]) == ("300000.00", "CNY")
    late = client.get(f"/v1/credentials/{credential['id']}/due?on=2027-06-23", headers=core)
    # 30 days late: 1.5 x LPR 3.00% = 4.50% on 300,000.00 for 30/360 -> 1,125.00
    assert late.json()["penalty"] == "1125.00"
    early = client.post(
        f"/v1/credentials/{credential['id']}/settle",
        json={"amount": "100000.00", "payment_ref": "EARLY", "paid_on": "2027-01-04"},
        headers=core,
    )
    assert early.status_code == 422
    assert "in full" in early.json()["errors"][0]["reason"]
    r = client.post(
        f"/v1/credentials/{credential['id']}/settle",
        json={"amount": "300000.00", "payment_ref": "CORE-PAY-1", "paid_on": "2027-05-24"},
        headers=core,
    )
    assert r.status_code == 201, r.text
    paid = {a["holder_id"]: a["principal"] for a in r.json()["allocations"]}
    assert sorted(paid.values()) == ["120000.00", "180000.00"]
    auditor = login(client, "a-auditor")
    tb = client.get("/v1/books/BKA/trial-balance", headers=auditor).json()
    assert tb["balanced"] is True
    income = {row["account"]: row["credit"] for row in tb["rows"]}
    assert {"6011", "6021"} <= set(income)
    stmt = client.get("/v1/books/BKA/accounts/1001/statement", headers=auditor).json()
    assert [ln["kind"] for ln in stmt["lines"]] == ["discount", "repayment"]
    later = client.get(
        "/v1/books/BKA/accounts/1001/statement?since=2027-01-01", headers=auditor
    ).json()
    assert later["opening"] == stmt["lines"][0]["balance"]
    assert [ln["kind"] for ln in later["lines"]] == ["repayment"]
    assert later["lines"][-1]["balance"] == stmt["lines"][-1]["balance"]
    usd = client.get("/v1/books/BKA/accounts/1001/statement?currency=USD", headers=auditor)
    assert usd.json()["lines"] == []
    # another bank's books are another tenant's records: not disclosed
    assert client.get("/v1/books/BKB/trial-balance", headers=auditor).status_code == 404


def test_errors_name_the_field(client: TestClient, world: World, story: dict[str, Any]) -> None:
    core = login(client, "coreA")
    r = client.post(
        "/v1/credentials",
        json={
            "programme_id": story["programme"],
            "confirmation_ids": [story["confirmation"]],
            "amount": "300000.00",
            "maturity_on": "2027-11-26",
            "issued_on": "2026-11-26",
        },
        headers=core,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "maturity_on"
    assert "tenor cap" in r.json()["errors"][0]["reason"]
    r = client.post(
        "/v1/credentials/programmes",
        json={"core": world.usccs["s1"], "name": "x", "line": "1.00", "rating": "ZZZ"},
        headers=login(client, "a-rm"),
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"core", "rating"}
    lpr = client.get("/v1/rates/lpr?on=2024-02-21", headers=core).json()
    assert lpr["in_force"] == {
        "fixed_on": "2024-02-20",
        "rate_1y_pct": "3.45",
        "rate_5y_pct": "3.95",
    }


def test_a_journal_is_undone_by_its_reversal_never_edited(
    client: TestClient, world: World, story: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    core, s1 = login(client, "coreA"), login(client, "s1")
    r = client.post(
        "/v1/credentials",
        json={
            "programme_id": story["programme"],
            "confirmation_ids": [story["confirmation"]],
            "amount": "100000.00",
            "maturity_on": "2027-03-01",
            "issued_on": "2026-11-26",
        },
        headers=core,
    )
    root = r.json()["pieces"][0]["id"]
    client.post(f"/v1/credentials/pieces/{root}/accept", headers=s1)
    q = client.post(
        f"/v1/credentials/pieces/{root}/quote",
        json={"bank": "BKA", "as_of": "2026-11-26"},
        headers=s1,
    ).json()
    client.post(f"/v1/credentials/quotes/{q['id']}/finance", headers=s1)
    from sqlalchemy import select

    from chainfin.adapters.db.models import Journal

    with transaction(session_factory) as s:
        journal_id = s.scalars(select(Journal.id).where(Journal.kind == "discount")).one()
    rm = login(client, "a-rm")
    r = client.post(
        f"/v1/books/journals/{journal_id}/reverse", json={"reason": "booked twice"}, headers=rm
    )
    assert r.status_code == 201, r.text
    assert r.json()["reverses_id"] == journal_id
    tb = client.get("/v1/books/BKA/trial-balance", headers=rm).json()
    assert tb["balanced"] is True
    assert tb["rows"] == []  # the discount and its reversal cancel out
    again = client.post(
        f"/v1/books/journals/{journal_id}/reverse", json={"reason": "booked twice"}, headers=rm
    )
    assert again.json()["id"] == r.json()["id"]
    other = client.post(
        f"/v1/books/journals/{journal_id}/reverse",
        json={"reason": "not mine"},
        headers=login(client, "b-rm"),
    )
    assert other.status_code == 404


def test_a_payment_ref_replays_the_same_payment_and_refuses_another(
    client: TestClient, story: dict[str, Any]
) -> None:
    core = login(client, "coreA")
    r = client.post(
        "/v1/credentials",
        json={
            "programme_id": story["programme"],
            "confirmation_ids": [story["confirmation"]],
            "amount": "300000.00",
            "maturity_on": "2027-05-24",
            "issued_on": "2026-11-26",
        },
        headers=core,
    )
    assert r.status_code == 201, r.text
    credential = r.json()
    root = credential["pieces"][0]["id"]
    accepted = client.post(f"/v1/credentials/pieces/{root}/accept", headers=login(client, "s1"))
    assert accepted.status_code == 200, accepted.text
    path = f"/v1/credentials/{credential['id']}/settle"
    pay = {"amount": "300000.00", "payment_ref": "CORE-PAY-9", "paid_on": "2027-05-24"}
    first = client.post(path, json=pay, headers=core)
    assert first.status_code == 201, first.text
    again = client.post(path, json=pay, headers=core)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert (first.json()["receipt"] is None, again.json()["receipt"]) == (False, None)
    other = client.post(path, json={**pay, "amount": "299000.00"}, headers=core)
    assert other.status_code == 409, other.text
    problem = other.json()
    assert problem["code"] == "exists_with_different_request"
    assert "amount was 300000.00 CNY, now 299000.00 CNY" in problem["detail"]
    moved = client.post(path, json={**pay, "paid_on": "2027-05-25"}, headers=core)
    assert moved.status_code == 409
    assert "paid_on was 2027-05-24, now 2027-05-25" in moved.json()["detail"]
