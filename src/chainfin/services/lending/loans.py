"""Servicing: disbursement (pain.001), repayment and its allocation, prepayment, extension,
daily interest accrual, arrears and five-category classification, dealer goods release and
the core's buy-back, collateral revaluation and margin calls — all through the bank's books.

The bank's journals for a loan:

=========================  ===============================================================
disbursement instructed    Dr 1303 loans             Cr 2014 disbursements in transit
disbursement on statement  Dr 2014                   Cr 1001 clearing
interest accrued (daily)   Dr 1132 interest recv.    Cr 6012 loan interest income
repayment received         Dr 1001 clearing          Cr 6031 penalty, 1132 interest,
                                                     1303 principal, 2241 unapplied (excess)
prepayment                 Dr 1001                   Cr 1303 principal, 6012 interest to date
=========================  ===============================================================

Penalty interest (罚息) is charged on overdue principal and interest at the contract's
penalty rate from the day after each due date, and recognised when received (cash basis,
the usual treatment of interest on amounts already overdue).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    CreditLine,
    DisbursementFile,
    GoodsRelease,
    Journal,
    JournalLine,
    LineReservation,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanRepayment,
)
from chainfin.domain import books as chart
from chainfin.domain import loans as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import Posting
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.loans import Instalment, LoanCategory, LoanStatus
from chainfin.domain.money import Money
from chainfin.domain.pricing import penalty_interest, recognised_through
from chainfin.domain.products import ProductConfig
from chainfin.services import (
    alerts,
    audit,
    books,
    idempotency,
    ledger,
    receivables,
    scoping,
    states,
)
from chainfin.services.credentials._common import _change, _get
from chainfin.services.ledger_records import row_of
from chainfin.services.lending import filters, products
from chainfin.services.lending import lines as limits
from chainfin.services.lending.prices import owner_of_product, price_of
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

ACTIVE = (LoanStatus.DISBURSED.value, LoanStatus.CURRENT.value, LoanStatus.OVERDUE.value)
# Interest stops accruing to income once a loan is this far overdue (非应计: it is then
# recognised only when received).
NON_ACCRUAL_DPD = 90


def _bank_of(actor: Principal) -> str:
    return scoping.bank_of(actor, "this is done by the lending bank's staff")


def _money(loan: Loan, amount_minor: int) -> Money:
    return Money(amount_minor, loan.currency)


def loan_for(session: Session, actor: Principal, loan_id: str) -> Loan:
    actor.require(Scope.LOANS_READ)
    loan = session.get(Loan, loan_id)
    if loan is None or not scoping.bank_or_party(actor, loan.bank_id, loan.borrower_id):
        raise NotFound(f"no loan {loan_id!r}", code="loan_not_found")
    return loan


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """Which loans to list: by state, classification or product kind; by borrower or by the
    core enterprise whose chain the line serves (USCC or id); by maturity or disbursement
    (start) date."""

    status: str | None = None
    category: str | None = None
    product_kind: str | None = None
    borrower: str | None = None
    core: str | None = None
    maturity_from: date | None = None
    maturity_to: date | None = None
    disbursed_from: date | None = None
    disbursed_to: date | None = None


def loans(
    session: Session,
    actor: Principal,
    only: LoanFilter = LoanFilter(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Loan]:
    """The bank's loans, or the enterprise's own, oldest first."""
    actor.require(Scope.LOANS_READ)
    query = select(Loan).where(
        scoping.by_bank_or_party(actor, Loan.bank_id, Loan.borrower_id),
        *filters.days(
            Loan.maturity_on,
            only.maturity_from,
            only.maturity_to,
            names=("maturity_from", "maturity_to"),
        ),
        *filters.days(
            Loan.start_on,
            only.disbursed_from,
            only.disbursed_to,
            names=("disbursed_from", "disbursed_to"),
        ),
    )
    for column, value in (
        (Loan.status, only.status),
        (Loan.category, only.category),
        (Loan.product_kind, only.product_kind),
    ):
        if value is not None:
            query = query.where(column == value)
    if only.borrower is not None:
        query = query.where(Loan.borrower_id == filters.party_id(session, only.borrower))
    if only.core is not None:
        core_id = filters.party_id(session, only.core)
        query = query.where(
            Loan.line_id.in_(select(CreditLine.id).where(CreditLine.core_id == core_id))
        )
    return paginate(session, query, Loan.id, cursor=cursor, limit=limit)


def _own_loan(session: Session, actor: Principal, loan_id: str) -> Loan:
    why = "this is done by the lending bank's staff"
    return scoping.own_bank_record(session, actor, Loan, loan_id, "loan", why)


# ---------------------------------------------------------------------------- schedule


def _row(i: Instalment) -> dict[str, Any]:
    return {
        "number": i.number,
        "starts_on": i.starts_on.isoformat(),
        "due_on": i.due_on.isoformat(),
        "principal_minor": i.principal.amount_minor,
        "interest_minor": i.interest.amount_minor,
        "balance_after_minor": i.balance_after.amount_minor,
    }


def instalments(loan: Loan) -> list[Instalment]:
    out = []
    for r in loan.schedule:
        principal = _money(loan, r["principal_minor"])
        interest = _money(loan, r["interest_minor"])
        out.append(
            Instalment(
                number=r["number"],
                due_on=date.fromisoformat(r["due_on"]),
                principal=principal,
                interest=interest,
                total=principal + interest,
                balance_after=_money(loan, r["balance_after_minor"]),
                starts_on=date.fromisoformat(r["starts_on"]),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Position:
    """Where a loan stands on a day."""

    as_of: date
    principal_outstanding: Money
    principal_due: Money
    interest_due: Money
    penalty_due: Money  # charged and not yet paid, including what accrues up to ``as_of``
    penalty_new: Money  # the part of ``penalty_due`` not yet charged on the loan
    oldest_unpaid_on: date | None
    paid_instalments: int
    dpd: int

    @property
    def total_due(self) -> Money:
        return self.principal_due + self.interest_due + self.penalty_due


def _paid_instalments(loan: Loan, rows: Sequence[Instalment]) -> tuple[int, date | None]:
    """How many instalments are fully paid, and the due date of the first that is not."""
    p = i = 0
    for n, row in enumerate(rows):
        p += row.principal.amount_minor
        i += row.interest.amount_minor
        if p > loan.principal_paid_minor or i > loan.interest_paid_minor:
            return n, row.due_on
    return len(rows), None


def _overdue_on(loan: Loan, rows: Sequence[Instalment], day: date) -> int:
    """Principal and interest overdue on ``day`` (fell due before it, unpaid)."""
    p = sum(r.principal.amount_minor for r in rows if r.due_on < day)
    i = sum(r.interest.amount_minor for r in rows if r.due_on < day)
    return max(0, p - loan.principal_paid_minor) + max(0, i - loan.interest_paid_minor)


def _penalty_between(loan: Loan, rows: Sequence[Instalment], start: date, end: date) -> int:
    """Penalty interest for the days after ``start`` through ``end``: each stretch between
    due dates charged on what was overdue in it."""
    if end <= start:
        return 0
    cuts = sorted({start, end, *(r.due_on for r in rows if start < r.due_on < end)})
    rate = Decimal(loan.penalty_rate)
    total = 0
    for a, b in pairwise(cuts):
        overdue = _overdue_on(loan, rows, b)  # constant over (a, b]
        if overdue > 0:
            amount = penalty_interest(
                _money(loan, overdue), (b - a).days, rate, loan.day_count, overdue_from=a
            )
            total += amount.amount_minor
    return total


def position(loan: Loan, as_of: date) -> Position:
    rows = instalments(loan)
    due_p = sum(r.principal.amount_minor for r in rows if r.due_on <= as_of)
    due_i = sum(r.interest.amount_minor for r in rows if r.due_on <= as_of)
    since = loan.penalty_through or loan.start_on or as_of
    new_penalty = _penalty_between(loan, rows, since, as_of)
    paid, oldest = _paid_instalments(loan, rows)
    oldest = oldest if oldest is not None and oldest <= as_of else None
    outstanding = loan.principal_minor - loan.principal_paid_minor - loan.principal_prepaid_minor
    return Position(
        as_of=as_of,
        principal_outstanding=_money(loan, outstanding),
        principal_due=_money(loan, max(0, due_p - loan.principal_paid_minor)),
        interest_due=_money(loan, max(0, due_i - loan.interest_paid_minor)),
        penalty_due=_money(
            loan, loan.penalty_charged_minor - loan.penalty_paid_minor + new_penalty
        ),
        penalty_new=_money(loan, new_penalty),
        oldest_unpaid_on=oldest,
        paid_instalments=paid,
        dpd=rules.days_past_due(oldest, as_of),
    )


# ---------------------------------------------------------------------------- disburse


def _eligible(session: Session, loan: Loan) -> str | None:
    if loan.status != LoanStatus.APPROVED.value:
        return f"is {loan.status}"
    if loan.disbursement_id is not None:
        return f"is already in disbursement file {loan.disbursement_id}"
    app = _get(session, LoanApplication, loan.application_id)
    if loan.line_id is not None:
        line = _get(session, CreditLine, loan.line_id)
        if line.status != "active":
            return f"draws on line {line.id}, which is {line.status} (no drawdowns)"
    unmet = [str(n) for n, c in enumerate(app.conditions, 1) if not c["met"]]
    if unmet:
        return f"has approval conditions not met yet ({', '.join(unmet)})"
    return None


def disburse(
    session: Session,
    actor: Principal,
    *,
    debtor_name: str,
    debtor_account: str,
    debtor_agent: str,
    execution_on: date,
    loan_ids: Sequence[str] | None = None,
) -> DisbursementFile:
    """Write one pain.001.001.09 file paying every approved loan ready to go (or the ones
    named) from the bank's settlement account; each loan's schedule starts on the execution
    date, its hold becomes drawn and the books record the loan against the money in transit."""
    actor.require(Scope.LOANS_WRITE)
    bank_id = _bank_of(actor)
    if loan_ids is not None:
        chosen = []
        errors = []
        for n, loan_id in enumerate(loan_ids):
            loan = session.get(Loan, loan_id)
            why = "no such loan at this bank" if loan is None or loan.bank_id != bank_id else None
            why = why or _eligible(session, loan) if loan is not None else why
            if why:
                errors.append(FieldError(f"loan_ids[{n}]", f"{loan_id} {why}"))
            elif loan is not None:
                chosen.append(loan)
        if errors:
            raise ValidationFailed(errors)
    else:
        candidates = session.scalars(
            select(Loan)
            .where(Loan.bank_id == bank_id, Loan.status == LoanStatus.APPROVED.value)
            .order_by(Loan.created_at)
        )
        chosen = [loan for loan in candidates if _eligible(session, loan) is None]
    if not chosen:
        raise ValidationFailed(
            [FieldError("loan_ids", "no approved loan is ready to disburse")],
            code="nothing_to_disburse",
        )
    # lxml loads only when a file is written, not for every reader of loans (a CLI read).
    from chainfin.adapters.formats import iso20022

    file_id = new_id("disbursement")
    now = utcnow()
    batch = iso20022.PaymentBatch(
        message_id=f"DSB{file_id.split('_', 1)[1]}",
        created_at=now,
        debtor_name=debtor_name,
        debtor_account=debtor_account,
        debtor_agent=debtor_agent,
        requested_execution_date=execution_on,
        instructions=[
            iso20022.PaymentInstruction(
                end_to_end_id=loan.end_to_end_id,
                amount=_money(loan, loan.principal_minor),
                creditor_name=loan.payee_name,
                creditor_account=loan.payee_account,
                creditor_agent=loan.payee_agent,
                remittance_info=f"Loan {loan.reference}",
            )
            for loan in chosen
        ],
    )
    xml = iso20022.write_pain001(batch)
    row = DisbursementFile(
        id=file_id,
        bank_id=bank_id,
        message_id=batch.message_id,
        execution_on=execution_on,
        currency=chosen[0].currency,
        count=len(chosen),
        total_minor=sum(loan.principal_minor for loan in chosen),
        xml=xml,
        digest=hashlib.sha256(xml).hexdigest(),
        created_by=actor.label,
        created_at=now,
    )
    session.add(row)
    session.flush()
    changes = [_change("disbursement_file", row)]
    for loan in chosen:
        changes += _start(session, actor, loan, row, execution_on)
    ledger.one(session, actor, "loans.disbursed", *changes)
    audit.record(session, actor, "loan.disburse", "disbursement", row.id, {"count": len(chosen)})
    return row


def _start(
    session: Session, actor: Principal, loan: Loan, file: DisbursementFile, on: date
) -> list[Any]:
    rules.check_loan_transition(loan.id, loan.status, LoanStatus.DISBURSED)
    principal = _money(loan, loan.principal_minor)
    rows = rules.schedule(
        principal,
        Decimal(loan.annual_rate),
        on,
        loan.term_months,
        loan.method,  # type: ignore[arg-type]
        day_count=loan.day_count,
    )
    loan.schedule = [_row(i) for i in rows]
    loan.start_on = on
    loan.maturity_on = rows[-1].due_on
    loan.penalty_through = on
    states.move(loan, "disburse")
    loan.disbursement_id = file.id
    loan.updated_at = utcnow()
    app = _get(session, LoanApplication, loan.application_id)
    states.move(app, "disburse")
    if app.reservation_id is not None:
        limits.post(session, actor, _get(session, LineReservation, app.reservation_id))
    books.post(
        session,
        actor,
        book_id=loan.bank_id,
        kind="loan_disbursed",
        ref=f"loan/{loan.id}/disbursed",
        value_on=on,
        postings=[
            Posting(chart.LOANS, principal),
            Posting(chart.DISBURSEMENTS_IN_TRANSIT, -principal),
        ],
        memo=f"loan {loan.id} to {loan.borrower_id} ({loan.product_kind})",
    )
    session.flush()
    return [_change("loan", loan), _change("application", app)]


def confirm_disbursement(
    session: Session, actor: Principal, loan: Loan, on: date, entry_key: str
) -> None:
    """The bank's statement shows the money left: clear the in-transit account."""
    principal = _money(loan, loan.principal_minor)
    books.post(
        session,
        actor,
        book_id=loan.bank_id,
        kind="loan_paid_out",
        ref=f"loan/{loan.id}/paid-out",
        value_on=on,
        postings=[
            Posting(chart.DISBURSEMENTS_IN_TRANSIT, principal),
            Posting(chart.CLEARING, -principal),
        ],
        memo=f"statement entry {entry_key}"[:300],
    )
    loan.disbursement_confirmed_at = utcnow()
    session.flush()
    ledger.one(session, actor, "loan.paid_out", _change("loan", loan))


