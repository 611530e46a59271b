"""Supplier onboarding: a holder passes part of a credential piece to one of its suppliers,
or invites a supplier that is not yet on the platform — how a credential reaches tier 3 and
beyond.

Inviting (:func:`invite`) matches the supplier's USCC to the registry (or registers the
firm, its region from the code's administrative division and the inviter's industry),
records the supply relation if it is missing, keeps an invitation with the SHA-256 digest of
a one-time token (the token itself is returned once, to be sent to the firm: there is no SMS
gateway) and, when a piece and an amount are given, offers that part of the piece to the
firm at once. The firm's administrator registers through the link (:func:`register`): the
USCC typed must be the invited one; the invitation is the authority that creates the user,
so no one else acts for the new firm. Every change goes on the ledger and the audit trail in
the caller's one transaction.

>>> check_amount("12,000.50", Money(5_000_000), min_piece_minor=100_000).remaining
Money(amount_minor=3799950, currency='CNY')
>>> check_amount("0.001", Money(5_000_000), min_piece_minor=100_000).problem
<AmountProblem.TOO_PRECISE: 'too_precise'>
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Credential,
    CredentialPiece,
    CredentialProgramme,
    Enterprise,
    SupplierInvitation,
    SupplyRelation,
    User,
)
from chainfin.domain import clock
from chainfin.domain.access import EnterpriseRole, Principal, PrincipalKind, Scope
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.errors import ChainfinError, Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.region import check_region_code
from chainfin.domain.registry import RelationRecord
from chainfin.domain.states import SupplierInvitationStatus
from chainfin.domain.uscc import check_uscc, normalise
from chainfin.services import audit, auth, credentials, ledger, registry, scoping, states
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of

INVITATION_DAYS = 14
UNSPECIFIED_CATEGORY = "unspecified"  # a relation recorded without a product category
MAX_NAME = 200
MAX_CONTACT = 50
MAX_CATEGORY = 100
MAX_TOKEN = 100
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)  # Money.parse reads no other digits
_SEPARATORS = str.maketrans("", "", ", ，¥￥\u00a0")

# The reasons of the field errors below, stable so that pages can translate them.
REQUIRED = "is required"
TOO_LONG = "is too long"
MOBILE_INVALID = "must be a mainland mobile number: 11 digits starting with 1"
OWN_FIRM = "is your own firm"
REGION_UNKNOWN = "carries no known administrative division code"
AMOUNT_WITHOUT_PIECE = "needs a piece to offer"
PIECE_WITHOUT_AMOUNT = "needs an amount to offer"
PIECE_NOT_HELD = "is not a piece you hold"
NOT_MY_SUPPLIER = "is not one of your suppliers"
NOT_INVITED_FIRM = "is not the USCC of the firm invited"
PASSWORDS_DIFFER = "differs from the password"


class Gone(ChainfinError):
    """A registration link that worked once and no longer does (expired, used, withdrawn)."""

    code = "supplier_invitation_closed"
    status = 410


# ---------------------------------------------------------------------------- amounts


class AmountProblem(StrEnum):
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    TOO_PRECISE = "too_precise"  # more decimals than the currency has
    NOT_POSITIVE = "not_positive"
    MORE_THAN_PIECE = "more_than_piece"
    BELOW_MINIMUM = "below_minimum"  # the part passed on is below the programme's minimum
    REMAINDER_BELOW_MINIMUM = "remainder_below_minimum"  # so is what the holder would keep


@dataclass(frozen=True)
class AmountCheck:
    """An amount typed against a piece: the amount and what the holder keeps, or the
    problem (with the piece's amount and the programme's minimum, for the message)."""

    amount: Money | None
    remaining: Money | None
    problem: AmountProblem | None
    piece: Money
    minimum: Money

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_amount(text: str, piece: Money, *, min_piece_minor: int) -> AmountCheck:
    """Check an amount as a person types it (thousands separators and a ¥ allowed) against
    the piece it is carved from; the first problem in the order of :class:`AmountProblem`."""
    minimum = Money(min_piece_minor, piece.currency)

    def refuse(problem: AmountProblem, amount: Money | None = None) -> AmountCheck:
        return AmountCheck(amount, None, problem, piece, minimum)

    cleaned = text.translate(_SEPARATORS).strip()
    if not cleaned:
        return refuse(AmountProblem.EMPTY)
    if not _NUMBER.match(cleaned) or len(cleaned) > 40:
        return refuse(AmountProblem.NOT_A_NUMBER)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return refuse(AmountProblem.NOT_A_NUMBER)
    if value <= 0:
        return refuse(AmountProblem.NOT_POSITIVE)
    try:
        amount = Money.parse(cleaned, piece.currency)
    except MoneyError:
        decimals = cleaned.partition(".")[2].rstrip("0")
        if len(decimals) > 2:
            return refuse(AmountProblem.TOO_PRECISE)
        return refuse(AmountProblem.MORE_THAN_PIECE)
    if amount.amount_minor > piece.amount_minor:
        return refuse(AmountProblem.MORE_THAN_PIECE, amount)
    if amount.amount_minor < min_piece_minor:
        return refuse(AmountProblem.BELOW_MINIMUM, amount)
    left = piece.amount_minor - amount.amount_minor
    if 0 < left < min_piece_minor:
        return refuse(AmountProblem.REMAINDER_BELOW_MINIMUM, amount)
    return AmountCheck(amount, Money(left, piece.currency), None, piece, minimum)


_AMOUNT_CODES = {
    AmountProblem.EMPTY: "invalid_money",
    AmountProblem.NOT_A_NUMBER: "invalid_money",
    AmountProblem.TOO_PRECISE: "invalid_money",
    AmountProblem.NOT_POSITIVE: "amount_not_positive",
    AmountProblem.MORE_THAN_PIECE: "carve_amount_invalid",
    AmountProblem.BELOW_MINIMUM: "piece_amount_invalid",
    AmountProblem.REMAINDER_BELOW_MINIMUM: "piece_amount_invalid",
}


def amount_refused(check: AmountCheck, field_name: str = "amount") -> ValidationFailed:
    """The refusal of an amount that failed :func:`check_amount` (its reason is the
    problem's name, for pages to translate)."""
    problem = check.problem or AmountProblem.NOT_A_NUMBER
    return ValidationFailed([FieldError(field_name, problem.value)], code=_AMOUNT_CODES[problem])


# ---------------------------------------------------------------------------- pieces to pass


@dataclass(frozen=True)
class Supplier:
    """One of my suppliers of record, as the picker lists it."""

    id: str
    name: str
    uscc: str


@dataclass(frozen=True)
class HeldPiece:
    """A piece I hold, with what passing part of it on needs to know."""

    piece: CredentialPiece
    credential: Credential
    min_piece_minor: int

    @property
    def amount(self) -> Money:
        return Money(self.piece.amount_minor, self.piece.currency)


def suppliers(session: Session, actor: Principal) -> list[Supplier]:
    """The firms that supply mine (supply relations where my firm is the buyer), by name."""
    actor.require(Scope.REGISTRY_READ)
    me = scoping.enterprise_of(actor, "a firm passes credentials to its suppliers")
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.uscc)
        .join(SupplyRelation, SupplyRelation.seller_id == Enterprise.id)
        .where(
            SupplyRelation.buyer_id == me,
            Enterprise.id != me,
            scoping.relation_condition(actor),
        )
        .distinct()
        .order_by(Enterprise.name, Enterprise.id)
    )
    return [Supplier(r.id, r.name, r.uscc) for r in rows]


