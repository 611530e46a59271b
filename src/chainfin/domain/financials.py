"""Financial statement analysis for due diligence: parse a borrower's statements, check that they
hold together, compute the ratios a credit officer reads, and cross-check reported revenue
against the sales the platform has seen.

**Input formats** (:func:`parse_statements`). One statement set is a balance sheet at ``as_of``
and an income statement for ``period_start``–``period_end`` (both inclusive: a calendar year is
2025-01-01 to 2025-12-31), with the items in :data:`BALANCE_SHEET_ITEMS` and
:data:`INCOME_STATEMENT_ITEMS`, every one required, plus an optional ``currency`` (default CNY).
Amounts are decimal strings in currency units (元, not 万元) with at most the currency's
decimals and no thousands separators; dates are ``YYYY-MM-DD``.

- **CSV** (text whose first non-blank character is not ``{``): a header ``item,amount`` and one
  row per item, in any order; the date and currency rows carry their value in the amount
  column. Errors name the item and the line (header = line 1)::

      item,amount
      as_of,2025-12-31
      period_start,2025-01-01
      period_end,2025-12-31
      cash,1200000.00
      ...

- **JSON** (text starting with ``{``): one flat ("wide") object of item: value, every value a
  string (a JSON number could mean yuan or fen, and a float cannot hold money exactly). Errors
  name the item; a syntax error names the line.
- **Mapping**: the same keys as the JSON object, already decoded; amounts may also be
  :class:`~decimal.Decimal` or :class:`~chainfin.domain.money.Money`, dates also
  :class:`~datetime.date`.

Only equity, operating profit and net profit may be negative.

**Ratios** (:func:`ratios`) are computed exactly from the fen amounts and rounded half-up once:
times-ratios to 2 places, debt to assets to 4, day counts to 1. Turnover days use the closing
balances and ``days`` = the income statement's length (365 for a year; Chinese textbooks often
use 360, which ``days=360`` gives). A ratio whose denominator is zero has ``value`` None and a
``reason``.

>>> from datetime import date
>>> bs = BalanceSheet(date(2025, 12, 31), *(Money.parse(a) for a in (
...     "100", "300", "200", "800", "2000", "150", "400", "1200", "800")))
>>> inc = IncomeStatement(date(2025, 1, 1), date(2025, 12, 31), *(Money.parse(a) for a in (
...     "3650", "2190", "300", "0", "200")))
>>> r = ratios(bs, inc)
>>> r.current_ratio.value, r.quick_ratio.value, r.dso_days.value, r.interest_coverage.reason
(Decimal('2.00'), Decimal('1.50'), Decimal('30.0'), 'interest expense is zero')
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import cast

from chainfin.domain.anomalies import Severity
from chainfin.domain.bounds import check_business_date
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money, MoneyError, minor_units

BALANCE_SHEET_ITEMS: tuple[str, ...] = (
    "cash",  # 货币资金
    "receivables",  # 应收账款
    "inventory",  # 存货
    "current_assets",  # 流动资产合计
    "total_assets",  # 资产总计
    "payables",  # 应付账款
    "current_liabilities",  # 流动负债合计
    "total_liabilities",  # 负债合计
    "equity",  # 所有者权益合计
)
INCOME_STATEMENT_ITEMS: tuple[str, ...] = (
    "revenue",  # 营业收入
    "cost_of_sales",  # 营业成本
    "operating_profit",  # 营业利润
    "interest_expense",  # 利息费用
    "net_profit",  # 净利润
)
DATE_ITEMS: tuple[str, ...] = ("as_of", "period_start", "period_end")
OPTIONAL_ITEMS: tuple[str, ...] = ("currency",)
ALL_ITEMS: tuple[str, ...] = (*DATE_ITEMS, *BALANCE_SHEET_ITEMS, *INCOME_STATEMENT_ITEMS)
MAY_BE_NEGATIVE = frozenset({"equity", "operating_profit", "net_profit"})

CSV_HEADER = ("item", "amount")
MAX_TEXT_CHARS = 100_000
TIMES_PLACES = 2
SHARE_PLACES = 4
DAYS_PLACES = 1
DEFAULT_IDENTITY_TOLERANCE = Decimal("0.001")  # 0.1 % of total assets
DEFAULT_REVENUE_TOLERANCE = Decimal("0.2")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


# --- statements --------------------------------------------------------------------------


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _statement_problems(
    statement: BalanceSheet | IncomeStatement, dates: tuple[str, ...]
) -> list[FieldError]:
    errors = [
        FieldError(name, "must be a date")
        for name in dates
        if not _is_date(getattr(statement, name))
    ]
    amounts = [f.name for f in fields(statement) if f.name not in dates]
    currencies: set[str] = set()
    for name in amounts:
        value = getattr(statement, name)
        if not isinstance(value, Money):
            errors.append(FieldError(name, "must be Money"))
            continue
        currencies.add(value.currency)
        if value.amount_minor < 0 and name not in MAY_BE_NEGATIVE:
            errors.append(FieldError(name, "must not be negative"))
    if len(currencies) > 1:
        errors.append(FieldError("currency", f"mixes {', '.join(sorted(currencies))}"))
    return errors


@dataclass(frozen=True, slots=True)
class BalanceSheet:
    """The balance sheet items due diligence reads, at ``as_of``; all in one currency."""

    as_of: date
    cash: Money
    receivables: Money
    inventory: Money
    current_assets: Money
    total_assets: Money
    payables: Money
    current_liabilities: Money
    total_liabilities: Money
    equity: Money

    def __post_init__(self) -> None:
        errors = _statement_problems(self, ("as_of",))
        if errors:
            raise ValidationFailed(errors)

    @property
    def currency(self) -> str:
        return self.total_assets.currency


@dataclass(frozen=True, slots=True)
class IncomeStatement:
    """The income statement items due diligence reads, for ``period_start``–``period_end``
    (both inclusive); all in one currency."""

    period_start: date
    period_end: date
    revenue: Money
    cost_of_sales: Money
    operating_profit: Money
    interest_expense: Money
    net_profit: Money

    def __post_init__(self) -> None:
        errors = _statement_problems(self, ("period_start", "period_end"))
        if not errors and self.period_end < self.period_start:
            errors.append(FieldError("period_end", "must not be before period_start"))
        if errors:
            raise ValidationFailed(errors)

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def currency(self) -> str:
        return self.revenue.currency


@dataclass(frozen=True, slots=True)
class Statements:
    balance_sheet: BalanceSheet
    income_statement: IncomeStatement


# --- parsing -----------------------------------------------------------------------------


@dataclass
class _Raw:
    """Values gathered from one source, each with the line it came from (None for JSON)."""

    values: dict[str, object]
    rows: dict[str, int | None]


def parse_statements(source: str | Mapping[str, object]) -> Statements:
    """Parse one statement set from CSV text, JSON text or a mapping (see the module docstring).

    Every problem is reported at once as a :class:`ValidationFailed`: unknown, duplicate and
    missing items, malformed values, negative amounts where they cannot be, then a period that
    ends before it starts.
    """
    if isinstance(source, str):
        if len(source) > MAX_TEXT_CHARS:
            raise ValidationFailed(
                [FieldError("file", f"longer than {MAX_TEXT_CHARS} characters")],
                code="file_too_long",
            )
        text = source.removeprefix("\ufeff")
        raw = _from_json(text) if text.lstrip().startswith("{") else _from_csv(text)
    elif isinstance(source, Mapping):
        raw = _from_mapping(source)
    else:
        raise ValidationFailed(
            [FieldError("source", "must be CSV or JSON text or a mapping")],
            code="statement_file_invalid",
        )
    return _build(raw)


def _from_csv(text: str) -> _Raw:
    reader = csv.reader(io.StringIO(text))
    header = next((r for r in reader if any(c.strip() for c in r)), None)
    if header is None or tuple(c.strip().lower() for c in header) != CSV_HEADER:
        got = "nothing" if header is None else ",".join(header)
        reason = f"expected {','.join(CSV_HEADER)}, got {got}"
        raise ValidationFailed(
            [FieldError("header", reason, reader.line_num or 1)], code="statement_file_invalid"
        )
    raw = _Raw({}, {})
    errors: list[FieldError] = []
    for cells in reader:
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(CSV_HEADER):
            reason = f"expected {len(CSV_HEADER)} fields, got {len(cells)}"
            errors.append(FieldError("row", reason, row))
            continue
        item, value = (c.strip() for c in cells)
        _add(raw, item, value, row, errors)
    if errors:
        raise ValidationFailed(errors)
    return raw


def _from_json(text: str) -> _Raw:
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise ValidationFailed(
            [FieldError("json", reason, exc.lineno)], code="statement_file_invalid"
        ) from None
    if not isinstance(data, _Pairs):
        raise ValidationFailed(
            [FieldError("json", "must be one object of item: value")], code="statement_file_invalid"
        )
    raw = _Raw({}, {})
    errors: list[FieldError] = []
    for item, value in data:
        if not isinstance(value, str):
            reason = f'must be a string like "1234.56" or "2025-12-31", not {_json_type(value)}'
            errors.append(FieldError(str(item), reason))
            continue
        _add(raw, str(item), value.strip(), None, errors)
    if errors:
        raise ValidationFailed(errors)
    return raw


class _Pairs(list[tuple[str, object]]):
    """A JSON object as its key/value pairs in order, so a repeated key is seen, not dropped."""


def _pairs(pairs: list[tuple[str, object]]) -> _Pairs:
    return _Pairs(pairs)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an object" if isinstance(value, _Pairs) else "an array"


def _from_mapping(data: Mapping[str, object]) -> _Raw:
    raw = _Raw({}, {})
    errors: list[FieldError] = []
    for item, value in data.items():
        _add(raw, str(item), value.strip() if isinstance(value, str) else value, None, errors)
    if errors:
        raise ValidationFailed(errors)
    return raw


def _add(raw: _Raw, item: str, value: object, row: int | None, errors: list[FieldError]) -> None:
    known = (*ALL_ITEMS, *OPTIONAL_ITEMS)
    if item not in known:
        reason = f"unknown item {item!r} (expected: {', '.join(known)})"
        errors.append(FieldError("item" if row is not None else item, reason, row))
    elif item in raw.values:
        first = raw.rows[item]
        where = f" (first on row {first})" if first is not None else ""
        errors.append(FieldError(item, f"appears more than once{where}", row))
    else:
        raw.values[item] = value
        raw.rows[item] = row


def _build(raw: _Raw) -> Statements:
    errors: list[FieldError] = []
    currency = _currency(raw, errors)
    parsed: dict[str, object] = {}
    for item in ALL_ITEMS:
        if item not in raw.values:
            errors.append(FieldError(item, "is required"))
            continue
        row = raw.rows[item]
        value = raw.values[item]
        result = _date(value) if item in DATE_ITEMS else _amount(value, currency, item)
        if isinstance(result, str):
            errors.append(FieldError(item, result, row))
        else:
            parsed[item] = result
    if errors:
        raise ValidationFailed(errors)
    dates = {name: cast(date, parsed[name]) for name in DATE_ITEMS}
    try:
        income = IncomeStatement(
            dates["period_start"],
            dates["period_end"],
            *(cast(Money, parsed[name]) for name in INCOME_STATEMENT_ITEMS),
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            [FieldError(e.field, e.reason, raw.rows.get(e.field)) for e in exc.errors]
        ) from None
    sheet = BalanceSheet(
        dates["as_of"], *(cast(Money, parsed[name]) for name in BALANCE_SHEET_ITEMS)
    )
    return Statements(sheet, income)


def _currency(raw: _Raw, errors: list[FieldError]) -> str:
    value = raw.values.get("currency", "CNY")
    try:
        if isinstance(value, str):
            minor_units(value)
            return value
    except MoneyError:
        pass
    errors.append(
        FieldError("currency", f"unsupported currency {value!r}", raw.rows.get("currency"))
    )
    return "CNY"


def _date(value: object) -> date | str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return f"{value!r} is not a date in YYYY-MM-DD form"
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a calendar date"
    return check_business_date(parsed) or parsed


def _amount(value: object, currency: str, item: str) -> Money | str:
    try:
        if isinstance(value, Money):
            if value.currency != currency:
                return f"is in {value.currency}, the statements are in {currency}"
            money = value
        elif isinstance(value, Decimal):
            money = Money.parse(format(value, "f"), currency)
        elif isinstance(value, str):
            money = Money.parse(value, currency)
        else:
            return f"{value!r} is not an amount like 1234.56"
    except MoneyError as exc:
        return exc.message
    if money.amount_minor < 0 and item not in MAY_BE_NEGATIVE:
        return "must not be negative"
    return money


# --- checks ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """``difference`` = assets − (liabilities + equity); ``balanced`` when its size is at most
    ``tolerance``."""

    difference: Money
    tolerance: Money
    balanced: bool


def check_identity(
    sheet: BalanceSheet, tolerance: Decimal | Money = DEFAULT_IDENTITY_TOLERANCE
) -> IdentityCheck:
    """Does total assets = total liabilities + equity hold? ``tolerance`` is a share of total
    assets (default 0.1 %, for statements rounded to 万元 or 千元) or an absolute amount.

    >>> from datetime import date
    >>> m = Money.parse
    >>> bs = BalanceSheet(date(2025, 12, 31), m("0"), m("0"), m("0"), m("0"), m("1000.00"),
    ...                   m("0"), m("0"), m("600.00"), m("399.50"))
    >>> check_identity(bs).balanced, check_identity(bs, m("0.10")).balanced
    (True, False)
    """
    if isinstance(tolerance, Money):
        if tolerance.currency != sheet.currency or tolerance.amount_minor < 0:
            raise ValidationFailed(
                [FieldError("tolerance", f"must be a non-negative amount in {sheet.currency}")],
                code="tolerance_invalid",
            )
        allowed = tolerance
    else:
        if (
            not isinstance(tolerance, Decimal)
            or not tolerance.is_finite()
            or not 0 <= tolerance <= 1
        ):
            raise ValidationFailed(
                [FieldError("tolerance", "must be a share from 0 to 1")], code="tolerance_invalid"
            )
        exact = Fraction(sheet.total_assets.amount_minor) * Fraction(tolerance)
        allowed = Money(_half_up(abs(exact)), sheet.currency)
    difference = sheet.total_assets - sheet.total_liabilities - sheet.equity
    return IdentityCheck(difference, allowed, abs(difference.amount_minor) <= allowed.amount_minor)


class FindingCode(StrEnum):
    IDENTITY_BROKEN = "identity_broken"  # assets ≠ liabilities + equity
    SUBTOTAL_EXCEEDED = "subtotal_exceeded"  # a part is larger than the total it belongs to
    DATES_DIFFER = "dates_differ"  # balance sheet date is not the income statement's end
    OBSERVED_EXCEEDS_REPORTED = "observed_exceeds_reported"
    LOW_PLATFORM_COVERAGE = "low_platform_coverage"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a credit officer should look at; ``amount`` is the difference at issue and
    ``coverage`` (revenue checks only) the share of reported revenue seen on the platform."""

    code: FindingCode
    severity: Severity
    message: str
    amount: Money | None = None
    coverage: Decimal | None = None