def disbursement_file(session: Session, actor: Principal, file_id: str) -> DisbursementFile:
    actor.require(Scope.LOANS_READ)
    return scoping.bank_record(session, actor, DisbursementFile, file_id, "disbursement file")


def disbursed_by(session: Session, file: DisbursementFile) -> list[Loan]:
    """The loans a disbursement file pays out, in the file's order."""
    return list(
        session.scalars(
            select(Loan).where(Loan.disbursement_id == file.id).order_by(Loan.created_at, Loan.id)
        )
    )


# ---------------------------------------------------------------------------- accrual


def _accrued_so_far(session: Session, loan: Loan) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(JournalLine.amount_minor), 0))
            .join(Journal, Journal.id == JournalLine.journal_id)
            .where(
                Journal.book_id == loan.bank_id,
                Journal.kind == "loan_accrual",
                Journal.ref.like(f"loan/{loan.id}/accrual/%"),
                JournalLine.account_code == chart.INTEREST_RECEIVABLE,
            )
        )
        or 0
    )


def _accrual_target(loan: Loan, as_of: date) -> int:
    """Scheduled interest recognised through ``as_of``, straight by day within each period,
    plus interest already received outside the schedule (none: prepayment interest goes
    straight to income)."""
    total = 0
    for row in instalments(loan):
        if as_of >= row.due_on:
            total += row.interest.amount_minor
        elif as_of > row.starts_on and not row.interest.is_zero():
            total += recognised_through(row.interest, row.starts_on, row.due_on, as_of).amount_minor
    return total