def held_piece(session: Session, actor: Principal, piece_id: str) -> HeldPiece:
    """A piece my firm holds (not offered, financed or settled), of a live credential.
    Another firm's piece: 404; mine but not held: 409 ``piece_not_held``; a credential no
    longer live: 409 ``credential_not_live``."""
    actor.require(Scope.CREDENTIALS_READ)
    me = scoping.enterprise_of(actor, "a firm passes on the pieces it holds")
    piece = credentials.piece_for(session, actor, piece_id)
    if piece.holder_id != me:
        raise NotFound(f"no piece {piece_id!r} held by you", code="piece_not_found")
    if piece.status != PieceStatus.HELD.value:
        raise Conflict(f"piece {piece.id} is {piece.status}", code="piece_not_held")
    credential = credentials.get(session, actor, piece.credential_id)
    if credential.status != CredentialStatus.ACTIVE.value:
        raise Conflict(
            f"credential {credential.id} is {credential.status}", code="credential_not_live"
        )
    programme = session.get(CredentialProgramme, credential.programme_id)
    if programme is None:
        raise AssertionError(f"credential {credential.id} has no programme")
    return HeldPiece(piece, credential, programme.min_piece_minor)


@dataclass(frozen=True)
class PassOn:
    """Pass ``amount`` (as typed) of a held piece to one of my suppliers (an enterprise id)."""

    piece_id: str
    to: str
    amount: str


