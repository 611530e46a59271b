"""The credit desk (/credit): the queue of referred applications a credit officer or approver
may sign now (by default: the maker's step for anyone who reviews, the checker's for another
person whose authority covers the amount), every application in progress with what it waits
for (the relationship manager's view), and one application's file
(/credit/applications/{id}): the facts, every rule's outcome in precedence order, the score
and its reasons, the underlying document and its trade case's matching, the due-diligence
results with the revenue cross-check, the line and what an approval reserves on it, the
maker's and checker's actions and the decision history with the log entries.

Reads and writes go through the lending services (services/lending/queue.py for the reads,
``applications.review`` for the steps): the refusals are theirs (four eyes, authority,
due diligence still open, wrong state), shown in words, with nothing written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import DocumentConfirmation, TradeDocumentRow
from chainfin.api.deps import LoggedReadSessionDep, SessionDep
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import ChainfinError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.matching import CaseResult
from chainfin.domain.money import Money
from chainfin.services import documents, identity, trade_cases
from chainfin.services.lending import applications, queue, tasks
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

READERS = frozenset({"relationship_manager", "approver", "risk_officer"})
NOT_STAFF = N_("The credit desk is for the bank's staff.")
NOT_CREDIT = N_(
    "The credit desk is for relationship managers, credit officers and approvers; your "
    "role does not include it."
)
NOT_SIGNER = N_("Your role does not review applications: approvers and credit officers do.")

VIEWS = {"mine": N_("My queue"), "all": N_("All in progress")}
STATUSES = {
    "referred": N_("Under review"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "disbursed": N_("Disbursed"),
    "cancelled": N_("Lapsed"),
}
WAITS_FOR = {
    "maker": N_("Maker's review"),
    "checker": N_("Checker's decision"),
    "conditions": N_("Conditions to meet"),
    "disbursement": N_("Disbursement"),
}
PRODUCT_KINDS = {
    "receivable_financing": N_("Receivable financing"),
    "order_financing": N_("Order financing"),
    "inventory_pledge": N_("Inventory pledge"),
    "dealer_financing": N_("Dealer financing"),
}
UNDERLYING_KINDS = {
    "invoice": N_("Invoice"),
    "credential_piece": N_("Credential"),
    "purchase_order": N_("Purchase order"),
    "dealer_order": N_("Dealer order"),
    "warehouse_receipt": N_("Warehouse receipt"),
}
DOCUMENT_KINDS = {
    "contract": N_("Contract"),
    "purchase_order": N_("Purchase order"),
    "delivery_note": N_("Delivery note"),
    "goods_receipt": N_("Goods receipt"),
    "invoice": N_("Invoice"),
    "credit_note": N_("Credit note"),
    "waybill": N_("Waybill"),
    "warehouse_receipt": N_("Warehouse receipt"),
}
CASE_STATUSES = {
    "matched": N_("Matched"),
    "partially_matched": N_("Partly matched"),
    "mismatched": N_("Mismatched"),
    "incomplete": N_("Incomplete"),
}
OUTCOMES = {"pass": N_("Pass"), "refer": N_("Refer"), "decline": N_("Decline")}
# What each rule checks, in the words of a credit officer (the table: domain/decision.py).
RULES = {
    "identity_unregistered": N_("The applicant is registered with a valid credit code"),
    "consent_missing": N_("Consent to share data for credit assessment is in force"),
    "currency_mismatch": N_("The currency is the product's"),
    "amount_below_minimum": N_("The amount is not below the product's minimum"),
    "amount_above_maximum": N_("The amount is not above the product's maximum"),
    "tenor_out_of_range": N_("The tenor is within the product's range"),
    "method_not_offered": N_("The repayment method is offered"),
    "underlying_not_accepted": N_("The product lends against this kind of underlying"),
    "underlying_missing": N_("The underlying exists and is the applicant's"),
    "trade_disputed": N_("The trade behind the underlying is not disputed"),
    "duplicate_financing": N_("The underlying is not registered or financed elsewhere"),
    "advance_rate_exceeded": N_("The amount is within the advance rate on the underlying"),
    "ltv_exceeded": N_("The amount is within the loan-to-value cap"),
    "matures_after_underlying": N_("The loan falls due before the underlying is paid"),
    "guarantee_missing": N_("The core enterprise's guarantee is there if required"),
    "line_missing": N_("The applicant has a credit line"),
    "line_frozen": N_("The credit line is not frozen"),
    "line_expired": N_("The credit line has not expired"),
    "line_insufficient": N_("The line's available amount covers the loan"),
    "sublimit_insufficient": N_("The sub-limit's available amount covers the loan"),
    "core_cap_exceeded": N_("The core enterprise's exposure cap covers the loan"),
    "group_cap_exceeded": N_("The group's exposure cap covers the loan"),
    "overdue_elsewhere": N_("No loan of the applicant is overdue at this bank"),
    "score_below_minimum": N_("The score is at least the product's minimum"),
    "trade_unverified": N_("The trade behind the underlying is verified"),
    "score_below_auto": N_("The score is high enough for automatic approval"),
    "new_customer": N_("The applicant is an existing customer"),
    "site_visit_threshold": N_("The amount is below the site-visit threshold"),
    "financial_analysis_threshold": N_("The amount is below the financial-analysis threshold"),
    "risk_flags": N_("No open risk finding about the applicant"),
    "above_auto_limit": N_("The amount is within the automatic approval limit"),
}
SCORE_REASONS = {
    "short_tenure": N_("A short trading history in the chain"),
    "few_trades": N_("Few trades in the last twelve months"),
    "disputes": N_("Disputed trades in the last twelve months"),
    "late_payments": N_("Late payments"),
    "no_payment_history": N_("No payment history on the platform yet"),
    "overdue_loans": N_("Overdue loans"),
    "weak_core_rating": N_("The core enterprise's rating"),
}
TASK_KINDS = {"site_visit": N_("Site visit"), "financial_analysis": N_("Financial analysis")}
TASK_STATES = {"open": N_("To do"), "completed": N_("Completed"), "cancelled": N_("Cancelled")}
HISTORY = {
    "rules_refer": N_("Submitted; the rules referred it to the bank's people"),
    "rules_approve": N_("Submitted; the rules approved it"),
    "rules_decline": N_("Submitted; the rules declined it"),
    "submitted": N_("Application submitted"),
    "maker_approve": N_("Maker recommends approval"),
    "maker_decline": N_("Maker declined"),
    "checker_approve": N_("Checker approved"),
    "checker_decline": N_("Checker declined"),
    "condition_met": N_("Condition met"),
}
LINE_STATES = {
    "active": N_("Active"),
    "frozen": N_("Frozen"),
    "expired": N_("Expired"),
    "closed": N_("Closed"),
}
FINDINGS = {
    "identity_broken": N_("The balance sheet does not balance"),
    "subtotal_exceeded": N_("A part is larger than its total"),
    "dates_differ": N_("The statements' dates differ"),
    "observed_exceeds_reported": N_("The platform saw more sales than the revenue reported"),
    "low_platform_coverage": N_("Most of the reported revenue is off the platform"),
}
RESERVATION_STATES = {
    "pending": N_("Reserved"),
    "posted": N_("Drawn"),
    "voided": N_("Released"),
    "expired": N_("Expired"),
}
DONE = {
    "maker_approve": N_("Your recommendation was recorded; the application waits for a checker."),
    "maker_decline": N_("The application was declined."),
    "checker_approve": N_("The application was approved and the amount reserved on the line."),
    "checker_decline": N_("The application was declined."),
}
DECISIONS = {
    "approve": N_("Approve"),
    "conditions": N_("Approve with conditions"),
    "decline": N_("Decline"),
}
REFUSALS = {
    "four_eyes_required": N_(
        "You made the maker's step on this application: the checker must be another person."
    ),
    "authority_insufficient": N_(
        "Your credit authority does not cover this amount: refer it to an approver with a "
        "higher level."
    ),
    "due_diligence_open": N_(
        "Due diligence is not finished: complete the open tasks before approving."
    ),
    "application_not_referred": N_("This application is no longer under review."),
    "note_required": N_("Write the credit memo: say why."),
    "review_action_invalid": N_("Choose approve, approve with conditions or decline."),
    "underlying_missing": N_("The underlying is no longer available."),
    "line_missing": N_("The application has no credit line to draw on."),
    "line_frozen": N_("The credit line is frozen: nothing can be reserved on it."),
    "line_expired": N_("The credit line has expired."),
    "line_insufficient": N_("The line no longer has enough available for this amount."),
    "sublimit_insufficient": N_("The sub-limit no longer has enough available."),
    "core_cap_exceeded": N_("The core enterprise's exposure cap no longer covers this amount."),
    "group_cap_exceeded": N_("The group's exposure cap no longer covers this amount."),
    "duplicate_financing": N_("The underlying was financed elsewhere in the meantime."),
    "lpr_fixing_missing": N_("No LPR fixing is on record to price the loan."),
    "concurrent_change": N_("This changed while you worked; reload the page and try again."),
    "scope_missing": N_("Your role does not review applications."),
}
FIELD_REASONS = {
    "note": N_("Write the credit memo: say why."),
    "conditions": N_("Write at least one condition, one a line."),
    "decision": N_("Choose approve, approve with conditions or decline."),
}
MAX_NOTE = 2000
MAX_CONDITIONS = 20


def _refusal(principal: Principal) -> str | None:
    if principal.bank_id is None:
        return NOT_STAFF
    if not READERS & principal.roles:
        return NOT_CREDIT
    return None


def _refused(request: Request, session: Session, principal: Principal, reason: str) -> Response:
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=403)


def major(amount_minor: int, currency: str) -> str:
    """An amount in minor units as the ``money`` filter takes it (major units)."""
    return Money(amount_minor, currency).to_decimal_string()


def _labels() -> dict[str, Any]:
    return {
        "major": major,
        "statuses": STATUSES,
        "waits_for": WAITS_FOR,
        "product_kinds": PRODUCT_KINDS,
        "underlying_kinds": UNDERLYING_KINDS,
        "document_kinds": DOCUMENT_KINDS,
        "case_statuses": CASE_STATUSES,
        "outcomes": OUTCOMES,
        "rule_labels": RULES,
        "score_reasons": SCORE_REASONS,
        "task_kinds": TASK_KINDS,
        "task_states": TASK_STATES,
        "history_labels": HISTORY,
        "reservation_states": RESERVATION_STATES,
        "line_states": LINE_STATES,
        "finding_labels": FINDINGS,
        "decisions": DECISIONS,
    }


# ---------------------------------------------------------------------------- the queue


def age_days(app_submitted: date, today: date) -> int:
    return max(0, (today - app_submitted).days)


@router.get("/credit", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    view: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The queue (applications I may sign now) or every application in progress."""
    refused = _refusal(principal)
    if refused is not None:
        return _refused(request, session, principal, refused)
    signer = principal.has(Scope.LOANS_APPROVE)
    if view not in VIEWS or (view == "mine" and not signer):
        view = "mine" if signer else "all"
    rows = queue.queue(session, principal, everything=view == "all")
    today = clock.today()
    context = {
        "nav": "credit",
        "view": view,
        "views": VIEWS if signer else {"all": VIEWS["all"]},
        "signer": signer,
        "level": queue.my_level(session, principal),
        "rows": rows,
        "ages": {
            r.application.id: age_days(clock.business_date(r.application.submitted_at), today)
            for r in rows
        },
        **_labels(),
    }
    return render(request, "bank_credit.html", context, me=whoami(session, principal))


