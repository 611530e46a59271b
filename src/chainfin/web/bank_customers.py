"""The relationship manager's customers (docs/workbench.md): the bank staff's home (who I
am, what waits for me, the bank's chains), the book of customers and prospects by chain
(/customers), one chain's map and list (/chains/{id}) and a firm's 360° page
(/firms/{id}).

Every figure comes from the services with the signed-in person's principal: the book and
the map from services/customers.py (the bank's chains, its customers, its alerts and
exposures), the firm page from the registry, relations, documents and trade cases (read
only under the firm's consent to this bank, checked before any read: without it the page
says the data is not shared), credentials, loans, alerts and consents. A firm the bank may
not see is not found, as ``GET /v1/enterprises/{id}`` answers; a member of one of the
bank's chains that is not its customer (a prospect) shows only what the chain's member list
shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from chainfin.api.deps import LoggedReadSessionDep, SessionDep
from chainfin.domain.access import Principal, Scope
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.documents import DocumentKind
from chainfin.domain.errors import ChainfinError, NotFound
from chainfin.domain.money import Money
from chainfin.resources.alerts import AlertOut
from chainfin.resources.consent import ConsentOut
from chainfin.resources.credentials import CredentialPieceOut
from chainfin.resources.lending import LoanOut
from chainfin.resources.registry import EnterpriseOut
from chainfin.services import (
    alerts,
    chains,
    consent,
    credentials,
    customers,
    documents,
    identity,
    registry,
    trade_cases,
)
from chainfin.services.lending import loans
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web import chain_map, charts
from chainfin.web.consent_centre import CATEGORY_LABELS, PURPOSE_LABELS
from chainfin.web.i18n import N_
from chainfin.web.render import PagePrincipal, language_of, render, whoami

router = APIRouter(include_in_schema=False)

BOOK_ROLES = frozenset({"relationship_manager", "risk_officer"})
STAFF_ROLES = BOOK_ROLES | {"approver", "admin", "auditor", "strategist"}  # chain maps, firms
NOT_STAFF = N_("This page is for the bank's staff whose roles cover customers.")
NO_CHAIN = N_("There is no such chain among your bank's chains.")
NO_FIRM = N_("Your bank has no such firm among its customers or in its chains.")
SHOWN = 300  # rows of the book on one page; the filters narrow it
MONTHS = 12  # months of trade shown on the firm page
SIDES = {"core": N_("Core"), "upstream": N_("Upstream"), "downstream": N_("Downstream")}
STATUSES = {"customer": N_("Customers"), "prospect": N_("Prospects")}
CASE_STATES = {
    "matched": N_("Matched"),
    "partially_matched": N_("Partially matched"),
    "mismatched": N_("Mismatched"),
    "incomplete": N_("Incomplete"),
}
LOAN_STATES = {
    "approved": N_("Approved, not yet disbursed"),
    "cancelled": N_("Cancelled"),
    "disbursed": N_("Disbursed"),
    "current": N_("Current"),
    "overdue": N_("Overdue"),
    "settled": N_("Settled"),
    "written_off": N_("Written off"),
}
FIVE_CATEGORIES = {
    "normal": N_("Normal"),
    "special_mention": N_("Special mention"),
    "substandard": N_("Substandard"),
    "doubtful": N_("Doubtful"),
    "loss": N_("Loss"),
}
ALERT_STATES = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "resolved": N_("Resolved"),
}
SEVERITIES = {
    "info": N_("Information"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
}
PIECE_STATES = {
    "offered": N_("Awaiting acceptance"),
    "held": N_("Held"),
    "financed": N_("Financed"),
    "overdue": N_("Overdue"),
    "settled": N_("Settled"),
}
CONSENT_STATES = {
    "active": N_("Active"),
    "not yet valid": N_("Not yet valid"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}
ROLE_NAMES = {
    "core": N_("Core enterprise"),
    "supplier": N_("Supplier"),
    "dealer": N_("Dealer"),
    "bank": N_("Bank"),
    "logistics": N_("Logistics"),
    "warehouse": N_("Warehouse"),
}
LABELS = {
    "sides": SIDES,
    "case_states": CASE_STATES,
    "loan_states": LOAN_STATES,
    "five_categories": FIVE_CATEGORIES,
    "alert_states": ALERT_STATES,
    "severities": SEVERITIES,
    "piece_states": PIECE_STATES,
    "consent_states": CONSENT_STATES,
    "category_labels": {k.value: v for k, v in CATEGORY_LABELS.items()},
    "purpose_labels": {k.value: v for k, v in PURPOSE_LABELS.items()},
    "role_names": ROLE_NAMES,
}


def yuan(amount_minor: int) -> str:
    """Minor units as the decimal string the ``money`` filter takes."""
    return Money(amount_minor).to_decimal_string()


def _gettext(request: Request) -> Callable[[str], str]:
    language, _ = language_of(request)
    return language.gettext


def _refused(
    request: Request,
    session: Session,
    principal: Principal,
    roles: frozenset[str],
) -> Response | None:
    """The 403 page for anyone not holding one of ``roles`` at a bank (enterprise users
    included)."""
    if principal.bank_id is not None and roles & set(principal.roles):
        return None
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": NOT_STAFF}, me=me, status_code=403)


def _not_found(request: Request, session: Session, principal: Principal, reason: str) -> Response:
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=404)


# ---------------------------------------------------------------------------- the home


def staff_home(request: Request, session: Session, principal: Principal) -> Response:
    """``/`` for a bank's staff: who I am, what waits for me, and the bank's chains."""
    me = whoami(session, principal)
    page = chains.list_chains(session, principal, limit=200)
    rows = [(s, chains.tier_table(s)) for s in page.items]
    cores = {core for s in page.items for core in s.core_ids}
    context = {
        "nav": "home",
        "chains": rows,
        "names": identity.party_names(session, principal, cores),
        "waiting": customers.waiting(session, principal),
        "roles": set(principal.roles),
    }
    return render(request, "bank_customers_home.html", context, me=me)


# ---------------------------------------------------------------------------- the book


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    chain: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The bank's customers and prospects by chain, filtered by chain, status and a part of
    the name or USCC. An unknown filter value is refused with the field named (400)."""
    refused = _refused(request, session, principal, BOOK_ROLES)
    if refused is not None:
        return refused
    me = whoami(session, principal)
    listed = chains.list_chains(session, principal, limit=200).items
    problems = []
    if chain and chain not in {s.chain.id for s in listed}:
        problems.append(("chain", N_("Choose one of your bank's chains.")))
    if status and status not in STATUSES:
        problems.append(("status", N_("Choose customers or prospects.")))
    context: dict[str, Any] = {
        "nav": "customers",
        "chains": listed,
        "statuses": STATUSES,
        "chosen": {"chain": chain, "status": status, "q": q},
        "problems": dict(problems),
        "sides": SIDES,
        "yuan": yuan,
    }
    if problems:
        context.update(groups=[], total=0, shown=0, customers_n=0, prospects_n=0)
        return render(request, "bank_customers.html", context, me=me, status_code=400)
    firms = customers.book(
        session, principal, chain_id=chain or None, status=status or None, search=q
    )
    groups: dict[str, list[customers.Firm]] = defaultdict(list)
    for firm in firms[:SHOWN]:
        groups[firm.chain_id or ""].append(firm)
    context.update(
        groups=[(key, rows[0].chain_name, rows) for key, rows in groups.items()],
        total=len(firms),
        shown=min(len(firms), SHOWN),
        customers_n=len({f.enterprise_id for f in firms if f.customer}),
        prospects_n=len({f.enterprise_id for f in firms if not f.customer}),
    )
    return render(request, "bank_customers.html", context, me=me)


