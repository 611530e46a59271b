"""The automated decision: one ordered rule table, every failure in precedence order, tasks for
people, and the interim expert scorecard."""

from __future__ import annotations

import dataclasses
import doctest
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from chainfin.domain import decision
from chainfin.domain.decision import (
    DEFAULT_SCORECARD,
    RULE_CODES,
    RULES,
    TASKS_BY_RULE,
    Bin,
    Characteristic,
    Decision,
    Facts,
    Outcome,
    Reason,
    Scorecard,
    ScoreInputs,
    ScoreResult,
    TaskKind,
    decide,
    interim_score,
)
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.products import ProductConfig, ProductKind, template

APPROVE, REFER, DECLINE = Outcome.APPROVE, Outcome.REFER, Outcome.DECLINE
VISIT, ANALYSIS = TaskKind.SITE_VISIT, TaskKind.FINANCIAL_ANALYSIS

RECEIVABLE = template(ProductKind.RECEIVABLE)

# A clean application: 500,000.00 against a verified 1,000,000.00 payable credential
# (advance cap 900,000.00), within a 2,000,000.00 line, score 700, an existing customer.
CLEAN = Facts(
    amount_minor=50_000_000,
    currency="CNY",
    tenor_months=6,
    method="bullet",
    maturity_on=date(2026, 6, 30),
    applicant_registered=True,
    new_customer=False,
    consent_missing=(),
    underlying_kind="credential_piece",
    underlying_found=True,
    trade_status="verified",
    underlying_value_minor=100_000_000,
    underlying_due_on=date(2026, 7, 31),
    duplicate_of=None,
    core_guarantee=False,
    line_status="active",
    line_available_minor=200_000_000,
    sublimit_available_minor=None,
    core_cap_available_minor=None,
    group_cap_available_minor=None,
    overdue_loans=0,
    score=700,
    risk_flags=(),
)

BELOW_AMOUNT = 40_000_000  # 400,000.00: one limit below the clean amount


def facts(**changes: Any) -> Facts:
    return dataclasses.replace(CLEAN, **changes)


def config(**changes: Any) -> ProductConfig:
    return dataclasses.replace(RECEIVABLE, **changes)


def test_a_clean_application_is_approved_with_no_reasons_and_no_tasks() -> None:
    assert decide(CLEAN, RECEIVABLE) == Decision(APPROVE, (), ())


