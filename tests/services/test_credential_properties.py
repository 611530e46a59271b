"""Payable credentials under random operations: a rule-based machine issues, accepts,
rejects, cancels, splits, transfers, finances, settles and marks overdue at random, and after
every step audits the whole database against the invariants the services promise:

(a) a credential's live pieces hold exactly what is still owed on it;
(b) the pieces form a tree: one holder each, children account for their parent exactly;
(c) nothing is financed twice (one financing per piece, one active registration per key);
(d) programme utilisation: pending is what is offered, posted what is owed, within the limit;
(e) every journal balances and every book's trial balance too;
(f) the platform sub-ledger agrees with the pieces, holder by holder;
(g) each bank's books agree with the pieces it holds and the cash it paid and received.

A refused operation (validation, conflict, not found) must leave the database as it was.
Each example ends by sequencing the transparency log and verifying it against the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, ClassVar

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import make_session_factory, transaction
from chainfin.adapters.db.models import (
    Base,
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    CredentialQuote,
    Financing,
    JournalLine,
    PayableConfirmation,
    ReceivableRegistration,
)
from chainfin.domain import books as chart
from chainfin.domain.access import SYSTEM, Principal
from chainfin.domain.errors import Conflict, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import books, credentials, ledger, ledger_verify
from credit_world import ISSUED_ON, CreditWorld, build
from dbreset import empty_database
from propbudget import budget

LIVE = ("offered", "held", "financed", "overdue")
BOOKED = ("held", "financed", "overdue")  # live pieces the platform sub-ledger holds
OWING = ("active", "overdue", "settled")  # credentials accepted by their first holder
REFUSALS = (ValidationFailed, Conflict, NotFound)  # IllegalTransition is a Conflict
ORIGIN = "chainfin.test/ledger"
log = logging.getLogger(__name__)
# Examples per run: 30 on SQLite, 25 on PostgreSQL (each costs a fresh world, and a
# PostgreSQL round trip costs more); CHAINFIN_PROPERTY_EXAMPLES=500 for a longer hunt.
EXAMPLES = os.environ.get("CHAINFIN_PROPERTY_EXAMPLES")

MIN_PIECE = 10_000_00
LINE = 3_000_000_00
SECOND_LINE = 1_000_000_00  # the programme limit is the two lines: 4,000,000.00
MATURITIES = (date(2027, 1, 26), date(2027, 3, 26), date(2027, 5, 26))
OVERDUE_AS_OF = (date(2027, 1, 20), date(2027, 2, 5), date(2027, 4, 6), date(2027, 6, 10))
TRADING_TURNS = 8  # steps of trading before payment dates (settle, overdue) may come
MAX_UNDER_WAY = 4  # credentials offered or active at once: the limit fills, the walk goes deep
SUPPLIER = {"core": "t1", "t1": "t2", "t2": "t3"}  # who buys from whom in the test world
DAYS_AFTER_PAYMENT = (0, 0, 2, 5, 9)  # repeats on purpose: two payments on the same day


# ---------------------------------------------------------------------------- invariants


def outstanding(piece: CredentialPiece) -> int:
    return piece.amount_minor - piece.settled_minor


def check_invariants(s: Session, world: CreditWorld) -> None:
    """Every invariant, read from the database as it is now."""
    creds = {c.id: c for c in s.scalars(select(Credential))}
    pieces = {p.id: p for p in s.scalars(select(CredentialPiece))}
    children: dict[str, list[CredentialPiece]] = defaultdict(list)
    for p in pieces.values():
        if p.parent_id is not None:
            children[p.parent_id].append(p)
    payments = list(s.scalars(select(CredentialPayment)))
    check_pieces_hold_what_is_owed(creds, pieces, payments)
    check_tree(creds, pieces, children)
    check_financed_once(s, pieces, world)
    check_programme(s, creds, world)
    check_journals_balance(s)
    balances = account_balances(s)
    check_platform_book(balances, creds, pieces)
    check_bank_books(s, balances, pieces, payments, world)


def check_pieces_hold_what_is_owed(
    creds: dict[str, Credential],
    pieces: dict[str, CredentialPiece],
    payments: list[CredentialPayment],
) -> None:
    """(a), and every payment shared out exactly as recorded."""
    live: dict[str, list[CredentialPiece]] = defaultdict(list)
    for p in pieces.values():
        assert 0 <= p.settled_minor <= p.amount_minor, f"piece {p.id} settled out of range"
        assert (p.status == "settled") == (p.settled_minor == p.amount_minor), (
            f"piece {p.id} is {p.status} with {p.settled_minor} of {p.amount_minor} settled"
        )
        if p.status in LIVE:
            live[p.credential_id].append(p)
    principal: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for pay in payments:
        shares = [(a["principal_minor"], a["penalty_minor"]) for a in pay.allocations]
        assert pay.amount_minor == sum(a + b for a, b in shares), f"payment {pay.id} shares"
        assert pay.penalty_minor == sum(b for _, b in shares), f"payment {pay.id} penalty"
        paid[pay.credential_id] += sum(a for a, _ in shares)
        for a in pay.allocations:
            principal[a["piece_id"]] += a["principal_minor"]
    for c in creds.values():
        mine = live[c.id]
        assert paid[c.id] == c.settled_minor, f"credential {c.id}: payments vs settled"
        if c.status in OWING:
            held = sum(outstanding(p) for p in mine)
            assert held == c.face_minor - c.settled_minor, (
                f"credential {c.id} ({c.status}): live pieces hold {held}, "
                f"{c.face_minor - c.settled_minor} is owed"
            )
            assert not [p for p in mine if p.parent_id is None and p.status == "offered"]
        elif c.status == "offered":
            assert [(p.parent_id, p.status, p.amount_minor) for p in mine] == [
                (None, "offered", c.face_minor)
            ], f"offered credential {c.id}: only its root is live, for the face"
        else:
            assert mine == [], f"{c.status} credential {c.id} has live pieces"
    for p in pieces.values():
        assert principal[p.id] == p.settled_minor, (
            f"piece {p.id}: {principal[p.id]} paid to it, {p.settled_minor} settled"
        )


def check_tree(
    creds: dict[str, Credential],
    pieces: dict[str, CredentialPiece],
    children: dict[str, list[CredentialPiece]],
) -> None:
    """(b): one root per credential, lineage follows the parents, live pieces are leaves,
    and a parent's children account for its amount exactly."""
    roots = Counter(p.credential_id for p in pieces.values() if p.parent_id is None)
    assert all(roots[cid] == 1 for cid in creds), f"roots per credential: {roots}"
    for p in pieces.values():
        assert p.holder_id, f"piece {p.id} has no holder"
        kids = children.get(p.id, [])
        where = f"piece {p.id} ({p.status}, {p.amount_minor})"
        if p.parent_id is None:
            assert (p.lineage, p.tier) == ([], 1), where
        else:
            parent = pieces[p.parent_id]
            assert p.credential_id == parent.credential_id, where
            assert p.lineage == [*parent.lineage, parent.id], f"{where}: lineage"
        amounts = sorted(k.amount_minor for k in kids)
        if p.status == "split":
            assert len(kids) >= 2, f"{where}: {amounts}"
            assert sum(amounts) == p.amount_minor, f"{where}: {amounts}"
            # kept by the holder, or (a part transferred) offered on by it: nobody else
            kept = [k for k in kids if k.sender_id is None and k.holder_id == p.holder_id]
            passed_on = [k for k in kids if k.sender_id == p.holder_id]
            assert len(kept) + len(passed_on) == len(kids), where
            assert len(passed_on) <= 1, where
        elif p.status == "transferred":
            (kid,) = kids
            assert (kid.amount_minor, kid.sender_id) == (p.amount_minor, p.holder_id), where
            assert kid.holder_id != p.holder_id, f"{where}: passed to its own holder"
        elif p.status in ("rejected", "cancelled") and p.parent_id is not None:
            (kid,) = kids  # a refused or withdrawn offer goes back to its sender
            assert (kid.amount_minor, kid.holder_id) == (p.amount_minor, p.sender_id), where
        else:
            assert kids == [], f"{where} has children {[k.id for k in kids]}"


