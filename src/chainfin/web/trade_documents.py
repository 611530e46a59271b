"""Trade documents: upload (CSV, JSON Lines, UBL) with row and field errors, and each trade
case's matching status.

- ``/documents``: the firm's documents as seller or buyer (filtered by kind and side, 50 a
  page), the counterparty named, and whether the buyer has confirmed a goods receipt or an
  invoice; the buyer confirms from its row.
- ``/documents/upload``: a file in, the services' own parsing and ingestion (as
  ``POST /v1/documents/batch``), the outcome counted and every refused row listed with its
  field and reason. All or nothing unless partial mode is ticked. Sample files made for the
  firm are at ``/documents/samples/{csv,jsonl,xml}``.
- ``/documents/{id}``: one document, its lines and references.
- ``/trade-cases`` and ``/trade-cases/{key}``: each trade's matching status, the reasons,
  and its documents.

An upload above :data:`FILE_MAX_BYTES` is refused from its declared length before a byte
of it is parsed (:class:`SizedUpload`); the request guard (api/guard.py) cuts off a body
that arrives without one."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.formats.tabular import TabularFormat, read_rows
from chainfin.adapters.formats.ubl import parse_ubl
from chainfin.api.deps import SessionDep, presented_credentials
from chainfin.domain.access import Principal
from chainfin.domain.clock import today
from chainfin.domain.documents import DocumentKind
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.matching import CaseResult, CaseStatus
from chainfin.resources.documents import DocumentOut
from chainfin.services import documents, identity, registry, trade_cases
from chainfin.services.documents import CONFIRMABLE, Side
from chainfin.services.pagination import page_of
from chainfin.services.ubl_documents import ubl_to_row
from chainfin.web.i18n import N_, Language
from chainfin.web.render import FormChecked, PagePrincipal, language_of, render, whoami
from chainfin.web.trade_documents_reasons import (
    CASE_STATUS_LABELS,
    KIND_LABELS,
    document_name,
    field_label,
    reasons,
    row_reason,
)
from chainfin.web.trade_documents_samples import SampleFormat, sample

PAGE = 50
FILE_MAX_BYTES = 512 * 1024
"""The largest file the page takes. Larger batches go through ``POST /v1/documents/batch``
(20 MiB). It stays below the request guard's limit for page posts (1 MiB), so a person
gets this page's answer rather than the guard's."""
ENVELOPE_BYTES = 16 * 1024  # the form's other fields and the multipart boundaries
FORMATS = ("auto", "csv", "jsonl", "json", "ubl")
SUFFIXES = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "json", "xml": "ubl"}
SIDE_LABELS = {Side.SELLER: N_("As seller"), Side.BUYER: N_("As buyer")}
FORMAT_LABELS = {
    "auto": N_("Tell from the file"),
    "csv": N_("CSV"),
    "jsonl": N_("JSON Lines"),
    "json": N_("JSON array"),
    "ubl": N_("UBL 2.1 XML invoice"),
}
REFUSALS = {
    "scope_missing": N_("Your role does not work with trade documents."),
    "forbidden": N_("Trade documents are uploaded by the firms that are party to them."),
    "document_not_found": N_("No such document among your firm's."),
    "not_found": N_("No such trade case among your firm's."),
    "not_your_record": N_("Only the buyer confirms a goods receipt or an invoice."),
    "document_not_confirmable": N_("Only goods receipts and invoices are confirmed."),
    "cursor_invalid": N_("This page link is out of date; start from the first page."),
}
FIRMS_ONLY = N_("Trade documents are a firm's own pages: sign in as a firm's user.")
TOO_LARGE = N_("The file is larger than %(limit)s KB. Split it, or send it through the API.")
NO_FILE = N_("Choose a file to upload.")
UNKNOWN_FORMAT = N_("Cannot tell the format of %(name)s: choose it in the list.")

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------- labels


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": {k.value: v for k, v in KIND_LABELS.items()},
        "side_labels": {k.value: v for k, v in SIDE_LABELS.items()},
        "status_labels": {k.value: v for k, v in CASE_STATUS_LABELS.items()},
        "format_labels": FORMAT_LABELS,
        "confirmable": CONFIRMABLE,
        "file_limit_kb": FILE_MAX_BYTES // 1024,
    }


def _refused(
    request: Request, session: Session, principal: Principal, exc: ChainfinError
) -> Response:
    reason = REFUSALS.get(exc.code, exc.message)
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=exc.status)


def _firms_only(request: Request, session: Session, principal: Principal) -> Response:
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": FIRMS_ONLY}, me=me, status_code=403)


def _rows(session: Session, principal: Principal, rows: list[Any]) -> dict[str, Any]:
    """Documents as resources, with the counterparties named and the buyers' confirmations."""
    docs = [DocumentOut.build(r) for r in rows]
    parties = {d.seller_id for d in docs} | {d.buyer_id for d in docs}
    return {
        "docs": docs,
        "due": {d.id: _day(d.content.get("due_date")) for d in docs},
        "names": identity.party_names(session, principal, parties),
        "confirmations": documents.confirmations_of(session, principal, [d.id for d in docs]),
        "my_id": principal.enterprise_id,
    }