# One row per rule: the facts or the product changed so that only that rule fails.
# (rule code, facts changes, product changes, outcome, tasks)
SINGLE: list[tuple[str, dict[str, Any], dict[str, Any], Outcome, tuple[TaskKind, ...]]] = [
    ("identity_unregistered", {"applicant_registered": False}, {}, DECLINE, ()),
    ("consent_missing", {"consent_missing": ("invoices",)}, {}, DECLINE, ()),
    ("currency_mismatch", {"currency": "USD"}, {}, DECLINE, ()),
    ("amount_below_minimum", {"amount_minor": 999_999}, {}, DECLINE, ()),
    ("amount_above_maximum", {}, {"max_amount_minor": BELOW_AMOUNT}, DECLINE, ()),
    ("tenor_out_of_range", {"tenor_months": 13}, {}, DECLINE, ()),
    ("method_not_offered", {"method": "equal_instalment"}, {}, DECLINE, ()),
    ("underlying_not_accepted", {"underlying_kind": "purchase_order"}, {}, DECLINE, ()),
    ("underlying_missing", {"underlying_found": False}, {}, DECLINE, ()),
    ("trade_disputed", {"trade_status": "disputed"}, {}, DECLINE, ()),
    ("duplicate_financing", {"duplicate_of": "fin_0001"}, {}, DECLINE, ()),
    ("advance_rate_exceeded", {"underlying_value_minor": 50_000_000}, {}, DECLINE, ()),
    (
        "ltv_exceeded",
        {},
        {"ltv_cap": Decimal("0.4"), "margin_call_ltv": Decimal("0.5")},
        DECLINE,
        (),
    ),
    ("matures_after_underlying", {"maturity_on": date(2026, 8, 1)}, {}, DECLINE, ()),
    ("guarantee_missing", {}, {"core_guarantee_required": True}, DECLINE, ()),
    ("line_missing", {"line_status": "none", "line_available_minor": 0}, {}, DECLINE, ()),
    ("line_frozen", {"line_status": "frozen"}, {}, DECLINE, ()),
    ("line_expired", {"line_status": "expired"}, {}, DECLINE, ()),
    ("line_insufficient", {"line_available_minor": BELOW_AMOUNT}, {}, DECLINE, ()),
    ("sublimit_insufficient", {"sublimit_available_minor": BELOW_AMOUNT}, {}, DECLINE, ()),
    ("core_cap_exceeded", {"core_cap_available_minor": BELOW_AMOUNT}, {}, DECLINE, ()),
    ("group_cap_exceeded", {"group_cap_available_minor": BELOW_AMOUNT}, {}, DECLINE, ()),
    ("overdue_elsewhere", {"overdue_loans": 1}, {}, DECLINE, ()),
    ("score_below_minimum", {"score": 499}, {}, DECLINE, ()),
    ("trade_unverified", {"trade_status": "unverified"}, {}, REFER, ()),
    ("score_below_auto", {"score": 619}, {}, REFER, ()),
    ("new_customer", {"new_customer": True}, {}, REFER, (VISIT,)),
    ("site_visit_threshold", {}, {"site_visit_above_minor": BELOW_AMOUNT}, REFER, (VISIT,)),
    (
        "financial_analysis_threshold",
        {},
        {"financial_analysis_above_minor": BELOW_AMOUNT},
        REFER,
        (ANALYSIS,),
    ),
    ("risk_flags", {"risk_flags": ("shared_contact_phone",)}, {}, REFER, (VISIT,)),
    ("above_auto_limit", {}, {"auto_approve_limit_minor": BELOW_AMOUNT}, REFER, ()),
]


@pytest.mark.parametrize(
    ("code", "fact_changes", "product_changes", "outcome", "tasks"),
    SINGLE,
    ids=[row[0] for row in SINGLE],
)
def test_breaking_one_rule_gives_that_rule_alone(
    code: str,
    fact_changes: dict[str, Any],
    product_changes: dict[str, Any],
    outcome: Outcome,
    tasks: tuple[TaskKind, ...],
) -> None:
    result = decide(facts(**fact_changes), config(**product_changes))
    assert (result.outcome, result.codes, result.tasks) == (outcome, (code,), tasks)


def test_the_single_rule_table_covers_every_rule_in_precedence_order() -> None:
    assert tuple(row[0] for row in SINGLE) == RULE_CODES


def test_each_rules_outcome_and_task_in_the_test_table_match_the_rule_table() -> None:
    assert [(row[0], row[3]) for row in SINGLE] == [(r.code, r.outcome) for r in RULES]
    assert {row[0]: row[4][0] for row in SINGLE if row[4]} == dict(TASKS_BY_RULE)


def test_the_rule_table_in_precedence_order() -> None:
    assert RULE_CODES == (
        "identity_unregistered",
        "consent_missing",
        "currency_mismatch",
        "amount_below_minimum",
        "amount_above_maximum",
        "tenor_out_of_range",
        "method_not_offered",
        "underlying_not_accepted",
        "underlying_missing",
        "trade_disputed",
        "duplicate_financing",
        "advance_rate_exceeded",
        "ltv_exceeded",
        "matures_after_underlying",
        "guarantee_missing",
        "line_missing",
        "line_frozen",
        "line_expired",
        "line_insufficient",
        "sublimit_insufficient",
        "core_cap_exceeded",
        "group_cap_exceeded",
        "overdue_elsewhere",
        "score_below_minimum",
        "trade_unverified",
        "score_below_auto",
        "new_customer",
        "site_visit_threshold",
        "financial_analysis_threshold",
        "risk_flags",
        "above_auto_limit",
    )
    assert dict(TASKS_BY_RULE) == {
        "new_customer": VISIT,
        "site_visit_threshold": VISIT,
        "financial_analysis_threshold": ANALYSIS,
        "risk_flags": VISIT,
    }


