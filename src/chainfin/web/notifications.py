"""The in-page notifications inbox (/notifications), fed by the events the ledger records
(services/notifications.py): newest first, 50 a page, unread ones marked; all or unread
only; mark one read (htmx swaps its row), mark all read; opening one marks it read and goes
to the page of what it is about. Each person reads only their own firm's (or bank's)
notifications, and read state is their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal
from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money
from chainfin.services import identity
from chainfin.services import notifications as inbox_service
from chainfin.services.notifications import Item
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

PAGE = 50
# What each topic (services/notifications.RULES) tells the recipient; %(amount)s is the
# amount of the recipient's own record, written for the page's language.
TOPICS = {
    "credential_offered": N_("A credential of %(amount)s was issued to you: accept or reject it."),
    "piece_offered": N_("A credential piece of %(amount)s was passed to you: accept or reject it."),
    "piece_accepted": N_("The credential piece of %(amount)s you offered was accepted."),
    "piece_rejected": N_("The credential piece of %(amount)s you offered was rejected."),
    "credential_withdrawn": N_(
        "A credential of %(amount)s offered to you was withdrawn by its issuer."
    ),
    "piece_withdrawn": N_(
        "A credential piece of %(amount)s passed to you was taken back by its sender."
    ),
    "piece_quoted": N_("A bank quoted a price for financing your credential piece."),
    "piece_financed": N_("Your credential piece was financed: %(amount)s received."),
    "credential_paid": N_("%(amount)s of a credential you hold has been paid."),
    "credential_overdue": N_("A credential piece of %(amount)s you hold is overdue."),
    "issued_overdue": N_("A credential of %(amount)s you issued is overdue."),
    "invoice_to_confirm": N_("An invoice of %(amount)s awaits your confirmation."),
    "receipt_to_confirm": N_("A goods receipt of %(amount)s awaits your confirmation."),
    "consent_granted": N_("A firm granted your bank consent to read its data."),
    "consent_revoked": N_("A firm revoked its consent to your bank."),
    "alert_raised": N_("A new alert needs your attention."),
    "application_approved": N_("Your loan application for %(amount)s was approved."),
    "application_declined": N_("Your loan application for %(amount)s was declined."),
    "loan_paid_out": N_("Your loan of %(amount)s was paid out."),
    "line_opened": N_("A credit line of %(amount)s was opened for your firm."),
    "funder_invited": N_("Your bank was invited to fund a credential programme."),
    "funder_to_approve": N_(
        "A bank was invited to fund your credential programme: approve or decline it."
    ),
}
# What an action topic says once the act was done (services/notifications.ANSWERS): the
# fact, without asking for the act again.
RESOLVED_TOPICS = {
    "credential_offered": N_("A credential of %(amount)s was issued to you."),
    "piece_offered": N_("A credential piece of %(amount)s was passed to you."),
    "invoice_to_confirm": N_("An invoice of %(amount)s was sent to you for confirmation."),
    "receipt_to_confirm": N_("A goods receipt of %(amount)s was sent to you for confirmation."),
}
UNKNOWN_TOPIC = N_("Something that concerns your firm has changed.")
REFUSALS = {
    "notification_not_found": N_("This notification is not yours."),
    "cursor_invalid": N_("This page link is out of date: start again from the first page."),
}


@dataclass(frozen=True)
class Shown:
    """A notification as a row of the page: its sentence's parts and where it leads."""

    id: str
    message: str  # an English msgid, translated in the template
    amount: str | None  # decimal string, major units
    currency: str
    counterparty: str | None  # an id, named through ``names``
    link: str | None
    unread: bool
    resolved: bool  # the act it asked for was done
    created_at: datetime


# The page of each kind of subject, by its id; a subject without a page of its own leads
# to the page that lists it.
SUBJECT_PAGES = {
    "credential": "/credentials/{id}",
    "document": "/documents/{id}",
    "application": "/financing/applications/{id}",
}
LIST_PAGES = {"piece": "/credentials", "consent": "/consents", "alert": "/"}
# Topics whose page is not their subject's: a quote is read on the piece's quotes page, a
# financing on the financing page, an invitation to approve on the treasury's.
TOPIC_PAGES = {
    "piece_quoted": "/financing/pieces/{id}/quotes",
    "piece_financed": "/financing",
    "funder_to_approve": "/treasury",
}
# Where a topic leads when its notification names no subject (written before it did).
TOPIC_LISTS = {
    "loan_paid_out": "/financing",
    "line_opened": "/financing",
    "application_approved": "/financing",
    "application_declined": "/financing",
}


