"""Digital payable credentials, end to end: programmes, debtor confirmation (确权), issue,
accept/reject, split, transfer down the tiers, quote, finance, settle, overdue.

Every state change here is one transaction: the new state, its ledger entry, its journals
and the audit event commit together or not at all. State moves with conditional updates
(``UPDATE … WHERE status = 'held' AND holder_id = :me``) so that of two concurrent requests on
the same piece exactly one wins and the other gets a conflict, on SQLite and PostgreSQL
alike; programme utilisation moves the same way, guarded by the limit in the WHERE clause and
again by a CHECK constraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from chainfin.adapters.db.models import (
    Alert,
    Bank,
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    CredentialQuote,
    DocumentConfirmation,
    Enterprise,
    Financing,
    Journal,
    JournalLine,
    PayableBasisDocument,
    PayableConfirmation,
    ProgrammeFunder,
    SupplyRelation,
    TradeDocumentRow,
)
from chainfin.domain import books as chart
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import Posting
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.daycount import normalise as normalise_day_count
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id, new_ids
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    DEFAULT_POLICY,
    PricingPolicy,
    amortise,
    penalty_interest,
    recognised_through,
)
from chainfin.domain.pricing import quote as price_quote
from chainfin.domain.workcal import RollConvention
from chainfin.services import audit, books, ledger, rates, receivables, workcal
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.ledger_records import row_of

QUOTE_VALID = timedelta(hours=4)
_M = TypeVar("_M")


# ---------------------------------------------------------------------------- helpers


def _enterprise_of(actor: Principal) -> str:
    if actor.enterprise_id is None:
        raise Forbidden("this is done by an enterprise user")
    return actor.enterprise_id


def _resolve_enterprise(session: Session, ref: str, field: str) -> Enterprise:
    if ref.startswith("ent_"):
        ent = session.get(Enterprise, ref)
    else:
        ent = session.scalar(select(Enterprise).where(Enterprise.uscc == ref.strip().upper()))
    if ent is None:
        raise ValidationFailed([FieldError(field, f"{ref!r} is not a registered enterprise")])
    return ent


def _resolve_bank(session: Session, ref: str, field: str = "bank") -> Bank:
    bank = session.get(Bank, ref) or session.scalar(select(Bank).where(Bank.code == ref))
    if bank is None:
        raise ValidationFailed([FieldError(field, f"{ref!r} is not a bank on the platform")])
    return bank


def _get(session: Session, model: type[_M], key: Any) -> _M:
    """A row that must exist (the schema's foreign keys say so)."""
    row = session.get(model, key)
    if row is None:
        raise AssertionError(f"{model.__name__} {key!r} is missing")
    return row


def _change(kind: str, obj: Any) -> Change:
    return Change(kind, row_of(obj))


def _funder_banks(session: Session, programme_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ProgrammeFunder.bank_id).where(ProgrammeFunder.programme_id == programme_id)
        )
    )


def _bank_enterprise(session: Session, bank_id: str) -> str:
    bank = _get(session, Bank, bank_id)
    return bank.enterprise_id


