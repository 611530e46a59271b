"""UBL 2.1 Invoice and CreditNote (Peppol BIS Billing 3.0 included) into a neutral document.

The input is untrusted. Before parsing it must be at most ``max_bytes`` long and UTF-8; it is
then parsed with defusedxml with any DOCTYPE, entity declaration and external reference
refused, so XXE, billion laughs, quadratic blowup and parameter entities never run and
nothing is fetched from the network or the file system. Every problem is a
:class:`ValidationFailed` with one :class:`FieldError` naming the field by its UBL path, e.g.
``cac:InvoiceLine[3]/cbc:LineExtensionAmount``. Checks run in schema order, so the first
problem in the document is the one reported.

>>> parse_ubl(b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
Traceback (most recent call last):
...
chainfin.domain.errors.ValidationFailed: xml: DOCTYPE refused: a UBL document carries no DTD, \
and a DTD can declare entities (XXE, entity expansion)

Every amount must carry ``currencyID`` equal to the document currency and becomes
:class:`Money` (no float, no rounding); the one exception is the ``cac:TaxTotal`` that states
the VAT total in ``cbc:TaxCurrencyCode`` (EN 16931 BT-111), kept as a ``Decimal``.
:func:`check_totals` applies the EN 16931 sum rules BR-CO-10 to BR-CO-16 separately, so a
document that parses can still be judged inconsistent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple, TypeVar
from xml.etree.ElementTree import Element, ParseError

# defusedxml ships no type stubs (types-defusedxml is not a dependency).
import defusedxml.ElementTree as DefusedElementTree  # type: ignore[import-untyped]

from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import MINOR_UNITS, Money, MoneyError

MAX_BYTES = 10 * 1024 * 1024

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

_DECLARED_ENCODING = re.compile(r"\ufeff?<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}
_MAX_NUMBER_CHARS = 40  # longer numbers are refused before Decimal or Money sees them

T = TypeVar("T")


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class UblParty:
    name: str | None  # legal name (PartyLegalEntity/RegistrationName), else the trading name
    trading_name: str | None  # PartyName/Name
    company_id: str | None  # legal registration id: PartyLegalEntity/CompanyID
    company_id_scheme: str | None
    vat_id: str | None  # PartyTaxScheme/CompanyID whose TaxScheme is VAT
    endpoint_id: str | None  # EndpointID (the Peppol electronic address)
    endpoint_scheme: str | None  # its schemeID, e.g. "0088"
    country: str | None  # PostalAddress/Country/IdentificationCode


@dataclass(frozen=True, slots=True)
class UblAllowanceCharge:
    is_charge: bool
    amount: Money
    base_amount: Money | None
    # As written: a factor in plain UBL (0.15), a percentage in EN 16931 / Peppol (20).
    multiplier: Decimal | None
    reason: str | None
    reason_code: str | None
    tax_category_id: str | None
    tax_percent: Decimal | None


@dataclass(frozen=True, slots=True)
class UblTaxSubtotal:
    category_id: str
    percent: Decimal | None
    taxable_amount: Money
    tax_amount: Money


@dataclass(frozen=True, slots=True)
class UblLine:
    id: str
    quantity: Decimal | None
    unit_code: str | None
    line_extension_amount: Money  # the line net amount (BT-131)
    allowances_charges: tuple[UblAllowanceCharge, ...]
    item_name: str | None
    tax_category_id: str | None  # Item/ClassifiedTaxCategory
    tax_percent: Decimal | None
    price_amount: Money | None
    base_quantity: Decimal | None


@dataclass(frozen=True, slots=True)
class UblTotals:
    """cac:LegalMonetaryTotal; only the payable amount is mandatory in UBL 2.1."""

    line_extension_amount: Money | None
    tax_exclusive_amount: Money | None
    tax_inclusive_amount: Money | None
    allowance_total_amount: Money | None
    charge_total_amount: Money | None
    prepaid_amount: Money | None
    payable_rounding_amount: Money | None
    payable_amount: Money


@dataclass(frozen=True, slots=True)
class UblDocument:
    kind: DocumentKind
    id: str
    issue_date: date
    due_date: date | None  # cbc:DueDate, else the first cac:PaymentMeans/cbc:PaymentDueDate
    type_code: str | None
    currency: str
    tax_currency: str | None
    buyer_reference: str | None
    order_reference: str | None
    contract_reference: str | None
    billing_reference: str | None  # the invoice a credit note corrects
    seller: UblParty
    buyer: UblParty
    allowances_charges: tuple[UblAllowanceCharge, ...]  # document level
    tax_amount: Money | None  # cac:TaxTotal/cbc:TaxAmount in the document currency (BT-110)
    tax_subtotals: tuple[UblTaxSubtotal, ...]
    tax_amount_in_tax_currency: Decimal | None  # BT-111, in tax_currency
    totals: UblTotals
    lines: tuple[UblLine, ...]


@dataclass(frozen=True, slots=True)
class _Flavour:
    kind: DocumentKind
    type_code: str
    line: str
    quantity: str


_FLAVOURS = {
    f"{{{INVOICE_NS}}}Invoice": _Flavour(
        DocumentKind.INVOICE, "cbc:InvoiceTypeCode", "cac:InvoiceLine", "cbc:InvoicedQuantity"
    ),
    f"{{{CREDIT_NOTE_NS}}}CreditNote": _Flavour(
        DocumentKind.CREDIT_NOTE,
        "cbc:CreditNoteTypeCode",
        "cac:CreditNoteLine",
        "cbc:CreditedQuantity",
    ),
}


def parse_ubl(data: bytes, *, max_bytes: int = MAX_BYTES) -> UblDocument:
    """Parse one UBL 2.1 Invoice or CreditNote; raise ValidationFailed on the first problem."""
    root = _parse_xml(data, max_bytes)
    flavour = _FLAVOURS.get(root.tag)
    if flavour is None:
        raise _fail("xml", f"root element {_clip(root.tag)} is not a UBL 2.1 Invoice or CreditNote")
    return _document(root, flavour)


# --- safe XML -----------------------------------------------------------------------------


def _parse_xml(data: bytes, max_bytes: int) -> Element:
    if len(data) > max_bytes:
        raise _fail("xml", f"{len(data)} bytes is larger than the limit of {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail("xml", f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(1).lower() not in {"utf-8", "utf8"}:
        raise _fail("xml", f"declares encoding {_clip(declared.group(1))!r}; UBL must be UTF-8")
    try:
        root: Element = DefusedElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedElementTree.DTDForbidden as exc:
        raise _fail("xml", _doctype_reason(exc.sysid)) from None
    except (
        DefusedElementTree.EntitiesForbidden,
        DefusedElementTree.ExternalReferenceForbidden,
    ) as exc:  # unreachable while a DOCTYPE is refused first; kept so the policy fails closed
        raise _fail("xml", f"refused: {exc}") from None
    except ParseError as exc:
        raise _fail("xml", f"not well-formed XML: {exc}") from None
    return root


def _doctype_reason(system_id: str | None) -> str:
    if system_id:
        return (
            f"DOCTYPE refused: it names the external DTD {_clip(system_id)!r}, which is never"
            " fetched; a UBL document carries no DTD"
        )
    return (
        "DOCTYPE refused: a UBL document carries no DTD, and a DTD can declare entities"
        " (XXE, entity expansion)"
    )


# --- the document -------------------------------------------------------------------------


def _document(root: Element, flavour: _Flavour) -> UblDocument:
    doc_id = _need(_text(root, "", "cbc:ID"), "cbc:ID")
    issue_date = _need(_date(root, "", "cbc:IssueDate"), "cbc:IssueDate")
    due_date = _date(root, "", "cbc:DueDate")
    type_code = _text(root, "", flavour.type_code)
    currency = _document_currency(root)
    tax_currency = _tax_currency(root)
    seller = _party(root, "cac:AccountingSupplierParty")
    buyer = _party(root, "cac:AccountingCustomerParty")
    if due_date is None:
        due_date = _payment_due_date(root)
    allowances_charges = _allowances_charges(root, "", currency)
    tax = _tax_totals(root, currency, tax_currency)
    totals = _totals(root, currency)
    lines = _lines(root, flavour, currency)
    return UblDocument(
        kind=flavour.kind,
        id=doc_id,
        issue_date=issue_date,
        due_date=due_date,
        type_code=type_code,
        currency=currency,
        tax_currency=tax_currency,
        buyer_reference=_text(root, "", "cbc:BuyerReference"),
        order_reference=_first_text(root, "cac:OrderReference/cbc:ID"),
        contract_reference=_first_text(root, "cac:ContractDocumentReference/cbc:ID"),
        billing_reference=_first_text(
            root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
        ),
        seller=seller,
        buyer=buyer,
        allowances_charges=allowances_charges,
        tax_amount=tax.amount,
        tax_subtotals=tax.subtotals,
        tax_amount_in_tax_currency=tax.amount_in_tax_currency,
        totals=totals,
        lines=lines,
    )


def _document_currency(root: Element) -> str:
    field = "cbc:DocumentCurrencyCode"
    code = _need(_text(root, "", field), field)
    if code not in MINOR_UNITS:
        supported = ", ".join(sorted(MINOR_UNITS))
        raise _fail(field, f"unsupported currency {_clip(code)!r}; supported: {supported}")
    return code


def _tax_currency(root: Element) -> str | None:
    code = _text(root, "", "cbc:TaxCurrencyCode")
    if code is not None and not _CURRENCY_CODE.fullmatch(code):
        raise _fail("cbc:TaxCurrencyCode", f"{_clip(code)!r} is not an ISO 4217 code like EUR")
    return code


def _party(root: Element, role: str) -> UblParty:
    outer = _need(_only(root, "", role), role)
    path = f"{role}/cac:Party"
    party = _need(_only(outer, role, "cac:Party"), path)
    endpoint = _only(party, path, "cbc:EndpointID")
    legal = party.find("cac:PartyLegalEntity", _NS)
    company = legal.find("cbc:CompanyID", _NS) if legal is not None else None
    trading_name = _first_text(party, "cac:PartyName/cbc:Name")
    return UblParty(
        name=_first_text(party, "cac:PartyLegalEntity/cbc:RegistrationName") or trading_name,
        trading_name=trading_name,
        company_id=_value(company),
        company_id_scheme=company.get("schemeID") if company is not None else None,
        vat_id=_vat_id(party),
        endpoint_id=_value(endpoint),
        endpoint_scheme=endpoint.get("schemeID") if endpoint is not None else None,
        country=_first_text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
    )


def _vat_id(party: Element) -> str | None:
    for scheme in party.findall("cac:PartyTaxScheme", _NS):
        if _first_text(scheme, "cac:TaxScheme/cbc:ID") == "VAT":
            return _first_text(scheme, "cbc:CompanyID")
    return None


def _payment_due_date(root: Element) -> date | None:
    for n, means in enumerate(root.findall("cac:PaymentMeans", _NS), start=1):
        due = _date(means, f"cac:PaymentMeans[{n}]", "cbc:PaymentDueDate")
        if due is not None:
            return due
    return None


def _allowances_charges(
    parent: Element, path: str, currency: str
) -> tuple[UblAllowanceCharge, ...]:
    return tuple(
        _allowance_charge(element, _field(path, f"cac:AllowanceCharge[{n}]"), currency)
        for n, element in enumerate(parent.findall("cac:AllowanceCharge", _NS), start=1)
    )


def _allowance_charge(element: Element, path: str, currency: str) -> UblAllowanceCharge:
    field = _field(path, "cbc:ChargeIndicator")
    indicator = _need(_text(element, path, "cbc:ChargeIndicator"), field)
    if indicator not in _BOOLEAN:
        raise _fail(field, f"{_clip(indicator)!r} is not true or false")
    category = element.find("cac:TaxCategory", _NS)
    category_path = _field(path, "cac:TaxCategory[1]")
    return UblAllowanceCharge(
        is_charge=_BOOLEAN[indicator],
        reason_code=_text(element, path, "cbc:AllowanceChargeReasonCode"),
        reason=_first_text(element, "cbc:AllowanceChargeReason"),
        multiplier=_decimal(element, path, "cbc:MultiplierFactorNumeric"),
        amount=_need(_amount(element, path, "cbc:Amount", currency), _field(path, "cbc:Amount")),
        base_amount=_amount(element, path, "cbc:BaseAmount", currency),
        tax_category_id=_first_text(element, "cac:TaxCategory/cbc:ID"),
        tax_percent=_percent(category, category_path),
    )


class _Tax(NamedTuple):
    amount: Money | None
    subtotals: tuple[UblTaxSubtotal, ...]
    amount_in_tax_currency: Decimal | None


def _tax_totals(root: Element, currency: str, tax_currency: str | None) -> _Tax:
    tax = _Tax(None, (), None)
    for n, total in enumerate(root.findall("cac:TaxTotal", _NS), start=1):
        path = f"cac:TaxTotal[{n}]"
        field = _field(path, "cbc:TaxAmount")
        amount = _need(_only(total, path, "cbc:TaxAmount"), field)
        if (
            tax_currency not in (None, currency)
            and (amount.get("currencyID") or "").strip() == tax_currency
        ):
            if tax.amount_in_tax_currency is not None:
                raise _fail(field, f"a second VAT total in the tax currency {tax_currency}")
            if total.find("cac:TaxSubtotal", _NS) is not None:
                raise _fail(_field(path, "cac:TaxSubtotal[1]"), "not allowed in the tax currency")
            tax = tax._replace(amount_in_tax_currency=_number(_value(amount) or "", field))
            continue
        if tax.amount is not None:
            raise _fail(field, f"a second VAT total in the document currency {currency}")
        subtotals = tuple(
            _tax_subtotal(sub, f"{path}/cac:TaxSubtotal[{m}]", currency)
            for m, sub in enumerate(total.findall("cac:TaxSubtotal", _NS), start=1)
        )
        tax = tax._replace(amount=_money(amount, field, currency), subtotals=subtotals)
    return tax


def _tax_subtotal(element: Element, path: str, currency: str) -> UblTaxSubtotal:
    taxable = _amount(element, path, "cbc:TaxableAmount", currency)
    tax = _amount(element, path, "cbc:TaxAmount", currency)
    category_path = _field(path, "cac:TaxCategory")
    category = _need(_only(element, path, "cac:TaxCategory"), category_path)
    return UblTaxSubtotal(
        taxable_amount=_need(taxable, _field(path, "cbc:TaxableAmount")),
        tax_amount=_need(tax, _field(path, "cbc:TaxAmount")),
        category_id=_need(_text(category, category_path, "cbc:ID"), f"{category_path}/cbc:ID"),
        percent=_decimal(category, category_path, "cbc:Percent"),
    )


def _totals(root: Element, currency: str) -> UblTotals:
    path = "cac:LegalMonetaryTotal"
    total = _need(_only(root, "", path), path)

    def amount(tag: str) -> Money | None:
        return _amount(total, path, tag, currency)

    return UblTotals(
        line_extension_amount=amount("cbc:LineExtensionAmount"),
        tax_exclusive_amount=amount("cbc:TaxExclusiveAmount"),
        tax_inclusive_amount=amount("cbc:TaxInclusiveAmount"),
        allowance_total_amount=amount("cbc:AllowanceTotalAmount"),
        charge_total_amount=amount("cbc:ChargeTotalAmount"),
        prepaid_amount=amount("cbc:PrepaidAmount"),
        payable_rounding_amount=amount("cbc:PayableRoundingAmount"),
        payable_amount=_need(amount("cbc:PayableAmount"), f"{path}/cbc:PayableAmount"),
    )


def _lines(root: Element, flavour: _Flavour, currency: str) -> tuple[UblLine, ...]:
    elements = root.findall(flavour.line, _NS)
    if not elements:
        raise _fail(flavour.line, "at least one line is required")
    return tuple(
        _line(element, f"{flavour.line}[{n}]", flavour.quantity, currency)
        for n, element in enumerate(elements, start=1)
    )


def _line(element: Element, path: str, quantity_tag: str, currency: str) -> UblLine:
    line_id = _need(_text(element, path, "cbc:ID"), _field(path, "cbc:ID"))
    quantity, unit_code = _quantity(element, path, quantity_tag)
    net = _amount(element, path, "cbc:LineExtensionAmount", currency)
    allowances_charges = _allowances_charges(element, path, currency)
    item_path = _field(path, "cac:Item")
    item = _need(_only(element, path, "cac:Item"), item_path)
    category = item.find("cac:ClassifiedTaxCategory", _NS)
    category_path = f"{item_path}/cac:ClassifiedTaxCategory[1]"
    price_amount, base_quantity = _price(element, path, currency)
    return UblLine(
        id=line_id,
        quantity=quantity,
        unit_code=unit_code,
        line_extension_amount=_need(net, _field(path, "cbc:LineExtensionAmount")),
        allowances_charges=allowances_charges,
        item_name=_text(item, item_path, "cbc:Name"),
        tax_category_id=_first_text(item, "cac:ClassifiedTaxCategory/cbc:ID"),
        tax_percent=_percent(category, category_path),
        price_amount=price_amount,
        base_quantity=base_quantity,
    )


def _price(line: Element, path: str, currency: str) -> tuple[Money | None, Decimal | None]:
    price_path = _field(path, "cac:Price")
    price = _only(line, path, "cac:Price")
    if price is None:
        return None, None
    amount = _amount(price, price_path, "cbc:PriceAmount", currency)
    base_quantity, _ = _quantity(price, price_path, "cbc:BaseQuantity")
    return _need(amount, f"{price_path}/cbc:PriceAmount"), base_quantity


# --- values -------------------------------------------------------------------------------


def _fail(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, reason)])


def _field(path: str, tag: str) -> str:
    return f"{path}/{tag}" if path else tag


def _clip(text: str, limit: int = 80) -> str:
    """Echo untrusted text into a reason without letting it flood the message."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _need(value: T | None, field: str) -> T:
    if value is None:
        raise _fail(field, "is missing or empty")
    return value


