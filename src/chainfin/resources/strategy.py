"""Regional chain strategy (issue 17): the one shape of each resource the API answers and
``chainfin strategy … --json`` prints — regions, datasets, chain maps, measures, the
ranking, leads.

Units, as everywhere in the API: amounts are decimal strings in yuan (``"1234.56"``) of the
``currency`` beside them; rates and shares are ``*_pct`` decimal strings (``"37.5"`` =
37.5 %). A measure carries its ``unit`` and its ``value`` as a decimal string in that unit
(a ``share`` or ``rate`` in percent, ``CNY`` in yuan with two decimals, a ``count``
whole), or null when it
is missing — never a zero that was not measured. Scores, weights and the consistency ratio
are analytic figures, JSON numbers rounded to four places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol, Self

from pydantic import BaseModel, Field

from chainfin.domain.money import Money
from chainfin.domain.strategy.criteria import BY_KEY, CRITERIA, INFORMATIONAL, Criterion
from chainfin.domain.strategy.regions import StrategyRegion
from chainfin.domain.strategy.results import (
    ChainMap,
    ChainMeasures,
    Coverage,
    Lead,
    MapFirm,
    MapLink,
    Measure,
    RankedChain,
    Ranking,
    SegmentNode,
    Weights,
)

PLACES = 4  # of scores, weights and other analytic figures

# ---------------------------------------------------------------- units


def share_pct(fraction: float | None, places: int = 1) -> str | None:
    """A fraction of 1 as the ``*_pct`` string, half-even to ``places`` decimals, without
    trailing zeros: ``0.375`` → ``"37.5"``, ``1.0`` → ``"100"``; None stays None."""
    if fraction is None:
        return None
    step = Decimal(1).scaleb(-places)
    value = (Decimal(repr(float(fraction))) * 100).quantize(step, rounding=ROUND_HALF_EVEN)
    return _plain(value)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def yuan(minor: int | float, currency: str) -> str:
    """Minor units (fen) as the API's decimal string (``123456`` → ``"1234.56"``); a float
    of minor units, as an analytic total may be, is rounded to the fen first."""
    return Money(round(minor), currency).to_decimal_string()


def yuan_text(value: float) -> str:
    """An amount the analytics give in yuan (a float) as the API's decimal string, exactly
    two decimals, half-up to the fen: ``1234.5`` → ``"1234.50"``."""
    cents = Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format(cents, "f")


def figure(value: float | None) -> float | None:
    """An analytic figure as a JSON number, rounded to :data:`PLACES`."""
    return None if value is None else round(float(value), PLACES)


def _decimal(value: float, places: int) -> str:
    try:
        step = Decimal(1).scaleb(-places)
        return _plain(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_EVEN))
    except InvalidOperation:  # inf or nan: an analysis bug, shown rather than hidden
        return str(value)


def measure_value(m: Measure, currency: str) -> str | None:
    """A measure's value in its unit (see the module docstring); None when missing."""
    if m.value is None:
        return None
    if m.unit in ("share", "rate"):
        return share_pct(m.value, 2)
    if m.unit == "CNY" or m.unit == currency:  # the analytics give amounts in yuan
        return yuan_text(m.value)
    if m.unit == "count":
        return str(round(m.value))
    return _decimal(m.value, PLACES)


def _input(key: str, value: float | int | str, currency: str) -> tuple[str, float | int | str]:
    """An input as shown beside its measure: ``*_minor`` amounts become yuan strings under
    the name without the suffix, floats are rounded."""
    if key.endswith("_minor") and isinstance(value, int | float) and not isinstance(value, bool):
        return key.removesuffix("_minor"), yuan(value, currency)
    if isinstance(value, float):
        return key, round(value, 6)
    return key, value


# ---------------------------------------------------------------- regions and datasets


