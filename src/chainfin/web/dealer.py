"""Dealer financing (/dealer): a dealer's prepayment financing (预付款融资, 保兑仓) — its
applications for dealer-financing products and their decisions, its loans, the goods
released to it against its repayments and what remains pledged; and one loan
(/dealer/loans/{id}) in full. Reads only: the lending bank records goods releases
(``loans:write``, bank staff), so the page shows what is releasable and who releases it.
The figures are services/dealer.py's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal
from chainfin.domain.clock import today
from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money
from chainfin.resources.lending import (
    DecisionOut,
    GoodsReleaseOut,
    LoanApplicationOut,
    LoanOut,
    PositionOut,
    RepaymentOut,
)
from chainfin.services import dealer, identity
from chainfin.services.dealer import DealerLoan, Goods
from chainfin.web.i18n import N_
from chainfin.web.render import PagePrincipal, render, whoami

router = APIRouter(include_in_schema=False)

APPLICATION_STATES = {
    "referred": N_("Referred to the bank"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "disbursed": N_("Paid out"),
    "cancelled": N_("Cancelled"),
}
LOAN_STATES = {
    "approved": N_("Approved, not yet paid out"),
    "cancelled": N_("Cancelled"),
    "disbursed": N_("Paid out"),
    "current": N_("Current"),
    "overdue": N_("Overdue"),
    "settled": N_("Repaid in full"),
    "written_off": N_("Written off"),
}
# The five-category classification (五级分类), domain/loans.LoanCategory.
CATEGORIES = {
    "normal": N_("Normal"),
    "special_mention": N_("Special mention"),
    "substandard": N_("Substandard"),
    "doubtful": N_("Doubtful"),
    "loss": N_("Loss"),
}
REPAYMENT_SOURCES = {
    "manual": N_("Repayment"),
    "statement": N_("Repayment"),
    "prepayment": N_("Early repayment"),
    "buyback": N_("Core enterprise buy-back"),
}
# The credit decision's reasons, by code (domain/error_codes.py, the decision reasons).
DECISION_REASONS = {
    "above_auto_limit": N_("Above the automatic approval limit"),
    "advance_rate_exceeded": N_("Above the advance rate"),
    "amount_above_maximum": N_("Above the product's maximum"),
    "amount_below_minimum": N_("Below the product's minimum"),
    "consent_missing": N_("Consent missing"),
    "core_cap_exceeded": N_("Core enterprise cap exhausted"),
    "currency_mismatch": N_("Currency mismatch"),
    "duplicate_financing": N_("Already financed"),
    "financial_analysis_threshold": N_("Financial analysis needed"),
    "group_cap_exceeded": N_("Group cap exhausted"),
    "guarantee_missing": N_("Guarantee missing"),
    "identity_unregistered": N_("Applicant not registered"),
    "line_expired": N_("Credit line expired"),
    "line_frozen": N_("Credit line frozen"),
    "line_insufficient": N_("Credit line exhausted"),
    "line_missing": N_("No credit line"),
    "ltv_exceeded": N_("Above the loan-to-value cap"),
    "matures_after_underlying": N_("Matures after the underlying"),
    "method_not_offered": N_("Repayment method not offered"),
    "new_customer": N_("New customer"),
    "overdue_elsewhere": N_("Overdue loans"),
    "risk_flags": N_("Open risk findings"),
    "score_below_auto": N_("Score below automatic approval"),
    "score_below_minimum": N_("Score below minimum"),
    "site_visit_threshold": N_("Site visit needed"),
    "sublimit_insufficient": N_("Sub-limit exhausted"),
    "tenor_out_of_range": N_("Tenor out of range"),
    "trade_disputed": N_("Trade disputed"),
    "trade_unverified": N_("Trade not verified"),
    "underlying_missing": N_("Underlying not found"),
    "underlying_not_accepted": N_("Underlying not accepted"),
}
REFUSALS = {
    "enterprise_user_only": N_("This page is for a dealer's own people."),
    "scope_missing": N_("Your role does not read loans."),
    "loan_not_found": N_("This loan is not one of your firm's dealer loans."),
}


def quantity(value: Decimal) -> str:
    """3.000 → 3, 6.667 → 6.667."""
    text = f"{value.normalize():f}"
    return text


def percent(ratio: Decimal | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.0f}%"


def _goods(goods: list[Goods]) -> list[dict[str, Any]]:
    return [
        {
            "item": g.item,
            "quantity": quantity(g.quantity),
            "unit": g.unit,
            "price": g.price.to_decimal_string() if g.price else None,
            "priced_on": g.priced_on,
            "value": g.value.to_decimal_string() if g.value else None,
        }
        for g in goods
    ]


def _loan(view: DealerLoan) -> dict[str, Any]:
    """One loan as the templates read it: the resource, its position, its repayments, its
    releases (each with the repayments it was released against) and what remains."""
    loan = LoanOut.build(view.loan, view.position)
    paid = {r.id: RepaymentOut.build(r) for r in view.repayments}
    remaining = view.remaining
    return {
        "loan": loan,
        "overdue": view.overdue,
        "buyback_callable": view.buyback_callable,
        "order_number": view.order_number,
        "position": PositionOut.build(view.position) if view.position else None,
        "repayments": list(paid.values()),
        "principal_repaid": {
            r.id: Money(r.principal_minor + r.prepaid_minor, r.currency).to_decimal_string()
            for r in view.repayments
        },
        "releases": [
            {
                "release": GoodsReleaseOut.build(r.row),
                "goods": _goods(r.goods),
                "against": [paid[i] for i in r.against if i in paid],
            }
            for r in view.releases
        ],
        "remaining": {
            "pledged": remaining.pledged.to_decimal_string(),
            "releasable": remaining.releasable.to_decimal_string(),
            "awaiting": remaining.releasable.amount_minor > 0,
            "goods": _goods(remaining.goods),
            "value": remaining.value.to_decimal_string() if remaining.value else None,
            "outstanding": remaining.outstanding.to_decimal_string(),
            "coverage": percent(remaining.coverage),
            "bought_back": remaining.bought_back.to_decimal_string()
            if remaining.bought_back
            else None,
        },
    }


def _labels() -> dict[str, Any]:
    return {
        "application_states": APPLICATION_STATES,
        "loan_states": LOAN_STATES,
        "categories": CATEGORIES,
        "sources": REPAYMENT_SOURCES,
        "decision_reasons": DECISION_REASONS,
    }


def _refused(
    request: Request, session: Session, principal: Principal, exc: ChainfinError
) -> Response:
    reason = REFUSALS.get(exc.code, exc.message)
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)


@router.get("/dealer", response_class=HTMLResponse)
def dealer_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """The dealer's applications, loans, releases and what remains to be released."""
    on = today()
    try:
        apps = dealer.applications_of(session, principal)
        views = [
            dealer.view(session, principal, row, on) for row in dealer.loans_of(session, principal)
        ]
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    views.sort(key=lambda v: not v.overdue)  # overdue loans first (a stable sort)
    loans = [_loan(v) for v in views]
    banks = {a.bank_id for a in apps} | {v.loan.bank_id for v in views}
    context = {
        "nav": "dealer",
        "today": on,
        "applications": [
            {"app": LoanApplicationOut.build(session, a), "decision": DecisionOut.build(a.decision)}
            for a in apps
        ],
        "loans": loans,
        "overdue": [row for row in loans if row["overdue"]],
        "names": identity.party_names(session, principal, banks),
        **_labels(),
    }
    return render(request, "dealer.html", context, me=whoami(session, principal))


@router.get("/dealer/loans/{loan_id}", response_class=HTMLResponse)
def dealer_loan(
    loan_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """One dealer loan: terms, where it stands, repayments, releases and what remains.
    Another firm's loan is not found (404)."""
    on = today()
    try:
        view = dealer.loan(session, principal, loan_id, on)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    parties = {view.loan.bank_id, str(view.loan.collateral.get("core_id", ""))}
    context = {
        "nav": "dealer",
        "today": on,
        **_loan(view),
        "names": identity.party_names(session, principal, parties),
        **_labels(),
    }
    return render(request, "dealer_loan.html", context, me=whoami(session, principal))