# ---------------------------------------------------------------------------- one application


@dataclass
class ReviewForm:
    decision: str = ""
    note: str = ""
    conditions: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def condition_list(self) -> list[str]:
        return [c.strip() for c in self.conditions.splitlines() if c.strip()]


@dataclass(frozen=True)
class Underlying:
    """The document behind the application as the bank may read it, and its trade case."""

    document: TradeDocumentRow | None
    confirmed: bool  # the buyer confirmed the document
    due_on: date | None  # when the document says it is paid
    case: CaseResult | None
    case_documents: list[TradeDocumentRow]
    unavailable: bool  # the applicant's consent does not let the bank read it


def _underlying(session: Session, principal: Principal, file: queue.ReviewFile) -> Underlying:
    app = file.application
    if app.underlying_kind == "credential_piece":
        return Underlying(None, False, None, None, [], False)
    try:
        doc = documents.get_document(session, principal, app.underlying_ref)
    except ChainfinError:
        return Underlying(None, False, None, None, [], True)
    confirmed = session.get(DocumentConfirmation, doc.id) is not None
    due_on = _day(doc.content.get("due_date"))
    case = None
    rows: list[TradeDocumentRow] = []
    try:
        for result in trade_cases.cases_for(session, principal, app.applicant_id):
            if any(key.endswith(f"/{doc.number}") for key in result.documents):
                case = result
                break
        if case is not None:
            _, rows = trade_cases.case_documents(
                session, principal, app.applicant_id, case.case_key
            )
    except ChainfinError:
        return Underlying(doc, confirmed, due_on, None, [], True)
    return Underlying(doc, confirmed, due_on, case, rows, False)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _cross_check(session: Session, file: queue.ReviewFile) -> dict[str, Any]:
    """The revenue cross-check: the completed financial analysis's figures when there is
    one, else the sales the platform saw over the last twelve months."""
    for task in file.tasks:
        if task.kind == "financial_analysis" and task.state == "completed" and task.result:
            return {"analysis": task.result}
    today = clock.today()
    start = today - timedelta(days=365)
    seen = tasks.observed_sales(session, file.application.applicant_id, start, today)
    return {"analysis": None, "observed_minor": seen, "from": start, "to": today}


