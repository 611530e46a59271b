"""The books: post balanced journals (idempotently, by reference), reverse them, and read
trial balances and account statements.

A book is a bank's (``book_id`` is the bank id) or the platform's credential sub-ledger
(``book_id`` "platform"). Lines are inserted before the header so the database's trigger can
check the whole journal when the header arrives; the same journal reference posted twice
returns the first journal — that is what makes every money movement safe to retry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Account, Bank, Journal, JournalLine
from chainfin.domain import books as rules
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.books import AccountSpec, AccountType, Posting, TrialBalance
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, ledger, scoping
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.pagination import check_period

_KNOWN_ACCOUNTS: dict[str, set[tuple[str, str]]] = {}


def journal_row(journal: Journal, postings: Sequence[Posting]) -> dict[str, object]:
    """A journal with its lines, as it goes on the log and as ``ledger verify`` rebuilds it."""
    return {
        "id": journal.id,
        "book_id": journal.book_id,
        "kind": journal.kind,
        "ref": journal.ref,
        "value_on": journal.value_on,
        "reverses_id": journal.reverses_id,
        "lines": [[p.account, p.amount.currency, p.amount.amount_minor] for p in postings],
    }


def _ensure_accounts(session: Session, book_id: str, specs: Sequence[AccountSpec]) -> None:
    """Create missing accounts; concurrent creators of the same account both succeed.
    Accounts are never deleted, so one seen in a committed transaction is remembered for
    the process (per database) and not inserted again."""
    bind = session.get_bind()
    known = _KNOWN_ACCOUNTS.setdefault(str(bind.engine.url), set())
    specs = [s for s in specs if (book_id, s.code) not in known]
    if not specs:
        return
    values = [
        {"book_id": book_id, "code": s.code, "name": s.name, "type": s.type.value}
        for s in {s.code: s for s in specs}.values()
    ]
    now = utcnow()
    for v in values:
        v["created_at"] = now  # type: ignore[assignment]
    dialect = bind.dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(Account).values(values)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["book_id", "code"]))
    codes = {(book_id, s.code) for s in specs}
    event.listen(session, "after_commit", lambda _s: known.update(codes), once=True)


def spec_for(book_id: str, code: str) -> AccountSpec:
    try:
        if book_id == rules.PLATFORM_BOOK:
            return rules.platform_account(code)
        return rules.bank_account(code)
    except KeyError:
        raise ValidationFailed(
            [FieldError("account", f"{code} is not an account of book {book_id}")],
            code="account_unknown",
        ) from None


@dataclass(frozen=True)
class Posted:
    journal: Journal
    postings: tuple[Posting, ...]
    replayed: bool


def post(
    session: Session,
    actor: Principal,
    *,
    book_id: str,
    kind: str,
    ref: str,
    value_on: date,
    postings: Sequence[Posting],
    memo: str = "",
    reverses_id: str | None = None,
    event: EntryDraft | None = None,
    check_replay: bool = True,
) -> Posted:
    """Post one journal (or return the one already posted under ``ref`` in this book).

    With ``event``, the journal goes on the log inside that entry, next to the records that
    caused it. ``check_replay=False`` skips the lookup for callers that already guarantee a
    single post (the unique ``(book_id, ref)`` constraint still holds)."""
    if check_replay:
        existing = session.scalar(
            select(Journal).where(Journal.book_id == book_id, Journal.ref == ref)
        )
        if existing is not None:
            return Posted(existing, tuple(lines_of(session, existing.id)), True)
    rules.check_journal(postings)
    _ensure_accounts(session, book_id, [spec_for(book_id, p.account) for p in postings])
    journal_id = new_id("journal")
    session.execute(
        insert(JournalLine),
        [
            {
                "journal_id": journal_id,
                "line_no": n,
                "book_id": book_id,
                "account_code": p.account,
                "currency": p.amount.currency,
                "amount_minor": p.amount.amount_minor,
            }
            for n, p in enumerate(postings, start=1)
        ],
    )
    journal = Journal(
        id=journal_id,
        book_id=book_id,
        kind=kind,
        ref=ref,
        value_on=value_on,
        reverses_id=reverses_id,
        memo=memo[:300],
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(journal)
    session.flush()
    change = Change("journal", journal_row(journal, postings))
    if event is not None:
        ledger.record(session, actor, [EntryDraft(event.event_type, [*event.changes, change])])
    else:
        ledger.one(session, actor, f"journal.{kind}", change)
    return Posted(journal, tuple(postings), False)


def lines_of(session: Session, journal_id: str) -> list[Posting]:
    from chainfin.domain.money import Money

    rows = session.execute(
        select(JournalLine.account_code, JournalLine.currency, JournalLine.amount_minor)
        .where(JournalLine.journal_id == journal_id)
        .order_by(JournalLine.line_no)
    )
    return [Posting(code, Money(amount, currency)) for code, currency, amount in rows]


def reverse(session: Session, actor: Principal, journal_id: str, *, reason: str) -> Posted:
    """Undo a journal by posting its mirror image; the original stays as it was."""
    actor.require(Scope.FINANCING_WRITE)
    original = session.get(Journal, journal_id)
    if original is None or not _may_read(actor, original.book_id):
        raise NotFound(f"no journal {journal_id!r}", code="journal_not_found")
    if original.book_id == rules.PLATFORM_BOOK and not actor.is_system:
        raise Forbidden(
            "the platform's credential sub-ledger follows the credentials only",
            code="operator_only",
        )
    if original.reverses_id is not None:
        raise ValidationFailed(
            [FieldError("journal_id", "a reversal is not reversed again")],
            code="reversal_not_reversible",
        )
    posted = post(
        session,
        actor,
        book_id=original.book_id,
        kind="reversal",
        ref=f"reversal/{original.id}",
        value_on=clock.today(),
        postings=rules.reversal(lines_of(session, original.id)),
        memo=f"reverses {original.id}: {reason}",
        reverses_id=original.id,
    )
    if not posted.replayed:
        audit.record(session, actor, "journal.reverse", "journal", original.id, {"why": reason})
    return posted


def _may_read(actor: Principal, book_id: str) -> bool:
    """A bank reads its own books. The platform's credential sub-ledger carries every
    programme's credentials, whichever banks fund them: platform auditors and the operator
    read it, no bank does."""
    if book_id == rules.PLATFORM_BOOK:
        return actor.platform_may(Scope.PLATFORM_AUDIT)
    return scoping.owns(actor, book_id)


def _book_for(session: Session, actor: Principal, book: str | None) -> str:
    actor.require(Scope.BOOKS_READ)
    if book in (None, "", "bank"):
        if actor.bank_id is None:
            raise ValidationFailed(
                [FieldError("book", "name a bank code or 'platform'")], code="book_invalid"
            )
        return actor.bank_id
    if book == rules.PLATFORM_BOOK:
        book_id = book
    else:
        bank = session.scalar(select(Bank).where((Bank.code == book) | (Bank.id == book)))
        if bank is None:
            raise NotFound(f"no book {book!r}", code="book_not_found")
        book_id = bank.id
    if not _may_read(actor, book_id):
        if book_id != rules.PLATFORM_BOOK:
            raise NotFound(
                f"no book {book!r}", code="book_not_found"
            )  # another bank's books are not disclosed
        raise Forbidden(
            "the platform's credential sub-ledger is read by platform auditors",
            code="scope_missing",
        )
    return book_id


def balances(session: Session, book_id: str) -> list[tuple[AccountSpec, str, int]]:
    rows = session.execute(
        select(JournalLine.account_code, JournalLine.currency, func.sum(JournalLine.amount_minor))
        .where(JournalLine.book_id == book_id)
        .group_by(JournalLine.account_code, JournalLine.currency)
    )
    names = {
        a.code: AccountSpec(a.code, a.name, AccountType(a.type))
        for a in session.scalars(select(Account).where(Account.book_id == book_id))
    }
    return [
        (names.get(code) or spec_for(book_id, code), currency, int(total))
        for code, currency, total in rows
    ]


def trial_balance(session: Session, actor: Principal, book: str | None) -> TrialBalance:
    book_id = _book_for(session, actor, book)
    return rules.trial_balance(balances(session, book_id))


def book_id_of(session: Session, actor: Principal, book: str | None) -> str:
    return _book_for(session, actor, book)


@dataclass(frozen=True)
class StatementLine:
    journal_id: str
    value_on: date
    kind: str
    memo: str
    currency: str
    amount_minor: int
    balance_minor: int


def statement(
    session: Session,
    actor: Principal,
    book: str | None,
    account: str,
    *,
    since: date | None = None,
    until: date | None = None,
    currency: str = "CNY",
) -> tuple[AccountSpec, int, list[StatementLine]]:
    """An account's movements in one currency, in value-date order with the running
    balance, and the balance brought forward from before ``since``."""
    book_id = _book_for(session, actor, book)
    check_period(since, until)
    spec = spec_for(book_id, account)
    in_account = (
        JournalLine.book_id == book_id,
        JournalLine.account_code == account,
        JournalLine.currency == currency,
    )
    base = (
        select(Journal.id, Journal.value_on, Journal.kind, Journal.memo, JournalLine)
        .join(Journal, Journal.id == JournalLine.journal_id)
        .where(*in_account)
    )
    opening = 0
    if since is not None:
        opening = int(
            session.scalar(
                select(func.coalesce(func.sum(JournalLine.amount_minor), 0))
                .join(Journal, Journal.id == JournalLine.journal_id)
                .where(*in_account, Journal.value_on < since)
            )
            or 0
        )
        base = base.where(Journal.value_on >= since)
    if until is not None:
        base = base.where(Journal.value_on <= until)
    running = opening
    out: list[StatementLine] = []
    for jid, value_on, kind, memo, line in session.execute(
        base.order_by(Journal.value_on, Journal.created_at, Journal.id, JournalLine.line_no)
    ):
        running += line.amount_minor
        out.append(
            StatementLine(jid, value_on, kind, memo, line.currency, line.amount_minor, running)
        )
    return spec, opening, out


@dataclass(frozen=True)
class LedgerLine:
    """One line of the general-ledger export: what a bank's GL takes in."""

    journal_id: str
    value_on: date
    kind: str
    ref: str
    line_no: int
    account: str
    account_name: str
    currency: str
    debit_minor: int
    credit_minor: int
    reverses_id: str | None
    memo: str