def _accrue_loan(session: Session, actor: Principal, loan: Loan, as_of: date) -> bool:
    if loan.start_on is None or as_of <= loan.start_on or loan.dpd >= NON_ACCRUAL_DPD:
        return False
    delta = _accrual_target(loan, as_of) - _accrued_so_far(session, loan)
    if delta == 0:
        return False
    amount = _money(loan, delta)
    posted = books.post(
        session,
        actor,
        book_id=loan.bank_id,
        kind="loan_accrual",
        ref=f"loan/{loan.id}/accrual/{as_of.isoformat()}",
        value_on=as_of,
        postings=[
            Posting(chart.INTEREST_RECEIVABLE, amount),
            Posting(chart.LOAN_INTEREST_INCOME, -amount),
        ],
        memo=f"interest on {loan.id} through {as_of}",
    )
    return not posted.replayed


def accrue(session: Session, actor: Principal, as_of: date) -> int:
    """Accrue every active loan's interest through ``as_of`` (catching up missed days; a
    changed schedule after a prepayment posts the adjustment). Returns journals posted."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None and not actor.is_system:
        raise Forbidden("a bank runs this over its own loans", code="bank_staff_only")
    query = select(Loan).where(Loan.status.in_(ACTIVE))
    if actor.bank_id is not None:
        query = query.where(Loan.bank_id == actor.bank_id)
    return sum(_accrue_loan(session, actor, loan, as_of) for loan in session.scalars(query))


# ---------------------------------------------------------------------------- repay


def repay(
    session: Session,
    actor: Principal,
    loan_id: str,
    *,
    amount: Money,
    value_on: date,
    source: str = "manual",
    source_ref: str | None = None,
    payer_id: str | None = None,
) -> LoanRepayment:
    """Apply money received on a loan: penalty, then interest, then principal (the product's
    order), anything more to unapplied receipts. The same ``source_ref`` (a statement entry)
    counts once: the same repayment again returns the first one, a different amount or value
    date (or another loan) under it is refused (``exists_with_different_request``)."""
    actor.require(Scope.LOANS_WRITE)
    loan = _own_loan(session, actor, loan_id)
    if source_ref is not None:
        done = session.scalar(select(LoanRepayment).where(LoanRepayment.source_ref == source_ref))
        if done is not None and done.loan_id == loan.id:
            idempotency.same_request(
                f"repayment {source_ref!r}",
                {"amount": Money(done.amount_minor, done.currency), "value_on": done.value_on},
                {"amount": amount, "value_on": value_on},
            )
            return done
        if done is not None:  # the other loan may be another bank's: not named
            raise Conflict(
                f"source reference {source_ref!r} was already applied to another loan",
                hint="A statement entry or payment reference pays one loan once.",
                code="exists_with_different_request",
            )
    if loan.status not in ACTIVE:
        raise Conflict(
            f"loan {loan.id} is {loan.status}; it takes no repayments", code="loan_not_active"
        )
    errors = []
    if amount.currency != loan.currency or amount.amount_minor <= 0:
        errors.append(FieldError("amount", f"must be a positive {loan.currency} amount"))
    if loan.start_on is not None and value_on < loan.start_on:
        errors.append(FieldError("value_on", f"is before the loan started on {loan.start_on}"))
    if errors:
        raise ValidationFailed(errors)
    _accrue_loan(session, actor, loan, value_on)
    pos = position(loan, value_on)
    allocation = rules.allocate_repayment(
        amount, rules.Due(pos.penalty_due, pos.interest_due, pos.principal_due)
    )
    loan.penalty_charged_minor += pos.penalty_new.amount_minor
    loan.penalty_through = max(value_on, loan.penalty_through or value_on)
    loan.penalty_paid_minor += allocation.penalty.amount_minor
    loan.interest_paid_minor += allocation.interest.amount_minor
    loan.principal_paid_minor += allocation.principal.amount_minor
    row = LoanRepayment(
        id=new_id("repayment"),
        loan_id=loan.id,
        value_on=value_on,
        currency=loan.currency,
        amount_minor=amount.amount_minor,
        penalty_minor=allocation.penalty.amount_minor,
        interest_minor=allocation.interest.amount_minor,
        principal_minor=allocation.principal.amount_minor,
        prepaid_minor=0,
        excess_minor=allocation.excess.amount_minor,
        payer_id=payer_id or loan.borrower_id,
        source=source,
        source_ref=source_ref,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    postings = [Posting(chart.CLEARING, amount)]
    for account, part in (
        (chart.PENALTY_INCOME, allocation.penalty),
        (chart.INTEREST_RECEIVABLE, allocation.interest),
        (chart.LOANS, allocation.principal),
        (chart.UNAPPLIED_RECEIPTS, allocation.excess),
    ):
        if not part.is_zero():
            postings.append(Posting(account, -part))
    books.post(
        session,
        actor,
        book_id=loan.bank_id,
        kind="loan_repayment",
        ref=f"loan/{loan.id}/repayment/{row.id}",
        value_on=value_on,
        postings=postings,
        memo=f"repayment on {loan.id} ({source})",
        check_replay=False,
    )
    _after_principal(session, actor, loan, allocation.principal.amount_minor, value_on)
    session.flush()
    ledger.one(session, actor, "loan.repaid", _change("repayment", row), _change("loan", loan))
    audit.record(session, actor, "loan.repay", "loan", loan.id, {"repayment": row.id})
    return row


def _after_principal(
    session: Session, actor: Principal, loan: Loan, principal_minor: int, on: date
) -> None:
    """Give repaid principal back to the line and move the loan's state."""
    app = _get(session, LoanApplication, loan.application_id)
    if principal_minor > 0 and app.reservation_id is not None:
        limits.release(
            session, actor, _get(session, LineReservation, app.reservation_id), principal_minor
        )
    _restate(session, actor, loan, on)


