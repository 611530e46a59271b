"""What the home page shows. For a firm: who I am, what needs me now (pieces offered to
me, documents awaiting my confirmation as the buyer, consents banks asked for and were
refused, alerts about me, my latest unread notifications) and my numbers
(credentials held by maturity month, financed, quotes I can still take). For a bank's
staff: the chains their bank defined, with the cores named. Every figure comes from the
same services (and so the same scoping) as the API's answers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from chainfin.domain.access import Principal, Scope
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.money import Money
from chainfin.resources.alerts import AlertOut
from chainfin.resources.credentials import CredentialOut, CredentialPieceOut, QuoteOut
from chainfin.resources.documents import DocumentOut
from chainfin.services import (
    alerts,
    credentials,
    documents,
    identity,
    notifications,
)
from chainfin.services.credentials import quote_compare
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.consent_centre import CATEGORY_LABELS, PURPOSE_LABELS
from chainfin.web.notifications import rows as notification_rows
from chainfin.web.render import whoami

LATEST = 5  # unread notifications on the home page; the inbox has the rest
TO_CONFIRM = 5  # the newest documents awaiting confirmation; "see all" lists the rest

LIVE_ALERTS = ("open", "acknowledged")


@dataclass(frozen=True)
class MaturityMonth:
    month: date  # the first day of the month
    currency: str
    amount: str  # decimal string, major units
    pieces: int


def held_by_month(
    pieces: list[CredentialPieceOut], maturity: dict[str, date]
) -> list[MaturityMonth]:
    """Pieces held, summed by the month their credential matures, earliest first."""
    sums: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for piece in pieces:
        due = maturity.get(piece.credential_id)
        if due is None:
            continue
        key = (due.replace(day=1), piece.currency)
        sums[key][0] += Money.parse(piece.amount, piece.currency).amount_minor
        sums[key][1] += 1
    return [
        MaturityMonth(month, currency, Money(minor, currency).to_decimal_string(), n)
        for (month, currency), (minor, n) in sorted(sums.items())
    ]


def enterprise_home(session: Session, principal: Principal) -> dict[str, Any]:
    me = principal.enterprise_id
    offered: list[CredentialPieceOut] = []
    held: list[CredentialPieceOut] = []
    quotes: list[QuoteOut] = []
    financed: dict[str, tuple[int, int]] = {}
    maturity: dict[str, CredentialOut] = {}
    if principal.has(Scope.CREDENTIALS_READ):
        mine = credentials.PieceFilter(statuses=(PieceStatus.OFFERED, PieceStatus.HELD), holder=me)
        page = credentials.list_pieces(session, principal, mine, limit=MAX_LIMIT)
        pieces = [CredentialPieceOut.build(p) for p in page.items]
        offered = [p for p in pieces if p.status == PieceStatus.OFFERED]
        held = [p for p in pieces if p.status == PieceStatus.HELD]
        held_ids = [p.id for p in held]
        ids = {p.credential_id for p in pieces}
        if ids:
            held_in = credentials.CredentialFilter(holder=me)
            for c in credentials.list_credentials(
                session, principal, held_in, limit=MAX_LIMIT
            ).items:
                if c.id in ids:
                    maturity[c.id] = CredentialOut.build(c)
        # a quote is one I can still take only while I hold the piece and it is not pledged
        free = set(held_ids) - set(quote_compare.pledged(session, held_ids))
        quotes = [
            q
            for q in map(QuoteOut.build, credentials.open_quotes(session, principal))
            if q.piece_id in free
        ]
        financed = credentials.financed_minor(session, principal)
    to_confirm = []
    waiting = 0
    is_core = whoami(session, principal).is_core
    if principal.has(Scope.DOCUMENTS_READ):
        newest = documents.awaiting_confirmation_page(session, principal, limit=TO_CONFIRM)
        waiting = documents.count_awaiting(session, principal)
        to_confirm = [DocumentOut.build(d) for d in newest.items]
    about_me = []
    if principal.has(Scope.CREDENTIALS_READ):
        for state in LIVE_ALERTS:
            page_of_alerts = alerts.alerts(session, principal, alerts.AlertFilter(state=state))
            about_me += [AlertOut.build(a) for a in page_of_alerts.items]
    parties = {p.sender_id or "" for p in offered} | {q.bank_id for q in quotes}
    parties |= {c.issuer_id for c in maturity.values()} | {d.seller_id for d in to_confirm}
    asked = notifications.consent_requests(session, principal)
    latest = notification_rows(
        session, principal, notifications.latest_unread(session, principal, LATEST)
    )
    parties |= {r.bank_id for r in asked}
    return {
        "nav": "home",
        "offered": offered,
        "to_confirm": to_confirm,
        "to_confirm_total": waiting,
        "to_confirm_all": "/treasury/confirmations" if is_core else "/documents?side=buyer",
        "alerts": about_me,
        "consent_requests": asked,
        "category_labels": {k.value: v for k, v in CATEGORY_LABELS.items()},
        "purpose_labels": {k.value: v for k, v in PURPOSE_LABELS.items()},
        "latest": latest["notifications"],
        "unread": notifications.unread_count(session, principal),
        "by_month": held_by_month(held, {k: c.maturity_on for k, c in maturity.items()}),
        "credentials": maturity,
        "financed": [
            (
                currency,
                Money(face, currency).to_decimal_string(),
                Money(net, currency).to_decimal_string(),
            )
            for currency, (face, net) in sorted(financed.items())
        ],
        "quotes": quotes,
        "names": identity.party_names(session, principal, parties) | latest["names"],
    }
