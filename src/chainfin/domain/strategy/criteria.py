"""The criteria a ranking weighs: which measure, which way is better, and which side of the
quadrant it speaks for (attractiveness of the chain, or the bank's ability to win it).

Definitions of every measure are in docs/strategy.md; the keys here are the keys of
:class:`chainfin.domain.strategy.results.Measure`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    benefit: bool  # True: more is better; False: a cost (less is better)
    group: str  # attractiveness | ability
    label_zh: str
    label_en: str


CRITERIA: tuple[Criterion, ...] = (
    Criterion("completeness", True, "attractiveness", "链条完整度", "Completeness"),
    Criterion(
        "local_supporting_rate", True, "attractiveness", "本地配套率", "Local supporting rate"
    ),
    Criterion("core_strength", True, "attractiveness", "核心企业实力", "Core strength"),
    Criterion("concentration", False, "attractiveness", "采购集中度", "Concentration (HHI)"),
    Criterion("sme_depth", True, "attractiveness", "中小企业纵深", "SME depth"),
    Criterion("growth", True, "attractiveness", "成长性", "Growth"),
    Criterion("financing_gap", True, "attractiveness", "融资缺口", "Financing gap"),
    Criterion("policy_priority", True, "attractiveness", "政策优先度", "Policy priority"),
    Criterion("customer_share", True, "ability", "客户覆盖率", "Customer share"),
    Criterion("cores_covered", True, "ability", "核心企业覆盖", "Cores covered"),
    Criterion("financing_share", True, "ability", "融资份额", "Share of financing held"),
    Criterion("risk", False, "ability", "风险水平", "Risk"),
)

BY_KEY = {c.key: c for c in CRITERIA}

# Measures shown beside the criteria but not weighed (their parts are inside a criterion).
INFORMATIONAL = (
    "single_points_of_failure",
    "net_entry",
    "trade_trend",
    "financing_need",
    "financing_in_place",
    "credentials_funded",
    "alert_rate",
    "delinquency_rate",
    "debtrank_fragility",
    "expected_loss",
)
