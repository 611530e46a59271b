"""The bank's operations desk (/operations): credit lines, sub-limits and exposure caps,
changed by maker-checker (one person proposes, another approves; the approval applies the
change through the lines service in its own transaction); products and the authority
ladder; disbursement files (pain.001, downloaded as an attachment); camt.053 statement
imports with the matched and unmatched entries and why; and the books (trial balance, an
account's statement, the general-ledger export as CSV).

Each page asks the same scopes as the API does: ``loans:read`` to look, ``loans:write`` to
propose, decide, disburse and import, ``books:read`` for the books. Enterprise users and
people of other banks are refused by the services' scoping (403 or 404)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CreditLine, LineChange
from chainfin.api.deps import SessionDep
from chainfin.domain import books as chart
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.products import ProductKind
from chainfin.services import books, identity
from chainfin.services.lending import back_office, line_changes, lines, loans, products, statements
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("overview", "/operations", N_("Overview")),
    ("lines", "/operations/lines", N_("Credit lines")),
    ("products", "/operations/products", N_("Products and authority")),
    ("disbursements", "/operations/disbursements", N_("Disbursements")),
    ("statements", "/operations/statements", N_("Statement import")),
    ("books", "/operations/books", N_("Books")),
)
STATEMENT_MAX_BYTES = 5 * 1024 * 1024
NOT_BANK = N_("The operations desk is for a bank's staff.")
NO_ROLE = N_("Your role may not open this page.")
NO_BOOKS = N_("Reading the books needs the books:read scope (risk officers and auditors).")
CHANGE_KINDS = {
    "open": N_("Open a line"),
    "limit": N_("Change the limit"),
    "sublimit": N_("Add a sub-limit"),
    "freeze": N_("Freeze"),
    "unfreeze": N_("Unfreeze"),
    "cap": N_("Set an exposure cap"),
}
CHANGE_STATES = {
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Turned down"),
}
LINE_STATES = {
    "active": N_("Active"),
    "frozen": N_("Frozen"),
    "closed": N_("Closed"),
    "expired": N_("Expired"),
}
PRODUCT_KINDS = {
    "receivable_financing": N_("Receivable financing"),
    "order_financing": N_("Order financing"),
    "inventory_pledge": N_("Inventory pledge"),
    "dealer_financing": N_("Dealer financing"),
}
MATCH_KINDS = {"disbursement": N_("Disbursement paid out"), "repayment": N_("Loan repayment")}
# Why an entry was not matched, and what the person does about it.
UNMATCHED = {
    "not_booked": (
        N_("Not booked yet (pending at the bank)"),
        N_("Import the next statement, which books it."),
    ),
    "reversal": (N_("A reversal"), N_("Find the entry it reverses and correct it by hand.")),
    "already_imported": (
        N_("Already imported in an earlier statement"),
        N_("Nothing to do: it counts once."),
    ),
    "unknown_end_to_end_id": (
        N_("A payment out that we did not instruct"),
        N_("Ask the bank's payments team who sent it."),
    ),
    "amount_differs": (
        N_("Our payment, but another amount"),
        N_("Check the disbursement file against the bank's statement."),
    ),
    "disbursement_already_matched": (
        N_("This disbursement was already seen paid out"),
        N_("Check for a duplicate payment."),
    ),
    "no_loan_reference": (
        N_("Money in that names no loan"),
        N_("If you know the loan, apply it as a repayment below."),
    ),
    "ambiguous": (
        N_("Points at more than one loan"),
        N_("Apply it as a repayment of the right loan below."),
    ),
    "currency_differs": (
        N_("In another currency than the loan"),
        N_("Convert and apply it by hand."),
    ),
    "not_applied": (
        N_("Matched, but the repayment was refused"),
        N_("Read the detail; apply it by hand once the cause is fixed."),
    ),
}
ACCOUNT_NAMES = {
    chart.CLEARING: N_("Clearing account"),
    chart.DISCOUNTED: N_("Discounted credentials"),
    chart.OVERDUE_DISCOUNTED: N_("Discounted credentials overdue"),
    chart.UNEARNED_DISCOUNT: N_("Unearned discount interest"),
    chart.INTEREST_INCOME: N_("Discount interest income"),
    chart.FEE_INCOME: N_("Fee and commission income"),
    chart.PENALTY_INCOME: N_("Penalty interest income"),
    chart.INTEREST_RECEIVABLE: N_("Loan interest receivable"),
    chart.LOANS: N_("Loans, principal"),
    chart.DISBURSEMENTS_IN_TRANSIT: N_("Disbursements in transit"),
    chart.UNAPPLIED_RECEIPTS: N_("Unapplied receipts"),
    chart.LOAN_INTEREST_INCOME: N_("Loan interest income"),
}
POSTING_KINDS = {
    "financed": N_("Credential discounted"),
    "discount": N_("Discount interest deferred"),
    "accrual": N_("Discount interest earned"),
    "settled": N_("Credential paid at maturity"),
    "repayment": N_("Overdue credential repaid"),
    "overdue": N_("Credential overdue"),
    "reversal": N_("Reversal"),
    "loan_disbursed": N_("Loan disbursed"),
    "loan_paid_out": N_("Disbursement seen on the statement"),
    "loan_accrual": N_("Loan interest accrued"),
    "loan_repayment": N_("Loan repayment"),
    "loan_prepayment": N_("Loan prepayment"),
}
LOAN_ID = re.compile(r"\blon_[0-9A-Z]{26}\b")
# What a person reads for a service's refusal, by its code.
REFUSALS = {
    "scope_missing": N_("Your role may not do this."),
    "bank_staff_only": NOT_BANK,
    "four_eyes_required": N_("You proposed this change: another person approves or rejects it."),
    "illegal_transition": N_(
        "This is not possible in the current state: the change was already decided, or the "
        "line's state does not allow it."
    ),
    "line_change_not_found": N_("No such change at your bank."),
    "credit_line_not_found": N_("No such credit line at your bank."),
    "line_limit_below_usage": N_("The new limit is below what the line already holds."),
    "sublimit_below_usage": N_("The sub-limit is below what the line already holds for it."),
    "cap_below_exposure": N_("The cap is below today's exposure to this chain."),
    "not_a_customer": N_("The obligor is not one of your bank's customers."),
    "line_expired": N_("The line has expired: open a new line."),
    "note_required": N_("Say why."),
    "concurrent_change": N_("This changed while you worked; reload the page and try again."),
    "nothing_to_disburse": N_("Choose at least one approved loan that is ready to pay out."),
    "disbursement_file_not_found": N_("No such disbursement file at your bank."),
    "statement_import_not_found": N_("No such statement import at your bank."),
    "loan_not_found": N_("No such loan at your bank."),
    "exists_with_different_request": N_(
        "This statement entry was already applied to another loan or amount."
    ),
}
# A field's problem when the service says it in words: the form's own message.
FIELD_REASONS = {
    "limit": N_("Enter a positive amount within the line's limit and not below its usage."),
    "cap": N_("Enter a positive amount."),
    "obligor": N_("Enter the USCC of one of your customers."),
    "core": N_("Enter the USCC of a core enterprise that is your customer."),
    "member": N_("Enter the USCC of a chain member."),
    "product_kind": N_("Choose a product kind, a member or both."),
    "starts_on": N_("Enter a date."),
    "expires_on": N_("The expiry must be after the start."),
    "reason": N_("Say why (at most 300 characters)."),
    "name": N_("Name the cap."),
    "note": N_("Say why."),
    "loan_ids": N_("Choose approved loans that are ready to pay out."),
    "debtor_name": N_("Enter the paying account's name (at most 70 characters)."),
    "debtor_account": N_("Enter the paying account's number or IBAN."),
    "debtor_agent": N_("Enter the paying bank's code (BIC or CNAPS)."),
    "execution_on": N_("Enter the execution date."),
    "amount": N_("Enter a positive amount."),
    "loan_id": N_("Choose one of your bank's active loans."),
}
ENTER_AMOUNT = N_("Enter the amount.")
AMOUNT_FORMAT = N_("Enter an amount like 1234.56.")
AMOUNT_POSITIVE = N_("Enter an amount above zero.")
NO_FILE = N_("Choose a camt.053 statement file.")
TOO_LARGE = N_("The file is larger than 5 MB.")
NOT_CAMT = N_("This is not a camt.053 statement the desk can read.")
NOT_APPLICABLE = N_("Only an unmatched credit that names no loan (or several) is applied by hand.")


# ---------------------------------------------------------------------------- the desk


def _refusal(principal: Principal, scope: Scope = Scope.LOANS_READ) -> str | None:
    """Why this person may not open a page of the desk (None: they may)."""
    if principal.bank_id is None:
        return NOT_BANK
    if not principal.has(scope):
        return NO_BOOKS if scope is Scope.BOOKS_READ else NO_ROLE
    return None


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    scope: Scope = Scope.LOANS_READ,
) -> Response:
    me = whoami(session, principal)
    refused = _refusal(principal, scope)
    if refused is not None:
        return render(request, "error.html", {"reason": refused}, me=me, status_code=403)
    values = {
        "nav": "operations",
        "sections": SECTIONS,
        "today": clock.today(),
        "may_write": principal.has(Scope.LOANS_WRITE),
        "may_books": principal.has(Scope.BOOKS_READ),
        "me_id": principal.subject_id,
        "change_kinds": CHANGE_KINDS,
        "change_states": CHANGE_STATES,
        "line_states": LINE_STATES,
        "product_kinds": PRODUCT_KINDS,
        **context,
    }
    return render(request, name, values, me=me, status_code=status_code)


def _refused(
    request: Request, principal: Principal, scope: Scope = Scope.LOANS_READ
) -> Response | None:
    """A write's first check: the desk is a bank's, and the role must have ``scope``."""
    reason = _refusal(principal, scope)
    if reason is None:
        return None
    with transaction(request.app.state.session_factory, write=False) as session:
        me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=403)


def _dec(amount_minor: int, currency: str = "CNY") -> str:
    return Money(amount_minor, currency).to_decimal_string()


def reason_of(exc: ChainfinError) -> str:
    return REFUSALS.get(exc.code, exc.message)


def field_errors(exc: ChainfinError, fields: dict[str, str]) -> dict[str, str]:
    """A refusal as the form's fields (``fields`` maps the service's to the form's)."""
    out: dict[str, str] = {}
    specific = REFUSALS.get(exc.code)
    for problem in exc.errors if isinstance(exc, ValidationFailed) else []:
        name = problem.field.split("[")[0]
        target = fields.get(name, "form")
        out.setdefault(target, specific or FIELD_REASONS.get(name, problem.reason))
    if not out:
        target = {"line_limit_below_usage": "limit", "sublimit_below_usage": "limit"}.get(
            exc.code, "form"
        )
        target = {"cap_below_exposure": "cap", "not_a_customer": "obligor"}.get(exc.code, target)
        out[fields.get(target, target)] = reason_of(exc)
    return out


