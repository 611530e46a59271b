"""SQLAlchemy 2 models. Every schema change is an Alembic migration (see migrations/).

Conventions: string primary keys with a type prefix (see ``chainfin.domain.ids``), amounts as
BigInteger minor units with a currency column, timestamps timezone-aware UTC, names of
columns carrying units (``_minor``, ``_at``, ``_on``).
"""

# No ``from __future__ import annotations`` here: with it SQLAlchemy turns each of the ~700
# ``Mapped[...]`` annotations back from a string with eval(), ~15 ms of every start of
# ``chainfin`` (bench/cli_start.py). Annotations here name only types defined above them.

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from chainfin.adapters.db.crypto import EncryptedText
from chainfin.domain import states

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every engine (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry_code: Mapped[str] = mapped_column(String(3), index=True)
    size_class: Mapped[str | None] = mapped_column(String(8))
    employees: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    total_assets_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Personal and contact data: encrypted at rest, masked in API responses.
    legal_representative: Mapped[str | None] = mapped_column(
        EncryptedText("enterprise.legal_representative")
    )
    phone: Mapped[str | None] = mapped_column(EncryptedText("enterprise.phone"))
    address: Mapped[str | None] = mapped_column(EncryptedText("enterprise.address"))
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("employees IS NULL OR employees >= 0", name="employees_non_negative"),
        CheckConstraint(
            "size_class IS NULL OR size_class IN ('large','medium','small','micro')",
            name="size_class_known",
        ),
    )


class Platform(Base):
    """An industrial internet platform that pushes data for its member enterprises."""

    __tablename__ = "platforms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PlatformMember(Base):
    __tablename__ = "platform_members"

    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )
    since: Mapped[datetime]


class Bank(Base):
    """A bank is a tenant: its staff see only its customers. It is also an enterprise."""

    __tablename__ = "banks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), unique=True)
    created_at: Mapped[datetime]


class BankCustomer(Base):
    __tablename__ = "bank_customers"

    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )
    relationship_manager_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    since: Mapped[datetime]


class SupplyRelation(Base):
    """``seller`` supplies ``product_category`` to ``buyer``."""

    __tablename__ = "supply_relations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    product_category: Mapped[str] = mapped_column(String(100))
    since: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("buyer_id", "seller_id", "product_category", name="pair_category"),
        CheckConstraint("buyer_id <> seller_id", name="not_self"),
    )


class Chain(Base):
    """A named industrial chain around one or more core enterprises, as a bank sees it."""

    __tablename__ = "chains"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    industry_code: Mapped[str] = mapped_column(String(3))
    region_code: Mapped[str] = mapped_column(String(6))
    max_tier: Mapped[int] = mapped_column(Integer)
    tiers_computed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("bank_id", "name", name="bank_name"),
        CheckConstraint("max_tier BETWEEN 1 AND 10", name="max_tier_range"),
    )