def _day(text: object) -> date | None:
    """A date of a document's content (stored as it was submitted: YYYY-MM-DD)."""
    try:
        return date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- the list


@dataclass
class Filters:
    kind: str = ""
    side: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> str:
        return "&".join(f"{k}={v}" for k, v in (("kind", self.kind), ("side", self.side)) if v)


def _filters(kind: str, side: str) -> Filters:
    chosen = Filters(kind, side)
    if kind and kind not in DocumentKind.__members__.values():
        chosen.errors["kind"] = N_("Choose a kind of document from the list.")
    if side and side not in Side.__members__.values():
        chosen.errors["side"] = N_("Choose seller or buyer.")
    return chosen


@router.get("/documents", response_class=HTMLResponse)
def documents_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    kind: Annotated[str, Query(max_length=40)] = "",
    side: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    firm = principal.enterprise_id
    if firm is None:
        return _firms_only(request, session, principal)
    chosen = _filters(kind, side)
    context: dict[str, Any] = {"nav": "documents", "filters": chosen, "cursor": cursor, **_labels()}
    if chosen.errors:
        context |= {"docs": [], "next_cursor": None}
        me = whoami(session, principal)
        return render(request, "documents.html", context, me=me, status_code=422)
    try:
        page = documents.list_documents(
            session,
            principal,
            enterprise_id=firm,
            kind=DocumentKind(kind) if kind else None,
            side=Side(side) if side else None,
            limit=PAGE,
            cursor=cursor,
        )
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    context |= {"next_cursor": page.next_cursor, **_rows(session, principal, page.items)}
    return render(request, "documents.html", context, me=whoami(session, principal))


@router.get("/documents/upload", response_class=HTMLResponse)
def upload_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    if principal.enterprise_id is None:
        return _firms_only(request, session, principal)
    context = {"nav": "documents", "form": UploadForm(), "outcome": None, **_labels()}
    return render(request, "upload.html", context, me=whoami(session, principal))


@router.get("/documents/samples/{fmt}")
def sample_file(fmt: str, session: SessionDep, principal: PagePrincipal) -> Response:
    """A sample the firm could upload as it is: its USCC as the seller, a customer of its
    as the buyer (itself when it has none on record), today's dates."""
    if fmt not in SampleFormat.__members__.values() or principal.enterprise_id is None:
        return Response("not found", status_code=404, media_type="text/plain")
    me = whoami(session, principal)
    seller = me.uscc or ""
    buyer = _a_customer(session, principal) or seller
    made = sample(SampleFormat(fmt), seller=seller, buyer=buyer, today=today())
    disposition = f'attachment; filename="{made.filename}"'
    return Response(
        made.body, media_type=made.media_type, headers={"Content-Disposition": disposition}
    )


