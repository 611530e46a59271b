"""Authenticity and fraud checks: for each check the case that fires (with its exact reason),
the near misses that must not, and determinism; then run_all and its order-independence."""

from __future__ import annotations

import random
import time
import zlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.domain.anomalies import AnomalyKind, Finding, Severity
from chainfin.domain.documents import DocumentKind, DocumentLine, TradeDocument
from chainfin.domain.fraud import (
    EnterpriseContacts,
    FraudConfig,
    FraudConfigError,
    amount_outliers,
    circular_trading,
    double_financing,
    duplicate_invoices,
    invoices_before_delivery,
    receipts_without_delivery,
    related_parties,
    run_all,
)
from chainfin.domain.money import Money
from chainfin.domain.uscc import make_uscc
from propbudget import budget

INVOICE = DocumentKind.INVOICE
DELIVERY_NOTE = DocumentKind.DELIVERY_NOTE
GOODS_RECEIPT = DocumentKind.GOODS_RECEIPT


def uscc(n: int) -> str:
    return make_uscc("9", "1", "320505", f"{n:08d}")


A, B, C, D, E, F = (uscc(n) for n in range(1, 7))
DAY = date(2026, 3, 1)


def on(days: int) -> date:
    return DAY + timedelta(days=days)


def doc(
    kind: DocumentKind,
    number: str,
    seller: str,
    buyer: str,
    days: int = 0,
    total_minor: int = 113_000,
    currency: str = "CNY",
    **extra: Any,
) -> TradeDocument:
    return TradeDocument(
        kind=kind,
        number=number,
        seller_uscc=seller,
        buyer_uscc=buyer,
        issue_date=on(days),
        currency=currency,
        total=Money(total_minor, currency),
        **extra,
    )


def invoice(
    number: str,
    seller: str,
    buyer: str,
    days: int = 0,
    total_minor: int = 113_000,
    **extra: Any,
) -> TradeDocument:
    """An invoice whose official number, unless given, is a 20-digit one derived from its
    document number (so distinct invoices have distinct official numbers)."""
    extra.setdefault("invoice_number", f"26{zlib.crc32(number.encode()):018d}")
    return doc(INVOICE, number, seller, buyer, days, total_minor, **extra)


def key(d: TradeDocument) -> str:
    return f"{d.kind.value}/{d.seller_uscc}/{d.number}"


def line(item: str, quantity: str, price_minor: int) -> DocumentLine:
    q = Decimal(quantity)
    return DocumentLine(item, q, "pcs", Money(price_minor), Money(int(q * price_minor)))


# ---------------------------------------------------------------------------------------------
# 1. Duplicate invoices


def test_one_invoice_number_on_two_documents_from_different_sellers() -> None:
    first = invoice("INV-1", A, B, 0, invoice_number="26320000000000000001")
    copy = invoice("X-77", C, B, 2, 99_000, invoice_number="26320000000000000001")
    assert duplicate_invoices([first, copy]) == [
        Finding(
            kind=AnomalyKind.DUPLICATE_INVOICE,
            documents=tuple(sorted((key(first), key(copy)))),
            enterprises=(A, B, C),
            reason=(
                "invoice number 26320000000000000001 is on 2 documents: "
                f"invoice INV-1 from {A} to {B} on 2026-03-01 for 1130.00 CNY and "
                f"invoice X-77 from {C} to {B} on 2026-03-03 for 990.00 CNY; "
                "an official invoice number is issued once"
            ),
            severity=Severity.HIGH,
        )
    ]


def test_invoice_number_is_compared_after_normalising_width_and_spaces() -> None:
    first = invoice("INV-1", A, B, invoice_number="26320000000000000001")
    typed = invoice("INV-2", A, B, 1, invoice_number="2632 0000 0000 0000 0001")
    (finding,) = duplicate_invoices([first, typed])
    assert finding.reason.startswith("invoice number 26320000000000000001 is on 2 documents")


def test_an_old_style_invoice_is_its_code_and_number() -> None:
    first = invoice("INV-1", A, B, invoice_code="3200154130", invoice_number="00000001")
    same = invoice("INV-2", A, C, 1, invoice_code="3200154130", invoice_number="00000001")
    other_code = invoice("INV-3", A, D, 2, invoice_code="3200154140", invoice_number="00000001")
    (finding,) = duplicate_invoices([first, same, other_code])
    assert finding.documents == tuple(sorted((key(first), key(same))))
    assert finding.reason.startswith("invoice code 3200154130 number 00000001 is on 2 documents")


