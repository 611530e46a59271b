"""Day counts and year fractions: QuantLib's reference vectors, then the invariants."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain.daycount import (
    CONVENTIONS,
    PRECISION_DIGITS,
    day_count,
    normalise,
    year_fraction,
    year_fraction_exact,
)
from reference import REFERENCE

CASES_FILE = REFERENCE / "day_count" / "daycount_cases.json"
DATA: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"), parse_float=Decimal)

# The reference file's convention labels that name one of ours (see its SOURCE.md). The other
# upstream labels (30E/360 ISDA, 30/360 US, ICMA, AFB, ACT/366, ...) are conventions we lack.
OURS = {
    "30/360 Bond Basis (ISDA 2006 4.16(f))": "30/360",
    "30E/360 Eurobond Basis (ISDA 2006 4.16(g))": "30E/360",
    "ACT/ACT ISDA": "ACT/ACT ISDA",
}
UPSTREAM = [case for case in DATA["cases"] if case["convention"] in OURS]
DERIVED = DATA["derived_act360_act365f"]
TOLERANCE = Decimal("1e-10")


def _case_id(case: dict[str, Any]) -> str:
    name = OURS.get(case["convention"], case["convention"])
    return f"{name}:{case['start']}..{case['end']}"


def test_the_reference_file_has_the_cases_its_source_note_lists() -> None:
    # Guards against a renamed label silently selecting nothing.
    by_name = [OURS[case["convention"]] for case in UPSTREAM]
    assert (by_name.count("30/360"), by_name.count("30E/360")) == (27, 33)
    assert by_name.count("ACT/ACT ISDA") == 7
    assert len(DERIVED) == 118
    assert {case["convention"] for case in DERIVED} == {"ACT/360", "ACT/365F"}


@pytest.mark.parametrize("case", UPSTREAM + DERIVED, ids=_case_id)
def test_reference_vector(case: dict[str, Any]) -> None:
    convention = OURS.get(case["convention"], case["convention"])
    start, end = date.fromisoformat(case["start"]), date.fromisoformat(case["end"])
    if "expected_days" in case:
        assert day_count(start, end, convention) == case["expected_days"]
    assert abs(year_fraction(start, end, convention) - case["expected_fraction"]) <= TOLERANCE


# --- conventions and their names ----------------------------------------------------------


def test_the_conventions() -> None:
    assert CONVENTIONS == ("ACT/360", "ACT/365F", "30/360", "30E/360", "ACT/ACT ISDA")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        *((name, name) for name in CONVENTIONS),
        ("act/360", "ACT/360"),
        ("Actual/360", "ACT/360"),
        ("A/360", "ACT/360"),
        ("Actual/365 (Fixed)", "ACT/365F"),
        ("act/365f", "ACT/365F"),
        ("30/360 Bond Basis", "30/360"),
        ("Bond Basis", "30/360"),
        ("360/360", "30/360"),
        ("30e/360", "30E/360"),
        ("Eurobond Basis", "30E/360"),
        ("ACT/ACT", "ACT/ACT ISDA"),
        ("Actual/Actual (ISDA)", "ACT/ACT ISDA"),
        ("  act / act   isda ", "ACT/ACT ISDA"),
    ],
)
def test_normalise_accepts_the_isda_names_in_any_case(name: str, canonical: str) -> None:
    assert normalise(name) == canonical


@pytest.mark.parametrize("name", ["ACT/365", "30/360 US", "30E/360 ISDA", "ACT/ACT ICMA", ""])
def test_an_unknown_or_ambiguous_name_is_refused_with_the_known_ones(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown day-count convention .*known: ACT/360, "):
        year_fraction(date(2025, 1, 1), date(2025, 2, 1), name)


def test_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="day counts take dates, not datetime"):
        day_count(datetime(2025, 1, 1), date(2025, 2, 1), "ACT/360")  # noqa: DTZ001


# --- the rules, one case each -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "bond_basis", "eurobond"),
    [
        # D1 = 31 becomes 30 in both.
        (date(2025, 1, 31), date(2025, 2, 28), 28, 28),
        # D2 = 31: bond basis keeps 31 unless D1 is 30 or 31; Eurobond always makes it 30.
        (date(2025, 1, 15), date(2025, 3, 31), 76, 75),
        (date(2025, 1, 30), date(2025, 3, 31), 60, 60),
        # Neither has an end-of-February rule (that is 30/360 US and 30E/360 ISDA).
        (date(2006, 2, 28), date(2006, 3, 3), 5, 5),
    ],
)
def test_thirty_360_day_counts(start: date, end: date, bond_basis: int, eurobond: int) -> None:
    assert day_count(start, end, "30/360") == bond_basis
    assert day_count(start, end, "30E/360") == eurobond


def test_act_act_isda_splits_at_each_new_year() -> None:
    # 1999-07-01 .. 2000-07-01: 184 days of 1999 over 365, 182 days of 2000 over 366.
    expected = Fraction(184, 365) + Fraction(182, 366)
    assert year_fraction_exact(date(1999, 7, 1), date(2000, 7, 1), "ACT/ACT ISDA") == expected


def test_fractions_are_rounded_to_28_significant_digits_and_exact_when_they_terminate() -> None:
    assert PRECISION_DIGITS == 28
    assert year_fraction(date(2025, 1, 1), date(2025, 7, 1), "ACT/360") == Decimal(
        "0.5027777777777777777777777778"
    )
    assert year_fraction(date(2025, 1, 1), date(2025, 6, 30), "ACT/360") == Decimal("0.5")
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), "ACT/365F") == Decimal(
        "1.002739726027397260273972603"
    )


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_the_same_date_is_zero(convention: str) -> None:
    assert day_count(date(2025, 3, 31), date(2025, 3, 31), convention) == 0
    assert year_fraction(date(2025, 3, 31), date(2025, 3, 31), convention) == 0


def test_an_end_before_the_start_counts_backwards() -> None:
    assert day_count(date(2025, 3, 31), date(2025, 1, 15), "30/360") == -76
    assert year_fraction(date(2006, 5, 15), date(2006, 3, 17), "ACT/360") == Decimal(-59) / 360


# --- properties ---------------------------------------------------------------------------

dates = st.dates(date(1900, 1, 1), date(2100, 12, 31))
conventions = st.sampled_from(CONVENTIONS)
act_conventions = st.sampled_from(("ACT/360", "ACT/365F", "ACT/ACT ISDA"))


@given(dates, dates, dates, act_conventions)
def test_act_fractions_add_up_over_adjacent_periods(
    a: date, b: date, c: date, convention: str
) -> None:
    exact = year_fraction_exact
    assert exact(a, b, convention) + exact(b, c, convention) == exact(a, c, convention)
    # Rounded to 28 digits, the pieces add up to within a few units in the last place.
    rounded = sum(Fraction(year_fraction(x, y, convention)) for x, y in ((a, b), (b, c)))
    assert abs(rounded - Fraction(year_fraction(a, c, convention))) <= Fraction(1, 10**25)


@given(st.integers(1, 9998))
def test_act_act_isda_of_a_whole_calendar_year_is_one(year: int) -> None:
    assert year_fraction(date(year, 1, 1), date(year + 1, 1, 1), "ACT/ACT ISDA") == 1


@given(dates, dates, conventions)
def test_swapping_the_dates_negates_the_result(a: date, b: date, convention: str) -> None:
    assert day_count(b, a, convention) == -day_count(a, b, convention)
    assert year_fraction(b, a, convention) == -year_fraction(a, b, convention)


@given(dates, dates, conventions)
def test_the_decimal_is_the_exact_fraction_correctly_rounded(
    a: date, b: date, convention: str
) -> None:
    exact = year_fraction_exact(a, b, convention)
    rounded = year_fraction(a, b, convention)
    assert len(rounded.as_tuple().digits) <= PRECISION_DIGITS
    if rounded:
        half_unit = Fraction(1, 2) * Fraction(10) ** (rounded.adjusted() - PRECISION_DIGITS + 1)
        assert abs(Fraction(rounded) - exact) <= half_unit
    else:
        assert exact == 0


@given(st.integers(1901, 2099), st.integers(0, 364), st.integers(0, 364))
def test_act_act_isda_inside_one_year_divides_by_that_years_length(
    year: int, first: int, second: int
) -> None:
    start = date(year, 1, 1).toordinal()
    a, b = (date.fromordinal(start + n) for n in sorted((first, second)))
    length = 366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365
    days = (b - a).days
    assert year_fraction_exact(a, b, "ACT/ACT ISDA") == Fraction(days, length)
