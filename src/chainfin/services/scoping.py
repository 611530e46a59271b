"""Tenant scoping: which enterprises, relations and chains a principal may see.

The rules (docs/architecture.md has the table):

* bank staff and bank clients: their bank's customers (and the bank itself); relations with
  a customer on either side; chains their bank defined;
* enterprise users and enterprise clients: their own enterprise, its counterparties' basic
  profile, relations they are a party to, chains they belong to;
* platform clients: the platform's member enterprises and relations touching them;
* the operator (CLI): everything.

Each function returns a SQL condition (or ``None`` for "no restriction") so that lists,
lookups and exports share one definition and are filtered inside the database.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from chainfin.adapters.db.models import (
    Bank,
    BankCustomer,
    Chain,
    ChainCore,
    ChainMember,
    Enterprise,
    PlatformMember,
    SupplyRelation,
)
from chainfin.domain.access import Principal


def _bank_customers(bank_id: str) -> ColumnElement[bool]:
    return or_(
        Enterprise.id.in_(customer_ids(bank_id)),
        Enterprise.id.in_(select(Bank.enterprise_id).where(Bank.id == bank_id)),
    )


def enterprise_condition(p: Principal) -> ColumnElement[bool]:
    if p.is_system:
        return true()
    if p.bank_id is not None:
        return _bank_customers(p.bank_id)
    if p.enterprise_id is not None:
        e = p.enterprise_id
        return or_(
            Enterprise.id == e,
            Enterprise.id.in_(select(SupplyRelation.seller_id).where(SupplyRelation.buyer_id == e)),
            Enterprise.id.in_(select(SupplyRelation.buyer_id).where(SupplyRelation.seller_id == e)),
        )
    if p.platform_id is not None:
        return Enterprise.id.in_(
            select(PlatformMember.enterprise_id).where(PlatformMember.platform_id == p.platform_id)
        )
    return false()


def customer_ids(bank_id: str) -> Select[str]:
    return select(BankCustomer.enterprise_id).where(BankCustomer.bank_id == bank_id)


def relation_condition(p: Principal) -> ColumnElement[bool]:
    if p.is_system:
        return true()
    if p.bank_id is not None:
        ids = customer_ids(p.bank_id)
        return or_(SupplyRelation.buyer_id.in_(ids), SupplyRelation.seller_id.in_(ids))
    if p.enterprise_id is not None:
        e = p.enterprise_id
        return or_(SupplyRelation.buyer_id == e, SupplyRelation.seller_id == e)
    if p.platform_id is not None:
        members = select(PlatformMember.enterprise_id).where(
            PlatformMember.platform_id == p.platform_id
        )
        return or_(SupplyRelation.buyer_id.in_(members), SupplyRelation.seller_id.in_(members))
    return false()


def chain_condition(p: Principal) -> ColumnElement[bool]:
    if p.is_system:
        return true()
    if p.bank_id is not None:
        return Chain.bank_id == p.bank_id
    if p.enterprise_id is not None:
        return Chain.id.in_(
            select(ChainMember.chain_id).where(ChainMember.enterprise_id == p.enterprise_id)
        )
    return false()


def is_chain_core(p: Principal) -> ColumnElement[bool]:
    """True for chains where the principal's enterprise is a core (it sees all members)."""
    if p.enterprise_id is None:
        return false()
    return Chain.id.in_(
        select(ChainCore.chain_id).where(ChainCore.enterprise_id == p.enterprise_id)
    )
