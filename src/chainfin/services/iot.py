"""IoT collateral and shipment monitoring: devices registered by a bank and bound to a
pledge (an item of a loan's pledged goods) or to a shipment (a waybill and its route
corridor); telemetry from MQTT or the HTTP fallback judged reading by reading (duplicate,
out of order, late, malformed), the pledge's quantity on hand and so the loan's collateral
value and loan-to-value kept current, and alerts: ``margin_call``, ``shipment_off_route``,
``temperature_out_of_range``, ``device_silent``.

Device management is a state change like any other (scope, state, log, audit in one
transaction). A reading is raw input: stored (``iot_readings``) or dead-lettered, counted,
and what it changes — a loan's collateral, an alert — goes on the log, naming the reading
and its digest. :func:`receive` never raises for a bad message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    BankCustomer,
    IotDeadLetter,
    IotDevice,
    IotReading,
    Loan,
    LoanProduct,
    TradeDocumentRow,
)
from chainfin.adapters.mqtt import Redeliver
from chainfin.domain import iot as rules
from chainfin.domain.access import Principal, PrincipalKind, Scope
from chainfin.domain.clock import business_date, utcnow
from chainfin.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from chainfin.domain.ids import new_id
from chainfin.domain.iot import BadMessage, Counters, Outcome, Telemetry
from chainfin.domain.loans import LoanStatus
from chainfin.domain.money import Money
from chainfin.services import alerts, audit, ledger, scoping, states
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.lending import loans, products
from chainfin.services.pagination import DEFAULT_LIMIT, Page, check_period, paginate

log = logging.getLogger("chainfin.iot")

LISTENER = Principal(PrincipalKind.SYSTEM, "iot-listener")
"""Who the log names for what telemetry changes."""

PLEDGE_KINDS = frozenset({"weight", "rfid", "temperature"})
SHIPMENT_KINDS = frozenset({"gps", "temperature"})
BINDABLE_LOANS = frozenset(
    {LoanStatus.APPROVED.value, LoanStatus.DISBURSED.value, LoanStatus.CURRENT.value}
    | {LoanStatus.OVERDUE.value}
)
MAX_BATCH = 500
MAX_BATCH_BYTES = 1 << 20
DEAD_LETTER_CHARS = 4096


# ---------------------------------------------------------------------------- registry


def _bank_of(actor: Principal) -> str:
    return scoping.bank_of(actor, "devices are registered by the lending bank's staff")


def _change(device: IotDevice) -> Change:
    return Change("device", row_of(device))


def token_hash(token: str) -> str:
    """A device token is 256 random bits: SHA-256 is enough to store it (no password to
    stretch), and lets a request find its device in one indexed lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def _invalid(exc: BadMessage) -> ValidationFailed:
    return ValidationFailed([FieldError(exc.field, exc.reason)])


