"""Chinese VAT invoice identifiers: the reference classification cases, the verification
platform's type table, every rejection in order of precedence for each layout, and the
properties that valid identifiers round-trip and a mistyped province is caught.

The reference data is vendored in ``tests/data/reference/cn_invoice_formats`` (read its
``SOURCE.md``); this file never writes to it.
"""

from __future__ import annotations

import doctest
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain import invoice_number
from chainfin.domain.invoice_number import (
    DIGITAL_FIRST_YEAR,
    ELECTRONIC_ORDINARY_CODES,
    InvoiceKind,
    check_digital_invoice_number,
    check_invoice_code,
    classify_invoice_code,
    parse_invoice_identifier,
)
from chainfin.domain.region import RegionLevel, current_regions
from reference import REFERENCE as REFERENCE_DATA

REFERENCE_PATH = REFERENCE_DATA / "cn_invoice_formats" / "cn_invoice_formats.json"
REFERENCE: dict[str, Any] = json.loads(REFERENCE_PATH.read_text(encoding="utf-8"))
RULES = REFERENCE["verification_platform_type_rules"]
CASES = REFERENCE["example_classification_cases"]

TODAY = 2025  # every test passes the year explicitly: the domain has no clock
NUMBER = "00000001"

PROVINCES = {r.code[:2] for r in current_regions(RegionLevel.PROVINCE)}
MAINLAND = sorted(PROVINCES - {"71", "81", "82"})


def test_the_reference_data_is_present() -> None:
    assert len(CASES) == 7
    assert len(RULES["rules_in_order"]) == 11
    assert REFERENCE["fully_digitalized_einvoice_number"]["length"] == 20
    assert REFERENCE["vat_invoice_code_12"]["invoice_number_length"] == 8
    assert REFERENCE["vat_invoice_code_10"]["invoice_number_length"] == 8


def test_the_special_list_is_the_reference_one() -> None:
    assert set(RULES["special_list"]) == ELECTRONIC_ORDINARY_CODES


def test_every_platform_type_the_reference_names_has_a_kind() -> None:
    named = set(re.findall(r"\b(\d\d) ", RULES["_about"]))
    assert named == {"01", "02", "03", "04", "10", "11", "14", "15", "99"}
    ours = {kind.platform_type for kind in InvoiceKind} - {None}
    assert named <= ours
    assert ours - named == {"08"}  # 电子专票, which the reference's table predates


def test_every_kind_has_a_chinese_label_and_a_distinct_platform_type() -> None:
    for kind in InvoiceKind:
        assert re.search(r"[\u4e00-\u9fff]", kind.label), kind
    types = [k.platform_type for k in InvoiceKind if k.platform_type is not None]
    assert len(types) == len(set(types))
    digital = {InvoiceKind.DIGITAL, InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY}
    assert {k for k in InvoiceKind if k.platform_type is None} == digital


@pytest.mark.parametrize("case", CASES, ids=[c["code"] for c in CASES])
def test_every_reference_case_classifies_as_stated(case: dict[str, Any]) -> None:
    code = case["code"]
    assert classify_invoice_code(code).platform_type == case["expected_type"]
    for text in (f"{code} {NUMBER}", f"{code}-{NUMBER}", f"{code}/{NUMBER}"):
        verdict = parse_invoice_identifier(text, today_year=TODAY)
        assert verdict.valid, verdict.reason
        assert verdict.kind.platform_type == case["expected_type"]
        assert verdict.scheme == f"code-{len(code)}"
        assert verdict.code == code
        assert verdict.number == NUMBER


@pytest.mark.parametrize("code", sorted(ELECTRONIC_ORDINARY_CODES))
def test_the_special_list_is_electronic_ordinary_whatever_its_layout(code: str) -> None:
    assert code[0] != "0"  # by the layout alone these would be unknown
    verdict = check_invoice_code(code, NUMBER, today_year=TODAY)
    assert verdict.valid, verdict.reason
    assert verdict.kind is InvoiceKind.VAT_ELECTRONIC_ORDINARY