# Several rules broken at once: every failure is listed, in precedence order.
MULTIPLE: list[tuple[str, dict[str, Any], dict[str, Any], Outcome, list[str], list[TaskKind]]] = [
    (
        "declines list refer reasons too, and give no tasks",
        {
            "score": 600,
            "line_available_minor": BELOW_AMOUNT,
            "consent_missing": ("iot",),
            "applicant_registered": False,
            "new_customer": True,
        },
        {},
        DECLINE,
        [
            "identity_unregistered",
            "consent_missing",
            "line_insufficient",
            "score_below_auto",
            "new_customer",
        ],
        [],
    ),
    (
        "a missing underlying silences the checks on its value and due date",
        {
            "underlying_found": False,
            "underlying_value_minor": 0,
            "maturity_on": date(2027, 1, 1),
            "duplicate_of": "reg_1",
        },
        {},
        DECLINE,
        ["underlying_missing", "duplicate_financing"],
        [],
    ),
    (
        "no underlying named is not accepted, and not also reported missing",
        {"underlying_kind": None, "underlying_found": False},
        {},
        DECLINE,
        ["underlying_not_accepted"],
        [],
    ),
    (
        "a frozen line is not also reported insufficient, but the caps still are",
        {
            "line_status": "frozen",
            "line_available_minor": 0,
            "sublimit_available_minor": 0,
            "group_cap_available_minor": 0,
        },
        {},
        DECLINE,
        ["line_frozen", "group_cap_exceeded"],
        [],
    ),
    (
        "a large amount needs a visit and an analysis, in table order",
        {
            "amount_minor": 600_000_000,
            "underlying_value_minor": 1_000_000_000,
            "line_available_minor": 1_000_000_000,
        },
        {},
        REFER,
        ["site_visit_threshold", "financial_analysis_threshold", "above_auto_limit"],
        [VISIT, ANALYSIS],
    ),
    (
        "tasks are listed once",
        {"new_customer": True, "risk_flags": ("fraud_hit",), "trade_status": "unverified"},
        {"site_visit_above_minor": BELOW_AMOUNT},
        REFER,
        ["trade_unverified", "new_customer", "site_visit_threshold", "risk_flags"],
        [VISIT],
    ),
    (
        "an inventory pledge over both caps fails both",
        {"underlying_kind": "warehouse_receipt", "amount_minor": 50_000_000},
        {
            "kind": ProductKind.INVENTORY,
            "underlying": template(ProductKind.INVENTORY).underlying,
            "advance_rate_cap": Decimal("0.4"),
            "ltv_cap": Decimal("0.45"),
            "margin_call_ltv": Decimal("0.8"),
        },
        DECLINE,
        ["advance_rate_exceeded", "ltv_exceeded"],
        [],
    ),
]


@pytest.mark.parametrize(
    ("fact_changes", "product_changes", "outcome", "codes", "tasks"),
    [row[1:] for row in MULTIPLE],
    ids=[row[0] for row in MULTIPLE],
)
def test_every_failure_is_listed_in_precedence_order(
    fact_changes: dict[str, Any],
    product_changes: dict[str, Any],
    outcome: Outcome,
    codes: list[str],
    tasks: list[TaskKind],
) -> None:
    result = decide(facts(**fact_changes), config(**product_changes))
    assert (result.outcome, list(result.codes), list(result.tasks)) == (outcome, codes, tasks)


# --- boundaries --------------------------------------------------------------------------


def test_an_amount_exactly_at_the_advance_cap_is_approved_and_one_fen_more_declined() -> None:
    # 90 % of 555,555.57 is 500,000.013: the cap is 500,000.01, never rounded up.
    value = 55_555_557
    assert (
        decide(facts(amount_minor=50_000_001, underlying_value_minor=value), RECEIVABLE).codes == ()
    )
    over = decide(facts(amount_minor=50_000_002, underlying_value_minor=value), RECEIVABLE)
    assert over.codes == ("advance_rate_exceeded",)