def _status(exc: ChainfinError) -> int:
    return exc.status if exc.status in (403, 404, 409, 422) else 422


def _amount(text: str, name: str, errors: dict[str, str], currency: str = "CNY") -> Money | None:
    if not text.strip():
        errors[name] = ENTER_AMOUNT
        return None
    try:
        amount = Money.parse(text.strip().replace(",", ""), currency)
    except MoneyError:
        errors[name] = AMOUNT_FORMAT
        return None
    if amount.amount_minor <= 0:
        errors[name] = AMOUNT_POSITIVE
        return None
    return amount


def _names(session: Session, principal: Principal, ids: set[str]) -> dict[str, str]:
    return identity.party_names(session, principal, ids)


# ---------------------------------------------------------------------------- overview


@router.get("/operations", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """Figures of the desk, each linking to its page."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations.html", {})
    all_lines = lines.lines(session, principal, limit=MAX_LIMIT).items
    files = back_office.disbursement_files(session, principal)
    imports = back_office.statement_imports(session, principal)
    context: dict[str, Any] = {
        "section": "overview",
        "lines_active": sum(1 for ln in all_lines if ln.status == "active"),
        "lines_frozen": sum(1 for ln in all_lines if ln.status == "frozen"),
        "sanctioned": _dec(sum(ln.limit_minor for ln in all_lines)),
        "available": _dec(
            sum(ln.limit_minor - ln.pending_minor - ln.posted_minor for ln in all_lines)
        ),
        "pending": len(line_changes.changes(session, principal, status="pending")),
        "to_disburse": len(back_office.loans_to_disburse(session, principal)),
        "files": len(files),
        "imports": len(imports),
        "unmatched": sum(len(i.unmatched) for i in imports),
        "products": len(products.products(session, principal, limit=MAX_LIMIT).items),
        "balanced": None,
    }
    if principal.has(Scope.BOOKS_READ):
        context["balanced"] = books.trial_balance(session, principal, None).balanced
    return _page(request, session, principal, "bank_operations.html", context)


# ---------------------------------------------------------------------------- lines


@dataclass
class ProposalForm:
    """What the person typed into one of the proposal forms, and what was wrong with it."""

    kind: str = ""
    amount: str = ""
    obligor: str = ""
    core: str = ""
    starts_on: str = ""
    expires_on: str = ""
    product_kind: str = ""
    member: str = ""
    name: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LineRow:
    id: str
    obligor: str
    core: str
    status: str
    currency: str
    limit: str
    used: str
    available: str
    expires_on: date
    revolving: bool


def _line_row(line: CreditLine, names: dict[str, str]) -> LineRow:
    used = line.pending_minor + line.posted_minor
    return LineRow(
        line.id,
        names.get(line.obligor_id, line.obligor_id),
        names.get(line.core_id, line.core_id),
        line.status,
        line.currency,
        _dec(line.limit_minor, line.currency),
        _dec(used, line.currency),
        _dec(line.limit_minor - used, line.currency),
        line.expires_on,
        line.revolving,
    )


@dataclass(frozen=True)
class ChangeRow:
    id: str
    kind: str
    line_id: str | None
    what: dict[str, Any]
    reason: str
    status: str
    proposer_id: str
    proposer: str
    proposed_at: Any
    decider: str
    decided_at: Any
    note: str
    mine: bool


def _change_rows(session: Session, principal: Principal, rows: list[LineChange]) -> list[ChangeRow]:
    people = back_office.staff_names(
        session, principal, {r.proposed_by for r in rows} | {r.decided_by or "" for r in rows}
    )
    parties = {str(r.payload.get(k) or "") for r in rows for k in ("obligor", "core", "member")}
    names = _names(session, principal, parties)
    out = []
    for r in rows:
        what = dict(r.payload)
        for key in ("obligor", "core", "member"):
            if what.get(key):
                what[key] = names.get(what[key], what[key])
        out.append(
            ChangeRow(
                r.id,
                r.kind,
                r.line_id,
                what,
                r.reason,
                r.status,
                r.proposed_by,
                people.get(r.proposed_by, r.proposed_by),
                r.proposed_at,
                people.get(r.decided_by or "", r.decided_by or ""),
                r.decided_at,
                r.decision_note or "",
                r.proposed_by == principal.subject_id,
            )
        )
    return out


def _lines_context(
    session: Session, principal: Principal, form: ProposalForm | None = None
) -> dict[str, Any]:
    rows = lines.lines(session, principal, limit=MAX_LIMIT).items
    caps = lines.caps(session, principal, limit=MAX_LIMIT).items
    ids = {r.obligor_id for r in rows} | {r.core_id for r in rows}
    ids |= {c.core_id for c in caps if c.core_id}
    names = _names(session, principal, ids)
    pending = line_changes.changes(session, principal, status="pending")
    decided = [
        c for c in line_changes.changes(session, principal, limit=40) if c.status != "pending"
    ][:20]
    return {
        "section": "lines",
        "lines": [_line_row(r, names) for r in rows],
        "caps": [
            {
                "name": c.name,
                "core": names.get(c.core_id or "", c.core_id or ""),
                "kind": c.kind,
                "cap": _dec(c.cap_minor, c.currency),
                "used": _dec(c.used_minor, c.currency),
                "available": _dec(c.cap_minor - c.used_minor, c.currency),
                "currency": c.currency,
            }
            for c in caps
        ],
        "pending": _change_rows(session, principal, pending),
        "decided": _change_rows(session, principal, decided),
        "form": form or ProposalForm(),
        "decide_error": "",
    }


@router.get("/operations/lines", response_class=HTMLResponse)
def lines_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    proposed: Annotated[str | None, Query(max_length=40)] = None,
    decided: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Every line with its sanctioned, used and available limit; the exposure caps; the
    changes waiting for a checker and those decided lately; the forms to propose a line or
    a cap."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_lines.html", {})
    context = _lines_context(session, principal)
    context |= {"proposed": proposed, "decided_id": decided}
    return _page(request, session, principal, "bank_operations_lines.html", context)


def _line_context(
    session: Session, principal: Principal, line_id: str, form: ProposalForm | None = None
) -> dict[str, Any]:
    line = lines.line_for(session, principal, line_id)
    subs = lines.sublimits(session, principal, line)
    caps = lines.caps(session, principal, core=line.core_id, limit=MAX_LIMIT).items
    ids = {line.obligor_id, line.core_id, line.guarantor_id or ""}
    ids |= {s.member_id or "" for s in subs}
    names = _names(session, principal, ids)
    history = line_changes.changes(session, principal, line_id=line.id, limit=50)
    return {
        "section": "lines",
        "line": _line_row(line, names),
        "line_reason": line.status_reason or "",
        "starts_on": line.starts_on,
        "sublimits": [
            {
                "member": names.get(s.member_id or "", s.member_id or ""),
                "product_kind": s.product_kind or "",
                "limit": _dec(s.limit_minor, line.currency),
                "used": _dec(s.pending_minor + s.posted_minor, line.currency),
                "available": _dec(s.limit_minor - s.pending_minor - s.posted_minor, line.currency),
            }
            for s in subs
        ],
        "caps": [
            {
                "name": c.name,
                "cap": _dec(c.cap_minor, c.currency),
                "used": _dec(c.used_minor, c.currency),
                "available": _dec(c.cap_minor - c.used_minor, c.currency),
            }
            for c in caps
        ],
        "pending": _change_rows(session, principal, [c for c in history if c.status == "pending"]),
        "decided": _change_rows(session, principal, [c for c in history if c.status != "pending"]),
        "form": form or ProposalForm(),
        "kinds": [k.value for k in ProductKind],
        "decide_error": "",
    }


def _line_or_refusal(
    request: Request,
    session: Session,
    principal: Principal,
    line_id: str,
    form: ProposalForm | None = None,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_line.html", {})
    try:
        context = _line_context(session, principal, line_id, form)
    except ChainfinError as exc:
        me = whoami(session, principal)
        reason = reason_of(exc)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=_status(exc))
    context |= extra or {}
    return _page(request, session, principal, "bank_operations_line.html", context, status_code)


@router.get("/operations/lines/{line_id}", response_class=HTMLResponse)
def line_page(
    line_id: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    proposed: Annotated[str | None, Query(max_length=40)] = None,
    decided: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """One line: its figures, sub-limits and the caps on its chain, its changes, and the
    forms to propose a new limit, a sub-limit, a freeze or an unfreeze."""
    extra = {"proposed": proposed, "decided_id": decided}
    return _line_or_refusal(request, session, principal, line_id, extra=extra)


FORM_FIELDS = {
    "limit": "amount",
    "cap": "amount",
    "amount": "amount",
    "obligor": "obligor",
    "core": "core",
    "starts_on": "starts_on",
    "expires_on": "expires_on",
    "product_kind": "product_kind",
    "member": "member",
    "name": "name",
    "reason": "reason",
    "kind": "kind",
    "members": "core",
    "guarantor": "form",
}


def _propose(
    request: Request, principal: Principal, form: ProposalForm, line_id: str | None
) -> str | ChainfinError:
    """The new proposal's id, or the refusal (nothing written)."""
    proposal = line_changes.Proposal(
        kind=form.kind,
        reason=form.reason,
        line_id=line_id,
        amount=form.amount,
        obligor=form.obligor,
        core=form.core,
        starts_on=form.starts_on,
        expires_on=form.expires_on,
        product_kind=form.product_kind,
        member=form.member,
        name=form.name,
    )
    try:
        with transaction(request.app.state.session_factory) as session:
            return line_changes.propose(session, principal, proposal).id
    except ChainfinError as exc:
        return exc


def _check_form(form: ProposalForm, line_currency: str = "CNY") -> None:
    """What the page checks before asking the service (the same words on every form)."""
    if form.kind in ("open", "limit", "sublimit", "cap"):
        _amount(form.amount, "amount", form.errors, line_currency)
    if not form.reason.strip():
        form.errors["reason"] = FIELD_REASONS["note"]
    elif len(form.reason) > 300:
        form.errors["reason"] = FIELD_REASONS["reason"]
    for name in ("starts_on", "expires_on") if form.kind == "open" else ():
        try:
            date.fromisoformat(getattr(form, name).strip())
        except ValueError:
            form.errors[name] = FIELD_REASONS["starts_on"]


Text = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=400)]