def _only(parent: Element, path: str, tag: str) -> Element | None:
    """The child ``tag`` of a 0..1 element; a repeat is an error, not a silent first pick."""
    found = parent.findall(tag, _NS)
    if len(found) > 1:
        raise _fail(_field(path, tag), f"appears {len(found)} times; at most once is allowed")
    return found[0] if found else None


def _value(element: Element | None) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _text(parent: Element, path: str, tag: str) -> str | None:
    return _value(_only(parent, path, tag))


def _first_text(parent: Element, location: str) -> str | None:
    """Text of the first match of an ElementPath, for elements UBL lets repeat (0..n)."""
    return _value(parent.find(location, _NS))


def _date(parent: Element, path: str, tag: str) -> date | None:
    text = _text(parent, path, tag)
    if text is None:
        return None
    if not _DATE.fullmatch(text):
        raise _fail(_field(path, tag), f"{_clip(text)!r} is not a date like 2017-11-13")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _fail(_field(path, tag), f"{text!r} is not a valid date: {exc}") from None


def _number(text: str, field: str) -> Decimal:
    if len(text) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text):
        raise _fail(field, f"{_clip(text)!r} is not a decimal number like 12.5")
    return Decimal(text)


def _decimal(parent: Element, path: str, tag: str) -> Decimal | None:
    text = _text(parent, path, tag)
    return None if text is None else _number(text, _field(path, tag))


