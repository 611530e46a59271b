"""Industry and region monitoring: how many of a bank's borrowers in each GB/T 4754 section
(or province) had an alert each month and how many of its loans there were past due at each
month's end, and a sector-wide warning when the latest month's alert or delinquency rate rises
beyond the sector's own history (above its trailing mean by more than two standard
deviations).

The population of a month is the bank's borrowers then known (a loan running or an open
line today, by their current industry and region); the alerts are the bank's, of any kind,
counted once per enterprise and month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Alert, Enterprise, Loan, LoanRepayment
from chainfin.domain import concentration
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import business_date
from chainfin.domain.errors import FieldError, Forbidden, ValidationFailed
from chainfin.services import alerts
from chainfin.services.early_warning import months_ending, subjects_of

BY = ("industry_section", "region_province")


@dataclass(frozen=True, slots=True)
class SectorRates:
    by: str
    months: tuple[date, ...]
    population: dict[str, int]
    alerted: dict[str, list[int]]
    warnings: tuple[str, ...]
    loans: dict[str, list[int]] = field(default_factory=dict)
    delinquent: dict[str, list[int]] = field(default_factory=dict)

    def rate(self, key: str, i: int) -> Fraction:
        n = self.population[key]
        return Fraction(self.alerted[key][i], n) if n else Fraction(0)

    def delinquency(self, key: str, i: int) -> Fraction:
        n = self.loans.get(key, [0] * len(self.months))[i]
        bad = self.delinquent.get(key, [0] * len(self.months))[i]
        return Fraction(bad, n) if n else Fraction(0)


def _key(ent: Enterprise, by: str) -> str:
    if by == "industry_section":
        return (ent.industry_code or "?")[:1]
    return ent.region_code[:2].ljust(6, "0")


def rates(
    session: Session, actor: Principal, *, by: str, as_of: date, months: int = 12
) -> SectorRates:
    actor.require(Scope.LOANS_READ)
    if actor.bank_id is None:
        raise Forbidden("a bank reads its own sectors", code="bank_staff_only")
    if by not in BY:
        raise ValidationFailed(
            [FieldError("by", f"must be one of {', '.join(BY)}")], code="dimension_unknown"
        )
    if not 4 <= months <= 36:
        raise ValidationFailed([FieldError("months", "4 to 36")], code="months_out_of_range")
    bank_id = actor.bank_id
    subjects = subjects_of(session, bank_id)
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(subjects)))}
    population: dict[str, int] = defaultdict(int)
    for e in ents.values():
        population[_key(e, by)] += 1
    span = months_ending(as_of, months)
    index = {m: i for i, m in enumerate(span)}
    seen: dict[str, list[set[str]]] = defaultdict(lambda: [set() for _ in span])
    for enterprise_id, created in session.execute(
        select(Alert.enterprise_id, Alert.created_at).where(
            Alert.bank_id == bank_id, Alert.enterprise_id.in_(list(ents))
        )
    ):
        i = index.get(business_date(created).replace(day=1))
        if i is not None and enterprise_id is not None:
            seen[_key(ents[enterprise_id], by)][i].add(enterprise_id)
    alerted = {key: [len(s) for s in seen[key]] for key in population}
    loans, delinquent = _delinquency(session, bank_id, by, span)
    result = SectorRates(by, tuple(span), dict(population), alerted, (), loans, delinquent)
    last = len(span) - 1

    def rising(rate: Callable[[str, int], Fraction], key: str) -> bool:
        return concentration.breakout([rate(key, i) for i in range(last)], rate(key, last))

    warnings = tuple(
        key
        for key in sorted(population)
        if rising(result.rate, key) or rising(result.delinquency, key)
    )
    return SectorRates(by, tuple(span), dict(population), alerted, warnings, loans, delinquent)


def _month_end(start: date) -> date:
    following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _delinquency(
    session: Session, bank_id: str, by: str, span: list[date]
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """At each month's end, the bank's loans then running and those then past due, per
    sector: due instalments against repayments received by that day (on the loan's current
    schedule — a prepayment's rescheduling is applied to the past too)."""
    loans_by: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    bad_by: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    rows = session.execute(
        select(Loan, Enterprise)
        .join(Enterprise, Enterprise.id == Loan.borrower_id)
        .where(Loan.bank_id == bank_id, Loan.start_on.is_not(None))
    ).all()
    paid: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for loan_id, value_on, principal, interest, prepaid in session.execute(
        select(
            LoanRepayment.loan_id,
            LoanRepayment.value_on,
            LoanRepayment.principal_minor,
            LoanRepayment.interest_minor,
            LoanRepayment.prepaid_minor,
        ).where(LoanRepayment.loan_id.in_([loan.id for loan, _e in rows]))
    ):
        paid[loan_id].append((value_on, principal + prepaid, interest))
    for loan, ent in rows:
        key = _key(ent, by)
        schedule = [
            (date.fromisoformat(r["due_on"]), r["principal_minor"], r["interest_minor"])
            for r in loan.schedule
        ]
        for i, month in enumerate(span):
            day = _month_end(month)
            if loan.start_on is None or loan.start_on > day:
                continue
            got_p = sum(p for on, p, _i in paid[loan.id] if on <= day)
            got_i = sum(i_ for on, _p, i_ in paid[loan.id] if on <= day)
            if got_p >= loan.principal_minor:
                continue  # repaid by then
            due_p = sum(p for on, p, _i in schedule if on < day)
            due_i = sum(i_ for on, _p, i_ in schedule if on < day)
            loans_by[key][i] += 1
            bad_by[key][i] += got_p < due_p or got_i < due_i
    return dict(loans_by), dict(bad_by)


def scan(session: Session, actor: Principal, *, by: str, as_of: date) -> SectorRates:
    """Rates, and a ``sector_warning`` alert for every sector breaking out."""
    actor.require(Scope.LOANS_WRITE)
    result = rates(session, actor, by=by, as_of=as_of)
    last = len(result.months) - 1
    for key in result.warnings:
        alerts.raise_alert(
            session,
            actor,
            kind="sector_warning",
            severity="high",
            subject_kind=by,
            subject_id=key,
            bank_id=actor.bank_id,
            enterprise_id=None,
            message=(
                f"{by} {key}: {result.alerted[key][last]} of {result.population[key]} borrowers "
                f"alerted in {result.months[last]:%Y-%m}, beyond the sector's own history"
            ),
            rule="sector_breakout",
        )
    return result
