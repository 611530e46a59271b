"""Discount pricing: LPR fixings, policy, quotes, penalty interest and daily amortisation."""

from __future__ import annotations

import dataclasses
import doctest
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chainfin.domain import pricing
from chainfin.domain.daycount import day_count, year_fraction
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    DEFAULT_POLICY,
    FeeItem,
    FeeRule,
    LprFixing,
    PricingPolicy,
    SpreadBand,
    add_months,
    all_in_rate,
    amortise,
    fixing_in_force,
    is_stale,
    parse_lpr_csv,
    penalty_interest,
    quote,
    recognised_through,
)
from reference import REFERENCE

LPR_CSV = REFERENCE / "lpr" / "lpr.csv"
AUG_2026 = LprFixing(date(2026, 8, 20), Decimal("3.00"), Decimal("3.50"))
CNY = Money.parse


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, int | None]]:
    return [(e.field, e.row) for e in exc.value.errors]


def half_up(value: Fraction) -> int:
    """Round a non-negative exact value half-up to an integer: the rule every amount follows."""
    assert value >= 0
    return (value.numerator * 2 + value.denominator) // (value.denominator * 2)


def test_module_doctest() -> None:
    assert doctest.testmod(pricing).failed == 0


# --- LPR fixings -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixings() -> list[LprFixing]:
    return parse_lpr_csv(LPR_CSV.read_text(encoding="utf-8"))


def test_the_reference_lpr_history_parses_to_85_sorted_fixings(fixings: list[LprFixing]) -> None:
    assert len(fixings) == 85
    assert fixings == sorted(fixings, key=lambda f: f.fixed_on)
    assert fixings[0] == LprFixing(date(2019, 8, 20), Decimal("4.25"), Decimal("4.85"))
    assert fixings[-1] == AUG_2026


def test_the_fixing_in_force_is_the_latest_published_on_or_before_the_day(
    fixings: list[LprFixing],
) -> None:
    # The -25 bp 5y cut was published 2024-02-20 (SOURCE.md: table (a) that puts it in March
    # is wrong); the day before, January's 4.20 still applies.
    feb = fixing_in_force(fixings, date(2024, 2, 21))
    assert feb == LprFixing(date(2024, 2, 20), Decimal("3.45"), Decimal("3.95"))
    assert fixing_in_force(fixings, date(2024, 2, 20)) == feb
    jan = fixing_in_force(fixings, date(2024, 2, 19))
    assert jan is not None
    assert (jan.fixed_on, jan.rate_5y) == (date(2024, 1, 22), Decimal("4.20"))
    assert fixing_in_force(fixings, date(2019, 8, 19)) is None
    assert fixing_in_force([], date(2024, 1, 1)) is None


def test_after_the_last_fixing_the_august_2026_rate_applies_but_is_stale(
    fixings: list[LprFixing],
) -> None:
    in_force = fixing_in_force(reversed(fixings), date(2026, 11, 26))
    assert in_force == AUG_2026
    assert is_stale(AUG_2026, date(2026, 11, 26))


HEADER = "date,lpr_1y,lpr_5y\n"