@router.post("/operations/lines/propose", response_class=HTMLResponse)
def propose_line_or_cap(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    kind: Annotated[str, Form(max_length=16)] = "",
    amount: Text = "",
    obligor: Text = "",
    core: Text = "",
    starts_on: Text = "",
    expires_on: Text = "",
    name: Text = "",
    reason: Reason = "",
) -> Response:
    """Propose a new line (``kind=open``) or an exposure cap (``kind=cap``)."""
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    form = ProposalForm(
        kind=kind if kind in ("open", "cap") else "open",
        amount=amount,
        obligor=obligor,
        core=core,
        starts_on=starts_on,
        expires_on=expires_on,
        name=name,
        reason=reason,
    )
    _check_form(form)
    status = 422
    if not form.errors:
        outcome = _propose(request, principal, form, None)
        if isinstance(outcome, str):
            return RedirectResponse(f"/operations/lines?proposed={outcome}", status_code=303)
        form.errors = field_errors(outcome, FORM_FIELDS)
        status = _status(outcome)
    with transaction(request.app.state.session_factory, write=False) as session:
        context = _lines_context(session, principal, form)
        return _page(request, session, principal, "bank_operations_lines.html", context, status)


@router.post("/operations/lines/{line_id}/propose", response_class=HTMLResponse)
def propose_on_line(
    line_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    kind: Annotated[str, Form(max_length=16)] = "",
    amount: Text = "",
    product_kind: Text = "",
    member: Text = "",
    reason: Reason = "",
) -> Response:
    """Propose a change to one line: a new limit, a sub-limit, a freeze or an unfreeze."""
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    chosen = kind if kind in line_changes.ON_A_LINE else "limit"
    form = ProposalForm(
        kind=chosen, amount=amount, product_kind=product_kind, member=member, reason=reason
    )
    _check_form(form)
    status = 422
    if not form.errors:
        outcome = _propose(request, principal, form, line_id)
        if isinstance(outcome, str):
            return RedirectResponse(
                f"/operations/lines/{line_id}?proposed={outcome}", status_code=303
            )
        form.errors = field_errors(outcome, FORM_FIELDS)
        status = _status(outcome)
    with transaction(request.app.state.session_factory, write=False) as session:
        return _line_or_refusal(request, session, principal, line_id, form, status)


