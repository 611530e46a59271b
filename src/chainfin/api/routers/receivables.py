"""The receivables registry: register, release, search, export for filing."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from chainfin.adapters.db.models import ReceivableRegistration
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input, money
from chainfin.api.receipts import receipt_for
from chainfin.domain.money import Money
from chainfin.resources.common import ReceiptOut
from chainfin.services import receivables

router = APIRouter(prefix="/v1/receivables", tags=["receivables registry"])


class RegistrationIn(Input):
    invoice_document_id: str
    kind: str = Field(description="pledge or transfer")
    financing_ref: str | None = Field(None, max_length=64)
    bank: str | None = Field(
        None, description="the creditor registering its own receivable names its bank (code)"
    )


class RegistrationOut(BaseModel):
    id: str
    invoice_document_id: str | None
    invoice_number: str | None
    creditor_id: str
    debtor_id: str
    bank_id: str | None
    kind: str
    amount: str | None
    amount_band: str | None = None
    currency: str
    due_on: date | None
    registered_at: datetime
    released_at: datetime | None
    public: bool = Field(
        False, description="true: another bank's registration, only its public part shown"
    )
    receipt: ReceiptOut | None = None

    @classmethod
    def public_part(cls, r: ReceivableRegistration) -> RegistrationOut:
        """Another bank's registration: no grantee, no invoice, the amount as a band."""
        return cls(
            id=r.id,
            invoice_document_id=None,
            invoice_number=None,
            creditor_id=r.creditor_id,
            debtor_id=r.debtor_id,
            bank_id=None,
            kind=r.kind,
            amount=None,
            amount_band=receivables.amount_band(r.amount_minor, r.currency),
            currency=r.currency,
            due_on=None,
            registered_at=r.registered_at,
            released_at=r.released_at,
            public=True,
        )

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
    """Register an invoice's receivable as pledged or transferred to your bank (the seller is
    your customer and consented to ``invoices`` for ``financing``), or, as the seller, to the
    bank you name. 404 for an invoice you may not register; 409 names the existing
    registration (its id, type and date) if any bank already holds it."""
    row = receivables.register(
        session,
        principal,
        invoice_document_id=body.invoice_document_id,
        kind=body.kind,
        financing_ref=body.financing_ref,
        bank=body.bank,
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
        amount=money(amount, currency, "amount") if amount else None,
        include_released=include_released,
    )
    return [
        RegistrationOut.build(r)
        if receivables.is_full(principal, r)
        else RegistrationOut.public_part(r)
        for r in rows
    ]


@router.get("/filing", summary="Active registrations shaped for 中登网 filing")
def filing(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, object]]:
    """Your own registrations in full; other banks' only in their public part (registration
    id, type and date, grantor and debtor, the amount as a band: see docs/security.md)."""
    rows = receivables.search(session, principal)
    return receivables.filing_rows(session, rows, principal)
