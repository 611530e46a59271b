"""The bank workbench's administration (/admin), for a bank's administrator (the ``admin``
role: ``users:admin`` of a bank): what ``chainfin users`` and ``chainfin clients`` do, on
the administrator's own bank only.

- **Staff** (/admin/users): the bank's people with their roles, sessions and last sign-in;
  create one (an initial password shown once, as the portal's colleague invitation does),
  change roles, deactivate (their sessions end) and reactivate. An administrator cannot
  take their own administrator role away nor deactivate themselves. Below, the enterprise
  administrators who registered through a supplier invitation and wait for a bank to verify
  who they are (firms linked to this bank): activating one is ``chainfin users activate``.
- **API clients** (/admin/clients): create (scopes a bank's client may hold; the secret
  shown once), rotate the secret (shown once), revoke.
- **Credit authority** (/admin/authorities): the level delegated to each staff member
  beside each product's ladder (what a level may approve); grant or change a level.

Every write is one service call (services/staff_admin.py) in one transaction; the service
scopes it to the administrator's bank, audits it and puts it on the log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain.access import ROLE_SCOPES, Principal, Scope, StaffRole
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import staff_admin
from chainfin.services.lending import products
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("overview", "/admin", N_("Overview")),
    ("users", "/admin/users", N_("Staff")),
    ("clients", "/admin/clients", N_("API clients")),
    ("authorities", "/admin/authorities", N_("Credit authority")),
)
ROLES = [r.value for r in StaffRole]
ROLE_DUTIES = {
    "relationship_manager": N_(
        "Looks after customers and chains, runs due diligence, prepares applications and "
        "disbursements."
    ),
    "risk_officer": N_("Watches the portfolio, alerts and the books; signs off on risk."),
    "approver": N_("Approves applications within the credit authority delegated to them."),
    "admin": N_(
        "Administers the bank's staff, API clients and credit authority; sets up products "
        "and lines."
    ),
    "auditor": N_("Reads the ledger, the audit trail and the books; changes nothing."),
    "strategist": N_(
        "Head office: ranks the regional chains, reads their maps and lead lists, imports "
        "market data."
    ),
}
SCOPE_WORDS = {
    Scope.REGISTRY_READ: N_("Read firms, relations and chains"),
    Scope.REGISTRY_WRITE: N_("Record firms, relations and chains"),
    Scope.DOCUMENTS_READ: N_("Read trade documents shared with the bank"),
    Scope.CREDENTIALS_READ: N_("Read credentials and their holders"),
    Scope.FINANCING_WRITE: N_("Quote and finance credentials"),
    Scope.BOOKS_READ: N_("Read the books"),
    Scope.LOANS_READ: N_("Read products, applications and loans"),
    Scope.LOANS_WRITE: N_("Define products, lines and disbursements"),
    Scope.LOANS_APPROVE: N_("Decide applications"),
    Scope.AUDIT_READ: N_("Read the audit trail and the ledger"),
}
CLIENT_SCOPES = [s for s in Scope if s in staff_admin.BANK_CLIENT_SCOPES]
LEVELS = list(range(1, 10))
NOT_ADMIN = N_("Administration is for your bank's administrators.")
DONE = {
    "roles": N_("The roles were changed."),
    "deactivated": N_("The staff member was deactivated: their sessions have ended."),
    "reactivated": N_("The staff member was reactivated: they can sign in again."),
    "activated": N_("The enterprise administrator was activated: they can sign in now."),
    "revoked": N_("The client was revoked: it can no longer get a token."),
    "granted": N_("The credit authority was recorded."),
}
REFUSALS = {
    "scope_missing": NOT_ADMIN,
    "bank_staff_only": NOT_ADMIN,
    "user_not_found": N_("This person is not one of your bank's staff."),
    "client_not_found": N_("This client is not one of your bank's."),
    "client_revoked": N_("This client is revoked: its secret cannot be rotated."),
    "self_demotion_refused": N_(
        "You cannot remove your own administrator role: ask another administrator of your bank."
    ),
    "self_escalation_refused": N_(
        "You cannot give yourself a role or credit authority: ask another administrator of "
        "your bank."
    ),
    "self_deactivation_refused": N_(
        "You cannot deactivate yourself: ask another administrator of your bank."
    ),
    "roles_invalid": N_("Choose at least one role."),
    "authority_level_invalid": N_("Choose a level from 1 to 9."),
}
PENDING_NOT_FOUND = N_("No enterprise administrator with this id awaits your bank's verification.")
USER_FIELDS = ("username", "display_name", "roles")
CLIENT_FIELDS = ("name", "scopes")


def may_administer(principal: Principal) -> bool:
    return principal.bank_id is not None and principal.has(Scope.USERS_ADMIN)


def initial_password() -> str:
    """16 characters without look-alikes, in groups of four (as the portal's invitation)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@dataclass
class UserForm:
    username: str = ""
    display_name: str = ""
    roles: list[str] = field(default_factory=lambda: [StaffRole.RELATIONSHIP_MANAGER.value])
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ClientForm:
    name: str = ""
    scopes: list[str] = field(default_factory=lambda: [Scope.REGISTRY_READ.value])
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Secret:
    """Shown once: a new person's initial password or a client's secret."""

    subject: str  # the person's username, the client's name
    name: str  # the person's name, the client's id
    value: str


# ---------------------------------------------------------------------------- reading


def _overview(session: Session, principal: Principal) -> dict[str, Any]:
    people = staff_admin.staff(session, principal)
    clients = staff_admin.clients(session, principal)
    return {
        "active_staff": sum(1 for m in people if m.user.active),
        "inactive_staff": sum(1 for m in people if not m.user.active),
        "live_sessions": sum(m.live_sessions for m in people),
        "pending": len(staff_admin.pending_admins(session, principal)),
        "active_clients": sum(1 for c in clients if c.active),
        "revoked_clients": sum(1 for c in clients if not c.active),
        "with_authority": sum(1 for m in people if m.authority_level and m.user.active),
        "by_role": [
            (role, sum(1 for m in people if m.user.active and role in m.user.roles))
            for role in ROLES
        ],
    }


def _users(session: Session, principal: Principal) -> dict[str, Any]:
    return {
        "people": staff_admin.staff(session, principal),
        "pending": staff_admin.pending_admins(session, principal),
    }


def _clients(session: Session, principal: Principal) -> dict[str, Any]:
    return {"clients": staff_admin.clients(session, principal)}


@dataclass(frozen=True)
class Ladder:
    name: str
    code: str
    steps: list[tuple[int, str]]  # level, the most it may approve (major units)
    currency: str


def _ladders(session: Session, principal: Principal) -> list[Ladder]:
    page = products.products(session, principal, status="active", limit=MAX_LIMIT)
    out = []
    for product in page.items:
        config = products.config_of(product)
        steps = [
            (a.level, Money(a.max_amount_minor, config.currency).to_decimal_string())
            for a in config.authority
        ]
        out.append(Ladder(product.name, product.code, steps, config.currency))
    return out


def _authorities(session: Session, principal: Principal) -> dict[str, Any]:
    people = [m for m in staff_admin.staff(session, principal) if m.user.active]
    return {
        "people": people,
        "holders": [m for m in people if m.authority_level],
        "ladders": _ladders(session, principal),
    }


READERS = {
    "overview": ("bank_admin.html", _overview),
    "users": ("bank_admin_users.html", _users),
    "clients": ("bank_admin_clients.html", _clients),
    "authorities": ("bank_admin_authorities.html", _authorities),
}


def _context(request: Request, principal: Principal, section: str) -> dict[str, Any]:
    return {
        "nav": "admin",
        "sections": SECTIONS,
        "section": section,
        "me_id": principal.subject_id,
        "roles": ROLES,
        "role_duties": ROLE_DUTIES,
        "client_scopes": CLIENT_SCOPES,
        "scope_words": SCOPE_WORDS,
        "role_scopes": ROLE_SCOPES,
        "levels": LEVELS,
        "done": DONE.get(request.query_params.get("done", "")),
        "user_form": UserForm(),
        "client_form": ClientForm(),
        "row_errors": {},
    }


def _show(
    request: Request,
    session: Session,
    principal: Principal,
    section: str,
    status: int = 200,
    **parts: Any,
) -> Response:
    me = whoami(session, principal)
    if not may_administer(principal):
        return render(request, "error.html", {"reason": NOT_ADMIN}, me=me, status_code=403)
    name, reader = READERS[section]
    context = {**_context(request, principal, section), **reader(session, principal), **parts}
    return render(request, name, context, me=me, status_code=status)


def _after(
    request: Request, principal: Principal, section: str, status: int = 200, **parts: Any
) -> Response:
    """The page again, read in a transaction of its own (after a write, or a refusal)."""
    with transaction(request.app.state.session_factory, write=False) as session:
        return _show(request, session, principal, section, status, **parts)


@router.get("/admin", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _show(request, session, principal, "overview")


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _show(request, session, principal, "users")


@router.get("/admin/clients", response_class=HTMLResponse)
def clients(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _show(request, session, principal, "clients")


@router.get("/admin/authorities", response_class=HTMLResponse)
def authorities(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _show(request, session, principal, "authorities")


# ---------------------------------------------------------------------------- writing


def _refusal(exc: ChainfinError) -> str:
    return REFUSALS.get(exc.code, exc.message)


def _act(
    request: Request,
    principal: Principal,
    section: str,
    row_id: str,
    act: Any,
    done: str,
    anchor: str,
) -> Response:
    """Run ``act`` in a write transaction; then the page with ``done``, or with the refusal
    at the object's row (at the top when the object is not the bank's)."""
    if not may_administer(principal):
        return _after(request, principal, section, 403)
    try:
        with transaction(request.app.state.session_factory) as session:
            act(session)
    except ChainfinError as exc:
        error = _refusal(exc)
        if exc.code in ("user_not_found", "client_not_found"):
            if section == "users" and anchor == "pending":
                error = PENDING_NOT_FOUND
            return _after(request, principal, section, exc.status, error=error)
        return _after(request, principal, section, exc.status, row_errors={row_id: error})
    path = "/admin" if section == "overview" else f"/admin/{section}"
    return RedirectResponse(f"{path}?done={done}#{anchor}", status_code=303)


def _user_errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        name = e.field if e.field in USER_FIELDS else "username"
        out.setdefault(name, "roles" if name == "roles" else "invalid")
    return out


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A new staff member with an initial password, shown once on the answer."""
    if not may_administer(principal):
        return _after(request, principal, "users", 403)
    form = UserForm(username.strip(), display_name.strip(), list(roles or []))
    if not form.display_name:
        form.errors["display_name"] = "missing"
    if not form.roles:
        form.errors["roles"] = "roles"
    if form.errors:
        return _after(request, principal, "users", 422, user_form=form)
    password = initial_password()
    try:
        with transaction(request.app.state.session_factory) as session:
            staff_admin.create_staff(
                session,
                principal,
                username=form.username,
                display_name=form.display_name,
                roles=form.roles,
                password=password,
            )
    except ValidationFailed as exc:
        form.errors = _user_errors(exc)
        return _after(request, principal, "users", 422, user_form=form)
    except ChainfinError as exc:
        if exc.code == "username_taken":
            form.errors = {"username": "taken"}
            return _after(request, principal, "users", 409, user_form=form)
        return _after(request, principal, "users", exc.status, error=_refusal(exc))
    made = Secret(form.username, form.display_name, password)
    return _after(request, principal, "users", 200, new_user=made)


@router.post("/admin/users/{user_id}/roles", response_class=HTMLResponse)
def change_roles(
    user_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    chosen = list(roles or [])
    return _act(
        request,
        principal,
        "users",
        user_id,
        lambda s: staff_admin.set_staff_roles(s, principal, user_id, chosen),
        "roles",
        f"staff-{user_id}",
    )


@router.post("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
def deactivate(
    user_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    return _act(
        request,
        principal,
        "users",
        user_id,
        lambda s: staff_admin.deactivate_staff(s, principal, user_id),
        "deactivated",
        f"staff-{user_id}",
    )


@router.post("/admin/users/{user_id}/reactivate", response_class=HTMLResponse)
def reactivate(
    user_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    return _act(
        request,
        principal,
        "users",
        user_id,
        lambda s: staff_admin.reactivate_staff(s, principal, user_id),
        "reactivated",
        f"staff-{user_id}",
    )


@router.post("/admin/pending/{user_id}/activate", response_class=HTMLResponse)
def activate(user_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    return _act(
        request,
        principal,
        "users",
        user_id,
        lambda s: staff_admin.activate_pending(s, principal, user_id),
        "activated",
        "pending",
    )


def _client_errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        name = e.field if e.field in CLIENT_FIELDS else "scopes"
        out.setdefault(name, name)
    return out


@router.post("/admin/clients", response_class=HTMLResponse)
def create_client(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    name: Annotated[str, Form(max_length=300)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A client of the bank; its secret is shown once on the answer."""
    if not may_administer(principal):
        return _after(request, principal, "clients", 403)
    form = ClientForm(name.strip(), list(scopes or []))
    try:
        with transaction(request.app.state.session_factory) as session:
            made = staff_admin.create_client(session, principal, name=form.name, scopes=form.scopes)
    except ValidationFailed as exc:
        form.errors = _client_errors(exc)
        return _after(request, principal, "clients", 422, client_form=form)
    except ChainfinError as exc:
        return _after(request, principal, "clients", exc.status, error=_refusal(exc))
    shown = Secret(form.name, made.client_id, made.client_secret)
    return _after(request, principal, "clients", 200, new_secret=shown)


@router.post("/admin/clients/{client_id}/rotate", response_class=HTMLResponse)
def rotate(client_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    if not may_administer(principal):
        return _after(request, principal, "clients", 403)
    try:
        with transaction(request.app.state.session_factory) as session:
            secret = staff_admin.rotate_secret(session, principal, client_id)
            name = next(
                c.name for c in staff_admin.clients(session, principal) if c.id == client_id
            )
    except ChainfinError as exc:
        if exc.code == "client_not_found":
            return _after(request, principal, "clients", exc.status, error=_refusal(exc))
        errors = {client_id: _refusal(exc)}
        return _after(request, principal, "clients", exc.status, row_errors=errors)
    shown = Secret(name, client_id, secret)
    return _after(request, principal, "clients", 200, new_secret=shown, rotated=True)


@router.post("/admin/clients/{client_id}/revoke", response_class=HTMLResponse)
def revoke(client_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    return _act(
        request,
        principal,
        "clients",
        client_id,
        lambda s: staff_admin.revoke_client(s, principal, client_id),
        "revoked",
        f"client-{client_id}",
    )


@router.post("/admin/authorities", response_class=HTMLResponse)
def grant(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    user_id: Annotated[str, Form(max_length=64)] = "",
    level: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Grant or change a staff member's credit authority level."""
    if not may_administer(principal):
        return _after(request, principal, "authorities", 403)
    errors = {}
    if not user_id:
        errors["user_id"] = "missing"
    if not level.isdecimal() or not level.isascii() or not 1 <= int(level) <= 9:
        errors["level"] = "level"
    if errors:
        return _after(request, principal, "authorities", 422, grant_errors=errors)
    try:
        with transaction(request.app.state.session_factory) as session:
            staff_admin.grant_authority(session, principal, user_id, int(level))
    except ChainfinError as exc:
        field_name = "level" if exc.code == "authority_level_invalid" else "user_id"
        reason = "self" if exc.code == "self_escalation_refused" else "unknown"
        errors = {field_name: "level" if field_name == "level" else reason}
        return _after(request, principal, "authorities", exc.status, grant_errors=errors)
    return RedirectResponse(f"/admin/authorities?done=granted#authority-{user_id}", status_code=303)