def _restate(session: Session, actor: Principal, loan: Loan, on: date) -> None:
    pos = position(loan, on)
    if pos.principal_outstanding.is_zero() and pos.total_due.is_zero():
        target = LoanStatus.SETTLED
    elif pos.dpd > 0:
        target = LoanStatus.OVERDUE
    elif any(r.due_on <= on for r in instalments(loan)):
        target = LoanStatus.CURRENT
    else:
        target = LoanStatus.DISBURSED
    loan.dpd = pos.dpd
    if target.value != loan.status:
        states.move_to(loan, target)  # the event the position shows (fall_due, settle, …)
        if target is LoanStatus.SETTLED:
            app = _get(session, LoanApplication, loan.application_id)
            if app.underlying_key is not None:
                receivables.release_key(session, actor, app.underlying_key)
    loan.updated_at = utcnow()


def prepay(
    session: Session,
    actor: Principal,
    loan_id: str,
    *,
    principal: Money,
    on: date,
    option: str = "reduce_instalment",
) -> LoanRepayment:
    """Early repayment of principal (提前还款) with interest on it to date; the rest of the
    schedule is re-amortised (shorter term or smaller instalments). Nothing may be overdue."""
    actor.require(Scope.LOANS_WRITE)
    loan = _own_loan(session, actor, loan_id)
    if loan.status not in ACTIVE:
        raise Conflict(f"loan {loan.id} is {loan.status}", code="loan_not_active")
    pos = position(loan, on)
    if not pos.total_due.is_zero():
        raise Conflict(
            f"{pos.total_due} is due on loan {loan.id} as of {on}; repay it before prepaying",
            code="loan_has_amount_due",
        )
    rows = instalments(loan)
    outcome = rules.reschedule_after_prepayment(
        rows,
        pos.paid_instalments,
        principal,
        on,
        Decimal(loan.annual_rate),
        loan.method,  # type: ignore[arg-type]
        option,  # type: ignore[arg-type]
        day_count=loan.day_count,
    )
    _accrue_loan(session, actor, loan, on)
    kept = [r for r in outcome.instalments if not r.principal.is_zero() or not r.interest.is_zero()]
    loan.schedule = [_row(i) for i in kept]
    loan.principal_prepaid_minor += principal.amount_minor
    if kept:
        loan.maturity_on = kept[-1].due_on
    cash = principal + outcome.interest_now
    row = LoanRepayment(
        id=new_id("repayment"),
        loan_id=loan.id,
        value_on=on,
        currency=loan.currency,
        amount_minor=cash.amount_minor,
        penalty_minor=0,
        interest_minor=outcome.interest_now.amount_minor,
        principal_minor=0,
        prepaid_minor=principal.amount_minor,
        excess_minor=0,
        payer_id=loan.borrower_id,
        source="prepayment",
        source_ref=None,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    postings = [Posting(chart.CLEARING, cash), Posting(chart.LOANS, -principal)]
    if not outcome.interest_now.is_zero():
        postings.append(Posting(chart.LOAN_INTEREST_INCOME, -outcome.interest_now))
    books.post(
        session,
        actor,
        book_id=loan.bank_id,
        kind="loan_prepayment",
        ref=f"loan/{loan.id}/prepayment/{row.id}",
        value_on=on,
        postings=postings,
        memo=f"prepayment on {loan.id} ({option})",
        check_replay=False,
    )
    # the schedule changed: bring the accrual in line with it (it may fall)
    _accrue_loan(session, actor, loan, on)
    _after_principal(session, actor, loan, principal.amount_minor, on)
    session.flush()
    ledger.one(session, actor, "loan.prepaid", _change("repayment", row), _change("loan", loan))
    audit.record(session, actor, "loan.prepay", "loan", loan.id, {"option": option})
    return row


def extend(session: Session, actor: Principal, loan_id: str, *, months: int, on: date) -> Loan:
    """Extend the loan (展期), within the ceiling of the 《贷款通则》; a credit decision, taken
    by someone with approval authority. The loan is flagged ``extended``."""
    actor.require(Scope.LOANS_APPROVE)
    loan = _own_loan(session, actor, loan_id)
    if loan.status not in ACTIVE:
        raise Conflict(f"loan {loan.id} is {loan.status}", code="loan_not_active")
    pos = position(loan, on)
    if pos.dpd > 0:
        raise Conflict(
            f"loan {loan.id} is {pos.dpd} days past due; an overdue loan is restructured, "
            "not extended",
            code="loan_overdue",
        )
    if "extended" in loan.flags:
        raise Conflict(
            f"loan {loan.id} was extended already; a loan is extended once",
            code="loan_already_extended",
        )
    ceiling = rules.max_extension_months(loan.term_months)
    if not 1 <= months <= ceiling:
        raise ValidationFailed(
            [FieldError("months", f"must be 1 to {ceiling} for a {loan.term_months}-month loan")],
            code="extension_out_of_range",
        )
    rows = rules.extend(
        instalments(loan),
        months,
        paid_instalments=pos.paid_instalments,
        annual_rate=Decimal(loan.annual_rate),
        method=loan.method,  # type: ignore[arg-type]
        day_count=loan.day_count,
    )
    loan.schedule = [_row(i) for i in rows]
    loan.maturity_on = rows[-1].due_on
    loan.flags = [*loan.flags, "extended"]
    loan.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, "loan.extended", _change("loan", loan))
    audit.record(session, actor, "loan.extend", "loan", loan.id, {"months": months})
    return loan