class ChainCore(Base):
    __tablename__ = "chain_cores"

    chain_id: Mapped[str] = mapped_column(
        ForeignKey("chains.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)


class ChainMember(Base):
    """A member's computed position: side (core/upstream/downstream) and tier."""

    __tablename__ = "chain_members"

    chain_id: Mapped[str] = mapped_column(
        ForeignKey("chains.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    side: Mapped[str] = mapped_column(String(10), primary_key=True)
    tier: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_chain_members_enterprise", "enterprise_id"),
        CheckConstraint("side IN ('core','upstream','downstream')", name="side_known"),
    )


class User(Base):
    """A person: bank staff (``bank_id`` set), an enterprise user (``enterprise_id`` set) or
    one of the platform operator's people (``kind`` operator: neither set)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    bank_id: Mapped[str | None] = mapped_column(ForeignKey("banks.id"), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Sign-in (migration 0012, services/signin.py): consecutive failures and the lockout
    # they lead to, the last good sign-in, and the instant before which every token issued
    # to the user is refused (a password change moves it).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_sign_in_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    tokens_valid_after: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "(kind = 'staff' AND bank_id IS NOT NULL AND enterprise_id IS NULL) OR "
            "(kind = 'enterprise' AND enterprise_id IS NOT NULL AND bank_id IS NULL) OR "
            "(kind = 'operator' AND bank_id IS NULL AND enterprise_id IS NULL)",
            name="one_tenant",
        ),
    )


class ApiClient(Base):
    """An OAuth2 client-credentials client owned by a platform, an enterprise or a bank."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    owner_kind: Mapped[str] = mapped_column(String(12))
    bank_id: Mapped[str | None] = mapped_column(ForeignKey("banks.id"))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("platforms.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "(owner_kind = 'bank' AND bank_id IS NOT NULL AND enterprise_id IS NULL "
            "AND platform_id IS NULL) OR "
            "(owner_kind = 'enterprise' AND enterprise_id IS NOT NULL AND bank_id IS NULL "
            "AND platform_id IS NULL) OR "
            "(owner_kind = 'platform' AND platform_id IS NOT NULL AND bank_id IS NULL "
            "AND enterprise_id IS NULL)",
            name="one_owner",
        ),
    )


class AuditEvent(Base):
    """Who did what, when, from where. Written in the same transaction as the change."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(12))
    bank_id: Mapped[str | None] = mapped_column(String(32), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(100))
    # Hash chain (migration 0014, services/ledger_chains.py): digest at write, seq and
    # chain hash when sealed.
    chain_digest: Mapped[str | None] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chain_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class LedgerEntry(Base):
    """One log entry: ``payload`` is the canonical JSON leaf input, ``seq`` its index once the
    sequencer has integrated it (NULL while pending)."""

    __tablename__ = "ledger_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    parties: Mapped[list[str]] = mapped_column(JSON)
    # The entry salt (see chainfin.ledger.canonical): never on the log, encrypted at rest.
    salt: Mapped[str] = mapped_column(EncryptedText("ledger.salt"))
    created_at: Mapped[datetime]
    sequenced_at: Mapped[datetime | None]


NODE_LEVEL_SHIFT = 48  # node_id = level << 48 | index: one integer key, one index lookup


class LedgerNode(Base):
    """Hash of the perfect subtree over leaves [index·2^level, (index+1)·2^level), keyed by
    ``node_id = level << 48 | index`` so a proof's nodes are one ``IN`` list on the key."""

    __tablename__ = "ledger_nodes"

    node_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerState(Base):
    """The integrated tree (a single row, also the sequencer's lock)."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime]


class LedgerKey(Base):
    """A log signing key. Retired keys stay so that old checkpoints remain verifiable."""

    __tablename__ = "ledger_keys"

    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(Text)
    private_key: Mapped[str] = mapped_column(EncryptedText("ledger.private_key"))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class Checkpoint(Base):
    """A signed checkpoint: the C2SP note with the log's signature and any cosignatures."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(ForeignKey("ledger_keys.key_id"))
    created_at: Mapped[datetime]


class Witness(Base):
    """A participant's cosigning key (a bank, a core enterprise, an auditor)."""

    __tablename__ = "ledger_witnesses"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    vkey: Mapped[str] = mapped_column(Text, unique=True)
    bank_id: Mapped[str | None] = mapped_column(ForeignKey("banks.id"))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    registered_by: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class Cosignature(Base):
    __tablename__ = "ledger_cosignatures"

    witness_name: Mapped[str] = mapped_column(ForeignKey("ledger_witnesses.name"), primary_key=True)
    tree_size: Mapped[int] = mapped_column(
        ForeignKey("ledger_checkpoints.tree_size"), primary_key=True
    )
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signature_line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ConsentGrant(Base):
    """An enterprise's grant to a bank: categories × purposes, until an expiry or revocation."""

    __tablename__ = "consent_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    categories: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("expires_at > valid_from", name="expires_after_start"),)


class DataAccess(Base):
    """One read (or refused read) of an enterprise's data on a bank's behalf; the enterprise
    sees its own log."""

    __tablename__ = "data_access_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"))
    actor: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str] = mapped_column(String(200))
    allowed: Mapped[bool] = mapped_column(Boolean)
    consent_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime]
    # Hash chain (migration 0014, services/ledger_chains.py).
    chain_digest: Mapped[str | None] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chain_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class TradeDocumentRow(Base):
    """An accepted trade document. ``content`` is the whole document in its import form;
    the columns repeat what matching, checks and searches need."""

    __tablename__ = "trade_documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    schema_version: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(64))
    seller_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int | None] = mapped_column(BigInteger)
    contract_number: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64))
    delivery_number: Mapped[str | None] = mapped_column(String(64))
    invoice_number: Mapped[str | None] = mapped_column(String(64), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitter_enterprise_id: Mapped[str | None] = mapped_column(String(32))
    submitter_platform_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("kind", "seller_id", "number", name="kind_seller_number"),
        CheckConstraint("total_minor >= 0", name="total_non_negative"),
    )


