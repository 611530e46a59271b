"""The dealer's own prepayment financing in the portal world (tests/web/test_dealer.py),
built through the services as tests/services/test_lending_servicing.py builds its dealer
loan, on orders of its own (so no other journey's underlying is touched):

- The core enterprise's order ``DO-DLR-1`` to the dealer x: 40 sets of battery packs at
  ¥15,000.00 (¥600,000.00); bank A prices a set at ¥16,000.00.
- x applies for ¥400,000.00 of dealer financing against it (approved at once); bank A pays
  it out today, and x repays ¥100,000.00 early twice. Bank A releases goods worth
  ¥150,000.00 (10 sets) against the first repayment and ¥75,000.00 (5 sets) against the
  second, which entitled x to ¥150,000.00: ¥75,000.00 waits to be released, and 25 sets
  (¥375,000.00 at order prices, ¥400,000.00 at today's) stay pledged for ¥200,000.00.
- x's second application, ¥450,000.00 against ``DO-DLR-2`` (¥500,000.00), is above the
  product's advance rate (80%) and declined.
- An overdue loan: ``DO-DLR-3`` (20 sets, ¥300,000.00), financed ¥200,000.00 over three
  months on a day 150 days before the world's (the clock moved back to apply and pay it
  out, under a consent x granted bank A then); nothing was repaid, so bank A's daily scan
  on the world's day finds it about 120 days past due, substandard, with the core's
  buy-back guarantee callable (60 days).

Ids in ``world.extra["dealer"]``."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from portal_world import PortalWorld
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Loan, LoanApplication, TradeDocumentRow
from chainfin.domain import clock
from chainfin.domain.access import Principal
from chainfin.domain.clock import at_local
from chainfin.domain.money import Money
from chainfin.services import consent, documents
from chainfin.services.lending import applications, loans
from chainfin.services.lending.underlying import set_price
from credit_world import uscc
from lending_world import CORE_PAYEE, TODAY, LendingWorld

ITEM = "动力电池包"
ORDER = "DO-DLR-1"
DECLINED_ORDER = "DO-DLR-2"
OVERDUE_ORDER = "DO-DLR-3"
OVERDUE_PRINCIPAL = "200000.00"
OVERDUE_SINCE = TODAY - timedelta(days=150)  # paid out then: every instalment is late
PRINCIPAL = "400000.00"
DECLINED_AMOUNT = "450000.00"
PREPAID = "100000.00"  # each of two early repayments
RELEASES = ("150000.00", "75000.00")
PRICE = "16000.00"  # a set, bank A's price today
BANK_ACCOUNT = {
    "debtor_name": "星湖银行",
    "debtor_account": "110000000000000001",
    "debtor_agent": "102100099996",
}


def _order(number: str, sets: int, unit_price: str, on: date = TODAY) -> dict[str, object]:
    total = f"{sets * int(unit_price.split('.')[0])}.00"
    line = {"item": ITEM, "quantity": str(sets), "unit": "套", "unit_price": unit_price}
    return {
        "kind": "purchase_order",
        "number": number,
        "order_number": number,
        "seller_uscc": uscc(3),  # the core
        "buyer_uscc": uscc(7),  # the dealer x
        "issue_date": (on - timedelta(days=3)).isoformat(),
        "currency": "CNY",
        "total": total,
        "lines": json.dumps([{**line, "amount": total}]),
    }


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    ids = build_dealer_loans(factory, world.lending, world.user("dealer"))
    ids["overdue"] = build_overdue_loan(factory, world.lending, world.user("dealer"))
    world.extra["dealer"] = ids


def build_overdue_loan(
    factory: sessionmaker[Session], lending: LendingWorld, dealer: Principal
) -> dict[str, str]:
    """The overdue loan: applied for and paid out on :data:`OVERDUE_SINCE` (an applicant
    cannot backdate, so the clock goes back), then bank A's scan on the world's day."""
    rm = lending.staff("rm")
    with clock.using(clock.FixedClock(at_local(OVERDUE_SINCE, 10))):
        with transaction(factory) as s:
            consent.grant(  # x's consent in force then (the world's own starts today)
                s,
                lending.ent("x"),
                bank_code="BKA",
                categories=["trade_documents", "invoices", "logistics"],
                purposes=["credit_assessment"],
                expires_at=clock.utcnow() + timedelta(days=30),
            )
            parsed = documents.parse_rows([_order(OVERDUE_ORDER, 20, "15000.00", OVERDUE_SINCE)])
            documents.ingest(s, lending.ent("core"), parsed)
            doc_id = s.scalars(
                select(TradeDocumentRow.id).where(TradeDocumentRow.number == OVERDUE_ORDER)
            ).one()
            set_price(
                s,
                lending.admin(),
                item=ITEM,
                on=OVERDUE_SINCE - timedelta(days=1),
                price=Money.parse("15000.00"),
                unit="套",
                source="core price list",
            )
        with transaction(factory) as s:
            app = _apply(s, dealer, doc_id, OVERDUE_PRINCIPAL, on=OVERDUE_SINCE)
            assert app.status == "approved", app.decision
            loan = s.scalars(select(Loan).where(Loan.application_id == app.id)).one()
            loans.disburse(s, rm, execution_on=OVERDUE_SINCE, loan_ids=[loan.id], **BANK_ACCOUNT)
    with transaction(factory) as s:
        loans.scan(s, rm, TODAY)
        scanned = s.get_one(Loan, loan.id)
        assert scanned.status == "overdue", scanned.status
        assert scanned.category == "substandard", (scanned.category, scanned.dpd)
    return {"loan_id": loan.id, "reference": loan.reference, "application_id": app.id}


def build_dealer_loans(
    factory: sessionmaker[Session], lending: LendingWorld, dealer: Principal
) -> dict[str, Any]:
    """The orders, the price, both applications, the loan, its repayments and releases
    (``dealer`` acts for x); their ids."""
    rm = lending.staff("rm")
    with transaction(factory) as s:
        parsed = documents.parse_rows(
            [_order(ORDER, 40, "15000.00"), _order(DECLINED_ORDER, 50, "10000.00")]
        )
        documents.ingest(s, lending.ent("core"), parsed)
        doc_ids = {
            number: s.scalars(
                select(TradeDocumentRow.id).where(TradeDocumentRow.number == number)
            ).one()
            for number in (ORDER, DECLINED_ORDER)
        }
        set_price(
            s,
            lending.admin(),
            item=ITEM,
            on=TODAY - timedelta(days=1),
            price=Money.parse(PRICE),
            unit="套",
            source="core price list",
        )
    with transaction(factory) as s:
        approved = _apply(s, dealer, doc_ids[ORDER], PRINCIPAL)
        assert approved.status == "approved", approved.decision
        declined = _apply(s, dealer, doc_ids[DECLINED_ORDER], DECLINED_AMOUNT)
        assert declined.status == "declined", declined.decision
        loan = s.scalars(select(Loan).where(Loan.application_id == approved.id)).one()
        loans.disburse(s, rm, execution_on=TODAY, loan_ids=[loan.id], **BANK_ACCOUNT)
        first = loans.prepay(s, rm, loan.id, principal=Money.parse(PREPAID), on=TODAY)
        loans.release_goods(s, rm, loan.id, value=Money.parse(RELEASES[0]), note="第一批 10套")
        second = loans.prepay(s, rm, loan.id, principal=Money.parse(PREPAID), on=TODAY)
        loans.release_goods(s, rm, loan.id, value=Money.parse(RELEASES[1]), note="第二批 5套")
    return {
        "loan_id": loan.id,
        "application_id": approved.id,
        "declined_id": declined.id,
        "repayment_ids": [first.id, second.id],
        "reference": loan.reference,
    }


def _apply(
    s: Session, dealer: Principal, doc_id: str, amount: str, on: date = TODAY
) -> LoanApplication:
    return applications.submit(
        s,
        dealer,
        bank="BKA",
        product="dealer_financing",
        amount=Money.parse(amount),
        tenor_months=3,
        method="equal_principal",
        underlying_kind="dealer_order",
        underlying_ref=doc_id,
        payee=CORE_PAYEE,
        on=on,
    )