# ---------------------------------------------------------------------------- monitoring


def _alert(
    session: Session,
    actor: Principal,
    loan: Loan,
    kind: str,
    severity: str,
    message: str,
) -> Alert | None:
    return alerts.raise_alert(
        session,
        actor,
        kind=kind,
        severity=severity,
        subject_kind="loan",
        subject_id=loan.id,
        bank_id=loan.bank_id,
        enterprise_id=loan.borrower_id,
        message=message,
    )


def _classification_flags(loan: Loan) -> frozenset[str]:
    known = rules.DEFAULT_CLASSIFICATION_POLICY.known_flags
    return frozenset(f for f in loan.flags if f in known)


def scan(session: Session, actor: Principal, as_of: date) -> dict[str, int]:
    """Daily: days past due, state, five-category classification, and alerts when a loan
    falls overdue, is downgraded, its collateral no longer covers it (margin call) or the
    core's buy-back falls due."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None and not actor.is_system:
        raise Forbidden("a bank runs this over its own loans", code="bank_staff_only")
    query = select(Loan).where(Loan.status.in_(ACTIVE)).order_by(Loan.created_at)
    if actor.bank_id is not None:
        query = query.where(Loan.bank_id == actor.bank_id)
    counts = {"loans": 0, "overdue": 0, "downgraded": 0, "margin_calls": 0, "buybacks_due": 0}
    for loan in session.scalars(query):
        counts["loans"] += 1
        before = _recorded(loan)
        before_status, before_category = loan.status, loan.category
        _restate(session, actor, loan, as_of)
        category = rules.classify(loan.dpd, _classification_flags(loan)).category
        loan.category = category.value
        if loan.status == LoanStatus.OVERDUE.value and before_status != loan.status:
            counts["overdue"] += 1
            _alert(
                session,
                actor,
                loan,
                "loan_overdue",
                "high",
                f"loan {loan.id} of {loan.borrower_id} is {loan.dpd} days past due",
            )
        if _rank(category) > _rank(LoanCategory(before_category)):
            counts["downgraded"] += 1
            _alert(
                session,
                actor,
                loan,
                "loan_downgraded",
                "high" if _rank(category) >= 2 else "medium",
                f"loan {loan.id} classified {category.value} (was {before_category}) at "
                f"{loan.dpd} days past due",
            )
        config = products.config_of(_get(session, LoanProduct, loan.product_id))
        _collateral_alerts(session, actor, loan, config, as_of, counts)
        session.flush()
        if _recorded(loan) != before:
            ledger.one(session, actor, "loan.restated", _change("loan", loan))
    return counts


def _recorded(loan: Loan) -> dict[str, Any]:
    """What the log holds of a loan (all but its own timestamps)."""
    row = row_of(loan)
    row.pop("updated_at", None)
    return row


def _rank(category: LoanCategory) -> int:
    return list(LoanCategory).index(category)


def collateral_value(session: Session, loan: Loan, as_of: date) -> int | None:
    """Pledged goods at the latest price of the loan's product's price source — the bank's
    own prices or the platform source the product names, never another bank's."""
    items = loan.collateral.get("items")
    if not items:
        return None
    owner = owner_of_product(_get(session, LoanProduct, loan.product_id))
    total = Decimal(0)
    for item in items:
        price = price_of(session, owner, item["item"], as_of)
        if price is None:
            return None
        total += Decimal(item["quantity"]) * price.price_minor
    return int(total)


