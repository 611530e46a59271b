"""The lending lifecycle through the services: apply, decide, review, approve."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CreditLine, Loan
from chainfin.domain.money import Money
from chainfin.services.lending import applications
from lending_world import CORE_PAYEE, PAYEE, TODAY, build_lending


def _apply(s: Session, world, who: str, product: str, kind: str, ref: str, amount: str, **kw):
    return applications.submit(
        s,
        world.ent(who),
        bank="BKA",
        product=product,
        amount=Money.parse(amount),
        tenor_months=kw.pop("tenor", 3),
        method=kw.pop("method", "bullet"),
        underlying_kind=kind,
        underlying_ref=ref,
        payee=kw.pop("payee", PAYEE),
        on=TODAY,
        **kw,
    )


def test_clean_receivable_application_is_approved_at_once(
    session_factory: sessionmaker[Session],
) -> None:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        app = _apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        assert app.status == "approved", app.decision
        line = s.get(CreditLine, world.line_id)
        assert line is not None
        assert line.pending_minor == 400_000_00
        loan = s.query(Loan).filter_by(application_id=app.id).one()
        assert loan.status == "approved"


def test_new_customer_is_referred_with_a_site_visit(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        app = _apply(
            s,
            world,
            "t2",
            "inventory_pledge",
            "warehouse_receipt",
            world.docs["WR-1"],
            "1000000.00",
        )
        assert app.status == "referred", app.decision
        codes = [r["code"] for r in app.decision["reasons"]]
        assert "new_customer" in codes
        assert "site_visit" in app.decision["tasks"]


def test_dealer_order_pays_the_core(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        app = _apply(
            s,
            world,
            "x",
            "dealer_financing",
            "dealer_order",
            world.docs["DO-1"],
            "400000.00",
            payee=CORE_PAYEE,
        )
        assert app.status == "approved", app.decision


def test_receivable_loan_runs_to_settlement_through_the_books(
    session_factory: sessionmaker[Session],
) -> None:
    from datetime import date, timedelta

    from chainfin.services import books
    from chainfin.services.lending import loans

    world = build_lending(session_factory)
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        app = _apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        file = loans.disburse(
            s,
            rm,
            debtor_name="bank A",
            debtor_account="110000000000000001",
            debtor_agent="102100099996",
            execution_on=TODAY + timedelta(days=5),
        )
        assert file.count == 1
        loan = s.query(Loan).filter_by(application_id=app.id).one()
        assert loan.status == "disbursed"
        assert len(loan.schedule) == 3
    with transaction(session_factory) as s:
        loans.accrue(s, rm, TODAY + timedelta(days=50))
        loan = s.get(Loan, loan.id)
        total = Money(sum(r["principal_minor"] + r["interest_minor"] for r in loan.schedule))
        for row in loan.schedule:
            due = date.fromisoformat(row["due_on"])
            loans.repay(
                s,
                rm,
                loan.id,
                amount=Money(row["principal_minor"] + row["interest_minor"]),
                value_on=due,
            )
        loan = s.get(Loan, loan.id)
        assert loan.status == "settled"
        assert loan.interest_paid_minor + loan.principal_paid_minor == total.amount_minor
        line = s.get(CreditLine, world.line_id)
        assert line.pending_minor + line.posted_minor == 0
        tb = books.trial_balance(s, rm, None)
        balances = {r.account.code: r.debit_minor - r.credit_minor for r in tb.rows}
        assert balances.get("1303", 0) == 0
        assert balances.get("1132", 0) == 0
