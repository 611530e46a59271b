"""A bank's loan products: each a kind and a configuration of rules (domain.products)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import ApprovalAuthority, LoanProduct, User
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.products import ProductConfig
from chainfin.services import audit, ledger
from chainfin.services.credentials._common import _change, _resolve_bank


def define(
    session: Session,
    actor: Principal,
    *,
    code: str,
    name: str,
    config: Mapping[str, object],
) -> LoanProduct:
    """Define a product from a configuration (``kind`` plus any overrides of its template)."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None:
        raise Forbidden("products are defined by a bank")
    code = code.strip()
    if not code or len(code) > 40:
        raise ValidationFailed([FieldError("code", "must be 1 to 40 characters")])
    parsed = ProductConfig.from_dict(config)
    exists = session.scalar(
        select(LoanProduct).where(LoanProduct.bank_id == actor.bank_id, LoanProduct.code == code)
    )
    if exists is not None:
        raise Conflict(f"the bank already has a product {code!r} ({exists.id})")
    row = LoanProduct(
        id=new_id("product"),
        bank_id=actor.bank_id,
        code=code,
        name=name.strip() or code,
        kind=parsed.kind.value,
        config=parsed.to_dict(),
        status="active",
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "product.defined", _change("product", row))
    audit.record(session, actor, "product.define", "product", row.id, {"code": code})
    return row


def config_of(product: LoanProduct) -> ProductConfig:
    return ProductConfig.from_dict(product.config)


def resolve(session: Session, bank: str, product: str) -> LoanProduct:
    """A bank's active product by id or code."""
    bank_row = _resolve_bank(session, bank)
    row = session.get(LoanProduct, product) or session.scalar(
        select(LoanProduct).where(LoanProduct.bank_id == bank_row.id, LoanProduct.code == product)
    )
    if row is None or row.bank_id != bank_row.id or row.status != "active":
        raise ValidationFailed(
            [FieldError("product", f"{bank_row.code} has no active product {product!r}")]
        )
    return row


def products(session: Session, actor: Principal, bank: str | None = None) -> list[LoanProduct]:
    """A bank's products: its staff see their own, enterprises the bank they name."""
    actor.require(Scope.LOANS_READ)
    bank_id = actor.bank_id or (_resolve_bank(session, bank).id if bank else None)
    query = select(LoanProduct).order_by(LoanProduct.code)
    if bank_id is not None:
        query = query.where(LoanProduct.bank_id == bank_id)
    return list(session.scalars(query))


def product_out(row: LoanProduct) -> dict[str, Any]:
    return {
        "id": row.id,
        "bank_id": row.bank_id,
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "status": row.status,
        "config": row.config,
    }


def grant_authority(session: Session, actor: Principal, *, user: str, level: int) -> None:
    """Delegate credit authority of ``level`` to one of the bank's staff (an admin's act)."""
    actor.require(Scope.USERS_ADMIN)
    if actor.bank_id is None:
        raise Forbidden("credit authority is delegated by a bank's administrator")
    person = session.get(User, user) or session.scalar(select(User).where(User.username == user))
    if person is None or person.bank_id != actor.bank_id:
        raise NotFound(f"no staff member {user!r} at this bank")
    if not 1 <= level <= 9:
        raise ValidationFailed([FieldError("level", "must be 1 to 9")])
    row = session.get(ApprovalAuthority, (actor.bank_id, person.id))
    if row is None:
        row = ApprovalAuthority(bank_id=actor.bank_id, user_id=person.id)
        session.add(row)
    row.level = level
    row.granted_by = actor.label
    row.granted_at = utcnow()
    session.flush()
    ledger.one(session, actor, "authority.granted", _change("authority", row))
    audit.record(session, actor, "authority.grant", "user", person.id, {"level": level})


def authority_level(session: Session, bank_id: str, user_id: str) -> int | None:
    row = session.get(ApprovalAuthority, (bank_id, user_id))
    return row.level if row else None