def _collateral_alerts(
    session: Session,
    actor: Principal,
    loan: Loan,
    config: ProductConfig,
    as_of: date,
    counts: dict[str, int],
) -> None:
    outstanding = loan.principal_minor - loan.principal_paid_minor - loan.principal_prepaid_minor
    if config.margin_call_ltv is not None and outstanding > 0:
        value = collateral_value(session, loan, as_of)
        if value is not None:
            ltv = Decimal(outstanding) / Decimal(value) if value else Decimal("Infinity")
            loan.collateral = {**loan.collateral, "value_minor": value, "ltv": f"{ltv:.4f}"}
            if ltv > config.margin_call_ltv:
                raised = _alert(
                    session,
                    actor,
                    loan,
                    "margin_call",
                    "high",
                    f"loan {loan.id}: pledged goods worth {_money(loan, value)} on {as_of} "
                    f"put the loan-to-value at {ltv:.2%}, above the margin-call level "
                    f"{config.margin_call_ltv:.0%}; top up collateral or repay",
                )
                counts["margin_calls"] += raised is not None
    threshold = config.buyback_after_dpd
    if threshold is not None and loan.dpd >= threshold:
        raised = _alert(
            session,
            actor,
            loan,
            "buyback_due",
            "high",
            f"dealer loan {loan.id} is {loan.dpd} days past due: the core enterprise's "
            "buy-back guarantee can be called",
        )
        counts["buybacks_due"] += raised is not None


