"""A year of trade along the synthetic region's supply relations, with planted anomalies and
their ground truth kept apart from the data.

Pure and deterministic like :mod:`chainfin.demo.synthetic`: every draw comes from one
``random.Random`` seeded with a string derived from ``seed``; there is no clock. The medium
region (≈ 13 000 relations, ≈ 880 000 documents) takes about ten seconds.

Normal trade. Every supply relation trades from ``max(start, since)`` until the window ends
(``start + days``); a document dated on or after the end has not happened yet and is left
out, so the last orders are still in transit and the last invoices still unpaid.

* Goods: a framework contract, then recurring purchase orders (more often the nearer the
  seller is to the core and the bigger it is; a dip of about four weeks around Chinese New
  Year and a Q4 peak). Each order ships in one or two deliveries; each delivery has a
  delivery note, a waybill (a logistics firm of the seller's region; transit 1-5 days by
  distance), a goods receipt on arrival and an invoice on or after it. Payments follow the
  invoice after the buyer's terms: a core pays in 90-120 days, a tier-4 supplier in 30-45, a
  dealer in 7-20; one invoice in ten is paid in two instalments and about one in thirty has a
  return (a credit note) first.
* Services (logistics, warehousing): a monthly order, an invoice when the month's service is
  done, payment as above. No goods move, so no delivery, receipt or waybill.

Amounts are integer fen. Each line's amount is quantity × unit price exactly; an invoice's
tax is its net amount × the VAT rate, rounded half-up once (13 % on goods, 9 % on transport,
6 % on warehousing), and its total is net + tax. Invoices are 数电专票 with a 20-digit number:
year, the seller's province, a channel digit, a 15-digit sequence per year and province.
No two normal invoices have the same total, so equal content is always a planted duplicate.

Planted anomalies. Each kind is planted ``max(4, round(anomaly_rate × population))`` times,
fewer only if the candidates run out; no document carries two planted anomalies:

========================  ===================  ==============================================
kind                      population           what is planted (documents in the truth)
========================  ===================  ==============================================
duplicate_invoice         invoices             half: the same invoice number submitted by
                                               another seller of the same buyer; half: the
                                               same content under a new number (both
                                               invoices)
double_financing          financings           a financed invoice financed again (the invoice)
circular_trading          relations            A→B→C→A invoices within 30 days, amounts
                                               within 10 % (the three invoices)
related_party             trading pairs        seller and buyer share a phone or a legal
                                               representative (the pair's invoices); see
                                               ``contact_overrides``
amount_outlier            pairs with ≥ 7       one invoice after at least six others of the
                          invoices             pair inflated to ≥ 25 × the pair's median (of
                                               those before it, and of all); no other anomaly
                                               touches that pair's invoices
invoice_before_delivery   goods invoices       an invoice dated 5-20 days before the delivery
                                               it bills
receipt_without_delivery  goods receipts       a receipt naming a delivery number no delivery
                                               note has
========================  ===================  ==============================================

The registry's contact details are drawn at random, so two trading firms could share one by
chance; ``contact_overrides`` also gives such a firm a fresh value, so the only related
parties that trade are the planted ones.

>>> from chainfin.demo.synthetic import RegionKey, Scale, generate
>>> region = generate([RegionKey.YRD], Scale.SMALL, seed=1)
>>> history = generate_history(region, seed=1)
>>> sorted({p.kind for p in history.truth}) == sorted(AnomalyKind)
True
>>> history.counts()["invoice"] > 2000
True
>>> all(s.recall == 1.0 for s in score(as_findings(history.truth), history.truth).values())
True
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import TypeVar

from chainfin.demo.synthetic import SyntheticRegion, region_key_of
from chainfin.domain.anomalies import AnomalyKind, Finding, document_key
from chainfin.domain.documents import (
    DocumentKind,
    DocumentLine,
    InvoiceType,
    TrackingEvent,
    TradeDocument,
)
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, Role

CURRENCY = "CNY"
MIN_PER_KIND = 4
OUTLIER_MIN_FACTOR = 25  # planted outliers are at least this many times the pair's median
# VAT rates in percent: goods, transport (交通运输服务) and warehousing (物流辅助服务).
VAT_PCT = {Role.LOGISTICS: 9, Role.WAREHOUSE: 6}
GOODS_VAT_PCT = 13

# (legal representative, address, phone): the values the loader stores instead of the
# registry's, all three, for one enterprise.
Contacts = tuple[str | None, str | None, str | None]
Financing = tuple[str, str, str]  # (bank code, financing id, invoice number)
_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class PlantedAnomaly:
    kind: AnomalyKind
    documents: tuple[str, ...]  # document keys, sorted
    enterprises: tuple[str, ...]  # USCCs, sorted
    note: str


@dataclass(frozen=True, slots=True)
class TradeHistory:
    documents: tuple[TradeDocument, ...]  # by issue date
    financings: tuple[Financing, ...]
    truth: tuple[PlantedAnomaly, ...]  # never load into the database: write_truth it
    contact_overrides: Mapping[str, Contacts]

    def counts(self) -> dict[str, int]:
        """Documents by kind, financings and planted anomalies by kind."""
        out = dict(Counter(d.kind.value for d in self.documents))
        out["financings"] = len(self.financings)
        out.update(Counter(f"planted:{p.kind.value}" for p in self.truth))
        return out


@dataclass(frozen=True, slots=True)
class Score:
    """How a detector's findings of one kind compare with the planted anomalies of that kind.

    ``true_positives`` are findings that match a planted anomaly, ``false_positives``
    findings that match none, ``false_negatives`` planted anomalies no finding matches.
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    planted: int

    @property
    def precision(self) -> float:
        """Matching findings / findings; with no findings, 1.0 if nothing was planted."""
        found = self.true_positives + self.false_positives
        if found == 0:
            return 1.0 if self.planted == 0 else 0.0
        return self.true_positives / found

    @property
    def recall(self) -> float:
        """Planted anomalies found / planted; 1.0 when nothing was planted."""
        if self.planted == 0:
            return 1.0
        return (self.planted - self.false_negatives) / self.planted


# ---------------------------------------------------------------------------------------
# Rows, truth files and scoring


