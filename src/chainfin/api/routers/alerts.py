"""Alerts: list them, acknowledge, resolve with a note, escalate the unacknowledged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import write_once as _write
from chainfin.api.schemas import Cursor, Limit, Since, Until
from chainfin.resources.alerts import AlertOut, AlertWrittenOut, EscalatedOut, ScanOut
from chainfin.resources.common import PageOut
from chainfin.services import alerts, early_warning

router = APIRouter(tags=["alerts"])


class AlertNoteIn(Input):
    note: str = ""


class ScanIn(Input):
    as_of: date


class EscalateIn(Input):
    now: datetime | None = None


@router.get(
    "/v1/alerts", response_model=PageOut[AlertOut], summary="Alerts for your bank or enterprise"
)
def list_alerts(
    session: SessionDep,
    principal: CurrentPrincipal,
    state: Literal["open", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "low", "medium", "high", "critical"] | None = None,
    kind: Annotated[str | None, Query(max_length=40, description="e.g. margin_call")] = None,
    enterprise_id: Annotated[str | None, Query(description="alerts about this enterprise")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[AlertOut]:
    """Newest first; every filter narrows the list (no ``state``: all states).
    ``since``/``until``: when raised."""
    f = alerts.AlertFilter(
        state=state,
        severity=severity,
        kind=kind,
        enterprise_id=enterprise_id,
        since=since,
        until=until,
    )
    page = alerts.alerts(session, principal, f, cursor=cursor, limit=limit)
    return PageOut[AlertOut](
        items=[AlertOut.build(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.post("/v1/alerts/{alert_id}/acknowledge", response_model=AlertWrittenOut)
def acknowledge(
    alert_id: str,
    body: AlertNoteIn,
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
        lambda: AlertOut.build(
            alerts.acknowledge(session, principal, alert_id, note=body.note)
        ).model_dump(mode="json"),
    )


@router.post("/v1/alerts/{alert_id}/resolve", response_model=AlertWrittenOut)
def resolve(
    alert_id: str,
    body: AlertNoteIn,
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
        lambda: AlertOut.build(
            alerts.resolve(session, principal, alert_id, note=body.note)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/alerts/escalate",
    response_model=EscalatedOut,
    summary="Escalate alerts left unacknowledged",
)
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


@router.post(
    "/v1/early-warning/scan",
    response_model=ScanOut,
    summary="Early warning: full rescan of your borrowers",
)
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
        lambda: ScanOut.build(early_warning.scan(session, principal, as_of=body.as_of)).model_dump(
            mode="json", exclude={"receipt"}
        ),
    )