def test_an_auto_approve_limit_of_zero_refers_every_application() -> None:
    result = decide(facts(amount_minor=1_000_000), config(auto_approve_limit_minor=0))
    assert (result.outcome, result.codes) == (REFER, ("above_auto_limit",))
    assert result.reasons[0].message == "automatic approval is disabled for this product"


def test_an_amount_exactly_at_the_auto_approve_limit_is_approved() -> None:
    at_limit = facts(amount_minor=100_000_000, underlying_value_minor=200_000_000)
    assert decide(at_limit, RECEIVABLE).outcome is APPROVE
    one_more = dataclasses.replace(at_limit, amount_minor=100_000_001)
    assert decide(one_more, RECEIVABLE).codes == ("above_auto_limit",)


@pytest.mark.parametrize(
    ("score", "outcome"),
    [(499, DECLINE), (500, REFER), (619, REFER), (620, APPROVE)],
)
def test_score_thresholds(score: int, outcome: Outcome) -> None:
    assert decide(facts(score=score), RECEIVABLE).outcome is outcome


@pytest.mark.parametrize(
    ("amount_minor", "codes"),
    [(1_000_000, ()), (999_999, ("amount_below_minimum",))],
)
def test_the_minimum_amount_is_allowed(amount_minor: int, codes: tuple[str, ...]) -> None:
    assert decide(facts(amount_minor=amount_minor), RECEIVABLE).codes == codes


@pytest.mark.parametrize(("tenor", "ok"), [(0, False), (1, True), (12, True), (13, False)])
def test_tenor_bounds_are_inclusive(tenor: int, ok: bool) -> None:
    assert (decide(facts(tenor_months=tenor), RECEIVABLE).codes == ()) is ok


def test_a_loan_maturing_on_the_day_the_underlying_is_paid_is_fine() -> None:
    assert decide(facts(maturity_on=date(2026, 7, 31)), RECEIVABLE).codes == ()


def test_an_amount_exactly_the_available_line_is_fine() -> None:
    assert decide(facts(line_available_minor=50_000_000), RECEIVABLE).codes == ()


def test_a_new_customer_is_not_referred_when_the_product_does_not_ask_for_it() -> None:
    no_visit = config(new_customer_site_visit=False)
    assert decide(facts(new_customer=True), no_visit).outcome is APPROVE


# --- messages and shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact_changes", "message"),
    [
        (
            {
                "amount_minor": 120_000_000,
                "underlying_value_minor": 200_000_000,
                "line_available_minor": 80_000_000,
            },
            "amount 1,200,000.00 exceeds the line's available 800,000.00",
        ),
        (
            {"underlying_value_minor": 50_000_000},
            "amount 500,000.00 exceeds the advance rate cap of 90% of the underlying's value "
            "500,000.00 (at most 450,000.00)",
        ),
        ({"amount_minor": 999_999}, "amount 9,999.99 is below the product's minimum 10,000.00"),
        ({"currency": "USD"}, "the application is in USD but the product lends in CNY"),
        ({"overdue_loans": 2}, "the applicant has 2 overdue loans at this bank"),
        (
            {"maturity_on": date(2026, 8, 1)},
            "the loan matures on 2026-08-01, after the underlying is paid on 2026-07-31",
        ),
    ],
)
def test_messages_give_the_figures_in_yuan(fact_changes: dict[str, Any], message: str) -> None:
    assert decide(facts(**fact_changes), RECEIVABLE).reasons[0].message == message


def test_a_decision_as_a_dict() -> None:
    result = decide(facts(new_customer=True), RECEIVABLE)
    assert result.to_dict() == {
        "outcome": "refer",
        "reasons": [
            {
                "code": "new_customer",
                "outcome": "refer",
                "message": "a first-time customer needs a site visit",
            }
        ],
        "tasks": ["site_visit"],
    }
    assert result.reasons == (
        Reason("new_customer", REFER, "a first-time customer needs a site visit"),
    )


