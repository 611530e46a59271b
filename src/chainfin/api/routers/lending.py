"""Lending: credit lines, sub-limits and exposure caps; loan products and approval authority;
applications decided by the rules with people in the loop (due-diligence tasks, maker and
checker); disbursement by pain.001, bank statements (camt.053) in, servicing of the loans;
commodity prices for pledged goods and the general-ledger export of a bank's book.

Every write honours an ``Idempotency-Key`` header and answers with its ledger receipt
(the ``*WrittenOut`` models); every list is a page ``{items, next_cursor}`` in the order the
records were made, with ``limit``, ``cursor`` and the list's filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import BusinessDate, Input, money
from chainfin.api.receipts import write_once
from chainfin.api.schemas import Cursor, Limit
from chainfin.config import Settings
from chainfin.domain.access import Principal
from chainfin.domain.errors import FieldError, UnsupportedMediaType
from chainfin.domain.loans import LoanCategory
from chainfin.domain.products import ProductKind
from chainfin.domain.states import (
    ApplicationStatus,
    LineStatus,
    LoanStatus,
    ProductStatus,
    TaskState,
)
from chainfin.resources.common import PageOut
from chainfin.resources.lending import (
    AccrualRunOut,
    AccrualRunWrittenOut,
    ApprovalAuthorityOut,
    ApprovalAuthorityWrittenOut,
    CreditLineDetailOut,
    CreditLineOut,
    CreditLineWrittenOut,
    DisbursementFileOut,
    DisbursementFileWrittenOut,
    DueDiligenceTaskOut,
    DueDiligenceTaskWrittenOut,
    ExposureCapOut,
    ExposureCapWrittenOut,
    GeneralLedgerLineOut,
    GoodsReleaseOut,
    GoodsReleaseWrittenOut,
    LapseRunOut,
    LapseRunWrittenOut,
    LinesExpiredOut,
    LinesExpiredWrittenOut,
    LoanApplicationOut,
    LoanApplicationWrittenOut,
    LoanOut,
    LoanProductOut,
    LoanProductWrittenOut,
    LoanScanOut,
    LoanScanWrittenOut,
    LoanWrittenOut,
    ProductConfigIn,
    RepaymentOut,
    RepaymentWrittenOut,
    StatementImportOut,
    StatementImportWrittenOut,
    SublimitWrittenOut,
    general_ledger_csv,
    general_ledger_jsonl,
)
from chainfin.services import books
from chainfin.services.lending import (
    applications,
    lines,
    loans,
    products,
    statements,
    tasks,
)
from chainfin.services.pagination import DEFAULT_LIMIT, check_period

router = APIRouter(tags=["lending"])

_XML = ("application/xml", "text/xml")


_write = write_once  # every write: once per Idempotency-Key, with its receipt


# A decimal string as money; malformed or too large is a 422 naming the field.
_money = money


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class _In(Input):
    pass


# What every list takes: a page size, the cursor of the page before, and parties by name.
Party = Annotated[str | None, Query(max_length=64, description="USCC or enterprise id")]


# ---------------------------------------------------------------------------- credit lines


class LineIn(_In):
    obligor: str = Field(description="USCC or enterprise id of the borrower")
    limit: str = Field(description="e.g. 20000000.00")
    currency: str = "CNY"
    starts_on: date
    expires_on: date
    core: str | None = Field(None, description="the member's core enterprise; omit for a core")
    guarantor: str | None = None
    revolving: bool = True


class SublimitIn(_In):
    limit: str
    currency: str = "CNY"
    product_kind: str | None = None
    member: str | None = Field(None, description="USCC or enterprise id of a chain member")


class ReasonIn(_In):
    reason: str = Field(max_length=300)


class AsOfIn(_In):
    as_of: date


class CapIn(_In):
    name: str = Field(max_length=200)
    cap: str
    currency: str = "CNY"
    core: str | None = None
    members: list[str] = Field(default_factory=list)


@router.post(
    "/v1/credit-lines",
    status_code=201,
    response_model=CreditLineWrittenOut,
    summary="Open a credit line",
)
def open_line(
    body: LineIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = lines.open_line(
            session,
            principal,
            obligor=body.obligor,
            limit=_money(body.limit, body.currency, "limit"),
            starts_on=body.starts_on,
            expires_on=body.expires_on,
            core=body.core,
            guarantor=body.guarantor,
            revolving=body.revolving,
        )
        return CreditLineOut.build(row).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/credit-lines", response_model=PageOut[CreditLineOut])
def list_lines(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: LineStatus | None = None,
    obligor: Party = None,
    core: Party = None,
    expires_from: BusinessDate | None = None,
    expires_to: BusinessDate | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[CreditLineOut]:
    """The bank's lines, or the lines an enterprise is party to (obligor, core or
    guarantor), oldest first."""
    only = lines.LineFilter(status, obligor, core, expires_from, expires_to)
    page = lines.lines(session, principal, only, cursor=cursor, limit=limit)
    return PageOut[CreditLineOut](
        items=[CreditLineOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/credit-lines/{line_id}", response_model=CreditLineDetailOut)
def get_line(line_id: str, session: SessionDep, principal: CurrentPrincipal) -> CreditLineDetailOut:
    """One line with its sub-limits."""
    line = lines.line_for(session, principal, line_id)
    return CreditLineDetailOut.build_with(line, lines.sublimits(session, principal, line))


@router.post(
    "/v1/credit-lines/expire",
    response_model=LinesExpiredWrittenOut,
    summary="Expire lines past their expiry date",
)
def expire_lines(
    body: AsOfIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: LinesExpiredOut(
            as_of=body.as_of, expired=lines.expire(session, principal, body.as_of)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/credit-lines/{line_id}/sublimits", status_code=201, response_model=SublimitWrittenOut
)
def add_sublimit(
    line_id: str,
    body: SublimitIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Carve part of the line out for a product kind, a chain member, or both."""

    def produce() -> dict[str, Any]:
        sub = lines.add_sublimit(
            session,
            principal,
            line_id,
            limit=_money(body.limit, body.currency, "limit"),
            product_kind=body.product_kind,
            member=body.member,
        )
        line = lines.line_for(session, principal, line_id)
        return SublimitWrittenOut.build_with(sub, line).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


