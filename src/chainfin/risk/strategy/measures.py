"""The measures of each chain of a region: every criterion of
:data:`chainfin.domain.strategy.criteria.CRITERIA` and every informational measure of
:data:`~chainfin.domain.strategy.criteria.INFORMATIONAL`, each with the figures it came from
and its basis (``data``, ``fallback`` when a documented substitute was used, ``missing``).

Definitions, formulas and fallbacks: docs/strategy.md, section "Measures". The market
measures live in :mod:`chainfin.risk.strategy.measures_market`, the financing and bank ones
in :mod:`chainfin.risk.strategy.measures_bank`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from chainfin.domain.strategy.criteria import CRITERIA, INFORMATIONAL
from chainfin.domain.strategy.dataset import RegionDataset
from chainfin.domain.strategy.results import ChainMeasures, Coverage, Measure
from chainfin.risk.strategy import measures_bank as bank
from chainfin.risk.strategy import measures_market as market
from chainfin.risk.strategy.graph import RegionView
from chainfin.risk.strategy.maps import MIN_FIRMS
from chainfin.risk.strategy.measures_base import ChainContext, context, month_start, months_back

LGD_DEFAULT = 0.45  # Basel foundation IRB LGD of senior unsecured claims
SERIES_MONTHS = 24
MEASURE_KEYS = tuple(c.key for c in CRITERIA) + INFORMATIONAL
# The inputs the measures read, for ChainMeasures.coverage.
MEASURE_INPUTS = (
    "enterprises",
    "relations",
    "trade_flows",
    "financials",
    "policies",
    "io_shares",
    "customers",
    "exposures",
    "alerts",
)


def measure_chains(
    view: RegionView, *, min_firms: int = MIN_FIRMS, lgd_default: float = LGD_DEFAULT
) -> tuple[ChainMeasures, ...]:
    """One :class:`ChainMeasures` per chain of the region, in chain key order."""
    return tuple(
        measure_chain(view, c.key, min_firms=min_firms, lgd_default=lgd_default)
        for c in view.chains
    )


def measure_chain(
    view: RegionView,
    chain_key: str,
    *,
    min_firms: int = MIN_FIRMS,
    lgd_default: float = LGD_DEFAULT,
) -> ChainMeasures:
    """One chain's measures; :class:`KeyError` for a chain not in the region."""
    ctx = context(view, chain_key, min_firms=min_firms, lgd_default=lgd_default)
    found: dict[str, Measure] = {}

    def put(*measures: Measure) -> None:
        for m in measures:
            found[m.key] = m

    put(*market.completeness(ctx))
    put(market.local_supporting_rate(ctx), market.core_strength(ctx), market.concentration(ctx))
    put(market.sme_depth(ctx))
    trend, entry = market.trade_trend(ctx), market.net_entry(ctx)
    put(trend, entry, market.growth(trend, entry), market.policy_priority(ctx))
    need, in_place, gap = bank.financing(ctx)
    put(need, in_place, gap, *bank.bank_shares(ctx, in_place, need))
    alert, late = bank.alert_and_delinquency(ctx)
    fragility = bank.debtrank_fragility(ctx)
    el, el_rate = bank.expected_loss(ctx)
    put(alert, late, fragility, el)
    put(
        bank.risk(
            {
                "alert_rate": alert.value,
                "delinquency_rate": late.value,
                "debtrank_fragility": fragility.value,
                "el_rate": el_rate,
            }
        )
    )
    measures = {k: found[k] for k in MEASURE_KEYS}
    chain = ctx.cm.chain
    return ChainMeasures(
        chain_key=chain.key,
        name=chain.name,
        kind=chain.kind,
        region=view.region.key,
        measures=measures,
        series={"trade_volume": trade_volume(ctx)},
        coverage=_coverage(view.dataset, measures),
    )


def trade_volume(ctx: ChainContext) -> tuple[tuple[date, float], ...]:
    """Monthly chain flow totals in yuan over the last SERIES_MONTHS months (0 for a month
    without flows); empty when the chain has no flows at all."""
    if not ctx.flows_all:
        return ()
    last = month_start(ctx.as_of)
    months = [month_start(months_back(last, k)) for k in range(SERIES_MONTHS - 1, -1, -1)]
    totals: dict[date, int] = defaultdict(int)
    for fl in ctx.flows_all:
        totals[month_start(fl.month)] += fl.amount_minor
    return tuple((m, totals.get(m, 0) / 100) for m in months)


def _input_given(ds: RegionDataset, name: str) -> bool:
    if name in ds.missing:
        return False
    given = {
        "enterprises": bool(ds.firms),
        "relations": bool(ds.links),
        "trade_flows": bool(ds.flows),
        "financials": bool(ds.financials),
        "policies": bool(ds.policies),
        "io_shares": bool(ds.io_shares),
        "customers": ds.bank is not None,
        "exposures": ds.bank is not None,
        "alerts": ds.bank is not None,
    }
    return given[name]


def _coverage(ds: RegionDataset, measures: dict[str, Measure]) -> Coverage:
    present = tuple(n for n in MEASURE_INPUTS if _input_given(ds, n))
    absent = tuple(n for n in MEASURE_INPUTS if n not in present)
    from_data = sum(1 for m in measures.values() if m.basis == "data")
    notes = tuple(f"{m.key}: {m.note}" for m in measures.values() if m.basis != "data" and m.note)
    return Coverage(
        share=from_data / len(measures),
        inputs_present=present,
        inputs_missing=absent,
        notes=notes,
    )
