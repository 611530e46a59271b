"""增值税发票代码、发票号码 and the 全电 (数电) 发票号码: Chinese VAT invoice identifiers.

Three layouts, positions 1-based:

* ``digital-20``: a 全面数字化的电子发票 (全电发票, 数电票) has a 20-digit 发票号码 and no 发票代码.
  1-2 year (last two digits), 3-4 province-level area, 5 issuing channel, 6-20 sequence.
* ``code-12``: a 12-digit 发票代码 with an 8-digit 发票号码. 1 ``0`` for the (former) national
  tax system, 2-5 area, 6-7 year, 8-10 batch, 11-12 票种 and 联次.
* ``code-10``: a 10-digit 发票代码 with an 8-digit 发票号码. 1-4 area, 5-6 year, 7 batch,
  8 kind (1, 5 专用发票; 3, 6 普通发票; 2, 7 货运专票), 9 copies, 10 amount band.

The kind of invoice behind a 发票代码 is inferred with the decision table of the State Taxation
Administration's verification platform (全国增值税发票查验平台). A 20-digit number does not say
whether it is a 专票 or a 普票. Every source is secondary; ``docs/reference-data.md`` lists them
and the facts that are not confirmed.

>>> check_digital_invoice_number("24442000000000012345", today_year=2025).region_code
'440000'
>>> verdict = parse_invoice_identifier("044031900112 00000001", today_year=2025)
>>> verdict.kind.label, verdict.year, verdict.tax_area_code
('收费公路通行费增值税电子普通发票', 2019, '4403')
>>> parse_invoice_identifier("3100154130/00000001", today_year=2025).kind.label
'增值税专用发票'
>>> parse_invoice_identifier("24992000000000012345", today_year=2025).reason
'region: 99 (positions 3-4) is not a GB/T 2260 province code'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from chainfin.domain.region import check_region_code, lookup

InvoiceScheme = Literal["digital-20", "code-12", "code-10"]

DIGITS = "0123456789"
# Not from the reference: 全电 invoices were first issued in the December 2021 pilot, and VAT
# itself (so the oldest 10-digit 专用发票 code) dates from 1 January 1994.
DIGITAL_FIRST_YEAR = 2021
VAT_FIRST_YEAR = 1994
NUMBER_LENGTH = 8

# The verification platform lists these four 12-digit codes as 增值税电子普通发票 whatever
# their layout says.
ELECTRONIC_ORDINARY_CODES = frozenset(
    {"144031539110", "131001570151", "133011501118", "111001571071"}
)
# 计划单列市 keep their own tax bureau (and their 4-digit area code) on the platform.
SEPARATE_PLAN_CITIES = frozenset({"2102", "3302", "3502", "3702", "4403"})
# GB/T 2260 lists 台湾省, 香港 and 澳门, but no mainland tax bureau issues invoices for them.
_NO_MAINLAND_TAX_BUREAU = frozenset({"71", "81", "82"})

_FULL_WIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)} | {"\u3000": " ", "－": "-", "／": "/"}
)
_SEPARATOR = re.compile(r"\s*[-/]\s*|\s+")


class InvoiceKind(StrEnum):
    """What kind of invoice an identifier belongs to; ``label`` is the Chinese name and
    ``platform_type`` the verification platform's type code where it has one."""

    VAT_SPECIAL = "vat-special"
    FREIGHT_VAT_SPECIAL = "freight-vat-special"
    MOTOR_VEHICLE_SALES = "motor-vehicle-sales"
    VAT_ORDINARY = "vat-ordinary"
    VAT_ELECTRONIC_SPECIAL = "vat-electronic-special"
    VAT_ELECTRONIC_ORDINARY = "vat-electronic-ordinary"
    VAT_ROLL = "vat-roll"
    TOLL_ELECTRONIC_ORDINARY = "toll-electronic-ordinary"
    USED_VEHICLE_SALES = "used-vehicle-sales"
    # A 20-digit number does not carry its 票种: DIGITAL is all it can tell. The two below
    # are for callers who read the 票种 from the invoice itself.
    DIGITAL = "digital"
    DIGITAL_SPECIAL = "digital-special"
    DIGITAL_ORDINARY = "digital-ordinary"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def platform_type(self) -> str | None:
        return _PLATFORM_TYPES.get(self)