# One row per rule of the platform's table, in its order, then codes no rule matches.
TYPE_TABLE = [
    ("144031539110", InvoiceKind.VAT_ELECTRONIC_ORDINARY),  # special list
    ("011001900111", InvoiceKind.VAT_ELECTRONIC_ORDINARY),
    ("031001800104", InvoiceKind.VAT_ORDINARY),
    ("031001800105", InvoiceKind.VAT_ORDINARY),
    ("031001800106", InvoiceKind.VAT_ROLL),
    ("031001800107", InvoiceKind.VAT_ROLL),
    ("044031900112", InvoiceKind.TOLL_ELECTRONIC_ORDINARY),
    ("032001900117", InvoiceKind.USED_VEHICLE_SALES),
    ("144001520160", InvoiceKind.MOTOR_VEHICLE_SALES),  # not 0, position 8 is 2
    ("3100154130", InvoiceKind.VAT_SPECIAL),
    ("3100155530", InvoiceKind.VAT_SPECIAL),
    ("4400151630", InvoiceKind.VAT_ORDINARY),
    ("4400151330", InvoiceKind.VAT_ORDINARY),
    ("1100171230", InvoiceKind.FREIGHT_VAT_SPECIAL),
    ("1100171730", InvoiceKind.FREIGHT_VAT_SPECIAL),
    ("032002000113", InvoiceKind.VAT_ELECTRONIC_SPECIAL),  # the platform's 2020 addition
    ("144001530160", InvoiceKind.UNKNOWN),  # not 0, position 8 is 3
    ("144001520117", InvoiceKind.MOTOR_VEHICLE_SALES),  # 17 needs a leading 0
    ("032001900108", InvoiceKind.UNKNOWN),
    ("032001900102", InvoiceKind.UNKNOWN),  # 02 is 联次 of 04/05, not a 票种
    ("4400151030", InvoiceKind.UNKNOWN),
    ("4400151430", InvoiceKind.UNKNOWN),
    ("4400151830", InvoiceKind.UNKNOWN),
    ("4400151930", InvoiceKind.UNKNOWN),
    ("44001519301", InvoiceKind.UNKNOWN),  # 11 digits: no rule applies
]


@pytest.mark.parametrize(("code", "kind"), TYPE_TABLE)
def test_the_platform_type_table(code: str, kind: InvoiceKind) -> None:
    assert classify_invoice_code(code) is kind


# Each row breaks its own rule and every rule after it, so the reason shows which rule wins.
DIGITAL_PRECEDENCE = [
    ("3099X", "length: expected 20 digits, got 5"),
    ("3099X000000000000000", "charset: 'X' at position 5 is not a digit"),
    ("30992000000000012345", "year: 2030 (positions 1-2) is after 2025"),
    (
        "19992000000000012345",
        "year: 2019 (positions 1-2) is before 2021, when 全电 invoices were first issued",
    ),
    ("24992000000000012345", "region: 99 (positions 3-4) is not a GB/T 2260 province code"),
    (
        "24812000000000012345",
        "region: 81 香港特別行政區 (positions 3-4) has no mainland tax bureau",
    ),
]

