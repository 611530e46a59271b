"""Migration 0013 on a database with data: prices go to the bank that recorded them (else to
the platform source LEGACY) as version 1, each programme's first funder becomes its lead
bank, and rows pointing at the rebuilt tables keep pointing at them; down and up again."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from chainfin.adapters.db import migrate
from chainfin.adapters.db.engine import make_engine

PG_URL = os.environ.get("CHAINFIN_TEST_DATABASE_URL")
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm13.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set CHAINFIN_TEST_DATABASE_URL to run")
    schema = f"chainfin_m13_{worker_id}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _rows(conn: sa.Connection, table: str, *rows: dict[str, object]) -> None:
    t = sa.Table(table, sa.MetaData(), autoload_with=conn)
    conn.execute(sa.insert(t), list(rows))


def _ent(eid: str, uscc: str) -> dict[str, object]:
    return {
        "id": eid,
        "uscc": uscc,
        "name": eid,
        "region_code": "320505",
        "industry_code": "C36",
        "currency": "CNY",
        "roles": ["core"],
        "created_by": "operator",
        "created_at": T0,
        "updated_at": T0,
    }


def _seed(conn: sa.Connection) -> None:
    _rows(
        conn,
        "enterprises",
        _ent("ent_a", "913205050000000011"),
        _ent("ent_b", "913205050000000022"),
        _ent("ent_core", "913205050000000033"),
    )
    _rows(
        conn,
        "banks",
        {"id": "bnk_a", "code": "BKA", "name": "A", "enterprise_id": "ent_a", "created_at": T0},
        {"id": "bnk_b", "code": "BKB", "name": "B", "enterprise_id": "ent_b", "created_at": T0},
    )
    _rows(
        conn,
        "users",
        {
            "id": "usr_a",
            "username": "a-admin",
            "display_name": "a",
            "password_hash": "x",
            "kind": "staff",
            "bank_id": "bnk_a",
            "roles": ["admin"],
            "active": True,
            "created_at": T0,
        },
    )
    _rows(
        conn,
        "approval_authorities",
        {"bank_id": "bnk_a", "user_id": "usr_a", "level": 1, "granted_by": "x", "granted_at": T0},
    )
    _rows(
        conn,
        "credential_programmes",
        {
            "id": "prg_1",
            "core_enterprise_id": "ent_core",
            "name": "p",
            "currency": "CNY",
            "limit_minor": 300,
            "pending_minor": 0,
            "posted_minor": 0,
            "core_rating": "AAA",
            "tenor_cap_months": 6,
            "roll_convention": "following",
            "min_piece_minor": 100,
            "day_count": "ACT/360",
            "grace_days": 3,
            "penalty_multiplier": "1.5",
            "status": "active",
            "created_by": "x",
            "created_at": T0,
        },
    )
    _rows(
        conn,
        "programme_funders",
        {
            "programme_id": "prg_1",
            "bank_id": "bnk_b",
            "line_minor": 100,
            "pricing": {},
            "created_by": "x",
            "created_at": T1,
        },
        {
            "programme_id": "prg_1",
            "bank_id": "bnk_a",
            "line_minor": 200,
            "pricing": {},
            "created_by": "x",
            "created_at": T0,
        },
    )
    price = {"unit": "t", "currency": "CNY", "source": "SHFE", "created_at": T0}
    _rows(
        conn,
        "commodity_prices",
        {"item": "copper", "on": date(2026, 11, 1), "price_minor": 8_000_000, **price},
        {"item": "glass", "on": date(2026, 11, 1), "price_minor": 300_000, **price},
    )
    audit = {"actor_kind": "staff", "target_type": "price", "detail": {}, "action": "price.set"}
    _rows(
        conn,
        "audit_events",
        {
            "id": "aud_1",
            "occurred_at": T0,
            "actor": "staff:usr_a",
            "bank_id": "bnk_a",
            "target_id": "copper/2026-11-01",
            **audit,
        },
        {
            "id": "aud_2",
            "occurred_at": T0,
            "actor": "system:operator",
            "bank_id": None,
            "target_id": "glass/2026-11-01",
            **audit,
        },
    )


def test_existing_prices_programmes_and_users_survive_0013_down_and_up(url: str) -> None:
    migrate.upgrade(url, "0012")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _seed(conn)
        migrate.upgrade(url, "0013")
        with engine.connect() as conn:
            prices = {
                r.item: r
                for r in conn.execute(sa.text("SELECT * FROM commodity_prices ORDER BY item"))
            }
            assert (prices["copper"].owner, prices["copper"].bank_id, prices["copper"].version) == (
                "bnk_a",
                "bnk_a",
                1,
            )
            assert prices["copper"].created_by == "staff:usr_a"
            assert (prices["glass"].owner, prices["glass"].source_code) == (
                "platform:LEGACY",
                "LEGACY",
            )
            assert conn.execute(sa.text("SELECT code FROM price_sources")).scalars().all() == [
                "LEGACY"
            ]
            lead = conn.execute(sa.text("SELECT lead_bank_id FROM credential_programmes")).scalar()
            assert lead == "bnk_a"  # the first funder
            assert conn.execute(sa.text("SELECT count(*) FROM approval_authorities")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM programme_funders")).scalar() == 2
            if url.startswith("sqlite"):  # the schema edited in place is sound and enforced
                assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
                fks = conn.execute(sa.text("PRAGMA foreign_key_list(credential_programmes)"))
                assert ("banks", "lead_bank_id") in {(r[2], r[3]) for r in fks}
        with engine.begin() as conn:  # the operator's people fit the users table now
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, display_name, password_hash, kind, roles, "
                    "active, created_at, failed_sign_ins) VALUES ('usr_pa', 'pa', 'pa', 'x', "
                    "'operator', '[\"platform_auditor\"]', true, :t, 0)"
                ),
                {"t": T1},
            )
        migrate.downgrade(url, "0012")
        with engine.connect() as conn:
            back = conn.execute(
                sa.text("SELECT item, price_minor FROM commodity_prices ORDER BY item")
            ).all()
            assert [tuple(r) for r in back] == [("copper", 8_000_000), ("glass", 300_000)]
            assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 1
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
