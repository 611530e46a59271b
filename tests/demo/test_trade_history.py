"""A year of synthetic trade: documents that parse back and add up, dates in order, every
anomaly kind planted, a truth that simple reference detectors match exactly, and scoring."""

from __future__ import annotations

import doctest
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from chainfin.demo import trade_history
from chainfin.demo.synthetic import RegionKey, Scale, SyntheticRegion, generate, region_key_of
from chainfin.demo.trade_history import (
    PlantedAnomaly,
    Score,
    TradeHistory,
    as_findings,
    generate_history,
    read_truth,
    score,
    write_truth,
)
from chainfin.domain.anomalies import AnomalyKind, Finding, document_key
from chainfin.domain.documents import DocumentKind, TradeDocument, parse_document, to_row
from chainfin.domain.registry import EnterpriseRecord, Role

START = date(2025, 7, 1)
END = date(2026, 7, 1)  # the default 365 days
# Written out independently of the generator: the VAT rate by what the seller sells.
VAT_RATE = {Role.LOGISTICS: Decimal("0.09"), Role.WAREHOUSE: Decimal("0.06")}
GOODS_VAT_RATE = Decimal("0.13")
WITH_TAX = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE, DocumentKind.PURCHASE_ORDER)


@pytest.fixture(scope="module")
def region() -> SyntheticRegion:
    return generate([RegionKey.YRD], Scale.SMALL, 1)


@pytest.fixture(scope="module")
def history(region: SyntheticRegion) -> TradeHistory:
    return generate_history(region, seed=1)


@pytest.fixture(scope="module")
def firms(region: SyntheticRegion) -> dict[str, EnterpriseRecord]:
    return {e.uscc: e for e in region.enterprises}


@pytest.fixture(scope="module")
def planted(history: TradeHistory) -> set[str]:
    """Keys of the documents that carry a planted anomaly (related parties aside: their
    documents are ordinary trade)."""
    return {
        key for p in history.truth if p.kind is not AnomalyKind.RELATED_PARTY for key in p.documents
    }


def of_kind(history: TradeHistory, kind: DocumentKind) -> list[TradeDocument]:
    return [d for d in history.documents if d.kind is kind]


# ---------------------------------------------------------------------------------------
# Documents


def test_every_document_round_trips_through_parse_document(history: TradeHistory) -> None:
    failures = []
    for row_no, doc in enumerate(history.documents, start=1):
        row = to_row(doc)
        parsed = parse_document(json.loads(json.dumps(row)), row_no=row_no)
        if parsed != doc:
            failures.append((document_key(doc), parsed))
    assert failures == []


def test_to_row_leaves_out_empty_fields(history: TradeHistory) -> None:
    payment = of_kind(history, DocumentKind.PAYMENT)[0]
    row = to_row(payment)
    assert set(row) == {
        "kind",
        "schema_version",
        "number",
        "seller_uscc",
        "buyer_uscc",
        "issue_date",
        "currency",
        "total",
        "order_number",
        "invoice_number",
    }
    assert row["kind"] == "payment"
    assert row["total"] == payment.total.to_decimal_string()


def test_every_kind_of_trade_document_occurs(history: TradeHistory) -> None:
    kinds = Counter(d.kind for d in history.documents)
    assert set(kinds) == set(DocumentKind) - {DocumentKind.WAREHOUSE_RECEIPT}
    assert kinds[DocumentKind.INVOICE] > 1000
    assert len(history.financings) > 50