def _move(
    session: Session,
    piece: CredentialPiece,
    target: PieceStatus,
    *,
    holder_id: str | None = None,
    **values: Any,
) -> None:
    """Move a piece to ``target`` if it is still in the state we read it in (and held by
    ``holder_id``); otherwise someone else moved it first and this request conflicts."""
    rules.check_transition(piece.id, piece.status, target)
    condition = and_(CredentialPiece.id == piece.id, CredentialPiece.status == piece.status)
    if holder_id is not None:
        condition = and_(condition, CredentialPiece.holder_id == holder_id)
    now = utcnow()
    result = session.execute(
        update(CredentialPiece)
        .where(condition)
        .values(status=target.value, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"piece {piece.id} changed while this request ran; reload and retry")
    # the row now holds exactly these values: no need to read it back
    for name, value in {"status": target.value, "updated_at": now, **values}.items():
        set_committed_value(piece, name, value)


def _children(
    session: Session,
    parent: CredentialPiece,
    amounts: Sequence[int],
    *,
    holders: Sequence[str],
    tiers: Sequence[int],
    statuses: Sequence[PieceStatus],
    actor: Principal,
    senders: Sequence[str | None] | None = None,
) -> list[CredentialPiece]:
    now = utcnow()
    ids = new_ids("piece", len(amounts))
    out = []
    for n, amount in enumerate(amounts):
        piece = CredentialPiece(
            id=ids[n],
            credential_id=parent.credential_id,
            parent_id=parent.id,
            lineage=[*parent.lineage, parent.id],
            tier=tiers[n],
            currency=parent.currency,
            amount_minor=amount,
            settled_minor=0,
            holder_id=holders[n],
            sender_id=senders[n] if senders is not None else None,
            status=statuses[n].value,
            financing_id=None,
            created_by=actor.label,
            created_at=now,
            updated_at=now,
        )
        session.add(piece)
        out.append(piece)
    session.flush()
    return out


# ---------------------------------------------------------------------------- programmes


def create_programme(
    session: Session,
    actor: Principal,
    *,
    core: str,
    name: str,
    line: Money,
    rating: str,
    tenor_cap_months: int = rules.DEFAULT_TENOR_CAP_MONTHS,
    roll_convention: str = RollConvention.FOLLOWING.value,
    min_piece: Money | None = None,
    day_count: str = "ACT/360",
    grace_days: int = 3,
    penalty_multiplier: str = "1.5",
    pricing: dict[str, Any] | None = None,
) -> CredentialProgramme:
    """A bank opens a credential programme for a core enterprise, backed by its line."""
    actor.require(Scope.FINANCING_WRITE)
    if actor.bank_id is None:
        raise Forbidden("a programme is opened by a funder bank")
    core_ent = _resolve_enterprise(session, core, "core")
    errors: list[FieldError] = []
    if "core" not in core_ent.roles:
        errors.append(FieldError("core", f"{core_ent.uscc} is not a core enterprise"))
    if not 1 <= tenor_cap_months <= rules.HARD_TENOR_CAP_MONTHS:
        errors.append(FieldError("tenor_cap_months", "must be 1 to 12 (never above a year)"))
    try:
        roll_convention = RollConvention.parse(roll_convention).value
    except ValueError:
        known = ", ".join(c.value for c in RollConvention)
        errors.append(FieldError("roll_convention", f"must be one of {known}"))
    try:
        day_count = normalise_day_count(day_count)
    except ValueError as exc:
        errors.append(FieldError("day_count", str(exc)))
    if line.amount_minor <= 0:
        errors.append(FieldError("line", "must be positive"))
    minimum = min_piece or Money(100_00, line.currency)
    if minimum.currency != line.currency or minimum.amount_minor <= 0:
        errors.append(FieldError("min_piece", f"must be a positive {line.currency} amount"))
    if grace_days < 0 or grace_days > 30:
        errors.append(FieldError("grace_days", "must be 0 to 30"))
    try:
        if not Decimal("1") <= Decimal(penalty_multiplier) <= Decimal("4"):
            errors.append(FieldError("penalty_multiplier", "must be 1 to 4 times LPR"))
    except ArithmeticError:
        errors.append(FieldError("penalty_multiplier", "must be a decimal number"))
    policy = PricingPolicy.from_dict(pricing) if pricing is not None else DEFAULT_POLICY
    if rating not in policy.spreads:
        errors.append(
            FieldError("rating", f"no spreads for {rating!r}; known: {', '.join(policy.spreads)}")
        )
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    programme = CredentialProgramme(
        id=new_id("programme"),
        core_enterprise_id=core_ent.id,
        name=name,
        currency=line.currency,
        limit_minor=line.amount_minor,
        pending_minor=0,
        posted_minor=0,
        core_rating=rating,
        tenor_cap_months=tenor_cap_months,
        roll_convention=roll_convention,
        min_piece_minor=minimum.amount_minor,
        day_count=day_count,
        grace_days=grace_days,
        penalty_multiplier=str(Decimal(penalty_multiplier)),
        status="active",
        created_by=actor.label,
        created_at=now,
    )
    funder = ProgrammeFunder(
        programme_id=programme.id,
        bank_id=actor.bank_id,
        line_minor=line.amount_minor,
        pricing=policy.to_dict(),
        created_by=actor.label,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    session.add(funder)
    session.flush()
    ledger.one(
        session,
        actor,
        "programme.opened",
        _change("programme", programme),
        _change("funder", funder),
    )
    audit.record(session, actor, "programme.open", "programme", programme.id, {"core": core})
    return programme


def add_funder(
    session: Session,
    actor: Principal,
    programme_id: str,
    *,
    line: Money,
    pricing: dict[str, Any] | None = None,
) -> ProgrammeFunder:
    """Another bank joins a programme with its own line; the programme limit grows by it."""
    actor.require(Scope.FINANCING_WRITE)
    if actor.bank_id is None:
        raise Forbidden("funders are banks")
    programme = session.get(CredentialProgramme, programme_id)
    if programme is None:
        raise NotFound(f"no programme {programme_id!r}")
    if line.currency != programme.currency or line.amount_minor <= 0:
        raise ValidationFailed([FieldError("line", f"must be a positive {programme.currency}")])
    if session.get(ProgrammeFunder, (programme_id, actor.bank_id)) is not None:
        raise Conflict("this bank already funds the programme")
    policy = PricingPolicy.from_dict(pricing) if pricing is not None else DEFAULT_POLICY
    funder = ProgrammeFunder(
        programme_id=programme_id,
        bank_id=actor.bank_id,
        line_minor=line.amount_minor,
        pricing=policy.to_dict(),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(funder)
    session.execute(
        update(CredentialProgramme)
        .where(CredentialProgramme.id == programme_id)
        .values(limit_minor=CredentialProgramme.limit_minor + line.amount_minor)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(programme)
    ledger.one(
        session,
        actor,
        "programme.funder_added",
        _change("programme", programme),
        _change("funder", funder),
    )
    audit.record(session, actor, "programme.add_funder", "programme", programme_id, {})
    return funder


def programme_for(session: Session, actor: Principal, programme_id: str) -> CredentialProgramme:
    actor.require(Scope.CREDENTIALS_READ)
    programme = session.get(CredentialProgramme, programme_id)
    if programme is None or not (
        actor.is_system
        or actor.enterprise_id == programme.core_enterprise_id
        or (actor.bank_id is not None and actor.bank_id in _funder_banks(session, programme_id))
    ):
        raise NotFound(f"no programme {programme_id!r}")
    return programme


def programmes(session: Session, actor: Principal) -> list[CredentialProgramme]:
    actor.require(Scope.CREDENTIALS_READ)
    query = select(CredentialProgramme).order_by(CredentialProgramme.created_at)
    if actor.is_system:
        return list(session.scalars(query))
    if actor.bank_id is not None:
        funded = select(ProgrammeFunder.programme_id).where(
            ProgrammeFunder.bank_id == actor.bank_id
        )
        return list(session.scalars(query.where(CredentialProgramme.id.in_(funded))))
    me = _enterprise_of(actor)
    return list(session.scalars(query.where(CredentialProgramme.core_enterprise_id == me)))


def _reserve(session: Session, programme: CredentialProgramme, amount_minor: int) -> None:
    """Phase one: reserve ``amount`` as pending, only if it fits under the limit."""
    prog = CredentialProgramme
    result = session.execute(
        update(prog)
        .where(
            prog.id == programme.id,
            prog.status == "active",
            prog.pending_minor + prog.posted_minor + amount_minor <= prog.limit_minor,
        )
        .values(pending_minor=prog.pending_minor + amount_minor)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(programme)
        free = programme.limit_minor - programme.pending_minor - programme.posted_minor
        raise Conflict(
            f"programme {programme.id} cannot take {Money(amount_minor, programme.currency)}: "
            f"limit {Money(programme.limit_minor, programme.currency)}, "
            f"available {Money(max(free, 0), programme.currency)}"
            + ("" if programme.status == "active" else f" (programme is {programme.status})"),
            hint="Settle or cancel credentials, or ask the funder banks for a larger line.",
        )
    session.refresh(programme)


def _utilise(session: Session, programme: CredentialProgramme, **deltas: int) -> None:
    """Phase two and release: move amounts between pending and posted, or release them."""
    prog = CredentialProgramme
    values = {name: getattr(prog, name) + delta for name, delta in deltas.items()}
    session.execute(
        update(prog)
        .where(prog.id == programme.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(programme)


# ---------------------------------------------------------------------------- confirmation


def confirm(
    session: Session,
    actor: Principal,
    *,
    supplier: str,
    amount: Money,
    due_on: date,
    document_ids: Sequence[str] = (),
    trade_case_key: str | None = None,
) -> PayableConfirmation:
    """The core enterprise confirms what it owes a supplier (确权). Irrevocable."""
    actor.require(Scope.CREDENTIALS_WRITE)
    debtor = _enterprise_of(actor)
    creditor = _resolve_enterprise(session, supplier, "supplier")
    if creditor.id == debtor:
        raise ValidationFailed([FieldError("supplier", "an enterprise does not owe itself")])
    if bool(document_ids) == bool(trade_case_key):
        raise ValidationFailed(
            [FieldError("basis", "give the confirmed documents or a matched trade case, not both")]
        )
    if amount.amount_minor <= 0:
        raise ValidationFailed([FieldError("amount", "must be positive")])
    if trade_case_key:
        documents = _trade_case_documents(session, actor, debtor, creditor, trade_case_key)
        basis = "trade_case"
    else:
        documents = _confirmed_documents(session, debtor, creditor.id, document_ids)
        basis = "documents"
    _check_basis_amount(documents, amount)
    taken = session.scalars(
        select(PayableBasisDocument.document_id).where(
            PayableBasisDocument.document_id.in_([d.id for d in documents])
        )
    ).all()
    if taken:
        raise Conflict(
            f"document(s) {', '.join(sorted(taken))} already back another debtor confirmation"
        )
    row = PayableConfirmation(
        id=new_id("payable"),
        debtor_id=debtor,
        creditor_id=creditor.id,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        issued_minor=0,
        due_on=due_on,
        basis=basis,
        trade_case_key=trade_case_key,
        document_ids=sorted(d.id for d in documents),
        confirmed_by=actor.label,
        confirmed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    session.add_all(
        [PayableBasisDocument(document_id=d.id, confirmation_id=row.id) for d in documents]
    )
    session.flush()
    ledger.one(session, actor, "payable.confirmed", _change("payable", row))
    audit.record(session, actor, "payable.confirm", "payable", row.id, {"basis": basis})
    return row


def _confirmed_documents(
    session: Session, debtor: str, creditor: str, document_ids: Sequence[str]
) -> list[TradeDocumentRow]:
    errors: list[FieldError] = []
    out = []
    for n, doc_id in enumerate(document_ids):
        doc = session.get(TradeDocumentRow, doc_id)
        field = f"document_ids[{n}]"
        if doc is None or debtor not in (doc.buyer_id, doc.seller_id):
            errors.append(FieldError(field, f"no document {doc_id!r}"))
        elif doc.buyer_id != debtor or doc.seller_id != creditor:
            errors.append(FieldError(field, "must be billed by the supplier to this enterprise"))
        elif doc.kind not in ("invoice", "goods_receipt"):
            errors.append(FieldError(field, f"a {doc.kind} does not evidence a payable"))
        elif session.get(DocumentConfirmation, doc.id) is None:
            errors.append(FieldError(field, "confirm the document first (buyer confirmation)"))
        else:
            out.append(doc)
    if errors:
        raise ValidationFailed(errors)
    return out


def _trade_case_documents(
    session: Session, actor: Principal, debtor: str, creditor: Enterprise, key: str
) -> list[TradeDocumentRow]:
    from chainfin.domain.matching import CaseStatus
    from chainfin.services import trade_cases

    cases = {c.case_key: c for c in trade_cases.cases_for(session, actor, debtor)}
    case = cases.get(key)
    if case is None or case.seller_uscc != creditor.uscc:
        raise ValidationFailed(
            [FieldError("trade_case", f"no trade case {key!r} with {creditor.uscc}")]
        )
    if case.status is not CaseStatus.MATCHED:
        raise ValidationFailed(
            [
                FieldError(
                    "trade_case",
                    f"the case is {case.status.value}, not matched: "
                    + "; ".join(case.messages[:3]),
                )
            ]
        )
    out = []
    for doc_key in case.documents:
        kind, _seller, number = doc_key.split("/", 2)
        if kind != "invoice":
            continue
        doc = session.scalar(
            select(TradeDocumentRow).where(
                TradeDocumentRow.kind == kind,
                TradeDocumentRow.seller_id == creditor.id,
                TradeDocumentRow.number == number,
            )
        )
        if doc is not None:
            out.append(doc)
    if not out:
        raise ValidationFailed([FieldError("trade_case", "the case has no invoice to confirm")])
    return out


def _check_basis_amount(documents: Sequence[TradeDocumentRow], amount: Money) -> None:
    invoices = [d for d in documents if d.kind == "invoice"]
    basis = invoices or list(documents)
    wrong = [d.id for d in basis if d.currency != amount.currency]
    if wrong:
        raise ValidationFailed(
            [FieldError("amount", f"documents {wrong} are not {amount.currency}")]
        )
    total = sum(d.total_minor for d in basis)
    if amount.amount_minor > total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} exceeds what the documents evidence "
                    f"({Money(total, amount.currency)})",
                )
            ]
        )


def confirmations(session: Session, actor: Principal) -> list[PayableConfirmation]:
    actor.require(Scope.CREDENTIALS_READ)
    query = select(PayableConfirmation).order_by(PayableConfirmation.confirmed_at)
    if not actor.is_system:
        me = _enterprise_of(actor)
        query = query.where(
            or_(PayableConfirmation.debtor_id == me, PayableConfirmation.creditor_id == me)
        )
    return list(session.scalars(query))


# ---------------------------------------------------------------------------- issue


def issue(
    session: Session,
    actor: Principal,
    *,
    programme_id: str,
    confirmation_ids: Sequence[str],
    amount: Money,
    maturity_on: date,
    issued_on: date | None = None,
) -> Credential:
    """Issue a credential to the supplier of the given confirmations, reserving the amount
    on the programme (pending until the supplier accepts)."""
    actor.require(Scope.CREDENTIALS_WRITE)
    core = _enterprise_of(actor)
    programme = session.get(CredentialProgramme, programme_id)
    if programme is None or programme.core_enterprise_id != core:
        raise NotFound(f"no programme {programme_id!r}")
    issued_on = issued_on or utcnow().date()
    rules.check_tenor(issued_on, maturity_on, programme.tenor_cap_months)
    if amount.currency != programme.currency or amount.amount_minor < programme.min_piece_minor:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"must be {programme.currency} and at least the minimum piece "
                    f"{Money(programme.min_piece_minor, programme.currency)}",
                )
            ]
        )
    allocations = _allocate_confirmations(session, core, confirmation_ids, amount)
    supplier = allocations[0][0].creditor_id
    _reserve(session, programme, amount.amount_minor)
    for conf, take in allocations:
        result = session.execute(
            update(PayableConfirmation)
            .where(
                PayableConfirmation.id == conf.id,
                PayableConfirmation.issued_minor + take <= PayableConfirmation.amount_minor,
            )
            .values(issued_minor=PayableConfirmation.issued_minor + take)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"confirmation {conf.id} was used concurrently; retry")
        session.refresh(conf)
    cal = workcal.calendar(session)
    rolled = cal.roll(maturity_on, programme.roll_convention)
    now = utcnow()
    credential = Credential(
        id=new_id("credential"),
        programme_id=programme.id,
        issuer_id=core,
        first_holder_id=supplier,
        currency=amount.currency,
        face_minor=amount.amount_minor,
        settled_minor=0,
        issued_on=issued_on,
        maturity_on=maturity_on,
        payment_on=rolled.date,
        payment_provisional=rolled.provisional,
        calendar_source=cal.schedule(rolled.date.year).source[:200],
        confirmations=[[c.id, take] for c, take in allocations],
        status=CredentialStatus.OFFERED.value,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(credential)
    session.flush()
    root = CredentialPiece(
        id=new_id("piece"),
        credential_id=credential.id,
        parent_id=None,
        lineage=[],
        tier=1,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        settled_minor=0,
        holder_id=supplier,
        sender_id=core,
        status=PieceStatus.OFFERED.value,
        financing_id=None,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(root)
    session.flush()
    ledger.one(
        session,
        actor,
        "credential.issued",
        _change("credential", credential),
        _change("piece", root),
        _change("programme", programme),
        *[_change("payable", c) for c, _ in allocations],
    )
    audit.record(
        session, actor, "credential.issue", "credential", credential.id, {"amount": str(amount)}
    )
    return credential


def _allocate_confirmations(
    session: Session, core: str, ids: Sequence[str], amount: Money
) -> list[tuple[PayableConfirmation, int]]:
    if not ids:
        raise ValidationFailed([FieldError("confirmation_ids", "name at least one confirmation")])
    rows: list[PayableConfirmation] = []
    errors: list[FieldError] = []
    for n, cid in enumerate(ids):
        row = session.get(PayableConfirmation, cid)
        if row is None or row.debtor_id != core:
            errors.append(FieldError(f"confirmation_ids[{n}]", f"no confirmation {cid!r}"))
        elif row.currency != amount.currency:
            errors.append(FieldError(f"confirmation_ids[{n}]", f"is {row.currency}"))
        else:
            rows.append(row)
    if not errors and len({r.creditor_id for r in rows}) != 1:
        errors.append(FieldError("confirmation_ids", "must all be payables to one supplier"))
    if errors:
        raise ValidationFailed(errors)
    remaining = amount.amount_minor
    out = []
    for row in rows:
        take = min(remaining, row.amount_minor - row.issued_minor)
        if take > 0:
            out.append((row, take))
            remaining -= take
    if remaining > 0:
        available = sum(r.amount_minor - r.issued_minor for r in rows)
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} exceeds the confirmed payables not yet issued against "
                    f"({Money(available, amount.currency)})",
                )
            ]
        )
    return out


