"""Credential programmes: a core enterprise's limit, backed by funder banks' lines, and its
two-phase utilisation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CredentialProgramme,
    ProgrammeFunder,
)
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.daycount import normalise as normalise_day_count
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    DEFAULT_POLICY,
    PricingPolicy,
)
from chainfin.domain.workcal import RollConvention
from chainfin.services import audit, ledger
from chainfin.services.credentials._common import (
    _change,
    _enterprise_of,
    _funder_banks,
    _resolve_enterprise,
)

# ---------------------------------------------------------------------------- programmes


def create_programme(
    session: Session,
    actor: Principal,
    *,
    core: str,
    name: str,
    line: Money,
    rating: str,
    tenor_cap_months: int = rules.DEFAULT_TENOR_CAP_MONTHS,
    roll_convention: str = RollConvention.FOLLOWING.value,
    min_piece: Money | None = None,
    day_count: str = "ACT/360",
    grace_days: int = 3,
    penalty_multiplier: str = "1.5",
    pricing: dict[str, Any] | None = None,
) -> CredentialProgramme:
    """A bank opens a credential programme for a core enterprise, backed by its line."""
    actor.require(Scope.FINANCING_WRITE)
    if actor.bank_id is None:
        raise Forbidden("a programme is opened by a funder bank")
    core_ent = _resolve_enterprise(session, core, "core")
    errors: list[FieldError] = []
    if "core" not in core_ent.roles:
        errors.append(FieldError("core", f"{core_ent.uscc} is not a core enterprise"))
    if not 1 <= tenor_cap_months <= rules.HARD_TENOR_CAP_MONTHS:
        errors.append(FieldError("tenor_cap_months", "must be 1 to 12 (never above a year)"))
    try:
        roll_convention = RollConvention.parse(roll_convention).value
    except ValueError:
        known = ", ".join(c.value for c in RollConvention)
        errors.append(FieldError("roll_convention", f"must be one of {known}"))
    try:
        day_count = normalise_day_count(day_count)
    except ValueError as exc:
        errors.append(FieldError("day_count", str(exc)))
    if line.amount_minor <= 0:
        errors.append(FieldError("line", "must be positive"))
    minimum = min_piece or Money(100_00, line.currency)
    if minimum.currency != line.currency or minimum.amount_minor <= 0:
        errors.append(FieldError("min_piece", f"must be a positive {line.currency} amount"))
    if grace_days < 0 or grace_days > 30:
        errors.append(FieldError("grace_days", "must be 0 to 30"))
    try:
        if not Decimal("1") <= Decimal(penalty_multiplier) <= Decimal("4"):
            errors.append(FieldError("penalty_multiplier", "must be 1 to 4 times LPR"))
    except ArithmeticError:
        errors.append(FieldError("penalty_multiplier", "must be a decimal number"))
    policy = PricingPolicy.from_dict(pricing) if pricing is not None else DEFAULT_POLICY
    if rating not in policy.spreads:
        errors.append(
            FieldError("rating", f"no spreads for {rating!r}; known: {', '.join(policy.spreads)}")
        )
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    programme = CredentialProgramme(
        id=new_id("programme"),
        core_enterprise_id=core_ent.id,
        name=name,
        currency=line.currency,
        limit_minor=line.amount_minor,
        pending_minor=0,
        posted_minor=0,
        core_rating=rating,
        tenor_cap_months=tenor_cap_months,
        roll_convention=roll_convention,
        min_piece_minor=minimum.amount_minor,
        day_count=day_count,
        grace_days=grace_days,
        penalty_multiplier=str(Decimal(penalty_multiplier)),
        status="active",
        created_by=actor.label,
        created_at=now,
    )
    funder = ProgrammeFunder(
        programme_id=programme.id,
        bank_id=actor.bank_id,
        line_minor=line.amount_minor,
        pricing=policy.to_dict(),
        created_by=actor.label,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    session.add(funder)
    session.flush()
    ledger.one(
        session,
        actor,
        "programme.opened",
        _change("programme", programme),
        _change("funder", funder),
    )
    audit.record(session, actor, "programme.open", "programme", programme.id, {"core": core})
    return programme


def add_funder(
    session: Session,
    actor: Principal,
    programme_id: str,
    *,
    line: Money,
    pricing: dict[str, Any] | None = None,
) -> ProgrammeFunder:
    """Another bank joins a programme with its own line; the programme limit grows by it."""
    actor.require(Scope.FINANCING_WRITE)
    if actor.bank_id is None:
        raise Forbidden("funders are banks")
    programme = session.get(CredentialProgramme, programme_id)
    if programme is None:
        raise NotFound(f"no programme {programme_id!r}")
    if line.currency != programme.currency or line.amount_minor <= 0:
        raise ValidationFailed([FieldError("line", f"must be a positive {programme.currency}")])
    if session.get(ProgrammeFunder, (programme_id, actor.bank_id)) is not None:
        raise Conflict("this bank already funds the programme")
    policy = PricingPolicy.from_dict(pricing) if pricing is not None else DEFAULT_POLICY
    funder = ProgrammeFunder(
        programme_id=programme_id,
        bank_id=actor.bank_id,
        line_minor=line.amount_minor,
        pricing=policy.to_dict(),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(funder)
    session.execute(
        update(CredentialProgramme)
        .where(CredentialProgramme.id == programme_id)
        .values(limit_minor=CredentialProgramme.limit_minor + line.amount_minor)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(programme)
    ledger.one(
        session,
        actor,
        "programme.funder_added",
        _change("programme", programme),
        _change("funder", funder),
    )
    audit.record(session, actor, "programme.add_funder", "programme", programme_id, {})
    return funder


def programme_for(session: Session, actor: Principal, programme_id: str) -> CredentialProgramme:
    actor.require(Scope.CREDENTIALS_READ)
    programme = session.get(CredentialProgramme, programme_id)
    if programme is None or not (
        actor.is_system
        or actor.enterprise_id == programme.core_enterprise_id
        or (actor.bank_id is not None and actor.bank_id in _funder_banks(session, programme_id))
    ):
        raise NotFound(f"no programme {programme_id!r}")
    return programme


def programmes(session: Session, actor: Principal) -> list[CredentialProgramme]:
    actor.require(Scope.CREDENTIALS_READ)
    query = select(CredentialProgramme).order_by(CredentialProgramme.created_at)
    if actor.is_system:
        return list(session.scalars(query))
    if actor.bank_id is not None:
        funded = select(ProgrammeFunder.programme_id).where(
            ProgrammeFunder.bank_id == actor.bank_id
        )
        return list(session.scalars(query.where(CredentialProgramme.id.in_(funded))))
    me = _enterprise_of(actor)
    return list(session.scalars(query.where(CredentialProgramme.core_enterprise_id == me)))


def _reserve(session: Session, programme: CredentialProgramme, amount_minor: int) -> None:
    """Phase one: reserve ``amount`` as pending, only if it fits under the limit."""
    prog = CredentialProgramme
    result = session.execute(
        update(prog)
        .where(
            prog.id == programme.id,
            prog.status == "active",
            prog.pending_minor + prog.posted_minor + amount_minor <= prog.limit_minor,
        )
        .values(pending_minor=prog.pending_minor + amount_minor)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(programme)
        free = programme.limit_minor - programme.pending_minor - programme.posted_minor
        raise Conflict(
            f"programme {programme.id} cannot take {Money(amount_minor, programme.currency)}: "
            f"limit {Money(programme.limit_minor, programme.currency)}, "
            f"available {Money(max(free, 0), programme.currency)}"
            + ("" if programme.status == "active" else f" (programme is {programme.status})"),
            hint="Settle or cancel credentials, or ask the funder banks for a larger line.",
        )
    session.refresh(programme)


def _utilise(session: Session, programme: CredentialProgramme, **deltas: int) -> None:
    """Phase two and release: move amounts between pending and posted, or release them."""
    prog = CredentialProgramme
    values = {name: getattr(prog, name) + delta for name, delta in deltas.items()}
    session.execute(
        update(prog)
        .where(prog.id == programme.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(programme)
