"""Reference data: GB/T 2260 regions, GB/T 4754 industries and the check of a USCC."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel

from chainfin.domain.industry import Industry
from chainfin.domain.region import Region
from chainfin.domain.uscc import UsccCheck


class RegionOut(BaseModel):
    code: str
    name: str
    full_name: str
    level: str
    current: bool
    valid_from: int | None
    valid_to: int | None

    @classmethod
    def build(cls, r: Region) -> Self:
        return cls(
            code=r.code,
            name=r.name,
            full_name=r.full_name,
            level=r.level.value,
            current=r.current,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )


class IndustryOut(BaseModel):
    code: str
    section: str
    division: str | None
    name_zh: str
    name_en: str
    level: str

    @classmethod
    def build(cls, i: Industry) -> Self:
        return cls(
            code=i.code,
            section=i.section,
            division=i.division,
            name_zh=i.name_zh,
            name_en=i.name_en,
            level=i.level.value,
        )


class UsccCheckOut(BaseModel):
    code: str
    valid: bool
    reason: str
    org_code_valid: bool | None
    region_code: str | None

    @classmethod
    def build(cls, v: UsccCheck) -> Self:
        return cls(
            code=v.code,
            valid=v.valid,
            reason=v.reason,
            org_code_valid=v.org_code_valid,
            region_code=v.region_code,
        )