def _a_customer(session: Session, principal: Principal) -> str | None:
    try:
        relations = registry.list_relations(
            session, principal, enterprise_id=principal.enterprise_id, limit=50
        ).items
    except ChainfinError:
        return None
    return next((r.buyer_uscc for r in relations if r.seller_id == principal.enterprise_id), None)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    document_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    if principal.enterprise_id is None:
        return _firms_only(request, session, principal)
    try:
        row = documents.get_document(session, principal, document_id)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    context = {"nav": "documents", **_labels(), **_rows(session, principal, [row])}
    context["doc"] = context["docs"][0]
    return render(request, "documents_one.html", context, me=whoami(session, principal))


@router.post("/documents/{document_id}/confirm", response_class=HTMLResponse)
def confirm(
    document_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    """The buyer confirms a goods receipt or an invoice. htmx swaps the row; a plain form
    goes back to the list (or shows the refusal)."""
    factory = request.app.state.session_factory
    error = None
    try:
        with transaction(factory) as session:
            documents.confirm(session, principal, document_id)
    except ChainfinError as exc:
        error = exc
    with transaction(factory, write=False) as session:
        if error is not None and not request.headers.get("hx-request"):
            return _refused(request, session, principal, error)
        if error is None and not request.headers.get("hx-request"):
            return RedirectResponse("/documents", status_code=303)
        try:
            row = documents.get_document(session, principal, document_id)
        except ChainfinError:
            return Response(status_code=404)
        context = {**_labels(), **_rows(session, principal, [row])}
        context["doc"] = context["docs"][0]
        context["error"] = REFUSALS.get(error.code, error.message) if error else None
    status = error.status if error is not None else 200
    return render(request, "_document_row.html", context, status_code=status)


# ---------------------------------------------------------------------------- upload


@dataclass
class UploadForm:
    """What was chosen, and what is wrong with it, field by field."""

    file_format: str = "auto"
    partial: bool = False
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorRow:
    row: int | None
    field: str
    reason: str


@dataclass
class UploadOutcome:
    """What an upload did: counts, and every refused row with its field and reason."""

    filename: str
    partial: bool
    rows: int = 0
    accepted: int = 0
    unchanged: int = 0
    refused: int = 0
    written: bool = False
    errors: list[ErrorRow] = field(default_factory=list)

    @property
    def fine_unwritten(self) -> int:
        """All or nothing: rows without a problem that were not written for the others."""
        return 0 if self.written or self.partial else max(self.rows - self.refused, 0)


class UploadTooLarge(Exception):
    pass


class FormatUnknown(Exception):
    pass


def _format_of(name: str, chosen: str, data: bytes) -> str:
    """The chosen format, else the file's suffix, else what its first character says."""
    if chosen != "auto":
        return chosen
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    sniffed = {b"<": "ubl", b"{": "jsonl", b"[": "json"}.get(start)
    if sniffed is None:
        raise FormatUnknown
    return sniffed


def _parse(data: bytes, fmt: str) -> tuple[list[dict[str, object]], int]:
    if fmt == "ubl":
        return [ubl_to_row(parse_ubl(data))], 1
    parsed = read_rows(data, TabularFormat(fmt))
    return parsed.rows, parsed.first_row


def _error_rows(errors: list[FieldError], language: Language) -> list[ErrorRow]:
    return [
        ErrorRow(e.row, field_label(e.field, language), row_reason(e.reason).text(language))
        for e in errors
    ]


def _ingest(
    factory: Any,
    principal: Principal,
    outcome: UploadOutcome,
    data: bytes,
    fmt: str,
    language: Language,
) -> None:
    """Parse and ingest in one transaction: a refusal rolls everything back."""
    try:
        rows, first = _parse(data, fmt)
    except ValidationFailed as exc:
        outcome.errors = _error_rows(exc.errors, language)
        return
    parsed = documents.parse_rows(rows, first_row=first)
    outcome.rows = len(parsed)
    try:
        with transaction(factory) as session:
            report = documents.ingest(session, principal, parsed, partial=outcome.partial)
    except ValidationFailed as exc:
        outcome.errors = _error_rows(exc.errors, language)
        outcome.refused = len({e.row for e in exc.errors})
        return
    outcome.accepted, outcome.unchanged = report.count("accepted"), report.count("unchanged")
    outcome.refused = report.count("rejected")
    outcome.written = outcome.accepted > 0
    outcome.errors = _error_rows([e for r in report.rows for e in r.errors], language)


def _upload_answer(
    request: Request,
    principal: Principal,
    form: UploadForm,
    outcome: UploadOutcome | None,
    status: int,
    error: str | None = None,
) -> Response:
    factory = request.app.state.session_factory
    with transaction(factory, write=False) as session:
        me = whoami(session, principal)
    context = {"nav": "documents", "form": form, "outcome": outcome, "error": error, **_labels()}
    return render(request, "upload.html", context, me=me, status_code=status)


def _too_large(request: Request) -> Response:
    presented = presented_credentials(request)
    if not isinstance(presented, Principal):
        return RedirectResponse("/", status_code=303)
    form = UploadForm(errors={"file": TOO_LARGE})
    return _upload_answer(request, presented, form, None, 413)


class SizedUpload(APIRoute):
    """The upload's route: a request whose declared length is over the limit is answered
    413 before FastAPI parses its form (and before the CSRF check would). Its body is read
    and dropped, bounded by the request guard, so the browser gets the answer instead of a
    reset connection; nothing of it is kept."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def sized(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > FILE_MAX_BYTES + ENVELOPE_BYTES:
                async for _chunk in request.stream():
                    pass
                return await run_in_threadpool(_too_large, request)
            return await handle(request)

        return sized


uploads = APIRouter(include_in_schema=False, route_class=SizedUpload)


@uploads.post("/documents/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    file: Annotated[UploadFile | None, File()] = None,
    file_format: Annotated[str, Form(alias="format", max_length=10)] = "auto",
    partial: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A file of trade documents in, the outcome row by row out: 200 when it went in (or was
    on file already), 422 with the rows' errors when nothing was written, 413 when it is too
    large, 403 for a person who does not upload documents."""
    language, _remember = language_of(request)
    form = UploadForm(
        file_format if file_format in FORMATS else "auto", partial in ("1", "on", "true")
    )
    try:
        documents.require_writer(principal)
    except ChainfinError as exc:
        return _upload_answer(
            request, principal, form, None, exc.status, REFUSALS.get(exc.code, exc.message)
        )
    if file_format not in FORMATS:
        form.errors["format"] = N_("Choose a format from the list.")
        return _upload_answer(request, principal, form, None, 422)
    if file is None or not file.filename:
        form.errors["file"] = NO_FILE
        return _upload_answer(request, principal, form, None, 422)
    data = file.file.read(FILE_MAX_BYTES + 1)
    if len(data) > FILE_MAX_BYTES:
        form.errors["file"] = TOO_LARGE
        return _upload_answer(request, principal, form, None, 413)
    try:
        fmt = _format_of(file.filename, form.file_format, data)
    except FormatUnknown:
        form.errors["format"] = UNKNOWN_FORMAT
        return _upload_answer(
            request, principal, form, UploadOutcome(file.filename, form.partial), 422
        )
    outcome = UploadOutcome(file.filename, form.partial)
    _ingest(request.app.state.session_factory, principal, outcome, data, fmt, language)
    status = 422 if outcome.errors and not (outcome.accepted or outcome.unchanged) else 200
    return _upload_answer(request, principal, form, outcome, status)


router.include_router(uploads)


# ---------------------------------------------------------------------------- trade cases


@dataclass(frozen=True)
class CaseRow:
    """A trade case as the page shows it."""

    key: str
    name: str  # the anchor document, e.g. "采购订单 PO-1"
    status: str
    ways: int
    counterparty: str
    reasons: list[str]
    documents: list[str]


def _search(
    session: Session, principal: Principal, results: list[CaseResult], q: str
) -> list[CaseResult]:
    """The cases one of whose documents' keys (kind, seller's USCC, number) or whose
    counterparty's name or USCC contains ``q``, ignoring case."""
    needle = q.strip().casefold()
    if not needle:
        return results
    mine = whoami(session, principal).uscc
    others = {r.buyer_uscc if r.seller_uscc == mine else r.seller_uscc for r in results}
    ids = registry.ids_by_uscc(session, others)
    names = identity.party_names(session, principal, ids.values())

    def found(r: CaseResult) -> bool:
        other = r.buyer_uscc if r.seller_uscc == mine else r.seller_uscc
        said = " ".join((*r.documents, r.case_key, other, names.get(ids.get(other, ""), "")))
        return needle in said.casefold()

    return [r for r in results if found(r)]


def _case_rows(
    session: Session, principal: Principal, results: list[CaseResult], language: Language
) -> list[CaseRow]:
    mine = whoami(session, principal).uscc
    others = {r.buyer_uscc if r.seller_uscc == mine else r.seller_uscc for r in results}
    ids = registry.ids_by_uscc(session, others)
    names = identity.party_names(session, principal, ids.values())
    out = []
    for r in results:
        other = r.buyer_uscc if r.seller_uscc == mine else r.seller_uscc
        out.append(
            CaseRow(
                key=r.case_key,
                name=document_name(r.case_key, language),
                status=r.status.value,
                ways=r.ways,
                counterparty=names.get(ids.get(other, ""), other),
                reasons=reasons(r.differences, language),
                documents=[document_name(k, language) for k in r.documents],
            )
        )
    return out


@router.get("/trade-cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    status: Annotated[str, Query(max_length=30)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """``q`` finds a trade by a document number (or part of one) or the counterparty's name
    or USCC: a firm with hundreds of trades looks one up as it looks up an invoice."""
    firm = principal.enterprise_id
    if firm is None:
        return _firms_only(request, session, principal)
    language, _remember = language_of(request)
    context: dict[str, Any] = {
        "nav": "documents",
        "status": status,
        "q": q,
        "cursor": cursor,
        **_labels(),
    }
    if status and status not in CaseStatus.__members__.values():
        context |= {
            "cases": [],
            "next_cursor": None,
            "status_error": N_("Choose a status from the list."),
        }
        return render(
            request, "trade_cases.html", context, me=whoami(session, principal), status_code=422
        )
    try:
        results = trade_cases.cases_for(
            session,
            principal,
            firm,
            status=CaseStatus(status) if status else None,
        )
        results = _search(session, principal, results, q)
        page = page_of(results, lambda r: r.case_key, cursor=cursor, limit=PAGE)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    context |= {
        "cases": _case_rows(session, principal, page.items, language),
        "next_cursor": page.next_cursor,
    }
    return render(request, "trade_cases.html", context, me=whoami(session, principal))


@router.get("/trade-cases/{case_key:path}", response_class=HTMLResponse)
def case_page(
    case_key: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    firm = principal.enterprise_id
    if firm is None:
        return _firms_only(request, session, principal)
    language, _remember = language_of(request)
    try:
        result, rows = trade_cases.case_documents(session, principal, firm, case_key)
    except ChainfinError as exc:
        return _refused(request, session, principal, exc)
    (case,) = _case_rows(session, principal, [result], language)
    context = {"nav": "documents", "case": case, **_labels(), **_rows(session, principal, rows)}
    return render(request, "trade_cases_one.html", context, me=whoami(session, principal))
