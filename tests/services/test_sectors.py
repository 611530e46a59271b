"""Industry and region monitoring: alert rates per sector and the sector-wide warning."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert
from chainfin.domain import concentration
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.money import Money
from chainfin.resources.risk import SectorRatesOut
from chainfin.services import alerts, sectors
from chainfin.services.lending import applications, loans
from lending_world import CORE_PAYEE, PAYEE, TODAY, build_lending


def test_breakout_against_own_history() -> None:
    calm = [Fraction(1, 10), Fraction(1, 10), Fraction(1, 10)]
    assert concentration.breakout(calm, Fraction(2, 10))  # flat history: any rise
    assert not concentration.breakout(calm, Fraction(1, 10))
    noisy = [Fraction(0), Fraction(2, 10), Fraction(0), Fraction(2, 10)]  # mean .1, sd .1
    assert not concentration.breakout(noisy, Fraction(3, 10))  # exactly 2 sd
    assert concentration.breakout(noisy, Fraction(31, 100))
    assert not concentration.breakout(noisy[:2], Fraction(9, 10))  # too little history


def test_a_sector_whose_borrowers_all_alert_at_once_is_warned(
    session_factory: sessionmaker[Session],
) -> None:
    world = build_lending(session_factory)
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        for who, kind, ref, payee in (
            ("t1", "invoice", world.docs["INV-T1-2"], PAYEE),
            ("x", "dealer_order", world.docs["DO-1"], CORE_PAYEE),
        ):
            product = "receivable_financing" if kind == "invoice" else "dealer_financing"
            app = applications.submit(
                s, world.ent(who), bank="BKA", product=product,
                amount=Money.parse("300000.00"), tenor_months=3, method="bullet",
                underlying_kind=kind, underlying_ref=ref, payee=payee,
            )  # fmt: skip
            assert app.status == "approved", app.decision
        loans.disburse(
            s, rm, debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
        for who in ("t1", "x"):
            alerts.raise_alert(
                s, rm, kind="ew_order_volume_drop", severity="medium", subject_kind="enterprise",
                subject_id=world.ids[who], bank_id=world.credit.banks["BKA"],
                enterprise_id=world.ids[who], message="orders fell",
            )  # fmt: skip
    with transaction(session_factory) as s:
        result = sectors.scan(s, rm, by="industry_section", as_of=TODAY)
        # the core (its line), t1 and x, all in section C; two alerted this month, none before
        assert result.population == {"C": 3}
        assert result.alerted["C"][-1] == 2
        assert result.alerted["C"][:-1] == [0] * 11
        assert result.warnings == ("C",)
        body = SectorRatesOut.build(result).model_dump()
        assert body["sectors"][0]["alert_rates_pct"][-1] == "66.67"
        warning = s.scalars(select(Alert).where(Alert.kind == "sector_warning")).one()
        assert (warning.subject_kind, warning.subject_id) == ("industry_section", "C")
        by_region = sectors.rates(s, rm, by="region_province", as_of=TODAY)
        assert by_region.population == {"320000": 3}
        with pytest.raises(ValidationFailed, match="by"):
            sectors.rates(s, rm, by="colour", as_of=TODAY)
        # last month alone would have shown nothing: the warning is about this month
        earlier = sectors.rates(s, rm, by="industry_section", as_of=TODAY - timedelta(days=40))
        assert earlier.warnings == ()


def test_delinquency_at_each_month_end(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    rm = world.staff("rm")
    start = TODAY  # a payment file cannot be dated in the past: look from months ahead
    as_of = TODAY + timedelta(days=75)
    month_end = (as_of.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    with transaction(session_factory) as s:
        made = {}
        for who, kind, ref, payee in (
            ("t1", "purchase_order", world.docs["PO-1"], PAYEE),
            ("x", "dealer_order", world.docs["DO-1"], CORE_PAYEE),
        ):
            product = "order_financing" if who == "t1" else "dealer_financing"
            app = applications.submit(
                s, world.ent(who), bank="BKA", product=product,
                amount=Money.parse("300000.00"), tenor_months=6 if who == "t1" else 3,
                method="bullet", underlying_kind=kind, underlying_ref=ref, payee=payee,
            )  # fmt: skip
            made[who] = app.id
        loans.disburse(
            s, rm, debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=start,
        )  # fmt: skip
        from chainfin.adapters.db.models import Loan

        t1 = s.scalars(select(Loan).where(Loan.application_id == made["t1"])).one()
        for row in loans.instalments(t1):
            if row.due_on <= month_end:
                loans.repay(s, rm, t1.id, amount=row.total, value_on=row.due_on)
    with session_factory() as s:
        result = sectors.rates(s, rm, by="industry_section", as_of=as_of)
        body = SectorRatesOut.build(result).model_dump()["sectors"][0]
        # both loans run from the month they started; x pays nothing, so from the month end
        # after its first due date one of the two is past due
        assert body["loans"][-1] == 2
        assert body["delinquent"][-1] == 1
        assert body["delinquency_rates_pct"][-1] == "50"
        assert body["loans"][:7] == [0] * 7  # before the loans started
        assert result.warnings == ("C",)
