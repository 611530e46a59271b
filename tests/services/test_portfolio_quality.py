"""The quality of a bank's book (services/portfolio_quality.py) and the risk officer's
promotion of a model (services/models.promote_as_risk_officer)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Loan
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.errors import Forbidden, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import models, portfolio_quality
from chainfin.services.lending import applications, loans
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"


@dataclass
class Book:
    world: LendingWorld
    loan_id: str

    def staff(self, bank: str, *roles: StaffRole) -> Principal:
        return Principal.staff(
            f"usr_{bank}_{'_'.join(roles)}", bank_id=self.world.credit.banks[bank], roles=roles
        )


@pytest.fixture
def book(session_factory: sessionmaker[Session]) -> Book:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
        loan = applications.loan_of(s, app.id)
        assert loan is not None
    return Book(world, loan.id)


def test_the_limits_are_sanctioned_used_and_available(
    book: Book, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        limits = portfolio_quality.limits(s, book.staff("BKA", StaffRole.RISK_OFFICER))
        (line,) = limits.lines
        assert line.limit == Money.parse("20000000.00") == limits.limit
        assert line.used == Money.parse("400000.00") == limits.used
        assert line.available == Money.parse("19600000.00") == limits.available
        assert portfolio_quality.limits(s, book.staff("BKB", StaffRole.RISK_OFFICER)).lines == ()


@pytest.mark.parametrize(
    ("days_after", "bucket"),
    [(0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (61, "61-90"), (91, "over_90")],
)
def test_a_loan_ages_through_the_buckets(
    book: Book, session_factory: sessionmaker[Session], days_after: int, bucket: str
) -> None:
    risk = book.staff("BKA", StaffRole.RISK_OFFICER)
    with session_factory() as s:
        # the first instalment falls due first: days past due count from it
        first = date.fromisoformat(s.get_one(Loan, book.loan_id).schedule[0]["due_on"])
        rows = portfolio_quality.ageing(s, risk, as_of=first + timedelta(days=days_after))
    assert [r.key for r in rows] == ["current", "1-30", "31-60", "61-90", "over_90"]
    (hit,) = [r for r in rows if r.loans]
    assert (hit.key, hit.outstanding) == (bucket, Money.parse("400000.00"))


def test_the_five_categories_and_the_maturities_ahead(
    book: Book, session_factory: sessionmaker[Session]
) -> None:
    risk = book.staff("BKA", StaffRole.RISK_OFFICER)
    with session_factory() as s:
        classes = portfolio_quality.categories(s, risk)
        weeks = portfolio_quality.maturities(s, risk, as_of=TODAY, weeks=26)
        with pytest.raises(ValidationFailed):
            portfolio_quality.maturities(s, risk, as_of=TODAY, weeks=27)
    assert [c.key for c in classes] == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert classes[0].loans == 1
    assert sum((w.principal for w in weeks), Money.zero()) == Money.parse("400000.00")
    due = [w for w in weeks if w.loans]
    assert due, "the instalments fall due within 26 weeks"
    assert sum(w.interest.amount_minor for w in due) > 0
    assert all(w.total == w.principal + w.interest + w.credentials for w in weeks)
    assert [w.starts_on for w in weeks] == [TODAY + timedelta(days=7 * n) for n in range(26)]


def test_an_enterprise_reads_no_book(book: Book, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, pytest.raises(Forbidden):
        portfolio_quality.ageing(s, book.world.ent("t1"), as_of=TODAY)


def test_a_risk_officer_promotes_and_others_are_refused_as_before(
    book: Book, session_factory: sessionmaker[Session]
) -> None:
    with DATA.open(newline="") as f:
        data = list(csv.DictReader(f))[:200]
    maker = book.staff("BKA", StaffRole.RELATIONSHIP_MANAGER)
    with transaction(session_factory) as s:
        model = models.train_and_register(
            s, maker, "sme", data, target="default", columns=list(data[0]),
            options=TrainOptions(features=("debt_ratio", "days_late_12m"), seed=1),
        )  # fmt: skip
    with transaction(session_factory) as s:
        with pytest.raises(Forbidden):  # an approver's loans:approve is not enough
            models.promote_as_risk_officer(s, book.staff("BKA", StaffRole.APPROVER), model.id)
        with pytest.raises(Forbidden):  # the API's promote still asks for loans:write
            models.promote(s, book.staff("BKA", StaffRole.RISK_OFFICER), model.id)
        with pytest.raises(NotFound):
            models.promote_as_risk_officer(s, book.staff("BKB", StaffRole.RISK_OFFICER), model.id)
    with transaction(session_factory) as s:
        row = models.promote_as_risk_officer(s, book.staff("BKA", StaffRole.RISK_OFFICER), model.id)
        assert row.status == "champion"
