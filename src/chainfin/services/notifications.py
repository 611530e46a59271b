"""Notifications: the events of the log a firm or a bank should hear about, and each
person's inbox of them.

Every state change appends a ledger entry in the transaction that makes it
(:func:`chainfin.services.ledger.record`); for the event types in :data:`RULES`,
:func:`rows_for` says who hears of it, and ``record`` writes one notification per recipient
in the same transaction: a change rolled back leaves neither entry nor notification.

Who hears an event (:class:`Hears`): the firm or bank a named field of one of the entry's
records points at — the holder a piece is offered to, the sender of a piece that was
accepted or rejected, the buyer of an invoice, the bank a consent was granted to. The
recipient is always one of the entry's parties (so it may read the entry, issue 13), is an
enterprise or a bank, and is never the actor's own firm or bank: nobody is told what they
just did themselves. What a recipient is told is a *topic* (the pages hold its sentence in
each language) with the figures of the recipient's own record (its amount; the
counterparty's id, named at display under the reader's scoping).

Read state is each person's own (``notification_reads``): a colleague reading a
notification leaves it unread for everyone else at the firm.

A notification that asks for an act (accept this piece, confirm this invoice) is *resolved*
when an entry records the act (:data:`ANSWERS`): :func:`resolve`, in the same ledger hook,
stamps ``resolved_at`` on the earlier notifications of the same subject and topic, so they
no longer count as unread nor ask anyone to act.

>>> sorted(h.topic for h in RULES["piece.transferred"])
['piece_offered']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    ConsentGrant,
    DataAccess,
    Notification,
    NotificationRead,
)
from chainfin.domain.access import Principal, PrincipalKind
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import NotFound
from chainfin.domain.ids import kind_of, new_ids
from chainfin.services.pagination import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
)

if TYPE_CHECKING:  # ledger imports this module to write the rows
    from chainfin.services.ledger import Change

RECIPIENT_KINDS = ("enterprise", "bank")
SUBJECT_KINDS = ("credential", "piece", "document", "consent", "alert", "application")


@dataclass(frozen=True)
class Hears:
    """The firm or bank named by ``party`` in each record of ``kind`` whose ``where`` fields
    have the values given hears the event as ``topic``. ``amount`` (with the record's
    ``currency``) and ``counterparty`` name fields of the same record; ``subject`` is the
    main record, (its kind, the field holding its id), for a link."""

    kind: str
    party: str
    topic: str
    where: tuple[tuple[str, Any], ...] = ()
    amount: str | None = "amount_minor"
    counterparty: str | None = None
    subject: tuple[str, str] | None = None

    def matches(self, change: Change) -> bool:
        return change.kind == self.kind and all(change.row.get(f) == v for f, v in self.where)


_OFFERED = (("status", "offered"),)
_ON_CREDENTIAL = ("credential", "credential_id")
_ON_PIECE = ("piece", "piece_id")
_ON_APPLICATION = ("application", "id")

RULES: dict[str, tuple[Hears, ...]] = {
    # credentials: the one a piece is offered to, the one who offered it, holders at maturity
    "credential.issued": (
        Hears(
            "piece",
            "holder_id",
            "credential_offered",
            _OFFERED,
            "amount_minor",
            "sender_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.transferred": (
        Hears(
            "piece",
            "holder_id",
            "piece_offered",
            _OFFERED,
            "amount_minor",
            "sender_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.credential_accepted": (
        Hears(
            "piece",
            "sender_id",
            "piece_accepted",
            (("status", "held"),),
            "amount_minor",
            "holder_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.transfer_accepted": (
        Hears(
            "piece",
            "sender_id",
            "piece_accepted",
            (("status", "held"),),
            "amount_minor",
            "holder_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.rejected": (
        Hears(
            "piece",
            "sender_id",
            "piece_rejected",
            (("status", "rejected"),),
            "amount_minor",
            "holder_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.withdrawn": (
        Hears(
            "piece",
            "holder_id",
            "piece_withdrawn",
            (("status", "cancelled"),),
            "amount_minor",
            "sender_id",
            _ON_CREDENTIAL,
        ),
    ),
    "credential.cancelled": (
        Hears(
            "piece",
            "holder_id",
            "credential_withdrawn",
            (("status", "cancelled"),),
            "amount_minor",
            "sender_id",
            _ON_CREDENTIAL,
        ),
    ),
    "piece.quoted": (Hears("quote", "holder_id", "piece_quoted", (), None, "bank_id", _ON_PIECE),),
    "piece.financed": (
        Hears("financing", "seller_id", "piece_financed", (), "net_minor", "bank_id", _ON_PIECE),
    ),
    "credential.paid": (
        Hears("piece", "holder_id", "credential_paid", (), "settled_minor", None, _ON_CREDENTIAL),
    ),
    "credential.overdue": (
        Hears(
            "piece",
            "holder_id",
            "credential_overdue",
            (("status", "overdue"),),
            "amount_minor",
            None,
            _ON_CREDENTIAL,
        ),
        Hears(
            "credential",
            "issuer_id",
            "issued_overdue",
            (),
            "face_minor",
            None,
            ("credential", "id"),
        ),
    ),
    # trade documents the buyer is asked to confirm
    "document.invoice.accepted": (
        Hears(
            "document",
            "buyer_id",
            "invoice_to_confirm",
            (),
            "total_minor",
            "seller_id",
            ("document", "id"),
        ),
    ),
    "document.goods_receipt.accepted": (
        Hears(
            "document",
            "buyer_id",
            "receipt_to_confirm",
            (),
            "total_minor",
            "seller_id",
            ("document", "id"),
        ),
    ),
    # consent: the bank learns what it may (no longer) read
    "consent.granted": (
        Hears(
            "consent", "bank_id", "consent_granted", (), None, "enterprise_id", ("consent", "id")
        ),
    ),
    "consent.revoked": (
        Hears(
            "consent", "bank_id", "consent_revoked", (), None, "enterprise_id", ("consent", "id")
        ),
    ),
    # alerts: a platform alert to the firm it is about, a bank's own alert to the bank only
    "alert.raised": (
        Hears(
            "alert",
            "enterprise_id",
            "alert_raised",
            (("bank_id", None),),
            None,
            None,
            ("alert", "id"),
        ),
        Hears("alert", "bank_id", "alert_raised", (), None, "enterprise_id", ("alert", "id")),
    ),
    # lending: the applicant hears the decision, the borrower the payout
    "application.approved": (
        Hears(
            "application",
            "applicant_id",
            "application_approved",
            (),
            "amount_minor",
            "bank_id",
            _ON_APPLICATION,
        ),
    ),
    "application.declined": (
        Hears(
            "application",
            "applicant_id",
            "application_declined",
            (),
            "amount_minor",
            "bank_id",
            _ON_APPLICATION,
        ),
    ),
    "loans.disbursed": (
        Hears(
            "loan",
            "borrower_id",
            "loan_paid_out",
            (),
            "principal_minor",
            "bank_id",
            ("application", "application_id"),
        ),
    ),
    "line.opened": (Hears("line", "obligor_id", "line_opened", (), "limit_minor", "bank_id"),),
    # a bank invited to fund a programme; the core asked to approve it
    "programme.invitation_invited": (
        Hears("invitation", "bank_id", "funder_invited", (), None, "lead_bank_id"),
        Hears("invitation", "core_enterprise_id", "funder_to_approve", (), None, "bank_id"),
    ),
}
TOPICS = frozenset(h.topic for rules in RULES.values() for h in rules)


@dataclass(frozen=True)
class Answers:
    """Each record of ``kind`` whose ``where`` fields have the values given is the act the
    ``topics`` asked ``party`` for: the earlier notifications of those topics to that party
    about the same ``subject`` (kind, field holding its id) are resolved. With ``by_record``
    only those written for this very record (a piece: its ``piece_id`` param) are."""

    kind: str
    party: str
    topics: tuple[str, ...]
    where: tuple[tuple[str, Any], ...]
    subject: tuple[str, str]
    by_record: bool = True

    def matches(self, change: Change) -> bool:
        return change.kind == self.kind and all(change.row.get(f) == v for f, v in self.where)


_OFFERS = ("credential_offered", "piece_offered")
ANSWERS: dict[str, tuple[Answers, ...]] = {
    "piece.credential_accepted": (
        Answers("piece", "holder_id", _OFFERS, (("status", "held"),), _ON_CREDENTIAL),
    ),
    "piece.transfer_accepted": (
        Answers("piece", "holder_id", _OFFERS, (("status", "held"),), _ON_CREDENTIAL),
    ),
    "piece.rejected": (
        Answers("piece", "holder_id", _OFFERS, (("status", "rejected"),), _ON_CREDENTIAL),
    ),
    "piece.withdrawn": (
        Answers("piece", "holder_id", _OFFERS, (("status", "cancelled"),), _ON_CREDENTIAL),
    ),
    "credential.cancelled": (
        Answers("piece", "holder_id", _OFFERS, (("status", "cancelled"),), _ON_CREDENTIAL),
    ),
    "document.invoice.confirmed": (
        Answers(
            "confirmation",
            "buyer_id",
            ("invoice_to_confirm",),
            (),
            ("document", "document_id"),
            by_record=False,
        ),
    ),
    "document.goods_receipt.confirmed": (
        Answers(
            "confirmation",
            "buyer_id",
            ("receipt_to_confirm",),
            (),
            ("document", "document_id"),
            by_record=False,
        ),
    ),
}
ACTION_TOPICS = frozenset(t for answers in ANSWERS.values() for a in answers for t in a.topics)


def rows_for(
    entry_id: str,
    event_type: str,
    changes: Sequence[Change],
    parties: Iterable[str],
    actor: Principal,
    at: datetime,
) -> list[dict[str, Any]]:
    """The notification rows for one ledger entry (none for an event nobody hears of): at
    most one per recipient, each an enterprise or a bank among the entry's parties and
    never the actor's own firm or bank. Reads nothing from the database."""
    rules = RULES.get(event_type)
    if not rules:
        return []
    heard = set(parties) - {actor.enterprise_id, actor.bank_id}
    rows: list[dict[str, Any]] = []
    for hears in rules:
        for change in changes:
            if not hears.matches(change):
                continue
            recipient = change.row.get(hears.party)
            kind = kind_of(recipient) if isinstance(recipient, str) else None
            if recipient not in heard or kind not in RECIPIENT_KINDS:
                continue
            heard.discard(recipient)  # one notification per recipient and entry
            rows.append(_row(entry_id, event_type, hears, change.row, str(recipient), kind, at))
    if not rows:
        return rows
    ids = new_ids("notification", len(rows))
    for row, made in zip(rows, ids, strict=True):
        row["id"] = made
    return rows