def _file_context(
    session: Session, principal: Principal, application_id: str, form: ReviewForm
) -> dict[str, Any]:
    file = queue.review_file(session, principal, application_id)
    underlying = _underlying(session, principal, file)
    doc = underlying.document
    parties = {doc.seller_id, doc.buyer_id} if doc is not None else set()
    if file.line is not None:
        parties.add(file.line.obligor_id)
    return {
        "nav": "credit",
        "file": file,
        "app": file.application,
        "underlying": underlying,
        "names": identity.party_names(session, principal, parties),
        "cross_check": _cross_check(session, file),
        "signer": principal.has(Scope.LOANS_APPROVE),
        "form": form,
        "today": clock.today(),
        **_labels(),
    }


def _file_page(
    request: Request,
    session: Session,
    principal: Principal,
    application_id: str,
    form: ReviewForm,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        context = _file_context(session, principal, application_id, form)
    except (NotFound, Forbidden) as exc:
        me = whoami(session, principal)
        reason = (
            N_("No such application at your bank.") if isinstance(exc, NotFound) else NOT_CREDIT
        )
        return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)
    context |= {"done": DONE.get(done or ""), "error": error}
    return render(
        request,
        "bank_credit_application.html",
        context,
        me=whoami(session, principal),
        status_code=status_code,
    )


