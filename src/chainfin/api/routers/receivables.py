"""The receivables registry: register, release, search, export for filing."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from chainfin.adapters.formats.tabular import TabularFormat
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import Input, money
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import Cursor, Limit, Since, Until
from chainfin.api.streams import stream_rows, streamed
from chainfin.resources.common import PageOut
from chainfin.resources.receivables import FilingRowOut, RegistrationOut, RegistrationWrittenOut
from chainfin.services import receivables

router = APIRouter(prefix="/v1/receivables", tags=["receivables registry"])


class RegistrationIn(Input):
    invoice_document_id: str
    kind: str = Field(description="pledge or transfer")
    financing_ref: str | None = Field(None, max_length=64)
    bank: str | None = Field(
        None, description="the creditor registering its own receivable names its bank (code)"
    )


@router.post("", response_model=RegistrationWrittenOut, status_code=201)
def register(
    body: RegistrationIn, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RegistrationWrittenOut:
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
    out = RegistrationWrittenOut.build(row)
    out.receipt = receipt_for(session, settings)
    return out


@router.post("/{registration_id}/release", response_model=RegistrationWrittenOut)
def release(
    registration_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RegistrationWrittenOut:
    row = receivables.release(session, principal, registration_id)
    out = RegistrationWrittenOut.build(row)
    out.receipt = receipt_for(session, settings)
    return out


def _search(
    debtor_uscc: Annotated[str | None, Query(description="the debtor (obligor)")] = None,
    creditor_uscc: Annotated[str | None, Query(description="the creditor (grantor)")] = None,
    invoice_number: str | None = None,
    amount: Annotated[str | None, Query(description="exact amount, decimal string")] = None,
    currency: str = "CNY",
    include_released: bool = False,
    since: Since = None,
    until: Until = None,
) -> receivables.SearchFilter:
    return receivables.SearchFilter(
        debtor_uscc=debtor_uscc,
        creditor_uscc=creditor_uscc,
        invoice_number=invoice_number,
        amount=money(amount, currency, "amount") if amount else None,
        include_released=include_released,
        since=since,
        until=until,
    )


SearchDep = Annotated[receivables.SearchFilter, Depends(_search)]


@router.get("", response_model=PageOut[RegistrationOut])
def search(
    session: SessionDep,
    principal: CurrentPrincipal,
    f: SearchDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[RegistrationOut]:
    """Search the registry before financing, in the order of registration: your own
    registrations (and those you are a party to) in full, other banks' only in their public
    part. ``since``/``until``: when registered."""
    page = receivables.search(session, principal, f, cursor=cursor, limit=limit)
    return PageOut[RegistrationOut](
        items=[RegistrationOut.seen_by(principal, r) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/filing",
    summary="Registrations shaped for 中登网 filing, streamed as CSV or JSON Lines",
    response_class=StreamingResponse,
    responses=streamed(
        FilingRowOut,
        TabularFormat.CSV,
        TabularFormat.JSONL,
        description="one filing row per registration (JSON Lines: a FilingRowOut a line)",
    ),
)
def filing(
    request: Request,
    principal: CurrentPrincipal,
    f: SearchDep,
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Active registrations (the same filters as the search) in the order of registration,
    as CSV with a header line or as JSON Lines, streamed while they are read. Your own
    registrations in full; other banks' only in their public part (registration id, type and
    date, grantor and debtor, the amount as a band: see docs/security.md). The columns are
    those of ``FilingRowOut``."""
    return stream_rows(
        request,
        lambda s: receivables.filing_rows(s, principal, f),
        TabularFormat(format),
        receivables.FILING_COLUMNS,
        filename="filing",
        as_row=lambda row: FilingRowOut.build(row).model_dump(mode="json"),
    )
