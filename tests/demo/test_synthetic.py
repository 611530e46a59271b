"""The synthetic region generator: deterministic, valid identifiers and codes, exact tiers."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date

import pytest

from chainfin.demo.synthetic import RegionKey, Scale, SyntheticRegion, generate, region_key_of
from chainfin.domain.money import Money
from chainfin.domain.region import RegionLevel, check_region_code, lookup
from chainfin.domain.registry import (
    ChainRecord,
    EnterpriseRecord,
    Relation,
    Role,
    Side,
    compute_tiers,
)
from chainfin.domain.uscc import check_uscc

ALL = RegionKey.expand("all")

# Written out independently of the generator: what each region covers.
IN_REGION = {
    RegionKey.YRD: lambda code: code[:2] in {"31", "32", "33", "34"},
    RegionKey.GBA: lambda code: (
        code[:4] in {"4401", "4403", "4404", "4406", "4407", "4412", "4413", "4419", "4420"}
    ),
    RegionKey.JJJ: lambda code: code[:2] in {"11", "12", "13"},
}
# Prefecture-level cities with no county-level divisions: their own code is the county level.
NO_COUNTIES = {"441900", "442000"}


@pytest.fixture(scope="module")
def world() -> SyntheticRegion:
    return generate(ALL, Scale.SMALL, seed=42)


def by_uscc(region: SyntheticRegion) -> dict[str, EnterpriseRecord]:
    return {e.uscc: e for e in region.enterprises}


def role_of(e: EnterpriseRecord) -> Role:
    (role,) = e.roles
    return role


def chain_tiers(region: SyntheticRegion, chain: ChainRecord) -> dict[tuple[str, Side], int]:
    edges = [Relation(r.buyer_uscc, r.seller_uscc) for r in region.relations]
    return compute_tiers(set(chain.core_usccs), edges, max_tier=chain.max_tier)


# -- determinism --------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_region(world: SyntheticRegion) -> None:
    again = generate(ALL, Scale.SMALL, seed=42)
    assert again == world
    assert repr(again) == repr(world)


def test_different_seeds_give_different_regions(world: SyntheticRegion) -> None:
    other = generate(ALL, Scale.SMALL, seed=43)
    assert other != world
    assert {e.name for e in other.enterprises} != {e.name for e in world.enterprises}
    assert {e.uscc for e in other.enterprises}.isdisjoint(e.uscc for e in world.enterprises)


_DIGEST = """
import hashlib
from chainfin.demo.synthetic import RegionKey, Scale, generate
region = generate([RegionKey.GBA], Scale.SMALL, seed=5)
print(hashlib.sha256(repr(region).encode()).hexdigest())
"""


def test_the_output_does_not_depend_on_the_hash_seed() -> None:
    """Two interpreters with different string hashing give byte-identical output, so
    nothing depends on set or dict-of-str iteration order."""
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True, check=True
        )
        digests.add(done.stdout.strip())
    here = generate([RegionKey.GBA], Scale.SMALL, seed=5)
    digests.add(hashlib.sha256(repr(here).encode()).hexdigest())
    assert len(digests) == 1


def test_region_order_and_repeats_do_not_matter() -> None:
    assert generate([RegionKey.JJJ, RegionKey.YRD, RegionKey.JJJ], Scale.SMALL, 3) == generate(
        [RegionKey.YRD, RegionKey.JJJ], Scale.SMALL, 3
    )


def test_a_region_comes_out_the_same_alone_or_with_the_others(world: SyntheticRegion) -> None:
    alone = generate([RegionKey.GBA], Scale.SMALL, seed=42)
    firms = [e for e in alone.enterprises if Role.BANK not in e.roles]
    in_world = [e for e in world.enterprises if region_key_of(e.region_code) is RegionKey.GBA]
    assert firms == [e for e in in_world if Role.BANK not in e.roles]
    assert set(alone.relations) <= set(world.relations)
    assert set(alone.chains) <= set(world.chains)


def test_no_regions_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one region"):
        generate([], Scale.SMALL, seed=1)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("all", (RegionKey.YRD, RegionKey.GBA, RegionKey.JJJ)),
        ("ALL", (RegionKey.YRD, RegionKey.GBA, RegionKey.JJJ)),
        ("gba", (RegionKey.GBA,)),
        ("yrd, jjj", (RegionKey.YRD, RegionKey.JJJ)),
    ],
)
def test_expand_region_keys(text: str, keys: tuple[RegionKey, ...]) -> None:
    assert RegionKey.expand(text) == keys


@pytest.mark.parametrize("text", ["", "bohai", "yrd,xx"])
def test_expand_refuses_unknown_keys(text: str) -> None:
    with pytest.raises(ValueError, match=r"region key|not a valid RegionKey"):
        RegionKey.expand(text)


# -- sizes ----------------------------------------------------------------------------------


def test_small_is_about_500_enterprises_for_all_regions(world: SyntheticRegion) -> None:
    assert 420 <= len(world.enterprises) <= 600
    assert len(world.chains) == 9  # three per region


@pytest.mark.parametrize("key", list(RegionKey))
def test_small_is_about_a_third_for_one_region(key: RegionKey) -> None:
    region = generate([key], Scale.SMALL, seed=9)
    assert 130 <= len(region.enterprises) <= 220
    assert all(region_key_of(c.region_code) is key for c in region.chains)


def test_summary_counts_add_up(world: SyntheticRegion) -> None:
    summary = world.summary()
    assert summary["enterprises"] == len(world.enterprises)
    assert summary["relations"] == len(world.relations)
    by_role = summary["by_role"]
    by_region = summary["by_region"]
    by_chain = summary["by_chain"]
    assert isinstance(by_role, dict)
    assert isinstance(by_region, dict)
    assert isinstance(by_chain, dict)
    assert sum(by_role.values()) == len(world.enterprises)
    assert sum(by_region.values()) == len(world.enterprises)
    assert set(by_region) == {"yrd", "gba", "jjj"}
    assert by_role["bank"] == len(world.banks)
    assert set(by_chain) == {c.name for c in world.chains}
    for counts in by_chain.values():
        assert all(n > 0 for n in counts["upstream"].values())


# -- identifiers and codes ------------------------------------------------------------------


def test_every_uscc_is_valid_unique_and_carries_the_enterprise_region(
    world: SyntheticRegion,
) -> None:
    usccs = [e.uscc for e in world.enterprises]
    assert len(set(usccs)) == len(usccs)
    for e in world.enterprises:
        verdict = check_uscc(e.uscc)
        assert verdict.valid, (e.uscc, verdict.reason)
        assert verdict.org_code_valid is True
        assert e.uscc[:2] == "91"
        assert verdict.region_code == e.region_code


def test_region_codes_are_current_county_level_and_inside_their_region(
    world: SyntheticRegion,
) -> None:
    for e in world.enterprises:
        assert check_region_code(e.region_code) is None, e
        level = lookup(e.region_code).level
        assert level is RegionLevel.COUNTY or e.region_code in NO_COUNTIES, e
        key = region_key_of(e.region_code)
        assert key is not None
        assert IN_REGION[key](e.region_code), e


@pytest.mark.parametrize("key", list(RegionKey))
def test_a_single_region_stays_inside_it(key: RegionKey) -> None:
    region = generate([key], Scale.SMALL, seed=11)
    assert all(IN_REGION[key](e.region_code) for e in region.enterprises)


def test_industry_codes_are_canonical_divisions(world: SyntheticRegion) -> None:
    pattern = re.compile(r"^[A-T]\d{2}$")
    for e in world.enterprises:
        assert pattern.match(e.industry_code), e
    by_role: dict[Role, set[str]] = defaultdict(set)
    for e in world.enterprises:
        by_role[role_of(e)].add(e.industry_code)
    assert by_role[Role.BANK] == {"J66"}
    assert by_role[Role.WAREHOUSE] == {"G59"}
    assert by_role[Role.LOGISTICS] <= {"G54", "G58"}
    assert all(code[0] == "F" for code in by_role[Role.DEALER])
    assert all(code[0] == "C" for code in by_role[Role.CORE])


def test_names_are_unique_and_look_like_company_names(world: SyntheticRegion) -> None:
    names = [e.name for e in world.enterprises]
    assert len(set(names)) == len(names)
    for e in world.enterprises:
        assert e.name.endswith("有限公司"), e.name
        assert 8 <= len(e.name) <= 20, e.name


def test_contact_details_are_well_formed(world: SyntheticRegion) -> None:
    phone = re.compile(r"^(0\d{2,3}-[2-8]\d{7}|1[35789]\d{9})$")
    person = re.compile(r"^[\u4e00-\u9fff]{2,3}$")
    for e in world.enterprises:
        assert e.phone is not None
        assert phone.match(e.phone), e.phone
        assert e.legal_representative is not None
        assert person.match(e.legal_representative), e.legal_representative
        assert e.address is not None
        assert e.address.startswith(lookup(e.region_code).province), e.address
        assert e.address.endswith("号")


def test_no_float_anywhere(world: SyntheticRegion) -> None:
    def walk(value: object) -> None:
        assert not isinstance(value, float), value
        if isinstance(value, Money):
            assert type(value.amount_minor) is int
            assert value.currency == "CNY"
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple | list | frozenset):
            for item in value:
                walk(item)

    walk(world)
    for e in world.enterprises:
        assert isinstance(e.revenue, Money)
        assert isinstance(e.total_assets, Money)
        assert e.revenue.amount_minor > 0
        assert e.total_assets.amount_minor > 0
        assert e.employees is not None
        assert e.employees > 0


# -- chains and tiers -----------------------------------------------------------------------


def test_chain_records(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    for chain in world.chains:
        core = firms[chain.core_usccs[0]]
        assert 1 <= len(chain.core_usccs) <= 2
        assert all(Role.CORE in firms[c].roles for c in chain.core_usccs)
        assert chain.max_tier == 4
        assert chain.industry_code == core.industry_code
        assert re.fullmatch(r"\d{4}00", chain.region_code)
        assert chain.region_code == core.region_code[:4] + "00"
        assert lookup(chain.region_code).level is RegionLevel.PREFECTURE
        assert chain.name.endswith(f"产业链 · {core.name}")
        key = region_key_of(chain.region_code)
        assert key is not None
        assert chain.name.startswith(key.label)


def test_every_chain_has_suppliers_at_tiers_1_to_4(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    for chain in world.chains:
        tiers = chain_tiers(world, chain)
        supplier_tiers = {
            tier
            for (uscc, side), tier in tiers.items()
            if side is Side.UPSTREAM and Role.SUPPLIER in firms[uscc].roles
        }
        assert supplier_tiers == {1, 2, 3, 4}, chain.name


def test_tier_1_is_exactly_the_direct_suppliers_of_the_cores(world: SyntheticRegion) -> None:
    for chain in world.chains:
        cores = set(chain.core_usccs)
        direct = {r.seller_uscc for r in world.relations if r.buyer_uscc in cores}
        tiers = chain_tiers(world, chain)
        tier_1 = {u for (u, side), t in tiers.items() if side is Side.UPSTREAM and t == 1}
        assert tier_1 == direct


def test_dealers_buy_from_the_cores_at_downstream_tier_1(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    dealers_seen: set[str] = set()
    chains_with_dealers: Counter[RegionKey | None] = Counter()
    for chain in world.chains:
        tiers = chain_tiers(world, chain)
        downstream = {(u, t) for (u, side), t in tiers.items() if side is Side.DOWNSTREAM}
        assert all(t == 1 and Role.DEALER in firms[u].roles for u, t in downstream)
        dealers_seen |= {u for u, _ in downstream}
        if downstream:
            chains_with_dealers[region_key_of(chain.region_code)] += 1
    assert dealers_seen == {e.uscc for e in world.enterprises if Role.DEALER in e.roles}
    assert all(chains_with_dealers[key] >= 1 for key in RegionKey)


def test_service_firms_sell_to_cores_and_every_core_has_both(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    services: dict[str, set[Role]] = defaultdict(set)
    for r in world.relations:
        seller = role_of(firms[r.seller_uscc])
        if seller in (Role.LOGISTICS, Role.WAREHOUSE):
            assert role_of(firms[r.buyer_uscc]) in (Role.CORE, Role.SUPPLIER)
            services[r.buyer_uscc].add(seller)
    for chain in world.chains:
        for core in chain.core_usccs:
            assert services[core] == {Role.LOGISTICS, Role.WAREHOUSE}


def test_firm_size_falls_with_the_tier(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    for chain in world.chains:
        for core in chain.core_usccs:
            e = firms[core]
            assert e.employees is not None
            assert e.revenue is not None
            assert e.employees >= 3000
            assert e.revenue.amount_minor >= 10**8 * 100  # at least 1 亿元
        for (uscc, side), tier in chain_tiers(world, chain).items():
            e = firms[uscc]
            if side is not Side.UPSTREAM or Role.SUPPLIER not in e.roles:
                continue
            assert e.employees is not None
            if tier == 1:
                assert e.employees >= 300  # medium or large
            if tier >= 3:
                assert e.employees <= 300  # small or micro


def test_relations_have_no_self_loops_or_duplicates(world: SyntheticRegion) -> None:
    keys = [(r.buyer_uscc, r.seller_uscc, r.product_category) for r in world.relations]
    assert len(set(keys)) == len(keys)
    known = {e.uscc for e in world.enterprises}
    for r in world.relations:
        assert r.buyer_uscc != r.seller_uscc
        assert {r.buyer_uscc, r.seller_uscc} <= known
        assert date(2015, 1, 1) <= r.since <= date(2026, 6, 30)
        assert re.fullmatch(r"[\u4e00-\u9fffA-Z]{2,10}", r.product_category), r


def test_some_suppliers_serve_two_buyers(world: SyntheticRegion) -> None:
    buyers = Counter(r.seller_uscc for r in world.relations)
    suppliers = [e.uscc for e in world.enterprises if Role.SUPPLIER in e.roles]
    shared = sum(1 for s in suppliers if buyers[s] >= 2)
    assert 0.1 * len(suppliers) <= shared <= 0.6 * len(suppliers)


# -- banks ----------------------------------------------------------------------------------


def test_banks_are_enterprises_with_the_bank_role(world: SyntheticRegion) -> None:
    firms = by_uscc(world)
    assert 4 <= len(world.banks) <= 6
    assert len({b.code for b in world.banks}) == len(world.banks)
    for bank in world.banks:
        e = firms[bank.uscc]
        assert e.roles == frozenset({Role.BANK})
        assert e.industry_code == "J66"
        assert e.name.startswith(bank.name)
        assert "银行" in bank.name
    assert {e.uscc for e in world.enterprises if Role.BANK in e.roles} == {
        b.uscc for b in world.banks
    }


def test_every_enterprise_banks_somewhere_and_every_core_with_two(
    world: SyntheticRegion,
) -> None:
    assert len(set(world.customers)) == len(world.customers)
    codes = {b.code for b in world.banks}
    banks_of: dict[str, set[str]] = defaultdict(set)
    for code, uscc in world.customers:
        assert code in codes
        banks_of[uscc].add(code)
    bank_usccs = {b.uscc for b in world.banks}
    for e in world.enterprises:
        if e.uscc in bank_usccs:
            assert e.uscc not in banks_of
        else:
            assert banks_of[e.uscc], e.name
    for chain in world.chains:
        for core in chain.core_usccs:
            assert len(banks_of[core]) >= 2
