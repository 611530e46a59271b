"""IoT: a bank's devices (register, bind to a pledge or a shipment, retire, list), their
readings and dead letters, and the HTTP fallback for telemetry (a device posts with its
own token when MQTT is out of reach)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import write_once as _write
from chainfin.api.schemas import Cursor, Limit, Since, TelemetryIn, Until, schema_ref
from chainfin.domain.access import Principal, PrincipalKind
from chainfin.resources.common import PageOut
from chainfin.resources.iot import (
    DeadLetterOut,
    DeviceOut,
    DeviceRegisteredOut,
    DeviceWrittenOut,
    ReadingOut,
    TelemetryOut,
)
from chainfin.services import iot

router = APIRouter(tags=["iot"])


class _In(Input):
    pass


# A latitude or longitude in degrees: a finite decimal (no NaN, no infinity).
Coordinate = Annotated[Decimal, Field(allow_inf_nan=False, ge=-180, le=180)]


class DeviceIn(_In):
    serial: str = Field(description="the vendor's serial; what messages and topics name")
    kind: Literal["weight", "rfid", "gps", "temperature"]
    unit: str | None = Field(None, description="weight: g, kg or t; rfid: pcs (default)")
    thresholds: dict[str, Any] = Field(
        default_factory=dict,
        description="min_celsius, max_celsius (decimal strings), silent_after_minutes",
    )


class BindIn(_In):
    loan_id: str | None = Field(None, description="a pledge: the loan …")
    item: str | None = Field(None, description="… and which of its pledged items")
    waybill_id: str | None = Field(None, description="a shipment: the waybill document …")
    waypoints: list[tuple[Coordinate, Coordinate]] | None = Field(
        None, description="… its route as [lat, lon] points …"
    )
    max_km: Decimal | None = Field(
        None, allow_inf_nan=False, ge=0, description="… and how far from it it may stray"
    )


class RetireIn(_In):
    reason: str = ""


@router.post(
    "/v1/iot/devices",
    status_code=201,
    response_model=DeviceRegisteredOut,
    summary="Register a device (its HTTP token is shown once)",
)
def register(
    body: DeviceIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        device, token = iot.register(
            session,
            principal,
            serial=body.serial,
            kind=body.kind,
            unit=body.unit,
            thresholds=body.thresholds,
        )
        return {**DeviceOut.build(device).model_dump(mode="json"), "token": token}

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/iot/devices", response_model=PageOut[DeviceOut], summary="Your bank's devices")
def list_devices(
    session: SessionDep,
    principal: CurrentPrincipal,
    state: Literal["active", "retired"] | None = None,
    kind: Literal["weight", "rfid", "gps", "temperature"] | None = None,
    loan_id: Annotated[str | None, Query(description="bound to this loan's pledge")] = None,
    waybill_id: Annotated[str | None, Query(description="following this shipment")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[DeviceOut]:
    """In the order they were registered."""
    page = iot.devices(
        session,
        principal,
        state=state,
        kind=kind,
        loan_id=loan_id,
        waybill_id=waybill_id,
        cursor=cursor,
        limit=limit,
    )
    return PageOut[DeviceOut](
        items=[DeviceOut.build(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/iot/devices/{ref}", response_model=DeviceOut, summary="A device by id or serial")
def get_device(ref: str, session: SessionDep, principal: CurrentPrincipal) -> DeviceOut:
    return DeviceOut.build(iot.device_for(session, principal, ref))


@router.post(
    "/v1/iot/devices/{ref}/bind",
    response_model=DeviceWrittenOut,
    summary="Bind to a pledge or a shipment",
)
def bind(
    ref: str,
    body: BindIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        if body.waybill_id is not None:
            device = iot.bind_shipment(
                session,
                principal,
                ref,
                waybill_id=body.waybill_id,
                waypoints=[list(p) for p in body.waypoints or []],
                max_km=body.max_km,
            )
        else:
            device = iot.bind_pledge(
                session, principal, ref, loan_id=body.loan_id or "", item=body.item or ""
            )
        return DeviceOut.build(device).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 200, produce)


@router.post("/v1/iot/devices/{ref}/retire", response_model=DeviceWrittenOut)
def retire(
    ref: str,
    body: RetireIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: DeviceOut.build(iot.retire(session, principal, ref, reason=body.reason)).model_dump(
            mode="json"
        ),
    )


@router.get(
    "/v1/iot/devices/{ref}/readings",
    response_model=PageOut[ReadingOut],
    summary="A device's readings, the latest received first",
)
def list_readings(
    ref: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ReadingOut]:
    """``since``/``until``: when measured."""
    page = iot.readings(
        session, principal, ref, since=since, until=until, cursor=cursor, limit=limit
    )
    return PageOut[ReadingOut](
        items=[ReadingOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/iot/dead-letters",
    response_model=PageOut[DeadLetterOut],
    summary="Telemetry that could not be used, and why; the latest first",
)
def list_dead_letters(
    session: SessionDep,
    principal: CurrentPrincipal,
    reason_code: Literal["malformed", "unknown_device", "unbound", "error"] | None = None,
    device: Annotated[str | None, Query(max_length=64, description="a device serial")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[DeadLetterOut]:
    """``since``/``until``: when received."""
    page = iot.dead_letters(
        session,
        principal,
        reason_code=reason_code,
        device=device,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return PageOut[DeadLetterOut](
        items=[DeadLetterOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/v1/iot/telemetry",
    summary="HTTP fallback: one telemetry message or a list, with the device's token",
    response_model=TelemetryOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(TelemetryIn)}},
        }
    },
)
async def telemetry(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    x_device_token: Annotated[str, Header(description="the device's token")] = "",
) -> JSONResponse:
    """Messages as over MQTT (``device``, ``seq``, ``at``, ``kind`` and the reading), all
    from the device the token belongs to. Answers with counters and each outcome; a bad
    message is counted and dead-lettered, never an error for the others."""
    raw = await request.body()
    device = iot.authenticate_device(session, x_device_token)
    principal = Principal(PrincipalKind.CLIENT, device.id, bank_id=device.bank_id)
    return _write(
        request,
        session,
        settings,
        principal,
        raw,
        200,
        lambda: TelemetryOut.model_validate(
            iot.receive_http(session, x_device_token, raw)
        ).model_dump(mode="json", exclude={"receipt"}),
    )
