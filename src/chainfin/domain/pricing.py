"""Discount quotes for payable credentials: LPR + spread by rating and tenor, itemised fees.

A holder of a payable credential (a core enterprise's promise to pay ``face`` on the payment
date) asks a funder bank to buy it at a discount. The bank's :class:`PricingPolicy` says which
spread over the Loan Prime Rate each core-enterprise rating gets for each tenor band, which fees
it charges and on which day count; :func:`quote` turns that into one transparent offer.

Units: LPR fixings and every ``*_rate`` here are annual rates **in percent** (``Decimal("3.00")``
is 3.00 %, the way the PBoC publishes them); spreads and rate fees are in basis points
(1 bp = 0.01 %); amounts are :class:`~chainfin.domain.money.Money`.

Rounding: each amount (the discount interest, each fee, penalty interest, each day of
amortisation) is computed exactly, with the exact rational year fraction of
:mod:`chainfin.domain.daycount`, and rounded **once, half-up, to the minor unit** (fen), as the
rest of the platform does; nothing is rounded twice, so a true half fen (7,150.00 × 3.60 % ×
7/360 = 5.005) rounds up. The all-in rate is rounded half-up to 4 decimal places of a percent.

:data:`DEFAULT_POLICY` (a starting point for a bank to edit, not advice), over 1-year LPR,
ACT/360, tenor bands up to and including 90 / 180 / 366 days:

======  ====  =====  =====
rating   90   180    366
======  ====  =====  =====
AAA      30    40     60
AA+      50    65     85
AA       80   100    130
AA-     120   150    190
A+      180   220    270
A       250   300    360
======  ====  =====  =====

Other ratings are not financed under the default policy. Fees: platform service fee 30 bp/yr
(``rate_annual``), handling fee 5 bp once (``rate_flat``), registry filing fee 50.00 CNY
(``fixed``). A fixing more than one calendar month old is flagged, tenors start at 1 day.

>>> from datetime import date
>>> fixing = LprFixing(date(2026, 8, 20), Decimal("3.00"), Decimal("3.50"))
>>> q = quote(Money.parse("1000000.00"), date(2026, 9, 1), date(2026, 12, 1), "AAA", fixing,
...           DEFAULT_POLICY, as_of=date(2026, 9, 1))
>>> q.days, q.spread_bp, q.discount_rate
(91, 40, Decimal('3.40'))
>>> str(q.discount_interest), str(q.net_proceeds), q.all_in_rate
('8594.44 CNY', '990097.23 CNY', Decimal('4.0117'))
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from types import MappingProxyType
from typing import Literal, cast, get_args

from chainfin.domain.daycount import CONVENTIONS as DAY_COUNTS
from chainfin.domain.daycount import day_count as _day_count
from chainfin.domain.daycount import normalise as _normalise_day_count
from chainfin.domain.daycount import year_fraction, year_fraction_exact
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money, MoneyError, minor_units

FeeKind = Literal["rate_annual", "rate_flat", "fixed"]
Base = Literal["LPR1Y", "LPR5Y"]
FEE_KINDS: tuple[FeeKind, ...] = get_args(FeeKind)
BASES: tuple[Base, ...] = get_args(Base)
# Conventions whose year fraction is a day count over a fixed denominator (shown as "92/360").
_DENOMINATOR = {"ACT/360": 360, "ACT/365F": 365, "30/360": 360, "30E/360": 360}

LPR_HEADER = ("date", "lpr_1y", "lpr_5y")
MAX_LPR_PERCENT = Decimal(20)
LPR_DECIMALS = 4
MAX_CSV_CHARS = 1_000_000
MAX_SPREAD_BP = 10_000
MIN_SPREAD_BP = -1_000  # LPR-minus pricing exists for the best names; the rate must stay >= 0.
MAX_FEE_BP = Decimal(10_000)
MAX_TENOR_DAYS = 3_660
ALL_IN_DAYS_PER_YEAR = 365  # the one comparable annualisation shown to the borrower

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_FEE_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)


# --- LPR fixings -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LprFixing:
    """One monthly LPR publication: 1-year and over-5-year rates in percent."""

    fixed_on: date
    rate_1y: Decimal
    rate_5y: Decimal

    def __post_init__(self) -> None:
        errors = [
            FieldError(name, reason)
            for name, value in (("rate_1y", self.rate_1y), ("rate_5y", self.rate_5y))
            if (reason := _lpr_rate_problem(value)) is not None
        ]
        if errors:
            raise ValidationFailed(errors)

    def rate(self, base: Base) -> Decimal:
        return self.rate_1y if base == "LPR1Y" else self.rate_5y

    def to_dict(self) -> dict[str, str]:
        return {
            "fixed_on": self.fixed_on.isoformat(),
            "rate_1y": _decimal_text(self.rate_1y),
            "rate_5y": _decimal_text(self.rate_5y),
        }


def _lpr_rate_problem(value: object) -> str | None:
    if not isinstance(value, Decimal) or not value.is_finite():
        return "must be a finite Decimal percentage"
    if value < 0:
        return "must not be negative"
    if value > MAX_LPR_PERCENT:
        return f"must be at most {MAX_LPR_PERCENT}%"
    if _decimals(value) > LPR_DECIMALS:
        return f"has more than {LPR_DECIMALS} decimal places"
    return None


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _parse_lpr_rate(text: str) -> Decimal | str:
    if not _NUMBER.fullmatch(text):
        return f"{text!r} is not a number like 3.45"
    value = Decimal(text)
    return _lpr_rate_problem(value) or value


def _parse_iso_date(text: str) -> date | str:
    if not _ISO_DATE.fullmatch(text):
        return f"{text!r} is not a date in YYYY-MM-DD form"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return f"{text!r} is not a calendar date"


def parse_lpr_csv(text: str) -> list[LprFixing]:
    """Parse ``date,lpr_1y,lpr_5y`` rows (rates in percent, up to 4 decimals, 0-20 %).

    Rows may come in any order; the result is sorted by date. Every problem is reported at once
    as a :class:`ValidationFailed` whose ``row`` is the line number in the file (header = 1).
    """
    if len(text) > MAX_CSV_CHARS:
        raise ValidationFailed(
            [FieldError("file", f"longer than {MAX_CSV_CHARS} characters")], code="file_too_long"
        )
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next((r for r in reader if any(c.strip() for c in r)), None)
    if header is None or tuple(c.strip().lower() for c in header) != LPR_HEADER:
        got = "nothing" if header is None else ",".join(header)
        reason = f"expected {','.join(LPR_HEADER)}, got {got}"
        raise ValidationFailed(
            [FieldError("header", reason, reader.line_num or 1)], code="lpr_file_invalid"
        )
    fixings: list[LprFixing] = []
    errors: list[FieldError] = []
    first_row: dict[date, int] = {}
    for cells in reader:
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(LPR_HEADER):
            reason = f"expected {len(LPR_HEADER)} fields, got {len(cells)}"
            errors.append(FieldError("row", reason, row))
            continue
        fixing = _parse_lpr_row([c.strip() for c in cells], row, first_row, errors)
        if fixing is not None:
            fixings.append(fixing)
    if not errors and not fixings:
        errors.append(FieldError("file", "no fixings after the header"))
    if errors:
        raise ValidationFailed(errors)
    return sorted(fixings, key=lambda f: f.fixed_on)


def _parse_lpr_row(
    cells: list[str], row: int, first_row: dict[date, int], errors: list[FieldError]
) -> LprFixing | None:
    fixed_on = _parse_iso_date(cells[0])
    rate_1y = _parse_lpr_rate(cells[1])
    rate_5y = _parse_lpr_rate(cells[2])
    before = len(errors)
    for name, value in zip(LPR_HEADER, (fixed_on, rate_1y, rate_5y), strict=True):
        if isinstance(value, str):
            errors.append(FieldError(name, value, row))
    if isinstance(fixed_on, date):
        if fixed_on in first_row:
            reason = f"duplicate fixing date {fixed_on} (first on row {first_row[fixed_on]})"
            errors.append(FieldError("date", reason, row))
        else:
            first_row[fixed_on] = row
    if len(errors) > before:
        return None
    return LprFixing(cast(date, fixed_on), cast(Decimal, rate_1y), cast(Decimal, rate_5y))


def fixing_in_force(fixings: Iterable[LprFixing], on: date) -> LprFixing | None:
    """The latest fixing published on or before ``on`` (a rate applies from its publication
    date until the next one), or None before the first."""
    return max((f for f in fixings if f.fixed_on <= on), key=lambda f: f.fixed_on, default=None)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` calendar months later, clamped to month end (01-31 + 1 → 02-28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def is_stale(fixing: LprFixing, as_of: date, *, max_age_months: int = 1) -> bool:
    """True when ``as_of`` is more than ``max_age_months`` calendar months after the fixing
    (fixed 2026-08-20: stale from 2026-09-21 on), i.e. at least one publication was missed."""
    if max_age_months < 0:
        raise ValueError("max_age_months must not be negative")
    return as_of > add_months(fixing.fixed_on, max_age_months)


# --- policy ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpreadBand:
    """Tenors up to and including ``max_days`` get ``spread_bp`` over the base rate."""

    max_days: int
    spread_bp: int


@dataclass(frozen=True, slots=True)
class FeeRule:
    """A fee: ``rate_annual`` is ``value`` bp per year of face (× year fraction), ``rate_flat``
    is ``value`` bp of face once, ``fixed`` is ``value`` in major units of the policy currency."""

    code: str
    name: str
    kind: FeeKind
    value: Decimal


@dataclass(frozen=True)
class PricingPolicy:
    """How one bank prices discounts in one currency; validated on construction.

    ``spreads`` maps a core-enterprise rating (canonical upper case, e.g. "AA+") to its tenor
    bands in increasing ``max_days``; a rating that is absent is not financed.
    """

    spreads: Mapping[str, tuple[SpreadBand, ...]]
    fees: tuple[FeeRule, ...] = ()
    day_count: str = "ACT/360"
    base: Base = "LPR1Y"
    stale_after_months: int = 1
    min_days: int = 1
    currency: str = "CNY"

    def __post_init__(self) -> None:
        frozen = MappingProxyType({k: tuple(v) for k, v in dict(self.spreads).items()})
        object.__setattr__(self, "spreads", frozen)
        object.__setattr__(self, "fees", tuple(self.fees))
        errors = _policy_problems(
            self.spreads,
            self.fees,
            {name: getattr(self, name) for name in _POLICY_SCALARS},
        )
        if errors:
            raise ValidationFailed(errors)

    def bands_for(self, rating: str) -> tuple[SpreadBand, ...]:
        """The bands of a rating (case and surrounding space ignored) or ValidationFailed."""
        key = rating.strip().upper()
        if key not in self.spreads:
            known = ", ".join(self.spreads)
            reason = f"rating {rating!r} is not financed under this policy (known: {known})"
            raise ValidationFailed([FieldError("rating", reason)], code="rating_unknown")
        return self.spreads[key]

    def to_dict(self) -> dict[str, object]:
        """JSON-able form; decimals as strings. ``from_dict(p.to_dict()) == p``."""
        return {
            "currency": self.currency,
            "base": self.base,
            "day_count": self.day_count,
            "stale_after_months": self.stale_after_months,
            "min_days": self.min_days,
            "spreads": {
                rating: [{"max_days": b.max_days, "spread_bp": b.spread_bp} for b in bands]
                for rating, bands in self.spreads.items()
            },
            "fees": [
                {"code": f.code, "name": f.name, "kind": f.kind, "value": _decimal_text(f.value)}
                for f in self.fees
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> PricingPolicy:
        """Build from the :meth:`to_dict` shape (``spreads`` required, the rest defaulted);
        every problem is reported with its path, e.g. ``spreads.AA+[1].spread_bp``."""
        return _policy_from_dict(data)


def _problem_if(condition: bool, path: str, reason: str) -> list[FieldError]:
    return [FieldError(path, reason)] if condition else []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _currency_problem(currency: str) -> str | None:
    try:
        minor_units(currency)
    except MoneyError as exc:
        return exc.message
    return None


_POLICY_SCALARS = ("currency", "base", "day_count", "stale_after_months", "min_days")


def _policy_problems(
    spreads: Mapping[str, Sequence[SpreadBand | None] | None] | None,
    fees: Sequence[FeeRule | None],
    scalars: Mapping[str, object],
) -> list[FieldError]:
    """Every rule a policy must satisfy. ``None`` marks a part already reported as missing or
    malformed; it stays in place so that the paths of the others keep their index."""
    errors = _scalar_problems(scalars)
    currency = scalars["currency"]
    if not isinstance(currency, str) or _currency_problem(currency):
        currency = "CNY"  # already reported; check fixed fees against something
    if spreads is not None and not spreads:
        errors.append(FieldError("spreads", "at least one rating is required"))
    for rating, bands in (spreads or {}).items():
        errors += _rating_problems(rating)
        errors += [] if bands is None else _bands_problems(rating, bands)
    return errors + _fees_problems(fees, currency)


def _scalar_problems(scalars: Mapping[str, object]) -> list[FieldError]:
    day_count, base = scalars["day_count"], scalars["base"]
    stale, min_days = scalars["stale_after_months"], scalars["min_days"]
    currency = scalars["currency"]
    currency_problem = (
        _currency_problem(currency) if isinstance(currency, str) else "must be a currency code"
    )
    return [
        *_problem_if(day_count not in DAY_COUNTS, "day_count", _day_count_problem(day_count)),
        *_problem_if(
            base not in BASES,
            "base",
            f"unknown base rate {base!r} (known: {', '.join(BASES)})",
        ),
        *_problem_if(
            not _is_int(stale) or not 0 <= cast(int, stale) <= 12,
            "stale_after_months",
            "must be a whole number of months from 0 to 12",
        ),
        *_problem_if(
            not _is_int(min_days) or not 1 <= cast(int, min_days) <= MAX_TENOR_DAYS,
            "min_days",
            f"must be a whole number of days from 1 to {MAX_TENOR_DAYS}",
        ),
        *_problem_if(currency_problem is not None, "currency", str(currency_problem)),
    ]


def _day_count_problem(day_count: object) -> str:
    try:
        canonical = _normalise_day_count(day_count) if isinstance(day_count, str) else None
    except ValueError:
        canonical = None
    if canonical is not None:
        return f"write the day count by its canonical name {canonical!r}"
    return f"unknown day count {day_count!r} (known: {', '.join(DAY_COUNTS)})"


def _rating_problems(rating: object) -> list[FieldError]:
    if not isinstance(rating, str) or not rating or not 1 <= len(rating) <= 10:
        return [FieldError("spreads", f"rating {rating!r} must be 1-10 characters")]
    canonical = rating.strip().upper()
    return _problem_if(
        rating != canonical or any(c.isspace() for c in rating),
        f"spreads.{rating}",
        f"rating must be written in canonical form {canonical!r} without spaces",
    )


def _bands_problems(rating: str, bands: Sequence[SpreadBand | None]) -> list[FieldError]:
    path = f"spreads.{rating}"
    if not bands:
        return [FieldError(path, "at least one tenor band is required")]
    errors: list[FieldError] = []
    previous = 0
    for i, band in enumerate(bands):
        here = f"{path}[{i}]"
        if band is None:
            continue
        if not isinstance(band, SpreadBand):
            errors.append(FieldError(here, "must be a SpreadBand"))
            continue
        if not _is_int(band.max_days) or not 1 <= band.max_days <= MAX_TENOR_DAYS:
            reason = f"must be a whole number of days from 1 to {MAX_TENOR_DAYS}"
            errors.append(FieldError(f"{here}.max_days", reason))
        elif band.max_days <= previous:
            reason = f"must be greater than the previous band's {previous} (bands ascend)"
            errors.append(FieldError(f"{here}.max_days", reason))
        else:
            previous = band.max_days
        if not _is_int(band.spread_bp) or not MIN_SPREAD_BP <= band.spread_bp <= MAX_SPREAD_BP:
            reason = f"must be a whole number of bp from {MIN_SPREAD_BP} to {MAX_SPREAD_BP}"
            errors.append(FieldError(f"{here}.spread_bp", reason))
    return errors


def _fees_problems(fees: Sequence[FeeRule | None], currency: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, fee in enumerate(fees):
        if fee is None:
            continue
        if not isinstance(fee, FeeRule):
            errors.append(FieldError(f"fees[{i}]", "must be a FeeRule"))
            continue
        errors += _fee_problems(f"fees[{i}]", fee, currency)
        if isinstance(fee.code, str):
            if fee.code in seen:
                reason = f"duplicate fee code {fee.code!r}"
                errors.append(FieldError(f"fees[{i}].code", reason))
            seen.add(fee.code)
    return errors


def _fee_problems(path: str, fee: FeeRule, currency: str) -> list[FieldError]:
    errors = _problem_if(
        not isinstance(fee.code, str) or not _FEE_CODE.fullmatch(fee.code),
        f"{path}.code",
        "must be 1-40 lower-case letters, digits or _ starting with a letter",
    )
    errors += _problem_if(
        not isinstance(fee.name, str) or not fee.name.strip() or len(fee.name) > 100,
        f"{path}.name",
        "must be 1-100 characters",
    )
    if fee.kind not in FEE_KINDS:
        reason = f"unknown fee kind {fee.kind!r} (known: {', '.join(FEE_KINDS)})"
        return [*errors, FieldError(f"{path}.kind", reason)]
    value = fee.value
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        return [*errors, FieldError(f"{path}.value", "must be a non-negative decimal")]
    if fee.kind == "fixed":
        places = minor_units(currency)
        errors += _problem_if(
            _decimals(value) > places,
            f"{path}.value",
            f"has more than {places} decimal places for {currency}",
        )
    else:
        errors += _problem_if(
            value > MAX_FEE_BP or _decimals(value) > 2,
            f"{path}.value",
            f"must be at most {MAX_FEE_BP} bp with up to 2 decimals",
        )
    return errors


def _unknown_keys(
    data: Mapping[object, object], allowed: Sequence[str], path: str
) -> list[FieldError]:
    prefix = f"{path}." if path else ""
    return [
        FieldError(f"{prefix}{key}", f"unknown field (expected one of: {', '.join(allowed)})")
        for key in data
        if key not in allowed
    ]


def _policy_from_dict(data: object) -> PricingPolicy:
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            [FieldError("policy", "must be a JSON object")], code="pricing_policy_invalid"
        )
    errors = _unknown_keys(data, (*_POLICY_SCALARS, "spreads", "fees"), "")
    if "spreads" not in data:
        errors.append(FieldError("spreads", "is required"))
    spreads = _spreads_from(data["spreads"], errors) if "spreads" in data else None
    fees = _fees_from(data.get("fees", []), errors)
    defaults = PricingPolicy.__dataclass_fields__
    scalars = {key: data.get(key, defaults[key].default) for key in _POLICY_SCALARS}
    errors += _policy_problems(spreads, fees, scalars)
    if errors:
        raise ValidationFailed(errors)
    return PricingPolicy(
        spreads=cast(dict[str, tuple[SpreadBand, ...]], spreads),
        fees=cast(tuple[FeeRule, ...], fees),
        **scalars,
    )


def _spreads_from(
    raw: object, errors: list[FieldError]
) -> dict[str, tuple[SpreadBand | None, ...] | None] | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError("spreads", "must be an object of rating: [bands]"))
        return None
    out: dict[str, tuple[SpreadBand | None, ...] | None] = {}
    for rating, raw_bands in raw.items():
        path = f"spreads.{rating}"
        if not isinstance(raw_bands, list):
            errors.append(FieldError(path, "must be a list of {max_days, spread_bp}"))
            out[str(rating)] = None
            continue
        out[str(rating)] = tuple(
            _band_from(item, f"{path}[{i}]", errors) for i, item in enumerate(raw_bands)
        )
    return out


def _band_from(item: object, path: str, errors: list[FieldError]) -> SpreadBand | None:
    if not isinstance(item, Mapping):
        errors.append(FieldError(path, "must be an object {max_days, spread_bp}"))
        return None
    keys = ("max_days", "spread_bp")
    errors.extend(_unknown_keys(item, keys, path))
    missing = [k for k in keys if k not in item]
    errors.extend(FieldError(f"{path}.{k}", "is required") for k in missing)
    return None if missing else SpreadBand(item["max_days"], item["spread_bp"])


def _fees_from(raw: object, errors: list[FieldError]) -> tuple[FeeRule | None, ...]:
    if not isinstance(raw, list):
        errors.append(FieldError("fees", "must be a list of fee rules"))
        return ()
    return tuple(_fee_from(item, f"fees[{i}]", errors) for i, item in enumerate(raw))


def _fee_from(item: object, path: str, errors: list[FieldError]) -> FeeRule | None:
    if not isinstance(item, Mapping):
        errors.append(FieldError(path, "must be an object {code, name, kind, value}"))
        return None
    keys = ("code", "name", "kind", "value")
    errors.extend(_unknown_keys(item, keys, path))
    missing = [k for k in keys if k not in item]
    errors.extend(FieldError(f"{path}.{k}", "is required") for k in missing)
    value = _decimal_from(item.get("value"))
    if "value" in item and value is None:
        errors.append(FieldError(f"{path}.value", 'must be a decimal string like "0.30"'))
    if missing or value is None:
        return None
    return FeeRule(item["code"], item["name"], item["kind"], value)


def _decimal_from(raw: object) -> Decimal | None:
    """Decimals arrive as strings (or integers); floats are refused as inexact."""
    if _is_int(raw):
        return Decimal(cast(int, raw))
    if not isinstance(raw, str) or not _NUMBER.fullmatch(raw.strip()):
        return None
    try:
        return Decimal(raw.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return None


DEFAULT_POLICY = PricingPolicy(
    spreads={
        rating: (SpreadBand(90, b90), SpreadBand(180, b180), SpreadBand(366, b366))
        for rating, b90, b180, b366 in (
            ("AAA", 30, 40, 60),
            ("AA+", 50, 65, 85),
            ("AA", 80, 100, 130),
            ("AA-", 120, 150, 190),
            ("A+", 180, 220, 270),
            ("A", 250, 300, 360),
        )
    },
    fees=(
        FeeRule("platform_service", "platform service fee", "rate_annual", Decimal("30")),
        FeeRule("handling", "handling fee", "rate_flat", Decimal("5")),
        FeeRule("registry_filing", "registry filing fee", "fixed", Decimal("50.00")),
    ),
)


# --- quote -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeItem:
    code: str
    name: str
    kind: FeeKind
    basis: str  # how it was computed, for a person: "0.30%/yr × 92/360 on 1,000,000.00"
    amount: Money

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "basis": self.basis,
            "amount": self.amount.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Quote:
    """A discount offer: the holder receives ``net_proceeds`` on ``value_date`` for a credential
    paying ``face`` on ``payment_date``. ``face == net_proceeds + discount_interest + fees_total``.
    """

    face: Money
    rating: str
    value_date: date
    payment_date: date
    as_of: date
    days: int
    day_count: str
    year_fraction: Decimal
    base: Base
    base_rate: Decimal  # percent
    spread_bp: int
    discount_rate: Decimal  # percent, base_rate + spread
    discount_interest: Money
    fees: tuple[FeeItem, ...]
    fees_total: Money
    net_proceeds: Money
    all_in_rate: Decimal  # percent, (face − net) / net × 365 / days, 4 dp
    fixing: LprFixing
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-able: money as {"amount": "1234.56", "currency": "CNY"}, rates as strings."""
        return {
            "face": self.face.as_dict(),
            "rating": self.rating,
            "value_date": self.value_date.isoformat(),
            "payment_date": self.payment_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "day_count": self.day_count,
            "year_fraction": _decimal_text(self.year_fraction),
            "base": self.base,
            "base_rate": _decimal_text(self.base_rate),
            "spread_bp": self.spread_bp,
            "discount_rate": _decimal_text(self.discount_rate),
            "discount_interest": self.discount_interest.as_dict(),
            "fees": [f.to_dict() for f in self.fees],
            "fees_total": self.fees_total.as_dict(),
            "net_proceeds": self.net_proceeds.as_dict(),
            "all_in_rate": _decimal_text(self.all_in_rate),
            "fixing": self.fixing.to_dict(),
            "warnings": list(self.warnings),
        }


