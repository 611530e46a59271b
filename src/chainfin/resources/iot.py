"""IoT: a bank's devices and what they are bound to, their readings, the telemetry that
could not be used (dead letters), and what became of each message a device posted."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import IotDeadLetter, IotDevice, IotReading
from chainfin.domain.iot import Outcome
from chainfin.domain.states import DeviceState
from chainfin.resources.common import Written

if TYPE_CHECKING:
    from chainfin.services.iot import Result


class PledgeBindingOut(BaseModel):
    """Measures one item of a loan's pledged goods."""

    kind: Literal["pledge"] = "pledge"
    loan_id: str
    item: str


class ShipmentBindingOut(BaseModel):
    """Follows a shipment (a waybill) that must stay within ``max_km`` of its route."""

    kind: Literal["shipment"] = "shipment"
    waybill_id: str
    waypoints: list[tuple[str, str]] = Field(description="the route as [lat, lon] points")
    max_km: str = Field(examples=["5"])


BindingOut = Annotated[PledgeBindingOut | ShipmentBindingOut, Field(discriminator="kind")]


class ThresholdsOut(BaseModel):
    min_celsius: str | None = Field(None, examples=["2"])
    max_celsius: str | None = Field(None, examples=["8"])
    silent_after_minutes: int | None = Field(None, description="default 60")


class DeviceOut(BaseModel):
    id: str
    serial: str = Field(description="the vendor's serial; what messages and topics name")
    kind: str = Field(description="weight, rfid, gps or temperature")
    bank_id: str
    unit: str | None
    state: DeviceState = Field(description="active or retired")
    binding: BindingOut | None = Field(description="null: bound to nothing yet")
    thresholds: ThresholdsOut
    last_seq: int | None
    last_at: datetime | None = Field(description="when the current reading was measured")
    last_received_at: datetime | None
    current: dict[str, Any] | None = Field(description="the current reading, normalised")
    created_at: datetime

    @classmethod
    def build(cls, device: IotDevice) -> Self:
        binding: PledgeBindingOut | ShipmentBindingOut | None = None
        if device.loan_id is not None:
            binding = PledgeBindingOut(loan_id=device.loan_id, item=device.item or "")
        elif device.waybill_id is not None:
            binding = ShipmentBindingOut(
                waybill_id=device.waybill_id,
                waypoints=[(str(a), str(b)) for a, b in device.corridor.get("waypoints", [])],
                max_km=str(device.corridor.get("max_km")),
            )
        return cls(
            id=device.id,
            serial=device.serial,
            kind=device.kind,
            bank_id=device.bank_id,
            unit=device.unit,
            state=device.state,
            binding=binding,
            thresholds=ThresholdsOut(**device.thresholds),
            last_seq=device.last_seq,
            last_at=device.last_at,
            last_received_at=device.last_received_at,
            current=device.last_value,
            created_at=device.created_at,
        )


class DeviceWrittenOut(DeviceOut, Written):
    """A device bound or retired, with the ledger receipt."""


class DeviceRegisteredOut(DeviceWrittenOut):
    token: str = Field(description="the device's HTTP token: shown this once, stored hashed")


class ReadingOut(BaseModel):
    id: str
    seq: int
    at: datetime = Field(description="when the device measured it")
    received_at: datetime
    source: str = Field(description="mqtt or http")
    status: str = Field(description="applied, out_of_order or late")
    value: str | None = Field(description="decimal string, in unit")
    unit: str | None
    lat: str | None
    lon: str | None
    digest: str = Field(description="SHA-256 of the normalised message")

    @classmethod
    def build(cls, row: IotReading) -> Self:
        return cls(
            id=row.id,
            seq=row.seq,
            at=row.at,
            received_at=row.received_at,
            source=row.source,
            status=row.status,
            value=row.value,
            unit=row.unit,
            lat=row.lat,
            lon=row.lon,
            digest=row.digest,
        )


class DeadLetterOut(BaseModel):
    id: str
    received_at: datetime
    source: str
    topic: str | None
    device: str | None = Field(description="the serial the message named, if any")
    reason_code: str = Field(description="malformed, unknown_device, unbound or error")
    reason: str
    payload: str = Field(description="the message as received (cut at 4096 characters)")

    @classmethod
    def build(cls, row: IotDeadLetter) -> Self:
        return cls(
            id=row.id,
            received_at=row.received_at,
            source=row.source,
            topic=row.topic,
            device=row.device_serial,
            reason_code=row.reason_code,
            reason=row.reason,
            payload=row.payload,
        )


class MessageOutcomeOut(BaseModel):
    outcome: Outcome
    device: str | None
    seq: int | None
    reading_id: str | None
    reason: str | None
    alerts: list[str] = Field(description="ids of the alerts this message raised")

    @classmethod
    def build(cls, r: Result) -> Self:
        return cls.model_validate(r.as_dict())


class TelemetryOut(Written):
    """What became of each message: counted, stored or dead-lettered — never an error for
    the others."""

    counters: dict[str, int] = Field(description="received, and how many had each outcome")
    results: list[MessageOutcomeOut]
