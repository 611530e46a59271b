"""Point-in-time credit features per enterprise from its trade documents (chain data).

``features(documents, as_of)`` gives one row per enterprise from the documents dated on or
before ``as_of`` and from nothing else: a document dated later is skipped before it is read,
and of the dates a document carries only its issue date decides (a waybill issued before
``as_of`` can name a ``delivered_on`` after it; waybills are not read, and a receipt's
``delivered_on`` after ``as_of`` is ignored). So the rows are what a bank could have known on
``as_of``: no look-ahead.

Months are 30-day buckets counted back from ``as_of``: bucket 0 is the 30 days ending on
``as_of`` (inclusive), bucket 1 the 30 before, and so on. "The last 6 months" are buckets
0-5, "the last 12 months" buckets 0-11.

========================  =========================================================================
feature                   definition (as seller unless said; None where undefined)
========================  =========================================================================
tenure_months             days from its first document (any kind, either side) to ``as_of`` / 30
customers                 distinct buyers invoiced in the last 12 months
top_customer_share        the largest buyer's share of the invoiced total, last 12 months
core_share                the core enterprises' share of it (only when ``cores`` is given)
sales_hhi                 Herfindahl index of the invoiced total by buyer (1 = one customer)
sales_6m                  invoiced total in yuan, last 6 months (a size measure)
order_count_cv            coefficient of variation (population sd / mean) of the monthly count
                          of purchase orders received, last 6 months
order_amount_cv           the same for the monthly order amount
order_trend               order amount in months 0-2 / months 3-5 − 1
on_time_delivery          share of goods receipts (last 12 months) delivered on time: by the
                          order's ``due_date`` if it has one, else within ``promised_days`` of
                          the order date; receipts whose order is unknown are skipped
credit_note_ratio         credit notes issued / invoices issued, last 12 months
days_to_be_paid           mean days from its invoice to each payment of it received in the
                          last 12 months (payments matched by seller and invoice number)
days_to_pay               the same as buyer: mean days from the invoice to its payment
invoice_growth            invoiced total, months 0-5 / months 6-11 − 1
========================  =========================================================================

Not here, because the synthetic history has no such data and faking it would only teach a
model the faker's rules: IoT activity (device readings per enterprise) and financial
statement ratios. Add them as columns where a deployment has them.

Pure: no database, no clock; amounts are read from ``Money.amount_minor`` (fen).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from chainfin.domain.documents import DocumentKind, TradeDocument

MONTH_DAYS = 30
PROMISED_DAYS = 14

FEATURES: tuple[str, ...] = (
    "tenure_months",
    "customers",
    "top_customer_share",
    "core_share",
    "sales_hhi",
    "sales_6m",
    "order_count_cv",
    "order_amount_cv",
    "order_trend",
    "on_time_delivery",
    "credit_note_ratio",
    "days_to_be_paid",
    "days_to_pay",
    "invoice_growth",
)

Row = dict[str, object]


@dataclass
class _Firm:
    first: date
    sales_by_buyer: Counter[str] = field(default_factory=Counter)  # last 12 months, fen
    sales_by_month: list[int] = field(default_factory=lambda: [0] * 12)
    invoices: int = 0  # last 12 months
    credit_notes: int = 0  # last 12 months
    order_counts: list[int] = field(default_factory=lambda: [0] * 6)
    order_amounts: list[int] = field(default_factory=lambda: [0] * 6)
    receipts: int = 0
    on_time: int = 0
    paid_after: list[int] = field(default_factory=list)  # as seller
    paying_after: list[int] = field(default_factory=list)  # as buyer


def features(
    documents: Iterable[TradeDocument],
    as_of: date,
    *,
    cores: Collection[str] | None = None,
    enterprises: Sequence[str] | None = None,
    promised_days: int = PROMISED_DAYS,
) -> list[Row]:
    """One row per enterprise, ``{"uscc", "as_of", <features>}``, from the documents dated
    on or before ``as_of``; see the module docstring. ``enterprises``: these, in this order
    (a firm with no documents yet gets a row of Nones); else every firm that appears, by
    USCC. ``cores``: USCCs of core enterprises, for ``core_share`` (left out without it)."""
    docs = [d for d in documents if d.issue_date <= as_of]
    firms: dict[str, _Firm] = {}
    orders: dict[str, TradeDocument] = {}
    invoices: dict[tuple[str, str], TradeDocument] = {}
    for d in docs:
        for u in (d.seller_uscc, d.buyer_uscc):
            f = firms.get(u)
            if f is None:
                firms[u] = _Firm(d.issue_date)
            elif d.issue_date < f.first:
                f.first = d.issue_date
        if d.kind is DocumentKind.PURCHASE_ORDER:
            orders.setdefault(d.number, d)
        elif d.kind is DocumentKind.INVOICE and d.invoice_number is not None:
            invoices.setdefault((d.seller_uscc, d.invoice_number), d)
    for d in docs:
        month = (as_of - d.issue_date).days // MONTH_DAYS
        if month >= 12:
            continue
        seller, buyer = firms[d.seller_uscc], firms[d.buyer_uscc]
        amount = d.total.amount_minor
        if d.kind is DocumentKind.INVOICE:
            seller.invoices += 1
            seller.sales_by_buyer[d.buyer_uscc] += amount
            seller.sales_by_month[month] += amount
        elif d.kind is DocumentKind.CREDIT_NOTE:
            seller.credit_notes += 1
        elif d.kind is DocumentKind.PURCHASE_ORDER and month < 6:
            seller.order_counts[month] += 1
            seller.order_amounts[month] += amount
        elif d.kind is DocumentKind.GOODS_RECEIPT:
            _receipt(seller, d, orders, as_of, promised_days)
        elif d.kind is DocumentKind.PAYMENT and d.invoice_number is not None:
            invoice = invoices.get((d.seller_uscc, d.invoice_number))
            if invoice is not None:
                days = (d.issue_date - invoice.issue_date).days
                seller.paid_after.append(days)
                buyer.paying_after.append(days)
    core_set = frozenset(cores) if cores is not None else None
    wanted = list(enterprises) if enterprises is not None else sorted(firms)
    return [_row(u, firms.get(u), as_of, core_set) for u in wanted]


def _receipt(
    seller: _Firm,
    receipt: TradeDocument,
    orders: dict[str, TradeDocument],
    as_of: date,
    promised_days: int,
) -> None:
    order = orders.get(receipt.order_number or "")
    delivered = receipt.delivered_on or receipt.issue_date
    if order is None or delivered > as_of:
        return
    seller.receipts += 1
    if order.due_date is not None:
        seller.on_time += delivered <= order.due_date
    else:
        seller.on_time += (delivered - order.issue_date).days <= promised_days


def _row(uscc: str, f: _Firm | None, as_of: date, cores: frozenset[str] | None) -> Row:
    row: Row = {"uscc": uscc, "as_of": as_of.isoformat()}
    names = FEATURES if cores is not None else tuple(n for n in FEATURES if n != "core_share")
    row.update(dict.fromkeys(names))
    if f is None:
        return row
    row["tenure_months"] = (as_of - f.first).days / MONTH_DAYS
    sales = sum(f.sales_by_buyer.values())
    row["customers"] = len(f.sales_by_buyer)
    if sales > 0:
        shares = [v / sales for v in f.sales_by_buyer.values()]
        row["top_customer_share"] = max(shares)
        row["sales_hhi"] = sum(s * s for s in shares)
        if cores is not None:
            row["core_share"] = sum(v for b, v in f.sales_by_buyer.items() if b in cores) / sales
    row["sales_6m"] = sum(f.sales_by_month[:6]) / 100
    row["order_count_cv"] = _cv(f.order_counts)
    row["order_amount_cv"] = _cv(f.order_amounts)
    row["order_trend"] = _growth(sum(f.order_amounts[:3]), sum(f.order_amounts[3:]))
    row["on_time_delivery"] = f.on_time / f.receipts if f.receipts else None
    row["credit_note_ratio"] = f.credit_notes / f.invoices if f.invoices else None
    row["days_to_be_paid"] = _mean(f.paid_after)
    row["days_to_pay"] = _mean(f.paying_after)
    row["invoice_growth"] = _growth(sum(f.sales_by_month[:6]), sum(f.sales_by_month[6:]))
    return row


def _cv(values: Sequence[int]) -> float | None:
    mean = sum(values) / len(values)
    if mean == 0:
        return None
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) / mean


def _growth(recent: int, before: int) -> float | None:
    return recent / before - 1 if before else None


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None