def _set_status(
    line_id: str,
    status: str,
    body: ReasonIn,
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: CreditLineOut.build(
            lines.set_status(session, principal, line_id, status=status, reason=body.reason)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/credit-lines/{line_id}/freeze",
    response_model=CreditLineWrittenOut,
    summary="No new drawings; loans run on",
)
def freeze(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "frozen", body, request, session, settings, principal)


@router.post("/v1/credit-lines/{line_id}/unfreeze", response_model=CreditLineWrittenOut)
def unfreeze(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "active", body, request, session, settings, principal)


@router.post("/v1/credit-lines/{line_id}/close", response_model=CreditLineWrittenOut)
def close(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "closed", body, request, session, settings, principal)


@router.post(
    "/v1/exposure-caps",
    status_code=201,
    response_model=ExposureCapWrittenOut,
    summary="Cap exposure to a chain or group",
)
def set_cap(
    body: CapIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = lines.set_cap(
            session,
            principal,
            name=body.name,
            cap=_money(body.cap, body.currency, "cap"),
            core=body.core,
            members=body.members,
        )
        return ExposureCapOut.build(row, lines.cap_members(session, row.id)).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/exposure-caps", response_model=PageOut[ExposureCapOut])
def list_caps(
    session: SessionDep,
    principal: CurrentPrincipal,
    kind: Literal["core", "group"] | None = None,
    core: Party = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ExposureCapOut]:
    """The bank's exposure caps, oldest first."""
    page = lines.caps(session, principal, kind=kind, core=core, cursor=cursor, limit=limit)
    return PageOut[ExposureCapOut](
        items=[ExposureCapOut.build(r, lines.cap_members(session, r.id)) for r in page.items],
        next_cursor=page.next_cursor,
    )


# ---------------------------------------------------------------------------- products


class ProductIn(_In):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    config: ProductConfigIn = Field(
        description="``kind`` plus any overrides of the kind's template",
        examples=[{"kind": "receivable_financing", "spread_bp": 60}],
    )


class AuthorityIn(_In):
    user: str = Field(description="username or user id of one of the bank's staff")
    level: int


@router.post(
    "/v1/loan-products",
    status_code=201,
    response_model=LoanProductWrittenOut,
    summary="Define a loan product",
)
def define_product(
    body: ProductIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Rates in the configuration carry their unit: ``spread_bp`` in basis points over the
    1-year LPR, ``advance_rate_cap_pct``, ``ltv_cap_pct`` and ``margin_call_ltv_pct`` in
    percent."""

    def produce() -> dict[str, Any]:
        with ProductConfigIn.interface_names():
            row = products.define(
                session, principal, code=body.code, name=body.name, config=body.config.to_domain()
            )
        return LoanProductOut.build(row, principal).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/loan-products", response_model=PageOut[LoanProductOut])
def list_products(
    session: SessionDep,
    principal: CurrentPrincipal,
    bank: Annotated[str | None, Query(max_length=64, description="bank code or id")] = None,
    kind: ProductKind | None = None,
    status: ProductStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[LoanProductOut]:
    """Bank staff see their bank's products in full; an enterprise names the bank (code or
    id) and sees each product's terms, not how the bank decides."""
    page = products.products(
        session, principal, bank, kind=kind, status=status, cursor=cursor, limit=limit
    )
    return PageOut[LoanProductOut](
        items=[LoanProductOut.build(p, principal) for p in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/v1/approval-authorities",
    status_code=201,
    response_model=ApprovalAuthorityWrittenOut,
    summary="Delegate credit authority",
)
def grant_authority(
    body: AuthorityIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: ApprovalAuthorityOut.build(
            products.grant_authority(session, principal, user=body.user, level=body.level)
        ).model_dump(mode="json"),
    )


# ---------------------------------------------------------------------------- applications


class UnderlyingIn(_In):
    kind: str = Field(description="credential_piece, invoice, purchase_order, ...")
    ref: str = Field(min_length=1, max_length=100)


class PayeeIn(_In):
    name: str = Field(max_length=140)
    account: str = Field(description="bank account number, 8-32 digits")
    agent: str = Field(description="12-digit CNAPS code of the payee's bank")


class ApplicationIn(_In):
    bank: str = Field(description="bank code or id")
    product: str = Field(description="product code or id")
    amount: str
    currency: str = "CNY"
    tenor_months: int
    method: str = Field(description="bullet, equal_principal, ...")
    underlying: UnderlyingIn
    payee: PayeeIn
    line: str | None = None
    on: date | None = None


class ReviewIn(_In):
    action: Literal["approve", "decline"]
    note: str = Field(max_length=2000)
    conditions: list[str] = Field(default_factory=list)
    on: date | None = None


class NoteIn(_In):
    note: str = Field("", max_length=500)


@router.post(
    "/v1/loan-applications",
    status_code=201,
    response_model=LoanApplicationWrittenOut,
    summary="Apply for a loan",
)
def submit_application(
    body: ApplicationIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The rules decide at once: ``approved`` (with its loan ready for disbursement),
    ``referred`` (with the due-diligence tasks people must do) or ``declined``, always with
    every reason in ``decision.reasons``."""

    def produce() -> dict[str, Any]:
        app = applications.submit(
            session,
            principal,
            bank=body.bank,
            product=body.product,
            amount=_money(body.amount, body.currency, "amount"),
            tenor_months=body.tenor_months,
            method=body.method,
            underlying_kind=body.underlying.kind,
            underlying_ref=body.underlying.ref,
            payee=applications.Payment(body.payee.name, body.payee.account, body.payee.agent),
            line=body.line,
            on=body.on,
        )
        return LoanApplicationOut.build(session, app).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/loan-applications", response_model=PageOut[LoanApplicationOut])
def list_applications(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: ApplicationStatus | None = None,
    applicant: Party = None,
    product: Annotated[str | None, Query(max_length=64, description="product id")] = None,
    submitted_from: Annotated[
        BusinessDate | None, Query(description="submitted on or after this day (Beijing time)")
    ] = None,
    submitted_to: Annotated[
        BusinessDate | None, Query(description="submitted on or before this day (Beijing time)")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[LoanApplicationOut]:
    """Applications to the bank, or the enterprise's own, oldest first."""
    only = applications.ApplicationFilter(status, applicant, product, submitted_from, submitted_to)
    page = applications.applications(session, principal, only, cursor=cursor, limit=limit)
    return PageOut[LoanApplicationOut](
        items=[LoanApplicationOut.build(session, a) for a in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/v1/loan-applications/{application_id}", response_model=LoanApplicationOut)
def get_application(
    application_id: str, session: SessionDep, principal: CurrentPrincipal
) -> LoanApplicationOut:
    app = applications.application_for(session, principal, application_id)
    return LoanApplicationOut.build(session, app)


@router.post(
    "/v1/loan-applications/{application_id}/review",
    response_model=LoanApplicationWrittenOut,
    summary="Maker or checker step",
)
def review(
    application_id: str,
    body: ReviewIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The first review is the maker's, the second the checker's: another person, holding
    authority for the amount, once every due-diligence task is done (409
    ``four_eyes_required``, ``authority_insufficient`` or ``due_diligence_open`` otherwise; a
    limit that refuses the reservation answers its own code, e.g. ``line_frozen``)."""

    def produce() -> dict[str, Any]:
        app = applications.review(
            session,
            principal,
            application_id,
            action=body.action,
            note=body.note,
            conditions=body.conditions,
            on=body.on,
        )
        return LoanApplicationOut.build(session, app).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 200, produce)


@router.post(
    "/v1/loan-applications/{application_id}/conditions/{n}/met",
    response_model=LoanApplicationWrittenOut,
)
def meet_condition(
    application_id: str,
    n: Annotated[int, FastPath(ge=1, le=1000)],
    body: NoteIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        app = applications.meet_condition(session, principal, application_id, n, note=body.note)
        return LoanApplicationOut.build(session, app).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 200, produce)


@router.post(
    "/v1/loan-applications/{application_id}/withdraw", response_model=LoanApplicationWrittenOut
)
def withdraw(
    application_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        app = applications.withdraw(session, principal, application_id)
        return LoanApplicationOut.build(session, app).model_dump(mode="json")

    return _write(request, session, settings, principal, None, 200, produce)


# ---------------------------------------------------------------------------- due diligence


class GpsIn(_In):
    lat: float = Field(allow_inf_nan=False, examples=[31.3], description="decimal degrees")
    lon: float = Field(allow_inf_nan=False, examples=[120.7], description="decimal degrees")


class AttachmentIn(_In):
    name: str = Field(max_length=200, examples=["gate.jpg"])
    sha256: str = Field(description="64 hex digits: the digest of the file the bank keeps")


class SiteVisitIn(_In):
    """The site visit's checklist (实地调查): what was seen, where and when, and the digests
    of the photos and documents taken (the files stay with the bank)."""

    premises_verified: StrictBool
    production_running: StrictBool
    inventory_on_hand: str = Field(description="the stock's value seen", examples=["2500000.00"])
    findings: str = Field(max_length=4000, description="what the visit found")
    gps: GpsIn
    visited_at: datetime = Field(description="when, with its UTC offset")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)
    staff_count_seen: StrictInt | None = Field(None, ge=0)


class StatementsIn(_In):
    """A statement set as JSON: ``item`` → value (amounts as decimal strings, ``as_of``,
    ``period_start`` and ``period_end`` as YYYY-MM-DD)."""

    statements: dict[str, str] = Field(
        examples=[{"as_of": "2025-12-31", "revenue": "36500000.00", "cash": "1000000.00"}]
    )


def _csv_text(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A body that is not JSON reaches validation as bytes: the CSV variant, kept as text."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise PydanticCustomError("text_encoding", "CSV must be UTF-8 text") from None
    return handler(value)


# JSON (``StatementsIn``) or CSV text (``item,amount`` rows).
StatementsBody = Annotated[StatementsIn, WrapValidator(_csv_text), Body()]


@router.get("/v1/due-diligence-tasks", response_model=PageOut[DueDiligenceTaskOut])
def list_tasks(
    session: SessionDep,
    principal: CurrentPrincipal,
    state: TaskState | None = None,
    kind: Literal["site_visit", "financial_analysis"] | None = None,
    application: Annotated[str | None, Query(max_length=64, description="application id")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[DueDiligenceTaskOut]:
    """The bank's due-diligence tasks, oldest first."""
    page = tasks.tasks(
        session,
        principal,
        state=state,
        kind=kind,
        application=application,
        cursor=cursor,
        limit=limit,
    )
    return PageOut[DueDiligenceTaskOut](
        items=[DueDiligenceTaskOut.build(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/due-diligence-tasks/{task_id}", response_model=DueDiligenceTaskOut)
def get_task(task_id: str, session: SessionDep, principal: CurrentPrincipal) -> DueDiligenceTaskOut:
    return DueDiligenceTaskOut.build(tasks.task_for(session, principal, task_id))


@router.post(
    "/v1/due-diligence-tasks/{task_id}/site-visit", response_model=DueDiligenceTaskWrittenOut
)
def site_visit(
    task_id: str,
    body: SiteVisitIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    checklist = body.model_dump(mode="json", exclude_none=True)
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: DueDiligenceTaskOut.build(
            tasks.complete_site_visit(session, principal, task_id, checklist)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/due-diligence-tasks/{task_id}/financial-analysis",
    response_model=DueDiligenceTaskWrittenOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "item,amount\nas_of,2025-12-31\nrevenue,36500000.00\n",
                }
            }
        }
    },
)
async def financial_analysis(
    task_id: str,
    body: StatementsBody,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The statements as ``text/csv`` (``item,amount`` rows) or as JSON
    ``{"statements": {item: value, ...}}``."""
    media = _media(request)
    if media not in ("text/csv", "application/json"):
        raise UnsupportedMediaType(
            [FieldError("content-type", f"send text/csv or application/json, not {media!r}")]
        )
    source: str | dict[str, str] = body if isinstance(body, str) else body.statements
    raw = await request.body()
    return _write(
        request,
        session,
        settings,
        principal,
        raw,
        200,
        lambda: DueDiligenceTaskOut.build(
            tasks.complete_financial_analysis(session, principal, task_id, source)
        ).model_dump(mode="json"),
    )


# ---------------------------------------------------------------------------- disbursement


class DisburseIn(_In):
    debtor_name: str = Field(max_length=140, description="the bank's settlement account name")
    debtor_account: str
    debtor_agent: str = Field(description="12-digit CNAPS code of the paying bank")
    execution_on: date
    loan_ids: list[str] | None = Field(None, description="all approved loans ready if absent")


@router.post(
    "/v1/disbursements",
    status_code=201,
    response_model=DisbursementFileWrittenOut,
    summary="Write a pain.001 paying loans out",
)
def disburse(
    body: DisburseIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """One pain.001.001.09 file for every approved loan ready to go (or those named); fetch
    it from ``link``."""

    def produce() -> dict[str, Any]:
        row = loans.disburse(
            session,
            principal,
            debtor_name=body.debtor_name,
            debtor_account=body.debtor_account,
            debtor_agent=body.debtor_agent,
            execution_on=body.execution_on,
            loan_ids=body.loan_ids,
        )
        return DisbursementFileOut.build(row, loans.disbursed_by(session, row)).model_dump(
            mode="json"
        )

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/disbursements/{file_id}", response_model=DisbursementFileOut)
def get_disbursement(
    file_id: str, session: SessionDep, principal: CurrentPrincipal
) -> DisbursementFileOut:
    row = loans.disbursement_file(session, principal, file_id)
    return DisbursementFileOut.build(row, loans.disbursed_by(session, row))


@router.get(
    "/v1/disbursements/{file_id}/pain001",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
def pain001(file_id: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    row = loans.disbursement_file(session, principal, file_id)
    return Response(
        row.xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{row.message_id}.xml"'},
    )


# ---------------------------------------------------------------------------- statements


@router.post(
    "/v1/bank-statements",
    status_code=201,
    response_model=StatementImportWrittenOut,
    summary="Import a camt.053 statement",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_statement(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> JSONResponse:
    """The raw camt.053.001.02 or .08 XML (``application/xml``). Entries are matched to
    disbursements and repayments and applied; the rest are listed with the reason. The same
    file again returns the first import."""
    media = _media(request)
    if media not in _XML:
        raise UnsupportedMediaType(
            [FieldError("content-type", f"send application/xml, not {media!r}")]
        )
    raw = await request.body()
    return _write(
        request,
        session,
        settings,
        principal,
        raw,
        201,
        lambda: StatementImportOut.build(
            statements.import_statement(session, principal, raw)
        ).model_dump(mode="json"),
    )


@router.get("/v1/bank-statements/{import_id}", response_model=StatementImportOut)
def get_statement(
    import_id: str, session: SessionDep, principal: CurrentPrincipal
) -> StatementImportOut:
    return StatementImportOut.build(statements.import_for(session, principal, import_id))


# ---------------------------------------------------------------------------- loans


class RepayIn(_In):
    amount: str
    currency: str = "CNY"
    value_on: date
    source_ref: str | None = Field(
        None, max_length=160, description="e.g. a statement entry key; applied once"
    )


class PrepayIn(_In):
    principal: str
    currency: str = "CNY"
    on: date
    option: Literal["reduce_instalment", "reduce_term"] = "reduce_instalment"


class ExtendIn(_In):
    months: int
    on: date


class ReleaseIn(_In):
    value: str
    currency: str = "CNY"
    note: str = Field("", max_length=300)


class OnIn(_In):
    on: date


@router.get("/v1/loans", response_model=PageOut[LoanOut])
def list_loans(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: LoanStatus | None = None,
    category: LoanCategory | None = None,
    product_kind: ProductKind | None = None,
    borrower: Party = None,
    core: Party = None,
    maturity_from: BusinessDate | None = None,
    maturity_to: BusinessDate | None = None,
    disbursed_from: Annotated[
        BusinessDate | None, Query(description="paid out (started) on or after this day")
    ] = None,
    disbursed_to: Annotated[
        BusinessDate | None, Query(description="paid out (started) on or before this day")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[LoanOut]:
    """The bank's loans, or the enterprise's own, oldest first. ``core`` selects the loans
    on lines serving that core enterprise's chain."""
    only = loans.LoanFilter(
        status=status,
        category=category,
        product_kind=product_kind,
        borrower=borrower,
        core=core,
        maturity_from=maturity_from,
        maturity_to=maturity_to,
        disbursed_from=disbursed_from,
        disbursed_to=disbursed_to,
    )
    page = loans.loans(session, principal, only, cursor=cursor, limit=limit)
    return PageOut[LoanOut](
        items=[LoanOut.build(loan) for loan in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/v1/loans/accrue",
    response_model=AccrualRunWrittenOut,
    summary="Accrue interest on every active loan",
)
def accrue(
    body: AsOfIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: AccrualRunOut(
            as_of=body.as_of, journals=loans.accrue(session, principal, body.as_of)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/loan-applications/lapse",
    response_model=LapseRunWrittenOut,
    summary="Cancel approvals whose hold expired",
)
def lapse(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        None,
        200,
        lambda: LapseRunOut(lapsed=applications.lapse(session, principal)).model_dump(mode="json"),
    )


@router.post(
    "/v1/loans/scan",
    response_model=LoanScanWrittenOut,
    summary="Days past due, classification and alerts",
)
def scan(
    body: AsOfIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: LoanScanOut(
            as_of=body.as_of, **loans.scan(session, principal, body.as_of)
        ).model_dump(mode="json"),
    )


@router.get("/v1/loans/{loan_id}", response_model=LoanOut)
def get_loan(
    loan_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: BusinessDate | None = None,
) -> LoanOut:
    """The loan and its schedule; with ``as_of``, where it stands on that day (once it has
    been paid out)."""
    loan = loans.loan_for(session, principal, loan_id)
    started = as_of is not None and loan.start_on is not None
    return LoanOut.build(loan, loans.position(loan, as_of) if started and as_of else None)


@router.get("/v1/loans/{loan_id}/repayments", response_model=PageOut[RepaymentOut])
def list_repayments(
    loan_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    value_from: BusinessDate | None = None,
    value_to: BusinessDate | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[RepaymentOut]:
    """Money received on the loan, in the order it was applied."""
    loan = loans.loan_for(session, principal, loan_id)
    page = loans.repayments(
        session, loan, value_from=value_from, value_to=value_to, cursor=cursor, limit=limit
    )
    return PageOut[RepaymentOut](
        items=[RepaymentOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post("/v1/loans/{loan_id}/repayments", status_code=201, response_model=RepaymentWrittenOut)
def repay(
    loan_id: str,
    body: RepayIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Money received: penalty, then interest, then principal; any excess is unapplied."""
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: RepaymentOut.build(
            loans.repay(
                session,
                principal,
                loan_id,
                amount=_money(body.amount, body.currency, "amount"),
                value_on=body.value_on,
                source_ref=body.source_ref,
            )
        ).model_dump(mode="json"),
    )


@router.post("/v1/loans/{loan_id}/prepayments", status_code=201, response_model=RepaymentWrittenOut)
def prepay(
    loan_id: str,
    body: PrepayIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: RepaymentOut.build(
            loans.prepay(
                session,
                principal,
                loan_id,
                principal=_money(body.principal, body.currency, "principal"),
                on=body.on,
                option=body.option,
            )
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/loans/{loan_id}/extension",
    response_model=LoanWrittenOut,
    summary="Extend the loan (展期)",
)
def extend(
    loan_id: str,
    body: ExtendIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: LoanOut.build(
            loans.extend(session, principal, loan_id, months=body.months, on=body.on)
        ).model_dump(mode="json"),
    )


@router.post(
    "/v1/loans/{loan_id}/goods-releases", status_code=201, response_model=GoodsReleaseWrittenOut
)
def release_goods(
    loan_id: str,
    body: ReleaseIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Dealer financing: release goods in step with what the dealer has repaid."""
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: GoodsReleaseOut.build(
            loans.release_goods(
                session,
                principal,
                loan_id,
                value=_money(body.value, body.currency, "value"),
                note=body.note,
            )
        ).model_dump(mode="json"),
    )


@router.post("/v1/loans/{loan_id}/buy-back", status_code=201, response_model=RepaymentWrittenOut)
def buy_back(
    loan_id: str,
    body: OnIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Call the core's buy-back guarantee on an overdue dealer loan."""
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: RepaymentOut.build(
            loans.buy_back(session, principal, loan_id, on=body.on)
        ).model_dump(mode="json"),
    )


# ---------------------------------------------------------------------------- general ledger

_GL_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@router.get(
    "/v1/books/{book}/general-ledger",
    tags=["books"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the journal lines, streamed as they are read",
            "content": {
                "application/x-ndjson": {"itemSchema": GeneralLedgerLineOut.model_json_schema()},
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "journal_id,value_on,kind,ref,line_no,account,account_name,"
                    "currency,debit,credit,reverses_id,memo\n",
                },
            },
        }
    },
)
def general_ledger(
    book: str,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: BusinessDate | None = None,
    until: BusinessDate | None = None,
    format: Literal["jsonl", "csv"] | None = None,
) -> StreamingResponse:
    """Every journal line of the book in value-date order, debit and credit in their own
    columns, streamed as it is read: JSON Lines (one ``GeneralLedgerLineOut`` a line), or
    CSV with ``?format=csv`` or ``Accept: text/csv``."""
    book_id = books.readable_book(session, principal, book)
    check_period(since, until)  # refused before the first byte, not mid-stream
    chosen = format or ("csv" if "text/csv" in request.headers.get("accept", "") else "jsonl")
    factory: sessionmaker[Session] = request.app.state.session_factory
    return StreamingResponse(
        _gl_stream(factory, book_id, since, until, chosen),
        media_type=_GL_MEDIA[chosen],
        headers={"Content-Disposition": f'attachment; filename="gl-{book}.{chosen}"'},
    )


def _gl_stream(
    factory: sessionmaker[Session],
    book_id: str,
    since: date | None,
    until: date | None,
    chosen: str,
) -> Iterator[bytes]:
    """The export from a read transaction of its own: the request's unit of work ends
    before the answer is sent, the stream after."""
    encode = general_ledger_csv if chosen == "csv" else general_ledger_jsonl
    with transaction(factory, write=False) as session:
        yield from encode(books.general_ledger_lines(session, book_id, since=since, until=until))
