"""The account page (/account), for everyone signed in: change my password, see where I am
signed in and end any of those sessions; and, for an enterprise's administrator, the firm's
colleagues — invite one (with an initial password shown once), change their roles, remove
them. Bank staff have the first two (their bank's users are administered elsewhere).

- **Password.** The current password is checked as a sign-in checks it (throttles, lockout,
  argon2 on its own threads: api/signin.py), the new one against the platform's rules
  (services/auth.py ``hash_password``). The change moves ``tokens_valid_after``, so every
  token issued before it stops working; this browser is then given a new session at once,
  so the person stays signed in here and is signed out everywhere else.
- **Sessions.** services/sessions.py: one row per token issued to the person; ending one
  puts its token on the denylist (its next request is sent to sign in).
- **Colleagues.** services/auth.py ``create_user`` / ``set_colleague_roles`` /
  ``remove_colleague`` with the administrator's principal (``users:admin``, the
  administrator's own enterprise only); every change is audited and on the ledger.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import User
from chainfin.api.deps import COOKIE, SessionDep
from chainfin.api.signin import SessionGrant, address, gate, issue
from chainfin.config import Settings
from chainfin.domain.access import EnterpriseRole, Principal, Scope
from chainfin.domain.errors import ChainfinError, Unauthenticated, ValidationFailed
from chainfin.services import auth, sessions, token_keys
from chainfin.services.signin import SignInUnavailable, TooManyAttempts
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

DONE = {
    "password": N_("Your password was changed. Every other session of yours has been signed out."),
    "session": N_("The session was ended: it must sign in again."),
    "roles": N_("The colleague's roles were changed."),
    "removed": N_("The colleague was removed: they can no longer sign in."),
}
REFUSALS = {
    "enterprise_user_only": N_("Only an enterprise's administrator manages its colleagues."),
    "scope_missing": N_("Only your firm's administrator manages colleagues."),
    "user_not_found": N_("This person is not one of your firm's colleagues."),
    "session_not_found": N_("This session is not one of yours, or it has ended."),
    "self_removal_refused": N_(
        "You cannot remove yourself: ask another administrator of your firm."
    ),
    "last_enterprise_admin": N_(
        "Your firm must keep at least one administrator: make another colleague an "
        "administrator first."
    ),
    "roles_invalid": N_("Choose at least one role."),
}
INVITE_FIELDS = ("username", "display_name", "roles")
ROLES = [r.value for r in EnterpriseRole]
CURRENT, NEW, REPEAT = "current_password", "new_password", "repeat_password"  # the fields
LOOK_ALIKE_FREE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


@dataclass
class PasswordForm:
    """Which field is wrong, by a code the template words (nothing typed is sent back)."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class InviteForm:
    username: str = ""
    display_name: str = ""
    roles: list[str] = field(default_factory=lambda: [EnterpriseRole.FINANCE_STAFF.value])
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invited:
    """Shown once, to the administrator who invited the colleague."""

    username: str
    display_name: str
    password: str


def may_manage_colleagues(principal: Principal) -> bool:
    return principal.enterprise_id is not None and principal.has(Scope.USERS_ADMIN)


