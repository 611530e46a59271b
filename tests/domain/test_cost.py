"""The annualised all-in cost of a discount offer, and which of several offers is best."""

from __future__ import annotations

import doctest
from datetime import date, timedelta
from decimal import Decimal

import pytest

from chainfin.domain import cost
from chainfin.domain.cost import Offer, annualised_cost_pct, best_offers
from chainfin.domain.money import Money
from chainfin.domain.pricing import DEFAULT_POLICY, LprFixing, quote


def cny(text: str) -> Money:
    return Money.parse(text)


def test_module_doctest() -> None:
    assert doctest.testmod(cost).failed == 0


def test_the_cost_is_what_is_given_up_over_what_is_received_a_365_day_year() -> None:
    # 10,000.00 given up for 990,000.00 over 73 days: 10,000 / 990,000 × 365 / 73 = 5.0505 %
    value_on = date(2026, 11, 26)
    got = annualised_cost_pct(cny("1000000.00"), cny("990000.00"), value_on, date(2027, 2, 7))
    assert got == Decimal("5.0505")


def test_the_cost_rounds_half_up_to_four_places() -> None:
    # 1.00 / 100.00 × 365 / 365 = exactly 1 %: 1.0000, four places kept
    start = date(2026, 1, 1)
    got = annualised_cost_pct(cny("101.00"), cny("100.00"), start, start + timedelta(days=365))
    assert got == Decimal("1.0000")
    assert str(got) == "1.0000"


def test_the_cost_is_the_one_every_quote_carries() -> None:
    fixing = LprFixing(date(2026, 8, 20), Decimal("3.00"), Decimal("3.50"))
    value_on, payment_on = date(2026, 11, 26), date(2027, 4, 26)
    q = quote(cny("480000.00"), value_on, payment_on, "AA+", fixing, DEFAULT_POLICY, value_on)
    assert annualised_cost_pct(q.face, q.net_proceeds, value_on, payment_on) == q.all_in_rate
    # ACT/365 on the money received: above the ACT/360 discount rate on the face
    assert q.all_in_rate > q.discount_rate


@pytest.mark.parametrize(
    ("face", "net", "days"),
    [("100.00", "0.00", 30), ("100.00", "99.00", 0), ("100.00", "99.00", -3)],
)
def test_no_cost_without_money_received_or_time(face: str, net: str, days: int) -> None:
    start = date(2026, 1, 1)
    with pytest.raises(ValueError, match="positive"):
        annualised_cost_pct(cny(face), cny(net), start, start + timedelta(days=days))


def test_the_best_offer_pays_the_most() -> None:
    offers = [
        Offer("bka", cny("472000.00"), Decimal("4.20")),
        Offer("bkb", cny("472500.00"), Decimal("4.05")),
    ]
    assert best_offers(offers) == {"bkb"}


def test_equal_net_proceeds_go_to_the_lower_cost() -> None:
    offers = [
        Offer("early", cny("472000.00"), Decimal("4.10")),
        Offer("late", cny("472000.00"), Decimal("4.20")),
    ]
    assert best_offers(offers) == {"early"}


def test_equal_offers_are_all_best() -> None:
    offers = [Offer(k, cny("472000.00"), Decimal("4.10")) for k in ("bka", "bkb")]
    assert best_offers(offers) == {"bka", "bkb"}


def test_no_offers_no_best() -> None:
    assert best_offers([]) == frozenset()


def test_offers_in_several_currencies_are_not_compared() -> None:
    offers = [Offer("a", cny("1.00"), Decimal("1")), Offer("b", Money(100, "USD"), Decimal("1"))]
    with pytest.raises(ValueError, match="several currencies"):
        best_offers(offers)
