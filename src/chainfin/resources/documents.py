"""Trade documents: a stored document, the report of a submission, the buyer's confirmation,
the trade cases its documents form and the authenticity findings about an enterprise."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import DocumentConfirmation, TradeDocumentRow
from chainfin.domain.anomalies import Finding
from chainfin.domain.matching import CaseResult
from chainfin.resources.common import Written

if TYPE_CHECKING:  # the documents service loads numpy; the CLI prints these without it
    from chainfin.services.documents import IngestReport


class DocumentOut(BaseModel):
    id: str
    kind: str
    number: str
    seller_id: str
    buyer_id: str
    issue_date: date
    currency: str
    total: str = Field(examples=["1130.00"])
    content: dict[str, Any] = Field(description="the document as it was submitted")
    submitted_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: TradeDocumentRow) -> Self:
        return cls(
            id=row.id,
            kind=row.kind,
            number=row.number,
            seller_id=row.seller_id,
            buyer_id=row.buyer_id,
            issue_date=row.issue_date,
            currency=row.currency,
            total=str(row.content.get("total")),
            content=row.content,
            submitted_by=row.submitted_by,
            created_at=row.created_at,
        )


class RowErrorOut(BaseModel):
    field: str
    reason: str
    row: int | None = None


class SubmittedRowOut(BaseModel):
    row: int = Field(description="the row as a person counts it (CSV: the header is row 1)")
    status: str = Field(description="accepted, unchanged or rejected")
    document_id: str | None = None
    key: str | None = Field(None, description="kind/seller USCC/number")
    errors: list[RowErrorOut] = Field(default_factory=list)


class SubmissionOut(Written):
    """What a submission did, row by row (201 when a document was accepted, 200 when every
    one was on file already), with the ledger receipt."""

    accepted: int
    unchanged: int
    rejected: int
    rows: list[SubmittedRowOut]

    @classmethod
    def build(cls, report: IngestReport) -> Self:
        return cls.model_validate(report.as_dict())


class DocumentConfirmationOut(BaseModel):
    document_id: str
    buyer_id: str
    confirmed_by: str
    confirmed_at: datetime

    @classmethod
    def build(cls, c: DocumentConfirmation) -> Self:
        return cls(
            document_id=c.document_id,
            buyer_id=c.buyer_id,
            confirmed_by=c.confirmed_by,
            confirmed_at=c.confirmed_at,
        )


class DocumentConfirmationWrittenOut(DocumentConfirmationOut, Written):
    """The buyer's confirmation, with the ledger receipt."""


class DifferenceOut(BaseModel):
    field: str
    expected: str
    actual: str
    documents: list[str]
    message: str
    kind: str


class CaseOut(BaseModel):
    """One trade (contract → order → delivery → receipt → invoice → payment) and how its
    documents match."""

    case_key: str
    seller_uscc: str
    buyer_uscc: str
    status: str
    ways: int
    differences: list[DifferenceOut]
    documents: list[str]

    @classmethod
    def build(cls, r: CaseResult) -> Self:
        return cls(
            case_key=r.case_key,
            seller_uscc=r.seller_uscc,
            buyer_uscc=r.buyer_uscc,
            status=r.status.value,
            ways=r.ways,
            differences=[
                DifferenceOut(
                    field=d.field,
                    expected=d.expected,
                    actual=d.actual,
                    documents=list(d.documents),
                    message=d.message,
                    kind=d.kind.value,
                )
                for d in r.differences
            ],
            documents=list(r.documents),
        )


def finding_id(f: Finding) -> str:
    """A finding's stable name: its kind and a digest of what it is about (the same finding
    on the same documents and enterprises found again has the same id)."""
    about = "\n".join([*f.documents, "", *f.enterprises, "", f.reason])
    digest = hashlib.sha256(about.encode()).hexdigest()[:16]
    return f"{f.kind.value}:{digest}"


class DocumentFindingOut(BaseModel):
    id: str = Field(description="kind and a digest of the documents: stable across reads")
    kind: str
    severity: str
    documents: list[str]
    enterprises: list[str]
    reason: str

    @classmethod
    def build(cls, f: Finding) -> Self:
        return cls(
            id=finding_id(f),
            kind=f.kind.value,
            severity=f.severity.value,
            documents=list(f.documents),
            enterprises=list(f.enterprises),
            reason=f.reason,
        )
