"""tenancy: invitations, owned prices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:30:00

* ``users``: the platform operator's people (kind ``operator``: no bank, no enterprise).
* ``price_sources`` and owned, versioned ``commodity_prices``. Existing prices are kept:
  each goes to the bank that recorded it (its ``price.set`` audit event names the bank);
  a price with no bank behind it (the operator's CLI, or no audit event) goes to the
  platform source ``LEGACY``, which a product can name. All of them become version 1.
* ``credential_programmes.lead_bank_id``: the bank that opened it (its first funder).
* ``programme_invitations``: lead bank invites, core approves, invited bank accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_SOURCE = "LEGACY"

OLD_USER_CHECK = (
    "(kind = 'staff' AND bank_id IS NOT NULL AND enterprise_id IS NULL) OR "
    "(kind = 'enterprise' AND enterprise_id IS NOT NULL AND bank_id IS NULL)"
)
NEW_USER_CHECK = (
    OLD_USER_CHECK + " OR (kind = 'operator' AND bank_id IS NULL AND enterprise_id IS NULL)"
)

_old_prices = sa.table(
    "commodity_prices",
    sa.column("item", sa.String),
    sa.column("on", sa.Date),
    sa.column("unit", sa.String),
    sa.column("currency", sa.String),
    sa.column("price_minor", sa.BigInteger),
    sa.column("source", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_audit = sa.table(
    "audit_events",
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("bank_id", sa.String),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.String),
)
_sources = sa.table(
    "price_sources",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("created_by", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_new_prices = sa.table(
    "commodity_prices",
    sa.column("id", sa.String),
    sa.column("owner", sa.String),
    sa.column("bank_id", sa.String),
    sa.column("source_code", sa.String),
    sa.column("item", sa.String),
    sa.column("on", sa.Date),
    sa.column("version", sa.Integer),
    sa.column("unit", sa.String),
    sa.column("currency", sa.String),
    sa.column("price_minor", sa.BigInteger),
    sa.column("source", sa.String),
    sa.column("note", sa.String),
    sa.column("created_by", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_programmes = sa.table(
    "credential_programmes", sa.column("id", sa.String), sa.column("lead_bank_id", sa.String)
)
_funders = sa.table(
    "programme_funders",
    sa.column("programme_id", sa.String),
    sa.column("bank_id", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _edit_sqlite_schema(table: str, old: str, new: str) -> None:
    """Change a constraint of a SQLite table in place, the way SQLite documents for changes
    that leave the stored rows as they are (a CHECK loosened, NOT NULL on a filled column,
    a constraint removed): rewrite its CREATE TABLE text and bump the schema version.

    Rebuilding the table instead (Alembic's batch mode) drops it while other tables' rows
    point at it, which fails with foreign keys on inside the migration's transaction."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"{table}: expected the schema to contain {old!r} once")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (sql.replace(old, new), table),
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _user_check(old: str, new: str) -> None:
    if _sqlite():
        _edit_sqlite_schema("users", f"CHECK ({old})", f"CHECK ({new})")
        return
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_one_tenant"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_one_tenant"), new)


def _create_price_sources() -> None:
    op.create_table(
        "price_sources",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_price_sources")),
    )


def _create_new_prices() -> None:
    op.create_table(
        "commodity_prices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=True),
        sa.Column("source_code", sa.String(length=40), nullable=True),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(bank_id IS NOT NULL AND source_code IS NULL AND owner = bank_id) OR "
            "(bank_id IS NULL AND source_code IS NOT NULL AND owner = 'platform:' || source_code)",
            name=op.f("ck_commodity_prices_one_owner"),
        ),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_commodity_prices_price_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_commodity_prices_version_positive")),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_commodity_prices_bank_id_banks")
        ),
        sa.ForeignKeyConstraint(
            ["source_code"],
            ["price_sources.code"],
            name=op.f("fk_commodity_prices_source_code_price_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commodity_prices")),
        sa.UniqueConstraint(
            "owner", "item", "on", "version", name=op.f("uq_commodity_prices_owner")
        ),
    )
    with op.batch_alter_table("commodity_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commodity_prices_bank_id"), ["bank_id"], unique=False)


def _migrate_prices() -> None:
    """Old prices, each attributed to the bank whose staff recorded it (else LEGACY)."""
    conn = op.get_bind()
    old = [dict(r._mapping) for r in conn.execute(sa.select(_old_prices))]
    setters: dict[str, tuple[str | None, str]] = {}  # "item/on" -> (bank_id, actor)
    for target, bank_id, actor in conn.execute(
        sa.select(_audit.c.target_id, _audit.c.bank_id, _audit.c.actor)
        .where(_audit.c.action == "price.set", _audit.c.target_type == "price")
        .order_by(_audit.c.occurred_at)
    ):
        if target is not None and (bank_id is not None or target not in setters):
            setters[str(target)] = (bank_id, str(actor))
    op.drop_table("commodity_prices")
    _create_price_sources()
    _create_new_prices()
    rows = []
    legacy = False
    for n, price in enumerate(sorted(old, key=lambda r: (r["item"], r["on"])), 1):
        bank_id, actor = setters.get(f"{price['item']}/{price['on'].isoformat()}", (None, ""))
        legacy = legacy or bank_id is None
        rows.append(
            {
                "id": f"prc_migrated{n:020d}",
                "owner": bank_id or f"platform:{LEGACY_SOURCE}",
                "bank_id": bank_id,
                "source_code": None if bank_id else LEGACY_SOURCE,
                "item": price["item"],
                "on": price["on"],
                "version": 1,
                "unit": price["unit"],
                "currency": price["currency"],
                "price_minor": price["price_minor"],
                "source": price["source"],
                "note": "recorded before migration 0013",
                "created_by": actor or "migration:0013",
                "created_at": _aware(price["created_at"]),
            }
        )
    if legacy:
        op.bulk_insert(
            _sources,
            [
                {
                    "code": LEGACY_SOURCE,
                    "name": "prices recorded before owned price sources (migration 0013)",
                    "created_by": "migration:0013",
                    "created_at": min(r["created_at"] for r in rows),  # no wall clock here
                }
            ],
        )
    if rows:
        op.bulk_insert(_new_prices, rows)