_LABELS: dict[InvoiceKind, str] = {
    InvoiceKind.VAT_SPECIAL: "增值税专用发票",
    InvoiceKind.FREIGHT_VAT_SPECIAL: "货物运输业增值税专用发票",
    InvoiceKind.MOTOR_VEHICLE_SALES: "机动车销售统一发票",
    InvoiceKind.VAT_ORDINARY: "增值税普通发票",
    InvoiceKind.VAT_ELECTRONIC_SPECIAL: "增值税电子专用发票",
    InvoiceKind.VAT_ELECTRONIC_ORDINARY: "增值税电子普通发票",
    InvoiceKind.VAT_ROLL: "增值税普通发票（卷票）",
    InvoiceKind.TOLL_ELECTRONIC_ORDINARY: "收费公路通行费增值税电子普通发票",
    InvoiceKind.USED_VEHICLE_SALES: "二手车销售统一发票",
    InvoiceKind.DIGITAL: "全面数字化的电子发票（票种未区分）",
    InvoiceKind.DIGITAL_SPECIAL: "数电票（增值税专用发票）",
    InvoiceKind.DIGITAL_ORDINARY: "数电票（普通发票）",
    InvoiceKind.UNKNOWN: "未知票种",
}

_PLATFORM_TYPES: dict[InvoiceKind, str] = {
    InvoiceKind.VAT_SPECIAL: "01",
    InvoiceKind.FREIGHT_VAT_SPECIAL: "02",
    InvoiceKind.MOTOR_VEHICLE_SALES: "03",
    InvoiceKind.VAT_ORDINARY: "04",
    InvoiceKind.VAT_ELECTRONIC_SPECIAL: "08",
    InvoiceKind.VAT_ELECTRONIC_ORDINARY: "10",
    InvoiceKind.VAT_ROLL: "11",
    InvoiceKind.TOLL_ELECTRONIC_ORDINARY: "14",
    InvoiceKind.USED_VEHICLE_SALES: "15",
    InvoiceKind.UNKNOWN: "99",
}

# Positions 11-12 of a 12-digit code starting with 0. The platform added 13 (电子专票, its type
# 08) on 2020-03-08; the reference's transcription of the table predates that.
_CODE12_KINDS = {
    "04": InvoiceKind.VAT_ORDINARY,
    "05": InvoiceKind.VAT_ORDINARY,
    "06": InvoiceKind.VAT_ROLL,
    "07": InvoiceKind.VAT_ROLL,
    "11": InvoiceKind.VAT_ELECTRONIC_ORDINARY,
    "12": InvoiceKind.TOLL_ELECTRONIC_ORDINARY,
    "13": InvoiceKind.VAT_ELECTRONIC_SPECIAL,
    "17": InvoiceKind.USED_VEHICLE_SALES,
}
# Position 8 of a 10-digit code.
_CODE10_KINDS = {
    "1": InvoiceKind.VAT_SPECIAL,
    "5": InvoiceKind.VAT_SPECIAL,
    "3": InvoiceKind.VAT_ORDINARY,
    "6": InvoiceKind.VAT_ORDINARY,
    "2": InvoiceKind.FREIGHT_VAT_SPECIAL,
    "7": InvoiceKind.FREIGHT_VAT_SPECIAL,
}


@dataclass(frozen=True, slots=True)
class _CodeLayout:
    scheme: InvoiceScheme
    area: slice  # 4 digits; the first two are the province
    year: slice

    def positions(self, part: slice) -> str:
        return f"positions {part.start + 1}-{part.stop} of the 发票代码"


_CODE_LAYOUTS = {
    12: _CodeLayout("code-12", area=slice(1, 5), year=slice(5, 7)),
    10: _CodeLayout("code-10", area=slice(0, 4), year=slice(4, 6)),
}


