"""The receivables registry: a receivable (an invoice today, a credential later) registered
as pledged or transferred to a bank for financing. A second active registration of the same
receivable — by any bank — is refused with a conflict naming the first, which is what stops
duplicate financing. Registrations go on the ledger and export in a structured form for
filing with the national registry (动产融资统一登记公示系统).

Registering acts on the creditor's receivable, so it needs the creditor's act: a bank
registers an invoice only when the seller is its customer and has consented to the bank
using its invoices for financing (``invoices`` × ``financing``), or the seller registers it
itself, naming one of its banks. Anyone else is told the invoice does not exist. A bank sees
its own registrations in full and only the public part of other banks' (:data:`PUBLIC`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank, Enterprise, ReceivableRegistration, TradeDocumentRow
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import business_date, utcnow
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import MINOR_UNITS, Money
from chainfin.services import audit, consent, ledger, scoping
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.pagination import DEFAULT_LIMIT, Page, check_period, paginate


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


def _invoice(session: Session, document_id: str) -> TradeDocumentRow:
    doc = session.get(TradeDocumentRow, document_id)
    if doc is None:
        raise NotFound(f"no invoice document {document_id!r}", code="invoice_document_not_found")
    return doc


def _financing_bank(
    session: Session, actor: Principal, doc: TradeDocumentRow, bank: str | None, bank_id: str | None
) -> str:
    """The bank the receivable is registered to, if the actor may register it; 404 (the
    invoice is not disclosed) otherwise."""
    if actor.is_system and bank_id is not None:
        return bank_id
    if actor.bank_id is not None:
        if not scoping.is_customer(session, actor.bank_id, doc.seller_id):
            raise NotFound(f"no invoice document {doc.id!r}", code="invoice_document_not_found")
        try:  # logged in the seller's access log, allowed or refused
            consent.require(
                session,
                actor,
                enterprise_id=doc.seller_id,
                category=DataCategory.INVOICES,
                purpose=Purpose.FINANCING,
                resource=f"registration of document {doc.id}",
                not_found="invoice_document_not_found",
            )
        except consent.ConsentRefused:
            raise NotFound(
                f"no invoice document {doc.id!r}", code="invoice_document_not_found"
            ) from None
        return actor.bank_id
    if actor.enterprise_id is not None and actor.enterprise_id == doc.seller_id:
        row = session.scalar(select(Bank).where(Bank.code == (bank or "")))
        if row is None or not scoping.is_customer(session, row.id, doc.seller_id):
            raise ValidationFailed(
                [FieldError("bank", "name the code of a bank you are a customer of")],
                code="financing_bank_required",
            )
        return row.id
    if actor.enterprise_id is not None:
        raise NotFound(f"no invoice document {doc.id!r}", code="invoice_document_not_found")
    raise Forbidden("receivables are registered by the financing bank or the creditor")


def register(
    session: Session,
    actor: Principal,
    *,
    invoice_document_id: str,
    kind: str,
    financing_ref: str | None = None,
    bank_id: str | None = None,
    bank: str | None = None,
) -> ReceivableRegistration:
    """Register an invoice's receivable as pledged or transferred: by the financing bank
    (the seller is its customer and consented to ``invoices`` for ``financing``), by the
    seller naming its bank (``bank``, a code), or by the operator naming ``bank_id``."""
    actor.require(Scope.REGISTRY_WRITE)
    if not actor.is_system and actor.bank_id is None and actor.enterprise_id is None:
        raise Forbidden("receivables are registered by the financing bank or the creditor")
    if kind not in ("pledge", "transfer"):
        raise ValidationFailed(
            [FieldError("kind", "pledge or transfer")], code="registration_kind_unknown"
        )
    doc = _invoice(session, invoice_document_id)
    owner = _financing_bank(session, actor, doc, bank, bank_id)
    if doc.kind != "invoice" or not doc.invoice_number:
        raise ValidationFailed(
            [FieldError("invoice_document_id", "must name an accepted invoice document")],
            code="invoice_document_required",
        )
    key = receivable_key(doc.seller_id, doc.invoice_number)
    existing = _active(session, key)
    if existing is not None:
        raise Conflict(
            f"receivable {doc.invoice_number} is already registered "
            f"({existing.id}, {REGISTRATION_TYPE[existing.kind]}, "
            f"{existing.registered_at:%Y-%m-%d})",
            hint="A receivable can back one financing at a time; the first must be released.",
            code="duplicate_financing",
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
        raise Conflict(f"{what} was registered concurrently", code="duplicate_financing") from None
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
    row = scoping.bank_record(
        session, actor, ReceivableRegistration, registration_id, "registration"
    )
    if _release(session, actor, row):
        audit.record(session, actor, "receivable.release", "receivable", row.id, {})
    return row


@dataclass(frozen=True)
class SearchFilter:
    """What a registry search asks for; every field narrows it. ``since``/``until``: the
    registration time, from ``since`` (inclusive) to ``until`` (exclusive)."""

    debtor_uscc: str | None = None
    creditor_uscc: str | None = None
    invoice_number: str | None = None
    amount: Money | None = None
    include_released: bool = False
    since: datetime | None = None
    until: datetime | None = None


def _search_query(
    session: Session, actor: Principal, f: SearchFilter
) -> Select[ReceivableRegistration]:
    """Any bank may search the registry before financing (that is what a registry is for),
    but sees other banks' registrations only in their public form (:func:`is_full`);
    enterprises see registrations where they are creditor or debtor."""
    actor.require(Scope.REGISTRY_READ)
    query = select(ReceivableRegistration)
    if not f.include_released:
        query = query.where(ReceivableRegistration.released_at.is_(None))
    for uscc, column in (
        (f.debtor_uscc, ReceivableRegistration.debtor_id),
        (f.creditor_uscc, ReceivableRegistration.creditor_id),
    ):
        if uscc:
            ent = session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc.upper()))
            query = query.where(column == (ent or "-"))
    if f.invoice_number:
        number = f.invoice_number.strip().upper()
        query = query.where(ReceivableRegistration.invoice_number == number)
    if f.amount is not None:
        query = query.where(
            ReceivableRegistration.amount_minor == f.amount.amount_minor,
            ReceivableRegistration.currency == f.amount.currency,
        )
    check_period(f.since, f.until)
    if f.since is not None:
        query = query.where(ReceivableRegistration.registered_at >= f.since)
    if f.until is not None:
        query = query.where(ReceivableRegistration.registered_at < f.until)
    if actor.enterprise_id is not None and not actor.is_system:
        e = actor.enterprise_id
        query = query.where(
            (ReceivableRegistration.creditor_id == e) | (ReceivableRegistration.debtor_id == e)
        )
    elif actor.bank_id is None and not actor.is_system:
        raise Forbidden("the registry is searched by banks and by the parties")
    return query


def search(
    session: Session,
    actor: Principal,
    f: SearchFilter = SearchFilter(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReceivableRegistration]:
    """One page of the registrations ``f`` selects, in the order they were registered."""
    query = _search_query(session, actor, f)
    return paginate(session, query, ReceivableRegistration.id, cursor=cursor, limit=limit)


def is_full(actor: Principal, reg: ReceivableRegistration) -> bool:
    """Whether ``actor`` sees a registration in full: its bank holds it, or it is the
    creditor or the debtor. Everyone else sees only its public part."""
    return scoping.bank_or_party(actor, reg.bank_id, reg.creditor_id, reg.debtor_id)


REGISTRATION_TYPE = {"pledge": "应收账款质押", "transfer": "应收账款转让"}

PUBLIC = (
    "registration_id",
    "registration_type",
    "grantor_name",
    "grantor_uscc",
    "debtor_name",
    "debtor_uscc",
    "amount_band",
    "currency",
    "registered_on",
)
"""The public part of another bank's registration, as a 中登网 public search shows it: the
registration, its type and date, who granted it and on which debtor, and the amount only as a
band. Withheld: the grantee bank, its financing reference, the exact amount, the invoice
(number and document) and its due date."""

_BANDS = (10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)


def amount_band(amount_minor: int, currency: str) -> str:
    """An amount as its decade band in major units: ``"1000000-10000000"``, ``"100000000+"``."""
    major = amount_minor // 10 ** MINOR_UNITS.get(currency, 2)
    low = 0
    for high in _BANDS:
        if major < high:
            return f"{low}-{high}"
        low = high
    return f"{_BANDS[-1]}+"


@dataclass(frozen=True)
class FilingRow:
    """A registration shaped like a 中登网 应收账款质押/转让登记: 登记类型, 出质人/转让人
    (grantor: the creditor), 质权人/受让人 (grantee: the bank), 应收账款债务人 (debtor),
    主合同/融资编号, 财产描述 (the invoice), 金额 and 期限. ``public``: another bank's, with
    only the :data:`PUBLIC` fields (the rest None)."""

    registration_id: str
    registration_type: str
    grantor_name: str
    grantor_uscc: str
    debtor_name: str
    debtor_uscc: str
    currency: str
    registered_on: date
    public: bool
    amount_band: str | None = None
    grantee_name: str | None = None
    grantee_uscc: str | None = None
    financing_ref: str | None = None
    property_description: str | None = None
    amount: str | None = None
    due_on: date | None = None
    registered_at: datetime | None = None


FILING_COLUMNS = (
    "registration_id",
    "registration_type",
    "grantor_name",
    "grantor_uscc",
    "grantee_name",
    "grantee_uscc",
    "debtor_name",
    "debtor_uscc",
    "financing_ref",
    "property_description",
    "amount",
    "amount_band",
    "currency",
    "due_on",
    "registered_at",
    "registered_on",
    "public",
)
FILING_BATCH = 500


def filing_rows(
    session: Session,
    actor: Principal,
    f: SearchFilter = SearchFilter(),
    *,
    batch: int = FILING_BATCH,
) -> Iterator[FilingRow]:
    """The registrations ``f`` selects as filing rows, in the order they were registered —
    in full for the actor's own (its bank's, or as a party) and only the :data:`PUBLIC`
    fields of anyone else's. The actor is checked now; rows are read ``batch`` at a time as
    the iterator is consumed, so an export of any size holds one batch in memory."""
    query = _search_query(session, actor, f)
    return _filing_batches(session, actor, query, batch)


def _filing_batches(
    session: Session,
    actor: Principal,
    query: Select[ReceivableRegistration],
    batch: int,
) -> Iterator[FilingRow]:
    banks = {b.id: b for b in session.scalars(select(Bank))}
    bank_usccs = dict(
        session.execute(
            select(Enterprise.id, Enterprise.uscc).where(
                Enterprise.id.in_([b.enterprise_id for b in banks.values()])
            )
        ).all()
    )
    after: str | None = None
    while True:
        page = query if after is None else query.where(ReceivableRegistration.id > after)
        regs = list(session.scalars(page.order_by(ReceivableRegistration.id).limit(batch)))
        if not regs:
            return
        after = regs[-1].id
        ids = {r.creditor_id for r in regs} | {r.debtor_id for r in regs}
        ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
        for r in regs:
            creditor, debtor = ents[r.creditor_id], ents[r.debtor_id]
            row = FilingRow(
                registration_id=r.id,
                registration_type=REGISTRATION_TYPE[r.kind],
                grantor_name=creditor.name,
                grantor_uscc=creditor.uscc,
                debtor_name=debtor.name,
                debtor_uscc=debtor.uscc,
                currency=r.currency,
                registered_on=business_date(r.registered_at),
                public=True,
                amount_band=amount_band(r.amount_minor, r.currency),
            )
            if not is_full(actor, r):
                yield row
                continue
            bank = banks[r.bank_id]
            yield replace(
                row,
                public=False,
                amount_band=None,
                grantee_name=bank.name,
                grantee_uscc=bank_usccs[bank.enterprise_id],
                financing_ref=r.financing_ref,
                property_description=f"发票 {r.invoice_number} 项下应收账款",
                amount=Money(r.amount_minor, r.currency).to_decimal_string(),
                due_on=r.due_on,
                registered_at=r.registered_at,
            )


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
        holder = "your bank" if existing.bank_id == bank_id else "another bank"
        raise Conflict(
            f"{what} is already registered to {holder} ({existing.id}); "
            "it cannot be financed again",
            hint="A receivable or collateral backs one financing at a time.",
            code="duplicate_financing",
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
