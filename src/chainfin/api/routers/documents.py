"""Trade documents: submit one or a batch (JSON, JSON Lines, CSV, UBL XML) with an optional
``Idempotency-Key``; read an enterprise's documents under its consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from chainfin.adapters.db.models import TradeDocumentRow
from chainfin.adapters.formats import jsonbound
from chainfin.adapters.formats.tabular import TabularFormat, read_rows
from chainfin.adapters.formats.ubl import parse_ubl
from chainfin.api.deps import CurrentPrincipal, LoggedReadSessionDep, SessionDep, SettingsDep
from chainfin.api.receipts import receipt_for
from chainfin.domain.consent import Purpose
from chainfin.domain.documents import FIELDS, DocumentKind
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.matching import CaseStatus
from chainfin.resources.common import PageOut, ReceiptOut
from chainfin.services import checks, documents, idempotency
from chainfin.services import trade_cases as trade_cases_service
from chainfin.services.ubl_documents import ubl_to_row

router = APIRouter(tags=["documents"])

_MEDIA = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "text/csv": "csv",
    "application/xml": "ubl",
    "text/xml": "ubl",
}


_TEXT = {"type": "string"}
_LINE = {
    "type": "object",
    "properties": dict.fromkeys(("item", "quantity", "unit", "unit_price", "amount"), _TEXT),
}
_TRACKING = {
    "type": "object",
    "properties": dict.fromkeys(("at", "region_code", "status"), _TEXT),
}
DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "one trade document; amounts are decimal strings, dates YYYY-MM-DD",
    "required": ["kind", "number", "seller_uscc", "buyer_uscc", "issue_date", "total"],
    "properties": {
        **{name: _TEXT for name in FIELDS if name not in ("kind", "lines", "tracking")},
        "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
        "lines": {"type": "array", "items": _LINE},
        "tracking": {"type": "array", "items": _TRACKING},
    },
    "additionalProperties": False,
}
_ONE = {"required": True, "content": {"application/json": {"schema": DOCUMENT_SCHEMA}}}
_BATCH = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": DOCUMENT_SCHEMA}},
        "application/x-ndjson": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}
_UNCHANGED: dict[int | str, dict[str, Any]] = {
    200: {"description": "nothing new: every document was already on file"}
}


class DocumentOut(BaseModel):
    id: str
    kind: str
    number: str
    seller_id: str
    buyer_id: str
    issue_date: date
    currency: str
    total: str
    content: dict[str, Any]
    submitted_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: TradeDocumentRow) -> DocumentOut:
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


def _rows(body: bytes, media: str) -> tuple[list[dict[str, object]], int]:
    fmt = _MEDIA.get(media)
    if fmt is None:
        raise ValidationFailed(
            [FieldError("content-type", f"send one of {', '.join(_MEDIA)}, not {media!r}")]
        )
    if fmt == "ubl":
        return [ubl_to_row(parse_ubl(body))], 1
    parsed = read_rows(body, TabularFormat(fmt))
    return parsed.rows, parsed.first_row


async def _submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    *,
    batch: bool,
    partial: bool,
) -> JSONResponse:
    body = await request.body()
    key = request.headers.get("idempotency-key")
    digest = idempotency.request_hash(
        request.method, request.url.path + "?" + str(request.query_params), body
    )
    if key is not None:
        previous = idempotency.replay(session, principal, key, digest)
        if previous is not None:
            status, answer = previous
            return JSONResponse(answer, status_code=status, headers={"Idempotent-Replayed": "true"})
    documents.require_writer(principal)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if batch:
        rows, first = _rows(body, media)
    else:
        if media != "application/json":
            raise ValidationFailed([FieldError("content-type", "send application/json")])
        try:
            one = jsonbound.loads(body)
        except jsonbound.TooDeep as exc:
            raise ValidationFailed([FieldError("body", str(exc))]) from None
        except ValueError as exc:
            raise ValidationFailed([FieldError("body", f"invalid JSON: {exc}")]) from None
        if not isinstance(one, dict):
            raise ValidationFailed([FieldError("body", "must be one document object")])
        rows, first = [one], 1
    report = documents.ingest(
        session, principal, documents.parse_rows(rows, first_row=first), partial=partial
    )
    answer = report.as_dict()
    receipt = receipt_for(session, settings)
    answer["receipt"] = jsonable_encoder(receipt) if receipt else None
    status = 201 if report.count("accepted") else 200
    if key is not None:
        idempotency.remember(session, principal, key, digest, status, answer)
    return JSONResponse(answer, status_code=status)


@router.post(
    "/v1/documents",
    summary="Submit one document",
    status_code=201,
    responses=_UNCHANGED,
    openapi_extra={"requestBody": _ONE},
)
async def submit_one(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> JSONResponse:
    """One document as JSON. Send an ``Idempotency-Key`` header to make retries safe."""
    return await _submit(request, session, settings, principal, batch=False, partial=False)


@router.post(
    "/v1/documents/batch",
    summary="Submit a batch of documents",
    status_code=201,
    responses=_UNCHANGED,
    openapi_extra={"requestBody": _BATCH},
)
async def submit_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    partial: bool = False,
) -> JSONResponse:
    """A JSON array, JSON Lines, CSV (``lines``/``tracking`` as JSON text) or one UBL 2.1
    Invoice/CreditNote. All or nothing unless ``?partial=true``, which writes the good rows
    and reports every rejected one with row, field and reason."""
    return await _submit(request, session, settings, principal, batch=True, partial=partial)


@router.get("/v1/enterprises/{enterprise_id}/documents", response_model=PageOut[DocumentOut])
def enterprise_documents(
    enterprise_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    kind: DocumentKind | None = None,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[DocumentOut]:
    """An enterprise's documents. Banks need the enterprise's consent for the category
    (trade documents, invoices, logistics) and the purpose; every bank read is logged."""
    page = documents.list_documents(
        session,
        principal,
        enterprise_id=enterprise_id,
        purpose=purpose,
        kind=kind,
        limit=limit,
        cursor=cursor,
    )
    return PageOut[DocumentOut](
        items=[DocumentOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


class DifferenceOut(BaseModel):
    field: str
    expected: str
    actual: str
    documents: list[str]
    message: str
    kind: str


class CaseOut(BaseModel):
    case_key: str
    seller_uscc: str
    buyer_uscc: str
    status: str
    ways: int
    differences: list[DifferenceOut]
    documents: list[str]


@router.get("/v1/enterprises/{enterprise_id}/trade-cases", response_model=list[CaseOut])
def trade_cases(
    enterprise_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    status: CaseStatus | None = None,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> list[CaseOut]:
    """The enterprise's documents linked into trade cases (contract → order → delivery →
    receipt → invoice → payment) and matched, with every difference a person can read.
    Banks need consent for trade documents, invoices and logistics."""
    results = trade_cases_service.cases_for(
        session, principal, enterprise_id, purpose=purpose, status=status
    )
    return [
        CaseOut(
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
        for r in results
    ]


class FindingOut(BaseModel):
    kind: str
    severity: str
    documents: list[str]
    enterprises: list[str]
    reason: str


@router.get("/v1/enterprises/{enterprise_id}/findings", response_model=list[FindingOut])
def findings(
    enterprise_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> list[FindingOut]:
    """Authenticity and fraud findings that involve the enterprise (duplicate or double-
    financed invoices, circular trading, related parties, outliers, invoices before delivery,
    receipts without delivery), each with a reason a reviewer can act on."""
    return [
        FindingOut(
            kind=f.kind.value,
            severity=f.severity.value,
            documents=list(f.documents),
            enterprises=list(f.enterprises),
            reason=f.reason,
        )
        for f in checks.findings_for(session, principal, enterprise_id, purpose=purpose)
    ]


class ConfirmationOut(BaseModel):
    document_id: str
    buyer_id: str
    confirmed_by: str
    confirmed_at: datetime
    receipt: ReceiptOut | None = None


@router.post("/v1/documents/{document_id}/confirm", response_model=ConfirmationOut)
def confirm(
    document_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ConfirmationOut:
    """The buyer confirms a goods receipt or an invoice (the basis for 确权)."""
    c = documents.confirm(session, principal, document_id)
    return ConfirmationOut(
        document_id=c.document_id,
        buyer_id=c.buyer_id,
        confirmed_by=c.confirmed_by,
        confirmed_at=c.confirmed_at,
        receipt=receipt_for(session, settings),
    )


@router.get("/v1/documents/{document_id}", response_model=DocumentOut)
def get_document(
    document_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> DocumentOut:
    return DocumentOut.build(documents.get_document(session, principal, document_id, purpose))