LEAD_FK = "fk_credential_programmes_lead_bank_id_banks"
LEAD_COLUMN = "lead_bank_id VARCHAR(32)"
LEAD_REFERENCES = f" CONSTRAINT {LEAD_FK} REFERENCES banks (id)"


def _lead_banks() -> None:
    if _sqlite():
        op.execute(f"ALTER TABLE credential_programmes ADD COLUMN {LEAD_COLUMN}{LEAD_REFERENCES}")
    else:
        op.add_column(
            "credential_programmes",
            sa.Column("lead_bank_id", sa.String(length=32), nullable=True),
        )
    conn = op.get_bind()
    first: dict[str, str] = {}
    for programme_id, bank_id in conn.execute(
        sa.select(_funders.c.programme_id, _funders.c.bank_id).order_by(
            _funders.c.created_at, _funders.c.bank_id
        )
    ):
        first.setdefault(programme_id, bank_id)
    for programme_id, bank_id in first.items():
        conn.execute(
            sa.update(_programmes)
            .where(_programmes.c.id == programme_id)
            .values(lead_bank_id=bank_id)
        )
    if _sqlite():
        _edit_sqlite_schema("credential_programmes", LEAD_COLUMN, f"{LEAD_COLUMN} NOT NULL")
        op.create_index(
            "ix_credential_programmes_lead_bank_id", "credential_programmes", ["lead_bank_id"]
        )
        return
    with op.batch_alter_table("credential_programmes", schema=None) as batch_op:
        batch_op.alter_column("lead_bank_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_credential_programmes_lead_bank_id"), ["lead_bank_id"], unique=False
        )
        batch_op.create_foreign_key(batch_op.f(LEAD_FK), "banks", ["lead_bank_id"], ["id"])


def _drop_lead_banks() -> None:
    if _sqlite():
        op.drop_index("ix_credential_programmes_lead_bank_id", "credential_programmes")
        _edit_sqlite_schema(
            "credential_programmes", f"{LEAD_COLUMN} NOT NULL{LEAD_REFERENCES}", LEAD_COLUMN
        )
        op.execute("ALTER TABLE credential_programmes DROP COLUMN lead_bank_id")
        return
    with op.batch_alter_table("credential_programmes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(LEAD_FK), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_credential_programmes_lead_bank_id"))
        batch_op.drop_column("lead_bank_id")


def upgrade() -> None:
    _user_check(OLD_USER_CHECK, NEW_USER_CHECK)
    _migrate_prices()
    _lead_banks()
    op.create_table(
        "programme_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("lead_bank_id", sa.String(length=32), nullable=False),
        sa.Column("core_enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_minor", sa.BigInteger(), nullable=True),
        sa.Column("invited_by", sa.String(length=64), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_by", sa.String(length=64), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "line_minor IS NULL OR line_minor > 0",
            name=op.f("ck_programme_invitations_line_positive"),
        ),
        sa.CheckConstraint(
            "status IN ('invited','approved','accepted','declined')",
            name=op.f("ck_programme_invitations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_programme_invitations_bank_id_banks")
        ),
        sa.ForeignKeyConstraint(
            ["core_enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_programme_invitations_core_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_bank_id"],
            ["banks.id"],
            name=op.f("fk_programme_invitations_lead_bank_id_banks"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["credential_programmes.id"],
            name=op.f("fk_programme_invitations_programme_id_credential_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_invitations")),
    )
    with op.batch_alter_table("programme_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_invitations_bank_id"), ["bank_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_programme_invitations_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(
            "uq_programme_invitation_open",
            ["programme_id", "bank_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('invited','approved')"),
            postgresql_where=sa.text("status IN ('invited','approved')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("programme_invitations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_programme_invitation_open",
            sqlite_where=sa.text("status IN ('invited','approved')"),
            postgresql_where=sa.text("status IN ('invited','approved')"),
        )
        batch_op.drop_index(batch_op.f("ix_programme_invitations_programme_id"))
        batch_op.drop_index(batch_op.f("ix_programme_invitations_bank_id"))
    op.drop_table("programme_invitations")
    _drop_lead_banks()
    # Prices go back to one per item and day: the latest version of the latest writer.
    conn = op.get_bind()
    latest: dict[tuple[str, Any], dict[str, Any]] = {}
    for row in conn.execute(
        sa.select(_new_prices).order_by(_new_prices.c.created_at, _new_prices.c.version)
    ):
        latest[(row.item, row.on)] = dict(row._mapping)
    with op.batch_alter_table("commodity_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commodity_prices_bank_id"))
    op.drop_table("commodity_prices")
    op.drop_table("price_sources")
    op.create_table(
        "commodity_prices",
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_commodity_prices_price_positive")),
        sa.PrimaryKeyConstraint("item", "on", name=op.f("pk_commodity_prices")),
    )
    if latest:
        op.bulk_insert(
            _old_prices,
            [
                {
                    k: _aware(v[k])
                    for k in ("item", "on", "unit", "currency", "price_minor", "source")
                }
                | {"created_at": _aware(v["created_at"])}
                for v in latest.values()
            ],
        )
    op.execute("DELETE FROM users WHERE kind = 'operator'")
    _user_check(NEW_USER_CHECK, OLD_USER_CHECK)
