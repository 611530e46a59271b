"""The synthetic region's market data for the regional chain analysis, as the CSV files a
bank would import (``chainfin.domain.strategy.csv_input``): enterprises, chains, relations,
monthly trade flows and a demo policy list.

Pure and deterministic: the same ``(region, history, as_of, seed)`` give the same bytes.

* enterprises.csv: every firm but the banks; roles core, supplier, dealer, and service for
  logistics and warehouse firms. Cores get a rating drawn from the seed within AAA…A-
  (synthetic: no agency rated these invented firms); the others are unrated.
* chains.csv: one row per generated chain, keyed ``<region>-<kind>-<n>`` (``yrd-nev-1``),
  its kind the plan it was drawn from.
* relations.csv: one row per (seller, buyer): ``platform_trade`` when the pair traded on the
  platform, first seen on the relation's start date or its first trade document if earlier
  (the platform's year of documents is not the start of the relation), last seen on its last
  document dated on or before ``as_of``; else ``declared``, seen on the relation's start date
  (a relation that starts after ``as_of`` is left out).
* trade_flows.csv: invoice totals (VAT included) per pair and month, invoices dated on or
  before ``as_of`` of pairs with a relation; ``paid_late_yuan`` the part of those invoices
  paid (on or before ``as_of``) after their due date. Credit notes are not netted.
* policies.csv: a small demo list per region, marked as not an official list.

The import hook (:func:`import_markets`) gives every bank of the region this dataset, as a
strategist of that bank would import it.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank
from chainfin.demo.synthetic import SyntheticRegion, region_key_of
from chainfin.demo.trade_history import TradeHistory
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.documents import DocumentKind
from chainfin.domain.money import Money
from chainfin.domain.registry import Role
from chainfin.services import strategy

LABEL = "合成市场数据 synthetic market data (seed {seed})"
CORE_RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-")
POLICY_SOURCE = "示例：演示用重点产业链清单 (not an official list)"
# (region code, chain kind, level) per region key: a demo list, not any government's.
POLICIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "yrd": (
        ("320000", "nev", "province"),
        ("320000", "ic", "province"),
        ("310000", "ic", "province"),
    ),
    "gba": (("440000", "electronics", "province"), ("440300", "nev", "prefecture")),
    "jjj": (("130000", "steel", "province"), ("110000", "auto", "province")),
}
_ROLES = (  # the market role of a firm with these registry roles, in precedence order
    (Role.CORE, "core"),
    (Role.SUPPLIER, "supplier"),
    (Role.DEALER, "dealer"),
    (Role.LOGISTICS, "service"),
    (Role.WAREHOUSE, "service"),
)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _yuan(minor: int | None) -> str:
    return "" if minor is None else Money(minor).to_decimal_string()


def chain_keys(region: SyntheticRegion) -> list[str]:
    """``<region>-<kind>-<n>`` per chain, n counting the chains of that kind in the region."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    keys = []
    for chain, kind in zip(region.chains, region.chain_kinds, strict=True):
        where = region_key_of(chain.region_code)
        prefix = where.value if where is not None else chain.region_code
        seen[(prefix, kind)] += 1
        keys.append(f"{prefix}-{kind}-{seen[(prefix, kind)]}")
    return keys


def _enterprises(region: SyntheticRegion, seed: int) -> bytes:
    cores = sorted({u for c in region.chains for u in c.core_usccs})
    rng = random.Random(f"chainfin.demo.strategy_market:{seed}")
    ratings = {u: rng.choice(CORE_RATINGS) for u in cores}
    rows = []
    for e in sorted(region.enterprises, key=lambda e: e.uscc):
        role = next((name for r, name in _ROLES if r in e.roles), None)
        if role is None:  # a bank: not a member of any chain
            continue
        revenue = e.revenue.amount_minor if e.revenue is not None else None
        employees = "" if e.employees is None else str(e.employees)
        rows.append(
            (e.uscc, e.name, e.region_code, e.industry_code, role, "", employees,
             _yuan(revenue), ratings.get(e.uscc, ""))
        )  # fmt: skip
    header = ("uscc", "name", "region_code", "industry_code", "role", "size_class")
    return _csv((*header, "employees", "revenue_yuan", "rating"), rows)


def _chains(region: SyntheticRegion) -> bytes:
    rows = [
        (key, c.name, kind, ";".join(c.core_usccs), c.region_code, c.max_tier)
        for key, c, kind in zip(chain_keys(region), region.chains, region.chain_kinds, strict=True)
    ]
    return _csv(("chain_key", "name", "kind", "core_usccs", "region_code", "max_tier"), rows)