def test_rows_may_come_unsorted_with_blank_lines_spaces_and_a_bom() -> None:
    text = "\ufeffDate, LPR_1Y ,lpr_5y\n2024-02-20, 3.45,3.95\n\n2024-01-22,3.45 ,4.2000\n"
    assert parse_lpr_csv(text) == [
        LprFixing(date(2024, 1, 22), Decimal("3.45"), Decimal("4.2000")),
        LprFixing(date(2024, 2, 20), Decimal("3.45"), Decimal("3.95")),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [("header", 1, "expected date,lpr_1y,lpr_5y, got nothing")]),
        ("date,rate\n2024-01-22,3.45\n", [("header", 1, "got date,rate")]),
        (HEADER, [("file", None, "no fixings after the header")]),
        (HEADER + "2024-01-22,3.45\n", [("row", 2, "expected 3 fields, got 2")]),
        (HEADER + "2024-01-22,3.45,4.20,x\n", [("row", 2, "expected 3 fields, got 4")]),
        (HEADER + "2024/01/22,3.45,4.20\n", [("date", 2, "not a date in YYYY-MM-DD form")]),
        (HEADER + "2024-02-30,3.45,4.20\n", [("date", 2, "'2024-02-30' is not a calendar")]),
        (HEADER + "2024-01-22,n/a,4.20\n", [("lpr_1y", 2, "'n/a' is not a number")]),
        (HEADER + "2024-01-22,3.45,4.2e0\n", [("lpr_5y", 2, "is not a number")]),
        (HEADER + "2024-01-22,-0.10,4.20\n", [("lpr_1y", 2, "must not be negative")]),
        (HEADER + "2024-01-22,3.45,20.01\n", [("lpr_5y", 2, "must be at most 20%")]),
        (HEADER + "2024-01-22,3.12345,4.20\n", [("lpr_1y", 2, "more than 4 decimal places")]),
        (
            HEADER + "2024-01-22,3.45,4.20\n2024-02-20,3.45,3.95\n2024-01-22,3.45,4.20\n",
            [("date", 4, "duplicate fixing date 2024-01-22 (first on row 2)")],
        ),
    ],
)
def test_parse_errors_name_the_row_and_the_field(
    text: str, expected: list[tuple[str, int | None, str]]
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_lpr_csv(text)
    assert [(e.field, e.row) for e in exc.value.errors] == [(f, r) for f, r, _ in expected]
    for error, (_, _, reason) in zip(exc.value.errors, expected, strict=True):
        assert reason in error.reason


def test_every_bad_field_of_every_row_is_reported_at_once() -> None:
    text = HEADER + "2024-01-22,x,-1\n2024-13-01,3.45,3.95\n\n2024-02-20,3.45,21\n"
    with pytest.raises(ValidationFailed) as exc:
        parse_lpr_csv(text)
    assert fields(exc) == [("lpr_1y", 2), ("lpr_5y", 2), ("date", 3), ("lpr_5y", 5)]


def test_an_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_lpr_csv(HEADER + "x" * pricing.MAX_CSV_CHARS)
    assert fields(exc) == [("file", None)]


def test_a_fixing_checks_its_rates() -> None:
    with pytest.raises(ValidationFailed) as exc:
        LprFixing(date(2024, 1, 22), Decimal("-1"), Decimal("NaN"))
    assert fields(exc) == [("rate_1y", None), ("rate_5y", None)]


@pytest.mark.parametrize(
    ("fixed_on", "fresh_through"),
    [
        (date(2026, 8, 20), date(2026, 9, 20)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # month end clamps
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2025, 12, 31), date(2026, 1, 31)),  # across the year
    ],
)
def test_a_fixing_is_stale_more_than_one_calendar_month_after_it(
    fixed_on: date, fresh_through: date
) -> None:
    fixing = dataclasses.replace(AUG_2026, fixed_on=fixed_on)
    assert not is_stale(fixing, fixed_on - timedelta(days=1))
    assert not is_stale(fixing, fresh_through)
    assert is_stale(fixing, fresh_through + timedelta(days=1))


def test_staleness_can_be_measured_in_other_numbers_of_months() -> None:
    assert not is_stale(AUG_2026, date(2026, 8, 20), max_age_months=0)
    assert is_stale(AUG_2026, date(2026, 8, 21), max_age_months=0)
    assert not is_stale(AUG_2026, date(2026, 11, 20), max_age_months=3)
    assert add_months(date(2025, 12, 31), 2) == date(2026, 2, 28)
    with pytest.raises(ValueError, match="max_age_months"):
        is_stale(AUG_2026, date(2026, 9, 1), max_age_months=-1)


# --- the policy --------------------------------------------------------------------------


def test_the_default_policy_is_the_documented_one() -> None:
    assert {
        r: [(b.max_days, b.spread_bp) for b in bs] for r, bs in DEFAULT_POLICY.spreads.items()
    } == {
        "AAA": [(90, 30), (180, 40), (366, 60)],
        "AA+": [(90, 50), (180, 65), (366, 85)],
        "AA": [(90, 80), (180, 100), (366, 130)],
        "AA-": [(90, 120), (180, 150), (366, 190)],
        "A+": [(90, 180), (180, 220), (366, 270)],
        "A": [(90, 250), (180, 300), (366, 360)],
    }
    assert DEFAULT_POLICY.fees == (
        FeeRule("platform_service", "platform service fee", "rate_annual", Decimal("30")),
        FeeRule("handling", "handling fee", "rate_flat", Decimal("5")),
        FeeRule("registry_filing", "registry filing fee", "fixed", Decimal("50.00")),
    )
    assert (DEFAULT_POLICY.day_count, DEFAULT_POLICY.base, DEFAULT_POLICY.currency) == (
        "ACT/360",
        "LPR1Y",
        "CNY",
    )
    assert (DEFAULT_POLICY.stale_after_months, DEFAULT_POLICY.min_days) == (1, 1)


