"""Joining a credential programme by invitation: the lead bank invites, the core enterprise
approves, the invited bank accepts with its line (docs/credentials.md, docs/security.md).
Every write honours an ``Idempotency-Key`` and answers with its receipt."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import ProgrammeInvitation
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input, money
from chainfin.api.receipts import write_once
from chainfin.api.routers.credentials import State, ref_filter
from chainfin.api.schemas import Cursor, Limit
from chainfin.domain.access import Principal
from chainfin.domain.errors import NotFound
from chainfin.resources.common import PageOut
from chainfin.resources.credentials import InvitationOut, InvitationWrittenOut
from chainfin.services import credentials
from chainfin.services.pagination import DEFAULT_LIMIT, Page

router = APIRouter(tags=["payable credentials"])

_BASE = "/v1/credentials/programmes/{programme_id}/invitations"


class InviteIn(Input):
    bank: str = Field(description="code or id of the bank invited to fund the programme")


class AcceptIn(Input):
    line: str = Field(description="your bank's line backing the programme, e.g. 5000000.00")
    currency: str = "CNY"
    pricing: dict[str, Any] | None = None


def _answer(session: Session, row: ProgrammeInvitation) -> dict[str, Any]:
    return InvitationOut.build(credentials.invitation_view(session, row)).model_dump(mode="json")


def _page(session: Session, page: Page[ProgrammeInvitation]) -> PageOut[InvitationOut]:
    views = credentials.invitation_views(session, page.items)
    items = [InvitationOut.build(v) for v in views]
    return PageOut[InvitationOut](items=items, next_cursor=page.next_cursor)


def _of(
    session: Session, principal: Principal, programme_id: str, invitation_id: str
) -> ProgrammeInvitation:
    row = credentials.invitation_for(session, principal, invitation_id)
    if row.programme_id != programme_id:
        raise NotFound(f"no invitation {invitation_id!r}", code="invitation_not_found")
    return row


@router.post(
    _BASE,
    status_code=201,
    summary="Invite a bank to fund the programme (lead bank)",
    response_model=InvitationWrittenOut,
)
def invite(
    programme_id: str,
    body: InviteIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = credentials.invite(session, principal, programme_id, bank=body.bank)
        return _answer(session, row)

    return write_once(request, session, settings, principal, body, 201, produce)


@router.get(
    _BASE,
    summary="The programme's invitations you are a party to",
    response_model=PageOut[InvitationOut],
)
def list_for_programme(
    programme_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: State = None,
    bank: Annotated[str | None, ref_filter("the invited bank: code or id")] = None,
) -> PageOut[InvitationOut]:
    filters = credentials.InvitationFilter(programme_id=programme_id, status=status, bank=bank)
    page = credentials.invitations(session, principal, filters, cursor=cursor, limit=limit)
    return _page(session, page)


@router.get(
    "/v1/credentials/invitations",
    summary="Invitations you are a party to",
    response_model=PageOut[InvitationOut],
)
def list_all(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    programme_id: Annotated[str | None, ref_filter("invitations to this programme")] = None,
    status: Annotated[
        str | None, Query(pattern=r"^[a-z_]+$", description="invited, approved, accepted…")
    ] = None,
    bank: Annotated[str | None, ref_filter("the invited bank: code or id")] = None,
) -> PageOut[InvitationOut]:
    """The lead bank's, the core enterprise's and the invited bank's view of invitations."""
    filters = credentials.InvitationFilter(programme_id=programme_id, status=status, bank=bank)
    page = credentials.invitations(session, principal, filters, cursor=cursor, limit=limit)
    return _page(session, page)


@router.get(_BASE + "/{invitation_id}", response_model=InvitationOut)
def get_one(
    programme_id: str, invitation_id: str, session: SessionDep, principal: CurrentPrincipal
) -> InvitationOut:
    row = _of(session, principal, programme_id, invitation_id)
    return InvitationOut.build(credentials.invitation_view(session, row))


@router.post(
    _BASE + "/{invitation_id}/approve",
    summary="Approve a new funder (core enterprise)",
    response_model=InvitationWrittenOut,
)
def approve(
    programme_id: str,
    invitation_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        _of(session, principal, programme_id, invitation_id)
        row = credentials.approve_invitation(session, principal, invitation_id)
        return _answer(session, row)

    return write_once(request, session, settings, principal, None, 200, produce)


@router.post(
    _BASE + "/{invitation_id}/accept",
    summary="Accept with your line (invited bank)",
    response_model=InvitationWrittenOut,
)
def accept(
    programme_id: str,
    invitation_id: str,
    body: AcceptIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        _of(session, principal, programme_id, invitation_id)
        row = credentials.accept_invitation(
            session,
            principal,
            invitation_id,
            line=money(body.line, body.currency, "line"),
            pricing=body.pricing,
        )
        return _answer(session, row)

    return write_once(request, session, settings, principal, body, 200, produce)


@router.post(
    _BASE + "/{invitation_id}/decline",
    summary="Decline, refuse or withdraw",
    response_model=InvitationWrittenOut,
)
def decline(
    programme_id: str,
    invitation_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The invited bank declines, the core refuses or the lead bank withdraws."""

    def produce() -> dict[str, Any]:
        _of(session, principal, programme_id, invitation_id)
        row = credentials.decline_invitation(session, principal, invitation_id)
        return _answer(session, row)

    return write_once(request, session, settings, principal, None, 200, produce)