def _decide(
    request: Request, principal: Principal, change_id: str, approve: bool, note: str
) -> Response:
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    factory = request.app.state.session_factory
    line_id: str | None = None
    try:
        with transaction(factory) as session:
            row = line_changes.change_for(session, principal, change_id)
            line_id = row.line_id
            if approve:
                row = line_changes.approve(session, principal, change_id, note=note)
            else:
                row = line_changes.reject(session, principal, change_id, note=note)
            target = row.line_id or (row.result_id if row.kind == "open" and approve else None)
    except ChainfinError as exc:
        status = _status(exc)
        message = reason_of(exc)
        if isinstance(exc, ValidationFailed) and exc.errors and exc.code not in REFUSALS:
            problem = exc.errors[0]
            message = FIELD_REASONS.get(problem.field.split("[")[0], problem.reason)
        with transaction(factory, write=False) as session:
            me = whoami(session, principal)
            if exc.code in ("line_change_not_found", "bank_staff_only", "scope_missing"):
                return render(request, "error.html", {"reason": message}, me=me, status_code=status)
            extra = {"decide_error": message, "decide_id": change_id}
            if line_id:
                return _line_or_refusal(request, session, principal, line_id, None, status, extra)
            context = _lines_context(session, principal) | extra
            return _page(request, session, principal, "bank_operations_lines.html", context, status)
    where = f"/operations/lines/{target}" if target else "/operations/lines"
    return RedirectResponse(f"{where}?decided={change_id}", status_code=303)


