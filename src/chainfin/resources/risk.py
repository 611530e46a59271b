"""Risk: the bank's model registry (versions, stability checks, scores), its portfolio's
exposure and concentration, alert and delinquency rates by sector, and contagion scenarios.

Every rate here is a percentage in a ``*_pct`` decimal string (``"37.5"`` = 37.5 %): shares,
utilisation, distress, probabilities of default, loss given default and the discrimination
statistics of a model (AUC, KS, Gini). The population stability index is an index, not a
rate: a decimal string (``"0.1234"``); the HHI is in points (0 to 10,000)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import ModelMonitoring, RiskModel
from chainfin.domain import concentration
from chainfin.domain.states import ModelStatus
from chainfin.resources.common import Written, pct
from chainfin.services.contagion_report import ContagionReport
from chainfin.services.portfolio import Portfolio, Row
from chainfin.services.sectors import SectorRates

# ---------------------------------------------------------------- units


def percent(value: Fraction | float, places: int = 2) -> str:
    """A fraction of 1 as the ``*_pct`` string, rounded to ``places`` decimals:
    ``Fraction(3, 8)`` → ``"37.5"``."""
    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(repr(float(value)))
    )
    step = Decimal(1).scaleb(-places)
    return pct((exact * 100).quantize(step, rounding=ROUND_HALF_EVEN)) or "0"


def _metric(metrics: Mapping[str, Any], name: str) -> str | None:
    value = metrics.get(name)
    return None if value is None else percent(value)


def scaled(value: int, exponent: int) -> str:
    """An integer stored in units of 10**exponent as a decimal string:
    ``scaled(1234, -4)`` → ``"0.1234"``."""
    return format(Decimal(value).scaleb(exponent), "f")


# ---------------------------------------------------------------- model registry


class RiskModelOut(BaseModel):
    """A registered scorecard version: challenger, champion (one per name) or retired."""

    id: str
    name: str
    version: int
    status: ModelStatus = Field(description="challenger, champion or retired")
    digest: str = Field(description="SHA-256 of the stored model bytes")
    bytes: int
    target: str | None
    features: list[str]
    auc_pct: str | None = Field(examples=["78.52"], description="area under the ROC curve")
    ks_pct: str | None = Field(description="Kolmogorov-Smirnov statistic")
    gini_pct: str | None = Field(description="Gini coefficient (2 AUC - 1)")
    population: int = Field(description="rows in the training population")
    created_by: str
    created_at: datetime
    promoted_by: str | None
    promoted_at: datetime | None
    retired_at: datetime | None

    @classmethod
    def build(cls, row: RiskModel) -> Self:
        metrics = row.card.get("metrics", {})
        return cls(
            id=row.id,
            name=row.name,
            version=row.version,
            status=row.status,
            digest=row.digest,
            bytes=len(row.model_bytes),
            target=row.card.get("target", {}).get("column"),
            features=row.card.get("columns", {}).get("features", []),
            auc_pct=_metric(metrics, "auc"),
            ks_pct=_metric(metrics, "ks"),
            gini_pct=_metric(metrics, "gini"),
            population=sum(n for _, n in row.baseline),
            created_by=row.created_by,
            created_at=row.created_at,
            promoted_by=row.promoted_by,
            promoted_at=row.promoted_at,
            retired_at=row.retired_at,
        )


class RiskModelCardOut(RiskModelOut):
    """A version with its model card: training data, binning, points table, metrics."""

    card: dict[str, Any] = Field(description="the model card as training wrote it")

    @classmethod
    def build(cls, row: RiskModel) -> Self:
        return cls(**RiskModelOut.build(row).model_dump(), card=row.card)


class RiskModelWrittenOut(RiskModelCardOut, Written):
    """A version registered or promoted, with its card and the ledger receipt."""


class VariableStabilityOut(BaseModel):
    variable: str
    psi: str = Field(examples=["0.0123"], description="population stability index of its bins")
    csi_points: str = Field(description="how many points the shift moves the average score")


class MonitoringOut(BaseModel):
    """One stability check of a population against the model's training population."""

    id: str
    model_id: str
    as_of: date
    count: int = Field(description="rows scored")
    psi: str = Field(examples=["0.0812"], description="below 0.1 stable, above 0.25 a shift")
    status: str = Field(description="stable, watch or shift")
    variables: list[VariableStabilityOut]
    alert_id: str | None = Field(description="the model_drift alert a shift raised")
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: ModelMonitoring) -> Self:
        return cls(
            id=row.id,
            model_id=row.model_id,
            as_of=row.as_of,
            count=row.count,
            psi=scaled(row.psi_e4, -4),
            status=row.status,
            variables=[
                VariableStabilityOut(
                    variable=v["variable"],
                    psi=scaled(v["psi_e4"], -4),
                    csi_points=scaled(v["csi_e2"], -2),
                )
                for v in row.variables
            ],
            alert_id=row.alert_id,
            created_by=row.created_by,
            created_at=row.created_at,
        )


