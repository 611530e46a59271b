"""supplier onboarding (invitations of firms not yet on the platform)

* ``supplier_invitations``: a holder invites one of its suppliers by a one-time
  registration link (only the SHA-256 digest of its token is stored; the contact person and
  mobile are encrypted like ``enterprises.phone``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "supplier_invitations"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("inviter_id", sa.String(length=32), nullable=False),
        sa.Column("invitee_id", sa.String(length=32), nullable=False),
        sa.Column("invitee_created", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("contact_mobile", sa.Text(), nullable=False),
        sa.Column("piece_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("invited_by", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_user_id", sa.String(length=32), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('invited','registered','expired','cancelled')",
            name=op.f("ck_supplier_invitations_status_known"),
        ),
        sa.CheckConstraint(
            "inviter_id <> invitee_id", name=op.f("ck_supplier_invitations_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["inviter_id"],
            ["enterprises.id"],
            name=op.f("fk_supplier_invitations_inviter_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["invitee_id"],
            ["enterprises.id"],
            name=op.f("fk_supplier_invitations_invitee_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["piece_id"],
            ["credential_pieces.id"],
            name=op.f("fk_supplier_invitations_piece_id_credential_pieces"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_user_id"],
            ["users.id"],
            name=op.f("fk_supplier_invitations_registered_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_invitations")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_supplier_invitations_token_digest")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_invitations_inviter_id"), ["inviter_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_invitations_inviter_id"))
    op.drop_table(TABLE)
