"""Which records the log covers, and the snapshot of each that goes on it.

Every state change appends the full post-state snapshot of each record it touched: public
fields in clear (ids, codes, states), private fields as salted digests (names, contact data,
headcount and financials, product categories, chain membership). ``chainfin ledger verify``
recomputes the same snapshots from the database and compares them with the latest one on the
log, so an edit made behind the platform's back shows up as a field that no longer matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    ApiClient,
    ApplicationApproval,
    ApprovalAuthority,
    Bank,
    BankCustomer,
    CalendarYear,
    Chain,
    ChainCore,
    ChainMember,
    CommodityPrice,
    ConsentGrant,
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    CredentialQuote,
    CreditLine,
    CreditSublimit,
    DisbursementFile,
    DocumentConfirmation,
    DueDiligenceTask,
    Enterprise,
    ExposureCap,
    ExposureCapMember,
    Financing,
    GoodsRelease,
    IotDevice,
    Journal,
    JournalLine,
    LineReservation,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanRepayment,
    LprFixing,
    ModelMonitoring,
    PayableConfirmation,
    Platform,
    PlatformMember,
    PriceSource,
    ProgrammeFunder,
    ProgrammeInvitation,
    ReceivableRegistration,
    RiskModel,
    StatementEntrySeen,
    StatementImport,
    SupplierInvitation,
    SupplyRelation,
    TaskAttachment,
    TradeDocumentRow,
    User,
)
from chainfin.domain.access import Principal
from chainfin.ledger.canonical import canonical

Row = Mapping[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # Timestamps to the second, UTC: what SQLite and PostgreSQL both round-trip.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RecordKind:
    """How one kind of record is keyed, what is public, what is private, who the parties are."""

    name: str
    clear: tuple[str, ...]
    private: tuple[str, ...]
    key: Callable[[Row], str]
    parties: Callable[[Row], list[str]]
    # Recomputes fields that are derived from others (for ``ledger verify``), so an edit
    # of the source field shows up as a changed derived field.
    derive: Callable[[Row], Row] | None = None

    def split(self, row: Row) -> tuple[dict[str, Any], dict[str, Any]]:
        clear = {f: _plain(row.get(f)) for f in self.clear}
        private = {f: _plain(row.get(f)) for f in self.private}
        return clear, private


@dataclass(frozen=True)
class IdParties:
    """Parties named by id fields of a record. The fields must be among the kind's clear
    fields (or ``id``): parties are derived from what the log shows of a record."""

    fields: tuple[str, ...]

    def __call__(self, row: Row) -> list[str]:
        return sorted({str(row[n]) for n in self.fields if row.get(n)})


def _ids(*names: str) -> IdParties:
    return IdParties(names)


_BOOKKEEPING = frozenset({"id", "created_at", "updated_at"})


def _lending(
    name: str,
    model: Any,
    parties: Callable[[Row], list[str]],
    *,
    private: tuple[str, ...] = (),
    key: tuple[str, ...] = ("id",),
    derive: Callable[[Row], Row] | None = None,
    omit: tuple[str, ...] = (),
) -> RecordKind:
    """A lending record: every column in clear except ``private``, ``omit`` and the row's
    own bookkeeping, keyed by its primary key."""
    columns = [c.key for c in model.__mapper__.column_attrs]
    skip = _BOOKKEEPING | set(private) | set(omit)
    clear = tuple(c for c in columns if c not in skip)
    return RecordKind(
        name,
        clear=clear,
        private=private,
        key=lambda r: "/".join(str(r[k]) for k in key),
        parties=parties,
        derive=derive,
    )


def _with_digest(row: Row) -> Row:
    return {**row, "digest": hashlib.sha256(bytes(row["xml"])).hexdigest()}


_LENDING: tuple[RecordKind, ...] = (
    _lending("line", CreditLine, _ids("bank_id", "obligor_id", "core_id", "guarantor_id")),
    _lending("sublimit", CreditSublimit, _ids("member_id")),
    _lending("cap", ExposureCap, _ids("bank_id", "core_id"), private=("name",)),
    _lending(
        "cap_member", ExposureCapMember, _ids("enterprise_id"), key=("cap_id", "enterprise_id")
    ),
    _lending("reservation", LineReservation, lambda r: []),
    _lending("product", LoanProduct, _ids("bank_id")),
    _lending("authority", ApprovalAuthority, _ids("bank_id"), key=("bank_id", "user_id")),
    _lending(
        "application",
        LoanApplication,
        _ids("bank_id", "applicant_id"),
        private=("payee_name", "payee_account"),
    ),
    _lending("approval", ApplicationApproval, lambda r: [], private=("note",)),
    _lending("task", DueDiligenceTask, _ids("bank_id", "enterprise_id"), private=("result",)),
    _lending("loan", Loan, _ids("bank_id", "borrower_id"), private=("payee_name", "payee_account")),
    _lending("repayment", LoanRepayment, _ids("payer_id")),
    _lending(
        "disbursement_file",
        DisbursementFile,
        _ids("bank_id"),
        omit=("xml",),  # the file is bytes: its digest (recomputed on verify) stands for it
        derive=_with_digest,
    ),
    _lending(
        "statement_import",
        StatementImport,
        _ids("bank_id"),
        private=("statements", "matched", "unmatched"),
    ),
    _lending("statement_entry", StatementEntrySeen, _ids("bank_id"), key=("bank_id", "entry_key")),
    # a bank's own price (its bank is the party) or a platform source's (public)
    _lending("commodity_price", CommodityPrice, _ids("bank_id")),
    _lending("price_source", PriceSource, lambda r: [], key=("code",)),
    _lending(
        "invitation", ProgrammeInvitation, _ids("bank_id", "lead_bank_id", "core_enterprise_id")
    ),
    _lending("goods_release", GoodsRelease, lambda r: []),
    _lending("alert", Alert, _ids("bank_id", "enterprise_id"), private=("message", "note")),
    # An IoT device's registration, binding and state. Its current reading (``last_*``)
    # changes with every message and stays off the log: what a reading changes (a loan's
    # collateral, naming the reading and its digest; an alert) goes on it. The readings
    # themselves (iot_readings) and dead letters are raw input, not state: see docs/iot.md.
    _lending(
        "device",
        IotDevice,
        _ids("bank_id"),
        private=("token_hash",),
        omit=("last_seq", "last_at", "last_received_at", "last_value"),
    ),
    # A registered scorecard. The pickle is bytes: its digest (recomputed on verify) stands
    # for it, and it holds the card, so the card column (floats, a display copy) stays off.
    _lending(
        "risk_model",
        RiskModel,
        _ids("bank_id"),
        omit=("model_bytes", "card"),
        derive=lambda r: {**r, "digest": hashlib.sha256(bytes(r["model_bytes"])).hexdigest()},
    ),
    _lending("model_monitoring", ModelMonitoring, _ids("bank_id")),
    # A supplier invitation: the inviter, the firm invited and the piece offered in clear;
    # the contact person and mobile (personal data) and the token's digest as digests.
    _lending(
        "supplier_invitation",
        SupplierInvitation,
        _ids("inviter_id", "invitee_id"),
        private=("contact_name", "contact_mobile", "token_digest"),
    ),
    # A site visit's photo: its SHA-256 in clear (recomputed from the bytes on verify, so an
    # edited photo shows up), the file's name as a digest; the bytes stay off the log.
    _lending(
        "task_attachment",
        TaskAttachment,
        _ids("bank_id"),
        private=("name",),
        key=("task_id", "seq"),
        omit=("content",),
        derive=lambda r: {**r, "sha256": hashlib.sha256(bytes(r["content"])).hexdigest()},
    ),
)


KINDS: dict[str, RecordKind] = {
    k.name: k
    for k in (
        RecordKind(
            "enterprise",
            clear=("region_code", "industry_code", "roles", "size_class", "currency"),
            private=(
                "uscc",
                "name",
                "employees",
                "revenue_minor",
                "total_assets_minor",
                "legal_representative",
                "phone",
                "address",
            ),
            key=lambda r: str(r["id"]),
            parties=_ids("id"),
        ),
        RecordKind(
            "bank",
            clear=("code", "name", "enterprise_id"),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("id", "enterprise_id"),
        ),
        RecordKind(
            "platform",
            clear=("code", "name"),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("id"),
        ),
        RecordKind(
            "bank_customer",
            clear=("bank_id", "enterprise_id", "relationship_manager_id"),
            private=(),
            key=lambda r: f"{r['bank_id']}/{r['enterprise_id']}",
            parties=_ids("bank_id", "enterprise_id"),
        ),
        RecordKind(
            "platform_member",
            clear=("platform_id", "enterprise_id"),
            private=(),
            key=lambda r: f"{r['platform_id']}/{r['enterprise_id']}",
            parties=_ids("platform_id", "enterprise_id"),
        ),
        RecordKind(
            "relation",
            clear=("buyer_id", "seller_id", "since"),
            private=("product_category",),
            key=lambda r: str(r["id"]),
            parties=_ids("buyer_id", "seller_id"),
        ),
        RecordKind(
            "chain",
            clear=("bank_id", "industry_code", "region_code", "max_tier", "core_ids"),
            private=("name",),
            key=lambda r: str(r["id"]),
            parties=lambda r: sorted({str(r["bank_id"]), *r["core_ids"]}),
        ),
        RecordKind(
            "chain_members",
            clear=("chain_id", "bank_id", "count"),
            private=("members",),
            key=lambda r: str(r["chain_id"]),
            parties=_ids("bank_id"),
        ),
        RecordKind(
            "user",
            # tokens_valid_after: tokens issued before it are refused (set by a password
            # change); clearing it behind the platform's back would revive them. The sign-in
            # bookkeeping (failure count, lockout, last sign-in) changes on every attempt and
            # stays off the log.
            clear=("kind", "bank_id", "enterprise_id", "roles", "active", "tokens_valid_after"),
            # The password hash as a salted digest of the hash (an argon2 string with its own
            # random salt): a change of password or a hash written behind the platform's
            # back shows up, and nothing of the hash can be read back from the log.
            private=("username", "display_name", "password_hash"),
            key=lambda r: str(r["id"]),
            parties=_ids("bank_id", "enterprise_id"),
        ),
        RecordKind(
            "consent",
            clear=(
                "enterprise_id",
                "bank_id",
                "categories",
                "purposes",
                "valid_from",
                "expires_at",
                "revoked_at",
            ),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("enterprise_id", "bank_id"),
        ),
        RecordKind(
            "document",
            clear=(
                "kind",
                "seller_id",
                "buyer_id",
                "issue_date",
                "currency",
                "total_minor",
                "tax_minor",
                "submitter_enterprise_id",
                "submitter_platform_id",
            ),
            private=("number", "content_hash"),
            key=lambda r: str(r["id"]),
            derive=lambda r: {**r, "content_hash": content_hash(r["content"])},
            parties=_ids(
                "seller_id", "buyer_id", "submitter_enterprise_id", "submitter_platform_id"
            ),
        ),
        RecordKind(
            "receivable",
            clear=(
                "creditor_id",
                "debtor_id",
                "bank_id",
                "kind",
                "currency",
                "amount_minor",
                "due_on",
                "released_at",
            ),
            private=("invoice_number", "financing_ref"),
            key=lambda r: str(r["id"]),
            parties=_ids("creditor_id", "debtor_id", "bank_id"),
        ),
        RecordKind(
            "confirmation",
            clear=("buyer_id", "confirmed_at"),
            private=(),
            key=lambda r: str(r["document_id"]),
            parties=_ids("buyer_id"),
        ),
        RecordKind(
            "lpr_fixing",
            clear=("fixed_on", "rate_1y_bp", "rate_5y_bp", "source"),
            private=(),
            key=lambda r: str(r["fixed_on"]),
            parties=lambda r: [],
        ),
        RecordKind(
            "calendar_year",
            clear=("year", "source", "holidays", "workdays"),
            private=(),
            key=lambda r: str(r["year"]),
            parties=lambda r: [],
        ),
        RecordKind(
            "programme",
            clear=(
                "core_enterprise_id",
                "lead_bank_id",
                "currency",
                "limit_minor",
                "pending_minor",
                "posted_minor",
                "core_rating",
                "tenor_cap_months",
                "roll_convention",
                "min_piece_minor",
                "day_count",
                "grace_days",
                "penalty_multiplier",
                "status",
            ),
            private=("name",),
            key=lambda r: str(r["id"]),
            parties=_ids("core_enterprise_id", "lead_bank_id"),
        ),
        RecordKind(
            "funder",
            clear=("programme_id", "bank_id", "line_minor", "pricing"),
            private=(),
            key=lambda r: f"{r['programme_id']}/{r['bank_id']}",
            parties=_ids("bank_id"),
        ),
        RecordKind(
            "payable",
            clear=(
                "debtor_id",
                "creditor_id",
                "currency",
                "amount_minor",
                "issued_minor",
                "due_on",
                "basis",
                "document_ids",
            ),
            private=("trade_case_key",),
            key=lambda r: str(r["id"]),
            parties=_ids("debtor_id", "creditor_id"),
        ),
        RecordKind(
            "credential",
            clear=(
                "programme_id",
                "issuer_id",
                "first_holder_id",
                "currency",
                "face_minor",
                "settled_minor",
                "issued_on",
                "maturity_on",
                "payment_on",
                "payment_provisional",
                "confirmations",
                "status",
            ),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("issuer_id", "first_holder_id"),
        ),
        RecordKind(
            "piece",
            clear=(
                "credential_id",
                "parent_id",
                "lineage",
                "tier",
                "currency",
                "amount_minor",
                "settled_minor",
                "holder_id",
                "sender_id",
                "status",
                "financing_id",
            ),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("holder_id", "sender_id"),
        ),
        RecordKind(
            "quote",
            clear=("piece_id", "bank_id", "holder_id", "terms", "valid_until"),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("bank_id", "holder_id"),
        ),
        RecordKind(
            "financing",
            clear=(
                "piece_id",
                "bank_piece_id",
                "quote_id",
                "bank_id",
                "seller_id",
                "currency",
                "face_minor",
                "discount_minor",
                "fees_minor",
                "net_minor",
                "discount_rate",
                "all_in_rate",
                "value_on",
                "payment_on",
                "registration_id",
            ),
            private=(),
            key=lambda r: str(r["id"]),
            parties=_ids("bank_id", "seller_id"),
        ),
        RecordKind(
            "payment",
            clear=(
                "credential_id",
                "payment_ref",
                "currency",
                "amount_minor",
                "penalty_minor",
                "paid_on",
                "allocations",
            ),
            private=(),
            key=lambda r: str(r["id"]),
            parties=lambda r: sorted({str(a["holder_id"]) for a in r["allocations"]}),
        ),
        RecordKind(
            "journal",
            clear=("book_id", "kind", "ref", "value_on", "reverses_id", "lines"),
            private=(),
            key=lambda r: str(r["id"]),
            parties=lambda r: [] if r["book_id"] == "platform" else [str(r["book_id"])],
        ),
        RecordKind(
            "client",
            clear=("owner_kind", "bank_id", "enterprise_id", "platform_id", "scopes", "active"),
            private=("name", "secret_hash"),
            key=lambda r: str(r["id"]),
            parties=_ids("bank_id", "enterprise_id", "platform_id"),
        ),
        # The sealed head of a hash chain (services/ledger_chains.py): ``size`` rows whose
        # chain hash is ``head``. Rebuilt from the rows by ``ledger verify``.
        RecordKind(
            "chain_head",
            clear=("size", "head"),
            private=(),
            key=lambda r: str(r["name"]),
            parties=lambda r: [],
        ),
        *_LENDING,
    )
}


def record_parties(kind_name: str, key: str, clear: Mapping[str, Any]) -> list[str]:
    """The parties of one logged record, from what the log shows of it (its id and clear
    fields)."""
    return KINDS[kind_name].parties({"id": key, **clear})


def entry_parties(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The parties of an entry: the one function that derives them from the payload's
    records. ``ledger.record`` stores its result with the entry (in the payload and the
    ``parties`` column, which access control reads); ``ledger verify`` recomputes it."""
    parties: set[str] = set()
    for rec in records:
        parties.update(record_parties(str(rec["kind"]), str(rec["id"]), rec.get("clear", {})))
    return sorted(parties)


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of a document's canonical content (stored with it, digested on the log)."""
    return hashlib.sha256(canonical(dict(content))).hexdigest()


