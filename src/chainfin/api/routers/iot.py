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
from chainfin.domain.access import Principal, PrincipalKind
from chainfin.services import iot

router = APIRouter(tags=["iot"])


class _In(Input):
    pass


Limit = Annotated[int, Query(ge=1, le=1000)]


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
        return {**iot.device_out(device), "token": token}

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/iot/devices", summary="Your bank's devices")
def list_devices(
    session: SessionDep, principal: CurrentPrincipal, state: str | None = None
) -> list[dict[str, Any]]:
    return [iot.device_out(d) for d in iot.devices(session, principal, state=state)]


@router.get("/v1/iot/devices/{ref}", summary="A device by id or serial")
def get_device(ref: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return iot.device_out(iot.device_for(session, principal, ref))


@router.post("/v1/iot/devices/{ref}/bind", summary="Bind to a pledge or a shipment")
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
        return iot.device_out(device)

    return _write(request, session, settings, principal, body, 200, produce)


@router.post("/v1/iot/devices/{ref}/retire")
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
        lambda: iot.device_out(iot.retire(session, principal, ref, reason=body.reason)),
    )


@router.get("/v1/iot/devices/{ref}/readings", summary="A device's readings, latest first")
def list_readings(
    ref: str, session: SessionDep, principal: CurrentPrincipal, limit: Limit = 100
) -> list[dict[str, Any]]:
    return [iot.reading_out(r) for r in iot.readings(session, principal, ref, limit=limit)]


@router.get("/v1/iot/dead-letters", summary="Telemetry that could not be used, and why")
def list_dead_letters(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 100
) -> list[dict[str, Any]]:
    return [iot.dead_letter_out(r) for r in iot.dead_letters(session, principal, limit=limit)]


@router.post(
    "/v1/iot/telemetry",
    summary="HTTP fallback: one telemetry message or a list, with the device's token",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": ["object", "array"]}}},
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
        lambda: iot.receive_http(session, x_device_token, raw),
    )