def test_one_document_sent_twice_is_not_a_duplicate_invoice() -> None:
    first = invoice("INV-1", A, B, invoice_number="26320000000000000001")
    corrected = invoice("INV-1", A, B, 0, 113_100, invoice_number="26320000000000000001")
    assert duplicate_invoices([first, first]) == []
    assert duplicate_invoices([first, corrected]) == []


def test_same_content_under_another_invoice_number() -> None:
    lines = (line("steel coil", "2", 50_000),)
    first = invoice("INV-1", A, B, 0, 113_000, invoice_number="26320000000000000001", lines=lines)
    copy = invoice("INV-2", A, B, 0, 113_000, invoice_number="26320000000000000002", lines=lines)
    assert duplicate_invoices([copy, first]) == [
        Finding(
            kind=AnomalyKind.DUPLICATE_INVOICE,
            documents=(key(first), key(copy)),
            enterprises=(A, B),
            reason=(
                "invoice INV-1 of 2026-03-01 (invoice number 26320000000000000001) and invoice "
                "INV-2 of 2026-03-01 (invoice number 26320000000000000002) have the same seller "
                f"{A}, buyer {B}, total 1130.00 CNY and the same 1 line item under 2 different "
                "invoice numbers within 20 days"
            ),
            severity=Severity.MEDIUM,
        )
    ]


def test_same_content_compares_lines_as_a_multiset() -> None:
    one, two = line("steel coil", "2", 50_000), line("bolt", "100", 10)
    first = invoice("INV-1", A, B, lines=(one, two))
    copy = invoice("INV-2", A, B, lines=(two, one))
    assert len(duplicate_invoices([first, copy])) == 1


@pytest.mark.parametrize(
    ("what", "changes"),
    [
        ("issue date 21 days later", {"days": 21}),
        ("total one fen more", {"total_minor": 113_001}),
        ("another buyer", {"buyer": C}),
        ("another seller", {"seller": C}),
        ("one line quantity more", {"lines": (line("steel coil", "3", 50_000),)}),
    ],
)
def test_content_that_differs_in_one_field_is_not_a_duplicate(
    what: str, changes: dict[str, object]
) -> None:
    lines = (line("steel coil", "2", 50_000),)
    base: dict[str, object] = {"seller": A, "buyer": B, "days": 0, "total_minor": 113_000}
    first = invoice("INV-1", **base, lines=lines)  # type: ignore[arg-type]
    other = invoice("INV-2", **(base | {"lines": lines} | changes))  # type: ignore[arg-type]
    assert duplicate_invoices([first, other]) == [], what


# ---------------------------------------------------------------------------------------------
# 2. Double financing


def test_one_invoice_financed_at_two_banks() -> None:
    inv = invoice("INV-1", A, B, invoice_number="26320000000000000001")
    financings = [
        ("ICBC-SZ", "F-2", "26320000000000000001"),
        ("BOC-SZ", "L-9", key(inv)),
    ]
    assert double_financing([inv], financings) == [
        Finding(
            kind=AnomalyKind.DOUBLE_FINANCING,
            documents=(key(inv),),
            enterprises=(A, B),
            reason=(
                "invoice number 26320000000000000001 backs 2 financings across 2 banks: "
                "bank BOC-SZ financing L-9 and bank ICBC-SZ financing F-2; "
                f"invoice INV-1 from {A} to {B} for 1130.00 CNY; "
                "a receivable may be financed once"
            ),
            severity=Severity.HIGH,
        )
    ]


def test_two_financings_at_one_bank_and_a_receivable_outside_the_documents() -> None:
    financings = [
        ("ICBC-SZ", "F-1", "26320000000000000009"),
        ("ICBC-SZ", "F-2", "2632 0000 0000 0000 0009"),
    ]
    assert double_financing([], financings) == [
        Finding(
            kind=AnomalyKind.DOUBLE_FINANCING,
            documents=(),
            enterprises=(),
            reason=(
                "invoice number 26320000000000000009 backs 2 financings at the same bank: "
                "bank ICBC-SZ financing F-1 and bank ICBC-SZ financing F-2; "
                "no submitted document carries it; a receivable may be financed once"
            ),
            severity=Severity.HIGH,
        )
    ]


def test_a_non_invoice_receivable_by_document_key() -> None:
    receipt = doc(DocumentKind.WAREHOUSE_RECEIPT, "WR-1", A, B, warehouse_uscc=C)
    findings = double_financing([receipt], [("B1", "F1", key(receipt)), ("B2", "F2", key(receipt))])
    assert [f.reason.split(" backs")[0] for f in findings] == [
        f"warehouse receipt WR-1 from {A} to {B}"
    ]