def _row(
    entry_id: str,
    event_type: str,
    hears: Hears,
    record: Mapping[str, Any],
    recipient: str,
    kind: str | None,
    at: datetime,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if hears.amount is not None and record.get(hears.amount) is not None:
        params["amount_minor"] = int(record[hears.amount])
        params["currency"] = str(record.get("currency") or "CNY")
    if hears.counterparty is not None and record.get(hears.counterparty):
        params["counterparty"] = str(record[hears.counterparty])
    if hears.kind == "piece" and hears.topic in ACTION_TOPICS and record.get("id"):
        params["piece_id"] = str(record["id"])  # which offer an answer resolves
    subject_kind, subject_id = None, None
    if hears.subject is not None and record.get(hears.subject[1]):
        subject_kind, subject_id = hears.subject[0], str(record[hears.subject[1]])
    return {
        "entry_id": entry_id,
        "recipient_kind": kind,
        "recipient_id": recipient,
        "event_type": event_type,
        "topic": hears.topic,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "params": params,
        "created_at": at,
    }


_TABLE = Notification.metadata.tables["notifications"]


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows :func:`rows_for` made (Core executemany: nobody loads them in this
    transaction)."""
    for i in range(0, len(rows), 2000):
        session.execute(insert(_TABLE), list(rows[i : i + 2000]))


def resolve(session: Session, event_type: str, changes: Sequence[Change], at: datetime) -> int:
    """Stamps ``resolved_at`` on the notifications the entry's act answers (:data:`ANSWERS`);
    returns how many. Nothing is read for an event that answers nothing."""
    answers = ANSWERS.get(event_type)
    if not answers:
        return 0
    done: set[str] = set()
    for answer in answers:
        for change in changes:
            party = change.row.get(answer.party)
            subject_id = change.row.get(answer.subject[1])
            if not answer.matches(change) or not party or not subject_id:
                continue
            waiting = session.execute(
                select(Notification.id, Notification.params).where(
                    Notification.recipient_id == str(party),
                    Notification.subject_kind == answer.subject[0],
                    Notification.subject_id == str(subject_id),
                    Notification.topic.in_(answer.topics),
                    Notification.resolved_at.is_(None),
                )
            ).all()
            record_id = str(change.row.get("id"))
            done |= {
                i
                for i, params in waiting
                if not answer.by_record or (params or {}).get("piece_id") == record_id
            }
    if done:
        session.execute(
            update(Notification).where(Notification.id.in_(sorted(done))).values(resolved_at=at)
        )
    return len(done)


# ---------------------------------------------------------------------------- the inbox


@dataclass(frozen=True)
class Item:
    """A notification as one person sees it: read (when) or not; resolved (the act it
    asked for was done: no longer counted as unread) or not."""

    notification: Notification
    read_at: datetime | None

    @property
    def resolved(self) -> bool:
        return self.notification.resolved_at is not None

    @property
    def unread(self) -> bool:
        return self.read_at is None and not self.resolved


def recipient_of(actor: Principal) -> str | None:
    """The firm or bank whose notifications a person reads; None for anyone else (an API
    client, the operator's people, the system), who has no inbox."""
    if actor.kind not in (PrincipalKind.STAFF, PrincipalKind.ENTERPRISE_USER):
        return None
    return actor.enterprise_id or actor.bank_id


def _unread(actor: Principal) -> Any:
    """Neither read by the person nor resolved."""
    read = exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.user_id == actor.subject_id,
    )
    return and_(~read, Notification.resolved_at.is_(None))


def inbox(
    session: Session,
    actor: Principal,
    *,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Item]:
    """The person's notifications, newest first; ``unread_only``: those they have not read
    and that are not resolved."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    recipient = recipient_of(actor)
    if recipient is None:
        return Page([], None)
    query = (
        select(Notification, NotificationRead.read_at)
        .outerjoin(
            NotificationRead,
            and_(
                NotificationRead.notification_id == Notification.id,
                NotificationRead.user_id == actor.subject_id,
            ),
        )
        .where(Notification.recipient_id == recipient)
    )
    if unread_only:
        query = query.where(NotificationRead.read_at.is_(None), Notification.resolved_at.is_(None))
    if after:
        query = query.where(Notification.id < after)
    found = list(session.execute(query.order_by(Notification.id.desc()).limit(limit + 1)))
    items = [Item(n, read_at) for n, read_at in found[:limit]]
    more = len(found) > limit and items
    return Page(items, encode_cursor(items[-1].notification.id) if more else None)


def unread_count(session: Session, actor: Principal) -> int:
    """How many of the person's notifications they have not read and are not resolved: one
    COUNT on the recipient's index."""
    recipient = recipient_of(actor)
    if recipient is None:
        return 0
    query = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == recipient, _unread(actor))
    )
    return int(session.scalar(query) or 0)


