"""Data-use consent: an enterprise's grant to a bank, and the log of who read its data."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from chainfin.adapters.db.models import ConsentGrant, DataAccess
from chainfin.domain.clock import utcnow
from chainfin.resources.common import Written


def consent_state(g: ConsentGrant, now: datetime | None = None) -> str:
    """One of :data:`chainfin.services.consent.STATES`, now."""
    now = now or utcnow()
    if g.revoked_at is not None:
        return "revoked"
    if g.valid_from > now:
        return "not yet valid"
    return "expired" if g.expires_at <= now else "active"


class ConsentOut(BaseModel):
    id: str
    enterprise_id: str
    bank_id: str
    categories: list[str] = Field(examples=[["trade_documents", "invoices"]])
    purposes: list[str] = Field(examples=[["credit_assessment"]])
    valid_from: datetime
    expires_at: datetime
    state: str = Field(description="active, not yet valid, expired or revoked")
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def build(cls, g: ConsentGrant) -> Self:
        return cls(
            id=g.id,
            enterprise_id=g.enterprise_id,
            bank_id=g.bank_id,
            categories=g.categories,
            purposes=g.purposes,
            valid_from=g.valid_from,
            expires_at=g.expires_at,
            state=consent_state(g),
            revoked_at=g.revoked_at,
            created_at=g.created_at,
        )


class ConsentWrittenOut(ConsentOut, Written):
    """A grant given or revoked, with the ledger receipt."""


class AccessOut(BaseModel):
    """One read of an enterprise's data by a bank, allowed or refused, and why."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    bank_id: str
    actor: str
    category: str
    purpose: str
    resource: str
    allowed: bool
    consent_id: str | None
    reason: str
    occurred_at: datetime

    @classmethod
    def build(cls, a: DataAccess) -> Self:
        return cls.model_validate(a)
