"""Another bank joins a credential programme only by the owners' acts: the programme's lead
bank invites it, the core enterprise approves, and the invited bank accepts with its line.

Joining a programme raises the core's limit and lets the new funder quote on its pieces and
see its credentials, so neither the lead bank alone (it would grow the core's obligations)
nor the core alone (it would add a funder to the lead bank's programme) may let a bank in,
and no bank joins on its own. Any of the three may decline an open invitation; a declined
invitation stays, and the lead bank may invite again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    CredentialProgramme,
    ProgrammeFunder,
    ProgrammeInvitation,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import _change, _get, _resolve_bank
from chainfin.services.credentials.programmes import join, visible_programme
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

OPEN = ("invited", "approved")


def invitation_condition(actor: Principal) -> ColumnElement[bool]:
    """Invitations a principal sees: its bank leads the programme or is the one invited, or
    it is the programme's core enterprise."""
    if actor.is_system:
        return true()
    if actor.bank_id is not None:
        return or_(
            ProgrammeInvitation.bank_id == actor.bank_id,
            ProgrammeInvitation.lead_bank_id == actor.bank_id,
        )
    if actor.enterprise_id is not None:
        return ProgrammeInvitation.core_enterprise_id == actor.enterprise_id
    return false()


def _visible(session: Session, actor: Principal, invitation_id: str) -> ProgrammeInvitation:
    row = session.scalar(
        select(ProgrammeInvitation)
        .where(ProgrammeInvitation.id == invitation_id, invitation_condition(actor))
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"no invitation {invitation_id!r}", code="invitation_not_found")
    return row


def _record(session: Session, actor: Principal, event: str, row: ProgrammeInvitation) -> None:
    session.flush()
    ledger.one(session, actor, f"programme.invitation_{event}", _change("invitation", row))
    audit.record(
        session, actor, f"programme.invitation.{event}", "invitation", row.id, {"bank": row.bank_id}
    )


def _check_open(row: ProgrammeInvitation, want: str) -> None:
    if row.status != want:
        raise Conflict(
            f"invitation {row.id} is {row.status}",
            hint="An invitation goes invited → approved (core) → accepted (invited bank).",
            code="invitation_not_open",
        )


def invite(
    session: Session, actor: Principal, programme_id: str, *, bank: str
) -> ProgrammeInvitation:
    """The lead bank invites another bank to fund its programme."""
    actor.require(Scope.FINANCING_WRITE)
    lead = scoping.bank_of(actor, "the programme's lead bank invites funders")
    programme = visible_programme(session, actor, programme_id)
    if programme.lead_bank_id != lead:
        raise Forbidden(
            "only the programme's lead bank invites other funders", code="not_your_record"
        )
    invited = _resolve_bank(session, bank)
    funds = session.get(ProgrammeFunder, (programme.id, invited.id)) is not None
    if invited.id == lead or funds:
        raise Conflict(f"{invited.code} already funds the programme", code="bank_already_funds")
    open_one = session.scalar(
        select(ProgrammeInvitation.id).where(
            ProgrammeInvitation.programme_id == programme.id,
            ProgrammeInvitation.bank_id == invited.id,
            ProgrammeInvitation.status.in_(OPEN),
        )
    )
    if open_one is not None:
        raise Conflict(
            f"{invited.code} already has an open invitation ({open_one})",
            code="invitation_already_open",
        )
    now = utcnow()
    row = ProgrammeInvitation(
        id=new_id("invitation"),
        programme_id=programme.id,
        bank_id=invited.id,
        lead_bank_id=lead,
        core_enterprise_id=programme.core_enterprise_id,
        status=states.initial(ProgrammeInvitation),
        currency=programme.currency,
        line_minor=None,
        invited_by=actor.label,
        invited_at=now,
        approved_by=None,
        approved_at=None,
        accepted_by=None,
        accepted_at=None,
        declined_by=None,
        declined_at=None,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent invitation: the partial index decides
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"{invited.code} already has an open invitation to this programme",
            code="invitation_already_open",
        ) from None
    _record(session, actor, "issued", row)
    return row


def approve_invitation(
    session: Session, actor: Principal, invitation_id: str
) -> ProgrammeInvitation:
    """The core enterprise approves the lead bank's invitation."""
    actor.require(Scope.CREDENTIALS_WRITE)
    core = scoping.enterprise_of(actor, "the programme's core enterprise approves a new funder")
    row = _visible(session, actor, invitation_id)
    if row.core_enterprise_id != core:
        raise NotFound(f"no invitation {invitation_id!r}", code="invitation_not_found")
    if row.status == "approved":
        return row
    _check_open(row, "invited")
    states.move(row, "approve")
    row.approved_by, row.approved_at = actor.label, utcnow()
    _record(session, actor, "approved", row)
    return row


