"""Server-rendered pages. Same services, same scoping as the API; the token lives in an
HttpOnly, SameSite=Strict cookie. Signing in goes through the same throttles, lockout and
transaction-free password check as the token endpoint (api/signin.py); signing out revokes
the token. No inline script or style: the stylesheet and scripts are files under /static
(htmx and Swagger UI vendored under /static/vendor), so the Content-Security-Policy allows
only the site's own files (api/headers.py). Every state-changing route checks the session's
CSRF token (web/csrf.py). docs/portal.md describes each page."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from chainfin.api.deps import COOKIE, PresentedDep, SessionDep
from chainfin.api.signin import address, gate, issue, revoke
from chainfin.domain.access import Principal
from chainfin.domain.errors import Unauthenticated
from chainfin.services.signin import WRONG_PASSWORD, SignInUnavailable, TooManyAttempts
from chainfin.web import (
    account,
    bank_admin,
    bank_audit,
    bank_credit,
    bank_customers,
    bank_operations,
    bank_risk,
    bank_strategy,
    bank_work,
    consent_centre,
    credential_inbox,
    csrf,
    dealer,
    financing,
    home,
    notifications,
    onboarding,
    trade_documents,
    treasury,
)
from chainfin.web.i18n import N_
from chainfin.web.render import (
    STATIC,
    FormChecked,
    FormRefused,
    SignInRequired,
    cross_site,
    form_refused,
    render,
    sign_in_again,
    whoami,
)

router = APIRouter(include_in_schema=False)
DOCS = "/docs"
IMMUTABLE = "public, max-age=31536000, immutable"
SIGN_IN_ERRORS = {
    WRONG_PASSWORD: N_("wrong username or password"),
    "too_many_requests": N_("too many failed sign-in attempts; try again later"),
    "sign_in_unavailable": N_("signing in is unavailable for a moment; try again shortly"),
}
mimetypes.add_type("text/javascript", ".js")


def install(app: FastAPI, data_key_spec: str) -> None:
    """The pages' router, their CSRF key and the answers to their two refusals."""
    app.state.csrf_key = csrf.derive_key(data_key_spec)
    app.add_exception_handler(SignInRequired, sign_in_again)
    app.add_exception_handler(FormRefused, form_refused)
    app.include_router(router)


@router.get("/static/{name:path}")
def static(name: str) -> Response:
    """The stylesheet, scripts and vendored assets. Pages link them with a digest in the
    query (``render.asset_url``), so they are cached for a year."""
    root = STATIC.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, headers={"Cache-Control": IMMUTABLE})


@router.get(DOCS, response_class=HTMLResponse)
def docs(request: Request) -> Response:
    """Swagger UI from the vendored files: no CDN, so it works on an intranet."""
    return render(request, "docs.html")


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, session: SessionDep, presented: PresentedDep) -> Response:
    """Signed out: the sign-in form. Signed in: the home of the firm (or of the bank)."""
    if not isinstance(presented, Principal):
        return render(request, "login.html", {"error": None})
    me = whoami(session, presented)
    if presented.enterprise_id is not None:
        return render(request, "home.html", home.enterprise_home(session, presented), me=me)
    return bank_customers.staff_home(request, session, presented)


def _sign_in_refused(request: Request, message: str, status: int, **headers: str) -> Response:
    context = {"error": message}
    return render(request, "login.html", context, status_code=status, headers=headers or None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Signing in has no session to bind a CSRF token to yet: a cross-site post is refused
    by :func:`cross_site`, and the session cookie it sets is SameSite=Strict."""
    if cross_site(request):
        return _sign_in_refused(request, N_("Sign in from this site's own form."), 403)
    try:
        grant = await gate(request).password(username, password, address(request))
    except Unauthenticated as exc:
        return _sign_in_refused(request, SIGN_IN_ERRORS.get(exc.message, exc.message), 401)
    except (TooManyAttempts, SignInUnavailable) as exc:
        retry = exc.retry_after if isinstance(exc, TooManyAttempts) else 5
        message = SIGN_IN_ERRORS.get(exc.code, exc.message)
        return _sign_in_refused(request, message, exc.status, **{"Retry-After": str(retry)})
    issued = issue(request, grant, None)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        issued.access_token,
        max_age=issued.expires_in,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, _: FormChecked) -> Response:
    """Revoke the cookie's token (it stops working everywhere at once) and drop the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        revoke(request, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


for area in (
    consent_centre,
    credential_inbox,
    onboarding,
    financing,
    trade_documents,
    treasury,
    dealer,
    account,
    notifications,
    bank_customers,
    bank_work,
    bank_credit,
    bank_risk,
    bank_strategy,
    bank_operations,
    bank_audit,
    bank_admin,
):
    router.include_router(area.router)
