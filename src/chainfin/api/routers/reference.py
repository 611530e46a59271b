"""Reference data: region codes, industry codes, USCC checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from chainfin.api.deps import CurrentPrincipal
from chainfin.api.schemas import UsccCheckOut
from chainfin.domain.errors import NotFound
from chainfin.domain.industry import UnknownIndustry, divisions, parse_industry_code, sections
from chainfin.domain.region import UnknownRegion, lookup
from chainfin.domain.uscc import check_uscc

router = APIRouter(prefix="/v1/reference", tags=["reference"])


class RegionOut(BaseModel):
    code: str
    name: str
    full_name: str
    level: str
    current: bool
    valid_from: int | None
    valid_to: int | None


class IndustryOut(BaseModel):
    code: str
    section: str
    division: str | None
    name_zh: str
    name_en: str
    level: str


@router.get("/regions/{code}", response_model=RegionOut)
def region(code: Annotated[str, Path(pattern=r"^\d{6}$")], _: CurrentPrincipal) -> RegionOut:
    try:
        r = lookup(code)
    except UnknownRegion as exc:
        raise NotFound(str(exc)) from None
    return RegionOut(
        code=r.code,
        name=r.name,
        full_name=r.full_name,
        level=r.level.value,
        current=r.current,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
    )


def _industry_out(code: str) -> IndustryOut:
    i = parse_industry_code(code)
    return IndustryOut(
        code=i.code,
        section=i.section,
        division=i.division,
        name_zh=i.name_zh,
        name_en=i.name_en,
        level=i.level.value,
    )


@router.get("/industries", response_model=list[IndustryOut])
def industries(_: CurrentPrincipal) -> list[IndustryOut]:
    return [_industry_out(i.code) for i in [*sections(), *divisions()]]


@router.get("/industries/{code}", response_model=IndustryOut)
def industry(code: str, _: CurrentPrincipal) -> IndustryOut:
    try:
        return _industry_out(code)
    except UnknownIndustry as exc:
        raise NotFound(str(exc)) from None


@router.get("/uscc/{code}", response_model=UsccCheckOut)
def uscc(code: str, _: CurrentPrincipal) -> UsccCheckOut:
    v = check_uscc(code)
    return UsccCheckOut(
        code=v.code,
        valid=v.valid,
        reason=v.reason,
        org_code_valid=v.org_code_valid,
        region_code=v.region_code,
    )