CUSTOM = PricingPolicy(
    spreads={"AA": (SpreadBand(30, -10), SpreadBand(365, 75))},
    fees=(
        FeeRule("service", "服务费", "rate_annual", Decimal("12.5")),
        FeeRule("filing", "登记费", "fixed", Decimal("5E+1")),  # written as 50 in JSON
    ),
    day_count="ACT/365F",
    base="LPR5Y",
    stale_after_months=2,
    min_days=7,
)


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, CUSTOM])
def test_a_policy_round_trips_through_json(policy: PricingPolicy) -> None:
    data = json.loads(json.dumps(policy.to_dict()))
    assert PricingPolicy.from_dict(data) == policy
    assert PricingPolicy.from_dict(data).to_dict() == data


def test_the_policy_json_shape() -> None:
    assert CUSTOM.to_dict() == {
        "currency": "CNY",
        "base": "LPR5Y",
        "day_count": "ACT/365F",
        "stale_after_months": 2,
        "min_days": 7,
        "spreads": {"AA": [{"max_days": 30, "spread_bp": -10}, {"max_days": 365, "spread_bp": 75}]},
        "fees": [
            {"code": "service", "name": "服务费", "kind": "rate_annual", "value": "12.5"},
            {"code": "filing", "name": "登记费", "kind": "fixed", "value": "50"},
        ],
    }


def test_only_spreads_is_required() -> None:
    policy = PricingPolicy.from_dict({"spreads": {"AAA": [{"max_days": 90, "spread_bp": 30}]}})
    assert policy == PricingPolicy(spreads={"AAA": (SpreadBand(90, 30),)})


def _config(**changes: object) -> dict[str, object]:
    return {**DEFAULT_POLICY.to_dict(), **changes}


BAND = {"max_days": 90, "spread_bp": 30}
FEE = {"code": "svc", "name": "service", "kind": "rate_flat", "value": "5"}