def _decimal_text(value: Decimal) -> str:
    """Plain notation, never "5E+1": what the JSON readers (and from_dict) accept."""
    return f"{value:f}"


def quote(
    face: Money,
    value_date: date,
    payment_date: date,
    rating: str,
    fixing: LprFixing,
    policy: PricingPolicy,
    as_of: date,
) -> Quote:
    """Price the discount of ``face`` paid on ``payment_date``, funded on ``value_date``.

    Rejected with :class:`ValidationFailed` (all at once where independent): a face that is not
    positive or not in the policy currency, a tenor shorter than ``policy.min_days``, a rating
    the policy does not finance, a fixing published after ``as_of``; then a tenor beyond the
    rating's longest band, a negative discount rate, and net proceeds that would not be positive.
    """
    days = (payment_date - value_date).days
    errors = _quote_input_problems(face, days, fixing, policy, as_of)
    try:
        bands = policy.bands_for(rating)
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    spread_bp = _spread_for(bands, days, rating)
    base_rate = fixing.rate(policy.base)
    discount_rate = base_rate + Decimal(spread_bp).scaleb(-2)
    if discount_rate < 0:
        reason = f"base {base_rate}% + spread {spread_bp} bp is a negative rate"
        raise ValidationFailed([FieldError("rating", reason)], code="rating_unknown")
    years = year_fraction_exact(value_date, payment_date, policy.day_count)
    years_text = _years_text(value_date, payment_date, policy.day_count)
    discount = _interest(face, discount_rate, years)
    fees = tuple(_fee_item(fee, face, years, years_text) for fee in policy.fees)
    fees_total = sum((f.amount for f in fees), Money.zero(face.currency))
    net = face - discount - fees_total
    if net.amount_minor <= 0:
        reason = (
            f"net proceeds would be {net} after discount interest {discount} and fees "
            f"{fees_total}; the face is too small for this tenor and policy"
        )
        raise ValidationFailed([FieldError("face", reason)], code="face_amount_invalid")
    return Quote(
        face=face,
        rating=rating.strip().upper(),
        value_date=value_date,
        payment_date=payment_date,
        as_of=as_of,
        days=days,
        day_count=policy.day_count,
        # As the day-count module states it (28 digits); the amounts use the exact fraction.
        year_fraction=year_fraction(value_date, payment_date, policy.day_count),
        base=policy.base,
        base_rate=base_rate,
        spread_bp=spread_bp,
        discount_rate=discount_rate,
        discount_interest=discount,
        fees=fees,
        fees_total=fees_total,
        net_proceeds=net,
        all_in_rate=all_in_rate(face, net, days),
        fixing=fixing,
        warnings=_warnings(fixing, policy, value_date, as_of),
    )