CODE_PRECEDENCE = [
    ("0990030000X", "0000000", "length: 发票代码 must have 10 or 12 digits, got 11"),
    ("0990030000X9", "0000000", "length: 发票号码 must have 8 digits, got 7"),
    ("0990030000X9", "0000000O", "charset: 'X' at position 11 of the 发票代码 is not a digit"),
    ("099003000099", "0000000O", "charset: 'O' at position 8 of the 发票号码 is not a digit"),
    ("099003000099", "00000000", "year: 2030 (positions 6-7 of the 发票代码) is after 2025"),
    (
        "099002300099",
        "00000000",
        "region: 99 (positions 2-3 of the 发票代码) is not a GB/T 2260 province code",
    ),
    (
        "082002300099",
        "00000000",
        "region: 82 澳門特別行政區 (positions 2-3 of the 发票代码) has no mainland tax bureau",
    ),
    (
        "044032300099",
        "00000000",
        "type: 票种 99 (positions 11-12 of the 发票代码) is not one the platform knows "
        "(04-07, 11, 12, 13, 17)",
    ),
    (
        "144032330099",
        "00000000",
        "type: a 12-digit 发票代码 not starting with 0 is known only as a 机动车销售统一发票 "
        "(position 8 is 2, here 3) or from the platform's special list",
    ),
    ("044032300112", "00000000", "sequence: 发票号码 00000000 is never issued"),
    ("31001", "1", "length: 发票代码 must have 10 or 12 digits, got 5"),
    ("9900301X30", "1234567", "length: 发票号码 must have 8 digits, got 7"),
    ("9900301X30", "00000000", "charset: 'X' at position 8 of the 发票代码 is not a digit"),
    ("9900301930", "00000000", "year: 2030 (positions 5-6 of the 发票代码) is after 2025"),
    (
        "9900151930",
        "00000000",
        "region: 99 (positions 1-2 of the 发票代码) is not a GB/T 2260 province code",
    ),
    (
        "7100151930",
        "00000000",
        "region: 71 台湾省 (positions 1-2 of the 发票代码) has no mainland tax bureau",
    ),
    (
        "4400151930",
        "00000000",
        "type: position 8 of the 发票代码 is 9; the platform knows "
        "1, 5 (专用发票), 3, 6 (普通发票) and 2, 7 (货运专票)",
    ),
    ("4400151630", "00000000", "sequence: 发票号码 00000000 is never issued"),
]

PARSE_REJECTIONS = [
    ("", "length: expected 20 digits, or a 发票代码 and a 发票号码; got 0 characters"),
    ("   ", "length: expected 20 digits, or a 发票代码 and a 发票号码; got 0 characters"),
    (
        "0440319001121234567",
        "length: expected 20 digits, or a 发票代码 and a 发票号码; got 19 characters",
    ),
    ("1 2 3", "length: expected 20 digits, or a 发票代码 and a 发票号码; got 3 parts"),
    (
        "044031900112--00000001",
        "length: expected 20 digits, or a 发票代码 and a 发票号码; got 3 parts",
    ),
    (
        "044031900112",
        "length: a 12-digit 发票代码 needs its 8-digit 发票号码 after a space, '-' or '/'",
    ),
    (
        "3100154130",
        "length: a 10-digit 发票代码 needs its 8-digit 发票号码 after a space, '-' or '/'",
    ),
    ("24442000000000012345 1", "length: 发票代码 must have 10 or 12 digits, got 20"),
    ("3100154130 1234567X", "charset: 'X' at position 8 of the 发票号码 is not a digit"),
    ("2444200000000001234X", "charset: 'X' at position 20 is not a digit"),
]


@pytest.mark.parametrize(("number", "reason"), DIGITAL_PRECEDENCE)
def test_digital_rejections_in_order_of_precedence(number: str, reason: str) -> None:
    verdict = check_digital_invoice_number(number, today_year=TODAY)
    assert not verdict.valid
    assert verdict.reason == reason
    assert verdict.kind is InvoiceKind.UNKNOWN
    assert (verdict.year, verdict.region_code, verdict.channel) == (None, None, None)
    if len(number) == 20:  # otherwise the parser, not knowing the layout, words it itself
        assert parse_invoice_identifier(number, today_year=TODAY) == verdict


@pytest.mark.parametrize(("code", "number", "reason"), CODE_PRECEDENCE)
def test_code_rejections_in_order_of_precedence(code: str, number: str, reason: str) -> None:
    verdict = check_invoice_code(code, number, today_year=TODAY)
    assert not verdict.valid
    assert verdict.reason == reason
    assert verdict.kind is InvoiceKind.UNKNOWN
    assert (verdict.year, verdict.region_code, verdict.tax_area_code) == (None, None, None)
    assert parse_invoice_identifier(f"{code} {number}", today_year=TODAY) == verdict


