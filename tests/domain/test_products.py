"""Loan products as configuration: templates per kind, the JSON shape and its validation, and
the approval authority ladder."""

from __future__ import annotations

import dataclasses
import doctest
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain import products
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.products import (
    COMPATIBLE_UNDERLYING,
    AuthorityLevel,
    Payee,
    ProductConfig,
    ProductKind,
    UnderlyingKind,
    template,
)

YUAN = 100  # fen per yuan


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in exc.value.errors]


def receivable_json(**changes: object) -> dict[str, object]:
    return template(ProductKind.RECEIVABLE).to_dict() | changes


# --- templates ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ProductKind))
def test_every_kind_has_a_valid_template(kind: ProductKind) -> None:
    config = template(kind)
    assert (config.kind, config.currency) == (kind, "CNY")
    assert set(config.underlying) <= set(COMPATIBLE_UNDERLYING[kind])


def test_the_receivable_template() -> None:
    config = template("receivable_financing")
    assert config.methods == ("bullet",)
    assert config.advance_rate_cap == Decimal("0.9")
    assert config.underlying == (UnderlyingKind.CREDENTIAL_PIECE, UnderlyingKind.INVOICE)
    assert (config.min_tenor_months, config.max_tenor_months) == (1, 12)
    assert config.auto_approve_limit_minor == 1_000_000 * YUAN
    assert (config.min_score, config.min_score_auto) == (500, 620)
    assert config.site_visit_above_minor == 3_000_000 * YUAN
    assert config.financial_analysis_above_minor == 5_000_000 * YUAN
    assert config.consent_categories == ("invoices", "trade_documents")
    assert config.spread_bp == 50
    assert (config.payee, config.ltv_cap, config.margin_call_ltv) == (Payee.BORROWER, None, None)


def test_the_order_financing_template() -> None:
    config = template(ProductKind.ORDER)
    assert config.advance_rate_cap == Decimal("0.7")
    assert config.underlying == (UnderlyingKind.PURCHASE_ORDER,)
    assert config.max_tenor_months == 6
    assert config.methods == ("bullet", "equal_principal")


def test_the_inventory_pledge_template() -> None:
    config = template(ProductKind.INVENTORY)
    assert config.advance_rate_cap == Decimal("0.7")
    assert (config.ltv_cap, config.margin_call_ltv) == (Decimal("0.7"), Decimal("0.8"))
    assert config.underlying == (UnderlyingKind.WAREHOUSE_RECEIPT,)
    assert "iot" in config.consent_categories


def test_the_dealer_financing_template() -> None:
    config = template(ProductKind.DEALER)
    assert config.payee is Payee.CORE
    assert config.core_guarantee_required is True
    assert config.buyback_after_dpd == 60
    assert config.underlying == (UnderlyingKind.DEALER_ORDER,)
    assert config.advance_rate_cap == Decimal("0.8")
    assert "equal_principal" in config.methods


@pytest.mark.parametrize("kind", list(ProductKind))
def test_the_default_authority_ladder(kind: ProductKind) -> None:
    assert template(kind).authority == (
        AuthorityLevel(1, 1_000_000 * YUAN),
        AuthorityLevel(2, 5_000_000 * YUAN),
        AuthorityLevel(3, 50_000_000 * YUAN),
    )


def test_a_template_in_a_currency_without_decimals_keeps_the_figures() -> None:
    config = template(ProductKind.RECEIVABLE, "JPY")
    assert (config.currency, config.auto_approve_limit_minor) == ("JPY", 1_000_000)