class MonitoringWrittenOut(MonitoringOut, Written):
    """A stability check recorded, with the ledger receipt."""


class ScoreReasonOut(BaseModel):
    variable: str
    bin: str
    points: float
    max_points: float
    points_lost: float


class ScoredOut(BaseModel):
    score: float
    pd_pct: str = Field(examples=["2.35"], description="probability of default")
    reasons: list[ScoreReasonOut] = Field(description="the characteristics that cost most points")


class ScoredRowOut(BaseModel):
    row: int
    champion: ScoredOut
    challenger: ScoredOut | None = None


class ModelVersionRefOut(BaseModel):
    id: str
    version: int


class ModelScoreOut(BaseModel):
    """Rows scored with a name's champion (and, asked to compare, its latest challenger)."""

    name: str
    champion: ModelVersionRefOut
    challenger: ModelVersionRefOut | None
    rows: list[ScoredRowOut]

    @classmethod
    def build(cls, raw: Mapping[str, Any]) -> Self:
        """From :func:`chainfin.services.models.score` (probabilities as fractions)."""

        def scored(s: Mapping[str, Any] | None) -> ScoredOut | None:
            if s is None:
                return None
            return ScoredOut(score=s["score"], pd_pct=percent(s["pd"], 4), reasons=s["reasons"])

        rows = [
            ScoredRowOut(
                row=r["row"],
                champion=scored(r["champion"]) or ScoredOut(score=0, pd_pct="0", reasons=[]),
                challenger=scored(r.get("challenger")),
            )
            for r in raw["rows"]
        ]
        return cls(
            name=raw["name"], champion=raw["champion"], challenger=raw["challenger"], rows=rows
        )


# ---------------------------------------------------------------- portfolio


class ExposureRowOut(BaseModel):
    key: str
    label: str
    exposure: str = Field(examples=["30000000.00"], description="in the view's currency")
    limit: str | None = Field(description="the limits that apply, in the view's currency")
    utilisation_pct: str | None = Field(description="exposure over limit")
    items: int = Field(description="loans and credentials counted")
    share_pct: str = Field(examples=["37.5"], description="of the total exposure")

    @classmethod
    def build(cls, r: Row) -> Self:
        limit = r.limit.amount_minor if r.limit else 0
        return cls(
            key=r.key,
            label=r.label,
            exposure=r.exposure.to_decimal_string(),
            limit=r.limit.to_decimal_string() if r.limit else None,
            utilisation_pct=(percent(Fraction(r.exposure.amount_minor, limit)) if limit else None),
            items=r.items,
            share_pct=percent(r.share),
        )


class ExposureOut(BaseModel):
    """A bank's exposure by one dimension, with its concentration."""

    by: str
    currency: str = Field(examples=["CNY"], description="of every amount in this view")
    total: str = Field(examples=["80000000.00"])
    hhi_points: int = Field(description="Herfindahl-Hirschman index, 0 to 10,000")
    concentration: str = Field(description="unconcentrated, moderate or high")
    top5_share_pct: str
    rows: list[ExposureRowOut]

    @classmethod
    def build(cls, p: Portfolio) -> Self:
        return cls(
            by=p.by,
            currency=p.currency,
            total=p.total.to_decimal_string(),
            hhi_points=round(p.hhi * 10_000),
            concentration=concentration.level(p.hhi),
            top5_share_pct=percent(p.top5_share),
            rows=[ExposureRowOut.build(r) for r in p.rows],
        )