def _release_confirmations(session: Session, credential: Credential) -> list[PayableConfirmation]:
    out = []
    for cid, take in credential.confirmations:
        session.execute(
            update(PayableConfirmation)
            .where(PayableConfirmation.id == cid)
            .values(issued_minor=PayableConfirmation.issued_minor - take)
            .execution_options(synchronize_session=False)
        )
        row = _get(session, PayableConfirmation, cid)
        session.refresh(row)
        out.append(row)
    return out


# ---------------------------------------------------------------------------- offers


def _piece_for_holder(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    piece = session.get(CredentialPiece, piece_id)
    me = actor.enterprise_id
    if piece is None or (not actor.is_system and piece.holder_id != me):
        raise NotFound(f"no piece {piece_id!r} held by you")
    return piece


def held_currency(session: Session, actor: Principal, piece_id: str) -> str:
    """The currency of a piece the actor holds (to parse amounts for it)."""
    actor.require(Scope.CREDENTIALS_READ)
    return _piece_for_holder(session, actor, piece_id).currency


def accept(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    """The offered holder accepts: the root's acceptance activates the credential and posts
    the programme reservation; a transfer's acceptance moves the holding in the books."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    _move(session, piece, PieceStatus.HELD, holder_id=piece.holder_id)
    amount = Money(piece.amount_minor, piece.currency)
    changes = [_change("piece", piece)]
    if piece.parent_id is None:
        credential = _get(session, Credential, piece.credential_id)
        programme = _get(session, CredentialProgramme, credential.programme_id)
        _utilise(
            session, programme, pending_minor=-amount.amount_minor, posted_minor=amount.amount_minor
        )
        credential.status = CredentialStatus.ACTIVE.value
        credential.updated_at = utcnow()
        session.flush()
        changes += [_change("credential", credential), _change("programme", programme)]
        source = chart.issued_account(credential.issuer_id).code
        kind = "credential_accepted"
    else:
        if piece.sender_id is None:
            raise AssertionError("a transferred piece has a sender")
        source = chart.held_account(piece.sender_id).code
        kind = "transfer_accepted"
    # One log entry for the piece and its journal; the piece's move already guarantees the
    # journal is posted once, so no replay lookup is needed.
    books.post(
        session,
        actor,
        book_id=chart.PLATFORM_BOOK,
        kind=kind,
        ref=f"accept/{piece.id}",
        value_on=utcnow().date(),
        postings=[
            Posting(chart.held_account(piece.holder_id).code, amount),
            Posting(source, -amount),
        ],
        memo=f"piece {piece.id} of {piece.credential_id}",
        event=EntryDraft(f"piece.{kind}", changes),
        check_replay=False,
    )
    audit.record(session, actor, "piece.accept", "piece", piece.id, {})
    return piece


def reject(
    session: Session, actor: Principal, piece_id: str, *, reason: str = ""
) -> CredentialPiece:
    """The offered holder refuses. A rejected issue releases the programme and the
    confirmations; a rejected transfer returns the amount to the sender as a new piece."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    _move(session, piece, PieceStatus.REJECTED, holder_id=piece.holder_id)
    changes = [_change("piece", piece)]
    credential = _get(session, Credential, piece.credential_id)
    if piece.parent_id is None:
        changes += _unwind_issue(session, credential, CredentialStatus.REJECTED)
    else:
        parent = _get(session, CredentialPiece, piece.parent_id)
        if piece.sender_id is None:
            raise AssertionError("a transferred piece has a sender")
        (returned,) = _children(
            session,
            piece,
            [piece.amount_minor],
            holders=[piece.sender_id],
            tiers=[parent.tier],
            statuses=[PieceStatus.HELD],
            actor=actor,
        )
        changes.append(_change("piece", returned))
    ledger.one(session, actor, "piece.rejected", *changes)
    audit.record(session, actor, "piece.reject", "piece", piece.id, {"reason": reason[:200]})
    return piece


def _unwind_issue(
    session: Session, credential: Credential, status: CredentialStatus
) -> list[Change]:
    programme = _get(session, CredentialProgramme, credential.programme_id)
    _utilise(session, programme, pending_minor=-credential.face_minor)
    released = _release_confirmations(session, credential)
    credential.status = status.value
    credential.updated_at = utcnow()
    session.flush()
    return [
        _change("credential", credential),
        _change("programme", programme),
        *[_change("payable", c) for c in released],
    ]


def cancel(session: Session, actor: Principal, credential_id: str) -> Credential:
    """The issuer withdraws a credential its first holder has not accepted yet."""
    actor.require(Scope.CREDENTIALS_WRITE)
    credential = session.get(Credential, credential_id)
    if credential is None or not (actor.is_system or actor.enterprise_id == credential.issuer_id):
        raise NotFound(f"no credential {credential_id!r}")
    root = session.scalar(
        select(CredentialPiece).where(
            CredentialPiece.credential_id == credential.id, CredentialPiece.parent_id.is_(None)
        )
    )
    if root is None:
        raise AssertionError(f"credential {credential.id} has no root piece")
    if root.status != PieceStatus.OFFERED.value:
        raise rules.IllegalTransition(
            f"credential {credential.id} was already {root.status}; the issuer cancels only "
            "before the first acceptance"
        )
    _move(session, root, PieceStatus.CANCELLED)
    changes = [
        _change("piece", root),
        *_unwind_issue(session, credential, CredentialStatus.CANCELLED),
    ]
    ledger.one(session, actor, "credential.cancelled", *changes)
    audit.record(session, actor, "credential.cancel", "credential", credential.id, {})
    return credential


# ---------------------------------------------------------------------------- split, transfer


def _programme_of(
    session: Session, piece: CredentialPiece
) -> tuple[Credential, CredentialProgramme]:
    credential = _get(session, Credential, piece.credential_id)
    programme = _get(session, CredentialProgramme, credential.programme_id)
    return credential, programme


def _check_live_credential(credential: Credential) -> None:
    if credential.status != CredentialStatus.ACTIVE.value:
        raise rules.IllegalTransition(f"credential {credential.id} is {credential.status}")


def split(
    session: Session, actor: Principal, piece_id: str, amounts: Sequence[Money]
) -> list[CredentialPiece]:
    """Split a held piece into pieces of the given amounts (same holder, same tier)."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    credential, programme = _programme_of(session, piece)
    _check_live_credential(credential)
    if any(a.currency != piece.currency for a in amounts):
        raise ValidationFailed([FieldError("amounts", f"must all be {piece.currency}")])
    parts = rules.split_amounts(
        piece.amount_minor,
        [a.amount_minor for a in amounts],
        min_piece_minor=programme.min_piece_minor,
    )
    _move(session, piece, PieceStatus.SPLIT, holder_id=piece.holder_id)
    children = _children(
        session,
        piece,
        parts,
        holders=[piece.holder_id] * len(parts),
        tiers=[piece.tier] * len(parts),
        statuses=[PieceStatus.HELD] * len(parts),
        actor=actor,
    )
    ledger.one(
        session,
        actor,
        "piece.split",
        _change("piece", piece),
        *[_change("piece", c) for c in children],
    )
    audit.record(session, actor, "piece.split", "piece", piece.id, {"parts": len(parts)})
    return children


def _may_receive(session: Session, sender: str, recipient: str) -> bool:
    """A holder passes credentials to its own suppliers: a registered supply relation, or a
    trade document showing it bought from them."""
    relation = exists().where(
        SupplyRelation.buyer_id == sender, SupplyRelation.seller_id == recipient
    )
    trade = exists().where(
        TradeDocumentRow.buyer_id == sender, TradeDocumentRow.seller_id == recipient
    )
    return bool(session.scalar(select(or_(relation, trade))))


@dataclass(frozen=True)
class Transfer:
    offered: CredentialPiece
    kept: CredentialPiece | None


def transfer(
    session: Session,
    actor: Principal,
    piece_id: str,
    *,
    to: str,
    amount: Money | None = None,
) -> Transfer:
    """Offer a held piece (or part of it) to one of the holder's suppliers, one tier down."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    credential = _get(session, Credential, piece.credential_id)
    _check_live_credential(credential)
    recipient = _resolve_enterprise(session, to, "to")
    if recipient.id == piece.holder_id:
        raise ValidationFailed([FieldError("to", "is the holder itself")])
    if not _may_receive(session, piece.holder_id, recipient.id):
        raise ValidationFailed(
            [
                FieldError(
                    "to",
                    f"{recipient.uscc} is not a supplier of the holder (no supply relation "
                    "or trade on record)",
                )
            ]
        )
    if amount is not None and amount.currency != piece.currency:
        raise ValidationFailed([FieldError("amount", f"must be {piece.currency}")])
    holder = piece.holder_id
    if amount is None or amount.amount_minor == piece.amount_minor:
        _move(session, piece, PieceStatus.TRANSFERRED, holder_id=holder)
        (offered,) = _children(
            session,
            piece,
            [piece.amount_minor],
            holders=[recipient.id],
            tiers=[piece.tier + 1],
            statuses=[PieceStatus.OFFERED],
            actor=actor,
            senders=[holder],
        )
        kept = None
    else:
        programme = _get(session, CredentialProgramme, credential.programme_id)
        parts = rules.carve(
            piece.amount_minor, amount.amount_minor, min_piece_minor=programme.min_piece_minor
        )
        _move(session, piece, PieceStatus.SPLIT, holder_id=holder)
        offered, kept = _children(
            session,
            piece,
            parts,
            holders=[recipient.id, holder],
            tiers=[piece.tier + 1, piece.tier],
            statuses=[PieceStatus.OFFERED, PieceStatus.HELD],
            actor=actor,
            senders=[holder, None],
        )
    changes = [_change("piece", piece), _change("piece", offered)]
    if kept is not None:
        changes.append(_change("piece", kept))
    ledger.one(session, actor, "piece.transferred", *changes)
    audit.record(session, actor, "piece.transfer", "piece", piece.id, {"to": recipient.id})
    return Transfer(offered, kept)


# ---------------------------------------------------------------------------- finance


def quote(
    session: Session, actor: Principal, piece_id: str, *, bank: str, as_of: date | None = None
) -> CredentialQuote:
    """A funder bank's quote to discount a held piece, every component itemised."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    if piece.status != PieceStatus.HELD.value:
        raise rules.IllegalTransition(
            f"piece {piece.id} is {piece.status}; only held pieces are financed"
        )
    credential, programme = _programme_of(session, piece)
    _check_live_credential(credential)
    funder_bank = _resolve_bank(session, bank)
    funder = session.get(ProgrammeFunder, (programme.id, funder_bank.id))
    if funder is None:
        raise ValidationFailed(
            [FieldError("bank", f"{funder_bank.code} does not fund this credential's programme")]
        )
    as_of = as_of or utcnow().date()
    fixing = rates.in_force(session, as_of)
    if fixing is None:
        raise ValidationFailed(
            [FieldError("as_of", f"no LPR fixing on record on or before {as_of}")]
        )
    policy = PricingPolicy.from_dict(funder.pricing)
    priced = price_quote(
        Money(piece.amount_minor, piece.currency),
        as_of,
        credential.payment_on,
        programme.core_rating,
        fixing,
        policy,
        as_of,
    )
    terms = priced.to_dict()
    terms["payment_on"] = credential.payment_on.isoformat()
    terms["payment_provisional"] = credential.payment_provisional
    terms["maturity_on"] = credential.maturity_on.isoformat()
    now = utcnow()
    row = CredentialQuote(
        id=new_id("quote"),
        piece_id=piece.id,
        bank_id=funder_bank.id,
        holder_id=piece.holder_id,
        terms=terms,
        valid_until=now + QUOTE_VALID,
        created_by=actor.label,
        created_at=now,
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "piece.quoted", _change("quote", row))
    audit.record(session, actor, "piece.quote", "quote", row.id, {"bank": funder_bank.code})
    return row


def _money(d: dict[str, Any]) -> Money:
    return Money.parse(str(d["amount"]), str(d["currency"]))


def finance(session: Session, actor: Principal, quote_id: str) -> Financing:
    """The holder accepts a quote: the bank funds the net proceeds, the piece passes to the
    bank, the receivables registry records it and both books post. Accepting the same quote
    again returns the same financing."""
    actor.require(Scope.CREDENTIALS_WRITE)
    row = session.get(CredentialQuote, quote_id)
    if row is None or not (actor.is_system or actor.enterprise_id == row.holder_id):
        raise NotFound(f"no quote {quote_id!r}")
    done = session.scalar(select(Financing).where(Financing.quote_id == quote_id))
    if done is not None:
        return done
    if row.valid_until < utcnow():
        raise Conflict(f"quote {quote_id} expired at {row.valid_until:%Y-%m-%d %H:%M}Z; ask again")
    piece = _piece_for_holder(session, actor, row.piece_id)
    credential, _programme = _programme_of(session, piece)
    _check_live_credential(credential)
    terms = row.terms
    face = _money(terms["face"])
    discount = _money(terms["discount_interest"])
    fees = [(_money(f["amount"]), f["code"]) for f in terms["fees"]]
    net = _money(terms["net_proceeds"])
    fee_total = sum((f for f, _ in fees), Money.zero(face.currency))
    financing_id = new_id("financing")
    _move(
        session, piece, PieceStatus.TRANSFERRED, holder_id=row.holder_id, financing_id=financing_id
    )
    bank_ent = _bank_enterprise(session, row.bank_id)
    (bank_piece,) = _children(
        session,
        piece,
        [piece.amount_minor],
        holders=[bank_ent],
        tiers=[piece.tier],
        statuses=[PieceStatus.FINANCED],
        actor=actor,
        senders=[row.holder_id],
    )
    bank_piece.financing_id = financing_id
    registration = receivables.register_credential_piece(
        session,
        actor,
        piece_id=piece.id,
        creditor_id=row.holder_id,
        debtor_id=credential.issuer_id,
        bank_id=row.bank_id,
        amount=face,
        due_on=credential.payment_on,
        financing_ref=financing_id,
    )
    value_on = date.fromisoformat(terms["value_date"])
    financing = Financing(
        id=financing_id,
        piece_id=piece.id,
        bank_piece_id=bank_piece.id,
        quote_id=row.id,
        bank_id=row.bank_id,
        seller_id=row.holder_id,
        currency=face.currency,
        face_minor=face.amount_minor,
        discount_minor=discount.amount_minor,
        fees_minor=fee_total.amount_minor,
        net_minor=net.amount_minor,
        discount_rate=str(terms["discount_rate"]),
        all_in_rate=str(terms["all_in_rate"]),
        value_on=value_on,
        payment_on=credential.payment_on,
        registration_id=registration.id,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(financing)
    session.flush()
    ledger.one(
        session,
        actor,
        "piece.financed",
        _change("piece", piece),
        _change("piece", bank_piece),
        _change("financing", financing),
    )
    books.post(
        session,
        actor,
        book_id=chart.PLATFORM_BOOK,
        kind="financed",
        ref=f"finance/{financing.id}",
        value_on=value_on,
        postings=[
            Posting(chart.held_account(bank_ent).code, face),
            Posting(chart.held_account(row.holder_id).code, -face),
        ],
        memo=f"piece {piece.id} discounted by {row.bank_id}",
    )
    postings = [Posting(chart.DISCOUNTED, face), Posting(chart.CLEARING, -net)]
    if not discount.is_zero():
        postings.append(Posting(chart.UNEARNED_DISCOUNT, -discount))
    if not fee_total.is_zero():
        postings.append(Posting(chart.FEE_INCOME, -fee_total))
    books.post(
        session,
        actor,
        book_id=row.bank_id,
        kind="discount",
        ref=f"finance/{financing.id}",
        value_on=value_on,
        postings=postings,
        memo=f"discount of piece {piece.id} ({credential.id}) for {row.holder_id}",
    )
    audit.record(session, actor, "piece.finance", "financing", financing.id, {"quote": row.id})
    return financing


def accrue(session: Session, actor: Principal, as_of: date) -> int:
    """Recognise unearned discount as interest income, straight-line by day, up to
    ``as_of`` (or the payment date). Catches up missed days; posts nothing twice."""
    posted = 0
    query = select(Financing)
    if actor.bank_id is not None:
        query = query.where(Financing.bank_id == actor.bank_id)
    for fin in session.scalars(query.order_by(Financing.created_at)):
        if fin.discount_minor == 0:
            continue
        posted += _accrue_one(session, actor, fin, min(as_of, fin.payment_on))
    return posted


def _accrue_one(session: Session, actor: Principal, fin: Financing, through: date) -> int:
    if through <= fin.value_on:
        return 0
    total = Money(fin.discount_minor, fin.currency)
    target = recognised_through(total, fin.value_on, fin.payment_on, through)
    recognised = sum(
        session.scalars(
            select(JournalLine.amount_minor)
            .join(Journal, Journal.id == JournalLine.journal_id)
            .where(
                Journal.book_id == fin.bank_id,
                Journal.kind == "accrual",
                Journal.ref.like(f"accrual/{fin.id}/%"),
                JournalLine.account_code == chart.UNEARNED_DISCOUNT,
            )
        )
    )
    due = target.amount_minor - recognised
    if due <= 0:
        return 0
    amount = Money(due, fin.currency)
    books.post(
        session,
        actor,
        book_id=fin.bank_id,
        kind="accrual",
        ref=f"accrual/{fin.id}/{through.isoformat()}",
        value_on=through,
        postings=[
            Posting(chart.UNEARNED_DISCOUNT, amount),
            Posting(chart.INTEREST_INCOME, -amount),
        ],
        memo=f"discount earned on {fin.id} through {through}",
    )
    return 1


def amortisation_schedule(fin: Financing) -> list[tuple[date, Money]]:
    return amortise(Money(fin.discount_minor, fin.currency), fin.value_on, fin.payment_on)


# ---------------------------------------------------------------------------- settle


def _live_pieces(session: Session, credential_id: str) -> list[CredentialPiece]:
    live = [s.value for s in rules.LIVE]
    return list(
        session.scalars(
            select(CredentialPiece)
            .where(CredentialPiece.credential_id == credential_id, CredentialPiece.status.in_(live))
            .order_by(CredentialPiece.tier, CredentialPiece.id)
        )
    )


def settle(
    session: Session,
    actor: Principal,
    credential_id: str,
    *,
    amount: Money,
    payment_ref: str,
    paid_on: date | None = None,
) -> CredentialPayment:
    """The issuer pays. Each live piece's current holder is paid its share: the whole
    piece when the payment covers everything due, pro rata otherwise (penalty interest
    first, then principal). Unpaid pieces past their payment date go overdue. Paying again
    under the same ``payment_ref`` returns the first payment."""
    actor.require(Scope.CREDENTIALS_WRITE)
    credential = session.get(Credential, credential_id)
    if credential is None or not (actor.is_system or actor.enterprise_id == credential.issuer_id):
        raise NotFound(f"no credential {credential_id!r}")
    done = session.scalar(
        select(CredentialPayment).where(
            CredentialPayment.credential_id == credential.id,
            CredentialPayment.payment_ref == payment_ref,
        )
    )
    if done is not None:
        return done
    if credential.status not in (CredentialStatus.ACTIVE.value, CredentialStatus.OVERDUE.value):
        raise rules.IllegalTransition(f"credential {credential.id} is {credential.status}")
    if amount.currency != credential.currency or amount.amount_minor <= 0:
        raise ValidationFailed([FieldError("amount", f"must be a positive {credential.currency}")])
    paid_on = paid_on or utcnow().date()
    programme = _get(session, CredentialProgramme, credential.programme_id)
    changes = _withdraw_offers(session, actor, credential)
    pieces = [p for p in _live_pieces(session, credential.id) if p.status != PieceStatus.OFFERED]
    late = (paid_on - credential.payment_on).days > programme.grace_days
    outstanding = [p.amount_minor - p.settled_minor for p in pieces]
    penalties = (
        _penalties_due(session, credential, programme, pieces, paid_on)
        if late
        else [0] * len(pieces)
    )
    due_total = sum(outstanding) + sum(penalties)
    if amount.amount_minor > due_total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} is more than is due ({Money(due_total, credential.currency)}"
                    + (
                        f", incl. penalty {Money(sum(penalties), credential.currency)}"
                        if late
                        else ""
                    )
                    + ")",
                )
            ]
        )
    overdue_now = paid_on >= credential.payment_on
    if not overdue_now and amount.amount_minor < due_total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"before the payment date ({credential.payment_on}) a credential is "
                    f"redeemed in full ({Money(due_total, credential.currency)}) or not at all",
                )
            ]
        )
    pay_penalty, pay_principal = _split_payment(amount.amount_minor, penalties, outstanding)
    allocations: list[dict[str, Any]] = []
    payment_id = new_id("payment")
    for piece, principal, penalty, due, owed in zip(
        pieces, pay_principal, pay_penalty, penalties, outstanding, strict=True
    ):
        if principal == 0 and penalty == 0 and not (overdue_now and owed > 0):
            continue
        allocation = _pay_piece(
            session,
            actor,
            payment_id,
            credential,
            piece,
            principal,
            penalty,
            owed,
            paid_on,
            overdue_now,
        )
        allocation["penalty_due_minor"] = due
        allocation["penalty_assessed"] = late
        allocations.append(allocation)
        changes.append(_change("piece", piece))
    principal_total = sum(pay_principal)
    penalty_total = sum(pay_penalty)
    credential.settled_minor += principal_total
    if credential.settled_minor == credential.face_minor:
        credential.status = CredentialStatus.SETTLED.value
    elif overdue_now:
        credential.status = CredentialStatus.OVERDUE.value
    credential.updated_at = utcnow()
    if principal_total:
        _utilise(session, programme, posted_minor=-principal_total)
    payment = CredentialPayment(
        id=payment_id,
        credential_id=credential.id,
        payment_ref=payment_ref,
        currency=credential.currency,
        amount_minor=amount.amount_minor,
        penalty_minor=penalty_total,
        paid_on=paid_on,
        allocations=allocations,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    changes += [
        _change("credential", credential),
        _change("programme", programme),
        _change("payment", payment),
    ]
    ledger.one(session, actor, "credential.paid", *changes)
    if credential.status == CredentialStatus.OVERDUE.value:
        _alert_overdue(session, credential, pieces, paid_on)
    audit.record(
        session, actor, "credential.settle", "credential", credential.id, {"ref": payment_ref}
    )
    return payment


@dataclass(frozen=True)
class AmountDue:
    """What the issuer owes on a date: principal outstanding and penalty interest."""

    on: date
    currency: str
    principal_minor: int
    penalty_minor: int
    late: bool

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.penalty_minor


def amount_due(
    session: Session, actor: Principal, credential_id: str, on: date | None = None
) -> AmountDue:
    """The amount to pay to settle a credential in full on ``on`` (default today)."""
    credential = get(session, actor, credential_id)
    on = on or utcnow().date()
    programme = _get(session, CredentialProgramme, credential.programme_id)
    live = _live_pieces(session, credential.id)
    late = (on - credential.payment_on).days > programme.grace_days
    penalties = _penalties_due(session, credential, programme, live, on) if late else []
    return AmountDue(
        on,
        credential.currency,
        sum(p.amount_minor - p.settled_minor for p in live),
        sum(penalties),
        late,
    )


def _penalties_due(
    session: Session,
    credential: Credential,
    programme: CredentialProgramme,
    pieces: Sequence[CredentialPiece],
    paid_on: date,
) -> list[int]:
    """Penalty interest owed per piece at a late payment: accrued on what is outstanding at
    ``penalty_multiplier`` × the 1-year LPR in force, from the payment date or from the last
    late payment that already charged it (days are never charged twice), plus whatever
    penalty earlier payments left unpaid."""
    fixing = rates.in_force(session, paid_on)
    if fixing is None:
        raise ValidationFailed([FieldError("paid_on", f"no LPR fixing on record on {paid_on}")])
    rate = fixing.rate_1y * Decimal(programme.penalty_multiplier)
    charged_to: dict[str, date] = {}
    unpaid: dict[str, int] = {}
    for earlier in session.scalars(
        select(CredentialPayment)
        .where(CredentialPayment.credential_id == credential.id)
        .order_by(CredentialPayment.paid_on, CredentialPayment.created_at)
    ):
        for a in earlier.allocations:
            if a.get("penalty_assessed"):
                charged_to[a["piece_id"]] = earlier.paid_on
                unpaid[a["piece_id"]] = (
                    unpaid.get(a["piece_id"], 0) + a["penalty_due_minor"] - a["penalty_minor"]
                )
    out = []
    for piece in pieces:
        start = max(credential.payment_on, charged_to.get(piece.id, credential.payment_on))
        accrued = penalty_interest(
            Money(piece.amount_minor - piece.settled_minor, piece.currency),
            max((paid_on - start).days, 0),
            rate,
            programme.day_count,
            overdue_from=start,
        )
        out.append(accrued.amount_minor + unpaid.get(piece.id, 0))
    return out


def _split_payment(
    amount: int, penalties: Sequence[int], outstanding: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Penalty first, then principal; each pro rata across pieces when short."""

    def share(pool: int, owed: Sequence[int]) -> list[int]:
        total = sum(owed)
        if total == 0 or pool == 0:
            return [0] * len(owed)
        if pool >= total:
            return list(owed)
        return [m.amount_minor for m in Money(pool).allocate(list(owed))]

    pen = share(min(amount, sum(penalties)), penalties)
    rest = amount - sum(pen)
    return pen, share(rest, outstanding)


def _pay_piece(
    session: Session,
    actor: Principal,
    payment_id: str,
    credential: Credential,
    piece: CredentialPiece,
    principal: int,
    penalty: int,
    owed: int,
    paid_on: date,
    overdue_now: bool,
) -> dict[str, Any]:
    was_overdue = piece.status == PieceStatus.OVERDUE.value
    fully = principal == owed
    target = PieceStatus.SETTLED if fully else PieceStatus.OVERDUE if overdue_now else None
    if target is not None and target.value != piece.status:
        _move(session, piece, target, settled_minor=piece.settled_minor + principal)
    elif principal:
        session.execute(
            update(CredentialPiece)
            .where(CredentialPiece.id == piece.id)
            .values(settled_minor=CredentialPiece.settled_minor + principal, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.refresh(piece)
    currency = credential.currency
    if principal:
        cash = Money(principal, currency)
        books.post(
            session,
            actor,
            book_id=chart.PLATFORM_BOOK,
            kind="settled",
            ref=f"settle/{payment_id}/{piece.id}",
            value_on=paid_on,
            postings=[
                Posting(chart.issued_account(credential.issuer_id).code, cash),
                Posting(chart.held_account(piece.holder_id).code, -cash),
            ],
            memo=f"paid on {credential.id} to {piece.holder_id}",
        )
    if piece.financing_id is not None and piece.status != PieceStatus.TRANSFERRED.value:
        fin = _get(session, Financing, piece.financing_id)
        _bank_receipt(
            session,
            actor,
            payment_id,
            fin,
            piece,
            principal,
            penalty,
            paid_on,
            was_overdue,
            fully,
            overdue_now,
        )
    return {
        "piece_id": piece.id,
        "holder_id": piece.holder_id,
        "principal_minor": principal,
        "penalty_minor": penalty,
        "outstanding_minor": owed - principal,
    }


def _bank_receipt(
    session: Session,
    actor: Principal,
    payment_id: str,
    fin: Financing,
    piece: CredentialPiece,
    principal: int,
    penalty: int,
    paid_on: date,
    was_overdue: bool,
    fully: bool,
    overdue_now: bool,
) -> None:
    currency = fin.currency
    if fully:
        _accrue_one(session, actor, fin, fin.payment_on)
        receivables.release_credential_piece(session, actor, fin.piece_id)
    asset = chart.OVERDUE_DISCOUNTED if was_overdue else chart.DISCOUNTED
    postings = []
    if principal:
        postings += [
            Posting(chart.CLEARING, Money(principal, currency)),
            Posting(asset, Money(-principal, currency)),
        ]
    if penalty:
        postings += [
            Posting(chart.CLEARING, Money(penalty, currency)),
            Posting(chart.PENALTY_INCOME, Money(-penalty, currency)),
        ]
    if postings:
        books.post(
            session,
            actor,
            book_id=fin.bank_id,
            kind="repayment",
            ref=f"repay/{payment_id}/{piece.id}",
            value_on=paid_on,
            postings=postings,
            memo=f"payment on financing {fin.id}",
        )
    remaining = piece.amount_minor - piece.settled_minor
    if overdue_now and not was_overdue and remaining > 0:
        _reclassify_overdue(session, actor, fin, Money(remaining, currency), paid_on)


def _reclassify_overdue(
    session: Session, actor: Principal, fin: Financing, amount: Money, on: date
) -> None:
    books.post(
        session,
        actor,
        book_id=fin.bank_id,
        kind="overdue",
        ref=f"overdue/{fin.id}",
        value_on=on,
        postings=[Posting(chart.OVERDUE_DISCOUNTED, amount), Posting(chart.DISCOUNTED, -amount)],
        memo=f"financing {fin.id} overdue",
    )


def _withdraw_offers(session: Session, actor: Principal, credential: Credential) -> list[Change]:
    """At payment, a transfer still waiting for acceptance is withdrawn: the sender, who
    still holds it in the books, is paid."""
    changes: list[Change] = []
    offers = session.scalars(
        select(CredentialPiece).where(
            CredentialPiece.credential_id == credential.id,
            CredentialPiece.status == PieceStatus.OFFERED.value,
            CredentialPiece.parent_id.is_not(None),
        )
    ).all()
    for offer in offers:
        parent = _get(session, CredentialPiece, offer.parent_id)
        if offer.sender_id is None:
            raise AssertionError("a transferred piece has a sender")
        _move(session, offer, PieceStatus.CANCELLED)
        (returned,) = _children(
            session,
            offer,
            [offer.amount_minor],
            holders=[offer.sender_id],
            tiers=[parent.tier],
            statuses=[PieceStatus.HELD],
            actor=actor,
        )
        changes += [_change("piece", offer), _change("piece", returned)]
    return changes


def mark_overdue(session: Session, actor: Principal, as_of: date) -> list[Credential]:
    """Credentials unpaid past their payment date plus the programme's grace days go
    overdue: their live pieces too, the banks reclassify, and an alert is raised."""
    out = []
    candidates = session.scalars(
        select(Credential).where(
            Credential.status == CredentialStatus.ACTIVE.value, Credential.payment_on < as_of
        )
    ).all()
    for credential in candidates:
        programme = _get(session, CredentialProgramme, credential.programme_id)
        if (as_of - credential.payment_on).days <= programme.grace_days:
            continue
        changes = _withdraw_offers(session, actor, credential)
        pieces = _live_pieces(session, credential.id)
        for piece in pieces:
            if piece.status in (PieceStatus.HELD.value, PieceStatus.FINANCED.value):
                financed = piece.status == PieceStatus.FINANCED.value
                _move(session, piece, PieceStatus.OVERDUE)
                changes.append(_change("piece", piece))
                if financed and piece.financing_id:
                    fin = _get(session, Financing, piece.financing_id)
                    remaining = Money(piece.amount_minor - piece.settled_minor, piece.currency)
                    _reclassify_overdue(session, actor, fin, remaining, as_of)
        credential.status = CredentialStatus.OVERDUE.value
        credential.updated_at = utcnow()
        session.flush()
        changes.append(_change("credential", credential))
        ledger.one(session, actor, "credential.overdue", *changes)
        _alert_overdue(session, credential, pieces, as_of)
        out.append(credential)
    return out


def _alert_overdue(
    session: Session, credential: Credential, pieces: Sequence[CredentialPiece], as_of: date
) -> None:
    outstanding = Money(credential.face_minor - credential.settled_minor, credential.currency)
    banks = {
        b.id
        for b in session.scalars(
            select(Bank).where(Bank.enterprise_id.in_([p.holder_id for p in pieces]))
        )
    }
    already = set(
        session.scalars(
            select(Alert.bank_id).where(
                Alert.kind == "credential_overdue",
                Alert.subject_id == credential.id,
                Alert.state != "resolved",
            )
        )
    )
    now = utcnow()
    recipients: list[str | None] = [None, *sorted(banks)]  # the issuer's alert, then each bank's
    for bank_id in recipients:
        if bank_id in already:
            continue
        session.add(
            Alert(
                id=new_id("alert"),
                kind="credential_overdue",
                severity="high",
                subject_kind="credential",
                subject_id=credential.id,
                bank_id=bank_id,
                enterprise_id=credential.issuer_id,
                message=(
                    f"credential {credential.id} of {credential.issuer_id} is overdue since "
                    f"{credential.payment_on}: {outstanding} unpaid as of {as_of}"
                ),
                state="open",
                created_at=now,
            )
        )
    session.flush()


# ---------------------------------------------------------------------------- payment dates


def recompute_payment_dates(session: Session, actor: Principal) -> list[Credential]:
    """After an official schedule is loaded: roll every provisional payment date again.
    The contractual maturity date stays; only the payment date (and its flag) changes."""
    cal = workcal.calendar(session)
    changed = []
    rows = session.scalars(
        select(Credential).where(
            Credential.payment_provisional.is_(True),
            Credential.status.in_([CredentialStatus.OFFERED.value, CredentialStatus.ACTIVE.value]),
        )
    ).all()
    for credential in rows:
        programme = _get(session, CredentialProgramme, credential.programme_id)
        rolled = cal.roll(credential.maturity_on, programme.roll_convention)
        if (rolled.date, rolled.provisional) == (credential.payment_on, True):
            continue
        before = credential.payment_on
        credential.payment_on = rolled.date
        credential.payment_provisional = rolled.provisional
        credential.calendar_source = cal.schedule(rolled.date.year).source[:200]
        credential.updated_at = utcnow()
        session.flush()
        ledger.one(session, actor, "credential.payment_date_set", _change("credential", credential))
        audit.record(
            session,
            actor,
            "credential.payment_date",
            "credential",
            credential.id,
            {"from": before.isoformat(), "to": rolled.date.isoformat()},
        )
        changed.append(credential)
    return changed


# ---------------------------------------------------------------------------- reads


def _visible(session: Session, actor: Principal, credential: Credential) -> bool:
    if actor.is_system or actor.enterprise_id == credential.issuer_id:
        return True
    if actor.bank_id is not None:
        return actor.bank_id in _funder_banks(session, credential.programme_id)
    me = actor.enterprise_id
    return bool(
        session.scalar(
            select(
                exists().where(
                    CredentialPiece.credential_id == credential.id,
                    or_(CredentialPiece.holder_id == me, CredentialPiece.sender_id == me),
                )
            )
        )
    )


def get(session: Session, actor: Principal, credential_id: str) -> Credential:
    actor.require(Scope.CREDENTIALS_READ)
    credential = session.get(Credential, credential_id)
    if credential is None or not _visible(session, actor, credential):
        raise NotFound(f"no credential {credential_id!r}")
    return credential


def tree(session: Session, actor: Principal, credential_id: str) -> list[CredentialPiece]:
    """The pieces the actor may see, in lineage order: the issuer and the funder banks see
    the whole tree; a holder sees the branches below every piece it has held or sent."""
    credential = get(session, actor, credential_id)
    pieces = list(
        session.scalars(
            select(CredentialPiece)
            .where(CredentialPiece.credential_id == credential.id)
            .order_by(CredentialPiece.created_at, CredentialPiece.id)
        )
    )
    if actor.is_system or actor.enterprise_id == credential.issuer_id or actor.bank_id:
        return pieces
    me = actor.enterprise_id
    mine = {p.id for p in pieces if p.holder_id == me}
    return [p for p in pieces if p.id in mine or mine.intersection(p.lineage)]


def piece_for(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    actor.require(Scope.CREDENTIALS_READ)
    piece = session.get(CredentialPiece, piece_id)
    if piece is None or piece.id not in {p.id for p in tree(session, actor, piece.credential_id)}:
        raise NotFound(f"no piece {piece_id!r}")
    return piece


def holdings(
    session: Session, actor: Principal, *, live_only: bool = True
) -> list[CredentialPiece]:
    actor.require(Scope.CREDENTIALS_READ)
    holder = (
        _enterprise_of(actor) if actor.bank_id is None else _bank_enterprise(session, actor.bank_id)
    )
    query = select(CredentialPiece).where(CredentialPiece.holder_id == holder)
    if live_only:
        query = query.where(CredentialPiece.status.in_([s.value for s in rules.LIVE]))
    return list(session.scalars(query.order_by(CredentialPiece.created_at)))


def issued_by(session: Session, actor: Principal) -> list[Credential]:
    actor.require(Scope.CREDENTIALS_READ)
    me = _enterprise_of(actor)
    return list(
        session.scalars(
            select(Credential).where(Credential.issuer_id == me).order_by(Credential.created_at)
        )
    )


def quote_for(session: Session, actor: Principal, quote_id: str) -> CredentialQuote:
    actor.require(Scope.CREDENTIALS_READ)
    row = session.get(CredentialQuote, quote_id)
    if row is None or not (
        actor.is_system or actor.enterprise_id == row.holder_id or actor.bank_id == row.bank_id
    ):
        raise NotFound(f"no quote {quote_id!r}")
    return row


def alerts(session: Session, actor: Principal, *, state: str = "open") -> list[Alert]:
    """A bank's staff see the alerts raised for their bank; an enterprise those about it."""
    actor.require(Scope.CREDENTIALS_READ)
    query = select(Alert).where(Alert.state == state).order_by(Alert.created_at.desc())
    if actor.bank_id is not None:
        query = query.where(Alert.bank_id == actor.bank_id)
    elif not actor.is_system:
        query = query.where(Alert.enterprise_id == _enterprise_of(actor), Alert.bank_id.is_(None))
    return list(session.scalars(query.limit(500)))