def _quote_input_problems(
    face: Money, days: int, fixing: LprFixing, policy: PricingPolicy, as_of: date
) -> list[FieldError]:
    errors: list[FieldError] = []
    if face.currency != policy.currency:
        reason = f"policy prices {policy.currency} faces, not {face.currency}"
        errors.append(FieldError("face", reason))
    elif face.amount_minor <= 0:
        errors.append(FieldError("face", "must be positive"))
    if days <= 0:
        errors.append(FieldError("payment_date", "must be after the value date"))
    elif days < policy.min_days:
        reason = f"tenor of {days} days is shorter than the policy minimum of {policy.min_days}"
        errors.append(FieldError("payment_date", reason))
    if fixing.fixed_on > as_of:
        reason = f"fixing of {fixing.fixed_on} was not yet published on {as_of}"
        errors.append(FieldError("fixing", reason))
    return errors


def _spread_for(bands: Sequence[SpreadBand], days: int, rating: str) -> int:
    for band in bands:
        if days <= band.max_days:
            return band.spread_bp
    reason = (
        f"tenor of {days} days is longer than the longest band for rating "
        f"{rating.strip().upper()} ({bands[-1].max_days} days)"
    )
    raise ValidationFailed([FieldError("payment_date", reason)], code="payment_date_invalid")


