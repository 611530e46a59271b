"""Chain registry values: enterprises, supply relations, chains, and tier computation.

Tiers come from the supply-relation graph, never from data entry:

* upstream tier 1 = a direct supplier of a core enterprise, tier n = a supplier of a tier
  n-1 member (shortest path, so a firm that supplies both the core and a tier-1 supplier is
  tier 1);
* downstream tier 1 = a direct buyer (dealer) of a core enterprise, and so on down.

>>> rels = [Relation("core", "s1"), Relation("s1", "s2"), Relation("d1", "core")]
>>> tiers = compute_tiers({"core"}, rels, max_tier=4)
>>> sorted((member, side.value, tier) for (member, side), tier in tiers.items())
[('core', 'core', 0), ('d1', 'downstream', 1), ('s1', 'upstream', 1), ('s2', 'upstream', 2)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from chainfin.domain.money import Money


class Role(StrEnum):
    CORE = "core"
    SUPPLIER = "supplier"
    DEALER = "dealer"
    LOGISTICS = "logistics"
    WAREHOUSE = "warehouse"
    BANK = "bank"


class Side(StrEnum):
    CORE = "core"
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """An enterprise as it enters the registry (from a file, the API or the generator)."""

    uscc: str
    name: str
    region_code: str
    industry_code: str
    roles: frozenset[Role]
    employees: int | None = None
    revenue: Money | None = None
    total_assets: Money | None = None
    legal_representative: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class RelationRecord:
    """``seller`` supplies ``product_category`` to ``buyer`` since ``since``."""

    buyer_uscc: str
    seller_uscc: str
    product_category: str
    since: date


@dataclass(frozen=True, slots=True)
class ChainRecord:
    name: str
    core_usccs: tuple[str, ...]
    industry_code: str
    region_code: str
    max_tier: int = 4


@dataclass(frozen=True, slots=True)
class BankRecord:
    code: str
    name: str
    uscc: str


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Relation(Generic[K]):
    """An edge of the supply graph: ``seller`` sells to ``buyer``."""

    buyer: K
    seller: K


class SupplyGraph(Generic[K]):
    """The supply-relation graph, indexed once so that tiers of many chains can be computed
    without re-reading the relations."""

    def __init__(self, relations: Iterable[Relation[K]]) -> None:
        self.sellers_of: dict[K, list[K]] = defaultdict(list)
        self.buyers_of: dict[K, list[K]] = defaultdict(list)
        for rel in relations:
            if rel.buyer == rel.seller:
                continue
            self.sellers_of[rel.buyer].append(rel.seller)
            self.buyers_of[rel.seller].append(rel.buyer)

    def tiers(self, cores: set[K], *, max_tier: int) -> dict[tuple[K, Side], int]:
        """Breadth-first from the cores: upstream along seller edges, downstream along buyer
        edges. Returns ``{(member, side): tier}``, cores at tier 0. A firm may appear on both
        sides (it both supplies and buys from the chain); cores never appear on a side."""
        if max_tier < 1:
            raise ValueError("max_tier must be at least 1")
        tiers: dict[tuple[K, Side], int] = {(c, Side.CORE): 0 for c in cores}
        for side, neighbours in (
            (Side.UPSTREAM, self.sellers_of),
            (Side.DOWNSTREAM, self.buyers_of),
        ):
            seen: set[K] = set(cores)
            frontier = sorted(cores, key=repr)
            for tier in range(1, max_tier + 1):
                nxt: list[K] = []
                for node in frontier:
                    for other in neighbours.get(node, ()):
                        if other not in seen:
                            seen.add(other)
                            tiers[(other, side)] = tier
                            nxt.append(other)
                if not nxt:
                    break
                frontier = nxt
        return tiers


def compute_tiers(
    cores: set[K], relations: Iterable[Relation[K]], *, max_tier: int
) -> dict[tuple[K, Side], int]:
    """Tiers of one chain; see :meth:`SupplyGraph.tiers`."""
    return SupplyGraph(relations).tiers(cores, max_tier=max_tier)
