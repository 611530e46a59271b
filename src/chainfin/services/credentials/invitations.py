"""Another bank joins a credential programme only by the owners' acts: the programme's lead
bank invites it, the core enterprise approves, and the invited bank accepts with its line.

Joining a programme raises the core's limit and lets the new funder quote on its pieces and
see its credentials, so neither the lead bank alone (it would grow the core's obligations)
nor the core alone (it would add a funder to the lead bank's programme) may let a bank in,
and no bank joins on its own. Any of the three may decline an open invitation; a declined
invitation stays, and the lead bank may invite again.
"""

from __future__ import annotations

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
from chainfin.services import audit, ledger, scoping
from chainfin.services.credentials._common import _change, _get, _resolve_bank
from chainfin.services.credentials.programmes import join, visible_programme

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
        raise NotFound(f"no invitation {invitation_id!r}")
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
        )


def invite(
    session: Session, actor: Principal, programme_id: str, *, bank: str
) -> ProgrammeInvitation:
    """The lead bank invites another bank to fund its programme."""
    actor.require(Scope.FINANCING_WRITE)
    lead = scoping.bank_of(actor, "the programme's lead bank invites funders")
    programme = visible_programme(session, actor, programme_id)
    if programme.lead_bank_id != lead:
        raise Forbidden("only the programme's lead bank invites other funders")
    invited = _resolve_bank(session, bank)
    funds = session.get(ProgrammeFunder, (programme.id, invited.id)) is not None
    if invited.id == lead or funds:
        raise Conflict(f"{invited.code} already funds the programme")
    open_one = session.scalar(
        select(ProgrammeInvitation.id).where(
            ProgrammeInvitation.programme_id == programme.id,
            ProgrammeInvitation.bank_id == invited.id,
            ProgrammeInvitation.status.in_(OPEN),
        )
    )
    if open_one is not None:
        raise Conflict(f"{invited.code} already has an open invitation ({open_one})")
    now = utcnow()
    row = ProgrammeInvitation(
        id=new_id("invitation"),
        programme_id=programme.id,
        bank_id=invited.id,
        lead_bank_id=lead,
        core_enterprise_id=programme.core_enterprise_id,
        status="invited",
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
        raise Conflict(f"{invited.code} already has an open invitation to this programme") from None
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
        raise NotFound(f"no invitation {invitation_id!r}")
    if row.status == "approved":
        return row
    _check_open(row, "invited")
    row.status, row.approved_by, row.approved_at = "approved", actor.label, utcnow()
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
        raise Forbidden("only the invited bank accepts the invitation")
    if row.status == "invited":
        raise Conflict(
            f"invitation {row.id} waits for the core enterprise's approval",
            hint="The core enterprise approves first; then accept with your line.",
        )
    _check_open(row, "approved")
    if line.currency != row.currency or line.amount_minor <= 0:
        raise ValidationFailed([FieldError("line", f"must be a positive {row.currency} amount")])
    programme = _get(session, CredentialProgramme, row.programme_id)
    funder = join(session, actor, programme, bank_id, line=line, pricing=pricing)
    row.status, row.accepted_by, row.accepted_at = "accepted", actor.label, utcnow()
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
        raise Conflict(f"invitation {row.id} is {row.status}")
    row.status, row.declined_by, row.declined_at = "declined", actor.label, utcnow()
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
        raise NotFound(f"no invitation {invitation_id!r}")
    return row


def invitations(
    session: Session, actor: Principal, *, programme_id: str | None = None
) -> list[ProgrammeInvitation]:
    actor.require(Scope.CREDENTIALS_READ)
    query = select(ProgrammeInvitation).where(invitation_condition(actor))
    if programme_id is not None:
        query = query.where(ProgrammeInvitation.programme_id == programme_id)
    rows = list(session.scalars(query.order_by(ProgrammeInvitation.created_at)))
    if programme_id is not None and not rows:
        visible_programme(session, actor, programme_id)  # 404 unless the actor sees it
    return rows


def invitation_out(session: Session, row: ProgrammeInvitation) -> dict[str, Any]:
    """The invitation and what the invited bank is asked to join (shared by the lead bank's
    and the core's acts): the programme's name, core, currency, rating and tenor cap."""
    programme = _get(session, CredentialProgramme, row.programme_id)
    codes = dict(
        session.execute(
            select(Bank.id, Bank.code).where(Bank.id.in_([row.bank_id, row.lead_bank_id]))
        ).all()
    )
    return {
        "id": row.id,
        "programme_id": row.programme_id,
        "programme_name": programme.name,
        "core_enterprise_id": row.core_enterprise_id,
        "core_rating": programme.core_rating,
        "tenor_cap_months": programme.tenor_cap_months,
        "bank_id": row.bank_id,
        "bank_code": codes.get(row.bank_id),
        "lead_bank_id": row.lead_bank_id,
        "lead_bank_code": codes.get(row.lead_bank_id),
        "status": row.status,
        "line": Money(row.line_minor, row.currency).as_dict() if row.line_minor else None,
        "currency": row.currency,
        "invited_at": row.invited_at,
        "approved_at": row.approved_at,
        "accepted_at": row.accepted_at,
        "declined_at": row.declined_at,
    }