def pass_on(session: Session, actor: Principal, command: PassOn) -> credentials.Transfer:
    """Split the piece if the amount is a part of it and offer that part to the supplier,
    one tier down (``credentials.transfer``), in the caller's transaction."""
    actor.require(Scope.CREDENTIALS_WRITE)
    held = held_piece(session, actor, command.piece_id)
    mine = command.to in {s.id for s in suppliers(session, actor)}
    check = check_amount(command.amount, held.amount, min_piece_minor=held.min_piece_minor)
    if not check.ok and not mine:
        errors = [FieldError("to", NOT_MY_SUPPLIER), *amount_refused(check).errors]
        raise ValidationFailed(errors)
    if not mine:
        raise ValidationFailed([FieldError("to", NOT_MY_SUPPLIER)], code="recipient_not_supplier")
    if not check.ok:
        raise amount_refused(check)
    return credentials.transfer(session, actor, held.piece.id, to=command.to, amount=check.amount)


def passed_on(session: Session, actor: Principal) -> list[CredentialPiece]:
    """Pieces my firm passed on that wait for their recipient's acceptance (oldest first):
    each is below a piece my firm held, so it is in that credential's tree as my firm sees
    it (``credentials.tree``)."""
    actor.require(Scope.CREDENTIALS_READ)
    me = scoping.enterprise_of(actor, "a firm lists what it passed on")
    return list(
        session.scalars(
            select(CredentialPiece)
            .where(
                CredentialPiece.sender_id == me,
                CredentialPiece.holder_id != me,
                CredentialPiece.parent_id.is_not(None),
                CredentialPiece.status == PieceStatus.OFFERED.value,
            )
            .order_by(CredentialPiece.id)
        )
    )


# ---------------------------------------------------------------------------- inviting


@dataclass(frozen=True)
class InviteSupplier:
    """What the inviting firm types. ``piece_id`` and ``amount`` (as typed) go together:
    that part of a piece I hold is offered to the firm at once."""

    uscc: str
    name: str
    contact_name: str
    contact_mobile: str
    product_category: str = ""
    piece_id: str | None = None
    amount: str = ""


@dataclass(frozen=True)
class Invited:
    """An invitation made: ``token`` is the one-time secret of the registration link (kept
    nowhere: shown once); ``created``: the firm was new to the registry."""

    invitation: SupplierInvitation
    token: str
    enterprise: Enterprise
    created: bool
    offered: CredentialPiece | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_mobile(text: str) -> str:
    """A mobile number as stored: digits only, without the +86 country code."""
    digits = "".join(c for c in text if c.isdigit() or c == "+")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def masked_mobile(mobile: str) -> str:
    """138****5678: enough to recognise, not to call."""
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 8 else "****"


def region_of(uscc: str) -> str | None:
    """The administrative division a USCC was registered in, as a current region code: the
    county, else its prefecture, else its province (codes are withdrawn as counties merge)."""
    code = uscc[2:8]
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if check_region_code(candidate) is None:
            return candidate
    return None


