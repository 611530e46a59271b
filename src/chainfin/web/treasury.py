"""The core enterprise's treasury desk (/treasury): the invoices awaiting its confirmation
as the buyer, debtor confirmation (确权) on confirmed invoices or a matched trade case,
issuing a credential within a programme (limit, tenor cap and payment date shown as the
form is filled), the book of the credentials it issued with who holds them down the tiers,
and the maturity calendar with the payment run.

Every write is one service call in one transaction per object: confirming several invoices
or settling several credentials at once runs one transaction each, so one refusal does not
undo the others, and the page shows each one's outcome."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Credential
from chainfin.api.deps import SessionDep
from chainfin.domain import clock
from chainfin.domain.access import Principal
from chainfin.domain.credentials import CredentialStatus, PieceStatus, add_months
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.workcal import NoSchedule
from chainfin.resources.credentials import (
    AmountDueOut,
    ConfirmationOut,
    CredentialOut,
    CredentialPieceOut,
    ProgrammeOut,
)
from chainfin.resources.documents import DocumentOut
from chainfin.services import credentials, documents, identity, workcal
from chainfin.services.credentials import payables
from chainfin.services.credentials.pieces import holder_names
from chainfin.services.credentials.programmes import visible_programme
from chainfin.services.pagination import MAX_LIMIT, Page
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("overview", "/treasury", N_("Overview")),
    ("confirmations", "/treasury/confirmations", N_("Invoices to confirm")),
    ("payables", "/treasury/payables", N_("Payable confirmation")),
    ("issue", "/treasury/issue", N_("Issue a credential")),
    ("issued", "/treasury/issued", N_("Issued credentials")),
    ("calendar", "/treasury/calendar", N_("Maturity calendar")),
)
CREDENTIAL_STATES = {
    CredentialStatus.OFFERED: N_("Awaiting acceptance"),
    CredentialStatus.ACTIVE: N_("Active"),
    CredentialStatus.OVERDUE: N_("Overdue"),
    CredentialStatus.SETTLED: N_("Settled"),
    CredentialStatus.REJECTED: N_("Rejected"),
    CredentialStatus.CANCELLED: N_("Cancelled"),
}
# The pieces as the issuer reads them (the inbox speaks to the holder: "offered to you").
HOLDING_STATES = {
    PieceStatus.OFFERED: N_("Awaiting acceptance"),
    PieceStatus.HELD: N_("Held"),
    PieceStatus.FINANCED: N_("Financed"),
    PieceStatus.OVERDUE: N_("Overdue"),
    PieceStatus.SETTLED: N_("Settled"),
}
KINDS = {"invoice": N_("Invoice"), "goods_receipt": N_("Goods receipt")}
# What a trade case is named by: the kind of the document it is keyed on.
CASE_KINDS = {
    "contract": N_("Contract"),
    "purchase_order": N_("Purchase order"),
    "delivery_note": N_("Delivery note"),
    "goods_receipt": N_("Goods receipt"),
    "invoice": N_("Invoice"),
    "waybill": N_("Waybill"),
    "warehouse_receipt": N_("Warehouse receipt"),
}
NOT_CORE = N_("The treasury desk is for core enterprises: your firm issues no credentials.")
# What a person reads for a service's refusal, by its code.
REFUSALS = {
    # confirming documents as the buyer
    "document_not_found": N_("No such document is billed to your firm."),
    "not_your_record": N_("Only the buyer confirms a document; your firm is not its buyer."),
    "document_not_confirmable": N_("Only goods receipts and invoices are confirmed."),
    # 确权
    "documents_already_confirmed": N_("These documents already back another confirmation."),
    "amount_exceeds_evidence": N_("The amount is more than the documents evidence."),
    "confirmation_basis_ambiguous": N_("Choose confirmed invoices or a trade case, not both."),
    "trade_case_unknown": N_("Choose one of your matched trade cases."),
    "trade_case_not_matched": N_("This trade case is not matched."),
    "trade_case_without_invoice": N_("This trade case has no invoice to confirm."),
    "self_confirmation": N_("Your firm does not owe itself."),
    "amount_not_positive": N_("Enter an amount above zero."),
    "currency_mismatch": N_("The documents are in another currency."),
    # issuing
    "programme_not_found": N_("Choose one of your firm's programmes."),
    "programme_limit_insufficient": N_("The amount is more than the programme's available limit."),
    "tenor_too_long": N_("The maturity is beyond the programme's tenor cap."),
    "maturity_before_issue": N_("The maturity must be after today."),
    "piece_amount_invalid": N_("The amount is below the programme's smallest piece."),
    "amount_exceeds_confirmed": N_(
        "The amount is more than the chosen confirmations have left to issue against."
    ),
    "confirmation_required": N_("Choose at least one confirmation."),
    "no_working_day_schedule": N_("No working-day calendar is known for that year."),
    # settling
    "credential_not_found": N_("No such credential was issued by your firm."),
    "credential_not_live": N_("This credential is not live: it cannot be paid."),
    "amount_exceeds_due": N_("The amount is more than is due."),
    "partial_redemption_early": N_("Before its payment date a credential is paid in full."),
    "lpr_fixing_missing": N_("No LPR fixing is on record to compute the penalty interest."),
    "exists_with_different_request": N_("This credential was already paid today."),
    "not_due": N_("This credential is not due yet: it is paid on its payment date."),
    # any write
    "concurrent_change": N_("This changed while you worked; reload the page and try again."),
    "scope_missing": N_("Your role may not do this."),
    "enterprise_user_only": N_("This is done by a core enterprise's staff."),
}
# What a field error of a service means for a person, when the code says nothing more.
FIELD_REASONS = {
    "document_ids": N_("Choose confirmed documents billed to your firm by one supplier."),
    "confirmation_ids": N_("Choose confirmed payables of your firm, all owed to one supplier."),
    "trade_case": N_("Choose one of your matched trade cases."),
    "supplier": N_("Choose documents of a registered supplier."),
}


def _chosen(ids: list[str] | None) -> list[str]:
    """The ids a form's checkboxes sent, each once, blanks dropped, at most a page of them."""
    return list(dict.fromkeys(i for i in ids or [] if i))[:MAX_LIMIT]