class SectorOut(BaseModel):
    key: str = Field(description="GB/T 4754 section letter or province code")
    borrowers: int
    alerted: list[int] = Field(description="borrowers with an alert, per month")
    alert_rates_pct: list[str]
    loans: list[int]
    delinquent: list[int] = Field(description="loans past due at each month's end")
    delinquency_rates_pct: list[str]
    warning: bool = Field(description="the latest month rises beyond the sector's history")


class SectorRatesOut(BaseModel):
    by: str
    months: list[str] = Field(description="YYYY-MM, oldest first")
    sectors: list[SectorOut]

    @classmethod
    def build(cls, s: SectorRates) -> Self:
        span = range(len(s.months))
        zeros = [0] * len(s.months)
        return cls(
            by=s.by,
            months=[m.isoformat()[:7] for m in s.months],
            sectors=[
                SectorOut(
                    key=key,
                    borrowers=s.population[key],
                    alerted=s.alerted[key],
                    alert_rates_pct=[percent(s.rate(key, i)) for i in span],
                    loans=s.loans.get(key, zeros),
                    delinquent=s.delinquent.get(key, zeros),
                    delinquency_rates_pct=[percent(s.delinquency(key, i)) for i in span],
                    warning=key in s.warnings,
                )
                for key in sorted(s.population)
            ],
        )


# ---------------------------------------------------------------- contagion


class ShockOut(BaseModel):
    core_id: str | None = Field(description="null when the core is not yours to see by name")
    core_uscc: str
    core: str | None
    kind: str = Field(description="default or delay")
    days: int
    shock_pct: str = Field(description="the core's initial distress")
    as_of: date


class NetworkSizeOut(BaseModel):
    nodes: int
    links: int
    left_out: int = Field(description="enterprises without total assets or revenue")


class DistressedOut(BaseModel):
    id: str
    name: str
    tier: str | None
    distress_pct: str = Field(description="DebtRank distress h at the end")


class BankLossOut(BaseModel):
    currency: str = Field(examples=["CNY"], description="of every amount of the bank's loss")
    exposure: str = Field(examples=["30000000.00"])
    expected_loss: str
    lgd_pct: str = Field(description="loss given default assumed")
    by_tier: dict[str, str] = Field(description="expected loss by tier of the distressed")


class ChainHitOut(BaseModel):
    chain_id: str
    name: str
    members_distressed: int


class ContagionOut(BaseModel):
    """A core enterprise defaults or pays late: how far the distress spreads (DebtRank) and
    what the bank stands to lose."""

    scenario: ShockOut
    network: NetworkSizeOut
    debtrank_pct: str = Field(description="value lost beyond the shock, of the network's")
    total_pct: str = Field(description="value lost, the shock included")
    rounds: int
    distressed: int
    top: list[DistressedOut]
    bank: BankLossOut
    chains_hit: list[ChainHitOut]

    @classmethod
    def build(cls, r: ContagionReport) -> Self:
        s = r.scenario
        return cls(
            scenario=ShockOut(
                core_id=s.core_id,
                core_uscc=s.core_uscc,
                core=s.core,
                kind=s.kind,
                days=s.days,
                shock_pct=percent(s.shock),
                as_of=s.as_of,
            ),
            network=NetworkSizeOut(
                nodes=r.network.nodes, links=r.network.links, left_out=r.network.left_out
            ),
            debtrank_pct=percent(r.debtrank, 4),
            total_pct=percent(r.total, 4),
            rounds=r.rounds,
            distressed=r.distressed,
            top=[
                DistressedOut(id=d.id, name=d.name, tier=d.tier, distress_pct=percent(d.h, 4))
                for d in r.top
            ],
            bank=BankLossOut(
                currency=r.bank.exposure.currency,
                exposure=r.bank.exposure.to_decimal_string(),
                expected_loss=r.bank.expected_loss.to_decimal_string(),
                lgd_pct=pct(r.bank.lgd, fraction=True) or "0",
                by_tier={k: v.to_decimal_string() for k, v in r.bank.by_tier.items()},
            ),
            chains_hit=[
                ChainHitOut(
                    chain_id=c.chain_id, name=c.name, members_distressed=c.members_distressed
                )
                for c in r.chains_hit
            ],
        )
