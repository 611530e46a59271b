"""Credit lines: open, sub-limit, cap, freeze, expire — and the two-phase utilisation every
loan draws through (reserve when approved, post when disbursed, void when cancelled, expire
when never drawn, release as principal is repaid).

Every counter moves by a conditional ``UPDATE … WHERE pending + posted + amount <= limit``:
on PostgreSQL the row lock makes concurrent reservations queue and re-check, so no number of
simultaneous approvals can overdraw a line, a sub-limit or a cap; the CHECK constraints on
each table are the second line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CreditLine,
    CreditSublimit,
    ExposureCap,
    ExposureCapMember,
    LineReservation,
    LoanApplication,
    LoanProduct,
)
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.products import ProductKind
from chainfin.domain.states import CREDIT_LINE, LINE_RESERVATION
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import _change, _get, _resolve_enterprise
from chainfin.services.lending import filters
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate


class LimitExceeded(Conflict):
    """A line, sub-limit or exposure cap cannot take the amount."""

    code = "limit_exceeded"


# An approved application holds its limit this long; undrawn, the hold expires.
RESERVATION_TTL = timedelta(days=30)

# A person asks for the state a line should be in; a line expires by its date instead.
_ASKED = {"frozen": "freeze", "active": "unfreeze", "closed": "close"}


def _bank_of(actor: Principal) -> str:
    return scoping.bank_of(actor, "credit lines belong to a bank: this is done by bank staff")


def open_line(
    session: Session,
    actor: Principal,
    *,
    obligor: str,
    limit: Money,
    starts_on: date,
    expires_on: date,
    core: str | None = None,
    guarantor: str | None = None,
    revolving: bool = True,
) -> CreditLine:
    """A line to a core enterprise (``core`` omitted) or to a chain member under a core's
    credit (``core`` names it; ``guarantor`` when the core guarantees the member)."""
    actor.require(Scope.LOANS_WRITE)
    bank_id = _bank_of(actor)
    obligor_ent = _resolve_enterprise(session, obligor, "obligor")
    if not scoping.is_customer(session, bank_id, obligor_ent.id):
        raise ValidationFailed(
            [FieldError("obligor", f"{obligor.strip()} is not one of your customers")],
            code="not_a_customer",
        )
    core_ent = _resolve_enterprise(session, core, "core") if core else obligor_ent
    guarantor_ent = _resolve_enterprise(session, guarantor, "guarantor") if guarantor else None
    errors: list[FieldError] = []
    if "core" not in core_ent.roles:
        field = "core" if core else "obligor"
        errors.append(
            FieldError(field, f"{core_ent.uscc} is not a core enterprise; name the member's core")
        )
    if limit.amount_minor <= 0:
        errors.append(FieldError("limit", "must be positive"))
    if expires_on <= starts_on:
        errors.append(FieldError("expires_on", f"must be after starts_on {starts_on}"))
    if guarantor_ent is not None and guarantor_ent.id == obligor_ent.id:
        errors.append(FieldError("guarantor", "an obligor cannot guarantee itself"))
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    line = CreditLine(
        id=new_id("line"),
        bank_id=bank_id,
        obligor_id=obligor_ent.id,
        core_id=core_ent.id,
        guarantor_id=guarantor_ent.id if guarantor_ent else None,
        currency=limit.currency,
        limit_minor=limit.amount_minor,
        pending_minor=0,
        posted_minor=0,
        revolving=revolving,
        status=states.initial(CreditLine),
        status_reason=None,
        starts_on=starts_on,
        expires_on=expires_on,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(line)
    session.flush()
    ledger.one(session, actor, "line.opened", _change("line", line))
    audit.record(session, actor, "line.open", "line", line.id, {"obligor": obligor_ent.id})
    return line


def line_for(session: Session, actor: Principal, line_id: str) -> CreditLine:
    actor.require(Scope.LOANS_READ)
    line = session.get(CreditLine, line_id)
    if line is None or not scoping.bank_or_party(
        actor, line.bank_id, line.obligor_id, line.core_id, line.guarantor_id
    ):
        raise NotFound(f"no credit line {line_id!r}", code="credit_line_not_found")
    return line


@dataclass(frozen=True, slots=True)
class LineFilter:
    """Which lines to list: by state, by obligor or core (USCC or id), by expiry date."""

    status: str | None = None
    obligor: str | None = None
    core: str | None = None
    expires_from: date | None = None
    expires_to: date | None = None


def lines(
    session: Session,
    actor: Principal,
    only: LineFilter = LineFilter(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[CreditLine]:
    """The bank's lines, or the lines an enterprise is party to, oldest first."""
    actor.require(Scope.LOANS_READ)
    query = select(CreditLine).where(
        scoping.by_bank_or_party(
            actor,
            CreditLine.bank_id,
            CreditLine.obligor_id,
            CreditLine.core_id,
            CreditLine.guarantor_id,
        ),
        *filters.days(
            CreditLine.expires_on,
            only.expires_from,
            only.expires_to,
            names=("expires_from", "expires_to"),
        ),
    )
    if only.status is not None:
        query = query.where(CreditLine.status == only.status)
    if only.obligor is not None:
        query = query.where(CreditLine.obligor_id == filters.party_id(session, only.obligor))
    if only.core is not None:
        query = query.where(CreditLine.core_id == filters.party_id(session, only.core))
    return paginate(session, query, CreditLine.id, cursor=cursor, limit=limit)