@pytest.mark.parametrize(("text", "reason"), PARSE_REJECTIONS)
def test_parse_rejections(text: str, reason: str) -> None:
    verdict = parse_invoice_identifier(text, today_year=TODAY)
    assert not verdict.valid
    assert verdict.reason == reason


def test_the_precedence_rows_are_valid_once_their_last_rule_is_met() -> None:
    assert check_digital_invoice_number("24442000000000012345", today_year=TODAY).valid
    assert check_invoice_code("044032300112", NUMBER, today_year=TODAY).valid
    assert check_invoice_code("4400151630", NUMBER, today_year=TODAY).valid


def test_a_digital_number_is_decoded() -> None:
    verdict = parse_invoice_identifier(" 24442000000000012345 ", today_year=TODAY)
    assert verdict == invoice_number.InvoiceNumberCheck(
        valid=True,
        reason="",
        scheme="digital-20",
        kind=InvoiceKind.DIGITAL,
        year=2024,
        region_code="440000",
        code=None,
        number="24442000000000012345",
        channel="2",
        tax_area_code=None,
    )


@pytest.mark.parametrize(
    ("code", "year", "region_code", "tax_area_code"),
    [
        ("044031900112", 2019, "440000", "4403"),  # 深圳, a 计划单列市
        ("133011501118", 2015, "330000", "3300"),  # 杭州 is routed to 浙江
        ("021021900111", 2019, "210000", "2102"),  # 大连
        ("3302151130", 2015, "330000", "3302"),  # 宁波
        ("3501151130", 2015, "350000", "3500"),
        ("3100991130", 1999, "310000", "3100"),  # 99 is 1999: VAT began in 1994
    ],
)
def test_a_code_is_decoded(code: str, year: int, region_code: str, tax_area_code: str) -> None:
    verdict = check_invoice_code(code, NUMBER, today_year=TODAY)
    assert verdict.valid, verdict.reason
    assert (verdict.year, verdict.region_code, verdict.tax_area_code) == (
        year,
        region_code,
        tax_area_code,
    )
    assert verdict.channel is None


def test_two_digit_years_before_1994_are_read_as_this_century() -> None:
    assert check_invoice_code("3100941130", NUMBER, today_year=TODAY).year == 1994
    assert check_invoice_code("3100251130", NUMBER, today_year=TODAY).year == 2025
    assert check_invoice_code("3100931130", NUMBER, today_year=TODAY).reason == (
        "year: 2093 (positions 5-6 of the 发票代码) is after 2025"
    )


def test_the_year_bound_is_the_callers_today() -> None:
    number = "26442000000000012345"
    assert not check_digital_invoice_number(number, today_year=2025).valid
    assert check_digital_invoice_number(number, today_year=2026).year == 2026
    first = f"{DIGITAL_FIRST_YEAR % 100:02d}442000000000012345"
    assert check_digital_invoice_number(first, today_year=TODAY).valid


def test_full_width_digits_and_separators_are_normalised() -> None:
    verdict = parse_invoice_identifier(
        "０４４０３１９００１１２／０００００００１", today_year=TODAY
    )
    assert verdict.valid, verdict.reason
    assert (verdict.code, verdict.number) == ("044031900112", NUMBER)
    assert parse_invoice_identifier(
        "０４４０３１９００１１２\u3000０００００００１", today_year=TODAY
    ).valid
    assert parse_invoice_identifier("044031900112 - 00000001", today_year=TODAY).valid
    wide = "".join(chr(0xFF10 + int(d)) for d in "24442000000000012345")
    assert check_digital_invoice_number(wide, today_year=TODAY).number == "24442000000000012345"


def test_other_unicode_digits_are_not_digits() -> None:
    # str.isdigit() would accept these; an invoice number is ASCII 0-9 only.
    assert check_digital_invoice_number("2444200000000001234²", today_year=TODAY).reason == (
        "charset: '²' at position 20 is not a digit"
    )
    assert check_digital_invoice_number("2444200000000001234٣", today_year=TODAY).reason == (
        "charset: '٣' at position 20 is not a digit"
    )