def consistency_findings(
    statements: Statements, tolerance: Decimal | Money = DEFAULT_IDENTITY_TOLERANCE
) -> tuple[Finding, ...]:
    """What does not hold together in a statement set: the accounting identity (beyond
    ``tolerance``, see :func:`check_identity`), parts larger than their totals, and a balance
    sheet dated other than the end of the income statement's period."""
    sheet, income = statements.balance_sheet, statements.income_statement
    findings: list[Finding] = []
    check = check_identity(sheet, tolerance)
    if not check.balanced:
        message = (
            f"total assets {sheet.total_assets} ≠ liabilities {sheet.total_liabilities} + equity "
            f"{sheet.equity} (off by {check.difference}, tolerance {check.tolerance})"
        )
        findings.append(
            Finding(FindingCode.IDENTITY_BROKEN, Severity.HIGH, message, check.difference)
        )
    parts = [
        (
            "cash + receivables + inventory",
            sheet.cash + sheet.receivables + sheet.inventory,
            "current assets",
            sheet.current_assets,
        ),
        ("current assets", sheet.current_assets, "total assets", sheet.total_assets),
        ("payables", sheet.payables, "current liabilities", sheet.current_liabilities),
        (
            "current liabilities",
            sheet.current_liabilities,
            "total liabilities",
            sheet.total_liabilities,
        ),
    ]
    for part_name, part, total_name, total in parts:
        if part > total:
            message = f"{part_name} ({part}) exceed {total_name} ({total})"
            findings.append(
                Finding(FindingCode.SUBTOTAL_EXCEEDED, Severity.MEDIUM, message, part - total)
            )
    if sheet.as_of != income.period_end:
        message = (
            f"the balance sheet is at {sheet.as_of} but the income statement ends "
            f"{income.period_end}; turnover days mix two dates"
        )
        findings.append(Finding(FindingCode.DATES_DIFFER, Severity.LOW, message))
    return tuple(findings)