class StrategyRegionOut(BaseModel):
    """A region head office analyses: a named city cluster or one province or prefecture."""

    key: str = Field(examples=["yrd"], description="jjj, yrd, gba or a GB/T 2260 code")
    label_zh: str = Field(examples=["长三角"])
    label_en: str = Field(examples=["Yangtze River Delta"])
    scopes: list[str] = Field(
        description="GB/T 2260 codes it covers: provinces (xx0000) or prefectures (xxxx00)"
    )

    @classmethod
    def build(cls, r: StrategyRegion) -> Self:
        return cls(key=r.key, label_zh=r.label_zh, label_en=r.label_en, scopes=list(r.scopes))


class DatasetInfoLike(Protocol):
    """:class:`chainfin.services.strategy.DatasetInfo`, named by its fields: importing the
    services would load the analytics (numpy, scipy) into every resource reader."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def as_of(self) -> date: ...
    @property
    def sha256(self) -> str: ...
    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def missing(self) -> tuple[str, ...]: ...
    @property
    def created_by(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


class StrategyDatasetOut(BaseModel):
    """A bank's imported market data: what it holds, what it lacks, and as of when. The
    analysis reads the bank's latest dataset."""

    id: str
    label: str
    as_of: date = Field(description="the latest date the data shows (links, trade flows)")
    sha256: str = Field(description="digest of the files as stored")
    counts: dict[str, int] = Field(description="rows per input given, e.g. {'enterprises': 120}")
    missing: list[str] = Field(description="market inputs not given: they lower coverage")
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, info: DatasetInfoLike) -> Self:
        return cls(
            id=info.id,
            label=info.label,
            as_of=info.as_of,
            sha256=info.sha256,
            counts=dict(info.counts),
            missing=list(info.missing),
            created_by=info.created_by,
            created_at=info.created_at,
        )


# ---------------------------------------------------------------- coverage


class StrategyCoverageOut(BaseModel):
    """How much of what an analysis needs it had; ``notes`` say what is missing and what
    was used instead."""

    share_pct: str = Field(examples=["75"])
    inputs_present: list[str]
    inputs_missing: list[str]
    notes: list[str]

    @classmethod
    def build(cls, c: Coverage) -> Self:
        return cls(
            share_pct=share_pct(c.share) or "0",
            inputs_present=list(c.inputs_present),
            inputs_missing=list(c.inputs_missing),
            notes=list(c.notes),
        )


# ---------------------------------------------------------------- chain maps


class ChainSegmentOut(BaseModel):
    stage: str = Field(description="upstream, midstream or downstream")
    division: str = Field(examples=["C38"], description="GB/T 4754 division")
    label_zh: str
    label_en: str
    examples_zh: str
    critical: bool = Field(description="the chain stops without it")
    firm_count: int = Field(description="chain members on this segment inside the region")
    present: bool = Field(description="firm_count reaches the completeness minimum")
    single_source: bool = Field(description="exactly one member: a single point of failure")

    @classmethod
    def build(cls, s: SegmentNode) -> Self:
        return cls(
            stage=s.stage,
            division=s.division,
            label_zh=s.label_zh,
            label_en=s.label_en,
            examples_zh=s.examples_zh,
            critical=s.critical,
            firm_count=s.firm_count,
            present=s.present,
            single_source=s.single_source,
        )


class ChainFirmOut(BaseModel):
    uscc: str
    name: str
    region_code: str
    industry_code: str
    role: str
    side: str = Field(description="core, upstream or downstream")
    tier: int = Field(description="0 for cores")
    stage: str
    in_region: bool
    customer: bool = Field(description="a customer of the analysing bank")
    enterprise_id: str | None = Field(description="the firm's page here, when registered")

    @classmethod
    def build(cls, f: MapFirm) -> Self:
        return cls(
            uscc=f.uscc,
            name=f.name,
            region_code=f.region_code,
            industry_code=f.industry_code,
            role=f.role,
            side=f.side,
            tier=f.tier,
            stage=f.stage,
            in_region=f.in_region,
            customer=f.customer,
            enterprise_id=f.enterprise_id,
        )


