"""the regional chain strategy: each bank's imported market data (strategy_datasets)

A bank's market data for head office's regional chain analysis (enterprises, chains,
relations, trade flows, financials, policy lists, input-output shares, segments,
receivables), kept as imported: gzipped deterministic JSON of the CSV files, its SHA-256,
the row counts and the inputs it lacks. The bank's own position is read live, not stored.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strategy_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_strategy_datasets_bank_id_banks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_datasets")),
    )
    op.create_index(op.f("ix_strategy_datasets_bank_id"), "strategy_datasets", ["bank_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_strategy_datasets_bank_id"), table_name="strategy_datasets")
    op.drop_table("strategy_datasets")