def _percent(category: Element | None, path: str) -> Decimal | None:
    return None if category is None else _decimal(category, path, "cbc:Percent")


def _quantity(parent: Element, path: str, tag: str) -> tuple[Decimal | None, str | None]:
    element = _only(parent, path, tag)
    text = _value(element)
    if element is None or text is None:
        return None, None
    return _number(text, _field(path, tag)), element.get("unitCode")


def _amount(parent: Element, path: str, tag: str, currency: str) -> Money | None:
    element = _only(parent, path, tag)
    return None if element is None else _money(element, _field(path, tag), currency)


def _money(element: Element, field: str, currency: str) -> Money:
    given = element.get("currencyID")
    if given is None:
        raise _fail(field, f"currencyID is missing; expected the document currency {currency}")
    if given.strip() != currency:
        raise _fail(field, f"currencyID {_clip(given)!r} is not the document currency {currency}")
    text = (element.text or "").strip()
    if len(text) > _MAX_NUMBER_CHARS:
        raise _fail(field, f"{_clip(text)!r} is too long for an amount")
    try:
        return Money.parse(text, currency)
    except MoneyError as exc:
        raise _fail(field, exc.message) from None


# --- EN 16931 sum rules -------------------------------------------------------------------

_TOTAL = "cac:LegalMonetaryTotal"