def register(
    session: Session,
    actor: Principal,
    *,
    serial: str,
    kind: str,
    unit: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> tuple[IotDevice, str]:
    """Register a device of the actor's bank; the HTTP token is returned once, stored
    hashed. A device measures nothing until it is bound."""
    actor.require(Scope.LOANS_WRITE)
    bank_id = _bank_of(actor)
    errors: list[FieldError] = []
    try:
        rules.check_serial(serial, "serial")
    except BadMessage as exc:
        errors.append(FieldError(exc.field, exc.reason))
    if kind not in rules.KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(rules.KINDS)}"))
    if kind == "weight" and unit not in rules.MASS_UNITS:
        errors.append(FieldError("unit", f"a scale weighs in {', '.join(rules.MASS_UNITS)}"))
    if kind == "rfid":
        unit = unit or "pcs"
        if unit not in rules.COUNT_UNITS:
            errors.append(FieldError("unit", f"a counter counts {', '.join(rules.COUNT_UNITS)}"))
    if kind == "gps":
        unit = None
    if kind == "temperature":
        unit = "C"
    try:
        limits = rules.check_thresholds(thresholds or {})
    except BadMessage as exc:
        errors.append(FieldError(exc.field, exc.reason))
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(IotDevice.id).where(IotDevice.serial == serial)) is not None:
        raise Conflict(
            f"a device with serial {serial!r} is registered already", code="device_serial_taken"
        )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    device = IotDevice(
        id=new_id("device"),
        serial=serial,
        kind=kind,
        bank_id=bank_id,
        unit=unit,
        corridor={},
        thresholds=limits,
        token_hash=token_hash(token),
        state=states.initial(IotDevice),
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(device)
    session.flush()
    ledger.one(session, actor, "device.registered", _change(device))
    audit.record(session, actor, "device.register", "device", device.id, {"serial": serial})
    return device, token


def device_for(session: Session, actor: Principal, ref: str) -> IotDevice:
    """A device of the actor's bank, by id or serial."""
    actor.require(Scope.LOANS_READ)
    query = select(IotDevice).where(
        IotDevice.id == ref if ref.startswith("dev_") else IotDevice.serial == ref
    )
    device = session.scalar(query)
    if device is None or not scoping.owns(actor, device.bank_id):
        raise NotFound(f"no device {ref!r}", code="device_not_found")
    return device


def _own(session: Session, actor: Principal, ref: str) -> IotDevice:
    actor.require(Scope.LOANS_WRITE)
    device = device_for(session, actor, ref)
    if device.bank_id != _bank_of(actor):
        raise NotFound(f"no device {ref!r}", code="device_not_found")
    if device.state != "active":
        raise Conflict(f"device {device.serial} is {device.state}", code="device_not_active")
    return device


def _rebound(session: Session, actor: Principal, device: IotDevice, detail: dict[str, Any]) -> None:
    device.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, "device.bound", _change(device))
    audit.record(session, actor, "device.bind", "device", device.id, detail)


def bind_pledge(
    session: Session, actor: Principal, ref: str, *, loan_id: str, item: str
) -> IotDevice:
    """Bind a scale, a counter or a probe to one item of a loan's pledged goods. A scale or
    counter then sets the item's quantity on hand; one of each kind per item."""
    device = _own(session, actor, ref)
    if device.kind not in PLEDGE_KINDS:
        raise ValidationFailed(
            [FieldError("loan_id", f"a {device.kind} device follows a shipment, not a pledge")],
            code="device_kind_mismatch",
        )
    loan = session.get(Loan, loan_id)
    if loan is None or loan.bank_id != device.bank_id:
        raise NotFound(f"no loan {loan_id!r}", code="loan_not_found")
    if loan.status not in BINDABLE_LOANS:
        raise Conflict(f"loan {loan.id} is {loan.status}", code="loan_not_active")
    items = loan.collateral.get("items") or []
    pledged = next((i for i in items if i.get("item") == item), None)
    if pledged is None:
        names = ", ".join(repr(i.get("item")) for i in items) or "none"
        raise ValidationFailed(
            [FieldError("item", f"loan {loan.id} has no pledged item {item!r} (items: {names})")],
            code="pledged_item_unknown",
        )
    if device.kind != "temperature" and not rules.compatible(str(device.unit), pledged["unit"]):
        raise ValidationFailed(
            [
                FieldError(
                    "item",
                    f"the device measures in {device.unit}; {item!r} is pledged in "
                    f"{pledged['unit']}",
                )
            ],
            code="unit_mismatch",
        )
    other = session.scalar(
        select(IotDevice.serial).where(
            IotDevice.loan_id == loan.id,
            IotDevice.item == item,
            IotDevice.kind == device.kind,
            IotDevice.state == "active",
            IotDevice.id != device.id,
        )
    )
    if other is not None:
        raise Conflict(
            f"{item!r} of loan {loan.id} is measured by {device.kind} device {other} already",
            hint="Retire that device first.",
            code="item_already_measured",
        )
    device.loan_id, device.item = loan.id, item
    device.waybill_id, device.corridor = None, {}
    _rebound(session, actor, device, {"loan": loan.id, "item": item})
    return device