@pytest.mark.parametrize(
    ("config", "path", "reason"),
    [
        ([], "policy", "must be a JSON object"),
        ({"fees": []}, "spreads", "is required"),
        (_config(spreads={}), "spreads", "at least one rating"),
        (_config(spreads=[]), "spreads", "must be an object"),
        (_config(spreads={"AA": []}), "spreads.AA", "at least one tenor band"),
        (_config(spreads={"AA": {}}), "spreads.AA", "must be a list"),
        (_config(spreads={"aa+": [BAND]}), "spreads.aa+", "canonical form 'AA+'"),
        (_config(spreads={"AA": [90]}), "spreads.AA[0]", "must be an object"),
        (_config(spreads={"AA": [{"max_days": 90}]}), "spreads.AA[0].spread_bp", "required"),
        (_config(spreads={"AA": [{**BAND, "bp": 1}]}), "spreads.AA[0].bp", "unknown field"),
        (_config(spreads={"AA": [{**BAND, "max_days": 0}]}), "spreads.AA[0].max_days", "1 to"),
        (_config(spreads={"AA": [{**BAND, "max_days": "90"}]}), "spreads.AA[0].max_days", "whole"),
        (_config(spreads={"AA": [BAND, BAND]}), "spreads.AA[1].max_days", "greater than"),
        (_config(spreads={"AA": [{**BAND, "spread_bp": 1.5}]}), "spreads.AA[0].spread_bp", "bp"),
        (_config(spreads={"AA": [{**BAND, "spread_bp": -1001}]}), "spreads.AA[0].spread_bp", "bp"),
        (_config(fees={}), "fees", "must be a list"),
        (_config(fees=["x"]), "fees[0]", "must be an object"),
        (_config(fees=[{**FEE, "rate": 1}]), "fees[0].rate", "unknown field"),
        (_config(fees=[{k: v for k, v in FEE.items() if k != "name"}]), "fees[0].name", "required"),
        (_config(fees=[{**FEE, "code": "Svc"}]), "fees[0].code", "lower-case"),
        (_config(fees=[{**FEE, "name": " "}]), "fees[0].name", "1-100 characters"),
        (_config(fees=[{**FEE, "kind": "percent"}]), "fees[0].kind", "unknown fee kind"),
        (_config(fees=[{**FEE, "value": 0.3}]), "fees[0].value", "decimal string"),
        (_config(fees=[{**FEE, "value": "-1"}]), "fees[0].value", "non-negative"),
        (_config(fees=[{**FEE, "value": "10000.01"}]), "fees[0].value", "at most 10000 bp"),
        (_config(fees=[{**FEE, "value": "0.125"}]), "fees[0].value", "up to 2 decimals"),
        (_config(fees=[{**FEE, "kind": "fixed", "value": "0.001"}]), "fees[0].value", "for CNY"),
        (_config(fees=[FEE, FEE]), "fees[1].code", "duplicate fee code 'svc'"),
        (_config(day_count="ACT/364"), "day_count", "known: ACT/360, ACT/365F"),
        (_config(day_count="Actual/360"), "day_count", "canonical name 'ACT/360'"),
        (_config(fees=[{**FEE, "code": ["svc"]}]), "fees[0].code", "lower-case"),
        (_config(base="SHIBOR"), "base", "known: LPR1Y, LPR5Y"),
        (_config(stale_after_months=-1), "stale_after_months", "0 to 12"),
        (_config(min_days=0), "min_days", "from 1 to"),
        (_config(min_days=True), "min_days", "whole number"),
        (_config(currency="XYZ"), "currency", "unsupported currency 'XYZ'"),
        (_config(tenor=1), "tenor", "unknown field"),
    ],
)
def test_policy_errors_name_the_field_path(config: object, path: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        PricingPolicy.from_dict(config)
    assert [e.field for e in exc.value.errors] == [path]
    assert reason in exc.value.errors[0].reason


def test_every_policy_error_is_reported_at_once_with_stable_paths() -> None:
    config = {
        "spreads": {"AA": [{"max_days": 90}, {"max_days": 60, "spread_bp": 10}]},
        "fees": [{"code": "x"}, {**FEE, "value": 0.5}, {**FEE, "kind": "fixed", "value": "1.234"}],
        "day_count": "ACT/ACT",
        "extra": True,
    }
    with pytest.raises(ValidationFailed) as exc:
        PricingPolicy.from_dict(config)
    assert [e.field for e in exc.value.errors] == [
        "extra",
        "spreads.AA[0].spread_bp",
        "fees[0].name",
        "fees[0].kind",
        "fees[0].value",
        "fees[1].value",
        "day_count",
        # fees[2] keeps its index after malformed fees (and spreads.AA[1], 60 days, is not
        # compared with the malformed band before it).
        "fees[2].value",
    ]


def test_a_policy_built_in_code_is_validated_too() -> None:
    with pytest.raises(ValidationFailed) as exc:
        PricingPolicy(
            spreads={"AA": (SpreadBand(180, 50), SpreadBand(90, 40))},
            fees=(FeeRule("a", "a", "fixed", Decimal("1")),) * 2,
            base="SHIBOR",  # type: ignore[arg-type]
        )
    assert [e.field for e in exc.value.errors] == [
        "base",
        "spreads.AA[1].max_days",
        "fees[1].code",
    ]


def test_a_policy_cannot_be_changed_after_validation() -> None:
    with pytest.raises(TypeError):
        DEFAULT_POLICY.spreads["BBB"] = (SpreadBand(90, 500),)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.min_days = 0  # type: ignore[misc]


# --- quotes ------------------------------------------------------------------------------


def test_a_hand_computed_quote() -> None:
    # Face 1,000,000.00 CNY, value 2026-11-26, payment 2027-05-26: 30+31+31+28+31+30 = 181 days
    # (2027 is not a leap year), past the AAA 180-day band, so 60 bp over LPR1Y 3.00 = 3.60 %.
    #   discount interest  1,000,000.00 × 3.60 % × 181/360 = 18,100.00 (exact)
    #   platform fee       1,000,000.00 × 0.30 % × 181/360 =  1,508.333… → 1,508.33
    #   handling fee       1,000,000.00 × 0.05 %            =    500.00
    #   registry filing                                     =     50.00
    #   fees 2,058.33; net 1,000,000.00 − 18,100.00 − 2,058.33 = 979,841.67
    #   all-in (20,158.33 / 979,841.67) × 365/181 = 0.0205730… × 2.0165745… = 4.14871 % → 4.1487
    # The August 2026 fixing is 98 days old on 2026-11-26 (11 + 30 + 31 + 26): stale.
    q = quote(
        CNY("1000000.00"),
        date(2026, 11, 26),
        date(2027, 5, 26),
        "AAA",
        AUG_2026,
        DEFAULT_POLICY,
        as_of=date(2026, 11, 26),
    )
    assert (q.days, q.day_count, q.year_fraction) == (181, "ACT/360", Decimal(181) / 360)
    assert (q.base, q.base_rate, q.spread_bp, q.discount_rate) == (
        "LPR1Y",
        Decimal("3.00"),
        60,
        Decimal("3.60"),
    )
    assert q.discount_interest == CNY("18100.00")
    assert q.fees == (
        FeeItem(
            "platform_service",
            "platform service fee",
            "rate_annual",
            "0.30%/yr × 181/360 on 1,000,000.00",
            CNY("1508.33"),
        ),
        FeeItem("handling", "handling fee", "rate_flat", "0.05% flat on 1,000,000.00", CNY("500")),
        FeeItem("registry_filing", "registry filing fee", "fixed", "fixed 50.00 CNY", CNY("50")),
    )
    assert q.fees_total == CNY("2058.33")
    assert q.net_proceeds == CNY("979841.67")
    assert q.all_in_rate == Decimal("4.1487")
    assert q.fixing == AUG_2026
    assert q.warnings == (
        "stale LPR: the fixing of 2026-08-20 is 98 days old on 2026-11-26 "
        "(more than 1 month(s)); check for a newer fixing",
    )
    data = json.loads(json.dumps(q.to_dict()))
    assert data["net_proceeds"] == {"amount": "979841.67", "currency": "CNY"}
    assert data["fees"][0]["amount"] == {"amount": "1508.33", "currency": "CNY"}
    assert {k: data[k] for k in ("discount_rate", "all_in_rate", "base_rate", "spread_bp")} == {
        "discount_rate": "3.60",
        "all_in_rate": "4.1487",
        "base_rate": "3.00",
        "spread_bp": 60,
    }
    assert data["fixing"] == {"fixed_on": "2026-08-20", "rate_1y": "3.00", "rate_5y": "3.50"}
    assert (data["value_date"], data["days"], data["warnings"]) == (
        "2026-11-26",
        181,
        list(q.warnings),
    )


def _quote(days: int, rating: str = "AAA", **kwargs: object) -> pricing.Quote:
    value_date = date(2026, 9, 1)
    args: dict[str, object] = {
        "face": CNY("1000000.00"),
        "value_date": value_date,
        "payment_date": value_date + timedelta(days=days),
        "rating": rating,
        "fixing": AUG_2026,
        "policy": DEFAULT_POLICY,
        "as_of": value_date,
    }
    return quote(**{**args, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("days", "rating", "spread_bp"),
    [
        (1, "AAA", 30),
        (90, "AAA", 30),
        (91, "AAA", 40),
        (180, "AAA", 40),
        (181, "AAA", 60),
        (366, "AAA", 60),
        (90, " aa+ ", 50),
        (91, "A", 300),
        (366, "A", 360),
    ],
)
def test_the_band_is_the_first_whose_max_days_covers_the_tenor(
    days: int, rating: str, spread_bp: int
) -> None:
    q = _quote(days, rating)
    assert q.spread_bp == spread_bp
    assert q.discount_rate == Decimal("3.00") + Decimal(spread_bp) / 100
    assert q.rating == rating.strip().upper()
    assert q.warnings == ()


def test_a_tenor_beyond_the_longest_band_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        _quote(367)
    assert fields(exc) == [("payment_date", None)]
    assert "367 days is longer than the longest band for rating AAA (366 days)" in str(exc.value)


def test_an_unknown_rating_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationFailed) as exc:
        _quote(90, "BBB")
    assert exc.value.errors == [
        FieldError(
            "rating",
            "rating 'BBB' is not financed under this policy (known: AAA, AA+, AA, AA-, A+, A)",
        )
    ]


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        (0, "must be after the value date"),
        (-5, "must be after the value date"),
        (6, "tenor of 6 days is shorter than the policy minimum of 7"),
    ],
)
def test_a_tenor_below_the_minimum_is_refused(days: int, reason: str) -> None:
    policy = dataclasses.replace(DEFAULT_POLICY, min_days=7)
    with pytest.raises(ValidationFailed) as exc:
        _quote(days, policy=policy)
    assert exc.value.errors == [FieldError("payment_date", reason)]
    assert _quote(7, policy=policy).days == 7