def check_financed_once(s: Session, pieces: dict[str, CredentialPiece], world: CreditWorld) -> None:
    """(c)."""
    financings = list(s.scalars(select(Financing)))
    per_piece = Counter(f.piece_id for f in financings)
    assert max(per_piece.values(), default=0) <= 1, f"financed twice: {per_piece}"
    bank_ents = {world.banks[code]: ent for code, ent in world.bank_ents.items()}
    by_bank_piece = {f.bank_piece_id: f for f in financings}
    registrations = {r.id: r for r in s.scalars(select(ReceivableRegistration))}
    active = Counter(r.receivable_key for r in registrations.values() if r.released_at is None)
    assert max(active.values(), default=0) <= 1, f"registered twice: {active}"
    for f in financings:
        sold, bought = pieces[f.piece_id], pieces[f.bank_piece_id]
        assert (sold.status, sold.financing_id) == ("transferred", f.id), f"financing {f.id}"
        assert (bought.parent_id, bought.financing_id) == (sold.id, f.id), f"financing {f.id}"
        assert bought.holder_id == bank_ents[f.bank_id], f"financing {f.id}"
        assert f.face_minor == sold.amount_minor == bought.amount_minor, f"financing {f.id}"
        reg = registrations[f.registration_id]
        assert (reg.released_at is None) == (bought.status != "settled"), (
            f"financing {f.id}: registration released={reg.released_at} but the bank's "
            f"piece is {bought.status}"
        )
    for p in pieces.values():
        if p.holder_id in bank_ents.values():
            assert p.id in by_bank_piece, f"bank-held piece {p.id} without its financing"
        if p.status == "financed":
            assert p.id in by_bank_piece, f"financed piece {p.id} without its financing"


