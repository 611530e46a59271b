"""Lending through the services, rule by rule: people in the loop, limits, servicing and
the books."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    Alert,
    CreditLine,
    DueDiligenceTask,
    JournalLine,
    LineReservation,
    Loan,
    LoanApplication,
    ReceivableRegistration,
)
from chainfin.domain import clock
from chainfin.domain.errors import Conflict, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.pricing import penalty_interest
from chainfin.services import books, documents, ledger, ledger_verify
from chainfin.services.lending import applications, lines, loans, products, tasks
from chainfin.services.lending.applications import ApprovalRefused
from chainfin.services.lending.underlying import set_price
from credit_world import uscc
from lending_world import CORE_PAYEE, PAYEE, TODAY, LendingWorld, build_lending

BANK_ACCOUNT = {
    "debtor_name": "bank A",
    "debtor_account": "110000000000000001",
    "debtor_agent": "102100099996",
}
START = TODAY + timedelta(days=5)


ORIGIN = "chainfin.test/ledger"


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Iterator[LendingWorld]:
    """The lending world; after each test the log must still agree with the database."""
    yield build_lending(session_factory)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert report.ok, report.findings[:5]


def apply(
    s: Session,
    world: LendingWorld,
    who: str,
    product: str,
    kind: str,
    ref: str,
    amount: str,
    **kw: Any,
) -> LoanApplication:
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


def invoice_loan(s: Session, world: LendingWorld, amount: str = "400000.00", **kw: Any) -> Loan:
    app = apply(
        s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], amount, **kw
    )
    assert app.status == "approved", app.decision
    loans.disburse(s, world.staff("rm"), execution_on=START, **BANK_ACCOUNT)
    return s.scalars(select(Loan).where(Loan.application_id == app.id)).one()


def balances(s: Session, world: LendingWorld) -> dict[str, int]:
    tb = books.trial_balance(s, world.staff("rm"), None)
    assert sum(r.debit_minor for r in tb.rows) == sum(r.credit_minor for r in tb.rows)
    return {r.account.code: r.debit_minor - r.credit_minor for r in tb.rows}


def site_visit() -> dict[str, Any]:
    return {
        "premises_verified": True,
        "production_running": True,
        "inventory_on_hand": "1800000.00",
        "findings": "20 t of copper foil on hand in bay 3, matching WR-1",
        "gps": {"lat": 31.2989, "lon": 120.5853},
        "visited_at": datetime(2026, 11, 25, 9, 30, tzinfo=UTC).isoformat(),
        "attachments": [{"name": "bay3.jpg", "sha256": "a" * 64}],
    }


# ---------------------------------------------------------------------------- people


def referred_inventory(
    s: Session, world: LendingWorld, amount: str = "1100000.00"
) -> LoanApplication:
    app = apply(s, world, "t2", "inventory_pledge", "warehouse_receipt", world.docs["WR-1"], amount)
    assert app.status == "referred", app.decision
    return app


def test_maker_checker_with_authority_and_due_diligence(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm, ck1, ck3 = world.staff("rm"), world.staff("ck1"), world.staff("ck3")
    with transaction(session_factory) as s:
        app = referred_inventory(s, world)
        assert [r["code"] for r in app.decision["reasons"]][-2:] == [
            "new_customer",
            "above_auto_limit",
        ]
        app_id = app.id
        applications.review(
            s,
            rm,
            app_id,
            action="approve",
            note="stock seen, good chain",
            conditions=["pledge registered at 中登网"],
        )
    with transaction(session_factory) as s, pytest.raises(ApprovalRefused, match="another person"):
        applications.review(s, rm, app_id, action="approve", note="me again")
    with (
        transaction(session_factory) as s,
        pytest.raises(ApprovalRefused, match="authority level 2"),
    ):
        applications.review(s, ck1, app_id, action="approve", note="fine")
    with transaction(session_factory) as s, pytest.raises(ApprovalRefused, match="site_visit"):
        applications.review(s, ck3, app_id, action="approve", note="fine")
    with transaction(session_factory) as s:
        (task,) = tasks.tasks(s, rm, state="open").items
        assert task.kind == "site_visit"
        assert task.reasons == ["new_customer"]
        bad = site_visit() | {"gps": {"lat": 95, "lon": 0}}
        with pytest.raises(Exception, match=r"gps\.lat"):
            tasks.complete_site_visit(s, rm, task.id, bad)
    with transaction(session_factory) as s:
        tasks.complete_site_visit(s, rm, task.id, site_visit())
        app = applications.review(
            s,
            ck3,
            app_id,
            action="approve",
            note="approved with the condition",
            conditions=["insurance on the stock"],
        )
        assert app.status == "approved"
        assert [c["text"] for c in app.conditions] == [
            "pledge registered at 中登网",
            "insurance on the stock",
        ]
        steps = applications.approvals_of(s, app.id)
        assert [(a.step, a.action, a.level) for a in steps] == [
            ("maker", "approve", None),
            ("checker", "approve", 3),
        ]
        loan = applications.loan_of(s, app.id)
        assert loan is not None
    # the money does not move until every condition is met
    with transaction(session_factory) as s, pytest.raises(Exception, match="conditions not met"):
        loans.disburse(s, rm, execution_on=START, loan_ids=[loan.id], **BANK_ACCOUNT)
    with transaction(session_factory) as s:
        applications.meet_condition(s, rm, app_id, 1, note="filing 0001")
        applications.meet_condition(s, rm, app_id, 2, note="policy 77")
        file = loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        assert file.count == 1


def test_a_decline_at_the_maker_step_ends_the_application(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        app = referred_inventory(s, world)
        applications.review(s, world.staff("rm"), app.id, action="decline", note="stock not seen")
        assert app.status == "declined"
        assert s.scalar(select(DueDiligenceTask.state)) == "cancelled"
        assert s.get(CreditLine, world.line_id).pending_minor == 0


def test_financial_analysis_cross_checks_revenue(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm, admin = world.staff("rm"), world.admin()
    with transaction(session_factory) as s:
        config = {"kind": "inventory_pledge", "financial_analysis_above": "1000000.00"}
        products.define(s, admin, code="inv-strict", name="strict", config=config)
        sale = {
            "kind": "invoice",
            "number": "INV-T2-9",
            "seller_uscc": uscc(5),
            "buyer_uscc": uscc(4),
            "issue_date": "2026-06-01",
            "currency": "CNY",
            "total": "3000000.00",
            "tax": "0.00",
            "invoice_number": "26320000000000000009",
        }
        documents.ingest(s, world.ent("t2"), documents.parse_rows([sale]))
        app = apply(
            s, world, "t2", "inv-strict", "warehouse_receipt", world.docs["WR-1"], "1100000.00"
        )
        assert app.decision["tasks"] == ["site_visit", "financial_analysis"]
        task = s.scalars(
            select(DueDiligenceTask).where(DueDiligenceTask.kind == "financial_analysis")
        ).one()
        with pytest.raises(ValidationFailed, match="period_start: is required"):
            tasks.complete_financial_analysis(s, rm, task.id, "item,amount\nas_of,2026-10-31\n")
    statements = "\n".join(
        [
            "item,amount",
            "as_of,2026-10-31",
            "period_start,2026-01-01",
            "period_end,2026-10-31",
            "cash,300000.00",
            "receivables,900000.00",
            "inventory,1800000.00",
            "current_assets,3000000.00",
            "total_assets,5000000.00",
            "payables,700000.00",
            "current_liabilities,1500000.00",
            "total_liabilities,2500000.00",
            "equity,2500000.00",
            "revenue,2000000.00",
            "cost_of_sales,1500000.00",
            "operating_profit,300000.00",
            "interest_expense,60000.00",
            "net_profit,200000.00",
        ]
    )
    with transaction(session_factory) as s:
        done = tasks.complete_financial_analysis(s, rm, task.id, statements)
        result = done.result
        assert result["ratios"]["current_ratio"] == {"value": "2.00"}
        assert result["ratios"]["interest_coverage"] == {"value": "5.00"}
        assert result["observed_sales"]["amount"] == "3000000.00"
        codes = [f["code"] for f in result["findings"]]
        assert codes == ["observed_exceeds_reported"]


# ---------------------------------------------------------------------------- limits


def test_frozen_line_declines_and_unfreezing_restores(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    admin = world.admin()
    with transaction(session_factory) as s:
        lines.set_status(s, admin, world.line_id, status="frozen", reason="core under review")
        app = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        assert app.status == "declined"
        assert "line_frozen" in [r["code"] for r in app.decision["reasons"]]
        lines.set_status(s, admin, world.line_id, status="active", reason="review done")
        app = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        assert app.status == "approved"


def test_core_exposure_cap_and_duplicate_financing(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    admin = world.admin()
    with transaction(session_factory) as s:
        lines.set_cap(
            s, admin, name="core A chain", cap=Money.parse("500000.00"), core=world.ids["core"]
        )
        app = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        assert app.status == "approved"
        again = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "40000.00"
        )
        assert again.status == "declined"
        assert [r["code"] for r in again.decision["reasons"]][:1] == ["duplicate_financing"]
        dealer = apply(
            s,
            world,
            "x",
            "dealer_financing",
            "dealer_order",
            world.docs["DO-1"],
            "400000.00",
            payee=CORE_PAYEE,
        )
        assert dealer.status == "declined"
        assert "core_cap_exceeded" in [r["code"] for r in dealer.decision["reasons"]]


def test_withdrawing_an_approval_gives_everything_back(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        app = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        applications.withdraw(s, world.ent("t1"), app.id)
        assert s.get(CreditLine, world.line_id).pending_minor == 0
        assert s.scalar(select(LineReservation.state)) == "voided"
        active = select(func.count()).where(ReceivableRegistration.released_at.is_(None))
        assert s.scalar(active) == 0
        assert s.scalar(select(Loan.status)) == "cancelled"


def test_approvals_lapse_when_never_drawn(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        app = apply(
            s, world, "t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00"
        )
        reservation = s.get(LineReservation, app.reservation_id)
        reservation.expires_at = clock.utcnow() - timedelta(minutes=1)
    with transaction(session_factory) as s:
        assert applications.lapse(s, world.staff("rm")) == 1
        assert s.get(LineReservation, app.reservation_id).state == "expired"
        assert s.get(CreditLine, world.line_id).pending_minor == 0
        assert s.get(LoanApplication, app.id).status == "cancelled"


# ---------------------------------------------------------------------------- servicing


def test_overdue_penalty_classification_and_alerts(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        loan = invoice_loan(s, world)
        loan_id = loan.id
        maturity = loan.maturity_on
        rows = loans.instalments(loan)
    # nothing paid: the first month's interest falls overdue
    first = rows[0]
    with transaction(session_factory) as s:
        counts = loans.scan(s, rm, first.due_on + timedelta(days=1))
        assert counts["overdue"] == 1
        loan = s.get(Loan, loan_id)
        assert (loan.status, loan.dpd, loan.category) == ("overdue", 1, "special_mention")
        assert s.scalar(select(Alert.kind).where(Alert.subject_id == loan_id)) == "loan_overdue"
    late = maturity + timedelta(days=95)
    with transaction(session_factory) as s:
        loans.scan(s, rm, late)
        loan = s.get(Loan, loan_id)
        assert loan.category == "substandard"
        assert loan.dpd == (late - first.due_on).days
        kinds = sorted(s.scalars(select(Alert.kind).where(Alert.subject_id == loan_id)))
        assert kinds.count("loan_downgraded") >= 1
        pos = loans.position(loan, late)
        # penalty: what each instalment left unpaid, at the penalty rate, from its due date
        rate = Decimal(loan.penalty_rate)
        expected = 0
        bounds = [r.due_on for r in rows] + [late]
        for i, (a, b) in enumerate(pairwise(bounds)):
            overdue = sum(r.total.amount_minor for r in rows[: i + 1])
            expected += penalty_interest(
                Money(overdue), (b - a).days, rate, loan.day_count
            ).amount_minor
        assert pos.penalty_due.amount_minor == expected
        payment = loans.repay(s, rm, loan_id, amount=pos.total_due, value_on=late)
        assert (payment.penalty_minor, payment.excess_minor) == (expected, 0)
        loan = s.get(Loan, loan_id)
        assert loan.status == "settled"
        b = balances(s, world)
        assert b.get("1303", 0) == 0
        assert b["6031"] == -expected


def test_prepayment_reschedules_and_the_books_follow(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        app = apply(
            s,
            world,
            "t1",
            "order_financing",
            "purchase_order",
            world.docs["PO-1"],
            "300000.00",
            method="equal_principal",
        )
        assert app.status == "approved", app.decision
        loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        loan = s.scalars(select(Loan).where(Loan.application_id == app.id)).one()
        first = loans.instalments(loan)[0]
        loans.repay(s, rm, loan.id, amount=first.total, value_on=first.due_on)
        on = first.due_on + timedelta(days=10)
        loans.accrue(s, rm, on)
        loans.prepay(s, rm, loan.id, principal=Money.parse("50000.00"), on=on)
        loan = s.get(Loan, loan.id)
        assert sum(r["principal_minor"] for r in loan.schedule) == 300_000_00 - 50_000_00
        assert balances(s, world)["1303"] == 300_000_00 - first.principal.amount_minor - 50_000_00
        for row in loans.instalments(loan)[1:]:
            loans.accrue(s, rm, row.due_on)
            loans.repay(s, rm, loan.id, amount=row.total, value_on=row.due_on)
        loan = s.get(Loan, loan.id)
        assert loan.status == "settled"
        b = balances(s, world)
        assert (b.get("1303", 0), b.get("1132", 0)) == (0, 0)
        assert s.get(CreditLine, world.line_id).posted_minor == 0


def test_extension_once_within_the_ceiling(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        loan = invoice_loan(s, world)
        before = loan.maturity_on
        approver = world.staff("ck3")
        with pytest.raises(Exception, match="months"):
            loans.extend(s, approver, loan.id, months=4, on=START)
        loans.extend(s, approver, loan.id, months=2, on=START)
        assert loan.maturity_on > before
        assert "extended" in loan.flags
        with pytest.raises(Conflict, match="extended already"):
            loans.extend(s, approver, loan.id, months=1, on=START)


def test_dealer_goods_release_and_buy_back(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        app = apply(
            s,
            world,
            "x",
            "dealer_financing",
            "dealer_order",
            world.docs["DO-1"],
            "400000.00",
            payee=CORE_PAYEE,
            method="equal_principal",
        )
        assert app.status == "approved", app.decision
        file = loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        assert b"core co" in file.xml
        loan = s.scalars(select(Loan).where(Loan.application_id == app.id)).one()
        with pytest.raises(Conflict, match=r"only 0\.00"):
            loans.release_goods(s, rm, loan.id, value=Money.parse("1.00"), note="too early")
        first = loans.instalments(loan)[0]
        loans.repay(s, rm, loan.id, amount=first.total, value_on=first.due_on)
        share = 600_000_00 * first.principal.amount_minor // 400_000_00
        loans.release_goods(s, rm, loan.id, value=Money(share), note="first lot")
        late = loans.instalments(loan)[1].due_on + timedelta(days=60)
        with pytest.raises(Conflict, match="buy-back can be called from 60"):
            loans.buy_back(s, rm, loan.id, on=late - timedelta(days=1))
        counts = loans.scan(s, rm, late)
        assert counts["buybacks_due"] == 1
        payment = loans.buy_back(s, rm, loan.id, on=late)
        assert payment.payer_id == world.ids["core"]
        assert s.get(Loan, loan.id).status == "settled"
        assert balances(s, world).get("1303", 0) == 0


def test_margin_call_when_the_pledged_goods_lose_value(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm, ck3 = world.staff("rm"), world.staff("ck3")
    with transaction(session_factory) as s:
        app = referred_inventory(s, world)
        applications.review(s, rm, app.id, action="approve", note="ok")
        (task,) = tasks.tasks(s, rm, state="open").items
        tasks.complete_site_visit(s, rm, task.id, site_visit())
        applications.review(s, ck3, app.id, action="approve", note="ok")
        loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        assert loans.scan(s, rm, START + timedelta(days=1))["margin_calls"] == 0
        set_price(
            s,
            world.admin(),
            item="copper foil",
            on=START + timedelta(days=2),
            price=Money.parse("65000.00"),
            unit="t",
            source="SHFE",
        )
        counts = loans.scan(s, rm, START + timedelta(days=3))
        assert counts["margin_calls"] == 1
        message = s.scalar(select(Alert.message).where(Alert.kind == "margin_call"))
        assert "84.62%" in message  # 1,100,000 / (20 t × 65,000)


def test_general_ledger_export_balances(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        loan = invoice_loan(s, world)
        loans.accrue(s, world.staff("rm"), START + timedelta(days=20))
        rows = books.general_ledger(s, world.staff("rm"), None)
        assert sum(r.debit_minor for r in rows) == sum(r.credit_minor for r in rows)
        assert {r.kind for r in rows} >= {"loan_disbursed", "loan_accrual"}
        assert s.scalar(select(func.count()).select_from(JournalLine)) >= len(rows)
        assert loan.reference.startswith("RPY-")


def test_a_payment_reference_pays_one_loan_once_and_lines_stay_in_their_bank(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        first = invoice_loan(s, world)
        app = apply(
            s,
            world,
            "x",
            "dealer_financing",
            "dealer_order",
            world.docs["DO-1"],
            "400000.00",
            payee=CORE_PAYEE,
        )
        loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        second = s.scalars(select(Loan).where(Loan.application_id == app.id)).one()
        day = START + timedelta(days=3)
        one = loans.repay(
            s, rm, first.id, amount=Money.parse("10.00"), value_on=day, source_ref="E-1"
        )
        again = loans.repay(
            s, rm, first.id, amount=Money.parse("10.00"), value_on=day, source_ref="E-1"
        )
        assert again.id == one.id
        with pytest.raises(Conflict, match="another loan"):
            loans.repay(
                s, rm, second.id, amount=Money.parse("10.00"), value_on=day, source_ref="E-1"
            )
        other_bank = world.credit.staff("BKB")
        with pytest.raises(NotFound):
            lines.line_for(s, other_bank, world.line_id)
        with pytest.raises(NotFound):
            loans.loan_for(s, other_bank, first.id)


def test_a_one_off_line_is_consumed_by_what_is_repaid(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        own = lines.open_line(
            s,
            world.admin(),
            obligor=world.ids["t1"],
            core=world.ids["core"],
            guarantor=world.ids["core"],
            limit=Money.parse("500000.00"),
            starts_on=TODAY - timedelta(days=10),
            expires_on=TODAY + timedelta(days=300),
            revolving=False,
        )
        app = apply(
            s,
            world,
            "t1",
            "receivable_financing",
            "invoice",
            world.docs["INV-T1-2"],
            "400000.00",
            line=own.id,
        )
        assert app.line_id == own.id
        loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
        loan = s.scalars(select(Loan).where(Loan.application_id == app.id)).one()
        for row in loans.instalments(loan):
            loans.repay(s, rm, loan.id, amount=row.total, value_on=row.due_on)
        s.refresh(own)
        # the 400,000.00 lent and repaid is gone from the line: 100,000.00 is all that is left
        assert (own.limit_minor, own.pending_minor, own.posted_minor) == (100_000_00, 0, 0)
