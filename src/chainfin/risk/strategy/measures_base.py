"""What every chain measure reads, indexed once per chain: the members by USCC, the trade
flows of the 12-month window and the 12 months before it, the cores, the bank's position.

The window is the 12 months ending at the dataset's ``as_of``: the months whose first day
is later than ``as_of`` minus 12 months (``as_of`` 2026-06-30 → July 2025 … June 2026).
Every index is built in one pass over the chain's members, links and flows, so a chain
costs O(members + links + flows).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import networkx as nx  # type: ignore[import-untyped]

from chainfin.domain.strategy.dataset import Exposure, MarketFirm, MarketLink, TradeFlow
from chainfin.domain.strategy.results import Measure
from chainfin.risk.strategy.graph import ChainMembers, RegionView

Inputs = dict[str, float | int | str]


def months_back(day: date, months: int) -> date:
    """``day`` moved back by whole months, the day clamped to the target month's length."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def month_start(day: date) -> date:
    return day.replace(day=1)


def yuan(minor: int | float) -> float:
    return minor / 100


@dataclass
class ChainContext:
    view: RegionView
    cm: ChainMembers
    as_of: date
    min_firms: int
    lgd_default: float
    firms: dict[str, MarketFirm | None] = field(default_factory=dict)  # distinct members
    in_region: dict[str, bool] = field(default_factory=dict)
    cores: tuple[str, ...] = ()
    flows12: list[TradeFlow] = field(default_factory=list)
    flows_all: list[TradeFlow] = field(default_factory=list)  # up to as_of
    sales12: dict[str, int] = field(default_factory=dict)  # seller -> 12m amount
    pair12: dict[tuple[str, str], int] = field(default_factory=dict)  # (seller, buyer)
    links_of: dict[str, list[MarketLink]] = field(default_factory=dict)
    exposures: dict[str, Exposure] = field(default_factory=dict)  # summed per USCC

    @property
    def start12(self) -> date:
        """Months later than this day are in the 12-month window."""
        return months_back(self.as_of, 12)

    @property
    def non_cores(self) -> list[str]:
        cores = set(self.cores)
        return [u for u in self.firms if u not in cores]

    def has_input(self, name: str) -> bool:
        """False when the dataset lists the input as not given."""
        return name not in self.view.dataset.missing


def context(
    view: RegionView, chain_key: str, *, min_firms: int, lgd_default: float
) -> ChainContext:
    cm = view.members(chain_key)
    ctx = ChainContext(view, cm, view.as_of, min_firms, lgd_default)
    cores: list[str] = []
    for m in cm.members:
        if m.uscc not in ctx.firms:
            ctx.firms[m.uscc] = m.firm
            ctx.in_region[m.uscc] = m.in_region
        if m.side == "core":
            cores.append(m.uscc)
    ctx.cores = tuple(cores)
    start = ctx.start12
    sales: dict[str, int] = defaultdict(int)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for fl in cm.flows:
        if fl.month > ctx.as_of:
            continue
        ctx.flows_all.append(fl)
        if fl.month > start:
            ctx.flows12.append(fl)
            sales[fl.seller] += fl.amount_minor
            pairs[(fl.seller, fl.buyer)] += fl.amount_minor
    ctx.sales12 = dict(sales)
    ctx.pair12 = dict(pairs)
    links: dict[str, list[MarketLink]] = defaultdict(list)
    for lk in cm.links:
        links[lk.seller].append(lk)
        links[lk.buyer].append(lk)
    ctx.links_of = dict(links)
    bank = view.dataset.bank
    if bank is not None:
        for ex in bank.exposures:
            if ex.uscc not in ctx.firms:
                continue
            ctx.exposures[ex.uscc] = _merge(ctx.exposures.get(ex.uscc), ex)
    return ctx


def _merge(old: Exposure | None, new: Exposure) -> Exposure:
    """Several exposure rows of one firm as one: amounts summed, overdue if any is, the
    exposure-weighted PD and LGD where every row has one."""
    if old is None:
        return new
    total = old.exposure_minor + new.exposure_minor

    def blend(a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return None
        if total == 0:
            return max(a, b)
        return (a * old.exposure_minor + b * new.exposure_minor) / total

    return Exposure(
        uscc=new.uscc,
        exposure_minor=total,
        limit_minor=old.limit_minor + new.limit_minor,
        credentials_funded_minor=old.credentials_funded_minor + new.credentials_funded_minor,
        overdue=old.overdue or new.overdue,
        pd=blend(old.pd, new.pd),
        lgd=blend(old.lgd, new.lgd),
    )


def missing(key: str, unit: str, note: str, inputs: Inputs | None = None) -> Measure:
    return Measure(key, None, unit, "missing", dict(inputs or {}), note)


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


_PAGERANK: weakref.WeakKeyDictionary[RegionView, dict[str, float]] = weakref.WeakKeyDictionary()


def region_pagerank(view: RegionView) -> dict[str, float]:
    """Each chain member's PageRank in the region's whole supply network — the members of
    every chain of the region, joined by the links and 12-month trade pairs among them,
    undirected and unweighted — times the number of firms in that network, so that the
    average firm scores 1 and a core's score says how many average firms its place in the
    network is worth. Computed once per view.

    In the whole region rather than inside each chain, so that chains compare (inside a
    chain alone a small chain's core takes a larger share of a smaller total); unweighted,
    so that links known only from a registry count as much as links seen in trade (trade
    volume is weighed by the growth and financing measures)."""
    found = _PAGERANK.get(view)
    if found is not None:
        return found
    start = months_back(view.as_of, 12)
    nodes: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for chain in view.chains:
        cm = view.members(chain.key)
        nodes.update(m.uscc for m in cm.members)
        ends = [(lk.seller, lk.buyer) for lk in cm.links]
        ends += [(f.seller, f.buyer) for f in cm.flows if start < f.month <= view.as_of]
        pairs.update((min(a, b), max(a, b)) for a, b in ends if a != b)
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from(sorted(pairs))
    rank = nx.pagerank(graph) if graph.number_of_edges() else {}
    found = {node: value * len(nodes) for node, value in rank.items()}
    _PAGERANK[view] = found
    return found
