"""Digital payable credentials: programmes, debtor confirmations, issue, pieces (accept,
reject, split, transfer, quote), financing, settlement; the books and the LPR table.

Money-moving calls are idempotent by their own keys (a quote is financed once; a payment
reference is paid once) and every write also honours an ``Idempotency-Key`` header."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import BusinessDate, Input, money
from chainfin.api.receipts import write_once
from chainfin.api.schemas import Cursor, Limit
from chainfin.domain import clock
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.resources.books import (
    AccountStatementOut,
    JournalOut,
    JournalWrittenOut,
    TrialBalanceOut,
)
from chainfin.resources.common import PageOut
from chainfin.resources.credentials import (
    AmountDueOut,
    ConfirmationOut,
    ConfirmationWrittenOut,
    CredentialOut,
    CredentialPaymentOut,
    CredentialPaymentWrittenOut,
    CredentialPieceOut,
    CredentialPieceWrittenOut,
    CredentialTreeOut,
    CredentialTreeWrittenOut,
    CredentialWrittenOut,
    FinancingOut,
    FinancingWrittenOut,
    LprTableOut,
    ProgrammeOut,
    ProgrammeWrittenOut,
    QuoteOut,
    QuoteWrittenOut,
    SplitOut,
    SplitWrittenOut,
    TransferOut,
    TransferWrittenOut,
)
from chainfin.services import books, credentials, rates
from chainfin.services.pagination import DEFAULT_LIMIT

router = APIRouter(tags=["payable credentials"])

State = Annotated[str | None, Query(min_length=1, max_length=12, pattern=r"^[a-z_]+$")]


def ref_filter(description: str) -> Any:
    """An enterprise (id or USCC) or a bank (code or id) a list is narrowed to."""
    return Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description=description)


_write = write_once  # every write: once per Idempotency-Key, with its receipt


def _dump(resource: BaseModel) -> dict[str, Any]:
    """A resource as the JSON answer of a write (:func:`write_once` adds the receipt)."""
    return resource.model_dump(mode="json")


class _In(Input):
    pass


class ProgrammeIn(_In):
    core: str = Field(description="USCC or enterprise id of the core enterprise")
    name: str = Field(max_length=200)
    line: str = Field(description="this bank's line backing the programme, e.g. 10000000.00")
    currency: str = "CNY"
    rating: str = Field(description="the core enterprise's rating, e.g. AAA")
    tenor_cap_months: int = 6
    roll_convention: str = "following"
    min_piece: str = "100.00"
    day_count: str = "ACT/360"
    grace_days: int = 3
    penalty_multiplier: str = "1.5"
    pricing: dict[str, Any] | None = None


class ConfirmIn(_In):
    supplier: str = Field(description="USCC or enterprise id")
    amount: str
    currency: str = "CNY"
    due_on: date
    document_ids: list[str] = Field(default_factory=list)
    trade_case_key: str | None = None


class IssueIn(_In):
    programme_id: str
    confirmation_ids: list[str]
    amount: str
    currency: str = "CNY"
    maturity_on: date
    issued_on: date | None = None


class SplitIn(_In):
    amounts: list[str] = Field(min_length=2)


class TransferIn(_In):
    to: str = Field(description="USCC or enterprise id of the holder's supplier")
    amount: str | None = Field(None, description="part of the piece; the whole piece if absent")


class RejectIn(_In):
    reason: str = Field("", max_length=200)


class QuoteIn(_In):
    bank: str = Field(description="bank code or id of a funder of the programme")
    as_of: date | None = None


class SettleIn(_In):
    amount: str
    payment_ref: str = Field(min_length=1, max_length=64)
    paid_on: date | None = None


# ---------------------------------------------------------------------------- programmes


@router.post(
    "/v1/credentials/programmes",
    status_code=201,
    summary="Open a programme",
    response_model=ProgrammeWrittenOut,
)
def open_programme(
    body: ProgrammeIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = credentials.create_programme(
            session,
            principal,
            core=body.core,
            name=body.name,
            line=money(body.line, body.currency, "line"),
            rating=body.rating,
            tenor_cap_months=body.tenor_cap_months,
            roll_convention=body.roll_convention,
            min_piece=money(body.min_piece, body.currency, "min_piece"),
            day_count=body.day_count,
            grace_days=body.grace_days,
            penalty_multiplier=body.penalty_multiplier,
            pricing=body.pricing,
        )
        return ProgrammeOut.build(row).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get(
    "/v1/credentials/programmes",
    summary="Programmes your bank funds, or you are the core of",
    response_model=PageOut[ProgrammeOut],
)
def list_programmes(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: State = None,
    core: Annotated[str | None, ref_filter("the core enterprise: id or USCC")] = None,
    funder: Annotated[str | None, ref_filter("a funder bank: code or id")] = None,
) -> PageOut[ProgrammeOut]:
    filters = credentials.ProgrammeFilter(status=status, core=core, funder=funder)
    page = credentials.programmes(session, principal, filters, cursor=cursor, limit=limit)
    items = [ProgrammeOut.build(p) for p in page.items]
    return PageOut[ProgrammeOut](items=items, next_cursor=page.next_cursor)


@router.get("/v1/credentials/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(
    programme_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ProgrammeOut:
    return ProgrammeOut.build(credentials.programme_for(session, principal, programme_id))


# ---------------------------------------------------------------------------- confirmations


@router.post(
    "/v1/credentials/confirmations",
    status_code=201,
    summary="Confirm a payable (确权)",
    response_model=ConfirmationWrittenOut,
)
def confirm(
    body: ConfirmIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = credentials.confirm(
            session,
            principal,
            supplier=body.supplier,
            amount=money(body.amount, body.currency, "amount"),
            due_on=body.due_on,
            document_ids=body.document_ids,
            trade_case_key=body.trade_case_key,
        )
        return ConfirmationOut.build(row).model_dump(mode="json")

    return _write(request, session, settings, principal, body, 201, produce)


@router.get(
    "/v1/credentials/confirmations",
    summary="Payables you confirmed, or that were confirmed to you",
    response_model=PageOut[ConfirmationOut],
)
def list_confirmations(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    debtor: Annotated[str | None, ref_filter("the core enterprise that owes: id or USCC")] = None,
    creditor: Annotated[str | None, ref_filter("the supplier owed: id or USCC")] = None,
    due_from: BusinessDate | None = None,
    due_to: BusinessDate | None = None,
) -> PageOut[ConfirmationOut]:
    filters = credentials.ConfirmationFilter(
        debtor=debtor, creditor=creditor, due_from=due_from, due_to=due_to
    )
    page = credentials.confirmations(session, principal, filters, cursor=cursor, limit=limit)
    items = [ConfirmationOut.build(c) for c in page.items]
    return PageOut[ConfirmationOut](items=items, next_cursor=page.next_cursor)


# ---------------------------------------------------------------------------- pieces


@router.get(
    "/v1/credentials/pieces",
    summary="Pieces you hold, of credentials you issued, or that your bank funds",
    response_model=PageOut[CredentialPieceOut],
)
def list_pieces(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Annotated[
        list[PieceStatus] | None, Query(description="any of these states (repeat it)")
    ] = None,
    include_closed: Annotated[
        bool, Query(description="without status: closed pieces too, not only live ones")
    ] = False,
    credential_id: Annotated[str | None, ref_filter("pieces of this credential")] = None,
    holder: Annotated[str | None, ref_filter("the holding enterprise: id or USCC")] = None,
    financed_by: Annotated[str | None, ref_filter("the discounting bank: code or id")] = None,
    maturity_from: BusinessDate | None = None,
    maturity_to: BusinessDate | None = None,
) -> PageOut[CredentialPieceOut]:
    """Every piece you may read by id: the pieces you hold or held, every piece of the
    credentials you issued, and (bank staff) every piece of the credentials of the programmes
    your bank funds, its discounted pieces among them (``financed_by`` = your bank). Live
    pieces only (offered, held, financed, overdue) unless ``include_closed`` or ``status``
    says otherwise; ``maturity_*`` is the credential's maturity date."""
    filters = credentials.PieceFilter(
        statuses=tuple(status or ()),
        include_closed=include_closed,
        credential_id=credential_id,
        holder=holder,
        financed_by=financed_by,
        maturity_from=maturity_from,
        maturity_to=maturity_to,
    )
    page = credentials.list_pieces(session, principal, filters, cursor=cursor, limit=limit)
    items = [CredentialPieceOut.build(p) for p in page.items]
    return PageOut[CredentialPieceOut](items=items, next_cursor=page.next_cursor)


