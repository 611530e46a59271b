"""The ranges outside input may not go: business dates, instants, amounts, integers.

Every value that arrives from outside is checked against these before it is computed with
or stored, so that a date in year 1 or 9999 cannot overflow date arithmetic, an amount
cannot overflow a 64-bit column or lose precision in a JSON reader (IEEE doubles are exact
up to 2^53), and an index cannot overflow a SQL integer. docs/security.md ("Input") lists
them for API users.

>>> check_business_date(date(1, 1, 1))
'0001-01-01 is outside the business dates 1990-01-01 .. 2199-12-31'
>>> check_business_date(date(2026, 11, 26)) is None
True
>>> check_instant(datetime(2026, 11, 26, 10, 0))
'must carry a UTC offset, e.g. 2026-11-26T10:00:00+08:00'
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_BUSINESS_DATE = date(1990, 1, 1)
LAST_BUSINESS_DATE = date(2199, 12, 31)
# 9,007,199,254,740,991 fen is about 90 trillion yuan: far beyond any single trade, and every
# JSON reader (JavaScript's Number, a float64) still holds it exactly.
MAX_AMOUNT_MINOR = 2**53 - 1
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32


def check_business_date(value: date) -> str | None:
    """Why a business date is out of range, or None."""
    if isinstance(value, datetime):
        value = value.date()
    if not FIRST_BUSINESS_DATE <= value <= LAST_BUSINESS_DATE:
        return (
            f"{value.isoformat()} is outside the business dates "
            f"{FIRST_BUSINESS_DATE.isoformat()} .. {LAST_BUSINESS_DATE.isoformat()}"
        )
    return None


def check_instant(value: datetime) -> str | None:
    """Why an instant is not acceptable (no offset, or its date is out of range), or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "must carry a UTC offset, e.g. 2026-11-26T10:00:00+08:00"
    return check_business_date(value.date())


def check_amount_minor(minor: int) -> str | None:
    """Why an amount in minor units is too large in magnitude, or None."""
    if abs(minor) > MAX_AMOUNT_MINOR:
        return f"is beyond the largest amount, {MAX_AMOUNT_MINOR} minor units"
    return None