def test_one_financing_listed_twice_or_two_invoices_financed_once_each_is_fine() -> None:
    one, two = invoice("INV-1", A, B), invoice("INV-2", A, B)
    assert double_financing([one, two], [("B1", "F1", key(one)), ("B1", "F1", key(one))]) == []
    assert double_financing([one, two], [("B1", "F1", key(one)), ("B1", "F2", key(two))]) == []


# ---------------------------------------------------------------------------------------------
# 3. Circular trading


def test_three_enterprises_trading_in_a_circle() -> None:
    ab = invoice("INV-1", A, B, 0, 10_000_000)
    bc = invoice("INV-2", B, C, 5, 10_500_000)
    ca = invoice("INV-3", C, A, 19, 9_500_000)
    assert circular_trading([ca, bc, ab]) == [
        Finding(
            kind=AnomalyKind.CIRCULAR_TRADING,
            documents=tuple(sorted(map(key, (ab, bc, ca)))),
            enterprises=(A, B, C),
            reason=(
                f"circular trading {A} → {B} → {C} → {A}: 3 invoices dated 2026-03-01 to "
                "2026-03-20 (19 days apart; window 30 days), every amount within 10% of its "
                f"cycle's median: invoice INV-1 {A} → {B} on 2026-03-01 for 100000.00 CNY, "
                f"invoice INV-2 {B} → {C} on 2026-03-06 for 105000.00 CNY and "
                f"invoice INV-3 {C} → {A} on 2026-03-20 for 95000.00 CNY"
            ),
            severity=Severity.HIGH,
        )
    ]


@pytest.mark.parametrize(
    ("last_minor", "fires"),
    [
        (11_000_000, True),  # exactly 10% above the median 100000.00
        (11_000_001, False),  # one fen more
        (9_000_000, True),  # exactly 10% below
        (8_999_999, False),
    ],
)
def test_amounts_must_each_be_within_the_tolerance_of_the_median(
    last_minor: int, fires: bool
) -> None:
    docs = [
        invoice("INV-1", A, B, 0, 10_000_000),
        invoice("INV-2", B, C, 1, 10_000_000),
        invoice("INV-3", C, A, 2, last_minor),
    ]
    assert bool(circular_trading(docs)) is fires


@pytest.mark.parametrize(("last_day", "fires"), [(30, True), (31, False)])
def test_the_cycle_must_close_inside_the_window(last_day: int, fires: bool) -> None:
    docs = [
        invoice("INV-1", A, B, 0, 10_000_000),
        invoice("INV-2", B, C, 10, 10_000_000),
        invoice("INV-3", C, A, last_day, 10_000_000),
    ]
    assert bool(circular_trading(docs)) is fires


def test_a_tighter_configuration_changes_the_verdict() -> None:
    docs = [
        invoice("INV-1", A, B, 0, 10_000_000),
        invoice("INV-2", B, A, 10, 10_500_000),
    ]
    assert len(circular_trading(docs)) == 1
    assert circular_trading(docs, FraudConfig(cycle_window_days=9)) == []
    assert circular_trading(docs, FraudConfig(cycle_amount_tolerance=Decimal("0.02"))) == []
    assert circular_trading(docs, FraudConfig(cycle_min_length=3)) == []


def ring(size: int, first_day: int = 0) -> list[TradeDocument]:
    people = [uscc(n) for n in range(1, size + 1)]
    return [
        invoice(f"R{size}-{i}", people[i], people[(i + 1) % size], first_day + i, 10_000_000)
        for i in range(size)
    ]


@pytest.mark.parametrize(("size", "fires"), [(2, True), (5, True), (6, False)])
def test_cycles_of_two_to_five_enterprises(size: int, fires: bool) -> None:
    assert bool(circular_trading(ring(size))) is fires


def test_six_enterprises_when_configured() -> None:
    assert len(circular_trading(ring(6), FraudConfig(cycle_max_length=6))) == 1


def test_an_open_chain_or_a_cycle_in_two_currencies_is_not_circular() -> None:
    chain = [invoice("INV-1", A, B, 0, 10_000_000), invoice("INV-2", B, C, 1, 10_000_000)]
    assert circular_trading(chain) == []
    mixed = [*chain, invoice("INV-3", C, A, 2, 10_000_000, currency="USD")]
    assert circular_trading(mixed) == []


