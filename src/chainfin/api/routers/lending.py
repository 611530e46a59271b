"""Lending: credit lines, sub-limits and exposure caps; loan products and approval authority;
applications decided by the rules with people in the loop (due-diligence tasks, maker and
checker); disbursement by pain.001, bank statements (camt.053) in, servicing of the loans;
commodity prices for pledged goods and the general-ledger export of a bank's book.

Every write honours an ``Idempotency-Key`` header and answers with its ledger receipt."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CreditSublimit,
    DisbursementFile,
    ExposureCap,
    GoodsRelease,
)
from chainfin.adapters.formats import jsonbound
from chainfin.adapters.formats.tabular import TabularFormat, write_rows
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import BusinessDate, Input, check_tree, money
from chainfin.api.receipts import write_once
from chainfin.config import Settings
from chainfin.domain.access import Principal
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import books
from chainfin.services.lending import (
    applications,
    lines,
    loans,
    products,
    statements,
    tasks,
)

router = APIRouter(tags=["lending"])

_XML = ("application/xml", "text/xml")


_write = write_once  # every write: once per Idempotency-Key, with its receipt


# A decimal string as money; malformed or too large is a 422 naming the field.
_money = money


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class _In(Input):
    pass


# ---------------------------------------------------------------------------- shapes


def sublimit_out(row: CreditSublimit, currency: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "line_id": row.line_id,
        "product_kind": row.product_kind,
        "member_id": row.member_id,
        "limit": Money(row.limit_minor, currency).as_dict(),
        "pending": Money(row.pending_minor, currency).as_dict(),
        "posted": Money(row.posted_minor, currency).as_dict(),
    }


def cap_out(row: ExposureCap, members: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "bank_id": row.bank_id,
        "kind": row.kind,
        "name": row.name,
        "core_id": row.core_id,
        "members": members,
        "cap": Money(row.cap_minor, row.currency).as_dict(),
        "used": Money(row.used_minor, row.currency).as_dict(),
        "available": Money(row.cap_minor - row.used_minor, row.currency).as_dict(),
    }


def disbursement_out(row: DisbursementFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "execution_on": row.execution_on,
        "count": row.count,
        "total": Money(row.total_minor, row.currency).as_dict(),
        "digest": row.digest,
        "created_at": row.created_at,
        "link": f"/v1/disbursements/{row.id}/pain001",
    }


def release_out(row: GoodsRelease) -> dict[str, Any]:
    return {
        "id": row.id,
        "loan_id": row.loan_id,
        "value": Money(row.value_minor, row.currency).as_dict(),
        "note": row.note,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


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


@router.post("/v1/credit-lines", status_code=201, summary="Open a credit line")
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
        return lines.line_out(row)

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/credit-lines")
def list_lines(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [lines.line_out(row) for row in lines.lines(session, principal)]


@router.get("/v1/credit-lines/{line_id}")
def get_line(line_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return lines.line_out(lines.line_for(session, principal, line_id))


@router.post("/v1/credit-lines/expire", summary="Expire lines past their expiry date")
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
        lambda: {"as_of": body.as_of, "expired": lines.expire(session, principal, body.as_of)},
    )


@router.post("/v1/credit-lines/{line_id}/sublimits", status_code=201)
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
        return {**sublimit_out(sub, line.currency), "line": lines.line_out(line)}

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
        lambda: lines.line_out(
            lines.set_status(session, principal, line_id, status=status, reason=body.reason)
        ),
    )


@router.post("/v1/credit-lines/{line_id}/freeze", summary="No new drawings; loans run on")
def freeze(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "frozen", body, request, session, settings, principal)


@router.post("/v1/credit-lines/{line_id}/unfreeze")
def unfreeze(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "active", body, request, session, settings, principal)


@router.post("/v1/credit-lines/{line_id}/close")
def close(
    line_id: str,
    body: ReasonIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    return _set_status(line_id, "closed", body, request, session, settings, principal)


@router.post("/v1/exposure-caps", status_code=201, summary="Cap exposure to a chain or group")
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
        return cap_out(row, lines.cap_members(session, row.id))

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/exposure-caps")
def list_caps(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [
        cap_out(row, lines.cap_members(session, row.id)) for row in lines.caps(session, principal)
    ]


# ---------------------------------------------------------------------------- products


class ProductIn(_In):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    config: dict[str, Any] = Field(
        description="``kind`` plus any overrides of the kind's template",
        examples=[{"kind": "receivable_financing", "spread_bp": 60}],
    )


class AuthorityIn(_In):
    user: str = Field(description="username or user id of one of the bank's staff")
    level: int


@router.post("/v1/loan-products", status_code=201, summary="Define a loan product")
def define_product(
    body: ProductIn,
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
        lambda: products.product_out(
            products.define(session, principal, code=body.code, name=body.name, config=body.config)
        ),
    )


@router.get("/v1/loan-products")
def list_products(
    session: SessionDep, principal: CurrentPrincipal, bank: str | None = None
) -> list[dict[str, Any]]:
    """Bank staff see their bank's products; an enterprise names the bank (code or id)."""
    return [
        products.product_view(principal, p) for p in products.products(session, principal, bank)
    ]


