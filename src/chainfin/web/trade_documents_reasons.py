"""What the trade-document pages say in a person's language: the kinds of document, the
columns of an upload, why a row was refused and why a trade case does not match.

The services explain themselves in English sentences with the values in them
(``'2026-13-01' is not a calendar date``). The refusals a person meets often are recognised
here by their shape and said again in the page's language with the same values; anything
not recognised is shown as the service wrote it, so no reason is ever lost."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chainfin.domain.documents import DocumentKind
from chainfin.domain.matching import CaseStatus, DifferenceKind, FieldDifference
from chainfin.web.i18n import N_, Language

K = DocumentKind

KIND_LABELS = {
    K.CONTRACT: N_("Contract"),
    K.PURCHASE_ORDER: N_("Purchase order"),
    K.DELIVERY_NOTE: N_("Delivery note"),
    K.GOODS_RECEIPT: N_("Goods receipt"),
    K.INVOICE: N_("Invoice"),
    K.CREDIT_NOTE: N_("Credit note"),
    K.PAYMENT: N_("Payment"),
    K.WAYBILL: N_("Waybill"),
    K.WAREHOUSE_RECEIPT: N_("Warehouse receipt"),
}
CASE_STATUS_LABELS = {
    CaseStatus.MATCHED: N_("Matched"),
    CaseStatus.PARTIALLY_MATCHED: N_("Partly matched"),
    CaseStatus.MISMATCHED: N_("Mismatch"),
    CaseStatus.INCOMPLETE: N_("Documents missing"),
}
# The columns of an upload (the CSV header, the JSON keys), as the errors table names them.
FIELD_LABELS = {
    "kind": N_("Kind of document"),
    "schema_version": N_("Schema version"),
    "number": N_("Document number"),
    "seller_uscc": N_("Seller's USCC"),
    "buyer_uscc": N_("Buyer's USCC"),
    "issue_date": N_("Document date"),
    "currency": N_("Currency"),
    "total": N_("Total"),
    "tax": N_("Tax"),
    "due_date": N_("Due date"),
    "contract_number": N_("Contract number"),
    "order_number": N_("Order number"),
    "delivery_number": N_("Delivery note number"),
    "invoice_number": N_("Invoice number"),
    "invoice_code": N_("Invoice code"),
    "invoice_type": N_("Invoice type"),
    "lines": N_("Lines"),
    "file": N_("File"),
    "format": N_("Format"),
    "xml": N_("XML document"),
    "document": N_("Document"),
}

_DATE = r"\d{4}-\d{2}-\d{2}"


@dataclass(frozen=True)
class Said:
    """A message to translate and the values to put in it."""

    message: str
    values: dict[str, str]

    def text(self, language: Language) -> str:
        return language.gettext(self.message) % self.values


def _pattern(regex: str, message: str) -> tuple[re.Pattern[str], str]:
    return re.compile(regex, re.S), message


# Why a row or a file was refused, in the services' words (first match wins).
ROW_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    _pattern(r"is required(?: on an? \w+)?", N_("Required: this column is empty or missing.")),
    _pattern(
        r"'(?P<value>.*)' is not a date YYYY-MM-DD",
        N_("%(value)s is not a date written YYYY-MM-DD."),
    ),
    _pattern(
        r"'(?P<value>.*)' is not a calendar date", N_("%(value)s is not a date on the calendar.")
    ),
    _pattern(
        rf"(?P<value>{_DATE}) is outside the business dates .*",
        N_("%(value)s is outside the dates the platform takes."),
    ),
    _pattern(
        r"(?P<value>\S+) is not registered",
        N_("%(value)s is not a firm registered on the platform."),
    ),
    _pattern(
        r"you may only submit documents you are a party to",
        N_("Your firm must be the seller or the buyer of every document it uploads."),
    ),
    _pattern(
        r"seller and buyer must differ", N_("The seller and the buyer must be different firms.")
    ),
    _pattern(r"duplicate of row (?P<value>\d+)", N_("The same document as row %(value)s.")),
    _pattern(
        r"already on file as \S+ with different content.*",
        N_(
            "A document with this number is already on file with other content; "
            "send a credit note or use a new number."
        ),
    ),
    _pattern(r"unknown field", N_("Not a column the platform knows.")),
    _pattern(
        r"'(?P<value>.*)' is not one of contract, .*",
        N_("%(value)s is not a kind of document the platform knows."),
    ),
    _pattern(r"must be greater than zero", N_("Must be greater than zero.")),
    _pattern(r"must not be negative.*", N_("Must not be negative (send a credit note instead).")),
    _pattern(
        r"'(?P<value>.*)' is not a decimal (?:string|amount) like .*",
        N_("%(value)s is not an amount like 1234.56."),
    ),
    _pattern(
        r"'(?P<value>.*)' has more than \d+ decimal places.*",
        N_("%(value)s has too many decimal places."),
    ),
    _pattern(
        r"length: expected 18 characters, got (?P<value>\d+)",
        N_("A USCC has 18 characters, not %(value)s."),
    ),
    _pattern(
        r"check digit should be (?P<value>\S+)",
        N_("Not a valid USCC: its check character should be %(value)s."),
    ),
    _pattern(r"lines .* ≠ total .*", N_("The lines plus the tax do not add up to the total.")),
    _pattern(r"not UTF-8 text.*", N_("The file is not UTF-8 text; save it as CSV UTF-8.")),
    _pattern(
        r"has (?P<value>\d+) fields, the header has (?P<header>\d+)",
        N_("This line has %(value)s fields but the header has %(header)s."),
    ),
    _pattern(r"empty file.*", N_("The file is empty: its first line must name the columns.")),
    _pattern(r"no rows", N_("The file holds no documents.")),
    _pattern(r"blank line inside the data", N_("A blank line inside the data; remove it.")),
    _pattern(
        r"duplicate column\(s\) in header: (?P<value>.*)",
        N_("Columns named twice in the header: %(value)s."),
    ),
    _pattern(r"invalid JSON.*", N_("Not valid JSON.")),
    _pattern(r"malformed CSV.*", N_("Not a well-formed CSV file.")),
    _pattern(r"each item must be a JSON object", N_("Each line must be one JSON object.")),
    _pattern(r"not well-formed XML.*", N_("Not well-formed XML.")),
    _pattern(
        r"root element .* is not a UBL 2.1 Invoice or CreditNote",
        N_("Not a UBL 2.1 invoice or credit note."),
    ),
    _pattern(r"DOCTYPE refused.*", N_("A UBL document carries no DOCTYPE; remove it.")),
)


def row_reason(reason: str) -> Said:
    """The reason a service gave, recognised and put in translatable words, or as it is."""
    for pattern, message in ROW_REASONS:
        if (found := pattern.fullmatch(reason)) is not None:
            return Said(message, found.groupdict())
    return Said("%(value)s", {"value": reason})


def field_label(name: str, language: Language) -> str:
    """``Date (issue_date)``: the column in words, and as the file names it."""
    base = re.split(r"[.\[]", name, maxsplit=1)[0]
    label = FIELD_LABELS.get(base)
    if label is None or base in ("file", "format", "xml"):
        return language.gettext(label) if label else name
    return f"{language.gettext(label)} ({name})"


# --- trade cases -----------------------------------------------------------------------------

_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    _pattern(rf"on or after (?P<value>{_DATE})", N_("on or after %(value)s")),
    _pattern(rf"on or before (?P<value>{_DATE})", N_("on or before %(value)s")),
    _pattern(rf"by (?P<value>{_DATE})", N_("by %(value)s")),
    _pattern(r"within (?P<value>\d+) days?", N_("within %(value)s days")),
    _pattern(r"at most (?P<value>\d+) days?", N_("at most %(value)s days")),
    _pattern(r"(?P<value>\d+) days?", N_("%(value)s days")),
)
_MONEY = re.compile(r"(?P<amount>-?\d+(?:\.\d+)?) (?P<currency>[A-Z]{3})")


def _day(text: str, language: Language) -> str:
    """An ISO date as the page writes dates (2026年11月1日); any other text as it is."""
    if re.fullmatch(_DATE, text):
        return language.long_date(date.fromisoformat(text))
    return text


def _value(text: str, language: Language) -> str:
    """A value of a difference as the page writes it: amounts with their currency sign,
    "on or after 2026-03-01" in the page's language."""
    parts = []
    for piece in text.split(", "):
        if (money := _MONEY.fullmatch(piece)) is not None:
            parts.append(language.money(money["amount"], money["currency"]))
            continue
        if re.fullmatch(_DATE, piece):
            parts.append(_day(piece, language))
            continue
        for pattern, message in _VALUES:
            if (found := pattern.fullmatch(piece)) is not None:
                values = {k: _day(v, language) for k, v in found.groupdict().items()}
                parts.append(language.gettext(message) % values)
                break
        else:
            parts.append(piece)
    return "、".join(parts) if language.tag == "zh-CN" else ", ".join(parts)


