"""Trade cases and three/four-way matching: do the documents of one trade tell one story?

:func:`build_cases` links the documents of each seller–buyer pair into trade cases::

    contract ←contract_number─ purchase order ←order_number─ delivery notes
    delivery note ←delivery_number─ goods receipts, waybills
    purchase order / delivery note ←order_number / delivery_number─ invoices, warehouse receipts
    invoice ←invoice_number─ payments, credit notes

A case is anchored on its purchase order. A document whose chain does not reach an order
anchors a case of its own (a delivery note whose order is missing, an invoice naming neither
order nor delivery note, a payment for an unknown invoice, a contract nobody ordered under).
A contract is shared by the cases of every order placed under it.

:func:`match_case` compares a case item by item within the tolerances of a
:class:`MatchConfig`. Quantities follow the chain order → delivery notes → receipts →
invoices (a four-way match; receipts meet the order through the delivery notes they confirm,
as every receipt names one); unit prices and amounts compare invoices with the order (the
three-way match order ↔ receipt ↔ invoice); payments are compared with each invoice's total
less its credit notes; dates and the logistics evidence (:func:`check_logistics`) are checked
too. Every finding is a :class:`FieldDifference` whose kind decides the case status, in this
order of precedence:

===============  ======================  =================================================
difference kind  case status             meaning
===============  ======================  =================================================
broken_link      ``incomplete``          a document refers to one that is not in the case
mismatch         ``mismatched``          a difference beyond tolerance
outstanding      ``partially_matched``   consistent so far; a later step has not happened
(none)           ``matched``             the whole chain is there and agrees
===============  ======================  =================================================

A broken chain outranks a mismatch: what it compares is not the whole trade, so its
differences may be artefacts of what is missing. Documents without lines are matched by
stage (delivered? received? invoiced?) and by totals for payments only.

>>> from datetime import date
>>> from chainfin.domain.money import Money
>>> S, B = "91110000600037341L", "91320505000000035L"
>>> inv = TradeDocument(DocumentKind.INVOICE, "INV-1", S, B, date(2026, 3, 1), "CNY",
...                     Money(113000), order_number="PO-9", invoice_number="26320000000000000001")
>>> [result] = match_all([inv], {})
>>> result.status, result.differences[0].message
(<CaseStatus.INCOMPLETE: 'incomplete'>, 'invoice INV-1 refers to order PO-9, which does not exist')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise

from chainfin.domain.anomalies import document_key
from chainfin.domain.documents import DocumentKind, TradeDocument
from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money
from chainfin.domain.region import UnknownRegion, lookup

K = DocumentKind


class CaseStatus(StrEnum):
    MATCHED = "matched"
    PARTIALLY_MATCHED = "partially_matched"
    MISMATCHED = "mismatched"
    INCOMPLETE = "incomplete"


class DifferenceKind(StrEnum):
    BROKEN_LINK = "broken_link"
    MISMATCH = "mismatch"
    OUTSTANDING = "outstanding"


# Most serious first: the first kind a case has decides its status.
PRECEDENCE: tuple[DifferenceKind, ...] = (
    DifferenceKind.BROKEN_LINK,
    DifferenceKind.MISMATCH,
    DifferenceKind.OUTSTANDING,
)
STATUS_OF: dict[DifferenceKind, CaseStatus] = {
    DifferenceKind.BROKEN_LINK: CaseStatus.INCOMPLETE,
    DifferenceKind.MISMATCH: CaseStatus.MISMATCHED,
    DifferenceKind.OUTSTANDING: CaseStatus.PARTIALLY_MATCHED,
}


class MatchConfigError(ChainfinError):
    code = "match_config_invalid"
    status = 422


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Tolerances for matching. A comparison is within tolerance when the difference is *at
    most* the tolerance, so a difference exactly at the tolerance matches.

    ``quantity_rel``
        Relative quantity tolerance, a fraction of the expected quantity (the order's, the
        delivery note's, the receipts'). Default 0: goods are counted, not estimated.
    ``unit_price_rel``
        Relative unit-price tolerance of an invoice (or order) price against the order's (or
        contract's) price for the item. Default 0.005 (0.5 %), room for prices agreed with
        more decimals than the currency has and for a rounded discount, not for a new price.
    ``amount_abs_minor`` and ``amount_rel``
        An amount (an invoice's amount for an item, payments against what is payable) may
        differ by the larger of ``amount_abs_minor`` minor units and ``amount_rel`` of the
        expected amount. Defaults 100 (1 yuan: per-line rounding adds up) and 0.005 (the
        unit-price tolerance, so a price accepted per unit is accepted in the amount). Set
        either to 0 to use only the other.
    ``invoice_before_delivery_days`` / ``invoice_after_delivery_days``
        How many days an invoice may be dated before the first, or after the last, delivery
        note it bills. Defaults 0 (invoicing goods not yet sent is the classic sign of a
        fictitious trade) and 90 (monthly settlement, 月结, with a 60-day term and slack).
    ``receipt_before_delivery_days`` / ``delivery_before_order_days``
        How many days a receipt may precede its delivery note, and a delivery note its order.
        Default 0: each step follows the one before.
    ``payment_after_due_days``
        How many days a payment may follow the invoice's due date. Default 30: a month's
        lateness is ordinary; beyond it the buyer's ability to pay is in question.
    ``transit_same_province_days`` / ``transit_other_province_days``
        The longest plausible time from shipped to delivered on a waybill within one province
        and between provinces. Defaults 5 and 10 days (road freight crosses China in 3-7).
    ``payment_required``
        Whether an invoice not yet paid in full leaves the case ``partially_matched``.
        Default True; set False to judge a trade up to its invoices, as when the unpaid
        invoice is the receivable being financed.
    """

    quantity_rel: Decimal = Decimal(0)
    unit_price_rel: Decimal = Decimal("0.005")
    amount_abs_minor: int = 100
    amount_rel: Decimal = Decimal("0.005")
    invoice_before_delivery_days: int = 0
    invoice_after_delivery_days: int = 90
    receipt_before_delivery_days: int = 0
    delivery_before_order_days: int = 0
    payment_after_due_days: int = 30
    transit_same_province_days: int = 5
    transit_other_province_days: int = 10
    payment_required: bool = True

    def __post_init__(self) -> None:
        for name in ("quantity_rel", "unit_price_rel", "amount_rel"):
            rel = getattr(self, name)
            if not isinstance(rel, Decimal) or not rel.is_finite() or not 0 <= rel < 1:
                raise MatchConfigError(f"{name} must be a Decimal in [0, 1), not {rel!r}")
        for name in _WHOLE_NUMBER_FIELDS:
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise MatchConfigError(f"{name} must be a whole number ≥ 0, not {value!r}")

    def amount_tolerance_minor(self, expected_minor: int) -> int:
        """The largest acceptable difference from ``expected_minor``, in minor units."""
        relative = (self.amount_rel * abs(expected_minor)).to_integral_value(ROUND_FLOOR)
        return max(self.amount_abs_minor, int(relative))


