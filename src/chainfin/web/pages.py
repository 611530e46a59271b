"""Server-rendered pages. Same services, same scoping as the API; the token lives in an
HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from chainfin.api.deps import COOKIE, SessionDep, SettingsDep, current_principal
from chainfin.domain.errors import Unauthenticated
from chainfin.services import auth, chains

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        principal = current_principal(request, session, settings, None)
    except Unauthenticated:
        return templates.TemplateResponse(request, "login.html", {"error": None})
    page = chains.list_chains(session, principal, limit=200)
    rows = [(s, chains.tier_table(s)) for s in page.items]
    return templates.TemplateResponse(
        request, "chains.html", {"principal": principal, "chains": rows}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    try:
        principal = auth.authenticate_password(session, username, password)
    except Unauthenticated as exc:
        return templates.TemplateResponse(
            request, "login.html", {"error": exc.message}, status_code=401
        )
    issued = auth.issue_token(
        principal,
        key=request.app.state.signing_key,
        ttl_seconds=settings.token_ttl_seconds,
        issuer=settings.token_issuer,
    )
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
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response
