"""Tenant scoping: the one place that says which tenant's records a principal may read and
write. Every service asks these helpers instead of comparing ids itself.

The rules (docs/architecture.md and docs/security.md have the tables):

* bank staff and bank clients: their bank's customers (and the bank itself); relations with
  a customer on either side; chains their bank defined; records their bank owns (lines,
  products, applications, loans, tasks, files, statements, alerts, devices, models, books,
  prices); records of programmes their bank funds;
* enterprise users and enterprise clients: their own enterprise, its counterparties' basic
  profile, relations they are a party to, chains they belong to, records they are a party
  to (their documents, applications, loans, pieces, credentials they issued);
* platform clients: the platform's member enterprises and relations touching them;
* the platform operator's people (``operator`` principals): no tenant's records — a platform
  auditor reads every ledger entry, a platform operator writes the platform's price sources;
* the operator (CLI): everything.

Conditions come back as SQL (so lists, lookups and exports share one definition and are
filtered inside the database); lookups of one record raise :class:`NotFound` (existence is
not disclosed) and a principal of the wrong kind gets :class:`Forbidden`. Anything a rule
does not grant is refused: every helper ends in "nothing".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

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
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import Forbidden, NotFound


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


def visible_relations(
    session: Session, p: Principal, pairs: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (seller, buyer) pairs ``p`` may see, by the rule of :func:`relation_condition`,
    applied here to pairs already read: SQLite plans ``relation_condition`` beside a long
    ``seller_id IN (…)`` list as a multi-index OR over every customer (0.25 s for an
    800-firm chain against 4 ms for the list alone)."""
    if p.is_system:
        return list(pairs)
    if p.bank_id is not None:
        allowed = set(session.scalars(customer_ids(p.bank_id)))
    elif p.enterprise_id is not None:
        allowed = {p.enterprise_id}
    elif p.platform_id is not None:
        allowed = set(
            session.scalars(
                select(PlatformMember.enterprise_id).where(
                    PlatformMember.platform_id == p.platform_id
                )
            )
        )
    else:
        return []
    return [(s, b) for s, b in pairs if s in allowed or b in allowed]


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


# ---------------------------------------------------------------------------- who acts


def bank_of(p: Principal, why: str = "this is done by a bank's staff") -> str:
    """The bank the principal acts for; :class:`Forbidden` for anyone else (the operator
    included: it names the bank through a bank principal)."""
    if p.bank_id is None:
        raise Forbidden(why, code="bank_staff_only")
    return p.bank_id


def enterprise_of(p: Principal, why: str = "this is done by an enterprise user") -> str:
    if p.enterprise_id is None:
        raise Forbidden(why, code="enterprise_user_only")
    return p.enterprise_id


def bank_enterprise_id(session: Session, bank_id: str) -> str | None:
    return session.scalar(select(Bank.enterprise_id).where(Bank.id == bank_id))


def tenant_ids(session: Session, p: Principal) -> frozenset[str]:
    """The ids a principal's tenant goes by on records and ledger entries: its bank (and the
    bank's own enterprise, which holds the pieces it discounts), its enterprise or its
    platform. Empty for the operator's people."""
    ids = {p.bank_id, p.enterprise_id, p.platform_id} - {None}
    if p.bank_id is not None:
        ids.add(bank_enterprise_id(session, p.bank_id))
    return frozenset(i for i in ids if i is not None)


# ---------------------------------------------------------------------------- bank records


class _BankOwned(Protocol):
    bank_id: Any


_R = TypeVar("_R", bound=_BankOwned)


def owns(p: Principal, bank_id: str | None) -> bool:
    """The principal's bank owns a record of ``bank_id`` (the operator owns everything)."""
    return p.is_system or (p.bank_id is not None and p.bank_id == bank_id)


def by_bank(p: Principal, column: Any) -> ColumnElement[bool]:
    """Rows of the principal's bank; everything for the operator, nothing for anyone else."""
    if p.is_system:
        return true()
    if p.bank_id is not None:
        return column == p.bank_id  # type: ignore[no-any-return]
    return false()


def by_bank_or_party(p: Principal, bank_column: Any, *party_columns: Any) -> ColumnElement[bool]:
    """Rows of the principal's bank, or rows its enterprise is a party to."""
    if p.is_system:
        return true()
    if p.bank_id is not None:
        return bank_column == p.bank_id  # type: ignore[no-any-return]
    if p.enterprise_id is not None and party_columns:
        return or_(*(c == p.enterprise_id for c in party_columns))
    return false()


def bank_or_party(p: Principal, bank_id: str | None, *party_ids: str | None) -> bool:
    """One record's check for :func:`by_bank_or_party`."""
    if owns(p, bank_id):
        return True
    return p.enterprise_id is not None and p.enterprise_id in party_ids


def bank_record(session: Session, p: Principal, model: type[_R], key: Any, what: str) -> _R:
    """A record the principal's bank owns, for reading or writing; 404 for any other."""
    row = session.get(model, key)
    if row is None or not owns(p, row.bank_id):
        raise NotFound.of(what, key)
    return row


def own_bank_record(
    session: Session, p: Principal, model: type[_R], key: Any, what: str, why: str
) -> _R:
    """A record of the acting bank, to change it: bank staff of that bank only (the operator
    acts through a bank principal); anyone else gets 403 before the lookup, another bank 404."""
    bank = bank_of(p, why)
    row = session.get(model, key)
    if row is None or row.bank_id != bank:
        raise NotFound.of(what, key)
    return row


def is_customer(session: Session, bank_id: str, enterprise_id: str) -> bool:
    return (
        session.scalar(
            select(BankCustomer.enterprise_id).where(
                BankCustomer.bank_id == bank_id, BankCustomer.enterprise_id == enterprise_id
            )
        )
        is not None
    )


def customers_among(session: Session, bank_id: str, enterprise_ids: Iterable[str]) -> set[str]:
    return set(
        session.scalars(
            select(BankCustomer.enterprise_id).where(
                BankCustomer.bank_id == bank_id,
                BankCustomer.enterprise_id.in_(sorted(set(enterprise_ids))),
            )
        )
    )


def may_see_enterprise(session: Session, p: Principal, enterprise_id: str) -> bool:
    return (
        session.scalar(
            select(Enterprise.id).where(Enterprise.id == enterprise_id, enterprise_condition(p))
        )
        is not None
    )


# ---------------------------------------------------------------------------- the ledger


def may_read_ledger_entry(session: Session, p: Principal, parties: Collection[str]) -> bool:
    """An entry is read by its parties (a bank's staff, its auditor included, read the
    entries their bank is a party to), by a platform auditor and by the operator."""
    if p.platform_may(Scope.PLATFORM_AUDIT):
        return True
    return bool(tenant_ids(session, p) & set(parties))