_WHOLE_NUMBER_FIELDS = (
    "amount_abs_minor",
    "invoice_before_delivery_days",
    "invoice_after_delivery_days",
    "receipt_before_delivery_days",
    "delivery_before_order_days",
    "payment_after_due_days",
    "transit_same_province_days",
    "transit_other_province_days",
)
DEFAULT_CONFIG = MatchConfig()


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One finding: which field, what was expected and found (as a person would write them),
    the documents involved (by :func:`~chainfin.domain.anomalies.document_key`) and why."""

    field: str
    expected: str
    actual: str
    documents: tuple[str, ...]
    message: str
    kind: DifferenceKind = DifferenceKind.MISMATCH


@dataclass(frozen=True, slots=True)
class TradeCase:
    """The documents of one trade, each list in (date, number) order. ``key`` is the
    document key of ``anchor``: the purchase order, or the document that stands in for it."""

    key: str
    seller_uscc: str
    buyer_uscc: str
    anchor: TradeDocument
    contract: TradeDocument | None = None
    order: TradeDocument | None = None
    deliveries: tuple[TradeDocument, ...] = ()
    receipts: tuple[TradeDocument, ...] = ()
    invoices: tuple[TradeDocument, ...] = ()
    credit_notes: tuple[TradeDocument, ...] = ()
    payments: tuple[TradeDocument, ...] = ()
    waybills: tuple[TradeDocument, ...] = ()
    warehouse_receipts: tuple[TradeDocument, ...] = ()
    # Documents reusing the kind and number of one above with other content; left unmatched.
    duplicates: tuple[TradeDocument, ...] = ()

    @property
    def documents(self) -> tuple[TradeDocument, ...]:
        heads = tuple(d for d in (self.contract, self.order) if d is not None)
        return (
            heads
            + self.deliveries
            + self.receipts
            + self.invoices
            + self.credit_notes
            + self.payments
            + self.waybills
            + self.warehouse_receipts
            + self.duplicates
        )


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The verdict on one case. ``ways`` counts the legs present of order, delivery note,
    receipt and invoice (4: a four-way match was possible); ``differences`` are in order of
    precedence, then in the order the checks ran."""

    case_key: str
    seller_uscc: str
    buyer_uscc: str
    status: CaseStatus
    ways: int
    differences: tuple[FieldDifference, ...]
    documents: tuple[str, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(d.message for d in self.differences)


# --- building cases ------------------------------------------------------------------------


def _doc_order(doc: TradeDocument) -> tuple[date, str]:
    return (doc.issue_date, doc.number)


@dataclass
class _Builder:
    anchor: TradeDocument
    contract: TradeDocument | None = None
    order: TradeDocument | None = None
    docs: dict[DocumentKind, list[TradeDocument]] = field(default_factory=lambda: defaultdict(list))
    duplicates: list[TradeDocument] = field(default_factory=list)

    def freeze(self) -> TradeCase:
        def part(kind: DocumentKind) -> tuple[TradeDocument, ...]:
            return tuple(sorted(self.docs[kind], key=_doc_order))

        return TradeCase(
            key=document_key(self.anchor),
            seller_uscc=self.anchor.seller_uscc,
            buyer_uscc=self.anchor.buyer_uscc,
            anchor=self.anchor,
            contract=self.contract,
            order=self.order,
            deliveries=part(K.DELIVERY_NOTE),
            receipts=part(K.GOODS_RECEIPT),
            invoices=part(K.INVOICE),
            credit_notes=part(K.CREDIT_NOTE),
            payments=part(K.PAYMENT),
            waybills=part(K.WAYBILL),
            warehouse_receipts=part(K.WAREHOUSE_RECEIPT),
            duplicates=tuple(sorted(self.duplicates, key=repr)),
        )


def _dedupe(docs: Iterable[TradeDocument]) -> tuple[list[TradeDocument], list[TradeDocument]]:
    """One document per (kind, number): the earliest, then the first by content, so input
    order cannot matter; the others come back as duplicates."""
    groups: dict[tuple[DocumentKind, str], list[TradeDocument]] = defaultdict(list)
    for doc in docs:
        groups[(doc.kind, doc.number)].append(doc)
    kept: list[TradeDocument] = []
    extras: list[TradeDocument] = []
    for group in groups.values():
        if len(group) > 1:
            group.sort(key=lambda d: (d.issue_date, repr(d)))
        kept.append(group[0])
        extras.extend(group[1:])
    return sorted(kept, key=_doc_order), extras


class _PairLinker:
    """Links the documents of one seller–buyer pair; numbers are unique per kind here."""

    def __init__(self, docs: Iterable[TradeDocument]) -> None:
        kept, self.extras = _dedupe(docs)
        self.by_kind: dict[DocumentKind, list[TradeDocument]] = defaultdict(list)
        for doc in kept:
            self.by_kind[doc.kind].append(doc)
        self.builders: list[_Builder] = []
        self.home: dict[tuple[DocumentKind, str], _Builder] = {}
        self.official: dict[str, _Builder] = {}  # invoice official number → case

    def new(self, anchor: TradeDocument) -> _Builder:
        builder = _Builder(anchor)
        self.builders.append(builder)
        return builder

    def place(self, doc: TradeDocument, builder: _Builder) -> None:
        builder.docs[doc.kind].append(doc)
        self.home[(doc.kind, doc.number)] = builder

    def find(self, *refs: tuple[DocumentKind, str | None]) -> _Builder | None:
        for kind, number in refs:
            if number is not None and (builder := self.home.get((kind, number))) is not None:
                return builder
        return None

    def link(self) -> list[TradeCase]:
        self._heads()
        for dn in self.by_kind[K.DELIVERY_NOTE]:
            self.place(dn, self.find((K.PURCHASE_ORDER, dn.order_number)) or self.new(dn))
        for gr in self.by_kind[K.GOODS_RECEIPT]:
            refs = ((K.DELIVERY_NOTE, gr.delivery_number), (K.PURCHASE_ORDER, gr.order_number))
            self.place(gr, self.find(*refs) or self.new(gr))
        for inv in self.by_kind[K.INVOICE]:
            refs = ((K.PURCHASE_ORDER, inv.order_number), (K.DELIVERY_NOTE, inv.delivery_number))
            builder = self.find(*refs) or self.new(inv)
            self.place(inv, builder)
            if inv.invoice_number is not None:
                self.official.setdefault(inv.invoice_number, builder)
        for doc in self.by_kind[K.CREDIT_NOTE] + self.by_kind[K.PAYMENT]:
            ref = doc.invoice_number
            by_official = self.official.get(ref) if ref is not None else None
            self.place(doc, by_official or self.find((K.INVOICE, ref)) or self.new(doc))
        for doc in self.by_kind[K.WAYBILL] + self.by_kind[K.WAREHOUSE_RECEIPT]:
            refs = ((K.DELIVERY_NOTE, doc.delivery_number), (K.PURCHASE_ORDER, doc.order_number))
            self.place(doc, self.find(*refs) or self.new(doc))
        for extra in self.extras:
            self.home[(extra.kind, extra.number)].duplicates.append(extra)
        return [builder.freeze() for builder in self.builders]

    def _heads(self) -> None:
        contracts = {c.number: c for c in self.by_kind[K.CONTRACT]}
        for order in self.by_kind[K.PURCHASE_ORDER]:
            builder = self.new(order)
            builder.order = order
            if order.contract_number is not None:
                builder.contract = contracts.get(order.contract_number)
                if builder.contract is not None:
                    self.home.setdefault((K.CONTRACT, order.contract_number), builder)
            self.home[(K.PURCHASE_ORDER, order.number)] = builder
        for contract in self.by_kind[K.CONTRACT]:
            if (K.CONTRACT, contract.number) not in self.home:
                builder = self.new(contract)
                builder.contract = contract
                self.home[(K.CONTRACT, contract.number)] = builder


def build_cases(documents: Iterable[TradeDocument]) -> list[TradeCase]:
    """Link documents into trade cases, ordered by seller, buyer and case key. Documents of
    different seller–buyer pairs never link; a document given twice counts once."""
    pairs: dict[tuple[str, str], list[TradeDocument]] = defaultdict(list)
    for doc in dict.fromkeys(documents):
        pairs[(doc.seller_uscc, doc.buyer_uscc)].append(doc)
    cases = [case for docs in pairs.values() for case in _PairLinker(docs).link()]
    return sorted(cases, key=lambda c: (c.seller_uscc, c.buyer_uscc, c.key))


# --- wording -------------------------------------------------------------------------------

_NOUNS: dict[DocumentKind, tuple[str, str]] = {
    K.CONTRACT: ("contract", "contracts"),
    K.PURCHASE_ORDER: ("order", "orders"),
    K.DELIVERY_NOTE: ("delivery note", "delivery notes"),
    K.GOODS_RECEIPT: ("receipt", "receipts"),
    K.INVOICE: ("invoice", "invoices"),
    K.CREDIT_NOTE: ("credit note", "credit notes"),
    K.PAYMENT: ("payment", "payments"),
    K.WAYBILL: ("waybill", "waybills"),
    K.WAREHOUSE_RECEIPT: ("warehouse receipt", "warehouse receipts"),
}


def _named(docs: Sequence[TradeDocument]) -> str:
    """``invoice INV-3`` or ``receipts GR-7, GR-8`` (documents of one kind)."""
    singular, plural = _NOUNS[docs[0].kind]
    return f"{singular if len(docs) == 1 else plural} {', '.join(d.number for d in docs)}"


def _verb(base: str, docs: Sequence[TradeDocument]) -> str:
    if base == "have":
        return "has" if len(docs) == 1 else "have"
    return base + "s" if len(docs) == 1 else base


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _pct(rel: Decimal) -> str:
    return "0" if rel == 0 else f"{(rel * 100).normalize():f}%"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _keys(*groups: Iterable[TradeDocument]) -> tuple[str, ...]:
    return tuple(document_key(d) for group in groups for d in group)


def _diff(
    kind: DifferenceKind,
    field_name: str,
    expected: str,
    actual: str,
    docs: tuple[str, ...],
    message: str,
) -> FieldDifference:
    return FieldDifference(field_name, expected, actual, docs, message, kind)


# --- links ---------------------------------------------------------------------------------


def _broken(
    doc: TradeDocument, field_name: str, target: DocumentKind, number: str, why: str
) -> FieldDifference:
    message = f"{_named([doc])} refers to {_NOUNS[target][0]} {number}, {why}"
    return _diff(DifferenceKind.BROKEN_LINK, field_name, number, "missing", _keys([doc]), message)


def _unnamed(doc: TradeDocument, field_name: str, target: DocumentKind) -> FieldDifference:
    message = f"{_named([doc])} names no {_NOUNS[target][0]}"
    expected = f"a {_NOUNS[target][0]}"
    return _diff(DifferenceKind.BROKEN_LINK, field_name, expected, "none", _keys([doc]), message)


# The reference each kind must carry to join a chain (beyond what REQUIRED checks on input,
# as a case may be built from documents made in code).
_MUST_NAME: dict[DocumentKind, tuple[str, DocumentKind]] = {
    K.DELIVERY_NOTE: ("order_number", K.PURCHASE_ORDER),
    K.GOODS_RECEIPT: ("delivery_number", K.DELIVERY_NOTE),
    K.WAYBILL: ("delivery_number", K.DELIVERY_NOTE),
    K.CREDIT_NOTE: ("invoice_number", K.INVOICE),
    K.PAYMENT: ("invoice_number", K.INVOICE),
}


def _neither(doc: TradeDocument) -> FieldDifference:
    message = f"{_named([doc])} names neither an order nor a delivery note"
    return _diff(
        DifferenceKind.BROKEN_LINK, "order_number", "an order", "none", _keys([doc]), message
    )


def _check_links(case: TradeCase) -> list[FieldDifference]:
    out: list[FieldDifference] = []
    order = case.order
    gone = "which does not exist"
    if order is not None and order.contract_number is not None and case.contract is None:
        out.append(_broken(order, "contract_number", K.CONTRACT, order.contract_number, gone))
    order_number = order.number if order is not None else None
    dn_numbers = {dn.number for dn in case.deliveries}
    for doc in case.documents:
        if doc.kind in _MUST_NAME and getattr(doc, _MUST_NAME[doc.kind][0]) is None:
            out.append(_unnamed(doc, *_MUST_NAME[doc.kind]))
    for dn in case.deliveries:
        if dn.order_number is not None and dn.order_number != order_number:
            out.append(_broken(dn, "order_number", K.PURCHASE_ORDER, dn.order_number, gone))
    for doc in case.receipts + case.waybills:
        if doc.delivery_number is not None and doc.delivery_number not in dn_numbers:
            out.append(_broken(doc, "delivery_number", K.DELIVERY_NOTE, doc.delivery_number, gone))
    # An invoice goes to the case of the order it names; its delivery note may be elsewhere.
    outside = gone if order is None else f"which is not part of order {order_number}"
    for doc in case.invoices + case.warehouse_receipts:
        if doc.order_number is not None and doc.order_number != order_number:
            out.append(_broken(doc, "order_number", K.PURCHASE_ORDER, doc.order_number, gone))
        if doc.delivery_number is not None and doc.delivery_number not in dn_numbers:
            number = doc.delivery_number
            out.append(_broken(doc, "delivery_number", K.DELIVERY_NOTE, number, outside))
        if doc.order_number is None and doc.delivery_number is None:
            out.append(_neither(doc))
    invoice_refs = {i.number for i in case.invoices} | {i.invoice_number for i in case.invoices}
    for doc in case.credit_notes + case.payments:
        if doc.invoice_number is not None and doc.invoice_number not in invoice_refs:
            out.append(_broken(doc, "invoice_number", K.INVOICE, doc.invoice_number, gone))
    return out


def _check_duplicates(case: TradeCase) -> list[FieldDifference]:
    counts: dict[tuple[DocumentKind, str], int] = defaultdict(lambda: 1)
    for doc in case.duplicates:
        counts[(doc.kind, doc.number)] += 1
    out = []
    for (kind, number), count in sorted(counts.items()):
        key = f"{kind.value}/{case.seller_uscc}/{number}"
        message = (
            f"{count} {_NOUNS[kind][1]} are numbered {number} with different content; "
            "only one of them is matched"
        )
        out.append(_diff(DifferenceKind.MISMATCH, "number", "1", str(count), (key,), message))
    return out


def _other_currency(doc: TradeDocument, reference: TradeDocument) -> list[FieldDifference]:
    if doc.currency == reference.currency:
        return []
    message = f"{_named([doc])} is in {doc.currency} but {_named([reference])} is in "
    message += reference.currency
    keys = _keys([doc], [reference])
    expected, actual = reference.currency, doc.currency
    return [_diff(DifferenceKind.MISMATCH, "currency", expected, actual, keys, message)]


def _check_currency(case: TradeCase) -> list[FieldDifference]:
    """Goods documents share the order's currency; payments and credit notes their invoice's.
    Amounts in another currency are left out of the comparisons, not converted."""
    reference = case.order or case.anchor
    heads = (case.contract,) if case.contract is not None else ()
    out: list[FieldDifference] = []
    for doc in heads + case.deliveries + case.receipts + case.invoices:
        out += _other_currency(doc, reference)
    for doc in case.credit_notes + case.payments:
        named = (i for i in case.invoices if doc.invoice_number in (i.number, i.invoice_number))
        if (invoice := next(named, None)) is not None:
            out += _other_currency(doc, invoice)
    return out


# --- quantities ----------------------------------------------------------------------------


def _quantity(docs: Iterable[TradeDocument], item: str) -> Decimal:
    return sum(
        (line.quantity for doc in docs for line in doc.lines if line.item == item), Decimal(0)
    )


def _carrying(docs: Iterable[TradeDocument], item: str) -> list[TradeDocument]:
    return [doc for doc in docs if any(line.item == item for line in doc.lines)]


def _within(actual: Decimal, expected: Decimal, rel: Decimal) -> bool:
    return abs(actual - expected) <= rel * abs(expected)


def _stage_gaps(case: TradeCase) -> list[FieldDifference]:
    """Steps that have not happened yet, whether or not the documents carry lines."""
    gap = DifferenceKind.OUTSTANDING
    out = []
    if case.order is None and case.anchor.kind is K.CONTRACT:
        message = f"{_named([case.anchor])} has no order yet"
        out.append(_diff(gap, "order_number", "an order", "none", _keys([case.anchor]), message))
    if case.order is not None and not case.deliveries:
        message = f"{_named([case.order])} has no delivery note yet"
        docs = _keys([case.order])
        out.append(_diff(gap, "delivery_number", "a delivery note", "none", docs, message))
    received = {gr.delivery_number for gr in case.receipts}
    for dn in case.deliveries:
        if dn.number not in received:
            message = f"{_named([dn])} has no receipt yet"
            out.append(_diff(gap, "goods_receipt", "a receipt", "none", _keys([dn]), message))
    if case.receipts and not case.invoices:
        message = f"{_named(case.receipts)} {_verb('have', case.receipts)} no invoice yet"
        docs = _keys(case.receipts)
        out.append(_diff(gap, "invoice", "an invoice", "none", docs, message))
    return out


def _not_on_order(case: TradeCase, order: TradeDocument, item: str) -> list[FieldDifference]:
    listed = ", ".join(sorted({line.item for line in order.lines})) or "no items"
    out = []
    for docs, verb in (
        (_carrying(case.deliveries, item), "ship"),
        (_carrying(case.receipts, item), "record"),
        (_carrying(case.invoices, item), "bill"),
    ):
        if docs:
            message = (
                f"{_named(docs)} {_verb(verb, docs)} {_qty(_quantity(docs, item))} units of "
                f"{item}, which {_named([order])} does not list"
            )
            keys = _keys(docs, [order])
            out.append(_diff(DifferenceKind.MISMATCH, "item", listed, item, keys, message))
    return out


def _order_vs_deliveries(case: TradeCase, item: str, cfg: MatchConfig) -> list[FieldDifference]:
    order = case.order
    if order is None:
        return []
    ordered = _quantity([order], item)
    if ordered == 0:
        return _not_on_order(case, order, item)
    if not case.deliveries:
        return []  # a stage gap says so once for every item
    dns = _carrying(case.deliveries, item)
    delivered = _quantity(dns, item)
    if _within(delivered, ordered, cfg.quantity_rel):
        return []
    expected, actual, keys = _qty(ordered), _qty(delivered), _keys(dns, [order])
    if delivered > ordered:
        message = (
            f"{_named(dns)} {_verb('ship', dns)} {actual} units of {item} but "
            f"{_named([order])} is for {expected} (tolerance {_pct(cfg.quantity_rel)})"
        )
        return [_diff(DifferenceKind.MISMATCH, "quantity", expected, actual, keys, message)]
    so_far = f"{_named(dns)} {_verb('ship', dns)} {actual} so far" if dns else ""
    so_far = so_far or "no delivery note ships any yet"
    message = f"{_named([order])} is for {expected} units of {item} but {so_far}"
    return [_diff(DifferenceKind.OUTSTANDING, "quantity", expected, actual, keys, message)]


def _deliveries_vs_receipts(case: TradeCase, item: str, cfg: MatchConfig) -> list[FieldDifference]:
    out = []
    for dn in case.deliveries:
        grs = [gr for gr in case.receipts if gr.delivery_number == dn.number]
        shipped, received = _quantity([dn], item), _quantity(grs, item)
        if not grs or _within(received, shipped, cfg.quantity_rel):
            continue
        expected, actual = _qty(shipped), _qty(received)
        message = (
            f"{_named(grs)} {_verb('record', grs)} {actual} units of {item} but "
            f"{_named([dn])} ships {expected} (tolerance {_pct(cfg.quantity_rel)})"
        )
        keys = _keys(grs, [dn])
        out.append(_diff(DifferenceKind.MISMATCH, "quantity", expected, actual, keys, message))
    return out


def _receipts_vs_invoices(case: TradeCase, item: str, cfg: MatchConfig) -> list[FieldDifference]:
    if case.order is None and not case.deliveries and not case.receipts:
        return []  # an invoice on its own: its broken link says what is wrong
    grs, invs = _carrying(case.receipts, item), _carrying(case.invoices, item)
    confirmed = {gr.delivery_number for gr in case.receipts}
    awaiting = [dn for dn in _carrying(case.deliveries, item) if dn.number not in confirmed]
    received, in_transit = _quantity(grs, item), _quantity(awaiting, item)
    invoiced = _quantity(invs, item)
    expected = received + in_transit
    if invs and invoiced > expected and not _within(invoiced, expected, cfg.quantity_rel):
        found = f"{_named(grs)} {_verb('record', grs)} {_qty(received)}" if grs else ""
        found = found or "no receipt records any"
        if awaiting:
            found += f" and {_named(awaiting)} awaiting receipt {_verb('ship', awaiting)} "
            found += _qty(in_transit)
        message = (
            f"{_named(invs)} {_verb('bill', invs)} {_qty(invoiced)} units of {item} but "
            f"{found} (tolerance {_pct(cfg.quantity_rel)})"
        )
        keys = _keys(invs, grs, awaiting)
        return [
            _diff(
                DifferenceKind.MISMATCH, "quantity", _qty(expected), _qty(invoiced), keys, message
            )
        ]
    if case.invoices and received > invoiced and not _within(invoiced, received, cfg.quantity_rel):
        billed = f"{_named(invs)} {_verb('bill', invs)} {_qty(invoiced)} so far" if invs else ""
        message = (
            f"{_named(grs)} {_verb('record', grs)} {_qty(received)} units of {item} but "
            f"{billed or 'no invoice bills any yet'}"
        )
        keys = _keys(grs, invs)
        return [
            _diff(
                DifferenceKind.OUTSTANDING,
                "quantity",
                _qty(received),
                _qty(invoiced),
                keys,
                message,
            )
        ]
    return []


def _check_quantities(case: TradeCase, cfg: MatchConfig) -> list[FieldDifference]:
    heads = (case.order,) if case.order is not None else ()
    legs = heads + case.deliveries + case.receipts + case.invoices
    out = _stage_gaps(case)
    for item in sorted({line.item for doc in legs for line in doc.lines}):
        out += _order_vs_deliveries(case, item, cfg)
        out += _deliveries_vs_receipts(case, item, cfg)
        out += _receipts_vs_invoices(case, item, cfg)
    return out


# --- prices and amounts --------------------------------------------------------------------


def _prices_vs(
    doc: TradeDocument, reference: TradeDocument, cfg: MatchConfig
) -> list[FieldDifference]:
    """Each unit price on ``doc`` against the reference's price(s) for the same item."""
    prices: dict[str, set[int]] = defaultdict(set)
    for line in reference.lines:
        prices[line.item].add(line.unit_price.amount_minor)
    out = []
    seen: set[tuple[str, int]] = set()
    for line in doc.lines:
        agreed = sorted(prices.get(line.item, ()))
        price = line.unit_price.amount_minor
        if not agreed or (line.item, price) in seen:
            continue
        seen.add((line.item, price))
        if any(_within(Decimal(price), Decimal(p), cfg.unit_price_rel) for p in agreed):
            continue
        expected = ", ".join(str(Money(p, reference.currency)) for p in agreed)
        message = (
            f"{_named([doc])} prices {line.item} at {line.unit_price} but {_named([reference])} "
            f"at {expected} (tolerance {_pct(cfg.unit_price_rel)})"
        )
        keys = _keys([doc], [reference])
        actual = str(line.unit_price)
        out.append(_diff(DifferenceKind.MISMATCH, "unit_price", expected, actual, keys, message))
    return out


def _order_vs_contract_total(
    order: TradeDocument, contract: TradeDocument, cfg: MatchConfig
) -> list[FieldDifference]:
    allowed = cfg.amount_tolerance_minor(contract.total.amount_minor)
    if order.total.amount_minor - contract.total.amount_minor <= allowed:
        return []
    tolerance = Money(allowed, contract.currency)
    message = (
        f"{_named([order])} totals {order.total} but {_named([contract])} only "
        f"{contract.total} (tolerance {tolerance})"
    )
    keys = _keys([order], [contract])
    expected, actual = str(contract.total), str(order.total)
    return [_diff(DifferenceKind.MISMATCH, "total", expected, actual, keys, message)]


def _item_amount(
    order: TradeDocument, invoices: Sequence[TradeDocument], item: str, cfg: MatchConfig
) -> list[FieldDifference]:
    """What the invoices bill for an item against their quantity at the order's price."""
    ordered = _quantity([order], item)
    billed = _carrying(invoices, item)
    if ordered == 0 or not billed:
        return []
    order_minor = sum(line.amount.amount_minor for line in order.lines if line.item == item)
    invoiced = _quantity(billed, item)
    amount = sum(
        line.amount.amount_minor for doc in billed for line in doc.lines if line.item == item
    )
    expected = int((invoiced * order_minor / ordered).quantize(Decimal(1), ROUND_HALF_UP))
    allowed = cfg.amount_tolerance_minor(expected)
    if abs(amount - expected) <= allowed:
        return []
    currency = order.currency
    message = (
        f"{_named(billed)} {_verb('bill', billed)} {Money(amount, currency)} for "
        f"{_qty(invoiced)} units of {item} but at {_named([order])}'s prices that comes to "
        f"{Money(expected, currency)} (tolerance {Money(allowed, currency)})"
    )
    expected_text, actual_text = str(Money(expected, currency)), str(Money(amount, currency))
    keys = _keys(billed, [order])
    return [_diff(DifferenceKind.MISMATCH, "amount", expected_text, actual_text, keys, message)]


def _check_prices_and_amounts(case: TradeCase, cfg: MatchConfig) -> list[FieldDifference]:
    order, contract = case.order, case.contract
    if order is None:
        return []
    out: list[FieldDifference] = []
    if contract is not None and contract.currency == order.currency:
        out += _prices_vs(order, contract, cfg)
        out += _order_vs_contract_total(order, contract, cfg)
    invoices = [inv for inv in case.invoices if inv.currency == order.currency]
    for inv in invoices:
        out += _prices_vs(inv, order, cfg)
    for item in sorted({line.item for inv in invoices for line in inv.lines}):
        out += _item_amount(order, invoices, item, cfg)
    return out


# --- payments ------------------------------------------------------------------------------


def _refers_to(doc: TradeDocument, invoice: TradeDocument) -> bool:
    return doc.currency == invoice.currency and doc.invoice_number in (
        invoice.number,
        invoice.invoice_number,
    )


def _invoice_payments(
    invoice: TradeDocument, case: TradeCase, cfg: MatchConfig
) -> list[FieldDifference]:
    credits = [cn for cn in case.credit_notes if _refers_to(cn, invoice)]
    payments = [p for p in case.payments if _refers_to(p, invoice)]
    currency = invoice.currency
    credited = sum(cn.total.amount_minor for cn in credits)
    paid = sum(p.total.amount_minor for p in payments)
    payable = invoice.total.amount_minor - credited
    out = []
    if credited > invoice.total.amount_minor:
        message = (
            f"{_named(credits)} {_verb('total', credits)} {Money(credited, currency)}, "
            f"more than {_named([invoice])} ({invoice.total})"
        )
        keys = _keys(credits, [invoice])
        credited_text = str(Money(credited, currency))
        out.append(
            _diff(
                DifferenceKind.MISMATCH, "total", str(invoice.total), credited_text, keys, message
            )
        )
    payable = max(payable, 0)  # credit beyond the invoice is reported above, not as owed
    allowed = cfg.amount_tolerance_minor(payable)
    after = f" after {_named(credits)}" if credits else ""
    expected, actual = str(Money(payable, currency)), str(Money(paid, currency))
    keys = _keys(payments, [invoice], credits)
    if paid - payable > allowed:
        message = (
            f"{_named(payments)} {_verb('total', payments)} {actual} but {_named([invoice])} "
            f"leaves {expected} payable{after} (tolerance {Money(allowed, currency)})"
        )
        out.append(_diff(DifferenceKind.MISMATCH, "payment", expected, actual, keys, message))
    elif cfg.payment_required and payable - paid > allowed:
        so_far = f"{_named(payments)} {_verb('pay', payments)} {actual} so far" if payments else ""
        message = (
            f"{_named([invoice])} leaves {expected} payable{after} but "
            f"{so_far or 'nothing is paid yet'}"
        )
        out.append(_diff(DifferenceKind.OUTSTANDING, "payment", expected, actual, keys, message))
    return out + _late_payments(invoice, payments, cfg)


def _late_payments(
    invoice: TradeDocument, payments: Sequence[TradeDocument], cfg: MatchConfig
) -> list[FieldDifference]:
    due = invoice.due_date
    if due is None:
        return []
    out = []
    for payment in payments:
        late = (payment.issue_date - due).days
        if late > cfg.payment_after_due_days:
            message = (
                f"{_named([payment])} of {payment.issue_date} is {_days(late)} after "
                f"{_named([invoice])} fell due on {due} "
                f"(tolerance {_days(cfg.payment_after_due_days)})"
            )
            keys = _keys([payment], [invoice])
            expected = f"by {due + timedelta(days=cfg.payment_after_due_days)}"
            out.append(
                _diff(
                    DifferenceKind.MISMATCH,
                    "issue_date",
                    expected,
                    str(payment.issue_date),
                    keys,
                    message,
                )
            )
    return out


def _check_payments(case: TradeCase, cfg: MatchConfig) -> list[FieldDifference]:
    out: list[FieldDifference] = []
    for invoice in case.invoices:
        out += _invoice_payments(invoice, case, cfg)
    return out


# --- dates ---------------------------------------------------------------------------------


def _precedes(
    doc: TradeDocument, reference: TradeDocument, allowed_days: int
) -> list[FieldDifference]:
    """``doc`` dated more than ``allowed_days`` before ``reference``."""
    early = (reference.issue_date - doc.issue_date).days
    if early <= allowed_days:
        return []
    message = (
        f"{_named([doc])} of {doc.issue_date} precedes {_named([reference])} of "
        f"{reference.issue_date} by {_days(early)} (tolerance {_days(allowed_days)})"
    )
    keys = _keys([doc], [reference])
    expected, actual = f"on or after {reference.issue_date}", str(doc.issue_date)
    return [_diff(DifferenceKind.MISMATCH, "issue_date", expected, actual, keys, message)]


def _follows(
    doc: TradeDocument, reference: TradeDocument, allowed_days: int
) -> list[FieldDifference]:
    """``doc`` dated more than ``allowed_days`` after ``reference``."""
    late = (doc.issue_date - reference.issue_date).days
    if late <= allowed_days:
        return []
    message = (
        f"{_named([doc])} of {doc.issue_date} follows {_named([reference])} of "
        f"{reference.issue_date} by {_days(late)} (tolerance {_days(allowed_days)})"
    )
    keys = _keys([doc], [reference])
    expected, actual = f"within {_days(allowed_days)}", str(doc.issue_date)
    return [_diff(DifferenceKind.MISMATCH, "issue_date", expected, actual, keys, message)]


def _check_dates(case: TradeCase, cfg: MatchConfig) -> list[FieldDifference]:
    out: list[FieldDifference] = []
    if case.order is not None:
        for dn in case.deliveries:
            out += _precedes(dn, case.order, cfg.delivery_before_order_days)
    deliveries = {dn.number: dn for dn in case.deliveries}
    for gr in case.receipts:
        if (confirmed := deliveries.get(gr.delivery_number or "")) is not None:
            out += _precedes(gr, confirmed, cfg.receipt_before_delivery_days)
    for inv in case.invoices:
        billed = [deliveries[inv.delivery_number]] if inv.delivery_number in deliveries else []
        billed = billed or list(case.deliveries)
        if billed:
            out += _precedes(inv, billed[0], cfg.invoice_before_delivery_days)
            out += _follows(inv, billed[-1], cfg.invoice_after_delivery_days)
    return out


# --- logistics -----------------------------------------------------------------------------


def _region_of(uscc: str, regions: Mapping[str, str]) -> str | None:
    """The enterprise's region code, else the registering authority's from its USCC."""
    code = regions.get(uscc) or uscc[2:8]
    return code if len(code) == 6 and code.isdigit() else None


def _province(code: str) -> str:
    try:
        return lookup(code[:2] + "0000").name
    except UnknownRegion:
        return f"province {code[:2]}"


def _waybill_places(
    wb: TradeDocument, seller_region: str | None, buyer_region: str | None
) -> list[FieldDifference]:
    out = []
    for field_name, place, party, verb, role in (
        ("origin_region", wb.origin_region, seller_region, "starts", "seller"),
        ("destination_region", wb.destination_region, buyer_region, "ends", "buyer"),
    ):
        if place is None or party is None or place[:2] == party[:2]:
            continue
        expected, actual = _province(party), _province(place)
        message = f"{_named([wb])} {verb} in {actual} but the {role} is in {expected}"
        keys = _keys([wb])
        out.append(_diff(DifferenceKind.MISMATCH, field_name, expected, actual, keys, message))
    return out


def _waybill_dates(wb: TradeDocument, case: TradeCase) -> list[FieldDifference]:
    out = []
    order = case.order
    if wb.shipped_on is not None and order is not None and wb.shipped_on < order.issue_date:
        message = f"{_named([wb])} shipped on {wb.shipped_on}, before {_named([order])} of "
        message += str(order.issue_date)
        keys = _keys([wb], [order])
        expected = f"on or after {order.issue_date}"
        actual = str(wb.shipped_on)
        out.append(_diff(DifferenceKind.MISMATCH, "shipped_on", expected, actual, keys, message))
    receipts = [gr for gr in case.receipts if gr.delivery_number == wb.delivery_number]
    if wb.delivered_on is not None and receipts:
        first = min(receipts, key=_doc_order)
        if wb.delivered_on > first.issue_date:
            message = f"{_named([wb])} delivered on {wb.delivered_on}, after {_named([first])} "
            message += f"of {first.issue_date}"
            keys = _keys([wb], [first])
            expected = f"on or before {first.issue_date}"
            actual = str(wb.delivered_on)
            out.append(
                _diff(DifferenceKind.MISMATCH, "delivered_on", expected, actual, keys, message)
            )
    return out


def _waybill_transit(wb: TradeDocument, cfg: MatchConfig) -> list[FieldDifference]:
    origin, destination = wb.origin_region, wb.destination_region
    if wb.shipped_on is None or wb.delivered_on is None or not origin or not destination:
        return []
    days = (wb.delivered_on - wb.shipped_on).days
    same = origin[:2] == destination[:2]
    limit = cfg.transit_same_province_days if same else cfg.transit_other_province_days
    if days <= limit:
        return []
    route = (
        f"within {_province(origin)}"
        if same
        else f"from {_province(origin)} to {_province(destination)}"
    )
    message = f"{_named([wb])} took {_days(days)} {route} (tolerance {_days(limit)})"
    expected, actual = f"at most {_days(limit)}", _days(days)
    return [_diff(DifferenceKind.MISMATCH, "transit_days", expected, actual, _keys([wb]), message)]


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _waybill_tracking(wb: TradeDocument) -> list[FieldDifference]:
    out = []
    keys = _keys([wb])
    readable: list[tuple[int, str, datetime]] = []
    for n, event in enumerate(wb.tracking, start=1):
        moment = _parse_time(event.at)
        if moment is None:
            message = f"{_named([wb])} tracking event {n} has no time with a zone: {event.at!r}"
            expected = "ISO 8601 timestamp with a zone"
            out.append(
                _diff(DifferenceKind.MISMATCH, "tracking", expected, event.at, keys, message)
            )
        else:
            readable.append((n, event.at, moment))
    for (n1, at1, t1), (n2, at2, t2) in pairwise(readable):
        if t2 < t1:
            message = (
                f"{_named([wb])} tracking event {n2} at {at2} is earlier than event {n1} at {at1}"
            )
            out.append(
                _diff(DifferenceKind.MISMATCH, "tracking", f"after {at1}", at2, keys, message)
            )
    destination = wb.destination_region
    if wb.tracking and destination and wb.tracking[-1].region_code[:2] != destination[:2]:
        expected, actual = _province(destination), _province(wb.tracking[-1].region_code)
        message = f"{_named([wb])} tracking ends in {actual}, not in its destination {expected}"
        out.append(_diff(DifferenceKind.MISMATCH, "tracking", expected, actual, keys, message))
    return out


def check_logistics(
    case: TradeCase,
    regions: Mapping[str, str] | None = None,
    config: MatchConfig = DEFAULT_CONFIG,
) -> list[FieldDifference]:
    """Whether each waybill fits the trade: origin in the seller's province and destination
    in the buyer's (``regions`` maps USCC → region code; an enterprise missing from it is
    placed by the region code in its USCC), shipped on or after the order, delivered on or
    before the first receipt, a transit time plausible for the distance, and tracking in
    time order ending in the destination province."""
    regions = regions or {}
    seller, buyer = _region_of(case.seller_uscc, regions), _region_of(case.buyer_uscc, regions)
    out: list[FieldDifference] = []
    for wb in case.waybills:
        out += _waybill_places(wb, seller, buyer)
        out += _waybill_dates(wb, case)
        out += _waybill_transit(wb, config)
        out += _waybill_tracking(wb)
    return out


# --- verdicts ------------------------------------------------------------------------------


def match_case(
    case: TradeCase,
    config: MatchConfig = DEFAULT_CONFIG,
    regions: Mapping[str, str] | None = None,
) -> CaseResult:
    """Match one case: links, duplicates, currencies, quantities, prices and amounts,
    payments, dates and logistics; the status is set by the most serious difference."""
    found = (
        _check_links(case)
        + _check_duplicates(case)
        + _check_currency(case)
        + _check_quantities(case, config)
        + _check_prices_and_amounts(case, config)
        + _check_payments(case, config)
        + _check_dates(case, config)
        + check_logistics(case, regions, config)
    )
    differences = tuple(sorted(found, key=lambda d: PRECEDENCE.index(d.kind)))
    status = STATUS_OF[differences[0].kind] if differences else CaseStatus.MATCHED
    legs = (case.order, case.deliveries, case.receipts, case.invoices)
    return CaseResult(
        case_key=case.key,
        seller_uscc=case.seller_uscc,
        buyer_uscc=case.buyer_uscc,
        status=status,
        ways=sum(1 for leg in legs if leg),
        differences=differences,
        documents=_keys(case.documents),
    )


def match_all(
    documents: Iterable[TradeDocument],
    regions: Mapping[str, str] | None = None,
    config: MatchConfig = DEFAULT_CONFIG,
) -> list[CaseResult]:
    """Build the cases of ``documents`` and match each, in case order."""
    return [match_case(case, config, regions) for case in build_cases(documents)]
