"""The quality of a bank's book beside its exposure (:mod:`chainfin.services.portfolio`):
the limits it sanctioned and how much of them is used, its loans by days past due (ageing
buckets) and by five-category classification (五级分类), and what falls due in the weeks
ahead.

- **Used** on a line is what is reserved on it (pending) and drawn (posted); **available**
  is the rest. Closed lines are left out.
- **Ageing**: the bank's running loans (disbursed, current, overdue) by days past due on
  ``as_of`` — current (0), 1–30, 31–60, 61–90 and over 90 days — with their outstanding
  principal. Days past due are computed from each loan's schedule and repayments on the
  day (:func:`chainfin.services.lending.loans.position`), not read from the daily scan, so
  the buckets are right on any day whether or not the scan ran.
- **Five categories**: the running loans by the category the daily scan last gave them.
- **Maturities ahead**: per week from ``as_of`` (``as_of`` to ``as_of`` + 6 days, …), the
  unpaid principal and interest of the loans' instalments falling due in it, and the face of
  the payable credentials the bank discounted and holds whose payment date falls in it.

Every amount is in the one currency asked for (CNY unless told).

>>> [b.key for b in AGEING]
['current', '1-30', '31-60', '61-90', 'over_90']
>>> bucket_of(0).key, bucket_of(30).key, bucket_of(31).key, bucket_of(91).key
('current', '1-30', '31-60', 'over_90')
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Credential,
    CredentialPiece,
    CreditLine,
    Financing,
    Loan,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.loans import LoanCategory
from chainfin.domain.money import Money
from chainfin.services import identity, scoping
from chainfin.services.lending.loans import ACTIVE, position


@dataclass(frozen=True, slots=True)
class AgeingBucket:
    key: str
    low_dpd: int
    high_dpd: int | None  # None: no upper bound


AGEING = (
    AgeingBucket("current", 0, 0),
    AgeingBucket("1-30", 1, 30),
    AgeingBucket("31-60", 31, 60),
    AgeingBucket("61-90", 61, 90),
    AgeingBucket("over_90", 91, None),
)
MAX_WEEKS = 26


def bucket_of(dpd: int) -> AgeingBucket:
    for bucket in AGEING:
        if bucket.high_dpd is None or dpd <= bucket.high_dpd:
            return bucket
    raise AssertionError("the last bucket has no upper bound")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Count:
    """A group of loans: how many, and their outstanding principal."""

    key: str
    loans: int
    outstanding: Money


@dataclass(frozen=True, slots=True)
class LineUse:
    line_id: str
    obligor_id: str
    obligor: str
    core_id: str
    core: str
    status: str
    expires_on: date
    limit: Money
    used: Money
    available: Money


@dataclass(frozen=True, slots=True)
class Limits:
    lines: tuple[LineUse, ...]
    limit: Money
    used: Money
    available: Money


@dataclass(frozen=True, slots=True)
class DueWeek:
    starts_on: date
    ends_on: date
    loans: int  # loans with an instalment due in the week
    principal: Money
    interest: Money
    credentials: Money  # face of the held credentials payable in the week

    @property
    def total(self) -> Money:
        return self.principal + self.interest + self.credentials


def _bank(actor: Principal) -> str:
    actor.require(Scope.LOANS_READ)
    return scoping.bank_of(actor, "a bank reads its own book")


def _running(session: Session, bank_id: str, currency: str) -> list[Loan]:
    return list(
        session.scalars(
            select(Loan)
            .where(Loan.bank_id == bank_id, Loan.status.in_(ACTIVE), Loan.currency == currency)
            .order_by(Loan.id)
        )
    )


def _outstanding(loan: Loan) -> int:
    return loan.principal_minor - loan.principal_paid_minor - loan.principal_prepaid_minor


def limits(session: Session, actor: Principal, *, currency: str = "CNY") -> Limits:
    """The bank's open lines (active or frozen), largest limit first, with the totals."""
    bank_id = _bank(actor)
    rows = list(
        session.scalars(
            select(CreditLine)
            .where(
                CreditLine.bank_id == bank_id,
                CreditLine.currency == currency,
                CreditLine.status != "closed",
            )
            .order_by(CreditLine.limit_minor.desc(), CreditLine.id)
        )
    )
    names = identity.party_names(
        session, actor, {r.obligor_id for r in rows} | {r.core_id for r in rows}
    )
    lines = tuple(
        LineUse(
            line_id=r.id,
            obligor_id=r.obligor_id,
            obligor=names.get(r.obligor_id, r.obligor_id),
            core_id=r.core_id,
            core=names.get(r.core_id, r.core_id),
            status=r.status,
            expires_on=r.expires_on,
            limit=Money(r.limit_minor, currency),
            used=Money(r.pending_minor + r.posted_minor, currency),
            available=Money(r.limit_minor - r.pending_minor - r.posted_minor, currency),
        )
        for r in rows
    )
    zero = Money.zero(currency)
    return Limits(
        lines=lines,
        limit=sum((x.limit for x in lines), zero),
        used=sum((x.used for x in lines), zero),
        available=sum((x.available for x in lines), zero),
    )