def _warnings(
    fixing: LprFixing, policy: PricingPolicy, value_date: date, as_of: date
) -> tuple[str, ...]:
    warnings: list[str] = []
    if is_stale(fixing, as_of, max_age_months=policy.stale_after_months):
        age = (as_of - fixing.fixed_on).days
        warnings.append(
            f"stale LPR: the fixing of {fixing.fixed_on} is {age} days old on {as_of} "
            f"(more than {policy.stale_after_months} month(s)); check for a newer fixing"
        )
    if value_date < as_of:
        warnings.append(f"value date {value_date} is before the quote date {as_of}")
    return tuple(warnings)


def _fee_item(fee: FeeRule, face: Money, years: Fraction, years_text: str) -> FeeItem:
    on = _amount_text(face)
    if fee.kind == "rate_annual":
        amount = _interest(face, fee.value.scaleb(-2), years)
        basis = f"{_percent_text(fee.value)}/yr × {years_text} on {on}"
    elif fee.kind == "rate_flat":
        amount = _interest(face, fee.value.scaleb(-2), Fraction(1))
        basis = f"{_percent_text(fee.value)} flat on {on}"
    else:
        amount = Money.from_decimal(fee.value, face.currency)
        basis = f"fixed {amount.to_decimal_string()} {face.currency}"
    return FeeItem(fee.code, fee.name, fee.kind, basis, amount)


