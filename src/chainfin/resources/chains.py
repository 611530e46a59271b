"""Industrial chains: a bank's chain around its core enterprises, its tiers and members."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from chainfin.resources.common import Written
from chainfin.services.chains import ChainSummary, MemberView, tier_table


class TierCount(BaseModel):
    side: str = Field(description="upstream (suppliers) or downstream (dealers)")
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

    @classmethod
    def build(cls, s: ChainSummary) -> Self:
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


class ChainWrittenOut(ChainOut, Written):
    """A chain defined or recomputed, with the ledger receipt."""


class MemberOut(BaseModel):
    enterprise_id: str
    uscc: str
    name: str
    region_code: str
    industry_code: str
    side: str
    tier: int
    is_customer: bool | None = Field(None, description="bank principals: already our customer")

    @classmethod
    def build(cls, m: MemberView) -> Self:
        return cls(**m.__dict__)