def test_module_doctest() -> None:
    assert doctest.testmod(invoice_number).failed == 0


# --- properties ---------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def valid_digital_numbers(draw: st.DrawFn) -> str:
    year = draw(st.integers(DIGITAL_FIRST_YEAR, TODAY))
    province = draw(st.sampled_from(MAINLAND))
    rest = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    return f"{year % 100:02d}{province}{rest}"


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(MAINLAND))
    city = draw(st.text(alphabet="0123456789", min_size=2, max_size=2))
    yy = f"{draw(st.integers(1994, TODAY)) % 100:02d}"
    batch = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    layout = draw(st.sampled_from(["code-10", "code-12-national", "code-12-motor"]))
    if layout == "code-10":
        kind = draw(st.sampled_from("123567"))
        return f"{province}{city}{yy}{batch[0]}{kind}{batch[1:]}"
    if layout == "code-12-national":
        kind = draw(st.sampled_from(["04", "05", "06", "07", "11", "12", "13", "17"]))
        return f"0{province}{city}{yy}{batch}{kind}"
    first = draw(st.sampled_from("123456789"))
    return f"{first}{province}{city}{yy}2{batch}{draw(digits)}"


@given(number=valid_digital_numbers())
def test_any_valid_digital_number_round_trips(number: str) -> None:
    verdict = parse_invoice_identifier(number, today_year=TODAY)
    assert verdict.valid, verdict.reason
    assert verdict == check_digital_invoice_number(number, today_year=TODAY)
    assert verdict.scheme == "digital-20"
    assert verdict.kind is InvoiceKind.DIGITAL
    assert verdict.number == number
    assert verdict.year == 2000 + int(number[:2])
    assert verdict.region_code == number[2:4] + "0000"
    assert verdict.channel == number[4]


@given(code=valid_codes(), number=st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_any_valid_code_round_trips_with_each_separator(code: str, number: str) -> None:
    direct = check_invoice_code(code, number, today_year=TODAY)
    if number == "00000000":
        assert direct.reason.startswith("sequence:")
        return
    assert direct.valid, direct.reason
    assert direct.kind is classify_invoice_code(code) is not InvoiceKind.UNKNOWN
    for sep in (" ", "-", "/", " / "):
        assert parse_invoice_identifier(f"{code}{sep}{number}", today_year=TODAY) == direct


@given(number=valid_digital_numbers(), data=st.data())
def test_a_digit_changed_to_a_province_that_does_not_exist_is_rejected(
    number: str, data: st.DataObject
) -> None:
    position = data.draw(st.sampled_from([2, 3]))
    candidates = [
        d
        for d in "0123456789"
        if (number[2:4][: position - 2] + d + number[2:4][position - 1 :]) not in PROVINCES
    ]
    digit = data.draw(st.sampled_from(candidates))  # every tens digit has gaps: never empty
    mistyped = number[:position] + digit + number[position + 1 :]
    verdict = parse_invoice_identifier(mistyped, today_year=TODAY)
    assert not verdict.valid
    assert verdict.reason == (
        f"region: {mistyped[2:4]} (positions 3-4) is not a GB/T 2260 province code"
    )


@given(code=valid_codes(), data=st.data())
def test_a_code_whose_province_does_not_exist_is_rejected(code: str, data: st.DataObject) -> None:
    start = 1 if len(code) == 12 else 0
    position = data.draw(st.sampled_from([start, start + 1]))
    province = code[start : start + 2]
    offset = position - start
    candidates = [
        d for d in "0123456789" if province[:offset] + d + province[offset + 1 :] not in PROVINCES
    ]
    mistyped = code[:position] + data.draw(st.sampled_from(candidates)) + code[position + 1 :]
    verdict = check_invoice_code(mistyped, NUMBER, today_year=TODAY)
    assert not verdict.valid
    assert verdict.reason.startswith(f"region: {mistyped[start : start + 2]} (positions")