def sublimits(session: Session, actor: Principal, line: CreditLine) -> list[CreditSublimit]:
    """The sub-limits carved out of ``line``, oldest first: every one for the bank's staff;
    for an enterprise party to the line, those that name it (how the bank shares the line
    out among other members is the bank's)."""
    query = select(CreditSublimit).where(CreditSublimit.line_id == line.id)
    if not scoping.owns(actor, line.bank_id):
        if actor.enterprise_id is None:
            return []
        query = query.where(CreditSublimit.member_id == actor.enterprise_id)
    return list(session.scalars(query.order_by(CreditSublimit.id)))


def _own_line(session: Session, actor: Principal, line_id: str) -> CreditLine:
    actor.require(Scope.LOANS_WRITE)
    why = "credit lines belong to a bank: this is done by bank staff"
    return scoping.own_bank_record(session, actor, CreditLine, line_id, "credit line", why)


def add_sublimit(
    session: Session,
    actor: Principal,
    line_id: str,
    *,
    limit: Money,
    product_kind: str | None = None,
    member: str | None = None,
) -> CreditSublimit:
    """Carve part of a line out for one product kind, one chain member, or both."""
    line = _own_line(session, actor, line_id)
    errors: list[FieldError] = []
    member_ent = _resolve_enterprise(session, member, "member") if member else None
    if product_kind is not None and product_kind not in {k.value for k in ProductKind}:
        known = ", ".join(k.value for k in ProductKind)
        errors.append(FieldError("product_kind", f"unknown {product_kind!r} (known: {known})"))
    if product_kind is None and member_ent is None:
        errors.append(
            FieldError("product_kind", "a sub-limit names a product kind, a member or both")
        )
    if limit.currency != line.currency or limit.amount_minor <= 0:
        errors.append(FieldError("limit", f"must be a positive {line.currency} amount"))
    elif limit.amount_minor > line.limit_minor:
        errors.append(
            FieldError("limit", f"is above the line's limit {_m(line.limit_minor, line)}")
        )
    if errors:
        raise ValidationFailed(errors)
    sub = CreditSublimit(
        id=new_id("sublimit"),
        line_id=line.id,
        product_kind=product_kind,
        member_id=member_ent.id if member_ent else None,
        limit_minor=limit.amount_minor,
        pending_minor=0,
        posted_minor=0,
        created_at=utcnow(),
    )
    session.add(sub)
    session.flush()
    # holds already on the line that the sub-limit covers count against it from now on,
    # and move it when they are posted, voided or repaid
    holds = [
        r
        for r, applicant, kind in _live_holds(session, CreditLine.id == line.id)
        if sub.product_kind in (None, kind) and sub.member_id in (None, applicant)
    ]
    sub.pending_minor, sub.posted_minor = _usage(holds)
    if sub.pending_minor + sub.posted_minor > sub.limit_minor:
        raise Conflict(
            f"what the line already holds for it, {_m(sub.pending_minor + sub.posted_minor, line)},"
            f" is above the sub-limit {limit}",
            hint="Set the sub-limit at or above today's usage.",
            code="sublimit_below_usage",
        )
    for hold in holds:
        hold.sublimit_ids = [*hold.sublimit_ids, sub.id]
    session.flush()
    ledger.one(
        session,
        actor,
        "line.sublimit_added",
        _change("sublimit", sub),
        *(_change("reservation", r) for r in holds),
    )
    audit.record(session, actor, "line.sublimit", "line", line.id, {"sublimit": sub.id})
    return sub