def _pairs(region: SyntheticRegion) -> dict[tuple[str, str], date]:
    """(seller, buyer) -> the earliest start of their relations."""
    since: dict[tuple[str, str], date] = {}
    for r in region.relations:
        key = (r.seller_uscc, r.buyer_uscc)
        if key not in since or r.since < since[key]:
            since[key] = r.since
    return since


def _relations(pairs: dict[tuple[str, str], date], history: TradeHistory, as_of: date) -> bytes:
    seen: dict[tuple[str, str], list[date]] = {}
    for d in history.documents:
        key = (d.seller_uscc, d.buyer_uscc)
        if d.issue_date > as_of or key not in pairs:
            continue
        span = seen.get(key)
        if span is None:
            seen[key] = [d.issue_date, d.issue_date]
        else:
            span[0] = min(span[0], d.issue_date)
            span[1] = max(span[1], d.issue_date)
    rows = []
    for (seller, buyer), since in sorted(pairs.items()):
        if (seller, buyer) in seen:
            first, last = seen[(seller, buyer)]
            first = min(first, since)
            rows.append((seller, buyer, "platform_trade", first.isoformat(), last.isoformat()))
        elif since <= as_of:
            rows.append((seller, buyer, "declared", since.isoformat(), since.isoformat()))
    return _csv(("seller_uscc", "buyer_uscc", "provenance", "first_seen_on", "last_seen_on"), rows)


def _flows(pairs: dict[tuple[str, str], date], history: TradeHistory, as_of: date) -> bytes:
    totals: dict[tuple[str, str, date], int] = defaultdict(int)
    late: dict[tuple[str, str, date], int] = defaultdict(int)
    invoices: dict[tuple[str, str], tuple[date, date | None]] = {}  # (seller, number) -> ...
    payments = []
    for d in history.documents:
        if d.issue_date > as_of or (d.seller_uscc, d.buyer_uscc) not in pairs:
            continue
        if d.kind is DocumentKind.INVOICE:
            month = d.issue_date.replace(day=1)
            totals[(d.seller_uscc, d.buyer_uscc, month)] += d.total.amount_minor
            if d.invoice_number is not None:
                invoices.setdefault((d.seller_uscc, d.invoice_number), (d.issue_date, d.due_date))
        elif d.kind is DocumentKind.PAYMENT:
            payments.append(d)
    for p in payments:
        invoice = invoices.get((p.seller_uscc, p.invoice_number or ""))
        if invoice is None:
            continue
        issued, due = invoice
        if due is not None and p.issue_date > due:
            late[(p.seller_uscc, p.buyer_uscc, issued.replace(day=1))] += p.total.amount_minor
    rows = [
        (seller, buyer, f"{month:%Y-%m}", _yuan(amount),
         _yuan(min(late.get((seller, buyer, month), 0), amount)))
        for (seller, buyer, month), amount in sorted(totals.items())
    ]  # fmt: skip
    return _csv(("seller_uscc", "buyer_uscc", "month", "amount_yuan", "paid_late_yuan"), rows)


def _policies(region: SyntheticRegion, as_of: date) -> bytes:
    keys = sorted({k.value for c in region.chains if (k := region_key_of(c.region_code))})
    rows = [
        (code, kind, level, POLICY_SOURCE, as_of.year)
        for key in keys
        for code, kind, level in POLICIES.get(key, ())
    ]
    return _csv(("region_code", "kind", "level", "source", "year"), rows)


def market_files(
    region: SyntheticRegion, history: TradeHistory, *, as_of: date, seed: int
) -> dict[str, bytes]:
    """The region's market data as CSV files (see the module docstring)."""
    pairs = _pairs(region)
    return {
        "enterprises.csv": _enterprises(region, seed),
        "chains.csv": _chains(region),
        "relations.csv": _relations(pairs, history, as_of),
        "trade_flows.csv": _flows(pairs, history, as_of),
        "policies.csv": _policies(region, as_of),
    }


def market_as_of(history: TradeHistory) -> date:
    """The date the demo's market data is as of: the history's last document."""
    return max(d.issue_date for d in history.documents)


def import_markets(
    session: Session, region: SyntheticRegion, history: TradeHistory, *, seed: int
) -> int:
    """Import the region's market data for every bank of the region, as its strategist
    would; the number of banks. The caller commits."""
    files = market_files(region, history, as_of=market_as_of(history), seed=seed)
    codes = [b.code for b in region.banks]
    banks = session.scalars(select(Bank).where(Bank.code.in_(codes)).order_by(Bank.code))
    n = 0
    for bank in banks:
        actor = Principal.staff("demo:strategy", bank_id=bank.id, roles=[StaffRole.STRATEGIST])
        strategy.import_market(session, actor, files, label=LABEL.format(seed=seed))
        n += 1
    return n
