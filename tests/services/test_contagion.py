"""Contagion on the platform's supply network: a core enterprise defaults or pays late."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.money import Money
from chainfin.resources.risk import ContagionOut
from chainfin.services import contagion, documents
from chainfin.services.lending import applications, loans
from credit_world import uscc
from lending_world import PAYEE, TODAY, build_lending


def test_a_core_default_distresses_its_supplier_and_costs_the_bank(
    session_factory: sessionmaker[Session],
) -> None:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        # t1 sold 10,000,000.00 to the core this year (besides the world's own invoices)
        sale = {
            "kind": "invoice", "number": "CT-1", "seller_uscc": uscc(4),
            "buyer_uscc": uscc(3), "issue_date": (TODAY - timedelta(days=40)).isoformat(),
            "currency": "CNY", "total": "10000000.00", "tax": "0.00",
            "invoice_number": "26320000000000000777",
        }  # fmt: skip
        documents.ingest(s, world.ent("t1"), documents.parse_rows([sale]))
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        assert app.status == "approved"
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
    with session_factory() as s:
        out = contagion.run(s, world.staff("rm"), core=world.ids["core"], as_of=TODAY)
        # t1's invoices to the core in the year: 3,000,000 + 500,000 + 10,000,000
        claim = 13_500_000_00 * 90 / 365
        equity = 7_000_000_000 * 0.4  # 40 % of its 70,000,000.00 total assets
        h_t1 = claim / equity
        top = {d.id: d.h for d in out.top}
        assert top[world.ids["core"]] == 1.0
        assert top[world.ids["t1"]] == pytest.approx(h_t1, abs=1e-6)  # kept to 6 places
        assert out.scenario.shock == 1.0
        expected = int(Decimal(400_000_00) * Decimal(repr(h_t1)) * Decimal("0.45"))
        assert out.bank.expected_loss == Money(expected)
        assert out.bank.by_tier == {"outside the bank's chains": Money(expected)}
        # as the API and the CLI show it: percentages, amounts as decimal strings
        shown = ContagionOut.build(out)
        distress = {d.id: d.distress_pct for d in shown.top}
        assert (distress[world.ids["core"]], shown.scenario.shock_pct) == ("100", "100")
        assert Decimal(distress[world.ids["t1"]]) == round(Decimal(repr(h_t1)) * 100, 4)
        assert shown.bank.lgd_pct == "45"
        assert (shown.bank.expected_loss, shown.bank.currency) == (
            Money(expected).to_decimal_string(),
            "CNY",
        )

        late = contagion.run(
            s, world.staff("rm"), core=world.ids["core"], kind="delay", days=30, as_of=TODAY
        )
        assert late.scenario.shock == pytest.approx(1 / 3)
        assert ContagionOut.build(late).scenario.shock_pct == "33.33"
        late_top = {d.id: d.h for d in late.top}
        assert late_top[world.ids["t1"]] == pytest.approx(h_t1 / 3, abs=1e-6)

        with pytest.raises(ValidationFailed, match="days"):
            contagion.run(s, world.staff("rm"), core=world.ids["core"], kind="delay", as_of=TODAY)
        with pytest.raises(ValidationFailed, match="no invoiced trade"):
            contagion.run(s, world.staff("rm"), core=world.ids["x"], as_of=TODAY)