def set_cap(
    session: Session,
    actor: Principal,
    *,
    name: str,
    cap: Money,
    core: str | None = None,
    members: Sequence[str] = (),
) -> ExposureCap:
    """A cap on the bank's exposure to one core enterprise's chain (``core``) or to a group
    of related parties (``members``). What is already reserved or drawn counts at once."""
    actor.require(Scope.LOANS_WRITE)
    bank_id = _bank_of(actor)
    errors: list[FieldError] = []
    if (core is None) == (not members):
        errors.append(FieldError("core", "name either a core enterprise or the group's members"))
    if cap.amount_minor <= 0:
        errors.append(FieldError("cap", "must be positive"))
    if not name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if errors:
        raise ValidationFailed(errors)
    core_ent = _resolve_enterprise(session, core, "core") if core else None
    resolved = [
        (f"members[{i}]", m, _resolve_enterprise(session, m, f"members[{i}]").id)
        for i, m in enumerate(members)
    ]
    member_ids = sorted({eid for _, _, eid in resolved})
    named = ([("core", str(core), core_ent.id)] if core_ent else []) + resolved
    strangers = [  # a cap bounds the bank's exposure to its own customers
        FieldError(field, f"{ref} is not one of your customers")
        for field, ref, eid in named
        if not scoping.may_see_enterprise(session, actor, eid)
    ]
    if strangers:
        raise ValidationFailed(strangers)
    row = ExposureCap(
        id=new_id("cap"),
        bank_id=bank_id,
        kind="core" if core_ent else "group",
        name=name.strip(),
        core_id=core_ent.id if core_ent else None,
        currency=cap.currency,
        cap_minor=cap.amount_minor,
        used_minor=0,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    rows = [ExposureCapMember(cap_id=row.id, enterprise_id=m) for m in member_ids]
    session.add_all(rows)
    session.flush()
    on_lines = (
        CreditLine.core_id == row.core_id
        if row.core_id is not None
        else CreditLine.obligor_id.in_(member_ids)
    )
    holds = [
        r for r, _applicant, _kind in _live_holds(session, CreditLine.bank_id == bank_id, on_lines)
    ]
    pending, posted = _usage(holds)
    used = pending + posted
    if used > row.cap_minor:
        raise Conflict(
            f"exposure already {_m(used, row)} is above the cap {cap}",
            hint="Set the cap at or above today's exposure, then reduce it as loans repay.",
            code="cap_below_exposure",
        )
    row.used_minor = used
    for hold in holds:
        hold.cap_ids = [*hold.cap_ids, row.id]
    session.flush()
    ledger.one(
        session,
        actor,
        "cap.set",
        _change("cap", row),
        *(_change("cap_member", r) for r in rows),
        *(_change("reservation", r) for r in holds),
    )
    audit.record(session, actor, "cap.set", "cap", row.id, {"kind": row.kind})
    return row


def caps(
    session: Session,
    actor: Principal,
    *,
    kind: str | None = None,
    core: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ExposureCap]:
    """The bank's exposure caps, oldest first: ``kind`` core or group, ``core`` the core
    enterprise capped (USCC or id)."""
    actor.require(Scope.LOANS_READ)
    bank_id = _bank_of(actor)
    query = select(ExposureCap).where(ExposureCap.bank_id == bank_id)
    if kind is not None:
        query = query.where(ExposureCap.kind == kind)
    if core is not None:
        query = query.where(ExposureCap.core_id == filters.party_id(session, core))
    return paginate(session, query, ExposureCap.id, cursor=cursor, limit=limit)


def cap_members(session: Session, cap_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ExposureCapMember.enterprise_id).where(ExposureCapMember.cap_id == cap_id)
        )
    )


