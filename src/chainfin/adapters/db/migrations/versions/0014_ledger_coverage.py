"""ledger coverage of access and credentials

Hash chains over the audit trail, the data-access log and stored idempotent responses (a
digest per row, a position and chain hash once sealed) and the chains' keys and sealed
heads (``ledger_chains``). Rows written before this revision are adopted by the first seal.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINED = ("audit_events", "data_access_log", "idempotency_keys")


def upgrade() -> None:
    op.create_table(
        "ledger_chains",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("mac_key", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_chains")),
    )
    for table in CHAINED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("chain_digest", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
            batch_op.add_column(sa.Column("chain_hash", sa.LargeBinary(length=32), nullable=True))
            batch_op.create_unique_constraint(op.f(f"uq_{table}_chain_seq"), ["chain_seq"])


def downgrade() -> None:
    for table in reversed(CHAINED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"uq_{table}_chain_seq"), type_="unique")
            batch_op.drop_column("chain_hash")
            batch_op.drop_column("chain_seq")
            batch_op.drop_column("chain_digest")
    op.drop_table("ledger_chains")