class DocumentConfirmation(Base):
    """The buyer's confirmation of a goods receipt or an invoice: the basis for the debtor
    confirmation (确权) a payable credential is issued against."""

    __tablename__ = "document_confirmations"

    document_id: Mapped[str] = mapped_column(ForeignKey("trade_documents.id"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    confirmed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime]


class IdempotencyKey(Base):
    """A client's idempotency key: the same key and request get the first answer back."""

    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Hash chain (migration 0014, services/ledger_chains.py): a replay checks the digest.
    chain_digest: Mapped[str | None] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chain_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class ReceivableRegistration(Base):
    """A receivable pledged or transferred to a bank (the platform's mirror of a 中登网
    filing). At most one active registration per receivable, whichever bank asks."""

    __tablename__ = "receivable_registrations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    receivable_key: Mapped[str] = mapped_column(String(120))
    invoice_document_id: Mapped[str | None] = mapped_column(ForeignKey("trade_documents.id"))
    invoice_number: Mapped[str | None] = mapped_column(String(64), index=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date | None] = mapped_column(Date)
    financing_ref: Mapped[str | None] = mapped_column(String(64))
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime]
    released_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_receivable_active",
            "receivable_key",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
        CheckConstraint("kind IN ('pledge','transfer')", name="kind_known"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class CalendarYear(Base):
    """An official working-day schedule for one year (statutory holidays and 调休 make-up
    working days), loaded by the operator once the State Council publishes it. Years with
    no row here come from the chinesecalendar package, or are projected (provisional)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    holidays: Mapped[list[str]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]


class LprFixing(Base):
    """A Loan Prime Rate fixing (贷款市场报价利率), in basis points (3.45% is 345)."""

    __tablename__ = "lpr_fixings"

    fixed_on: Mapped[date] = mapped_column(Date, primary_key=True)
    rate_1y_bp: Mapped[int] = mapped_column(Integer)
    rate_5y_bp: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("rate_1y_bp BETWEEN 0 AND 2000", name="rate_1y_range"),
        CheckConstraint("rate_5y_bp BETWEEN 0 AND 2000", name="rate_5y_range"),
    )


class CredentialProgramme(Base):
    """A core enterprise's credential programme: how much it may have outstanding (the sum
    of its funder banks' lines), reserved two-phase — ``pending`` on issue, ``posted`` once
    the first holder accepts, released on settlement or cancellation. ``lead_bank_id`` is the
    bank that opened it: only it invites other funders (migration 0013)."""

    __tablename__ = "credential_programmes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    core_enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    lead_bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    core_rating: Mapped[str] = mapped_column(String(8))
    tenor_cap_months: Mapped[int] = mapped_column(Integer)
    roll_convention: Mapped[str] = mapped_column(String(24))
    min_piece_minor: Mapped[int] = mapped_column(BigInteger)
    day_count: Mapped[str] = mapped_column(String(16))
    grace_days: Mapped[int] = mapped_column(Integer)
    penalty_multiplier: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("pending_minor >= 0", name="pending_non_negative"),
        CheckConstraint("posted_minor >= 0", name="posted_non_negative"),
        CheckConstraint("pending_minor + posted_minor <= limit_minor", name="within_limit"),
        CheckConstraint("tenor_cap_months BETWEEN 1 AND 12", name="tenor_cap_range"),
        CheckConstraint("min_piece_minor > 0", name="min_piece_positive"),
        CheckConstraint(states.CREDENTIAL_PROGRAMME.check_sql(), name="status_known"),
    )


class ProgrammeFunder(Base):
    """A bank backing a programme with a line, and the pricing it quotes on its pieces."""

    __tablename__ = "programme_funders"

    programme_id: Mapped[str] = mapped_column(
        ForeignKey("credential_programmes.id"), primary_key=True
    )
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), primary_key=True, index=True)
    line_minor: Mapped[int] = mapped_column(BigInteger)
    pricing: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("line_minor > 0", name="line_positive"),)


class PayableConfirmation(Base):
    """Debtor confirmation (确权): the core enterprise confirms it owes ``amount`` to the
    supplier on ``due_on``, on the basis of a matched trade case or confirmed documents.
    Irrevocable; ``issued_minor`` is how much of it credentials have been issued against."""

    __tablename__ = "payable_confirmations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    issued_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    due_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(12))
    trade_case_key: Mapped[str | None] = mapped_column(String(200))
    document_ids: Mapped[list[str]] = mapped_column(JSON)
    confirmed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("issued_minor BETWEEN 0 AND amount_minor", name="issued_within"),
        CheckConstraint("basis IN ('documents','trade_case')", name="basis_known"),
        CheckConstraint("debtor_id <> creditor_id", name="not_self"),
    )


class PayableBasisDocument(Base):
    """A trade document can back one debtor confirmation only."""

    __tablename__ = "payable_basis_documents"

    document_id: Mapped[str] = mapped_column(ForeignKey("trade_documents.id"), primary_key=True)
    confirmation_id: Mapped[str] = mapped_column(ForeignKey("payable_confirmations.id"), index=True)


class Credential(Base):
    """One issued credential; its pieces are in ``credential_pieces``. ``maturity_on`` is
    contractual and never changes; ``payment_on`` is maturity rolled to a working day, and
    ``payment_provisional`` says the calendar of that year was projected, not official."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("credential_programmes.id"), index=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    first_holder_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    face_minor: Mapped[int] = mapped_column(BigInteger)
    settled_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    issued_on: Mapped[date] = mapped_column(Date)
    maturity_on: Mapped[date] = mapped_column(Date)
    payment_on: Mapped[date] = mapped_column(Date, index=True)
    payment_provisional: Mapped[bool] = mapped_column(Boolean)
    calendar_source: Mapped[str] = mapped_column(String(200))
    confirmations: Mapped[list[list[Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("face_minor > 0", name="face_positive"),
        CheckConstraint("settled_minor BETWEEN 0 AND face_minor", name="settled_within"),
        CheckConstraint("maturity_on > issued_on", name="matures_after_issue"),
        CheckConstraint(states.CREDENTIAL.check_sql(), name="status_known"),
    )


class CredentialPiece(Base):
    """A node of a credential's tree. ``lineage`` lists the ancestors, root first; ``tier``
    is the holder's depth of penetration down the chain (1 = first holder)."""

    __tablename__ = "credential_pieces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("credential_pieces.id"), index=True)
    lineage: Mapped[list[str]] = mapped_column(JSON)
    tier: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    settled_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    holder_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    sender_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    financing_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("settled_minor BETWEEN 0 AND amount_minor", name="settled_within"),
        CheckConstraint("tier >= 1", name="tier_positive"),
        CheckConstraint(states.CREDENTIAL_PIECE.check_sql(), name="status_known"),
    )


class CredentialQuote(Base):
    """A funder bank's discount quote on a piece: every component and fee itemised."""

    __tablename__ = "credential_quotes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    piece_id: Mapped[str] = mapped_column(ForeignKey("credential_pieces.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Financing(Base):
    """A piece discounted by a bank. One per piece: a second financing is refused here and
    by the receivables registry."""

    __tablename__ = "credential_financings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    piece_id: Mapped[str] = mapped_column(ForeignKey("credential_pieces.id"), unique=True)
    bank_piece_id: Mapped[str] = mapped_column(ForeignKey("credential_pieces.id"), unique=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("credential_quotes.id"), unique=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    face_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    fees_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    discount_rate: Mapped[str] = mapped_column(String(16))
    all_in_rate: Mapped[str] = mapped_column(String(16))
    value_on: Mapped[date] = mapped_column(Date)
    payment_on: Mapped[date] = mapped_column(Date)
    registration_id: Mapped[str] = mapped_column(ForeignKey("receivable_registrations.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("net_minor > 0", name="net_positive"),
        CheckConstraint(
            "face_minor = net_minor + discount_minor + fees_minor", name="components_sum"
        ),
    )


class CredentialPayment(Base):
    """The issuer's payment on a credential, and how it was shared among the holders."""

    __tablename__ = "credential_payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)
    payment_ref: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    penalty_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_on: Mapped[date] = mapped_column(Date)
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("credential_id", "payment_ref", name="credential_ref"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class Alert(Base):
    """Something a person must look at: an overdue credential, later early-warning signals."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    subject_kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    bank_id: Mapped[str | None] = mapped_column(ForeignKey("banks.id"), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    # who must look at it (the customer's relationship manager), and what became of it
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    rule: Mapped[str | None] = mapped_column(String(60))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("severity IN ('info','low','medium','high','critical')", name="sev"),
        CheckConstraint(states.ALERT.check_sql(), name="state_known"),
    )


class Account(Base):
    """An account of a book (a bank's, or the platform's credential sub-ledger)."""

    __tablename__ = "accounts"

    book_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "type IN ('asset','liability','equity','income','expense')", name="type_known"
        ),
    )


class Journal(Base):
    """A journal entry's header. Its lines are written first and the header last; a trigger
    on the header refuses it unless the lines balance per currency, another refuses lines
    added to a posted journal, and updates and deletes are refused (append-only)."""

    __tablename__ = "journals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    book_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(120))
    value_on: Mapped[date] = mapped_column(Date)
    reverses_id: Mapped[str | None] = mapped_column(ForeignKey("journals.id"))
    memo: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("book_id", "ref", name="book_ref"),)


class JournalLine(Base):
    __tablename__ = "journal_lines"

    journal_id: Mapped[str] = mapped_column(
        ForeignKey("journals.id", deferrable=True, initially="DEFERRED"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    book_id: Mapped[str] = mapped_column(String(32))
    account_code: Mapped[str] = mapped_column(String(48))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_journal_lines_account", "book_id", "account_code"),
        CheckConstraint("amount_minor <> 0", name="amount_non_zero"),
    )


# ---------------------------------------------------------------------------- lending


class CreditLine(Base):
    """A bank's line to an obligor (a core enterprise, or a member under the core's
    guarantee), utilised two-phase: ``pending`` when an application is approved, ``posted``
    when the loan is disbursed, released as principal is repaid (revolving) or consumed
    (one-off: the limit shrinks by what is repaid, so it never becomes available again)."""

    __tablename__ = "credit_lines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    obligor_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    core_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    guarantor_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    currency: Mapped[str] = mapped_column(String(3))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    revolving: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    status_reason: Mapped[str | None] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("limit_minor >= 0", name="limit_non_negative"),
        CheckConstraint("pending_minor >= 0", name="pending_non_negative"),
        CheckConstraint("posted_minor >= 0", name="posted_non_negative"),
        CheckConstraint("pending_minor + posted_minor <= limit_minor", name="within_limit"),
        CheckConstraint(states.CREDIT_LINE.check_sql(), name="status_known"),
        CheckConstraint("expires_on > starts_on", name="expires_after_start"),
    )


class CreditSublimit(Base):
    """Part of a line reserved for one product kind and/or one chain member."""

    __tablename__ = "credit_sublimits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    product_kind: Mapped[str | None] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("limit_minor >= 0", name="limit_non_negative"),
        CheckConstraint("pending_minor >= 0", name="pending_non_negative"),
        CheckConstraint("posted_minor >= 0", name="posted_non_negative"),
        CheckConstraint("pending_minor + posted_minor <= limit_minor", name="within_limit"),
        CheckConstraint(
            "product_kind IS NOT NULL OR member_id IS NOT NULL", name="names_something"
        ),
    )


class ExposureCap(Base):
    """A bank's cap on what it may have reserved and drawn, across all lines, against one
    core enterprise's chain (``kind`` core) or one group of related parties (``kind`` group,
    members in :class:`ExposureCapMember`)."""

    __tablename__ = "exposure_caps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    core_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    currency: Mapped[str] = mapped_column(String(3))
    cap_minor: Mapped[int] = mapped_column(BigInteger)
    used_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("bank_id", "name", name="uq_exposure_caps_bank_name"),
        CheckConstraint("kind IN ('core','group')", name="kind_known"),
        CheckConstraint("used_minor >= 0", name="used_non_negative"),
        CheckConstraint("used_minor <= cap_minor", name="within_cap"),
        CheckConstraint("(kind = 'core') = (core_id IS NOT NULL)", name="core_named"),
    )


class ExposureCapMember(Base):
    __tablename__ = "exposure_cap_members"

    cap_id: Mapped[str] = mapped_column(ForeignKey("exposure_caps.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )


class LineReservation(Base):
    """One application's hold on a line, its sub-limits and caps (two-phase: pending, then
    posted or voided or expired). ``released_minor`` is what repayments gave back."""

    __tablename__ = "line_reservations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    application_id: Mapped[str] = mapped_column(String(32), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    released_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    sublimit_ids: Mapped[list[str]] = mapped_column(JSON)
    cap_ids: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "released_minor >= 0 AND released_minor <= amount_minor", name="released_range"
        ),
        CheckConstraint(states.LINE_RESERVATION.check_sql(), name="state_known"),
    )


class LoanProduct(Base):
    """A bank's product: a kind and a configuration of rules (see domain.products)."""

    __tablename__ = "loan_products"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("bank_id", "code", name="bank_code"),
        CheckConstraint(states.LOAN_PRODUCT.check_sql(), name="status_known"),
    )


class ApprovalAuthority(Base):
    """The level of credit authority a bank has delegated to one of its staff."""

    __tablename__ = "approval_authorities"

    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 9", name="level_range"),)


class LoanApplication(Base):
    """An application for a loan under a product, against an underlying (a credential
    piece, an invoice, a purchase order, a warehouse receipt or a dealer order)."""

    __tablename__ = "loan_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("loan_products.id"))
    applicant_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    line_id: Mapped[str | None] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tenor_months: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    underlying_kind: Mapped[str] = mapped_column(String(24))
    underlying_ref: Mapped[str] = mapped_column(String(64))
    underlying_key: Mapped[str | None] = mapped_column(String(120))
    underlying_value_minor: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(200))
    payee_account: Mapped[str] = mapped_column(EncryptedText("application.payee_account"))
    payee_agent: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    score: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reservation_id: Mapped[str | None] = mapped_column(String(32))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(states.LOAN_APPLICATION.check_sql(), name="status_known"),
    )


