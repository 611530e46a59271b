"""Trade documents: ingestion (all-or-nothing or partial), idempotency, attribution, the
ledger, and consent-gated reads.

A document is accepted when it parses against its kind's schema, both parties are
registered, the submitter may speak for one of them (the enterprise itself, or a platform
the enterprise is a member of), and it is not already on file with different content. Each
accepted document goes on the ledger: ids, parties, dates and amounts in clear, its number
and full content as salted digests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    DocumentConfirmation,
    Enterprise,
    PlatformMember,
    TradeDocumentRow,
)
from chainfin.adapters.formats import jsonbound
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import today, utcnow
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.documents import DocumentKind, TradeDocument, parse_document, to_row
from chainfin.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_ids
from chainfin.ledger.canonical import CanonicalError
from chainfin.services import audit, consent, early_warning, ledger
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.ledger_records import content_hash, row_of
from chainfin.services.pagination import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    paginate,
)
from chainfin.services.registry import ids_by_uscc


@dataclass
class RowOutcome:
    row: int
    status: str  # accepted, unchanged, rejected
    document_id: str | None = None
    key: str | None = None
    errors: list[FieldError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.document_id:
            out["document_id"] = self.document_id
        if self.key:
            out["key"] = self.key
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


@dataclass
class IngestReport:
    rows: list[RowOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.count("accepted"),
            "unchanged": self.count("unchanged"),
            "rejected": self.count("rejected"),
            "rows": [r.as_dict() for r in self.rows],
        }


def parse_rows(
    rows: Sequence[Mapping[str, object]], *, first_row: int = 1
) -> list[tuple[int, TradeDocument | list[FieldError]]]:
    """Parse every row; in flat formats (CSV) ``lines`` and ``tracking`` arrive as JSON text.
    Invoice numbers are checked against the business year of the platform's clock."""
    out: list[tuple[int, TradeDocument | list[FieldError]]] = []
    today_year = today().year
    for i, raw in enumerate(rows):
        row_no = first_row + i
        row = dict(raw)
        errors: list[FieldError] = []
        for nested in ("lines", "tracking"):
            value = row.get(nested)
            if isinstance(value, str):
                try:
                    row[nested] = jsonbound.loads(value) if value.strip() else None
                except jsonbound.TooDeep as exc:
                    errors.append(FieldError(nested, str(exc), row_no))
                except ValueError:
                    errors.append(FieldError(nested, "is not valid JSON", row_no))
        out.append((row_no, errors or parse_document(row, row_no=row_no, today_year=today_year)))
    return out


def _may_submit(session: Session, actor: Principal, party_ids: set[str]) -> bool:
    if actor.is_system:
        return True
    if actor.enterprise_id is not None:
        return actor.enterprise_id in party_ids
    if actor.platform_id is not None:
        return (
            session.scalar(
                select(PlatformMember.enterprise_id).where(
                    PlatformMember.platform_id == actor.platform_id,
                    PlatformMember.enterprise_id.in_(party_ids),
                )
            )
            is not None
        )
    return False


