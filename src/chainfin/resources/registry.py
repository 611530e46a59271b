"""The registry's resources: enterprises (public profile, private details for those entitled
to them), supply relations, banks, and the report of an import."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import Bank, Enterprise
from chainfin.domain.access import Principal
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.region import UnknownRegion, lookup
from chainfin.resources.common import Written, amount
from chainfin.services.registry import ImportReport, RelationView, can_see_private


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``: enough to recognise, not enough to call."""
    if not phone:
        return phone
    digits = [i for i, c in enumerate(phone) if c.isdigit()]
    hide = set(digits[3:-4]) if len(digits) > 7 else set(digits[:-2])
    return "".join("*" if i in hide else c for i, c in enumerate(phone))


def mask_name(name: str | None) -> str | None:
    """A person's name with all but the first character hidden."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


class EnterpriseOut(BaseModel):
    """An enterprise: its public profile, and for itself, its banks, its platforms and the
    operator also its headcount, financials and (masked) contacts."""

    id: str
    uscc: str
    name: str
    region_code: str
    region_name: str | None
    industry_code: str
    industry_name: str | None
    size_class: str | None
    roles: list[str]
    employees: int | None = None
    currency: str
    revenue: str | None = Field(None, examples=["125000000.00"])
    total_assets: str | None = None
    legal_representative: str | None = Field(None, description="masked")
    phone: str | None = Field(None, description="masked")
    address: str | None = None
    created_at: datetime

    @classmethod
    def build(cls, e: Enterprise, principal: Principal) -> Self:
        try:
            region_name: str | None = lookup(e.region_code).full_name
        except UnknownRegion:
            region_name = None
        try:
            industry_name: str | None = parse_industry_code(e.industry_code).name_zh
        except UnknownIndustry:
            industry_name = None
        private = can_see_private(principal, e)
        return cls(
            id=e.id,
            uscc=e.uscc,
            name=e.name,
            region_code=e.region_code,
            region_name=region_name,
            industry_code=e.industry_code,
            industry_name=industry_name,
            size_class=e.size_class,
            roles=list(e.roles),
            employees=e.employees if private else None,
            currency=e.currency,
            revenue=amount(e.revenue_minor, e.currency) if private else None,
            total_assets=amount(e.total_assets_minor, e.currency) if private else None,
            legal_representative=mask_name(e.legal_representative) if private else None,
            phone=mask_phone(e.phone) if private else None,
            address=e.address if private else None,
            created_at=e.created_at,
        )


class EnterpriseWrittenOut(EnterpriseOut, Written):
    """An enterprise registered (201) or linked (200), with the ledger receipt."""


class RelationOut(BaseModel):
    """A supply relation: the seller supplies the buyer with a category of products."""

    id: str
    buyer_id: str
    buyer_uscc: str
    buyer_name: str
    seller_id: str
    seller_uscc: str
    seller_name: str
    product_category: str
    since: date

    @classmethod
    def build(cls, r: RelationView) -> Self:
        return cls(**r.__dict__)


class BankOut(BaseModel):
    id: str
    code: str
    name: str
    enterprise_id: str

    @classmethod
    def build(cls, b: Bank) -> Self:
        return cls(id=b.id, code=b.code, name=b.name, enterprise_id=b.enterprise_id)


class ImportRowOut(BaseModel):
    row: int = Field(description="the row as a person counts it (CSV: the header is row 1)")
    outcome: str = Field(description="created, linked or unchanged")
    id: str
    key: str


class ImportOut(Written):
    """What an all-or-nothing import did, row by row, with the ledger receipt of the batch."""

    kind: str
    created: int
    linked: int
    unchanged: int
    rows: list[ImportRowOut]

    @classmethod
    def build(cls, report: ImportReport) -> Self:
        return cls.model_validate(report.as_dict())