class ApplicationApproval(Base):
    """One person's step on a referred application: maker (recommends) or checker
    (decides, within their authority), approve or decline, with conditions and a note."""

    __tablename__ = "application_approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("loan_applications.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    step: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(8))
    level: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("application_id", "step", name="one_per_step"),
        CheckConstraint("step IN ('maker','checker')", name="step_known"),
        CheckConstraint("action IN ('approve','decline')", name="action_known"),
    )


class DueDiligenceTask(Base):
    """Offline work a rule asked for: a site visit or a financial statement analysis."""

    __tablename__ = "due_diligence_tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("loan_applications.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    kind: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("application_id", "kind", name="one_per_kind"),
        CheckConstraint("kind IN ('site_visit','financial_analysis')", name="kind_known"),
        CheckConstraint(states.DUE_DILIGENCE_TASK.check_sql(), name="state_known"),
    )


class Loan(Base):
    """A loan from approval to settlement: its schedule, what has been paid by component,
    arrears, classification, and where its money went."""

    __tablename__ = "loans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("loan_applications.id"), unique=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("loan_products.id"))
    product_kind: Mapped[str] = mapped_column(String(32))
    line_id: Mapped[str | None] = mapped_column(ForeignKey("credit_lines.id"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    annual_rate: Mapped[str] = mapped_column(String(12))
    penalty_rate: Mapped[str] = mapped_column(String(12))
    day_count: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(20))
    term_months: Mapped[int] = mapped_column(Integer)
    start_on: Mapped[date | None] = mapped_column(Date)
    maturity_on: Mapped[date | None] = mapped_column(Date)
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    principal_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_prepaid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_charged_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_through: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(20))
    flags: Mapped[list[str]] = mapped_column(JSON)
    payee_name: Mapped[str] = mapped_column(String(200))
    payee_account: Mapped[str] = mapped_column(EncryptedText("loan.payee_account"))
    payee_agent: Mapped[str] = mapped_column(String(16))
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    disbursement_id: Mapped[str | None] = mapped_column(String(32), index=True)
    disbursement_confirmed_at: Mapped[datetime | None]
    collateral: Mapped[dict[str, Any]] = mapped_column(JSON)
    released_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint(
            "principal_paid_minor + principal_prepaid_minor <= principal_minor",
            name="repaid_within_principal",
        ),
        CheckConstraint("penalty_paid_minor <= penalty_charged_minor", name="penalty_paid"),
        CheckConstraint(states.LOAN.check_sql(), name="status_known"),
    )