@router.get("/v1/credentials/pieces/{piece_id}", response_model=CredentialPieceOut)
def get_piece(
    piece_id: str, session: SessionDep, principal: CurrentPrincipal
) -> CredentialPieceOut:
    return CredentialPieceOut.build(credentials.piece_for(session, principal, piece_id))


@router.post("/v1/credentials/pieces/{piece_id}/accept", response_model=CredentialPieceWrittenOut)
def accept(
    piece_id: str,
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
        lambda: _dump(CredentialPieceOut.build(credentials.accept(session, principal, piece_id))),
    )


@router.post("/v1/credentials/pieces/{piece_id}/reject", response_model=CredentialPieceWrittenOut)
def reject(
    piece_id: str,
    body: RejectIn,
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
        lambda: _dump(
            CredentialPieceOut.build(
                credentials.reject(session, principal, piece_id, reason=body.reason)
            )
        ),
    )


@router.post(
    "/v1/credentials/pieces/{piece_id}/split", status_code=201, response_model=SplitWrittenOut
)
def split(
    piece_id: str,
    body: SplitIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        currency = credentials.held_currency(session, principal, piece_id)
        amounts = [money(a, currency, f"amounts[{i}]") for i, a in enumerate(body.amounts)]
        children = credentials.split(session, principal, piece_id, amounts)
        return _dump(SplitOut.build(children))

    return _write(request, session, settings, principal, body, 201, produce)


@router.post(
    "/v1/credentials/pieces/{piece_id}/transfer",
    status_code=201,
    response_model=TransferWrittenOut,
)
def transfer(
    piece_id: str,
    body: TransferIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        currency = credentials.held_currency(session, principal, piece_id)
        amount = money(body.amount, currency, "amount") if body.amount else None
        moved = credentials.transfer(session, principal, piece_id, to=body.to, amount=amount)
        return _dump(TransferOut.build(moved))

    return _write(request, session, settings, principal, body, 201, produce)


@router.post(
    "/v1/credentials/pieces/{piece_id}/quote", status_code=201, response_model=QuoteWrittenOut
)
def quote(
    piece_id: str,
    body: QuoteIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """A funder bank's discount quote: base rate (the LPR fixing it used, with a warning
    when that fixing is over a month old), spread, every fee, net proceeds and the
    annualised all-in cost."""
    return _write(
        request,
        session,
        settings,
        principal,
        body,
        201,
        lambda: _dump(
            QuoteOut.build(
                credentials.quote(session, principal, piece_id, bank=body.bank, as_of=body.as_of)
            )
        ),
    )


@router.get("/v1/credentials/quotes/{quote_id}", response_model=QuoteOut)
def get_quote(quote_id: str, session: SessionDep, principal: CurrentPrincipal) -> QuoteOut:
    return QuoteOut.build(credentials.quote_for(session, principal, quote_id))


@router.post(
    "/v1/credentials/quotes/{quote_id}/finance",
    status_code=201,
    response_model=FinancingWrittenOut,
)
def finance(
    quote_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Accept a quote: the bank funds, the piece passes to it, the registry records it.
    Accepting the same quote again returns the same financing."""
    return _write(
        request,
        session,
        settings,
        principal,
        None,
        201,
        lambda: _dump(FinancingOut.build(credentials.finance(session, principal, quote_id))),
    )


# ---------------------------------------------------------------------------- credentials


@router.post(
    "/v1/credentials",
    status_code=201,
    summary="Issue a credential",
    response_model=CredentialTreeWrittenOut,
)
def issue(
    body: IssueIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    def produce() -> dict[str, Any]:
        row = credentials.issue(
            session,
            principal,
            programme_id=body.programme_id,
            confirmation_ids=body.confirmation_ids,
            amount=money(body.amount, body.currency, "amount"),
            maturity_on=body.maturity_on,
            issued_on=body.issued_on,
        )
        return _dump(CredentialTreeOut.build(row, credentials.tree(session, principal, row.id)))

    return _write(request, session, settings, principal, body, 201, produce)


@router.get(
    "/v1/credentials",
    summary="Credentials you issued, hold pieces of, or that your bank funds",
    response_model=PageOut[CredentialOut],
)
def list_credentials(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Annotated[
        list[CredentialStatus] | None, Query(description="any of these states (repeat it)")
    ] = None,
    programme_id: Annotated[str | None, ref_filter("credentials of this programme")] = None,
    core: Annotated[str | None, ref_filter("the issuing core enterprise: id or USCC")] = None,
    holder: Annotated[
        str | None, ref_filter("holds one of the pieces you see: enterprise id or USCC")
    ] = None,
    funder: Annotated[str | None, ref_filter("funds the programme: bank code or id")] = None,
    maturity_from: BusinessDate | None = None,
    maturity_to: BusinessDate | None = None,
    issued_from: BusinessDate | None = None,
    issued_to: BusinessDate | None = None,
) -> PageOut[CredentialOut]:
    """Every credential you may read by id: those you issued, those you hold (or held) a
    piece of, and (bank staff) those of the programmes your bank funds."""
    filters = credentials.CredentialFilter(
        statuses=tuple(status or ()),
        programme_id=programme_id,
        core=core,
        holder=holder,
        funder=funder,
        maturity_from=maturity_from,
        maturity_to=maturity_to,
        issued_from=issued_from,
        issued_to=issued_to,
    )
    page = credentials.list_credentials(session, principal, filters, cursor=cursor, limit=limit)
    items = [CredentialOut.build(c) for c in page.items]
    return PageOut[CredentialOut](items=items, next_cursor=page.next_cursor)


@router.get("/v1/credentials/{credential_id}", response_model=CredentialOut)
def get_credential(
    credential_id: str, session: SessionDep, principal: CurrentPrincipal
) -> CredentialOut:
    return CredentialOut.build(credentials.get(session, principal, credential_id))


@router.get(
    "/v1/credentials/{credential_id}/tree",
    summary="The pieces you may see, by lineage",
    response_model=CredentialTreeOut,
)
def tree(credential_id: str, session: SessionDep, principal: CurrentPrincipal) -> CredentialTreeOut:
    credential = credentials.get(session, principal, credential_id)
    return CredentialTreeOut.build(credential, credentials.tree(session, principal, credential_id))


@router.get(
    "/v1/credentials/{credential_id}/due",
    summary="What settles it in full on a date",
    response_model=AmountDueOut,
)
def amount_due(
    credential_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    on: BusinessDate | None = None,
) -> AmountDueOut:
    return AmountDueOut.build(credentials.amount_due(session, principal, credential_id, on))


@router.post("/v1/credentials/{credential_id}/cancel", response_model=CredentialWrittenOut)
def cancel(
    credential_id: str,
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
        lambda: _dump(CredentialOut.build(credentials.cancel(session, principal, credential_id))),
    )


@router.post(
    "/v1/credentials/{credential_id}/settle",
    status_code=201,
    response_model=CredentialPaymentWrittenOut,
)
def settle(
    credential_id: str,
    body: SettleIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """The issuer pays; each current holder is paid its piece. The same ``payment_ref``
    again returns the first payment."""

    def produce() -> dict[str, Any]:
        credential = credentials.get(session, principal, credential_id)
        payment = credentials.settle(
            session,
            principal,
            credential_id,
            amount=money(body.amount, credential.currency, "amount"),
            payment_ref=body.payment_ref,
            paid_on=body.paid_on,
        )
        return _dump(CredentialPaymentOut.build(payment))

    return _write(request, session, settings, principal, body, 201, produce)


# ---------------------------------------------------------------------------- books, rates


@router.get("/v1/books/{book}/trial-balance", tags=["books"], response_model=TrialBalanceOut)
def trial_balance(book: str, session: SessionDep, principal: CurrentPrincipal) -> TrialBalanceOut:
    """``book`` is your bank's code (or ``bank``), or ``platform`` for the credential
    sub-ledger."""
    return TrialBalanceOut.build(book, books.trial_balance(session, principal, book))


class ReverseIn(_In):
    reason: str = Field(min_length=3, max_length=200)


@router.post(
    "/v1/books/journals/{journal_id}/reverse",
    tags=["books"],
    status_code=201,
    response_model=JournalWrittenOut,
)
def reverse_journal(
    journal_id: str,
    body: ReverseIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Undo a journal of your bank's book by posting its mirror image (journals are never
    edited). Reversing the same journal again returns the first reversal."""

    def produce() -> dict[str, Any]:
        posted = books.reverse(session, principal, journal_id, reason=body.reason)
        return _dump(JournalOut.build(posted))

    return _write(request, session, settings, principal, body, 201, produce)


@router.get(
    "/v1/books/{book}/accounts/{account}/statement",
    tags=["books"],
    response_model=AccountStatementOut,
)
def statement(
    book: str,
    account: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: BusinessDate | None = None,
    until: BusinessDate | None = None,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "CNY",
) -> AccountStatementOut:
    """An account's movements in one currency, in value-date order with the running balance,
    and the balance brought forward from before ``since``."""
    spec, opening, lines = books.statement(
        session, principal, book, account, since=since, until=until, currency=currency
    )
    return AccountStatementOut.build(book, spec, currency, opening, lines, since=since, until=until)


@router.get("/v1/rates/lpr", tags=["reference"], response_model=LprTableOut)
def lpr_table(
    session: SessionDep, principal: CurrentPrincipal, on: BusinessDate | None = None
) -> LprTableOut:
    """The LPR fixings on record, latest first, and the one in force on ``on`` (today when
    absent). Rates are percent a year (``rate_1y_pct``)."""
    del principal  # any signed-in caller
    table = rates.fixings(session)
    in_force = rates.in_force(session, on) if on else (table[-1] if table else None)
    return LprTableOut.build(on or clock.today(), in_force, list(reversed(table)))
