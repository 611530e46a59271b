"""task attachments (the site-visit photos of the bank workbench's due-diligence pages)

``task_attachments``: the photos a relationship manager took on a site visit, kept with the
task (bytes in the database, at most 12 of at most 10 MB each, JPEG, PNG or HEIC), written
with the visit's completion; each one's SHA-256 goes on the verifiable log in clear.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_attachments",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_task_attachments_not_empty")),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg','image/png','image/heic')",
            name=op.f("ck_task_attachments_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["due_diligence_tasks.id"],
            name=op.f("fk_task_attachments_task_id_due_diligence_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_task_attachments_bank_id_banks")
        ),
        sa.PrimaryKeyConstraint("task_id", "seq", name=op.f("pk_task_attachments")),
    )
    op.create_index(op.f("ix_task_attachments_bank_id"), "task_attachments", ["bank_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_attachments_bank_id"), table_name="task_attachments")
    op.drop_table("task_attachments")
