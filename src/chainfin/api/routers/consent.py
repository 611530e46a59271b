"""Data-use consent: an enterprise grants and revokes; it sees who read its data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from chainfin.adapters.db.models import ConsentGrant
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import receipt_for
from chainfin.domain.clock import utcnow
from chainfin.resources.common import PageOut, ReceiptOut
from chainfin.services import consent

router = APIRouter(prefix="/v1/consents", tags=["consent"])


class ConsentIn(Input):
    bank_code: str
    categories: list[str] = Field(
        min_length=1,
        examples=[["trade_documents", "invoices"]],
        description="trade_documents, invoices, logistics, iot, financial_statements",
    )
    purposes: list[str] = Field(
        min_length=1, description="credit_assessment, post_loan_monitoring, financing"
    )
    expires_at: datetime
    valid_from: datetime | None = None


class ConsentOut(BaseModel):
    id: str
    enterprise_id: str
    bank_id: str
    categories: list[str]
    purposes: list[str]
    valid_from: datetime
    expires_at: datetime
    state: str
    revoked_at: datetime | None
    receipt: ReceiptOut | None = None

    @classmethod
    def build(cls, g: ConsentGrant) -> ConsentOut:
        now = utcnow()
        state = (
            "revoked"
            if g.revoked_at is not None
            else "expired"
            if g.expires_at <= now
            else "not yet valid"
            if g.valid_from > now
            else "active"
        )
        return cls(
            id=g.id,
            enterprise_id=g.enterprise_id,
            bank_id=g.bank_id,
            categories=g.categories,
            purposes=g.purposes,
            valid_from=g.valid_from,
            expires_at=g.expires_at,
            state=state,
            revoked_at=g.revoked_at,
        )


class AccessOut(BaseModel):
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


@router.post("", response_model=ConsentOut, status_code=201)
def grant(
    body: ConsentIn, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ConsentOut:
    row = consent.grant(
        session,
        principal,
        bank_code=body.bank_code,
        categories=body.categories,
        purposes=body.purposes,
        expires_at=body.expires_at,
        valid_from=body.valid_from,
    )
    out = ConsentOut.build(row)
    out.receipt = receipt_for(session, settings)
    return out


@router.get("", response_model=list[ConsentOut])
def list_grants(session: SessionDep, principal: CurrentPrincipal) -> list[ConsentOut]:
    return [ConsentOut.build(g) for g in consent.list_grants(session, principal)]


@router.post("/{consent_id}/revoke", response_model=ConsentOut)
def revoke(
    consent_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ConsentOut:
    out = ConsentOut.build(consent.revoke(session, principal, consent_id))
    out.receipt = receipt_for(session, settings)
    return out


@router.get("/access-log", response_model=PageOut[AccessOut])
def access_log(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[AccessOut]:
    page = consent.access_log(session, principal, limit=limit, cursor=cursor)
    items: list[AccessOut] = [AccessOut.model_validate(a) for a in page.items]
    return PageOut[AccessOut](items=items, next_cursor=page.next_cursor)
