"""The attractiveness measures read from market data: completeness, local supporting rate,
core strength, concentration, SME depth, growth and policy priority (definitions in
docs/strategy.md, section "Measures")."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from chainfin.domain.strategy.ratings import quality, rating_index
from chainfin.domain.strategy.results import Measure
from chainfin.risk.strategy.maps import segment_counts, template_of
from chainfin.risk.strategy.measures_base import (
    ChainContext,
    Inputs,
    missing,
    month_start,
    months_back,
    region_pagerank,
)

UNRATED_QUALITY = 0.5  # quality of a core without a rating on the scale
SME_SIZES = ("medium", "small", "micro")
SME_TIERS = (1, 2, 3)
ENTRY_DAYS = 365  # a member first seen within this many days is an entrant
EXIT_DAYS = 365  # a member none of whose links was seen within this many days is a leaver
PREFECTURE_PRIORITY = 1.0
PROVINCE_PRIORITY = 0.75


def completeness(ctx: ChainContext) -> tuple[Measure, Measure]:
    """Completeness and the informational count of single points of failure."""
    template = template_of(ctx.view, ctx.cm.chain.kind)
    if not template:
        note = f"chain kind {ctx.cm.chain.kind} has no segment template"
        return (
            missing("completeness", "share", note),
            missing("single_points_of_failure", "count", note),
        )
    counts = segment_counts(ctx.cm)
    present = [s for s in template if counts.get((s.stage, s.division), 0) >= ctx.min_firms]
    critical_missing = [s.key for s in template if s.critical and s not in present]
    single = [s.key for s in template if s.critical and counts.get((s.stage, s.division)) == 1]
    inputs: Inputs = {
        "segments_total": len(template),
        "segments_present": len(present),
        "critical_missing": ", ".join(critical_missing) or "none",
        "min_firms": ctx.min_firms,
    }
    return (
        Measure("completeness", len(present) / len(template), "share", "data", inputs),
        Measure(
            "single_points_of_failure",
            float(len(single)),
            "count",
            "data",
            {
                "critical_segments": sum(1 for s in template if s.critical),
                "single_source": ", ".join(single) or "none",
            },
        ),
    )


def local_supporting_rate(ctx: ChainContext) -> Measure:
    key = "local_supporting_rate"
    local = total = 0
    for (seller, buyer), amount in ctx.pair12.items():
        if ctx.in_region[buyer]:
            total += amount
            if ctx.in_region[seller]:
                local += amount
    if total > 0:
        inputs: Inputs = {"local_minor": local, "purchases_minor": total}
        return Measure(key, local / total, "share", "data", inputs)
    from_io = _local_from_io(ctx)
    if from_io is not None:
        return from_io
    buys = [lk for lk in ctx.cm.links if ctx.in_region[lk.buyer]]
    if buys:
        n_local = sum(1 for lk in buys if ctx.in_region[lk.seller])
        note = (
            "no 12-month purchases by in-region members and no input-output share: from link counts"
        )
        inputs = {"local_links": n_local, "links": len(buys)}
        return Measure(key, n_local / len(buys), "share", "fallback", inputs, note)
    return missing(key, "share", "no purchases, input-output shares or links of in-region members")


def _local_from_io(ctx: ChainContext) -> Measure | None:
    shares = {(s.region_code, s.division): s.local_share for s in ctx.view.dataset.io_shares}
    if not shares:
        return None
    found: list[tuple[float, int | None]] = []
    unmatched = 0
    for uscc, firm in ctx.firms.items():
        if firm is None or not ctx.in_region[uscc]:
            continue
        share = shares.get((firm.region_code[:2] + "0000", firm.industry_code))
        if share is None:
            unmatched += 1
            continue
        found.append((share, firm.revenue_minor))
    if not found:
        return None
    by_revenue = all(r is not None and r > 0 for _, r in found)
    weights = [float(r) if by_revenue and r is not None else 1.0 for _, r in found]
    value = sum(s * w for (s, _), w in zip(found, weights, strict=True)) / sum(weights)
    note = (
        "no 12-month purchases by in-region members: input-output local shares of their "
        f"province and division, weighted {'by revenue' if by_revenue else 'equally'}"
    )
    if unmatched:
        note += f"; {unmatched} in-region members have no input-output share"
    inputs: Inputs = {
        "members_matched": len(found),
        "members_unmatched": unmatched,
        "weighting": "revenue" if by_revenue else "equal",
    }
    return Measure("local_supporting_rate", value, "share", "fallback", inputs, note)


def core_strength(ctx: ChainContext) -> Measure:
    key = "core_strength"
    if not ctx.firms:
        return missing(key, "score", "the chain has no members", {"core_rating": "unrated"})
    if not ctx.cm.links and not ctx.pair12:
        note = "the chain has no links or flows: no PageRank"
        return missing(key, "score", note, {"core_rating": _best_rating(ctx)})
    rank = region_pagerank(ctx.view)
    inputs: Inputs = {}
    notes: list[str] = []
    ratings: list[str] = []
    value = 0.0
    for core in ctx.cores:
        firm = ctx.firms[core]
        rating = firm.rating if firm is not None else None
        q = quality(rating)
        if rating is not None and q is not None:
            ratings.append(rating.strip().upper())
        else:
            q = UNRATED_QUALITY
            notes.append(f"core {core} unrated: quality taken as {UNRATED_QUALITY}")
        value += rank.get(core, 0.0) * q
        inputs[f"pagerank_{core}"] = rank.get(core, 0.0)
        inputs[f"quality_{core}"] = q
    inputs["core_rating"] = min(ratings, key=rating_index) if ratings else "unrated"
    inputs["region_firms"] = len(rank)
    basis = "fallback" if notes else "data"
    return Measure(key, value, "score", basis, inputs, "; ".join(notes) or None)


def _best_rating(ctx: ChainContext) -> str:
    ratings = [
        f.rating.strip().upper()
        for c in ctx.cores
        if (f := ctx.firms[c]) is not None
        and f.rating is not None
        and quality(f.rating) is not None
    ]
    return min(ratings, key=rating_index) if ratings else "unrated"


def concentration(ctx: ChainContext) -> Measure:
    key = "concentration"
    by_core: dict[str, dict[str, int]] = {c: defaultdict(int) for c in ctx.cores}
    for (seller, buyer), amount in ctx.pair12.items():
        if buyer in by_core and seller != buyer:
            by_core[buyer][seller] += amount
    weighted = total = 0.0
    inputs: Inputs = {}
    for core, bought in by_core.items():
        core_total = sum(bought.values())
        if core_total <= 0:
            continue
        hhi = sum((a / core_total) ** 2 for a in bought.values())
        inputs[f"hhi_{core}"] = hhi
        inputs[f"purchases_{core}_minor"] = core_total
        weighted += hhi * core_total
        total += core_total
    if total > 0:
        return Measure(key, weighted / total, "index", "data", inputs)
    hhis: list[float] = []
    for core in ctx.cores:
        suppliers = {lk.seller for lk in ctx.links_of.get(core, ()) if lk.buyer == core}
        suppliers.discard(core)
        if suppliers:
            hhis.append(1 / len(suppliers))
            inputs[f"suppliers_{core}"] = len(suppliers)
    if not hhis:
        return missing(key, "index", "the cores have neither 12-month purchases nor suppliers")
    note = "no 12-month purchases by the cores: 1/n over each core's direct suppliers"
    return Measure(key, sum(hhis) / len(hhis), "index", "fallback", inputs, note)


def sme_depth(ctx: ChainContext) -> Measure:
    seen: set[str] = set()
    sme = unknown = 0
    for m in ctx.cm.members:
        if m.side != "upstream" or m.tier not in SME_TIERS or m.uscc in seen:
            continue
        seen.add(m.uscc)
        size = m.firm.size_class if m.firm is not None else None
        if size is None:
            unknown += 1
        elif size in SME_SIZES:
            sme += 1
    inputs: Inputs = {"sme": sme, "size_unknown": unknown, "upstream_tier1_3": len(seen)}
    if seen and unknown == len(seen):
        return missing("sme_depth", "count", "no size class known for any upstream member", inputs)
    note = f"{unknown} upstream members of unknown size not counted" if unknown else None
    return Measure("sme_depth", float(sme), "count", "data", inputs, note)


def _window_total(ctx: ChainContext, after: date, until: date) -> int:
    return sum(f.amount_minor for f in ctx.flows_all if after < f.month <= until)


def trade_trend(ctx: ChainContext) -> Measure:
    key = "trade_trend"
    if not ctx.flows_all:
        return missing(key, "rate", "no trade flows among the chain's members")
    earliest = min(f.month for f in ctx.flows_all)
    long_history = earliest <= month_start(months_back(ctx.as_of, 23))
    span = 12 if long_history else 6
    mid = months_back(ctx.as_of, span)
    start = months_back(ctx.as_of, 2 * span)
    last = _window_total(ctx, mid, ctx.as_of)
    prior = _window_total(ctx, start, mid)
    inputs: Inputs = {"last_minor": last, "prior_minor": prior, "months": span}
    if prior == 0:
        return missing(key, "rate", f"no trade in the {span} months before the last {span}", inputs)
    value = (last - prior) / prior
    if long_history:
        return Measure(key, value, "rate", "data", inputs)
    note = "less than 24 months of flows: last 6 months against the 6 before"
    return Measure(key, value, "rate", "fallback", inputs, note)


def net_entry(ctx: ChainContext) -> Measure:
    key = "net_entry"
    if not ctx.firms:
        return missing(key, "rate", "the chain has no members")
    entry_after = ctx.as_of - timedelta(days=ENTRY_DAYS)
    exit_before = ctx.as_of - timedelta(days=EXIT_DAYS)
    entrants = leavers = 0
    for uscc in ctx.non_cores:
        links = ctx.links_of.get(uscc, ())
        if not links:
            continue
        if min(lk.first_seen_on for lk in links) >= entry_after:
            entrants += 1
        if max(lk.last_seen_on for lk in links) < exit_before:
            leavers += 1
    inputs: Inputs = {"entrants": entrants, "leavers": leavers, "members": len(ctx.firms)}
    return Measure(key, (entrants - leavers) / len(ctx.firms), "rate", "data", inputs)


def growth(trend: Measure, entry: Measure) -> Measure:
    parts = [m for m in (trend, entry) if m.value is not None]
    if not parts:
        return missing("growth", "rate", "neither trade trend nor net entry could be computed")
    inputs: Inputs = {m.key: m.value for m in parts if m.value is not None}
    value = sum(m.value for m in parts if m.value is not None) / len(parts)
    if len(parts) == 2 and all(m.basis == "data" for m in parts):
        return Measure("growth", value, "rate", "data", inputs)
    notes = [f"{m.key} missing" for m in (trend, entry) if m.value is None]
    notes += [f"{m.key} from a fallback" for m in parts if m.basis == "fallback"]
    return Measure("growth", value, "rate", "fallback", inputs, "; ".join(notes))


def policy_priority(ctx: ChainContext) -> Measure:
    key = "policy_priority"
    policies = ctx.view.dataset.policies
    if not ctx.has_input("policies") or not policies:
        return missing(key, "score", "no policy list imported")
    chain = ctx.cm.chain
    prefecture = chain.region_code[:4] + "00"
    province = chain.region_code[:2] + "0000"
    codes = {p.region_code for p in policies if p.kind == chain.kind}
    inputs: Inputs = {"prefecture": prefecture, "province": province}
    if prefecture in codes:
        return Measure(
            key, PREFECTURE_PRIORITY, "score", "data", inputs | {"listed_at": prefecture}
        )
    if province in codes:
        return Measure(key, PROVINCE_PRIORITY, "score", "data", inputs | {"listed_at": province})
    return Measure(key, 0.0, "score", "data", inputs | {"listed_at": "none"})