_MODELS: dict[str, Any] = {
    "lpr_fixing": LprFixing,
    "calendar_year": CalendarYear,
    "programme": CredentialProgramme,
    "funder": ProgrammeFunder,
    "payable": PayableConfirmation,
    "credential": Credential,
    "piece": CredentialPiece,
    "quote": CredentialQuote,
    "financing": Financing,
    "payment": CredentialPayment,
    "confirmation": DocumentConfirmation,
    "receivable": ReceivableRegistration,
    "document": TradeDocumentRow,
    "consent": ConsentGrant,
    "enterprise": Enterprise,
    "bank": Bank,
    "platform": Platform,
    "bank_customer": BankCustomer,
    "platform_member": PlatformMember,
    "relation": SupplyRelation,
    "user": User,
    "client": ApiClient,
    "line": CreditLine,
    "sublimit": CreditSublimit,
    "cap": ExposureCap,
    "cap_member": ExposureCapMember,
    "reservation": LineReservation,
    "product": LoanProduct,
    "authority": ApprovalAuthority,
    "application": LoanApplication,
    "approval": ApplicationApproval,
    "task": DueDiligenceTask,
    "loan": Loan,
    "repayment": LoanRepayment,
    "disbursement_file": DisbursementFile,
    "statement_import": StatementImport,
    "statement_entry": StatementEntrySeen,
    "commodity_price": CommodityPrice,
    "price_source": PriceSource,
    "invitation": ProgrammeInvitation,
    "goods_release": GoodsRelease,
    "alert": Alert,
    "device": IotDevice,
    "risk_model": RiskModel,
    "model_monitoring": ModelMonitoring,
    "supplier_invitation": SupplierInvitation,
    "task_attachment": TaskAttachment,
}