def link_for(topic: str, subject_kind: str | None, subject_id: str | None) -> str | None:
    """The page of what a notification is about, if it has one: its object's own page
    where there is one, else the page that lists it.

    >>> link_for("invoice_to_confirm", "document", "doc_1")
    '/documents/doc_1'
    >>> link_for("loan_paid_out", "application", "app_1")
    '/financing/applications/app_1'
    """
    page = TOPIC_PAGES.get(topic) or SUBJECT_PAGES.get(subject_kind or "")
    if page and subject_id:
        return page.format(id=subject_id)
    if page and "{id}" not in page:
        return page
    return LIST_PAGES.get(subject_kind or "") or TOPIC_LISTS.get(topic)


def shown(item: Item) -> Shown:
    n = item.notification
    params = n.params or {}
    amount = None
    currency = str(params.get("currency", "CNY"))
    if params.get("amount_minor") is not None:
        amount = Money(int(params["amount_minor"]), currency).to_decimal_string()
    message = TOPICS.get(n.topic, UNKNOWN_TOPIC)
    if item.resolved:
        message = RESOLVED_TOPICS.get(n.topic, message)
    return Shown(
        id=n.id,
        message=message,
        amount=amount,
        currency=currency,
        counterparty=params.get("counterparty"),
        link=link_for(n.topic, n.subject_kind, n.subject_id),
        unread=item.unread,
        resolved=item.resolved,
        created_at=n.created_at,
    )


def rows(session: Session, principal: Principal, items: list[Item]) -> dict[str, Any]:
    """The items as rows, with every counterparty the person may know named."""
    out = [shown(i) for i in items]
    ids = {s.counterparty for s in out if s.counterparty}
    return {"notifications": out, "names": identity.party_names(session, principal, ids)}


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    show: str,
    cursor: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    me = whoami(session, principal)
    try:
        page = inbox_service.inbox(
            session, principal, unread_only=show == "unread", cursor=cursor, limit=PAGE
        )
    except ChainfinError as exc:  # a cursor this page did not issue
        reason = REFUSALS.get(exc.code, exc.message)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=422)
    context = {
        "nav": "notifications",
        "show": show,
        "cursor": cursor,
        "next_cursor": page.next_cursor,
        "unread": inbox_service.unread_count(session, principal),
        "error": error,
        **rows(session, principal, page.items),
    }
    return render(request, "notifications.html", context, me=me, status_code=status_code)


def _show(show: Annotated[str, Query(max_length=10)] = "all") -> str:
    """Which notifications: ``unread`` or (anything else) all."""
    return "unread" if show == "unread" else "all"


Show = Annotated[str, Depends(_show)]


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    show: Show,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    return _page(request, session, principal, show, cursor)


def _back(show: str) -> str:
    return "/notifications?show=unread" if show == "unread" else "/notifications"


@router.post("/notifications/read-all", response_class=HTMLResponse)
def read_all(request: Request, principal: PagePrincipal, _: FormChecked, show: Show) -> Response:
    with transaction(request.app.state.session_factory) as session:
        inbox_service.mark_all_read(session, principal)
    return RedirectResponse(_back(show), status_code=303)


def _not_found(request: Request, principal: Principal, exc: ChainfinError) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=404)
    with transaction(request.app.state.session_factory, write=False) as session:
        me = whoami(session, principal)
    reason = REFUSALS.get(exc.code, exc.message)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=404)


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def read_one(
    notification_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    show: Show,
) -> Response:
    """Marks one read. htmx swaps its row (and the count in the menu); a plain form goes
    back to the inbox."""
    factory = request.app.state.session_factory
    try:
        with transaction(factory) as session:
            inbox_service.mark_read(session, principal, notification_id)
    except ChainfinError as exc:
        return _not_found(request, principal, exc)
    if not request.headers.get("hx-request"):
        return RedirectResponse(_back(show), status_code=303)
    with transaction(factory, write=False) as session:
        item = inbox_service.get(session, principal, notification_id)
        context = {"show": show, "oob": True, **rows(session, principal, [item])}
        context["unread"] = inbox_service.unread_count(session, principal)
    context["notification"] = context["notifications"][0]
    return render(request, "_notification_row.html", context)


@router.post("/notifications/{notification_id}/open", response_class=HTMLResponse)
def open_one(
    notification_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    """Marks it read and goes to the page of what it is about (or back to the inbox)."""
    try:
        with transaction(request.app.state.session_factory) as session:
            item = inbox_service.mark_read(session, principal, notification_id)
    except ChainfinError as exc:
        return _not_found(request, principal, exc)
    n = item.notification
    return RedirectResponse(
        link_for(n.topic, n.subject_kind, n.subject_id) or "/notifications", 303
    )