def test_line_amounts_and_totals_add_up_with_vat_rounded_half_up_once(
    history: TradeHistory, firms: dict[str, EnterpriseRecord]
) -> None:
    checked = 0
    for doc in history.documents:
        for line in doc.lines:
            assert line.quantity * line.unit_price.to_decimal() == line.amount.to_decimal()
        if doc.kind not in WITH_TAX:
            continue
        assert doc.tax is not None
        net = sum((line.amount.to_decimal() for line in doc.lines), Decimal(0))
        seller = firms[doc.seller_uscc]
        rate = next((r for role, r in VAT_RATE.items() if role in seller.roles), GOODS_VAT_RATE)
        expected_tax = (net * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert doc.tax.to_decimal() == expected_tax, document_key(doc)
        assert doc.total.to_decimal() == net + expected_tax, document_key(doc)
        checked += 1
    assert checked > 3000


def test_delivery_notes_and_receipts_carry_the_net_value_of_their_lines(
    history: TradeHistory,
) -> None:
    for doc in history.documents:
        if doc.kind in (DocumentKind.DELIVERY_NOTE, DocumentKind.GOODS_RECEIPT):
            assert doc.total.to_decimal() == sum(
                (line.amount.to_decimal() for line in doc.lines), Decimal(0)
            )
            assert doc.tax is None


def test_invoice_numbers_follow_the_digital_layout_and_are_unique(
    history: TradeHistory, firms: dict[str, EnterpriseRecord]
) -> None:
    resubmitted = {
        key for p in history.truth if p.kind is AnomalyKind.DUPLICATE_INVOICE for key in p.documents
    }
    numbers: Counter[str] = Counter()
    for doc in of_kind(history, DocumentKind.INVOICE):
        number = doc.invoice_number
        assert number is not None
        assert doc.invoice_type is not None
        assert doc.invoice_type.value == "digital_special"
        assert len(number) == 20
        assert number.isdigit()
        assert number[:2] == f"{doc.issue_date.year % 100:02d}"
        if document_key(doc) not in resubmitted:
            # The layout: year, the seller's province, a channel digit, a sequence.
            assert number[2:4] == firms[doc.seller_uscc].region_code[:2]
            numbers[number] += 1
    assert max(numbers.values()) == 1


def test_waybills_name_a_carrier_of_the_sellers_region_and_plausible_transit(
    history: TradeHistory, firms: dict[str, EnterpriseRecord]
) -> None:
    for waybill in of_kind(history, DocumentKind.WAYBILL):
        assert waybill.carrier_uscc is not None
        assert waybill.shipped_on is not None
        carrier, seller = firms[waybill.carrier_uscc], firms[waybill.seller_uscc]
        assert Role.LOGISTICS in carrier.roles
        assert region_key_of(carrier.region_code) == region_key_of(seller.region_code)
        assert waybill.origin_region == seller.region_code
        assert waybill.destination_region == firms[waybill.buyer_uscc].region_code
        if waybill.delivered_on is not None:
            assert 1 <= (waybill.delivered_on - waybill.shipped_on).days <= 5
            assert [t.status for t in waybill.tracking] == ["picked_up", "delivered"]


def test_every_relation_that_started_before_the_end_trades(
    history: TradeHistory, region: SyntheticRegion
) -> None:
    ordered = {(d.seller_uscc, d.buyer_uscc) for d in of_kind(history, DocumentKind.CONTRACT)}
    expected = {(r.seller_uscc, r.buyer_uscc) for r in region.relations if r.since < END}
    assert ordered == expected


# ---------------------------------------------------------------------------------------
# Time


def test_documents_lie_in_the_window(history: TradeHistory) -> None:
    assert all(START <= d.issue_date < END for d in history.documents)
    dates = [d.issue_date for d in history.documents]
    assert dates == sorted(dates)


def test_normal_documents_follow_each_other_in_time(
    history: TradeHistory, planted: set[str]
) -> None:
    normal = [d for d in history.documents if document_key(d) not in planted]
    orders = {d.number: d for d in normal if d.kind is DocumentKind.PURCHASE_ORDER}
    deliveries = {d.number: d for d in normal if d.kind is DocumentKind.DELIVERY_NOTE}
    receipts = {d.delivery_number: d for d in normal if d.kind is DocumentKind.GOODS_RECEIPT}
    invoiced_on: dict[str | None, date] = {}
    for d in history.documents:  # an early invoice is still paid after it is issued
        if d.kind is DocumentKind.INVOICE:
            invoiced_on.setdefault(d.invoice_number, d.issue_date)
    for d in normal:
        if d.kind is DocumentKind.DELIVERY_NOTE:
            assert d.issue_date >= orders[d.order_number or ""].issue_date
            assert d.shipped_on == d.issue_date
        elif d.kind is DocumentKind.WAYBILL:
            assert d.shipped_on == deliveries[d.delivery_number or ""].issue_date
        elif d.kind is DocumentKind.GOODS_RECEIPT:
            assert d.issue_date >= deliveries[d.delivery_number or ""].issue_date
            assert d.delivered_on == d.issue_date
        elif d.kind is DocumentKind.INVOICE and d.delivery_number is not None:
            assert d.issue_date >= receipts[d.delivery_number].issue_date
        elif d.kind is DocumentKind.INVOICE:  # a service: invoiced when the month is done
            assert d.issue_date > orders[d.order_number or ""].issue_date
        elif d.kind in (DocumentKind.PAYMENT, DocumentKind.CREDIT_NOTE):
            assert d.issue_date > invoiced_on[d.invoice_number]
        if d.kind is DocumentKind.INVOICE:
            assert d.due_date is not None
            assert d.due_date > d.issue_date


def test_payments_never_exceed_what_the_invoice_leaves_owing(history: TradeHistory) -> None:
    owed: dict[str | None, int] = {}
    for d in of_kind(history, DocumentKind.INVOICE):
        owed.setdefault(d.invoice_number, d.total.amount_minor)
    paid: Counter[str | None] = Counter()
    for d in history.documents:
        if d.kind in (DocumentKind.PAYMENT, DocumentKind.CREDIT_NOTE):
            paid[d.invoice_number] += d.total.amount_minor
    assert all(paid[number] <= owed[number] for number in paid)
    partial = Counter(d.invoice_number for d in of_kind(history, DocumentKind.PAYMENT))
    assert any(n == 2 for n in partial.values())


def test_a_core_pays_later_than_smaller_firms(
    history: TradeHistory, firms: dict[str, EnterpriseRecord]
) -> None:
    invoiced_on = {d.invoice_number: d.issue_date for d in of_kind(history, DocumentKind.INVOICE)}
    delays: dict[bool, list[int]] = defaultdict(list)
    for payment in of_kind(history, DocumentKind.PAYMENT):
        core = Role.CORE in firms[payment.buyer_uscc].roles
        delays[core].append((payment.issue_date - invoiced_on[payment.invoice_number]).days)
    assert statistics.mean(delays[True]) > statistics.mean(delays[False]) + 20


def test_orders_dip_at_chinese_new_year_and_peak_in_q4(history: TradeHistory) -> None:
    by_month: Counter[tuple[int, int]] = Counter()
    for order in of_kind(history, DocumentKind.PURCHASE_ORDER):
        by_month[(order.issue_date.year, order.issue_date.month)] += order.total.amount_minor
    summer = (by_month[(2025, 8)] + by_month[(2025, 9)]) / 2
    assert by_month[(2026, 2)] < summer / 2
    assert (by_month[(2025, 10)] + by_month[(2025, 11)] + by_month[(2025, 12)]) / 3 > summer


# ---------------------------------------------------------------------------------------
# Financings and planted anomalies


def test_financings_are_of_real_invoices_at_the_sellers_banks(
    history: TradeHistory, region: SyntheticRegion
) -> None:
    seller_of: dict[str | None, str] = {}
    for d in of_kind(history, DocumentKind.INVOICE):  # a resubmitted copy comes after
        seller_of.setdefault(d.invoice_number, d.seller_uscc)
    banks = set(region.customers)
    ids = [financing_id for _, financing_id, _ in history.financings]
    assert len(set(ids)) == len(ids)
    for bank, _, number in history.financings:
        assert (bank, seller_of[number]) in banks


def test_every_anomaly_kind_is_planted_a_few_times(history: TradeHistory) -> None:
    kinds = Counter(p.kind for p in history.truth)
    assert {kind: kinds[kind] >= 4 for kind in AnomalyKind} == dict.fromkeys(AnomalyKind, True)


def test_the_truth_names_documents_and_enterprises_that_exist(
    history: TradeHistory, firms: dict[str, EnterpriseRecord]
) -> None:
    keys = {document_key(d) for d in history.documents}
    assert len(keys) == len(history.documents)
    for p in history.truth:
        assert p.documents, p
        assert set(p.documents) <= keys, p
        assert p.enterprises, p
        assert set(p.enterprises) <= set(firms), p
        assert list(p.documents) == sorted(p.documents)
        assert list(p.enterprises) == sorted(p.enterprises)
        assert p.note


def test_no_document_carries_two_planted_anomalies(history: TradeHistory) -> None:
    carried = Counter(
        key for p in history.truth if p.kind is not AnomalyKind.RELATED_PARTY for key in p.documents
    )
    assert max(carried.values()) == 1


def test_related_parties_share_a_contact_only_where_planted(
    history: TradeHistory, region: SyntheticRegion
) -> None:
    contacts = {e.uscc: (e.legal_representative, e.address, e.phone) for e in region.enterprises}
    contacts.update(history.contact_overrides)
    related = {
        frozenset(p.enterprises) for p in history.truth if p.kind is AnomalyKind.RELATED_PARTY
    }
    for pair in related:
        a, b = sorted(pair)
        assert any(x is not None and x == y for x, y in zip(contacts[a], contacts[b], strict=True))
    assert set(history.contact_overrides) <= set(contacts)


# Reference detectors, as simple as the definitions: the truth must be exactly what they find.


def _finding(kind: AnomalyKind, docs: Iterable[TradeDocument]) -> Finding:
    docs = list(docs)
    keys = tuple(sorted(document_key(d) for d in docs))
    firms = tuple(sorted({d.seller_uscc for d in docs} | {d.buyer_uscc for d in docs}))
    return Finding(kind, keys, firms, "reference detector")


def _groups(
    docs: Sequence[TradeDocument], key: Callable[[TradeDocument], Hashable]
) -> list[list[TradeDocument]]:
    groups: dict[Hashable, list[TradeDocument]] = defaultdict(list)
    for d in docs:
        groups[key(d)].append(d)
    return [g for g in groups.values() if len(g) > 1]


def _circles(invoices: Sequence[TradeDocument]) -> list[Finding]:
    sales: dict[str, list[TradeDocument]] = defaultdict(list)
    by_pair: dict[tuple[str, str], list[TradeDocument]] = defaultdict(list)
    for d in invoices:
        sales[d.seller_uscc].append(d)
        by_pair[(d.seller_uscc, d.buyer_uscc)].append(d)
    found: dict[frozenset[str], Finding] = {}
    for x in invoices:
        a, b = x.seller_uscc, x.buyer_uscc
        for y in sales[b]:
            if y.buyer_uscc == a or abs((y.issue_date - x.issue_date).days) > 30:
                continue
            for z in by_pair.get((y.buyer_uscc, a), ()):
                dates = [x.issue_date, y.issue_date, z.issue_date]
                amounts = [x.total.amount_minor, y.total.amount_minor, z.total.amount_minor]
                if max(dates) - min(dates) <= timedelta(days=30) and (
                    max(amounts) * 10 <= min(amounts) * 11
                ):
                    f = _finding(AnomalyKind.CIRCULAR_TRADING, (x, y, z))
                    found[frozenset(f.documents)] = f
    return list(found.values())


def _outliers(invoices: Sequence[TradeDocument]) -> list[Finding]:
    by_pair: dict[tuple[str, str], list[TradeDocument]] = defaultdict(list)
    for d in invoices:
        by_pair[(d.seller_uscc, d.buyer_uscc)].append(d)
    out = []
    for group in by_pair.values():
        for d in group:
            earlier = [e.total.amount_minor for e in group if e.issue_date < d.issue_date]
            if len(earlier) >= 6 and d.total.amount_minor >= 20 * statistics.median(earlier):
                out.append(_finding(AnomalyKind.AMOUNT_OUTLIER, [d]))
    return out


def _related(history: TradeHistory, region: SyntheticRegion) -> list[Finding]:
    contacts = {e.uscc: (e.legal_representative, e.address, e.phone) for e in region.enterprises}
    contacts.update(history.contact_overrides)
    pairs = {frozenset((r.seller_uscc, r.buyer_uscc)) for r in region.relations}
    pairs |= {frozenset((d.seller_uscc, d.buyer_uscc)) for d in history.documents}
    out = []
    for pair in pairs:
        a, b = sorted(pair)
        if any(x is not None and x == y for x, y in zip(contacts[a], contacts[b], strict=True)):
            out.append(Finding(AnomalyKind.RELATED_PARTY, (), (a, b), "shared contact"))
    return out


def reference_findings(history: TradeHistory, region: SyntheticRegion) -> list[Finding]:
    docs = history.documents
    invoices = [d for d in docs if d.kind is DocumentKind.INVOICE]
    deliveries = {d.number: d for d in docs if d.kind is DocumentKind.DELIVERY_NOTE}
    out = [
        _finding(AnomalyKind.DUPLICATE_INVOICE, group)
        for group in _groups(invoices, lambda d: d.invoice_number)
        + _groups(invoices, lambda d: (d.seller_uscc, d.buyer_uscc, d.total))
    ]
    financed = Counter(number for _, _, number in history.financings)
    out += [
        _finding(AnomalyKind.DOUBLE_FINANCING, [d])
        for d in invoices
        if financed[d.invoice_number or ""] > 1
    ]
    out += _circles(invoices)
    out += _related(history, region)
    out += _outliers(invoices)
    out += [
        _finding(AnomalyKind.INVOICE_BEFORE_DELIVERY, [d])
        for d in invoices
        if d.delivery_number in deliveries
        and d.issue_date < deliveries[d.delivery_number].issue_date
    ]
    out += [
        _finding(AnomalyKind.RECEIPT_WITHOUT_DELIVERY, [d])
        for d in docs
        if d.kind is DocumentKind.GOODS_RECEIPT and d.delivery_number not in deliveries
    ]
    return out


def test_reference_detectors_find_exactly_the_planted_anomalies(
    history: TradeHistory, region: SyntheticRegion
) -> None:
    scores = score(reference_findings(history, region), history.truth)
    assert {k: (s.precision, s.recall) for k, s in scores.items()} == dict.fromkeys(
        AnomalyKind, (1.0, 1.0)
    )


def test_planted_outliers_are_far_above_the_pairs_earlier_invoices(
    history: TradeHistory,
) -> None:
    by_key = {document_key(d): d for d in history.documents}
    invoices = of_kind(history, DocumentKind.INVOICE)
    for p in history.truth:
        if p.kind is AnomalyKind.AMOUNT_OUTLIER:
            (outlier,) = (by_key[k] for k in p.documents)
            earlier = [
                d.total.amount_minor
                for d in invoices
                if (d.seller_uscc, d.buyer_uscc) == (outlier.seller_uscc, outlier.buyer_uscc)
                and d.issue_date < outlier.issue_date
            ]
            assert len(earlier) >= 6
            assert outlier.total.amount_minor >= 20 * statistics.median(earlier)


def test_planted_invoices_before_delivery_are_five_to_twenty_days_early(
    history: TradeHistory,
) -> None:
    by_key = {document_key(d): d for d in history.documents}
    deliveries = {d.number: d for d in of_kind(history, DocumentKind.DELIVERY_NOTE)}
    for p in history.truth:
        if p.kind is AnomalyKind.INVOICE_BEFORE_DELIVERY:
            (invoice,) = (by_key[k] for k in p.documents)
            shipped = deliveries[invoice.delivery_number or ""].issue_date
            assert 5 <= (shipped - invoice.issue_date).days <= 20


def test_planted_duplicates_come_in_both_flavours(history: TradeHistory) -> None:
    by_key = {document_key(d): d for d in history.documents}
    flavours: Counter[bool] = Counter()
    for p in history.truth:
        if p.kind is AnomalyKind.DUPLICATE_INVOICE:
            original, copy = (by_key[k] for k in p.documents)
            assert original.total == copy.total
            assert original.lines == copy.lines
            same_number = original.invoice_number == copy.invoice_number
            assert same_number == (original.seller_uscc != copy.seller_uscc)
            flavours[same_number] += 1
    assert flavours[True] >= 2
    assert flavours[False] >= 2


# ---------------------------------------------------------------------------------------
# Determinism


def test_same_seed_same_history(region: SyntheticRegion, history: TradeHistory) -> None:
    again = generate_history(region, seed=1)
    assert again.documents == history.documents
    assert again.truth == history.truth
    assert again.financings == history.financings
    assert dict(again.contact_overrides) == dict(history.contact_overrides)


def test_another_seed_another_history(region: SyntheticRegion, history: TradeHistory) -> None:
    other = generate_history(region, seed=2)
    assert other.documents != history.documents
    assert other.truth != history.truth


def test_a_too_short_window_or_bad_rate_is_refused(region: SyntheticRegion) -> None:
    with pytest.raises(ValueError, match="30 days"):
        generate_history(region, seed=1, days=20)
    with pytest.raises(ValueError, match="anomaly_rate"):
        generate_history(region, seed=1, anomaly_rate=1.5)


# ---------------------------------------------------------------------------------------
# Scoring and the truth file


def test_the_truth_scores_perfectly_against_itself(history: TradeHistory) -> None:
    scores = score(as_findings(history.truth), history.truth)
    assert set(scores) == set(AnomalyKind)
    for kind, s in scores.items():
        assert (s.precision, s.recall, s.false_positives, s.false_negatives) == (1, 1, 0, 0), kind
        assert s.true_positives == s.planted >= 4


def test_no_findings_recall_nothing(history: TradeHistory) -> None:
    scores = score([], history.truth)
    for s in scores.values():
        assert s.recall == 0.0
        assert s.precision == 0.0
        assert s.true_positives == s.false_positives == 0
        assert s.false_negatives == s.planted


def _p(kind: AnomalyKind, docs: tuple[str, ...], firms: tuple[str, ...]) -> PlantedAnomaly:
    return PlantedAnomaly(kind, docs, firms, "")


def _f(kind: AnomalyKind, docs: tuple[str, ...], firms: tuple[str, ...]) -> Finding:
    return Finding(kind, docs, firms, "")


def test_a_finding_matches_on_one_shared_document_of_the_same_kind() -> None:
    dup, circ = AnomalyKind.DUPLICATE_INVOICE, AnomalyKind.CIRCULAR_TRADING
    truth = [_p(dup, ("invoice/A/1", "invoice/A/2"), ("A", "B")), _p(dup, ("invoice/C/9",), ())]
    findings = [
        _f(dup, ("invoice/A/2", "invoice/X/5"), ("A",)),  # shares one key: a match
        _f(dup, ("invoice/A/1",), ()),  # the same anomaly again: also a true positive
        _f(dup, ("invoice/Z/1",), ()),  # matches nothing
        _f(circ, ("invoice/C/9",), ()),  # the right document, the wrong kind
    ]
    scores = score(findings, truth)
    assert scores[dup] == Score(true_positives=2, false_positives=1, false_negatives=1, planted=2)
    assert (scores[dup].precision, scores[dup].recall) == (2 / 3, 1 / 2)
    assert scores[circ] == Score(0, 1, 0, 0)
    assert (scores[circ].precision, scores[circ].recall) == (0.0, 1.0)
    empty = scores[AnomalyKind.AMOUNT_OUTLIER]
    assert (empty.precision, empty.recall) == (1.0, 1.0)


def test_a_related_party_finding_matches_on_the_same_pair() -> None:
    kind = AnomalyKind.RELATED_PARTY
    truth = [_p(kind, ("invoice/A/1",), ("A", "B"))]
    assert score([_f(kind, (), ("B", "A"))], truth)[kind] == Score(1, 0, 0, 1)
    assert score([_f(kind, ("invoice/A/1",), ("A", "C"))], truth)[kind] == Score(0, 1, 1, 1)
    assert score([_f(kind, (), ("A", "B", "C"))], truth)[kind] == Score(0, 1, 1, 1)


def test_truth_file_round_trip(history: TradeHistory, tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    write_truth(history.truth, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(history.truth)
    assert json.loads(lines[0])["kind"] == history.truth[0].kind.value
    assert read_truth(path) == history.truth


def test_module_doctest() -> None:
    assert doctest.testmod(trade_history).failed == 0