# --- ratios ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio's value, or None and the reason it cannot be computed."""

    value: Decimal | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ratios:
    current_ratio: Ratio  # current assets / current liabilities
    quick_ratio: Ratio  # (current assets − inventory) / current liabilities
    debt_to_assets: Ratio  # total liabilities / total assets
    dso_days: Ratio  # receivables / revenue × days
    dio_days: Ratio  # inventory / cost of sales × days
    dpo_days: Ratio  # payables / cost of sales × days
    cash_conversion_cycle_days: Ratio  # DSO + DIO − DPO
    interest_coverage: Ratio  # operating profit / interest expense
    days: int  # the period length the day ratios use


def _half_up(value: Fraction) -> int:
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (value.denominator * 2)
    return magnitude if value >= 0 else -magnitude


def _rounded(value: Fraction, places: int) -> Decimal:
    scaled = Decimal(_half_up(value * 10**places)).scaleb(-places)
    return scaled.quantize(Decimal(1).scaleb(-places))


def _quotient(numerator: Money, denominator: Money, reason_if_zero: str) -> Fraction | str:
    if denominator.is_zero():
        return reason_if_zero
    return Fraction(numerator.amount_minor, denominator.amount_minor)


def _ratio(value: Fraction | str, places: int, scale: int = 1) -> Ratio:
    if isinstance(value, str):
        return Ratio(None, value)
    return Ratio(_rounded(value * scale, places))