def test_independent_input_errors_are_reported_together_in_order() -> None:
    with pytest.raises(ValidationFailed) as exc:
        _quote(0, "BBB", face=Money(100, "USD"), as_of=date(2026, 8, 19))
    assert [e.field for e in exc.value.errors] == ["face", "payment_date", "fixing", "rating"]
    assert exc.value.errors[0].reason == "policy prices CNY faces, not USD"
    assert exc.value.errors[2].reason == "fixing of 2026-08-20 was not yet published on 2026-08-19"


@pytest.mark.parametrize("face", [CNY("0"), CNY("-1.00")])
def test_the_face_must_be_positive(face: Money) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _quote(30, face=face)
    assert exc.value.errors == [FieldError("face", "must be positive")]


def test_net_proceeds_must_stay_positive() -> None:
    # 1 day at 3.30 % on 50.01 is 0.0046 → 0.00 interest, so with only the 50.00 filing fee
    # 50.01 leaves one fen and 50.00 leaves nothing.
    filing_only = dataclasses.replace(DEFAULT_POLICY, fees=DEFAULT_POLICY.fees[2:])
    assert _quote(1, face=CNY("50.01"), policy=filing_only).net_proceeds == CNY("0.01")
    with pytest.raises(ValidationFailed) as exc:
        _quote(1, face=CNY("50.00"), policy=filing_only)
    assert fields(exc) == [("face", None)]
    assert "net proceeds would be 0.00 CNY after discount interest 0.00 CNY and fees 50.00 CNY" in (
        exc.value.errors[0].reason
    )
    with pytest.raises(ValidationFailed, match="net proceeds would be -"):
        _quote(1, face=CNY("10.00"))