def document_name(key: str, language: Language) -> str:
    """``Invoice INV-7`` for the document key ``invoice/<seller USCC>/INV-7``."""
    kind, _seller, number = key.split("/", 2)
    label = KIND_LABELS.get(kind)  # type: ignore[call-overload]
    return f"{language.gettext(label) if label else kind} {number}"


_TARGETS = {
    "contract_number": N_("contract"),
    "order_number": N_("purchase order"),
    "delivery_number": N_("delivery note"),
    "invoice_number": N_("invoice"),
}
_OUTSTANDING = {
    "order_number": N_("%(document)s has no purchase order yet."),
    "delivery_number": N_("%(document)s has no delivery note yet."),
    "goods_receipt": N_("%(document)s has no goods receipt yet."),
    "invoice": N_("%(document)s: the goods are received but not invoiced yet."),
    "quantity": N_("Not all delivered or invoiced yet: %(expected)s expected, %(actual)s so far."),
    "payment": N_("Not paid in full yet: %(expected)s payable, %(actual)s paid."),
}
_MISMATCH = {
    "quantity": N_("Quantities differ: %(expected)s expected, %(actual)s found."),
    "unit_price": N_("Unit prices differ: %(expected)s agreed, %(actual)s charged."),
    "amount": N_("Amounts differ: %(expected)s expected, %(actual)s invoiced."),
    "total": N_("Totals differ: %(expected)s expected, %(actual)s found."),
    "payment": N_("More paid than payable: %(expected)s payable, %(actual)s paid."),
    "currency": N_("Currencies differ: %(expected)s expected, %(actual)s found."),
    "item": N_("%(document)s lists an item the order does not: %(actual)s."),
    "number": N_("%(actual)s documents share one number but differ in content."),
    "issue_date": N_(
        "Dates out of order: %(document)s is dated %(actual)s, expected %(expected)s."
    ),
    "origin_region": N_("The waybill starts in %(actual)s, but the seller is in %(expected)s."),
    "destination_region": N_("The waybill ends in %(actual)s, but the buyer is in %(expected)s."),
    "transit_days": N_("The goods took %(actual)s in transit (expected %(expected)s)."),
    "shipped_on": N_("Shipped %(actual)s, expected %(expected)s."),
    "delivered_on": N_("Delivered %(actual)s, expected %(expected)s."),
    "tracking": N_("The tracking events do not fit: %(expected)s expected, %(actual)s found."),
}


def difference_reason(diff: FieldDifference, language: Language) -> str:
    """One difference of a trade case in the page's language (the service's sentence when
    its shape is not one of those above)."""
    values = {
        "document": document_name(diff.documents[0], language) if diff.documents else "",
        "expected": _value(diff.expected, language),
        "actual": _value(diff.actual, language),
    }
    if diff.kind is DifferenceKind.BROKEN_LINK and diff.field in _TARGETS:
        values["target"] = language.gettext(_TARGETS[diff.field])
        values["number"] = diff.expected
        if diff.actual == "missing":
            message = N_("%(document)s refers to %(target)s %(number)s, which is not on file.")
        else:
            message = N_("%(document)s names no %(target)s.")
        return language.gettext(message) % values
    table = _OUTSTANDING if diff.kind is DifferenceKind.OUTSTANDING else _MISMATCH
    found = table.get(diff.field)
    if found is None:
        return diff.message
    return language.gettext(found) % values


def reasons(diffs: Sequence[FieldDifference], language: Language) -> list[str]:
    return [difference_reason(d, language) for d in diffs]
