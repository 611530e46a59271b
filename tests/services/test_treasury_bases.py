"""The reads the treasury desk adds to the credential services: the bases a core may still
confirm a payable on (payables.free_documents, free_trade_cases) and the holders it names
down the tiers (pieces.holder_names)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import Forbidden
from chainfin.domain.money import Money
from chainfin.services import credentials, documents
from chainfin.services.credentials.payables import free_documents, free_trade_cases
from chainfin.services.credentials.pieces import holder_names
from credit_world import CreditWorld, build, uscc


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> CreditWorld:
    return build(session_factory)


def _invoice(number: str, serial: int, **extra: str) -> dict[str, object]:
    return {
        "kind": "invoice",
        "number": number,
        "seller_uscc": uscc(4),
        "buyer_uscc": uscc(3),
        "issue_date": "2026-11-20",
        "currency": "CNY",
        "total": "1130.00",
        "tax": "130.00",
        "invoice_number": f"2632000000000000{serial:04d}",
        "due_date": "2027-02-20",
        **extra,
    }


def test_free_documents_are_confirmed_and_back_no_confirmation(
    session_factory: sessionmaker[Session], world: CreditWorld
) -> None:
    core = world.ent("core")
    rows = [_invoice("INV-F-1", 7001), _invoice("INV-F-2", 7002)]
    with transaction(session_factory) as s:
        report = documents.ingest(s, world.ent("t1"), documents.parse_rows(rows))
        confirmed = str(report.rows[0].document_id)
        documents.confirm(s, core, confirmed)
    with session_factory() as s:
        free = [d.number for d in free_documents(s, core)]
        # INV-C-1 is confirmed but already backs the world's confirmation
        assert free == ["INV-F-1"]
        assert free_documents(s, world.ent("t1")) == []  # t1 is the seller, not the buyer
    with pytest.raises(Forbidden), session_factory() as s:
        free_documents(s, world.staff("BKA"))


def test_a_matched_trade_case_is_free_until_its_invoice_backs_a_confirmation(
    session_factory: sessionmaker[Session], world: CreditWorld
) -> None:
    line = {"item": "电芯", "quantity": "10", "unit": "件", "unit_price": "100.00"}
    lines = json.dumps([{**line, "amount": "1000.00"}])
    base = _invoice("", 0) | {"lines": lines, "total": "1130.00"}
    del base["invoice_number"], base["due_date"]
    chain = [
        base | {"kind": "purchase_order", "number": "PO-M", "issue_date": "2026-11-01"},
        base | {"kind": "delivery_note", "number": "DN-M", "order_number": "PO-M"},
        base
        | {
            "kind": "goods_receipt",
            "number": "GR-M",
            "order_number": "PO-M",
            "delivery_number": "DN-M",
        },
        _invoice("INV-M", 7003, order_number="PO-M", delivery_number="DN-M") | {"lines": lines},
        {k: v for k, v in base.items() if k != "lines"}
        | {"kind": "payment", "number": "PAY-M", "invoice_number": "26320000000000007003"},
    ]
    with transaction(session_factory) as s:
        documents.ingest(s, world.ent("t1"), documents.parse_rows(chain))
    core = world.ent("core")
    with session_factory() as s:
        (case,) = free_trade_cases(s, core)
        assert case.creditor_id == world.ids["t1"]
        assert [d.number for d in case.invoices] == ["INV-M"]
        assert case.total_minor == 1130_00
    with transaction(session_factory) as s:
        credentials.confirm(
            s,
            core,
            supplier=uscc(4),
            amount=Money(1130_00),
            due_on=case.invoices[0].issue_date,
            trade_case_key=case.case_key,
        )
    with session_factory() as s:
        assert free_trade_cases(s, core) == []


def test_the_issuer_names_every_holder_a_holder_only_its_branch(
    session_factory: sessionmaker[Session], world: CreditWorld
) -> None:
    core, t1, t2 = world.ent("core"), world.ent("t1"), world.ent("t2")
    with transaction(session_factory) as s:
        issued = credentials.issue(
            s,
            core,
            programme_id=world.programme_id,
            confirmation_ids=[world.confirmation_id],
            amount=Money(300_000_00),
            maturity_on=date(2027, 2, 20),
        )
        (root,) = credentials.tree(s, SYSTEM, issued.id)
        credentials.accept(s, t1, root.id)
        moved = credentials.transfer(s, t1, root.id, to=uscc(5), amount=Money(100_000_00))
        credentials.accept(s, t2, moved.offered.id)
    with session_factory() as s:
        assert set(holder_names(s, core, issued.id)) == {world.ids["t1"], world.ids["t2"]}
        assert set(holder_names(s, t2, issued.id)) == {world.ids["t2"]}
