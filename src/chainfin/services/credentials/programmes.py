"""Credential programmes: a core enterprise's limit, backed by funder banks' lines, and its
two-phase utilisation. The bank that opens a programme leads it; another bank joins only by
invitation (see :mod:`invitations`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CredentialProgramme,
    ProgrammeFunder,
)
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.daycount import normalise as normalise_day_count
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    DEFAULT_POLICY,
    PricingPolicy,
)
from chainfin.domain.workcal import RollConvention
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import (
    _change,
    _enterprise_of,
    _resolve_bank,
    _resolve_enterprise,
)
from chainfin.services.lending.filters import party_id
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

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
    """A bank opens a credential programme for a core enterprise among its customers, backed
    by its line; it is the programme's lead bank."""
    actor.require(Scope.FINANCING_WRITE)
    bank_id = scoping.bank_of(actor, "a programme is opened by a funder bank")
    core_ent = _resolve_enterprise(session, core, "core")
    errors: list[FieldError] = []
    if not scoping.is_customer(session, bank_id, core_ent.id):
        raise ValidationFailed(
            [FieldError("core", f"{core.strip()} is not one of your customers")],
            code="not_a_customer",
        )
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
        lead_bank_id=bank_id,
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
        status=states.initial(CredentialProgramme),
        created_by=actor.label,
        created_at=now,
    )
    funder = ProgrammeFunder(
        programme_id=programme.id,
        bank_id=bank_id,
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


def join(
    session: Session,
    actor: Principal,
    programme: CredentialProgramme,
    bank_id: str,
    *,
    line: Money,
    pricing: dict[str, Any] | None = None,
) -> ProgrammeFunder:
    """A bank joins a programme with its own line; the programme limit grows by it. Only an
    accepted invitation calls this (the lead bank invited, the core approved)."""
    if line.currency != programme.currency or line.amount_minor <= 0:
        raise ValidationFailed(
            [FieldError("line", f"must be a positive {programme.currency}")],
            code="line_amount_invalid",
        )
    if session.get(ProgrammeFunder, (programme.id, bank_id)) is not None:
        raise Conflict("this bank already funds the programme", code="bank_already_funds")
    policy = PricingPolicy.from_dict(pricing) if pricing is not None else DEFAULT_POLICY
    funder = ProgrammeFunder(
        programme_id=programme.id,
        bank_id=bank_id,
        line_minor=line.amount_minor,
        pricing=policy.to_dict(),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(funder)
    session.execute(
        update(CredentialProgramme)
        .where(CredentialProgramme.id == programme.id)
        .values(limit_minor=CredentialProgramme.limit_minor + line.amount_minor)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(programme)
    return funder


def funded_by(bank_id: str) -> Select[str]:
    """The ids of the programmes a bank funds (the lead bank included)."""
    return select(ProgrammeFunder.programme_id).where(ProgrammeFunder.bank_id == bank_id)


def funds(bank_id: str) -> ColumnElement[bool]:
    """Programmes a bank funds (the lead bank included)."""
    return CredentialProgramme.id.in_(funded_by(bank_id))


def programme_condition(actor: Principal) -> ColumnElement[bool]:
    """Programmes a principal sees: its bank funds them, or it is their core enterprise."""
    if actor.is_system:
        return true()
    if actor.bank_id is not None:
        return funds(actor.bank_id)
    if actor.enterprise_id is not None:
        return CredentialProgramme.core_enterprise_id == actor.enterprise_id
    return false()


def visible_programme(session: Session, actor: Principal, programme_id: str) -> CredentialProgramme:
    """A programme the principal sees (:func:`programme_condition`); 404 for any other."""
    programme = session.scalar(
        select(CredentialProgramme).where(
            CredentialProgramme.id == programme_id, programme_condition(actor)
        )
    )
    if programme is None:
        raise NotFound(f"no programme {programme_id!r}", code="programme_not_found")
    return programme


def programme_for(session: Session, actor: Principal, programme_id: str) -> CredentialProgramme:
    actor.require(Scope.CREDENTIALS_READ)
    return visible_programme(session, actor, programme_id)


@dataclass(frozen=True)
class ProgrammeFilter:
    """What to list of the programmes a principal sees (every field narrows)."""

    status: str | None = None
    core: str | None = None  # the core enterprise: id or USCC
    funder: str | None = None  # a funder bank: code or id


def programmes(
    session: Session,
    actor: Principal,
    filters: ProgrammeFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[CredentialProgramme]:
    """The programmes its bank funds (bank staff) or it is the core of (an enterprise), by
    id (oldest first)."""
    actor.require(Scope.CREDENTIALS_READ)
    if not actor.is_system and actor.bank_id is None:
        _enterprise_of(actor)
    filters = filters or ProgrammeFilter()
    query = select(CredentialProgramme).where(programme_condition(actor))
    if filters.status is not None:
        query = query.where(CredentialProgramme.status == filters.status)
    if filters.core is not None:
        core = party_id(session, filters.core, field="core")
        query = query.where(CredentialProgramme.core_enterprise_id == core)
    if filters.funder is not None:
        query = query.where(funds(_resolve_bank(session, filters.funder, "funder").id))
    return paginate(session, query, CredentialProgramme.id, cursor=cursor, limit=limit)


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
            code="programme_limit_insufficient",
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