def test_the_rate_may_go_below_lpr_but_not_below_zero() -> None:
    policy = dataclasses.replace(DEFAULT_POLICY, spreads={"AAA": (SpreadBand(90, -300),)})
    assert _quote(30, policy=policy).discount_interest == CNY("0")
    policy = dataclasses.replace(DEFAULT_POLICY, spreads={"AAA": (SpreadBand(90, -301),)})
    with pytest.raises(ValidationFailed) as exc:
        _quote(30, policy=policy)
    assert exc.value.errors == [
        FieldError("rating", "base 3.00% + spread -301 bp is a negative rate")
    ]


def test_a_fresh_fixing_gives_no_warning_but_a_backdated_value_date_does() -> None:
    assert _quote(30, as_of=date(2026, 9, 20)).warnings == (
        "value date 2026-09-01 is before the quote date 2026-09-20",
    )
    warnings = _quote(30, as_of=date(2026, 9, 21)).warnings
    assert len(warnings) == 2
    assert "the fixing of 2026-08-20 is 32 days old on 2026-09-21" in warnings[0]


def test_the_base_and_day_count_follow_the_policy() -> None:
    q = _quote(73, policy=CUSTOM, rating="AA", face=CNY("1000000.00"))
    # LPR5Y 3.50 + 75 bp = 4.25 %, ACT/365F: 1,000,000 × 4.25 % × 73/365 = 8,500.00;
    # service 0.125 %/yr × 73/365 = 250.00.
    assert (q.base, q.base_rate, q.discount_rate) == ("LPR5Y", Decimal("3.50"), Decimal("4.25"))
    assert q.discount_interest == CNY("8500.00")
    assert q.fees[0].basis == "0.125%/yr × 73/365 on 1,000,000.00"
    assert q.fees[0].amount == CNY("250.00")
    assert q.fees[1].basis == "fixed 50.00 CNY"
    isda = dataclasses.replace(DEFAULT_POLICY, day_count="ACT/ACT ISDA")
    q = _quote(181, policy=isda)
    years = year_fraction(q.value_date, q.payment_date, "ACT/ACT ISDA")
    assert q.year_fraction == years
    shown = years.quantize(Decimal("0.000001"), ROUND_HALF_UP)
    assert q.fees[0].basis == f"0.30%/yr × {shown} (ACT/ACT ISDA) on 1,000,000.00"


def test_a_fixed_fee_in_a_currency_without_decimals() -> None:
    policy = PricingPolicy(
        spreads={"AAA": (SpreadBand(366, 50),)},
        fees=(FeeRule("filing", "filing", "fixed", Decimal("500")),),
        currency="JPY",
    )
    q = _quote(30, policy=policy, face=Money(10_000_000, "JPY"))
    # 10,000,000 × 3.50 % × 30/360 = 29,166.67 → 29,167 yen
    assert (q.discount_interest, q.fees[0].amount) == (Money(29_167, "JPY"), Money(500, "JPY"))
    assert q.fees[0].basis == "fixed 500 JPY"


def test_all_in_rate_arguments() -> None:
    assert all_in_rate(CNY("100"), CNY("100"), 30) == Decimal("0.0000")
    with pytest.raises(ValueError, match="positive"):
        all_in_rate(CNY("100"), CNY("0"), 30)
    with pytest.raises(ValueError, match="currency mismatch"):
        all_in_rate(CNY("100"), Money(1, "USD"), 30)


# --- penalty interest --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outstanding", "days", "rate", "convention", "expected"),
    [
        ("1000000.00", 30, "4.50", "ACT/360", "3750.00"),  # 1.5 × LPR1Y 3.00
        ("1000000.00", 10, "3.65", "ACT/365F", "1000.00"),
        ("1000000.00", 10, "3.65", "Actual/365 (Fixed)", "1000.00"),  # an ISDA alias
        ("1000000.00", 0, "4.50", "ACT/360", "0.00"),
        ("0.00", 30, "4.50", "ACT/360", "0.00"),
        # 7,150.00 × 3.60 % × 7/360 = 5.005 exactly: half-up gives 5.01, although 7/360 has no
        # finite decimal expansion (a 28-digit 0.019444… would give 5.004999… → 5.00).
        ("7150.00", 7, "3.60", "ACT/360", "5.01"),
    ],
)
def test_penalty_interest(
    outstanding: str, days: int, rate: str, convention: str, expected: str
) -> None:
    assert penalty_interest(CNY(outstanding), days, Decimal(rate), convention) == CNY(expected)