@router.post("/operations/changes/{change_id}/approve", response_class=HTMLResponse)
def approve_change(
    change_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    note: Reason = "",
) -> Response:
    """The checker applies the change (never its proposer)."""
    return _decide(request, principal, change_id, True, note)


@router.post("/operations/changes/{change_id}/reject", response_class=HTMLResponse)
def reject_change(
    change_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    note: Reason = "",
) -> Response:
    """The checker turns the change down, saying why."""
    return _decide(request, principal, change_id, False, note)


# ---------------------------------------------------------------------------- products


@router.get("/operations/products", response_class=HTMLResponse)
def products_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """The bank's products with their main terms, and the authority ladder of each: the
    amount each level approves up to, and who holds that level."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_products.html", {})
    ladder = back_office.authority_ladder(session, principal)
    rows = []
    for product in products.products(session, principal, limit=MAX_LIMIT).items:
        config = products.config_of(product)
        cur = config.currency
        rows.append(
            {
                "code": product.code,
                "name": product.name,
                "kind": product.kind,
                "status": product.status,
                "currency": cur,
                "min_amount": _dec(config.min_amount_minor, cur),
                "max_amount": _dec(config.max_amount_minor, cur),
                "tenor": (config.min_tenor_months, config.max_tenor_months),
                "auto_approve": _dec(config.auto_approve_limit_minor, cur),
                "min_score": config.min_score,
                "levels": [
                    {
                        "level": a.level,
                        "up_to": _dec(a.max_amount_minor, cur),
                        "people": [p for p in ladder if p.level >= a.level],
                    }
                    for a in config.authority
                ],
            }
        )
    context = {"section": "products", "products": rows, "ladder": ladder}
    return _page(request, session, principal, "bank_operations_products.html", context)


# ---------------------------------------------------------------------------- disbursements


@dataclass
class DisburseForm:
    loan_ids: list[str] = field(default_factory=list)
    debtor_name: str = ""
    debtor_account: str = ""
    debtor_agent: str = ""
    execution_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _disbursements_context(
    session: Session, principal: Principal, form: DisburseForm | None = None
) -> dict[str, Any]:
    ready = back_office.loans_to_disburse(session, principal)
    files = back_office.disbursement_files(session, principal)
    names = _names(session, principal, {loan.borrower_id for loan in ready})
    return {
        "section": "disbursements",
        "ready": [
            {
                "id": loan.id,
                "reference": loan.reference,
                "borrower": names.get(loan.borrower_id, loan.borrower_id),
                "product_kind": loan.product_kind,
                "amount": _dec(loan.principal_minor, loan.currency),
                "currency": loan.currency,
                "term_months": loan.term_months,
            }
            for loan in ready
        ],
        "files": [
            {
                "id": f.id,
                "message_id": f.message_id,
                "execution_on": f.execution_on,
                "count": f.count,
                "total": _dec(f.total_minor, f.currency),
                "currency": f.currency,
                "created_at": f.created_at,
            }
            for f in files
        ],
        "form": form or DisburseForm(execution_on=clock.today().isoformat()),
    }


@router.get("/operations/disbursements", response_class=HTMLResponse)
def disbursements_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    written: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The approved loans ready to pay out (choose them and write one pain.001 file) and the
    files written, each to download."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_disbursements.html", {})
    context = _disbursements_context(session, principal) | {"written": written}
    return _page(request, session, principal, "bank_operations_disbursements.html", context)


@router.post("/operations/disbursements", response_class=HTMLResponse)
def disburse(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    loan_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
    debtor_name: Annotated[str, Form(max_length=140)] = "",
    debtor_account: Annotated[str, Form(max_length=60)] = "",
    debtor_agent: Annotated[str, Form(max_length=20)] = "",
    execution_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """One pain.001 file paying the chosen loans out of the bank's account."""
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    chosen = list(dict.fromkeys(i for i in loan_ids or [] if i))[:MAX_LIMIT]
    form = DisburseForm(
        chosen, debtor_name.strip(), debtor_account.strip(), debtor_agent.strip(), execution_on
    )
    if not chosen:
        form.errors["loan_ids"] = REFUSALS["nothing_to_disburse"]
    for name in ("debtor_name", "debtor_account", "debtor_agent"):
        if not getattr(form, name):
            form.errors[name] = FIELD_REASONS[name]
    try:
        on = date.fromisoformat(execution_on.strip())
    except ValueError:
        form.errors["execution_on"] = FIELD_REASONS["execution_on"]
    factory = request.app.state.session_factory
    status = 422
    if not form.errors:
        try:
            with transaction(factory) as session:
                written = loans.disburse(
                    session,
                    principal,
                    debtor_name=form.debtor_name,
                    debtor_account=form.debtor_account,
                    debtor_agent=form.debtor_agent,
                    execution_on=on,
                    loan_ids=chosen,
                ).id
        except ChainfinError as exc:
            fields = {n: n for n in ("debtor_name", "debtor_account", "debtor_agent")}
            fields |= {"loan_ids": "loan_ids", "requested_execution_date": "execution_on"}
            fields |= {"execution_on": "execution_on"}
            form.errors = field_errors(exc, fields)
            status = _status(exc)
        else:
            return RedirectResponse(f"/operations/disbursements?written={written}", status_code=303)
    with transaction(factory, write=False) as session:
        context = _disbursements_context(session, principal, form) | {"written": None}
        return _page(
            request, session, principal, "bank_operations_disbursements.html", context, status
        )