def test_overlapping_cycles_over_the_same_enterprises_are_one_finding() -> None:
    docs = [
        invoice("INV-1", A, B, 0, 10_000_000),
        invoice("INV-2", A, B, 3, 10_100_000),
        invoice("INV-3", B, A, 5, 10_000_000),
        invoice("INV-4", A, B, 200, 10_000_000),  # months later: no partner inside the window
    ]
    (finding,) = circular_trading(docs)
    assert "2 overlapping cycles over 3 invoices dated 2026-03-01 to 2026-03-06" in finding.reason
    assert len(finding.documents) == 3


def test_a_cycle_is_reported_once_whichever_invoice_comes_first() -> None:
    for shift in range(3):
        people = [A, B, C][shift:] + [A, B, C][:shift]
        docs = [
            invoice(f"INV-{i}", people[i], people[(i + 1) % 3], i, 10_000_000) for i in range(3)
        ]
        (finding,) = circular_trading(docs)
        assert finding.reason.startswith(f"circular trading {A} → {B} → {C} → {A}: 3 invoices")


# ---------------------------------------------------------------------------------------------
# 4. Related parties


def test_trading_partners_with_one_phone_number() -> None:
    inv = invoice("INV-1", A, B)
    note = doc(DELIVERY_NOTE, "DN-1", A, B, 1, order_number="PO-1")
    contacts = {
        A: EnterpriseContacts("王芳", "苏州市吴中区东吴北路1号", "+86 138-0000-0001"),
        B: EnterpriseContacts("李强", "苏州市工业园区星湖街2号", "１３８ ０００００００１"),
    }
    assert related_parties([note, inv], contacts) == [
        Finding(
            kind=AnomalyKind.RELATED_PARTY,
            documents=(key(note), key(inv)),
            enterprises=(A, B),
            reason=(
                f"{A} and {B} trade with each other and share a phone number in the registry: "
                "2 documents between them (delivery note DN-1 on 2026-03-02 and invoice INV-1 "
                "on 2026-03-01); treat as related-party trade"
            ),
            severity=Severity.MEDIUM,
        )
    ]
    assert "138" not in related_parties([inv], contacts)[0].reason


def test_a_landline_in_international_form_matches_its_domestic_form() -> None:
    contacts = {
        A: EnterpriseContacts(phone="0512-6666 8888"),
        B: EnterpriseContacts(phone="+86 512 66668888"),
    }
    assert len(related_parties([invoice("INV-1", A, B)], contacts)) == 1


def test_a_shared_name_alone_is_weak_and_two_shared_attributes_are_strong() -> None:
    trade = [invoice("INV-1", A, B), invoice("INV-2", B, C), invoice("INV-3", D, E)]
    contacts = {
        A: EnterpriseContacts("Zhang Wei", "1 Road"),
        B: EnterpriseContacts("zhangwei", "2 Road"),
        C: EnterpriseContacts("Li Lei", "苏州市工业园区 星湖街 2号"),
        D: EnterpriseContacts("赵六", "Room 1, No. 3 Road", "13800000003"),
        E: EnterpriseContacts("赵六", "ROOM 1,NO.3 ROAD", "138 0000 0003"),
    }
    findings = related_parties(trade, contacts)
    assert [(f.enterprises, f.severity) for f in findings] == [
        ((A, B), Severity.LOW),
        ((D, E), Severity.HIGH),
    ]
    assert "share a legal representative in the registry" in findings[0].reason
    assert (
        "share a legal representative, an address and a phone number in the registry"
        in findings[1].reason
    )
    assert all("赵六" not in f.reason and "Zhang" not in f.reason for f in findings)


def test_no_related_party_without_both_contacts_a_shared_value_or_a_trade() -> None:
    same = EnterpriseContacts("王芳", "", "13800000001")
    assert related_parties([invoice("INV-1", A, B)], {A: same}) == []
    blank = {A: EnterpriseContacts("", " ", None), B: EnterpriseContacts("", " ", None)}
    assert related_parties([invoice("INV-1", A, B)], blank) == []
    assert related_parties([invoice("INV-1", A, C)], {A: same, B: same}) == []


# ---------------------------------------------------------------------------------------------
# 5. Amount outliers

# Three earlier invoices of 1000.00 and three of 2000.00: the median log amount is that of
# 1414.21 and every log deviates by ln(2)/2 from it, so the MAD is ln(2)/2 and an invoice at
# 2^k times 1414.21 scores 0.6745 · 2k.
HISTORY = [100_000, 200_000, 100_000, 200_000, 100_000, 200_000]