def all_in_rate(face: Money, net: Money, days: int) -> Decimal:
    """Annualised all-in cost in percent: (face − net) / net × 365 / days, half-up to 4 dp —
    the one number a borrower can compare across offers (discount and every fee included)."""
    if net.amount_minor <= 0 or days <= 0:
        raise ValueError("net proceeds and days must be positive")
    if face.currency != net.currency:
        raise ValueError(f"currency mismatch: {face.currency} vs {net.currency}")
    cost = Fraction(face.amount_minor - net.amount_minor, net.amount_minor)
    return _round_half_up(cost * ALL_IN_DAYS_PER_YEAR * 100 / days, 4)


# --- interest arithmetic -----------------------------------------------------------------


def _half_up(value: Fraction) -> int:
    """Nearest integer, ties away from zero (what ``ROUND_HALF_UP`` does to a Decimal)."""
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (value.denominator * 2)
    return magnitude if value >= 0 else -magnitude


def _round_half_up(value: Fraction, places: int) -> Decimal:
    exact = Decimal(_half_up(value * Fraction(10**places))).scaleb(-places)
    return exact.quantize(Decimal(1).scaleb(-places))  # keeps the places: "0.0000", not "0"


def _interest(principal: Money, rate_percent: Decimal, years: Fraction) -> Money:
    """principal × rate% × years, exactly, rounded half-up to the minor unit once."""
    exact = Fraction(principal.amount_minor) * Fraction(rate_percent) / 100 * years
    return Money(_half_up(exact), principal.currency)


