"""A bank's exposure by core, chain, industry and region, and its concentration."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CredentialPiece
from chainfin.domain import concentration
from chainfin.domain.errors import Forbidden, ValidationFailed
from chainfin.domain.money import Money
from chainfin.resources.risk import ExposureOut
from chainfin.services import credentials, portfolio
from chainfin.services.lending import applications, loans
from lending_world import CORE_PAYEE, PAYEE, TODAY, build_lending

DEBTOR = {
    "debtor_name": "bank A",
    "debtor_account": "110000000000000001",
    "debtor_agent": "102100099996",
}


def test_exposure_by_every_dimension(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        for who, product, kind, ref, amount, payee in (
            ("t1", "receivable_financing", "invoice", world.docs["INV-T1-2"], "400000.00", PAYEE),
            ("x", "dealer_financing", "dealer_order", world.docs["DO-1"], "300000.00", CORE_PAYEE),
        ):
            app = applications.submit(
                s,
                world.ent(who),
                bank="BKA",
                product=product,
                amount=Money.parse(amount),
                tenor_months=3,
                method="bullet",
                underlying_kind=kind,
                underlying_ref=ref,
                payee=payee,
            )
            assert app.status == "approved", app.decision
        loans.disburse(s, rm, execution_on=TODAY + timedelta(days=1), **DEBTOR)
        # bank A also discounts a 100,000.00 credential the core issued to t1
        credential = credentials.issue(
            s,
            world.ent("core"),
            programme_id=world.credit.programme_id,
            confirmation_ids=[world.credit.confirmation_id],
            amount=Money.parse("100000.00"),
            maturity_on=TODAY + timedelta(days=90),
        )
        piece = s.scalars(
            select(CredentialPiece).where(CredentialPiece.credential_id == credential.id)
        ).one()
        credentials.accept(s, world.ent("t1"), piece.id)
        quote = credentials.quote(s, world.ent("t1"), piece.id, bank="BKA")
        credentials.finance(s, world.ent("t1"), quote.id)

    with session_factory() as s:
        by_core = portfolio.exposure(s, rm, by="core")
        # everything runs under the one core: the loans on its line, the credential it issued
        assert [r.key for r in by_core.rows] == [world.ids["core"]]
        assert by_core.total == Money.parse("800000.00")
        assert by_core.rows[0].limit == Money.parse("20000000.00")
        assert by_core.hhi == 1
        assert ExposureOut.build(by_core).concentration == "high"

        by_obligor = portfolio.exposure(s, rm, by="obligor")
        amounts = {r.key: r.exposure for r in by_obligor.rows}
        assert amounts == {
            world.ids["t1"]: Money.parse("400000.00"),
            world.ids["x"]: Money.parse("300000.00"),
            world.ids["core"]: Money.parse("100000.00"),
        }
        assert by_obligor.hhi == Fraction(4, 8) ** 2 + Fraction(3, 8) ** 2 + Fraction(1, 8) ** 2
        assert by_obligor.top5_share == 1

        by_industry = portfolio.exposure(s, rm, by="industry_division")
        assert [(r.key, r.exposure) for r in by_industry.rows] == [("C36", by_core.total)]
        by_section = portfolio.exposure(s, rm, by="industry_section")
        assert [r.key for r in by_section.rows] == ["C"]
        by_region = portfolio.exposure(s, rm, by="region_province")
        assert [r.key for r in by_region.rows] == ["320000"]
        by_chain = portfolio.exposure(s, rm, by="chain")
        assert [r.label for r in by_chain.rows] == ["(in none of the bank's chains)"]

        with pytest.raises(ValidationFailed, match="by"):
            portfolio.exposure(s, rm, by="colour")
        with pytest.raises(Forbidden):
            portfolio.exposure(s, world.ent("t1"), by="core")
        # another bank sees none of it
        assert portfolio.exposure(s, world.credit.staff("BKB"), by="core").rows == ()


def test_concentration_measures() -> None:
    assert concentration.hhi([100]) == 1
    assert concentration.hhi([25, 25, 25, 25]) == Fraction(1, 4)
    assert concentration.top_share([5, 1, 1, 1, 1, 1], 1) == Fraction(1, 2)
    assert concentration.level(Fraction(1, 4)) == "high"
    assert concentration.level(Fraction(1, 8)) == "moderate"
    assert concentration.level(Fraction(1, 20)) == "unconcentrated"
    with pytest.raises(ValueError, match="not negative"):
        concentration.hhi([1, -1])
