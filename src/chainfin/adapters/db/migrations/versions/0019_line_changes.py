"""the bank workbench's operations: maker-checker changes to credit limits (line_changes)

A person proposes a change to the bank's limits (open a line, change a line's limit, add a
sub-limit, freeze or unfreeze a line, set an exposure cap); another approves or rejects it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "line_changes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=True),
        sa.Column("result_id", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "kind IN ('open', 'limit', 'sublimit', 'freeze', 'unfreeze', 'cap')",
            name=op.f("ck_line_changes_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_line_changes_status_known"),
        ),
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> proposed_by",
            name=op.f("ck_line_changes_checker_not_maker"),
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_line_changes_bank_id_banks")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["credit_lines.id"], name=op.f("fk_line_changes_line_id_credit_lines")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["users.id"], name=op.f("fk_line_changes_proposed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_line_changes_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_changes")),
    )
    op.create_index(op.f("ix_line_changes_bank_id"), "line_changes", ["bank_id"])
    op.create_index(op.f("ix_line_changes_line_id"), "line_changes", ["line_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_line_changes_line_id"), table_name="line_changes")
    op.drop_index(op.f("ix_line_changes_bank_id"), table_name="line_changes")
    op.drop_table("line_changes")
