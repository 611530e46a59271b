"""Issuing credentials and moving their pieces: accept, reject, cancel, split, transfer;
payment dates; who sees what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, exists, false, or_, select, true, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Credential,
    CredentialPiece,
    CredentialProgramme,
    Enterprise,
    Financing,
    PayableConfirmation,
    SupplyRelation,
    TradeDocumentRow,
)
from chainfin.domain import books as chart
from chainfin.domain import clock
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import Posting
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, books, ledger, states, workcal
from chainfin.services.credentials._common import (
    _change,
    _check_live_credential,
    _children,
    _enterprise_of,
    _get,
    _move,
    _piece_for_holder,
    _programme_of,
    _resolve_bank,
    _resolve_enterprise,
    _within,
)
from chainfin.services.credentials.payables import _allocate_confirmations, _release_confirmations
from chainfin.services.credentials.programmes import _reserve, _utilise, funded_by
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.lending.filters import party_id
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

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
        raise NotFound(f"no programme {programme_id!r}", code="programme_not_found")
    issued_on = issued_on or clock.today()
    rules.check_tenor(issued_on, maturity_on, programme.tenor_cap_months)
    if amount.currency != programme.currency or amount.amount_minor < programme.min_piece_minor:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"must be {programme.currency} and at least the minimum piece "
                    f"{Money(programme.min_piece_minor, programme.currency)}",
                )
            ],
            code="piece_amount_invalid",
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
            raise Conflict(
                f"confirmation {conf.id} was used concurrently; retry", code="concurrent_change"
            )
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
        status=states.initial(Credential),
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


def held_currency(session: Session, actor: Principal, piece_id: str) -> str:
    """The currency of a piece the actor holds (to parse amounts for it)."""
    actor.require(Scope.CREDENTIALS_READ)
    return _piece_for_holder(session, actor, piece_id).currency


def accept(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    """The offered holder accepts: the root's acceptance activates the credential and posts
    the programme reservation; a transfer's acceptance moves the holding in the books."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    _move(session, piece, "accept", holder_id=piece.holder_id)
    amount = Money(piece.amount_minor, piece.currency)
    changes = [_change("piece", piece)]
    if piece.parent_id is None:
        credential = _get(session, Credential, piece.credential_id)
        programme = _get(session, CredentialProgramme, credential.programme_id)
        _utilise(
            session, programme, pending_minor=-amount.amount_minor, posted_minor=amount.amount_minor
        )
        states.move(credential, "accept")
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
        value_on=clock.today(),
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
    _move(session, piece, "reject", holder_id=piece.holder_id)
    changes = [_change("piece", piece)]
    credential = _get(session, Credential, piece.credential_id)
    if piece.parent_id is None:
        changes += _unwind_issue(session, credential, "reject")
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