@dataclass(frozen=True, slots=True)
class InvoiceNumberCheck:
    """The verdict on one identifier. ``reason`` is empty when valid; ``kind`` is UNKNOWN and
    the decoded fields (``year``, ``region_code``, ``channel``, ``tax_area_code``) are None
    when not. ``code`` and ``number`` are the normalised input (``code`` is None for a
    20-digit number; input whose layout cannot be told is all in ``number``)."""

    valid: bool
    reason: str
    scheme: InvoiceScheme | None
    kind: InvoiceKind = InvoiceKind.UNKNOWN
    year: int | None = None
    region_code: str | None = None  # province level, "440000"
    code: str | None = None
    number: str = ""
    channel: str | None = None  # position 5 of a 20-digit number
    tax_area_code: str | None = None  # the tax bureau the platform routes a 发票代码 to


def normalise(part: str) -> str:
    """Full-width digits and separators to ASCII, surrounding whitespace dropped."""
    return part.translate(_FULL_WIDTH).strip()


def classify_invoice_code(code: str) -> InvoiceKind:
    """The verification platform's inference of the kind from a 10- or 12-digit 发票代码;
    UNKNOWN (its 99) when no rule matches. The rules' conditions do not overlap, so their
    order only matters for the special list, which comes first."""
    if len(code) == 12:
        if code in ELECTRONIC_ORDINARY_CODES:
            return InvoiceKind.VAT_ELECTRONIC_ORDINARY
        if code[0] == "0":
            return _CODE12_KINDS.get(code[10:12], InvoiceKind.UNKNOWN)
        return InvoiceKind.MOTOR_VEHICLE_SALES if code[7] == "2" else InvoiceKind.UNKNOWN
    if len(code) == 10:
        return _CODE10_KINDS.get(code[7], InvoiceKind.UNKNOWN)
    return InvoiceKind.UNKNOWN


def tax_area_code(code: str) -> str:
    """The 4-digit area the platform routes a 10- or 12-digit 发票代码 to: a 计划单列市's
    own, else its province's ``xx00``."""
    area = code[_CODE_LAYOUTS[len(code)].area]
    return area if area in SEPARATE_PLAN_CITIES else area[:2] + "00"


def _non_digit(text: str, what: str) -> str | None:
    for position, char in enumerate(text, start=1):
        if char not in DIGITS:
            return f"charset: {char!r} at position {position}{what} is not a digit"
    return None


def _province_problem(two_digits: str, positions: str) -> str | None:
    province = two_digits + "0000"
    if check_region_code(province, current_only=False) is not None:
        return f"region: {two_digits} ({positions}) is not a GB/T 2260 province code"
    if two_digits in _NO_MAINLAND_TAX_BUREAU:
        name = lookup(province).name
        return f"region: {two_digits} {name} ({positions}) has no mainland tax bureau"
    return None


def _digital_problem(number: str, today_year: int) -> str | None:
    if len(number) != 20:
        return f"length: expected 20 digits, got {len(number)}"
    bad = _non_digit(number, "")
    if bad:
        return bad
    year = 2000 + int(number[0:2])
    if year > today_year:
        return f"year: {year} (positions 1-2) is after {today_year}"
    if year < DIGITAL_FIRST_YEAR:
        return (
            f"year: {year} (positions 1-2) is before {DIGITAL_FIRST_YEAR}, "
            "when 全电 invoices were first issued"
        )
    return _province_problem(number[2:4], "positions 3-4")


def check_digital_invoice_number(number: str, *, today_year: int) -> InvoiceNumberCheck:
    """Validate a 20-digit 全电 number; the first failing rule gives the reason (length,
    charset, year, region). Position 5, the channel, may be any digit: the layout gives no
    values for it."""
    number = normalise(number)
    reason = _digital_problem(number, today_year)
    if reason:
        return InvoiceNumberCheck(False, reason, "digital-20", number=number)
    return InvoiceNumberCheck(
        valid=True,
        reason="",
        scheme="digital-20",
        kind=InvoiceKind.DIGITAL,
        year=2000 + int(number[0:2]),
        region_code=number[2:4] + "0000",
        number=number,
        channel=number[4],
    )


def _code_year(code: str, layout: _CodeLayout) -> int:
    two = int(code[layout.year])
    return 1900 + two if 1900 + two >= VAT_FIRST_YEAR else 2000 + two


