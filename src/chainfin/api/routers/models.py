"""The bank's model registry: train and register, list, promote, score with the champion
(and the challenger), monitor stability and read its history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import write_once as _write
from chainfin.api.schemas import Cursor, Limit, SinceDay, UntilDay
from chainfin.domain import clock
from chainfin.resources.common import PageOut
from chainfin.resources.risk import (
    ModelScoreOut,
    MonitoringOut,
    MonitoringWrittenOut,
    RiskModelCardOut,
    RiskModelOut,
    RiskModelWrittenOut,
)
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import models

router = APIRouter(tags=["risk models"])

Rows = list[dict[str, Any]]


class RegisterIn(Input):
    name: str
    target: str
    bad: str | None = None
    rows: Rows = Field(min_length=1)
    categorical: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    id_column: str | None = None
    seed: int = Field(42, ge=0, le=2**32 - 1)


class ScoreIn(Input):
    rows: Rows = Field(min_length=1)
    compare: bool = False


class MonitorIn(Input):
    rows: Rows = Field(min_length=1)
    as_of: date | None = None


@router.post(
    "/v1/risk/models",
    status_code=201,
    response_model=RiskModelWrittenOut,
    summary="Train a scorecard on rows and register it",
)
def register(
    body: RegisterIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    options = TrainOptions(
        categorical=tuple(body.categorical),
        exclude=tuple(body.exclude),
        id_column=body.id_column,
        seed=body.seed,
    )
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: RiskModelCardOut.build(
            models.train_and_register(
                session, principal, body.name, body.rows, target=body.target, bad=body.bad,
                options=options,
            )
        ).model_dump(mode="json"),
    )  # fmt: skip


@router.get(
    "/v1/risk/models",
    response_model=PageOut[RiskModelOut],
    summary="Your bank's registered models",
)
def list_models(
    session: SessionDep,
    principal: CurrentPrincipal,
    name: Annotated[str | None, Query(max_length=80)] = None,
    status: Literal["challenger", "champion", "retired"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[RiskModelOut]:
    """Every version, in the order registered."""
    page = models.models(session, principal, name=name, status=status, cursor=cursor, limit=limit)
    return PageOut[RiskModelOut](
        items=[RiskModelOut.build(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/risk/models/{model_id}",
    response_model=RiskModelCardOut,
    summary="A registered model with its card",
)
def get_model(model_id: str, session: SessionDep, principal: CurrentPrincipal) -> RiskModelCardOut:
    return RiskModelCardOut.build(models.get(session, principal, model_id))


@router.post(
    "/v1/risk/models/{model_id}/promote",
    response_model=RiskModelWrittenOut,
    summary="Make a version the champion",
)
def promote(
    model_id: str,
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
        None,
        200,
        lambda: RiskModelCardOut.build(models.promote(session, principal, model_id)).model_dump(
            mode="json"
        ),
    )


@router.post(
    "/v1/risk/models/{name}/score",
    response_model=ModelScoreOut,
    summary="Score rows with the champion",
)
def score(
    name: str, body: ScoreIn, session: SessionDep, principal: CurrentPrincipal
) -> ModelScoreOut:
    return ModelScoreOut.build(
        models.score(session, principal, name, body.rows, compare=body.compare)
    )


@router.post(
    "/v1/risk/models/{model_id}/monitoring",
    status_code=201,
    response_model=MonitoringWrittenOut,
    summary="Check a population's stability",
)
def monitor(
    model_id: str,
    body: MonitorIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    as_of = body.as_of or clock.today()
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: MonitoringOut.build(
            models.monitor(session, principal, model_id, body.rows, as_of=as_of)
        ).model_dump(mode="json"),
    )


@router.get(
    "/v1/risk/models/{model_id}/monitoring",
    response_model=PageOut[MonitoringOut],
    summary="A model's stability over time",
)
def history(
    model_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: SinceDay = None,
    until: UntilDay = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[MonitoringOut]:
    """The checks in the order recorded; ``since``/``until``: their as-of dates."""
    page = models.history(
        session, principal, model_id, since=since, until=until, cursor=cursor, limit=limit
    )
    return PageOut[MonitoringOut](
        items=[MonitoringOut.build(m) for m in page.items], next_cursor=page.next_cursor
    )
