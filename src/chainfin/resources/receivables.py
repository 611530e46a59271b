"""The receivables registry: a registration (in full, or only its public part for another
bank's), and a registration as a 中登网 filing row."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import ReceivableRegistration
from chainfin.domain.access import Principal
from chainfin.resources.common import Written, amount
from chainfin.services.receivables import FilingRow, amount_band, is_full


class RegistrationOut(BaseModel):
    id: str
    invoice_document_id: str | None
    invoice_number: str | None
    creditor_id: str
    debtor_id: str
    bank_id: str | None
    kind: str = Field(description="pledge or transfer")
    amount: str | None = Field(examples=["1130.00"])
    amount_band: str | None = Field(None, examples=["1000000-10000000"])
    currency: str
    due_on: date | None
    registered_at: datetime
    released_at: datetime | None
    public: bool = Field(
        False, description="true: another bank's registration, only its public part shown"
    )

    @classmethod
    def build(cls, r: ReceivableRegistration) -> Self:
        return cls(
            id=r.id,
            invoice_document_id=r.invoice_document_id,
            invoice_number=r.invoice_number,
            creditor_id=r.creditor_id,
            debtor_id=r.debtor_id,
            bank_id=r.bank_id,
            kind=r.kind,
            amount=amount(r.amount_minor, r.currency),
            currency=r.currency,
            due_on=r.due_on,
            registered_at=r.registered_at,
            released_at=r.released_at,
        )

    @classmethod
    def public_part(cls, r: ReceivableRegistration) -> Self:
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
            amount_band=amount_band(r.amount_minor, r.currency),
            currency=r.currency,
            due_on=None,
            registered_at=r.registered_at,
            released_at=r.released_at,
            public=True,
        )

    @classmethod
    def seen_by(cls, actor: Principal, r: ReceivableRegistration) -> Self:
        """In full for its bank and its parties, the public part for everyone else."""
        return cls.build(r) if is_full(actor, r) else cls.public_part(r)


class RegistrationWrittenOut(RegistrationOut, Written):
    """A registration made or released, with the ledger receipt."""


class FilingRowOut(BaseModel):
    """A registration shaped like a 中登网 应收账款质押/转让登记. Another bank's carries only
    its public part: no grantee, financing reference, exact amount, invoice or due date."""

    registration_id: str
    registration_type: str = Field(description="应收账款质押 or 应收账款转让")
    grantor_name: str
    grantor_uscc: str
    grantee_name: str | None = None
    grantee_uscc: str | None = None
    debtor_name: str
    debtor_uscc: str
    financing_ref: str | None = None
    property_description: str | None = None
    amount: str | None = None
    amount_band: str | None = None
    currency: str
    due_on: date | None = None
    registered_at: datetime | None = None
    registered_on: date
    public: bool

    @classmethod
    def build(cls, row: FilingRow) -> Self:
        return cls.model_validate(row, from_attributes=True)
