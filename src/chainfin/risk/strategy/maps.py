"""Chain maps (产业链图谱): each chain of a region laid on its kind's segment tree, with its
members, its links and how fresh they are.

A segment is *present* when at least ``min_firms`` members inside the region sit on it (the
same minimum the completeness measure uses) and a *single source* when exactly one does. A
member sits on the segment of its stage (from its side and tier, see
:func:`chainfin.domain.strategy.segments.stage_of`) and its firm's GB/T 4754 division; the
cores count at midstream by their division. Members the links name but the enterprises
input does not describe have no division and sit on no segment.

Link freshness follows :data:`chainfin.domain.strategy.results.FRESH_DAYS` and
:data:`~chainfin.domain.strategy.results.STALE_DAYS`; the chain's badge is ``fresh`` when at
least :data:`FRESH_BADGE` of its links are fresh, ``ageing`` from :data:`AGEING_BADGE`,
``stale`` below, ``unknown`` without links.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.strategy.results import (
    FRESH_DAYS,
    STALE_DAYS,
    ChainMap,
    Coverage,
    MapFirm,
    MapLink,
    SegmentNode,
)
from chainfin.domain.strategy.segments import STAGES, Segment
from chainfin.risk.strategy.graph import ChainMembers, RegionView

MIN_FIRMS = 3  # members inside the region for a segment to count as present
FRESH_BADGE = 0.8  # share of fresh links for a "fresh" chain
AGEING_BADGE = 0.5  # share of fresh links for an "ageing" chain
MAP_INPUTS = ("enterprises", "relations", "trade_flows", "customers")


def chain_maps(view: RegionView, *, min_firms: int = MIN_FIRMS) -> tuple[ChainMap, ...]:
    """The map of every chain of the region, in chain key order."""
    return tuple(chain_map(view, c.key, min_firms=min_firms) for c in view.chains)


def chain_map(view: RegionView, chain_key: str, *, min_firms: int = MIN_FIRMS) -> ChainMap:
    """One chain's map; :class:`KeyError` for a chain not in the region."""
    cm = view.members(chain_key)
    chain = cm.chain
    as_of = view.as_of
    customers = view.dataset.bank.customers if view.dataset.bank is not None else frozenset()
    firms = tuple(
        MapFirm(
            uscc=m.uscc,
            name=m.firm.name if m.firm else m.uscc,
            region_code=m.firm.region_code if m.firm else "",
            industry_code=m.firm.industry_code if m.firm else "",
            role=m.firm.role if m.firm else "",
            side=m.side,
            tier=m.tier,
            stage=m.stage,
            in_region=m.in_region,
            customer=m.uscc in customers,
        )
        for m in cm.members
    )
    links = tuple(
        MapLink(
            seller=lk.seller,
            buyer=lk.buyer,
            provenance=lk.provenance,
            last_seen_on=lk.last_seen_on,
            age_days=(view.today - lk.last_seen_on).days,
            freshness=freshness_of((view.today - lk.last_seen_on).days),
        )
        for lk in cm.links
    )
    fresh = sum(1 for lk in links if lk.freshness == "fresh")
    fresh_share = fresh / len(links) if links else 0.0
    return ChainMap(
        chain_key=chain.key,
        name=chain.name,
        kind=chain.kind,
        region=view.region.key,
        as_of=as_of,
        segments=segment_nodes(view, cm, min_firms=min_firms),
        firms=firms,
        links=links,
        fresh_share=fresh_share,
        freshness=badge(fresh_share) if links else "unknown",
        coverage=_coverage(view, cm, links),
    )


def freshness_of(age_days: int) -> str:
    """``fresh`` within FRESH_DAYS of the analysis date, ``ageing`` within STALE_DAYS, else
    ``stale``."""
    if age_days <= FRESH_DAYS:
        return "fresh"
    if age_days <= STALE_DAYS:
        return "ageing"
    return "stale"


def badge(fresh_share: float) -> str:
    if fresh_share >= FRESH_BADGE:
        return "fresh"
    if fresh_share >= AGEING_BADGE:
        return "ageing"
    return "stale"


def segment_counts(cm: ChainMembers) -> dict[tuple[str, str], int]:
    """Distinct members inside the region per (stage, division)."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in cm.members:
        if m.in_region and m.firm is not None:
            found[(m.stage, m.firm.industry_code)].add(m.uscc)
    return {k: len(v) for k, v in found.items()}


def template_of(view: RegionView, kind: str) -> tuple[Segment, ...]:
    found = view.kinds.get(kind)
    return found.segments if found is not None else ()


def segment_nodes(
    view: RegionView, cm: ChainMembers, *, min_firms: int = MIN_FIRMS
) -> tuple[SegmentNode, ...]:
    """The template's segments in table order, then the segments observed among the members
    but absent from the template (never critical), by stage then division."""
    counts = segment_counts(cm)
    template = template_of(view, cm.chain.kind)
    keys = {(s.stage, s.division) for s in template}
    extras = sorted((k for k in counts if k not in keys), key=lambda k: (STAGES.index(k[0]), k[1]))
    rows = [(s.stage, s.division, s.examples_zh, s.critical, True) for s in template]
    rows += [(stage, division, "", False, False) for stage, division in extras]
    out = []
    for stage, division, examples, critical, in_template in rows:
        n = counts.get((stage, division), 0)
        zh, en = division_labels(division)
        out.append(
            SegmentNode(
                stage=stage,
                division=division,
                label_zh=zh,
                label_en=en,
                examples_zh=examples,
                critical=critical,
                firm_count=n,
                present=n >= min_firms,
                single_source=n == 1,
                in_template=in_template,
            )
        )
    return tuple(out)


@cache
def division_labels(division: str) -> tuple[str, str]:
    """The GB/T 4754 names of a division; the code itself for a code the standard lacks."""
    try:
        found = parse_industry_code(division)
    except UnknownIndustry:
        return division, division
    return found.name_zh, found.name_en


def _input_present(view: RegionView, name: str) -> bool:
    ds = view.dataset
    if name in ds.missing:
        return False
    given = {
        "enterprises": bool(ds.firms),
        "relations": bool(ds.links),
        "trade_flows": bool(ds.flows),
        "customers": ds.bank is not None,
    }
    return given[name]


def _coverage(view: RegionView, cm: ChainMembers, links: tuple[MapLink, ...]) -> Coverage:
    present = tuple(n for n in MAP_INPUTS if _input_present(view, n))
    missing = tuple(n for n in MAP_INPUTS if n not in present)
    notes: list[str] = []
    old = (view.today - view.as_of).days
    if old > FRESH_DAYS:
        notes.append(
            f"the market data is as of {view.as_of.isoformat()}, {old} days before today: "
            "links age from today"
        )
    if cm.chain.kind not in view.kinds:
        notes.append(f"chain kind {cm.chain.kind} has no segment template: observed segments only")
    stale = sum(1 for lk in links if lk.freshness == "stale")
    if stale:
        notes.append(f"{stale} of {len(links)} links not seen for over {STALE_DAYS} days")
    unknown = len(set(cm.unknown))
    if unknown:
        are = "member named by the links is" if unknown == 1 else "members named by the links are"
        notes.append(f"{unknown} {are} missing from the enterprises input")
    if "trade_flows" in missing:
        notes.append("no trade flows: link provenance only")
    elif not cm.flows:
        notes.append("no trade flows among this chain's members: link provenance only")
    if "customers" in missing:
        notes.append("no bank position given: customers not marked")
    return Coverage(
        share=len(present) / len(MAP_INPUTS),
        inputs_present=present,
        inputs_missing=missing,
        notes=tuple(notes),
    )