def write_truth(truth: Iterable[PlantedAnomaly], path: str | os.PathLike[str]) -> None:
    """One JSON object per line. The truth goes to a file for scoring, never to the database,
    where the detectors would see it."""
    with Path(path).open("w", encoding="utf-8") as out:
        for p in truth:
            record = {
                "kind": p.kind.value,
                "documents": list(p.documents),
                "enterprises": list(p.enterprises),
                "note": p.note,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_truth(path: str | os.PathLike[str]) -> tuple[PlantedAnomaly, ...]:
    """What :func:`write_truth` wrote."""
    out = []
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                r = json.loads(line)
                out.append(
                    PlantedAnomaly(
                        AnomalyKind(r["kind"]),
                        tuple(r["documents"]),
                        tuple(r["enterprises"]),
                        r["note"],
                    )
                )
    return tuple(out)


def as_findings(truth: Iterable[PlantedAnomaly]) -> list[Finding]:
    """The truth as findings: what a perfect detector would report."""
    return [Finding(p.kind, p.documents, p.enterprises, p.note) for p in truth]


def _match_keys(
    kind: AnomalyKind, documents: Sequence[str], enterprises: Sequence[str]
) -> list[object]:
    if kind is AnomalyKind.RELATED_PARTY:
        return [frozenset(enterprises)]
    return list(documents)


def score(findings: Sequence[Finding], truth: Sequence[PlantedAnomaly]) -> dict[AnomalyKind, Score]:
    """Per kind, match findings against planted anomalies.

    The rule: a finding matches a planted anomaly of the same kind when they name at least
    one document key in common; for ``related_party``, when they name the same set of
    enterprises (the planted pair), whatever the documents. A finding that matches several
    planted anomalies counts once as a true positive and finds all of them; several findings
    of one planted anomaly are each a true positive, and it is found once.
    """
    result = {}
    for kind in AnomalyKind:
        index: dict[object, list[int]] = {}
        planted = [p for p in truth if p.kind is kind]
        for i, p in enumerate(planted):
            for key in _match_keys(kind, p.documents, p.enterprises):
                index.setdefault(key, []).append(i)
        found: set[int] = set()
        tp = fp = 0
        for f in findings:
            if f.kind is not kind:
                continue
            hits = {
                i
                for key in _match_keys(kind, f.documents, f.enterprises)
                for i in index.get(key, ())
            }
            if hits:
                tp += 1
                found |= hits
            else:
                fp += 1
        result[kind] = Score(tp, fp, len(planted) - len(found), len(planted))
    return result


# ---------------------------------------------------------------------------------------
# Calendar, money and names


# Chinese New Year (春节), for the dip in orders around it.
_NEW_YEAR = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}


def _season_pct(day: date) -> int:
    """Order size in percent of normal: low around Chinese New Year, high in Q4."""
    new_year = _NEW_YEAR.get(day.year)
    if new_year is not None and -14 <= (day - new_year).days <= 14:
        return 40
    return 125 if day.month >= 10 else 100


def _vat(net_minor: int, pct: int) -> int:
    """Half-up rounding of net × pct / 100 in whole fen (net is never negative)."""
    return (net_minor * pct * 2 + 100) // 200


def _median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


# Unit and unit price range (yuan) of what a firm sells, by its GB/T 4754 division.
_GOODS_UNITS: dict[str, tuple[str, int, int]] = {
    "A01": ("吨", 8_000, 60_000),
    "B06": ("吨", 600, 1_800),
    "B08": ("吨", 700, 1_200),
    "B10": ("吨", 60, 400),
    "C13": ("吨", 3_000, 9_000),
    "C22": ("件", 2, 40),
    "C23": ("件", 1, 10),
    "C25": ("吨", 1_800, 3_000),
    "C26": ("吨", 5_000, 60_000),
    "C27": ("千克", 200, 5_000),
    "C29": ("件", 1, 300),
    "C30": ("件", 10, 3_000),
    "C31": ("吨", 3_500, 9_000),
    "C32": ("吨", 15_000, 90_000),
    "C33": ("件", 2, 800),
    "C34": ("台", 300, 30_000),
    "C35": ("台", 20_000, 2_000_000),
    "C36": ("套", 300, 20_000),
    "C38": ("件", 50, 8_000),
    "C39": ("件", 2, 2_000),
    "G54": ("车次", 1_500, 8_000),
    "G58": ("票", 3_000, 20_000),
    "G59": ("项", 5_000, 50_000),
}
# What a core sells its dealers.
_CORE_UNITS: dict[str, tuple[str, int, int]] = {
    "C36": ("辆", 80_000, 300_000),
    "C39": ("台", 1_000, 8_000),
    "C38": ("台", 1_500, 8_000),
    "C27": ("箱", 200, 3_000),
    "C31": ("吨", 3_500, 5_500),
}
_DEFAULT_UNIT = ("件", 10, 1_000)
_MODEL_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

# Orders a year by the seller's tier; a big seller ships more often, a very small one less.
_ORDERS_PER_YEAR = {1: 18, 2: 12, 3: 9, 4: 6}
_DEALER_ORDERS_PER_YEAR = 12
_SERVICE_ORDERS_PER_YEAR = 12
# Payment terms in days by who pays: a core pays late, a small firm soon, a dealer at once.
_TERMS_BY_TIER = {0: (90, 120), 1: (60, 90), 2: (45, 75), 3: (30, 60), 4: (30, 45)}
_DEALER_TERMS = (7, 20)

_FINANCED_PCT = 10  # of a supplier's invoices, where it banks with someone
_TWO_DELIVERIES_PCT = 30
_CREDIT_NOTE_PCT = 3
_PARTIAL_PAYMENT_PCT = 10


# ---------------------------------------------------------------------------------------
# Numbers


class _Numbers:
    """Document numbers, unique per kind: ``PO-00000001``."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, prefix: str) -> str:
        n = self.next.get(prefix, 1)
        self.next[prefix] = n + 1
        return f"{prefix}-{n:08d}"


class _InvoiceNumbers:
    """20-digit 数电 numbers: 2 digits of year, 2 of province, a channel digit, then a
    sequence per year and province that starts somewhere random and counts up."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[tuple[int, str], int] = {}

    def __call__(self, day: date, province: str, channel: str) -> str:
        key = (day.year % 100, province)
        n = self.next.get(key)
        if n is None:
            n = self.rng.randrange(10**9, 10**10)
        self.next[key] = n + 1
        return f"{key[0]:02d}{province}{channel}{n:015d}"


# ---------------------------------------------------------------------------------------
# Streams: one supply relation's trade


@dataclass(slots=True)
class _Stream:
    seller: EnterpriseRecord
    buyer: EnterpriseRecord
    goods: bool
    items: tuple[tuple[str, str, Money], ...]  # (item, unit, unit price)
    weights: tuple[int, ...]
    orders_per_year: int
    order_net_minor: int  # a normal order's net value
    terms: tuple[int, int]
    vat_pct: int
    channel: str
    carrier: str | None
    transit: tuple[int, int]
    first: date
    contract: str = ""

    @property
    def pair(self) -> tuple[str, str]:
        return (self.seller.uscc, self.buyer.uscc)

    def lines(self, quantities: Sequence[int]) -> tuple[DocumentLine, ...]:
        out = []
        for (item, unit, price), q in zip(self.items, quantities, strict=True):
            if q:
                out.append(
                    DocumentLine(item, Decimal(q), unit, price, Money(q * price.amount_minor))
                )
        return tuple(out)

    def net(self, quantities: Sequence[int]) -> int:
        net = 0
        for (_, _, price), q in zip(self.items, quantities, strict=True):
            net += q * price.amount_minor
        return net


