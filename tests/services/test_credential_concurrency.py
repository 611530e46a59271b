"""Many clients racing on the same credential pieces (PostgreSQL): splitting them, passing
them down the tiers and accepting, quoting and financing them, all at once. Every request
either succeeds or is refused as a conflict, and afterwards every invariant of the property
test still holds and the transparency log verifies against the database."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_credential_properties import check_invariants

from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import CredentialPiece, CredentialQuote
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import Conflict
from chainfin.domain.money import Money
from chainfin.services import credentials, ledger, ledger_verify
from credit_world import ISSUED_ON, CreditWorld, build

pytestmark = pytest.mark.postgres

log = logging.getLogger(__name__)

THREADS = 32
OPERATIONS = 15  # per thread
CREDENTIALS = 4
FACE = Money(5_000_000_00)
MIN_PIECE = 1_000_00
SUPPLIER = {"t1": "t2", "t2": "t3"}  # t3 supplies nobody: its pieces are split or financed
ORIGIN = "chainfin.test/ledger"


def issue_and_accept(factory: sessionmaker[Session], cw: CreditWorld) -> list[str]:
    ids = []
    with transaction(factory) as s:
        for _ in range(CREDENTIALS):
            c = credentials.issue(
                s,
                cw.ent("core"),
                programme_id=cw.programme_id,
                confirmation_ids=[cw.confirmation_id],
                amount=FACE,
                maturity_on=date(2027, 5, 26),
                issued_on=ISSUED_ON,
            )
            (root,) = credentials.tree(s, SYSTEM, c.id)
            credentials.accept(s, cw.ent("t1"), root.id)
            ids.append(c.id)
    return ids


class Client:
    """One thread's worth of requests, each in its own transaction. A conflict is an
    expected answer when another client got to the piece first; anything else is a bug."""

    def __init__(self, factory: sessionmaker[Session], cw: CreditWorld, seed: int) -> None:
        self.factory = factory
        self.cw = cw
        self.names = {ent_id: name for name, ent_id in cw.ids.items()}
        self.rng = random.Random(seed)
        self.outcomes: Counter[str] = Counter()

    def request(self, label: str, operation: Callable[[Session], object]) -> object | None:
        try:
            with transaction(self.factory) as s:
                result = operation(s)
        except Conflict:
            self.outcomes[f"{label}: conflict"] += 1
            return None
        self.outcomes[f"{label}: ok"] += 1
        return result

    def held_pieces(self) -> list[CredentialPiece]:
        with self.factory() as s:
            return list(s.scalars(select(CredentialPiece).where(CredentialPiece.status == "held")))

    def offered_pieces(self) -> list[CredentialPiece]:
        with self.factory() as s:
            query = select(CredentialPiece).where(
                CredentialPiece.status == "offered", CredentialPiece.parent_id.is_not(None)
            )
            return list(s.scalars(query))

    def run(self, start: threading.Barrier) -> Counter[str]:
        start.wait()
        for _ in range(OPERATIONS):
            self.one_operation()
        return self.outcomes

    def one_operation(self) -> None:
        held = self.held_pieces()
        # mostly the newest pieces, so that clients keep colliding on the same ones
        held.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        piece = self.rng.choice(held[:6]) if held else None
        roll = self.rng.random()
        if piece is None or roll < 0.15:
            self.answer_someone_elses_offer()
        elif roll < 0.45:
            self.split(piece)
        elif roll < 0.75 and self.names[piece.holder_id] in SUPPLIER:
            self.transfer_and_accept(piece)
        else:
            self.finance(piece)

    def split(self, piece: CredentialPiece) -> None:
        if piece.amount_minor < 2 * MIN_PIECE:  # too small to split: sell it instead
            self.finance(piece)
            return
        first = self.rng.randint(MIN_PIECE, piece.amount_minor - MIN_PIECE)
        parts = [Money(first), Money(piece.amount_minor - first)]
        actor = self.cw.ent(self.names[piece.holder_id])
        self.request("split", lambda s: credentials.split(s, actor, piece.id, parts))

    def transfer_and_accept(self, piece: CredentialPiece) -> None:
        holder = self.names[piece.holder_id]
        to = SUPPLIER[holder]
        amount = None
        if piece.amount_minor >= 2 * MIN_PIECE and self.rng.random() < 0.5:
            amount = Money(self.rng.randint(MIN_PIECE, piece.amount_minor - MIN_PIECE))
        moved = self.request(
            "transfer",
            lambda s: credentials.transfer(
                s, self.cw.ent(holder), piece.id, to=self.cw.ids[to], amount=amount
            ),
        )
        if isinstance(moved, credentials.Transfer):
            offered = moved.offered.id
            self.request("accept", lambda s: credentials.accept(s, self.cw.ent(to), offered))

    def answer_someone_elses_offer(self) -> None:
        offers = self.offered_pieces()
        if not offers:
            return
        offer = self.rng.choice(offers)
        actor = self.cw.ent(self.names[offer.holder_id])
        if self.rng.random() < 0.7:
            self.request("accept", lambda s: credentials.accept(s, actor, offer.id))
        else:
            self.request("reject", lambda s: credentials.reject(s, actor, offer.id))

    def finance(self, piece: CredentialPiece) -> None:
        actor = self.cw.ent(self.names[piece.holder_id])
        bank = self.rng.choice(["BKA", "BKB"])
        q = self.request(
            "quote", lambda s: credentials.quote(s, actor, piece.id, bank=bank, as_of=ISSUED_ON)
        )
        if isinstance(q, CredentialQuote):
            quote_id = q.id
            self.request("finance", lambda s: credentials.finance(s, actor, quote_id))


def test_clients_racing_on_the_same_pieces_keep_every_invariant(
    database_url: str, session_factory: sessionmaker[Session]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set CHAINFIN_TEST_DATABASE_URL to race real connections")
    # session_factory has emptied the database; the clients get an engine with a
    # connection for each of them, so that they really run at the same time
    engine = make_engine(database_url, pool_size=THREADS + 4, max_overflow=0, pool_timeout=60)
    try:
        factory = make_session_factory(engine)
        cw = build(
            factory,
            line=Money(1_000_000_000_00),
            second_line=Money(500_000_000_00),
            invoice_total="100000000.00",
            min_piece=Money(MIN_PIECE),
        )
        issued = issue_and_accept(factory, cw)
        start = threading.Barrier(THREADS, timeout=60)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            runs = [pool.submit(Client(factory, cw, seed).run, start) for seed in range(THREADS)]
            # anything but a conflict is re-raised here, with the client's traceback
            outcomes = sum((run.result(timeout=120) for run in runs), Counter[str]())
        wall = time.perf_counter() - began
        log.info(
            "%d clients x %d operations in %.1f s: %s",
            THREADS,
            OPERATIONS,
            wall,
            ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        )
        assert outcomes["finance: ok"] > 0
        assert outcomes["split: ok"] > 0
        assert outcomes["accept: ok"] > 0
        with factory() as s:
            check_invariants(s, cw)
        # and the trees the clients grew are paid off to the fen on the payment date
        for n, credential_id in enumerate(issued):
            with transaction(factory) as s:
                credentials.settle(
                    s,
                    cw.ent("core"),
                    credential_id,
                    amount=FACE,
                    payment_ref=f"PAY-{n}",
                    paid_on=date(2027, 5, 26),
                )
        with factory() as s:
            check_invariants(s, cw)
            live = select(CredentialPiece).where(CredentialPiece.status.in_(["held", "financed"]))
            assert s.scalars(live).all() == []
        with transaction(factory) as s:
            ledger.sequence(s, ORIGIN)
        with factory() as s:
            report = ledger_verify.verify(s, origin=ORIGIN)
        assert report.ok, report.findings[:5]
    finally:
        engine.dispose()