def reason_of(exc: ChainfinError) -> str:
    return REFUSALS.get(exc.code, exc.message)


def field_errors(exc: ChainfinError, fields: dict[str, str]) -> dict[str, str]:
    """A refusal as the form's fields: each service field (``document_ids[2]`` counts as
    ``document_ids``) mapped to the form's own field by ``fields``; the rest on ``form``."""
    out: dict[str, str] = {}
    specific = REFUSALS.get(exc.code)
    problems = exc.errors if isinstance(exc, ValidationFailed) else []
    for problem in problems:
        name = problem.field.split("[")[0]
        target = fields.get(name, "form")
        out.setdefault(target, specific or FIELD_REASONS.get(name, problem.reason))
    if not out:
        target = fields.get(_FIELD_OF_CODE.get(exc.code, ""), "form")
        out[target] = reason_of(exc)
    return out


_FIELD_OF_CODE = {
    "programme_limit_insufficient": "amount",
    "documents_already_confirmed": "document_ids",
    "programme_not_found": "programme_id",
    "not_due": "form",
}


@dataclass(frozen=True)
class Outcome:
    """What became of one object of a batch: done, or refused with the reason."""

    subject: str  # the document's number, the credential's first holder
    amount: str | None  # its amount (major units), when known
    ok: bool = True
    reason: str = ""


OK = "ok"
NOTHING_TO_CONFIRM = N_("Choose at least one document to confirm.")
NOTHING_TO_SETTLE = N_("Choose at least one credential to settle.")
REFUSED = N_("This was refused; reload the page and try again.")


def results_url(path: str, results: Sequence[tuple[str, str]]) -> str:
    """Where a batch goes once written: its page, with each object's result in the query
    (``result=<id>~ok`` or ``result=<id>~<refusal code>``), so a reload reads and never
    writes again."""
    return f"{path}?{urlencode([('result', f'{i}~{code}') for i, code in results])}"


def results_of(values: Sequence[str] | None) -> list[tuple[str, str]]:
    """The results :func:`results_url` put in the query (anything else is left out)."""
    out = []
    for value in (values or [])[:MAX_LIMIT]:
        object_id, _, code = value.partition("~")
        if object_id and code:
            out.append((object_id, code))
    return out


def _outcome(subject: Outcome, code: str) -> Outcome:
    if code == OK:
        return subject
    return replace(subject, ok=False, reason=REFUSALS.get(code, REFUSED))


# ---------------------------------------------------------------------------- the desk


def _desk(
    request: Request, session: Session, principal: Principal, page: str, context: dict[str, Any]
) -> Response:
    """A page of the desk, or the refusal a firm that is not a core enterprise reads."""
    me = whoami(session, principal)
    if not me.is_core:
        return render(request, "error.html", {"reason": NOT_CORE}, me=me, status_code=403)
    return _page(request, me, page, context)


