"""Industrial chains: a named chain around core enterprises, as one bank sees it, with each
member's side and tier computed from the supply-relation graph (see
``chainfin.domain.registry.compute_tiers``).

Chain structure is computed over every recorded relation, so a bank sees the whole chain
around its core customer, including members that are not (yet) its customers — that is
what it needs to decide whom to approach. Member detail beyond name, USCC, region, industry
and tier stays behind the enterprise scoping rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    BankCustomer,
    Chain,
    ChainCore,
    ChainMember,
    Enterprise,
    SupplyRelation,
)
from chainfin.domain.access import SYSTEM, Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.region import check_region_code
from chainfin.domain.registry import Relation, Side, SupplyGraph
from chainfin.services import audit, ledger
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.ledger_records import chain_row, members_row
from chainfin.services.pagination import Page, check_limit, decode_cursor, encode_cursor
from chainfin.services.registry import ids_by_uscc
from chainfin.services.scoping import chain_condition, enterprise_condition, is_chain_core


@dataclass(frozen=True)
class ChainSummary:
    chain: Chain
    core_ids: list[str]
    members_by_tier: dict[str, dict[int, int]]  # side -> tier -> count

    @property
    def member_count(self) -> int:
        return sum(sum(t.values()) for s, t in self.members_by_tier.items() if s != "core")


@dataclass(frozen=True)
class MemberView:
    enterprise_id: str
    uscc: str
    name: str
    region_code: str
    industry_code: str
    side: str
    tier: int
    is_customer: bool | None  # for bank principals: is it our customer already?


def create_chain(
    session: Session,
    actor: Principal,
    *,
    name: str,
    core_usccs: Sequence[str],
    industry_code: str,
    region_code: str,
    max_tier: int = 4,
    bank_id: str | None = None,
    compute: bool = True,
) -> ChainSummary:
    """Define a chain for the actor's bank (the operator names the bank) and compute tiers.
    Bulk loaders pass ``compute=False`` and call :func:`recompute_tiers` once for all."""
    actor.require(Scope.REGISTRY_WRITE)
    owner = actor.bank_id or (bank_id if actor.is_system else None)
    if owner is None:
        raise Forbidden(
            "chains are defined by a bank", hint="Sign in as bank staff.", code="bank_staff_only"
        )
    errors: list[FieldError] = []
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "1-200 characters"))
    if not 1 <= max_tier <= 10:
        errors.append(FieldError("max_tier", "must be between 1 and 10"))
    try:
        industry = parse_industry_code(industry_code).code
    except UnknownIndustry as exc:
        errors.append(FieldError("industry_code", str(exc)))
    if (why := check_region_code(region_code)) is not None:
        errors.append(FieldError("region_code", why))
    if not core_usccs:
        errors.append(FieldError("core_usccs", "at least one core enterprise is required"))
    ids = ids_by_uscc(session, core_usccs)
    visible = set(
        session.scalars(
            select(Enterprise.id).where(
                Enterprise.id.in_(ids.values()), enterprise_condition(actor)
            )
        )
    )
    for code in core_usccs:
        if code not in ids or ids[code] not in visible:
            errors.append(FieldError("core_usccs", f"{code} is not one of your customers"))
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(Chain.id).where(Chain.bank_id == owner, Chain.name == name)):
        raise Conflict(f"your bank already has a chain named {name!r}", code="chain_name_taken")
    chain = Chain(
        id=new_id("chain"),
        bank_id=owner,
        name=name.strip(),
        industry_code=industry,
        region_code=region_code,
        max_tier=max_tier,
        tiers_computed_at=None,
        created_at=utcnow(),
    )
    session.add(chain)
    session.flush()
    session.execute(
        insert(ChainCore),
        [{"chain_id": chain.id, "enterprise_id": ids[c]} for c in set(core_usccs)],
    )
    ledger.one(session, actor, "chain.defined", Change("chain", chain_row(session, chain)))
    if compute:
        recompute_tiers(session, [chain.id], actor=actor)
    audit.record(session, actor, "chain.create", "chain", chain.id, {"cores": sorted(ids.values())})
    return get_chain(session, actor, chain.id)


def recompute_tiers(
    session: Session, chain_ids: Sequence[str] | None = None, *, actor: Principal = SYSTEM
) -> int:
    """Rebuild member tiers of the given chains (all when None) from current relations.
    The relation graph is read once for all chains. Returns the number of member rows."""
    chains = list(
        session.scalars(
            select(Chain).where(Chain.id.in_(chain_ids)) if chain_ids is not None else select(Chain)
        )
    )
    if not chains:
        return 0
    graph = SupplyGraph(
        Relation(b, s)
        for b, s in session.execute(select(SupplyRelation.buyer_id, SupplyRelation.seller_id))
    )
    cores: dict[str, set[str]] = {}
    for cid, eid in session.execute(
        select(ChainCore.chain_id, ChainCore.enterprise_id).where(
            ChainCore.chain_id.in_([c.id for c in chains])
        )
    ):
        cores.setdefault(cid, set()).add(eid)
    now = utcnow()
    total = 0
    drafts: list[EntryDraft] = []
    for chain in chains:
        tiers = graph.tiers(cores.get(chain.id, set()), max_tier=chain.max_tier)
        session.execute(delete(ChainMember).where(ChainMember.chain_id == chain.id))
        rows = [
            {"chain_id": chain.id, "enterprise_id": e, "side": side.value, "tier": tier}
            for (e, side), tier in sorted(tiers.items())
        ]
        for i in range(0, len(rows), 5000):
            session.execute(insert(ChainMember), rows[i : i + 5000])
        chain.tiers_computed_at = now
        total += len(rows)
        members = [(e, side.value, tier) for (e, side), tier in tiers.items()]
        drafts.append(
            EntryDraft(
                "chain.tiers_computed", [Change("chain_members", members_row(chain, members))]
            )
        )
    ledger.record(session, actor, drafts)
    return total


def _summary(session: Session, chain: Chain) -> ChainSummary:
    counts: dict[str, dict[int, int]] = {}
    for side, tier, n in session.execute(
        select(ChainMember.side, ChainMember.tier, func.count())
        .where(ChainMember.chain_id == chain.id)
        .group_by(ChainMember.side, ChainMember.tier)
    ):
        counts.setdefault(side, {})[tier] = n
    core_ids = sorted(
        session.scalars(select(ChainCore.enterprise_id).where(ChainCore.chain_id == chain.id))
    )
    return ChainSummary(chain, core_ids, counts)


def get_chain(session: Session, actor: Principal, chain_id: str) -> ChainSummary:
    actor.require(Scope.REGISTRY_READ)
    chain = session.scalar(select(Chain).where(Chain.id == chain_id, chain_condition(actor)))
    if chain is None:
        raise NotFound(f"no chain {chain_id!r}", code="chain_not_found")
    return _summary(session, chain)


def list_chains(
    session: Session, actor: Principal, *, limit: int = 50, cursor: str | None = None
) -> Page[ChainSummary]:
    actor.require(Scope.REGISTRY_READ)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    query = select(Chain).where(chain_condition(actor))
    if after:
        query = query.where(Chain.id > after)
    chains = list(session.scalars(query.order_by(Chain.id).limit(limit + 1)))
    more = len(chains) > limit
    items = [_summary(session, c) for c in chains[:limit]]
    return Page(items, encode_cursor(items[-1].chain.id) if more and items else None)


def list_members(
    session: Session,
    actor: Principal,
    chain_id: str,
    *,
    side: Side | None = None,
    tier: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[MemberView]:
    """Members of a chain. A member enterprise that is not a core sees only itself."""
    get_chain(session, actor, chain_id)  # 404 unless the chain is visible
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    query = (
        select(ChainMember, Enterprise)
        .join(Enterprise, Enterprise.id == ChainMember.enterprise_id)
        .where(ChainMember.chain_id == chain_id)
    )
    if actor.enterprise_id is not None and not actor.is_system:
        core_of = session.scalar(select(Chain.id).where(Chain.id == chain_id, is_chain_core(actor)))
        if core_of is None:
            query = query.where(ChainMember.enterprise_id == actor.enterprise_id)
    if side is not None:
        query = query.where(ChainMember.side == side.value)
    if tier is not None:
        query = query.where(ChainMember.tier == tier)
    if after:
        ent, _, side_after = after.partition("|")
        query = query.where(
            (ChainMember.enterprise_id > ent)
            | ((ChainMember.enterprise_id == ent) & (ChainMember.side > side_after))
        )
    rows = list(
        session.execute(
            query.order_by(ChainMember.enterprise_id, ChainMember.side).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    customers: set[str] = set()
    if actor.bank_id is not None:
        customers = set(
            session.scalars(
                select(BankCustomer.enterprise_id).where(
                    BankCustomer.bank_id == actor.bank_id,
                    BankCustomer.enterprise_id.in_([e.id for _, e in rows]),
                )
            )
        )
    items = [
        MemberView(
            enterprise_id=e.id,
            uscc=e.uscc,
            name=e.name,
            region_code=e.region_code,
            industry_code=e.industry_code,
            side=m.side,
            tier=m.tier,
            is_customer=(e.id in customers) if actor.bank_id is not None else None,
        )
        for m, e in rows
    ]
    next_cursor = encode_cursor(f"{items[-1].enterprise_id}|{items[-1].side}") if more else None
    return Page(items, next_cursor)


def tier_table(summary: ChainSummary) -> list[dict[str, Any]]:
    """Rows of (side, tier, members) for printing and pages."""
    return [
        {"side": side, "tier": tier, "members": n}
        for side in ("core", "upstream", "downstream")
        for tier, n in sorted(summary.members_by_tier.get(side, {}).items())
    ]


def recompute_chain(session: Session, actor: Principal, chain_id: str) -> int:
    """Recompute one chain's tiers (its bank's staff with write scope, or the operator)."""
    actor.require(Scope.REGISTRY_WRITE)
    summary = get_chain(session, actor, chain_id)
    if not actor.is_system and actor.bank_id != summary.chain.bank_id:
        raise Forbidden(
            "only the bank that defined the chain recomputes it", code="not_your_record"
        )
    rows = recompute_tiers(session, [chain_id], actor=actor)
    audit.record(session, actor, "chain.recompute", "chain", chain_id, {"members": rows})
    return rows