def ratios(sheet: BalanceSheet, income: IncomeStatement, *, days: int | None = None) -> Ratios:
    """The due-diligence ratios of one statement set (see the module docstring)."""
    if sheet.currency != income.currency:
        reason = f"balance sheet is in {sheet.currency}, income statement in {income.currency}"
        raise ValidationFailed([FieldError("currency", reason)], code="currency_mismatch")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        raise ValidationFailed(
            [FieldError("days", "must be a whole number of days > 0")], code="days_invalid"
        )
    period = days if days is not None else income.days
    current_liabilities = "current liabilities are zero"
    dso = _quotient(sheet.receivables, income.revenue, "revenue is zero")
    dio = _quotient(sheet.inventory, income.cost_of_sales, "cost of sales is zero")
    dpo = _quotient(sheet.payables, income.cost_of_sales, "cost of sales is zero")
    return Ratios(
        current_ratio=_ratio(
            _quotient(sheet.current_assets, sheet.current_liabilities, current_liabilities),
            TIMES_PLACES,
        ),
        quick_ratio=_ratio(
            _quotient(
                sheet.current_assets - sheet.inventory,
                sheet.current_liabilities,
                current_liabilities,
            ),
            TIMES_PLACES,
        ),
        debt_to_assets=_ratio(
            _quotient(sheet.total_liabilities, sheet.total_assets, "total assets are zero"),
            SHARE_PLACES,
        ),
        dso_days=_ratio(dso, DAYS_PLACES, period),
        dio_days=_ratio(dio, DAYS_PLACES, period),
        dpo_days=_ratio(dpo, DAYS_PLACES, period),
        cash_conversion_cycle_days=_ratio(_cycle(dso, dio, dpo), DAYS_PLACES, period),
        interest_coverage=_ratio(
            _quotient(income.operating_profit, income.interest_expense, "interest expense is zero"),
            TIMES_PLACES,
        ),
        days=period,
    )


