"""The receivables registry: a receivable (an invoice today, a credential later) registered
as pledged or transferred to a bank for financing. A second active registration of the same
receivable — by any bank — is refused with a conflict naming the first, which is what stops
duplicate financing. Registrations go on the ledger and export in a structured form for
filing with the national registry (动产融资统一登记公示系统)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank, Enterprise, ReceivableRegistration, TradeDocumentRow
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, ledger
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of


def receivable_key(seller_id: str, invoice_number: str) -> str:
    """One receivable, however many documents or banks mention it: creditor + invoice."""
    return f"invoice/{seller_id}/{invoice_number.strip().upper()}"


def _active(session: Session, key: str) -> ReceivableRegistration | None:
    return session.scalar(
        select(ReceivableRegistration).where(
            ReceivableRegistration.receivable_key == key,
            ReceivableRegistration.released_at.is_(None),
        )
    )


def register(
    session: Session,
    actor: Principal,
    *,
    invoice_document_id: str,
    kind: str,
    financing_ref: str | None = None,
    bank_id: str | None = None,
) -> ReceivableRegistration:
    """Register an invoice's receivable for the actor's bank (the operator names the bank)."""
    actor.require(Scope.REGISTRY_WRITE)
    owner = actor.bank_id or (bank_id if actor.is_system else None)
    if owner is None:
        raise Forbidden("receivables are registered by the financing bank")
    if kind not in ("pledge", "transfer"):
        raise ValidationFailed([FieldError("kind", "pledge or transfer")])
    doc = session.get(TradeDocumentRow, invoice_document_id)
    if doc is None or doc.kind != "invoice" or not doc.invoice_number:
        raise ValidationFailed(
            [FieldError("invoice_document_id", "must name an accepted invoice document")]
        )
    key = receivable_key(doc.seller_id, doc.invoice_number)
    existing = _active(session, key)
    if existing is not None:
        raise Conflict(
            f"receivable {doc.invoice_number} of {doc.seller_id} is already registered as "
            f"{existing.kind} to bank {existing.bank_id} ({existing.id}, "
            f"{existing.registered_at:%Y-%m-%d})",
            hint="A receivable can back one financing at a time; the first must be released.",
        )
    row = ReceivableRegistration(
        id=new_id("registration"),
        receivable_key=key,
        invoice_document_id=doc.id,
        invoice_number=doc.invoice_number,
        creditor_id=doc.seller_id,
        debtor_id=doc.buyer_id,
        bank_id=owner,
        kind=kind,
        currency=doc.currency,
        amount_minor=doc.total_minor,
        due_on=date.fromisoformat(doc.content["due_date"]) if doc.content.get("due_date") else None,
        financing_ref=financing_ref,
        registered_by=actor.label,
        registered_at=utcnow(),
        released_at=None,
    )
    _add(session, actor, row, f"receivable {doc.invoice_number}")
    audit.record(session, actor, "receivable.register", "receivable", row.id, {"key": key})
    return row


def _add(session: Session, actor: Principal, row: ReceivableRegistration, what: str) -> None:
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # another bank registered it a moment ago: the partial unique index decided
        raise Conflict(f"{what} was registered concurrently") from None
    ledger.one(session, actor, "receivable.registered", Change("receivable", row_of(row)))


def _release(session: Session, actor: Principal, row: ReceivableRegistration) -> bool:
    """Release an active registration; False if it was released already."""
    if row.released_at is not None:
        return False
    row.released_at = utcnow()
    session.flush()
    ledger.one(session, actor, "receivable.released", Change("receivable", row_of(row)))
    return True


def release(session: Session, actor: Principal, registration_id: str) -> ReceivableRegistration:
    actor.require(Scope.REGISTRY_WRITE)
    row = session.get(ReceivableRegistration, registration_id)
    if row is None or not (actor.is_system or actor.bank_id == row.bank_id):
        raise NotFound(f"no registration {registration_id!r}")
    if _release(session, actor, row):
        audit.record(session, actor, "receivable.release", "receivable", row.id, {})
    return row


def search(
    session: Session,
    actor: Principal,
    *,
    debtor_uscc: str | None = None,
    creditor_uscc: str | None = None,
    invoice_number: str | None = None,
    amount: Money | None = None,
    include_released: bool = False,
) -> list[ReceivableRegistration]:
    """Any bank may search the registry before financing (that is what a registry is for);
    enterprises see registrations where they are creditor or debtor."""
    actor.require(Scope.REGISTRY_READ)
    query = select(ReceivableRegistration).order_by(ReceivableRegistration.registered_at)
    if not include_released:
        query = query.where(ReceivableRegistration.released_at.is_(None))
    for uscc, column in (
        (debtor_uscc, ReceivableRegistration.debtor_id),
        (creditor_uscc, ReceivableRegistration.creditor_id),
    ):
        if uscc:
            ent = session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc.upper()))
            query = query.where(column == (ent or "-"))
    if invoice_number:
        query = query.where(ReceivableRegistration.invoice_number == invoice_number.strip().upper())
    if amount is not None:
        query = query.where(
            ReceivableRegistration.amount_minor == amount.amount_minor,
            ReceivableRegistration.currency == amount.currency,
        )
    if actor.enterprise_id is not None and not actor.is_system:
        e = actor.enterprise_id
        query = query.where(
            (ReceivableRegistration.creditor_id == e) | (ReceivableRegistration.debtor_id == e)
        )
    elif actor.bank_id is None and not actor.is_system:
        raise Forbidden("the registry is searched by banks and by the parties")
    return list(session.scalars(query))


def filing_rows(session: Session, regs: Sequence[ReceivableRegistration]) -> list[dict[str, Any]]:
    """Registrations shaped like a 中登网 应收账款质押/转让登记: 登记类型, 出质人/转让人
    (creditor: name, 统一社会信用代码), 质权人/受让人 (the bank), 应收账款债务人 (debtor),
    主合同/融资编号, 财产描述 (the invoice), 金额 and 期限."""
    ids = {r.creditor_id for r in regs} | {r.debtor_id for r in regs}
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
    banks = {b.id: b for b in session.scalars(select(Bank))}
    bank_ent_ids = [b.enterprise_id for b in banks.values()]
    bank_ents = {
        e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(bank_ent_ids)))
    }
    out = []
    for r in regs:
        bank = banks[r.bank_id]
        out.append(
            {
                "registration_id": r.id,
                "registration_type": "应收账款质押" if r.kind == "pledge" else "应收账款转让",
                "grantor_name": ents[r.creditor_id].name,
                "grantor_uscc": ents[r.creditor_id].uscc,
                "grantee_name": bank.name,
                "grantee_uscc": bank_ents[bank.enterprise_id].uscc,
                "debtor_name": ents[r.debtor_id].name,
                "debtor_uscc": ents[r.debtor_id].uscc,
                "financing_ref": r.financing_ref,
                "property_description": f"发票 {r.invoice_number} 项下应收账款",
                "amount": Money(r.amount_minor, r.currency).to_decimal_string(),
                "currency": r.currency,
                "due_on": r.due_on.isoformat() if r.due_on else None,
                "registered_at": r.registered_at.isoformat(),
            }
        )
    return out


def credential_key(piece_id: str) -> str:
    return f"credential/{piece_id}"


def register_credential_piece(
    session: Session,
    actor: Principal,
    *,
    piece_id: str,
    creditor_id: str,
    debtor_id: str,
    bank_id: str,
    amount: Money,
    due_on: date,
    financing_ref: str,
) -> ReceivableRegistration:
    """Register a credential piece transferred to the bank that discounts it. The registry's
    one-active-registration rule is the second line of defence against financing it twice."""
    return register_key(
        session,
        actor,
        key=credential_key(piece_id),
        what=f"credential piece {piece_id}",
        kind="transfer",
        creditor_id=creditor_id,
        debtor_id=debtor_id,
        bank_id=bank_id,
        amount=amount,
        due_on=due_on,
        financing_ref=financing_ref,
    )


def active_key(session: Session, key: str) -> ReceivableRegistration | None:
    """The active registration of ``key`` (a receivable, a credential piece, an order, a
    warehouse receipt), if any."""
    return _active(session, key)


def register_key(
    session: Session,
    actor: Principal,
    *,
    key: str,
    what: str,
    kind: str,
    creditor_id: str,
    debtor_id: str,
    bank_id: str,
    amount: Money,
    due_on: date | None,
    financing_ref: str,
    invoice_document_id: str | None = None,
    invoice_number: str | None = None,
) -> ReceivableRegistration:
    """Register anything a bank finances against under its registry key: one active
    registration per key, whichever bank and whichever product asks."""
    existing = _active(session, key)
    if existing is not None:
        raise Conflict(
            f"{what} is already registered to bank {existing.bank_id} ({existing.id}); "
            "it cannot be financed again",
            hint="A receivable or collateral backs one financing at a time.",
        )
    row = ReceivableRegistration(
        id=new_id("registration"),
        receivable_key=key,
        invoice_document_id=invoice_document_id,
        invoice_number=invoice_number,
        creditor_id=creditor_id,
        debtor_id=debtor_id,
        bank_id=bank_id,
        kind=kind,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        due_on=due_on,
        financing_ref=financing_ref,
        registered_by=actor.label,
        registered_at=utcnow(),
        released_at=None,
    )
    _add(session, actor, row, what)
    return row


def release_key(session: Session, actor: Principal, key: str) -> None:
    row = _active(session, key)
    if row is not None:
        _release(session, actor, row)


def release_credential_piece(session: Session, actor: Principal, piece_id: str) -> None:
    release_key(session, actor, credential_key(piece_id))