GL_COLUMNS = (
    "journal_id",
    "value_on",
    "kind",
    "ref",
    "line_no",
    "account",
    "account_name",
    "currency",
    "debit",
    "credit",
    "reverses_id",
    "memo",
)


def general_ledger(
    session: Session,
    actor: Principal,
    book: str | None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[LedgerLine]:
    """Every journal line of a book in value-date order (then posting order), debits and
    credits in their own columns: the general-ledger export a bank's core system imports."""
    book_id = _book_for(session, actor, book)
    check_period(since, until)
    return list(general_ledger_lines(session, book_id, since=since, until=until))


def readable_book(session: Session, actor: Principal, book: str | None) -> str:
    """The id of ``book`` (a bank code or id, "bank" for the actor's own, or "platform")
    if ``actor`` may read it; NotFound or Forbidden otherwise."""
    return _book_for(session, actor, book)


def general_ledger_lines(
    session: Session,
    book_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    batch: int = 1000,
) -> Iterator[LedgerLine]:
    """The general ledger of ``book_id`` line by line as the database yields them, ``batch``
    rows at a time (for an export streamed as it is read). The caller has checked that the
    book may be read (:func:`readable_book`)."""
    names = {
        a.code: a.name for a in session.scalars(select(Account).where(Account.book_id == book_id))
    }
    query = (
        select(Journal, JournalLine)
        .join(JournalLine, JournalLine.journal_id == Journal.id)
        .where(Journal.book_id == book_id)
    )
    if since is not None:
        query = query.where(Journal.value_on >= since)
    if until is not None:
        query = query.where(Journal.value_on <= until)
    query = query.order_by(Journal.value_on, Journal.created_at, Journal.id, JournalLine.line_no)
    for journal, line in session.execute(query.execution_options(yield_per=batch)):
        yield LedgerLine(
            journal_id=journal.id,
            value_on=journal.value_on,
            kind=journal.kind,
            ref=journal.ref,
            line_no=line.line_no,
            account=line.account_code,
            account_name=names.get(line.account_code, ""),
            currency=line.currency,
            debit_minor=max(line.amount_minor, 0),
            credit_minor=max(-line.amount_minor, 0),
            reverses_id=journal.reverses_id,
            memo=journal.memo,
        )


def gl_rows(lines: Sequence[LedgerLine]) -> list[dict[str, str]]:
    """The export as text rows (amounts as decimal strings), for CSV and JSON alike."""
    return [
        {
            "journal_id": line.journal_id,
            "value_on": line.value_on.isoformat(),
            "kind": line.kind,
            "ref": line.ref,
            "line_no": str(line.line_no),
            "account": line.account,
            "account_name": line.account_name,
            "currency": line.currency,
            "debit": Money(line.debit_minor, line.currency).to_decimal_string(),
            "credit": Money(line.credit_minor, line.currency).to_decimal_string(),
            "reverses_id": line.reverses_id or "",
            "memo": line.memo,
        }
        for line in lines
    ]
