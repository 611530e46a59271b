"""Paying credentials: settlement to every current holder, penalty interest, overdue and alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    Bank,
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    Financing,
)
from chainfin.domain import books as chart
from chainfin.domain import clock
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import Posting
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.errors import FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.domain.pricing import (
    penalty_interest,
)
from chainfin.domain.states import CREDENTIAL_PIECE
from chainfin.services import alerts as alerts_service
from chainfin.services import audit, books, idempotency, ledger, rates, receivables, states
from chainfin.services.credentials._common import (
    _change,
    _children,
    _get,
    _live_pieces,
    _move,
)
from chainfin.services.credentials.financing import _accrue_one
from chainfin.services.credentials.pieces import get
from chainfin.services.credentials.programmes import _utilise
from chainfin.services.ledger import Change
from chainfin.services.pagination import MAX_LIMIT


def settle(
    session: Session,
    actor: Principal,
    credential_id: str,
    *,
    amount: Money,
    payment_ref: str,
    paid_on: date | None = None,
) -> CredentialPayment:
    """The issuer pays. Each live piece's current holder is paid its share: the whole
    piece when the payment covers everything due, pro rata otherwise (penalty interest
    first, then principal). Unpaid pieces past their payment date go overdue. Paying again
    under the same ``payment_ref`` with the same amount (and payment date, when given)
    returns the first payment; with a different one it is refused
    (``exists_with_different_request``)."""
    actor.require(Scope.CREDENTIALS_WRITE)
    credential = session.get(Credential, credential_id)
    if credential is None or not (actor.is_system or actor.enterprise_id == credential.issuer_id):
        raise NotFound(f"no credential {credential_id!r}", code="credential_not_found")
    done = session.scalar(
        select(CredentialPayment).where(
            CredentialPayment.credential_id == credential.id,
            CredentialPayment.payment_ref == payment_ref,
        )
    )
    if done is not None:
        first: dict[str, object] = {"amount": Money(done.amount_minor, done.currency)}
        again: dict[str, object] = {"amount": amount}
        if paid_on is not None:
            first["paid_on"], again["paid_on"] = done.paid_on, paid_on
        idempotency.same_request(f"payment {payment_ref!r}", first, again)
        return done
    if credential.status not in (CredentialStatus.ACTIVE.value, CredentialStatus.OVERDUE.value):
        raise rules.IllegalTransition(
            f"credential {credential.id} is {credential.status}", code="credential_not_live"
        )
    if amount.currency != credential.currency or amount.amount_minor <= 0:
        raise ValidationFailed(
            [FieldError("amount", f"must be a positive {credential.currency}")],
            code="amount_not_positive",
        )
    paid_on = paid_on or clock.today()
    programme = _get(session, CredentialProgramme, credential.programme_id)
    changes = _withdraw_offers(session, actor, credential)
    pieces = [p for p in _live_pieces(session, credential.id) if p.status != PieceStatus.OFFERED]
    late = (paid_on - credential.payment_on).days > programme.grace_days
    outstanding = [p.amount_minor - p.settled_minor for p in pieces]
    penalties = (
        _penalties_due(session, credential, programme, pieces, paid_on)
        if late
        else [0] * len(pieces)
    )
    due_total = sum(outstanding) + sum(penalties)
    if amount.amount_minor > due_total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} is more than is due ({Money(due_total, credential.currency)}"
                    + (
                        f", incl. penalty {Money(sum(penalties), credential.currency)}"
                        if late
                        else ""
                    )
                    + ")",
                )
            ],
            code="amount_exceeds_due",
        )
    overdue_now = paid_on >= credential.payment_on
    if not overdue_now and amount.amount_minor < due_total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"before the payment date ({credential.payment_on}) a credential is "
                    f"redeemed in full ({Money(due_total, credential.currency)}) or not at all",
                )
            ],
            code="partial_redemption_early",
        )
    pay_penalty, pay_principal = _split_payment(amount.amount_minor, penalties, outstanding)
    allocations: list[dict[str, Any]] = []
    payment_id = new_id("payment")
    for piece, principal, penalty, due, owed in zip(
        pieces, pay_principal, pay_penalty, penalties, outstanding, strict=True
    ):
        if principal == 0 and penalty == 0 and not (overdue_now and owed > 0):
            continue
        allocation = _pay_piece(
            session,
            actor,
            payment_id,
            credential,
            piece,
            principal,
            penalty,
            owed,
            paid_on,
            overdue_now,
        )
        allocation["penalty_due_minor"] = due
        allocation["penalty_assessed"] = late
        allocations.append(allocation)
        changes.append(_change("piece", piece))
    principal_total = sum(pay_principal)
    penalty_total = sum(pay_penalty)
    credential.settled_minor += principal_total
    if credential.settled_minor == credential.face_minor:
        states.move(credential, "settle")
    elif overdue_now and credential.status != CredentialStatus.OVERDUE:
        states.move(credential, "fall_due")
    credential.updated_at = utcnow()
    if principal_total:
        _utilise(session, programme, posted_minor=-principal_total)
    payment = CredentialPayment(
        id=payment_id,
        credential_id=credential.id,
        payment_ref=payment_ref,
        currency=credential.currency,
        amount_minor=amount.amount_minor,
        penalty_minor=penalty_total,
        paid_on=paid_on,
        allocations=allocations,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    changes += [
        _change("credential", credential),
        _change("programme", programme),
        _change("payment", payment),
    ]
    ledger.one(session, actor, "credential.paid", *changes)
    if credential.status == CredentialStatus.OVERDUE.value:
        _alert_overdue(session, actor, credential, pieces, paid_on)
    audit.record(
        session, actor, "credential.settle", "credential", credential.id, {"ref": payment_ref}
    )
    return payment


@dataclass(frozen=True)
class AmountDue:
    """What the issuer owes on a date: principal outstanding and penalty interest."""

    on: date
    currency: str
    principal_minor: int
    penalty_minor: int
    late: bool

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.penalty_minor


def amount_due(
    session: Session, actor: Principal, credential_id: str, on: date | None = None
) -> AmountDue:
    """The amount to pay to settle a credential in full on ``on`` (default today)."""
    credential = get(session, actor, credential_id)
    on = on or clock.today()
    programme = _get(session, CredentialProgramme, credential.programme_id)
    live = _live_pieces(session, credential.id)
    late = (on - credential.payment_on).days > programme.grace_days
    penalties = _penalties_due(session, credential, programme, live, on) if late else []
    return AmountDue(
        on,
        credential.currency,
        sum(p.amount_minor - p.settled_minor for p in live),
        sum(penalties),
        late,
    )


def _penalties_due(
    session: Session,
    credential: Credential,
    programme: CredentialProgramme,
    pieces: Sequence[CredentialPiece],
    paid_on: date,
) -> list[int]:
    """Penalty interest owed per piece at a late payment: accrued on what is outstanding at
    ``penalty_multiplier`` × the 1-year LPR in force, from the payment date or from the last
    late payment that already charged it (days are never charged twice), plus whatever
    penalty earlier payments left unpaid."""
    fixing = rates.in_force(session, paid_on)
    if fixing is None:
        raise ValidationFailed(
            [FieldError("paid_on", f"no LPR fixing on record on {paid_on}")],
            code="lpr_fixing_missing",
        )
    rate = fixing.rate_1y * Decimal(programme.penalty_multiplier)
    charged_to: dict[str, date] = {}
    unpaid: dict[str, int] = {}
    for earlier in session.scalars(
        select(CredentialPayment)
        .where(CredentialPayment.credential_id == credential.id)
        .order_by(CredentialPayment.paid_on, CredentialPayment.created_at)
    ):
        for a in earlier.allocations:
            if a.get("penalty_assessed"):
                charged_to[a["piece_id"]] = earlier.paid_on
                unpaid[a["piece_id"]] = (
                    unpaid.get(a["piece_id"], 0) + a["penalty_due_minor"] - a["penalty_minor"]
                )
    out = []
    for piece in pieces:
        start = max(credential.payment_on, charged_to.get(piece.id, credential.payment_on))
        accrued = penalty_interest(
            Money(piece.amount_minor - piece.settled_minor, piece.currency),
            max((paid_on - start).days, 0),
            rate,
            programme.day_count,
            overdue_from=start,
        )
        out.append(accrued.amount_minor + unpaid.get(piece.id, 0))
    return out


def _split_payment(
    amount: int, penalties: Sequence[int], outstanding: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Penalty first, then principal; each pro rata across pieces when short."""

    def share(pool: int, owed: Sequence[int]) -> list[int]:
        total = sum(owed)
        if total == 0 or pool == 0:
            return [0] * len(owed)
        if pool >= total:
            return list(owed)
        return [m.amount_minor for m in Money(pool).allocate(list(owed))]

    pen = share(min(amount, sum(penalties)), penalties)
    rest = amount - sum(pen)
    return pen, share(rest, outstanding)