def check_programme(s: Session, creds: dict[str, Credential], world: CreditWorld) -> None:
    """(d), and the debtor confirmations carry what was issued against them."""
    programme = s.get(CredentialProgramme, world.programme_id)
    assert programme is not None
    pending, posted, limit = programme.pending_minor, programme.posted_minor, programme.limit_minor
    assert min(pending, posted) >= 0, (pending, posted)
    assert pending + posted <= limit, (pending, posted, limit)
    assert pending == sum(c.face_minor for c in creds.values() if c.status == "offered")
    assert posted == sum(
        c.face_minor - c.settled_minor for c in creds.values() if c.status in ("active", "overdue")
    )
    taken: Counter[str] = Counter()
    for c in creds.values():
        if c.status not in ("rejected", "cancelled"):
            for confirmation_id, amount in c.confirmations:
                taken[confirmation_id] += amount
    for conf in s.scalars(select(PayableConfirmation)):
        assert conf.issued_minor == taken[conf.id], f"confirmation {conf.id}"


def check_journals_balance(s: Session) -> None:
    """(e)."""
    off = s.execute(
        select(JournalLine.journal_id, JournalLine.currency, func.sum(JournalLine.amount_minor))
        .group_by(JournalLine.journal_id, JournalLine.currency)
        .having(func.sum(JournalLine.amount_minor) != 0)
    ).all()
    assert off == [], f"unbalanced journals: {off}"
    for book in ("BKA", "BKB", chart.PLATFORM_BOOK):
        assert books.trial_balance(s, SYSTEM, book).balanced, f"book {book} does not balance"


def account_balances(s: Session) -> Counter[tuple[str, str]]:
    rows = s.execute(
        select(
            JournalLine.book_id, JournalLine.account_code, func.sum(JournalLine.amount_minor)
        ).group_by(JournalLine.book_id, JournalLine.account_code)
    )
    return Counter({(book, code): int(total) for book, code, total in rows})


def check_platform_book(
    balances: Counter[tuple[str, str]],
    creds: dict[str, Credential],
    pieces: dict[str, CredentialPiece],
) -> None:
    """(f): a holder's account carries what it holds and what it has offered on but not yet
    seen accepted (a transfer is booked on acceptance); the root offer is not booked at all
    (the credential is not owed until its first holder accepts it)."""
    expected: Counter[str] = Counter()
    for p in pieces.values():
        if p.status in BOOKED:
            expected[p.holder_id] += outstanding(p)
        elif p.status == "offered" and p.parent_id is not None:
            assert p.sender_id is not None
            expected[p.sender_id] += p.amount_minor
    held = {
        code.removeprefix(chart.HELD_PREFIX): total
        for (book, code), total in balances.items()
        if book == chart.PLATFORM_BOOK and code.startswith(chart.HELD_PREFIX)
    }
    for holder in set(held) | set(expected):
        assert held.get(holder, 0) == expected[holder], (
            f"platform 1221:{holder} is {held.get(holder, 0)}; its pieces say {expected[holder]}"
        )
    owed: Counter[str] = Counter()
    for c in creds.values():
        if c.status in OWING:
            owed[c.issuer_id] += c.face_minor - c.settled_minor
    issued = {
        code.removeprefix(chart.ISSUED_PREFIX): -total
        for (book, code), total in balances.items()
        if book == chart.PLATFORM_BOOK and code.startswith(chart.ISSUED_PREFIX)
    }
    for issuer in set(issued) | set(owed):
        assert issued.get(issuer, 0) == owed[issuer], f"platform 2201:{issuer}"