@router.get("/credit/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    application_id: str,
    request: Request,
    session: LoggedReadSessionDep,
    principal: PagePrincipal,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The application's file and, for a reviewer, the step they may take."""
    refused = _refusal(principal)
    if refused is not None:
        return _refused(request, session, principal, refused)
    return _file_page(request, session, principal, application_id[:64], ReviewForm(), done=done)


def _check(form: ReviewForm) -> None:
    if form.decision not in DECISIONS:
        form.errors["decision"] = FIELD_REASONS["decision"]
    if not form.note.strip():
        form.errors["note"] = FIELD_REASONS["note"]
    elif len(form.note) > MAX_NOTE:
        form.errors["note"] = N_("The memo is too long: at most 2,000 characters.")
    if form.decision == "conditions" and not form.condition_list():
        form.errors["conditions"] = FIELD_REASONS["conditions"]
    elif len(form.condition_list()) > MAX_CONDITIONS:
        form.errors["conditions"] = N_("At most 20 conditions.")
    elif form.decision != "conditions" and form.condition_list():
        form.errors["conditions"] = N_("Conditions go with an approval with conditions.")


@router.post("/credit/applications/{application_id}/review", response_class=HTMLResponse)
def review(
    application_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    decision: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE + 100)] = "",
    conditions: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The maker's or the checker's step: approve, approve with conditions, or decline with
    the reason. One transaction; a refusal writes nothing and shows the page again with the
    reason (409 for the service's refusals, 422 for the form's)."""
    factory = request.app.state.session_factory
    application_id = application_id[:64]
    form = ReviewForm(decision, note, conditions)
    with transaction(factory, write=False) as session:
        refused = _refusal(principal)
        if refused is None and not principal.has(Scope.LOANS_APPROVE):
            refused = NOT_SIGNER
        if refused is not None:
            return _refused(request, session, principal, refused)
    _check(form)
    error: str | None = None
    status = 200
    step = ""
    if not form.errors:
        try:
            with transaction(factory) as session:
                applications.review(
                    session,
                    principal,
                    application_id,
                    action="decline" if form.decision == "decline" else "approve",
                    note=form.note,
                    conditions=form.condition_list(),
                )
                step = applications.approvals_of(session, application_id)[-1].step
        except ValidationFailed as exc:
            status = 422
            for problem in exc.errors:
                name = problem.field.split("[")[0]
                form.errors[name if name in FIELD_REASONS else "form"] = REFUSALS.get(
                    exc.code, FIELD_REASONS.get(name, problem.reason)
                )
        except (NotFound, Forbidden) as exc:
            with transaction(factory, write=False) as session:
                me = whoami(session, principal)
            reason = (
                N_("No such application at your bank.") if isinstance(exc, NotFound) else NOT_SIGNER
            )
            return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)
        except ChainfinError as exc:
            status = exc.status if 400 <= exc.status < 500 else 409
            error = REFUSALS.get(exc.code, exc.message)
        else:
            action = "decline" if form.decision == "decline" else "approve"
            url = f"/credit/applications/{application_id}?done={step}_{action}#outcome"
            return RedirectResponse(url, status_code=303)
    else:
        status = 422
    with transaction(factory) as session:  # the page reads documents under consent: logged
        return _file_page(
            request, session, principal, application_id, form, error=error, status_code=status
        )