@router.post("/v1/approval-authorities", status_code=201, summary="Delegate credit authority")
def grant_authority(
    body: AuthorityIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        products.grant_authority(session, principal, user=body.user, level=body.level)
        return {"user": body.user, "level": body.level}

    return _write(request, session, settings, principal, body, 201, produce)


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


@router.post("/v1/loan-applications", status_code=201, summary="Apply for a loan")
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
        return applications.application_out(session, app)

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/loan-applications")
def list_applications(
    session: SessionDep, principal: CurrentPrincipal, status: str | None = None
) -> list[dict[str, Any]]:
    return [
        applications.application_out(session, a)
        for a in applications.applications(session, principal, status=status)
    ]


@router.get("/v1/loan-applications/{application_id}")
def get_application(
    application_id: str, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    app = applications.application_for(session, principal, application_id)
    return applications.application_out(session, app)


@router.post("/v1/loan-applications/{application_id}/review", summary="Maker or checker step")
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
    ``approval-refused`` otherwise)."""

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
        return applications.application_out(session, app)

    return _write(request, session, settings, principal, body, 200, produce)


@router.post("/v1/loan-applications/{application_id}/conditions/{n}/met")
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
        return applications.application_out(session, app)

    return _write(request, session, settings, principal, body, 200, produce)


@router.post("/v1/loan-applications/{application_id}/withdraw")
def withdraw(
    application_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        app = applications.withdraw(session, principal, application_id)
        return applications.application_out(session, app)

    return _write(request, session, settings, principal, None, 200, produce)


# ---------------------------------------------------------------------------- due diligence


@router.get("/v1/due-diligence-tasks")
def list_tasks(
    session: SessionDep, principal: CurrentPrincipal, state: str | None = None
) -> list[dict[str, Any]]:
    return [tasks.task_out(t) for t in tasks.tasks(session, principal, state=state)]


@router.get("/v1/due-diligence-tasks/{task_id}")
def get_task(task_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return tasks.task_out(tasks.task_for(session, principal, task_id))


@router.post("/v1/due-diligence-tasks/{task_id}/site-visit")
def site_visit(
    task_id: str,
    checklist: Annotated[
        dict[str, Any],
        Body(
            description="premises_verified, production_running, inventory_on_hand, findings, "
            "gps {lat, lon}, visited_at (with offset), attachments [{name, sha256}]"
        ),
    ],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    check_tree(checklist)
    body = json.dumps(checklist, sort_keys=True).encode()
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        200,
        lambda: tasks.task_out(tasks.complete_site_visit(session, principal, task_id, checklist)),
    )


@router.post(
    "/v1/due-diligence-tasks/{task_id}/financial-analysis",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["statements"],
                        "properties": {"statements": {"type": "object"}},
                    }
                },
            },
        }
    },
)
async def financial_analysis(
    task_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The statements as ``text/csv`` (``item,amount`` rows) or as JSON
    ``{"statements": {item: value, ...}}``."""
    raw = await request.body()
    media = _media(request)
    source: str | dict[str, Any]
    if media == "text/csv":
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed([FieldError("body", "CSV must be UTF-8 text")]) from None
    elif media == "application/json":
        try:
            data = jsonbound.loads(raw)
        except jsonbound.TooDeep as exc:
            raise ValidationFailed([FieldError("body", str(exc))]) from None
        except ValueError as exc:
            raise ValidationFailed([FieldError("body", f"invalid JSON: {exc}")]) from None
        if not isinstance(data, dict) or set(data) != {"statements"}:
            raise ValidationFailed(
                [FieldError("statements", 'send {"statements": {item: value, ...}}')]
            )
        if not isinstance(data["statements"], dict):
            raise ValidationFailed([FieldError("statements", "must be an object of item: value")])
        source = data["statements"]
    else:
        raise ValidationFailed(
            [FieldError("content-type", f"send text/csv or application/json, not {media!r}")]
        )
    return _write(
        request,
        session,
        settings,
        principal,
        raw,
        200,
        lambda: tasks.task_out(
            tasks.complete_financial_analysis(session, principal, task_id, source)
        ),
    )


# ---------------------------------------------------------------------------- disbursement


class DisburseIn(_In):
    debtor_name: str = Field(max_length=140, description="the bank's settlement account name")
    debtor_account: str
    debtor_agent: str = Field(description="12-digit CNAPS code of the paying bank")
    execution_on: date
    loan_ids: list[str] | None = Field(None, description="all approved loans ready if absent")


@router.post("/v1/disbursements", status_code=201, summary="Write a pain.001 paying loans out")
def disburse(
    body: DisburseIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """One pain.001.001.09 file for every approved loan ready to go (or those named); fetch
    it from ``link``."""
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: disbursement_out(
            loans.disburse(
                session,
                principal,
                debtor_name=body.debtor_name,
                debtor_account=body.debtor_account,
                debtor_agent=body.debtor_agent,
                execution_on=body.execution_on,
                loan_ids=body.loan_ids,
            )
        ),
    )


@router.get("/v1/disbursements/{file_id}")
def get_disbursement(
    file_id: str, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return disbursement_out(loans.disbursement_file(session, principal, file_id))


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
        raise ValidationFailed([FieldError("content-type", f"send application/xml, not {media!r}")])
    raw = await request.body()
    return _write(
        request,
        session,
        settings,
        principal,
        raw,
        201,
        lambda: statements.import_out(statements.import_statement(session, principal, raw)),
    )


@router.get("/v1/bank-statements/{import_id}")
def get_statement(
    import_id: str, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return statements.import_out(statements.import_for(session, principal, import_id))


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


@router.get("/v1/loans")
def list_loans(
    session: SessionDep, principal: CurrentPrincipal, status: str | None = None
) -> list[dict[str, Any]]:
    return [loans.loan_out(loan) for loan in loans.loans(session, principal, status=status)]


@router.post("/v1/loans/accrue", summary="Accrue interest on every active loan")
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
        lambda: {"as_of": body.as_of, "journals": loans.accrue(session, principal, body.as_of)},
    )


@router.post("/v1/loan-applications/lapse", summary="Cancel approvals whose hold expired")
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
        lambda: {"lapsed": applications.lapse(session, principal)},
    )


@router.post("/v1/loans/scan", summary="Days past due, classification and alerts")
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
        lambda: {"as_of": body.as_of, **loans.scan(session, principal, body.as_of)},
    )


