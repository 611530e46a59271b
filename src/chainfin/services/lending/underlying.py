"""What a loan is financed against: find it, value it, judge its authenticity, and name its
key in the receivables and collateral registry (one active financing per key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Credential,
    CredentialPiece,
    DocumentConfirmation,
    Enterprise,
    TradeDocumentRow,
)
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.products import UnderlyingKind
from chainfin.services.lending.prices import price_of, set_price
from chainfin.services.receivables import credential_key, receivable_key

__all__ = ["Underlying", "price_of", "resolve", "set_price", "value_receipt"]


@dataclass(frozen=True, slots=True)
class Underlying:
    kind: str
    ref: str
    found: bool
    key: str | None
    value_minor: int
    due_on: date | None
    trade_status: str
    debtor_id: str | None  # who pays what is financed (the core, the buyer), if anyone
    counterparty_id: str | None  # the core enterprise in order and dealer financing
    collateral: dict[str, Any] = field(default_factory=dict)


def _missing(kind: str, ref: str) -> Underlying:
    return Underlying(kind, ref, False, None, 0, None, "not_applicable", None, None)


def _due(doc: TradeDocumentRow) -> date | None:
    text = doc.content.get("due_date")
    return date.fromisoformat(str(text)) if text else None


def _is_core(session: Session, enterprise_id: str) -> bool:
    ent = session.get(Enterprise, enterprise_id)
    return ent is not None and "core" in ent.roles


def resolve(
    session: Session, kind: str, ref: str, applicant_id: str, on: date, *, prices: str
) -> Underlying:
    """The underlying ``ref`` of ``kind`` as the applicant's, goods valued at the prices of
    ``prices`` (the product's price owner: the bank, or a platform source). An underlying
    that does not exist or is not the applicant's is ``found=False`` (a decline reason, not
    an error)."""
    if kind == UnderlyingKind.CREDENTIAL_PIECE:
        return _piece(session, ref, applicant_id)
    doc = session.get(TradeDocumentRow, ref)
    if kind == UnderlyingKind.INVOICE:
        if doc is None or doc.kind != "invoice" or doc.seller_id != applicant_id:
            return _missing(kind, ref)
        confirmed = session.get(DocumentConfirmation, doc.id) is not None
        return Underlying(
            kind,
            ref,
            True,
            receivable_key(doc.seller_id, doc.invoice_number or doc.number),
            doc.total_minor,
            _due(doc),
            "verified" if confirmed else "unverified",
            doc.buyer_id,
            None,
        )
    if kind == UnderlyingKind.PURCHASE_ORDER:
        if doc is None or doc.kind != "purchase_order" or doc.seller_id != applicant_id:
            return _missing(kind, ref)
        if not _is_core(session, doc.buyer_id):
            return _missing(kind, ref)
        by_buyer = doc.submitter_enterprise_id == doc.buyer_id
        confirmed = by_buyer or session.get(DocumentConfirmation, doc.id) is not None
        return Underlying(
            kind,
            ref,
            True,
            f"purchase-order/{doc.id}",
            doc.total_minor,
            _due(doc),
            "verified" if confirmed else "unverified",
            doc.buyer_id,
            doc.buyer_id,
        )
    if kind == UnderlyingKind.DEALER_ORDER:
        if doc is None or doc.kind != "purchase_order" or doc.buyer_id != applicant_id:
            return _missing(kind, ref)
        if not _is_core(session, doc.seller_id):
            return _missing(kind, ref)
        by_core = doc.submitter_enterprise_id == doc.seller_id
        return Underlying(
            kind,
            ref,
            True,
            f"dealer-order/{doc.id}",
            doc.total_minor,
            None,
            "verified" if by_core else "unverified",
            None,
            doc.seller_id,
            {"goods_value_minor": doc.total_minor, "core_id": doc.seller_id},
        )
    if kind == UnderlyingKind.WAREHOUSE_RECEIPT:
        if (
            doc is None
            or doc.kind != "warehouse_receipt"
            or applicant_id
            not in (
                doc.seller_id,
                doc.buyer_id,
            )
        ):
            return _missing(kind, ref)
        items, value = value_receipt(session, doc, on, prices)
        return Underlying(
            kind,
            ref,
            True,
            f"warehouse-receipt/{doc.id}",
            value,
            None,
            "not_applicable",
            None,
            None,
            {"receipt": doc.number, "items": items, "valued_on": on.isoformat()},
        )
    return _missing(kind, ref)


def _piece(session: Session, ref: str, applicant_id: str) -> Underlying:
    kind = UnderlyingKind.CREDENTIAL_PIECE.value
    piece = session.get(CredentialPiece, ref)
    if piece is None or piece.holder_id != applicant_id or piece.status != "held":
        return _missing(kind, ref)
    credential = session.get(Credential, piece.credential_id)
    if credential is None or credential.status != "active":
        return _missing(kind, ref)
    return Underlying(
        kind,
        ref,
        True,
        credential_key(piece.id),
        piece.amount_minor,
        credential.payment_on,
        "verified",  # confirmed by the core enterprise (确权) before it was issued
        credential.issuer_id,
        credential.issuer_id,
    )


def value_receipt(
    session: Session, doc: TradeDocumentRow, on: date, owner: str
) -> tuple[list[dict[str, Any]], int]:
    """The pledged goods at ``owner``'s latest price on or before ``on``."""
    items: list[dict[str, Any]] = []
    total = Fraction(0)
    errors: list[FieldError] = []
    for n, line in enumerate(doc.content.get("lines", []), 1):
        item = str(line.get("item", ""))
        quantity = Decimal(str(line.get("quantity", "0")))
        price = price_of(session, owner, item, on)
        if price is None:
            errors.append(
                FieldError(
                    f"underlying.lines[{n}]",
                    f"no price on record for {item!r} on or before {on} from the product's "
                    "price source; load one with `chainfin loan price set`",
                )
            )
            continue
        value = Fraction(quantity) * price.price_minor
        total += value
        items.append(
            {
                "item": item,
                "quantity": str(quantity),
                "unit": price.unit,
                "price": Money(price.price_minor, price.currency).as_dict(),
                "priced_on": price.on.isoformat(),
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return items, int(total)  # floor: collateral is never valued up
