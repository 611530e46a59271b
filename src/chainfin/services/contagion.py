"""Contagion on the platform's own supply network: "core enterprise X defaults" or "pays N
days late", run through DebtRank (:mod:`chainfin.risk.debtrank`), and what it costs the bank.

The network, built from the registry and the last twelve months of invoices:

- a node per enterprise with supply relations or invoices; **value** = total assets from the
  registry (revenue where total assets are missing); **equity** = ``EQUITY_RATIO`` of total
  assets (an assumption: the registry carries no equity; 40 % is the usual small
  manufacturer's book equity) — enterprises with neither figure are left out and counted;
- an edge supplier → buyer with **exposure** = the supplier's receivable on the buyer,
  estimated as ``RECEIVABLE_DAYS`` of its twelve-month invoiced sales to it (a supplier loses
  what the buyer owes it when the buyer fails); dealers' prepayments to the core are the same
  claim the other way (invoices from the core to the dealer are not a claim of the dealer, so a
  dealer's exposure is ``RECEIVABLE_DAYS`` of its purchases from the core, as goods prepaid).

Scenarios: **default** shocks the core fully (``psi = 1``); **delay** by N days shocks it by
``min(1, N / 90)`` — 90 days past due is where a loan becomes non-performing, so a 90-day
delay is treated as a default and shorter ones in proportion (an assumption, stated here).

The bank's **expected loss** = Σ over its obligors of exposure × h × ``LGD`` (45 %, the Basel
foundation IRB figure for senior unsecured claims), in total and by the obligor's tier in the
bank's chains; the **chains hit** are the bank's chains with a member distressed above 10 %.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Chain,
    ChainCore,
    ChainMember,
    Enterprise,
    TradeDocumentRow,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.risk import debtrank
from chainfin.services import portfolio, scoping
from chainfin.services.contagion_report import (
    BankLoss,
    ChainHit,
    ContagionReport,
    Distressed,
    NetworkSize,
    ShockSpec,
)
from chainfin.services.credentials._common import _resolve_enterprise

EQUITY_RATIO = Fraction(2, 5)
RECEIVABLE_DAYS = 90
NPL_DAYS = 90
LGD = Decimal("0.45")
HIT = 0.10


@dataclass(frozen=True, slots=True)
class Scenario:
    core_id: str
    kind: str  # default | delay
    days: int
    shock: float


def build_network(session: Session, as_of: date) -> tuple[debtrank.Network | None, int]:
    """The supply network as of ``as_of`` (None when there was no trade), and how many
    enterprises had no balance sheet."""
    since = as_of - timedelta(days=365)
    sales = session.execute(
        select(
            TradeDocumentRow.seller_id,
            TradeDocumentRow.buyer_id,
            func.sum(TradeDocumentRow.total_minor),
        )
        .where(
            TradeDocumentRow.kind == "invoice",
            TradeDocumentRow.issue_date > since,
            TradeDocumentRow.issue_date <= as_of,
        )
        .group_by(TradeDocumentRow.seller_id, TradeDocumentRow.buyer_id)
    ).all()
    ids = sorted({s for s, _b, _t in sales} | {b for _s, b, _t in sales})
    sheets = {
        e.id: (e.total_assets_minor or e.revenue_minor, "core" in e.roles)
        for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))
    }
    known = [i for i in ids if sheets.get(i, (None, False))[0]]
    missing = len(ids) - len(known)
    if not known:
        return None, missing
    index = {e: n for n, e in enumerate(known)}
    value = [float(sheets[e][0] or 0) for e in known]
    equity = [v * float(EQUITY_RATIO) for v in value]
    holder, counterparty, exposure = [], [], []
    for seller, buyer, total in sales:
        if seller not in index or buyer not in index or seller == buyer:
            continue
        claim = float(total) * RECEIVABLE_DAYS / 365
        # the supplier is owed by its buyer; a dealer buying from the core has prepaid it
        holder.append(index[seller])
        counterparty.append(index[buyer])
        exposure.append(claim)
        if sheets[seller][1] and not sheets[buyer][1]:
            holder.append(index[buyer])
            counterparty.append(index[seller])
            exposure.append(claim)
    network = debtrank.Network.from_arrays(
        tuple(known), equity, value, holder, counterparty, exposure
    )
    return network, missing


def _tiers(session: Session, bank_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each enterprise's position in the bank's chains (``core``, ``upstream 2``…) and the
    chains' names."""
    chains = dict(
        session.execute(select(Chain.id, Chain.name).where(Chain.bank_id == bank_id)).all()
    )
    tier: dict[str, str] = {}
    for enterprise_id, side, level in session.execute(
        select(ChainMember.enterprise_id, ChainMember.side, ChainMember.tier).where(
            ChainMember.chain_id.in_(chains)
        )
    ):
        tier.setdefault(enterprise_id, "core" if side == "core" else f"{side} {level}")
    for (enterprise_id,) in session.execute(
        select(ChainCore.enterprise_id).where(ChainCore.chain_id.in_(chains))
    ):
        tier[enterprise_id] = "core"
    return tier, chains


