"""Prices of pledged goods and the platform's named price sources (docs/lending.md).

A bank records its own prices; only platform operators create platform sources and record
their prices. A correction is a new version, never an overwrite. Every write honours an
``Idempotency-Key`` and answers with its receipt."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.adapters.db.models import PriceSource
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input, money
from chainfin.api.receipts import write_once
from chainfin.services.lending import prices

router = APIRouter(tags=["lending"])


class PriceIn(Input):
    item: str = Field(max_length=100)
    on: date
    price: str
    currency: str = "CNY"
    unit: str = Field(max_length=20)
    source: str = Field("manual", max_length=100, description="where the price comes from")
    platform_source: str | None = Field(
        None, description="a platform price source's code (platform operators only)"
    )
    note: str | None = Field(None, max_length=200, description="why, for a correction")


class SourceIn(Input):
    code: str = Field(max_length=40, description="e.g. SHFE")
    name: str = Field(max_length=200)


def _source_out(row: PriceSource) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "created_at": row.created_at}


@router.post(
    "/v1/commodity-prices",
    status_code=201,
    summary="Record a price for pledged goods (a correction is a new version)",
)
def set_price(
    body: PriceIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Your bank's own price, or, for platform operators, a platform source's
    (``platform_source``). The same price again returns it; a different price for the same
    item and day is recorded as the next version."""
    return write_once(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: prices.price_out(
            prices.set_price(
                session,
                principal,
                item=body.item,
                on=body.on,
                price=money(body.price, body.currency, "price"),
                unit=body.unit,
                source=body.source,
                platform_source=body.platform_source,
                note=body.note,
            )
        ),
    )


@router.get("/v1/commodity-prices", summary="Your bank's prices, or a platform source's")
def list_prices(
    session: SessionDep,
    principal: CurrentPrincipal,
    item: str | None = None,
    platform_source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    rows = prices.prices(
        session, principal, item=item, platform_source=platform_source, limit=limit
    )
    return [prices.price_out(r) for r in rows]


@router.post("/v1/price-sources", status_code=201, summary="Create a platform price source")
def create_source(
    body: SourceIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Platform operators only."""
    return write_once(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: _source_out(
            prices.create_source(session, principal, code=body.code, name=body.name)
        ),
    )


@router.get("/v1/price-sources", summary="The platform's named price sources")
def list_sources(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Reference data: any signed-in principal reads the list of platform sources."""
    return [_source_out(r) for r in prices.sources(session)]