@router.get("/operations/disbursements/{file_id}/pain001")
def pain001(
    file_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """The file as written, to hand to the payment system."""
    refused = _refusal(principal)
    if refused is not None:
        me = whoami(session, principal)
        return render(request, "error.html", {"reason": refused}, me=me, status_code=403)
    try:
        row = loans.disbursement_file(session, principal, file_id)
    except ChainfinError as exc:
        me = whoami(session, principal)
        reason = reason_of(exc)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=_status(exc))
    return Response(
        row.xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{row.message_id}.xml"'},
    )


# ---------------------------------------------------------------------------- statements


def _statements_context(session: Session, principal: Principal) -> dict[str, Any]:
    imports = back_office.statement_imports(session, principal)
    return {
        "section": "statements",
        "imports": [
            {
                "id": i.id,
                "message_id": i.message_id,
                "version": i.version,
                "statements": len(i.statements),
                "matched": len(i.matched),
                "unmatched": len(i.unmatched),
                "created_at": i.created_at,
            }
            for i in imports
        ],
        "errors": {},
        "detail": "",
        "max_mb": STATEMENT_MAX_BYTES // (1024 * 1024),
    }


@router.get("/operations/statements", response_class=HTMLResponse)
def statements_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """Upload a camt.053 statement; the imports so far with their matched and unmatched
    counts."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_statements.html", {})
    context = _statements_context(session, principal)
    return _page(request, session, principal, "bank_operations_statements.html", context)


@router.post("/operations/statements", response_class=HTMLResponse)
def import_statement(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    statement: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the file: each entry matched to a disbursement or a repayment and applied, the
    rest listed with the reason. The same file again opens the first import."""
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    factory = request.app.state.session_factory
    errors: dict[str, str] = {}
    detail = ""
    status = 422
    if statement is None or not statement.filename:
        errors["statement"] = NO_FILE
    else:
        data = statement.file.read(STATEMENT_MAX_BYTES + 1)
        if len(data) > STATEMENT_MAX_BYTES:
            errors["statement"], status = TOO_LARGE, 413
        else:
            try:
                with transaction(factory) as session:
                    done = statements.import_statement(session, principal, data).id
            except ChainfinError as exc:
                status = _status(exc)
                if isinstance(exc, ValidationFailed):
                    errors["statement"] = NOT_CAMT
                    detail = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors[:5])[:600]
                else:
                    errors["statement"] = reason_of(exc)
            else:
                return RedirectResponse(f"/operations/statements/{done}", status_code=303)
    with transaction(factory, write=False) as session:
        context = _statements_context(session, principal) | {"errors": errors, "detail": detail}
        return _page(
            request, session, principal, "bank_operations_statements.html", context, status
        )


