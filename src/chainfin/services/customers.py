"""A bank's book of customers and prospects, as its relationship managers and risk officers
read it: the firms of the chains the bank defined (each a customer of the bank or not yet),
the bank's own customers outside any chain, each with the bank's open alerts about it and
its outstanding exposure; one chain as a graph (members, the supply relations the bank may
see among them); a firm's place in the bank's chains; and the counts of what waits for the
signed-in person.

Everything is scoped as the API scopes it: a chain is the bank's own
(:func:`scoping.chain_condition`), relations are those with a customer of the bank on one
side (:func:`scoping.relation_condition`), alerts and exposures are the bank's own. A chain
member that is not a customer shows what ``GET /v1/chains/{id}/members`` shows (name,
USCC, region, industry, side and tier), nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    Bank,
    BankCustomer,
    Chain,
    ChainMember,
    DueDiligenceTask,
    Enterprise,
    LoanApplication,
    SupplyRelation,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import NotFound
from chainfin.services import chains, portfolio, scoping

LIVE_ALERTS = ("open", "acknowledged")


@dataclass(frozen=True)
class Firm:
    """A firm in the bank's book: in one chain (``chain_id`` None: a customer in none)."""

    enterprise_id: str
    name: str
    uscc: str
    region_code: str
    industry_code: str
    chain_id: str | None
    chain_name: str
    side: str  # core, upstream, downstream ("" outside a chain)
    tier: int
    customer: bool
    open_alerts: int
    exposure_minor: int


@dataclass(frozen=True)
class ChainGraph:
    chain_id: str
    chain_name: str
    core_ids: list[str]
    members: list[Firm]  # one per enterprise (its innermost position when on both sides)
    links: list[tuple[str, str]]  # (seller id, buyer id) the bank may see, both members


@dataclass(frozen=True)
class Waiting:
    """What waits for the signed-in staff member, by what their roles let them act on."""

    referred: int | None  # referred applications awaiting a decision (approvers)
    open_tasks: int | None  # open due-diligence tasks (relationship managers)
    open_alerts: int | None  # the bank's open and acknowledged alerts
    customers: int  # the bank's customers
    assigned: int  # of which assigned to this person as relationship manager


def _bank(actor: Principal) -> str:
    actor.require(Scope.REGISTRY_READ)
    return scoping.bank_of(actor, "a bank's book of customers is read by its staff")


def open_alerts_by_firm(session: Session, actor: Principal) -> dict[str, int]:
    """The bank's open and acknowledged alerts, counted by the firm they are about."""
    if not actor.has(Scope.CREDENTIALS_READ):
        return {}
    rows = session.execute(
        select(Alert.enterprise_id, func.count())
        .where(
            scoping.by_bank(actor, Alert.bank_id),
            Alert.state.in_(LIVE_ALERTS),
            Alert.enterprise_id.is_not(None),
        )
        .group_by(Alert.enterprise_id)
    )
    return {str(e): int(n) for e, n in rows}


def exposure_by_firm(session: Session, actor: Principal, currency: str = "CNY") -> dict[str, int]:
    """The bank's outstanding exposure (loans, financed credentials) by obligor, minor units."""
    if not actor.has(Scope.LOANS_READ) or actor.bank_id is None:
        return {}
    out: dict[str, int] = defaultdict(int)
    for item in portfolio.exposures(session, actor.bank_id, currency):
        out[item.obligor_id] += item.amount_minor
    return dict(out)


def _own_enterprise(session: Session, bank_id: str) -> str | None:
    return session.scalar(select(Bank.enterprise_id).where(Bank.id == bank_id))


class _FirmRow(NamedTuple):
    id: str
    name: str
    uscc: str
    region_code: str
    industry_code: str


