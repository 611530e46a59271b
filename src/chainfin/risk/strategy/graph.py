"""One region's chains as graphs: who is a member of which chain, on which side, at which tier
and stage, and the links and flows among them — computed once per dataset and region and
shared by the maps, the measures and the leads.

Members are found the way :mod:`chainfin.services.chains` finds them for a bank's own chains:
breadth-first from the cores over the supply links (:class:`chainfin.domain.registry.SupplyGraph`),
upstream along sellers, downstream along buyers, up to the chain's ``max_tier``. A chain is
in a region when its home (``MarketChain.region_code``) is; its members may sit anywhere (a
member outside the region is what the local supporting rate counts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from chainfin.domain.registry import Relation, Side, SupplyGraph
from chainfin.domain.strategy.dataset import (
    MarketChain,
    MarketFirm,
    MarketLink,
    RegionDataset,
    TradeFlow,
)
from chainfin.domain.strategy.regions import StrategyRegion
from chainfin.domain.strategy.segments import ChainKind, default_kinds, parse_segments, stage_of


@dataclass(frozen=True, slots=True)
class Member:
    uscc: str
    side: str  # core | upstream | downstream
    tier: int  # 0 for cores
    stage: str  # upstream | midstream | downstream
    firm: MarketFirm | None  # None when the firm is not in the enterprises input
    in_region: bool


@dataclass(frozen=True, slots=True)
class ChainMembers:
    chain: MarketChain
    members: tuple[Member, ...]  # cores first, then upstream by tier, then downstream
    links: tuple[MarketLink, ...]  # links whose both ends are members
    flows: tuple[TradeFlow, ...]  # flows whose both ends are members

    @property
    def usccs(self) -> frozenset[str]:
        return frozenset(m.uscc for m in self.members)

    @property
    def cores(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.side == "core")

    @property
    def unknown(self) -> tuple[str, ...]:
        """Members the links name but the enterprises input does not describe."""
        return tuple(m.uscc for m in self.members if m.firm is None)


class RegionView:
    """A dataset seen from one region. Cheap to build; members are computed on first use."""

    def __init__(
        self, dataset: RegionDataset, region: StrategyRegion, *, today: date | None = None
    ) -> None:
        self.dataset = dataset
        self.region = region
        # The day the map is read on: links age from it (market data goes stale while it
        # sits), while the measures' windows end at the data's own as_of.
        self.today = max(today, dataset.as_of) if today is not None else dataset.as_of
        self.firms: dict[str, MarketFirm] = {f.uscc: f for f in dataset.firms}
        self.kinds: dict[str, ChainKind] = (
            parse_segments(dataset.segments_csv) if dataset.segments_csv else default_kinds()
        )
        self._members: dict[str, ChainMembers] = {}

    @property
    def as_of(self) -> date:
        return self.dataset.as_of

    @cached_property
    def chains(self) -> tuple[MarketChain, ...]:
        """The dataset's chains whose home lies in the region, in key order."""
        return tuple(
            sorted(
                (c for c in self.dataset.chains if self.region.contains(c.region_code)),
                key=lambda c: c.key,
            )
        )

    def chain(self, key: str) -> MarketChain | None:
        return next((c for c in self.chains if c.key == key), None)

    @cached_property
    def _graph(self) -> SupplyGraph[str]:
        return SupplyGraph(Relation(buyer=lk.buyer, seller=lk.seller) for lk in self.dataset.links)

    @cached_property
    def _links_by_seller(self) -> dict[str, list[MarketLink]]:
        out: dict[str, list[MarketLink]] = defaultdict(list)
        for lk in self.dataset.links:
            out[lk.seller].append(lk)
        return out

    @cached_property
    def _flows_by_seller(self) -> dict[str, list[TradeFlow]]:
        out: dict[str, list[TradeFlow]] = defaultdict(list)
        for fl in self.dataset.flows:
            out[fl.seller].append(fl)
        return out

    def in_region(self, uscc: str) -> bool:
        firm = self.firms.get(uscc)
        return firm is not None and self.region.contains(firm.region_code)

    def members(self, chain_key: str) -> ChainMembers:
        """The chain's members, links and flows; KeyError for a chain not in the region."""
        if chain_key in self._members:
            return self._members[chain_key]
        chain = self.chain(chain_key)
        if chain is None:
            raise KeyError(chain_key)
        tiers = self._graph.tiers(set(chain.core_usccs), max_tier=chain.max_tier)
        order = {Side.CORE: 0, Side.UPSTREAM: 1, Side.DOWNSTREAM: 2}
        members = tuple(
            Member(
                uscc=uscc,
                side=side.value,
                tier=tier,
                stage=stage_of(side.value, tier),
                firm=self.firms.get(uscc),
                in_region=self.in_region(uscc),
            )
            for (uscc, side), tier in sorted(
                tiers.items(), key=lambda kv: (order[kv[0][1]], kv[1], kv[0][0])
            )
        )
        ids = {m.uscc for m in members}
        links = tuple(
            lk for s in sorted(ids) for lk in self._links_by_seller.get(s, ()) if lk.buyer in ids
        )
        flows = tuple(
            fl for s in sorted(ids) for fl in self._flows_by_seller.get(s, ()) if fl.buyer in ids
        )
        found = ChainMembers(chain, members, links, flows)
        self._members[chain_key] = found
        return found