APPLICABLE = frozenset({"no_loan_reference", "ambiguous", "not_applied"})
"""The reasons for which a person may apply a credit entry to a loan by hand."""


def _statement_context(
    session: Session,
    principal: Principal,
    import_id: str,
    apply_errors: dict[int, str] | None = None,
) -> dict[str, Any]:
    row = statements.import_for(session, principal, import_id)
    applied = back_office.applied_entries(session, principal, {u["key"] for u in row.unmatched})
    loan_ids = {str(m.get("loan_id")) for m in row.matched if m.get("loan_id")}
    refs = {}
    for loan_id in loan_ids:
        try:
            refs[loan_id] = loans.loan_for(session, principal, loan_id).reference
        except ChainfinError:
            refs[loan_id] = loan_id
    matched = [
        {
            "entry": m["entry"],
            "kind": m["kind"],
            "amount": m["amount"]["amount"],
            "currency": m["amount"]["currency"],
            "loan": refs.get(str(m.get("loan_id")), ""),
            "basis": m.get("basis", ""),
        }
        for m in row.matched
    ]
    unmatched = [
        {
            "entry": u["entry"],
            "credit": u["credit"],
            "amount": u["amount"]["amount"],
            "currency": u["amount"]["currency"],
            "value_on": date.fromisoformat(u["value_on"]),
            "reason": u["reason"],
            "detail": u["detail"],
            "applied_to": applied.get(u["key"], ""),
            "applicable": u["credit"] and u["reason"] in APPLICABLE,
        }
        for u in row.unmatched
    ]
    open_loans = []
    if any(u["applicable"] and not u["applied_to"] for u in unmatched):
        loans_open = back_office.loans_to_repay(session, principal)
        names = _names(session, principal, {loan.borrower_id for loan in loans_open})
        open_loans = [
            (loan.id, loan.reference, names.get(loan.borrower_id, loan.borrower_id))
            for loan in loans_open
        ]
    return {
        "section": "statements",
        "import": row,
        "summaries": row.statements,
        "matched": matched,
        "unmatched": unmatched,
        "reasons": UNMATCHED,
        "match_kinds": MATCH_KINDS,
        "open_loans": open_loans,
        "apply_errors": apply_errors or {},
    }


@router.get("/operations/statements/{import_id}", response_class=HTMLResponse)
def statement_page(
    import_id: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    applied: Annotated[int | None, Query()] = None,
) -> Response:
    """One import: its statements' balances, the entries matched and applied, and those not
    matched with the reason and what to do."""
    if _refusal(principal) is not None:
        return _page(request, session, principal, "bank_operations_statement.html", {})
    try:
        context = _statement_context(session, principal, import_id)
        context["applied_entry"] = applied
    except ChainfinError as exc:
        me = whoami(session, principal)
        return render(
            request, "error.html", {"reason": reason_of(exc)}, me=me, status_code=_status(exc)
        )
    return _page(request, session, principal, "bank_operations_statement.html", context)