def _split(quantities: Sequence[int], pct: int) -> list[list[int]]:
    """Two deliveries: the first takes ``pct`` % of every line (at least one), the second
    the rest. Every quantity is at least 2."""
    first = [max(1, q * pct // 100) for q in quantities]
    return [first, [q - f for q, f in zip(quantities, first, strict=True)]]


def _firm_tiers(region: SyntheticRegion, firms: Mapping[str, EnterpriseRecord]) -> dict[str, int]:
    """Cores 0, suppliers their upstream tier (shortest path), as the registry computes it."""
    sellers_of: dict[str, list[str]] = {}
    for r in region.relations:
        sellers_of.setdefault(r.buyer_uscc, []).append(r.seller_uscc)
    tiers = {core: 0 for chain in region.chains for core in chain.core_usccs}
    frontier = list(tiers)
    while frontier:
        nearer, frontier = frontier, []
        for buyer in nearer:
            for seller in sellers_of.get(buyer, ()):
                if seller not in tiers and Role.SUPPLIER in firms[seller].roles:
                    tiers[seller] = tiers[buyer] + 1
                    frontier.append(seller)
    return tiers


def _revenue_minor(firm: EnterpriseRecord) -> int:
    return firm.revenue.amount_minor if firm.revenue is not None else 50_000_000_00


# ---------------------------------------------------------------------------------------
# Generation


def generate_history(
    region: SyntheticRegion,
    *,
    seed: int,
    start: date = date(2025, 7, 1),
    days: int = 365,
    anomaly_rate: float = 0.01,
) -> TradeHistory:
    """A year (``days``) of trade from ``start`` along every relation of ``region``, with
    anomalies planted at ``anomaly_rate``; see the module docstring. Deterministic in its
    arguments. The cyclic garbage collector is paused while it runs (see
    :func:`_without_cyclic_gc`)."""
    if days < 30:
        raise ValueError("give at least 30 days: planted anomalies need room")
    if not 0 <= anomaly_rate <= 1:
        raise ValueError("anomaly_rate is a fraction between 0 and 1")
    with _without_cyclic_gc():
        builder = _Builder(region, seed, start, days, anomaly_rate)
        builder.trade()
        builder.finance()
        truth = builder.plant()
        overrides = builder.contacts(truth)
        documents = sorted(builder.docs, key=attrgetter("issue_date"))
    return TradeHistory(
        documents=tuple(documents),
        financings=tuple(builder.financings),
        truth=tuple(builder.related_truth(truth)),
        contact_overrides=overrides,
    )


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A history is a million objects and no reference cycles; left on, the cyclic
    collector scans the growing heap again and again and doubles the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Builder:
    def __init__(
        self, region: SyntheticRegion, seed: int, start: date, days: int, rate: float
    ) -> None:
        self.region = region
        self.rng = random.Random(f"chainfin.demo.trade_history:{seed}")
        self.start, self.end, self.rate = start, start + timedelta(days=days), rate
        self.firms = {e.uscc: e for e in region.enterprises}
        self.number = _Numbers()
        self.invoice_number = _InvoiceNumbers(self.rng)
        self.channels: dict[str, str] = {}
        self.docs: list[TradeDocument] = []
        self.totals: set[int] = set()  # of invoices: no two normal ones are equal
        self.invoices: list[int] = []  # indices into docs, normal invoices
        self.pair_invoices: dict[tuple[str, str], list[int]] = {}
        self.goods_invoices: list[tuple[int, date, date]] = []  # (index, shipped, ordered)
        self.orders: dict[tuple[str, str], list[int]] = {}  # purchase orders of goods
        self.streams: dict[tuple[str, str], _Stream] = {}
        self.receipts = 0
        self.financings: list[Financing] = []
        self.financed: list[int] = []  # invoice index of each normal financing
        self.banks_of: dict[str, list[str]] = {}
        for code, uscc in region.customers:
            self.banks_of.setdefault(uscc, []).append(code)
        self.random = self.rng.random
        self.used: set[int] = set()  # invoices that already carry a planted anomaly
        # Pairs with a planted outlier get no other planted invoice and no invoice moved:
        # either could shift the median the outlier is measured against.
        self.outlier_pairs: set[tuple[str, str]] = set()
        self.related: dict[frozenset[str], int] = {}  # planted pair -> shared contact field

    # -- normal trade ------------------------------------------------------------------

    def _int(self, low: int, high: int) -> int:
        """Uniform in [low, high]: several times faster than ``randint`` in the hot loops."""
        return low + int(self.random() * (high - low + 1))

    def _chance(self, pct: int) -> bool:
        return self.random() * 100 < pct

    def trade(self) -> None:
        for stream in self._streams():
            self._contract(stream)
            interval = max(7, 365 // stream.orders_per_year)
            jitter = interval // 4
            day = stream.first + timedelta(days=self._int(0, interval - 1))
            while day < self.end:
                season = _season_pct(day)
                if season >= 100 or self._chance(50):
                    if stream.goods:
                        self._goods_order(stream, day, season)
                    else:
                        self._service_order(stream, day, season)
                day += timedelta(days=interval + self._int(-jitter, jitter))

    def _streams(self) -> list[_Stream]:
        region, firms, rng = self.region, self.firms, self.rng
        tiers = _firm_tiers(region, firms)
        sales = Counter(r.seller_uscc for r in region.relations)
        purchases = Counter(r.buyer_uscc for r in region.relations)
        carriers: dict[object, list[str]] = {}
        for e in region.enterprises:
            if Role.LOGISTICS in e.roles:
                carriers.setdefault(region_key_of(e.region_code), []).append(e.uscc)
                carriers.setdefault(None, []).append(e.uscc)
        out = []
        for rel in region.relations:
            first = max(self.start, rel.since)
            if first >= self.end:
                continue
            seller, buyer = firms[rel.seller_uscc], firms[rel.buyer_uscc]
            service = bool(seller.roles & {Role.LOGISTICS, Role.WAREHOUSE})
            if service:
                per_year = _SERVICE_ORDERS_PER_YEAR
                annual = _revenue_minor(seller) * rng.randint(30, 60) // 100 // sales[seller.uscc]
                unit = _GOODS_UNITS.get(seller.industry_code, _DEFAULT_UNIT)
            elif Role.CORE in seller.roles:  # a core selling to its dealer
                per_year = _DEALER_ORDERS_PER_YEAR
                annual = _revenue_minor(buyer) * rng.randint(60, 85) // 100 // purchases[buyer.uscc]
                unit = _CORE_UNITS.get(seller.industry_code, _DEFAULT_UNIT)
            else:
                per_year = _orders_per_year(min(tiers.get(seller.uscc, 4), 4), seller.employees)
                annual = _revenue_minor(seller) * rng.randint(40, 80) // 100 // sales[seller.uscc]
                unit = _GOODS_UNITS.get(seller.industry_code, _DEFAULT_UNIT)
            order_net = max(1_000_000, annual // per_year)
            items, weights = self._items(rel.product_category, unit, order_net)
            local = carriers.get(region_key_of(seller.region_code)) or carriers.get(None)
            stream = _Stream(
                seller=seller,
                buyer=buyer,
                goods=not service,
                items=items,
                weights=weights,
                orders_per_year=per_year,
                order_net_minor=order_net,
                terms=self._terms(buyer, tiers),
                vat_pct=_vat_pct(seller),
                channel=self._channel(seller.uscc),
                carrier=rng.choice(local) if local and not service else None,
                transit=_transit_days(seller.region_code, buyer.region_code),
                first=first,
            )
            self.streams.setdefault(stream.pair, stream)
            out.append(stream)
        return out

    def _items(
        self, product: str, unit: tuple[str, int, int], order_net: int
    ) -> tuple[tuple[tuple[str, str, Money], ...], tuple[int, ...]]:
        """One to three models of the product, priced so a normal order has at least ten of
        each (so order sizes, not unit prices, set the amounts)."""
        rng = self.rng
        count = rng.choice((1, 1, 1, 2, 2, 3))
        name, low, high = unit
        ceiling = max(100, order_net // (10 * count))
        models: dict[str, None] = {}
        while len(models) < count:
            models[f"{product} {rng.choice(_MODEL_LETTERS)}{rng.randint(100, 999)}"] = None
        items = tuple(
            (model, name, Money(min(ceiling, rng.randint(low * 100, high * 100))))
            for model in models
        )
        return items, tuple(rng.randint(1, 4) for _ in items)

    def _terms(self, buyer: EnterpriseRecord, tiers: Mapping[str, int]) -> tuple[int, int]:
        if Role.DEALER in buyer.roles:
            return _DEALER_TERMS
        return _TERMS_BY_TIER[min(tiers.get(buyer.uscc, 1), 4)]

    def _channel(self, uscc: str) -> str:
        if uscc not in self.channels:
            self.channels[uscc] = self.rng.choice("0123")
        return self.channels[uscc]

    def _contract(self, s: _Stream) -> None:
        s.contract = self.number("CT")
        net = s.order_net_minor * s.orders_per_year
        tax = _vat(net, s.vat_pct)
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.CONTRACT,
                number=s.contract,
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                issue_date=s.first,
                currency=CURRENCY,
                total=Money(net + tax),
                tax=Money(tax),
                due_date=s.first + timedelta(days=365),
            )
        )

    def _quantities(self, s: _Stream, season: int) -> list[int]:
        value = s.order_net_minor * season * self._int(80, 120) // 10_000
        weight = sum(s.weights)
        return [
            max(1, value * w // (weight * price.amount_minor))
            for (_, _, price), w in zip(s.items, s.weights, strict=True)
        ]

    def _priced(self, s: _Stream, parts: list[list[int]]) -> list[int] | None:
        """The net amount of each part, or None if an invoice for one would repeat the
        total of another invoice."""
        nets = [s.net(p) for p in parts]
        totals = {n + _vat(n, s.vat_pct) for n in nets}
        if len(totals) < len(nets) or not self.totals.isdisjoint(totals):
            return None
        self.totals |= totals
        return nets

    def _purchase_order(self, s: _Stream, day: date, quantities: Sequence[int], net: int) -> str:
        number = self.number("PO")
        tax = _vat(net, s.vat_pct)
        if s.goods:
            self.orders.setdefault(s.pair, []).append(len(self.docs))
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.PURCHASE_ORDER,
                number=number,
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                issue_date=day,
                currency=CURRENCY,
                total=Money(net + tax),
                tax=Money(tax),
                contract_number=s.contract,
                lines=s.lines(quantities),
            )
        )
        return number

    def _goods_order(self, s: _Stream, day: date, season: int) -> None:
        quantities = self._quantities(s, season)
        two = min(quantities) >= 2 and self._chance(_TWO_DELIVERIES_PCT)
        pct = self._int(40, 70)
        while True:
            parts = _split(quantities, pct) if two else [quantities]
            nets = self._priced(s, parts)
            if nets is not None:
                break
            quantities[0] += 1
        po = self._purchase_order(s, day, quantities, sum(nets))
        ordered_lines = self.docs[-1].lines
        shipped = day + timedelta(days=self._int(3, 15))
        for i, (part, net) in enumerate(zip(parts, nets, strict=True)):
            if i:
                shipped += timedelta(days=self._int(7, 20))
            if shipped >= self.end:
                return
            lines = s.lines(part) if two else ordered_lines
            self._delivery(s, po, day, shipped, lines, net)

    def _delivery(
        self,
        s: _Stream,
        po: str,
        ordered: date,
        shipped: date,
        lines: tuple[DocumentLine, ...],
        net: int,
    ) -> None:
        dn = self.number("DN")
        value = Money(net)
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.DELIVERY_NOTE,
                number=dn,
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                currency=CURRENCY,
                issue_date=shipped,
                total=value,
                order_number=po,
                shipped_on=shipped,
                lines=lines,
            )
        )
        arrived = shipped + timedelta(days=self._int(*s.transit))
        if s.carrier is not None:
            self._waybill(s, dn, shipped, arrived, lines, value)
        if arrived >= self.end:
            return
        self.receipts += 1
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.GOODS_RECEIPT,
                number=self.number("GR"),
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                currency=CURRENCY,
                issue_date=arrived,
                total=value,
                order_number=po,
                delivery_number=dn,
                delivered_on=arrived,
                lines=lines,
            )
        )
        invoiced = arrived + timedelta(days=self._int(0, 7))
        index = self._invoice(s, invoiced, lines, net, po, dn)
        if index is not None:
            self.goods_invoices.append((index, shipped, ordered))

    def _waybill(
        self,
        s: _Stream,
        dn: str,
        shipped: date,
        arrived: date,
        lines: tuple[DocumentLine, ...],
        value: Money,
    ) -> None:
        """The carrier's waybill: its total is the declared value of the goods."""
        origin, destination = s.seller.region_code, s.buyer.region_code
        tracking = [TrackingEvent(f"{shipped.isoformat()}T09:00:00+08:00", origin, "picked_up")]
        delivered_on = None
        if arrived < self.end:
            delivered_on = arrived
            at = f"{arrived.isoformat()}T15:00:00+08:00"
            tracking.append(TrackingEvent(at, destination, "delivered"))
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.WAYBILL,
                number=self.number("WB"),
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                issue_date=shipped,
                currency=CURRENCY,
                total=value,
                delivery_number=dn,
                carrier_uscc=s.carrier,
                origin_region=origin,
                destination_region=destination,
                shipped_on=shipped,
                delivered_on=delivered_on,
                lines=lines,
                tracking=tuple(tracking),
            )
        )

    def _service_order(self, s: _Stream, day: date, season: int) -> None:
        quantities = self._quantities(s, season)
        while (nets := self._priced(s, [quantities])) is None:
            quantities[0] += 1
        po = self._purchase_order(s, day, quantities, nets[0])
        done = day + timedelta(days=self._int(20, 30))
        self._invoice(s, done, self.docs[-1].lines, nets[0], po, None)

    def _invoice(
        self,
        s: _Stream,
        day: date,
        lines: tuple[DocumentLine, ...],
        net: int,
        po: str,
        dn: str | None,
    ) -> int | None:
        if day >= self.end:
            return None
        tax = _vat(net, s.vat_pct)
        due = day + timedelta(days=self._int(*s.terms))
        index = len(self.docs)
        invoice = TradeDocument(
            kind=DocumentKind.INVOICE,
            number=self.number("INV"),
            seller_uscc=s.seller.uscc,
            buyer_uscc=s.buyer.uscc,
            issue_date=day,
            currency=CURRENCY,
            total=Money(net + tax),
            tax=Money(tax),
            due_date=due,
            contract_number=s.contract,
            order_number=po,
            delivery_number=dn,
            invoice_number=self.invoice_number(day, s.seller.region_code[:2], s.channel),
            invoice_type=InvoiceType.DIGITAL_SPECIAL,
            lines=lines,
        )
        self.docs.append(invoice)
        self.invoices.append(index)
        self.pair_invoices.setdefault(s.pair, []).append(index)
        self._settle(s, invoice, due)
        return index

    def _settle(self, s: _Stream, invoice: TradeDocument, due: date) -> None:
        """A return first, sometimes; then payment in one or two instalments."""
        paid_on = due + timedelta(days=self._int(-3, 15))
        owed = invoice.total.amount_minor
        if self._chance(_CREDIT_NOTE_PCT):
            credited_on = invoice.issue_date + timedelta(days=self._int(3, 15))
            if credited_on < self.end:
                owed -= self._credit_note(s, invoice, credited_on)
                paid_on = max(paid_on, credited_on + timedelta(days=1))
        instalments = [owed]
        if self._chance(_PARTIAL_PAYMENT_PCT):
            first = owed * self._int(40, 70) // 100
            instalments = [first, owed - first]
        for i, amount in enumerate(instalments):
            if i:
                paid_on += timedelta(days=self._int(15, 45))
            if paid_on >= self.end:
                return
            self.docs.append(
                TradeDocument(
                    kind=DocumentKind.PAYMENT,
                    number=self.number("PAY"),
                    seller_uscc=s.seller.uscc,
                    buyer_uscc=s.buyer.uscc,
                    issue_date=paid_on,
                    currency=CURRENCY,
                    total=Money(amount),
                    order_number=invoice.order_number,
                    invoice_number=invoice.invoice_number,
                )
            )

    def _credit_note(self, s: _Stream, invoice: TradeDocument, day: date) -> int:
        """Goods sent back from one line; returns the credited total."""
        line = self.rng.choice(invoice.lines)
        quantity = int(line.quantity)
        back = max(1, quantity * self._int(5, 20) // 100)
        net = back * line.unit_price.amount_minor
        tax = _vat(net, s.vat_pct)
        self.docs.append(
            TradeDocument(
                kind=DocumentKind.CREDIT_NOTE,
                number=self.number("CN"),
                seller_uscc=s.seller.uscc,
                buyer_uscc=s.buyer.uscc,
                issue_date=day,
                currency=CURRENCY,
                total=Money(net + tax),
                tax=Money(tax),
                order_number=invoice.order_number,
                delivery_number=invoice.delivery_number,
                invoice_number=invoice.invoice_number,
                lines=(
                    DocumentLine(line.item, Decimal(back), line.unit, line.unit_price, Money(net)),
                ),
            )
        )
        return net + tax

    def finance(self) -> None:
        """Suppliers finance some receivables at their banks (cores do not need to)."""
        for index in self.invoices:
            invoice = self.docs[index]
            banks = self.banks_of.get(invoice.seller_uscc)
            if not banks or Role.CORE in self.firms[invoice.seller_uscc].roles:
                continue
            if self._chance(_FINANCED_PCT) and invoice.invoice_number:
                financing = (self.rng.choice(banks), self.number("RF"), invoice.invoice_number)
                self.financings.append(financing)
                self.financed.append(index)

    # -- planted anomalies -------------------------------------------------------------

    def _count(self, population: int) -> int:
        return max(MIN_PER_KIND, round(self.rate * population))

    def _shuffled(self, items: Iterable[_T]) -> list[_T]:
        out = list(items)
        self.rng.shuffle(out)
        return out

    def _key(self, index: int) -> str:
        return document_key(self.docs[index])

    def _pair_median(self, pair: tuple[str, str], without: int | None = None) -> int:
        totals = [self.docs[i].total.amount_minor for i in self.pair_invoices[pair] if i != without]
        return _median(totals)

    def _busy(self, index: int) -> bool:
        doc = self.docs[index]
        return index in self.used or (doc.seller_uscc, doc.buyer_uscc) in self.outlier_pairs

    def _append(self, doc: TradeDocument) -> int:
        self.docs.append(doc)
        return len(self.docs) - 1

    def plant(self) -> list[PlantedAnomaly]:
        truth: list[PlantedAnomaly] = []
        truth += self._amount_outliers()
        truth += self._invoices_before_delivery()
        truth += self._duplicate_invoices()
        truth += self._double_financings()
        truth += self._circular_trades()
        truth += self._receipts_without_delivery()
        return truth

    def _amount_outliers(self) -> list[PlantedAnomaly]:
        """Inflate one invoice after at least six of the pair's: every line's quantity times
        k, so the invoice stays consistent but bills far more than was delivered (payments
        stay what the buyer owes for the goods)."""
        pairs = [p for p, ix in self.pair_invoices.items() if len(ix) >= 7]
        want, out = self._count(len(pairs)), list[PlantedAnomaly]()
        for pair in self._shuffled(pairs):
            if len(out) >= want:
                break
            history = sorted(self.pair_invoices[pair], key=lambda i: self.docs[i].issue_date)
            sixth = self.docs[history[5]].issue_date
            later = [i for i in history[6:] if self.docs[i].issue_date > sixth]
            if not later:
                continue
            index = self.rng.choice(later)
            day = self.docs[index].issue_date
            earlier = [
                self.docs[i].total.amount_minor for i in history if self.docs[i].issue_date < day
            ]
            # The larger of the median before it and the median of all the others, so it
            # stands out whichever a detector uses.
            median = max(_median(earlier), self._pair_median(pair, without=index))
            invoice = self._inflate(index, median * self.rng.randint(OUTLIER_MIN_FACTOR, 40))
            note = (
                f"invoice {invoice.invoice_number} bills {invoice.total}, "
                f"{invoice.total.amount_minor // median}× the pair's median of "
                f"{Money(median)} ({len(earlier)} invoices before it)"
            )
            self.outlier_pairs.add(pair)
            out.append(self._planted(AnomalyKind.AMOUNT_OUTLIER, [index], pair, note))
        return out

    def _inflate(self, index: int, target_minor: int) -> TradeDocument:
        invoice = self.docs[index]
        stream = self.streams[(invoice.seller_uscc, invoice.buyer_uscc)]
        factor = -(-target_minor // invoice.total.amount_minor)
        while True:
            lines = tuple(
                DocumentLine(
                    line.item,
                    line.quantity * factor,
                    line.unit,
                    line.unit_price,
                    Money(line.amount.amount_minor * factor),
                )
                for line in invoice.lines
            )
            net = sum(line.amount.amount_minor for line in lines)
            tax = _vat(net, stream.vat_pct)
            if net + tax not in self.totals:
                break
            factor += 1
        self.totals.add(net + tax)
        self.docs[index] = replace(invoice, lines=lines, tax=Money(tax), total=Money(net + tax))
        return self.docs[index]

    def _invoices_before_delivery(self) -> list[PlantedAnomaly]:
        """Date an invoice 5-20 days before the delivery it bills ships (and after its
        order, in the same year so the invoice number's year still fits)."""
        want, out = self._count(len(self.goods_invoices)), list[PlantedAnomaly]()
        for index, shipped, ordered in self._shuffled(self.goods_invoices):
            if len(out) >= want:
                break
            room = (shipped - ordered).days
            if self._busy(index) or room < 5:
                continue
            early = self.rng.randint(5, min(20, room))
            day = shipped - timedelta(days=early)
            invoice = self.docs[index]
            if day.year != invoice.issue_date.year or day < self.start or invoice.due_date is None:
                continue
            due = day + (invoice.due_date - invoice.issue_date)
            self.docs[index] = replace(invoice, issue_date=day, due_date=due)
            note = (
                f"invoice {invoice.invoice_number} dated {day}, {early} days before delivery "
                f"{invoice.delivery_number} shipped on {shipped}"
            )
            pair = (invoice.seller_uscc, invoice.buyer_uscc)
            out.append(self._planted(AnomalyKind.INVOICE_BEFORE_DELIVERY, [index], pair, note))
        return out

    def _duplicate_invoices(self) -> list[PlantedAnomaly]:
        want = self._count(len(self.invoices))
        resubmitted = (want + 1) // 2
        sellers_of: dict[str, list[str]] = {}
        for seller, buyer in self.pair_invoices:
            sellers_of.setdefault(buyer, []).append(seller)
        out: list[PlantedAnomaly] = []
        for index in self._shuffled(self.invoices):
            if len(out) >= want:
                break
            if self._busy(index):
                continue
            if len(out) < resubmitted:
                planted = self._resubmitted(index, sellers_of)
            else:
                planted = self._same_content(index)
            if planted is not None:
                out.append(planted)
        return out

    def _resubmitted(
        self, index: int, sellers_of: Mapping[str, list[str]]
    ) -> PlantedAnomaly | None:
        """Another seller of the same buyer submits the invoice, number and all, as its own.
        Only a seller of the same VAT rate whose usual invoices are not much smaller, so the
        copy's tax is right for it and the copy is no outlier."""
        invoice = self.docs[index]
        buyer, total = invoice.buyer_uscc, invoice.total.amount_minor
        rate = self.streams[(invoice.seller_uscc, buyer)].vat_pct
        others = [
            s
            for s in sellers_of[buyer]
            if s != invoice.seller_uscc
            and (s, buyer) not in self.outlier_pairs
            and self.streams[(s, buyer)].vat_pct == rate
            and 3 * self._pair_median((s, buyer)) >= total
        ]
        if not others:
            return None
        other = self.rng.choice(others)
        copy = replace(
            invoice,
            number=self.number("INV"),
            seller_uscc=other,
            contract_number=None,
            order_number=None,
            delivery_number=None,
        )
        note = (
            f"invoice number {invoice.invoice_number} of {invoice.seller_uscc} submitted again "
            f"by {other} as {copy.number}"
        )
        parties = (invoice.seller_uscc, buyer, other)
        return self._planted(
            AnomalyKind.DUPLICATE_INVOICE, [index, self._append(copy)], parties, note
        )

    def _same_content(self, index: int) -> PlantedAnomaly | None:
        """The same invoice issued again, a few days later, under a new number."""
        invoice = self.docs[index]
        day = invoice.issue_date + timedelta(days=self.rng.randint(0, 5))
        number = invoice.invoice_number
        if day >= self.end or number is None:
            return None
        copy = replace(
            invoice,
            number=self.number("INV"),
            issue_date=day,
            invoice_number=self.invoice_number(day, number[2:4], number[4]),
        )
        note = f"invoice {copy.invoice_number} repeats the content of {number}"
        pair = (invoice.seller_uscc, invoice.buyer_uscc)
        return self._planted(AnomalyKind.DUPLICATE_INVOICE, [index, self._append(copy)], pair, note)

    def _double_financings(self) -> list[PlantedAnomaly]:
        """A financed invoice financed again, at another of the seller's banks if it has one."""
        want, out = self._count(len(self.financings)), list[PlantedAnomaly]()
        normal = list(zip(self.financings, self.financed, strict=True))
        for (bank, financing_id, number), index in self._shuffled(normal):
            if len(out) >= want:
                break
            if index in self.used:
                continue
            invoice = self.docs[index]
            banks = self.banks_of[invoice.seller_uscc]
            again = self.rng.choice([b for b in banks if b != bank] or banks)
            second = self.number("RF")
            self.financings.append((again, second, number))
            note = f"invoice {number} financed at {bank} ({financing_id}) and at {again} ({second})"
            pair = (invoice.seller_uscc, invoice.buyer_uscc)
            out.append(self._planted(AnomalyKind.DOUBLE_FINANCING, [index], pair, note))
        return out

    def _circular_trades(self) -> list[PlantedAnomaly]:
        """A→B→C→A: A sells to B and B to C already; three invoices for the same goods go
        round within 30 days, amounts within 10 % and no bigger than either real pair's
        median (so they are no outliers). No firm is in two cycles."""
        buyers_of: dict[str, list[str]] = {}
        for seller, buyer in self.pair_invoices:
            if self.streams[(seller, buyer)].goods:
                buyers_of.setdefault(seller, []).append(buyer)
        want, out = self._count(len(self.region.relations)), list[PlantedAnomaly]()
        busy: set[str] = set()
        for a, b in self._shuffled((s, b) for s, bs in buyers_of.items() for b in bs):
            if len(out) >= want:
                break
            onward = [
                c
                for c in buyers_of.get(b, ())
                if c != a
                and (c, a) not in self.streams
                and c not in busy
                and (b, c) not in self.outlier_pairs
            ]
            quiet = (a, b) not in self.outlier_pairs
            if a in busy or b in busy or not onward or not quiet:
                continue
            c = self.rng.choice(onward)
            busy |= {a, b, c}
            out.append(self._cycle(a, b, c))
        return out

    def _cycle(self, a: str, b: str, c: str) -> PlantedAnomaly:
        rng = self.rng
        limit = min(self._pair_median((a, b)), self._pair_median((b, c)))
        net = limit * rng.randint(60, 90) // 100 * 100 // (100 + GOODS_VAT_PCT)
        item, unit, price = self.streams[(a, b)].items[0]
        price = Money(max(1, min(price.amount_minor, net // 100)))
        day = self.start + timedelta(days=rng.randint(0, (self.end - self.start).days - 26))
        indices = []
        for seller, buyer in ((a, b), (b, c), (c, a)):
            quantity = net // price.amount_minor * rng.randint(95, 100) // 100
            while _total(quantity * price.amount_minor) in self.totals:
                quantity += 1
            amount = quantity * price.amount_minor
            self.totals.add(_total(amount))
            line = DocumentLine(item, Decimal(quantity), unit, price, Money(amount))
            indices.append(self._append(self._bare_invoice(seller, buyer, day, line)))
            day += timedelta(days=rng.randint(3, 12))
        note = f"{a} → {b} → {c} → {a}: the same goods invoiced round within 30 days"
        return self._planted(AnomalyKind.CIRCULAR_TRADING, indices, (a, b, c), note)

    def _bare_invoice(
        self, seller: str, buyer: str, day: date, line: DocumentLine
    ) -> TradeDocument:
        """An invoice with no order or delivery behind it."""
        net = line.amount.amount_minor
        tax = _vat(net, GOODS_VAT_PCT)
        province = self.firms[seller].region_code[:2]
        return TradeDocument(
            kind=DocumentKind.INVOICE,
            number=self.number("INV"),
            seller_uscc=seller,
            buyer_uscc=buyer,
            issue_date=day,
            currency=CURRENCY,
            total=Money(net + tax),
            tax=Money(tax),
            due_date=day + timedelta(days=60),
            invoice_number=self.invoice_number(day, province, self._channel(seller)),
            invoice_type=InvoiceType.DIGITAL_SPECIAL,
            lines=(line,),
        )

    def _receipts_without_delivery(self) -> list[PlantedAnomaly]:
        """A goods receipt for a real order naming a delivery number that was never issued
        (taken from the delivery-note sequence, so it looks like one)."""
        want, out = self._count(self.receipts), list[PlantedAnomaly]()
        for pair in self._shuffled(self.orders):
            if len(out) >= want:
                break
            order = self.docs[self.rng.choice(self.orders[pair])]
            day = order.issue_date + timedelta(days=self.rng.randint(5, 20))
            if day >= self.end or order.tax is None:
                continue
            receipt = TradeDocument(
                kind=DocumentKind.GOODS_RECEIPT,
                number=self.number("GR"),
                seller_uscc=order.seller_uscc,
                buyer_uscc=order.buyer_uscc,
                issue_date=day,
                currency=CURRENCY,
                total=order.total - order.tax,
                order_number=order.number,
                delivery_number=self.number("DN"),
                delivered_on=day,
                lines=order.lines,
            )
            note = (
                f"goods receipt {receipt.number} for order {order.number} names delivery "
                f"{receipt.delivery_number}, which does not exist"
            )
            index = self._append(receipt)
            out.append(self._planted(AnomalyKind.RECEIPT_WITHOUT_DELIVERY, [index], pair, note))
        return out

    def _planted(
        self, kind: AnomalyKind, indices: Sequence[int], firms: Iterable[str], note: str
    ) -> PlantedAnomaly:
        self.used.update(indices)
        keys = tuple(sorted(self._key(i) for i in indices))
        return PlantedAnomaly(kind, keys, tuple(sorted(set(firms))), note)

    # -- related parties: contact details ----------------------------------------------

    def contacts(self, truth: list[PlantedAnomaly]) -> dict[str, Contacts]:
        """Make some trading pairs share a phone or legal representative (a value nobody
        else has), then give a fresh value to any other trading pair that shares one by
        chance. Appends the planted pairs to ``truth`` (documents filled in later)."""
        contacts = {
            e.uscc: [e.legal_representative, e.address, e.phone] for e in self.region.enterprises
        }
        counts = [Counter(c[f] for c in contacts.values() if c[f]) for f in range(3)]
        changed: dict[str, None] = {}
        pairs = list(self.pair_invoices)
        want = self._count(len(pairs))
        busy: set[str] = set()
        for seller, buyer in self._shuffled(pairs):
            if sum(t.kind is AnomalyKind.RELATED_PARTY for t in truth) >= want:
                break
            if seller in busy or buyer in busy:
                continue
            for field in self.rng.sample([0, 2], 2):  # legal representative, phone
                value = contacts[buyer][field]
                if value and counts[field][value] == 1:
                    _set(contacts, counts, seller, field, value)
                    changed[seller] = None
                    busy |= {seller, buyer}
                    self.related[frozenset((seller, buyer))] = field
                    what = "legal representative" if field == 0 else "phone"
                    note = f"{seller} and {buyer} trade and share the {what} {value}"
                    truth.append(
                        PlantedAnomaly(
                            AnomalyKind.RELATED_PARTY, (), tuple(sorted((seller, buyer))), note
                        )
                    )
                    break
        self._unrelate(contacts, counts, changed)
        return {uscc: (c[0], c[1], c[2]) for uscc, c in ((u, contacts[u]) for u in changed)}

    def _unrelate(
        self,
        contacts: dict[str, list[str | None]],
        counts: list[Counter[str | None]],
        changed: dict[str, None],
    ) -> None:
        trading = dict.fromkeys((r.seller_uscc, r.buyer_uscc) for r in self.region.relations)
        trading.update(dict.fromkeys((d.seller_uscc, d.buyer_uscc) for d in self.docs))
        for seller, buyer in trading:
            for field in range(3):
                value = contacts[seller][field]
                if value is None or value != contacts[buyer][field]:
                    continue
                if self.related.get(frozenset((seller, buyer))) == field:
                    continue
                _set(contacts, counts, seller, field, self._fresh(field, value, counts[field]))
                changed[seller] = None

    def _fresh(self, field: int, old: str, taken: Counter[str | None]) -> str:
        rng = self.rng
        while True:
            if field == 0:
                value = old[0] + rng.choice(_FRESH_GIVEN) + rng.choice(_FRESH_GIVEN)
            elif field == 1:
                value = f"{old}{rng.randint(101, 2999)}室"
            else:
                value = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            if not taken[value]:
                return value

    def related_truth(self, truth: list[PlantedAnomaly]) -> list[PlantedAnomaly]:
        """The planted related parties name their invoices to each other, in either direction."""
        keys: dict[frozenset[str], list[str]] = {pair: [] for pair in self.related}
        for doc in self.docs:
            if doc.kind is DocumentKind.INVOICE:
                found = keys.get(frozenset((doc.seller_uscc, doc.buyer_uscc)))
                if found is not None:
                    found.append(document_key(doc))
        return [
            replace(t, documents=tuple(sorted(keys[frozenset(t.enterprises)])))
            if t.kind is AnomalyKind.RELATED_PARTY
            else t
            for t in truth
        ]


_FRESH_GIVEN = "晓俊鹏嘉梓浩宇欣怡雨泽睿涵萱轩铭瑾霖"


def _set(
    contacts: dict[str, list[str | None]],
    counts: list[Counter[str | None]],
    uscc: str,
    field: int,
    value: str,
) -> None:
    old = contacts[uscc][field]
    if old:
        counts[field][old] -= 1
    contacts[uscc][field] = value
    counts[field][value] += 1


def _total(net_minor: int) -> int:
    return net_minor + _vat(net_minor, GOODS_VAT_PCT)


def _vat_pct(seller: EnterpriseRecord) -> int:
    for role, pct in VAT_PCT.items():
        if role in seller.roles:
            return pct
    return GOODS_VAT_PCT


def _orders_per_year(tier: int, employees: int | None) -> int:
    base = _ORDERS_PER_YEAR[tier]
    if employees is not None and employees >= 1000:
        return base * 4 // 3
    if employees is not None and employees < 50:
        return max(4, base * 2 // 3)
    return base


def _transit_days(origin: str, destination: str) -> tuple[int, int]:
    if origin[:4] == destination[:4]:
        return (1, 2)
    if origin[:2] == destination[:2]:
        return (1, 3)
    return (2, 5)


# ---------------------------------------------------------------------------------------
# Default outcomes: a latent risk per firm from its chain behaviour, and later defaults

DEFAULT_HORIZON_DAYS = 182  # defaults fall in the half year after the cut-off
DEFAULT_BASE_RATE = 0.05  # the mean probability of default the intercept is solved for
_BEHAVIOUR_DAYS = 182  # the behaviour the latent risk reads: the half year before the cut-off
# Weights of the standardised behaviour measures in the latent risk, and of the noise (a
# standard normal per firm: what the documents do not show, e.g. the owner's other debts).
DEFAULT_DRIVERS: Mapping[str, float] = {
    "sales_falling": 0.7,  # log(previous quarter's invoiced sales / last quarter's)
    "paid_slowly": 0.6,  # mean days from its invoice to the payment of it
    "paid_late": 0.4,  # mean days its payments came after the due date
    "returns": 0.5,  # credit notes per invoice issued
    "dependence": 0.6,  # its largest customer's share of its invoiced sales
    "short_tenure": 0.4,  # −days since its first document
    "small": 0.5,  # −log of its invoiced sales in the half year
}
DEFAULT_NOISE = 1.0


@dataclass(frozen=True, slots=True)
class DefaultOutcome:
    """A firm's latent default risk at the cut-off and whether it defaults afterwards.

    ``latent`` is the weighted sum of its standardised behaviour measures plus noise;
    ``pd`` = logistic(intercept + latent), the intercept solved so the mean ``pd`` over the
    firms is :data:`DEFAULT_BASE_RATE`; ``default_on`` is a day in the horizon after the
    cut-off when ``defaulted``, else None. ``drivers`` are the standardised measures."""

    defaulted: bool
    default_on: date | None
    latent: float
    pd: float
    drivers: Mapping[str, float]


def history_end(history: TradeHistory) -> date:
    """The first day after the last document."""
    return max(d.issue_date for d in history.documents) + timedelta(days=1)


def default_cutoff(history: TradeHistory) -> date:
    """:data:`DEFAULT_HORIZON_DAYS` before the history ends, so the horizon after it is
    still inside the history."""
    return history_end(history) - timedelta(days=DEFAULT_HORIZON_DAYS)


def default_outcomes(
    region: SyntheticRegion,
    history: TradeHistory,
    *,
    seed: int,
    cutoff: date | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    base_rate: float = DEFAULT_BASE_RATE,
) -> dict[str, DefaultOutcome]:
    """Per firm that invoiced anything in the half year before ``cutoff`` (default
    :func:`default_cutoff`): its latent risk from what the documents dated before the
    cut-off show, and a default drawn from it, dated in the ``horizon_days`` after it.

    Reads ``history`` and never changes it, and draws from its own ``random.Random``, so
    :func:`generate_history` gives the same documents as before. Deterministic in its
    arguments. Only documents dated before ``cutoff`` count: nothing after the cut-off
    leaks into the latent risk. The documents after the cut-off are the history's as
    generated: a firm that defaults goes on trading there (the history knows nothing of
    defaults), so do not read behaviour after the cut-off as a symptom of default."""
    if not 0 < base_rate < 1:
        raise ValueError("base_rate is a fraction between 0 and 1")
    if horizon_days < 1:
        raise ValueError("give a horizon of at least one day")
    cut = cutoff if cutoff is not None else default_cutoff(history)
    measures = _behaviour(history.documents, cut)
    roles = {e.uscc: e.roles for e in region.enterprises}
    firms = sorted(u for u in measures if Role.BANK not in roles.get(u, frozenset()))
    if not firms:
        return {}
    z = {name: _standardised([measures[u][name] for u in firms]) for name in DEFAULT_DRIVERS}
    rng = random.Random(f"chainfin.demo.trade_history.defaults:{seed}")
    latent = {}
    for i, u in enumerate(firms):
        behaviour = sum(w * z[name][i] for name, w in DEFAULT_DRIVERS.items())
        latent[u] = behaviour + DEFAULT_NOISE * rng.gauss(0.0, 1.0)
    intercept = _intercept_for(list(latent.values()), base_rate)
    out = {}
    for i, u in enumerate(firms):
        pd_ = _logistic(intercept + latent[u])
        defaulted = rng.random() < pd_
        day = rng.randint(1, horizon_days)  # drawn for every firm: one stream, fixed order
        out[u] = DefaultOutcome(
            defaulted=defaulted,
            default_on=cut + timedelta(days=day - 1) if defaulted else None,
            latent=latent[u],
            pd=pd_,
            drivers={name: z[name][i] for name in DEFAULT_DRIVERS},
        )
    return out


def _behaviour(documents: Iterable[TradeDocument], cut: date) -> dict[str, dict[str, float]]:
    """The raw behaviour measures of :data:`DEFAULT_DRIVERS` per seller, from the documents
    dated before ``cut``; sales measures over the half year before it."""
    since = cut - timedelta(days=_BEHAVIOUR_DAYS)
    quarter = cut - timedelta(days=_BEHAVIOUR_DAYS // 2)
    first: dict[str, date] = {}
    invoices: dict[str, TradeDocument] = {}  # by official number, dated before the cut-off
    recent: dict[str, list[int]] = {}  # seller -> [invoices, credit notes, previous q, last q]
    buyers: dict[str, Counter[str]] = {}
    payments: list[TradeDocument] = []
    for d in documents:
        if d.issue_date >= cut:
            continue
        for u in (d.seller_uscc, d.buyer_uscc):
            if u not in first or d.issue_date < first[u]:
                first[u] = d.issue_date
        if d.kind is DocumentKind.INVOICE:
            if d.invoice_number is not None:
                invoices.setdefault(d.invoice_number, d)
            if d.issue_date >= since:
                r = recent.setdefault(d.seller_uscc, [0, 0, 0, 0])
                r[0] += 1
                r[3 if d.issue_date >= quarter else 2] += d.total.amount_minor
                buyers.setdefault(d.seller_uscc, Counter())[d.buyer_uscc] += d.total.amount_minor
        elif d.kind is DocumentKind.CREDIT_NOTE and d.issue_date >= since:
            recent.setdefault(d.seller_uscc, [0, 0, 0, 0])[1] += 1
        elif d.kind is DocumentKind.PAYMENT and d.issue_date >= since:
            payments.append(d)
    waited: dict[str, list[int]] = {}
    late: dict[str, list[int]] = {}
    for p in payments:
        invoice = invoices.get(p.invoice_number or "")
        if invoice is None or invoice.seller_uscc != p.seller_uscc:
            continue
        waited.setdefault(p.seller_uscc, []).append((p.issue_date - invoice.issue_date).days)
        if invoice.due_date is not None:
            late.setdefault(p.seller_uscc, []).append((p.issue_date - invoice.due_date).days)
    out = {}
    for u, (n_invoices, n_credits, previous, last) in recent.items():
        if n_invoices == 0:
            continue
        sales = sum(buyers[u].values())
        out[u] = {
            "sales_falling": math.log((previous + 1) / (last + 1)),
            "paid_slowly": _mean(waited.get(u), 0.0),
            "paid_late": _mean(late.get(u), 0.0),
            "returns": n_credits / n_invoices,
            "dependence": max(buyers[u].values()) / sales if sales else 1.0,
            "short_tenure": -float((cut - first[u]).days),
            "small": -math.log(sales + 1),
        }
    return out


def _mean(values: Sequence[int] | None, empty: float) -> float:
    return sum(values) / len(values) if values else empty


def _standardised(values: Sequence[float]) -> list[float]:
    """(x − mean) / sd, clipped to ±4 so one extreme firm cannot dominate; all 0 if flat."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    if sd == 0:
        return [0.0] * n
    return [max(-4.0, min(4.0, (v - mean) / sd)) for v in values]


def _logistic(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _intercept_for(latent: Sequence[float], rate: float) -> float:
    """The intercept a with mean(logistic(a + latent)) = rate, by bisection."""
    low, high = -50.0, 50.0
    for _ in range(100):
        mid = (low + high) / 2
        if sum(_logistic(mid + x) for x in latent) / len(latent) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2