def ageing(
    session: Session, actor: Principal, *, as_of: date, currency: str = "CNY"
) -> tuple[Count, ...]:
    """The running loans by days past due on ``as_of``, one row per bucket of
    :data:`AGEING` (empty buckets too)."""
    bank_id = _bank(actor)
    loans: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for loan in _running(session, bank_id, currency):
        key = bucket_of(position(loan, as_of).dpd).key
        loans[key] += 1
        amounts[key] += _outstanding(loan)
    return tuple(Count(b.key, loans[b.key], Money(amounts[b.key], currency)) for b in AGEING)


def categories(session: Session, actor: Principal, *, currency: str = "CNY") -> tuple[Count, ...]:
    """The running loans by five-category classification, least risky first (every
    category, empty ones too)."""
    bank_id = _bank(actor)
    loans: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for loan in _running(session, bank_id, currency):
        loans[loan.category] += 1
        amounts[loan.category] += _outstanding(loan)
    return tuple(
        Count(c.value, loans[c.value], Money(amounts[c.value], currency)) for c in LoanCategory
    )


def maturities(
    session: Session, actor: Principal, *, as_of: date, weeks: int = 12, currency: str = "CNY"
) -> tuple[DueWeek, ...]:
    """What falls due in each of the ``weeks`` weeks from ``as_of`` (1 to 26)."""
    bank_id = _bank(actor)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationFailed(
            [FieldError("weeks", f"1 to {MAX_WEEKS}")], code="weeks_out_of_range"
        )
    end = as_of + timedelta(days=7 * weeks)
    principal = [0] * weeks
    interest = [0] * weeks
    borrowers: list[set[str]] = [set() for _ in range(weeks)]
    held = [0] * weeks
    for loan in _running(session, bank_id, currency):
        due_p = due_i = 0
        for row in loan.schedule:
            # what of this instalment is unpaid: the repayments pay instalments in order
            p_before, i_before = due_p, due_i
            due_p += row["principal_minor"]
            due_i += row["interest_minor"]
            on = date.fromisoformat(row["due_on"])
            if not as_of <= on < end:
                continue
            unpaid_p = min(
                row["principal_minor"], max(0, due_p - max(p_before, loan.principal_paid_minor))
            )
            unpaid_i = min(
                row["interest_minor"], max(0, due_i - max(i_before, loan.interest_paid_minor))
            )
            if unpaid_p or unpaid_i:
                week = (on - as_of).days // 7
                principal[week] += unpaid_p
                interest[week] += unpaid_i
                borrowers[week].add(loan.id)
    for face, payment_on in session.execute(
        select(Financing.face_minor, Credential.payment_on)
        .join(CredentialPiece, CredentialPiece.id == Financing.bank_piece_id)
        .join(Credential, Credential.id == CredentialPiece.credential_id)
        .where(
            Financing.bank_id == bank_id,
            Financing.currency == currency,
            CredentialPiece.status == "financed",
            Credential.payment_on >= as_of,
            Credential.payment_on < end,
        )
    ):
        held[(payment_on - as_of).days // 7] += face
    return tuple(
        DueWeek(
            starts_on=as_of + timedelta(days=7 * w),
            ends_on=as_of + timedelta(days=7 * w + 6),
            loans=len(borrowers[w]),
            principal=Money(principal[w], currency),
            interest=Money(interest[w], currency),
            credentials=Money(held[w], currency),
        )
        for w in range(weeks)
    )
