"""Asking every funder bank of a piece's programme for a discount quote, side by side; and
the holder's financings read back.

A holder compares offers: :func:`ask_every_funder` asks each bank that funds the piece's
programme (the lead bank first, then the others in the order they joined) through the one
:func:`~chainfin.services.credentials.financing.quote` use case, each in a savepoint, so a
bank that cannot quote (its policy does not price the core's rating or the tenor, no LPR
fixing on record…) leaves its refusal beside the others' offers instead of failing them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CredentialPiece,
    CredentialQuote,
    Financing,
    ProgrammeFunder,
    ReceivableRegistration,
)
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import ChainfinError, NotFound, ValidationFailed
from chainfin.services import scoping
from chainfin.services.credentials._common import _piece_for_holder, _programme_of
from chainfin.services.credentials.financing import check_not_pledged, quote, quote_for
from chainfin.services.pagination import MAX_LIMIT
from chainfin.services.receivables import credential_key


@dataclass(frozen=True, slots=True)
class FunderAnswer:
    """One funder bank's answer: a quote, or why it gave none."""

    bank_id: str
    quote: CredentialQuote | None = None
    refusal_code: str | None = None  # the refusal's code (``validation_failed``: see field)
    refusal: str | None = None  # the service's message
    refusal_field: str | None = None  # the first field a validation refusal names


def funders_of(session: Session, piece: CredentialPiece) -> list[str]:
    """The banks funding the piece's programme: the lead bank first, then by joining date."""
    _credential, programme = _programme_of(session, piece)
    joined = session.scalars(
        select(ProgrammeFunder.bank_id)
        .where(ProgrammeFunder.programme_id == programme.id)
        .order_by(ProgrammeFunder.created_at, ProgrammeFunder.bank_id)
    )
    others = [b for b in joined if b != programme.lead_bank_id]
    return [programme.lead_bank_id, *others]


def pledged(session: Session, piece_ids: Iterable[str]) -> dict[str, ReceivableRegistration]:
    """Of ``piece_ids`` (pieces the caller already read through its scoping), those with an
    active registration in the receivables registry — pledged or transferred for a loan —
    each with its registration. Such a piece backs one financing already: no bank may
    discount it until the registration is released."""
    keys = {credential_key(p): p for p in piece_ids}
    if not keys:
        return {}
    rows = session.scalars(
        select(ReceivableRegistration).where(
            ReceivableRegistration.receivable_key.in_(sorted(keys)),
            ReceivableRegistration.released_at.is_(None),
        )
    )
    return {keys[r.receivable_key]: r for r in rows}


def held_piece(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    """A piece the actor's enterprise holds and may have discounted (state held, not pledged
    for a loan); 404 for a piece it does not hold, ``piece_not_held`` for one it holds in
    another state, ``duplicate_financing`` for one registered to a bank already."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    if piece.status != PieceStatus.HELD.value:
        raise rules.IllegalTransition(
            f"piece {piece.id} is {piece.status}; only held pieces are financed",
            code="piece_not_held",
        )
    check_not_pledged(session, piece.id)  # the same refusal as quote() and finance()
    return piece


def ask_every_funder(session: Session, actor: Principal, piece_id: str) -> list[FunderAnswer]:
    """Ask each funder bank of the piece's programme for a quote; every quote given is
    stored (and on the ledger) as :func:`quote` stores it, each refusal is returned."""
    piece = held_piece(session, actor, piece_id)
    answers = []
    for bank_id in funders_of(session, piece):
        try:
            with session.begin_nested():
                row = quote(session, actor, piece.id, bank=bank_id)
        except ValidationFailed as exc:
            first = exc.errors[0].field if exc.errors else None
            answers.append(FunderAnswer(bank_id, None, exc.code, exc.message, first))
        except ChainfinError as exc:
            answers.append(FunderAnswer(bank_id, None, exc.code, exc.message))
        else:
            answers.append(FunderAnswer(bank_id, quote=row))
    return answers


def open_quotes_for(session: Session, actor: Principal, piece_id: str) -> list[FunderAnswer]:
    """Each funder bank of a piece the actor holds with its latest quote still open (valid
    now, not financed), or with none; none at all once the piece is no longer held or is
    pledged for a loan."""
    actor.require(Scope.CREDENTIALS_READ)
    piece = _piece_for_holder(session, actor, piece_id)
    if piece.status != PieceStatus.HELD.value or pledged(session, [piece.id]):
        return [FunderAnswer(b) for b in funders_of(session, piece)]
    rows = session.scalars(
        select(CredentialQuote)
        .where(
            CredentialQuote.piece_id == piece.id,
            scoping.by_bank_or_party(actor, CredentialQuote.bank_id, CredentialQuote.holder_id),
            CredentialQuote.valid_until > utcnow(),
            CredentialQuote.id.not_in(select(Financing.quote_id)),
        )
        .order_by(CredentialQuote.created_at)
    )
    latest = {row.bank_id: row for row in rows}  # the newest one wins
    return [FunderAnswer(b, quote=latest.get(b)) for b in funders_of(session, piece)]


def financings(session: Session, actor: Principal, *, limit: int = MAX_LIMIT) -> list[Financing]:
    """The pieces the actor's enterprise had discounted (or its bank discounted), newest
    first."""
    actor.require(Scope.CREDENTIALS_READ)
    query = (
        select(Financing)
        .where(scoping.by_bank_or_party(actor, Financing.bank_id, Financing.seller_id))
        .order_by(Financing.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def financing_of_quote(
    session: Session, actor: Principal, quote_id: str
) -> tuple[Financing, ReceivableRegistration | None]:
    """The financing that accepting a quote made, and the registry filing that records the
    piece's transfer to the bank; 404 (``quote_not_found``) for a quote that is not the
    actor's enterprise's (or its bank's), or was not accepted."""
    row = quote_for(session, actor, quote_id)
    done = session.scalar(select(Financing).where(Financing.quote_id == row.id))
    if done is None:
        raise NotFound(f"quote {quote_id!r} was not accepted", code="quote_not_found")
    return done, session.get(ReceivableRegistration, done.registration_id)
