"""The regional chain analysis's service (services/strategy.py) over the credit world: core C
buys from t1, t1 from t2, t2 from t3; bank A serves the core (a credit line of 20 million
yuan opened here) and t1 (linked here, with an open alert); bank B joined the programme by
invitation.

Bank A's strategist imports market data naming the same firms; the analysis joins it with
bank A's live position."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import AuditEvent, StrategyDataset
from chainfin.domain.access import SYSTEM, Principal, Scope, StaffRole
from chainfin.domain.errors import Forbidden, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.strategy.regions import parse_region
from chainfin.services import alerts, registry, strategy
from chainfin.services.lending import lines

YRD = parse_region("yrd")
LIMIT = Money(20_000_000_00)
CORE, T1, T2, T3, X = (credit_world.uscc(n) for n in (3, 4, 5, 6, 7))


def market() -> dict[str, bytes]:
    firms = [(CORE, "core", "C36", "core", "AAA"), (T1, "t1", "C38", "supplier", "")]
    firms += [(T2, "t2", "C32", "supplier", ""), (T3, "t3", "C26", "supplier", "")]
    firms += [(X, "x", "F51", "dealer", "")]
    texts = {
        "enterprises.csv": "uscc,name,region_code,industry_code,role,rating\n"
        + "".join(f"{u},{n},320505,{i},{r},{g}\n" for u, n, i, r, g in firms),
        "chains.csv": f"chain_key,name,kind,core_usccs\nsz-nev,苏州新能源汽车,nev,{CORE}\n",
        "relations.csv": "seller_uscc,buyer_uscc,provenance,first_seen_on,last_seen_on\n"
        f"{T1},{CORE},platform_trade,2025-12-01,2026-11-20\n"
        f"{T2},{T1},declared,2024-05-01,2024-05-01\n"
        f"{T3},{T2},declared,2024-05-01,2024-05-01\n"
        f"{CORE},{X},payments,2026-01-05,2026-10-31\n",
        "trade_flows.csv": "seller_uscc,buyer_uscc,month,amount_yuan\n"
        f"{T1},{CORE},2026-10,2000000.00\n{CORE},{X},2026-10,500000.00\n",
    }
    return {name: text.encode() for name, text in texts.items()}


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> credit_world.CreditWorld:
    world = credit_world.build(session_factory)
    with transaction(session_factory) as s:
        registry.link_customers(s, SYSTEM, world.banks["BKA"], [world.ids["t1"]])
        alerts.raise_alert(
            s, SYSTEM, kind="customer_review", severity="high", subject_kind="enterprise",
            subject_id=world.ids["t1"], bank_id=world.banks["BKA"],
            enterprise_id=world.ids["t1"], message="review",
        )  # fmt: skip
        lines.open_line(
            s, world.staff("BKA"), obligor=CORE, limit=LIMIT,
            starts_on=date(2026, 11, 1), expires_on=date(2027, 10, 31),
        )  # fmt: skip
    return world


def strategist(world: credit_world.CreditWorld, bank: str) -> Principal:
    return Principal.staff(
        f"usr_{bank}_strategy", bank_id=world.banks[bank], roles=[StaffRole.STRATEGIST]
    )


def imported(
    factory: sessionmaker[Session], world: credit_world.CreditWorld, bank: str = "BKA"
) -> strategy.DatasetInfo:
    with transaction(factory) as s:
        return strategy.import_market(s, strategist(world, bank), market(), label="苏州 2026")


def counts(s: Session) -> tuple[int, int]:
    datasets = s.scalar(select(func.count()).select_from(StrategyDataset)) or 0
    audits = s.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "strategy.import")
    )
    return datasets, audits or 0


# ---------------------------------------------------------------------------- import


def test_an_import_keeps_the_files_with_their_digest_and_an_audit_record(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    info = imported(session_factory, world)
    assert info.id.startswith("sds_")
    assert info.counts == {"enterprises": 5, "chains": 1, "relations": 4, "trade_flows": 2}
    assert info.missing == ("financials", "policies", "io_shares", "segments", "receivables")
    assert str(info.as_of) == "2026-11-20"
    with session_factory() as s:
        row = s.get(StrategyDataset, info.id)
        assert row is not None
        content = gzip.decompress(row.content)
        assert hashlib.sha256(content).hexdigest() == row.sha256 == info.sha256
        assert json.loads(content)["chains.csv"] == market()["chains.csv"].decode()
        assert counts(s) == (1, 1)
        assert [d.id for d in strategy.datasets(s, strategist(world, "BKA"))] == [info.id]


def test_a_bad_file_writes_nothing(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    files = market()
    files["relations.csv"] += f"{T1},{CORE},gossip,2026-01-01,2026-01-02\n".encode()
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as caught:
        strategy.import_market(s, strategist(world, "BKA"), files, label="bad")
    assert [str(e) for e in caught.value.errors] == [
        "relations.csv row 6: provenance: 'gossip' is not one of platform_trade, declared, payments"
    ]
    with session_factory() as s:
        assert counts(s) == (0, 0)


def test_the_banks_position_is_not_imported_with_the_market(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    files = {**market(), "customers.csv": f"uscc\n{T2}\n".encode()}
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as caught:
        strategy.import_market(s, strategist(world, "BKA"), files, label="with customers")
    assert caught.value.errors[0].field == "customers.csv"
    with session_factory() as s:
        assert counts(s) == (0, 0)


# ---------------------------------------------------------------------------- who may


def test_another_banks_strategist_sees_no_dataset(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world, "BKA")
    other = strategist(world, "BKB")
    with session_factory() as s:
        assert strategy.datasets(s, other) == []
        with pytest.raises(NotFound) as caught:
            strategy.load(s, other, YRD)
    assert caught.value.code == "strategy_no_market_data"


def test_a_relationship_manager_may_not_read_the_analysis(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s, pytest.raises(Forbidden) as caught:
        strategy.load(s, world.staff("BKA"), YRD)
    assert caught.value.code == "scope_missing"


def test_a_risk_officer_may_read_but_not_import(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    risk = Principal.staff("usr_risk", bank_id=world.banks["BKA"], roles=[StaffRole.RISK_OFFICER])
    with session_factory() as s:
        assert strategy.load(s, risk, YRD).chains[0].key == "sz-nev"
        with pytest.raises(Forbidden):
            strategy.import_market(s, risk, market(), label="again")


def test_an_enterprise_user_is_refused(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    user = Principal(
        world.ent("core").kind,
        "usr_core",
        enterprise_id=world.ids["core"],
        scopes=strategist(world, "BKA").scopes,
    )
    with session_factory() as s, pytest.raises(Forbidden) as caught:
        strategy.datasets(s, user)
    assert caught.value.code == "bank_staff_only"


# ---------------------------------------------------------------------------- the position


def test_load_joins_the_market_with_the_banks_live_position(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s:
        ds = strategy.load(s, strategist(world, "BKA"), YRD)
        other = strategy.position_of(s, strategist(world, "BKB"), world.banks["BKB"])[0]
    assert ds.bank is not None
    assert ds.bank.bank == "BKA"
    assert ds.bank.customers == frozenset({CORE, T1})
    assert ds.bank.open_alerts == ((T1, 1),)
    core = {e.uscc: e for e in ds.bank.exposures}[CORE]
    assert core.limit_minor == LIMIT.amount_minor
    assert (core.exposure_minor, core.overdue) == (0, False)
    assert "customers" not in ds.missing
    assert ds.sources["customers"] == "live: the bank's customers on the platform (2)"
    assert other.customers == frozenset()  # bank B serves no one here
    assert other.open_alerts == ()


def test_the_latest_import_is_the_one_analysed(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    files = market()
    files["chains.csv"] = f"chain_key,name,kind,core_usccs\nsz-auto,苏州汽车,auto,{CORE}\n".encode()
    with transaction(session_factory) as s:
        strategy.import_market(s, strategist(world, "BKA"), files, label="second")
    with session_factory() as s:
        assert [c.key for c in strategy.load(s, strategist(world, "BKA"), YRD).chains] == [
            "sz-auto"
        ]
        assert [d.label for d in strategy.datasets(s, strategist(world, "BKA"))] == [
            "second",
            "苏州 2026",
        ]


# ---------------------------------------------------------------------------- the analysis


def test_a_chain_not_in_the_region_is_not_found(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    actor = strategist(world, "BKA")
    with session_factory() as s:
        for call in (
            lambda: strategy.leads(s, actor, YRD, "nope"),
            lambda: strategy.chain_map(s, actor, YRD, "nope"),
            lambda: strategy.leads(s, actor, parse_region("gba"), "sz-nev"),
        ):
            with pytest.raises(NotFound) as caught:
                call()
            assert caught.value.code == "strategy_chain_not_found"


def test_leads_name_the_firm_page_only_where_the_bank_may_open_it(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s:
        found = strategy.leads(s, strategist(world, "BKA"), YRD, "sz-nev")
    assert [lead.uscc for lead in found] == [X]  # trades with the served core, no customer
    assert found[0].enterprise_id is None  # neither a customer nor in one of the bank's chains


def test_the_map_marks_the_firms_the_bank_may_open(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s:
        found = strategy.chain_map(s, strategist(world, "BKA"), YRD, "sz-nev")
    ids = {f.uscc: f.enterprise_id for f in found.firms}
    assert ids[CORE] == world.ids["core"]
    assert ids[T1] == world.ids["t1"]
    assert ids[T2] is None


def test_the_ranking_and_the_report_cover_the_regions_chains(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s:
        ranking = strategy.rank(s, strategist(world, "BKA"), YRD)
        report = strategy.report(s, strategist(world, "BKA"), YRD, lang="en")
    assert [c.chain_key for c in ranking.chains] == ["sz-nev"]
    assert report.bank == "bank A"
    assert report.region_label == "Yangtze River Delta"
    assert [m.chain_key for m in report.maps] == ["sz-nev"]
    assert "policies" in report.missing


def test_the_report_renders_as_a_pdf(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    imported(session_factory, world)
    with session_factory() as s:
        pdf = strategy.report_pdf(s, strategist(world, "BKA"), YRD)
    assert pdf.startswith(b"%PDF-")


def test_a_reader_without_loans_read_gets_the_position_as_missing_not_zero(
    session_factory: sessionmaker[Session], world: credit_world.CreditWorld
) -> None:
    """A client granted strategy:read alone: exposures and alerts are withheld, so the
    measures that need them are missing, never zero."""
    imported(session_factory, world)
    narrow = dataclasses.replace(strategist(world, "BKA"), scopes=frozenset({Scope.STRATEGY_READ}))
    with session_factory() as s:
        ds = strategy.load(s, narrow, YRD)
        found = strategy.measures(s, narrow, YRD)
    assert {"exposures", "alerts"} <= set(ds.missing)
    assert ds.sources["exposures"].startswith("withheld")
    for chain in found:
        for key in ("delinquency_rate", "financing_share", "alert_rate"):
            assert chain.measures[key].value is None, (chain.chain_key, key)