def _type_problem(code: str) -> str:
    if len(code) == 10:
        return (
            f"type: position 8 of the 发票代码 is {code[7]}; the platform knows "
            "1, 5 (专用发票), 3, 6 (普通发票) and 2, 7 (货运专票)"
        )
    if code[0] == "0":
        return (
            f"type: 票种 {code[10:12]} (positions 11-12 of the 发票代码) is not one the "
            "platform knows (04-07, 11, 12, 13, 17)"
        )
    return (
        "type: a 12-digit 发票代码 not starting with 0 is known only as a 机动车销售统一发票 "
        f"(position 8 is 2, here {code[7]}) or from the platform's special list"
    )


def _code_problem(code: str, number: str, today_year: int) -> str | None:
    layout = _CODE_LAYOUTS.get(len(code))
    if layout is None:
        return f"length: 发票代码 must have 10 or 12 digits, got {len(code)}"
    if len(number) != NUMBER_LENGTH:
        return f"length: 发票号码 must have {NUMBER_LENGTH} digits, got {len(number)}"
    bad = _non_digit(code, " of the 发票代码") or _non_digit(number, " of the 发票号码")
    if bad:
        return bad
    year = _code_year(code, layout)
    if year > today_year:
        return f"year: {year} ({layout.positions(layout.year)}) is after {today_year}"
    province = slice(layout.area.start, layout.area.start + 2)
    region = _province_problem(code[province], layout.positions(province))
    if region:
        return region
    if classify_invoice_code(code) is InvoiceKind.UNKNOWN:
        return _type_problem(code)
    if number == "0" * NUMBER_LENGTH:
        return "sequence: 发票号码 00000000 is never issued"
    return None


def check_invoice_code(code: str, number: str, *, today_year: int) -> InvoiceNumberCheck:
    """Validate a 10- or 12-digit 发票代码 with its 8-digit 发票号码; the first failing rule
    gives the reason (length, charset, year, region, type, sequence)."""
    code, number = normalise(code), normalise(number)
    layout = _CODE_LAYOUTS.get(len(code))
    reason = _code_problem(code, number, today_year)
    if reason or layout is None:
        scheme = layout.scheme if layout else None
        return InvoiceNumberCheck(False, reason or "", scheme, code=code, number=number)
    return InvoiceNumberCheck(
        valid=True,
        reason="",
        scheme=layout.scheme,
        kind=classify_invoice_code(code),
        year=_code_year(code, layout),
        region_code=code[layout.area][:2] + "0000",
        code=code,
        number=number,
        tax_area_code=tax_area_code(code),
    )


def split_identifier(text: str) -> tuple[str | None, str]:
    """A typed identifier as (发票代码 or None, 发票号码), without validating it: a 10- or
    12-digit code and an 8-digit number separated by a space, ``-`` or ``/`` are split;
    anything else is all number.

    >>> split_identifier("3100154130-00000001"), split_identifier("24442000000000012345")
    (('3100154130', '00000001'), (None, '24442000000000012345'))
    """
    text = normalise(text)
    parts = _SEPARATOR.split(text)
    if len(parts) == 2 and len(parts[0]) in _CODE_LAYOUTS and len(parts[1]) == NUMBER_LENGTH:
        return parts[0], parts[1]
    return None, text


def parse_invoice_identifier(text: str, *, today_year: int) -> InvoiceNumberCheck:
    """Read what a person types: 20 digits (全电), or a 发票代码 and a 发票号码 separated by
    a space, ``-`` or ``/``. The scheme follows from the length, so 20 digits are always a
    全电 number, never a 12-digit code run into its number."""
    text = normalise(text)
    parts = _SEPARATOR.split(text)
    if len(parts) == 2:
        return check_invoice_code(parts[0], parts[1], today_year=today_year)
    if len(parts) == 1 and len(text) == 20:
        return check_digital_invoice_number(text, today_year=today_year)
    layout = _CODE_LAYOUTS.get(len(text))
    if len(parts) == 1 and layout is not None:
        reason = (
            f"length: a {len(text)}-digit 发票代码 needs its {NUMBER_LENGTH}-digit 发票号码 "
            "after a space, '-' or '/'"
        )
        return InvoiceNumberCheck(False, reason, layout.scheme, code=text)
    got = f"{len(parts)} parts" if len(parts) > 1 else f"{len(text)} characters"
    reason = f"length: expected 20 digits, or a 发票代码 and a 发票号码; got {got}"
    return InvoiceNumberCheck(False, reason, None, number=text)