def _page(
    request: Request,
    me: identity.Identity,
    page: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    values = {"nav": "treasury", "sections": SECTIONS, "today": clock.today(), **context}
    return render(request, page, values, me=me, status_code=status_code)


def _is_core(session: Session, principal: Principal) -> bool:
    return whoami(session, principal).is_core


def _refused_desk(request: Request, principal: Principal) -> Response | None:
    """Writes check first that this is a core enterprise's person."""
    with transaction(request.app.state.session_factory, write=False) as session:
        me = whoami(session, principal)
        if me.is_core:
            return None
        return render(request, "error.html", {"reason": NOT_CORE}, me=me, status_code=403)


def _names(session: Session, principal: Principal, ids: set[str]) -> dict[str, str]:
    return identity.party_names(session, principal, ids)


def _programmes(session: Session, principal: Principal) -> list[ProgrammeOut]:
    page = credentials.programmes(session, principal, limit=MAX_LIMIT)
    return [ProgrammeOut.build(p) for p in page.items]


def _confirmations(session: Session, principal: Principal) -> list[ConfirmationOut]:
    mine = credentials.ConfirmationFilter(debtor=principal.enterprise_id)
    page = credentials.confirmations(session, principal, mine, limit=MAX_LIMIT)
    return [ConfirmationOut.build(c) for c in reversed(page.items)]


def _issued(session: Session, principal: Principal) -> list[Credential]:
    mine = credentials.CredentialFilter(core=principal.enterprise_id)
    page = credentials.list_credentials(session, principal, mine, limit=MAX_LIMIT)
    return list(reversed(page.items))


def _labels() -> dict[str, Any]:
    return {
        "credential_states": {k.value: v for k, v in CREDENTIAL_STATES.items()},
        "piece_states": {k.value: v for k, v in HOLDING_STATES.items()},
        "kinds": KINDS,
    }


@router.get("/treasury", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """What needs the treasury now, in figures, each linking to its page."""
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury.html", {})
    today = clock.today()
    issued = [CredentialOut.build(c) for c in _issued(session, principal)]
    live = [c for c in issued if c.status in (CredentialStatus.ACTIVE, CredentialStatus.OVERDUE)]
    due = [c for c in live if c.payment_on <= today]
    free = [c for c in _confirmations(session, principal) if Money.parse(c.available).amount_minor]
    programmes = _programmes(session, principal)
    context = {
        "section": "overview",
        "awaiting": documents.count_awaiting(session, principal),
        "free_confirmations": len(free),
        "free_amount": _sum(c.available for c in free),
        "programmes": programmes,
        "used": {p.id: _sum([p.pending, p.posted]) for p in programmes},
        "offered": sum(1 for c in issued if c.status == CredentialStatus.OFFERED),
        "live": len(live),
        "live_amount": _sum(c.outstanding for c in live),
        "due": len(due),
        "due_amount": _sum(c.outstanding for c in due),
    }
    return _desk(request, session, principal, "treasury.html", context)


def _sum(amounts: Any) -> str:
    return Money(sum(Money.parse(a).amount_minor for a in amounts)).to_decimal_string()


# ---------------------------------------------------------------------------- confirmations


AWAITING_PAGE = 50
CURSOR_INVALID = N_("This page link is out of date; start from the first page.")


def _awaiting(
    session: Session, principal: Principal, search: str = "", cursor: str | None = None
) -> dict[str, Any]:
    """A page of the documents awaiting the firm's confirmation, the newest first, those
    matching ``search`` (a number or a supplier's name) when one is typed; how many wait in
    all and how many match."""
    search = search.strip()
    error = None
    try:
        page = documents.awaiting_confirmation_page(
            session, principal, search=search, cursor=cursor, limit=AWAITING_PAGE
        )
    except ChainfinError:  # a cursor this page did not issue
        page, error = Page[Any]([], None), CURSOR_INVALID
    rows = [DocumentOut.build(d) for d in page.items]
    total = documents.count_awaiting(session, principal)
    return {
        "section": "confirmations",
        "awaiting": rows,
        "total": total,
        "matching": documents.count_awaiting(session, principal, search=search)
        if search
        else total,
        "search": search,
        "cursor": cursor if error is None else None,
        "next_cursor": page.next_cursor,
        "cursor_error": error,
        "pager_query": pager_query,
        "due_dates": {d.id: due_date(d) for d in rows},
        "names": _names(session, principal, {d.seller_id for d in rows}),
        **_labels(),
    }


def pager_query(search: str, cursor: str | None = None) -> str:
    """The confirmations page's address for a search and page (the query part)."""
    values = [("q", search)] if search else []
    values += [("cursor", cursor)] if cursor else []
    return urlencode(values)


def due_date(document: DocumentOut) -> date | None:
    """When the document says it is to be paid (an invoice's due date), if it says."""
    value = document.content.get("due_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@router.get("/treasury/confirmations", response_class=HTMLResponse)
def confirmations_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    result: Annotated[list[str] | None, Query(max_length=100)] = None,
    q: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury_confirmations.html", {})
    outcomes = [
        _outcome(_document_label(session, principal, doc_id), code)
        for doc_id, code in results_of(result)
    ]
    context = {**_awaiting(session, principal, q, cursor), "outcomes": outcomes}
    if context["cursor_error"]:
        me = whoami(session, principal)
        return _page(request, me, "treasury_confirmations.html", context, 422)
    return _desk(request, session, principal, "treasury_confirmations.html", context)


def _confirm_documents(request: Request, principal: Principal, ids: Sequence[str]) -> Response:
    """One transaction per document: confirming one is final whatever becomes of the next.
    Then back to the page with each one's result in the address."""
    refused = _refused_desk(request, principal)
    if refused is not None:
        return refused
    factory = request.app.state.session_factory
    if not ids:
        with transaction(factory, write=False) as session:
            context = {**_awaiting(session, principal), "error": NOTHING_TO_CONFIRM}
            me = whoami(session, principal)
        return _page(request, me, "treasury_confirmations.html", context, 422)
    done: list[tuple[str, str]] = []
    for doc_id in ids:
        try:
            with transaction(factory) as session:
                documents.confirm(session, principal, doc_id)
        except ChainfinError as exc:
            done.append((doc_id, exc.code))
        else:
            done.append((doc_id, OK))
    return RedirectResponse(results_url("/treasury/confirmations", done), status_code=303)


def _document_label(session: Session, principal: Principal, doc_id: str) -> Outcome:
    """The document as the person knows it (its number and total; the id sent when it is
    not theirs), as a success to be."""
    try:
        row = documents.get_document(session, principal, doc_id)
    except ChainfinError:
        return Outcome(doc_id, None)
    return Outcome(row.number, Money(row.total_minor, row.currency).to_decimal_string())


@router.post("/treasury/confirmations", response_class=HTMLResponse)
def confirm_many(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    document_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    return _confirm_documents(request, principal, _chosen(document_ids))


@router.post("/treasury/confirmations/{document_id}", response_class=HTMLResponse)
def confirm_one(
    document_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    """A document in the address that is not the firm's own is not found (404)."""
    with transaction(request.app.state.session_factory, write=False) as session:
        try:
            documents.get_document(session, principal, document_id)
        except ChainfinError as exc:
            me = whoami(session, principal)
            reason = reason_of(exc)
            return render(request, "error.html", {"reason": reason}, me=me, status_code=404)
    return _confirm_documents(request, principal, [document_id])


# ---------------------------------------------------------------------------- 确权


@dataclass
class PayableForm:
    """What was typed for a debtor confirmation, and what is wrong with it."""

    basis: str = "documents"
    document_ids: Sequence[str] = ()
    trade_case: str = ""
    amount: str = ""
    due_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _payables(session: Session, principal: Principal, form: PayableForm) -> dict[str, Any]:
    free_docs = [DocumentOut.build(d) for d in payables.free_documents(session, principal)]
    cases = payables.free_trade_cases(session, principal)
    confirmed = _confirmations(session, principal)
    ids = {d.seller_id for d in free_docs} | {c.creditor_id for c in cases}
    ids |= {c.creditor_id for c in confirmed}
    return {
        "section": "payables",
        "form": form,
        "free_documents": free_docs,
        "due_dates": {d.id: due_date(d) for d in free_docs},
        "cases": [trade_case_option(c) for c in cases],
        "case_kinds": CASE_KINDS,
        "confirmed": confirmed,
        "names": _names(session, principal, ids),
        **_labels(),
    }


@dataclass(frozen=True)
class CaseOption:
    """A matched trade case as the 确权 form offers it: its key is the option's value only;
    a person reads the supplier, the kind and number of the document it is keyed on, its
    invoices' total and the latest invoice's date."""

    key: str
    creditor_id: str
    kind: str
    number: str
    total: str
    currency: str
    invoiced_on: date | None


def trade_case_option(case: payables.FreeTradeCase) -> CaseOption:
    kind, _, rest = case.case_key.partition("/")
    number = rest.partition("/")[2] or rest or case.case_key
    days = [i.issue_date for i in case.invoices]
    currency = case.invoices[0].currency if case.invoices else "CNY"
    return CaseOption(
        case.case_key,
        case.creditor_id,
        kind,
        number,
        Money(case.total_minor, currency).to_decimal_string(),
        currency,
        max(days) if days else None,
    )


@router.get("/treasury/payables", response_class=HTMLResponse)
def payables_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    done: Annotated[bool, Query()] = False,
) -> Response:
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury_payables.html", {})
    context = {**_payables(session, principal, PayableForm()), "done": done}
    return _desk(request, session, principal, "treasury_payables.html", context)


def _amount(text: str, errors: dict[str, str], currency: str = "CNY") -> Money | None:
    if not text.strip():
        errors["amount"] = N_("Enter the amount.")
        return None
    try:
        amount = Money.parse(text.strip().replace(",", ""), currency)
    except MoneyError:
        errors["amount"] = N_("Enter an amount like 1234.56.")
        return None
    if amount.amount_minor <= 0:
        errors["amount"] = REFUSALS["amount_not_positive"]
        return None
    return amount


def _day(text: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = N_("Enter a date.")
        return None


def _supplier_of(session: Session, principal: Principal, form: PayableForm) -> str | None:
    """The supplier the chosen basis is owed to: the seller of the documents, or of the
    trade case; None (with the field's error) when there is no such basis."""
    if form.basis == "trade_case":
        cases = {c.case_key: c for c in payables.free_trade_cases(session, principal)}
        case = cases.get(form.trade_case)
        if case is None:
            form.errors["trade_case"] = N_("Choose one of your matched trade cases.")
            return None
        return case.creditor_id
    if not form.document_ids:
        form.errors["document_ids"] = N_("Choose at least one confirmed document.")
        return None
    try:
        return documents.get_document(session, principal, form.document_ids[0]).seller_id
    except ChainfinError:
        form.errors["document_ids"] = FIELD_REASONS["document_ids"]
        return None


@router.post("/treasury/payables", response_class=HTMLResponse)
def confirm_payable(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    basis: Annotated[str, Form(max_length=20)] = "documents",
    document_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
    trade_case: Annotated[str, Form(max_length=300)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    due_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    refused = _refused_desk(request, principal)
    if refused is not None:
        return refused
    basis = basis if basis in ("documents", "trade_case") else "documents"
    form = PayableForm(basis, _chosen(document_ids), trade_case, amount, due_on)
    factory = request.app.state.session_factory
    with transaction(factory, write=False) as session:
        supplier = _supplier_of(session, principal, form)
    money = _amount(amount, form.errors)
    due = _day(due_on, "due_on", form.errors)
    status = 422
    if supplier is not None and money is not None and due is not None and not form.errors:
        try:
            with transaction(factory) as session:
                credentials.confirm(
                    session,
                    principal,
                    supplier=supplier,
                    amount=money,
                    due_on=due,
                    document_ids=form.document_ids if basis == "documents" else (),
                    trade_case_key=form.trade_case if basis == "trade_case" else None,
                )
        except ChainfinError as exc:
            fields = {"document_ids": "document_ids", "trade_case": "trade_case"}
            fields |= {"amount": "amount", "basis": "form", "supplier": "document_ids"}
            form.errors = field_errors(exc, fields)
            status = exc.status if exc.status in (409, 422) else 422
        else:
            return RedirectResponse("/treasury/payables?done=1", status_code=303)
    with transaction(factory, write=False) as session:
        context = _payables(session, principal, form)
        me = whoami(session, principal)
    return _page(request, me, "treasury_payables.html", context, status)


# ---------------------------------------------------------------------------- issue


@dataclass
class IssueForm:
    programme_id: str = ""
    confirmation_ids: Sequence[str] = ()
    amount: str = ""
    maturity_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """What the issue form means as it is filled: the programme's limit, its use and what
    this credential leaves of it; the tenor cap; the payment date on the working-day
    calendar; the first holder."""

    programme: ProgrammeOut | None
    used: str = "0"
    amount: str | None = None
    after: str | None = None  # available once this credential is issued
    over_by: str | None = None  # how far the amount goes past the available limit
    latest_maturity: date | None = None
    maturity: date | None = None
    payment_on: date | None = None
    moved: bool = False
    provisional: bool = False
    beyond_cap: bool = False
    holder_id: str | None = None


def _preview(session: Session, principal: Principal, form: IssueForm) -> Preview:
    programme = None
    if form.programme_id:
        try:
            programme = visible_programme(session, principal, form.programme_id)
        except ChainfinError:
            programme = None
    if programme is None:
        return Preview(None)
    shown = ProgrammeOut.build(programme)
    currency = programme.currency
    used = Money(programme.pending_minor + programme.posted_minor, currency)
    available = programme.limit_minor - programme.pending_minor - programme.posted_minor
    today = clock.today()
    latest = add_months(today, programme.tenor_cap_months)
    amount = after = over = None
    try:
        typed = Money.parse(form.amount.strip().replace(",", ""), currency)
    except MoneyError:
        typed = None
    if typed is not None and typed.amount_minor > 0:
        amount = typed.to_decimal_string()
        after = Money(max(available - typed.amount_minor, 0), currency).to_decimal_string()
        if typed.amount_minor > available:
            over = Money(typed.amount_minor - available, currency).to_decimal_string()
    maturity = payment = None
    moved = provisional = False
    try:
        maturity = date.fromisoformat(form.maturity_on.strip())
    except ValueError:
        maturity = None
    if maturity is not None:
        try:
            rolled = workcal.calendar(session).roll(maturity, programme.roll_convention)
        except NoSchedule:
            pass
        else:
            payment, moved, provisional = rolled.date, rolled.moved, rolled.provisional
    return Preview(
        shown,
        used=used.to_decimal_string(),
        amount=amount,
        after=after,
        over_by=over,
        latest_maturity=latest,
        maturity=maturity,
        payment_on=payment,
        moved=moved,
        provisional=provisional,
        beyond_cap=maturity is not None and maturity > latest,
        holder_id=_holder_of(session, principal, form.confirmation_ids),
    )


def _holder_of(session: Session, principal: Principal, ids: Sequence[str]) -> str | None:
    """The supplier the chosen confirmations are owed to: the credential's first holder."""
    for confirmation in _confirmations(session, principal):
        if confirmation.id in ids:
            return confirmation.creditor_id
    return None


def _issue_context(session: Session, principal: Principal, form: IssueForm) -> dict[str, Any]:
    programmes = [p for p in _programmes(session, principal) if p.status == "active"]
    if not form.programme_id and programmes:
        form.programme_id = programmes[0].id
    open_ones = [
        c for c in _confirmations(session, principal) if Money.parse(c.available).amount_minor
    ]
    preview = _preview(session, principal, form)
    ids = {c.creditor_id for c in open_ones} | {preview.holder_id or ""}
    return {
        "section": "issue",
        "form": form,
        "programmes": programmes,
        "open_confirmations": open_ones,
        "preview": preview,
        "names": _names(session, principal, ids),
    }


@router.get("/treasury/issue", response_class=HTMLResponse)
def issue_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    confirmation: Annotated[str, Query(max_length=40)] = "",
    programme: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury_issue.html", {})
    form = IssueForm(programme, [confirmation] if confirmation else [])
    context = _issue_context(session, principal, form)
    return _desk(request, session, principal, "treasury_issue.html", context)


@router.get("/treasury/issue/preview", response_class=HTMLResponse)
def issue_preview(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    programme_id: Annotated[str, Query(max_length=40)] = "",
    confirmation_ids: Annotated[list[str] | None, Query(max_length=40)] = None,
    amount: Annotated[str, Query(max_length=40)] = "",
    maturity_on: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The live part of the issue form (htmx asks for it as the person types)."""
    if not _is_core(session, principal):
        return Response(status_code=403)
    form = IssueForm(programme_id, _chosen(confirmation_ids), amount, maturity_on)
    preview = _preview(session, principal, form)
    names = _names(session, principal, {preview.holder_id or ""})
    context = {"preview": preview, "names": names, "live": True}
    return render(request, "_treasury_preview.html", context)


@router.post("/treasury/issue", response_class=HTMLResponse)
def issue(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    programme_id: Annotated[str, Form(max_length=40)] = "",
    confirmation_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
    amount: Annotated[str, Form(max_length=40)] = "",
    maturity_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    refused = _refused_desk(request, principal)
    if refused is not None:
        return refused
    form = IssueForm(programme_id, _chosen(confirmation_ids), amount, maturity_on)
    money = _amount(amount, form.errors)
    maturity = _day(maturity_on, "maturity_on", form.errors)
    if not form.programme_id:
        form.errors["programme_id"] = REFUSALS["programme_not_found"]
    if not form.confirmation_ids:
        form.errors["confirmation_ids"] = REFUSALS["confirmation_required"]
    factory = request.app.state.session_factory
    status = 422
    if money is not None and maturity is not None and not form.errors:
        try:
            with transaction(factory) as session:
                issued = credentials.issue(
                    session,
                    principal,
                    programme_id=form.programme_id,
                    confirmation_ids=list(form.confirmation_ids),
                    amount=money,
                    maturity_on=maturity,
                    issued_on=clock.today(),
                )
                issued_id = issued.id
        except ChainfinError as exc:
            fields = {"amount": "amount", "maturity_on": "maturity_on"}
            fields |= {"confirmation_ids": "confirmation_ids", "programme_id": "programme_id"}
            fields |= {"tenor_cap_months": "maturity_on"}
            form.errors = field_errors(exc, fields)
            status = exc.status if exc.status in (404, 409, 422) else 422
            status = 422 if status == 404 else status
        else:
            return RedirectResponse(f"/treasury/issued?issued={issued_id}", status_code=303)
    with transaction(factory, write=False) as session:
        context = _issue_context(session, principal, form)
        me = whoami(session, principal)
    return _page(request, me, "treasury_issue.html", context, status)


# ---------------------------------------------------------------------------- the issued book


@dataclass(frozen=True)
class Holding:
    """What one holder has of a credential at one tier: its current pieces summed."""

    holder_id: str
    tier: int
    depth: int
    amount: str
    states: tuple[str, ...]


CURRENT = {PieceStatus.OFFERED, PieceStatus.HELD, PieceStatus.FINANCED, PieceStatus.OVERDUE}
CURRENT |= {PieceStatus.SETTLED}


def holdings(pieces: Sequence[CredentialPieceOut]) -> list[Holding]:
    """The current pieces (those not split or passed on) grouped by holder and tier, the
    first holder first and each tier down after it."""
    grouped: dict[tuple[str, int], list[CredentialPieceOut]] = defaultdict(list)
    for piece in pieces:
        if piece.status in CURRENT:
            grouped[(piece.holder_id, piece.tier)].append(piece)
    out = []
    for (holder, tier), group in grouped.items():
        total = sum(Money.parse(p.amount, p.currency).amount_minor for p in group)
        out.append(
            Holding(
                holder,
                tier,
                min(len(p.lineage) for p in group),
                Money(total, group[0].currency).to_decimal_string(),
                tuple(dict.fromkeys(p.status.value for p in group)),
            )
        )
    return sorted(out, key=lambda h: (h.tier, h.depth))


@dataclass(frozen=True)
class BookRow:
    credential: CredentialOut
    holdings: list[Holding]


@router.get("/treasury/issued", response_class=HTMLResponse)
def issued_book(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    issued: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury_issued.html", {})
    rows = []
    for credential in _issued(session, principal):
        tree = credentials.tree(session, principal, credential.id)
        held = holdings([CredentialPieceOut.build(p) for p in tree])
        rows.append(BookRow(CredentialOut.build(credential), held))
    ids = {h.holder_id for r in rows for h in r.holdings}
    names = _names(session, principal, ids | {r.credential.first_holder_id for r in rows})
    for row in rows:  # holders further down the tiers than the firm's own trading partners
        if any(h.holder_id not in names for h in row.holdings):
            names = {**holder_names(session, principal, row.credential.id), **names}
    just = next((r.credential for r in rows if r.credential.id == issued), None)
    context = {
        "section": "issued",
        "rows": rows,
        "just_issued": just,
        "names": names,
        **_labels(),
    }
    return _desk(request, session, principal, "treasury_issued.html", context)


# ---------------------------------------------------------------------------- calendar, payment run


@dataclass(frozen=True)
class Due:
    credential: CredentialOut
    due: AmountDueOut
    days_late: int
    holders: list[Holding] = field(default_factory=list)  # whom the payment goes to


def _current_holders(
    session: Session, principal: Principal, credential: CredentialOut, names: dict[str, str]
) -> list[Holding]:
    """Who holds the credential's pieces now (a financed piece: the bank that discounted
    it), the first holder first; ``names`` gains their names."""
    tree = credentials.tree(session, principal, credential.id)
    held = holdings([CredentialPieceOut.build(p) for p in tree])
    if any(h.holder_id not in names for h in held):
        names.update(holder_names(session, principal, credential.id))
    return held


def maturity_calendar(session: Session, principal: Principal) -> dict[str, Any]:
    """The maturity calendar as the page shows it: ``run``, the credentials due today or
    overdue (each a :class:`Due` with its current holders), and ``months``, those paid
    later, by month."""
    today = clock.today()
    run: list[Due] = []
    months: dict[date, list[Due]] = defaultdict(list)
    issued = [CredentialOut.build(c) for c in _issued(session, principal)]
    names = _names(session, principal, {c.first_holder_id for c in issued})
    for credential in sorted(issued, key=lambda c: (c.payment_on, c.id)):
        if credential.status not in (
            CredentialStatus.ACTIVE,
            CredentialStatus.OVERDUE,
            CredentialStatus.OFFERED,
        ):
            continue
        if credential.payment_on <= today and credential.status != CredentialStatus.OFFERED:
            due = credentials.amount_due(session, principal, credential.id, today)
            late = (today - credential.payment_on).days
            held = _current_holders(session, principal, credential, names)
            run.append(Due(credential, AmountDueOut.build(due), late, held))
        elif credential.payment_on > today:
            due = credentials.amount_due(session, principal, credential.id, credential.payment_on)
            held = _current_holders(session, principal, credential, names)
            months[credential.payment_on.replace(day=1)].append(
                Due(credential, AmountDueOut.build(due), 0, held)
            )
    return {
        "section": "calendar",
        "run": run,
        "run_total": _sum(d.due.total for d in run),
        "months": [
            {"month": m, "rows": rows, "total": _sum(d.due.total for d in rows)}
            for m, rows in sorted(months.items())
        ],
        "names": names,
        **_labels(),
    }


@router.get("/treasury/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    result: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> Response:
    if not _is_core(session, principal):
        return _desk(request, session, principal, "treasury_calendar.html", {})
    outcomes = [
        _outcome(_credential_label(session, principal, credential_id), code)
        for credential_id, code in results_of(result)
    ]
    context = {**maturity_calendar(session, principal), "outcomes": outcomes}
    return _desk(request, session, principal, "treasury_calendar.html", context)


class NotDue(Exception):
    """The payment run pays a credential on or after its payment date, never before (the
    service would take a redemption in full before it: the API offers that, not this desk)."""


def _settle_one(session: Session, principal: Principal, credential_id: str) -> None:
    """Pay in full what is due today on a credential whose payment date has come; the
    reference makes a second click on the same day return the first payment."""
    credential = credentials.get(session, principal, credential_id)
    today = clock.today()
    if credential.payment_on > today:
        raise NotDue(credential.id)
    due = credentials.amount_due(session, principal, credential.id, today)
    credentials.settle(
        session,
        principal,
        credential.id,
        amount=Money(due.total_minor, due.currency),
        payment_ref=f"treasury/{credential.id}/{today.isoformat()}",
        paid_on=today,
    )


def _settle(request: Request, principal: Principal, ids: Sequence[str], one: bool) -> Response:
    """One transaction per credential, each paid in full or not at all; then back to the
    calendar with each one's result in the address."""
    refused = _refused_desk(request, principal)
    if refused is not None:
        return refused
    factory = request.app.state.session_factory
    if one:  # a credential in the address that is not this firm's: not found
        with transaction(factory, write=False) as session:
            if not _issued_by_me(session, principal, ids[0]):
                me = whoami(session, principal)
                reason = REFUSALS["credential_not_found"]
                return render(request, "error.html", {"reason": reason}, me=me, status_code=404)
    if not ids:
        with transaction(factory, write=False) as session:
            context = {**maturity_calendar(session, principal), "error": NOTHING_TO_SETTLE}
            me = whoami(session, principal)
        return _page(request, me, "treasury_calendar.html", context, 422)
    done: list[tuple[str, str]] = []
    for credential_id in ids:
        try:
            with transaction(factory) as session:
                _settle_one(session, principal, credential_id)
        except NotDue:
            done.append((credential_id, "not_due"))
        except ChainfinError as exc:
            done.append((credential_id, exc.code))
        else:
            done.append((credential_id, OK))
    return RedirectResponse(results_url("/treasury/calendar", done), status_code=303)


def _issued_by_me(session: Session, principal: Principal, credential_id: str) -> bool:
    try:
        credential = credentials.get(session, principal, credential_id)
    except ChainfinError:
        return False
    return credential.issuer_id == principal.enterprise_id


def _credential_label(session: Session, principal: Principal, credential_id: str) -> Outcome:
    """The credential as a person names it on the page (its first holder and face); the
    id sent when it is not one this firm issued."""
    if not _issued_by_me(session, principal, credential_id):
        return Outcome(credential_id, None)
    credential = credentials.get(session, principal, credential_id)
    holder = _names(session, principal, {credential.first_holder_id})
    face = Money(credential.face_minor, credential.currency).to_decimal_string()
    return Outcome(holder.get(credential.first_holder_id, credential.first_holder_id), face)


@router.post("/treasury/settle", response_class=HTMLResponse)
def settle_many(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    credential_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    return _settle(request, principal, _chosen(credential_ids), one=False)


@router.post("/treasury/settle/{credential_id}", response_class=HTMLResponse)
def settle_one(
    credential_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    return _settle(request, principal, [credential_id], one=True)
