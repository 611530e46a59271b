"""Day-count conventions: how many days, and what fraction of a year, lie between two dates.

Five conventions, named as in the ISDA 2006 Definitions, section 4.16:

============  ==========================================================================
ACT/360       actual days / 360 (4.16(e))
ACT/365F      actual days / 365 (4.16(d), "Actual/365 (Fixed)")
30/360        bond basis (4.16(f)): D1 = 31 -> 30; D2 = 31 -> 30 only when D1 is 30 or 31
30E/360       Eurobond basis (4.16(g)): D1 = 31 -> 30 and D2 = 31 -> 30
ACT/ACT ISDA  days in a non-leap year / 365 + days in a leap year / 366 (4.16(b))
============  ==========================================================================

>>> from datetime import date
>>> day_count(date(2006, 2, 28), date(2006, 3, 3), "30/360")
5
>>> year_fraction(date(2025, 1, 1), date(2025, 7, 1), "ACT/360")
Decimal('0.5027777777777777777777777778')
>>> year_fraction(date(2003, 11, 1), date(2004, 5, 1), "Actual/Actual")  # 61/365 + 121/366
Decimal('0.4977243805674077401003069092')
>>> year_fraction_exact(date(2003, 11, 1), date(2004, 5, 1), "ACT/ACT ISDA")
Fraction(66491, 133590)

Precision: :func:`year_fraction_exact` is the exact rational value. :func:`year_fraction` is
that value divided once, correctly rounded (half-even) to ``PRECISION_DIGITS`` = 28
significant digits in a private decimal context, so it does not depend on the caller's
``decimal`` context; a quotient that terminates within 28 digits (180/360 = 0.5) is exact.
Sums of rounded fractions can differ from the fraction of the whole period in the last
digit, so when several periods must add up exactly, add the exact fractions and round once.

Direction: ``start > end`` gives the negative of the count or fraction for ``end``, ``start``
(so ``f(a, b) == -f(b, a)`` in every convention, and the 30/360 rules are applied to the
earlier date as D1). ``start == end`` gives 0.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation
from fractions import Fraction

CONVENTIONS: tuple[str, ...] = ("ACT/360", "ACT/365F", "30/360", "30E/360", "ACT/ACT ISDA")

PRECISION_DIGITS = 28

_CONTEXT = Context(
    prec=PRECISION_DIGITS, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero]
)

# Other names for the same conventions, upper-cased with single spaces. Most are the
# synonyms ISDA 2006 section 4.16 itself lists. Ambiguous names ("ACT/365", "30/360 ISDA",
# "30/360 US") are deliberately absent: they mean different rules in different markets.
_ALIASES: dict[str, str] = {
    "ACTUAL/360": "ACT/360",
    "A/360": "ACT/360",
    "ACT/365 FIXED": "ACT/365F",
    "ACT/365 (FIXED)": "ACT/365F",
    "ACTUAL/365 FIXED": "ACT/365F",
    "ACTUAL/365 (FIXED)": "ACT/365F",
    "ACTUAL/365F": "ACT/365F",
    "A/365F": "ACT/365F",
    "A/365 (FIXED)": "ACT/365F",
    "360/360": "30/360",
    "BOND BASIS": "30/360",
    "30/360 BOND BASIS": "30/360",
    "EUROBOND BASIS": "30E/360",
    "30E/360 EUROBOND BASIS": "30E/360",
    "ACT/ACT": "ACT/ACT ISDA",
    "ACT/ACT (ISDA)": "ACT/ACT ISDA",
    "ACTUAL/ACTUAL": "ACT/ACT ISDA",
    "ACTUAL/ACTUAL ISDA": "ACT/ACT ISDA",
    "ACTUAL/ACTUAL (ISDA)": "ACT/ACT ISDA",
}

_DENOMINATORS: dict[str, int] = {"ACT/360": 360, "ACT/365F": 365, "30/360": 360, "30E/360": 360}

_AROUND_SLASH = re.compile(r"\s*/\s*")


def normalise(convention: str) -> str:
    """The canonical name (one of :data:`CONVENTIONS`) of ``convention`` or one of its aliases,
    matched case-insensitively.

    >>> normalise("30/360 bond basis")
    '30/360'
    """
    key = _AROUND_SLASH.sub("/", " ".join(convention.upper().split()))
    if key in CONVENTIONS:
        return key
    try:
        return _ALIASES[key]
    except KeyError:
        known = ", ".join(CONVENTIONS)
        aliases = ", ".join(sorted(_ALIASES))
        raise ValueError(
            f"unknown day-count convention {convention!r}; known: {known} (aliases: {aliases})"
        ) from None


def day_count(start: date, end: date, convention: str) -> int:
    """The numerator of the year fraction: actual days, or 30/360-style days."""
    name = normalise(convention)
    _require_dates(start, end)
    if start > end:
        return -_days(end, start, name)
    return _days(start, end, name)


def year_fraction_exact(start: date, end: date, convention: str) -> Fraction:
    """The year fraction from ``start`` to ``end`` as an exact rational number."""
    name = normalise(convention)
    _require_dates(start, end)
    if start > end:
        return -_fraction(end, start, name)
    return _fraction(start, end, name)


def year_fraction(start: date, end: date, convention: str) -> Decimal:
    """The year fraction, correctly rounded to ``PRECISION_DIGITS`` significant digits."""
    exact = year_fraction_exact(start, end, convention)
    return _CONTEXT.divide(Decimal(exact.numerator), Decimal(exact.denominator))


def _require_dates(start: date, end: date) -> None:
    # A datetime is a date too, but its time of day would silently be ignored or mis-counted.
    for value in (start, end):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"day counts take dates, not {type(value).__name__}")


def _days(start: date, end: date, name: str) -> int:
    if name == "30/360":
        return _thirty_360(start, end, eurobond=False)
    if name == "30E/360":
        return _thirty_360(start, end, eurobond=True)
    return (end - start).days


def _thirty_360(start: date, end: date, *, eurobond: bool) -> int:
    d1 = min(start.day, 30)
    d2 = end.day
    if d2 == 31 and (eurobond or d1 == 30):
        d2 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def _fraction(start: date, end: date, name: str) -> Fraction:
    if name == "ACT/ACT ISDA":
        return _act_act_isda(start, end)
    return Fraction(_days(start, end, name), _DENOMINATORS[name])


def _act_act_isda(start: date, end: date) -> Fraction:
    """Split the period at each 1 January; each piece counts over its own year's length."""
    total = Fraction(0)
    piece_start = start
    while piece_start.year < end.year:
        next_year = date(piece_start.year + 1, 1, 1)
        total += Fraction((next_year - piece_start).days, _days_in_year(piece_start.year))
        piece_start = next_year
    return total + Fraction((end - piece_start).days, _days_in_year(piece_start.year))


def _days_in_year(year: int) -> int:
    return (date(year, 12, 31) - date(year, 1, 1)).days + 1