def latest_unread(session: Session, actor: Principal, limit: int = 5) -> list[Item]:
    return inbox(session, actor, unread_only=True, limit=limit).items


def get(session: Session, actor: Principal, notification_id: str) -> Item:
    """One of the person's notifications; anyone else's is not found."""
    recipient = recipient_of(actor)
    row = session.get(Notification, notification_id) if len(notification_id) <= 32 else None
    if row is None or recipient is None or row.recipient_id != recipient:
        raise NotFound(f"no notification {notification_id!r}", code="notification_not_found")
    read = session.get(NotificationRead, (actor.subject_id, row.id))
    return Item(row, read.read_at if read is not None else None)


def mark_read(session: Session, actor: Principal, notification_id: str) -> Item:
    """Marks one of the person's notifications read (again: no change)."""
    item = get(session, actor, notification_id)
    if item.read_at is not None:
        return item
    now = utcnow()
    session.add(
        NotificationRead(
            user_id=actor.subject_id, notification_id=item.notification.id, read_at=now
        )
    )
    session.flush()
    return Item(item.notification, now)


def mark_all_read(session: Session, actor: Principal) -> int:
    """Marks every unread notification of the person read; returns how many."""
    recipient = recipient_of(actor)
    if recipient is None:
        return 0
    now = utcnow()
    unread = select(Notification.id).where(Notification.recipient_id == recipient, _unread(actor))
    ids = list(session.scalars(unread))
    reads = [{"user_id": actor.subject_id, "notification_id": i, "read_at": now} for i in ids]
    for i in range(0, len(reads), 2000):
        session.execute(insert(NotificationRead), reads[i : i + 2000])
    return len(ids)