class LoanRepayment(Base):
    """Money received on a loan and how it was applied (penalty, interest, principal,
    prepayment, excess to suspense). ``source_ref`` makes a statement entry count once."""

    __tablename__ = "loan_repayments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    value_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    penalty_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    prepaid_minor: Mapped[int] = mapped_column(BigInteger)
    excess_minor: Mapped[int] = mapped_column(BigInteger)
    payer_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "penalty_minor + interest_minor + principal_minor + prepaid_minor + excess_minor"
            " = amount_minor",
            name="allocated_fully",
        ),
    )


class DisbursementFile(Base):
    """A pain.001.001.09 file of disbursement instructions, kept exactly as written."""

    __tablename__ = "disbursement_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    execution_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    count: Mapped[int] = mapped_column(Integer)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class StatementImport(Base):
    """An imported camt.053 file: what matched, what did not and why."""

    __tablename__ = "statement_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(35))
    version: Mapped[str] = mapped_column(String(24))
    statements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    matched: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("bank_id", "digest", name="bank_digest"),)


class StatementEntrySeen(Base):
    """A statement entry already imported (so the same entry in a later file counts once)."""

    __tablename__ = "statement_entries_seen"

    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("statement_imports.id"))


class CommodityPrice(Base):
    """The price of one unit of an item on a day, from one owner: a bank (its own valuation
    source, ``bank_id``) or a named platform price source (``source_code``, written by
    platform operators only). ``owner`` is the bank id or ``platform:<code>``. A price is
    never overwritten: a correction is a new ``version`` of the same day, and valuation takes
    the latest version of the latest day on or before the valuation date (migration 0013)."""

    __tablename__ = "commodity_prices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    bank_id: Mapped[str | None] = mapped_column(ForeignKey("banks.id"), index=True)
    source_code: Mapped[str | None] = mapped_column(ForeignKey("price_sources.code"))
    item: Mapped[str] = mapped_column(String(100))
    on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("owner", "item", "on", "version"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "(bank_id IS NOT NULL AND source_code IS NULL AND owner = bank_id) OR "
            "(bank_id IS NULL AND source_code IS NOT NULL AND owner = 'platform:' || source_code)",
            name="one_owner",
        ),
    )