def _years_text(start: date, end: date, convention: str) -> str:
    denominator = _DENOMINATOR.get(convention)
    if denominator is None:
        shown = year_fraction(start, end, convention).quantize(Decimal("1e-6"), ROUND_HALF_UP)
        return f"{shown} ({convention})"
    return f"{_day_count(start, end, convention)}/{denominator}"


def _percent_text(bp: Decimal) -> str:
    percent = bp.scaleb(-2)
    if _decimals(percent) <= 2:
        return f"{percent.quantize(Decimal('0.01'))}%"
    return f"{percent.normalize():f}%"


def _amount_text(money: Money) -> str:
    return f"{money.to_decimal():,.{minor_units(money.currency)}f}"


# --- penalty interest and amortisation ---------------------------------------------------

_REFERENCE_DAY = date(2001, 1, 1)  # any date: ACT/360 and ACT/365F depend on day counts only


def penalty_interest(
    outstanding: Money,
    days_late: int,
    annual_rate_percent: Decimal,
    convention: str = "ACT/360",
    *,
    overdue_from: date | None = None,
) -> Money:
    """Simple penalty interest on an overdue amount, half-up to the minor unit.

    The rate is annual in percent (e.g. 1.5 × LPR1Y = Decimal("4.50")). Conventions that depend
    on the calendar (30/360, 30E/360, ACT/ACT ISDA) need ``overdue_from``, the first day late.
    """
    errors = _problem_if(outstanding.amount_minor < 0, "outstanding", "must not be negative")
    errors += _problem_if(
        not _is_int(days_late) or days_late < 0, "days_late", "must be a whole number >= 0"
    )
    rate_ok = isinstance(annual_rate_percent, Decimal) and annual_rate_percent.is_finite()
    errors += _problem_if(
        not rate_ok or annual_rate_percent < 0,
        "annual_rate_percent",
        "must be a non-negative finite Decimal",
    )
    try:
        convention = _normalise_day_count(convention)
    except ValueError:
        reason = f"unknown day count {convention!r} (known: {', '.join(DAY_COUNTS)})"
        errors.append(FieldError("convention", reason))
    else:
        errors += _problem_if(
            overdue_from is None and convention not in ("ACT/360", "ACT/365F"),
            "overdue_from",
            f"is required for {convention}, which depends on the calendar dates",
        )
    if errors:
        raise ValidationFailed(errors)
    start = overdue_from or _REFERENCE_DAY
    years = year_fraction_exact(start, start + timedelta(days=days_late), convention)
    return _interest(outstanding, annual_rate_percent, years)


