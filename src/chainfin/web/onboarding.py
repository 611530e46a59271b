"""Inviting a supplier that is not yet on the platform (/suppliers/invite), and its
registration through the link (/join/{token}): how a credential reaches tier 3 and beyond.

The inviting firm types the supplier's USCC, name and contact (and, optionally, a piece it
holds and the amount to offer); the page shows the registration link once, to copy and send
(there is no SMS gateway), and lists the firm's invitations with their state. The invited
firm's administrator opens the link without signing in, types the firm's USCC again, a name,
a username and a password twice, and is sent to sign in. Everything is decided by
``services.onboarding``; this module words the refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal, Scope
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.resources.credentials import CredentialOut, CredentialPieceOut
from chainfin.services import auth, credentials, identity, onboarding
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, cross_site, render, whoami

router = APIRouter(include_in_schema=False)

Said = tuple[str, dict[str, Any]]  # a message (N_) and what fills its %(name)s

STATE_LABELS = {
    "invited": N_("Waiting for registration"),
    "registered": N_("Registered"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
}
REASONS = {  # the service's field reasons, worded for people
    onboarding.REQUIRED: N_("This field is required."),
    onboarding.TOO_LONG: N_("This is too long."),
    onboarding.MOBILE_INVALID: N_("Enter a mainland mobile number: 11 digits starting with 1."),
    onboarding.OWN_FIRM: N_("This is your own firm's USCC."),
    onboarding.REGION_UNKNOWN: N_(
        "Characters 3 to 8 of this USCC are not a known administrative division code."
    ),
    onboarding.AMOUNT_WITHOUT_PIECE: N_("Choose the piece to offer, or leave the amount empty."),
    onboarding.PIECE_WITHOUT_AMOUNT: N_("Enter the amount to offer."),
    onboarding.PIECE_NOT_HELD: N_("Choose a piece your firm holds."),
    onboarding.NOT_INVITED_FIRM: N_(
        "This is not the USCC of the firm invited. Type your firm's own code, as printed on "
        "its business licence."
    ),
    onboarding.PASSWORDS_DIFFER: N_("The two passwords differ."),
    "1-100 printable characters without spaces": N_(
        "Choose a username of 1 to 100 characters, without spaces."
    ),
}
REFUSALS = {  # refusals of the whole request, by code: (field it is shown at, message)
    "enterprise_has_users": (
        "uscc",
        N_("This firm already has users on the platform: it is not invited again."),
    ),
    "supplier_invitation_already_open": (
        "uscc",
        N_(
            "You invited this firm already and its link still works. Cancel that invitation "
            "below to make a new link."
        ),
    ),
    "username_taken": ("username", N_("This username is taken; choose another.")),
    "scope_missing": ("form", N_("Only your firm's administrator invites suppliers.")),
    "enterprise_user_only": ("form", N_("Only a firm invites its suppliers.")),
    "piece_not_found": ("piece_id", N_("Choose a piece your firm holds.")),
    "piece_not_held": ("piece_id", N_("Choose a piece your firm holds.")),
    "credential_not_live": ("piece_id", N_("This credential is no longer live.")),
    "concurrent_change": ("form", N_("Something changed while you sent this; send it again.")),
}
GONE = {
    "supplier_invitation_not_found": N_(
        "This registration link is not valid. Check that you copied all of it, or ask the "
        "firm that invited you for a new one."
    ),
    "supplier_invitation_expired": N_(
        "This registration link has expired. Ask the firm that invited you for a new one."
    ),
    "supplier_invitation_closed": N_(
        "This registration link was used already or withdrawn. If your firm registered, sign "
        "in; otherwise ask the firm that invited you for a new link."
    ),
}
CANCEL_REFUSALS = {
    "supplier_invitation_not_found": N_("This invitation is not your firm's."),
    "illegal_transition": N_("This invitation is no longer open."),
    "scope_missing": N_("Only your firm's administrator cancels invitations."),
}
_LENGTH = re.compile(r"^length: expected 18 characters, got (\d+)$")
_CHARSET = re.compile(r"^charset: '(.)' at position (\d+)")


def uscc_said(reason: str) -> Said:
    """What ``check_uscc`` found, worded for people (its reasons are the service's)."""
    if found := _LENGTH.match(reason):
        return N_("A USCC has 18 characters; this has %(count)s."), {"count": found[1]}
    if found := _CHARSET.match(reason):
        return (
            N_(
                "“%(char)s” at position %(position)s is not allowed: a USCC has digits and "
                "capital letters except I, O, S, V and Z."
            ),
            {"char": found[1], "position": found[2]},
        )
    if reason.startswith("structure:") and "authority" in reason:
        return N_("The first character must be 1 to 9, A, N or Y (the registering authority)."), {}
    if reason.startswith("structure:"):
        return N_("Characters 3 to 8 must be the 6-digit region code."), {}
    if reason.startswith("check digit"):
        return (
            N_(
                "The last character (the check character) does not match the 17 before it: "
                "one of them is mistyped."
            ),
            {},
        )
    return REASONS.get(reason, reason), {}


def field_said(item: FieldError) -> Said:
    if item.field == "uscc" and item.reason not in REASONS:
        return uscc_said(item.reason)
    if item.field == "password" and item.reason not in REASONS:
        return N_("At least %(count)s characters."), {"count": auth.MIN_PASSWORD}
    return REASONS.get(item.reason, item.reason), {}


# ---------------------------------------------------------------------------- inviting


@dataclass
class InviteForm:
    """What was typed on the invitation form, and what is wrong with it, field by field
    (``check``: the amount's verdict, worded by pass_amount.html)."""

    uscc: str = ""
    name: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    product_category: str = ""
    piece_id: str = ""
    amount: str = ""
    errors: dict[str, Said] = field(default_factory=dict)
    check: onboarding.AmountCheck | None = None


def _held(session: Session, principal: Principal) -> dict[str, Any]:
    """The pieces my firm holds, to choose one to offer (with their issuers named)."""
    if not principal.has(Scope.CREDENTIALS_READ):
        return {"held": [], "credentials": {}, "piece_names": {}}
    mine = credentials.PieceFilter(holder=principal.enterprise_id, statuses=(PieceStatus.HELD,))
    pieces = credentials.list_pieces(session, principal, mine, limit=MAX_LIMIT).items
    found = {
        c: CredentialOut.build(credentials.get(session, principal, c))
        for c in {p.credential_id for p in pieces}
    }
    issuers = {c.issuer_id for c in found.values()}
    return {
        "held": [CredentialPieceOut.build(p) for p in pieces],
        "credentials": found,
        "piece_names": identity.party_names(session, principal, issuers),
    }


def _invite_page(session: Session, principal: Principal, form: InviteForm) -> dict[str, Any]:
    return {
        "nav": "credentials",
        "form": form,
        "invitations": onboarding.invitations(session, principal),
        "state_labels": STATE_LABELS,
        "may_invite": principal.has(Scope.REGISTRY_WRITE),
        **_held(session, principal),
    }


@router.get("/suppliers/invite", response_class=HTMLResponse)
def invite_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    piece: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    me = whoami(session, principal)
    try:
        context = _invite_page(session, principal, InviteForm(piece_id=piece))
    except ChainfinError as exc:  # a bank's staff, or a role that reads no registry
        return render(request, "error.html", {"reason": exc.message}, me=me, status_code=exc.status)
    return render(request, "invite.html", context, me=me)


def _amount_check(session: Session, principal: Principal, form: InviteForm) -> None:
    """The verdict on the amount typed, against the piece chosen (for the page to word)."""
    if not (form.piece_id and form.amount.strip()):
        return
    try:
        held = onboarding.held_piece(session, principal, form.piece_id)
    except ChainfinError:
        return
    form.check = onboarding.check_amount(
        form.amount, held.amount, min_piece_minor=held.min_piece_minor
    )


@router.post("/suppliers/invite", response_class=HTMLResponse)
def invite(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    uscc: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    contact_name: Annotated[str, Form(max_length=100)] = "",
    contact_mobile: Annotated[str, Form(max_length=40)] = "",
    product_category: Annotated[str, Form(max_length=200)] = "",
    piece_id: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Invite, then show the link once (never stored: only its digest is). A refusal comes
    back on the form with each field's reason next to it, nothing written."""
    form = InviteForm(uscc, name, contact_name, contact_mobile, product_category, piece_id, amount)
    command = onboarding.InviteSupplier(
        uscc, name, contact_name, contact_mobile, product_category, piece_id or None, amount
    )
    factory = request.app.state.session_factory
    status = 422
    try:
        with transaction(factory) as session:
            done = onboarding.invite(session, principal, command)
            shown = {
                "nav": "credentials",
                "link": f"{str(request.base_url).rstrip('/')}/join/{done.token}",
                "firm": done.enterprise.name,
                "uscc": done.enterprise.uscc,
                "created": done.created,
                "expires_at": done.invitation.expires_at,
                "contact": done.invitation.contact_name,
                "offered": Money(done.offered.amount_minor, done.offered.currency)
                if done.offered is not None
                else None,
            }
    except ValidationFailed as exc:
        form.errors = {e.field: field_said(e) for e in reversed(exc.errors)}
    except ChainfinError as exc:
        where, said = REFUSALS.get(exc.code, ("form", exc.message))
        form.errors = {where: (said, {})}
        status = exc.status
    else:
        with transaction(factory, write=False) as session:
            me = whoami(session, principal)
        no_store = {"Cache-Control": "no-store"}  # the link is shown once
        return render(request, "invite_link.html", shown, me=me, headers=no_store)
    with transaction(factory, write=False) as session:
        _amount_check(session, principal, form)
        if "amount" in form.errors and form.check is not None and not form.check.ok:
            del form.errors["amount"]  # pass_amount.html words it from the check
        context = _invite_page(session, principal, form)
        me = whoami(session, principal)
    return render(request, "invite.html", context, me=me, status_code=status)


@router.post("/suppliers/invite/check", response_class=HTMLResponse)
def invite_check(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    _: FormChecked,
    piece_id: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """The amount to offer as typed, against the piece chosen (htmx swaps the verdict in)."""
    form = InviteForm(piece_id=piece_id, amount=amount)
    _amount_check(session, principal, form)
    return render(request, "pass_amount.html", {"check": form.check, "field": "amount"})


@router.post("/suppliers/invitations/{invitation_id}/cancel", response_class=HTMLResponse)
def cancel(
    invitation_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    """The link stops working at once; back to the list. Not my firm's: 404."""
    factory = request.app.state.session_factory
    try:
        with transaction(factory) as session:
            onboarding.cancel(session, principal, invitation_id)
    except ChainfinError as exc:
        with transaction(factory, write=False) as session:
            me = whoami(session, principal)
        reason = CANCEL_REFUSALS.get(exc.code, exc.message)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)
    return RedirectResponse("/suppliers/invite", status_code=303)


# ---------------------------------------------------------------------------- the link


def _gone(request: Request, exc: ChainfinError) -> Response:
    """404 for a link that names nothing, 410 for one that worked once; never which firm."""
    reason = GONE.get(exc.code, GONE["supplier_invitation_not_found"])
    status = exc.status if exc.status in (404, 410) else 404
    return render(request, "join_refused.html", {"reason": reason}, status_code=status)


@router.get("/join/registered", response_class=HTMLResponse)
def joined(request: Request, pending: Annotated[bool, Query()] = False) -> Response:
    """Where a registration lands: the success, and the sign-in form; or, for a firm the
    registry knew before it was invited, that its bank verifies the new administrator first
    (services/onboarding.register)."""
    return render(request, "join_done.html", {"error": None, "pending": pending})


@dataclass
class JoinForm:
    uscc: str = ""
    display_name: str = ""
    username: str = ""
    errors: dict[str, Said] = field(default_factory=dict)


@router.get("/join/{token}", response_class=HTMLResponse)
def join_page(token: str, request: Request, session: SessionDep) -> Response:
    try:
        view = onboarding.join_view(session, token)
    except ChainfinError as exc:
        return _gone(request, exc)
    context = {"view": view, "form": JoinForm(), "token": token, "min_password": auth.MIN_PASSWORD}
    return render(request, "join.html", context, headers={"Referrer-Policy": "no-referrer"})


@router.post("/join/{token}", response_class=HTMLResponse)
def join(
    token: str,
    request: Request,
    uscc: Annotated[str, Form(max_length=40)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """No session to bind a CSRF token to (as signing in): a cross-site post is refused;
    the link's 256-bit token is the authority. Success goes to sign in."""
    if cross_site(request):
        reason = N_("This form was sent from another site.")
        return render(request, "join_refused.html", {"reason": reason}, status_code=403)
    form = JoinForm(uscc, display_name, username)
    command = onboarding.RegisterSupplier(
        token, uscc, display_name, username, password, password_again
    )
    factory = request.app.state.session_factory
    status = 422
    try:
        with transaction(factory) as session:
            user = onboarding.register(session, command)
            active = user.active
    except ValidationFailed as exc:
        form.errors = {e.field: field_said(e) for e in reversed(exc.errors)}
    except ChainfinError as exc:
        if exc.code not in REFUSALS:
            return _gone(request, exc)
        where, said = REFUSALS[exc.code]
        form.errors, status = {where: (said, {})}, exc.status
    else:
        done = "/join/registered" if active else "/join/registered?pending=1"
        return RedirectResponse(done, status_code=303)
    with transaction(factory, write=False) as session:
        try:
            view = onboarding.join_view(session, token)
        except ChainfinError as exc:
            return _gone(request, exc)
    context = {"view": view, "form": form, "token": token, "min_password": auth.MIN_PASSWORD}
    headers = {"Referrer-Policy": "no-referrer"}
    return render(request, "join.html", context, status_code=status, headers=headers)