# ---------------------------------------------------------------------------- asked of me


@dataclass(frozen=True)
class ConsentRequest:
    """A bank was refused a read of the firm's data, and no grant in force covers it now:
    the firm may want to grant it."""

    bank_id: str
    bank_code: str
    category: str
    purpose: str
    asked_at: datetime


def consent_requests(session: Session, actor: Principal, *, limit: int = 5) -> list[ConsentRequest]:
    """The refused reads of the actor's firm's data (its access log, services/consent.py),
    one per bank, category and purpose, latest first, leaving out what a grant in force now
    covers."""
    me = actor.enterprise_id
    if me is None:
        return []
    now = utcnow()
    asked = func.max(DataAccess.occurred_at)
    refused = session.execute(
        select(Bank.id, Bank.code, DataAccess.category, DataAccess.purpose, asked)
        .join(Bank, Bank.id == DataAccess.bank_id)
        .where(DataAccess.enterprise_id == me, DataAccess.allowed.is_(False))
        .group_by(Bank.id, Bank.code, DataAccess.category, DataAccess.purpose)
        .order_by(asked.desc())
        .limit(200)
    ).all()
    granted = session.scalars(
        select(ConsentGrant).where(
            ConsentGrant.enterprise_id == me,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.valid_from <= now,
            ConsentGrant.expires_at > now,
        )
    ).all()
    covered = {
        (g.bank_id, c, p) for g in granted for c in g.categories or () for p in g.purposes or ()
    }
    out = [
        ConsentRequest(bank_id, code, category, purpose, at)
        for bank_id, code, category, purpose, at in refused
        if (bank_id, category, purpose) not in covered
    ]
    return out[:limit]
