"""Response and request bodies. Amounts are decimal strings ("1234.56") with a currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chainfin.adapters.db.models import Bank, Enterprise
from chainfin.api.inputs import Input
from chainfin.domain.access import Principal
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.money import Money
from chainfin.domain.region import UnknownRegion, lookup
from chainfin.resources.common import ReceiptOut
from chainfin.services.chains import ChainSummary, MemberView, tier_table
from chainfin.services.registry import RelationView, can_see_private

T = TypeVar("T")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = [i for i, c in enumerate(phone) if c.isdigit()]
    hide = set(digits[3:-4]) if len(digits) > 7 else set(digits[:-2])
    return "".join("*" if i in hide else c for i, c in enumerate(phone))


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else Money(minor, currency).to_decimal_string()


class EnterpriseOut(BaseModel):
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
    receipt: ReceiptOut | None = Field(None, description="on writes: the ledger receipt")

    @classmethod
    def build(cls, e: Enterprise, principal: Principal) -> EnterpriseOut:
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
            revenue=_money(e.revenue_minor, e.currency) if private else None,
            total_assets=_money(e.total_assets_minor, e.currency) if private else None,
            legal_representative=mask_name(e.legal_representative) if private else None,
            phone=mask_phone(e.phone) if private else None,
            address=e.address if private else None,
            created_at=e.created_at,
        )


class RelationOut(BaseModel):
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
    def build(cls, r: RelationView) -> RelationOut:
        return cls(**r.__dict__)


class TierCount(BaseModel):
    side: str
    tier: int
    members: int


class ChainOut(BaseModel):
    id: str
    name: str
    bank_id: str
    industry_code: str
    region_code: str
    max_tier: int
    core_ids: list[str]
    member_count: int
    tiers: list[TierCount]
    tiers_computed_at: datetime | None
    receipt: ReceiptOut | None = Field(None, description="on writes: the ledger receipt")

    @classmethod
    def build(cls, s: ChainSummary) -> ChainOut:
        c = s.chain
        return cls(
            id=c.id,
            name=c.name,
            bank_id=c.bank_id,
            industry_code=c.industry_code,
            region_code=c.region_code,
            max_tier=c.max_tier,
            core_ids=s.core_ids,
            member_count=s.member_count,
            tiers=[TierCount(**row) for row in tier_table(s)],
            tiers_computed_at=c.tiers_computed_at,
        )


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enterprise_id: str
    uscc: str
    name: str
    region_code: str
    industry_code: str
    side: str
    tier: int
    is_customer: bool | None = Field(None, description="bank principals: already our customer")

    @classmethod
    def build(cls, m: MemberView) -> MemberOut:
        return cls(**m.__dict__)


class ChainIn(Input):
    name: str = Field(min_length=1, max_length=200)
    core_usccs: list[str] = Field(min_length=1, max_length=20)
    industry_code: str
    region_code: str
    max_tier: int = Field(4, ge=1, le=10)


class BankOut(BaseModel):
    id: str
    code: str
    name: str
    enterprise_id: str

    @classmethod
    def build(cls, b: Bank) -> BankOut:
        return cls(id=b.id, code=b.code, name=b.name, enterprise_id=b.enterprise_id)


class ImportRowOut(BaseModel):
    row: int
    outcome: str
    id: str
    key: str


class ImportOut(BaseModel):
    kind: str
    created: int
    linked: int
    unchanged: int
    rows: list[ImportRowOut]
    receipt: ReceiptOut | None = Field(None, description="the ledger receipt for the batch")


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class MeOut(BaseModel):
    kind: str
    subject_id: str
    bank_id: str | None
    enterprise_id: str | None
    platform_id: str | None
    roles: list[str]
    scopes: list[str]


class UsccCheckOut(BaseModel):
    code: str
    valid: bool
    reason: str
    org_code_valid: bool | None
    region_code: str | None
