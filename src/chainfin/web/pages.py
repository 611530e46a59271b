"""Server-rendered pages. Same services, same scoping as the API; the token lives in an
HttpOnly, SameSite=Strict cookie. Signing in goes through the same throttles, lockout and
transaction-free password check as the token endpoint (api/signin.py); signing out revokes
the token. No inline script or style: the stylesheet is /static/chainfin.css, so the
Content-Security-Policy allows only the site's own files (api/headers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from chainfin.api.deps import COOKIE, PresentedDep, SessionDep
from chainfin.api.signin import address, gate, issue, revoke
from chainfin.domain.access import Principal
from chainfin.domain.errors import Unauthenticated
from chainfin.services import chains
from chainfin.services.signin import SignInUnavailable, TooManyAttempts

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
STYLESHEET = (HERE / "static" / "chainfin.css").read_bytes()


def _cross_site(request: Request) -> bool:
    """A form posted from another site (login CSRF, forced logout). Browsers say where a
    request comes from in Sec-Fetch-Site; older ones send Origin with every POST, which
    must then name this host. A client that sends neither (curl, a test) is not a browser
    being abused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host", "")


@router.get("/static/chainfin.css")
def stylesheet() -> Response:
    return Response(
        STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, presented: PresentedDep) -> Response:
    if not isinstance(presented, Principal):
        return templates.TemplateResponse(request, "login.html", {"error": None})
    principal = presented
    page = chains.list_chains(session, principal, limit=200)
    rows = [(s, chains.tier_table(s)) for s in page.items]
    return templates.TemplateResponse(
        request, "chains.html", {"principal": principal, "chains": rows}
    )


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    if _cross_site(request):
        return templates.TemplateResponse(
            request, "login.html", {"error": "sign in from this site's form"}, status_code=403
        )
    try:
        grant = await gate(request).password(username, password, address(request))
    except Unauthenticated as exc:
        return templates.TemplateResponse(
            request, "login.html", {"error": exc.message}, status_code=401
        )
    except (TooManyAttempts, SignInUnavailable) as exc:
        retry = exc.retry_after if isinstance(exc, TooManyAttempts) else 5
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": exc.message},
            status_code=exc.status,
            headers={"Retry-After": str(retry)},
        )
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
def logout(request: Request) -> Response:
    """Revoke the cookie's token (it stops working everywhere at once) and drop the cookie."""
    if _cross_site(request):
        return Response("sign out from this site's pages", status_code=403)
    token = request.cookies.get(COOKIE)
    if token:
        revoke(request, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response
