"""Digital payable credentials: programmes, debtor confirmations, issue, pieces (accept,
reject, split, transfer, quote), financing, settlement; the books and the LPR table.

Money-moving calls are idempotent by their own keys (a quote is financed once; a payment
reference is paid once) and every write also honours an ``Idempotency-Key`` header."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from chainfin.adapters.db.models import (
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    CredentialQuote,
    Financing,
    PayableConfirmation,
)
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.inputs import BusinessDate, Input, money
from chainfin.api.receipts import write_once
from chainfin.domain import clock
from chainfin.domain.books import TrialBalance
from chainfin.domain.money import Money
from chainfin.services import books, credentials, rates

router = APIRouter(tags=["payable credentials"])


def _money(minor: int, currency: str) -> dict[str, str]:
    return Money(minor, currency).as_dict()


def programme_out(p: CredentialProgramme) -> dict[str, Any]:
    return {
        "id": p.id,
        "core_enterprise_id": p.core_enterprise_id,
        "name": p.name,
        "limit": _money(p.limit_minor, p.currency),
        "pending": _money(p.pending_minor, p.currency),
        "posted": _money(p.posted_minor, p.currency),
        "available": _money(p.limit_minor - p.pending_minor - p.posted_minor, p.currency),
        "core_rating": p.core_rating,
        "tenor_cap_months": p.tenor_cap_months,
        "roll_convention": p.roll_convention,
        "min_piece": _money(p.min_piece_minor, p.currency),
        "day_count": p.day_count,
        "grace_days": p.grace_days,
        "penalty_multiplier": p.penalty_multiplier,
        "status": p.status,
    }


def confirmation_out(c: PayableConfirmation) -> dict[str, Any]:
    return {
        "id": c.id,
        "debtor_id": c.debtor_id,
        "creditor_id": c.creditor_id,
        "amount": _money(c.amount_minor, c.currency),
        "issued": _money(c.issued_minor, c.currency),
        "due_on": c.due_on,
        "basis": c.basis,
        "trade_case_key": c.trade_case_key,
        "document_ids": c.document_ids,
        "confirmed_at": c.confirmed_at,
    }


def credential_out(c: Credential) -> dict[str, Any]:
    return {
        "id": c.id,
        "programme_id": c.programme_id,
        "issuer_id": c.issuer_id,
        "first_holder_id": c.first_holder_id,
        "face": _money(c.face_minor, c.currency),
        "settled": _money(c.settled_minor, c.currency),
        "issued_on": c.issued_on,
        "maturity_on": c.maturity_on,
        "payment_on": c.payment_on,
        "payment_provisional": c.payment_provisional,
        "calendar_source": c.calendar_source,
        "status": c.status,
    }


def piece_out(p: CredentialPiece) -> dict[str, Any]:
    return {
        "id": p.id,
        "credential_id": p.credential_id,
        "parent_id": p.parent_id,
        "lineage": p.lineage,
        "tier": p.tier,
        "amount": _money(p.amount_minor, p.currency),
        "settled": _money(p.settled_minor, p.currency),
        "holder_id": p.holder_id,
        "sender_id": p.sender_id,
        "status": p.status,
        "financing_id": p.financing_id,
    }


def quote_out(q: CredentialQuote) -> dict[str, Any]:
    return {
        "id": q.id,
        "piece_id": q.piece_id,
        "bank_id": q.bank_id,
        "valid_until": q.valid_until,
        **q.terms,
    }


def financing_out(f: Financing) -> dict[str, Any]:
    return {
        "id": f.id,
        "piece_id": f.piece_id,
        "bank_piece_id": f.bank_piece_id,
        "quote_id": f.quote_id,
        "bank_id": f.bank_id,
        "face": _money(f.face_minor, f.currency),
        "discount_interest": _money(f.discount_minor, f.currency),
        "fees": _money(f.fees_minor, f.currency),
        "net_proceeds": _money(f.net_minor, f.currency),
        "discount_rate": f.discount_rate,
        "all_in_rate": f.all_in_rate,
        "value_on": f.value_on,
        "payment_on": f.payment_on,
        "registration_id": f.registration_id,
    }


def payment_out(p: CredentialPayment) -> dict[str, Any]:
    return {
        "id": p.id,
        "credential_id": p.credential_id,
        "payment_ref": p.payment_ref,
        "amount": _money(p.amount_minor, p.currency),
        "penalty": _money(p.penalty_minor, p.currency),
        "paid_on": p.paid_on,
        "allocations": p.allocations,
    }


_write = write_once  # every write: once per Idempotency-Key, with its receipt


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


@router.post("/v1/credentials/programmes", status_code=201, summary="Open a programme")
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
        return programme_out(row)

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/credentials/programmes")
def list_programmes(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [programme_out(p) for p in credentials.programmes(session, principal)]


@router.get("/v1/credentials/programmes/{programme_id}")
def get_programme(
    programme_id: str, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return programme_out(credentials.programme_for(session, principal, programme_id))


# ---------------------------------------------------------------------------- confirmations


@router.post("/v1/credentials/confirmations", status_code=201, summary="Confirm a payable (确权)")
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
        return confirmation_out(row)

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/credentials/confirmations")
def list_confirmations(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [confirmation_out(c) for c in credentials.confirmations(session, principal)]


# ---------------------------------------------------------------------------- pieces


@router.get("/v1/credentials/pieces", summary="Pieces you hold")
def list_holdings(
    session: SessionDep, principal: CurrentPrincipal, include_closed: bool = False
) -> list[dict[str, Any]]:
    return [
        piece_out(p) for p in credentials.holdings(session, principal, live_only=not include_closed)
    ]


@router.get("/v1/credentials/pieces/{piece_id}")
def get_piece(piece_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return piece_out(credentials.piece_for(session, principal, piece_id))


@router.post("/v1/credentials/pieces/{piece_id}/accept")
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
        lambda: piece_out(credentials.accept(session, principal, piece_id)),
    )


@router.post("/v1/credentials/pieces/{piece_id}/reject")
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
        lambda: piece_out(credentials.reject(session, principal, piece_id, reason=body.reason)),
    )


@router.post("/v1/credentials/pieces/{piece_id}/split", status_code=201)
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
        return {"pieces": [piece_out(c) for c in children]}

    return _write(request, session, settings, principal, body, 201, produce)


@router.post("/v1/credentials/pieces/{piece_id}/transfer", status_code=201)
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
        return {
            "offered": piece_out(moved.offered),
            "kept": piece_out(moved.kept) if moved.kept else None,
        }

    return _write(request, session, settings, principal, body, 201, produce)


@router.post("/v1/credentials/pieces/{piece_id}/quote", status_code=201)
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
        lambda: quote_out(
            credentials.quote(session, principal, piece_id, bank=body.bank, as_of=body.as_of)
        ),
    )


@router.get("/v1/credentials/quotes/{quote_id}")
def get_quote(quote_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return quote_out(credentials.quote_for(session, principal, quote_id))


@router.post("/v1/credentials/quotes/{quote_id}/finance", status_code=201)
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
        lambda: financing_out(credentials.finance(session, principal, quote_id)),
    )


# ---------------------------------------------------------------------------- credentials


@router.post("/v1/credentials", status_code=201, summary="Issue a credential")
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
        out = credential_out(row)
        out["pieces"] = [piece_out(p) for p in credentials.tree(session, principal, row.id)]
        return out

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/credentials", summary="Credentials you issued")
def list_issued(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [credential_out(c) for c in credentials.issued_by(session, principal)]


@router.get("/v1/credentials/{credential_id}")
def get_credential(
    credential_id: str, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return credential_out(credentials.get(session, principal, credential_id))


@router.get("/v1/credentials/{credential_id}/tree", summary="The pieces you may see, by lineage")
def tree(credential_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    out = credential_out(credentials.get(session, principal, credential_id))
    out["pieces"] = [piece_out(p) for p in credentials.tree(session, principal, credential_id)]
    return out


@router.get("/v1/credentials/{credential_id}/due", summary="What settles it in full on a date")
def amount_due(
    credential_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    on: BusinessDate | None = None,
) -> dict[str, Any]:
    due = credentials.amount_due(session, principal, credential_id, on)
    return {
        "on": due.on,
        "principal": _money(due.principal_minor, due.currency),
        "penalty": _money(due.penalty_minor, due.currency),
        "total": _money(due.total_minor, due.currency),
        "late": due.late,
    }


@router.post("/v1/credentials/{credential_id}/cancel")
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
        lambda: credential_out(credentials.cancel(session, principal, credential_id)),
    )


@router.post("/v1/credentials/{credential_id}/settle", status_code=201)
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
        return payment_out(payment)

    return _write(request, session, settings, principal, body, 201, produce)


# ---------------------------------------------------------------------------- books, rates


def trial_balance_out(book: str, tb: TrialBalance) -> dict[str, Any]:
    return {
        "book": book,
        "balanced": tb.balanced,
        "rows": [
            {
                "account": r.account.code,
                "name": r.account.name,
                "type": r.account.type.value,
                "currency": r.currency,
                "debit": Money(r.debit_minor, r.currency).to_decimal_string(),
                "credit": Money(r.credit_minor, r.currency).to_decimal_string(),
            }
            for r in tb.rows
        ],
        "totals": {
            c: {
                "debit": Money(tb.debit_totals.get(c, 0), c).to_decimal_string(),
                "credit": Money(tb.credit_totals.get(c, 0), c).to_decimal_string(),
            }
            for c in sorted(set(tb.debit_totals) | set(tb.credit_totals))
        },
    }


@router.get("/v1/books/{book}/trial-balance", tags=["books"])
def trial_balance(book: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """``book`` is your bank's code (or ``bank``), or ``platform`` for the credential
    sub-ledger."""
    return trial_balance_out(book, books.trial_balance(session, principal, book))


class ReverseIn(_In):
    reason: str = Field(min_length=3, max_length=200)


@router.post("/v1/books/journals/{journal_id}/reverse", tags=["books"], status_code=201)
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
        return {
            "id": posted.journal.id,
            "reverses_id": posted.journal.reverses_id,
            "book": posted.journal.book_id,
            "lines": [
                {"account": p.account, **_money(p.amount.amount_minor, p.amount.currency)}
                for p in posted.postings
            ],
        }

    return _write(request, session, settings, principal, body, 201, produce)


@router.get("/v1/books/{book}/accounts/{account}/statement", tags=["books"])
def statement(
    book: str,
    account: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: BusinessDate | None = None,
    until: BusinessDate | None = None,
    currency: str = "CNY",
) -> dict[str, Any]:
    spec, opening, lines = books.statement(
        session, principal, book, account, since=since, until=until, currency=currency
    )
    return {
        "account": spec.code,
        "name": spec.name,
        "opening_minor": opening,
        "lines": [
            {
                "journal_id": ln.journal_id,
                "value_on": ln.value_on,
                "kind": ln.kind,
                "memo": ln.memo,
                "amount": Money(ln.amount_minor, ln.currency).to_decimal_string(),
                "currency": ln.currency,
                "balance": Money(ln.balance_minor, ln.currency).to_decimal_string(),
            }
            for ln in lines
        ],
    }


@router.get("/v1/rates/lpr", tags=["reference"])
def lpr_table(
    session: SessionDep, principal: CurrentPrincipal, on: BusinessDate | None = None
) -> dict[str, Any]:
    """The LPR fixings on record, latest first, and the one in force on ``on``."""
    del principal  # any signed-in caller
    table = rates.fixings(session)
    in_force = rates.in_force(session, on) if on else (table[-1] if table else None)
    return {
        "in_force": in_force.to_dict() if in_force else None,
        "fixings": [f.to_dict() for f in reversed(table)],
        "as_of": on or clock.today(),
    }
