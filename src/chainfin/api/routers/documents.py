"""Trade documents: submit one or a batch (JSON, JSON Lines, CSV, UBL XML) with an optional
``Idempotency-Key``; read an enterprise's documents under its consent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from chainfin.adapters.formats import jsonbound
from chainfin.adapters.formats.tabular import TabularFormat, read_rows
from chainfin.adapters.formats.ubl import parse_ubl
from chainfin.api.deps import CurrentPrincipal, LoggedReadSessionDep, SessionDep, SettingsDep
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import Cursor, DocumentIn, Limit, schema_ref
from chainfin.domain.consent import Purpose
from chainfin.domain.documents import DocumentKind
from chainfin.domain.errors import FieldError, UnsupportedMediaType, ValidationFailed
from chainfin.domain.matching import CaseStatus
from chainfin.resources.common import PageOut
from chainfin.resources.documents import (
    CaseOut,
    DocumentConfirmationWrittenOut,
    DocumentFindingOut,
    DocumentOut,
    SubmissionOut,
    finding_id,
)
from chainfin.services import checks, documents, idempotency
from chainfin.services import trade_cases as trade_cases_service
from chainfin.services.pagination import page_of
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


_ONE = {"required": True, "content": {"application/json": {"schema": schema_ref(DocumentIn)}}}
_BATCH = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": schema_ref(DocumentIn)}},
        "application/x-ndjson": {"schema": schema_ref(DocumentIn)},
        "text/csv": {"schema": {"type": "string"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}
_UNCHANGED: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmissionOut, "description": "nothing new: every document was on file"}
}


def _rows(body: bytes, media: str) -> tuple[list[dict[str, object]], int]:
    fmt = _MEDIA.get(media)
    if fmt is None:
        raise UnsupportedMediaType(
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
            raise UnsupportedMediaType([FieldError("content-type", "send application/json")])
        try:
            one = jsonbound.loads(body)
        except jsonbound.TooDeep as exc:
            raise ValidationFailed([FieldError("body", str(exc))], code="json_too_deep") from None
        except ValueError as exc:
            raise ValidationFailed(
                [FieldError("body", f"invalid JSON: {exc}")], code="json_invalid"
            ) from None
        if not isinstance(one, dict):
            raise ValidationFailed(
                [FieldError("body", "must be one document object")], code="body_invalid"
            )
        rows, first = [one], 1
    report = documents.ingest(
        session, principal, documents.parse_rows(rows, first_row=first), partial=partial
    )
    answer = SubmissionOut.build(report).model_dump(mode="json")
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
    response_model=SubmissionOut,
    responses=_UNCHANGED,
    openapi_extra={"requestBody": _ONE},
)
async def submit_one(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> JSONResponse:
    """One document as JSON, of one of the kinds of ``DocumentIn`` (each with an example).
    Send an ``Idempotency-Key`` header to make retries safe."""
    return await _submit(request, session, settings, principal, batch=False, partial=False)


@router.post(
    "/v1/documents/batch",
    summary="Submit a batch of documents",
    status_code=201,
    response_model=SubmissionOut,
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


@router.get("/v1/enterprises/{enterprise_id}/trade-cases", response_model=PageOut[CaseOut])
def trade_cases(
    enterprise_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    status: CaseStatus | None = None,
    counterparty: Annotated[
        str | None, Query(min_length=18, max_length=18, description="the other party's USCC")
    ] = None,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[CaseOut]:
    """The enterprise's documents linked into trade cases (contract → order → delivery →
    receipt → invoice → payment) and matched, with every difference a person can read, in
    case-key order. Banks need consent for trade documents, invoices and logistics."""
    results = trade_cases_service.cases_for(
        session, principal, enterprise_id, purpose=purpose, status=status, counterparty=counterparty
    )
    page = page_of(results, lambda r: r.case_key, cursor=cursor, limit=limit)
    return PageOut[CaseOut](
        items=[CaseOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/enterprises/{enterprise_id}/findings", response_model=PageOut[DocumentFindingOut])
def findings(
    enterprise_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    kind: Annotated[str | None, Query(description="e.g. duplicate_invoice")] = None,
    severity: Annotated[str | None, Query(description="low, medium or high")] = None,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[DocumentFindingOut]:
    """Authenticity and fraud findings that involve the enterprise (duplicate or double-
    financed invoices, circular trading, related parties, outliers, invoices before delivery,
    receipts without delivery), each with a reason a reviewer can act on; in id order."""
    found = [
        f
        for f in checks.findings_for(session, principal, enterprise_id, purpose=purpose)
        if (kind is None or f.kind.value == kind)
        and (severity is None or f.severity.value == severity)
    ]
    page = page_of(found, finding_id, cursor=cursor, limit=limit)
    return PageOut[DocumentFindingOut](
        items=[DocumentFindingOut.build(f) for f in page.items], next_cursor=page.next_cursor
    )


@router.post("/v1/documents/{document_id}/confirm", response_model=DocumentConfirmationWrittenOut)
def confirm(
    document_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> DocumentConfirmationWrittenOut:
    """The buyer confirms a goods receipt or an invoice (the basis for 确权)."""
    out = DocumentConfirmationWrittenOut.build(documents.confirm(session, principal, document_id))
    out.receipt = receipt_for(session, settings)
    return out


@router.get("/v1/documents/{document_id}", response_model=DocumentOut)
def get_document(
    document_id: str,
    session: LoggedReadSessionDep,
    principal: CurrentPrincipal,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> DocumentOut:
    return DocumentOut.build(documents.get_document(session, principal, document_id, purpose))
