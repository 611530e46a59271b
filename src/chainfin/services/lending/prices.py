"""Prices of pledged goods, each with an owner.

A price belongs to the bank that recorded it (its own valuation source) or to a named
platform price source that only platform operators write. A bank's collateral is valued at
its own prices, or at the platform source its product's configuration names
(``price_source``) — never at another bank's, so no bank can set the price that values
another's collateral. A recorded price is never overwritten: recording a different price for
the same item and day is a correction, a new version; valuation takes the latest version of
the latest day on or before the valuation date.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import CommodityPrice, LoanProduct, PriceSource
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.products import PRICE_SOURCE_CODE
from chainfin.services import audit, ledger, scoping
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.lending import filters
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

PLATFORM = "platform:"


def platform_owner(code: str) -> str:
    return f"{PLATFORM}{code}"


def owner_of_product(product: LoanProduct) -> str:
    """Whose prices value a product's collateral: the platform source its configuration
    names, else the bank's own."""
    source = (product.config or {}).get("price_source")
    return platform_owner(str(source)) if source else product.bank_id


def price_of(session: Session, owner: str, item: str, on: date) -> CommodityPrice | None:
    """The owner's price of ``item`` in force on ``on``: the latest version of the latest
    day on or before it."""
    return session.scalar(
        select(CommodityPrice)
        .where(CommodityPrice.owner == owner, CommodityPrice.item == item, CommodityPrice.on <= on)
        .order_by(CommodityPrice.on.desc(), CommodityPrice.version.desc())
        .limit(1)
    )


def source(session: Session, code: str) -> PriceSource | None:
    return session.get(PriceSource, code)


def create_source(session: Session, actor: Principal, *, code: str, name: str) -> PriceSource:
    """A named platform price source (platform operators only)."""
    if not actor.platform_may(Scope.PLATFORM_PRICES):
        raise Forbidden(
            "platform price sources are created by the platform operator", code="operator_only"
        )
    if PRICE_SOURCE_CODE.fullmatch(code) is None:
        raise ValidationFailed(
            [FieldError("code", "A-Z, 0-9, _ . - (up to 40), starting with a letter or digit")],
            code="price_source_code_invalid",
        )
    if session.get(PriceSource, code) is not None:
        raise Conflict(f"a price source {code!r} exists already", code="price_source_code_taken")
    row = PriceSource(
        code=code, name=name.strip() or code, created_by=actor.label, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "price_source.created", Change("price_source", row_of(row)))
    audit.record(session, actor, "price_source.create", "price_source", code, {})
    return row


def set_price(
    session: Session,
    actor: Principal,
    *,
    item: str,
    on: date,
    price: Money,
    unit: str,
    source: str,
    platform_source: str | None = None,
    note: str | None = None,
) -> CommodityPrice:
    """Record a price: the acting bank's own (``loans:write``), or, with ``platform_source``,
    the named platform source's (platform operators only). The same price again is a no-op;
    a different one for the same item and day is a correction (a new version)."""
    if platform_source is not None:
        if not actor.platform_may(Scope.PLATFORM_PRICES):
            raise Forbidden(
                "platform price sources are written by the platform operator only",
                code="operator_only",
            )
        if session.get(PriceSource, platform_source) is None:
            raise ValidationFailed(
                [FieldError("platform_source", f"no platform price source {platform_source!r}")],
                code="price_source_unknown",
            )
        owner, bank_id, code = platform_owner(platform_source), None, platform_source
    else:
        actor.require(Scope.LOANS_WRITE)
        bank_id = scoping.bank_of(actor, "a bank records its own prices (name a platform source)")
        owner, code = bank_id, None
    errors: list[FieldError] = []
    if not item.strip():
        errors.append(FieldError("item", "must not be empty"))
    if price.amount_minor <= 0:
        errors.append(FieldError("price", "must be positive"))
    if not unit.strip():
        errors.append(FieldError("unit", "must not be empty"))
    if errors:
        raise ValidationFailed(errors)
    item, unit = item.strip(), unit.strip()
    latest = session.scalar(
        select(CommodityPrice)
        .where(CommodityPrice.owner == owner, CommodityPrice.item == item, CommodityPrice.on == on)
        .order_by(CommodityPrice.version.desc())
        .limit(1)
    )
    if latest is not None and (latest.price_minor, latest.currency, latest.unit) == (
        price.amount_minor,
        price.currency,
        unit,
    ):
        return latest
    row = CommodityPrice(
        id=new_id("price"),
        owner=owner,
        bank_id=bank_id,
        source_code=code,
        item=item,
        on=on,
        version=(latest.version + 1) if latest is not None else 1,
        unit=unit,
        currency=price.currency,
        price_minor=price.amount_minor,
        source=source.strip()[:100] or "manual",
        note=(note or "").strip()[:200] or None,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"{item} on {on} was priced concurrently; retry", code="concurrent_change"
        ) from None
    event = "price.set" if row.version == 1 else "price.corrected"
    ledger.one(session, actor, event, Change("commodity_price", row_of(row)))
    audit.record(
        session,
        actor,
        event,
        "price",
        row.id,
        {"owner": owner, "item": item, "on": on.isoformat(), "version": row.version},
    )
    return row


def price_condition(actor: Principal) -> ColumnElement[bool]:
    """Prices a principal reads: its bank's own and every platform source's (platform
    sources are reference data); the operator's people read the platform sources."""
    platform = CommodityPrice.source_code.is_not(None)
    if actor.is_system:
        return true()
    if actor.bank_id is not None:
        return or_(CommodityPrice.bank_id == actor.bank_id, platform)
    if actor.is_operator:
        return platform
    return false()


def prices(
    session: Session,
    actor: Principal,
    *,
    item: str | None = None,
    platform_source: str | None = None,
    on_from: date | None = None,
    on_to: date | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[CommodityPrice]:
    """Every version, in the order recorded: the bank's own (or one platform source's); by
    item and by the day priced."""
    if not (actor.is_system or actor.is_operator):
        actor.require(Scope.LOANS_READ)
    query = select(CommodityPrice).where(
        price_condition(actor),
        *filters.days(CommodityPrice.on, on_from, on_to, names=("on_from", "on_to")),
    )
    if platform_source is not None:
        query = query.where(CommodityPrice.owner == platform_owner(platform_source))
    elif actor.bank_id is not None:
        query = query.where(CommodityPrice.bank_id == actor.bank_id)
    if item is not None:
        query = query.where(CommodityPrice.item == item)
    return paginate(session, query, CommodityPrice.id, cursor=cursor, limit=limit)


def sources(
    session: Session, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[PriceSource]:
    """The platform's price sources, by code."""
    return paginate(session, select(PriceSource), PriceSource.code, cursor=cursor, limit=limit)