def _live_holds(session: Session, *where: Any) -> list[tuple[LineReservation, str, str]]:
    """Pending and posted reservations on the lines ``where`` selects, with the applicant
    and the product kind of the application behind each."""
    rows = session.execute(
        select(LineReservation, LoanApplication.applicant_id, LoanProduct.kind)
        .join(CreditLine, CreditLine.id == LineReservation.line_id)
        .join(LoanApplication, LoanApplication.id == LineReservation.application_id)
        .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
        .where(LineReservation.state.in_(("pending", "posted")), *where)
        .order_by(LineReservation.created_at)
    )
    return [(r, applicant, kind) for r, applicant, kind in rows]


def _usage(holds: Sequence[LineReservation]) -> tuple[int, int]:
    """(pending, posted) the holds put on a limit: posted less what repayments released."""
    pending = sum(r.amount_minor for r in holds if r.state == "pending")
    posted = sum(r.amount_minor - r.released_minor for r in holds if r.state == "posted")
    return pending, posted


def set_status(
    session: Session, actor: Principal, line_id: str, *, status: str, reason: str
) -> CreditLine:
    """Freeze (no new reservations; drawn loans run on) or unfreeze a line, or close it."""
    line = _own_line(session, actor, line_id)
    event = _ASKED.get(status, status)
    CREDIT_LINE.next(line.status, event, subject=line.id)  # an illegal move is refused first
    if status == "active" and line.expires_on < clock.today():
        raise Conflict(
            f"line {line.id} expired on {line.expires_on}; open a new line", code="line_expired"
        )
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", "say why")], code="note_required")
    states.move(line, event)
    line.status_reason = reason.strip()[:300]
    line.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, f"line.{status}", _change("line", line))
    audit.record(session, actor, f"line.{status}", "line", line.id, {"reason": reason})
    return line


