"""The receivables registry: register, release, search, export for filing."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from chainfin.adapters.db.models import ReceivableRegistration
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.receipts import ReceiptOut, receipt_for
from chainfin.domain.money import Money
from chainfin.services import receivables

router = APIRouter(prefix="/v1/receivables", tags=["receivables registry"])


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_document_id: str
    kind: str = Field(description="pledge or transfer")
    financing_ref: str | None = Field(None, max_length=64)


class RegistrationOut(BaseModel):
    id: str
    invoice_document_id: str | None
    invoice_number: str | None
    creditor_id: str
    debtor_id: str
    bank_id: str
    kind: str
    amount: str
    currency: str
    due_on: date | None
    registered_at: datetime
    released_at: datetime | None
    receipt: ReceiptOut | None = None

    @classmethod
    def build(cls, r: ReceivableRegistration) -> RegistrationOut:
        return cls(
            id=r.id,
            invoice_document_id=r.invoice_document_id,
            invoice_number=r.invoice_number,
            creditor_id=r.creditor_id,
            debtor_id=r.debtor_id,
            bank_id=r.bank_id,
            kind=r.kind,
            amount=Money(r.amount_minor, r.currency).to_decimal_string(),
            currency=r.currency,
            due_on=r.due_on,
            registered_at=r.registered_at,
            released_at=r.released_at,
        )


@router.post("", response_model=RegistrationOut, status_code=201)
def register(
    body: RegistrationIn, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RegistrationOut:
    """Register an invoice's receivable as pledged or transferred to your bank. 409 names the
    existing registration if any bank already holds it."""
    row = receivables.register(
        session,
        principal,
        invoice_document_id=body.invoice_document_id,
        kind=body.kind,
        financing_ref=body.financing_ref,
    )
    out = RegistrationOut.build(row)
    out.receipt = receipt_for(session, settings)
    return out


@router.post("/{registration_id}/release", response_model=RegistrationOut)
def release(
    registration_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RegistrationOut:
    out = RegistrationOut.build(receivables.release(session, principal, registration_id))
    out.receipt = receipt_for(session, settings)
    return out


@router.get("", response_model=list[RegistrationOut])
def search(
    session: SessionDep,
    principal: CurrentPrincipal,
    debtor_uscc: str | None = None,
    creditor_uscc: str | None = None,
    invoice_number: str | None = None,
    amount: str | None = None,
    currency: str = "CNY",
    include_released: bool = False,
) -> list[RegistrationOut]:
    rows = receivables.search(
        session,
        principal,
        debtor_uscc=debtor_uscc,
        creditor_uscc=creditor_uscc,
        invoice_number=invoice_number,
        amount=Money.parse(amount, currency) if amount else None,
        include_released=include_released,
    )
    return [RegistrationOut.build(r) for r in rows]


@router.get("/filing", summary="Active registrations shaped for 中登网 filing")
def filing(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, object]]:
    rows = receivables.search(session, principal)
    return receivables.filing_rows(session, rows)
