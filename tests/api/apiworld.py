"""API fixtures: an app on the test database and a small two-bank world to probe tenancy.

Test modules import these by the name ``apiworld``: a module called ``conftest`` would be
shadowed by other directories' conftest files in one pytest run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.app import create_app
from chainfin.config import Settings
from chainfin.domain.access import SYSTEM, OwnerKind
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, chains, registry
from testkeys import TEST_DATA_KEYS

PASSWORD = "correct horse battery"


def uscc(region: str, n: int) -> str:
    return make_uscc("9", "1", region, f"{n:08d}")


@dataclass
class World:
    ids: dict[str, str]  # name -> enterprise id
    usccs: dict[str, str]  # name -> uscc
    chain_a: str
    chain_b: str
    client_id: str
    client_secret: str
    platform_client_id: str
    platform_client_secret: str


def _ent(name: str, region: str, n: int, industry: str, *roles: Role) -> EnterpriseRecord:
    from chainfin.domain.money import Money

    return EnterpriseRecord(
        uscc=uscc(region, n),
        name=name,
        region_code=region,
        industry_code=industry,
        roles=frozenset(roles),
        employees=120,
        revenue=Money(5_000_000_000),
        total_assets=Money(3_000_000_000),
        legal_representative="王小明",
        phone="13812345678",
        address="苏州市工业园区星湖街1号",
    )


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """Bank A serves core A and its suppliers; bank B serves core B. Enterprise s1 supplies
    core A; s2 supplies s1; core B is unrelated to A. A platform has s1 as member."""
    return build_world(session_factory)


def build_world(session_factory: sessionmaker[Session]) -> World:
    """The world of the ``world`` fixture, written through ``session_factory``."""
    ents = [
        _ent("bank A", "310115", 1, "J66", Role.BANK),
        _ent("bank B", "440304", 2, "J66", Role.BANK),
        _ent("core A", "320505", 3, "C36", Role.CORE),
        _ent("s1", "320506", 4, "C38", Role.SUPPLIER),
        _ent("s2", "320507", 5, "C33", Role.SUPPLIER),
        _ent("core B", "440305", 6, "C39", Role.CORE),
        _ent("d1", "320508", 7, "F51", Role.DEALER),
    ]
    with transaction(session_factory) as s:
        registry.import_enterprises(s, SYSTEM, ents)
        a = registry.create_bank(s, SYSTEM, BankRecord("BKA", "bank A", ents[0].uscc))
        b = registry.create_bank(s, SYSTEM, BankRecord("BKB", "bank B", ents[1].uscc))
        p = registry.create_platform(s, SYSTEM, code="PLAT", name="platform")
        s.flush()
        ids = registry.ids_by_uscc(s, [e.uscc for e in ents])
        by_name = {e.name: ids[e.uscc] for e in ents}
        registry.link_customers(s, SYSTEM, a.id, [by_name[n] for n in ("core A", "s1", "s2", "d1")])
        registry.link_customers(s, SYSTEM, b.id, [by_name["core B"]])
        registry.import_enterprises(s, SYSTEM, [ents[3]], link_platform_id=p.id)
        since = date(2020, 1, 1)
        registry.import_relations(
            s,
            SYSTEM,
            [
                RelationRecord(ents[2].uscc, ents[3].uscc, "电池", since),
                RelationRecord(ents[3].uscc, ents[4].uscc, "壳体", since),
                RelationRecord(ents[6].uscc, ents[2].uscc, "整车", since),
            ],
        )
        ca = chains.create_chain(
            s,
            SYSTEM,
            name="chain A",
            core_usccs=[ents[2].uscc],
            industry_code="C36",
            region_code="320500",
            bank_id=a.id,
        )
        cb = chains.create_chain(
            s,
            SYSTEM,
            name="chain B",
            core_usccs=[ents[5].uscc],
            industry_code="C39",
            region_code="440300",
            bank_id=b.id,
        )
        for username, roles, bank, ent in [
            ("a-admin", ["admin"], "BKA", None),
            ("a-rm", ["relationship_manager"], "BKA", None),
            ("a-auditor", ["auditor"], "BKA", None),
            ("b-rm", ["relationship_manager"], "BKB", None),
            ("coreA", ["enterprise_admin"], None, ents[2].uscc),
            ("s1", ["enterprise_admin"], None, ents[3].uscc),
            ("s2-staff", ["finance_staff"], None, ents[4].uscc),
            ("coreB", ["enterprise_admin"], None, ents[5].uscc),
        ]:
            auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=roles,
                bank_code=bank,
                enterprise_uscc=ent,
            )
        client = auth.create_client(
            s,
            SYSTEM,
            name="bank A core",
            owner_kind=OwnerKind.BANK,
            owner="BKA",
            scopes=["registry:read"],
        )
        pclient = auth.create_client(
            s,
            SYSTEM,
            name="platform",
            owner_kind=OwnerKind.PLATFORM,
            owner="PLAT",
            scopes=["registry:read", "registry:write"],
        )
    return World(
        ids=by_name,
        usccs={e.name: e.uscc for e in ents},
        chain_a=ca.chain.id,
        chain_b=cb.chain.id,
        client_id=client.client_id,
        client_secret=client.client_secret,
        platform_client_id=pclient.client_id,
        platform_client_secret=pclient.client_secret,
    )


@pytest.fixture
def client(
    database_url: str, tmp_path: Path, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        data_keys=TEST_DATA_KEYS,
        ledger_sequencer=False,  # tests sequence explicitly
        ledger_origin="chainfin.test/ledger",
    )
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post(
        "/oauth/token", data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