def _cycle(dso: Fraction | str, dio: Fraction | str, dpo: Fraction | str) -> Fraction | str:
    """DSO + DIO − DPO from the exact parts (not the rounded ones), so it is rounded once."""
    if isinstance(dso, str) or isinstance(dio, str) or isinstance(dpo, str):
        missing = sorted({part for part in (dso, dio, dpo) if isinstance(part, str)})
        return f"needs DSO, DIO and DPO: {'; '.join(missing)}"
    return dso + dio - dpo


# --- revenue cross-check -----------------------------------------------------------------


def revenue_gap(
    reported_revenue: Money,
    observed_sales: Money,
    tolerance: Decimal = DEFAULT_REVENUE_TOLERANCE,
) -> Finding | None:
    """Cross-check the revenue a borrower reports against the sales the platform observed for
    it over the same period.

    Both must be on the same basis: excluding VAT (营业收入 is net of VAT, while invoices and
    orders often show 价税合计) and for the same period (deliveries near the period end can
    fall on either side of the cut-off); converting them is the caller's job.

    Reasoning: the platform sees only the customers that trade on it, so observed sales are a
    **lower bound** on true revenue. Hence:

    - observed > reported cannot be true of honest figures on the same basis. Either the
      statements understate revenue (a second set of books, common where tax is the motive)
      or the platform's trade records are inflated (fictitious or circular trade to create
      receivables to finance — the lender's bigger risk). Any excess is a HIGH finding; the
      officer rules out the basis first, then finds out which story is true.
    - reported > observed is normal. Only when the platform covers less than
      ``1 − tolerance`` of reported revenue (by default under 80 %) is a LOW, information-only
      finding raised with the coverage ratio: most of the business is off the platform, so
      its data cannot confirm the statements and offline due diligence must carry the weight.
      A gap is not evidence of inflated statements.
    - nothing reported and nothing observed: no finding.

    >>> f = revenue_gap(Money.parse("1000000.00"), Money.parse("1200000.00"))
    >>> f.code.value, f.severity.value, f.coverage, f.amount.to_decimal_string()
    ('observed_exceeds_reported', 'high', Decimal('1.2000'), '200000.00')
    >>> revenue_gap(Money.parse("1000000.00"), Money.parse("850000.00")) is None
    True
    """
    errors = [
        FieldError(name, "must be a non-negative amount")
        for name, value in (
            ("reported_revenue", reported_revenue),
            ("observed_sales", observed_sales),
        )
        if not isinstance(value, Money) or value.amount_minor < 0
    ]
    if not isinstance(tolerance, Decimal) or not tolerance.is_finite() or not 0 <= tolerance <= 1:
        errors.append(FieldError("tolerance", "must be a share from 0 to 1"))
    if not errors and reported_revenue.currency != observed_sales.currency:
        errors.append(FieldError("observed_sales", f"must be in {reported_revenue.currency}"))
    if errors:
        raise ValidationFailed(errors)
    reported, observed = reported_revenue.amount_minor, observed_sales.amount_minor
    exact = Fraction(observed, reported) if reported else None
    coverage = _rounded(exact, SHARE_PLACES) if exact is not None else None
    if observed > reported:
        excess = observed_sales - reported_revenue
        message = (
            f"the platform observed sales of {observed_sales}, more than the reported revenue "
            f"{reported_revenue} (by {excess}): with both excluding VAT and for the same period "
            "this is impossible, so either the statements understate revenue or the platform "
            "records are inflated; check the basis, then which it is"
        )
        return Finding(
            FindingCode.OBSERVED_EXCEEDS_REPORTED, Severity.HIGH, message, excess, coverage
        )
    if exact is None or coverage is None or exact >= 1 - Fraction(tolerance):
        return None
    message = (
        f"the platform observed {observed_sales} of the reported revenue {reported_revenue} "
        f"({coverage:.2%} coverage); most of the business is off the platform, so its data "
        "cannot confirm the statements: rely on offline due diligence for the rest"
    )
    return Finding(
        FindingCode.LOW_PLATFORM_COVERAGE,
        Severity.LOW,
        message,
        reported_revenue - observed_sales,
        coverage,
    )