@router.post(
    "/operations/statements/{import_id}/entries/{entry}/apply", response_class=HTMLResponse
)
def apply_entry(
    import_id: str,
    entry: int,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    loan_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Apply an unmatched credit to the loan the person knows it repays: a repayment keyed
    by the entry, so a later import counts the entry once."""
    refused = _refused(request, principal, Scope.LOANS_WRITE)
    if refused is not None:
        return refused
    factory = request.app.state.session_factory
    error = ""
    status = 422
    try:
        with transaction(factory) as session:
            row = statements.import_for(session, principal, import_id)
            found = [u for u in row.unmatched if u["entry"] == entry]
            if not found or not found[0]["credit"] or found[0]["reason"] not in APPLICABLE:
                error, status = NOT_APPLICABLE, 409
            elif not loan_id:
                error = FIELD_REASONS["loan_id"]
            else:
                u = found[0]
                loans.repay(
                    session,
                    principal,
                    loan_id,
                    amount=Money.parse(u["amount"]["amount"], u["amount"]["currency"]),
                    value_on=date.fromisoformat(u["value_on"]),
                    source="statement",
                    source_ref=u["key"],
                )
    except ChainfinError as exc:
        if exc.code == "statement_import_not_found":
            with transaction(factory, write=False) as session:
                me = whoami(session, principal)
            return render(request, "error.html", {"reason": reason_of(exc)}, me=me, status_code=404)
        error, status = REFUSALS.get(exc.code, FIELD_REASONS["loan_id"]), _status(exc)
    if not error:
        return RedirectResponse(
            f"/operations/statements/{import_id}?applied={entry}", status_code=303
        )
    with transaction(factory, write=False) as session:
        context = _statement_context(session, principal, import_id, {entry: error})
        context["applied_entry"] = None
        return _page(request, session, principal, "bank_operations_statement.html", context, status)


# ---------------------------------------------------------------------------- books


@router.get("/operations/books", response_class=HTMLResponse)
def books_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    account: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The bank's trial balance, one account's statement with the running balance, and the
    general-ledger export."""
    if _refusal(principal, Scope.BOOKS_READ) is not None:
        return _page(
            request, session, principal, "bank_operations_books.html", {}, scope=Scope.BOOKS_READ
        )
    trial = books.trial_balance(session, principal, None)
    rows = [
        {
            "code": r.account.code,
            "name": ACCOUNT_NAMES.get(r.account.code, r.account.name),
            "currency": r.currency,
            "debit": _dec(r.debit_minor, r.currency),
            "credit": _dec(r.credit_minor, r.currency),
        }
        for r in sorted(trial.rows, key=lambda r: (r.account.code, r.currency))
    ]
    totals = [
        {
            "currency": c,
            "debit": _dec(trial.debit_totals.get(c, 0), c),
            "credit": _dec(trial.credit_totals.get(c, 0), c),
        }
        for c in sorted(set(trial.debit_totals) | set(trial.credit_totals))
    ]
    context: dict[str, Any] = {
        "section": "books",
        "rows": rows,
        "totals": totals,
        "balanced": trial.balanced,
        "accounts": [(a.code, ACCOUNT_NAMES.get(a.code, a.name)) for a in chart.BANK_CHART],
        "account": account or "",
        "statement": None,
        "account_error": "",
    }
    if account:
        codes = {a.code for a in chart.BANK_CHART}
        if account not in codes:
            context["account_error"] = N_("Choose one of the bank's accounts.")
            return _page(
                request,
                session,
                principal,
                "bank_operations_books.html",
                context,
                422,
                scope=Scope.BOOKS_READ,
            )
        _spec, opening, movements = books.statement(session, principal, None, account)
        shown = movements[-200:]
        loans_named = _loans_named(session, principal, [m.memo for m in shown])
        context["statement"] = {
            "name": ACCOUNT_NAMES.get(account, account),
            "opening": _dec(opening),
            "lines": [
                {
                    "value_on": m.value_on,
                    "kind": POSTING_KINDS.get(m.kind, m.kind),
                    "loan": next(
                        (loans_named[i] for i in LOAN_ID.findall(m.memo) if i in loans_named), ""
                    ),
                    "memo": m.memo,
                    "amount": _dec(m.amount_minor, m.currency),
                    "balance": _dec(m.balance_minor, m.currency),
                    "currency": m.currency,
                }
                for m in shown
            ],
            "count": len(movements),
        }
    return _page(
        request, session, principal, "bank_operations_books.html", context, scope=Scope.BOOKS_READ
    )


def _loans_named(session: Session, principal: Principal, memos: list[str]) -> dict[str, str]:
    """The loans the postings' memos name (by id), as a person knows them: the loan's
    reference and its borrower."""
    ids = {i for memo in memos for i in LOAN_ID.findall(memo)}
    found = {}
    for loan_id in sorted(ids)[:MAX_LIMIT]:
        try:
            found[loan_id] = loans.loan_for(session, principal, loan_id)
        except ChainfinError:
            continue
    names = _names(session, principal, {loan.borrower_id for loan in found.values()})
    return {
        i: f"{loan.reference} · {names.get(loan.borrower_id, loan.borrower_id)}"
        for i, loan in found.items()
    }


@router.get("/operations/books/general-ledger.csv")
def general_ledger_csv(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """Every journal line of the bank's book as CSV (the API's export, downloaded)."""
    from chainfin.resources.lending import general_ledger_csv as encode

    reason = _refusal(principal, Scope.BOOKS_READ)
    if reason is not None:
        me = whoami(session, principal)
        return render(request, "error.html", {"reason": reason}, me=me, status_code=403)
    lines_out = books.general_ledger(session, principal, None)
    body = b"".join(encode(lines_out))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="general-ledger.csv"'},
    )
