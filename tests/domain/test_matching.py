"""Trade cases and three/four-way matching: how documents link into cases, the status of a
case with the exact message of every difference, tolerance edges, logistics plausibility, and
properties (input order never matters; splitting a delivery keeps a matched case matched)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.domain.anomalies import document_key
from chainfin.domain.documents import DocumentKind, DocumentLine, TrackingEvent, TradeDocument
from chainfin.domain.matching import (
    DEFAULT_CONFIG,
    CaseResult,
    CaseStatus,
    DifferenceKind,
    FieldDifference,
    MatchConfig,
    MatchConfigError,
    TradeCase,
    build_cases,
    check_logistics,
    match_all,
    match_case,
)
from chainfin.domain.money import Money
from chainfin.domain.uscc import make_uscc
from propbudget import budget

K = DocumentKind
Docs = list[TradeDocument]


def uscc(n: int) -> str:
    return make_uscc("9", "1", "320505", f"{n:08d}")


SELLER, BUYER, CARRIER, OTHER = uscc(1), uscc(2), uscc(3), uscc(4)
# The seller is in 苏州 (江苏省), the buyer in 深圳 (广东省).
REGIONS = {SELLER: "320505", BUYER: "440305"}
START = date(2026, 3, 2)
OFFICIAL = "26320000000000000001"  # INV-1's official invoice number


def day(n: int) -> date:
    return START + timedelta(days=n)


def line(qty: str = "100", price: str = "10.00", item: str = "电芯") -> DocumentLine:
    quantity, unit_price = Decimal(qty), Money.parse(price)
    amount = Money.from_decimal(quantity * unit_price.to_decimal())
    return DocumentLine(item, quantity, "个", unit_price, amount)


def doc(
    kind: DocumentKind,
    number: str,
    on: int,
    *lines: DocumentLine,
    total: str | None = None,
    seller: str = SELLER,
    buyer: str = BUYER,
    **fields: object,
) -> TradeDocument:
    """A document dated ``on`` days after START; its total is the sum of its lines (plus 13 %
    VAT on an invoice) unless given."""
    net = sum(ln.amount.amount_minor for ln in lines)
    tax = (net * 13 + 50) // 100 if kind is K.INVOICE else None
    amount = Money.parse(total) if total is not None else Money(net + (tax or 0))
    return TradeDocument(
        kind=kind,
        number=number,
        seller_uscc=seller,
        buyer_uscc=buyer,
        issue_date=day(on),
        currency="CNY",
        total=amount,
        tax=Money(tax) if tax is not None else None,
        lines=lines,
        **fields,  # type: ignore[arg-type]
    )


def relined(d: TradeDocument, *lines: DocumentLine) -> TradeDocument:
    """The same document with other lines and the total that goes with them."""
    fields = {k: getattr(d, k) for k in ("order_number", "delivery_number", "invoice_number")}
    fields |= {"due_date": d.due_date, "contract_number": d.contract_number}
    return doc(d.kind, d.number, (d.issue_date - START).days, *lines, **fields)


def tracking(*events: tuple[int, int, str]) -> tuple[TrackingEvent, ...]:
    """(day, hour, region) → events with a +08:00 zone."""
    return tuple(
        TrackingEvent(f"{day(d).isoformat()}T{h:02d}:00:00+08:00", region, "in transit")
        for d, h, region in events
    )


def waybill(number: str, delivery: str, shipped: int, delivered: int | None) -> TradeDocument:
    return doc(
        K.WAYBILL,
        number,
        shipped,
        total="200.00",
        delivery_number=delivery,
        carrier_uscc=CARRIER,
        origin_region="320505",
        destination_region="440305",
        shipped_on=day(shipped),
        delivered_on=day(delivered) if delivered is not None else None,
        tracking=tracking((shipped, 9, "320505"), (delivered or shipped + 1, 15, "440305")),
    )


def chain(qty: str = "100", price: str = "10.00") -> Docs:
    """A complete, consistent trade: contract, order, one delivery with its receipt and
    waybill, an invoice (1,000.00 + 130.00 VAT) and its payment in full."""
    goods = line(qty, price)
    invoice = doc(
        K.INVOICE,
        "INV-1",
        6,
        goods,
        order_number="PO-1",
        delivery_number="DN-1",
        invoice_number=OFFICIAL,
        due_date=day(36),
    )
    return [
        doc(K.CONTRACT, "C-1", 0, goods),
        doc(K.PURCHASE_ORDER, "PO-1", 1, goods, contract_number="C-1"),
        doc(K.DELIVERY_NOTE, "DN-1", 3, goods, order_number="PO-1"),
        waybill("WB-1", "DN-1", 3, 5),
        doc(K.GOODS_RECEIPT, "GR-1", 5, goods, delivery_number="DN-1", order_number="PO-1"),
        invoice,
        doc(
            K.PAYMENT, "PAY-1", 30, total=invoice.total.to_decimal_string(), invoice_number=OFFICIAL
        ),
    ]


def drop(docs: Docs, *numbers: str) -> Docs:
    return [d for d in docs if d.number not in numbers]


def change(docs: Docs, number: str, **fields: object) -> Docs:
    return [replace(d, **fields) if d.number == number else d for d in docs]  # type: ignore[arg-type]


def reline(docs: Docs, number: str, *lines: DocumentLine) -> Docs:
    return [relined(d, *lines) if d.number == number else d for d in docs]


def only(docs: Docs, config: MatchConfig = DEFAULT_CONFIG) -> CaseResult:
    [result] = match_all(docs, REGIONS, config)
    return result


def verdict(docs: Docs, config: MatchConfig = DEFAULT_CONFIG) -> tuple[str, list[str]]:
    result = only(docs, config)
    return result.status.value, list(result.messages)


def case_of(results: Sequence[CaseResult], key_number: str) -> CaseResult:
    [result] = [r for r in results if r.case_key.endswith(f"/{key_number}")]
    return result


# --- linking documents into cases ----------------------------------------------------------


def test_a_full_chain_is_one_case_keyed_by_its_order() -> None:
    [case] = build_cases(chain())
    assert case.key == f"purchase_order/{SELLER}/PO-1"
    assert (case.seller_uscc, case.buyer_uscc) == (SELLER, BUYER)
    assert case.contract is not None
    assert case.contract.number == "C-1"
    assert case.order is case.anchor
    parts = (case.deliveries, case.receipts, case.invoices, case.payments, case.waybills)
    assert [[d.number for d in part] for part in parts] == [
        ["DN-1"],
        ["GR-1"],
        ["INV-1"],
        ["PAY-1"],
        ["WB-1"],
    ]
    assert case.credit_notes == case.warehouse_receipts == case.duplicates == ()


def test_partial_deliveries_several_invoices_and_their_payments_join_the_order() -> None:
    docs = [
        doc(K.PURCHASE_ORDER, "PO-1", 1, line("100")),
        doc(K.DELIVERY_NOTE, "DN-2", 4, line("40"), order_number="PO-1"),
        doc(K.DELIVERY_NOTE, "DN-1", 3, line("60"), order_number="PO-1"),
        doc(K.GOODS_RECEIPT, "GR-1", 5, line("60"), delivery_number="DN-1"),
        doc(K.GOODS_RECEIPT, "GR-2", 6, line("40"), delivery_number="DN-2"),
        # INV-1 names only its delivery note, INV-2 only the order.
        doc(K.INVOICE, "INV-1", 6, line("60"), delivery_number="DN-1", invoice_number="A1"),
        doc(K.INVOICE, "INV-2", 7, line("40"), order_number="PO-1", invoice_number="A2"),
        # A payment may name the official number or the document number of its invoice.
        doc(K.PAYMENT, "PAY-1", 20, total="678.00", invoice_number="A1"),
        doc(K.PAYMENT, "PAY-2", 21, total="452.00", invoice_number="INV-2"),
        doc(K.WAREHOUSE_RECEIPT, "WR-1", 6, warehouse_uscc=CARRIER, order_number="PO-1"),
    ]
    [case] = build_cases(docs)
    assert case.key.endswith("/PO-1")
    assert [d.number for d in case.documents] == [
        "PO-1",
        "DN-1",
        "DN-2",
        "GR-1",
        "GR-2",
        "INV-1",
        "INV-2",
        "PAY-1",
        "PAY-2",
        "WR-1",
    ]
    assert only(docs).status is CaseStatus.MATCHED


def test_documents_of_different_pairs_never_link_even_with_the_same_numbers() -> None:
    mine = chain()
    theirs = [replace(d, seller_uscc=OTHER) for d in chain()]
    cases = build_cases(theirs + mine)
    assert [(c.seller_uscc, c.key) for c in cases] == [
        (SELLER, f"purchase_order/{SELLER}/PO-1"),
        (OTHER, f"purchase_order/{OTHER}/PO-1"),
    ]
    assert all(len(c.documents) == len(mine) for c in cases)


def test_a_document_whose_chain_does_not_reach_an_order_anchors_its_own_case() -> None:
    docs = [
        doc(K.CONTRACT, "C-2", 0),
        doc(K.DELIVERY_NOTE, "DN-5", 3, line("10"), order_number="PO-5"),
        doc(K.GOODS_RECEIPT, "GR-5", 4, line("10"), delivery_number="DN-5"),
        doc(K.INVOICE, "INV-5", 5, line("10"), delivery_number="DN-5", invoice_number="A5"),
        doc(K.INVOICE, "INV-6", 5, line("10"), order_number="PO-6", invoice_number="A6"),
        doc(K.PAYMENT, "PAY-7", 9, total="1.00", invoice_number="A7"),
        doc(K.WAREHOUSE_RECEIPT, "WR-1", 6, warehouse_uscc=CARRIER, destination_region="440305"),
    ]
    cases = build_cases(docs)
    assert {
        c.key.split("/")[0] + "/" + c.anchor.number: [d.number for d in c.documents] for c in cases
    } == {
        "contract/C-2": ["C-2"],
        "delivery_note/DN-5": ["DN-5", "GR-5", "INV-5"],
        "invoice/INV-6": ["INV-6"],
        "payment/PAY-7": ["PAY-7"],
        "warehouse_receipt/WR-1": ["WR-1"],
    }


def test_a_delivery_note_whose_order_does_not_exist_carries_what_follows_it() -> None:
    docs = [
        doc(K.DELIVERY_NOTE, "DN-5", 3, line("10"), order_number="PO-5"),
        doc(K.GOODS_RECEIPT, "GR-5", 4, line("10"), delivery_number="DN-5"),
        doc(K.INVOICE, "INV-5", 5, line("10"), delivery_number="DN-5", invoice_number="A5"),
        doc(K.PAYMENT, "PAY-5", 9, total="113.00", invoice_number="A5"),
        doc(K.WAREHOUSE_RECEIPT, "WR-5", 6, warehouse_uscc=CARRIER, delivery_number="DN-6"),
    ]
    results = match_all(docs, REGIONS)
    assert [(r.case_key.rsplit("/", 1)[1], r.status.value, r.ways) for r in results] == [
        ("DN-5", "incomplete", 3),
        ("WR-5", "incomplete", 0),
    ]
    assert case_of(results, "DN-5").messages == (
        "delivery note DN-5 refers to order PO-5, which does not exist",
    )
    assert case_of(results, "WR-5").messages == (
        "warehouse receipt WR-5 refers to delivery note DN-6, which does not exist",
    )


def test_a_contract_is_shared_by_every_order_placed_under_it() -> None:
    docs = [
        doc(K.CONTRACT, "C-1", 0, line("300")),
        doc(K.PURCHASE_ORDER, "PO-1", 1, line("100"), contract_number="C-1"),
        doc(K.PURCHASE_ORDER, "PO-2", 2, line("200"), contract_number="C-1"),
    ]
    cases = build_cases(docs)
    assert [(c.anchor.number, c.contract.number if c.contract else None) for c in cases] == [
        ("PO-1", "C-1"),
        ("PO-2", "C-1"),
    ]


def test_a_document_given_twice_counts_once() -> None:
    docs = chain()
    assert build_cases(docs + docs[2:4]) == build_cases(docs)
    assert only(docs + docs[2:4]).status is CaseStatus.MATCHED


def test_a_number_reused_with_other_content_is_reported_and_left_out_of_the_match() -> None:
    docs = chain()
    first = next(d for d in docs if d.number == "GR-1")
    again = replace(first, issue_date=day(6), lines=(line("100", "10.00", "电池"),))
    [case] = build_cases([again, *docs])
    assert [d.number for d in case.receipts] == ["GR-1"]
    assert [d.number for d in case.duplicates] == ["GR-1"]
    assert verdict([*docs, again]) == (
        "mismatched",
        ["2 receipts are numbered GR-1 with different content; only one of them is matched"],
    )


# --- statuses, with the exact message of every difference ---------------------------------

Transform = Callable[[Docs], Docs]


def _two_receipts_and_an_overbilling_invoice(docs: Docs) -> Docs:
    return [
        doc(K.PURCHASE_ORDER, "PO-1", 1, line("100")),
        doc(K.DELIVERY_NOTE, "DN-1", 3, line("60"), order_number="PO-1"),
        doc(K.DELIVERY_NOTE, "DN-2", 3, line("40"), order_number="PO-1"),
        doc(K.GOODS_RECEIPT, "GR-7", 5, line("60"), delivery_number="DN-1"),
        doc(K.GOODS_RECEIPT, "GR-8", 5, line("40"), delivery_number="DN-2"),
        doc(K.INVOICE, "INV-3", 6, line("120"), order_number="PO-1", invoice_number="A3"),
        doc(K.PAYMENT, "PAY-3", 20, total="1356.00", invoice_number="A3"),
    ]


STATUS_TABLE: list[tuple[str, Transform, str, list[str]]] = [
    ("complete chain", lambda d: d, "matched", []),
    (
        "contract without an order",
        lambda d: d[:1],
        "partially_matched",
        ["contract C-1 has no order yet"],
    ),
    (
        "ordered, nothing delivered",
        lambda d: d[:2],
        "partially_matched",
        ["order PO-1 has no delivery note yet"],
    ),
    (
        "delivered, no receipt yet",
        lambda d: drop(d, "GR-1", "INV-1", "PAY-1"),
        "partially_matched",
        ["delivery note DN-1 has no receipt yet"],
    ),
    (
        "received, not invoiced",
        lambda d: drop(d, "INV-1", "PAY-1"),
        "partially_matched",
        ["receipt GR-1 has no invoice yet"],
    ),
    (
        "invoiced, not paid",
        lambda d: drop(d, "PAY-1"),
        "partially_matched",
        ["invoice INV-1 leaves 1130.00 CNY payable but nothing is paid yet"],
    ),
    (
        "paid in part",
        lambda d: change(d, "PAY-1", total=Money(50000)),
        "partially_matched",
        ["invoice INV-1 leaves 1130.00 CNY payable but payment PAY-1 pays 500.00 CNY so far"],
    ),
    (
        "partial delivery",
        lambda d: reline(reline(drop(d, "INV-1", "PAY-1"), "DN-1", line("60")), "GR-1", line("60")),
        "partially_matched",
        [
            "receipt GR-1 has no invoice yet",
            "order PO-1 is for 100 units of 电芯 but delivery note DN-1 ships 60 so far",
        ],
    ),
    (
        "invoiced for less than received",
        lambda d: change(reline(d, "INV-1", line("60")), "PAY-1", total=Money(67800)),
        "partially_matched",
        ["receipt GR-1 records 100 units of 电芯 but invoice INV-1 bills 60 so far"],
    ),
    (
        "invoice bills more than the receipts record",
        _two_receipts_and_an_overbilling_invoice,
        "mismatched",
        ["invoice INV-3 bills 120 units of 电芯 but receipts GR-7, GR-8 record 100 (tolerance 0)"],
    ),
    (
        "over-delivery",
        lambda d: reline(d, "DN-1", line("120")),
        "mismatched",
        [
            "delivery note DN-1 ships 120 units of 电芯 but order PO-1 is for 100 (tolerance 0)",
            "receipt GR-1 records 100 units of 电芯 but delivery note DN-1 ships 120 (tolerance 0)",
        ],
    ),
    (
        "short receipt",
        lambda d: reline(d, "GR-1", line("90")),
        "mismatched",
        [
            "receipt GR-1 records 90 units of 电芯 but delivery note DN-1 ships 100 (tolerance 0)",
            "invoice INV-1 bills 100 units of 电芯 but receipt GR-1 records 90 (tolerance 0)",
        ],
    ),
    (
        "invoice price above the order's",
        lambda d: change(reline(d, "INV-1", line("100", "11.00")), "PAY-1", total=Money(124300)),
        "mismatched",
        [
            "invoice INV-1 prices 电芯 at 11.00 CNY but order PO-1 at 10.00 CNY (tolerance 0.5%)",
            "invoice INV-1 bills 1100.00 CNY for 100 units of 电芯 but at order PO-1's prices "
            "that comes to 1000.00 CNY (tolerance 5.00 CNY)",
        ],
    ),
    (
        "order price above the contract's",
        lambda d: reline(d, "C-1", line("100", "9.00")),
        "mismatched",
        [
            "order PO-1 prices 电芯 at 10.00 CNY but contract C-1 at 9.00 CNY (tolerance 0.5%)",
            "order PO-1 totals 1000.00 CNY but contract C-1 only 900.00 CNY (tolerance 4.50 CNY)",
        ],
    ),
    (
        "an item the order does not list",
        lambda d: reline(drop(d, "PAY-1"), "INV-1", line("100"), line("5", "2.00", "螺丝")),
        "mismatched",
        [
            "invoice INV-1 bills 5 units of 螺丝, which order PO-1 does not list",
            "invoice INV-1 bills 5 units of 螺丝 but no receipt records any (tolerance 0)",
            "invoice INV-1 leaves 1141.30 CNY payable but nothing is paid yet",
        ],
    ),
    (
        "an item ordered but not delivered",
        lambda d: reline(
            reline(d, "C-1", line("100"), line("50", "3.00", "外壳")),
            "PO-1",
            line("100"),
            line("50", "3.00", "外壳"),
        ),
        "partially_matched",
        ["order PO-1 is for 50 units of 外壳 but no delivery note ships any yet"],
    ),
    (
        "an item delivered that the order does not list",
        lambda d: reline(d, "DN-1", line("100"), line("5", "2.00", "螺丝")),
        "mismatched",
        [
            "delivery note DN-1 ships 5 units of 螺丝, which order PO-1 does not list",
            "receipt GR-1 records 0 units of 螺丝 but delivery note DN-1 ships 5 (tolerance 0)",
        ],
    ),
    (
        "overpaid",
        lambda d: change(d, "PAY-1", total=Money(120000)),
        "mismatched",
        [
            "payment PAY-1 totals 1200.00 CNY but invoice INV-1 leaves 1130.00 CNY payable "
            "(tolerance 5.65 CNY)"
        ],
    ),
    (
        "paid late",
        lambda d: change(d, "PAY-1", issue_date=day(36 + 31)),
        "mismatched",
        [
            "payment PAY-1 of 2026-05-08 is 31 days after invoice INV-1 fell due on 2026-04-07 "
            "(tolerance 30 days)"
        ],
    ),
    (
        "invoiced before delivery",
        lambda d: change(d, "INV-1", issue_date=day(2)),
        "mismatched",
        [
            "invoice INV-1 of 2026-03-04 precedes delivery note DN-1 of 2026-03-05 by 1 day "
            "(tolerance 0 days)"
        ],
    ),
    (
        "invoiced long after delivery",
        lambda d: change(d, "INV-1", issue_date=day(94)),
        "mismatched",
        [
            "invoice INV-1 of 2026-06-04 follows delivery note DN-1 of 2026-03-05 by 91 days "
            "(tolerance 90 days)"
        ],
    ),
    (
        "received before delivery",
        lambda d: change(d, "GR-1", issue_date=day(2)),
        "mismatched",
        [
            "receipt GR-1 of 2026-03-04 precedes delivery note DN-1 of 2026-03-05 by 1 day "
            "(tolerance 0 days)",
            "waybill WB-1 delivered on 2026-03-07, after receipt GR-1 of 2026-03-04",
        ],
    ),
    (
        "delivered before the order",
        lambda d: change(d, "DN-1", issue_date=day(0)),
        "mismatched",
        [
            "delivery note DN-1 of 2026-03-02 precedes order PO-1 of 2026-03-03 by 1 day "
            "(tolerance 0 days)"
        ],
    ),
    (
        "invoice in another currency",
        lambda d: change(change(d, "INV-1", currency="USD"), "PAY-1", currency="USD"),
        "mismatched",
        ["invoice INV-1 is in USD but order PO-1 is in CNY"],
    ),
    (
        "payment in another currency than its invoice",
        lambda d: change(d, "PAY-1", currency="USD"),
        "mismatched",
        [
            "payment PAY-1 is in USD but invoice INV-1 is in CNY",
            "invoice INV-1 leaves 1130.00 CNY payable but nothing is paid yet",
        ],
    ),
    (
        "invoice whose order does not exist",
        lambda d: [change(d, "INV-1", order_number="PO-9", delivery_number=None)[5]],
        "incomplete",
        [
            "invoice INV-1 refers to order PO-9, which does not exist",
            "invoice INV-1 leaves 1130.00 CNY payable but nothing is paid yet",
        ],
    ),
    (
        "order whose contract does not exist",
        lambda d: drop(d, "C-1"),
        "incomplete",
        ["order PO-1 refers to contract C-1, which does not exist"],
    ),
    (
        "receipt whose delivery note does not exist",
        lambda d: change(d, "GR-1", delivery_number="DN-9"),
        "incomplete",
        [
            "receipt GR-1 refers to delivery note DN-9, which does not exist",
            "delivery note DN-1 has no receipt yet",
        ],
    ),
    (
        "invoice naming another order's delivery note",
        lambda d: change(d, "INV-1", delivery_number="DN-9"),
        "incomplete",
        ["invoice INV-1 refers to delivery note DN-9, which is not part of order PO-1"],
    ),
    (
        "a broken chain outranks a mismatch",
        lambda d: reline(drop(d, "C-1"), "GR-1", line("90")),
        "incomplete",
        [
            "order PO-1 refers to contract C-1, which does not exist",
            "receipt GR-1 records 90 units of 电芯 but delivery note DN-1 ships 100 (tolerance 0)",
            "invoice INV-1 bills 100 units of 电芯 but receipt GR-1 records 90 (tolerance 0)",
        ],
    ),
    (
        "a mismatch outranks what is outstanding",
        lambda d: change(drop(d, "PAY-1"), "DN-1", issue_date=day(0)),
        "mismatched",
        [
            "delivery note DN-1 of 2026-03-02 precedes order PO-1 of 2026-03-03 by 1 day "
            "(tolerance 0 days)",
            "invoice INV-1 leaves 1130.00 CNY payable but nothing is paid yet",
        ],
    ),
]


@pytest.mark.parametrize(
    ("transform", "status", "messages"),
    [pytest.param(t, s, m, id=name) for name, t, s, m in STATUS_TABLE],
)
def test_status_and_messages(transform: Transform, status: str, messages: list[str]) -> None:
    assert verdict(transform(chain())) == (status, messages)


def test_a_difference_names_the_field_the_values_and_the_documents() -> None:
    result = only(_two_receipts_and_an_overbilling_invoice([]))
    key = f"{{}}/{SELLER}/{{}}".format
    assert result.differences == (
        FieldDifference(
            field="quantity",
            expected="100",
            actual="120",
            documents=(
                key("invoice", "INV-3"),
                key("goods_receipt", "GR-7"),
                key("goods_receipt", "GR-8"),
            ),
            message="invoice INV-3 bills 120 units of 电芯 but receipts GR-7, GR-8 record 100 "
            "(tolerance 0)",
            kind=DifferenceKind.MISMATCH,
        ),
    )
    assert result.ways == 4
    assert result.documents[0] == key("purchase_order", "PO-1")


def test_a_payment_for_an_unknown_invoice_is_a_case_of_its_own() -> None:
    stray = doc(K.PAYMENT, "PAY-9", 30, total="10.00", invoice_number="99990000000000000009")
    results = match_all([*chain(), stray], REGIONS)
    assert [(r.case_key.rsplit("/", 1)[1], r.status.value) for r in results] == [
        ("PAY-9", "incomplete"),
        ("PO-1", "matched"),
    ]
    assert case_of(results, "PAY-9").messages == (
        "payment PAY-9 refers to invoice 99990000000000000009, which does not exist",
    )


def test_evidence_that_names_nothing_is_incomplete() -> None:
    wr = doc(K.WAREHOUSE_RECEIPT, "WR-1", 6, warehouse_uscc=CARRIER, destination_region="440305")
    assert verdict([wr]) == (
        "incomplete",
        ["warehouse receipt WR-1 names neither an order nor a delivery note"],
    )


def test_a_case_built_in_code_without_its_references_is_incomplete() -> None:
    receipt = doc(K.GOODS_RECEIPT, "GR-1", 5, line("10"))
    case = TradeCase(document_key(receipt), SELLER, BUYER, receipt, receipts=(receipt,))
    assert match_case(case).messages == (
        "receipt GR-1 names no delivery note",
        "receipt GR-1 has no invoice yet",
    )


# --- tolerance edges: exactly at the tolerance matches, one unit beyond does not ---------

UNPAID_OK = MatchConfig(payment_required=False)


def _invoice_line(docs: Docs, *lines: DocumentLine) -> Docs:
    return reline(drop(docs, "PAY-1"), "INV-1", *lines)


def _amount_line(qty: str, price: str, amount: str) -> DocumentLine:
    return DocumentLine("电芯", Decimal(qty), "个", Money.parse(price), Money.parse(amount))


@pytest.mark.parametrize(
    ("docs", "config", "status"),
    [
        # Quantity, 2 %: 102 billed against 100 received is at the edge.
        (
            _invoice_line(chain(), line("102")),
            replace(UNPAID_OK, quantity_rel=Decimal("0.02")),
            "matched",
        ),
        (
            _invoice_line(chain(), line("102.001")),
            replace(UNPAID_OK, quantity_rel=Decimal("0.02")),
            "mismatched",
        ),
        (_invoice_line(chain(), line("100.001")), UNPAID_OK, "mismatched"),
        # Unit price, 0.5 % of 10.00 is 0.05 (and the amount moves by 5.00, its own tolerance).
        (_invoice_line(chain(), line("100", "10.05")), UNPAID_OK, "matched"),
        (_invoice_line(chain(), line("100", "10.06")), UNPAID_OK, "mismatched"),
        (_invoice_line(chain(), line("100", "9.95")), UNPAID_OK, "matched"),
        (_invoice_line(chain(), line("100", "9.94")), UNPAID_OK, "mismatched"),
        # Amount, small: 1 unit at 10.00; 1.00 absolute beats 0.5 % (0.05).
        (_invoice_line(chain("1"), _amount_line("1", "10.00", "11.00")), UNPAID_OK, "matched"),
        (_invoice_line(chain("1"), _amount_line("1", "10.00", "11.01")), UNPAID_OK, "mismatched"),
        (_invoice_line(chain("1"), _amount_line("1", "10.00", "9.00")), UNPAID_OK, "matched"),
        (_invoice_line(chain("1"), _amount_line("1", "10.00", "8.99")), UNPAID_OK, "mismatched"),
        # Amount, large: 1000 units at 10.00 = 10,000.00; 0.5 % (50.00) beats 1.00.
        (
            _invoice_line(chain("1000"), _amount_line("1000", "10.00", "10050.00")),
            UNPAID_OK,
            "matched",
        ),
        (
            _invoice_line(chain("1000"), _amount_line("1000", "10.00", "10050.01")),
            UNPAID_OK,
            "mismatched",
        ),
        # Payment of an invoice of 1,130.00: tolerance max(1.00, 5.65).
        (change(chain(), "PAY-1", total=Money(113565)), DEFAULT_CONFIG, "matched"),
        (change(chain(), "PAY-1", total=Money(113566)), DEFAULT_CONFIG, "mismatched"),
        (change(chain(), "PAY-1", total=Money(112435)), DEFAULT_CONFIG, "matched"),
        (change(chain(), "PAY-1", total=Money(112434)), DEFAULT_CONFIG, "partially_matched"),
        # Dates: an invoice on the delivery day, 90 days after, a payment 30 days late.
        (change(chain(), "INV-1", issue_date=day(3)), DEFAULT_CONFIG, "matched"),
        (change(chain(), "INV-1", issue_date=day(93)), DEFAULT_CONFIG, "matched"),
        (change(chain(), "INV-1", issue_date=day(94)), DEFAULT_CONFIG, "mismatched"),
        (
            change(chain(), "INV-1", issue_date=day(2)),
            MatchConfig(invoice_before_delivery_days=1),
            "matched",
        ),
        (change(chain(), "PAY-1", issue_date=day(66)), DEFAULT_CONFIG, "matched"),
        (change(chain(), "PAY-1", issue_date=day(67)), DEFAULT_CONFIG, "mismatched"),
    ],
)
def test_tolerance_edges(docs: Docs, config: MatchConfig, status: str) -> None:
    assert only(docs, config).status.value == status


def test_the_amount_tolerance_is_the_larger_of_its_absolute_and_relative_parts() -> None:
    assert DEFAULT_CONFIG.amount_tolerance_minor(1_000) == 100
    assert DEFAULT_CONFIG.amount_tolerance_minor(20_000) == 100
    assert DEFAULT_CONFIG.amount_tolerance_minor(1_000_000) == 5_000
    assert DEFAULT_CONFIG.amount_tolerance_minor(1_000_199) == 5_000  # 5000.995 rounds down
    assert DEFAULT_CONFIG.amount_tolerance_minor(-1_000_000) == 5_000
    assert MatchConfig(amount_abs_minor=0).amount_tolerance_minor(1_000) == 5
    assert MatchConfig(amount_rel=Decimal(0)).amount_tolerance_minor(10**9) == 100


def test_the_defaults() -> None:
    assert (
        MatchConfig(
            quantity_rel=Decimal(0),
            unit_price_rel=Decimal("0.005"),
            amount_abs_minor=100,
            amount_rel=Decimal("0.005"),
            invoice_before_delivery_days=0,
            invoice_after_delivery_days=90,
            receipt_before_delivery_days=0,
            delivery_before_order_days=0,
            payment_after_due_days=30,
            transit_same_province_days=5,
            transit_other_province_days=10,
            payment_required=True,
        )
        == MatchConfig()
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity_rel": Decimal("-0.01")}, "quantity_rel must be a Decimal in [0, 1)"),
        ({"unit_price_rel": 0.005}, "unit_price_rel must be a Decimal in [0, 1)"),
        ({"amount_rel": Decimal("NaN")}, "amount_rel must be a Decimal in [0, 1)"),
        ({"amount_rel": Decimal(1)}, "amount_rel must be a Decimal in [0, 1)"),
        ({"amount_abs_minor": -1}, "amount_abs_minor must be a whole number ≥ 0"),
        ({"payment_after_due_days": 1.5}, "payment_after_due_days must be a whole number ≥ 0"),
        ({"transit_same_province_days": True}, "transit_same_province_days must be a whole"),
    ],
)
def test_a_config_out_of_range_is_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(MatchConfigError, match=reason.replace("[", r"\[").replace(")", r"\)")):
        MatchConfig(**changes)  # type: ignore[arg-type]


def test_without_payment_required_an_unpaid_invoice_leaves_the_case_matched() -> None:
    assert only(drop(chain(), "PAY-1"), UNPAID_OK).status is CaseStatus.MATCHED
    assert only(change(chain(), "PAY-1", total=Money(1)), UNPAID_OK).status is CaseStatus.MATCHED


# --- partial deliveries, several invoices, credit notes -----------------------------------


def split_trade(*parts: str, price: str = "10.00", per_delivery: bool = False) -> Docs:
    """Order PO-1 for the sum of ``parts``, delivered as DN-1, DN-2, … each with its receipt
    GR-n and waybill WB-n; one invoice INV-1 for the order, or INV-n per delivery; each paid."""
    total = str(sum(map(Decimal, parts)))
    docs = [doc(K.PURCHASE_ORDER, "PO-1", 1, line(total, price))]
    for n, qty in enumerate(parts, start=1):
        docs += [
            doc(K.DELIVERY_NOTE, f"DN-{n}", 2 + n, line(qty, price), order_number="PO-1"),
            waybill(f"WB-{n}", f"DN-{n}", 2 + n, 4 + n),
            doc(K.GOODS_RECEIPT, f"GR-{n}", 4 + n, line(qty, price), delivery_number=f"DN-{n}"),
        ]
    billed = list(enumerate(parts, start=1)) if per_delivery else [(1, total)]
    for n, qty in billed:
        invoice = doc(
            K.INVOICE,
            f"INV-{n}",
            6 + n,
            line(qty, price),
            order_number="PO-1",
            delivery_number=f"DN-{n}" if per_delivery else None,
            invoice_number=f"A{n}",
        )
        paid = invoice.total.to_decimal_string()
        docs += [invoice, doc(K.PAYMENT, f"PAY-{n}", 30, total=paid, invoice_number=f"A{n}")]
    return docs


def test_a_delivery_in_two_parts_with_one_invoice_matches() -> None:
    assert verdict(split_trade("60", "40")) == ("matched", [])


def test_a_second_part_not_yet_received_leaves_the_case_partially_matched() -> None:
    # The invoice may bill goods still on their way; the missing receipt is what is open.
    assert verdict(drop(split_trade("60", "40"), "GR-2")) == (
        "partially_matched",
        ["delivery note DN-2 has no receipt yet"],
    )


def test_billing_beyond_what_is_received_and_on_its_way_is_a_mismatch() -> None:
    docs = change(drop(split_trade("60", "40"), "GR-2", "PAY-1"), "INV-1", lines=(line("110"),))
    assert verdict(docs) == (
        "mismatched",
        [
            "invoice INV-1 bills 110 units of 电芯 but receipt GR-1 records 60 and delivery note "
            "DN-2 awaiting receipt ships 40 (tolerance 0)",
            "delivery note DN-2 has no receipt yet",
            "invoice INV-1 leaves 1130.00 CNY payable but nothing is paid yet",
        ],
    )


def test_one_invoice_per_delivery_matches_when_each_is_paid() -> None:
    assert verdict(split_trade("60", "40", per_delivery=True)) == ("matched", [])


def test_one_of_several_invoices_unpaid_leaves_the_case_partially_matched() -> None:
    assert verdict(drop(split_trade("60", "40", per_delivery=True), "PAY-2")) == (
        "partially_matched",
        ["invoice INV-2 leaves 452.00 CNY payable but nothing is paid yet"],
    )


def test_several_invoices_billing_more_than_received_name_them_all() -> None:
    docs = drop(split_trade("60", "40", per_delivery=True), "PAY-1", "PAY-2")
    docs = reline(docs, "INV-2", line("45"))
    assert verdict(docs, UNPAID_OK) == (
        "mismatched",
        [
            "invoices INV-1, INV-2 bill 105 units of 电芯 but receipts GR-1, GR-2 record 100 "
            "(tolerance 0)"
        ],
    )


def credit(number: str, amount: str, invoice: str = OFFICIAL) -> TradeDocument:
    return doc(K.CREDIT_NOTE, number, 20, total=amount, invoice_number=invoice)


def test_a_credit_note_reduces_what_is_payable() -> None:
    docs = change(chain(), "PAY-1", total=Money(100000))
    assert verdict(docs)[0] == "partially_matched"
    assert verdict([*docs, credit("CN-1", "130.00")]) == ("matched", [])
    # Credit notes may name the invoice by its document number too.
    assert verdict([*docs, credit("CN-1", "100.00", "INV-1"), credit("CN-2", "30.00")]) == (
        "matched",
        [],
    )


def test_paying_the_full_invoice_despite_a_credit_note_is_an_overpayment() -> None:
    assert verdict([*chain(), credit("CN-1", "130.00")]) == (
        "mismatched",
        [
            "payment PAY-1 totals 1130.00 CNY but invoice INV-1 leaves 1000.00 CNY payable "
            "after credit note CN-1 (tolerance 5.00 CNY)"
        ],
    )


def test_credit_notes_beyond_the_invoice_are_a_mismatch() -> None:
    docs = [*drop(chain(), "PAY-1"), credit("CN-1", "1000.00"), credit("CN-2", "200.00")]
    assert verdict(docs) == (
        "mismatched",
        ["credit notes CN-1, CN-2 total 1200.00 CNY, more than invoice INV-1 (1130.00 CNY)"],
    )


def test_a_part_payment_after_a_credit_note_says_what_is_left() -> None:
    docs = [*change(chain(), "PAY-1", total=Money(50000)), credit("CN-1", "130.00")]
    assert verdict(docs) == (
        "partially_matched",
        [
            "invoice INV-1 leaves 1000.00 CNY payable after credit note CN-1 but payment PAY-1 "
            "pays 500.00 CNY so far"
        ],
    )


# --- logistics ----------------------------------------------------------------------------

WB = "WB-1"
LOGISTICS_TABLE: list[tuple[str, Transform, list[str]]] = [
    ("plausible", lambda d: d, []),
    (
        "starts outside the seller's province",
        lambda d: change(d, WB, origin_region="330106"),
        ["waybill WB-1 starts in 浙江省 but the seller is in 江苏省"],
    ),
    (
        "ends outside the buyer's province",
        lambda d: change(d, WB, destination_region="110105", tracking=tracking((3, 9, "110105"))),
        ["waybill WB-1 ends in 北京市 but the buyer is in 广东省"],
    ),
    (
        "shipped before the order",
        lambda d: change(d, WB, shipped_on=day(0)),
        ["waybill WB-1 shipped on 2026-03-02, before order PO-1 of 2026-03-03"],
    ),
    (
        "delivered after the receipt",
        lambda d: change(d, WB, delivered_on=day(6)),
        ["waybill WB-1 delivered on 2026-03-08, after receipt GR-1 of 2026-03-07"],
    ),
    (
        "across China in 10 days, received on the day it arrives",
        lambda d: change(change(d, WB, delivered_on=day(13)), "GR-1", issue_date=day(13)),
        [],
    ),
    (
        "too slow between provinces",
        lambda d: change(change(d, WB, delivered_on=day(14)), "GR-1", issue_date=day(14)),
        ["waybill WB-1 took 11 days from 江苏省 to 广东省 (tolerance 10 days)"],
    ),
    (
        "tracking out of time order",
        lambda d: change(
            d, WB, tracking=tracking((3, 9, "320505"), (4, 9, "330106"), (3, 20, "440305"))
        ),
        [
            "waybill WB-1 tracking event 3 at 2026-03-05T20:00:00+08:00 is earlier than event 2 "
            "at 2026-03-06T09:00:00+08:00"
        ],
    ),
    (
        "tracking ending elsewhere",
        lambda d: change(d, WB, tracking=tracking((3, 9, "320505"), (4, 9, "330106"))),
        ["waybill WB-1 tracking ends in 浙江省, not in its destination 广东省"],
    ),
    (
        "tracking without a zone",
        lambda d: change(d, WB, tracking=(TrackingEvent("2026-03-05T09:00:00", "440305", "x"),)),
        [
            "waybill WB-1 tracking event 1 has no time with a zone: '2026-03-05T09:00:00'",
        ],
    ),
]


@pytest.mark.parametrize(
    ("transform", "messages"),
    [pytest.param(t, m, id=name) for name, t, m in LOGISTICS_TABLE],
)
def test_logistics_evidence(transform: Transform, messages: list[str]) -> None:
    result = only(transform(chain()))
    assert list(result.messages) == messages
    assert result.status.value == ("mismatched" if messages else "matched")


def test_a_waybill_for_a_delivery_note_that_does_not_exist_is_a_case_of_its_own() -> None:
    results = match_all(change(chain(), WB, delivery_number="DN-9"), REGIONS)
    assert [(r.case_key.rsplit("/", 1)[1], r.status.value) for r in results] == [
        ("PO-1", "matched"),
        ("WB-1", "incomplete"),
    ]
    assert case_of(results, "WB-1").messages == (
        "waybill WB-1 refers to delivery note DN-9, which does not exist",
    )


def test_transit_within_one_province_is_held_to_the_shorter_limit() -> None:
    regions = {SELLER: "320505", BUYER: "320100"}  # 苏州 → 南京
    local = change(
        chain(),
        WB,
        destination_region="320100",
        tracking=tracking((3, 9, "320505"), (4, 9, "320100")),
    )
    [case] = build_cases(local)
    assert check_logistics(case, regions) == []
    six_days = change(local, WB, shipped_on=day(-1), delivered_on=day(5))
    [case] = build_cases(six_days)
    assert [d.message for d in check_logistics(case, regions)] == [
        "waybill WB-1 shipped on 2026-03-01, before order PO-1 of 2026-03-03",
        "waybill WB-1 took 6 days within 江苏省 (tolerance 5 days)",
    ]
    assert check_logistics(case, regions, MatchConfig(transit_same_province_days=6))[1:] == []


def test_an_enterprise_without_a_region_is_placed_by_its_uscc() -> None:
    # Both USCCs were issued in 苏州, so without the mapping the buyer is taken to be there.
    [case] = build_cases(chain())
    [difference] = check_logistics(case, {})
    assert difference == FieldDifference(
        "destination_region",
        "江苏省",
        "广东省",
        (f"waybill/{SELLER}/WB-1",),
        "waybill WB-1 ends in 广东省 but the buyer is in 江苏省",
    )


# --- properties ---------------------------------------------------------------------------

PARTS = ("contract", "order", "delivery", "receipt", "invoice", "payment", "credit", "waybill")


@st.composite
def document_sets(draw: st.DrawFn) -> Docs:
    """A few trades over two pairs with parts missing, numbers that collide, quantities that
    disagree, and now and then a document given twice."""
    docs: Docs = []
    for t in range(draw(st.integers(1, 5))):
        seller = draw(st.sampled_from([SELLER, OTHER]))
        n = draw(st.integers(1, 3))
        qty = [str(draw(st.integers(1, 4)) * 10) for _ in range(3)]
        parts = draw(st.sets(st.sampled_from(PARTS)))
        on = draw(st.integers(0, 5))
        base = {"seller": seller}
        made = {
            "contract": doc(K.CONTRACT, f"C-{n}", on, line(qty[0]), **base),
            "order": doc(
                K.PURCHASE_ORDER, f"PO-{n}", on + 1, line(qty[0]), contract_number=f"C-{n}", **base
            ),
            "delivery": doc(
                K.DELIVERY_NOTE, f"DN-{t}", on + 2, line(qty[1]), order_number=f"PO-{n}", **base
            ),
            "receipt": doc(
                K.GOODS_RECEIPT, f"GR-{t}", on + 3, line(qty[1]), delivery_number=f"DN-{t}", **base
            ),
            "invoice": doc(
                K.INVOICE,
                f"INV-{t}",
                on + 4,
                line(qty[2]),
                order_number=f"PO-{n}",
                invoice_number=f"A{t}",
                due_date=day(40),
                **base,
            ),
            "payment": doc(
                K.PAYMENT, f"PAY-{t}", on + 20, total=f"{qty[2]}.00", invoice_number=f"A{t}", **base
            ),
            "credit": doc(
                K.CREDIT_NOTE, f"CN-{t}", on + 21, total="1.00", invoice_number=f"INV-{t}", **base
            ),
            "waybill": replace(waybill(f"WB-{t}", f"DN-{t}", on + 2, on + 3), seller_uscc=seller),
        }
        docs += [made[p] for p in PARTS if p in parts]
    given_twice = draw(st.booleans())
    if docs and given_twice:
        docs.append(draw(st.sampled_from(docs)))
    return docs


@settings(max_examples=budget(200), deadline=None)
@given(document_sets(), st.randoms(use_true_random=False))
def test_the_order_of_the_documents_never_changes_the_results(
    docs: Docs, rnd: random.Random
) -> None:
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    assert build_cases(shuffled) == build_cases(docs)
    assert match_all(shuffled, REGIONS) == match_all(docs, REGIONS)


@settings(max_examples=budget(200), deadline=None)
@given(document_sets())
def test_every_document_lands_in_exactly_one_case(docs: Docs) -> None:
    cases = build_cases(docs)
    # A contract is shared by the cases of its orders: count it once.
    placed = [d for c in cases for d in c.documents[c.contract is not None :]]
    placed += list({c.contract for c in cases if c.contract is not None})
    assert sorted(map(repr, placed)) == sorted(map(repr, set(docs)))


@st.composite
def splits(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    """A quantity with up to three decimals and a first part strictly inside it."""
    total_milli = draw(st.integers(2, 10**9))
    first_milli = draw(st.integers(1, total_milli - 1))
    return Decimal(total_milli).scaleb(-3), Decimal(first_milli).scaleb(-3)


@settings(max_examples=budget(200), deadline=None)
@given(splits(), st.integers(1, 10**6))
def test_splitting_a_delivery_keeps_a_matched_case_matched(
    split: tuple[Decimal, Decimal], price_minor: int
) -> None:
    (total, first), price = split, Money(price_minor).to_decimal_string()
    assert only(split_trade(f"{total:f}", price=price)).status is CaseStatus.MATCHED
    parts = (f"{first:f}", f"{total - first:f}")
    assert only(split_trade(*parts, price=price)).status is CaseStatus.MATCHED


# --- scale ----------------------------------------------------------------------------------


GENERATED_SELLERS = [uscc(100 + i) for i in range(10)]
GENERATED_BUYERS = [uscc(200 + i) for i in range(4)]
GENERATED_REGIONS = dict.fromkeys(GENERATED_SELLERS, "320505") | dict.fromkeys(
    GENERATED_BUYERS, "440305"
)


def generated(count: int, seed: int = 7) -> Docs:
    """``count`` documents of trades between 40 pairs, some partial, some mismatched."""
    rnd = random.Random(seed)
    sellers, buyers = GENERATED_SELLERS, GENERATED_BUYERS
    docs: Docs = []
    t = 0
    while len(docs) < count:
        t += 1
        who = {"seller": rnd.choice(sellers), "buyer": rnd.choice(buyers)}
        qty, on = rnd.randint(1, 500), rnd.randint(0, 300)
        billed = qty + (rnd.random() < 0.05)  # now and then an invoice bills one unit too many
        ordered = f"PO-{t}" if rnd.random() > 0.02 else f"PO-X{t}"  # or names no real order
        invoice = doc(
            K.INVOICE,
            f"INV-{t}",
            on + 5,
            line(str(billed)),
            order_number=ordered,
            invoice_number=f"A{t}",
            due_date=day(on + 65),
            **who,
        )
        trade = [
            doc(K.PURCHASE_ORDER, f"PO-{t}", on, line(str(qty)), **who),
            doc(K.DELIVERY_NOTE, f"DN-{t}", on + 2, line(str(qty)), order_number=f"PO-{t}", **who),
            replace(
                waybill(f"WB-{t}", f"DN-{t}", on + 2, on + 4),
                seller_uscc=who["seller"],
                buyer_uscc=who["buyer"],
            ),
            doc(
                K.GOODS_RECEIPT, f"GR-{t}", on + 4, line(str(qty)), delivery_number=f"DN-{t}", **who
            ),
            invoice,
            doc(
                K.PAYMENT,
                f"PAY-{t}",
                on + 40,
                total=invoice.total.to_decimal_string(),
                invoice_number=f"A{t}",
                **who,
            ),
        ]
        docs += trade[: rnd.choice((3, 4, 5, 6, 6, 6))]
    return docs[:count]


def test_match_all_on_20000_documents_prints_its_time(capsys: pytest.CaptureFixture[str]) -> None:
    docs = generated(20_000)
    started = time.perf_counter()
    results = match_all(docs, GENERATED_REGIONS)
    elapsed = time.perf_counter() - started
    statuses = {s.value: sum(r.status is s for r in results) for s in CaseStatus}
    with capsys.disabled():
        print(  # noqa: T201 - a figure for the reader, never an assertion
            f"\nmatch_all: {len(docs)} documents, {len(results)} cases in {elapsed:.2f} s "
            f"({len(docs) / elapsed:,.0f} documents/s); {statuses}"
        )
    assert sum(len(r.documents) for r in results) == len(docs)
