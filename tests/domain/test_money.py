"""Money: integer minor units, one rounding rule, no currency mixing, exact allocation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain.bounds import MAX_AMOUNT_MINOR
from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import MINOR_UNITS, Money, MoneyError

# |amount| < 10**18 keeps the whole part within the 18 digits parse accepts, in every currency.
LIMIT = 10**18 - 1
currencies = st.sampled_from(sorted(MINOR_UNITS))
amounts = st.integers(-LIMIT, LIMIT)
# What parse takes: at most 2^53 - 1 minor units either way (bounds.MAX_AMOUNT_MINOR).
parseable = st.integers(-MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR)


@st.composite
def moneys(draw: st.DrawFn, currency: str | None = None) -> Money:
    return Money(draw(amounts), currency or draw(currencies))


def test_money_error_is_a_typed_chainfin_error() -> None:
    assert issubclass(MoneyError, ChainfinError)
    assert MoneyError.code == "invalid_money"
    assert MoneyError.status == 422


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [1.0, 0.5, Decimal(1), "1", True, None])
def test_amount_minor_must_be_an_int(amount: object) -> None:
    with pytest.raises(MoneyError, match="amount_minor must be int"):
        Money(amount, "CNY")  # type: ignore[arg-type]


def test_an_unsupported_currency_is_refused() -> None:
    with pytest.raises(MoneyError, match="unsupported currency 'XYZ'"):
        Money(1, "XYZ")


def test_the_minor_units_of_the_currencies_we_book() -> None:
    assert MINOR_UNITS == {
        "CNY": 2,
        "CNH": 2,
        "HKD": 2,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "SGD": 2,
        "JPY": 0,
        "CAD": 2,
        "AUD": 2,
        "CHF": 2,
        "SEK": 2,
        "NOK": 2,
        "DKK": 2,
        "MOP": 2,
        "TWD": 2,
        "KRW": 0,
    }


# --- parse and format ---------------------------------------------------------------------


@given(money=st.builds(Money, parseable, currencies))
def test_parse_inverts_to_decimal_string(money: Money) -> None:
    assert Money.parse(money.to_decimal_string(), money.currency) == money


@given(money=moneys())
def test_to_decimal_agrees_with_the_string(money: Money) -> None:
    assert money.to_decimal() == Decimal(money.to_decimal_string())


@pytest.mark.parametrize(
    ("text", "currency", "amount_minor"),
    [
        ("1234.56", "CNY", 123456),
        ("1.230", "CNY", 123),  # trailing zeros beyond the minor unit lose nothing
        ("1.2", "CNY", 120),
        ("7", "CNY", 700),
        ("-0.05", "CNY", -5),
        ("  19.99 ", "USD", 1999),
        ("100", "JPY", 100),
        ("100.0", "JPY", 100),
        ("90071992547409.91", "CNY", 2**53 - 1),
        ("-90071992547409.91", "CNY", -(2**53 - 1)),
        ("9007199254740991", "JPY", 2**53 - 1),
    ],
)
def test_parse_accepts(text: str, currency: str, amount_minor: int) -> None:
    assert Money.parse(text, currency) == Money(amount_minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("1.234", "CNY", "more than 2 decimal places for CNY"),
        ("10.005", "CNY", "more than 2 decimal places for CNY"),
        ("1.5", "JPY", "more than 0 decimal places for JPY"),
        ("abc", "CNY", "is not a decimal amount"),
        ("1e5", "CNY", "is not a decimal amount"),
        ("", "CNY", "is not a decimal amount"),
        ("   ", "CNY", "is not a decimal amount"),
        ("+1", "CNY", "is not a decimal amount"),
        ("1.", "CNY", "is not a decimal amount"),
        (".5", "CNY", "is not a decimal amount"),
        ("1,000.00", "CNY", "is not a decimal amount"),
        ("1000000000000000000", "CNY", "is not a decimal amount"),  # 19 whole digits
        ("90071992547409.92", "CNY", "beyond the largest amount"),  # 2^53 fen
        ("999999999999999999.99", "CNY", "beyond the largest amount"),
        ("9007199254740992", "JPY", "beyond the largest amount"),
        ("1.00", "XYZ", "unsupported currency"),
    ],
)
def test_parse_rejects(text: str, currency: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        Money.parse(text, currency)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1999, "CNY"), "19.99"),
        (Money(5, "CNY"), "0.05"),
        (Money(-5, "CNY"), "-0.05"),
        (Money(0, "CNY"), "0.00"),
        (Money(1234, "JPY"), "1234"),
        (Money(-1, "JPY"), "-1"),
    ],
)
def test_to_decimal_string_has_exactly_the_currencys_decimals(money: Money, text: str) -> None:
    assert money.to_decimal_string() == text
    assert str(money) == f"{text} {money.currency}"


# --- the one rounding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "amount_minor"),
    [
        ("0.005", "CNY", 1),
        ("0.0049", "CNY", 0),
        ("-0.005", "CNY", -1),  # half-up rounds a half away from zero, for debits too
        ("-0.0049", "CNY", 0),
        ("1.005", "CNY", 101),
        ("2.675", "CNY", 268),
        ("0.015", "CNY", 2),  # not banker's rounding (which would give 0.02 here too) ...
        ("0.025", "CNY", 3),  # ... but 0.02 here
        ("2.5", "JPY", 3),
        ("-2.5", "JPY", -3),
        ("12.34", "CNY", 1234),
    ],
)
def test_from_decimal_rounds_half_up(value: str, currency: str, amount_minor: int) -> None:
    assert Money.from_decimal(Decimal(value), currency) == Money(amount_minor, currency)


@given(
    value=st.decimals(
        min_value=-(10**15), max_value=10**15, places=6, allow_nan=False, allow_infinity=False
    ),
    currency=currencies,
)
def test_from_decimal_is_within_half_a_minor_unit(value: Decimal, currency: str) -> None:
    money = Money.from_decimal(value, currency)
    error = money.to_decimal() - value
    half = Decimal(1).scaleb(-MINOR_UNITS[currency]) / 2
    if value >= 0:
        assert -half < error <= half
    else:
        assert -half <= error < half  # a half rounds away from zero


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "sNaN", "1E+30"])
def test_from_decimal_refuses_what_is_not_an_amount(value: str) -> None:
    with pytest.raises(MoneyError, match="cannot convert"):
        Money.from_decimal(Decimal(value))


def test_from_decimal_refuses_nan_with_a_money_error() -> None:
    with pytest.raises(MoneyError):
        Money.from_decimal(Decimal("NaN"))


def test_from_decimal_rounds_only_once() -> None:
    value = Decimal("0.0049999999999999999999999999999")
    assert Money.from_decimal(value, "CNY") == Money(0, "CNY")


# --- arithmetic and comparison ------------------------------------------------------------


@given(currency=currencies, data=st.data())
def test_addition_is_associative_and_commutative(currency: str, data: st.DataObject) -> None:
    a, b, c = (data.draw(moneys(currency)) for _ in range(3))
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert a + b - b == a
    assert a + Money.zero(currency) == a
    assert a + -a == Money.zero(currency)


@given(a=moneys(), b=moneys())
def test_comparison_follows_the_amount(a: Money, b: Money) -> None:
    b = Money(b.amount_minor, a.currency)
    assert (a < b) == (a.amount_minor < b.amount_minor)
    assert (a <= b) == (a.amount_minor <= b.amount_minor)
    assert (a > b) == (a.amount_minor > b.amount_minor)
    assert (a >= b) == (a.amount_minor >= b.amount_minor)


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda a, b: a + b, id="add"),
        pytest.param(lambda a, b: a - b, id="sub"),
        pytest.param(lambda a, b: a < b, id="lt"),
        pytest.param(lambda a, b: a <= b, id="le"),
        pytest.param(lambda a, b: a > b, id="gt"),
        pytest.param(lambda a, b: a >= b, id="ge"),
    ],
)
def test_currencies_never_mix(operation: Callable[[Money, Money], object]) -> None:
    with pytest.raises(MoneyError, match="currency mismatch: CNY vs USD"):
        operation(Money(100, "CNY"), Money(100, "USD"))


def test_money_does_not_combine_with_numbers() -> None:
    with pytest.raises(TypeError, match="cannot combine Money with int"):
        Money(100, "CNY") + 1  # type: ignore[operator]


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money(100, "CNY") != Money(100, "CNH")


# --- allocation ---------------------------------------------------------------------------

weights_lists = st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(
    lambda ws: sum(ws) > 0
)


@given(money=moneys(), weights=weights_lists)
def test_allocation_sums_exactly_and_stays_within_one_minor_unit(
    money: Money, weights: list[int]
) -> None:
    parts = money.allocate(weights)
    assert len(parts) == len(weights)
    assert all(p.currency == money.currency for p in parts)
    assert sum(p.amount_minor for p in parts) == money.amount_minor
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(money.amount_minor * weight, total)
        assert abs(part.amount_minor - exact) < 1
        if weight == 0:
            assert part.is_zero()
    assert money.allocate(list(weights)) == parts  # deterministic


def test_allocation_gives_the_leftover_fen_to_the_largest_remainders_then_the_first() -> None:
    assert [p.amount_minor for p in Money(100).allocate([1, 1, 1])] == [34, 33, 33]
    assert [p.amount_minor for p in Money(-100).allocate([1, 1, 1])] == [-34, -33, -33]
    assert [p.amount_minor for p in Money(5).allocate([3, 7])] == [2, 3]  # 1.5, 3.5: a tie
    assert [p.amount_minor for p in Money(10).allocate([0, 1])] == [0, 10]


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1], [-1]])
def test_allocation_refuses_weights_without_a_positive_total(weights: list[int]) -> None:
    with pytest.raises(MoneyError, match="weights must be non-negative and not all zero"):
        Money(100).allocate(weights)