def pair_history(seller: str = A, buyer: str = B) -> list[TradeDocument]:
    return [
        invoice(f"H-{seller[-3:]}-{i}", seller, buyer, i, amount)
        for i, amount in enumerate(HISTORY)
    ]


def test_an_invoice_far_above_the_pairs_history() -> None:
    big = invoice("INV-9", A, B, 10, 3_200_000)  # 2^4.5 · 1414.21: z = 0.6745 · 9 = 6.07
    assert amount_outliers([*pair_history(), big]) == [
        Finding(
            kind=AnomalyKind.AMOUNT_OUTLIER,
            documents=(key(big),),
            enterprises=(A, B),
            reason=(
                f"invoice INV-9 from {A} to {B} on 2026-03-11 for 32000.00 CNY is far above "
                "the pair's 6 earlier invoices (2026-03-01 to 2026-03-06, median 1500.00 CNY): "
                "robust z-score +6.07 on log amounts, threshold ±3.5"
            ),
            severity=Severity.MEDIUM,
        )
    ]


def test_an_invoice_far_below_the_pairs_history_only_when_asked() -> None:
    low = [*pair_history(), invoice("INV-9", A, B, 10, 6_250)]
    assert amount_outliers(low) == []  # by default only inflated invoices are flagged
    (finding,) = amount_outliers(low, FraudConfig(outlier_low=True))
    assert "for 62.50 CNY is far below" in finding.reason
    assert "robust z-score -6.07" in finding.reason


def test_a_copy_re_dated_within_the_window_is_a_duplicate() -> None:
    lines = (line("steel coil", "2", 50_000),)
    first = invoice("INV-1", A, B, 0, 113_000, invoice_number="26320000000000000001", lines=lines)
    copy = invoice("INV-2", A, B, 5, 113_000, invoice_number="26320000000000000002", lines=lines)
    (finding,) = duplicate_invoices([first, copy])
    assert "within 20 days" in finding.reason


@pytest.mark.parametrize(
    ("amount_minor", "fires"),
    [
        (850_000, False),  # ln(850000 / 141421) = 1.7935: z = 3.49
        (860_000, True),  # ln(860000 / 141421) = 1.8052: z = 3.51
    ],
)
def test_the_threshold_is_a_robust_z_score_of_3_5(amount_minor: int, fires: bool) -> None:
    findings = amount_outliers([*pair_history(), invoice("INV-9", A, B, 10, amount_minor)])
    assert bool(findings) is fires


def test_five_earlier_invoices_are_too_few() -> None:
    assert amount_outliers([*pair_history()[:5], invoice("INV-9", A, B, 10, 3_200_000)]) == []


def test_history_is_strictly_before_the_invoice_date() -> None:
    history = pair_history()
    same_day = invoice("INV-9", A, B, 5, 3_200_000)  # the sixth earlier invoice is that day
    assert amount_outliers([*history, same_day]) == []
    # Later invoices never change the verdict on an earlier one (no look-ahead).
    later = [invoice(f"L-{i}", A, B, 20 + i, 3_200_000) for i in range(20)]
    big = invoice("INV-9", A, B, 10, 3_200_000)
    assert amount_outliers([*history, big, *later])[0].documents == (key(big),)


def test_history_belongs_to_the_pair() -> None:
    other_buyer = pair_history(A, C)
    assert amount_outliers([*other_buyer, invoice("INV-9", A, B, 10, 3_200_000)]) == []


def test_a_perfectly_regular_pair_uses_the_mad_floor() -> None:
    regular = [invoice(f"H-{i}", A, B, i, 1_000_000) for i in range(6)]
    # Floor 0.3: z = 0.6745 · ln(x / 10000.00) / 0.3 crosses 3.5 at about 4.74 times.
    assert amount_outliers([*regular, invoice("INV-9", A, B, 10, 4_700_000)]) == []
    assert len(amount_outliers([*regular, invoice("INV-9", A, B, 10, 4_800_000)])) == 1
    assert amount_outliers([*regular, invoice("INV-9", A, B, 10, 1_000_001)]) == []
    # a seasonal peak at twice the usual sum is not an outlier
    assert amount_outliers([*regular, invoice("INV-9", A, B, 10, 2_000_000)]) == []


def test_the_threshold_and_history_are_configurable() -> None:
    near = [*pair_history(), invoice("INV-9", A, B, 10, 860_000)]  # z = 3.51
    assert len(amount_outliers(near)) == 1
    assert amount_outliers(near, FraudConfig(outlier_z_threshold=Decimal("4"))) == []
    short = [*pair_history()[:5], invoice("INV-9", A, B, 10, 3_200_000)]
    assert amount_outliers(short) == []
    assert len(amount_outliers(short, FraudConfig(outlier_min_history=5))) == 1