class GoodsRelease(Base):
    """Dealer financing: goods the core enterprise releases to the dealer as it repays."""

    __tablename__ = "goods_releases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    value_minor: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("value_minor > 0", name="value_positive"),)


# ---------------------------------------------------------------------------- IoT


class IotDevice(Base):
    """A sensor bound to a pledge (a weight scale or RFID counter measuring one item of a
    loan's pledged goods, a temperature probe in the warehouse) or to a shipment (a GPS
    tracker, a temperature probe, following a waybill along a route corridor).

    ``serial`` is the vendor's serial: what messages and MQTT topics name. The ``last_*``
    columns are the device's current reading (the one with the latest ``at``) and the
    highest sequence number applied; they change with every reading and stay off the log."""

    __tablename__ = "iot_devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    unit: Mapped[str | None] = mapped_column(String(16))
    loan_id: Mapped[str | None] = mapped_column(ForeignKey("loans.id"), index=True)
    item: Mapped[str | None] = mapped_column(String(100))
    waybill_id: Mapped[str | None] = mapped_column(ForeignKey("trade_documents.id"), index=True)
    corridor: Mapped[dict[str, Any]] = mapped_column(JSON)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(12))
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_at: Mapped[datetime | None]
    last_received_at: Mapped[datetime | None]
    last_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("kind IN ('weight','rfid','gps','temperature')", name="kind_known"),
        CheckConstraint(states.IOT_DEVICE.check_sql(), name="state_known"),
        CheckConstraint("loan_id IS NULL OR waybill_id IS NULL", name="one_binding"),
        CheckConstraint("(loan_id IS NULL) = (item IS NULL)", name="pledge_names_item"),
    )


class IotReading(Base):
    """One telemetry message as received: kept whether or not it moved the device's current
    state (``status``: applied, out_of_order, late). ``digest`` is SHA-256 of the message's
    canonical JSON. Raw readings are high-volume and stay off the log; what they change (a
    loan's collateral, an alert) goes on it, naming the reading and its digest."""

    __tablename__ = "iot_readings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("iot_devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    value: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[str | None] = mapped_column(String(24))
    lon: Mapped[str | None] = mapped_column(String(24))
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="device_seq"),
        Index("ix_iot_readings_device_at", "device_id", "at"),
        CheckConstraint("status IN ('applied','out_of_order','late')", name="status_known"),
    )


class IotDeadLetter(Base):
    """A telemetry message that could not be used (malformed, unknown or unbound device),
    with the reason: kept for the operator, never raised out of the listener."""

    __tablename__ = "iot_dead_letters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(200))
    device_serial: Mapped[str | None] = mapped_column(String(64), index=True)
    reason_code: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


