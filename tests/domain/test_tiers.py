"""Supply-chain tiers come from the relation graph: shortest distance from a core, upstream
along seller edges and downstream along buyer edges, cut off at ``max_tier``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain.registry import Relation, Side, SupplyGraph, compute_tiers

UP, DOWN, CORE = Side.UPSTREAM, Side.DOWNSTREAM, Side.CORE


def sells(seller: str, buyer: str) -> Relation[str]:
    return Relation(buyer=buyer, seller=seller)


def test_tiers_follow_sellers_upstream_and_buyers_downstream() -> None:
    rels = [sells("s1", "core"), sells("s2", "s1"), sells("core", "d1"), sells("d1", "d2")]
    assert compute_tiers({"core"}, rels, max_tier=4) == {
        ("core", CORE): 0,
        ("s1", UP): 1,
        ("s2", UP): 2,
        ("d1", DOWN): 1,
        ("d2", DOWN): 2,
    }


def test_a_supplier_reachable_two_ways_gets_the_shorter_tier() -> None:
    # core <- s1 <- s3 and core <- s2 <- s3, and s3 also sells to the core directly
    diamond = [sells("s1", "core"), sells("s2", "core"), sells("s3", "s1"), sells("s3", "s2")]
    assert compute_tiers({"core"}, diamond, max_tier=4)[("s3", UP)] == 2
    shortcut = [*diamond, sells("s3", "core")]
    assert compute_tiers({"core"}, shortcut, max_tier=4)[("s3", UP)] == 1


def test_a_firm_that_both_supplies_and_buys_appears_on_both_sides() -> None:
    rels = [sells("trader", "core"), sells("core", "trader"), sells("x", "trader")]
    tiers = compute_tiers({"core"}, rels, max_tier=4)
    assert tiers[("trader", UP)] == 1
    assert tiers[("trader", DOWN)] == 1
    assert tiers[("x", UP)] == 2
    assert ("x", DOWN) not in tiers


def test_a_cycle_terminates() -> None:
    rels = [sells("a", "core"), sells("b", "a"), sells("a", "b"), sells("core", "a")]
    tiers = compute_tiers({"core"}, rels, max_tier=10)
    assert tiers == {("core", CORE): 0, ("a", UP): 1, ("b", UP): 2, ("a", DOWN): 1, ("b", DOWN): 2}


def test_a_self_loop_is_ignored() -> None:
    assert compute_tiers({"core"}, [sells("core", "core")], max_tier=4) == {("core", CORE): 0}
    rels = [sells("s1", "s1"), sells("s1", "core")]
    assert compute_tiers({"core"}, rels, max_tier=4) == {("core", CORE): 0, ("s1", UP): 1}


def test_max_tier_cuts_the_chain_off() -> None:
    chain = [sells("s1", "core"), sells("s2", "s1"), sells("s3", "s2")]
    assert compute_tiers({"core"}, chain, max_tier=2) == {
        ("core", CORE): 0,
        ("s1", UP): 1,
        ("s2", UP): 2,
    }
    assert compute_tiers({"core"}, chain, max_tier=1) == {("core", CORE): 0, ("s1", UP): 1}


def test_several_cores_share_one_tiering_and_never_appear_on_a_side() -> None:
    rels = [sells("c2", "c1"), sells("s", "c1"), sells("s", "c2"), sells("t", "s")]
    rels += [sells("c1", "d"), sells("d", "e")]
    assert compute_tiers({"c1", "c2"}, rels, max_tier=4) == {
        ("c1", CORE): 0,
        ("c2", CORE): 0,
        ("s", UP): 1,
        ("t", UP): 2,
        ("d", DOWN): 1,
        ("e", DOWN): 2,
    }


def test_an_isolated_core_is_tier_0_alone() -> None:
    assert compute_tiers({"core"}, [sells("a", "b")], max_tier=4) == {("core", CORE): 0}
    assert compute_tiers(set(), [sells("a", "b")], max_tier=4) == {}


@pytest.mark.parametrize("max_tier", [0, -1])
def test_max_tier_below_one_is_refused(max_tier: int) -> None:
    with pytest.raises(ValueError, match="max_tier must be at least 1"):
        compute_tiers({"core"}, [], max_tier=max_tier)


def test_relations_may_be_any_iterable_consumed_once() -> None:
    rels = iter([sells("s1", "core")])
    assert compute_tiers({"core"}, rels, max_tier=4)[("s1", UP)] == 1


# --- properties on random graphs ----------------------------------------------------------

nodes = st.integers(0, 30)
edges = st.lists(st.tuples(nodes, nodes), max_size=80)  # (seller, buyer)
core_sets = st.sets(nodes, max_size=4)
max_tiers = st.integers(1, 6)


def reference_tiers(
    cores: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> dict[tuple[int, Side], int]:
    """Level by level: tier t is every non-core not yet tiered that sells to (upstream) or buys
    from (downstream) a member of tier t-1 on that side."""
    result: dict[tuple[int, Side], int] = {(c, CORE): 0 for c in cores}
    for side in (UP, DOWN):
        placed = set(cores)
        level = set(cores)
        for tier in range(1, max_tier + 1):
            if side is UP:
                level = {s for s, b in pairs if b in level and s != b} - placed
            else:
                level = {b for s, b in pairs if s in level and s != b} - placed
            placed |= level
            result.update({(n, side): tier for n in level})
    return result


def tiered(
    cores: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> dict[tuple[int, Side], int]:
    return compute_tiers(cores, [Relation(buyer=b, seller=s) for s, b in pairs], max_tier=max_tier)


@given(cores=core_sets, pairs=edges, max_tier=max_tiers)
def test_tiers_equal_a_level_by_level_reference(
    cores: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> None:
    assert tiered(cores, pairs, max_tier) == reference_tiers(cores, pairs, max_tier)


@given(cores=core_sets, pairs=edges, max_tier=max_tiers)
def test_every_member_is_one_edge_beyond_the_tier_before(
    cores: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> None:
    tiers = tiered(cores, pairs, max_tier)
    assert {n for n, side in tiers if side is CORE} == cores

    def tier_of(node: int, side: Side) -> int | None:
        return 0 if node in cores else tiers.get((node, side))

    for (node, side), tier in tiers.items():
        assert 0 <= tier <= max_tier
        if side is CORE:
            assert node in cores
            assert tier == 0
            continue
        assert node not in cores
        assert tier >= 1
        if side is UP:  # sells to a member one tier closer to the core
            assert any(tier_of(b, UP) == tier - 1 for s, b in pairs if s == node and b != s)
        else:  # buys from a member one tier closer to the core
            assert any(tier_of(s, DOWN) == tier - 1 for s, b in pairs if b == node and b != s)


@given(cores=core_sets, pairs=edges, max_tier=max_tiers)
def test_no_neighbour_of_a_member_is_left_more_than_one_tier_behind(
    cores: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> None:
    tiers = tiered(cores, pairs, max_tier)
    members = {side: {n: t for (n, s), t in tiers.items() if s is side} for side in (UP, DOWN)}
    for side in (UP, DOWN):
        known = {**members[side], **dict.fromkeys(cores, 0)}
        for seller, buyer in pairs:
            if seller == buyer:
                continue
            near, far = (buyer, seller) if side is UP else (seller, buyer)
            if near in known and known[near] < max_tier and far not in cores:
                assert far in known
                assert known[far] <= known[near] + 1


@given(first=core_sets, second=core_sets, pairs=edges, max_tier=max_tiers)
def test_one_supply_graph_serves_many_chains(
    first: set[int], second: set[int], pairs: list[tuple[int, int]], max_tier: int
) -> None:
    graph = SupplyGraph([Relation(buyer=b, seller=s) for s, b in pairs])
    for cores in (first, second, first):
        assert graph.tiers(cores, max_tier=max_tier) == tiered(cores, pairs, max_tier)
