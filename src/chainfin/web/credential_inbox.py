"""The credential inbox (/credentials): the pieces I hold or am offered, each with its
amount in full, the credential's maturity, the issuer by name and the tier; accepting or
rejecting an offered piece (htmx swaps the row, a refusal is shown in it); the pieces I
passed on that wait for their recipient; and the lineage of one credential
(/credentials/{id}) as a tree of pieces with their holders named.

Passing on (/credentials/pieces/{id}/pass): a held piece, or part of it, to one of my own
suppliers (the picker lists only them), the amount checked as it is typed (htmx posts it to
``…/pass/check``), then split and offered one tier down through ``onboarding.pass_on``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CredentialPiece
from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.resources.credentials import CredentialOut, CredentialPieceOut
from chainfin.services import credentials, identity, onboarding, portal_reads
from chainfin.services.credentials import quote_compare
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
    "piece_not_held": N_(
        "This piece is not held by your firm any more: it was passed on, financed or settled."
    ),
    "credential_not_live": N_("This credential is no longer live: it was settled or is overdue."),
    "carve_amount_invalid": N_("The amount is more than the piece holds."),
    "piece_amount_invalid": N_(
        "The amount, or what you keep, is below the programme's minimum piece."
    ),
    "recipient_not_supplier": N_("This firm is not one of your suppliers."),
    "transfer_to_self": N_("This firm is not one of your suppliers."),
    "piece_already_answered": N_(
        "The recipient has already answered this piece: it can no longer be taken back."
    ),
}
# A past piece transferred with a financing went to the bank that discounted it.
PAST_FINANCED = N_("Financed")
HISTORY = 50  # the latest past pieces the inbox lists
WITHDRAW_REFUSALS = {"piece_not_found": N_("This piece is not one you passed on.")}
# What a person reads for a field of the pass-on form the service refused (by reason).
PASS_FIELDS = {"to": N_("Choose one of your suppliers.")}


def _rows(session: Session, principal: Principal, pieces: list[CredentialPiece]) -> dict[str, Any]:
    """The pieces as resources, with their credentials and every party named."""
    out = [CredentialPieceOut.build(p) for p in pieces]
    ids = {p.credential_id for p in out}
    found = {c: CredentialOut.build(credentials.get(session, principal, c)) for c in ids}
    parties = {c.issuer_id for c in found.values()} | {p.sender_id or "" for p in out}
    held = [p.id for p in out if p.status == PieceStatus.HELD]
    return {
        "pieces": out,
        "credentials": found,
        # held, but pledged for a loan already: no quotes, no financing
        "pledged": set(quote_compare.pledged(session, held)),
        "names": identity.party_names(session, principal, parties | {p.holder_id for p in out}),
        "piece_states": {k.value: v for k, v in PIECE_STATES.items()},
    }


def _inbox(
    request: Request,
    session: Session,
    principal: Principal,
    error: str | None = None,
    passed: str | None = None,
    withdrawn: bool = False,
) -> Response:
    mine = credentials.PieceFilter(holder=principal.enterprise_id)
    me = whoami(session, principal)
    try:
        page = credentials.list_pieces(session, principal, mine, limit=MAX_LIMIT)
        sent = onboarding.passed_on(session, principal)
        past, past_total = portal_reads.past_pieces(session, principal, limit=HISTORY)
    except ChainfinError as exc:  # a role that reads no credentials
        reason = REFUSALS.get(exc.code, exc.message)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)
    context = {
        "nav": "credentials",
        "error": error,
        **_rows(session, principal, page.items + sent + past),
        "pieces": [CredentialPieceOut.build(p) for p in page.items],
        "past": [CredentialPieceOut.build(p) for p in past],
        "past_total": past_total,
        "past_financed": PAST_FINANCED,
        "sent": [CredentialPieceOut.build(p) for p in sent],
        "passed": next((CredentialPieceOut.build(p) for p in sent if p.id == passed), None),
        "withdrawn": withdrawn,
    }
    status = 200 if error is None else 409
    return render(request, "credentials.html", context, me=me, status_code=status)


@router.get("/credentials", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    passed: Annotated[str | None, Query(max_length=40)] = None,
    withdrawn: Annotated[bool, Query()] = False,
) -> Response:
    return _inbox(request, session, principal, passed=passed, withdrawn=withdrawn)


@router.post("/credentials/pieces/{piece_id}/withdraw", response_class=HTMLResponse)
def withdraw(piece_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """Take back a piece I passed on that its recipient has not answered: the amount is mine
    again, as a new held piece (services.credentials.withdraw)."""
    factory = request.app.state.session_factory
    try:
        with transaction(factory) as session:
            credentials.withdraw(session, principal, piece_id)
    except ChainfinError as exc:
        error = WITHDRAW_REFUSALS.get(exc.code) or REFUSALS.get(exc.code, exc.message)
        with transaction(factory, write=False) as session:
            response = _inbox(request, session, principal, error)
        response.status_code = 404 if exc.code == "piece_not_found" else 409
        return response
    return RedirectResponse("/credentials?withdrawn=1", status_code=303)


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
        "me_id": principal.enterprise_id,
        "awaiting": N_("Offered, awaiting their acceptance"),  # to another firm
        # a holder further down that this firm does not know by name (identity.party_names)
        "unnamed": N_("A supplier further down the chain"),
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


# ---------------------------------------------------------------------------- passing on


def _pass_context(
    session: Session, principal: Principal, held: onboarding.HeldPiece
) -> dict[str, Any]:
    return {
        "nav": "credentials",
        "held": held,
        "piece": CredentialPieceOut.build(held.piece),
        "credential": CredentialOut.build(held.credential),
        "names": identity.party_names(session, principal, [held.credential.issuer_id]),
        "suppliers": onboarding.suppliers(session, principal),
        "minimum": Money(held.min_piece_minor, held.piece.currency),
        "to": "",
        "amount": "",
        "errors": {},
        "check": None,
    }


def _refused(
    request: Request, session: Session, principal: Principal, exc: ChainfinError
) -> Response:
    """Another firm's piece (or none): 404; mine but no longer held: 409, with the reason."""
    reason = REFUSALS.get(exc.code, exc.message)
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)


