"""The bank's model registry: train and register, list, promote, score with the champion
(and the challenger), monitor stability and read its history."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import write_once as _write
from chainfin.domain import clock
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
    "/v1/risk/models", status_code=201, summary="Train a scorecard on rows and register it"
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
        lambda: models.model_out(
            models.train_and_register(
                session, principal, body.name, body.rows, target=body.target, bad=body.bad,
                options=options,
            ),
            card=True,
        ),
    )  # fmt: skip


@router.get("/v1/risk/models", summary="Your bank's registered models")
def list_models(
    session: SessionDep, principal: CurrentPrincipal, name: str | None = None
) -> list[dict[str, Any]]:
    return [models.model_out(m) for m in models.models(session, principal, name=name)]


@router.get("/v1/risk/models/{model_id}", summary="A registered model with its card")
def get_model(model_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return models.model_out(models.get(session, principal, model_id), card=True)


@router.post("/v1/risk/models/{model_id}/promote", summary="Make a version the champion")
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
        lambda: models.model_out(models.promote(session, principal, model_id)),
    )


@router.post("/v1/risk/models/{name}/score", summary="Score rows with the champion")
def score(
    name: str, body: ScoreIn, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return models.score(session, principal, name, body.rows, compare=body.compare)


@router.post(
    "/v1/risk/models/{model_id}/monitoring",
    status_code=201,
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
        lambda: models.monitoring_out(
            models.monitor(session, principal, model_id, body.rows, as_of=as_of)
        ),
    )


@router.get("/v1/risk/models/{model_id}/monitoring", summary="A model's stability over time")
def history(
    model_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    return [models.monitoring_out(m) for m in models.history(session, principal, model_id)]