def set_limit(
    session: Session, actor: Principal, line_id: str, *, limit: Money, reason: str
) -> CreditLine:
    """Raise or lower a line's limit. It never goes below what the line already holds
    (reserved and drawn) nor below one of its sub-limits; a line closed or expired keeps
    its limit."""
    line = _own_line(session, actor, line_id)
    errors: list[FieldError] = []
    if limit.currency != line.currency or limit.amount_minor <= 0:
        errors.append(FieldError("limit", f"must be a positive {line.currency} amount"))
    else:
        largest = session.scalar(
            select(func.max(CreditSublimit.limit_minor)).where(CreditSublimit.line_id == line.id)
        )
        if largest is not None and limit.amount_minor < largest:
            errors.append(
                FieldError("limit", f"is below the line's sub-limit of {_m(largest, line)}")
            )
    if not reason.strip():
        errors.append(FieldError("reason", "say why"))
    if errors:
        raise ValidationFailed(errors)
    if line.status not in ("active", "frozen"):
        raise Conflict(
            f"line {line.id} is {line.status}: its limit no longer changes",
            code="illegal_transition",
        )
    result = session.execute(
        update(CreditLine)
        .where(
            CreditLine.id == line.id,
            CreditLine.pending_minor + CreditLine.posted_minor <= limit.amount_minor,
        )
        .values(limit_minor=limit.amount_minor, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(line)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        used = line.pending_minor + line.posted_minor
        raise Conflict(
            f"line {line.id} already holds {_m(used, line)}, above the new limit {limit}",
            hint="Set the limit at or above today's usage.",
            code="line_limit_below_usage",
        )
    ledger.one(session, actor, "line.limit_changed", _change("line", line))
    audit.record(
        session, actor, "line.limit", "line", line.id, {"limit": str(limit), "reason": reason}
    )
    return line


def expire(session: Session, actor: Principal, as_of: date) -> int:
    """Lines past their expiry date stop taking reservations (loans drawn run on)."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None and not actor.is_system:
        raise Forbidden("a bank expires its own lines", code="bank_staff_only")
    now = utcnow()
    lines_expired = 0
    query = select(CreditLine).where(
        CreditLine.status.in_(("active", "frozen")), CreditLine.expires_on < as_of
    )
    if actor.bank_id is not None:
        query = query.where(CreditLine.bank_id == actor.bank_id)
    for line in session.scalars(query):
        states.move(line, "expire")
        line.status_reason = f"expired on {line.expires_on}"
        line.updated_at = now
        session.flush()
        ledger.one(session, actor, "line.expired", _change("line", line))
        lines_expired += 1
    return lines_expired


# ---------------------------------------------------------------------------- availability


@dataclass(frozen=True, slots=True)
class Availability:
    """What a new reservation on ``line`` for ``member`` and ``product_kind`` may take."""

    line: CreditLine
    line_available_minor: int
    sublimits: tuple[CreditSublimit, ...]
    sublimit_available_minor: int | None
    core_caps: tuple[ExposureCap, ...]
    core_cap_available_minor: int | None
    group_caps: tuple[ExposureCap, ...]
    group_cap_available_minor: int | None

    def line_status(self, on: date) -> str:
        if self.line.status == "active" and self.line.expires_on < on:
            return "expired"
        return "frozen" if self.line.status == "closed" else self.line.status


def _min_free(rows: Sequence[Any], free: Any) -> int | None:
    return min((free(r) for r in rows), default=None)


def availability(
    session: Session, line: CreditLine, *, member_id: str, product_kind: str
) -> Availability:
    subs = tuple(
        session.scalars(
            select(CreditSublimit).where(
                CreditSublimit.line_id == line.id,
                or_(
                    CreditSublimit.product_kind.is_(None),
                    CreditSublimit.product_kind == product_kind,
                ),
                or_(CreditSublimit.member_id.is_(None), CreditSublimit.member_id == member_id),
            )
        )
    )
    core_caps = tuple(
        session.scalars(
            select(ExposureCap).where(
                ExposureCap.bank_id == line.bank_id, ExposureCap.core_id == line.core_id
            )
        )
    )
    group_caps = tuple(
        session.scalars(
            select(ExposureCap)
            .join(ExposureCapMember, ExposureCapMember.cap_id == ExposureCap.id)
            .where(
                ExposureCap.bank_id == line.bank_id,
                ExposureCapMember.enterprise_id == line.obligor_id,
            )
        )
    )
    return Availability(
        line=line,
        line_available_minor=line.limit_minor - line.pending_minor - line.posted_minor,
        sublimits=subs,
        sublimit_available_minor=_min_free(
            subs, lambda s: s.limit_minor - s.pending_minor - s.posted_minor
        ),
        core_caps=core_caps,
        core_cap_available_minor=_min_free(core_caps, lambda c: c.cap_minor - c.used_minor),
        group_caps=group_caps,
        group_cap_available_minor=_min_free(group_caps, lambda c: c.cap_minor - c.used_minor),
    )


def _m(amount_minor: int, row: Any) -> Money:
    return Money(amount_minor, row.currency)


# ---------------------------------------------------------------------------- two phases


def reserve(
    session: Session,
    actor: Principal,
    avail: Availability,
    *,
    application_id: str,
    amount: Money,
    on: date,
) -> LineReservation:
    """Phase one: hold ``amount`` on the line, its applicable sub-limits and caps — all or
    nothing. Raises Conflict naming the first one that cannot take it."""
    line = avail.line
    if amount.currency != line.currency:
        raise ValidationFailed(
            [FieldError("amount", f"the line is in {line.currency}")], code="currency_mismatch"
        )
    _take(
        session,
        CreditLine,
        line.id,
        amount.amount_minor,
        f"line {line.id}",
        CreditLine.status == "active",
        CreditLine.expires_on >= on,
        short="line_insufficient",
        currency=line.currency,
        on=on,
    )
    for sub in avail.sublimits:
        _take(
            session,
            CreditSublimit,
            sub.id,
            amount.amount_minor,
            f"sub-limit {sub.id}",
            short="sublimit_insufficient",
            currency=line.currency,
        )
    for cap in avail.core_caps:
        _take_cap(session, cap, amount.amount_minor, short="core_cap_exceeded")
    for cap in avail.group_caps:
        _take_cap(session, cap, amount.amount_minor, short="group_cap_exceeded")
    now = utcnow()
    reservation = LineReservation(
        id=new_id("reservation"),
        line_id=line.id,
        application_id=application_id,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        released_minor=0,
        sublimit_ids=[s.id for s in avail.sublimits],
        cap_ids=[c.id for c in (*avail.core_caps, *avail.group_caps)],
        state=states.initial(LineReservation),
        expires_at=now + RESERVATION_TTL,
        created_at=now,
        updated_at=now,
    )
    session.add(reservation)
    session.flush()
    session.refresh(line)
    ledger.one(
        session,
        actor,
        "line.reserved",
        _change("reservation", reservation),
        _change("line", line),
        *_touched(session, reservation),
    )
    return reservation


def _take(
    session: Session,
    model: Any,
    row_id: str,
    amount: int,
    what: str,
    *conditions: Any,
    short: str,
    currency: str,
    on: date | None = None,
) -> None:
    """Hold ``amount`` on one limit row, or raise :class:`LimitExceeded` with the code of
    what refused it (the decision rules' codes): the line frozen or expired, else ``short``
    (this limit is exhausted)."""
    result = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.pending_minor + model.posted_minor + amount <= model.limit_minor,
            *conditions,
        )
        .values(pending_minor=model.pending_minor + amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        row = _get(session, model, row_id)
        session.refresh(row)
        free = row.limit_minor - row.pending_minor - row.posted_minor
        state = getattr(row, "status", "active")
        if state == "active" and on is not None and row.expires_on < on:
            state = "expired"
        code = {"active": short, "expired": "line_expired"}.get(state, "line_frozen")
        raise LimitExceeded(
            f"{what} cannot take {Money(amount, currency)}: "
            f"available {Money(max(free, 0), currency)}"
            + ("" if state == "active" else f" (it is {state})"),
            hint="Reduce the amount, or ask for the limit to be raised."
            if state == "active"
            else f"The line is {state}: it takes no new loans.",
            code=code,
        )


def _take_cap(session: Session, cap: ExposureCap, amount: int, *, short: str) -> None:
    result = session.execute(
        update(ExposureCap)
        .where(ExposureCap.id == cap.id, ExposureCap.used_minor + amount <= ExposureCap.cap_minor)
        .values(used_minor=ExposureCap.used_minor + amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        row = _get(session, ExposureCap, cap.id)
        session.refresh(row)
        free = row.cap_minor - row.used_minor
        raise LimitExceeded(
            f"exposure cap {row.name!r} cannot take {_m(amount, row)}: "
            f"available {_m(max(free, 0), row)}",
            hint="The bank's exposure to this chain or group is at its cap.",
            code=short,
        )


def _shift(session: Session, model: Any, ids: Sequence[str], **deltas: int) -> None:
    if not ids:
        return
    values = {name: getattr(model, name) + delta for name, delta in deltas.items() if delta}
    if values:
        session.execute(
            update(model)
            .where(model.id.in_(list(ids)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _touched(session: Session, reservation: LineReservation) -> list[Any]:
    subs = session.scalars(
        select(CreditSublimit)
        .where(CreditSublimit.id.in_(reservation.sublimit_ids))
        .execution_options(populate_existing=True)
    )
    cap_rows = session.scalars(
        select(ExposureCap)
        .where(ExposureCap.id.in_(reservation.cap_ids))
        .execution_options(populate_existing=True)
    )
    return [_change("sublimit", s) for s in subs] + [_change("cap", c) for c in cap_rows]


def _transition(session: Session, reservation: LineReservation, event: str) -> None:
    source = reservation.state
    if not states.swap(session, reservation, event, updated_at=utcnow()):
        session.refresh(reservation)
        raise Conflict(
            f"reservation {reservation.id} is {reservation.state}, not {source}",
            code="illegal_transition",
        )
    session.refresh(reservation)


def post(session: Session, actor: Principal, reservation: LineReservation) -> None:
    """Phase two: the loan is disbursed; the hold becomes drawn."""
    _transition(session, reservation, "post")
    amount = reservation.amount_minor
    _shift(session, CreditLine, [reservation.line_id], pending_minor=-amount, posted_minor=amount)
    _shift(
        session,
        CreditSublimit,
        reservation.sublimit_ids,
        pending_minor=-amount,
        posted_minor=amount,
    )
    _record(session, actor, "line.posted", reservation)


def void(
    session: Session, actor: Principal, reservation: LineReservation, *, state: str = "voided"
) -> None:
    """The approval lapsed or was cancelled before disbursement: give the hold back."""
    _transition(session, reservation, LINE_RESERVATION.event_to("pending", state))
    amount = reservation.amount_minor
    _shift(session, CreditLine, [reservation.line_id], pending_minor=-amount)
    _shift(session, CreditSublimit, reservation.sublimit_ids, pending_minor=-amount)
    _shift(session, ExposureCap, reservation.cap_ids, used_minor=-amount)
    _record(session, actor, f"line.{state}", reservation)


def release(
    session: Session, actor: Principal, reservation: LineReservation, amount_minor: int
) -> None:
    """Principal was repaid: exposure falls by it. A revolving line can lend it again; a
    one-off line's limit shrinks by it, so it cannot."""
    if amount_minor <= 0 or reservation.state != "posted":
        return
    amount = min(amount_minor, reservation.amount_minor - reservation.released_minor)
    if amount <= 0:
        return
    line = _get(session, CreditLine, reservation.line_id)
    reservation.released_minor += amount
    reservation.updated_at = utcnow()
    shrink = 0 if line.revolving else -amount
    _shift(session, CreditLine, [line.id], posted_minor=-amount, limit_minor=shrink)
    _shift(
        session, CreditSublimit, reservation.sublimit_ids, posted_minor=-amount, limit_minor=shrink
    )
    _shift(session, ExposureCap, reservation.cap_ids, used_minor=-amount)
    session.flush()
    _record(session, actor, "line.released", reservation)


def _record(session: Session, actor: Principal, event: str, reservation: LineReservation) -> None:
    line = session.get(CreditLine, reservation.line_id, populate_existing=True)
    ledger.one(
        session,
        actor,
        event,
        _change("reservation", reservation),
        _change("line", line),
        *_touched(session, reservation),
    )