def _pay_piece(
    session: Session,
    actor: Principal,
    payment_id: str,
    credential: Credential,
    piece: CredentialPiece,
    principal: int,
    penalty: int,
    owed: int,
    paid_on: date,
    overdue_now: bool,
) -> dict[str, Any]:
    was_overdue = piece.status == PieceStatus.OVERDUE.value
    fully = principal == owed
    target = PieceStatus.SETTLED if fully else PieceStatus.OVERDUE if overdue_now else None
    if target is not None and target.value != piece.status:
        event = CREDENTIAL_PIECE.event_to(piece.status, target, subject=piece.id)
        _move(session, piece, event, settled_minor=piece.settled_minor + principal)
    elif principal:
        session.execute(
            update(CredentialPiece)
            .where(CredentialPiece.id == piece.id)
            .values(settled_minor=CredentialPiece.settled_minor + principal, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.refresh(piece)
    currency = credential.currency
    if principal:
        cash = Money(principal, currency)
        books.post(
            session,
            actor,
            book_id=chart.PLATFORM_BOOK,
            kind="settled",
            ref=f"settle/{payment_id}/{piece.id}",
            value_on=paid_on,
            postings=[
                Posting(chart.issued_account(credential.issuer_id).code, cash),
                Posting(chart.held_account(piece.holder_id).code, -cash),
            ],
            memo=f"paid on {credential.id} to {piece.holder_id}",
        )
    if piece.financing_id is not None and piece.status != PieceStatus.TRANSFERRED.value:
        fin = _get(session, Financing, piece.financing_id)
        _bank_receipt(
            session,
            actor,
            payment_id,
            fin,
            piece,
            principal,
            penalty,
            paid_on,
            was_overdue,
            fully,
            overdue_now,
        )
    return {
        "piece_id": piece.id,
        "holder_id": piece.holder_id,
        "principal_minor": principal,
        "penalty_minor": penalty,
        "outstanding_minor": owed - principal,
    }


def _bank_receipt(
    session: Session,
    actor: Principal,
    payment_id: str,
    fin: Financing,
    piece: CredentialPiece,
    principal: int,
    penalty: int,
    paid_on: date,
    was_overdue: bool,
    fully: bool,
    overdue_now: bool,
) -> None:
    currency = fin.currency
    if fully:
        _accrue_one(session, actor, fin, fin.payment_on)
        receivables.release_credential_piece(session, actor, fin.piece_id)
    asset = chart.OVERDUE_DISCOUNTED if was_overdue else chart.DISCOUNTED
    postings = []
    if principal:
        postings += [
            Posting(chart.CLEARING, Money(principal, currency)),
            Posting(asset, Money(-principal, currency)),
        ]
    if penalty:
        postings += [
            Posting(chart.CLEARING, Money(penalty, currency)),
            Posting(chart.PENALTY_INCOME, Money(-penalty, currency)),
        ]
    if postings:
        books.post(
            session,
            actor,
            book_id=fin.bank_id,
            kind="repayment",
            ref=f"repay/{payment_id}/{piece.id}",
            value_on=paid_on,
            postings=postings,
            memo=f"payment on financing {fin.id}",
        )
    remaining = piece.amount_minor - piece.settled_minor
    if overdue_now and not was_overdue and remaining > 0:
        _reclassify_overdue(session, actor, fin, Money(remaining, currency), paid_on)


def _reclassify_overdue(
    session: Session, actor: Principal, fin: Financing, amount: Money, on: date
) -> None:
    books.post(
        session,
        actor,
        book_id=fin.bank_id,
        kind="overdue",
        ref=f"overdue/{fin.id}",
        value_on=on,
        postings=[Posting(chart.OVERDUE_DISCOUNTED, amount), Posting(chart.DISCOUNTED, -amount)],
        memo=f"financing {fin.id} overdue",
    )


def _withdraw_offers(session: Session, actor: Principal, credential: Credential) -> list[Change]:
    """At payment, a transfer still waiting for acceptance is withdrawn: the sender, who
    still holds it in the books, is paid."""
    changes: list[Change] = []
    offers = session.scalars(
        select(CredentialPiece).where(
            CredentialPiece.credential_id == credential.id,
            CredentialPiece.status == PieceStatus.OFFERED.value,
            CredentialPiece.parent_id.is_not(None),
        )
    ).all()
    for offer in offers:
        parent = _get(session, CredentialPiece, offer.parent_id)
        if offer.sender_id is None:
            raise AssertionError("a transferred piece has a sender")
        _move(session, offer, "cancel")
        (returned,) = _children(
            session,
            offer,
            [offer.amount_minor],
            holders=[offer.sender_id],
            tiers=[parent.tier],
            statuses=[PieceStatus.HELD],
            actor=actor,
        )
        changes += [_change("piece", offer), _change("piece", returned)]
    return changes


def mark_overdue(session: Session, actor: Principal, as_of: date) -> list[Credential]:
    """Credentials unpaid past their payment date plus the programme's grace days go
    overdue: their live pieces too, the banks reclassify, and an alert is raised."""
    out = []
    candidates = session.scalars(
        select(Credential).where(
            Credential.status == CredentialStatus.ACTIVE.value, Credential.payment_on < as_of
        )
    ).all()
    for credential in candidates:
        programme = _get(session, CredentialProgramme, credential.programme_id)
        if (as_of - credential.payment_on).days <= programme.grace_days:
            continue
        changes = _withdraw_offers(session, actor, credential)
        pieces = _live_pieces(session, credential.id)
        for piece in pieces:
            if piece.status in (PieceStatus.HELD.value, PieceStatus.FINANCED.value):
                financed = piece.status == PieceStatus.FINANCED.value
                _move(session, piece, "fall_due")
                changes.append(_change("piece", piece))
                if financed and piece.financing_id:
                    fin = _get(session, Financing, piece.financing_id)
                    remaining = Money(piece.amount_minor - piece.settled_minor, piece.currency)
                    _reclassify_overdue(session, actor, fin, remaining, as_of)
        states.move(credential, "fall_due")
        credential.updated_at = utcnow()
        session.flush()
        changes.append(_change("credential", credential))
        ledger.one(session, actor, "credential.overdue", *changes)
        _alert_overdue(session, actor, credential, pieces, as_of)
        out.append(credential)
    return out


def _alert_overdue(
    session: Session,
    actor: Principal,
    credential: Credential,
    pieces: Sequence[CredentialPiece],
    as_of: date,
) -> None:
    outstanding = Money(credential.face_minor - credential.settled_minor, credential.currency)
    banks = {
        b.id
        for b in session.scalars(
            select(Bank).where(Bank.enterprise_id.in_([p.holder_id for p in pieces]))
        )
    }
    recipients: list[str | None] = [None, *sorted(banks)]  # the issuer's alert, then each bank's
    for bank_id in recipients:
        alerts_service.raise_alert(
            session,
            actor,
            kind="credential_overdue",
            severity="high",
            subject_kind="credential",
            subject_id=credential.id,
            bank_id=bank_id,
            enterprise_id=credential.issuer_id,
            message=(
                f"credential {credential.id} of {credential.issuer_id} is overdue since "
                f"{credential.payment_on}: {outstanding} unpaid as of {as_of}"
            ),
        )


def alerts(session: Session, actor: Principal, *, state: str = "open") -> list[Alert]:
    """Kept for callers of the credentials package (the first page of at most
    ``MAX_LIMIT``); see :func:`services.alerts.alerts`."""
    only = alerts_service.AlertFilter(state=state)
    return alerts_service.alerts(session, actor, only, limit=MAX_LIMIT).items