@router.get("/credentials/pieces/{piece_id}/pass", response_class=HTMLResponse)
def pass_form(
    piece_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    try:
        held = onboarding.held_piece(session, principal, piece_id)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    context = _pass_context(session, principal, held)
    return render(request, "pass_on.html", context, me=whoami(session, principal))


@router.post("/credentials/pieces/{piece_id}/pass/check", response_class=HTMLResponse)
def pass_check(
    piece_id: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    _: FormChecked,
    amount: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """The amount as typed: what the holder keeps, or the precise problem (htmx swaps it in
    below the field). Always 200: the check itself succeeded."""
    try:
        held = onboarding.held_piece(session, principal, piece_id)
    except ChainfinError as exc:
        return Response(status_code=404 if exc.status == 404 else 409)
    check = onboarding.check_amount(amount, held.amount, min_piece_minor=held.min_piece_minor)
    return render(request, "pass_amount.html", {"check": check, "field": "amount"})


@router.post("/credentials/pieces/{piece_id}/pass", response_class=HTMLResponse)
def pass_on(
    piece_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    to: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Split and offer in one transaction; then the inbox names what was passed on. A
    refusal comes back on the form: each field's reason next to it, nothing written."""
    factory = request.app.state.session_factory
    command = onboarding.PassOn(piece_id, to, amount)
    errors: dict[str, str] = {}
    status = 422
    try:
        with transaction(factory) as session:
            moved = onboarding.pass_on(session, principal, command)
            offered_id = moved.offered.id
    except ValidationFailed as exc:
        for item in exc.errors:
            if item.field == "to":
                errors["to"] = PASS_FIELDS["to"]
            elif item.field == "amount":
                errors["amount"] = item.reason  # an AmountProblem: the template words it
            else:
                errors["form"] = REFUSALS.get(exc.code, exc.message)
    except ChainfinError as exc:
        with transaction(factory, write=False) as session:
            return _refused(request, session, principal, exc)
    else:
        return RedirectResponse(f"/credentials?passed={offered_id}", status_code=303)
    with transaction(factory, write=False) as session:
        try:
            held = onboarding.held_piece(session, principal, piece_id)
        except ChainfinError as exc:
            return _refused(request, session, principal, exc)
        context = _pass_context(session, principal, held)
        check = onboarding.check_amount(amount, held.amount, min_piece_minor=held.min_piece_minor)
        context.update(to=to, amount=amount, errors=errors, check=check)
        me = whoami(session, principal)
    return render(request, "pass_on.html", context, me=me, status_code=status)