def test_calendar_dependent_conventions_need_the_first_day_late() -> None:
    with pytest.raises(ValidationFailed) as exc:
        penalty_interest(CNY("1000.00"), 30, Decimal("4.5"), "30/360")
    assert fields(exc) == [("overdue_from", None)]
    start = date(2026, 1, 31)
    amount = penalty_interest(CNY("1000000.00"), 30, Decimal("4.5"), "30/360", overdue_from=start)
    counted = day_count(start, start + timedelta(days=30), "30/360")
    assert amount == Money(half_up(Fraction(100_000_000) * Fraction(45, 1000) * counted / 360))


def test_penalty_interest_rejects_every_bad_argument_at_once() -> None:
    with pytest.raises(ValidationFailed) as exc:
        penalty_interest(CNY("-1.00"), -1, Decimal("-4.5"), "ACT/364")
    assert fields(exc) == [
        ("outstanding", None),
        ("days_late", None),
        ("annual_rate_percent", None),
        ("convention", None),
    ]


@given(
    outstanding_minor=st.integers(0, 10**14),
    days=st.integers(0, 3_000),
    rate_bp=st.integers(0, 5_000),
)
def test_penalty_interest_is_the_exact_value_rounded_half_up(
    outstanding_minor: int, days: int, rate_bp: int
) -> None:
    rate = Decimal(rate_bp).scaleb(-2)
    amount = penalty_interest(Money(outstanding_minor), days, rate)
    assert amount.amount_minor == half_up(
        Fraction(outstanding_minor * rate_bp * days, 10_000 * 360)
    )


# --- amortisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total_minor", "days", "parts"),
    [
        (100, 3, [33, 34, 33]),
        (1, 3, [0, 1, 0]),
        (5, 2, [3, 2]),
        (-100, 3, [-33, -34, -33]),
        (0, 2, [0, 0]),
        (7, 1, [7]),
    ],
)
def test_amortise_recognises_the_cumulative_half_up_share_each_day(
    total_minor: int, days: int, parts: list[int]
) -> None:
    start = date(2026, 2, 27)
    schedule = amortise(Money(total_minor), start, start + timedelta(days=days))
    assert [d for d, _ in schedule] == [start + timedelta(days=k) for k in range(1, days + 1)]
    assert [m.amount_minor for _, m in schedule] == parts


def test_an_empty_period_is_refused() -> None:
    for end in (date(2026, 1, 1), date(2025, 12, 31)):
        with pytest.raises(ValidationFailed) as exc:
            amortise(CNY("1.00"), date(2026, 1, 1), end)
        assert fields(exc) == [("end", None)]
        with pytest.raises(ValidationFailed):
            recognised_through(CNY("1.00"), date(2026, 1, 1), end, date(2026, 1, 1))


def test_recognised_through_clamps_to_the_period() -> None:
    start, end = date(2026, 1, 1), date(2026, 1, 4)
    total = Money(100)
    assert recognised_through(total, start, end, date(2025, 6, 1)) == Money(0)
    assert recognised_through(total, start, end, start) == Money(0)
    assert recognised_through(total, start, end, date(2026, 1, 3)) == Money(67)
    assert recognised_through(total, start, end, end) == total
    assert recognised_through(total, start, end, date(2030, 1, 1)) == total


periods = st.tuples(st.dates(date(2000, 1, 1), date(2040, 12, 31)), st.integers(1, 800)).map(
    lambda p: (p[0], p[0] + timedelta(days=p[1]))
)


@given(total_minor=st.integers(-(10**15), 10**15), period=periods)
def test_amortisation_sums_exactly_and_is_level_to_one_fen(
    total_minor: int, period: tuple[date, date]
) -> None:
    start, end = period
    parts = [m.amount_minor for _, m in amortise(Money(total_minor), start, end)]
    assert len(parts) == (end - start).days
    assert sum(parts) == total_minor
    assert max(parts) - min(parts) <= 1


@given(
    total_minor=st.integers(-(10**15), 10**15),
    period=periods,
    offset=st.integers(-5, 810),
)
def test_recognised_through_is_the_prefix_sum_of_the_schedule(
    total_minor: int, period: tuple[date, date], offset: int
) -> None:
    start, end = period
    as_of = start + timedelta(days=offset)
    schedule = amortise(Money(total_minor), start, end)
    prefix = sum(m.amount_minor for d, m in schedule if d <= as_of)
    assert recognised_through(Money(total_minor), start, end, as_of) == Money(prefix)


# --- quote invariants --------------------------------------------------------------------