@pytest.mark.parametrize(
    ("kind", "currency", "field"),
    [("factoring", "CNY", "kind"), (ProductKind.ORDER, "XYZ", "currency")],
)
def test_a_template_of_an_unknown_kind_or_currency_is_refused(
    kind: str, currency: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        template(kind, currency)
    assert fields_of(exc) == [field]


# --- the JSON shape ----------------------------------------------------------------------


def test_the_json_shape_uses_yuan_strings_and_plain_json() -> None:
    data = template(ProductKind.INVENTORY).to_dict()
    assert data["kind"] == "inventory_pledge"
    assert (data["min_amount"], data["max_amount"]) == ("100000.00", "30000000.00")
    assert data["auto_approve_limit"] == "500000.00"
    assert (data["ltv_cap"], data["margin_call_ltv"]) == ("0.7", "0.8")
    assert data["underlying"] == ["warehouse_receipt"]
    assert data["authority"] == [
        {"level": 1, "max_amount": "1000000.00"},
        {"level": 2, "max_amount": "5000000.00"},
        {"level": 3, "max_amount": "50000000.00"},
    ]
    assert not any(key.endswith("_minor") for key in data)


@pytest.mark.parametrize("kind", list(ProductKind))
def test_from_dict_reads_what_to_dict_writes(kind: ProductKind) -> None:
    config = template(kind)
    assert ProductConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@given(
    kind=st.sampled_from(list(ProductKind)),
    min_amount=st.integers(1, 10_000_000 * YUAN),
    extra=st.integers(0, 10_000_000 * YUAN),
    advance=st.decimals(Decimal("0.01"), Decimal(1), places=4),
    spread=st.integers(0, 2000),
    scores=st.tuples(st.integers(0, 1000), st.integers(0, 1000)).map(sorted),
    tenors=st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
    auto=st.integers(0, 10**12),
)
def test_any_valid_configuration_round_trips_through_json(
    kind: ProductKind,
    min_amount: int,
    extra: int,
    advance: Decimal,
    spread: int,
    scores: list[int],
    tenors: list[int],
    auto: int,
) -> None:
    config = dataclasses.replace(
        template(kind),
        min_amount_minor=min_amount,
        max_amount_minor=min_amount + extra,
        advance_rate_cap=advance,
        spread_bp=spread,
        min_score=scores[0],
        min_score_auto=scores[1],
        min_tenor_months=tenors[0],
        max_tenor_months=tenors[1],
        auto_approve_limit_minor=auto,
    )
    assert ProductConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_missing_keys_take_the_template_default() -> None:
    config = ProductConfig.from_dict({"kind": "order_financing", "max_amount": "2000000.00"})
    assert config == dataclasses.replace(
        template(ProductKind.ORDER), max_amount_minor=2_000_000 * YUAN
    )


def test_missing_keys_take_the_base_value() -> None:
    base = dataclasses.replace(template(ProductKind.DEALER), spread_bp=75)
    config = ProductConfig.from_dict({"min_score_auto": 650}, base=base)
    assert config == dataclasses.replace(base, min_score_auto=650)


def test_from_dict_normalises_the_day_count() -> None:
    config = ProductConfig.from_dict(receivable_json(day_count="actual/365 fixed"))
    assert config.day_count == "ACT/365F"


def test_kind_is_required_without_a_base() -> None:
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict({"spread_bp": "many"})
    assert fields_of(exc) == ["kind", "spread_bp"]


def test_an_unknown_key_is_refused_and_the_known_keys_listed() -> None:
    with pytest.raises(ValidationFailed, match=r"advance_rate: unknown key \(known: kind, ") as exc:
        ProductConfig.from_dict(receivable_json(advance_rate="0.9"))
    assert fields_of(exc) == ["advance_rate"]
    assert "advance_rate_cap" in exc.value.errors[0].reason


@pytest.mark.parametrize(
    "key", ["min_amount", "max_amount", "auto_approve_limit", "site_visit_above"]
)
def test_an_amount_with_three_decimals_is_refused_never_rounded(key: str) -> None:
    with pytest.raises(ValidationFailed, match=r"has more than 2 decimal places for CNY") as exc:
        ProductConfig.from_dict(receivable_json(**{key: "20000.001"}))
    assert fields_of(exc) == [key]


def test_an_authority_amount_with_three_decimals_is_refused() -> None:
    authority = [{"level": 1, "max_amount": "50000000.005"}]
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(receivable_json(authority=authority))
    assert fields_of(exc) == ["authority[0].max_amount"]


# Each row: the JSON changes to a valid receivable product, the field blamed, and the reason.
INVALID: list[tuple[dict[str, object], str, str]] = [
    ({"kind": "factoring"}, "kind", r"unknown kind 'factoring'"),
    ({"currency": "XYZ"}, "currency", r"supported currency"),
    ({"min_amount": 10000}, "min_amount", r"decimal string"),
    ({"min_amount": "ten"}, "min_amount", r"not a decimal amount"),
    ({"min_amount": "0.00"}, "min_amount", r"positive"),
    ({"auto_approve_limit": "-1.00"}, "auto_approve_limit", r"not be negative"),
    ({"financial_analysis_above": "-0.01"}, "financial_analysis_above", r"not be negative"),
    ({"min_amount": "60000000.00"}, "max_amount", r"at least min_amount \(60000000.00\)"),
    ({"min_tenor_months": 0}, "min_tenor_months", r"from 1 to 12"),
    ({"max_tenor_months": 13}, "max_tenor_months", r"from 1 to 12"),
    ({"max_tenor_months": 6.0}, "max_tenor_months", r"whole number"),
    ({"min_tenor_months": 7, "max_tenor_months": 6}, "max_tenor_months", r"min_tenor_months"),
    ({"methods": []}, "methods", r"at least one of: bullet"),
    ({"methods": ["balloon"]}, "methods[0]", r"'balloon' is not one of"),
    ({"methods": ["bullet", "bullet"]}, "methods[1]", r"listed twice"),
    ({"methods": "bullet"}, "methods", r"must be a list"),
    ({"day_count": "ACT/365"}, "day_count", r"unknown day count 'ACT/365'"),
    ({"spread_bp": 2001}, "spread_bp", r"0 to 2000"),
    ({"spread_bp": True}, "spread_bp", r"whole number"),
    ({"penalty_multiplier": "0.99"}, "penalty_multiplier", r"from 1 to 4"),
    ({"penalty_multiplier": "4.01"}, "penalty_multiplier", r"from 1 to 4"),
    ({"penalty_multiplier": 1.5}, "penalty_multiplier", r"decimal string"),
    ({"penalty_multiplier": "NaN"}, "penalty_multiplier", r"decimal string"),
    ({"underlying": []}, "underlying", r"at least one"),
    ({"underlying": ["bill"]}, "underlying[0]", r"unknown underlying 'bill'"),
    ({"underlying": ["invoice", "invoice"]}, "underlying[1]", r"listed twice"),
    ({"underlying": ["invoice", "purchase_order"]}, "underlying[1]", r"does not fit"),
    ({"advance_rate_cap": "0"}, "advance_rate_cap", r"above 0 and at most 1"),
    ({"advance_rate_cap": "1.01"}, "advance_rate_cap", r"above 0 and at most 1"),
    ({"ltv_cap": "0.7"}, "margin_call_ltv", r"required for an ltv_cap"),
    ({"margin_call_ltv": "0.8"}, "ltv_cap", r"required for a margin_call_ltv"),
    ({"ltv_cap": "0.8", "margin_call_ltv": "0.8"}, "margin_call_ltv", r"above ltv_cap \(0.8\)"),
    ({"ltv_cap": "0.7", "margin_call_ltv": "1.1"}, "margin_call_ltv", r"at most 1"),
    ({"min_score": -1}, "min_score", r"0 to 1000"),
    ({"min_score": 700}, "min_score_auto", r"at least min_score \(700\)"),
    ({"new_customer_site_visit": "yes"}, "new_customer_site_visit", r"true or false"),
    ({"consent_categories": ["gps"]}, "consent_categories[0]", r"'gps' is not one of"),
    ({"consent_categories": [1]}, "consent_categories[0]", r"must be a string"),
    ({"payee": "supplier"}, "payee", r"unknown payee 'supplier'"),
    ({"buyback_after_dpd": 30}, "buyback_after_dpd", r"needs core_guarantee_required"),
    (
        {"core_guarantee_required": True, "buyback_after_dpd": 0},
        "buyback_after_dpd",
        r"1 to 180",
    ),
    ({"authority": []}, "authority", r"at least one level"),
    ({"authority": [1]}, "authority[0]", r"must be an object"),
    (
        {"authority": [{"level": 1, "max_amount": "50000000.00", "role": "x"}]},
        "authority[0].role",
        r"unknown key",
    ),
    ({"authority": [{"level": 1}]}, "authority[0].max_amount", r"required"),
    (
        {"authority": [{"level": 2, "max_amount": "50000000.00"}]},
        "authority[0].level",
        r"must be 1",
    ),
    (
        {
            "authority": [
                {"level": 1, "max_amount": "50000000.00"},
                {"level": 2, "max_amount": "50000000.00"},
            ]
        },
        "authority[1].max_amount",
        r"above the previous level",
    ),
    (
        {"authority": [{"level": 1, "max_amount": "1000000.00"}]},
        "authority[0].max_amount",
        r"must cover max_amount \(50000000.00\)",
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID, ids=[row[1] for row in INVALID])
def test_each_invalid_field_is_named(changes: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(receivable_json(**changes))
    assert fields_of(exc) == [field]
    assert exc.match(reason)


@pytest.mark.parametrize(
    ("kind", "changes", "field", "reason"),
    [
        (ProductKind.INVENTORY, {"ltv_cap": None}, "ltv_cap", r"required for inventory_pledge"),
        (
            ProductKind.INVENTORY,
            {"margin_call_ltv": None},
            "margin_call_ltv",
            r"required for inventory_pledge",
        ),
        (ProductKind.DEALER, {"payee": "borrower"}, "payee", r"must be core"),
        (
            ProductKind.DEALER,
            {"buyback_after_dpd": None},
            "buyback_after_dpd",
            r"required for dealer_financing",
        ),
    ],
)
def test_rules_of_a_kind(
    kind: ProductKind, changes: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(template(kind).to_dict() | changes)
    assert fields_of(exc) == [field]
    assert exc.match(reason)


def test_every_problem_is_reported_at_once() -> None:
    data = receivable_json(
        colour="red",
        max_amount="1.001",
        min_tenor_months=0,
        advance_rate_cap="2",
        min_score=900,
        authority=[{"level": 1, "max_amount": "1.00"}, {"level": 3, "max_amount": "2.00"}],
    )
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(data)
    assert fields_of(exc) == [
        "colour",
        "max_amount",
        "min_tenor_months",
        "advance_rate_cap",
        "authority[1].level",
        "min_score_auto",
    ]


def test_amounts_cannot_be_read_in_an_unknown_currency() -> None:
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(receivable_json(currency="XYZ", max_amount="1.001"))
    assert fields_of(exc) == ["currency"]


def test_a_product_built_in_code_is_validated_the_same_way() -> None:
    wrong: dict[str, Any] = {
        "advance_rate_cap": 0.9,  # a float, not a Decimal
        "day_count": "actual/360",  # not the canonical name
        "methods": ["bullet"],  # a list, not a tuple
    }
    with pytest.raises(ValidationFailed) as exc:
        dataclasses.replace(template(ProductKind.RECEIVABLE), **wrong)
    assert fields_of(exc) == ["methods", "day_count", "advance_rate_cap"]


def test_from_dict_refuses_what_is_not_an_object() -> None:
    with pytest.raises(ValidationFailed) as exc:
        ProductConfig.from_dict(["kind"])  # type: ignore[arg-type]
    assert fields_of(exc) == ["product"]


# --- approval authority ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_minor", "level"),
    [
        (1, 1),
        (1_000_000 * YUAN, 1),
        (1_000_000 * YUAN + 1, 2),
        (5_000_000 * YUAN, 2),
        (5_000_000 * YUAN + 1, 3),
        (50_000_000 * YUAN, 3),
        (50_000_000 * YUAN + 1, None),
    ],
)
def test_the_lowest_level_whose_maximum_covers_the_amount(
    amount_minor: int, level: int | None
) -> None:
    assert template(ProductKind.RECEIVABLE).required_level(amount_minor) == level


def test_module_doctest() -> None:
    assert doctest.testmod(products).failed == 0
