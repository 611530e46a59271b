"""Prices of pledged goods and the platform's named price sources (docs/lending.md).

A bank records its own prices; only platform operators create platform sources and record
their prices. A correction is a new version, never an overwrite. Every write honours an
``Idempotency-Key`` and answers with its receipt."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import BusinessDate, Input, money
from chainfin.api.receipts import write_once
from chainfin.api.schemas import Cursor, Limit
from chainfin.resources.common import PageOut
from chainfin.resources.lending import (
    CommodityPriceOut,
    CommodityPriceWrittenOut,
    PriceSourceOut,
    PriceSourceWrittenOut,
)
from chainfin.services.lending import prices
from chainfin.services.pagination import DEFAULT_LIMIT

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


@router.post(
    "/v1/commodity-prices",
    status_code=201,
    response_model=CommodityPriceWrittenOut,
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
        lambda: CommodityPriceOut.build(
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
        ).model_dump(mode="json"),
    )


@router.get(
    "/v1/commodity-prices",
    response_model=PageOut[CommodityPriceOut],
    summary="Your bank's prices, or a platform source's",
)
def list_prices(
    session: SessionDep,
    principal: CurrentPrincipal,
    item: Annotated[str | None, Query(max_length=100)] = None,
    platform_source: Annotated[str | None, Query(max_length=40)] = None,
    on_from: Annotated[BusinessDate | None, Query(description="priced on or after")] = None,
    on_to: Annotated[BusinessDate | None, Query(description="priced on or before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[CommodityPriceOut]:
    """Every version of every price, in the order recorded (a correction comes after what
    it corrects)."""
    page = prices.prices(
        session,
        principal,
        item=item,
        platform_source=platform_source,
        on_from=on_from,
        on_to=on_to,
        cursor=cursor,
        limit=limit,
    )
    return PageOut[CommodityPriceOut](
        items=[CommodityPriceOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/v1/price-sources",
    status_code=201,
    response_model=PriceSourceWrittenOut,
    summary="Create a platform price source",
)
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
        lambda: PriceSourceOut.build(
            prices.create_source(session, principal, code=body.code, name=body.name)
        ).model_dump(mode="json"),
    )


@router.get(
    "/v1/price-sources",
    response_model=PageOut[PriceSourceOut],
    summary="The platform's named price sources",
)
def list_sources(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[PriceSourceOut]:
    """Reference data: any signed-in principal reads the list of platform sources, by
    code."""
    page = prices.sources(session, cursor=cursor, limit=limit)
    return PageOut[PriceSourceOut](
        items=[PriceSourceOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )
