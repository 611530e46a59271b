"""Discount quotes and financing of pieces by funder banks, and the daily recognition of
discount income."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    CredentialQuote,
    Financing,
    Journal,
    JournalLine,
    ProgrammeFunder,
)
from chainfin.domain import books as chart
from chainfin.domain import clock
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import Posting
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    PricingPolicy,
    recognised_through,
)
from chainfin.domain.pricing import quote as price_quote
from chainfin.services import audit, books, ledger, rates, receivables, scoping
from chainfin.services.credentials._common import (
    _bank_enterprise,
    _change,
    _check_live_credential,
    _children,
    _move,
    _piece_for_holder,
    _programme_of,
    _resolve_bank,
)

# ---------------------------------------------------------------------------- finance


# A quote is a firm offer for this long; after that the holder asks again.
QUOTE_VALID = timedelta(hours=4)


def quote(
    session: Session, actor: Principal, piece_id: str, *, bank: str, as_of: date | None = None
) -> CredentialQuote:
    """A funder bank's quote to discount a held piece, every component itemised."""
    actor.require(Scope.CREDENTIALS_WRITE)
    piece = _piece_for_holder(session, actor, piece_id)
    if piece.status != PieceStatus.HELD.value:
        raise rules.IllegalTransition(
            f"piece {piece.id} is {piece.status}; only held pieces are financed",
            code="piece_not_held",
        )
    credential, programme = _programme_of(session, piece)
    _check_live_credential(credential)
    check_not_pledged(session, piece.id)
    funder_bank = _resolve_bank(session, bank)
    funder = session.get(ProgrammeFunder, (programme.id, funder_bank.id))
    if funder is None:
        raise ValidationFailed(
            [FieldError("bank", f"{funder_bank.code} does not fund this credential's programme")],
            code="bank_not_funder",
        )
    as_of = as_of or clock.today()
    fixing = rates.in_force(session, as_of)
    if fixing is None:
        raise ValidationFailed(
            [FieldError("as_of", f"no LPR fixing on record on or before {as_of}")],
            code="lpr_fixing_missing",
        )
    policy = PricingPolicy.from_dict(funder.pricing)
    priced = price_quote(
        Money(piece.amount_minor, piece.currency),
        as_of,
        credential.payment_on,
        programme.core_rating,
        fixing,
        policy,
        as_of,
    )
    terms = priced.to_dict()
    terms["payment_on"] = credential.payment_on.isoformat()
    terms["payment_provisional"] = credential.payment_provisional
    terms["maturity_on"] = credential.maturity_on.isoformat()
    now = utcnow()
    row = CredentialQuote(
        id=new_id("quote"),
        piece_id=piece.id,
        bank_id=funder_bank.id,
        holder_id=piece.holder_id,
        terms=terms,
        valid_until=now + QUOTE_VALID,
        created_by=actor.label,
        created_at=now,
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "piece.quoted", _change("quote", row))
    audit.record(session, actor, "piece.quote", "quote", row.id, {"bank": funder_bank.code})
    return row


def _money(d: dict[str, Any]) -> Money:
    return Money.parse(str(d["amount"]), str(d["currency"]))


def check_not_pledged(session: Session, piece_id: str) -> None:
    """A piece registered to a bank already (pledged for a loan, or discounted) backs one
    financing: no bank quotes on it or discounts it until the registration is released.
    Refused here, before any bank prices it, with the registry's own code."""
    found = receivables.active_key(session, receivables.credential_key(piece_id))
    if found is not None:
        raise Conflict(
            f"credential piece {piece_id} backs a financing already ({found.id})",
            hint="A piece can back one financing at a time; the first must be released.",
            code="duplicate_financing",
        )