@router.get("/v1/loans/{loan_id}")
def get_loan(
    loan_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: BusinessDate | None = None,
) -> dict[str, Any]:
    """The loan and its schedule; with ``as_of``, where it stands on that day."""
    return loans.loan_out(loans.loan_for(session, principal, loan_id), as_of)


@router.get("/v1/loans/{loan_id}/repayments")
def list_repayments(
    loan_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    loan = loans.loan_for(session, principal, loan_id)
    return [loans.repayment_out(r) for r in loans.repayments(session, loan)]


@router.post("/v1/loans/{loan_id}/repayments", status_code=201)
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
        lambda: loans.repayment_out(
            loans.repay(
                session,
                principal,
                loan_id,
                amount=_money(body.amount, body.currency, "amount"),
                value_on=body.value_on,
                source_ref=body.source_ref,
            )
        ),
    )


@router.post("/v1/loans/{loan_id}/prepayments", status_code=201)
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
        lambda: loans.repayment_out(
            loans.prepay(
                session,
                principal,
                loan_id,
                principal=_money(body.principal, body.currency, "principal"),
                on=body.on,
                option=body.option,
            )
        ),
    )


@router.post("/v1/loans/{loan_id}/extension", summary="Extend the loan (展期)")
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
        lambda: loans.loan_out(
            loans.extend(session, principal, loan_id, months=body.months, on=body.on)
        ),
    )


@router.post("/v1/loans/{loan_id}/goods-releases", status_code=201)
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
        lambda: release_out(
            loans.release_goods(
                session,
                principal,
                loan_id,
                value=_money(body.value, body.currency, "value"),
                note=body.note,
            )
        ),
    )


@router.post("/v1/loans/{loan_id}/buy-back", status_code=201)
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
        lambda: loans.repayment_out(loans.buy_back(session, principal, loan_id, on=body.on)),
    )


# ---------------------------------------------------------------------------- prices, GL


@router.get(
    "/v1/books/{book}/general-ledger",
    tags=["books"],
    response_model=None,
    responses={200: {"content": {"text/csv": {}}}},
)
def general_ledger(
    book: str,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: BusinessDate | None = None,
    until: BusinessDate | None = None,
    format: Literal["json", "csv"] | None = None,
) -> dict[str, Any] | Response:
    """Every journal line of the book in value-date order, debit and credit in their own
    columns. CSV with ``?format=csv`` or ``Accept: text/csv``."""
    rows = books.gl_rows(books.general_ledger(session, principal, book, since=since, until=until))
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            write_rows(rows, TabularFormat.CSV, books.GL_COLUMNS),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="gl-{book}.csv"'},
        )
    return {
        "book": book,
        "since": since,
        "until": until,
        "columns": list(books.GL_COLUMNS),
        "rows": rows,
    }