def row_of(obj: Any) -> dict[str, Any]:
    """An ORM object's column values as a row."""
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


# Who may do what rests on users and API clients: every change to one goes on the log, in the
# transaction that makes it. Call these right after the change (the row's new state is what
# the entry records; ``ledger verify`` compares the database with the latest entry).
USER_EVENTS = frozenset(
    {
        "user.created",
        "user.changed",  # roles, tenant, active flag, display name, username
        "user.password_changed",  # the entry carries a salted digest of the new hash
    }
)
CLIENT_EVENTS = frozenset({"client.created", "client.changed", "client.secret_rotated"})


def record_user_change(
    session: Session, actor: Principal, user: User, event_type: str = "user.changed"
) -> None:
    """Log a user's new state (``actor`` is the Principal making the change)."""
    if event_type not in USER_EVENTS:
        raise ValueError(f"unknown user event {event_type!r}; one of {sorted(USER_EVENTS)}")
    from chainfin.services import ledger  # here: ledger imports this module

    ledger.one(session, actor, event_type, ledger.Change("user", row_of(user)))


def record_client_change(
    session: Session, actor: Principal, client: ApiClient, event_type: str = "client.changed"
) -> None:
    """Log an API client's new state: scopes, owner, active flag, a digest of its secret."""
    if event_type not in CLIENT_EVENTS:
        raise ValueError(f"unknown client event {event_type!r}; one of {sorted(CLIENT_EVENTS)}")
    from chainfin.services import ledger  # here: ledger imports this module

    ledger.one(session, actor, event_type, ledger.Change("client", row_of(client)))


