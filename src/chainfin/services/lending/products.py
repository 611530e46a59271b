"""A bank's loan products: each a kind and a configuration of rules (domain.products)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import ApprovalAuthority, LoanProduct, PriceSource, User
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.products import ProductConfig
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import _change, _resolve_bank
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate


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
    bank_id = scoping.bank_of(actor, "products are defined by a bank")
    code = code.strip()
    if not code or len(code) > 40:
        raise ValidationFailed(
            [FieldError("code", "must be 1 to 40 characters")], code="product_code_invalid"
        )
    parsed = ProductConfig.from_dict(config)
    if parsed.price_source is not None and session.get(PriceSource, parsed.price_source) is None:
        raise ValidationFailed(
            [FieldError("price_source", f"no platform price source {parsed.price_source!r}")],
            code="price_source_unknown",
        )
    exists = session.scalar(
        select(LoanProduct).where(LoanProduct.bank_id == bank_id, LoanProduct.code == code)
    )
    if exists is not None:
        raise Conflict(
            f"the bank already has a product {code!r} ({exists.id})", code="product_code_taken"
        )
    row = LoanProduct(
        id=new_id("product"),
        bank_id=bank_id,
        code=code,
        name=name.strip() or code,
        kind=parsed.kind.value,
        config=parsed.to_dict(),
        status=states.initial(LoanProduct),
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
            [FieldError("product", f"{bank_row.code} has no active product {product!r}")],
            code="product_unknown",
        )
    return row


def products(
    session: Session,
    actor: Principal,
    bank: str | None = None,
    *,
    kind: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[LoanProduct]:
    """A bank's products, oldest first: its staff see their own, enterprises every bank's;
    ``bank`` (code or id) narrows that to one bank (for staff naming another bank: none)."""
    actor.require(Scope.LOANS_READ)
    query = select(LoanProduct)
    if actor.bank_id is not None:
        query = query.where(LoanProduct.bank_id == actor.bank_id)
    if bank:
        query = query.where(LoanProduct.bank_id == _resolve_bank(session, bank).id)
    if kind is not None:
        query = query.where(LoanProduct.kind == kind)
    if status is not None:
        query = query.where(LoanProduct.status == status)
    return paginate(session, query, LoanProduct.id, cursor=cursor, limit=limit)


# What an applicant is shown of another bank's product: its terms, not how the bank decides
# (score thresholds, automatic-approval and due-diligence amounts, the authority ladder).
INTERNAL = frozenset(
    {
        "auto_approve_limit",
        "min_score",
        "min_score_auto",
        "site_visit_above",
        "financial_analysis_above",
        "new_customer_site_visit",
        "authority",
    }
)


def grant_authority(
    session: Session, actor: Principal, *, user: str, level: int
) -> ApprovalAuthority:
    """Delegate credit authority of ``level`` to one of the bank's staff (an admin's act)."""
    actor.require(Scope.USERS_ADMIN)
    bank_id = scoping.bank_of(actor, "credit authority is delegated by a bank's administrator")
    person = session.get(User, user) or session.scalar(select(User).where(User.username == user))
    if person is None or person.bank_id != bank_id:
        raise NotFound(f"no staff member {user!r} at this bank", code="user_not_found")
    if not 1 <= level <= 9:
        raise ValidationFailed(
            [FieldError("level", "must be 1 to 9")], code="authority_level_invalid"
        )
    row = session.get(ApprovalAuthority, (bank_id, person.id))
    if row is None:
        row = ApprovalAuthority(bank_id=bank_id, user_id=person.id)
        session.add(row)
    row.level = level
    row.granted_by = actor.label
    row.granted_at = utcnow()
    session.flush()
    ledger.one(session, actor, "authority.granted", _change("authority", row))
    audit.record(session, actor, "authority.grant", "user", person.id, {"level": level})
    return row


def authority_level(session: Session, bank_id: str, user_id: str) -> int | None:
    row = session.get(ApprovalAuthority, (bank_id, user_id))
    return row.level if row else None
