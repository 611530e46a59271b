"""The consent centre (/consents): an enterprise grants a bank named data categories for
named purposes until a date, revokes a grant at once, and reads who read its data.

The grant form is checked exactly as the API checks ``POST /v1/consents``: the same input
model (:class:`chainfin.api.routers.consent.ConsentIn`), then the same service, whose
field errors come back next to the fields they are about."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.api.routers.consent import ConsentIn
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import at_local
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.resources.consent import AccessOut, ConsentOut
from chainfin.resources.registry import BankOut
from chainfin.services import consent, identity, registry
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami
from chainfin.web.trade_documents_reasons import KIND_LABELS

router = APIRouter(include_in_schema=False)

CATEGORY_LABELS = {
    DataCategory.TRADE_DOCUMENTS: N_("Trade documents"),
    DataCategory.INVOICES: N_("Invoices"),
    DataCategory.LOGISTICS: N_("Logistics"),
    DataCategory.IOT: N_("IoT readings"),
    DataCategory.FINANCIAL_STATEMENTS: N_("Financial statements"),
}
PURPOSE_LABELS = {
    Purpose.CREDIT_ASSESSMENT: N_("Credit assessment"),
    Purpose.POST_LOAN_MONITORING: N_("Post-loan monitoring"),
    Purpose.FINANCING: N_("Financing"),
}
STATE_LABELS = {
    "active": N_("Active"),
    "not yet valid": N_("Not yet valid"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}
# What a person reads for each field's refusal (the API's code and field, then a fallback).
FIELD_MESSAGES = {
    "bank_code": N_("Choose a bank."),
    "categories": N_("Choose at least one data category."),
    "purposes": N_("Choose at least one purpose."),
    "expires_on": N_("Enter a date after today, at most three years ahead."),
}
REFUSALS = {
    "enterprise_user_only": N_("Only your firm's administrator grants and revokes consent."),
    "consent_not_found": N_("This grant is not your firm's."),
}
FORM_FIELDS = {"bank_code": "bank_code", "bank": "bank_code", "categories": "categories"}
FORM_FIELDS |= {"purposes": "purposes", "expires_at": "expires_on", "valid_from": "expires_on"}
LOG_PAGE = 50
# What the services write as the ``resource`` of a read (grep ``resource=`` in services/),
# as a sentence of the page's language: "<phrase> of <enterprise id>[ (<document kind>)]".
READ_OF = {
    "loan application": N_("Loan application of %(firm)s"),
    "early-warning signals": N_("Early-warning signals of %(firm)s"),
    "documents": N_("Trade documents of %(firm)s"),
    "trade cases": N_("Trade cases of %(firm)s"),
    "authenticity findings": N_("Authenticity findings of %(firm)s"),
}
READ_OF_KIND = N_("Trade documents of %(firm)s (%(kind)s)")
READ_DOCUMENT = {
    "document": N_("Trade document %(document)s"),
    "registration of document": N_("Registration of trade document %(document)s"),
}
_READ_OF = re.compile(r"^(?P<phrase>[a-z -]+?) of (?P<firm>ent_\w+)(?: \((?P<kind>\w+)\))?$")
_READ_DOCUMENT = re.compile(r"^(?P<phrase>[a-z ]+?) (?P<document>doc_\w+)$")
ANOTHER_FIRM = N_("another firm")


@dataclass(frozen=True)
class LogRow:
    """One row of the access log: identical reads at the same second collapsed into one
    (``times``), and what was read as a sentence (``what``, an English msgid with
    ``params``, each translated in the template; None: the service's text, ``text``, shown
    as it is)."""

    access: AccessOut
    what: str | None
    params: dict[str, str]
    text: str
    times: int = 1


def what_was_read(
    resource: str, names: dict[str, str], kinds: dict[str, str]
) -> tuple[str | None, dict[str, str]]:
    """The ``resource`` text as a msgid and its parameters, each firm's id as its name
    (``names``; one the reader may not know: "another firm") and a document kind as its
    label's msgid (``kinds``); (None, {}) for text of another shape, shown as it is.

    >>> what_was_read("loan application of ent_1", {"ent_1": "ACME"}, {})
    ('Loan application of %(firm)s', {'firm': 'ACME'})
    """
    found = _READ_OF.match(resource)
    if found and found["phrase"] in READ_OF:
        params = {"firm": names.get(found["firm"], ANOTHER_FIRM)}
        if not found["kind"]:
            return READ_OF[found["phrase"]], params
        if found["phrase"] == "documents":
            return READ_OF_KIND, params | {"kind": kinds.get(found["kind"], found["kind"])}
    found = _READ_DOCUMENT.match(resource)
    if found and found["phrase"] in READ_DOCUMENT:
        return READ_DOCUMENT[found["phrase"]], {"document": found["document"]}
    return None, {}


def _same(a: AccessOut, b: AccessOut) -> bool:
    return a.occurred_at.replace(microsecond=0) == b.occurred_at.replace(microsecond=0) and (
        a.bank_id,
        a.category,
        a.purpose,
        a.resource,
        a.allowed,
    ) == (b.bank_id, b.category, b.purpose, b.resource, b.allowed)


def log_rows(reads: Iterable[AccessOut], names: dict[str, str]) -> list[LogRow]:
    """The access log as rows: each identical consecutive read (same second, bank,
    category, purpose, resource and outcome) once, with how many times it happened."""
    kinds = {k.value: v for k, v in KIND_LABELS.items()}
    rows: list[LogRow] = []
    for access in reads:
        if rows and _same(rows[-1].access, access):
            last = rows[-1]
            rows[-1] = LogRow(last.access, last.what, last.params, last.text, last.times + 1)
            continue
        what, params = what_was_read(access.resource, names, kinds)
        rows.append(LogRow(access, what, params, access.resource))
    return rows


@dataclass
class GrantForm:
    """What was typed, and what is wrong with it, field by field."""

    bank_code: str = ""
    categories: Sequence[str] = ()
    purposes: Sequence[str] = ()
    expires_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _labels() -> dict[str, Any]:
    return {
        "category_labels": {k.value: v for k, v in CATEGORY_LABELS.items()},
        "purpose_labels": {k.value: v for k, v in PURPOSE_LABELS.items()},
        "state_labels": STATE_LABELS,
    }


def _page(
    session: Session, principal: Principal, form: GrantForm, log_cursor: str | None
) -> dict[str, Any]:
    grants = [ConsentOut.build(g) for g in consent.list_grants(session, principal, limit=200).items]
    log: list[AccessOut] = []
    next_cursor = None
    if principal.enterprise_id is not None:
        page = consent.access_log(session, principal, limit=LOG_PAGE, cursor=log_cursor)
        log, next_cursor = [AccessOut.build(a) for a in page.items], page.next_cursor
    banks = [BankOut.build(b) for b in registry.list_banks(session, principal, limit=200).items]
    ids = {g.bank_id for g in grants} | {a.bank_id for a in log}
    ids |= {m for a in log for m in re.findall(r"ent_\w+", a.resource)}
    names = identity.party_names(session, principal, ids)
    if principal.enterprise_id is not None:
        names.setdefault(principal.enterprise_id, whoami(session, principal).firm_name)
    return {
        "nav": "consents",
        "may_grant": principal.enterprise_id is not None and principal.has(Scope.CONSENT_MANAGE),
        "form": form,
        "grants": grants,
        "show_log": principal.enterprise_id is not None,
        "log": log_rows(log, names),
        "log_cursor": log_cursor,
        "next_cursor": next_cursor,
        "banks": banks,
        "names": names,
        **_labels(),
    }


@router.get("/consents", response_class=HTMLResponse)
def consents_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    bank_code: Annotated[str, Query(max_length=20)] = "",
    categories: Annotated[list[str] | None, Query(max_length=40)] = None,
    purposes: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> Response:
    """``?bank_code=&categories=&purposes=`` fill the grant form in (the home page links
    here so from a bank's refused read): only known categories and purposes are kept, and
    nothing is granted until the person submits the form."""
    known_categories = {k.value for k in CATEGORY_LABELS}
    known_purposes = {k.value for k in PURPOSE_LABELS}
    form = GrantForm(
        bank_code,
        [c for c in categories or [] if c in known_categories][:20],
        [p for p in purposes or [] if p in known_purposes][:20],
    )
    context = _page(session, principal, form, cursor)
    return render(request, "consents.html", context, me=whoami(session, principal))


def _end_of(day_text: str) -> Any:
    """The end of the day typed (midnight after it, Beijing time), or the text itself for
    the API's model to refuse as it would refuse any other non-date."""
    try:
        return at_local(date.fromisoformat(day_text) + timedelta(days=1))
    except (ValueError, OverflowError):  # not a date, or 9999-12-31 (no day after it)
        return day_text


def _field_errors(errors: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, reason in errors:
        form_field = FORM_FIELDS.get(name.split(".")[0].split("[")[0], "expires_on")
        out.setdefault(form_field, FIELD_MESSAGES.get(form_field, reason))
    return out


@router.post("/consents", response_class=HTMLResponse)
def grant(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    bank_code: Annotated[str, Form(max_length=32)] = "",
    categories: Annotated[list[str] | None, Form()] = None,
    purposes: Annotated[list[str] | None, Form()] = None,
    expires_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = GrantForm(bank_code, categories or [], purposes or [], expires_on)
    status = 422
    body = {
        "bank_code": bank_code,
        "categories": list(form.categories),
        "purposes": list(form.purposes),
        "expires_at": _end_of(expires_on),
    }
    factory = request.app.state.session_factory
    try:
        terms = ConsentIn.model_validate(body)
        with transaction(factory) as session:
            consent.grant(
                session,
                principal,
                bank_code=terms.bank_code,
                categories=terms.categories,
                purposes=terms.purposes,
                expires_at=terms.expires_at,
            )
    except ValidationError as exc:
        form.errors = _field_errors([(str(e["loc"][0]), e["msg"]) for e in exc.errors()])
    except ValidationFailed as exc:
        form.errors = _field_errors([(e.field, e.reason) for e in exc.errors])
    except ChainfinError as exc:  # not this person's to grant
        form.errors = {"form": REFUSALS.get(exc.code, exc.message)}
        status = exc.status
    else:
        return RedirectResponse("/consents", status_code=303)
    with transaction(factory, write=False) as session:
        context = _page(session, principal, form, None)
        me = whoami(session, principal)
    return render(request, "consents.html", context, me=me, status_code=status)


@router.post("/consents/{consent_id}/revoke", response_class=HTMLResponse)
def revoke(consent_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """Effective at once. htmx swaps the grant's row; a plain form goes back to the page."""
    factory = request.app.state.session_factory
    error = None
    try:
        with transaction(factory) as session:
            row = ConsentOut.build(consent.revoke(session, principal, consent_id))
    except ChainfinError as exc:
        error = REFUSALS.get(exc.code, exc.message)
    if not request.headers.get("hx-request"):
        return RedirectResponse("/consents", status_code=303)
    with transaction(factory, write=False) as session:
        if error is not None:
            found = [
                g
                for g in consent.list_grants(session, principal, limit=200).items
                if g.id == consent_id
            ]
            if not found:
                return Response(status_code=404)
            row = ConsentOut.build(found[0])
        context = {
            "grant": row,
            "error": error,
            "may_grant": principal.has(Scope.CONSENT_MANAGE),
            "names": identity.party_names(session, principal, [row.bank_id]),
            **_labels(),
        }
    return render(request, "_consent_row.html", context, me=None)