def _text_errors(command: InviteSupplier) -> list[FieldError]:
    errors = []
    for name, value, most in (
        ("name", command.name, MAX_NAME),
        ("contact_name", command.contact_name, MAX_CONTACT),
    ):
        if not value.strip():
            errors.append(FieldError(name, REQUIRED))
        elif len(value.strip()) > most or not value.isprintable():
            errors.append(FieldError(name, TOO_LONG))
    if not command.contact_mobile.strip():
        errors.append(FieldError("contact_mobile", REQUIRED))
    elif not _MOBILE.match(normal_mobile(command.contact_mobile)):
        errors.append(FieldError("contact_mobile", MOBILE_INVALID))
    if len(command.product_category.strip()) > MAX_CATEGORY:
        errors.append(FieldError("product_category", TOO_LONG))
    return errors


def _uscc_errors(uscc: str, me: Enterprise) -> list[FieldError]:
    if not uscc.strip():
        return [FieldError("uscc", REQUIRED)]
    verdict = check_uscc(uscc)
    if not verdict.valid:
        return [FieldError("uscc", verdict.reason)]
    if verdict.code == me.uscc:
        return [FieldError("uscc", OWN_FIRM)]
    if region_of(verdict.code) is None:
        return [FieldError("uscc", REGION_UNKNOWN)]
    return []


def _offer_errors(
    session: Session, actor: Principal, command: InviteSupplier
) -> tuple[list[FieldError], AmountCheck | None]:
    if not command.piece_id:
        bad = [FieldError("amount", AMOUNT_WITHOUT_PIECE)] if command.amount.strip() else []
        return bad, None
    try:
        held = held_piece(session, actor, command.piece_id)
    except ChainfinError:
        return [FieldError("piece_id", PIECE_NOT_HELD)], None
    if not command.amount.strip():
        return [FieldError("amount", PIECE_WITHOUT_AMOUNT)], None
    check = check_amount(command.amount, held.amount, min_piece_minor=held.min_piece_minor)
    return ([] if check.ok else amount_refused(check).errors), check


def _registrar(subject: str) -> Principal:
    """The platform acting on an invitation's authority: firms do not register other firms
    (``registry.require_write``), so the registry entry of an invited firm is the platform's
    act, named after the invitation in the audit trail and on the ledger."""
    return Principal(PrincipalKind.SYSTEM, f"onboarding/{subject}")


def _match_or_register(
    session: Session, command: InviteSupplier, uscc: str, me: Enterprise, invitation_id: str
) -> tuple[Enterprise, bool]:
    found = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if found is not None:
        if session.scalar(select(User.id).where(User.enterprise_id == found.id).limit(1)):
            raise Conflict(f"{uscc} already has users on the platform", code="enterprise_has_users")
        return found, False
    body = {
        "uscc": uscc,
        "name": command.name.strip(),
        "region_code": region_of(uscc),
        "industry_code": me.industry_code,
        "roles": "supplier",
    }
    ent, _ = registry.create_enterprise(session, _registrar(invitation_id), body)
    return ent, True


def _relate(
    session: Session, actor: Principal, me: Enterprise, supplier: Enterprise, cat: str
) -> None:
    """The supply relation (my firm buys from the supplier), if none is on record yet."""
    related = session.scalar(
        select(SupplyRelation.id).where(
            SupplyRelation.buyer_id == me.id, SupplyRelation.seller_id == supplier.id
        )
    )
    if related is not None:
        return
    record = RelationRecord(me.uscc, supplier.uscc, cat or UNSPECIFIED_CATEGORY, clock.today())
    registry.import_relations(session, actor, [record])


def _open_for(session: Session, inviter: str, invitee: str) -> str | None:
    return session.scalar(
        select(SupplierInvitation.id).where(
            SupplierInvitation.inviter_id == inviter,
            SupplierInvitation.invitee_id == invitee,
            SupplierInvitation.status == SupplierInvitationStatus.INVITED.value,
            SupplierInvitation.expires_at > clock.utcnow(),
        )
    )


