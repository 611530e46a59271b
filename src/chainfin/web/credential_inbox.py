"""The credential inbox (/credentials): the pieces I hold or am offered, each with its
amount in full, the credential's maturity, the issuer by name and the tier; accepting or
rejecting an offered piece (htmx swaps the row, a refusal is shown in it); and the lineage
of one credential (/credentials/{id}) as a tree of pieces with their holders named."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CredentialPiece
from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import ChainfinError
from chainfin.resources.credentials import CredentialOut, CredentialPieceOut
from chainfin.services import credentials, identity
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

PIECE_STATES = {
    PieceStatus.OFFERED: N_("Offered to you"),
    PieceStatus.HELD: N_("Held"),
    PieceStatus.FINANCED: N_("Financed"),
    PieceStatus.OVERDUE: N_("Overdue"),
    PieceStatus.SPLIT: N_("Split"),
    PieceStatus.TRANSFERRED: N_("Passed on"),
    PieceStatus.SETTLED: N_("Settled"),
    PieceStatus.REJECTED: N_("Rejected"),
    PieceStatus.CANCELLED: N_("Cancelled"),
}
REFUSALS = {
    "piece_not_found": N_("This piece is no longer offered to you."),
    "illegal_transition": N_("This piece has already been answered."),
    "concurrent_change": N_("This piece changed while you answered; reload the page."),
    "scope_missing": N_("Your role does not work with credentials."),
}


def _rows(session: Session, principal: Principal, pieces: list[CredentialPiece]) -> dict[str, Any]:
    """The pieces as resources, with their credentials and every party named."""
    out = [CredentialPieceOut.build(p) for p in pieces]
    ids = {p.credential_id for p in out}
    found = {c: CredentialOut.build(credentials.get(session, principal, c)) for c in ids}
    parties = {c.issuer_id for c in found.values()} | {p.sender_id or "" for p in out}
    return {
        "pieces": out,
        "credentials": found,
        "names": identity.party_names(session, principal, parties | {p.holder_id for p in out}),
        "piece_states": {k.value: v for k, v in PIECE_STATES.items()},
    }


def _inbox(
    request: Request, session: Session, principal: Principal, error: str | None = None
) -> Response:
    mine = credentials.PieceFilter(holder=principal.enterprise_id)
    me = whoami(session, principal)
    try:
        page = credentials.list_pieces(session, principal, mine, limit=MAX_LIMIT)
    except ChainfinError as exc:  # a role that reads no credentials
        reason = REFUSALS.get(exc.code, exc.message)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)
    context = {"nav": "credentials", "error": error, **_rows(session, principal, page.items)}
    status = 200 if error is None else 409
    return render(request, "credentials.html", context, me=me, status_code=status)


@router.get("/credentials", response_class=HTMLResponse)
def inbox(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _inbox(request, session, principal)


@router.get("/credentials/{credential_id}", response_class=HTMLResponse)
def lineage(
    credential_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """The credential and the pieces of its tree this person may see, depth first."""
    try:
        pieces = credentials.tree(session, principal, credential_id)
    except ChainfinError as exc:
        me = whoami(session, principal)
        return render(request, "error.html", {"reason": exc.message}, me=me, status_code=404)
    depth = {p.id: len(p.lineage) for p in pieces}
    shallowest = min(depth.values(), default=0)
    context = {
        "nav": "credentials",
        "credential": CredentialOut.build(credentials.get(session, principal, credential_id)),
        "depth": {k: v - shallowest for k, v in depth.items()},
        **_rows(session, principal, pieces),
    }
    return render(request, "lineage.html", context, me=whoami(session, principal))


def _answer(
    request: Request, principal: Principal, piece_id: str, act: str, reason: str = ""
) -> Response:
    factory = request.app.state.session_factory
    error = None
    try:
        with transaction(factory) as session:
            if act == "accept":
                credentials.accept(session, principal, piece_id)
            else:
                credentials.reject(session, principal, piece_id, reason=reason)
    except ChainfinError as exc:
        error = REFUSALS.get(exc.code, exc.message)
    if not request.headers.get("hx-request"):
        if error is None:
            return RedirectResponse("/credentials", status_code=303)
        with transaction(factory, write=False) as session:
            return _inbox(request, session, principal, error)
    with transaction(factory, write=False) as session:
        try:
            piece = credentials.piece_for(session, principal, piece_id)
        except ChainfinError:
            return Response(status_code=404)
        context = {"error": error, **_rows(session, principal, [piece])}
    context["piece"] = context["pieces"][0]
    return render(request, "_piece_row.html", context, status_code=200 if error is None else 409)


@router.post("/credentials/pieces/{piece_id}/accept", response_class=HTMLResponse)
def accept(piece_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    return _answer(request, principal, piece_id, "accept")


@router.post("/credentials/pieces/{piece_id}/reject", response_class=HTMLResponse)
def reject(
    piece_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _answer(request, principal, piece_id, "reject", reason)