def test_only_the_most_recent_invoices_are_the_baseline() -> None:
    # Four early invoices of 32000.00, then the usual six: with all ten as the baseline the
    # median is 2000.00 and the MAD ln 2, so 32000.00 scores 0.6745 · 4 = 2.70.
    early = [invoice(f"E-{i}", A, B, i, 3_200_000) for i in range(4)]
    history = [invoice(f"H-{i}", A, B, 10 + i, amount) for i, amount in enumerate(HISTORY)]
    big = invoice("INV-9", A, B, 30, 3_200_000)

    def about_big(config: FraudConfig) -> list[Finding]:
        found = amount_outliers([*early, *history, big], config)
        return [f for f in found if f.documents == (key(big),)]

    assert about_big(FraudConfig()) == []
    (finding,) = about_big(FraudConfig(outlier_max_history=6))
    assert "the pair's 6 earlier invoices (2026-03-11 to 2026-03-16" in finding.reason


# ---------------------------------------------------------------------------------------------
# 6. Invoice before delivery


def test_an_invoice_dated_before_the_delivery_of_its_order() -> None:
    inv = invoice("INV-1", A, B, 0, order_number="PO-7")
    note = doc(DELIVERY_NOTE, "DN-1", A, B, 4, order_number="PO-7")
    assert invoices_before_delivery([note, inv]) == [
        Finding(
            kind=AnomalyKind.INVOICE_BEFORE_DELIVERY,
            documents=(key(note), key(inv)),
            enterprises=(A, B),
            reason=(
                f"invoice INV-1 from {A} to {B} for 1130.00 CNY is dated 2026-03-01, 4 days "
                "before delivery note DN-1 of 2026-03-05, the first evidence of order PO-7"
            ),
            severity=Severity.MEDIUM,
        )
    ]


def test_an_invoice_before_the_goods_receipt_of_its_delivery() -> None:
    inv = invoice("INV-1", A, B, 0, delivery_number="DN-1")
    receipt = doc(GOODS_RECEIPT, "GR-1", A, B, 1, delivery_number="DN-1")
    (finding,) = invoices_before_delivery([inv, receipt])
    assert finding.reason.endswith(
        "1 day before goods receipt GR-1 of 2026-03-02, the first evidence of delivery DN-1"
    )


def test_an_invoice_on_the_day_of_delivery_or_after_a_first_partial_one_is_fine() -> None:
    inv = invoice("INV-1", A, B, 3, order_number="PO-7")
    same_day = doc(DELIVERY_NOTE, "DN-1", A, B, 3, order_number="PO-7")
    assert invoices_before_delivery([inv, same_day]) == []
    first = doc(DELIVERY_NOTE, "DN-0", A, B, 1, order_number="PO-7")
    second = doc(DELIVERY_NOTE, "DN-2", A, B, 9, order_number="PO-7")
    assert invoices_before_delivery([inv, first, second]) == []


def test_deliveries_between_other_parties_are_not_evidence() -> None:
    inv = invoice("INV-1", A, B, 0, order_number="PO-7")
    elsewhere = doc(DELIVERY_NOTE, "DN-1", C, B, 4, order_number="PO-7")
    assert invoices_before_delivery([inv, elsewhere]) == []
    assert invoices_before_delivery([invoice("INV-2", A, B)]) == []


# ---------------------------------------------------------------------------------------------
# 7. Receipt without delivery


def test_a_receipt_whose_delivery_note_is_from_another_seller() -> None:
    receipt = doc(GOODS_RECEIPT, "GR-1", A, B, 2, delivery_number="DN-1")
    note = doc(DELIVERY_NOTE, "DN-1", C, B, 1, order_number="PO-1")
    assert receipts_without_delivery([receipt, note]) == [
        Finding(
            kind=AnomalyKind.RECEIPT_WITHOUT_DELIVERY,
            documents=(key(note), key(receipt)),
            enterprises=(A, B, C),
            reason=(
                f"goods receipt GR-1 from {A} to {B} on 2026-03-03 cites delivery note DN-1, "
                f"which exists only from {C} to {B}, not from {A} to {B}"
            ),
            severity=Severity.MEDIUM,
        )
    ]


