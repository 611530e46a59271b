"""The synthetic region's market data (demo/strategy_market.py): deterministic CSV files that
the strategy inputs' parser accepts, and the seed hook that gives every bank the dataset."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Bank
from chainfin.demo import seed as demo_seed
from chainfin.demo import strategy_market
from chainfin.demo.synthetic import RegionKey, Scale, SyntheticRegion, generate
from chainfin.demo.trade_history import TradeHistory, generate_history
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.strategy.csv_input import parse_inputs
from chainfin.domain.strategy.ratings import rating_index
from chainfin.domain.strategy.regions import parse_region
from chainfin.services import strategy

SEED = 42


@pytest.fixture(scope="module")
def region() -> SyntheticRegion:
    return generate([RegionKey.JJJ, RegionKey.GBA], Scale.SMALL, SEED)


@pytest.fixture(scope="module")
def history(region: SyntheticRegion) -> TradeHistory:
    return generate_history(region, seed=SEED)


def files_of(region: SyntheticRegion, history: TradeHistory) -> dict[str, bytes]:
    as_of = strategy_market.market_as_of(history)
    return strategy_market.market_files(region, history, as_of=as_of, seed=SEED)


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_same_inputs_give_the_same_bytes(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    again = generate([RegionKey.GBA, RegionKey.JJJ], Scale.SMALL, SEED)
    assert files_of(region, history) == files_of(again, generate_history(again, seed=SEED))


def test_another_seed_draws_other_core_ratings(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    as_of = strategy_market.market_as_of(history)
    one = strategy_market.market_files(region, history, as_of=as_of, seed=1)
    two = strategy_market.market_files(region, history, as_of=as_of, seed=2)
    assert one["enterprises.csv"] != two["enterprises.csv"]
    assert one["relations.csv"] == two["relations.csv"]


def test_the_strategy_parser_accepts_the_export(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    ds = parse_inputs(files_of(region, history))
    assert ds.as_of == max(d.issue_date for d in history.documents)
    assert len(ds.chains) == len(region.chains)
    assert len(ds.firms) == len(region.enterprises) - len(region.banks)
    assert ds.flows
    assert ds.missing == (
        "financials", "io_shares", "segments", "receivables", "customers", "exposures", "alerts",
    )  # fmt: skip


def test_chains_carry_the_kind_they_were_drawn_from(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    chains = rows(files_of(region, history)["chains.csv"])
    assert [c["chain_key"] for c in chains[:3]] == [
        "gba-electronics-1",
        "gba-appliance-1",
        "gba-nev-1",
    ]
    assert [c["kind"] for c in chains[3:]] == ["auto", "pharma", "steel"]


def test_only_cores_are_rated_and_within_aaa_to_a_minus(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    firms = rows(files_of(region, history)["enterprises.csv"])
    cores = {u for c in region.chains for u in c.core_usccs}
    rated = {f["uscc"]: f["rating"] for f in firms if f["rating"]}
    assert set(rated) == cores
    assert all(rating_index(r) <= rating_index("A-") for r in rated.values())


def test_pairs_that_traded_are_seen_from_their_start_to_their_last_document(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    links = rows(files_of(region, history)["relations.csv"])
    as_of = strategy_market.market_as_of(history)
    first = links[0]
    pair = (first["seller_uscc"], first["buyer_uscc"])
    dates = [d.issue_date for d in history.documents if (d.seller_uscc, d.buyer_uscc) == pair]
    since = min(r.since for r in region.relations if (r.seller_uscc, r.buyer_uscc) == pair)
    assert first["provenance"] == "platform_trade"
    assert (first["first_seen_on"], first["last_seen_on"]) == (
        min(min(dates), since).isoformat(),
        max(d for d in dates if d <= as_of).isoformat(),
    )
    declared = [lk for lk in links if lk["provenance"] == "declared"]
    assert all(lk["first_seen_on"] == lk["last_seen_on"] for lk in declared)


def test_the_policy_list_says_it_is_not_official(
    region: SyntheticRegion, history: TradeHistory
) -> None:
    policies = rows(files_of(region, history)["policies.csv"])
    assert {(p["region_code"], p["kind"]) for p in policies} == {
        ("440000", "electronics"),
        ("440300", "nev"),
        ("130000", "steel"),
        ("110000", "auto"),
    }
    assert {p["source"] for p in policies} == {strategy_market.POLICY_SOURCE}


def test_the_seed_hook_gives_every_bank_the_dataset(
    session_factory: sessionmaker[Session], history: TradeHistory
) -> None:
    small = generate([RegionKey.JJJ], Scale.SMALL, SEED)
    trade = generate_history(small, seed=SEED)
    with transaction(session_factory) as s:
        demo_seed.seed(s, small, with_users=False)
        assert strategy_market.import_markets(s, small, trade, seed=SEED) == len(small.banks)
    with session_factory() as s:
        for bank in s.scalars(select(Bank)):
            actor = Principal.staff("usr_s", bank_id=bank.id, roles=[StaffRole.STRATEGIST])
            [info] = strategy.datasets(s, actor)
            assert info.label == "合成市场数据 synthetic market data (seed 42)"
            assert info.as_of == strategy_market.market_as_of(trade)
        ds = strategy.load(s, actor, parse_region("jjj"))
    assert ds.bank is not None
    assert ds.bank.customers  # the seeded bank-customer links, read live
    assert isinstance(ds.as_of, date)