def check_bank_books(
    s: Session,
    balances: Counter[tuple[str, str]],
    pieces: dict[str, CredentialPiece],
    payments: list[CredentialPayment],
    world: CreditWorld,
) -> None:
    """(g): each bank's discounted assets are the outstanding of the pieces it holds, split
    current/overdue; its clearing account is what it received less what it paid out."""
    financings = list(s.scalars(select(Financing)))
    received: Counter[str] = Counter()
    penalties: Counter[str] = Counter()
    for pay in payments:
        for a in pay.allocations:
            received[a["piece_id"]] += a["principal_minor"] + a["penalty_minor"]
            penalties[a["piece_id"]] += a["penalty_minor"]
    for code, bank_id in world.banks.items():
        mine = [f for f in financings if f.bank_id == bank_id]
        held = [pieces[f.bank_piece_id] for f in mine]
        expect = {
            chart.DISCOUNTED: sum(outstanding(p) for p in held if p.status == "financed"),
            chart.OVERDUE_DISCOUNTED: sum(outstanding(p) for p in held if p.status == "overdue"),
            chart.CLEARING: sum(received[p.id] for p in held) - sum(f.net_minor for f in mine),
            chart.PENALTY_INCOME: -sum(penalties[p.id] for p in held),
            chart.FEE_INCOME: -sum(f.fees_minor for f in mine),
        }
        for account, amount in expect.items():
            assert balances[(bank_id, account)] == amount, (
                f"{code} account {account} is {balances[(bank_id, account)]}, expected {amount}"
            )
        earned = balances[(bank_id, chart.UNEARNED_DISCOUNT)]
        earned += balances[(bank_id, chart.INTEREST_INCOME)]
        assert earned == -sum(f.discount_minor for f in mine), f"{code} discount"


TABLES = Base.metadata.sorted_tables
COUNT_ROWS = select(*[select(func.count()).select_from(t).scalar_subquery() for t in TABLES])
MUTABLE = [
    select(model.__table__)
    for model in (
        Credential,
        CredentialPiece,
        CredentialProgramme,
        PayableConfirmation,
        ReceivableRegistration,
    )
]


def snapshot(s: Session) -> dict[str, Any]:
    """Enough of the database to tell that a refused operation changed nothing: how many
    rows every table has, and every row of the tables that are updated in place."""
    counts = s.execute(COUNT_ROWS).one()
    out: dict[str, Any] = {t.name: n for t, n in zip(TABLES, counts, strict=True)}
    for query in MUTABLE:
        out[str(query)] = sorted(repr(tuple(r)) for r in s.execute(query))
    return out


def due_on(s: Session, credential: Credential, paid_on: date) -> tuple[int, int]:
    """(principal, penalty) the issuer owes on ``paid_on``, as the service computes it."""
    due = credentials.amount_due(s, SYSTEM, credential.id, paid_on)
    return due.principal_minor, due.penalty_minor


# ---------------------------------------------------------------------------- the machine


def one_in(data: st.DataObject, n: int, label: str) -> bool:
    """True about once in ``n`` draws (integers would favour their bounds); shrinks to False."""
    return data.draw(st.sampled_from([False] * (n - 1) + [True]), label=label)