# ---------------------------------------------------------------------------- the chain map


@router.get("/chains/{chain_id}", response_class=HTMLResponse)
def chain_page(
    chain_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """One of the bank's chains drawn as a map, with the same firms listed below it."""
    refused = _refused(request, session, principal, STAFF_ROLES)
    if refused is not None:
        return refused
    try:
        drawn = chain_map.build(session, principal, chain_id, gettext=_gettext(request))
        summary = chains.get_chain(session, principal, chain_id)
    except NotFound:
        return _not_found(request, session, principal, NO_CHAIN)
    me = whoami(session, principal)
    context = {
        "nav": "customers",
        "map": drawn,
        "summary": summary,
        "tiers": chains.tier_table(summary),
        "sides": SIDES,
        "yuan": yuan,
        "customers_n": sum(1 for n in drawn.nodes if n.customer),
        "alerted_n": sum(1 for n in drawn.nodes if n.open_alerts),
        "exposure": Money(sum(n.exposure_minor for n in drawn.nodes)).to_decimal_string(),
    }
    return render(request, "bank_customers_chain.html", context, me=me)


# ---------------------------------------------------------------------------- the firm


def _granted(session: Session, principal: Principal, enterprise_id: str) -> set[DataCategory]:
    """The categories the firm shares with the bank now for credit assessment (checked
    before any read, so a read the firm has not allowed is never attempted)."""
    page = consent.list_grants(
        session, principal, enterprise_id=enterprise_id, state="active", limit=MAX_LIMIT
    )
    purpose = Purpose.CREDIT_ASSESSMENT.value
    return {DataCategory(c) for g in page.items if purpose in g.purposes for c in g.categories}


def _by_month(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for month, amount in rows:
        sums[month] += amount
    return sums


def _trade(
    session: Session, principal: Principal, enterprise_id: str, gettext: Callable[[str], str]
) -> dict[str, Any]:
    """Trade volume and matching by month, from the documents and trade cases the firm lets
    the bank read; ``shared`` False (and nothing read) when its consent does not cover it."""
    granted = _granted(session, principal, enterprise_id)
    out: dict[str, Any] = {"shared": False, "months": [], "option": None, "cases_option": None}
    if not principal.has(Scope.DOCUMENTS_READ):
        return out
    volume: dict[str, dict[str, int]] = {"trade": {}, "invoices": {}}
    dated: dict[str, str] = {}  # document number -> month
    read_any = False
    if DataCategory.TRADE_DOCUMENTS in granted:
        rows = documents.list_documents(
            session, principal, enterprise_id=enterprise_id, limit=MAX_LIMIT
        ).items
        volume["trade"] = _by_month((r.issue_date.strftime("%Y-%m"), r.total_minor) for r in rows)
        dated.update({r.number: r.issue_date.strftime("%Y-%m") for r in rows})
        read_any = True
    if DataCategory.INVOICES in granted:
        rows = documents.list_documents(
            session,
            principal,
            enterprise_id=enterprise_id,
            kind=DocumentKind.INVOICE,
            limit=MAX_LIMIT,
        ).items
        volume["invoices"] = _by_month(
            (r.issue_date.strftime("%Y-%m"), r.total_minor) for r in rows
        )
        dated.update({r.number: r.issue_date.strftime("%Y-%m") for r in rows})
        read_any = True
    cases: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cases_shared = set(trade_cases.CATEGORIES) <= granted
    if cases_shared:
        for case in trade_cases.cases_for(session, principal, enterprise_id):
            months = sorted(
                dated[key.split("/", 2)[-1]]
                for key in case.documents
                if key.split("/", 2)[-1] in dated
            )
            if months:
                cases[months[0]][case.status.value] += 1
    if not read_any:
        return out
    months = sorted(set(volume["trade"]) | set(volume["invoices"]) | set(cases))[-MONTHS:]
    table: list[dict[str, Any]] = [
        {
            "month": m,
            "trade": volume["trade"].get(m, 0),
            "invoices": volume["invoices"].get(m, 0),
            "matched": cases.get(m, {}).get("matched", 0),
            "unmatched": sum(n for s, n in cases.get(m, {}).items() if s != "matched"),
        }
        for m in months
    ]
    option = charts.bar(
        months,
        [
            (gettext("Trade documents"), [r["trade"] for r in table]),
            (gettext("Invoices"), [r["invoices"] for r in table]),
        ],
        money=True,
        unit_label=gettext("10k yuan"),
    )
    cases_option = None
    if cases_shared:
        cases_option = charts.bar(
            months,
            [
                (gettext("Matched"), [r["matched"] for r in table]),
                (gettext("Not matched"), [r["unmatched"] for r in table]),
            ],
            stacked=True,
            unit=gettext("cases"),
        )
    return {
        "shared": True,
        "months": table,
        "option": option,
        "cases_option": cases_option,
        "cases_shared": cases_shared,
    }


def _relations(
    session: Session, principal: Principal, enterprise_id: str
) -> tuple[list[Any], list[Any]]:
    page = registry.list_relations(session, principal, enterprise_id=enterprise_id, limit=MAX_LIMIT)
    suppliers = [r for r in page.items if r.buyer_id == enterprise_id]
    buyers = [r for r in page.items if r.seller_id == enterprise_id]
    return suppliers, buyers


def _customer_firm(
    request: Request, session: Session, principal: Principal, enterprise_id: str
) -> dict[str, Any]:
    ent = registry.get_enterprise(session, principal, enterprise_id)
    suppliers, buyers = _relations(session, principal, enterprise_id)
    held: list[CredentialPieceOut] = []
    found_alerts: list[AlertOut] = []
    if principal.has(Scope.CREDENTIALS_READ):
        held = [
            CredentialPieceOut.build(p)
            for p in credentials.list_pieces(
                session, principal, credentials.PieceFilter(holder=enterprise_id), limit=MAX_LIMIT
            ).items
        ]
        found_alerts = [
            AlertOut.build(a)
            for a in alerts.alerts(
                session, principal, alerts.AlertFilter(enterprise_id=enterprise_id), limit=100
            ).items
        ]
    with_bank = [
        LoanOut.build(loan)
        for loan in loans.loans(
            session, principal, loans.LoanFilter(borrower=enterprise_id), limit=MAX_LIMIT
        ).items
    ]
    grants = [
        ConsentOut.build(g)
        for g in consent.list_grants(
            session, principal, enterprise_id=enterprise_id, limit=MAX_LIMIT
        ).items
    ]
    exposure = customers.exposure_by_firm(session, principal).get(enterprise_id, 0)
    senders = identity.party_names(session, principal, {p.sender_id or "" for p in held})
    return {
        "senders": senders,
        "firm": EnterpriseOut.build(ent, principal),
        "customer": True,
        "suppliers": suppliers,
        "buyers": buyers,
        "trade": _trade(session, principal, enterprise_id, _gettext(request)),
        "held": held,
        "loans": with_bank,
        "alerts": found_alerts,
        "grants": grants,
        "exposure": Money(exposure).to_decimal_string(),
    }


@router.get("/firms/{enterprise_id}", response_class=HTMLResponse)
def firm_page(
    enterprise_id: str, request: Request, session: LoggedReadSessionDep, principal: PagePrincipal
) -> Response:
    """A firm's 360° page for the bank's staff (the consented reads go in the firm's access
    log, so the session writes)."""
    refused = _refused(request, session, principal, STAFF_ROLES)
    if refused is not None:
        return refused
    me = whoami(session, principal)
    try:
        positions = customers.positions_in_chains(session, principal, enterprise_id)
    except NotFound:
        positions = []
    try:
        context = _customer_firm(request, session, principal, enterprise_id)
    except NotFound:
        if not positions:
            return _not_found(request, session, principal, NO_FIRM)
        context = {"firm": positions[0], "customer": False}
    except ChainfinError:
        return _not_found(request, session, principal, NO_FIRM)
    context.update(nav="customers", positions=positions, yuan=yuan, **LABELS)
    return render(request, "bank_customers_firm.html", context, me=me)
