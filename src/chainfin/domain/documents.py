"""Trade documents: one record shape for every kind, with a versioned schema per kind.

A trade runs contract → purchase order → delivery note → goods receipt → invoice → payment;
waybills and warehouse receipts add physical evidence. Every document names its seller and
buyer (by USCC), its own number, the numbers of the documents it follows from, a date, a
currency and — where goods are involved — lines with quantities and prices. Amounts are
:class:`~chainfin.domain.money.Money`; quantities are ``Decimal``; dates are ``date``.

:func:`parse_document` turns one untrusted row (CSV, JSON, API body) into a
:class:`TradeDocument` or the complete list of problems with it (row, field, reason).

>>> row = {"kind": "invoice", "number": "INV-1", "seller_uscc": "91110000600037341L",
...        "buyer_uscc": "91320505000000035L", "issue_date": "2026-03-01", "currency": "CNY",
...        "total": "1130.00", "tax": "130.00", "order_number": "PO-7",
...        "invoice_number": "26320000000000000001"}
>>> doc = parse_document(row, row_no=2, today_year=2026)
>>> doc.kind, doc.total, doc.order_number
(<DocumentKind.INVOICE: 'invoice'>, Money(amount_minor=113000, currency='CNY'), 'PO-7')
>>> parse_document({**row, "invoice_number": "12345"}, row_no=2, today_year=2026)[0].reason
'length: expected 20 digits, got 5'

Untrusted text is checked against ``domain.text`` (no control or bidi characters), dates
against the business-date range (``domain.bounds``), amounts must be decimal strings (a
JSON number is refused: ``1130.1`` may already have been rounded by whoever wrote it) and a
document's total greater than zero. An invoice's own ``invoice_number`` (with its
``invoice_code`` for a pre-digital invoice) must be a Chinese VAT invoice identifier that
``domain.invoice_number`` accepts, no later than ``today_year`` (the business year of the
platform's clock unless given).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any

from chainfin.domain import clock
from chainfin.domain.bounds import check_business_date
from chainfin.domain.errors import FieldError
from chainfin.domain.invoice_number import (
    check_digital_invoice_number,
    check_invoice_code,
    normalise,
)
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.region import check_region_code
from chainfin.domain.text import check_text
from chainfin.domain.uscc import check_uscc


class DocumentKind(StrEnum):
    CONTRACT = "contract"
    PURCHASE_ORDER = "purchase_order"
    DELIVERY_NOTE = "delivery_note"
    GOODS_RECEIPT = "goods_receipt"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    WAYBILL = "waybill"
    WAREHOUSE_RECEIPT = "warehouse_receipt"


class InvoiceType(StrEnum):
    VAT_SPECIAL = "vat_special"  # 增值税专用发票
    VAT_ORDINARY = "vat_ordinary"  # 增值税普通发票
    DIGITAL_SPECIAL = "digital_special"  # 数电专票
    DIGITAL_ORDINARY = "digital_ordinary"  # 数电普票


@dataclass(frozen=True, slots=True)
class DocumentLine:
    item: str
    quantity: Decimal
    unit: str
    unit_price: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    at: str  # ISO 8601 timestamp with zone, as the carrier sent it
    region_code: str
    status: str


@dataclass(frozen=True, slots=True)
class TradeDocument:
    kind: DocumentKind
    number: str
    seller_uscc: str
    buyer_uscc: str
    issue_date: date
    currency: str
    total: Money
    schema_version: int = 1
    tax: Money | None = None
    due_date: date | None = None
    contract_number: str | None = None
    order_number: str | None = None
    delivery_number: str | None = None
    invoice_number: str | None = None  # on an invoice: its own official number
    invoice_code: str | None = None  # 10/12-digit 发票代码 of pre-digital invoices
    invoice_type: InvoiceType | None = None
    carrier_uscc: str | None = None
    warehouse_uscc: str | None = None
    origin_region: str | None = None
    destination_region: str | None = None
    shipped_on: date | None = None
    delivered_on: date | None = None
    lines: tuple[DocumentLine, ...] = ()
    tracking: tuple[TrackingEvent, ...] = ()

    @property
    def quantity(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal(0))


# The schema of each kind, version 1: the fields a document of that kind must carry beyond
# the common ones (kind, number, seller_uscc, buyer_uscc, issue_date, currency, total).
REQUIRED: dict[tuple[DocumentKind, int], tuple[str, ...]] = {
    (DocumentKind.CONTRACT, 1): (),
    (DocumentKind.PURCHASE_ORDER, 1): (),
    (DocumentKind.DELIVERY_NOTE, 1): ("order_number",),
    (DocumentKind.GOODS_RECEIPT, 1): ("delivery_number",),
    (DocumentKind.INVOICE, 1): ("invoice_number", "tax"),
    (DocumentKind.CREDIT_NOTE, 1): ("invoice_number",),
    (DocumentKind.PAYMENT, 1): ("invoice_number",),
    (DocumentKind.WAYBILL, 1): (
        "delivery_number",
        "carrier_uscc",
        "origin_region",
        "destination_region",
        "shipped_on",
    ),
    (DocumentKind.WAREHOUSE_RECEIPT, 1): ("warehouse_uscc", "destination_region"),
}

FIELDS = (
    "kind",
    "schema_version",
    "number",
    "seller_uscc",
    "buyer_uscc",
    "issue_date",
    "currency",
    "total",
    "tax",
    "due_date",
    "contract_number",
    "order_number",
    "delivery_number",
    "invoice_number",
    "invoice_code",
    "invoice_type",
    "carrier_uscc",
    "warehouse_uscc",
    "origin_region",
    "destination_region",
    "shipped_on",
    "delivered_on",
    "lines",
    "tracking",
)
_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/\-]{0,63}$")
MAX_REFERENCE = 64  # a reference to another document, as long as a document number


def _text(row: Mapping[str, object], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _Collector:
    def __init__(self, row_no: int | None, strict: bool = True) -> None:
        self.row_no = row_no
        self.strict = strict
        self.errors: list[FieldError] = []

    def add(self, field_name: str, reason: str) -> None:
        self.errors.append(FieldError(field_name, reason, self.row_no))


def _date(row: Mapping[str, object], key: str, c: _Collector) -> date | None:
    text = _text(row, key)
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        c.add(key, f"{text!r} is not a date YYYY-MM-DD")
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        c.add(key, f"{text!r} is not a calendar date")
        return None
    if c.strict and (reason := check_business_date(value)) is not None:
        c.add(key, reason)
        return None
    return value


def _money(row: Mapping[str, object], key: str, currency: str, c: _Collector) -> Money | None:
    raw = row.get(key)
    if c.strict and raw is not None and not isinstance(raw, str):
        c.add(key, f'must be a decimal string like "1130.00", not the JSON value {raw!r}')
        return None
    text = _text(row, key)
    if text is None:
        return None
    try:
        value = Money.parse(text, currency)
    except MoneyError as exc:
        c.add(key, exc.message)
        return None
    if value.amount_minor < 0:
        c.add(key, "must not be negative (use a credit note)")
        return None
    return value


def _uscc(row: Mapping[str, object], key: str, c: _Collector) -> str | None:
    text = _text(row, key)
    if text is None:
        return None
    verdict = check_uscc(text)
    if not verdict.valid:
        c.add(key, verdict.reason)
        return None
    return verdict.code


def _region(row: Mapping[str, object], key: str, c: _Collector) -> str | None:
    text = _text(row, key)
    if text is None:
        return None
    if (why := check_region_code(text)) is not None:
        c.add(key, why)
        return None
    return text


def _lines(raw: object, currency: str, c: _Collector) -> tuple[DocumentLine, ...]:
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        c.add("lines", "must be a list of {item, quantity, unit, unit_price, amount}")
        return ()
    out = []
    for i, item in enumerate(raw, start=1):
        where = f"lines[{i}]"
        if not isinstance(item, Mapping):
            c.add(where, "must be an object")
            continue
        before = len(c.errors)
        try:
            quantity = Decimal(str(item.get("quantity", "")).strip())
            if not quantity.is_finite() or quantity <= 0:
                raise InvalidOperation
        except InvalidOperation:
            c.add(f"{where}.quantity", f"{item.get('quantity')!r} is not a positive number")
            quantity = Decimal(0)
        price = _money(item, "unit_price", currency, _Sub(c, where))
        amount = _money(item, "amount", currency, _Sub(c, where))
        name = _text(item, "item")
        if name is None:
            c.add(f"{where}.item", "is required")
        if price is None and "unit_price" not in item:
            c.add(f"{where}.unit_price", "is required")
        if amount is None and "amount" not in item:
            c.add(f"{where}.amount", "is required")
        if len(c.errors) == before and name and price is not None and amount is not None:
            out.append(DocumentLine(name, quantity, _text(item, "unit") or "", price, amount))
    return tuple(out)


class _Sub(_Collector):
    """Prefixes field names with the line they belong to."""

    def __init__(self, parent: _Collector, prefix: str) -> None:
        super().__init__(parent.row_no, parent.strict)
        self.parent, self.prefix = parent, prefix
        self.errors = parent.errors

    def add(self, field_name: str, reason: str) -> None:
        self.parent.add(f"{self.prefix}.{field_name}", reason)


def _tracking(raw: object, c: _Collector) -> tuple[TrackingEvent, ...]:
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        c.add("tracking", "must be a list of {at, region_code, status}")
        return ()
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            c.add(f"tracking[{i}]", "must be an object")
            continue
        at, region, status = (_text(item, k) for k in ("at", "region_code", "status"))
        if not at or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})", at):
            c.add(f"tracking[{i}].at", "must be an ISO 8601 timestamp with a zone")
            continue
        if region is None or check_region_code(region) is not None:
            c.add(f"tracking[{i}].region_code", "must be a current GB/T 2260 code")
            continue
        out.append(TrackingEvent(at, region, status or ""))
    return tuple(out)


def _unsafe_text(row: Mapping[str, object], c: _Collector) -> bool:
    """Report every string in the row (and in its lines and tracking events) that carries
    control or bidi characters (``domain.text``); whether there was any."""
    before = len(c.errors)
    for key, value in row.items():
        if isinstance(value, str) and (reason := check_text(value)) is not None:
            c.add(str(key), reason)
        elif key in ("lines", "tracking") and isinstance(value, list | tuple):
            for i, item in enumerate(value, start=1):
                if not isinstance(item, Mapping):
                    continue
                for name, text in item.items():
                    if isinstance(text, str) and (reason := check_text(text)) is not None:
                        c.add(f"{key}[{i}].{name}", reason)
    return len(c.errors) > before


def _official_number(
    values: Mapping[str, Any], today_year: int, c: _Collector
) -> tuple[str | None, str | None]:
    """An invoice's own 发票号码 (and 发票代码), validated and normalised; reasons go on the
    field they are about."""
    number, code = values.get("invoice_number"), values.get("invoice_code")
    if number is None:
        return None, code
    if code is not None:
        verdict = check_invoice_code(code, number, today_year=today_year)
        if not verdict.valid:
            about_number = "发票号码" in verdict.reason or verdict.reason.startswith("sequence")
            c.add("invoice_number" if about_number else "invoice_code", verdict.reason)
            return None, None
        return verdict.number, verdict.code
    plain = normalise(number)
    if len(plain) == 8 and plain.isascii() and plain.isdigit():
        c.add(
            "invoice_number",
            "an 8-digit 发票号码 needs its 10- or 12-digit 发票代码 in invoice_code",
        )
        return None, None
    verdict = check_digital_invoice_number(number, today_year=today_year)
    if not verdict.valid:
        c.add("invoice_number", verdict.reason)
        return None, None
    return verdict.number, None


def parse_document(
    row: Mapping[str, object],
    *,
    row_no: int | None = None,
    today_year: int | None = None,
    strict: bool = True,
) -> TradeDocument | list[FieldError]:
    """One document from an untrusted row, or every problem with it. ``today_year`` bounds
    invoice numbers' years (default: the business year of ``domain.clock``). ``strict=False``
    rebuilds a document from content stored when it was accepted: the input rules added since
    (text, date range, positive total, the official invoice number) are not applied again, so
    a rule tightened later never makes a stored document unreadable."""
    c = _Collector(row_no, strict)
    for key in row:
        if key not in FIELDS:
            name = str(key)
            c.add(name if check_text(name) is None else ascii(name), "unknown field")
    if strict and _unsafe_text(row, c):
        return c.errors
    kind_text = _text(row, "kind")
    kind: DocumentKind | None = None
    try:
        kind = DocumentKind(kind_text or "")
    except ValueError:
        known = ", ".join(k.value for k in DocumentKind)
        c.add("kind", f"{kind_text!r} is not one of {known}")
    version_text = _text(row, "schema_version") or "1"
    version = int(version_text) if version_text.isdecimal() else -1
    if kind is not None and (kind, version) not in REQUIRED:
        c.add("schema_version", f"{kind.value} has no schema version {version_text}")
    number = _text(row, "number")
    if number is None:
        c.add("number", "is required")
    elif not _NUMBER.match(number):
        c.add("number", "1-64 letters, digits and . _ / - (starting with a letter or digit)")
    seller = _uscc(row, "seller_uscc", c)
    buyer = _uscc(row, "buyer_uscc", c)
    for key, value in (("seller_uscc", seller), ("buyer_uscc", buyer)):
        if value is None and _text(row, key) is None:
            c.add(key, "is required")
    if seller and seller == buyer:
        c.add("buyer_uscc", "seller and buyer must differ")
    issue_date = _date(row, "issue_date", c)
    if issue_date is None and _text(row, "issue_date") is None:
        c.add("issue_date", "is required")
    currency = _text(row, "currency") or "CNY"
    total = _money(row, "total", currency, c)
    if total is None and _text(row, "total") is None:
        c.add("total", "is required")
    elif strict and total is not None and total.amount_minor == 0:
        c.add("total", "must be greater than zero")
    values: dict[str, Any] = {
        "tax": _money(row, "tax", currency, c),
        "due_date": _date(row, "due_date", c),
        "shipped_on": _date(row, "shipped_on", c),
        "delivered_on": _date(row, "delivered_on", c),
        "carrier_uscc": _uscc(row, "carrier_uscc", c),
        "warehouse_uscc": _uscc(row, "warehouse_uscc", c),
        "origin_region": _region(row, "origin_region", c),
        "destination_region": _region(row, "destination_region", c),
    }
    for key in (
        "contract_number",
        "order_number",
        "delivery_number",
        "invoice_number",
        "invoice_code",
    ):
        values[key] = _text(row, key)
        if strict and values[key] is not None and len(values[key]) > MAX_REFERENCE:
            c.add(key, f"at most {MAX_REFERENCE} characters")
            values[key] = None
    if strict and kind is DocumentKind.INVOICE:
        year = clock.today().year if today_year is None else today_year
        values["invoice_number"], values["invoice_code"] = _official_number(values, year, c)
    invoice_type_text = _text(row, "invoice_type")
    values["invoice_type"] = None
    if invoice_type_text is not None:
        try:
            values["invoice_type"] = InvoiceType(invoice_type_text)
        except ValueError:
            c.add(
                "invoice_type",
                f"{invoice_type_text!r} is not one of " + ", ".join(t.value for t in InvoiceType),
            )
    lines = _lines(row.get("lines"), currency, c)
    tracking = _tracking(row.get("tracking"), c)
    if kind is not None and (kind, version) in REQUIRED:
        for key in REQUIRED[(kind, version)]:
            if values.get(key) is None and _text(row, key) is None:
                c.add(key, f"is required on a {kind.value}")
    if lines and total is not None and values["tax"] is not None:
        net = sum((line.amount.amount_minor for line in lines), 0)
        if net + values["tax"].amount_minor != total.amount_minor:
            c.add("total", f"lines {Money(net, currency)} + tax {values['tax']} ≠ total {total}")
    if (
        values["delivered_on"]
        and values["shipped_on"]
        and values["delivered_on"] < values["shipped_on"]
    ):
        c.add("delivered_on", "is before shipped_on")
    if c.errors:
        return c.errors
    if not (kind and number and seller and buyer and issue_date and total):
        raise AssertionError("unreachable: missing required fields are reported above")
    return TradeDocument(
        kind=kind,
        number=number,
        seller_uscc=seller,
        buyer_uscc=buyer,
        issue_date=issue_date,
        currency=currency,
        total=total,
        schema_version=version,
        lines=lines,
        tracking=tracking,
        **values,
    )


def to_row(doc: TradeDocument) -> dict[str, object]:
    """The row :func:`~chainfin.domain.documents.parse_document` reads back into ``doc``:
    dates ISO, money as decimal strings, enums by value; empty fields left out."""
    row: dict[str, object] = {}
    for name in FIELDS:
        value = getattr(doc, name)
        if value is None or value == ():
            continue
        if name == "lines":
            row[name] = [_line_row(line) for line in value]
        elif name == "tracking":
            row[name] = [
                {"at": t.at, "region_code": t.region_code, "status": t.status} for t in value
            ]
        else:
            row[name] = _scalar(value)
    return row


def _line_row(line: DocumentLine) -> dict[str, object]:
    return {
        "item": line.item,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": line.unit_price.to_decimal_string(),
        "amount": line.amount.to_decimal_string(),
    }


def _scalar(value: object) -> object:
    if isinstance(value, Money):
        return value.to_decimal_string()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