def check_totals(doc: UblDocument) -> list[FieldError]:
    """The EN 16931 sum rules BR-CO-10 to BR-CO-16; empty when all hold.

    A rule is skipped when the total it checks is absent (plain UBL 2.1 makes them optional);
    an absent term inside a formula counts as zero, as EN 16931 defines.
    """
    return [error for rule in _RULES if (error := rule(doc)) is not None]


def _sum(amounts: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total += amount
    return total


def _or_zero(amount: Money | None, currency: str) -> Money:
    return amount if amount is not None else Money.zero(currency)


def _br_co_10(doc: UblDocument) -> FieldError | None:
    stated = doc.totals.line_extension_amount
    lines = _sum((line.line_extension_amount for line in doc.lines), doc.currency)
    if stated is None or stated == lines:
        return None
    return FieldError(
        f"{_TOTAL}/cbc:LineExtensionAmount",
        f"BR-CO-10: LineExtensionAmount {stated.to_decimal_string()} ≠ sum of"
        f" {len(doc.lines)} line net amounts {lines.to_decimal_string()}",
    )


def _allowance_rule(
    rule: str, tag: str, is_charge: bool
) -> Callable[[UblDocument], FieldError | None]:
    noun = "charges" if is_charge else "allowances"

    def check(doc: UblDocument) -> FieldError | None:
        totals = doc.totals
        stated = totals.charge_total_amount if is_charge else totals.allowance_total_amount
        items = [ac.amount for ac in doc.allowances_charges if ac.is_charge is is_charge]
        summed = _sum(items, doc.currency)
        if stated is None or stated == summed:
            return None
        return FieldError(
            f"{_TOTAL}/cbc:{tag}",
            f"{rule}: {tag} {stated.to_decimal_string()} ≠ sum of {len(items)} document-level"
            f" {noun} {summed.to_decimal_string()}",
        )

    return check


def _br_co_13(doc: UblDocument) -> FieldError | None:
    t, cur = doc.totals, doc.currency
    if t.tax_exclusive_amount is None or t.line_extension_amount is None:
        return None
    allowances, charges = (
        _or_zero(t.allowance_total_amount, cur),
        _or_zero(t.charge_total_amount, cur),
    )
    expected = t.line_extension_amount - allowances + charges
    if t.tax_exclusive_amount == expected:
        return None
    return FieldError(
        f"{_TOTAL}/cbc:TaxExclusiveAmount",
        f"BR-CO-13: TaxExclusiveAmount {t.tax_exclusive_amount.to_decimal_string()} ≠"
        f" LineExtensionAmount {t.line_extension_amount.to_decimal_string()}"
        f" − AllowanceTotalAmount {allowances.to_decimal_string()}"
        f" + ChargeTotalAmount {charges.to_decimal_string()} = {expected.to_decimal_string()}",
    )


def _br_co_14(doc: UblDocument) -> FieldError | None:
    if doc.tax_amount is None or not doc.tax_subtotals:
        return None
    summed = _sum((sub.tax_amount for sub in doc.tax_subtotals), doc.currency)
    if doc.tax_amount == summed:
        return None
    return FieldError(
        "cac:TaxTotal/cbc:TaxAmount",
        f"BR-CO-14: TaxAmount {doc.tax_amount.to_decimal_string()} ≠ sum of"
        f" {len(doc.tax_subtotals)} TaxSubtotal TaxAmounts {summed.to_decimal_string()}",
    )


def _br_co_15(doc: UblDocument) -> FieldError | None:
    t = doc.totals
    if t.tax_inclusive_amount is None or t.tax_exclusive_amount is None:
        return None
    tax = _or_zero(doc.tax_amount, doc.currency)
    expected = t.tax_exclusive_amount + tax
    if t.tax_inclusive_amount == expected:
        return None
    return FieldError(
        f"{_TOTAL}/cbc:TaxInclusiveAmount",
        f"BR-CO-15: TaxInclusiveAmount {t.tax_inclusive_amount.to_decimal_string()} ≠"
        f" TaxExclusiveAmount {t.tax_exclusive_amount.to_decimal_string()}"
        f" + TaxAmount {tax.to_decimal_string()} = {expected.to_decimal_string()}",
    )


def _br_co_16(doc: UblDocument) -> FieldError | None:
    t, cur = doc.totals, doc.currency
    if t.tax_inclusive_amount is None:
        return None
    prepaid, rounding = _or_zero(t.prepaid_amount, cur), _or_zero(t.payable_rounding_amount, cur)
    expected = t.tax_inclusive_amount - prepaid + rounding
    if t.payable_amount == expected:
        return None
    return FieldError(
        f"{_TOTAL}/cbc:PayableAmount",
        f"BR-CO-16: PayableAmount {t.payable_amount.to_decimal_string()} ≠"
        f" TaxInclusiveAmount {t.tax_inclusive_amount.to_decimal_string()}"
        f" − PrepaidAmount {prepaid.to_decimal_string()}"
        f" + PayableRoundingAmount {rounding.to_decimal_string()} = {expected.to_decimal_string()}",
    )


_RULES: tuple[Callable[[UblDocument], FieldError | None], ...] = (
    _br_co_10,
    _allowance_rule("BR-CO-11", "AllowanceTotalAmount", is_charge=False),
    _allowance_rule("BR-CO-12", "ChargeTotalAmount", is_charge=True),
    _br_co_13,
    _br_co_14,
    _br_co_15,
    _br_co_16,
)
