"""Financial statement analysis: parsing with precise errors, the accounting identity, ratios
with zero denominators, and the reported-revenue cross-check."""

from __future__ import annotations

import doctest
import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain import financials
from chainfin.domain.anomalies import Severity
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.financials import (
    BALANCE_SHEET_ITEMS,
    INCOME_STATEMENT_ITEMS,
    BalanceSheet,
    FindingCode,
    IncomeStatement,
    Ratio,
    Statements,
    check_identity,
    consistency_findings,
    parse_statements,
    ratios,
    revenue_gap,
)
from chainfin.domain.money import Money

CNY = Money.parse

# A year of a mid-sized supplier, chosen so the ratios come out round by hand:
# revenue 18,250,000 / 365 = 50,000 a day; cost of sales 14,600,000 / 365 = 40,000 a day.
VALUES: dict[str, str] = {
    "as_of": "2025-12-31",
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "cash": "1200000.00",
    "receivables": "3000000.00",
    "inventory": "2000000.00",
    "current_assets": "7000000.00",
    "total_assets": "12000000.00",
    "payables": "1500000.00",
    "current_liabilities": "4000000.00",
    "total_liabilities": "7200000.00",
    "equity": "4800000.00",
    "revenue": "18250000.00",
    "cost_of_sales": "14600000.00",
    "operating_profit": "1500000.00",
    "interest_expense": "400000.00",
    "net_profit": "900000.00",
}
SHEET = BalanceSheet(date(2025, 12, 31), *(CNY(VALUES[k]) for k in BALANCE_SHEET_ITEMS))
INCOME = IncomeStatement(
    date(2025, 1, 1), date(2025, 12, 31), *(CNY(VALUES[k]) for k in INCOME_STATEMENT_ITEMS)
)
STATEMENTS = Statements(SHEET, INCOME)


def csv_text(values: dict[str, str]) -> str:
    return "item,amount\n" + "".join(f"{k},{v}\n" for k, v in values.items())


def errors(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, int | None]]:
    return [(e.field, e.row) for e in exc.value.errors]


def test_module_doctest() -> None:
    assert doctest.testmod(financials).failed == 0


# --- parsing -----------------------------------------------------------------------------


def test_csv_json_and_mapping_give_the_same_statements() -> None:
    assert parse_statements(csv_text(VALUES)) == STATEMENTS
    assert parse_statements(json.dumps(VALUES, indent=2)) == STATEMENTS
    assert parse_statements(VALUES) == STATEMENTS


def test_csv_allows_any_order_blank_lines_spaces_a_bom_and_a_currency_row() -> None:
    lines = [f" {k} , {v} " for k, v in reversed(VALUES.items())]
    text = "\ufeffItem, Amount\n\n" + "\n".join(lines) + "\ncurrency,CNY\n"
    assert parse_statements(text) == STATEMENTS


def test_a_mapping_may_hold_dates_decimals_and_money() -> None:
    values: dict[str, object] = dict(VALUES)
    values.update(as_of=date(2025, 12, 31), cash=Decimal("1200000"), receivables=CNY("3000000.00"))
    assert parse_statements(values) == STATEMENTS


def test_other_currencies() -> None:
    got = parse_statements({**VALUES, "currency": "HKD"})
    assert got.balance_sheet.cash == Money(120_000_000, "HKD")
    assert got.income_statement.currency == "HKD"


def test_negative_equity_and_losses_are_allowed() -> None:
    got = parse_statements(
        {**VALUES, "equity": "-50.00", "operating_profit": "-1.00", "net_profit": "-2.00"}
    )
    assert got.balance_sheet.equity == CNY("-50.00")


