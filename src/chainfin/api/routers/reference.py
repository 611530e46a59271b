"""Reference data: region codes, industry codes, USCC checks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from chainfin.api.deps import CurrentPrincipal
from chainfin.api.schemas import Cursor, Limit
from chainfin.domain.errors import NotFound
from chainfin.domain.industry import (
    Industry,
    UnknownIndustry,
    divisions,
    parse_industry_code,
    sections,
)
from chainfin.domain.region import UnknownRegion, lookup
from chainfin.domain.uscc import check_uscc
from chainfin.resources.common import PageOut
from chainfin.resources.reference import IndustryOut, RegionOut, UsccCheckOut
from chainfin.services.pagination import page_of

router = APIRouter(prefix="/v1/reference", tags=["reference"])


@router.get("/regions/{code}", response_model=RegionOut)
def region(code: Annotated[str, Path(pattern=r"^\d{6}$")], _: CurrentPrincipal) -> RegionOut:
    try:
        r = lookup(code)
    except UnknownRegion as exc:
        raise NotFound(str(exc), code="region_not_found") from None
    return RegionOut.build(r)


def _matches(i: Industry, q: str) -> bool:
    q = q.strip().casefold()
    return q in i.code.casefold() or q in i.name_zh.casefold() or q in i.name_en.casefold()


@router.get("/industries", response_model=PageOut[IndustryOut])
def industries(
    _: CurrentPrincipal,
    q: Annotated[
        str | None, Query(max_length=100, description="part of a code or a name (中文 or English)")
    ] = None,
    section: Annotated[str | None, Query(pattern=r"^[A-Ta-t]$")] = None,
    level: Literal["section", "division"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[IndustryOut]:
    """GB/T 4754-2017 sections and divisions in code order (``C``, ``C13``, ... ``D``)."""
    table = [*sections(), *divisions()]
    found = [
        i
        for i in table
        if (q is None or _matches(i, q))
        and (section is None or i.section == section.upper())
        and (level is None or i.level.value == level)
    ]
    page = page_of(found, lambda i: i.code, cursor=cursor, limit=limit)
    return PageOut[IndustryOut](
        items=[IndustryOut.build(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get("/industries/{code}", response_model=IndustryOut)
def industry(code: str, _: CurrentPrincipal) -> IndustryOut:
    try:
        return IndustryOut.build(parse_industry_code(code))
    except UnknownIndustry as exc:
        raise NotFound(str(exc), code="industry_not_found") from None


@router.get("/uscc/{code}", response_model=UsccCheckOut)
def uscc(code: str, _: CurrentPrincipal) -> UsccCheckOut:
    return UsccCheckOut.build(check_uscc(code))
