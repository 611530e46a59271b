"""What the enterprise portal's credential and loan application pages ask beyond the API's
own reads: which of the firm's trade documents can still back a loan (not registered to a bank in
the receivables registry, not the basis of a debtor confirmation already); the pieces the
firm held that are closed now, newest first.

Every function reads only what the actor's scoping lets it read: the documents passed in
were listed through :func:`chainfin.services.documents.list_documents`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CredentialPiece,
    PayableBasisDocument,
    ReceivableRegistration,
    TradeDocumentRow,
)
from chainfin.domain.access import Principal, Scope
from chainfin.services.receivables import receivable_key

# The registry key of each kind of document a loan is financed against, as
# chainfin.services.lending.underlying names it.
_KEY_PREFIX = {
    "purchase_order": "purchase-order",
    "dealer_order": "dealer-order",
    "warehouse_receipt": "warehouse-receipt",
}


def registry_key(kind: str, doc: TradeDocumentRow) -> str:
    """The registry key a loan against ``doc`` as ``kind`` registers."""
    if kind == "invoice":
        return receivable_key(doc.seller_id, doc.invoice_number or doc.number)
    return f"{_KEY_PREFIX.get(kind, kind)}/{doc.id}"


def used_documents(
    session: Session, actor: Principal, candidates: Sequence[tuple[str, TradeDocumentRow]]
) -> set[str]:
    """The ids of those ``(kind, document)`` candidates that cannot back a loan: registered
    to a bank (an active registration of their key) or, for an invoice, already the basis
    of a debtor confirmation (it became a credential)."""
    actor.require(Scope.DOCUMENTS_READ)
    if not candidates:
        return set()
    by_key = {registry_key(kind, doc): doc.id for kind, doc in candidates}
    used = {
        by_key[key]
        for key in session.scalars(
            select(ReceivableRegistration.receivable_key).where(
                ReceivableRegistration.receivable_key.in_(sorted(by_key)),
                ReceivableRegistration.released_at.is_(None),
            )
        )
    }
    ids = sorted({doc.id for _, doc in candidates})
    used |= set(
        session.scalars(
            select(PayableBasisDocument.document_id).where(
                PayableBasisDocument.document_id.in_(ids)
            )
        )
    )
    return used


# A piece the firm held and no longer holds as a live piece: replaced by its children, passed
# on (or to the bank that financed it), paid, sent back, or cancelled.
PAST_STATES = ("split", "transferred", "settled", "rejected", "cancelled")


def past_pieces(
    session: Session, actor: Principal, *, limit: int
) -> tuple[list[CredentialPiece], int]:
    """The ``limit`` newest pieces the actor's enterprise held that are closed now (see
    :data:`PAST_STATES`), the latest changed first, and how many there are in all."""
    actor.require(Scope.CREDENTIALS_READ)
    if actor.enterprise_id is None:
        return [], 0
    past = (
        CredentialPiece.holder_id == actor.enterprise_id,
        CredentialPiece.status.in_(PAST_STATES),
    )
    total = session.scalar(select(func.count()).select_from(CredentialPiece).where(*past))
    rows = session.scalars(
        select(CredentialPiece)
        .where(*past)
        .order_by(CredentialPiece.updated_at.desc(), CredentialPiece.id.desc())
        .limit(limit)
    )
    return list(rows), int(total or 0)
