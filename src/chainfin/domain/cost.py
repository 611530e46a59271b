"""Comparing discount offers for one credential piece: what each costs a year, and which is best.

A funder bank that discounts a piece of face ``F`` paid on ``payment_on`` pays the holder the
net proceeds ``N`` on ``value_on``; the holder gives up ``F − N`` (discount interest and every
fee) for the use of ``N`` over ``d = payment_on − value_on`` actual days. The **annualised
all-in cost** is that price as a simple yearly rate on the money received, on ACT/365 (actual
days over a 365-day year, whatever day count the bank priced its discount on, so that offers
priced on ACT/360 and ACT/365F compare on one scale)::

    cost % = (F − N) / N × 365 / d × 100        rounded half-up to 4 decimal places

It is the same figure every stored quote carries as ``all_in_rate``
(:func:`chainfin.domain.pricing.all_in_rate`); this module computes it from the dates and
picks the best of several offers.

>>> from datetime import date
>>> from chainfin.domain.money import Money
>>> annualised_cost_pct(Money.parse("1000000.00"), Money.parse("990097.23"),
...                     date(2026, 9, 1), date(2026, 12, 1))
Decimal('4.0117')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chainfin.domain.money import Money
from chainfin.domain.pricing import all_in_rate


def annualised_cost_pct(face: Money, net: Money, value_on: date, payment_on: date) -> Decimal:
    """(face − net) / net × 365 / days × 100, days = ``payment_on − value_on`` (ACT/365),
    half-up to 4 decimal places. ValueError when net or days are not positive, or the
    currencies differ."""
    return all_in_rate(face, net, (payment_on - value_on).days)


@dataclass(frozen=True, slots=True)
class Offer:
    """One bank's offer for a piece: what the holder receives and what it costs a year."""

    key: str  # the quote's id
    net: Money
    cost_pct: Decimal


def best_offers(offers: Iterable[Offer]) -> frozenset[str]:
    """The keys of the best offers: the highest net proceeds, then the lowest annualised
    cost; offers equal on both are all best. None for no offers.

    >>> a = Offer("a", Money.parse("990000.00"), Decimal("4.1"))
    >>> b = Offer("b", Money.parse("991000.00"), Decimal("3.9"))
    >>> sorted(best_offers([a, b]))
    ['b']
    """
    listed = list(offers)
    if not listed:
        return frozenset()
    currencies = {o.net.currency for o in listed}
    if len(currencies) > 1:
        raise ValueError(f"offers in several currencies: {', '.join(sorted(currencies))}")
    top = max((o.net.amount_minor, -o.cost_pct) for o in listed)
    return frozenset(o.key for o in listed if (o.net.amount_minor, -o.cost_pct) == top)
