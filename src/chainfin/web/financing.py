"""Financing for a supplier (/financing): the pieces it may have discounted, the quotes it can
still take, what it had financed, its loan applications and its loans; quotes from every funder
bank of a piece's programme compared side by side (/financing/pieces/{id}/quotes) and one
accepted; a loan applied for with the products on offer, the decision and its reasons shown at
once (/financing/apply, /financing/applications/{id}).

Every figure comes from the same services, and so the same scoping, as the API's answers:
``credentials.quote`` / ``finance`` / ``open_quotes``, ``lending.applications.submit``,
``lending.products.products``, ``lending.loans``; the comparison's annualised cost and the
best offer from :mod:`chainfin.domain.cost`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote as url_quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.cost import Offer, annualised_cost_pct, best_offers
from chainfin.domain.credentials import PieceStatus, add_months
from chainfin.domain.documents import DocumentKind
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.products import UnderlyingKind
from chainfin.resources.credentials import (
    CredentialOut,
    CredentialPieceOut,
    FinancingOut,
    QuoteOut,
)
from chainfin.resources.lending import LoanApplicationOut, LoanOut, LoanProductOut
from chainfin.resources.receivables import RegistrationOut
from chainfin.services import credentials, documents, identity, portal_reads
from chainfin.services.credentials import quote_compare
from chainfin.services.credentials.quote_compare import FunderAnswer
from chainfin.services.lending import applications, loans, products
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

# ---------------------------------------------------------------------------- words

REFUSALS = {
    "piece_not_found": N_("This piece is not one your firm holds."),
    "piece_not_held": N_(
        "Only a piece your firm holds can be financed; this one is no longer held."
    ),
    "quote_not_found": N_("This quote was not made to your firm."),
    "quote_expired": N_(
        "This quote has expired: a quote is a firm offer for four hours. Ask every bank again "
        "for fresh quotes."
    ),
    "credential_not_live": N_("The credential is no longer live, so it cannot be financed."),
    "concurrent_change": N_("The piece changed while you answered; reload the page."),
    "registration_exists": N_("The piece is already registered as financed."),
    "scope_missing": N_("Your role does not finance credentials or apply for loans."),
    "enterprise_user_only": N_("Only a firm's own people finance its credentials."),
    "application_not_found": N_("This application is not your firm's."),
    "product_unknown": N_("The bank no longer offers this product."),
    "date_in_past": N_("An application is decided today."),
    "duplicate_financing": N_(
        "This piece is already pledged to a bank for a loan, so it cannot be financed again "
        "until that loan is repaid."
    ),
}
# A quote accepted and refused comes back to the comparison with its code in the address
# (``?refused=``); an unknown code reads this.
REFUSED_ELSEWHERE = N_("The quote could not be accepted. Ask every bank again for fresh quotes.")
# Why a bank gave no quote, shown in its column (by code, then by the field refused).
QUOTE_REFUSALS = {
    "bank_not_funder": N_("This bank does not fund the credential's programme."),
    "lpr_fixing_missing": N_("No LPR fixing is on record to price the discount from."),
    "rating_unknown": N_("This bank's pricing does not cover the core enterprise's rating."),
    "payment_date_invalid": N_(
        "The time to payment is longer than this bank finances for this core enterprise."
    ),
    "face_amount_invalid": N_("The piece is too small for this bank's fees over this tenor."),
    "payment_date_too_close": N_(
        "The piece is too close to its payment date for this bank to finance it."
    ),
}
QUOTE_FIELD_REFUSALS = {
    "rating": "rating_unknown",
    "payment_date": "payment_date_too_close",
    "face": "face_amount_invalid",
    "as_of": "lpr_fixing_missing",
}
BASES = {"LPR1Y": N_("1-year LPR"), "LPR5Y": N_("Over-5-year LPR")}
FEES = {
    "platform_service": N_("Platform service fee"),
    "handling": N_("Handling fee"),
    "registry_filing": N_("Registry filing fee"),
}
STALE_PREFIX = "stale LPR"

# The credit rules' reasons (domain/decision.py RULES, and the codes an approval that lost
# a race declines with), in words a borrower reads.
DECISION_REASONS = {
    "identity_unregistered": N_(
        "Your firm is not in the enterprise registry with a valid unified social credit code."
    ),
    "consent_missing": N_(
        "No data consent in force lets the bank assess your credit; grant it under Data consent."
    ),
    "currency_mismatch": N_("The application's currency is not the one the product lends in."),
    "amount_below_minimum": N_("The amount is below the product's minimum."),
    "amount_above_maximum": N_("The amount is above the product's maximum."),
    "tenor_out_of_range": N_("The tenor is outside what the product offers."),
    "method_not_offered": N_("The product does not offer this repayment method."),
    "underlying_not_accepted": N_("The product does not lend against this kind of underlying."),
    "underlying_missing": N_("The underlying named was not found, or it is not your firm's."),
    "trade_disputed": N_("The trade behind the underlying is disputed."),
    "duplicate_financing": N_("The underlying is already registered or financed."),
    "advance_rate_exceeded": N_(
        "The amount is above the share of the underlying's value the product lends."
    ),
    "ltv_exceeded": N_("The amount is above the loan-to-value cap on the pledged goods."),
    "matures_after_underlying": N_("The loan would fall due after the underlying is paid."),
    "guarantee_missing": N_(
        "The product needs the core enterprise's guarantee, and there is none."
    ),
    "line_missing": N_("Your firm has no credit line at this bank."),
    "line_frozen": N_("Your firm's credit line is frozen."),
    "line_expired": N_("Your firm's credit line has expired."),
    "line_insufficient": N_("The amount is above what is available on the credit line."),
    "sublimit_insufficient": N_("The amount is above what is available on your sub-limit."),
    "core_cap_exceeded": N_(
        "The amount is above what is left under the bank's cap for the core enterprise's chain."
    ),
    "group_cap_exceeded": N_("The amount is above what is left under the group's exposure cap."),
    "overdue_elsewhere": N_("Your firm has an overdue loan at this bank."),
    "score_below_minimum": N_("Your firm's credit score is below the product's minimum."),
    "trade_unverified": N_("The trade behind the underlying is not verified yet."),
    "score_below_auto": N_("Your firm's credit score is below the level for automatic approval."),
    "new_customer": N_("A first-time customer of the bank needs a site visit."),
    "site_visit_threshold": N_("An amount this large needs a site visit."),
    "financial_analysis_threshold": N_(
        "An amount this large needs an analysis of your financial statements."
    ),
    "risk_flags": N_("There are open risk findings about your firm."),
    "above_auto_limit": N_(
        "The amount is above what the product approves automatically; the bank's credit staff "
        "decide."
    ),
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
OUTCOMES = {
    "approve": N_("Approved"),
    "refer": N_("Referred to the bank's credit staff"),
    "decline": N_("Declined"),
}
# The rules' decision when the application was submitted, in the overview's own column
# (the state column says where the application stands since).
FIRST_DECISIONS = {
    "approve": N_("Approved by the rules"),
    "refer": N_("Referred to the bank's credit staff"),
    "decline": N_("Declined by the rules"),
}
APPLICATION_STATES = {
    "referred": N_("Being reviewed by the bank"),
    "approved": N_("Approved, awaiting disbursement"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "disbursed": N_("Disbursed"),
    "cancelled": N_("Lapsed"),
}
TASKS = {
    "site_visit": (N_("Site visit"), N_("The bank's relationship manager visits your premises.")),
    "financial_analysis": (
        N_("Financial statement analysis"),
        N_("The bank's credit analyst reviews your financial statements."),
    ),
}
TASK_STATES = {
    "open": N_("Waiting to be done"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
LOAN_STATES = {
    "approved": N_("Approved, awaiting disbursement"),
    "cancelled": N_("Cancelled"),
    "disbursed": N_("Disbursed"),
    "current": N_("Current"),
    "overdue": N_("Overdue"),
    "settled": N_("Repaid"),
    "written_off": N_("Written off"),
}
PRODUCT_KINDS = {
    "receivable_financing": N_("Receivable financing"),
    "order_financing": N_("Order financing"),
    "inventory_pledge": N_("Inventory pledge financing"),
    "dealer_financing": N_("Dealer prepayment financing"),
}
METHODS = {
    "bullet": N_("Principal and interest at maturity"),
    "equal_principal": N_("Equal principal instalments"),
    "equal_instalment": N_("Equal monthly instalments"),
}
UNDERLYINGS = {
    "credential_piece": N_("Credential piece"),
    "invoice": N_("Invoice (receivable)"),
    "purchase_order": N_("Purchase order from a core enterprise"),
    "warehouse_receipt": N_("Warehouse receipt"),
    "dealer_order": N_("Dealer order placed with a core enterprise"),
}
FIELD_MESSAGES = {
    "product": N_("Choose a product."),
    "amount": N_("Enter a positive amount in yuan, like 500000.00."),
    "tenor_months": N_("Choose a tenor the product offers."),
    "method": N_("Choose a repayment method the product offers."),
    "underlying": N_("Choose what the loan is financed against."),
    "payee_name": N_("Enter the name of the account holder."),
    "payee_account": N_("Enter the receiving account number: 8 to 32 digits."),
    "payee_agent": N_("Enter the 12-digit CNAPS code of the receiving bank."),
}
UNDERLYING_UNUSABLE = N_(
    "Choose one of the underlyings listed: this one cannot back a loan now (it is already "
    "used or registered for financing, due, or not your firm's)."
)
TENOR_TOO_LONG = N_(
    "The loan would fall due after the underlying is paid: choose a tenor from the list."
)
FORM_FIELDS = {
    "amount": "amount",
    "tenor_months": "tenor_months",
    "method": "method",
    "underlying": "underlying",
    "product": "product",
    "payee": "payee_name",
    "bank": "product",
    "line": "product",
}


def percent(rate_pct: object) -> str:
    """A rate in percent as banks write it, two decimals at least: 3 -> 3.00, 3.455 stays."""
    rate = Decimal(str(rate_pct))
    two = rate.quantize(Decimal("0.01"))
    return str(two if two == rate else rate)


def _labels() -> dict[str, Any]:
    return {
        "pct": percent,
        "bases": BASES,
        "fees": FEES,
        "outcomes": OUTCOMES,
        "first_decisions": FIRST_DECISIONS,
        "application_states": APPLICATION_STATES,
        "loan_states": LOAN_STATES,
        "product_kinds": PRODUCT_KINDS,
        "methods": METHODS,
        "underlyings": UNDERLYINGS,
        "task_states": TASK_STATES,
    }


def _refused(
    request: Request, session: Session, principal: Principal, exc: ChainfinError
) -> Response:
    reason = REFUSALS.get(exc.code, exc.message)
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)


# ---------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class LoanRow:
    loan: LoanOut
    outstanding: str  # principal, decimal string
    next_due_on: date | None
    next_due: str | None  # principal and interest of the next instalment


def _loan_rows(session: Session, principal: Principal) -> list[LoanRow]:
    today = clock.today()
    rows = []
    for loan in loans.loans(session, principal, limit=MAX_LIMIT).items:
        position = loans.position(loan, today)
        unpaid = loans.instalments(loan)[position.paid_instalments :]
        following = unpaid[0] if unpaid else None
        rows.append(
            LoanRow(
                LoanOut.build(loan),
                position.principal_outstanding.to_decimal_string(),
                following.due_on if following else None,
                following.total.to_decimal_string() if following else None,
            )
        )
    return rows


def _held(session: Session, principal: Principal) -> dict[str, Any]:
    """The pieces the firm holds that it may have financed (``pieces``) and those pledged
    for a loan already (``pledged``: an active registration in the receivables registry),
    the soonest paid first."""
    mine = credentials.PieceFilter(statuses=(PieceStatus.HELD,), holder=principal.enterprise_id)
    pieces = [
        CredentialPieceOut.build(p)
        for p in credentials.list_pieces(session, principal, mine, limit=MAX_LIMIT).items
    ]
    ids = {p.credential_id for p in pieces}
    found = {c: CredentialOut.build(credentials.get(session, principal, c)) for c in ids}
    pieces.sort(key=lambda p: (found[p.credential_id].payment_on, p.id))  # the soonest first
    registered = quote_compare.pledged(session, [p.id for p in pieces])
    return {
        "pieces": [p for p in pieces if p.id not in registered],
        "pledged": [p for p in pieces if p.id in registered],
        "credentials": found,
    }


@router.get("/financing", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    context: dict[str, Any] = {"nav": "financing", "pieces": [], "pledged": [], "credentials": {}}
    context |= {"quotes": [], "financings": [], "applications": [], "loans": []}
    try:
        if principal.has(Scope.CREDENTIALS_READ) and principal.enterprise_id is not None:
            context |= _held(session, principal)
            # a quote for a piece since financed, or pledged for a loan, is moot
            held = {p.id for p in context["pieces"]}
            quotes = [QuoteOut.build(q) for q in credentials.open_quotes(session, principal)]
            context["quotes"] = [q for q in quotes if q.piece_id in held]
            context["financings"] = [
                FinancingOut.build(f) for f in quote_compare.financings(session, principal)
            ]
        if principal.has(Scope.LOANS_READ):
            apps = applications.applications(session, principal, limit=MAX_LIMIT).items
            context["applications"] = [LoanApplicationOut.build(session, a) for a in reversed(apps)]
            context["loans"] = _loan_rows(session, principal)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    context["products"] = _product_names(session, principal, context["applications"])
    parties = {c.issuer_id for c in context["credentials"].values()}
    parties |= {q.bank_id for q in context["quotes"]} | {f.bank_id for f in context["financings"]}
    parties |= {a.bank_id for a in context["applications"]} | {
        r.loan.bank_id for r in context["loans"]
    }
    context["names"] = identity.party_names(session, principal, parties)
    context["may_apply"] = principal.has(Scope.LOANS_APPLY) and principal.enterprise_id is not None
    return render(
        request, "financing.html", {**context, **_labels()}, me=whoami(session, principal)
    )


def _product_names(
    session: Session, principal: Principal, apps: list[LoanApplicationOut]
) -> dict[str, LoanProductOut]:
    wanted = {a.product_id for a in apps}
    if not wanted:
        return {}
    found = products.products(session, principal, limit=MAX_LIMIT).items
    return {p.id: LoanProductOut.build(p, principal) for p in found if p.id in wanted}


# ---------------------------------------------------------------------------- quotes

Answer = tuple[str, Any, str | None]  # (bank id, a CredentialQuote or None, why none)


@dataclass(frozen=True)
class Column:
    """One funder bank in the comparison: its quote and what it costs, or why there is none."""

    bank_id: str
    quote: QuoteOut | None
    cost_pct: Decimal | None = None
    refusal: str | None = None
    best: bool = False  # strictly better than every other quote
    stale_fixing: bool = False
    same: bool = False  # the top offer, equal to the cent with another bank's


def _refusal(answer: FunderAnswer) -> str | None:
    """Why a bank gave no quote, in words (its code, else the field it refused, else the
    service's message)."""
    code = answer.refusal_code
    if code is None:
        return None
    if code == "validation_failed" and answer.refusal_field:
        code = QUOTE_FIELD_REFUSALS.get(answer.refusal_field, code)
    return QUOTE_REFUSALS.get(code, answer.refusal)


def _columns(answers: list[Answer]) -> list[Column]:
    columns = []
    for bank_id, row, refusal in answers:
        if row is None:
            columns.append(Column(bank_id, None, refusal=refusal))
            continue
        q = QuoteOut.build(row)
        face, net = Money.parse(q.face, q.currency), Money.parse(q.net_proceeds, q.currency)
        cost = annualised_cost_pct(face, net, q.value_on, q.payment_on)
        stale = any(w.startswith(STALE_PREFIX) for w in q.warnings)
        columns.append(Column(bank_id, q, cost, stale_fixing=stale))
    offers = [
        Offer(c.bank_id, Money.parse(c.quote.net_proceeds, c.quote.currency), c.cost_pct)
        for c in columns
        if c.quote is not None and c.cost_pct is not None
    ]
    top = best_offers(offers) if len(offers) > 1 else frozenset()
    best = top if len(top) == 1 else frozenset()  # best only when strictly better
    same = top if len(top) > 1 else frozenset()
    return [
        Column(
            c.bank_id,
            c.quote,
            c.cost_pct,
            c.refusal,
            c.bank_id in best,
            c.stale_fixing,
            c.bank_id in same,
        )
        for c in columns
    ]


def _fee_rows(columns: list[Column]) -> list[tuple[str, str, dict[str, str]]]:
    """One row per fee (by code, in the order the banks list them): its name as the bank
    wrote it and each bank's amount."""
    rows: dict[str, tuple[str, dict[str, str]]] = {}
    for column in columns:
        for fee in column.quote.fees if column.quote else []:
            _name, amounts = rows.setdefault(fee.code, (fee.name, {}))
            amounts[column.bank_id] = fee.amount
    return [(code, name, amounts) for code, (name, amounts) in rows.items()]


def _quotes_page(
    request: Request,
    session: Session,
    principal: Principal,
    piece_id: str,
    answers: list[Answer] | None = None,
    *,
    error: str | None = None,
    expired: bool = False,
    status_code: int = 200,
) -> Response:
    """The comparison for a piece the firm holds: ``answers`` just given, or else each funder
    bank's latest open quote. A piece pledged for a loan is refused up front."""
    try:
        if answers is None:
            answers = [
                (a.bank_id, a.quote, None)
                for a in quote_compare.open_quotes_for(session, principal, piece_id)
            ]
        piece = CredentialPieceOut.build(credentials.piece_for(session, principal, piece_id))
        credential = CredentialOut.build(credentials.get(session, principal, piece.credential_id))
        pledged = piece.status == PieceStatus.HELD and bool(
            quote_compare.pledged(session, [piece.id])
        )
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    if pledged:
        error = REFUSALS["duplicate_financing"]
    columns = _columns(answers)
    ids = {c.bank_id for c in columns} | {credential.issuer_id}
    first = next((c.quote for c in columns if c.quote is not None), None)
    context = {
        "nav": "financing",
        "piece": piece,
        "credential": credential,
        "columns": columns,
        "first": first,
        "fee_rows": _fee_rows(columns),
        "error": error,
        "expired": expired,
        "pledged": pledged,
        "names": identity.party_names(session, principal, ids),
        **_labels(),
    }
    me = whoami(session, principal)
    return render(request, "quotes.html", context, me=me, status_code=status_code)


@router.get("/financing/pieces/{piece_id}/quotes", response_class=HTMLResponse)
def compare(
    piece_id: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    refused: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Each funder bank's latest open quote for the piece, side by side (asking is a POST);
    ``?refused=`` names why accepting a quote was just refused (a code, shown in words)."""
    error = (REFUSALS.get(refused) or REFUSED_ELSEWHERE) if refused else None
    expired = refused == "quote_expired"
    return _quotes_page(request, session, principal, piece_id, error=error, expired=expired)


@router.post("/financing/pieces/{piece_id}/quotes", response_class=HTMLResponse)
def ask(piece_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """Ask every funder bank for a quote (each quote is stored), then compare them."""
    factory = request.app.state.session_factory
    try:
        with transaction(factory) as session:
            asked = [
                (a.bank_id, a.quote.id if a.quote else None, _refusal(a))
                for a in quote_compare.ask_every_funder(session, principal, piece_id)
            ]
    except ChainfinError as exc:
        with transaction(factory, write=False) as session:
            if exc.status == 404:
                return _refused(request, session, principal, exc)
            reason = REFUSALS.get(exc.code, exc.message)
            return _quotes_page(
                request, session, principal, piece_id, error=reason, status_code=exc.status
            )
    with transaction(factory, write=False) as session:
        answers: list[Answer] = [
            (bank_id, credentials.quote_for(session, principal, q) if q else None, refusal)
            for bank_id, q, refusal in asked
        ]
        return _quotes_page(request, session, principal, piece_id, answers)


@router.post("/financing/quotes/{quote_id}/accept", response_class=HTMLResponse)
def accept(quote_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """Accept one quote: the bank funds the net proceeds and the piece passes to it."""
    factory = request.app.state.session_factory
    try:
        with transaction(factory) as session:
            credentials.finance(session, principal, quote_id)
    except ChainfinError as exc:
        with transaction(factory, write=False) as session:
            try:
                offered = credentials.quote_for(session, principal, quote_id)
            except ChainfinError as missing:
                return _refused(request, session, principal, missing)
            if offered.holder_id != principal.enterprise_id:
                return _refused(request, session, principal, exc)
        # back to the comparison, the reason in the address (never left on the POST's URL)
        code = url_quote(exc.code if exc.code in REFUSALS else "other", safe="")
        return RedirectResponse(
            f"/financing/pieces/{offered.piece_id}/quotes?refused={code}", status_code=303
        )
    return RedirectResponse(f"/financing/quotes/{quote_id}/financing", status_code=303)


@router.get("/financing/quotes/{quote_id}/financing", response_class=HTMLResponse)
def accepted(
    quote_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """What accepting the quote did: the net proceeds, the bank, the registry filing."""
    try:
        financing, registration = quote_compare.financing_of_quote(session, principal, quote_id)
        piece = credentials.piece_for(session, principal, financing.piece_id)
        credential = CredentialOut.build(credentials.get(session, principal, piece.credential_id))
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    out = FinancingOut.build(financing)
    context = {
        "nav": "financing",
        "financing": out,
        "quote": QuoteOut.build(credentials.quote_for(session, principal, quote_id)),
        "registration": RegistrationOut.build(registration) if registration else None,
        "piece": CredentialPieceOut.build(piece),
        "credential": credential,
        "names": identity.party_names(session, principal, {out.bank_id, credential.issuer_id}),
        **_labels(),
    }
    me = whoami(session, principal)
    return render(request, "financing_accepted.html", context, me=me)


# ---------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class Candidate:
    """Something the firm may borrow against: a held piece or one of its documents."""

    kind: str
    ref: str
    number: str  # the document's number; empty for a piece
    amount: str
    currency: str
    party_id: str  # the piece's issuer or the document's counterparty
    due_on: date | None

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass
class ApplyForm:
    """What was typed, and what is wrong with it, field by field."""

    product: str = ""
    amount: str = ""
    tenor_months: str = ""
    method: str = ""
    underlying: str = ""
    payee_name: str = ""
    payee_account: str = ""
    payee_agent: str = ""
    errors: dict[str, str] = field(default_factory=dict)


DOCUMENT_KINDS = {
    UnderlyingKind.INVOICE: (DocumentKind.INVOICE, "seller"),
    UnderlyingKind.PURCHASE_ORDER: (DocumentKind.PURCHASE_ORDER, "seller"),
    UnderlyingKind.DEALER_ORDER: (DocumentKind.PURCHASE_ORDER, "buyer"),
    UnderlyingKind.WAREHOUSE_RECEIPT: (DocumentKind.WAREHOUSE_RECEIPT, "either"),
}


def _due_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def tenors(product: LoanProductOut, due_on: date | None, today: date) -> list[int]:
    """The tenors of ``product`` (months) whose loan, paid out today, falls due on or before
    the underlying is paid (``due_on``; every tenor for an underlying without one)."""
    config = product.config
    months = range(config.min_tenor_months, config.max_tenor_months + 1)
    return [m for m in months if due_on is None or add_months(today, m) <= due_on]


def _candidates(session: Session, principal: Principal, product: LoanProductOut) -> list[Candidate]:
    """What the firm may borrow against under ``product``: the pieces it holds that are not
    pledged already and its documents of the kinds the product accepts that are not due yet,
    not registered to a bank and not turned into a credential — each with at least one of
    the product's tenors ending by the time it is paid (the rules still decide)."""
    kinds = [str(k) for k in product.config.underlying]
    today = clock.today()
    me = principal.enterprise_id or ""
    out: list[Candidate] = []
    if UnderlyingKind.CREDENTIAL_PIECE in kinds and principal.has(Scope.CREDENTIALS_READ):
        held = _held(session, principal)
        for p in held["pieces"]:
            c = held["credentials"][p.credential_id]
            out.append(
                Candidate(
                    "credential_piece", p.id, "", p.amount, p.currency, c.issuer_id, c.payment_on
                )
            )
    found: list[tuple[str, Any, date | None]] = []
    for kind, (doc_kind, side) in DOCUMENT_KINDS.items():
        if kind not in kinds or not principal.has(Scope.DOCUMENTS_READ):
            continue
        page = documents.list_documents(
            session, principal, enterprise_id=me, kind=doc_kind, limit=MAX_LIMIT
        )
        for d in page.items:
            mine = {"seller": d.seller_id == me, "buyer": d.buyer_id == me}.get(side, True)
            due = _due_date(d.content.get("due_date"))
            if mine and (due is None or due > today):
                found.append((kind.value, d, due))
    used = portal_reads.used_documents(session, principal, [(k, d) for k, d, _ in found])
    for kind_value, d, due in found:
        if d.id in used:
            continue
        other = d.buyer_id if d.seller_id == me else d.seller_id
        amount = Money(d.total_minor, d.currency).to_decimal_string()
        out.append(Candidate(kind_value, d.id, d.number, amount, d.currency, other, due))
    return [
        c
        for c in out
        if (c.due_on is None or c.due_on > today) and tenors(product, c.due_on, today)
    ]


def _offered(session: Session, principal: Principal) -> list[LoanProductOut]:
    rows = products.products(session, principal, status="active", limit=MAX_LIMIT).items
    return [LoanProductOut.build(p, principal) for p in rows]


def _apply_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: ApplyForm,
    *,
    status_code: int = 200,
) -> Response:
    try:
        offered = _offered(session, principal)
        chosen = next((p for p in offered if p.id == form.product), None)
        candidates = _candidates(session, principal, chosen) if chosen else []
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    me = whoami(session, principal)
    if not form.payee_name and me.firm_name:
        form.payee_name = me.firm_name
    ids = {p.bank_id for p in offered} | {c.party_id for c in candidates}
    context = {
        "nav": "financing",
        "offered": offered,
        "chosen": chosen,
        "candidates": candidates,
        **_tenor_context(chosen, candidates, form),
        "field_messages": FIELD_MESSAGES,
        "form": form,
        "may_apply": principal.has(Scope.LOANS_APPLY) and principal.enterprise_id is not None,
        "names": identity.party_names(session, principal, ids),
        **_labels(),
    }
    return render(request, "apply.html", context, me=me, status_code=status_code)


def _tenor_context(
    chosen: LoanProductOut | None, candidates: list[Candidate], form: ApplyForm
) -> dict[str, Any]:
    """The tenors the form offers for the underlying chosen (every tenor of the product
    before one is chosen) and the date they must end by."""
    if chosen is None:
        return {"tenors": [], "tenor_limit": None}
    picked = next((c for c in candidates if c.value == form.underlying), None)
    limit = picked.due_on if picked else None
    return {"tenors": tenors(chosen, limit, clock.today()), "tenor_limit": limit}


@router.get("/financing/apply/tenors", response_class=HTMLResponse)
def tenor_field(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    product: Annotated[str, Query(max_length=64)] = "",
    underlying: Annotated[str, Query(max_length=120)] = "",
    tenor_months: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    """The tenor field for the underlying chosen (htmx swaps it in when the underlying
    changes): only the tenors that end by the time the underlying is paid."""
    form = ApplyForm(product=product, underlying=underlying, tenor_months=tenor_months)
    try:
        chosen = next((p for p in _offered(session, principal) if p.id == product), None)
        candidates = _candidates(session, principal, chosen) if chosen else []
    except ChainfinError as exc:
        return Response(status_code=404 if exc.status == 404 else 409)
    if chosen is None:
        return Response(status_code=404)
    context = {"chosen": chosen, "form": form, **_tenor_context(chosen, candidates, form)}
    return render(request, "financing_tenors.html", context)


@router.get("/financing/apply", response_class=HTMLResponse)
def apply_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    product: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The products on offer; with ``?product=``, the application form for it."""
    return _apply_page(request, session, principal, ApplyForm(product=product))


def _parse(form: ApplyForm) -> tuple[Money | None, int | None, tuple[str, str] | None]:
    """The amount, tenor and underlying typed, or the field errors in ``form.errors``."""
    amount = tenor = underlying = None
    try:
        amount = Money.parse(form.amount.replace(",", "").replace("，", "").strip())
        if amount.amount_minor <= 0:
            raise MoneyError("not positive")
    except MoneyError:
        form.errors["amount"] = FIELD_MESSAGES["amount"]
        amount = None
    if form.tenor_months.isdecimal():  # isdigit() takes "²", which int() refuses
        tenor = int(form.tenor_months)
    else:
        form.errors["tenor_months"] = FIELD_MESSAGES["tenor_months"]
    kind, _, ref = form.underlying.partition(":")
    if kind and ref:
        underlying = (kind, ref)
    else:
        form.errors["underlying"] = FIELD_MESSAGES["underlying"]
    for name in ("method", "payee_name", "payee_account", "payee_agent"):
        if not getattr(form, name).strip():
            form.errors[name] = FIELD_MESSAGES[name]
    return amount, tenor, underlying


def _check_underlying(
    session: Session, principal: Principal, chosen: LoanProductOut, form: ApplyForm, tenor: int
) -> None:
    """Refuse at the field, before the rules: an underlying the form does not offer (used,
    registered, due or not the firm's), a tenor ending after the underlying is paid."""
    picked = next(
        (c for c in _candidates(session, principal, chosen) if c.value == form.underlying), None
    )
    if picked is None:
        form.errors["underlying"] = UNDERLYING_UNUSABLE
    elif tenor not in tenors(chosen, picked.due_on, clock.today()):
        form.errors["tenor_months"] = TENOR_TOO_LONG


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors:
        head, _, tail = error.field.partition(".")
        name = f"payee_{tail}" if head == "payee" and tail else FORM_FIELDS.get(head, "")
        if name:
            out.setdefault(name, FIELD_MESSAGES.get(name, error.reason))
        else:
            out.setdefault("form", error.reason)
    return out


@router.post("/financing/apply", response_class=HTMLResponse)
def apply(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    product: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    tenor_months: Annotated[str, Form(max_length=4)] = "",
    method: Annotated[str, Form(max_length=40)] = "",
    underlying: Annotated[str, Form(max_length=120)] = "",
    payee_name: Annotated[str, Form(max_length=200)] = "",
    payee_account: Annotated[str, Form(max_length=40)] = "",
    payee_agent: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Submit the application; the rules decide at once, and the decision page shows it."""
    form = ApplyForm(
        product, amount, tenor_months, method, underlying, payee_name, payee_account, payee_agent
    )
    factory = request.app.state.session_factory
    status = 422
    money, tenor, on = _parse(form)
    if money is not None and tenor is not None and on is not None and not form.errors:
        try:
            with transaction(factory) as session:
                chosen = next((p for p in _offered(session, principal) if p.id == product), None)
                if chosen is None:
                    form.errors["product"] = FIELD_MESSAGES["product"]
                else:
                    _check_underlying(session, principal, chosen, form, tenor)
                if chosen is not None and not form.errors:
                    app = applications.submit(
                        session,
                        principal,
                        bank=chosen.bank_id,
                        product=chosen.id,
                        amount=money,
                        tenor_months=tenor,
                        method=method,
                        underlying_kind=on[0],
                        underlying_ref=on[1],
                        payee=applications.Payment(payee_name, payee_account, payee_agent),
                    )
                    done = app.id
        except ValidationFailed as exc:
            form.errors = _field_errors(exc)
        except ChainfinError as exc:
            form.errors = {"form": REFUSALS.get(exc.code, exc.message)}
            status = exc.status
        else:
            if not form.errors:
                return RedirectResponse(f"/financing/applications/{done}", status_code=303)
    with transaction(factory, write=False) as session:
        return _apply_page(request, session, principal, form, status_code=status)


# ---------------------------------------------------------------------------- applications


@dataclass(frozen=True)
class ReasonRow:
    code: str
    outcome: str
    text: str  # an N_ message, or the service's own words for a code we do not know


@dataclass(frozen=True)
class UnderlyingShown:
    """What an application was financed against, as a person recognises it: its kind, its
    number (a document's; empty for a piece) and its amount."""

    kind: str
    number: str
    amount: str
    currency: str


def _underlying_of(
    session: Session, principal: Principal, out: LoanApplicationOut
) -> UnderlyingShown:
    """The underlying named, read through the firm's own scoping: the value the rules put on
    it, or — for one they did not value (a declined application) — the document's total or
    the piece's amount."""
    kind, ref = out.underlying.kind, out.underlying.ref
    number, amount, currency = "", out.underlying.value, out.currency
    valued = Money.parse(amount, currency).amount_minor > 0
    try:
        if kind == UnderlyingKind.CREDENTIAL_PIECE:
            piece = credentials.piece_for(session, principal, ref)
            if not valued:
                amount = Money(piece.amount_minor, piece.currency).to_decimal_string()
                currency = piece.currency
        else:
            doc = documents.get_document(session, principal, ref)
            number = doc.number
            if not valued:
                amount = Money(doc.total_minor, doc.currency).to_decimal_string()
                currency = doc.currency
    except ChainfinError:  # not the firm's to read: what the application recorded
        pass
    return UnderlyingShown(kind, number, amount, currency)


@router.get("/financing/applications/{application_id}", response_class=HTMLResponse)
def application(
    application_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """One application: its state, the decision and each reason, the tasks, the loan."""
    try:
        row = applications.application_for(session, principal, application_id)
        out = LoanApplicationOut.build(session, row)
        loan = (
            LoanOut.build(loans.loan_for(session, principal, out.loan_id)) if out.loan_id else None
        )
        offered = products.products(session, principal, limit=MAX_LIMIT).items
        product = next(
            (LoanProductOut.build(p, principal) for p in offered if p.id == out.product_id), None
        )
        underlying = _underlying_of(session, principal, out)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    reasons = [
        ReasonRow(r.code, r.outcome, DECISION_REASONS.get(r.code, r.message))
        for r in out.decision.reasons
    ]
    score = out.decision.score
    context = {
        "nav": "financing",
        "application": out,
        "product": product,
        "loan": loan,
        "reasons": reasons,
        "score_reasons": [SCORE_REASONS.get(c, c) for c in (score.reasons if score else [])],
        "tasks": [(t, *TASKS.get(t.kind, (t.kind, ""))) for t in out.tasks],
        "underlying": underlying,
        "decision_reasons": DECISION_REASONS,
        "names": identity.party_names(session, principal, {out.bank_id}),
        **_labels(),
    }
    return render(request, "application.html", context, me=whoami(session, principal))
