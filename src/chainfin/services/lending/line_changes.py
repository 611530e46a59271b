"""Maker-checker on a bank's credit limits: one person proposes a change (open a line,
change a line's limit, add a sub-limit, freeze or unfreeze a line, set an exposure cap),
another person of the same bank approves it, and the approval applies it through
:mod:`chainfin.services.lending.lines` in the same transaction — or rejects it with a note.

The proposer can never decide their own proposal (``four_eyes_required``; the table's
CHECK constraint is the second line of defence). A proposal is checked for what can be
checked without applying it (amounts, dates, the line being the bank's own); the rules of
the limits themselves (a customer, usage below the new limit, ...) are the lines service's
and refuse the approval, which then writes nothing and leaves the proposal pending.

The proposal and its decision go on the audit trail; the change it applies goes on the
verifiable log as every change of a limit does (``line.opened``, ``line.limit_changed``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import CreditLine, LineChange
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.products import ProductKind
from chainfin.services import audit, scoping, states
from chainfin.services.lending import lines

KINDS = ("open", "limit", "sublimit", "freeze", "unfreeze", "cap")
ON_A_LINE = frozenset({"limit", "sublimit", "freeze", "unfreeze"})
_WHY = "credit limits belong to a bank: this is done by bank staff"


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a maker asks for. Amounts and dates are text as typed (checked here); the
    fields a kind does not use are left empty."""

    kind: str
    reason: str
    line_id: str | None = None
    amount: str = ""  # the limit, sub-limit or cap (major units)
    currency: str = "CNY"
    obligor: str = ""  # open: USCC or id
    core: str = ""  # open: the member's core; cap: the core capped
    starts_on: str = ""
    expires_on: str = ""
    product_kind: str = ""  # sublimit
    member: str = ""  # sublimit
    name: str = ""  # cap


def _amount(text: str, currency: str, field: str, errors: list[FieldError]) -> Money | None:
    if not text.strip():
        errors.append(FieldError(field, "enter the amount"))
        return None
    try:
        money = Money.parse(text.strip().replace(",", ""), currency)
    except MoneyError:
        errors.append(FieldError(field, "not an amount like 1234.56"))
        return None
    if money.amount_minor <= 0:
        errors.append(FieldError(field, "must be positive"))
        return None
    return money