def withdraw(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    """The sender takes back a piece it passed on that the receiver has not accepted yet (a
    wrong firm, or one invited that never registered): the offered piece is cancelled and
    its amount returns to the sender as a new held piece, as a rejection returns it. An
    issue is withdrawn by :func:`cancel` (the issuer's act), not here."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = session.get(CredentialPiece, piece_id, with_for_update=True)
    mine = piece is not None and (actor.is_system or piece.sender_id == actor.enterprise_id)
    if piece is None or piece.parent_id is None or not mine:
        raise NotFound(f"no piece {piece_id!r} passed on by you", code="piece_not_found")
    if piece.status != PieceStatus.OFFERED.value:
        raise rules.IllegalTransition(
            f"piece {piece.id} was already {piece.status}; a piece passed on is withdrawn "
            "only before the receiver answers",
            code="piece_already_answered",
        )
    sender = piece.sender_id
    if sender is None:
        raise AssertionError("a transferred piece has a sender")
    _move(session, piece, "cancel", holder_id=piece.holder_id)
    parent = _get(session, CredentialPiece, piece.parent_id)
    (returned,) = _children(
        session,
        piece,
        [piece.amount_minor],
        holders=[sender],
        tiers=[parent.tier],
        statuses=[PieceStatus.HELD],
        actor=actor,
    )
    ledger.one(
        session, actor, "piece.withdrawn", _change("piece", piece), _change("piece", returned)
    )
    audit.record(session, actor, "piece.withdraw", "piece", piece.id, {})
    return returned


def _unwind_issue(session: Session, credential: Credential, event: str) -> list[Change]:
    programme = _get(session, CredentialProgramme, credential.programme_id)
    _utilise(session, programme, pending_minor=-credential.face_minor)
    released = _release_confirmations(session, credential)
    states.move(credential, event)
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
        raise NotFound(f"no credential {credential_id!r}", code="credential_not_found")
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
            "before the first acceptance",
            code="credential_already_accepted",
        )
    _move(session, root, "cancel")
    changes = [
        _change("piece", root),
        *_unwind_issue(session, credential, "cancel"),
    ]
    ledger.one(session, actor, "credential.cancelled", *changes)
    audit.record(session, actor, "credential.cancel", "credential", credential.id, {})
    return credential


def split(
    session: Session, actor: Principal, piece_id: str, amounts: Sequence[Money]
) -> list[CredentialPiece]:
    """Split a held piece into pieces of the given amounts (same holder, same tier)."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    credential, programme = _programme_of(session, piece)
    _check_live_credential(credential)
    if any(a.currency != piece.currency for a in amounts):
        raise ValidationFailed(
            [FieldError("amounts", f"must all be {piece.currency}")], code="currency_mismatch"
        )
    parts = rules.split_amounts(
        piece.amount_minor,
        [a.amount_minor for a in amounts],
        min_piece_minor=programme.min_piece_minor,
    )
    _move(session, piece, "split", holder_id=piece.holder_id)
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
        raise ValidationFailed([FieldError("to", "is the holder itself")], code="transfer_to_self")
    if not _may_receive(session, piece.holder_id, recipient.id):
        raise ValidationFailed(
            [
                FieldError(
                    "to",
                    f"{recipient.uscc} is not a supplier of the holder (no supply relation "
                    "or trade on record)",
                )
            ],
            code="recipient_not_supplier",
        )
    if amount is not None and amount.currency != piece.currency:
        raise ValidationFailed(
            [FieldError("amount", f"must be {piece.currency}")], code="currency_mismatch"
        )
    holder = piece.holder_id
    if amount is None or amount.amount_minor == piece.amount_minor:
        _move(session, piece, "transfer", holder_id=holder)
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
        _move(session, piece, "split", holder_id=holder)
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


def credential_condition(actor: Principal) -> ColumnElement[bool]:
    """Credentials a principal reads: those it issued; for bank staff, those of the
    programmes its bank funds; for any other enterprise, those it holds or held a piece of
    (or sent one). A platform and the operator's people read none."""
    if actor.is_system:
        return true()
    ways: list[ColumnElement[bool]] = []
    if actor.enterprise_id is not None:
        ways.append(Credential.issuer_id == actor.enterprise_id)
    if actor.bank_id is not None:
        ways.append(Credential.programme_id.in_(funded_by(actor.bank_id)))
    elif actor.enterprise_id is not None:
        me = actor.enterprise_id
        parties = select(CredentialPiece.credential_id).where(
            or_(CredentialPiece.holder_id == me, CredentialPiece.sender_id == me)
        )
        ways.append(Credential.id.in_(parties))
    return or_(*ways) if ways else false()


def piece_condition(actor: Principal) -> ColumnElement[bool]:
    """Pieces a principal lists: those it holds or held, every piece of the credentials it
    issued and, for bank staff, every piece of the credentials of the programmes its bank
    funds (its discounted pieces among them) — each one it also reads by id (:func:`tree`)."""
    if actor.is_system:
        return true()
    ways: list[ColumnElement[bool]] = []
    if actor.bank_id is not None:
        funded = select(Credential.id).where(Credential.programme_id.in_(funded_by(actor.bank_id)))
        ways.append(CredentialPiece.credential_id.in_(funded))
    if actor.enterprise_id is not None:
        me = actor.enterprise_id
        issued = select(Credential.id).where(Credential.issuer_id == me)
        ways += [CredentialPiece.holder_id == me, CredentialPiece.credential_id.in_(issued)]
    return or_(*ways) if ways else false()


def _visible(session: Session, actor: Principal, credential: Credential) -> bool:
    if actor.is_system or actor.enterprise_id == credential.issuer_id:
        return True
    found = session.scalar(
        select(Credential.id).where(Credential.id == credential.id, credential_condition(actor))
    )
    return found is not None


def get(session: Session, actor: Principal, credential_id: str) -> Credential:
    actor.require(Scope.CREDENTIALS_READ)
    credential = session.get(Credential, credential_id)
    if credential is None or not _visible(session, actor, credential):
        raise NotFound(f"no credential {credential_id!r}", code="credential_not_found")
    return credential


def tree(session: Session, actor: Principal, credential_id: str) -> list[CredentialPiece]:
    """The pieces the actor may see, depth first (each piece followed by its branch, siblings
    in the order they were made): the issuer and the funder banks see the whole tree; a
    holder sees the branches below every piece it has held."""
    credential = get(session, actor, credential_id)
    pieces = list(
        session.scalars(
            select(CredentialPiece)
            .where(CredentialPiece.credential_id == credential.id)
            .order_by(CredentialPiece.created_at, CredentialPiece.id)
        )
    )
    pieces = _depth_first(pieces)
    if actor.is_system or actor.enterprise_id == credential.issuer_id or actor.bank_id:
        return pieces
    me = actor.enterprise_id
    mine = {p.id for p in pieces if p.holder_id == me}
    return [p for p in pieces if p.id in mine or mine.intersection(p.lineage)]


def _depth_first(pieces: list[CredentialPiece]) -> list[CredentialPiece]:
    children: dict[str | None, list[CredentialPiece]] = {}
    for piece in pieces:  # already in creation order
        children.setdefault(piece.parent_id, []).append(piece)
    out: list[CredentialPiece] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        piece = stack.pop()
        out.append(piece)
        stack.extend(reversed(children.get(piece.id, [])))
    return out


def piece_for(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    actor.require(Scope.CREDENTIALS_READ)
    piece = session.get(CredentialPiece, piece_id)
    if piece is None or piece.id not in {p.id for p in tree(session, actor, piece.credential_id)}:
        raise NotFound(f"no piece {piece_id!r}", code="piece_not_found")
    return piece


@dataclass(frozen=True)
class PieceFilter:
    """What to list of the pieces a principal sees (every field narrows)."""

    statuses: tuple[PieceStatus, ...] = ()  # none: the live ones, or all with include_closed
    include_closed: bool = False
    credential_id: str | None = None
    holder: str | None = None  # the holding enterprise: id or USCC
    financed_by: str | None = None  # the bank that discounted it: code or id
    maturity_from: date | None = None  # the credential's maturity date
    maturity_to: date | None = None


def list_pieces(
    session: Session,
    actor: Principal,
    filters: PieceFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[CredentialPiece]:
    """The pieces the principal may see (:func:`piece_condition`), by id (oldest first);
    live ones only unless ``include_closed`` or ``statuses`` says otherwise."""
    actor.require(Scope.CREDENTIALS_READ)
    if not actor.is_system and actor.bank_id is None:
        _enterprise_of(actor)
    filters = filters or PieceFilter()
    query = select(CredentialPiece).where(piece_condition(actor))
    if filters.statuses:
        query = query.where(CredentialPiece.status.in_([s.value for s in filters.statuses]))
    elif not filters.include_closed:
        query = query.where(CredentialPiece.status.in_([s.value for s in rules.LIVE]))
    if filters.credential_id is not None:
        query = query.where(CredentialPiece.credential_id == filters.credential_id)
    if filters.holder is not None:
        holder = party_id(session, filters.holder, field="holder")
        query = query.where(CredentialPiece.holder_id == holder)
    if filters.financed_by is not None:
        bank = _resolve_bank(session, filters.financed_by, "financed_by")
        financed = select(Financing.id).where(Financing.bank_id == bank.id)
        query = query.where(CredentialPiece.financing_id.in_(financed))
    maturity = _within(
        Credential.maturity_on, filters.maturity_from, filters.maturity_to, "maturity"
    )
    if maturity:
        dated = select(Credential.id).where(*maturity)
        query = query.where(CredentialPiece.credential_id.in_(dated))
    return paginate(session, query, CredentialPiece.id, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class CredentialFilter:
    """What to list of the credentials a principal reads (every field narrows)."""

    statuses: tuple[CredentialStatus, ...] = ()
    programme_id: str | None = None
    core: str | None = None  # the issuer: id or USCC
    holder: str | None = None  # holds one of the pieces you see: id or USCC
    funder: str | None = None  # funds the programme: bank code or id
    maturity_from: date | None = None
    maturity_to: date | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def list_credentials(
    session: Session,
    actor: Principal,
    filters: CredentialFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Credential]:
    """The credentials the principal reads by id (:func:`credential_condition`): issued by
    it, holding its pieces, or in programmes its bank funds; by id (oldest first)."""
    actor.require(Scope.CREDENTIALS_READ)
    if not actor.is_system and actor.bank_id is None:
        _enterprise_of(actor)
    filters = filters or CredentialFilter()
    query = select(Credential).where(credential_condition(actor))
    if filters.statuses:
        query = query.where(Credential.status.in_([s.value for s in filters.statuses]))
    if filters.programme_id is not None:
        query = query.where(Credential.programme_id == filters.programme_id)
    if filters.core is not None:
        core = party_id(session, filters.core, field="core")
        query = query.where(Credential.issuer_id == core)
    if filters.holder is not None:
        # only among the pieces the principal sees: a holder elsewhere in the tree stays unseen
        holder = party_id(session, filters.holder, field="holder")
        held = select(CredentialPiece.credential_id).where(
            CredentialPiece.holder_id == holder, piece_condition(actor)
        )
        query = query.where(Credential.id.in_(held))
    if filters.funder is not None:
        bank = _resolve_bank(session, filters.funder, "funder")
        query = query.where(Credential.programme_id.in_(funded_by(bank.id)))
    query = query.where(
        *_within(Credential.maturity_on, filters.maturity_from, filters.maturity_to, "maturity"),
        *_within(Credential.issued_on, filters.issued_from, filters.issued_to, "issued"),
    )
    return paginate(session, query, Credential.id, cursor=cursor, limit=limit)


def holder_names(session: Session, actor: Principal, credential_id: str) -> dict[str, str]:
    """The names of the holders of the pieces of a credential the actor sees
    (:func:`tree`): the issuer names every holder down the tiers, a holder those of its
    own branches. Enterprises only; a page names banks through the registry."""
    holders = {p.holder_id for p in tree(session, actor, credential_id)}
    rows = session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(holders)))
    return {row.id: row.name for row in rows}