def invite(session: Session, actor: Principal, command: InviteSupplier) -> Invited:
    """Invite a supplier not yet on the platform (see the module's docstring). Every field
    is checked before anything is written; the refusals: ``validation_failed`` (each field
    and its reason), ``enterprise_has_users`` (the firm is on the platform already),
    ``supplier_invitation_already_open`` (my earlier link still works)."""
    actor.require(Scope.REGISTRY_WRITE)
    me_id = scoping.enterprise_of(actor, "a firm invites its suppliers")
    me = session.get(Enterprise, me_id)
    if me is None:
        raise AssertionError(f"enterprise {me_id} is missing")
    if command.piece_id:
        actor.require(Scope.CREDENTIALS_WRITE)
    errors = _uscc_errors(command.uscc, me) + _text_errors(command)
    offer_errors, check = _offer_errors(session, actor, command)
    errors += offer_errors
    if errors:
        only_uscc = {e.field for e in errors} == {"uscc"}
        raise ValidationFailed(errors, code="uscc_invalid" if only_uscc else None)
    uscc = normalise(command.uscc)
    invitation_id = new_id("supplier_invitation")
    enterprise, created = _match_or_register(session, command, uscc, me, invitation_id)
    if _open_for(session, me.id, enterprise.id) is not None:
        raise Conflict(
            f"{uscc} has an open invitation from your firm", code="supplier_invitation_already_open"
        )
    _relate(session, actor, me, enterprise, command.product_category.strip())
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    row = SupplierInvitation(
        id=invitation_id,
        token_digest=token_digest(token),
        inviter_id=me.id,
        invitee_id=enterprise.id,
        invitee_created=created,
        contact_name=command.contact_name.strip(),
        contact_mobile=normal_mobile(command.contact_mobile),
        piece_id=None,
        status=states.initial(SupplierInvitation),
        invited_by=actor.label,
        expires_at=now + timedelta(days=INVITATION_DAYS),
        registered_user_id=None,
        registered_at=None,
        cancelled_by=None,
        cancelled_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    offered = None
    if command.piece_id and check is not None and check.amount is not None:
        moved = credentials.transfer(
            session, actor, command.piece_id, to=enterprise.id, amount=check.amount
        )
        offered = moved.offered
        row.piece_id = offered.id
        session.flush()
    _record(session, actor, "invited", row)
    return Invited(row, token, enterprise, created, offered)


def _record(session: Session, actor: Principal, event: str, row: SupplierInvitation) -> None:
    ledger.one(
        session, actor, f"supplier.invitation_{event}", Change("supplier_invitation", row_of(row))
    )
    audit.record(
        session,
        actor,
        f"supplier.invitation.{event}",
        "supplier_invitation",
        row.id,
        {"invitee": row.invitee_id},
    )


# ---------------------------------------------------------------------------- my invitations


@dataclass(frozen=True)
class InvitationView:
    """One of my invitations as the inviting firm sees it (the mobile masked)."""

    id: str
    invitee_name: str
    invitee_uscc: str
    contact_name: str
    contact_mobile: str
    state: str  # the effective state: an open invitation past its expiry is expired
    created_at: datetime
    expires_at: datetime
    offered: Money | None
    offered_piece_id: str | None
    credential_id: str | None


def state_of(row: SupplierInvitation, now: datetime | None = None) -> str:
    """The invitation's state as a person reads it: an open one past its expiry is expired
    (the sweep, :func:`expire_lapsed`, records that; the link is refused either way)."""
    if row.status == SupplierInvitationStatus.INVITED.value and row.expires_at <= (
        now or clock.utcnow()
    ):
        return SupplierInvitationStatus.EXPIRED.value
    return row.status


def invitations(session: Session, actor: Principal, *, limit: int = 50) -> list[InvitationView]:
    """My firm's invitations, newest first."""
    actor.require(Scope.REGISTRY_READ)
    me = scoping.enterprise_of(actor, "a firm lists the suppliers it invited")
    rows = session.execute(
        select(SupplierInvitation, Enterprise, CredentialPiece)
        .join(Enterprise, Enterprise.id == SupplierInvitation.invitee_id)
        .outerjoin(CredentialPiece, CredentialPiece.id == SupplierInvitation.piece_id)
        .where(SupplierInvitation.inviter_id == me)
        .order_by(SupplierInvitation.id.desc())
        .limit(limit)
    )
    now = clock.utcnow()
    return [
        InvitationView(
            row.id,
            ent.name,
            ent.uscc,
            row.contact_name,
            masked_mobile(row.contact_mobile),
            state_of(row, now),
            row.created_at,
            row.expires_at,
            Money(piece.amount_minor, piece.currency) if piece is not None else None,
            piece.id if piece is not None else None,
            piece.credential_id if piece is not None else None,
        )
        for row, ent, piece in rows
    ]


def _mine(session: Session, actor: Principal, invitation_id: str) -> SupplierInvitation:
    me = scoping.enterprise_of(actor, "a firm manages the suppliers it invited")
    row = session.scalar(
        select(SupplierInvitation)
        .where(SupplierInvitation.id == invitation_id, SupplierInvitation.inviter_id == me)
        .with_for_update()
    )
    if row is None:
        raise NotFound.of("supplier invitation", invitation_id)
    return row


def cancel(session: Session, actor: Principal, invitation_id: str) -> SupplierInvitation:
    """Withdraw an open invitation: its link stops working at once, and a piece offered with
    it that the firm has not answered comes back to the inviter
    (:func:`chainfin.services.credentials.withdraw`), in the same transaction."""
    actor.require(Scope.REGISTRY_WRITE)
    row = _mine(session, actor, invitation_id)
    states.move(row, "cancel")
    row.cancelled_by, row.cancelled_at = actor.label, clock.utcnow()
    row.updated_at = row.cancelled_at
    session.flush()
    _record(session, actor, "cancelled", row)
    if row.piece_id is not None:
        piece = session.get(CredentialPiece, row.piece_id)
        if piece is not None and piece.status == PieceStatus.OFFERED.value:
            credentials.withdraw(session, actor, piece.id)
    return row


def expire_lapsed(session: Session, actor: Principal) -> int:
    """Record the expiry of every open invitation past its date (of the actor's firm, or
    all for the operator). Returns how many expired."""
    now = clock.utcnow()
    query = select(SupplierInvitation).where(
        SupplierInvitation.status == SupplierInvitationStatus.INVITED.value,
        SupplierInvitation.expires_at <= now,
    )
    if not actor.is_system:
        query = query.where(
            SupplierInvitation.inviter_id == scoping.enterprise_of(actor, "expire invitations")
        )
    rows = list(session.scalars(query.order_by(SupplierInvitation.id)))
    for row in rows:
        states.move(row, "expire")
        row.updated_at = now
        session.flush()
        _record(session, actor, "expired", row)
    return len(rows)


# ---------------------------------------------------------------------------- the link


@dataclass(frozen=True)
class JoinView:
    """What the registration page shows: who invited whom, and the piece waiting. Never
    the invited USCC: the person registering types it."""

    inviter_name: str
    invitee_name: str
    expires_at: datetime
    offered: Money | None


def _by_token(session: Session, token: str, *, lock: bool = False) -> SupplierInvitation:
    """The open invitation of a link: 404 for a token that names none, 410 for one that
    expired, was used or was withdrawn."""
    if not token or len(token) > MAX_TOKEN or not _TOKEN.match(token):
        raise NotFound.of("supplier invitation")
    query = select(SupplierInvitation).where(SupplierInvitation.token_digest == token_digest(token))
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound.of("supplier invitation")
    state = state_of(row)
    if state == SupplierInvitationStatus.EXPIRED.value:
        raise Gone("this registration link has expired", code="supplier_invitation_expired")
    if state != SupplierInvitationStatus.INVITED.value:
        raise Gone(f"this registration link was {state}")
    return row


def join_view(session: Session, token: str) -> JoinView:
    row = _by_token(session, token)
    inviter = session.get(Enterprise, row.inviter_id)
    invitee = session.get(Enterprise, row.invitee_id)
    if inviter is None or invitee is None:
        raise AssertionError(f"invitation {row.id} names a missing firm")
    piece = session.get(CredentialPiece, row.piece_id) if row.piece_id else None
    offered = None
    if piece is not None and piece.status == PieceStatus.OFFERED.value:
        offered = Money(piece.amount_minor, piece.currency)
    return JoinView(inviter.name, invitee.name, row.expires_at, offered)


@dataclass(frozen=True)
class RegisterSupplier:
    """What the invited firm's administrator types on the registration page."""

    token: str
    uscc: str
    display_name: str
    username: str
    password: str = field(repr=False)
    password_again: str = field(repr=False)


def _register_errors(command: RegisterSupplier, invited_uscc: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not command.uscc.strip():
        errors.append(FieldError("uscc", REQUIRED))
    else:
        verdict = check_uscc(command.uscc)
        if not verdict.valid:
            errors.append(FieldError("uscc", verdict.reason))
        elif verdict.code != invited_uscc:
            errors.append(FieldError("uscc", NOT_INVITED_FIRM))
    if not command.display_name.strip():
        errors.append(FieldError("display_name", REQUIRED))
    elif len(command.display_name.strip()) > MAX_CONTACT or not command.display_name.isprintable():
        errors.append(FieldError("display_name", TOO_LONG))
    username = command.username
    if not username or len(username) > 100 or not username.isprintable() or " " in username:
        errors.append(FieldError("username", "1-100 printable characters without spaces"))
    if len(command.password) < auth.MIN_PASSWORD:
        errors.append(FieldError("password", f"must be at least {auth.MIN_PASSWORD} characters"))
    elif command.password != command.password_again:
        errors.append(FieldError("password_again", PASSWORDS_DIFFER))
    return errors


def _register_code(errors: list[FieldError]) -> str | None:
    """One cause, one code (``validation_failed`` for several)."""
    if len(errors) != 1:
        return None
    (only,) = errors
    if only.field == "uscc":
        return "uscc_mismatch" if only.reason == NOT_INVITED_FIRM else "uscc_invalid"
    if only.field == "password":
        return "password_too_short"
    if only.field == "password_again":
        return "password_mismatch"
    return None


def register(session: Session, command: RegisterSupplier) -> User:
    """The invited firm's administrator registers through the link: the USCC typed must be
    the invited firm's (compared normalised); the password follows the platform's rules
    (``auth.MIN_PASSWORD``) and is typed twice. Creates an ``enterprise_admin`` of that firm
    on the invitation's authority and closes the invitation (``registered``): the link works
    once. The firm then answers the piece offered to it from its inbox. A firm that has
    people by then (through another inviter's link) is refused ``enterprise_has_users``."""
    row = _by_token(session, command.token, lock=True)
    # locked: two links to the same firm registered at once make one administrator
    invitee = session.get(Enterprise, row.invitee_id, with_for_update=True)
    if invitee is None:
        raise AssertionError(f"invitation {row.id} names a missing firm")
    errors = _register_errors(command, invitee.uscc)
    if errors:
        raise ValidationFailed(errors, code=_register_code(errors))
    # Another firm's link to the same supplier may still be open: once the supplier has
    # people, they add colleagues themselves (its holder would take the firm over).
    if session.scalar(select(User.id).where(User.enterprise_id == invitee.id).limit(1)):
        raise Conflict(
            f"{invitee.uscc} already has users on the platform", code="enterprise_has_users"
        )
    now = clock.utcnow()
    moved = states.swap(
        session,
        row,
        "register",
        SupplierInvitation.expires_at > now,
        registered_at=now,
        updated_at=now,
    )
    if not moved:
        raise Gone("this registration link was used a moment ago")
    authority = Principal.enterprise_user(
        row.id, enterprise_id=invitee.id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )
    # A firm the registry knew before this invitation is a real firm someone else may run:
    # the inviter, who holds the link and may know the firm's USCC, must not become its
    # administrator. Its first administrator waits for verification by the firm's bank or
    # the platform operator (auth.activate_user). A firm the invitation itself registered
    # has nothing to take over: its administrator can sign in at once.
    user = auth.create_user(
        session,
        authority,
        username=command.username,
        password=command.password,
        roles=[EnterpriseRole.ENTERPRISE_ADMIN.value],
        display_name=command.display_name.strip(),
        enterprise_uscc=invitee.uscc,
        active=row.invitee_created,
    )
    row.registered_user_id = user.id
    session.flush()
    _record(session, authority, "registered", row)
    return user