def ingest(
    session: Session,
    actor: Principal,
    parsed: Sequence[tuple[int, TradeDocument | list[FieldError]]],
    *,
    partial: bool = False,
) -> IngestReport:
    """Validate every row; write the good ones. Without ``partial`` one bad row rejects the
    batch (ValidationFailed listing every problem) and nothing is written."""
    actor.require(Scope.DOCUMENTS_WRITE)
    docs = [d for _, d in parsed if isinstance(d, TradeDocument)]
    ids = ids_by_uscc(session, {u for d in docs for u in (d.seller_uscc, d.buyer_uscc)})
    keys = {(d.kind.value, ids.get(d.seller_uscc), d.number) for d in docs}
    existing = _existing(session, keys)
    report = IngestReport()
    accepted: list[tuple[RowOutcome, TradeDocument, dict[str, Any], str]] = []
    seen: dict[tuple[str, str | None, str], int] = {}
    for row_no, result in parsed:
        outcome = RowOutcome(row_no, "rejected")
        report.rows.append(outcome)
        if isinstance(result, list):
            outcome.errors = result
            continue
        doc = result
        err = outcome.errors
        seller, buyer = ids.get(doc.seller_uscc), ids.get(doc.buyer_uscc)
        if seller is None:
            err.append(FieldError("seller_uscc", f"{doc.seller_uscc} is not registered", row_no))
        if buyer is None:
            err.append(FieldError("buyer_uscc", f"{doc.buyer_uscc} is not registered", row_no))
        if seller and buyer and not _may_submit(session, actor, {seller, buyer}):
            err.append(
                FieldError(
                    "seller_uscc", "you may only submit documents you are a party to", row_no
                )
            )
        key = (doc.kind.value, seller, doc.number)
        outcome.key = f"{doc.kind.value}/{doc.seller_uscc}/{doc.number}"
        if key in seen:
            err.append(FieldError("number", f"duplicate of row {seen[key]}", row_no))
        seen.setdefault(key, row_no)
        content = to_row(doc)
        try:
            digest = content_hash(content)
        except CanonicalError as exc:
            err.append(FieldError("document", f"cannot be stored: {exc}", row_no))
            continue
        if not err and key in existing:
            doc_id, old_hash = existing[key]
            if old_hash == digest:
                outcome.status, outcome.document_id = "unchanged", doc_id
                continue
            err.append(
                FieldError(
                    "number",
                    f"already on file as {doc_id} with different content; "
                    "send a credit note or use a new number",
                    row_no,
                )
            )
        if err:
            continue
        outcome.status = "accepted"
        accepted.append((outcome, doc, content, digest))
    rejected = [e for r in report.rows for e in r.errors]
    if rejected and not partial:
        raise ValidationFailed(rejected)
    _write(session, actor, accepted, ids)
    # signals update as data arrives: the sellers' monitoring banks re-evaluate them
    early_warning.on_documents(session, {ids[doc.seller_uscc] for _o, doc, _c, _h in accepted})
    return report


def _existing(
    session: Session, keys: set[tuple[str, str | None, str]]
) -> dict[tuple[str, str | None, str], tuple[str, str]]:
    """Documents already on file, looked up through the (kind, seller, number) unique index:
    one query per kind and seller, numbers in chunks."""
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, seller, number in keys:
        if seller is not None:
            groups.setdefault((kind, seller), []).append(number)
    found: dict[tuple[str, str | None, str], tuple[str, str]] = {}
    for (kind, seller), numbers in sorted(groups.items()):
        ordered = sorted(numbers)
        for i in range(0, len(ordered), 500):
            for number, doc_id, h in session.execute(
                select(
                    TradeDocumentRow.number, TradeDocumentRow.id, TradeDocumentRow.content_hash
                ).where(
                    TradeDocumentRow.kind == kind,
                    TradeDocumentRow.seller_id == seller,
                    TradeDocumentRow.number.in_(ordered[i : i + 500]),
                )
            ):
                found[(kind, seller, number)] = (doc_id, h)
    return found


def _write(
    session: Session,
    actor: Principal,
    accepted: Sequence[tuple[RowOutcome, TradeDocument, dict[str, Any], str]],
    ids: Mapping[str, str],
) -> None:
    if not accepted:
        return
    now = utcnow()
    doc_ids = new_ids("document", len(accepted))
    rows = []
    for doc_id, (outcome, doc, content, digest) in zip(doc_ids, accepted, strict=True):
        outcome.document_id = doc_id
        rows.append(
            {
                "id": doc_id,
                "kind": doc.kind.value,
                "schema_version": doc.schema_version,
                "number": doc.number,
                "seller_id": ids[doc.seller_uscc],
                "buyer_id": ids[doc.buyer_uscc],
                "issue_date": doc.issue_date,
                "currency": doc.currency,
                "total_minor": doc.total.amount_minor,
                "tax_minor": doc.tax.amount_minor if doc.tax else None,
                "contract_number": doc.contract_number,
                "order_number": doc.order_number,
                "delivery_number": doc.delivery_number,
                "invoice_number": doc.invoice_number,
                "content": content,
                "content_hash": digest,
                "submitted_by": actor.label,
                "submitter_enterprise_id": actor.enterprise_id,
                "submitter_platform_id": actor.platform_id,
                "created_at": now,
            }
        )
    for i in range(0, len(rows), 2000):
        session.execute(insert(TradeDocumentRow), rows[i : i + 2000])
    ledger.record(
        session,
        actor,
        [EntryDraft(f"document.{r['kind']}.accepted", [Change("document", r)]) for r in rows],
    )
    audit.record(session, actor, "document.ingest", "document", None, {"accepted": len(rows)})


# ------------------------------------------------------------------ reads


_CATEGORY = {
    DocumentKind.INVOICE: DataCategory.INVOICES,
    DocumentKind.CREDIT_NOTE: DataCategory.INVOICES,
    DocumentKind.WAYBILL: DataCategory.LOGISTICS,
}