class RiskModel(Base):
    """A version of a bank's scorecard in its model registry: the pickle as the scorecard
    module writes it, its SHA-256, its card, and the training population's scores (for PSI).
    One champion per bank and name; the others are challengers or retired."""

    __tablename__ = "risk_models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    model_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the training population's scores as [score, count] pairs (whole points)
    baseline: Mapped[list[list[int]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    promoted_by: Mapped[str | None] = mapped_column(String(64))
    promoted_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("bank_id", "name", "version", name="bank_name_version"),
        Index(
            "uq_risk_model_champion",
            "bank_id",
            "name",
            unique=True,
            sqlite_where=text("status = 'champion'"),
            postgresql_where=text("status = 'champion'"),
        ),
        CheckConstraint(states.RISK_MODEL.check_sql(), name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class ModelMonitoring(Base):
    """One stability check of a registered model on a new population: PSI against the
    training population (in units of 1e-4) and per characteristic, and what it reads as."""

    __tablename__ = "model_monitoring"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("risk_models.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    psi_e4: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    # [{"variable", "psi_e4", "csi_e2"}]: per characteristic, integers (the log has no floats)
    variables: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    alert_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("status IN ('stable','watch','shift')", name="status_known"),)


# --- sign-in (migration 0012)


class TokenKey(Base):
    """An access-token signing key (Ed25519, JWS ``EdDSA``). The newest active key signs;
    a retired key still verifies until ``verify_until`` (when the last token it signed
    expires, or at once if it was withdrawn). ``kid`` is the RFC 7638 thumbprint of the
    public key, which is published at ``/oauth/jwks``; the private key is encrypted at rest
    with the field cipher, like the ledger's log key."""

    __tablename__ = "token_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str] = mapped_column(EncryptedText("token_key.private_key"))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    verify_until: Mapped[datetime | None]


class RevokedToken(Base):
    """A revoked access token (RFC 7009), by its ``jti``, kept until the token would have
    expired anyway (then pruned)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime]


# --- tenancy (migration 0013)


class PriceSource(Base):
    """A named platform price source (an exchange's settlement prices, a platform's weekly
    quote). Platform operators create it and write its prices; a bank's product names it as
    the source that values its collateral (``price_source`` in the product's config)."""

    __tablename__ = "price_sources"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ProgrammeInvitation(Base):
    """Another bank joins a credential programme only by invitation: the lead bank invites
    (``invited``), the core enterprise approves (``approved``), the invited bank accepts with
    its line (``accepted``: it is now a funder). Any of the three may decline an open
    invitation (``declined``). Rows are kept; at most one open invitation per bank."""

    __tablename__ = "programme_invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("credential_programmes.id"), index=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    # the programme's lead bank and core enterprise, so the row names all three parties
    lead_bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"))
    core_enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    status: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    line_minor: Mapped[int | None] = mapped_column(BigInteger)
    invited_by: Mapped[str] = mapped_column(String(64))
    invited_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None]
    declined_by: Mapped[str | None] = mapped_column(String(64))
    declined_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "uq_programme_invitation_open",
            "programme_id",
            "bank_id",
            unique=True,
            sqlite_where=text("status IN ('invited','approved')"),
            postgresql_where=text("status IN ('invited','approved')"),
        ),
        CheckConstraint(states.PROGRAMME_INVITATION.check_sql(), name="status_known"),
        CheckConstraint("line_minor IS NULL OR line_minor > 0", name="line_positive"),
    )


# --- ledger coverage (migration 0014)


class LedgerChain(Base):
    """One hash chain over an append-only table (``audit``, ``access``, ``idempotency``; see
    services/ledger_chains.py): the key its row digests are made with (never on the log,
    encrypted at rest) and its sealed head (``size`` rows, chain hash ``head``), which the
    sequencer anchors on the log. Also the sealer's lock for that chain."""

    __tablename__ = "ledger_chains"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    mac_key: Mapped[str] = mapped_column(EncryptedText("ledger.chain_key"))
    size: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


__all__ = [
    "Account",
    "Alert",
    "ApiClient",
    "ApplicationApproval",
    "ApprovalAuthority",
    "AuditEvent",
    "Bank",
    "BankCustomer",
    "Base",
    "CalendarYear",
    "Chain",
    "ChainCore",
    "ChainMember",
    "Checkpoint",
    "CommodityPrice",
    "ConsentGrant",
    "Cosignature",
    "Credential",
    "CredentialPayment",
    "CredentialPiece",
    "CredentialProgramme",
    "CredentialQuote",
    "CreditLine",
    "CreditSublimit",
    "DataAccess",
    "DisbursementFile",
    "DocumentConfirmation",
    "DueDiligenceTask",
    "Enterprise",
    "ExposureCap",
    "ExposureCapMember",
    "Financing",
    "GoodsRelease",
    "IdempotencyKey",
    "IotDeadLetter",
    "IotDevice",
    "IotReading",
    "Journal",
    "JournalLine",
    "LedgerChain",
    "LedgerEntry",
    "LedgerKey",
    "LedgerNode",
    "LedgerState",
    "LineReservation",
    "Loan",
    "LoanApplication",
    "LoanProduct",
    "LoanRepayment",
    "LprFixing",
    "ModelMonitoring",
    "PayableBasisDocument",
    "PayableConfirmation",
    "Platform",
    "PlatformMember",
    "PriceSource",
    "ProgrammeFunder",
    "ProgrammeInvitation",
    "ReceivableRegistration",
    "RevokedToken",
    "RiskModel",
    "StatementEntrySeen",
    "StatementImport",
    "SupplyRelation",
    "TokenKey",
    "TradeDocumentRow",
    "User",
    "Witness",
]


# --- notifications (migration 0017)


class Notification(Base):
    """One event a firm or a bank should hear about, written with the ledger entry that
    records it (services/notifications.py says which events and who hears them). The id is
    time-ordered, so ``(recipient_id, id)`` serves the inbox newest first and its count."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("ledger_entries.id"))
    recipient_kind: Mapped[str] = mapped_column(String(12))
    recipient_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(64))
    # what the recipient is told (a key of the pages' message table, web/notifications.py)
    topic: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str | None] = mapped_column(String(24))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    # the recipient's own figures from the record (amount_minor, currency, counterparty)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    # when the act it asked for was done (an offered piece answered, an invoice confirmed):
    # no longer waiting for anyone, so no longer counted as unread
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notifications_recipient", "recipient_id", "id"),
        CheckConstraint("recipient_kind IN ('enterprise','bank')", name="recipient_kind_known"),
    )


class NotificationRead(Base):
    """A person has read a notification: read state is each person's own."""

    __tablename__ = "notification_reads"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    read_at: Mapped[datetime]


__all__ += ["Notification", "NotificationRead"]


# --- supplier onboarding (migration 0015)


class SupplierInvitation(Base):
    """A holder invites one of its suppliers that is not yet on the platform (``invited``);
    the firm registers its administrator through a one-time link (``registered``), or the
    link lapses (``expired``) or is withdrawn (``cancelled``). Only the SHA-256 digest of
    the link's token is kept; the contact person and mobile are personal data, encrypted."""

    __tablename__ = "supplier_invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    inviter_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    invitee_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    # the invitation registered the firm (else the registry knew it: its first admin waits
    # for verification before signing in, services/onboarding.register)
    invitee_created: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str] = mapped_column(EncryptedText("supplier_invitation.contact_name"))
    contact_mobile: Mapped[str] = mapped_column(EncryptedText("supplier_invitation.contact_mobile"))
    piece_id: Mapped[str | None] = mapped_column(ForeignKey("credential_pieces.id"))
    status: Mapped[str] = mapped_column(String(12))
    invited_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    registered_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(states.SUPPLIER_INVITATION.check_sql(), name="status_known"),
        CheckConstraint("inviter_id <> invitee_id", name="not_self"),
    )


