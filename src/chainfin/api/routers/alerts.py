"""Alerts: list them, acknowledge, resolve with a note, escalate the unacknowledged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import write_once as _write
from chainfin.services import alerts, early_warning

router = APIRouter(tags=["alerts"])


class NoteIn(Input):
    note: str = ""


class ScanIn(Input):
    as_of: date


class EscalateIn(Input):
    now: datetime | None = None


@router.get("/v1/alerts", summary="Alerts for your bank or enterprise")
def list_alerts(
    session: SessionDep, principal: CurrentPrincipal, state: str = "open"
) -> list[dict[str, Any]]:
    return [alerts.alert_out(a) for a in alerts.alerts(session, principal, state=state)]


@router.post("/v1/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: str,
    body: NoteIn,
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
        lambda: alerts.alert_out(alerts.acknowledge(session, principal, alert_id, note=body.note)),
    )


@router.post("/v1/alerts/{alert_id}/resolve")
def resolve(
    alert_id: str,
    body: NoteIn,
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
        lambda: alerts.alert_out(alerts.resolve(session, principal, alert_id, note=body.note)),
    )


@router.post("/v1/alerts/escalate", summary="Escalate alerts left unacknowledged")
def escalate(
    body: EscalateIn,
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
        lambda: {"escalated": alerts.escalate(session, principal, now=body.now)},
    )


@router.post("/v1/early-warning/scan", summary="Early warning: full rescan of your borrowers")
def warn_scan(
    body: ScanIn,
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
        lambda: early_warning.scan(session, principal, as_of=body.as_of).to_dict(),
    )
