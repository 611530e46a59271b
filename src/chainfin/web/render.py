"""How a page is made: the Jinja2 environment (gettext, money and date filters, versioned
asset URLs), the language of the request, the signed-in person and the CSRF token every
form carries; and the two refusals every page route shares (not signed in, forged form)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from chainfin.api.deps import COOKIE, PresentedDep
from chainfin.domain.access import Principal
from chainfin.services import identity, notifications
from chainfin.web import csrf
from chainfin.web.i18n import COOKIE as LANG_COOKIE
from chainfin.web.i18n import LANGUAGES, N_, Language, choose

HERE = Path(__file__).parent
STATIC = HERE / "static"
AUTONYMS = {"zh-CN": "中文", "en": "English"}  # each language named in itself: not translated
ROLE_LABELS = {
    "enterprise_admin": N_("Enterprise administrator"),
    "finance_staff": N_("Finance staff"),
    "relationship_manager": N_("Relationship manager"),
    "risk_officer": N_("Risk officer"),
    "approver": N_("Approver"),
    "admin": N_("Bank administrator"),
    "auditor": N_("Auditor"),
    "strategist": N_("Head-office strategist"),
    "platform_operator": N_("Platform operator"),
    "platform_auditor": N_("Platform auditor"),
}


@cache
def asset_url(name: str) -> str:
    """``/static/<name>?v=<digest>``: the content's digest in the URL lets browsers keep the
    file a year (the answer says ``immutable``) and still fetch a new release at once."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def _language(context: Context) -> Language:
    language: Language = context["language"]
    return language


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _language(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _language(context).ngettext(singular, plural, n)


@pass_context
def _translate(context: Context, message: str) -> str:
    """A message chosen in code (``N_``): translated, never %-formatted."""
    return _language(context).gettext(message) if message else ""


@pass_context
def _money(context: Context, amount: Any, currency: str = "CNY") -> str:
    return _language(context).money(amount, currency)


@pass_context
def _date(context: Context, value: Any) -> str:
    return _language(context).long_date(value)


@pass_context
def _last_day(context: Context, value: Any) -> str:
    return _language(context).last_day(value)


@pass_context
def _month(context: Context, value: Any) -> str:
    return _language(context).month(value)


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return _language(context).instant(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        t=_translate,
        money=_money,
        date=_date,
        month=_month,
        last_day=_last_day,
        datetime=_datetime,
    )
    env.globals.update(asset=asset_url, role_labels=ROLE_LABELS)
    return env


templates = Jinja2Templates(env=_environment())


# ---------------------------------------------------------------------------- the request


def language_of(request: Request) -> tuple[Language, bool]:
    return choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def csrf_token(request: Request) -> str | None:
    cookie = request.cookies.get(COOKIE)
    return csrf.token_for(request.app.state.csrf_key, cookie) if cookie else None


def _switch_url(request: Request, other: Language) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", other.tag))
    return f"{request.url.path}?{urlencode(query)}"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    me: identity.Identity | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``name`` rendered in the request's language, for ``me`` (None: signed out). Sets the
    ``lang`` cookie when ``?lang=`` chose a language."""
    language, remember = language_of(request)
    other = LANGUAGES["en" if language.tag == "zh-CN" else "zh-CN"]
    values = {
        "language": language,
        "other_language": other,
        "other_label": AUTONYMS[other.tag],
        "switch_url": _switch_url(request, other),
        "me": me,
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, name, values, status_code=status_code, headers=headers
    )
    response.headers["Vary"] = "Cookie"  # the language and the person come from cookies
    if remember:
        response.set_cookie(
            LANG_COOKIE,
            language.tag,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def whoami(session: Session, principal: Principal) -> identity.Identity:
    """The signed-in person as the header shows them, with their unread notifications."""
    me = identity.whoami(session, principal)
    return replace(me, unread=notifications.unread_count(session, principal))


# ---------------------------------------------------------------------------- refusals


class SignInRequired(Exception):
    """A page for signed-in people was asked for without a valid session."""


class FormRefused(Exception):
    """A state-changing request without this session's CSRF token, or from another site."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signed_in(presented: PresentedDep) -> Principal:
    if not isinstance(presented, Principal):
        raise SignInRequired
    return presented


PagePrincipal = Annotated[Principal, Depends(signed_in)]


def cross_site(request: Request) -> bool:
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


async def check_form(request: Request) -> None:
    """The guard of every state-changing page route: same site, and this session's token
    in the ``X-CSRF-Token`` header (htmx) or the ``csrf_token`` field (a plain form)."""
    if cross_site(request):
        raise FormRefused(N_("This form was sent from another site."))
    presented = request.headers.get(csrf.HEADER)
    if presented is None:
        field = (await request.form()).get(csrf.FIELD)
        presented = field if isinstance(field, str) else None
    if not csrf.matches(request.app.state.csrf_key, request.cookies.get(COOKIE), presented):
        raise FormRefused(N_("This form has expired or was not sent from this site's pages."))


FormChecked = Annotated[None, Depends(check_form)]


def sign_in_again(request: Request, exc: Exception) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/"})
    return RedirectResponse("/", status_code=303)


def form_refused(request: Request, exc: Exception) -> Response:
    """403 with the reason: a page, or for htmx the reason in place of the main content."""
    reason = exc.reason if isinstance(exc, FormRefused) else ""
    if request.headers.get("hx-request"):
        swap = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"}
        return render(request, "_refusal.html", {"reason": reason}, status_code=403, headers=swap)
    return render(request, "error.html", {"reason": reason}, status_code=403)