def release_goods(
    session: Session, actor: Principal, loan_id: str, *, value: Money, note: str
) -> GoodsRelease:
    """Dealer financing: the core releases goods to the dealer in step with what it has
    repaid (value released ≤ goods × principal repaid / principal)."""
    actor.require(Scope.LOANS_WRITE)
    loan = _own_loan(session, actor, loan_id)
    goods = int(loan.collateral.get("goods_value_minor", 0))
    if loan.product_kind != "dealer_financing" or goods == 0:
        raise Conflict(
            f"loan {loan.id} is not a dealer loan with goods held by the core",
            code="loan_without_held_goods",
        )
    repaid = loan.principal_paid_minor + loan.principal_prepaid_minor
    releasable = goods * repaid // loan.principal_minor - loan.released_minor
    if value.currency != loan.currency or value.amount_minor <= 0:
        raise ValidationFailed(
            [FieldError("value", f"must be a positive {loan.currency}")], code="amount_not_positive"
        )
    if value.amount_minor > releasable:
        raise Conflict(
            f"only {_money(loan, max(releasable, 0))} of goods can be released: the dealer has "
            f"repaid {_money(loan, repaid)} of {_money(loan, loan.principal_minor)}",
            hint="Goods are released as the dealer repays.",
            code="goods_release_exceeds_repaid",
        )
    loan.released_minor += value.amount_minor
    row = GoodsRelease(
        id=new_id("release"),
        loan_id=loan.id,
        currency=loan.currency,
        value_minor=value.amount_minor,
        note=note,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    ledger.one(
        session, actor, "loan.goods_released", _change("goods_release", row), _change("loan", loan)
    )
    audit.record(session, actor, "loan.release_goods", "loan", loan.id, {"release": row.id})
    return row


def buy_back(session: Session, actor: Principal, loan_id: str, *, on: date) -> LoanRepayment:
    """Call the core's buy-back guarantee on an overdue dealer loan: the core pays all that
    is owed and takes the goods not yet released."""
    actor.require(Scope.LOANS_WRITE)
    loan = _own_loan(session, actor, loan_id)
    config = products.config_of(_get(session, LoanProduct, loan.product_id))
    if config.buyback_after_dpd is None:
        raise Conflict(
            f"loan {loan.id}'s product has no buy-back guarantee", code="buyback_not_offered"
        )
    pos = position(loan, on)
    if pos.dpd < config.buyback_after_dpd:
        raise Conflict(
            f"loan {loan.id} is {pos.dpd} days past due; the buy-back can be called from "
            f"{config.buyback_after_dpd}",
            code="buyback_too_early",
        )
    core = str(loan.collateral.get("core_id"))
    owed = pos.principal_outstanding + pos.interest_due + pos.penalty_due
    # principal not yet due is owed too: the buy-back accelerates the loan
    loan.schedule = _accelerated(loan, on)
    payment = repay(
        session, actor, loan.id, amount=owed, value_on=on, source="buyback", payer_id=core
    )
    goods = int(loan.collateral.get("goods_value_minor", 0))
    loan.collateral = {**loan.collateral, "bought_back_minor": goods - loan.released_minor}
    session.flush()
    ledger.one(session, actor, "loan.bought_back", _change("loan", loan))
    audit.record(session, actor, "loan.buy_back", "loan", loan.id, {"core": core})
    return payment


def _accelerated(loan: Loan, on: date) -> list[dict[str, Any]]:
    """The schedule with every instalment not yet due falling due ``on`` (interest on them
    only to ``on``: none beyond what has accrued in the current period)."""
    out = []
    for row in loan.schedule:
        due = date.fromisoformat(row["due_on"])
        if due <= on:
            out.append(row)
            continue
        starts = date.fromisoformat(row["starts_on"])
        interest = 0
        if starts < on:
            interest = recognised_through(
                _money(loan, row["interest_minor"]), starts, due, on
            ).amount_minor
        out.append({**row, "due_on": on.isoformat(), "interest_minor": interest})
        if starts >= on:
            out[-1]["starts_on"] = starts.isoformat()
    return out


# ---------------------------------------------------------------------------- reads


def repayments(
    session: Session,
    loan: Loan,
    *,
    value_from: date | None = None,
    value_to: date | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[LoanRepayment]:
    """Money received on ``loan``, in the order it was applied; by value date."""
    query = select(LoanRepayment).where(
        LoanRepayment.loan_id == loan.id,
        *filters.days(
            LoanRepayment.value_on, value_from, value_to, names=("value_from", "value_to")
        ),
    )
    return paginate(session, query, LoanRepayment.id, cursor=cursor, limit=limit)
