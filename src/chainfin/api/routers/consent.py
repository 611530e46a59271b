"""Data-use consent: an enterprise grants and revokes; it sees who read its data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import Cursor, Limit
from chainfin.resources.common import PageOut
from chainfin.resources.consent import AccessOut, ConsentOut, ConsentWrittenOut
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


@router.post("", response_model=ConsentWrittenOut, status_code=201)
def grant(
    body: ConsentIn, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ConsentWrittenOut:
    row = consent.grant(
        session,
        principal,
        bank_code=body.bank_code,
        categories=body.categories,
        purposes=body.purposes,
        expires_at=body.expires_at,
        valid_from=body.valid_from,
    )
    out = ConsentWrittenOut.build(row)
    out.receipt = receipt_for(session, settings)
    return out


@router.get("", response_model=PageOut[ConsentOut])
def list_grants(
    session: SessionDep,
    principal: CurrentPrincipal,
    state: Literal["active", "not yet valid", "expired", "revoked"] | None = None,
    bank_id: Annotated[str | None, Query(description="enterprises: grants to this bank")] = None,
    enterprise_id: Annotated[
        str | None, Query(description="banks: grants from this enterprise")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ConsentOut]:
    """The grants an enterprise gave, or a bank holds, newest first."""
    page = consent.list_grants(
        session,
        principal,
        state=state,
        bank_id=bank_id,
        enterprise_id=enterprise_id,
        cursor=cursor,
        limit=limit,
    )
    return PageOut[ConsentOut](
        items=[ConsentOut.build(g) for g in page.items], next_cursor=page.next_cursor
    )


@router.post("/{consent_id}/revoke", response_model=ConsentWrittenOut)
def revoke(
    consent_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ConsentWrittenOut:
    out = ConsentWrittenOut.build(consent.revoke(session, principal, consent_id))
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
    items = [AccessOut.build(a) for a in page.items]
    return PageOut[AccessOut](items=items, next_cursor=page.next_cursor)