def chain_row(session: Session, chain: Chain) -> dict[str, Any]:
    row = row_of(chain)
    row["core_ids"] = sorted(
        session.scalars(select(ChainCore.enterprise_id).where(ChainCore.chain_id == chain.id))
    )
    return row


def members_row(chain: Chain, members: Iterable[tuple[str, str, int]]) -> dict[str, Any]:
    listed = sorted([e, side, tier] for e, side, tier in members)
    return {"chain_id": chain.id, "bank_id": chain.bank_id, "count": len(listed), "members": listed}


def current_rows(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every covered record as it is in the database now, as (kind, row)."""
    for kind, model in _MODELS.items():
        for obj in session.scalars(select(model)).yield_per(5000):
            yield kind, row_of(obj)
    cores: dict[str, list[str]] = {}
    for chain_id, eid in session.execute(select(ChainCore.chain_id, ChainCore.enterprise_id)):
        cores.setdefault(chain_id, []).append(eid)
    members: dict[str, list[tuple[str, str, int]]] = {}
    for cid, eid, side, tier in session.execute(
        select(ChainMember.chain_id, ChainMember.enterprise_id, ChainMember.side, ChainMember.tier)
    ):
        members.setdefault(cid, []).append((eid, side, tier))
    yield from journal_rows(session)
    for chain in session.scalars(select(Chain)):
        row = row_of(chain)
        row["core_ids"] = sorted(cores.get(chain.id, []))
        yield "chain", row
        if chain.tiers_computed_at is not None:
            yield "chain_members", members_row(chain, members.get(chain.id, []))


def journal_rows(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """Journals with their lines, as they went on the log."""
    lines: dict[str, list[list[Any]]] = {}
    for jid, code, currency, amount in session.execute(
        select(
            JournalLine.journal_id,
            JournalLine.account_code,
            JournalLine.currency,
            JournalLine.amount_minor,
        ).order_by(JournalLine.journal_id, JournalLine.line_no)
    ):
        lines.setdefault(jid, []).append([code, currency, amount])
    for journal in session.scalars(select(Journal)).yield_per(5000):
        row = row_of(journal)
        row["lines"] = lines.pop(journal.id, [])
        yield "journal", row
    for jid, orphan in lines.items():  # lines whose header is gone: the log will disagree
        yield (
            "journal",
            {
                "id": jid,
                "book_id": "?",
                "kind": "?",
                "ref": "?",
                "value_on": None,
                "reverses_id": None,
                "lines": orphan,
            },
        )