class CredentialMachine(RuleBasedStateMachine):
    """One example: a fresh world, then random operations through the services."""

    engine: ClassVar[Engine]
    outcomes: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        empty_database(self.engine)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        self.world = build(
            self.factory,
            line=Money(LINE),
            second_line=Money(SECOND_LINE),
            invoice_total="50000000.00",
            min_piece=Money(MIN_PIECE),
        )
        self.names = {ent_id: name for name, ent_id in self.world.ids.items()}
        self.payments = 0
        self.turns = 0
        self.before: dict[str, Any] | None = None
        self.look_around()

    # ------------------------------------------------------------------ helpers

    def who(self, enterprise_id: str) -> Principal:
        return self.world.ent(self.names[enterprise_id])

    def attempt(self, label: str, operation: Callable[[Session], object]) -> object | None:
        """Run one operation in its own transaction; a refusal must change nothing."""
        if self.before is None:  # kept from the last refusal when nothing has changed since
            with self.factory() as s:
                self.before = snapshot(s)
        before = self.before
        try:
            with transaction(self.factory) as s:
                result = operation(s)
        except REFUSALS as exc:
            self.outcomes[f"{label}: {type(exc).__name__}"] += 1
            note(f"{label} refused: {type(exc).__name__}: {exc}")
            with self.factory() as s:
                after = snapshot(s)
            changed = [k for k in before if before[k] != after[k]]
            assert changed == [], f"refused {label} changed {changed}"
            return None
        self.before = None
        self.outcomes[f"{label}: ok"] += 1
        note(f"{label} ok")
        return result

    def pieces(self, statuses: Iterable[str] | None = None) -> list[CredentialPiece]:
        query = select(CredentialPiece)
        if statuses is not None:
            query = query.where(CredentialPiece.status.in_(list(statuses)))
        with self.factory() as s:
            rows = list(s.scalars(query))
        # a stable order, so that a draw means the same piece when an example is replayed
        return sorted(
            rows, key=lambda p: (p.created_at, len(p.lineage), p.amount_minor, p.status, p.id)
        )

    def pick_credential(self, data: st.DataObject, statuses: Iterable[str]) -> Credential:
        """Mostly a credential in one of ``statuses``; now and then any (there is one)."""
        with self.factory() as s:
            issued = list(s.scalars(select(Credential).order_by(Credential.created_at)))
        wanted = [c for c in issued if c.status in statuses]
        anything = one_in(data, 5, "any credential")
        pool = issued if anything or not wanted else wanted
        credential = pool[data.draw(st.integers(0, len(pool) - 1), label="credential")]
        note(f"credential {credential.id}: {credential.status} {credential.face_minor}")
        return credential

    def pick_piece(self, data: st.DataObject, statuses: Iterable[str]) -> CredentialPiece | None:
        """Mostly a piece in one of ``statuses``; now and then any piece at all."""
        wanted = self.pieces(statuses)
        anything = one_in(data, 10, "any piece")
        pool = self.pieces() if anything or not wanted else wanted
        if not pool:
            return None
        piece = pool[data.draw(st.integers(0, len(pool) - 1), label="piece")]
        note(f"piece {piece.id}: {piece.status} {piece.amount_minor} at {piece.holder_id}")
        return piece

    def actor_for(self, data: st.DataObject, piece: CredentialPiece) -> Principal:
        """The holder, or now and then somebody else (who must be refused)."""
        holder = self.names[piece.holder_id]
        if one_in(data, 10, "a stranger acts"):
            others = sorted(name for name in self.world.ids if name != holder)
            return self.world.ent(data.draw(st.sampled_from(others), label="stranger"))
        return self.world.ent(holder)

    def look_around(self) -> None:
        """Count what there is, for the rules' preconditions (refreshed after every step)."""
        seen: Counter[str] = Counter()
        with self.factory() as s:
            for model in (Credential, CredentialPiece):
                rows = s.execute(select(model.status, func.count()).group_by(model.status))
                seen.update({f"{model.__tablename__}:{status}": n for status, n in rows})
            seen["quotes"] = s.scalar(select(func.count()).select_from(CredentialQuote)) or 0
        self.seen = seen

    def has_pieces(self, *statuses: str) -> bool:
        return any(self.seen[f"credential_pieces:{status}"] for status in statuses)

    def under_way(self) -> int:
        return sum(self.seen[f"credentials:{status}"] for status in ("offered", "active"))

    def has_credentials(self, *statuses: str) -> bool:
        return any(self.seen[f"credentials:{status}"] for status in statuses)

    # ------------------------------------------------------------------ rules

    @initialize(
        amounts=st.lists(st.integers(4 * MIN_PIECE, 1_500_000_00), min_size=1, max_size=2),
        maturity=st.sampled_from(MATURITIES),
    )
    def first_credentials(self, amounts: list[int], maturity: date) -> None:
        """Start from something held, so that the random walk gets somewhere."""
        for amount in amounts:
            self.issue_one(amount, maturity)
        (root,) = self.pieces(["offered"])[:1]
        self.attempt("accept", lambda s: credentials.accept(s, self.who(root.holder_id), root.id))
        self.look_around()

    @precondition(lambda self: self.under_way() < MAX_UNDER_WAY)
    @rule(
        amount=st.one_of(
            st.integers(MIN_PIECE, 2_500_000_00),
            st.integers(1, MIN_PIECE - 1),
            st.integers(LINE + SECOND_LINE - 1_000_00, LINE + SECOND_LINE + 1_000_00),
        ),
        maturity=st.sampled_from(MATURITIES),
        data=st.data(),
    )
    def issue(self, data: st.DataObject, amount: int, maturity: date) -> None:
        credential = self.issue_one(amount, maturity)
        if credential is not None:
            with self.factory() as s:
                (root,) = credentials.tree(s, SYSTEM, credential.id)
            self.answer(data, root)

    def issue_one(self, amount: int, maturity: date) -> Credential | None:
        issued = self.attempt(
            "issue",
            lambda s: credentials.issue(
                s,
                self.world.ent("core"),
                programme_id=self.world.programme_id,
                confirmation_ids=[self.world.confirmation_id],
                amount=Money(amount),
                maturity_on=maturity,
                issued_on=ISSUED_ON,
            ),
        )
        return issued if isinstance(issued, Credential) else None

    def answer(self, data: st.DataObject, offered: CredentialPiece) -> None:
        """The offered holder mostly answers straight away: accepts, rejects, or waits."""
        response = data.draw(
            st.sampled_from(["accept", "accept", "reject", "wait"]), label="answer"
        )
        actor = self.who(offered.holder_id)
        if response == "accept":
            self.attempt("accept", lambda s: credentials.accept(s, actor, offered.id))
        elif response == "reject":
            self.attempt("reject", lambda s: credentials.reject(s, actor, offered.id))

    @precondition(lambda self: self.has_pieces("offered"))
    @rule(data=st.data(), accepts=st.booleans())
    def respond_to_offer(self, data: st.DataObject, accepts: bool) -> None:
        piece = self.pick_piece(data, ["offered"])
        if piece is None:
            return
        actor = self.actor_for(data, piece)
        if accepts:
            self.attempt("accept", lambda s: credentials.accept(s, actor, piece.id))
        else:
            self.attempt("reject", lambda s: credentials.reject(s, actor, piece.id, reason="no"))

    @precondition(lambda self: self.has_credentials("offered"))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        credential = self.pick_credential(data, ["offered"])
        core = self.world.ent("core")
        self.attempt("cancel", lambda s: credentials.cancel(s, core, credential.id))

    @precondition(lambda self: self.has_pieces("held"))
    @rule(
        data=st.data(),
        parts=st.integers(2, 3),
        shape=st.sampled_from(["fit", "fit", "fit", "small", "off"]),
    )
    def split(self, data: st.DataObject, parts: int, shape: str) -> None:
        piece = self.pick_piece(data, ["held"])
        if piece is None:
            return
        whole = piece.amount_minor
        weights = [data.draw(st.integers(1, 100), label="weight") for _ in range(parts)]
        if shape == "fit" and whole >= parts * MIN_PIECE:
            spare = Money(whole - parts * MIN_PIECE).allocate(weights)
            amounts = [MIN_PIECE + m.amount_minor for m in spare]
        else:
            amounts = [m.amount_minor for m in Money(whole).allocate(weights)]
            if shape == "small":
                below = data.draw(st.integers(1, MIN_PIECE - 1), label="below minimum")
                amounts = [below, *amounts[1:-1], whole - below - sum(amounts[1:-1])]
            elif shape == "off":
                amounts[0] += data.draw(st.sampled_from([-1, 1]), label="off by")
        actor = self.actor_for(data, piece)
        note(f"split into {amounts}")
        self.attempt(
            "split", lambda s: credentials.split(s, actor, piece.id, [Money(a) for a in amounts])
        )

    @precondition(lambda self: self.has_pieces("held"))
    @rule(data=st.data(), whole=st.booleans())
    def transfer(self, data: st.DataObject, whole: bool) -> None:
        piece = self.pick_piece(data, ["held"])
        if piece is None:
            return
        holder = self.names[piece.holder_id]
        if holder in SUPPLIER and not one_in(data, 4, "to anyone"):
            to = SUPPLIER[holder]
        else:
            to = data.draw(st.sampled_from(sorted(self.world.ids)), label="to")
        amount = None
        if not whole:
            fits = piece.amount_minor >= 2 * MIN_PIECE and not one_in(data, 4, "any amount")
            low, high = (
                (MIN_PIECE, piece.amount_minor - MIN_PIECE) if fits else (1, piece.amount_minor)
            )
            amount = Money(data.draw(st.integers(low, high), label="amount"))
        actor = self.actor_for(data, piece)
        note(f"transfer {amount or 'whole'} to {to}")
        moved = self.attempt(
            "transfer",
            lambda s: credentials.transfer(
                s, actor, piece.id, to=self.world.ids[to], amount=amount
            ),
        )
        if isinstance(moved, credentials.Transfer):
            self.answer(data, moved.offered)

    @precondition(lambda self: self.has_pieces("held"))
    @rule(data=st.data(), bank=st.sampled_from(["BKA", "BKB"]), twice=st.booleans())
    def finance(self, data: st.DataObject, bank: str, twice: bool) -> None:
        """Quote and finance a piece; sometimes with a second quote from the other bank,
        financed after the first (which must be refused)."""
        piece = self.pick_piece(data, ["held"])
        if piece is None:
            return
        actor = self.actor_for(data, piece)
        banks = [bank, "BKB" if bank == "BKA" else "BKA"] if twice else [bank]
        quotes = []
        for code in banks:
            q = self.attempt(
                "quote",
                lambda s, code=code: credentials.quote(
                    s, actor, piece.id, bank=code, as_of=ISSUED_ON
                ),
            )
            if isinstance(q, CredentialQuote):
                quotes.append(q.id)
        for quote_id in quotes:
            self.attempt("finance", lambda s, q=quote_id: credentials.finance(s, actor, q))

    @precondition(lambda self: self.seen["quotes"] > 0)
    @rule(data=st.data())
    def finance_a_quote_again(self, data: st.DataObject) -> None:
        """Accepting a quote again returns the same financing; accepting another quote on
        a piece already financed is refused."""
        with self.factory() as s:
            quotes = list(s.scalars(select(CredentialQuote).order_by(CredentialQuote.created_at)))
            if not quotes:
                return
            q = quotes[data.draw(st.integers(0, len(quotes) - 1), label="quote")]
            done = s.scalar(select(Financing).where(Financing.quote_id == q.id))
        actor = self.who(q.holder_id)
        fin = self.attempt("finance again", lambda s: credentials.finance(s, actor, q.id))
        if done is not None:
            assert isinstance(fin, Financing), "accepting a quote again was refused"
            assert fin.id == done.id, "accepting a quote again financed the piece again"

    @precondition(lambda self: self.turns >= TRADING_TURNS)
    @precondition(lambda self: self.has_credentials("active", "overdue"))
    @rule(
        data=st.data(),
        days_after=st.sampled_from(DAYS_AFTER_PAYMENT),
        how=st.sampled_from(["full", "principal", "part", "tiny", "over"]),
    )
    def settle(self, data: st.DataObject, days_after: int, how: str) -> None:
        """The issuer pays on or after the payment date: all that is due, the principal
        only (short of any penalty), a part, no more than the penalty, or too much."""
        credential = self.pick_credential(data, ["active", "overdue"])
        self.pay(data, credential, credential.payment_on + timedelta(days=days_after), how)

    @precondition(lambda self: self.has_credentials("active"))
    @rule(data=st.data(), how=st.sampled_from(["full", "part", "tiny"]))
    def prepay(self, data: st.DataObject, how: str) -> None:
        """The issuer pays before the payment date (what settle does when not told the
        date), and trading goes on."""
        credential = self.pick_credential(data, ["active"])
        self.pay(data, credential, credential.payment_on - timedelta(days=60), how)

    def pay(self, data: st.DataObject, credential: Credential, paid_on: date, how: str) -> None:
        with self.factory() as s:
            principal, penalty = due_on(s, credential, paid_on)
        due = principal + penalty
        if how == "part":
            amount = data.draw(st.integers(1, max(due - 1, 1)), label="part")
        elif how == "tiny":  # no more than the penalty: none of it is principal
            amount = data.draw(st.integers(1, max(penalty, 1)), label="tiny")
        else:
            amount = {"full": due, "principal": principal, "over": due + 1}[how]
        self.payments += 1
        ref = f"PAY-{self.payments}"
        note(f"pay {credential.id} {how} {amount} of {due} (penalty {penalty}) on {paid_on}")
        self.attempt(
            "settle",
            lambda s: credentials.settle(
                s,
                self.world.ent("core"),
                credential.id,
                amount=Money(max(amount, 1)),
                payment_ref=ref,
                paid_on=paid_on,
            ),
        )

    @precondition(lambda self: self.turns >= TRADING_TURNS)
    @precondition(lambda self: self.has_credentials("active"))
    @rule(as_of=st.sampled_from(OVERDUE_AS_OF))
    def mark_overdue(self, as_of: date) -> None:
        self.attempt("mark overdue", lambda s: credentials.mark_overdue(s, SYSTEM, as_of))

    # ------------------------------------------------------------------ checks

    @invariant()
    def the_books_and_the_pieces_agree(self) -> None:
        with self.factory() as s:
            check_invariants(s, self.world)
        self.look_around()
        self.turns += 1

    def teardown(self) -> None:
        with transaction(self.factory) as s:
            ledger.sequence(s, ORIGIN)
        with self.factory() as s:
            report = ledger_verify.verify(s, origin=ORIGIN)
        assert report.ok, report.findings[:5]