__all__ += ["SupplierInvitation"]


# --- account sessions (migration 0016)


class UserSession(Base):
    """A token issued to a person (the pages' sign-in or the API's password grant), so they
    can see where they are signed in and end a session: revoking it puts its ``jti`` on the
    denylist (``revoked_tokens``) and stamps ``revoked_at``. Rows are pruned once expired."""

    __tablename__ = "user_sessions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]


__all__ += ["UserSession"]


# --- operations (migration 0019)


class LineChange(Base):
    """A change to a bank's credit limits proposed by one person (the maker) and applied
    only when another approves it (the checker): open a line, change a line's limit, add a
    sub-limit, freeze or unfreeze a line, set an exposure cap. ``payload`` holds what was
    asked, as text; the approval applies it through services/lending/lines.py in its own
    transaction (``result_id`` names what it made). ``pending`` until decided."""

    __tablename__ = "line_changes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    line_id: Mapped[str | None] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))
    proposed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(300))
    result_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        CheckConstraint(
            "kind IN ('open', 'limit', 'sublimit', 'freeze', 'unfreeze', 'cap')",
            name="kind_known",
        ),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint(
            "decided_by IS NULL OR decided_by <> proposed_by", name="checker_not_maker"
        ),
    )


__all__ += ["LineChange"]


# --- work (migration 0018)


class TaskAttachment(Base):
    """A photo taken on a site visit, kept with the task it documents. It is written with
    the visit's completion, in the same transaction; its SHA-256 goes on the log in clear
    (a digest of an image says nothing of it), so anyone holding the photo can show it is
    the one recorded. The bytes stay with the bank."""

    __tablename__ = "task_attachments"

    task_id: Mapped[str] = mapped_column(ForeignKey("due_diligence_tasks.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, … in upload order
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="not_empty"),
        CheckConstraint("media_type IN ('image/jpeg','image/png','image/heic')", name="type_known"),
    )


__all__ += ["TaskAttachment"]


# --- strategy (migration 0020)


class StrategyDataset(Base):
    """A bank's market data for the regional chain analysis, as imported: the CSV files
    (enterprises, chains, relations, trade flows, ...) gzipped as one deterministic JSON
    object ``{file name: text}``; ``sha256`` is the digest of that JSON. Immutable: a new
    import is a new row, and the analysis reads the bank's latest. The bank's own position
    is not stored here: it is read live."""

    __tablename__ = "strategy_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("banks.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    missing: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


__all__ += ["StrategyDataset"]
