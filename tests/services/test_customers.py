"""A bank's book of customers and prospects (services/customers.py) over the credit world:
core C buys from t1, t1 from t2, t2 from t3; bank A's customers are the core and t1."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.errors import Forbidden, NotFound
from chainfin.services import alerts, chains, customers, registry
from chainfin.web import chain_map


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> tuple[credit_world.CreditWorld, str]:
    world = credit_world.build(session_factory)
    with transaction(session_factory) as s:
        registry.link_customers(s, SYSTEM, world.banks["BKA"], [world.ids["t1"]])
        chain = chains.create_chain(
            s,
            staff(world, "BKA"),
            name="电池链",
            core_usccs=[credit_world.uscc(3)],
            industry_code="C38",
            region_code="320505",
        )
        alerts.raise_alert(
            s, SYSTEM, kind="customer_review", severity="high", subject_kind="enterprise",
            subject_id=world.ids["t1"], bank_id=world.banks["BKA"],
            enterprise_id=world.ids["t1"], message="review",
        )  # fmt: skip
    return world, chain.chain.id


def staff(world: credit_world.CreditWorld, bank: str) -> Principal:
    roles = [StaffRole.RELATIONSHIP_MANAGER, StaffRole.APPROVER]
    return Principal.staff(f"usr_{bank}", bank_id=world.banks[bank], roles=roles)


def test_the_book_marks_customers_and_prospects_with_their_alerts(
    session_factory: sessionmaker[Session], world: tuple[credit_world.CreditWorld, str]
) -> None:
    credit, _ = world
    with session_factory() as s:
        firms = {f.enterprise_id: f for f in customers.book(s, staff(credit, "BKA"))}
    assert firms[credit.ids["core"]].side == "core"
    assert firms[credit.ids["t1"]].customer
    assert firms[credit.ids["t1"]].open_alerts == 1
    assert (firms[credit.ids["t2"]].customer, firms[credit.ids["t2"]].tier) == (False, 2)
    assert credit.ids["bank A"] not in firms  # the bank itself is no customer of its own


def test_a_chain_of_another_bank_is_not_found(
    session_factory: sessionmaker[Session], world: tuple[credit_world.CreditWorld, str]
) -> None:
    credit, chain_id = world
    with session_factory() as s, pytest.raises(NotFound):
        customers.chain_graph(s, staff(credit, "BKB"), chain_id)
    with session_factory() as s:
        assert customers.book(s, staff(credit, "BKB")) == []


def test_an_enterprise_has_no_book(
    session_factory: sessionmaker[Session], world: tuple[credit_world.CreditWorld, str]
) -> None:
    credit, _ = world
    with session_factory() as s, pytest.raises(Forbidden):
        customers.book(s, credit.ent("t1"))


def test_the_graph_shows_only_relations_with_a_customer_on_a_side(
    session_factory: sessionmaker[Session], world: tuple[credit_world.CreditWorld, str]
) -> None:
    credit, chain_id = world
    ids = credit.ids
    with session_factory() as s:
        graph = customers.chain_graph(s, staff(credit, "BKA"), chain_id)
    assert set(graph.links) == {(ids["t1"], ids["core"]), (ids["t2"], ids["t1"])}


def test_a_firm_outside_the_banks_chains_and_customers_is_not_found(
    session_factory: sessionmaker[Session], world: tuple[credit_world.CreditWorld, str]
) -> None:
    credit, _ = world
    with session_factory() as s:
        assert customers.positions_in_chains(s, staff(credit, "BKA"), credit.ids["t3"])
        with pytest.raises(NotFound):
            customers.positions_in_chains(s, staff(credit, "BKA"), credit.ids["bank B"])


def test_the_map_places_thousands_of_firms_on_rings_in_one_pass() -> None:
    nodes = [chain_map.MapNode("core", "core", "core", 0, True, 0, 0)] + [
        chain_map.MapNode(f"e{i}", f"e{i}", side, tier, i % 3 == 0, i % 7 == 0, i * 100)
        for i, (side, tier) in enumerate(
            [("upstream", 1 + i % 4) for i in range(3000)] + [("downstream", 1)] * 500
        )
    ]
    where = chain_map.positions(nodes)
    assert where["core"] == (0.0, 0.0)
    assert all(x < 0 for key, (x, _) in where.items() if key != "core" and int(key[1:]) < 3000)
    assert all(x > 0 for key, (x, _) in where.items() if key != "core" and int(key[1:]) >= 3000)
    assert len(set(where.values())) == len(nodes)  # no two firms on one spot
    tier_of = {n.enterprise_id: (n.side, n.tier) for n in nodes}
    radius: dict[tuple[str, int], list[float]] = {}
    for key, (x, y) in where.items():
        radius.setdefault(tier_of[key], []).append(math.hypot(x, y))
    for tier in (2, 3, 4):  # tiers never mix: each ring lies beyond the one inside it
        assert min(radius["upstream", tier]) > max(radius["upstream", tier - 1])
    option = chain_map.option(nodes, [], str)
    labelled = [n for n in option["series"][0]["data"] if "label" in n]
    assert len(labelled) == 1  # a tier 1 of 1,250 firms would be a blot: only the core
    small = nodes[:1] + [  # the core and a tier 1 of LABELLED firms
        chain_map.MapNode(f"s{i}", f"s{i}", "upstream", 1, False, 0, 0)
        for i in range(chain_map.LABELLED)
    ]
    labelled = [n for n in chain_map.option(small, [], str)["series"][0]["data"] if "label" in n]
    assert len(labelled) == len(small)  # the core and every tier-1 firm named