@pytest.mark.parametrize(("field", "value"), [("trade_status", "ok"), ("line_status", "open")])
def test_facts_refuse_unknown_statuses(field: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        facts(**{field: value})
    assert [e.field for e in exc.value.errors] == [field]


# --- the interim score -------------------------------------------------------------------


def inputs(**changes: Any) -> ScoreInputs:
    best = ScoreInputs(
        tenure_months=36,
        trades_12m=48,
        disputes_12m=0,
        on_time_share=Fraction(1),
        overdue_loans=0,
        core_rating="AAA",
    )
    return dataclasses.replace(best, **changes)


@pytest.mark.parametrize(
    ("changes", "points", "reasons"),
    [
        ({}, 850, ()),
        (
            {
                "tenure_months": 0,
                "trades_12m": 0,
                "disputes_12m": 4,
                "on_time_share": Fraction(0),
                "overdue_loans": 2,
                "core_rating": None,
            },
            300,
            ("late_payments", "short_tenure", "overdue_loans"),
        ),
        (
            {"tenure_months": 30, "trades_12m": 20, "on_time_share": None, "core_rating": "AA+"},
            720,
            ("no_payment_history", "few_trades", "short_tenure"),
        ),
        (
            {
                "tenure_months": 8,
                "trades_12m": 5,
                "disputes_12m": 2,
                "on_time_share": Fraction(85, 100),
                "overdue_loans": 1,
                "core_rating": "A",
            },
            465,
            ("late_payments", "overdue_loans", "weak_core_rating"),
        ),
        ({"disputes_12m": 1}, 825, ("disputes",)),
        ({"core_rating": "BBB"}, 760, ("weak_core_rating",)),
    ],
)
def test_the_default_card_pins_points_and_reasons(
    changes: dict[str, Any], points: int, reasons: tuple[str, ...]
) -> None:
    assert interim_score(inputs(**changes)) == ScoreResult(points, reasons)


@pytest.mark.parametrize(
    ("share", "points"),
    [
        (Fraction(79, 100), 730),
        (Fraction(80, 100), 770),
        (Fraction(94, 100), 805),
        (Fraction(95, 100), 830),
        (Fraction(99, 100), 850),
    ],
)
def test_bin_upper_bounds_are_exclusive(share: Fraction, points: int) -> None:
    assert interim_score(inputs(on_time_share=share)).points == points


def test_a_bank_can_use_its_own_card() -> None:
    card = Scorecard(
        base=100,
        characteristics=(
            Characteristic("trades_12m", "few_trades", (Bin(Fraction(10), 0), Bin(None, 50))),
            Characteristic("core_rating", "weak_core_rating", categories=(("AAA", 20),)),
        ),
    )
    assert interim_score(inputs(trades_12m=3), card) == ScoreResult(120, ("few_trades",))


@pytest.mark.parametrize(
    ("characteristic", "field"),
    [
        (Characteristic("age", "young", (Bin(None, 1),)), "characteristics[0].source"),
        (Characteristic("trades_12m", "few", (Bin(Fraction(5), 1),)), "characteristics[0].bins"),
        (
            Characteristic(
                "trades_12m", "few", (Bin(Fraction(5), 1), Bin(Fraction(5), 2), Bin(None, 3))
            ),
            "characteristics[0].bins",
        ),
        (Characteristic("trades_12m", "few"), "characteristics[0]"),
    ],
)
def test_a_malformed_card_is_refused(characteristic: Characteristic, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        Scorecard(base=0, characteristics=(characteristic,))
    assert [e.field for e in exc.value.errors] == [field]


def test_score_inputs_refuse_impossible_values() -> None:
    with pytest.raises(ValidationFailed) as exc:
        inputs(trades_12m=-1, on_time_share=Fraction(3, 2))
    assert [e.field for e in exc.value.errors] == ["trades_12m", "on_time_share"]


def test_the_default_card_spans_300_to_850() -> None:
    best = sum(ch.best() for ch in DEFAULT_SCORECARD.characteristics)
    assert (DEFAULT_SCORECARD.base, DEFAULT_SCORECARD.base + best) == (300, 850)


def test_module_doctest() -> None:
    assert doctest.testmod(decision).failed == 0