class ChainLinkOut(BaseModel):
    seller: str = Field(description="USCC")
    buyer: str = Field(description="USCC")
    provenance: str = Field(description="platform_trade, declared or payments")
    last_seen_on: date
    age_days: int
    freshness: str = Field(description="fresh (≤ 90 days), ageing (≤ 365) or stale")

    @classmethod
    def build(cls, lk: MapLink) -> Self:
        return cls(
            seller=lk.seller,
            buyer=lk.buyer,
            provenance=lk.provenance,
            last_seen_on=lk.last_seen_on,
            age_days=lk.age_days,
            freshness=lk.freshness,
        )


class ChainMapOut(BaseModel):
    """One chain in one region: its segment tree, members and links, with freshness."""

    chain_key: str
    name: str
    kind: str
    region: str
    as_of: date
    freshness: str = Field(description="fresh, ageing, stale, or unknown (no links)")
    fresh_pct: str | None = Field(
        description="share of links seen within 90 days; null for a chain without links"
    )
    segments: list[ChainSegmentOut]
    firms: list[ChainFirmOut]
    links: list[ChainLinkOut]
    coverage: StrategyCoverageOut

    @classmethod
    def build(cls, m: ChainMap) -> Self:
        return cls(
            chain_key=m.chain_key,
            name=m.name,
            kind=m.kind,
            region=m.region,
            as_of=m.as_of,
            freshness=m.freshness,
            fresh_pct=share_pct(m.fresh_share) if m.links else None,
            segments=[ChainSegmentOut.build(s) for s in m.segments],
            firms=[ChainFirmOut.build(f) for f in m.firms],
            links=[ChainLinkOut.build(lk) for lk in m.links],
            coverage=StrategyCoverageOut.build(m.coverage),
        )


class ChainSummaryOut(BaseModel):
    """A chain of the region in one line: its size, the bank's customers in it, how fresh
    its links are and how complete its data."""

    chain_key: str
    name: str
    kind: str
    region: str
    as_of: date
    firms: int = Field(description="members, wherever they are")
    firms_in_region: int
    cores: int
    customers: int = Field(description="members that are the analysing bank's customers")
    segments_present: int = Field(description="segments of the kind's tree with enough firms")
    segments: int = Field(description="segments of the kind's tree (observed extras not counted)")
    links: int
    freshness: str
    fresh_pct: str | None = Field(description="null for a chain without links")
    coverage_pct: str

    @classmethod
    def build(cls, m: ChainMap) -> Self:
        return cls(
            chain_key=m.chain_key,
            name=m.name,
            kind=m.kind,
            region=m.region,
            as_of=m.as_of,
            firms=len(m.firms),
            firms_in_region=sum(f.in_region for f in m.firms),
            cores=sum(f.side == "core" for f in m.firms),
            customers=sum(f.customer for f in m.firms),
            segments_present=sum(s.present for s in m.segments if s.in_template),
            segments=sum(1 for s in m.segments if s.in_template),
            links=len(m.links),
            freshness=m.freshness,
            fresh_pct=share_pct(m.fresh_share) if m.links else None,
            coverage_pct=share_pct(m.coverage.share) or "0",
        )


# ---------------------------------------------------------------- measures


class CriterionOut(BaseModel):
    key: str
    label_zh: str
    label_en: str
    benefit: bool = Field(description="true: more is better; false: a cost")
    group: str = Field(description="attractiveness or ability")

    @classmethod
    def build(cls, c: Criterion) -> Self:
        return cls(
            key=c.key, label_zh=c.label_zh, label_en=c.label_en, benefit=c.benefit, group=c.group
        )