def test_random_credential_operations_keep_every_invariant(engine: Engine) -> None:
    class Machine(CredentialMachine):
        pass

    Machine.engine = engine
    Machine.outcomes = Counter()
    examples = int(EXAMPLES or budget(25 if engine.dialect.name == "postgresql" else 30))
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    outcomes = Machine.outcomes
    log.info("outcomes: %s", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    if examples >= 20:  # the machine must get somewhere, not be refused at every turn
        for op in ("accept", "split", "transfer", "finance", "settle"):
            assert outcomes[f"{op}: ok"] > 0, f"no successful {op} in {examples} examples"


# ---------------------------------------------------------------------------- regressions
# Two bugs the machine found, as the smallest reproductions.


def issue_and_accept(factory: sessionmaker[Session], cw: CreditWorld) -> tuple[str, str]:
    with transaction(factory) as s:
        c = credentials.issue(
            s,
            cw.ent("core"),
            programme_id=cw.programme_id,
            confirmation_ids=[cw.confirmation_id],
            amount=Money(1_000_000_00),
            maturity_on=date(2027, 5, 26),
            issued_on=ISSUED_ON,
        )
        (root,) = credentials.tree(s, SYSTEM, c.id)
        credentials.accept(s, cw.ent("t1"), root.id)
        return c.id, root.id


def test_a_second_penalty_only_payment_in_a_day_reaches_the_bank(
    session_factory: sessionmaker[Session],
) -> None:
    cw = build(session_factory)
    cid, root_id = issue_and_accept(session_factory, cw)
    with transaction(session_factory) as s:
        q = credentials.quote(s, cw.ent("t1"), root_id, bank="BKA", as_of=ISSUED_ON)
        credentials.finance(s, cw.ent("t1"), q.id)
    for ref in ("LATE-1", "LATE-2"):  # 1.00 each, far less than the penalty already due
        with transaction(session_factory) as s:
            pay = credentials.settle(
                s,
                cw.ent("core"),
                cid,
                amount=Money(100),
                payment_ref=ref,
                paid_on=date(2027, 6, 10),
            )
            assert pay.penalty_minor == 100
    with session_factory() as s:
        check_invariants(s, cw)  # BKA's clearing account shows 1.00 received, not 2.00


def test_a_partly_prepaid_piece_passes_on_only_what_is_still_owed(
    session_factory: sessionmaker[Session],
) -> None:
    cw = build(session_factory)
    cid, root_id = issue_and_accept(session_factory, cw)
    halves = [Money(500_000_00), Money(500_000_00)]
    # Either refusal is a fix: no partial payment before the payment date, or no split of
    # a partly paid piece into more than it still holds.
    with contextlib.suppress(*REFUSALS), transaction(session_factory) as s:
        credentials.settle(
            s,
            cw.ent("core"),
            cid,
            amount=Money(400_000_00),
            payment_ref="EARLY",
            paid_on=date(2027, 1, 4),
        )
    with contextlib.suppress(*REFUSALS), transaction(session_factory) as s:
        credentials.split(s, cw.ent("t1"), root_id, halves)
    with session_factory() as s:
        check_invariants(s, cw)  # live pieces hold 1,000,000.00; 600,000.00 is owed