def bind_shipment(
    session: Session,
    actor: Principal,
    ref: str,
    *,
    waybill_id: str,
    waypoints: Sequence[Sequence[object]],
    max_km: object,
) -> IotDevice:
    """Bind a tracker or a probe to a waybill whose shipper or consignee banks with the
    actor's bank, with the route corridor it must stay in."""
    device = _own(session, actor, ref)
    if device.kind not in SHIPMENT_KINDS:
        raise ValidationFailed(
            [FieldError("waybill_id", f"a {device.kind} device measures a pledge")],
            code="device_kind_mismatch",
        )
    doc = session.get(TradeDocumentRow, waybill_id)
    customer = doc is not None and (
        session.scalar(
            select(BankCustomer.enterprise_id).where(
                BankCustomer.bank_id == device.bank_id,
                BankCustomer.enterprise_id.in_([doc.seller_id, doc.buyer_id]),
            )
        )
        is not None
    )
    if doc is None or not customer:
        raise NotFound(f"no waybill {waybill_id!r} of your customers", code="waybill_not_found")
    if doc.kind != "waybill":
        raise ValidationFailed(
            [FieldError("waybill_id", f"{doc.id} is a {doc.kind}")], code="document_kind_mismatch"
        )
    try:
        corridor = rules.check_corridor(waypoints, max_km)
    except BadMessage as exc:
        raise _invalid(exc) from None
    device.waybill_id, device.corridor = doc.id, corridor
    device.loan_id, device.item = None, None
    _rebound(session, actor, device, {"waybill": doc.id})
    return device


def retire(session: Session, actor: Principal, ref: str, *, reason: str = "") -> IotDevice:
    """A retired device's messages are dead letters from now on; its readings are kept."""
    device = _own(session, actor, ref)
    states.move(device, "retire")
    device.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, "device.retired", _change(device))
    audit.record(session, actor, "device.retire", "device", device.id, {"reason": reason})
    return device


def _devices_query(actor: Principal, state: str | None) -> Select[IotDevice]:
    actor.require(Scope.LOANS_READ)
    if not actor.is_system:
        _bank_of(actor)
    query = select(IotDevice).where(scoping.by_bank(actor, IotDevice.bank_id))
    return query if state is None else query.where(IotDevice.state == state)