class MeasureOut(BaseModel):
    """One measure of one chain, with the figures it was computed from."""

    key: str
    criterion: bool = Field(description="weighed in the ranking (else shown beside it)")
    value: str | None = Field(
        description="in ``unit``: share and rate in percent, CNY in yuan; null when missing"
    )
    unit: str = Field(description="share, rate, count, index, score or CNY")
    basis: str = Field(description="data, fallback (e.g. the input-output table) or missing")
    inputs: dict[str, float | int | str] = Field(
        description="what the value was computed from (amounts in yuan)"
    )
    note: str | None = Field(description="why it is missing, or what the fallback was")

    @classmethod
    def build(cls, m: Measure, currency: str) -> Self:
        return cls(
            key=m.key,
            criterion=m.key in BY_KEY,
            value=measure_value(m, currency),
            unit=m.unit,
            basis=m.basis,
            inputs=dict(_input(k, v, currency) for k, v in m.inputs.items()),
            note=m.note,
        )


class SeriesPointOut(BaseModel):
    month: str = Field(examples=["2026-11"], description="YYYY-MM")
    value: float


def _ordered(keys: Iterable[str]) -> list[str]:
    """Criteria first (in CRITERIA's order), then the informational measures, then others."""
    order = {k: n for n, k in enumerate([*(c.key for c in CRITERIA), *INFORMATIONAL])}
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


class ChainMeasuresOut(BaseModel):
    chain_key: str
    name: str
    kind: str
    region: str
    measures: list[MeasureOut] = Field(description="criteria first, then informational")
    series: dict[str, list[SeriesPointOut]] = Field(
        description="monthly series for sparklines, e.g. trade_volume"
    )
    coverage: StrategyCoverageOut | None

    @classmethod
    def build(cls, c: ChainMeasures, currency: str) -> Self:
        return cls(
            chain_key=c.chain_key,
            name=c.name,
            kind=c.kind,
            region=c.region,
            measures=[MeasureOut.build(c.measures[k], currency) for k in _ordered(c.measures)],
            series={
                name: [
                    SeriesPointOut(month=m.isoformat()[:7], value=round(float(v), 2))
                    for m, v in points
                ]
                for name, points in sorted(c.series.items())
            },
            coverage=StrategyCoverageOut.build(c.coverage) if c.coverage else None,
        )


class RegionMeasuresOut(BaseModel):
    """Every chain of a region measured on every criterion."""

    region: str
    currency: str = Field(examples=["CNY"], description="of every amount here")
    criteria: list[CriterionOut]
    chains: list[ChainMeasuresOut]

    @classmethod
    def build(cls, region: str, chains: Sequence[ChainMeasures], currency: str = "CNY") -> Self:
        return cls(
            region=region,
            currency=currency,
            criteria=[CriterionOut.build(c) for c in CRITERIA],
            chains=[ChainMeasuresOut.build(c, currency) for c in chains],
        )


# ---------------------------------------------------------------- ranking


def _weights(w: Mapping[str, float] | None) -> dict[str, float] | None:
    return None if w is None else {k: round(float(v), PLACES) for k, v in w.items()}


class WeightsOut(BaseModel):
    entropy: dict[str, float] = Field(description="from the entropy of the measures")
    subjective: dict[str, float] | None = Field(description="head office's, AHP or direct")
    subjective_method: str | None = Field(description="ahp, direct or null")
    consistency_ratio: float | None = Field(description="AHP's CR (accepted below 0.1)")
    blend: float = Field(description="share of the subjective weights in the final ones")
    final: dict[str, float]

    @classmethod
    def build(cls, w: Weights) -> Self:
        return cls(
            entropy=_weights(w.entropy) or {},
            subjective=_weights(w.subjective),
            subjective_method=w.subjective_method,
            consistency_ratio=figure(w.consistency_ratio),
            blend=round(w.blend, PLACES),
            final=_weights(w.final) or {},
        )