@pytest.mark.parametrize(
    ("text", "expected", "reason"),
    [
        ("", [("header", 1)], "expected item,amount, got nothing"),
        ("item,value\n", [("header", 1)], "got item,value"),
        (
            csv_text(VALUES) + "cash,1.00\n",
            [("cash", 19)],
            "appears more than once (first on row 5)",
        ),
        (csv_text(VALUES) + "goodwill,1.00\n", [("item", 19)], "unknown item 'goodwill'"),
        (csv_text(VALUES) + "cash\n", [("row", 19)], "expected 2 fields, got 1"),
        # an unquoted thousands separator splits the amount into two cells
        (csv_text({**VALUES, "cash": "1,200,000.00"}), [("row", 5)], "expected 2 fields, got 4"),
        (csv_text({**VALUES, "cash": "1200000.001"}), [("cash", 5)], "more than 2 decimal places"),
        (csv_text({**VALUES, "cash": "1.2e6"}), [("cash", 5)], "not a decimal amount"),
        (csv_text({**VALUES, "cash": "-1.00"}), [("cash", 5)], "must not be negative"),
        (csv_text({**VALUES, "as_of": "31/12/2025"}), [("as_of", 2)], "YYYY-MM-DD"),
        (csv_text({**VALUES, "as_of": "2025-02-30"}), [("as_of", 2)], "not a calendar date"),
        (csv_text({**VALUES, "currency": "XYZ"}), [("currency", 19)], "unsupported currency"),
        (
            csv_text({**VALUES, "period_end": "2024-12-31"}),
            [("period_end", 4)],
            "must not be before period_start",
        ),
    ],
)
def test_csv_errors_name_the_item_and_line(
    text: str, expected: list[tuple[str, int | None]], reason: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(text)
    assert errors(exc) == expected
    assert reason in exc.value.errors[0].reason


def test_every_csv_problem_is_reported_at_once_in_order() -> None:
    values = {k: v for k, v in VALUES.items() if k not in ("inventory", "net_profit")}
    values.update(cash="abc", payables="-1.00", period_start="2025-13-01")
    text = csv_text(values) + "goodwill,5.00\nrevenue,1.00\n"
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(text)
    # First what the lines themselves get wrong, in line order; nothing else is judged yet.
    assert errors(exc) == [("item", 17), ("revenue", 18)]
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(csv_text(values))
    # Then every item in the documented order: dates, balance sheet, income statement.
    assert errors(exc) == [
        ("period_start", 3),
        ("cash", 5),
        ("inventory", None),
        ("payables", 9),
        ("net_profit", None),
    ]
    assert [e.reason for e in exc.value.errors][2] == "is required"


@pytest.mark.parametrize(
    ("text", "expected", "reason"),
    [
        ('{"cash": "1.00",\n "cash": "2.00"', [("json", 2)], "not valid JSON"),
        ("{}", None, "is required"),
        ('{"cash": 1200000}', None, 'must be a string like "1234.56"'),
        ('{"cash": 1.5}', None, "not a number"),
        ('{"cash": null}', None, "not null"),
        ('{"cash": {"a": 1}}', None, "not an object"),
        ('{"cash": ["1"]}', None, "not an array"),
        ('{"cash": true}', None, "not a boolean"),
        ('{"cash": "1.00", "cash": "2.00"}', None, "appears more than once"),
        ('{"goodwill": "1.00"}', None, "unknown item 'goodwill'"),
    ],
)
def test_json_errors(text: str, expected: list[tuple[str, int | None]] | None, reason: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(text)
    if expected is not None:
        assert errors(exc)[: len(expected)] == expected
    assert any(reason in e.reason for e in exc.value.errors), exc.value.errors


def test_a_json_array_is_read_as_csv_and_refused_by_its_header() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_statements("[1, 2]")
    assert errors(exc) == [("header", 1)]


def test_json_refuses_numbers_and_names_each_item() -> None:
    values: dict[str, object] = dict(VALUES)
    values.update(cash=1200000, receivables=3000000.0)
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(json.dumps(values))
    assert errors(exc) == [("cash", None), ("receivables", None)]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"cash": 1200000}, "cash", "is not an amount like 1234.56"),
        ({"cash": Money(1, "USD")}, "cash", "is in USD, the statements are in CNY"),
        ({"cash": Decimal("0.001")}, "cash", "more than 2 decimal places"),
        ({"cash": Decimal("NaN")}, "cash", "not a decimal amount"),
        ({"as_of": "2025-12-31T00:00:00"}, "as_of", "YYYY-MM-DD"),
        ({"currency": 156}, "currency", "unsupported currency 156"),
    ],
)
def test_mapping_errors(change: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_statements({**VALUES, **change})
    assert errors(exc) == [(field, None)]
    assert reason in exc.value.errors[0].reason


def test_other_sources_are_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_statements(b"item,amount")  # type: ignore[arg-type]
    assert errors(exc) == [("source", None)]
    with pytest.raises(ValidationFailed) as exc:
        parse_statements("x" * 100_001)
    assert errors(exc) == [("file", None)]


def test_statements_check_themselves() -> None:
    with pytest.raises(ValidationFailed) as exc:
        BalanceSheet(
            date(2025, 12, 31),
            CNY("-1.00"),
            Money(1, "USD"),
            *(CNY("1.00") for _ in range(7)),
        )
    assert [e.field for e in exc.value.errors] == ["cash", "currency"]
    with pytest.raises(ValidationFailed) as exc:
        IncomeStatement(date(2025, 12, 31), date(2025, 1, 1), *(CNY("1.00") for _ in range(5)))
    assert [e.field for e in exc.value.errors] == ["period_end"]
    with pytest.raises(ValidationFailed) as exc:
        IncomeStatement("2025-01-01", date(2025, 1, 1), *(CNY("1.00") for _ in range(5)))  # type: ignore[arg-type]
    assert [e.field for e in exc.value.errors] == ["period_start"]


amounts = st.integers(0, 10**13).map(lambda m: Money(m).to_decimal_string())
signed = st.integers(-(10**13), 10**13).map(lambda m: Money(m).to_decimal_string())


@st.composite
def statement_values(draw: st.DrawFn) -> dict[str, str]:
    start = draw(st.dates(date(2000, 1, 1), date(2040, 1, 1)))
    end = draw(st.dates(start, date(2041, 1, 1)))
    values = {
        "as_of": draw(st.dates(date(2000, 1, 1), date(2041, 1, 1))).isoformat(),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
    }
    for item in (*BALANCE_SHEET_ITEMS, *INCOME_STATEMENT_ITEMS):
        values[item] = draw(signed if item in financials.MAY_BE_NEGATIVE else amounts)
    return values


@given(statement_values())
def test_csv_and_json_round_trip(values: dict[str, str]) -> None:
    from_csv = parse_statements(csv_text(values))
    assert parse_statements(json.dumps(values)) == from_csv
    sheet = from_csv.balance_sheet
    assert sheet.as_of.isoformat() == values["as_of"]
    for item in BALANCE_SHEET_ITEMS:
        assert getattr(sheet, item).to_decimal_string() == values[item]
    for item in INCOME_STATEMENT_ITEMS:
        assert getattr(from_csv.income_statement, item).to_decimal_string() == values[item]


# --- identity and consistency ------------------------------------------------------------


def test_the_example_balances() -> None:
    assert check_identity(SHEET) == financials.IdentityCheck(CNY("0.00"), CNY("12000.00"), True)
    assert consistency_findings(STATEMENTS) == ()


@pytest.mark.parametrize(
    ("equity", "tolerance", "difference", "allowed", "balanced"),
    [
        # 0.1 % of 12,000,000.00 = 12,000.00
        ("4788000.00", Decimal("0.001"), "12000.00", "12000.00", True),
        ("4787999.99", Decimal("0.001"), "12000.01", "12000.00", False),
        ("4812000.00", Decimal("0.001"), "-12000.00", "12000.00", True),
        ("4800000.01", Decimal("0"), "-0.01", "0.00", False),
        ("4800000.01", CNY("0.01"), "-0.01", "0.01", True),
        # 12,000,000.00 × 0.0000005 = 6.00 exactly; 12,000,000.00 × 0.00000041666 = 4.99992 → 5.00
        ("4799994.00", Decimal("0.0000005"), "6.00", "6.00", True),
        ("4799994.00", Decimal("0.00000041666"), "6.00", "5.00", False),
    ],
)
def test_the_accounting_identity(
    equity: str, tolerance: Decimal | Money, difference: str, allowed: str, balanced: bool
) -> None:
    sheet = BalanceSheet(
        SHEET.as_of,
        *(CNY(equity) if k == "equity" else getattr(SHEET, k) for k in BALANCE_SHEET_ITEMS),
    )
    got = check_identity(sheet, tolerance)
    assert (got.difference, got.tolerance, got.balanced) == (
        CNY(difference),
        CNY(allowed),
        balanced,
    )


@pytest.mark.parametrize(
    "tolerance",
    [Decimal("-0.1"), Decimal("1.1"), Decimal("NaN"), 0.001, Money(1, "USD"), CNY("-1.00")],
)
def test_identity_tolerance_rejections(tolerance: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_identity(SHEET, tolerance)  # type: ignore[arg-type]
    assert [e.field for e in exc.value.errors] == ["tolerance"]


def test_consistency_findings_list_what_does_not_hold_together() -> None:
    values = {**VALUES, "inventory": "4000000.00", "payables": "4500000.00", "equity": "1.00"}
    values["as_of"] = "2025-11-30"
    got = consistency_findings(parse_statements(values))
    assert [(f.code, f.severity, f.amount) for f in got] == [
        (FindingCode.IDENTITY_BROKEN, Severity.HIGH, CNY("4799999.00")),
        # 1,200,000 + 3,000,000 + 4,000,000 = 8,200,000 > 7,000,000 current assets
        (FindingCode.SUBTOTAL_EXCEEDED, Severity.MEDIUM, CNY("1200000.00")),
        (FindingCode.SUBTOTAL_EXCEEDED, Severity.MEDIUM, CNY("500000.00")),
        (FindingCode.DATES_DIFFER, Severity.LOW, None),
    ]
    assert "payables (4500000.00 CNY) exceed current liabilities (4000000.00 CNY)" in got[2].message


# --- ratios ------------------------------------------------------------------------------


def test_ratios_of_the_example() -> None:
    got = ratios(SHEET, INCOME)
    assert got == financials.Ratios(
        current_ratio=Ratio(Decimal("1.75")),  # 7,000,000 / 4,000,000
        quick_ratio=Ratio(Decimal("1.25")),  # (7,000,000 − 2,000,000) / 4,000,000
        debt_to_assets=Ratio(Decimal("0.6000")),  # 7,200,000 / 12,000,000
        dso_days=Ratio(Decimal("60.0")),  # 3,000,000 / 50,000 a day
        dio_days=Ratio(Decimal("50.0")),  # 2,000,000 / 40,000 a day
        dpo_days=Ratio(Decimal("37.5")),  # 1,500,000 / 40,000 a day
        cash_conversion_cycle_days=Ratio(Decimal("72.5")),  # 60 + 50 − 37.5
        interest_coverage=Ratio(Decimal("3.75")),  # 1,500,000 / 400,000
        days=365,
    )


def test_a_360_day_year_as_chinese_textbooks_use() -> None:
    got = ratios(SHEET, INCOME, days=360)
    # 3 / 18.25 × 360 = 59.178; 2 / 14.6 × 360 = 49.315; 1.5 / 14.6 × 360 = 36.986;
    # the cycle from the exact parts: 59.178 + 49.315 − 36.986 = 71.507 → 71.5
    assert (got.dso_days, got.dio_days, got.dpo_days, got.cash_conversion_cycle_days) == (
        Ratio(Decimal("59.2")),
        Ratio(Decimal("49.3")),
        Ratio(Decimal("37.0")),
        Ratio(Decimal("71.5")),
    )
    assert got.days == 360


def test_a_leap_year_has_366_days() -> None:
    leap = IncomeStatement(
        date(2024, 1, 1), date(2024, 12, 31), *(getattr(INCOME, k) for k in INCOME_STATEMENT_ITEMS)
    )
    assert ratios(SHEET, leap).days == 366


def with_values(**changes: str) -> tuple[BalanceSheet, IncomeStatement]:
    parsed = parse_statements({**VALUES, **changes})
    return parsed.balance_sheet, parsed.income_statement


@pytest.mark.parametrize(
    ("changes", "name", "expected"),
    [
        # half-up, once: 201 / 200 = 1.005 → 1.01 (half-even would give 1.00)
        (
            {"current_assets": "201.00", "current_liabilities": "200.00"},
            "current_ratio",
            Ratio(Decimal("1.01")),
        ),
        # an operating loss: −201 / 200 = −1.005 → −1.01 (away from zero)
        (
            {"operating_profit": "-201.00", "interest_expense": "200.00"},
            "interest_coverage",
            Ratio(Decimal("-1.01")),
        ),
        # 2 / 3 = 0.6667 of assets financed by debt
        (
            {"total_liabilities": "2.00", "total_assets": "3.00"},
            "debt_to_assets",
            Ratio(Decimal("0.6667")),
        ),
        (
            {"current_liabilities": "0.00"},
            "current_ratio",
            Ratio(None, "current liabilities are zero"),
        ),
        (
            {"current_liabilities": "0.00"},
            "quick_ratio",
            Ratio(None, "current liabilities are zero"),
        ),
        ({"total_assets": "0.00"}, "debt_to_assets", Ratio(None, "total assets are zero")),
        ({"revenue": "0.00"}, "dso_days", Ratio(None, "revenue is zero")),
        ({"cost_of_sales": "0.00"}, "dio_days", Ratio(None, "cost of sales is zero")),
        ({"cost_of_sales": "0.00"}, "dpo_days", Ratio(None, "cost of sales is zero")),
        (
            {"interest_expense": "0.00"},
            "interest_coverage",
            Ratio(None, "interest expense is zero"),
        ),
        (
            {"revenue": "0.00"},
            "cash_conversion_cycle_days",
            Ratio(None, "needs DSO, DIO and DPO: revenue is zero"),
        ),
        (
            {"revenue": "0.00", "cost_of_sales": "0.00"},
            "cash_conversion_cycle_days",
            Ratio(None, "needs DSO, DIO and DPO: cost of sales is zero; revenue is zero"),
        ),
        # nothing owed to suppliers: a DPO of zero, not a missing one
        ({"payables": "0.00"}, "dpo_days", Ratio(Decimal("0.0"))),
    ],
)
def test_ratio_table(changes: dict[str, str], name: str, expected: Ratio) -> None:
    assert getattr(ratios(*with_values(**changes)), name) == expected


def test_ratio_rejections() -> None:
    usd = parse_statements({**VALUES, "currency": "USD"}).income_statement
    with pytest.raises(ValidationFailed) as exc:
        ratios(SHEET, usd)
    assert [e.field for e in exc.value.errors] == ["currency"]
    for days in (0, -1, True):
        with pytest.raises(ValidationFailed) as exc:
            ratios(SHEET, INCOME, days=days)
        assert [e.field for e in exc.value.errors] == ["days"]


@given(statement_values(), st.none() | st.integers(1, 400))
def test_the_cycle_is_rounded_once_and_ratios_match_their_definitions(
    values: dict[str, str], days: int | None
) -> None:
    parsed = parse_statements(values)
    sheet, income = parsed.balance_sheet, parsed.income_statement
    got = ratios(sheet, income, days=days)
    period = days or income.days
    parts = (got.dso_days.value, got.dio_days.value, got.dpo_days.value)
    cycle = got.cash_conversion_cycle_days.value
    if None in parts:
        assert cycle is None
        assert got.cash_conversion_cycle_days.reason
    else:
        assert cycle is not None
        dso, dio, dpo = (p for p in parts if p is not None)
        assert abs(cycle - (dso + dio - dpo)) <= Decimal("0.15")
    if got.current_ratio.value is not None:
        exact = Fraction(sheet.current_assets.amount_minor, sheet.current_liabilities.amount_minor)
        assert abs(Fraction(got.current_ratio.value) - exact) <= Fraction(1, 200)
    if got.dso_days.value is not None:
        exact = Fraction(sheet.receivables.amount_minor * period, income.revenue.amount_minor)
        assert abs(Fraction(got.dso_days.value) - exact) <= Fraction(1, 20)
    for ratio in (got.current_ratio, got.quick_ratio, got.debt_to_assets, got.interest_coverage):
        assert (ratio.value is None) == (ratio.reason is not None)


# --- revenue cross-check -----------------------------------------------------------------

OBSERVED, COVERAGE = FindingCode.OBSERVED_EXCEEDS_REPORTED, FindingCode.LOW_PLATFORM_COVERAGE
HIGH, LOW = Severity.HIGH, Severity.LOW


@pytest.mark.parametrize(
    ("reported", "observed", "tolerance", "expected"),
    [
        # observed is a lower bound: more than reported cannot be honest on the same basis
        ("1000000.00", "1200000.00", "0.2", (OBSERVED, HIGH, "1.2000", "200000.00")),
        ("1000000.00", "1000000.01", "0.2", (OBSERVED, HIGH, "1.0000", "0.01")),
        ("0.00", "1.00", "0.2", (OBSERVED, HIGH, None, "1.00")),
        # equal, or most of it seen: nothing to say
        ("1000000.00", "1000000.00", "0.2", None),
        ("1000000.00", "850000.00", "0.2", None),
        ("1000000.00", "800000.00", "0.2", None),  # exactly 80 % covered: within tolerance
        ("0.00", "0.00", "0.2", None),
        # little of it seen: information only, with the coverage
        ("1000000.00", "799999.99", "0.2", (COVERAGE, LOW, "0.8000", "200000.01")),
        ("1000000.00", "300000.00", "0.2", (COVERAGE, LOW, "0.3000", "700000.00")),
        ("1000000.00", "0.00", "0.2", (COVERAGE, LOW, "0.0000", "1000000.00")),
        # tolerance 0: any gap is worth a note; tolerance 1: never
        ("1000000.00", "999999.99", "0", (COVERAGE, LOW, "1.0000", "0.01")),
        ("1000000.00", "0.00", "1", None),
    ],
)
def test_revenue_gap(
    reported: str,
    observed: str,
    tolerance: str,
    expected: tuple[FindingCode, Severity, str | None, str] | None,
) -> None:
    got = revenue_gap(CNY(reported), CNY(observed), Decimal(tolerance))
    if expected is None:
        assert got is None
        return
    assert got is not None
    code, severity, coverage, amount = expected
    assert (got.code, got.severity, got.amount) == (code, severity, CNY(amount))
    assert got.coverage == (None if coverage is None else Decimal(coverage))


def test_the_messages_say_what_to_do() -> None:
    high = revenue_gap(CNY("100.00"), CNY("120.00"))
    assert high is not None
    assert (
        "either the statements understate revenue or the platform records are inflated"
        in high.message
    )
    low = revenue_gap(CNY("100.00"), CNY("30.00"))
    assert low is not None
    assert "30.00% coverage" in low.message
    assert "offline due diligence" in low.message


@pytest.mark.parametrize(
    ("reported", "observed", "tolerance", "fields"),
    [
        (CNY("-1.00"), CNY("1.00"), Decimal("0.2"), ["reported_revenue"]),
        (CNY("1.00"), 100, Decimal("0.2"), ["observed_sales"]),
        (CNY("1.00"), CNY("1.00"), Decimal("1.5"), ["tolerance"]),
        (CNY("1.00"), CNY("1.00"), 0.2, ["tolerance"]),
        (CNY("1.00"), Money(100, "USD"), Decimal("0.2"), ["observed_sales"]),
    ],
)
def test_revenue_gap_rejections(
    reported: object, observed: object, tolerance: object, fields: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        revenue_gap(reported, observed, tolerance)  # type: ignore[arg-type]
    assert [e.field for e in exc.value.errors] == fields


@given(
    reported=st.integers(0, 10**12),
    observed=st.integers(0, 10**12),
    tolerance=st.integers(0, 100).map(lambda p: Decimal(p).scaleb(-2)),
)
def test_revenue_findings_follow_the_lower_bound_reasoning(
    reported: int, observed: int, tolerance: Decimal
) -> None:
    got = revenue_gap(Money(reported), Money(observed), tolerance)
    if observed > reported:
        assert got is not None
        assert got.severity is Severity.HIGH
        assert got.amount == Money(observed - reported)
    elif reported and Fraction(observed, reported) < 1 - Fraction(tolerance):
        assert got is not None
        assert got.code is FindingCode.LOW_PLATFORM_COVERAGE
        assert got.amount == Money(reported - observed)
    else:
        assert got is None