def accept_invitation(
    session: Session,
    actor: Principal,
    invitation_id: str,
    *,
    line: Money,
    pricing: dict[str, Any] | None = None,
) -> ProgrammeInvitation:
    """The invited bank accepts an approved invitation with its line: it joins the programme
    and the programme's limit grows by the line."""
    actor.require(Scope.FINANCING_WRITE)
    bank_id = scoping.bank_of(actor, "the invited bank accepts an invitation")
    row = _visible(session, actor, invitation_id)
    if row.bank_id != bank_id:
        raise Forbidden("only the invited bank accepts the invitation", code="not_your_record")
    if row.status == "invited":
        raise Conflict(
            f"invitation {row.id} waits for the core enterprise's approval",
            hint="The core enterprise approves first; then accept with your line.",
            code="invitation_awaits_core_approval",
        )
    _check_open(row, "approved")
    if line.currency != row.currency or line.amount_minor <= 0:
        raise ValidationFailed(
            [FieldError("line", f"must be a positive {row.currency} amount")],
            code="line_amount_invalid",
        )
    programme = _get(session, CredentialProgramme, row.programme_id)
    funder = join(session, actor, programme, bank_id, line=line, pricing=pricing)
    states.move(row, "accept")
    row.accepted_by, row.accepted_at = actor.label, utcnow()
    row.line_minor = line.amount_minor
    session.flush()
    ledger.one(
        session,
        actor,
        "programme.funder_added",
        _change("invitation", row),
        _change("programme", programme),
        _change("funder", funder),
    )
    audit.record(
        session, actor, "programme.invitation.accepted", "invitation", row.id, {"bank": bank_id}
    )
    return row


def decline_invitation(
    session: Session, actor: Principal, invitation_id: str
) -> ProgrammeInvitation:
    """Close an open invitation: the lead bank withdraws it, the core refuses it or the
    invited bank declines it."""
    row = _visible(session, actor, invitation_id)
    actor.require(Scope.CREDENTIALS_WRITE if actor.enterprise_id else Scope.FINANCING_WRITE)
    if row.status == "declined":
        return row
    if row.status not in OPEN:
        raise Conflict(f"invitation {row.id} is {row.status}", code="invitation_not_open")
    states.move(row, "decline")
    row.declined_by, row.declined_at = actor.label, utcnow()
    _record(session, actor, "declined", row)
    return row


def invitation_for(session: Session, actor: Principal, invitation_id: str) -> ProgrammeInvitation:
    actor.require(Scope.CREDENTIALS_READ)
    row = session.scalar(
        select(ProgrammeInvitation).where(
            ProgrammeInvitation.id == invitation_id, invitation_condition(actor)
        )
    )
    if row is None:
        raise NotFound(f"no invitation {invitation_id!r}", code="invitation_not_found")
    return row


@dataclass(frozen=True)
class InvitationFilter:
    """What to list of the invitations a principal is a party to (every field narrows)."""

    programme_id: str | None = None
    status: str | None = None
    bank: str | None = None  # the invited bank: code or id


def invitations(
    session: Session,
    actor: Principal,
    filters: InvitationFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ProgrammeInvitation]:
    """Invitations the principal is a party to (:func:`invitation_condition`), by id (oldest
    first). Naming a programme the principal neither sees nor is invited to is a 404."""
    actor.require(Scope.CREDENTIALS_READ)
    filters = filters or InvitationFilter()
    query = select(ProgrammeInvitation).where(invitation_condition(actor))
    if filters.programme_id is not None:
        query = query.where(ProgrammeInvitation.programme_id == filters.programme_id)
    if filters.status is not None:
        query = query.where(ProgrammeInvitation.status == filters.status)
    if filters.bank is not None:
        bank = _resolve_bank(session, filters.bank, "bank")
        query = query.where(ProgrammeInvitation.bank_id == bank.id)
    page: Page[ProgrammeInvitation] = paginate(
        session, query, ProgrammeInvitation.id, cursor=cursor, limit=limit
    )
    if filters.programme_id is not None and not page.items and cursor is None:
        invited = select(ProgrammeInvitation.id).where(
            ProgrammeInvitation.programme_id == filters.programme_id, invitation_condition(actor)
        )
        if session.scalar(invited.limit(1)) is None:
            visible_programme(session, actor, filters.programme_id)  # 404 unless it sees it
    return page


@dataclass(frozen=True)
class InvitationView:
    """An invitation with what the invited bank is asked to join: the programme (its name,
    core, rating and tenor cap) and the two banks' codes."""

    invitation: ProgrammeInvitation
    programme: CredentialProgramme
    bank_code: str | None
    lead_bank_code: str | None


def invitation_views(session: Session, rows: Sequence[ProgrammeInvitation]) -> list[InvitationView]:
    """Views of invitations the caller already may see, with two queries for all of them."""
    programme_ids = sorted({r.programme_id for r in rows})
    programmes = {
        p.id: p
        for p in session.scalars(
            select(CredentialProgramme).where(CredentialProgramme.id.in_(programme_ids))
        )
    }
    bank_ids = sorted({r.bank_id for r in rows} | {r.lead_bank_id for r in rows})
    codes = dict(session.execute(select(Bank.id, Bank.code).where(Bank.id.in_(bank_ids))).all())
    return [
        InvitationView(
            r, programmes[r.programme_id], codes.get(r.bank_id), codes.get(r.lead_bank_id)
        )
        for r in rows
    ]


def invitation_view(session: Session, row: ProgrammeInvitation) -> InvitationView:
    (view,) = invitation_views(session, [row])
    return view