def run(
    session: Session,
    actor: Principal,
    *,
    core: str,
    kind: str = "default",
    days: int = 0,
    as_of: date,
    top: int = 20,
) -> ContagionReport:
    """Shock one core enterprise and report the contagion and the bank's expected loss."""
    actor.require(Scope.LOANS_READ)
    bank_id = scoping.bank_of(actor, "a bank runs scenarios on its own book")
    errors = []
    if kind not in ("default", "delay"):
        errors.append(FieldError("kind", "default or delay"))
    if kind == "delay" and not 1 <= days <= 3650:
        errors.append(FieldError("days", "a delay of 1 to 3650 days"))
    if errors:
        raise ValidationFailed(errors)
    core_ent = _resolve_enterprise(session, core, "core")
    network, missing = build_network(session, as_of)
    if network is None or core_ent.id not in network.index:
        raise ValidationFailed(
            [FieldError("core", f"{core_ent.uscc} has no invoiced trade in the last year")],
            code="core_has_no_trade",
        )
    shock = 1.0 if kind == "default" else min(1.0, days / NPL_DAYS)
    result = debtrank.debtrank(network, {core_ent.id: shock})
    # The network is the whole platform's trade; what the bank is shown of it is its own:
    # firms it may see (its customers), never another tenant's supply chain by name.
    names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_(network.ids), scoping.enterprise_condition(actor)
            )
        ).all()
    )
    tier, chains = _tiers(session, bank_id)
    # the bank's expected loss: its exposure to each obligor × distress × LGD
    by_tier: dict[str, int] = defaultdict(int)
    exposed: dict[str, int] = defaultdict(int)
    for item in portfolio.exposures(session, bank_id, "CNY"):
        exposed[item.obligor_id] += item.amount_minor
    total_el = 0
    for obligor, amount in exposed.items():
        h = result.h_of(obligor) if obligor in network.index else 0.0
        loss = int(Decimal(amount) * Decimal(repr(h)) * LGD)
        if loss:
            by_tier[tier.get(obligor, "outside the bank's chains")] += loss
            total_el += loss
    hit_chains: dict[str, int] = defaultdict(int)
    members = session.execute(
        select(ChainMember.chain_id, ChainMember.enterprise_id).where(
            ChainMember.chain_id.in_(chains)
        )
    ).all()
    for chain_id, enterprise_id in members:
        if enterprise_id in network.index and result.h_of(enterprise_id) > HIT:
            hit_chains[chain_id] += 1
    money = "CNY"
    return ContagionReport(
        scenario=ShockSpec(
            core_id=core_ent.id if core_ent.id in names else None,
            core_uscc=core_ent.uscc,
            core=names.get(core_ent.id),
            kind=kind,
            days=days,
            shock=shock,
            as_of=as_of,
        ),
        network=NetworkSize(nodes=network.n_nodes, links=network.n_links, left_out=missing),
        debtrank=result.debtrank,
        total=result.total,
        rounds=result.rounds,
        distressed=result.distressed,
        top=tuple(
            Distressed(id=d.id, name=names[d.id], tier=tier.get(d.id), h=round(d.h, 6))
            for d in result.top(network.n_nodes)
            if d.id in names
        )[:top],
        bank=BankLoss(
            exposure=Money(sum(exposed.values()), money),
            expected_loss=Money(total_el, money),
            lgd=LGD,
            by_tier={k: Money(v, money) for k, v in sorted(by_tier.items())},
        ),
        chains_hit=tuple(
            ChainHit(chain_id=c, name=chains[c], members_distressed=n)
            for c, n in sorted(hit_chains.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
    )