def browser_of(user_agent: str) -> str:
    """A short name for the browser and system a User-Agent names (Chrome · Windows)."""
    ua = user_agent
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("MicroMessenger/", "WeChat"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        ua.split("/", 1)[0][:40],
    )
    system = next(
        (
            name
            for token, name in (
                ("Windows", "Windows"),
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return f"{browser} · {system}" if browser and system else browser or system


def current_jti(request: Request, session: Session) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    settings: Settings = request.app.state.settings
    found = auth.revocable(session, token, issuer=settings.token_issuer)
    return found.jti if found is not None else None


def _session_rows(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    mine = current_jti(request, session)
    rows = sessions.live(session, principal)
    return {
        "sessions": rows,
        "current_jti": mine,
        "browsers": {r.jti: browser_of(r.user_agent) for r in rows},
    }


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    password: PasswordForm | None = None,
    invite: InviteForm | None = None,
    invited: Invited | None = None,
    error: str | None = None,
    row_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    manage = may_manage_colleagues(principal)
    return {
        "nav": "account",
        "done": DONE.get(request.query_params.get("done", "")),
        "error": error,
        "password_form": password or PasswordForm(),
        "min_password": auth.MIN_PASSWORD,
        **_session_rows(request, session, principal),
        "manage": manage,
        "colleagues": auth.colleagues(session, principal) if manage else [],
        "me_id": principal.subject_id,
        "invite": invite or InviteForm(),
        "invited": invited,
        "roles": ROLES,
        "row_errors": row_errors or {},
    }


def _render(request: Request, principal: Principal, status: int = 200, **parts: Any) -> Response:
    with transaction(request.app.state.session_factory, write=False) as session:
        context = _page(request, session, principal, **parts)
        me = whoami(session, principal)
    return render(request, "account.html", context, me=me, status_code=status)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    context = _page(request, session, principal)
    return render(request, "account.html", context, me=whoami(session, principal))


# ---------------------------------------------------------------------------- password


def _password_errors(current: str, new: str, repeat: str) -> dict[str, str]:
    errors = {}
    if not current:
        errors[CURRENT] = "missing"
    if len(new) < auth.MIN_PASSWORD:
        errors[NEW] = "short"
    elif new == current:
        errors[NEW] = "same"
    if repeat != new:
        errors[REPEAT] = "differs"
    return errors


def _username(request: Request, principal: Principal) -> str:
    with transaction(request.app.state.session_factory, write=False) as session:
        user = session.get(User, principal.subject_id)
        return user.username if user is not None else ""


def _commit_password(request: Request, principal: Principal, password_hash: str) -> Any:
    """The new password, every other session ended, and a new session for this browser,
    in one transaction; then its token (after the commit)."""
    settings: Settings = request.app.state.settings
    with transaction(request.app.state.session_factory) as session:
        user = auth.change_own_password(session, principal, password_hash)
        opening = sessions.Opening.new(
            user.id,
            ttl_seconds=settings.token_ttl_seconds,
            address=address(request),
            user_agent=request.headers.get("user-agent", ""),
        )
        sessions.open_session(session, opening)
        grant = SessionGrant(
            auth.principal_for_user(user),
            token_keys.ensure_token_key(session),
            user.tokens_valid_after,
            opening.jti,
            opening.expires_at,
        )
    return issue(request, grant, None)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    form = PasswordForm(_password_errors(current_password, new_password, repeat_password))
    if form.errors:
        return await run_in_threadpool(_render, request, principal, 422, password=form)
    signin = gate(request).shared
    username = await run_in_threadpool(_username, request, principal)
    status = 422
    try:
        await signin.password(username, current_password, address(request))
        new_hash = await signin.hash_password(new_password)
        issued = await run_in_threadpool(_commit_password, request, principal, new_hash)
    except Unauthenticated:
        form.errors[CURRENT] = "wrong"
    except TooManyAttempts as exc:
        form.errors[CURRENT], status = "throttled", exc.status
    except SignInUnavailable as exc:
        form.errors[CURRENT], status = "unavailable", exc.status
    except ValidationFailed:
        form.errors[NEW] = "short"
    else:
        response = RedirectResponse("/account?done=password", status_code=303)
        response.set_cookie(
            COOKIE,
            issued.access_token,
            max_age=issued.expires_in,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response
    return await run_in_threadpool(_render, request, principal, status, password=form)


# ---------------------------------------------------------------------------- sessions


@router.post("/account/sessions/{jti}/end", response_class=HTMLResponse)
def end_session(jti: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """End one of my sessions: its token is refused from its next request. htmx removes
    the row; a plain form goes back to the page."""
    try:
        with transaction(request.app.state.session_factory) as session:
            sessions.end(session, principal, jti[:64])
    except ChainfinError as exc:
        error = REFUSALS.get(exc.code, exc.message)
        if request.headers.get("hx-request"):
            return render(request, "_session_refused.html", {"error": error}, status_code=404)
        return _render(request, principal, exc.status, error=error)
    if request.headers.get("hx-request"):
        return Response(status_code=200)  # htmx swaps the row for nothing
    return RedirectResponse("/account?done=session#sessions-title", status_code=303)


# ---------------------------------------------------------------------------- colleagues


def initial_password() -> str:
    """16 characters from an alphabet without look-alikes (0/O, 1/l/I), in groups of four."""
    raw = "".join(secrets.choice(LOOK_ALIKE_FREE) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _invite_errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        name = e.field if e.field in INVITE_FIELDS else "username"
        out.setdefault(name, "roles" if name == "roles" else "invalid")
    return out


@router.post("/account/colleagues", response_class=HTMLResponse)
def invite(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a colleague's account with an initial password, shown once on the answer."""
    if not may_manage_colleagues(principal):
        return _render(request, principal, 403, error=_not_admin(principal))
    form = InviteForm(username.strip(), display_name.strip(), list(roles or []))
    if not form.display_name:
        form.errors["display_name"] = "missing"
    if not form.roles:
        form.errors["roles"] = "roles"
    if form.errors:
        return _render(request, principal, 422, invite=form)
    password = initial_password()
    try:
        with transaction(request.app.state.session_factory) as session:
            uscc = whoami(session, principal).uscc or ""
            auth.create_user(
                session,
                principal,
                username=form.username,
                password=password,
                roles=form.roles,
                display_name=form.display_name,
                enterprise_uscc=uscc,
            )
    except ValidationFailed as exc:
        form.errors = _invite_errors(exc)
        return _render(request, principal, 422, invite=form)
    except ChainfinError as exc:
        if exc.code == "username_taken":
            form.errors = {"username": "taken"}
            return _render(request, principal, 409, invite=form)
        error = REFUSALS.get(exc.code, exc.message)
        return _render(request, principal, exc.status, error=error)
    invited = Invited(form.username, form.display_name, password)
    return _render(request, principal, 200, invited=invited)


def _not_admin(principal: Principal) -> str:
    return REFUSALS["scope_missing" if principal.enterprise_id else "enterprise_user_only"]


def _colleague_change(
    request: Request, principal: Principal, user_id: str, act: Any
) -> Response | None:
    """Run ``act`` in a write transaction: None when done, else the page with the refusal
    (at the colleague's row, or at the top when the person manages no colleagues)."""
    if not may_manage_colleagues(principal):
        return _render(request, principal, 403, error=_not_admin(principal))
    try:
        with transaction(request.app.state.session_factory) as session:
            act(session)
    except ChainfinError as exc:
        error = REFUSALS.get(exc.code, exc.message)
        if exc.code == "user_not_found":
            return _render(request, principal, exc.status, error=error)
        return _render(request, principal, exc.status, row_errors={user_id: error})
    return None


@router.post("/account/colleagues/{user_id}/roles", response_class=HTMLResponse)
def change_roles(
    user_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    answer = _colleague_change(
        request,
        principal,
        user_id,
        lambda s: auth.set_colleague_roles(s, principal, user_id, list(roles or [])),
    )
    if answer is not None:
        return answer
    return RedirectResponse(f"/account?done=roles#colleague-{user_id}", status_code=303)


@router.post("/account/colleagues/{user_id}/remove", response_class=HTMLResponse)
def remove(user_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    answer = _colleague_change(
        request, principal, user_id, lambda s: auth.remove_colleague(s, principal, user_id)
    )
    if answer is not None:
        return answer
    return RedirectResponse("/account?done=removed#colleagues-title", status_code=303)
