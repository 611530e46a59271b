"""Alerts: something a person must look at. Raised once per subject and kind while open,
owned by the customer's relationship manager, acknowledged, resolved with a note, and
escalated when nobody acknowledges them in time. Every alert and every change to it goes on
the verifiable log — the event a webhook will later deliver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Alert, BankCustomer
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import FieldError, Forbidden, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.pagination import DEFAULT_LIMIT, Page, check_period, paginate

SEVERITIES = ("info", "low", "medium", "high", "critical")
# Unacknowledged this long, an alert escalates one level (and again after as long again).
ESCALATE_AFTER = {
    "critical": timedelta(hours=4),
    "high": timedelta(hours=24),
    "medium": timedelta(hours=72),
}


def _change(alert: Alert) -> Change:
    return Change("alert", row_of(alert))


def raise_alert(
    session: Session,
    actor: Principal,
    *,
    kind: str,
    severity: str,
    subject_kind: str,
    subject_id: str,
    bank_id: str | None,
    enterprise_id: str | None,
    message: str,
    rule: str | None = None,
) -> Alert | None:
    """Raise an alert unless one of the same kind on the same subject for the same bank is
    still open or acknowledged (then None): a condition that persists is one alert."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    query = select(Alert.id).where(
        Alert.kind == kind, Alert.subject_id == subject_id, Alert.state != "resolved"
    )
    query = query.where(Alert.bank_id.is_(None) if bank_id is None else Alert.bank_id == bank_id)
    if session.scalar(query.limit(1)) is not None:
        return None
    owner = None
    if bank_id is not None and enterprise_id is not None:
        owner = session.scalar(
            select(BankCustomer.relationship_manager_id).where(
                BankCustomer.bank_id == bank_id, BankCustomer.enterprise_id == enterprise_id
            )
        )
    row = Alert(
        id=new_id("alert"),
        kind=kind,
        severity=severity,
        subject_kind=subject_kind,
        subject_id=subject_id,
        bank_id=bank_id,
        enterprise_id=enterprise_id,
        message=message,
        state=states.initial(Alert),
        created_at=utcnow(),
        owner_id=owner,
        rule=rule,
        escalation_level=0,
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "alert.raised", _change(row))
    return row


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list; every field narrows it. ``since``/``until``: when raised, from
    ``since`` (inclusive) to ``until`` (exclusive)."""

    state: str | None = None
    severity: str | None = None
    kind: str | None = None
    enterprise_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def alerts(
    session: Session,
    actor: Principal,
    f: AlertFilter = AlertFilter(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Alert]:
    """A bank's staff see the alerts raised for their bank; an enterprise those about it.
    Newest first."""
    actor.require(Scope.CREDENTIALS_READ)
    query = select(Alert)
    if actor.bank_id is not None or actor.is_system:
        query = query.where(scoping.by_bank(actor, Alert.bank_id))
    else:
        me = scoping.enterprise_of(actor, "alerts are for banks and the enterprises they concern")
        # an enterprise sees the platform's alerts about it, never a bank's
        query = query.where(Alert.enterprise_id == me, Alert.bank_id.is_(None))
    for column, value in (
        (Alert.state, f.state),
        (Alert.severity, f.severity),
        (Alert.kind, f.kind),
        (Alert.enterprise_id, f.enterprise_id),
    ):
        if value is not None:
            query = query.where(column == value)
    check_period(f.since, f.until)
    if f.since is not None:
        query = query.where(Alert.created_at >= f.since)
    if f.until is not None:
        query = query.where(Alert.created_at < f.until)
    return paginate(session, query, Alert.id, cursor=cursor, limit=limit, descending=True)


def alert_for(session: Session, actor: Principal, alert_id: str) -> Alert:
    """One alert of the actor's bank, to read it (the row a page redraws); 404 for any
    other, an enterprise's included."""
    actor.require(Scope.CREDENTIALS_READ)
    return scoping.bank_record(session, actor, Alert, alert_id, "alert")


def _own(session: Session, actor: Principal, alert_id: str) -> Alert:
    actor.require(Scope.LOANS_WRITE)
    why = "a bank's staff handle its alerts"
    return scoping.own_bank_record(session, actor, Alert, alert_id, "alert", why)


def acknowledge(session: Session, actor: Principal, alert_id: str, *, note: str = "") -> Alert:
    """Someone is on it."""
    row = _own(session, actor, alert_id)
    states.move(row, "acknowledge")  # the machine refuses, naming state and allowed events
    row.acknowledged_by = actor.label
    row.acknowledged_at = utcnow()
    if note.strip():
        row.note = note.strip()
    session.flush()
    ledger.one(session, actor, "alert.acknowledged", _change(row))
    audit.record(session, actor, "alert.acknowledge", "alert", row.id, {})
    return row


def resolve(session: Session, actor: Principal, alert_id: str, *, note: str) -> Alert:
    """Closed, with what was found and done (the note is required)."""
    row = _own(session, actor, alert_id)
    if row.state == "resolved":
        states.move(row, "resolve")  # the machine refuses it before the note is looked at
    if not note.strip():
        raise ValidationFailed(
            [FieldError("note", "say what was found and done")], code="note_required"
        )
    states.move(row, "resolve")
    row.resolved_by = actor.label
    row.resolved_at = utcnow()
    row.note = note.strip()
    session.flush()
    ledger.one(session, actor, "alert.resolved", _change(row))
    audit.record(session, actor, "alert.resolve", "alert", row.id, {})
    return row


def escalate(session: Session, actor: Principal, *, now: datetime | None = None) -> int:
    """Raise the level of every open alert left unacknowledged past its severity's time
    (counted from when it was raised or last escalated); level 1 goes to the risk officers,
    level 2 to the head of credit, as the bank routes them. Returns how many escalated."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None and not actor.is_system:
        raise Forbidden("a bank escalates its own alerts", code="bank_staff_only")
    now = now or utcnow()
    query = select(Alert).where(Alert.state == "open", Alert.bank_id.is_not(None))
    if actor.bank_id is not None:
        query = query.where(Alert.bank_id == actor.bank_id)
    count = 0
    for row in session.scalars(query):
        wait = ESCALATE_AFTER.get(row.severity)
        since = row.escalated_at or row.created_at
        if wait is None or now - since < wait:
            continue
        row.escalation_level += 1
        row.escalated_at = now
        session.flush()
        ledger.one(session, actor, "alert.escalated", _change(row))
        count += 1
    return count