class RankedChainOut(BaseModel):
    chain_key: str
    name: str
    kind: str
    rank: int | None = Field(description="1 = pursue first; null when excluded")
    rank_low: int | None = Field(description="best rank over the sensitivity draws")
    rank_high: int | None = Field(description="worst rank over the sensitivity draws")
    score: float | None = Field(description="TOPSIS closeness in [0, 1]")
    attractiveness: float | None
    ability: float | None = Field(description="the bank's ability to win the chain")
    quadrant: str | None = Field(description="pursue, build, maintain or watch")
    excluded_by: list[str] = Field(description="the gates that excluded the chain")
    reason: str = Field(description="one line: what puts the chain where it is")

    @classmethod
    def build(cls, r: RankedChain) -> Self:
        return cls(
            chain_key=r.chain_key,
            name=r.name,
            kind=r.kind,
            rank=r.rank,
            rank_low=r.rank_low,
            rank_high=r.rank_high,
            score=figure(r.score),
            attractiveness=figure(r.attractiveness),
            ability=figure(r.ability),
            quadrant=r.quadrant,
            excluded_by=list(r.excluded_by),
            reason=r.reason,
        )


class RankingOut(BaseModel):
    """The region's chains ranked (TOPSIS on entropy and head-office weights), with each
    one's rank interval under ±``noise_pct`` weight noise over ``draws`` seeded draws."""

    region: str
    as_of: date
    criteria: list[CriterionOut]
    weights: WeightsOut
    chains: list[RankedChainOut] = Field(description="ranked first, then excluded ones")
    draws: int
    noise_pct: str = Field(examples=["20"])
    seed: int
    coverage: StrategyCoverageOut

    @classmethod
    def build(cls, r: Ranking) -> Self:
        return cls(
            region=r.region,
            as_of=r.as_of,
            criteria=[CriterionOut.build(BY_KEY[k]) for k in r.criteria if k in BY_KEY],
            weights=WeightsOut.build(r.weights),
            chains=[RankedChainOut.build(c) for c in r.chains],
            draws=r.draws,
            noise_pct=share_pct(r.noise) or "0",
            seed=r.seed,
            coverage=StrategyCoverageOut.build(r.coverage),
        )


# ---------------------------------------------------------------- leads


class LeadOut(BaseModel):
    """A member of the chain that is not yet a customer, linked to cores the bank serves."""

    uscc: str
    name: str
    region_code: str
    industry_code: str
    side: str
    tier: int
    linked_cores: list[str] = Field(description="USCCs of served cores it trades with")
    trade_volume: str = Field(description="with those cores, last 12 months, yuan")
    on_time_pct: str | None = Field(description="of paid amounts, paid on time; null unknown")
    financeable: str = Field(description="confirmed, unregistered receivables on served cores")
    indicative_limit: str
    score: float = Field(description="0 to 100")
    reasons: list[str]
    enterprise_id: str | None = Field(description="the firm's page here, when registered")

    @classmethod
    def build(cls, lead: Lead, currency: str) -> Self:
        return cls(
            uscc=lead.uscc,
            name=lead.name,
            region_code=lead.region_code,
            industry_code=lead.industry_code,
            side=lead.side,
            tier=lead.tier,
            linked_cores=list(lead.linked_cores),
            trade_volume=yuan(lead.trade_volume_minor, currency),
            on_time_pct=share_pct(lead.on_time_share),
            financeable=yuan(lead.financeable_minor, currency),
            indicative_limit=yuan(lead.indicative_limit_minor, currency),
            score=round(lead.score, 2),
            reasons=list(lead.reasons),
            enterprise_id=lead.enterprise_id,
        )


class LeadsOut(BaseModel):
    """A chain's lead list for branches, best first."""

    region: str
    chain_key: str
    currency: str = Field(examples=["CNY"], description="of every amount here")
    leads: list[LeadOut]

    @classmethod
    def build(
        cls, region: str, chain_key: str, leads: Sequence[Lead], currency: str = "CNY"
    ) -> Self:
        return cls(
            region=region,
            chain_key=chain_key,
            currency=currency,
            leads=[LeadOut.build(lead, currency) for lead in leads],
        )


# ---------------------------------------------------------------- report


class ReportFileOut(BaseModel):
    """``chainfin strategy report --out FILE``: what was written."""

    file: str
    bytes: int
    region: str
    lang: str
    sha256: str