def finance(session: Session, actor: Principal, quote_id: str) -> Financing:
    """The holder accepts a quote: the bank funds the net proceeds, the piece passes to the
    bank, the receivables registry records it and both books post. Accepting the same quote
    again returns the same financing."""
    actor.require(Scope.CREDENTIALS_WRITE)
    row = session.get(CredentialQuote, quote_id)
    if row is None or not (actor.is_system or actor.enterprise_id == row.holder_id):
        raise NotFound(f"no quote {quote_id!r}", code="quote_not_found")
    done = session.scalar(select(Financing).where(Financing.quote_id == quote_id))
    if done is not None:
        return done
    if row.valid_until < utcnow():
        raise Conflict(
            f"quote {quote_id} expired at {row.valid_until:%Y-%m-%d %H:%M}Z; ask again",
            code="quote_expired",
        )
    piece = _piece_for_holder(session, actor, row.piece_id)
    credential, _programme = _programme_of(session, piece)
    check_not_pledged(session, piece.id)
    _check_live_credential(credential)
    terms = row.terms
    face = _money(terms["face"])
    discount = _money(terms["discount_interest"])
    fees = [(_money(f["amount"]), f["code"]) for f in terms["fees"]]
    net = _money(terms["net_proceeds"])
    fee_total = sum((f for f, _ in fees), Money.zero(face.currency))
    financing_id = new_id("financing")
    _move(session, piece, "finance", holder_id=row.holder_id, financing_id=financing_id)
    bank_ent = _bank_enterprise(session, row.bank_id)
    (bank_piece,) = _children(
        session,
        piece,
        [piece.amount_minor],
        holders=[bank_ent],
        tiers=[piece.tier],
        statuses=[PieceStatus.FINANCED],
        actor=actor,
        senders=[row.holder_id],
    )
    bank_piece.financing_id = financing_id
    registration = receivables.register_credential_piece(
        session,
        actor,
        piece_id=piece.id,
        creditor_id=row.holder_id,
        debtor_id=credential.issuer_id,
        bank_id=row.bank_id,
        amount=face,
        due_on=credential.payment_on,
        financing_ref=financing_id,
    )
    value_on = date.fromisoformat(terms["value_date"])
    financing = Financing(
        id=financing_id,
        piece_id=piece.id,
        bank_piece_id=bank_piece.id,
        quote_id=row.id,
        bank_id=row.bank_id,
        seller_id=row.holder_id,
        currency=face.currency,
        face_minor=face.amount_minor,
        discount_minor=discount.amount_minor,
        fees_minor=fee_total.amount_minor,
        net_minor=net.amount_minor,
        discount_rate=str(terms["discount_rate"]),
        all_in_rate=str(terms["all_in_rate"]),
        value_on=value_on,
        payment_on=credential.payment_on,
        registration_id=registration.id,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(financing)
    session.flush()
    ledger.one(
        session,
        actor,
        "piece.financed",
        _change("piece", piece),
        _change("piece", bank_piece),
        _change("financing", financing),
    )
    books.post(
        session,
        actor,
        book_id=chart.PLATFORM_BOOK,
        kind="financed",
        ref=f"finance/{financing.id}",
        value_on=value_on,
        postings=[
            Posting(chart.held_account(bank_ent).code, face),
            Posting(chart.held_account(row.holder_id).code, -face),
        ],
        memo=f"piece {piece.id} discounted by {row.bank_id}",
    )
    postings = [Posting(chart.DISCOUNTED, face), Posting(chart.CLEARING, -net)]
    if not discount.is_zero():
        postings.append(Posting(chart.UNEARNED_DISCOUNT, -discount))
    if not fee_total.is_zero():
        postings.append(Posting(chart.FEE_INCOME, -fee_total))
    books.post(
        session,
        actor,
        book_id=row.bank_id,
        kind="discount",
        ref=f"finance/{financing.id}",
        value_on=value_on,
        postings=postings,
        memo=f"discount of piece {piece.id} ({credential.id}) for {row.holder_id}",
    )
    audit.record(session, actor, "piece.finance", "financing", financing.id, {"quote": row.id})
    return financing


def accrue(session: Session, actor: Principal, as_of: date) -> int:
    """Recognise unearned discount as interest income, straight-line by day, up to
    ``as_of`` (or the payment date). Catches up missed days; posts nothing twice."""
    posted = 0
    query = select(Financing)
    if actor.bank_id is not None:
        query = query.where(Financing.bank_id == actor.bank_id)
    for fin in session.scalars(query.order_by(Financing.created_at)):
        if fin.discount_minor == 0:
            continue
        posted += _accrue_one(session, actor, fin, min(as_of, fin.payment_on))
    return posted


def _accrue_one(session: Session, actor: Principal, fin: Financing, through: date) -> int:
    if through <= fin.value_on:
        return 0
    total = Money(fin.discount_minor, fin.currency)
    target = recognised_through(total, fin.value_on, fin.payment_on, through)
    recognised = sum(
        session.scalars(
            select(JournalLine.amount_minor)
            .join(Journal, Journal.id == JournalLine.journal_id)
            .where(
                Journal.book_id == fin.bank_id,
                Journal.kind == "accrual",
                Journal.ref.like(f"accrual/{fin.id}/%"),
                JournalLine.account_code == chart.UNEARNED_DISCOUNT,
            )
        )
    )
    due = target.amount_minor - recognised
    if due <= 0:
        return 0
    amount = Money(due, fin.currency)
    books.post(
        session,
        actor,
        book_id=fin.bank_id,
        kind="accrual",
        ref=f"accrual/{fin.id}/{through.isoformat()}",
        value_on=through,
        postings=[
            Posting(chart.UNEARNED_DISCOUNT, amount),
            Posting(chart.INTEREST_INCOME, -amount),
        ],
        memo=f"discount earned on {fin.id} through {through}",
    )
    return 1


def quote_for(session: Session, actor: Principal, quote_id: str) -> CredentialQuote:
    actor.require(Scope.CREDENTIALS_READ)
    row = session.get(CredentialQuote, quote_id)
    if row is None or not scoping.bank_or_party(actor, row.bank_id, row.holder_id):
        raise NotFound(f"no quote {quote_id!r}", code="quote_not_found")
    return row


def open_quotes(session: Session, actor: Principal, *, limit: int = 50) -> list[CredentialQuote]:
    """Quotes that can still be taken (valid now, not financed yet), newest first: those
    made to the actor's enterprise, or those its bank made."""
    actor.require(Scope.CREDENTIALS_READ)
    query = (
        select(CredentialQuote)
        .where(
            scoping.by_bank_or_party(actor, CredentialQuote.bank_id, CredentialQuote.holder_id),
            CredentialQuote.valid_until > utcnow(),
            CredentialQuote.id.not_in(select(Financing.quote_id)),
        )
        .order_by(CredentialQuote.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def financed_minor(session: Session, actor: Principal) -> dict[str, tuple[int, int]]:
    """By currency, what the actor's enterprise had discounted (face, net proceeds), or what
    its bank discounted."""
    actor.require(Scope.CREDENTIALS_READ)
    rows = session.execute(
        select(Financing.currency, func.sum(Financing.face_minor), func.sum(Financing.net_minor))
        .where(scoping.by_bank_or_party(actor, Financing.bank_id, Financing.seller_id))
        .group_by(Financing.currency)
    )
    return {currency: (int(face), int(net)) for currency, face, net in rows}