def book(
    session: Session,
    actor: Principal,
    *,
    chain_id: str | None = None,
    status: str | None = None,
    search: str = "",
    enterprise_id: str | None = None,
) -> list[Firm]:
    """The bank's customers and prospects by chain: every member of the bank's chains, and
    its customers that are in none (unless ``chain_id`` names one chain). ``status``:
    ``customer`` or ``prospect``; ``search``: part of the name or of the USCC;
    ``enterprise_id``: that firm's rows only. Ordered by
    chain, side, tier and name."""
    bank = _bank(actor)
    if chain_id:
        chains.get_chain(session, actor, chain_id)  # 404 unless it is the bank's
    customers = set(session.scalars(scoping.customer_ids(bank)))
    own = _own_enterprise(session, bank)
    alerts = open_alerts_by_firm(session, actor)
    exposure = exposure_by_firm(session, actor)
    # columns, not entities: an Enterprise row decrypts its contact fields when loaded
    firm_columns = (
        Enterprise.id,
        Enterprise.name,
        Enterprise.uscc,
        Enterprise.region_code,
        Enterprise.industry_code,
    )
    query = (
        select(ChainMember.chain_id, ChainMember.side, ChainMember.tier, Chain.name, *firm_columns)
        .join(Chain, Chain.id == ChainMember.chain_id)
        .join(Enterprise, Enterprise.id == ChainMember.enterprise_id)
        .where(scoping.chain_condition(actor))
    )
    if chain_id:
        query = query.where(Chain.id == chain_id)
    if enterprise_id:
        query = query.where(Enterprise.id == enterprise_id)
    needle = search.strip()
    if needle:
        query = query.where(
            or_(Enterprise.name.contains(needle), Enterprise.uscc.contains(needle.upper()))
        )
    firms: list[Firm] = []
    in_chains: set[str] = set()
    for member_chain, side, tier, chain_name, *row in session.execute(query):
        ent = _FirmRow(*row)
        in_chains.add(ent.id)
        firms.append(
            Firm(
                ent.id,
                ent.name,
                ent.uscc,
                ent.region_code,
                ent.industry_code,
                member_chain,
                chain_name,
                side,
                tier,
                ent.id in customers,
                alerts.get(ent.id, 0),
                exposure.get(ent.id, 0),
            )
        )
    if not chain_id:
        rest = sorted(customers - in_chains - {own})
        if enterprise_id:
            rest = [e for e in rest if e == enterprise_id]
        outside = select(*firm_columns).where(
            Enterprise.id.in_(rest), scoping.enterprise_condition(actor)
        )
        if needle:
            outside = outside.where(
                or_(Enterprise.name.contains(needle), Enterprise.uscc.contains(needle.upper()))
            )
        for found in session.execute(outside) if rest else ():
            ent = _FirmRow(*found)
            firms.append(
                Firm(
                    ent.id,
                    ent.name,
                    ent.uscc,
                    ent.region_code,
                    ent.industry_code,
                    None,
                    "",
                    "",
                    0,
                    True,
                    alerts.get(ent.id, 0),
                    exposure.get(ent.id, 0),
                )
            )
    if status == "customer":
        firms = [f for f in firms if f.customer]
    elif status == "prospect":
        firms = [f for f in firms if not f.customer]
    side_order = {"core": 0, "upstream": 1, "downstream": 2, "": 3}
    firms.sort(
        key=lambda f: (f.chain_id is None, f.chain_name, side_order.get(f.side, 4), f.tier, f.name)
    )
    return firms


def chain_graph(session: Session, actor: Principal, chain_id: str) -> ChainGraph:
    """One of the bank's chains as a graph: its members (a firm on both sides of the core
    appears once, at its innermost tier) and the supply relations among them that the bank
    may see (those with one of its customers on a side)."""
    _bank(actor)
    summary = chains.get_chain(session, actor, chain_id)
    members: dict[str, Firm] = {}
    for firm in book(session, actor, chain_id=chain_id):
        known = members.get(firm.enterprise_id)
        if (
            known is None
            or (firm.side == "core")
            or (known.side != "core" and firm.tier < known.tier)
        ):
            members[firm.enterprise_id] = firm
    # the members' relations read by seller (an index seek each), then the bank's view of
    # them applied by scoping.visible_relations (see there why not in the query)
    among = {
        (str(s), str(b))
        for s, b in session.execute(
            select(SupplyRelation.seller_id, SupplyRelation.buyer_id).where(
                SupplyRelation.seller_id.in_(sorted(members))
            )
        )
        if b in members
    }
    links = sorted(scoping.visible_relations(session, actor, among))
    return ChainGraph(
        summary.chain.id, summary.chain.name, summary.core_ids, list(members.values()), links
    )


def positions_in_chains(session: Session, actor: Principal, enterprise_id: str) -> list[Firm]:
    """The firm's places in the bank's chains (what the chain members list shows); NotFound
    when it is in none and not a customer either: the bank has nothing to say about it."""
    _bank(actor)
    found = [f for f in book(session, actor, enterprise_id=enterprise_id) if f.chain_id is not None]
    if not found:
        raise NotFound(f"no enterprise {enterprise_id!r}", code="enterprise_not_found")
    return found


def waiting(session: Session, actor: Principal) -> Waiting:
    """The counts on the staff home page: each only for a person whose roles act on it."""
    bank = _bank(actor)
    referred = tasks = alerts = None
    if "approver" in actor.roles:
        referred = session.scalar(
            select(func.count()).where(
                LoanApplication.bank_id == bank, LoanApplication.status == "referred"
            )
        )
    if "relationship_manager" in actor.roles:
        tasks = session.scalar(
            select(func.count()).where(
                DueDiligenceTask.bank_id == bank, DueDiligenceTask.state == "open"
            )
        )
    if {"relationship_manager", "risk_officer"} & set(actor.roles):
        alerts = session.scalar(
            select(func.count()).where(Alert.bank_id == bank, Alert.state.in_(LIVE_ALERTS))
        )
    customers = session.scalar(
        select(func.count()).select_from(BankCustomer).where(BankCustomer.bank_id == bank)
    )
    assigned = session.scalar(
        select(func.count())
        .select_from(BankCustomer)
        .where(
            BankCustomer.bank_id == bank, BankCustomer.relationship_manager_id == actor.subject_id
        )
    )
    return Waiting(referred, tasks, alerts, int(customers or 0), int(assigned or 0))
