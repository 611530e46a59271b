"""Whose prices value whose collateral: a bank's own, or the platform source its product
names — never another bank's; a correction is a new version and the latest one counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import TradeDocumentRow
from chainfin.domain.access import SYSTEM, PlatformRole, Principal, StaffRole
from chainfin.domain.errors import Forbidden
from chainfin.domain.money import Money
from chainfin.services.lending import prices, products
from chainfin.services.lending.underlying import value_receipt
from lending_world import TODAY, build_lending


def test_a_bank_values_its_collateral_at_its_own_prices_or_its_products_platform_source(
    session_factory: sessionmaker[Session],
) -> None:
    world = build_lending(session_factory)  # bank A priced copper foil at 80000.00/t
    bank_b = Principal.staff(
        "usr_b", bank_id=world.credit.banks["BKB"], roles=[StaffRole.RELATIONSHIP_MANAGER]
    )
    operator = Principal.operator("usr_op", roles=[PlatformRole.PLATFORM_OPERATOR])
    on = TODAY - timedelta(days=5)
    with transaction(session_factory) as s:
        # bank B's much lower price, later: bank A's valuation does not move
        prices.set_price(
            s, bank_b, item="copper foil", on=on, price=Money.parse("1.00"), unit="t", source="B"
        )
        receipt = s.get(TradeDocumentRow, world.docs["WR-1"])
        assert receipt is not None
        bank_a = world.credit.banks["BKA"]
        _, value = value_receipt(s, receipt, TODAY, bank_a)
        assert value == 20 * 80_000_00
        # bank A corrects its price on the same day: version 2, and it counts
        fixed = prices.set_price(
            s,
            world.admin(),
            item="copper foil",
            on=TODAY - timedelta(days=25),
            price=Money.parse("78000.00"),
            unit="t",
            source="revised settlement",
        )
        assert fixed.version == 2
        assert value_receipt(s, receipt, TODAY, bank_a)[1] == 20 * 78_000_00
        # a platform source: only the operator writes it, and a product may name it
        with pytest.raises(Forbidden):
            prices.create_source(s, world.admin(), code="SHFE", name="SHFE")
        prices.create_source(s, operator, code="SHFE", name="SHFE settlement")
        with pytest.raises(Forbidden):
            prices.set_price(
                s,
                world.admin(),
                item="copper foil",
                on=on,
                price=Money.parse("1.00"),
                unit="t",
                source="x",
                platform_source="SHFE",
            )
        prices.set_price(
            s,
            operator,
            item="copper foil",
            on=on,
            price=Money.parse("60000.00"),
            unit="t",
            source="SHFE settlement",
            platform_source="SHFE",
        )
        product = products.define(
            s,
            world.admin(),
            code="INV-SHFE",
            name="pledge at SHFE",
            config={"kind": "inventory_pledge", "price_source": "SHFE"},
        )
        owner = prices.owner_of_product(product)
        assert owner == "platform:SHFE"
        assert value_receipt(s, receipt, TODAY, owner)[1] == 20 * 60_000_00
        assert (
            prices.owner_of_product(products.resolve(s, "BKA", "inventory_pledge"))
            == world.credit.banks["BKA"]
        )
        # what each reads: its own prices and the platform sources
        assert {p.owner for p in prices.prices(s, bank_b).items} == {world.credit.banks["BKB"]}
        assert {p.owner for p in prices.prices(s, SYSTEM, platform_source="SHFE").items} == {owner}
