"""Untrusted rows become registry records or the complete list of what is wrong with them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from chainfin.domain.errors import FieldError
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, RelationRecord, Role
from chainfin.domain.registry_input import (
    ENTERPRISE_FIELDS,
    RELATION_FIELDS,
    parse_enterprise_row,
    parse_relation_row,
    parse_roles,
)

BEIJING_FIRM = "91110000600037341L"
SHANGHAI_FIRM = "91310115MA1K3BTP2B"

ROW: dict[str, object] = {
    "uscc": BEIJING_FIRM,
    "name": "北京某汽车零部件有限公司",
    "region_code": "110105",
    "industry_code": "C36",
    "roles": "supplier",
}


def errors_of(row: Mapping[str, object], row_no: int | None = None) -> list[FieldError]:
    result = parse_enterprise_row(row, row_no=row_no)
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return result


def test_a_valid_row_becomes_a_record_with_normalised_fields() -> None:
    row = {
        **ROW,
        "uscc": " 9111-0000 6000 3734 1l ",
        "name": "  北京某汽车零部件有限公司 ",
        "industry_code": "c36",
        "roles": "core;dealer",
        "employees": "120",
        "revenue": "12345678.90",
        "total_assets": "500000",
        "legal_representative": "张三",
        "phone": "",
        "address": "北京市朝阳区",
    }
    assert parse_enterprise_row(row, row_no=2) == EnterpriseRecord(
        uscc=BEIJING_FIRM,
        name="北京某汽车零部件有限公司",
        region_code="110105",
        industry_code="C36",
        roles=frozenset({Role.CORE, Role.DEALER}),
        employees=120,
        revenue=Money(1234567890, "CNY"),
        total_assets=Money(50000000, "CNY"),
        legal_representative="张三",
        phone=None,  # blank is absent
        address="北京市朝阳区",
    )


@pytest.mark.parametrize(
    "roles",
    [
        "core;dealer",
        "core,dealer",
        "core|dealer",
        " Core ; DEALER ",
        ["core", "dealer"],
        ("dealer", "core"),
    ],
)
def test_roles_may_be_a_delimited_string_or_a_list(roles: object) -> None:
    record = parse_enterprise_row({**ROW, "roles": roles})
    assert isinstance(record, EnterpriseRecord)
    assert record.roles == {Role.CORE, Role.DEALER}


def test_amounts_use_the_rows_currency() -> None:
    record = parse_enterprise_row({**ROW, "revenue": "1000", "currency": "USD"})
    assert isinstance(record, EnterpriseRecord)
    assert record.revenue == Money(100000, "USD")


# One field wrong at a time: (field changed, value or None to drop it, field reported, reason).
SINGLE_FIELD_FAILURES: list[tuple[str, object, str, str]] = [
    ("uscc", None, "uscc", "is required"),
    ("uscc", "   ", "uscc", "is required"),
    ("uscc", "91110000600037341N", "uscc", "check digit should be L"),
    ("uscc", "123", "uscc", "length: expected 18 characters, got 3"),
    ("name", None, "name", "is required"),
    ("name", "x" * 201, "name", "longer than 200 characters"),
    ("region_code", None, "region_code", "is required"),
    ("region_code", "110103", "region_code", "110103 (崇文区) was withdrawn in 2010"),
    ("region_code", "999999", "region_code", "999999 is not a GB/T 2260 region code"),
    ("region_code", "1101", "region_code", "must be a 6-digit GB/T 2260 code"),
    ("industry_code", None, "industry_code", "is required"),
    ("industry_code", "C", "industry_code", "a two-digit division is required, e.g. C36"),
    ("industry_code", "Z99", "industry_code", "there is no division 99"),
    ("industry_code", "A36", "industry_code", "division 36 belongs to section C"),
    ("industry_code", "C361", "industry_code", "is a group or class code"),
    ("roles", None, "roles", "is required (e.g. supplier, or core;dealer)"),
    ("roles", "", "roles", "is required (e.g. supplier, or core;dealer)"),
    ("roles", "boss", "roles", "unknown role 'boss' (known: core, supplier, dealer"),
    ("roles", "supplier;boss", "roles", "unknown role 'boss'"),
    ("roles", ";", "roles", "at least one role is required"),
    ("roles", [], "roles", "at least one role is required"),
    ("employees", "12.5", "employees", "'12.5' is not a whole number of people"),
    ("employees", "-3", "employees", "'-3' is not a whole number of people"),
    ("employees", "many", "employees", "'many' is not a whole number of people"),
    ("revenue", "1.234", "revenue", "'1.234' has more than 2 decimal places for CNY"),
    ("revenue", "-5", "revenue", "must not be negative"),
    ("revenue", "1e6", "revenue", "is not a decimal amount"),
    ("total_assets", "-0.01", "total_assets", "must not be negative"),
    ("currency", "XYZ", "revenue", "unsupported currency 'XYZ'"),
    ("legal_representative", "x" * 101, "legal_representative", "longer than 100 characters"),
    ("phone", "1" * 41, "phone", "longer than 40 characters"),
    ("address", "x" * 301, "address", "longer than 300 characters"),
    ("colour", "red", "colour", "unknown field (expected one of: uscc, name, region_code"),
]


@pytest.mark.parametrize(("key", "value", "field", "reason"), SINGLE_FIELD_FAILURES)
def test_a_single_bad_field_is_reported_precisely(
    key: str, value: object, field: str, reason: str
) -> None:
    row = {k: v for k, v in {**ROW, "revenue": "100.00"}.items() if k != key}
    if value is not None:
        row[key] = value
    [error] = errors_of(row, row_no=7)
    assert (error.field, error.row) == (field, 7)
    assert reason in error.reason
    assert str(error).startswith(f"row 7, {field}: ")


def test_the_unknown_field_message_lists_every_known_field() -> None:
    [error] = errors_of({**ROW, "colour": "red"})
    assert error.reason == f"unknown field (expected one of: {', '.join(ENTERPRISE_FIELDS)})"
    assert error.row is None
    assert str(error) == f"colour: {error.reason}"


@pytest.mark.parametrize("employees", ["²", "①"])
def test_employees_that_only_look_like_digits_are_a_field_error(employees: str) -> None:
    [error] = errors_of({**ROW, "employees": employees})
    assert error.field == "employees"


def test_a_row_with_several_problems_reports_all_of_them() -> None:
    row = {
        "uscc": "91110000600037341N",
        "name": "",
        "region_code": "110103",
        "industry_code": "C",
        "roles": "boss",
        "employees": "12.5",
        "revenue": "-1",
        "nickname": "x",
    }
    errors = errors_of(row, row_no=12)
    assert [(e.field, e.row) for e in errors] == [
        ("nickname", 12),
        ("name", 12),
        ("uscc", 12),
        ("region_code", 12),
        ("industry_code", 12),
        ("roles", 12),
        ("employees", 12),
        ("revenue", 12),
    ]


def test_parse_roles_directly() -> None:
    assert parse_roles("Supplier, logistics|WAREHOUSE") == {
        Role.SUPPLIER,
        Role.LOGISTICS,
        Role.WAREHOUSE,
    }
    with pytest.raises(ValueError, match="at least one role is required"):
        parse_roles(" ; , ")


# --- relations ----------------------------------------------------------------------------

RELATION: dict[str, object] = {
    "buyer_uscc": BEIJING_FIRM,
    "seller_uscc": SHANGHAI_FIRM,
    "product_category": "钢材",
    "since": "2021-03-15",
}


def relation_errors(row: Mapping[str, object], row_no: int | None = 3) -> list[tuple[str, str]]:
    result = parse_relation_row(row, row_no=row_no)
    assert isinstance(result, list), f"expected errors, got {result!r}"
    assert all(e.row == row_no for e in result)
    return [(e.field, e.reason) for e in result]


def test_a_valid_relation_becomes_a_record_with_normalised_codes() -> None:
    row = {**RELATION, "seller_uscc": "91310115ma1k3btp2b", "product_category": " 钢材 "}
    assert parse_relation_row(row) == RelationRecord(
        buyer_uscc=BEIJING_FIRM,
        seller_uscc=SHANGHAI_FIRM,
        product_category="钢材",
        since=date(2021, 3, 15),
    )


UNKNOWN_RELATION_FIELD = f"unknown field (expected one of: {', '.join(RELATION_FIELDS)})"

# One field wrong at a time: (field changed, value or None to drop it, field reported, reason).
SINGLE_RELATION_FAILURES = [
    ("buyer_uscc", None, "buyer_uscc", "is required"),
    ("seller_uscc", None, "seller_uscc", "is required"),
    ("product_category", None, "product_category", "is required"),
    ("since", None, "since", "is required"),
    ("buyer_uscc", "91110000600037341N", "buyer_uscc", "check digit should be L"),
    ("seller_uscc", "91310115MA1K3BTP2C", "seller_uscc", "check digit should be B"),
    ("seller_uscc", "123", "seller_uscc", "length: expected 18 characters, got 3"),
    ("since", "2021-02-30", "since", "'2021-02-30' is not a date YYYY-MM-DD"),
    ("since", "15/03/2021", "since", "'15/03/2021' is not a date YYYY-MM-DD"),
    ("product_category", "x" * 101, "product_category", "longer than 100 characters"),
    ("price", "1", "price", UNKNOWN_RELATION_FIELD),
]


@pytest.mark.parametrize(("key", "value", "field", "reason"), SINGLE_RELATION_FAILURES)
def test_a_single_bad_relation_field_is_reported_precisely(
    key: str, value: object, field: str, reason: str
) -> None:
    row = {k: v for k, v in RELATION.items() if k != key}
    if value is not None:
        row[key] = value
    assert relation_errors(row) == [(field, reason)]


@pytest.mark.parametrize("seller", [BEIJING_FIRM, "9111-0000 6000 3734 1l"])
def test_an_enterprise_cannot_supply_itself(seller: str) -> None:
    row = {**RELATION, "seller_uscc": seller}
    assert relation_errors(row) == [("seller_uscc", "an enterprise cannot supply itself")]


def test_an_empty_relation_row_lists_every_missing_field() -> None:
    assert relation_errors({}, row_no=None) == [
        ("buyer_uscc", "is required"),
        ("seller_uscc", "is required"),
        ("product_category", "is required"),
        ("since", "is required"),
    ]


def test_bad_codes_on_both_sides_are_both_reported() -> None:
    row = {**RELATION, "buyer_uscc": "91110000600037341N", "seller_uscc": "12345"}
    assert relation_errors(row) == [
        ("buyer_uscc", "check digit should be L"),
        ("seller_uscc", "length: expected 18 characters, got 5"),
    ]


@pytest.mark.parametrize("since", ["20210315", "2021-W11-1"])
def test_since_accepts_only_the_extended_calendar_date(since: str) -> None:
    assert relation_errors({**RELATION, "since": since}) == [
        ("since", f"{since!r} is not a date YYYY-MM-DD")
    ]
