"""What a regional chain analysis produces: chain maps, measures, the ranking, leads.

One shape each, used by the CLI (``--json``), the API, the workbench page and the PDF report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Link freshness: a link last seen within FRESH_DAYS is fresh, within STALE_DAYS ageing,
# older stale. A chain map's badge follows the share of its links that are fresh.
FRESH_DAYS = 90
STALE_DAYS = 365


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of what an analysis needs it had. ``share`` in [0, 1]; ``notes`` say in
    words what is missing and what was used instead (one line each)."""

    share: float
    inputs_present: tuple[str, ...]
    inputs_missing: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentNode:
    stage: str
    division: str
    label_zh: str  # GB/T 4754 division name
    label_en: str
    examples_zh: str
    critical: bool
    firm_count: int  # chain members on this segment inside the region
    present: bool  # firm_count >= the completeness minimum
    single_source: bool  # exactly one member: a single point of failure
    in_template: bool = True  # False: observed among the members, not in the kind's tree


@dataclass(frozen=True, slots=True)
class MapFirm:
    uscc: str
    name: str
    region_code: str
    industry_code: str
    role: str
    side: str  # core | upstream | downstream
    tier: int  # 0 for cores
    stage: str  # upstream | midstream | downstream
    in_region: bool
    customer: bool  # of the analysing bank
    enterprise_id: str | None = None  # the platform's id, when the firm is registered here


@dataclass(frozen=True, slots=True)
class MapLink:
    seller: str
    buyer: str
    provenance: str
    last_seen_on: date
    age_days: int
    freshness: str  # fresh | ageing | stale


@dataclass(frozen=True, slots=True)
class ChainMap:
    chain_key: str
    name: str
    kind: str
    region: str  # the StrategyRegion key
    as_of: date
    segments: tuple[SegmentNode, ...]
    firms: tuple[MapFirm, ...]
    links: tuple[MapLink, ...]
    fresh_share: float  # share of links that are fresh
    freshness: str  # fresh | ageing | stale | unknown (no links)
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure of one chain in one region. ``value`` is None when it could not be
    computed (then ``basis`` is "missing" and ``note`` says why). ``inputs`` are the figures
    the value was computed from, shown beside it."""

    key: str
    value: float | None
    unit: str  # "share", "count", "index", "CNY", "rate", "score"
    basis: str  # data | fallback | missing
    inputs: dict[str, float | int | str] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ChainMeasures:
    chain_key: str
    name: str
    kind: str
    region: str
    measures: dict[str, Measure]
    # Monthly series for sparklines: name -> ((month, value), ...), e.g. "trade_volume".
    series: dict[str, tuple[tuple[date, float], ...]] = field(default_factory=dict)
    coverage: Coverage | None = None


@dataclass(frozen=True, slots=True)
class Weights:
    """The weights a ranking used, per criterion key, and how they were made."""

    entropy: dict[str, float]
    subjective: dict[str, float] | None  # head office's, from AHP or direct
    subjective_method: str | None  # "ahp" | "direct" | None
    consistency_ratio: float | None  # AHP's CR, when pairwise comparisons were given
    blend: float  # share of the subjective weights in the final ones (0 = entropy only)
    final: dict[str, float]


@dataclass(frozen=True, slots=True)
class RankedChain:
    chain_key: str
    name: str
    kind: str
    score: float | None  # TOPSIS closeness in [0, 1]; None when excluded
    rank: int | None
    rank_low: int | None  # best rank over the sensitivity draws (1 = first)
    rank_high: int | None  # worst rank over the draws
    attractiveness: float | None  # TOPSIS over the attractiveness criteria
    ability: float | None  # TOPSIS over the ability-to-win criteria
    quadrant: str | None  # pursue | build | maintain | watch
    excluded_by: tuple[str, ...] = ()  # gate messages
    reason: str = ""  # one line, in English: what puts the chain where it is
    strongest: tuple[str, ...] = ()  # criterion keys the reason names as strongest
    weakest: str | None = None  # the criterion key it names as weakest
    filled: tuple[str, ...] = ()  # criteria missing for this chain, counted at the worst


@dataclass(frozen=True, slots=True)
class Ranking:
    region: str
    as_of: date
    criteria: tuple[str, ...]
    weights: Weights
    chains: tuple[RankedChain, ...]  # ranked first, then excluded ones
    draws: int
    noise: float  # e.g. 0.2 for ±20 % weight noise
    seed: int
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class Lead:
    uscc: str
    name: str
    region_code: str
    industry_code: str
    side: str
    tier: int
    linked_cores: tuple[str, ...]  # USCCs of cores the bank serves that this firm trades with
    trade_volume_minor: int  # last 12 months with those cores (0 when no flows; see basis)
    on_time_share: float | None  # share of paid amounts paid on time, if known
    financeable_minor: int  # receivables from served cores that could be financed
    indicative_limit_minor: int
    score: float  # 0..100
    reasons: tuple[str, ...]
    enterprise_id: str | None = None


@dataclass(frozen=True, slots=True)
class StrategyReport:
    """Everything the committee report (PDF) shows, already computed."""

    bank: str
    region: str  # StrategyRegion key
    region_label: str  # e.g. "长三角"
    as_of: date
    generated_on: date
    lang: str  # "zh_CN" | "en"
    ranking: Ranking
    measures: tuple[ChainMeasures, ...]
    maps: tuple[ChainMap, ...]  # the top chains' maps, in rank order
    leads: dict[str, tuple[Lead, ...]]  # chain key -> its top leads
    sources: dict[str, str]  # input -> where it came from
    missing: tuple[str, ...]  # inputs not given