def test_a_receipt_whose_delivery_note_was_never_submitted_or_is_not_named() -> None:
    missing = doc(GOODS_RECEIPT, "GR-1", A, B, 2, delivery_number="DN-404")
    unnamed = doc(GOODS_RECEIPT, "GR-2", A, B, 2)
    assert [f.reason for f in receipts_without_delivery([unnamed, missing])] == [
        f"goods receipt GR-1 from {A} to {B} on 2026-03-03 cites delivery note DN-404, "
        "which was never submitted",
        f"goods receipt GR-2 from {A} to {B} on 2026-03-03 names no delivery note",
    ]


def test_a_receipt_of_a_delivery_to_another_buyer_fires_and_a_matching_one_does_not() -> None:
    receipt = doc(GOODS_RECEIPT, "GR-1", A, B, 2, delivery_number="DN-1")
    to_other = doc(DELIVERY_NOTE, "DN-1", A, C, 1, order_number="PO-1")
    assert len(receipts_without_delivery([receipt, to_other])) == 1
    matching = doc(DELIVERY_NOTE, "DN-1", A, B, 1, order_number="PO-1")
    assert receipts_without_delivery([receipt, to_other, matching]) == []


# ---------------------------------------------------------------------------------------------
# Configuration, run_all and determinism


@pytest.mark.parametrize(
    "bad",
    [
        {"cycle_min_length": 1},
        {"cycle_min_length": 4, "cycle_max_length": 3},
        {"cycle_max_length": 7},
        {"cycle_amount_tolerance": Decimal("1")},
        {"cycle_amount_tolerance": Decimal("-0.1")},
        {"cycle_amount_tolerance": 0.1},
        {"cycle_window_days": -1},
        {"outlier_min_history": 0},
        {"outlier_min_history": 10, "outlier_max_history": 9},
        {"outlier_z_threshold": Decimal("NaN")},
        {"outlier_min_mad_log": Decimal("0")},
    ],
)
def test_a_bad_configuration_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(FraudConfigError):
        FraudConfig(**bad)  # type: ignore[arg-type]


def scenario() -> tuple[
    list[TradeDocument], dict[str, EnterpriseContacts], list[tuple[str, str, str]]
]:
    """One of everything."""
    docs = [
        invoice("INV-1", A, B, 0, 10_000_000, invoice_number="26320000000000000001"),
        invoice("INV-2", B, C, 3, 10_200_000, order_number="PO-1"),
        invoice("INV-3", C, A, 6, 9_900_000),
        invoice("DUP-1", D, E, 7, invoice_number="26320000000000000001"),
        doc(DELIVERY_NOTE, "DN-1", B, C, 5, order_number="PO-1"),
        doc(GOODS_RECEIPT, "GR-1", D, E, 8, delivery_number="DN-9"),
        *pair_history(E, F),
        invoice("INV-9", E, F, 10, 3_200_000),
    ]
    contacts = {
        D: EnterpriseContacts(phone="13800000001"),
        E: EnterpriseContacts(phone="13800000001"),
    }
    financings = [("B1", "F1", "26320000000000000001"), ("B2", "F2", "26320000000000000001")]
    return docs, contacts, financings


def test_run_all_reports_each_kind_in_order() -> None:
    docs, contacts, financings = scenario()
    findings = run_all(docs, contacts=contacts, financings=financings)
    assert [f.kind for f in findings] == list(AnomalyKind)
    assert run_all(list(reversed(docs)), contacts=contacts, financings=financings[::-1]) == findings


def test_findings_are_sorted_by_kind_then_documents() -> None:
    docs = [
        doc(GOODS_RECEIPT, "GR-2", A, B, delivery_number="DN-9"),
        doc(GOODS_RECEIPT, "GR-1", A, B, delivery_number="DN-9"),
        invoice("INV-1", A, B, invoice_number="26320000000000000001"),
        invoice("INV-2", A, C, invoice_number="26320000000000000001"),
    ]
    findings = run_all(docs)
    assert [(f.kind, f.documents[0]) for f in findings] == [
        (AnomalyKind.DUPLICATE_INVOICE, key(docs[2])),
        (AnomalyKind.RECEIPT_WITHOUT_DELIVERY, key(docs[1])),
        (AnomalyKind.RECEIPT_WITHOUT_DELIVERY, key(docs[0])),
    ]


# A → B dominates, so pairs build a history; B → C → A closes cycles; D sits on the side.
PAIRS = [(A, B), (A, B), (A, B), (B, C), (C, A), (A, C), (D, A), (B, D)]
CONTACTS = {
    A: EnterpriseContacts("王芳", None, "13800000001"),
    B: EnterpriseContacts("王芳", "苏州", None),
    C: EnterpriseContacts(None, "苏州", "13800000001"),
}
FINANCINGS = [
    ("B1", "F1", f"invoice/{A}/INV-1"),
    ("B2", "F2", "26000000000000000001"),
    ("B1", "F3", f"invoice/{B}/INV-2"),
    ("B3", "F4", "26000000000000000002"),
]