def devices(
    session: Session,
    actor: Principal,
    *,
    state: str | None = None,
    kind: str | None = None,
    loan_id: str | None = None,
    waybill_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[IotDevice]:
    """The bank's devices in the order they were registered; ``loan_id``/``waybill_id``:
    those bound to that pledge or shipment."""
    query = _devices_query(actor, state)
    for column, value in (
        (IotDevice.kind, kind),
        (IotDevice.loan_id, loan_id),
        (IotDevice.waybill_id, waybill_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return paginate(session, query, IotDevice.id, cursor=cursor, limit=limit)


def readings(
    session: Session,
    actor: Principal,
    ref: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[IotReading]:
    """A device's readings, the latest received first; ``since``/``until``: measured from
    ``since`` (inclusive) to ``until`` (exclusive)."""
    device = device_for(session, actor, ref)
    check_period(since, until)
    query = select(IotReading).where(IotReading.device_id == device.id)
    if since is not None:
        query = query.where(IotReading.at >= since)
    if until is not None:
        query = query.where(IotReading.at < until)
    return paginate(session, query, IotReading.id, cursor=cursor, limit=limit, descending=True)


def dead_letters(
    session: Session,
    actor: Principal,
    *,
    reason_code: str | None = None,
    device: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[IotDeadLetter]:
    """Messages that could not be used, the latest first: all of them for the operator,
    those naming one of its devices for a bank. ``device``: a serial; ``since``/``until``:
    when received."""
    actor.require(Scope.LOANS_READ)
    query = select(IotDeadLetter)
    if not actor.is_system:
        mine = select(IotDevice.serial).where(IotDevice.bank_id == _bank_of(actor))
        query = query.where(IotDeadLetter.device_serial.in_(mine))
    if reason_code is not None:
        query = query.where(IotDeadLetter.reason_code == reason_code)
    if device is not None:
        query = query.where(IotDeadLetter.device_serial == device)
    check_period(since, until)
    if since is not None:
        query = query.where(IotDeadLetter.received_at >= since)
    if until is not None:
        query = query.where(IotDeadLetter.received_at < until)
    return paginate(session, query, IotDeadLetter.id, cursor=cursor, limit=limit, descending=True)


# ---------------------------------------------------------------------------- telemetry


@dataclass
class Result:
    """What became of one message."""

    outcome: Outcome
    device: str | None = None
    seq: int | None = None
    reading_id: str | None = None
    reason: str | None = None
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "device": self.device,
            "seq": self.seq,
            "reading_id": self.reading_id,
            "reason": self.reason,
            "alerts": self.alerts,
        }


def _clean(text: str) -> str:
    """Text any database stores (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "\\x00")


def _text(raw: bytes | object) -> str:
    if isinstance(raw, bytes):
        return _clean(raw[:DEAD_LETTER_CHARS].decode("utf-8", errors="backslashreplace"))
    try:
        return _clean(json.dumps(raw, default=str, ensure_ascii=False)[:DEAD_LETTER_CHARS])
    except (TypeError, ValueError, RecursionError):
        return _clean(repr(raw)[:DEAD_LETTER_CHARS])


def _serial_in(raw: bytes | object) -> str | None:
    obj = raw
    if isinstance(raw, bytes):
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    serial = obj.get("device") if isinstance(obj, dict) else None
    return serial[:64] if isinstance(serial, str) else None


@dataclass(frozen=True)
class _Arrival:
    source: str
    topic: str | None
    received_at: datetime


def _dead(
    session: Session,
    outcome: Outcome,
    reason: str,
    raw: bytes | object,
    where: _Arrival,
    *,
    serial: str | None,
) -> Result:
    session.add(
        IotDeadLetter(
            id=new_id("dead_letter"),
            received_at=where.received_at,
            source=where.source,
            topic=_clean(where.topic[:200]) if where.topic else None,
            device_serial=_clean(serial) if serial else None,
            reason_code=outcome.value,
            reason=_clean(reason),
            payload=_text(raw),
        )
    )
    session.flush()
    return Result(outcome, serial, reason=reason)


def receive(
    session: Session,
    raw: bytes | object,
    *,
    source: str,
    topic: str | None = None,
    received_at: datetime | None = None,
    expected_device: str | None = None,
    lateness: timedelta = rules.LATENESS,
    actor: Principal = LISTENER,
) -> Result:
    """Judge and apply one message (raw bytes from MQTT, or one decoded element of an HTTP
    batch) in a savepoint of the caller's transaction. Never raises for the message: what
    cannot be used is a dead letter, an unexpected failure too (and logged)."""
    received_at = received_at or utcnow()
    where = _Arrival(source, topic, received_at)
    try:
        with session.begin_nested():
            return _receive(session, raw, expected_device, lateness, actor, where)
    except IntegrityError:
        # Another listener stored the same device and seq between our check and insert.
        serial = _serial_in(raw)
        return Result(Outcome.DUPLICATE, serial, reason="stored concurrently by another receiver")
    except Exception as exc:
        log.exception("telemetry message failed")
        reason = f"{type(exc).__name__}: {exc}"[:500]
        with session.begin_nested():
            return _dead(session, Outcome.ERROR, reason, raw, where, serial=_serial_in(raw))


def _receive(
    session: Session,
    raw: bytes | object,
    expected_device: str | None,
    lateness: timedelta,
    actor: Principal,
    where: _Arrival,
) -> Result:
    topic, received_at = where.topic, where.received_at
    try:
        obj = rules.loads(raw) if isinstance(raw, bytes) else raw
        msg = rules.parse_obj(obj, received_at=received_at)
        if topic is not None and topic.rsplit("/", 1)[-1] != msg.device:
            raise BadMessage("device", f"is {msg.device!r} but the topic is {topic!r}")
        if expected_device is not None and msg.device != expected_device:
            raise BadMessage(
                "device", f"is {msg.device!r}; the token is device {expected_device!r}'s"
            )
    except BadMessage as exc:
        return _dead(session, Outcome.MALFORMED, str(exc), raw, where, serial=_serial_in(raw))
    device = session.scalar(
        select(IotDevice).where(IotDevice.serial == msg.device).with_for_update()
    )
    if device is None:
        reason = f"no device {msg.device!r} is registered"
        return _dead(session, Outcome.UNKNOWN_DEVICE, reason, raw, where, serial=msg.device)
    if device.state != "active" or (device.loan_id is None and device.waybill_id is None):
        why = "is retired" if device.state != "active" else "is bound to no pledge or shipment"
        reason = f"device {msg.device!r} {why}"
        return _dead(session, Outcome.UNBOUND, reason, raw, where, serial=msg.device)
    if msg.kind != device.kind:
        reason = f"kind: device {msg.device!r} is a {device.kind} device, not {msg.kind}"
        return _dead(session, Outcome.MALFORMED, reason, raw, where, serial=msg.device)
    if (
        msg.unit is not None
        and device.unit is not None
        and not rules.compatible(msg.unit, device.unit)
    ):
        reason = f"unit: {msg.unit!r} cannot be converted to the device's {device.unit!r}"
        return _dead(session, Outcome.MALFORMED, reason, raw, where, serial=msg.device)
    seen = session.scalar(
        select(IotReading.id).where(IotReading.device_id == device.id, IotReading.seq == msg.seq)
    )
    verdict = rules.judge(
        msg.seq,
        msg.at,
        received_at,
        seen=seen is not None,
        last_seq=device.last_seq,
        last_at=device.last_at,
        lateness=lateness,
    )
    result = Result(verdict.outcome, msg.device, msg.seq)
    if verdict.outcome is Outcome.DUPLICATE:
        return result
    reading = IotReading(
        id=new_id("reading"),
        device_id=device.id,
        seq=msg.seq,
        at=msg.at,
        received_at=received_at,
        source=where.source,
        status=verdict.outcome.value,
        value=str(msg.value) if msg.value is not None else None,
        unit=msg.unit,
        lat=str(msg.lat) if msg.lat is not None else None,
        lon=str(msg.lon) if msg.lon is not None else None,
        digest=msg.digest(),
    )
    session.add(reading)
    session.flush()  # a concurrent duplicate fails here, inside the savepoint
    result.reading_id = reading.id
    if device.last_received_at is None or received_at > device.last_received_at:
        device.last_received_at = received_at
    if verdict.moves_state:
        device.last_seq, device.last_at = msg.seq, msg.at
        device.last_value = {**msg.normalised(), "reading": reading.id}
        result.alerts = _apply(session, actor, device, msg, reading, verdict.may_alert)
    session.flush()
    return result


# ---------------------------------------------------------------------------- effects


def _apply(
    session: Session,
    actor: Principal,
    device: IotDevice,
    msg: Telemetry,
    reading: IotReading,
    may_alert: bool,
) -> list[str]:
    raised: list[str] = []
    if device.loan_id is not None and device.kind in ("weight", "rfid"):
        raised += _observe_stock(session, actor, device, msg, reading, may_alert)
    if msg.kind == "temperature" and msg.value is not None and may_alert:
        why = rules.out_of_range(msg.value, device.thresholds)
        if why is not None:
            raised += _alert(
                session,
                actor,
                device,
                "temperature_out_of_range",
                "high",
                f"device {device.serial}: {why} at {msg.at.isoformat()} (reading {reading.id})",
            )
    if msg.kind == "gps" and msg.lat is not None and msg.lon is not None and may_alert:
        km = rules.off_route(msg.lat, msg.lon, device.corridor)
        if km is not None:
            raised += _alert(
                session,
                actor,
                device,
                "shipment_off_route",
                "high",
                f"shipment {device.waybill_id} (tracker {device.serial}) is {km:.1f} km from "
                f"its route at {msg.lat}, {msg.lon} at {msg.at.isoformat()}; the corridor is "
                f"{device.corridor['max_km']} km (reading {reading.id})",
            )
    return raised


def _subject(session: Session, device: IotDevice) -> tuple[str, str, str | None]:
    """What an alert about a device is about: the loan, or the waybill, or the device."""
    if device.loan_id is not None:
        loan = session.get(Loan, device.loan_id)
        return "loan", device.loan_id, loan.borrower_id if loan is not None else None
    if device.waybill_id is not None:
        doc = session.get(TradeDocumentRow, device.waybill_id)
        return "document", device.waybill_id, doc.seller_id if doc is not None else None
    return "device", device.id, None


def _alert(
    session: Session,
    actor: Principal,
    device: IotDevice,
    kind: str,
    severity: str,
    message: str,
    *,
    subject: tuple[str, str, str | None] | None = None,
) -> list[str]:
    subject_kind, subject_id, enterprise_id = subject or _subject(session, device)
    if kind in ("temperature_out_of_range", "device_silent"):
        subject_kind, subject_id = "device", device.id  # one per device, not per loan
    row = alerts.raise_alert(
        session,
        actor,
        kind=kind,
        severity=severity,
        subject_kind=subject_kind,
        subject_id=subject_id,
        bank_id=device.bank_id,
        enterprise_id=enterprise_id,
        message=message,
        rule=f"iot.{kind}",
    )
    return [row.id] if row is not None else []


def _observe_stock(
    session: Session,
    actor: Principal,
    device: IotDevice,
    msg: Telemetry,
    reading: IotReading,
    may_alert: bool,
) -> list[str]:
    """The pledged item's quantity on hand is what the scale or counter reads; the loan's
    collateral value and loan-to-value follow it at the price source's latest price."""
    loan = session.get(Loan, device.loan_id)
    if loan is None or msg.value is None or msg.unit is None:
        return []
    items = [dict(i) for i in loan.collateral.get("items") or []]
    index = next((n for n, i in enumerate(items) if i.get("item") == device.item), None)
    if index is None:
        return []
    item = items[index]
    quantity = rules.convert(msg.value, msg.unit, item["unit"])
    if quantity is None:
        return []
    observed = {
        "device": device.serial,
        "reading": reading.id,
        "at": msg.at.isoformat(),
        "digest": reading.digest,
    }
    if Decimal(item["quantity"]) == quantity and item.get("observed") is not None:
        return []  # nothing changed: the log already holds this quantity
    item.setdefault("pledged_quantity", item["quantity"])
    item["quantity"] = str(quantity)
    item["observed"] = observed
    collateral: dict[str, Any] = {**loan.collateral, "items": items}
    loan.collateral = collateral
    config = products.config_of(session.get_one(LoanProduct, loan.product_id))
    outstanding = loan.principal_minor - loan.principal_paid_minor - loan.principal_prepaid_minor
    value = loans.collateral_value(session, loan, business_date(msg.at))
    ratio = None
    if value is not None:
        ratio = rules.ltv(outstanding, value)
        shown = f"{ratio:.4f}" if ratio.is_finite() else "Infinity"
        loan.collateral = {**collateral, "value_minor": value, "ltv": shown}
    loan.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, "loan.collateral_observed", Change("loan", row_of(loan)))
    audit.record(
        session,
        actor,
        "loan.collateral_observe",
        "loan",
        loan.id,
        {"item": device.item, "quantity": str(quantity), "reading": reading.id},
        source="iot",
    )
    threshold = config.margin_call_ltv
    if (
        may_alert
        and ratio is not None
        and value is not None
        and threshold is not None
        and outstanding > 0
        and loan.status in loans.ACTIVE
        and ratio > threshold
    ):
        worth = Money(value, loan.currency)
        shown = f"{ratio:.2%}" if ratio.is_finite() else "infinite"
        return _alert(
            session,
            actor,
            device,
            "margin_call",
            "high",
            f"loan {loan.id}: {device.item} on hand is {quantity} {item['unit']} "
            f"({device.kind} device {device.serial} at {msg.at.isoformat()}), worth {worth}; "
            f"the loan-to-value is {shown}, above the margin-call level {threshold:.0%}; "
            "top up collateral or repay",
            subject=("loan", loan.id, loan.borrower_id),
        )
    return []


def sweep_silent(session: Session, actor: Principal, *, now: datetime | None = None) -> int:
    """Raise ``device_silent`` for every bound, active device not heard from for its
    ``silent_after_minutes`` (default 60) since its last message or its binding."""
    actor.require(Scope.LOANS_WRITE)
    now = now or utcnow()
    query = select(IotDevice).where(
        IotDevice.state == "active",
        (IotDevice.loan_id.is_not(None)) | (IotDevice.waybill_id.is_not(None)),
    )
    if not actor.is_system:
        query = query.where(IotDevice.bank_id == _bank_of(actor))
    raised = 0
    for device in session.scalars(query):
        minutes = int(device.thresholds.get("silent_after_minutes", rules.DEFAULT_SILENT_MINUTES))
        since = device.last_received_at or device.updated_at
        if now - since < timedelta(minutes=minutes):
            continue
        heard = (
            f"last heard {device.last_received_at.isoformat()}"
            if device.last_received_at
            else f"never heard since it was bound at {device.updated_at.isoformat()}"
        )
        raised += len(
            _alert(
                session,
                actor,
                device,
                "device_silent",
                "medium",
                f"{device.kind} device {device.serial} is silent: {heard} (limit {minutes} min)",
            )
        )
    return raised


# ---------------------------------------------------------------------------- entry points


def authenticate_device(session: Session, token: str) -> IotDevice:
    """The active device whose HTTP token this is."""
    if not token:
        raise Unauthenticated("send the device token: X-Device-Token", code="device_token_missing")
    digest = token_hash(token)
    device = session.scalar(select(IotDevice).where(IotDevice.token_hash == digest))
    if device is None or not hmac.compare_digest(device.token_hash, digest):
        raise Unauthenticated("unknown device token", code="device_token_invalid")
    if device.state != "active":
        raise Unauthenticated(f"device {device.serial} is retired", code="device_token_invalid")
    return device


def receive_http(
    session: Session,
    token: str,
    body: bytes,
    *,
    received_at: datetime | None = None,
    lateness: timedelta = rules.LATENESS,
) -> dict[str, Any]:
    """The HTTP fallback: one message or a list of up to 500 from the device whose token
    is presented. Answers with the counters and each message's outcome."""
    device = authenticate_device(session, token)
    received_at = received_at or utcnow()
    counters = Counters()
    results: list[Result] = []
    if len(body) > MAX_BATCH_BYTES:
        raise ValidationFailed(
            [FieldError("body", f"is over {MAX_BATCH_BYTES} bytes")], code="batch_too_large"
        )
    try:
        parsed = rules.loads(body, limit=MAX_BATCH_BYTES)
    except BadMessage as exc:
        with session.begin_nested():
            where = _Arrival("http", None, received_at)
            reason = f"body: {exc}"
            results.append(
                _dead(session, Outcome.MALFORMED, reason, body, where, serial=device.serial)
            )
        parsed = []
    items = parsed if isinstance(parsed, list) else [parsed]
    if len(items) > MAX_BATCH:
        raise ValidationFailed(
            [FieldError("body", f"at most {MAX_BATCH} messages a request")], code="batch_too_large"
        )
    for item in items:
        results.append(
            receive(
                session,
                item,
                source="http",
                received_at=received_at,
                expected_device=device.serial,
                lateness=lateness,
            )
        )
    for r in results:
        counters.add(r.outcome)
    return {"counters": counters.as_dict(), "results": [r.as_dict() for r in results]}


class Processor:
    """Hands each MQTT message to :func:`receive` in its own transaction and counts what
    became of it. A message whose transaction does not commit (the database is gone, a
    serialisation failure, a failed commit; database errors are tried ``retries`` times)
    raises :class:`~chainfin.adapters.mqtt.Redeliver`, so the listener does not acknowledge
    it and the broker delivers it again; it is counted in ``not_committed``, and in the
    outcome counters only once it commits. Everything else about a message (malformed,
    unknown device, an unexpected failure judging it) is a committed dead letter."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        lateness: timedelta = rules.LATENESS,
        clock: Callable[[], datetime] = utcnow,
        retries: int = 3,
    ) -> None:
        self.factory = factory
        self.lateness = lateness
        self.clock = clock
        self.retries = retries
        self.counters = Counters()
        self.not_committed = 0

    def handle(self, topic: str, payload: bytes) -> Result:
        """Process and commit one message; returns only once its transaction has
        committed (the caller may acknowledge it then), raises ``Redeliver`` otherwise."""
        received_at = self.clock()
        failure: Exception | None = None
        attempt = 0
        while attempt < max(1, self.retries):
            attempt += 1
            try:
                with transaction(self.factory) as session:
                    result = receive(
                        session,
                        payload,
                        source="mqtt",
                        topic=topic,
                        received_at=received_at,
                        lateness=self.lateness,
                    )
            except DBAPIError as exc:  # a lost connection, a serialisation failure: again
                log.warning("telemetry commit failed (attempt %d): %s", attempt, exc)
                failure = exc
                continue
            except Exception as exc:
                log.exception("telemetry message on %s failed", topic)
                failure = exc
                break
            self.counters.add(result.outcome)
            return result
        self.not_committed += 1
        raise Redeliver(f"{type(failure).__name__} after {attempt} attempt(s)") from failure


# ---------------------------------------------------------------------------- demo


def simulation(
    session: Session, actor: Principal, scenario: str, *, now: datetime | None = None
) -> list[tuple[str, bytes]]:
    """Messages for the demo, as (device serial, payload), for the bound active devices
    visible to ``actor``: ``stock-drop`` drains every pledged stock a scale or counter
    measures to 60 %; ``route-deviation`` takes every tracked shipment off its route;
    ``all`` does both. Each sequence has a duplicate, an out-of-order, a malformed and a
    late message."""
    if scenario not in ("stock-drop", "route-deviation", "all"):
        raise ValidationFailed(
            [FieldError("scenario", "must be stock-drop, route-deviation or all")],
            code="scenario_unknown",
        )
    now = now or utcnow()
    out: list[tuple[str, bytes]] = []
    ordered = _devices_query(actor, "active").order_by(IotDevice.id)
    for device in session.scalars(ordered):
        last = device.last_seq or 0
        if scenario != "route-deviation" and device.loan_id and device.kind in ("weight", "rfid"):
            loan = session.get_one(Loan, device.loan_id)
            item = next(
                (i for i in loan.collateral.get("items", []) if i["item"] == device.item), None
            )
            if item is None:
                continue
            pledged = Decimal(item.get("pledged_quantity", item["quantity"]))
            quantity = rules.convert(pledged, item["unit"], str(device.unit))
            if quantity is None:
                continue
            messages = rules.stock_drop(
                device.serial, device.kind, str(device.unit), quantity, last_seq=last, now=now
            )
            out += [(device.serial, m) for m in messages]
        if scenario != "stock-drop" and device.waybill_id and device.kind == "gps":
            points = rules.corridor_points(device.corridor)
            messages = rules.route_deviation(
                device.serial,
                points,
                Decimal(device.corridor["max_km"]),
                last_seq=last,
                now=now,
            )
            out += [(device.serial, m) for m in messages]
    return out
