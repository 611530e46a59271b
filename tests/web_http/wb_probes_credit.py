"""The credit desk's routes in the pages' tenancy matrix (test_page_tenancy.py): a referred
application of t1 at bank A for ¥1,765,432.10 (its amount is the mark), tried by other
firms and by bank B's all-role staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.money import Money
from chainfin.services import documents
from chainfin.services.lending import applications
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld

AMOUNT = "1765432.10"
MARKS = ("1,765,432.10", "1765432.10")
PROBES: dict[tuple[str, str], Any] = {
    ("GET", "/credit/applications/{application_id}"): lambda v: (
        {"application_id": v.ids["wb_credit_application"]},
        {},
    ),
    ("POST", "/credit/applications/{application_id}/review"): lambda v: (
        {"application_id": v.ids["wb_credit_application"]},
        {"decision": "approve", "note": "ok"},
    ),
}


def extend(factory: sessionmaker[Session], world: LendingWorld, ids: dict[str, str]) -> None:
    with transaction(factory) as s:
        row = {
            "kind": "invoice", "number": "WB-CR-PROBE-1", "seller_uscc": uscc(4),
            "buyer_uscc": uscc(3), "issue_date": TODAY.isoformat(), "currency": "CNY",
            "total": "2000000.00", "tax": "0.00", "invoice_number": "26321900000000009101",
            "due_date": "2027-05-20",
        }  # fmt: skip
        report = documents.ingest(s, world.ent("t1"), documents.parse_rows([row]))
        doc_id = str(report.rows[0].document_id)
        documents.confirm(s, world.ent("core"), doc_id)
    with transaction(factory) as s:
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse(AMOUNT), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=doc_id, payee=PAYEE,
        )  # fmt: skip
        ids["wb_credit_application"] = app.id