@st.composite
def documents(draw: st.DrawFn) -> TradeDocument:
    seller, buyer = draw(st.sampled_from(PAIRS))
    kind = draw(st.sampled_from([INVOICE, INVOICE, INVOICE, DELIVERY_NOTE, GOODS_RECEIPT]))
    extra: dict[str, Any] = {
        "order_number": draw(st.sampled_from([None, "PO-1", "PO-2"])),
        "delivery_number": draw(st.sampled_from([None, "DN-1", "DN-2"])),
    }
    if kind is INVOICE:
        extra["invoice_number"] = draw(
            st.sampled_from([f"2600000000000000000{n}" for n in range(4)])
        )
    return doc(
        kind,
        draw(st.sampled_from(["INV-1", "INV-2", "DN-1", "DN-2", "GR-1", "X"])),
        seller,
        buyer,
        draw(st.integers(0, 40)),
        draw(st.sampled_from([100_000, 105_000, 110_000, 200_000, 5_000_000, 150])),
        **extra,
    )


@settings(max_examples=budget(150), deadline=None)
@given(st.lists(documents(), max_size=30), st.randoms(use_true_random=False))
def test_shuffling_the_documents_never_changes_the_findings(
    docs: list[TradeDocument], rnd: random.Random
) -> None:
    config = FraudConfig(outlier_min_history=2)
    expected = run_all(docs, contacts=CONTACTS, financings=FINANCINGS, config=config)
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    assert run_all(shuffled, contacts=CONTACTS, financings=FINANCINGS, config=config) == expected
    assert expected == sorted(
        expected, key=lambda f: (list(AnomalyKind).index(f.kind), f.documents)
    )


# ---------------------------------------------------------------------------------------------
# Scale: a timing that is printed, never asserted


def synthetic_invoices(
    count: int, seed: int = 7
) -> tuple[list[TradeDocument], list[list[TradeDocument]]]:
    """Twenty chains (core, ten tier-1 and twenty tier-2 suppliers, ten dealers) trading for a
    year, a tenth of the invoices between random enterprises (so the seller → buyer graph has
    a large cycle-rich core), amounts log-uniform from 100 to 1,000,000 CNY; plus three
    planted rings among outsiders."""
    rng = random.Random(seed)
    people = [uscc(n) for n in range(1, 1001)]
    docs = []
    for k in range(count):
        if rng.random() < 0.1:
            seller, buyer = rng.sample(people, 2)
        else:
            base, tier = 41 * rng.randrange(20), rng.randrange(3)
            if tier == 0:
                seller, buyer = (
                    people[base + 11 + rng.randrange(20)],
                    people[base + 1 + rng.randrange(10)],
                )
            elif tier == 1:
                seller, buyer = people[base + 1 + rng.randrange(10)], people[base]
            else:
                seller, buyer = people[base], people[base + 31 + rng.randrange(10)]
        amount = int(10 ** rng.uniform(4, 8))
        docs.append(invoice(f"S-{k}", seller, buyer, rng.randrange(365), amount))
    outsiders = [uscc(n) for n in range(2001, 2013)]
    rings = []
    for r, size in enumerate((2, 3, 5)):
        members = outsiders[4 * r : 4 * r + size] if size < 5 else outsiders[7:12]
        rings.append(
            [
                invoice(
                    f"RING-{r}-{i}",
                    members[i],
                    members[(i + 1) % size],
                    100 + 3 * i,
                    77_700_000 + 1000 * i,
                )
                for i in range(size)
            ]
        )
    return docs + [d for ring_ in rings for d in ring_], rings


def test_fifty_thousand_invoices(capsys: pytest.CaptureFixture[str]) -> None:
    docs, rings = synthetic_invoices(50_000)
    started = time.perf_counter()
    cycles = circular_trading(docs)
    cycles_seconds = time.perf_counter() - started
    started = time.perf_counter()
    everything = run_all(docs)
    all_seconds = time.perf_counter() - started
    with capsys.disabled():
        print(  # noqa: T201
            f"\n{len(docs)} invoices: circular_trading {cycles_seconds:.2f} s "
            f"({len(cycles)} findings), run_all {all_seconds:.2f} s ({len(everything)} findings)"
        )
    found = {f.documents for f in cycles}
    for ring_ in rings:
        assert tuple(sorted(map(key, ring_))) in found