def _cumulative_minor(total_minor: int, k: int, n: int) -> int:
    """What is recognised through day k of n: round_half_up(total × k / n)."""
    return _half_up(Fraction(total_minor * k, n))


def _period_days(start: date, end: date) -> int:
    days = (end - start).days
    if days <= 0:
        raise ValidationFailed(
            [FieldError("end", f"must be after the start {start}")], code="period_invalid"
        )
    return days


def amortise(total: Money, start: date, end: date) -> list[tuple[date, Money]]:
    """Straight-line daily recognition of ``total`` over each day d with start < d <= end.

    Cumulative rounding (through day k: round_half_up(total × k / N)) makes the parts sum
    exactly to ``total`` and keeps any two days within one minor unit of each other.
    """
    n = _period_days(start, end)
    out: list[tuple[date, Money]] = []
    before = 0
    for k in range(1, n + 1):
        through = _cumulative_minor(total.amount_minor, k, n)
        out.append((start + timedelta(days=k), Money(through - before, total.currency)))
        before = through
    return out


def recognised_through(total: Money, start: date, end: date, as_of: date) -> Money:
    """What :func:`amortise` has recognised up to and including ``as_of`` (zero on or before
    ``start``, ``total`` from ``end`` on), in one step for catching up a daily accrual job."""
    n = _period_days(start, end)
    k = min(max((as_of - start).days, 0), n)
    return Money(_cumulative_minor(total.amount_minor, k, n), total.currency)
