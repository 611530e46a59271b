"""What a contagion scenario found (:func:`chainfin.services.contagion.run`), as plain
records: readable by the resources layer without loading the network maths (numpy, scipy).

Distress ``h``, the shock and DebtRank are fractions of 1 here; the interface shows them as
percentages (``resources.risk.ContagionOut``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chainfin.domain.money import Money


@dataclass(frozen=True, slots=True)
class ShockSpec:
    core_id: str | None  # None: the core is not one the bank may see by name
    core_uscc: str
    core: str | None
    kind: str  # default | delay
    days: int
    shock: float
    as_of: date


@dataclass(frozen=True, slots=True)
class NetworkSize:
    nodes: int
    links: int
    left_out: int  # enterprises without total assets or revenue


@dataclass(frozen=True, slots=True)
class Distressed:
    id: str
    name: str
    tier: str | None
    h: float


@dataclass(frozen=True, slots=True)
class BankLoss:
    exposure: Money
    expected_loss: Money
    lgd: Decimal
    by_tier: dict[str, Money]


@dataclass(frozen=True, slots=True)
class ChainHit:
    chain_id: str
    name: str
    members_distressed: int


@dataclass(frozen=True, slots=True)
class ContagionReport:
    scenario: ShockSpec
    network: NetworkSize
    debtrank: float  # the loss beyond the shock, as a fraction of the network's value
    total: float  # including the shock
    rounds: int
    distressed: int
    top: tuple[Distressed, ...]
    bank: BankLoss
    chains_hit: tuple[ChainHit, ...]