def _day(text: str, field: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(FieldError(field, "enter a date (YYYY-MM-DD)"))
        return None


def _payload(session: Session, actor: Principal, p: Proposal) -> dict[str, Any]:
    """The proposal's payload, or ValidationFailed naming every field that is wrong."""
    errors: list[FieldError] = []
    if p.kind not in KINDS:
        raise ValidationFailed(
            [FieldError("kind", f"one of {', '.join(KINDS)}")], code="line_change_kind_unknown"
        )
    if not p.reason.strip():
        errors.append(FieldError("reason", "say why"))
    elif len(p.reason.strip()) > 300:
        errors.append(FieldError("reason", "at most 300 characters"))
    out: dict[str, Any] = {}
    if p.kind in ON_A_LINE:
        line = _line(session, actor, p.line_id or "")
        currency = line.currency
    else:
        currency = p.currency
    if p.kind in ("open", "limit", "sublimit", "cap"):
        field = {"open": "limit", "limit": "limit", "sublimit": "limit", "cap": "cap"}[p.kind]
        money = _amount(p.amount, currency, field, errors)
        if money is not None:
            out["amount"] = money.to_decimal_string()
            out["currency"] = money.currency
    if p.kind == "open":
        if not p.obligor.strip():
            errors.append(FieldError("obligor", "name the obligor (USCC)"))
        starts = _day(p.starts_on, "starts_on", errors)
        expires = _day(p.expires_on, "expires_on", errors)
        if starts and expires and expires <= starts:
            errors.append(FieldError("expires_on", f"must be after the start {starts}"))
        out |= {"obligor": p.obligor.strip(), "core": p.core.strip() or None}
        out |= {"starts_on": p.starts_on.strip(), "expires_on": p.expires_on.strip()}
    elif p.kind == "limit" and "amount" in out:
        used = line.pending_minor + line.posted_minor
        if Money.parse(out["amount"], currency).amount_minor < used:
            held = Money(used, currency)
            errors.append(FieldError("limit", f"is below what the line already holds, {held}"))
    elif p.kind == "sublimit":
        kinds = {k.value for k in ProductKind}
        if p.product_kind and p.product_kind not in kinds:
            errors.append(FieldError("product_kind", f"one of {', '.join(sorted(kinds))}"))
        if not p.product_kind and not p.member.strip():
            errors.append(FieldError("product_kind", "name a product kind, a member or both"))
        asked = Money.parse(out["amount"], currency) if "amount" in out else None
        if asked is not None and asked.amount_minor > line.limit_minor:
            whole = Money(line.limit_minor, currency)
            errors.append(FieldError("limit", f"is above the line's limit {whole}"))
        out |= {"product_kind": p.product_kind or None, "member": p.member.strip() or None}
    elif p.kind == "cap":
        if not p.name.strip():
            errors.append(FieldError("name", "name the cap"))
        if not p.core.strip():
            errors.append(FieldError("core", "name the core enterprise (USCC)"))
        out |= {"name": p.name.strip()[:200], "core": p.core.strip()}
    elif p.kind == "freeze" and line.status != "active":
        raise Conflict(f"line {line.id} is {line.status}, not active", code="illegal_transition")
    elif p.kind == "unfreeze" and line.status != "frozen":
        raise Conflict(f"line {line.id} is {line.status}, not frozen", code="illegal_transition")
    if errors:
        raise ValidationFailed(errors)
    return out


def _line(session: Session, actor: Principal, line_id: str) -> CreditLine:
    return scoping.own_bank_record(session, actor, CreditLine, line_id, "credit line", _WHY)


def propose(session: Session, actor: Principal, proposal: Proposal) -> LineChange:
    """Record a proposed change, pending a checker's decision. Nothing else changes."""
    actor.require(Scope.LOANS_WRITE)
    bank_id = scoping.bank_of(actor, _WHY)
    payload = _payload(session, actor, proposal)
    row = LineChange(
        id=new_id("line_change"),
        bank_id=bank_id,
        line_id=proposal.line_id if proposal.kind in ON_A_LINE else None,
        kind=proposal.kind,
        payload=payload,
        reason=proposal.reason.strip(),
        status="pending",
        proposed_by=actor.subject_id,
        proposed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "line_change.propose", "line_change", row.id, {"kind": row.kind})
    return row


def change_for(session: Session, actor: Principal, change_id: str) -> LineChange:
    actor.require(Scope.LOANS_READ)
    scoping.bank_of(actor, _WHY)
    return scoping.bank_record(session, actor, LineChange, change_id, "line change")


def changes(
    session: Session,
    actor: Principal,
    *,
    status: str | None = None,
    line_id: str | None = None,
    limit: int = 100,
) -> list[LineChange]:
    """The bank's proposals, the newest first."""
    actor.require(Scope.LOANS_READ)
    bank_id = scoping.bank_of(actor, _WHY)
    query = select(LineChange).where(LineChange.bank_id == bank_id)
    if status is not None:
        query = query.where(LineChange.status == status)
    if line_id is not None:
        query = query.where(LineChange.line_id == line_id)
    return list(session.scalars(query.order_by(LineChange.id.desc()).limit(limit)))


def _decide(
    session: Session, actor: Principal, change_id: str, status: str, note: str
) -> LineChange:
    """Move the proposal from pending to ``status`` if no one decided it first."""
    actor.require(Scope.LOANS_WRITE)
    scoping.bank_of(actor, _WHY)
    row = scoping.own_bank_record(session, actor, LineChange, change_id, "line change", _WHY)
    if row.status != "pending":
        raise Conflict(f"change {row.id} is already {row.status}", code="illegal_transition")
    if row.proposed_by == actor.subject_id:
        raise Conflict(
            "the person who proposed a change cannot decide it",
            hint="Ask a colleague to approve or reject it.",
            code="four_eyes_required",
        )
    event = {"approved": "approve", "rejected": "reject"}[status]
    moved = states.swap(
        session,
        row,
        event,
        decided_by=actor.subject_id,
        decided_at=utcnow(),
        decision_note=note.strip()[:300] or None,
    )
    if not moved:
        raise Conflict(f"change {row.id} was decided meanwhile", code="concurrent_change")
    return row


def approve(session: Session, actor: Principal, change_id: str, *, note: str = "") -> LineChange:
    """Apply the change as the checker. A refusal of the lines service (its code and
    fields) rolls the whole approval back: the proposal stays pending."""
    row = _decide(session, actor, change_id, "approved", note)
    row.result_id = _apply(session, actor, row)
    session.flush()
    audit.record(
        session,
        actor,
        "line_change.approve",
        "line_change",
        row.id,
        {"kind": row.kind, "result": row.result_id},
    )
    return row


def reject(session: Session, actor: Principal, change_id: str, *, note: str) -> LineChange:
    if not note.strip():
        raise ValidationFailed([FieldError("note", "say why")], code="note_required")
    row = _decide(session, actor, change_id, "rejected", note)
    audit.record(session, actor, "line_change.reject", "line_change", row.id, {"kind": row.kind})
    return row


def _apply(session: Session, actor: Principal, row: LineChange) -> str:
    p = row.payload
    money = Money.parse(p["amount"], p["currency"]) if "amount" in p else None
    if row.kind == "open" and money is not None:
        return lines.open_line(
            session,
            actor,
            obligor=p["obligor"],
            limit=money,
            starts_on=date.fromisoformat(p["starts_on"]),
            expires_on=date.fromisoformat(p["expires_on"]),
            core=p.get("core"),
        ).id
    if row.kind == "limit" and money is not None and row.line_id:
        return lines.set_limit(session, actor, row.line_id, limit=money, reason=row.reason).id
    if row.kind == "sublimit" and money is not None and row.line_id:
        return lines.add_sublimit(
            session,
            actor,
            row.line_id,
            limit=money,
            product_kind=p.get("product_kind"),
            member=p.get("member"),
        ).id
    if row.kind in ("freeze", "unfreeze") and row.line_id:
        status = "frozen" if row.kind == "freeze" else "active"
        return lines.set_status(session, actor, row.line_id, status=status, reason=row.reason).id
    if row.kind == "cap" and money is not None:
        return lines.set_cap(session, actor, name=p["name"], cap=money, core=p["core"]).id
    raise AssertionError(f"change {row.id} of kind {row.kind} has no payload to apply")