class Side(StrEnum):
    """Which side of its documents an enterprise lists."""

    SELLER = "seller"
    BUYER = "buyer"


def category_of(kind: str) -> DataCategory:
    return _CATEGORY.get(DocumentKind(kind), DataCategory.TRADE_DOCUMENTS)


def list_documents(
    session: Session,
    actor: Principal,
    *,
    enterprise_id: str,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    kind: DocumentKind | None = None,
    side: Side | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TradeDocumentRow]:
    """An enterprise's documents (as seller or buyer; ``side`` keeps one of the two). The
    enterprise reads its own; a bank reads them only under the enterprise's consent for this
    category and purpose, and every bank read — refused or not — is in the enterprise's
    access log."""
    actor.require(Scope.DOCUMENTS_READ)
    limit = check_limit(limit)
    if actor.platform_id is not None and not actor.is_system:
        raise Forbidden("platform clients submit documents; they do not read them back")
    category = category_of(kind.value) if kind else DataCategory.TRADE_DOCUMENTS
    consent.require(
        session,
        actor,
        enterprise_id=enterprise_id,
        category=category,
        purpose=purpose,
        resource=f"documents of {enterprise_id}" + (f" ({kind.value})" if kind else ""),
    )
    after = decode_cursor(cursor)
    if side is Side.SELLER:
        query = select(TradeDocumentRow).where(TradeDocumentRow.seller_id == enterprise_id)
    elif side is Side.BUYER:
        query = select(TradeDocumentRow).where(TradeDocumentRow.buyer_id == enterprise_id)
    else:
        query = select(TradeDocumentRow).where(
            or_(
                TradeDocumentRow.seller_id == enterprise_id,
                TradeDocumentRow.buyer_id == enterprise_id,
            )
        )
    if kind is not None:
        query = query.where(TradeDocumentRow.kind == kind.value)
    elif actor.bank_id is not None:
        # a trade-documents consent does not open invoices or logistics
        query = query.where(TradeDocumentRow.kind.not_in(["invoice", "credit_note", "waybill"]))
    if after:
        query = query.where(TradeDocumentRow.id > after)
    rows = list(session.scalars(query.order_by(TradeDocumentRow.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)


def get_document(
    session: Session,
    actor: Principal,
    document_id: str,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> TradeDocumentRow:
    actor.require(Scope.DOCUMENTS_READ)
    if actor.platform_id is not None and not actor.is_system:
        raise Forbidden("platform clients submit documents; they do not read them back")
    row = session.get(TradeDocumentRow, document_id)
    if row is None:
        raise NotFound(f"no document {document_id!r}", code="document_not_found")
    parties = {row.seller_id, row.buyer_id}
    if not actor.is_system and actor.bank_id is None and actor.enterprise_id not in parties:
        raise NotFound(f"no document {document_id!r}", code="document_not_found")
    if actor.bank_id is not None:
        # The seller's consent governs: it is whose receivable the document evidences.
        consent.require(
            session,
            actor,
            enterprise_id=row.seller_id,
            category=category_of(row.kind),
            purpose=purpose,
            resource=f"document {row.id}",
            not_found="document_not_found",
        )
    return row


def awaiting_confirmation(
    session: Session, actor: Principal, *, limit: int = 50
) -> list[TradeDocumentRow]:
    """The goods receipts and invoices an enterprise received as the buyer and has not
    confirmed yet (:func:`confirm`), oldest first: what its staff should look at next."""
    actor.require(Scope.DOCUMENTS_READ)
    if actor.enterprise_id is None:
        return []
    query = (
        select(TradeDocumentRow)
        .where(
            TradeDocumentRow.buyer_id == actor.enterprise_id,
            TradeDocumentRow.kind.in_(sorted(CONFIRMABLE)),
            TradeDocumentRow.id.not_in(select(DocumentConfirmation.document_id)),
        )
        .order_by(TradeDocumentRow.issue_date, TradeDocumentRow.id)
        .limit(check_limit(limit))
    )
    return list(session.scalars(query))


def _awaiting_query(enterprise_id: str, search: str) -> Select[Any]:
    query = select(TradeDocumentRow).where(
        TradeDocumentRow.buyer_id == enterprise_id,
        TradeDocumentRow.kind.in_(sorted(CONFIRMABLE)),
        TradeDocumentRow.id.not_in(select(DocumentConfirmation.document_id)),
    )
    text = search.strip()
    if text:
        # a number or a seller's name, in part; the wildcards typed are taken as typed
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sellers = select(Enterprise.id).where(
            or_(
                Enterprise.name.ilike(pattern, escape="\\"),
                Enterprise.uscc == text.upper(),
            )
        )
        query = query.where(
            or_(
                TradeDocumentRow.number.ilike(pattern, escape="\\"),
                TradeDocumentRow.invoice_number == text,
                TradeDocumentRow.seller_id.in_(sellers),
            )
        )
    return query


def awaiting_confirmation_page(
    session: Session,
    actor: Principal,
    *,
    search: str = "",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[TradeDocumentRow]:
    """The documents of :func:`awaiting_confirmation` a page at a time, the newest received
    first, optionally only those whose number (or invoice number) or seller's name (or
    USCC) matches ``search``: a buyer with thousands waiting finds this week's."""
    actor.require(Scope.DOCUMENTS_READ)
    if actor.enterprise_id is None:
        check_limit(limit)
        return Page([], None)
    query = _awaiting_query(actor.enterprise_id, search)
    return paginate(
        session, query, TradeDocumentRow.id, cursor=cursor, limit=limit, descending=True
    )


def count_awaiting(session: Session, actor: Principal, *, search: str = "") -> int:
    """How many documents await the actor's enterprise's confirmation (all of them, not a
    page)."""
    actor.require(Scope.DOCUMENTS_READ)
    if actor.enterprise_id is None:
        return 0
    query = _awaiting_query(actor.enterprise_id, search).subquery()
    return int(session.scalar(select(func.count()).select_from(query)) or 0)


def confirmations_of(
    session: Session, actor: Principal, document_ids: Sequence[str]
) -> dict[str, DocumentConfirmation]:
    """The buyer's confirmations of those of ``document_ids`` the actor's enterprise is a
    party to (a page shows which documents are confirmed and which still wait)."""
    actor.require(Scope.DOCUMENTS_READ)
    if actor.enterprise_id is None or not document_ids:
        return {}
    query = (
        select(DocumentConfirmation)
        .join(TradeDocumentRow, TradeDocumentRow.id == DocumentConfirmation.document_id)
        .where(
            DocumentConfirmation.document_id.in_(sorted(set(document_ids))),
            or_(
                TradeDocumentRow.seller_id == actor.enterprise_id,
                TradeDocumentRow.buyer_id == actor.enterprise_id,
            ),
        )
    )
    return {c.document_id: c for c in session.scalars(query)}


def require_writer(actor: Principal) -> None:
    """Checked before any input is parsed."""
    actor.require(Scope.DOCUMENTS_WRITE)
    if actor.bank_id is not None and not actor.is_system:
        raise Forbidden("documents are submitted by enterprises and their platforms")


CONFIRMABLE = {"goods_receipt", "invoice"}


def confirm(session: Session, actor: Principal, document_id: str) -> DocumentConfirmation:
    """The buyer confirms a goods receipt or an invoice it received. Irrevocable, recorded on
    the ledger, and the basis for a later debtor confirmation (确权). Confirming again
    returns the first confirmation."""
    actor.require(Scope.DOCUMENTS_WRITE)
    row = session.get(TradeDocumentRow, document_id)
    if row is None or (
        not actor.is_system and actor.enterprise_id not in (row.seller_id, row.buyer_id)
    ):
        raise NotFound(f"no document {document_id!r}", code="document_not_found")
    if not actor.is_system and actor.enterprise_id != row.buyer_id:
        raise Forbidden(
            "only the buyer confirms what it received or was billed", code="not_your_record"
        )
    if row.kind not in CONFIRMABLE:
        raise ValidationFailed(
            [
                FieldError(
                    "document_id",
                    f"a {row.kind} is not confirmed; confirm the receipt or the invoice",
                )
            ],
            code="document_not_confirmable",
        )
    existing = session.get(DocumentConfirmation, document_id)
    if existing is not None:
        return existing
    confirmation = DocumentConfirmation(
        document_id=row.id, buyer_id=row.buyer_id, confirmed_by=actor.label, confirmed_at=utcnow()
    )
    session.add(confirmation)
    session.flush()
    ledger.one(
        session,
        actor,
        f"document.{row.kind}.confirmed",
        Change("confirmation", row_of(confirmation)),
    )
    audit.record(session, actor, "document.confirm", "document", row.id, {})
    return confirmation
