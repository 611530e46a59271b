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
    ApiClient,
    Bank,
    BankCustomer,
    Chain,
    ChainCore,
    ChainMember,
    ConsentGrant,
    DocumentConfirmation,
    Enterprise,
    Platform,
    PlatformMember,
    ReceivableRegistration,
    SupplyRelation,
    TradeDocumentRow,
    User,
)
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


def _ids(*names: str) -> Callable[[Row], list[str]]:
    return lambda row: sorted({str(row[n]) for n in names if row.get(n)})


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
            clear=("chain_id", "count"),
            private=("members",),
            key=lambda r: str(r["chain_id"]),
            parties=lambda r: [str(r["bank_id"])],
        ),
        RecordKind(
            "user",
            clear=("kind", "bank_id", "enterprise_id", "roles", "active"),
            private=("username", "display_name"),
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
            "client",
            clear=("owner_kind", "bank_id", "enterprise_id", "platform_id", "scopes", "active"),
            private=("name",),
            key=lambda r: str(r["id"]),
            parties=_ids("bank_id", "enterprise_id", "platform_id"),
        ),
    )
}


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of a document's canonical content (stored with it, digested on the log)."""
    return hashlib.sha256(canonical(dict(content))).hexdigest()


_MODELS: dict[str, Any] = {
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
}


def row_of(obj: Any) -> dict[str, Any]:
    """An ORM object's column values as a row."""
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


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
    for chain in session.scalars(select(Chain)):
        row = row_of(chain)
        row["core_ids"] = sorted(cores.get(chain.id, []))
        yield "chain", row
        if chain.tiers_computed_at is not None:
            yield "chain_members", members_row(chain, members.get(chain.id, []))