FEE_FREE = dataclasses.replace(DEFAULT_POLICY, fees=())
POLICIES = {
    "default": DEFAULT_POLICY,
    "fee-free": FEE_FREE,
    "ACT/365F": dataclasses.replace(DEFAULT_POLICY, day_count="ACT/365F"),
    "30/360": dataclasses.replace(DEFAULT_POLICY, day_count="30/360", base="LPR5Y"),
    "ACT/ACT ISDA": dataclasses.replace(DEFAULT_POLICY, day_count="ACT/ACT ISDA"),
}


@st.composite
def quotes(draw: st.DrawFn) -> tuple[pricing.Quote, PricingPolicy]:
    policy = POLICIES[draw(st.sampled_from(sorted(POLICIES)))]
    value_date = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    days = draw(st.integers(1, 366))
    rate_1y, rate_5y = (Decimal(draw(st.integers(0, 2_000))).scaleb(-2) for _ in range(2))
    fixing = LprFixing(value_date - timedelta(days=draw(st.integers(0, 90))), rate_1y, rate_5y)
    # From 10,000.00 up the 50.00 filing fee and at most ~24 % of discount leave net > 0.
    face = Money(draw(st.integers(1_000_000, 10**15)))
    rating = draw(st.sampled_from(sorted(policy.spreads)))
    payment_date = value_date + timedelta(days=days)
    return quote(face, value_date, payment_date, rating, fixing, policy, value_date), policy


@given(quotes())
def test_a_quote_accounts_for_every_fen_of_the_face(
    case: tuple[pricing.Quote, PricingPolicy],
) -> None:
    q, policy = case
    assert q.net_proceeds + q.discount_interest + q.fees_total == q.face
    assert q.fees_total == sum((f.amount for f in q.fees), Money(0))
    assert [f.code for f in q.fees] == [f.code for f in policy.fees]
    assert all(f.amount.amount_minor >= 0 for f in q.fees)
    assert q.net_proceeds.amount_minor > 0
    assert q.days == (q.payment_date - q.value_date).days
    assert q.year_fraction == year_fraction(q.value_date, q.payment_date, policy.day_count)


@given(quotes())
def test_amounts_are_the_exact_values_rounded_half_up_once(
    case: tuple[pricing.Quote, PricingPolicy],
) -> None:
    q, policy = case
    denominator = {"ACT/360": 360, "ACT/365F": 365, "30/360": 360}.get(policy.day_count)
    assume(denominator is not None)
    assert denominator is not None
    years = Fraction(day_count(q.value_date, q.payment_date, policy.day_count), denominator)
    face = Fraction(q.face.amount_minor)
    rate = Fraction(q.discount_rate) / 100
    assert q.discount_interest.amount_minor == half_up(face * rate * years)
    for fee, item in zip(policy.fees, q.fees, strict=True):
        if fee.kind == "rate_annual":
            assert item.amount.amount_minor == half_up(face * Fraction(fee.value) / 10_000 * years)
    cost = Fraction(q.face.amount_minor - q.net_proceeds.amount_minor, q.net_proceeds.amount_minor)
    assert q.all_in_rate == Decimal(half_up(cost * 365 * 100 * 10_000 / q.days)).scaleb(-4)


@given(quotes())
def test_under_act_360_the_all_in_rate_is_never_below_the_discount_rate(
    case: tuple[pricing.Quote, PricingPolicy],
) -> None:
    # Exactly, D/net × 365/days > D/face × 365/days = rate × 365/360: the cost is charged on the
    # smaller net and annualised over 365 days, so the all-in rate is at least 1.4 % (relative)
    # above the discount rate, and fees only add to it. Rounding the discount to the fen can eat
    # that margin only when the discount is a few fen, hence the 1.00 floor. (Under ACT/365F the
    # margin is rate × days/365 alone and rounding can beat it: not a property.)
    q, policy = case
    assume(policy.day_count == "ACT/360" and q.discount_interest >= Money(100))
    assert q.all_in_rate >= q.discount_rate
    if q.fees_total.amount_minor > 0:
        assert q.all_in_rate >= all_in_rate(q.face, q.face - q.discount_interest, q.days)


@given(quotes())
def test_a_quote_serialises_to_json_and_back(case: tuple[pricing.Quote, PricingPolicy]) -> None:
    q, _ = case
    data = json.loads(json.dumps(q.to_dict()))
    assert Money.parse(data["net_proceeds"]["amount"]) == q.net_proceeds
    assert Money.parse(data["discount_interest"]["amount"]) == q.discount_interest
    assert [Money.parse(f["amount"]["amount"]) for f in data["fees"]] == [f.amount for f in q.fees]
    assert Decimal(data["all_in_rate"]) == q.all_in_rate
    assert Decimal(data["discount_rate"]) == q.discount_rate
