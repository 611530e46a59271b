"""Many applicants racing for the last of a credit line (PostgreSQL): 32 clients submit clean
applications at once, each on its own confirmed invoice, each of which the rules would
approve on its own; the line fits ten of them. Exactly ten are approved, the line holds
exactly what they took, every other application is declined for the line, no request fails
with anything else, every invariant of the property test holds and the transparency log
verifies against the database."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_lending_properties import check_invariants

from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import CreditLine, LineReservation, LoanApplication
from chainfin.adapters.db.models import TradeDocumentRow as Doc
from chainfin.domain.money import Money
from chainfin.services import documents, ledger, ledger_verify
from chainfin.services.lending import applications, lines
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

pytestmark = pytest.mark.postgres

log = logging.getLogger(__name__)

THREADS = 32
PER_THREAD = 4  # applications each client submits, one after another
AMOUNT = Money(100_000_00)  # each application; well within the automatic approval limit
FITS = 10
LIMIT = Money(AMOUNT.amount_minor * FITS)  # t1's own line takes exactly ten of them
INVOICE_TOTAL = "200000.00"  # the advance rate (90 %) allows 180,000.00: AMOUNT is clean
ORIGIN = "chainfin.test/ledger"


def invoices(factory: sessionmaker[Session], lw: LendingWorld, n: int) -> list[str]:
    """``n`` invoices of t1 to the core, each confirmed by the core: ``n`` underlyings the
    registry takes once each."""
    rows = [
        {
            "kind": "invoice",
            "number": f"INV-R-{i:04d}",
            "seller_uscc": uscc(4),
            "buyer_uscc": uscc(3),
            "issue_date": "2026-11-20",
            "currency": "CNY",
            "total": INVOICE_TOTAL,
            "tax": "0.00",
            "invoice_number": f"2632000000000{i + 1:07d}",
            "due_date": "2027-06-30",
        }
        for i in range(n)
    ]
    with transaction(factory) as s:
        documents.ingest(s, lw.ent("t1"), documents.parse_rows(rows))
        ids = list(s.scalars(select(Doc.id).where(Doc.number.like("INV-R-%")).order_by(Doc.number)))
        for doc_id in ids:
            documents.confirm(s, lw.ent("core"), doc_id)
    assert len(ids) == n
    return ids


@dataclass
class Outcome:
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def client(
    factory: sessionmaker[Session],
    lw: LendingWorld,
    refs: list[str],
    start: threading.Barrier,
    line: str | None = None,
) -> Outcome:
    """One applicant's worth of requests, each in its own transaction as the API runs them.
    Any exception is collected (none is expected: a full line is a decline, not an error)."""
    out = Outcome()
    start.wait()
    for ref in refs:
        try:
            with transaction(factory) as s:
                app = applications.submit(
                    s,
                    lw.ent("t1"),
                    bank="BKA",
                    product="receivable_financing",
                    amount=AMOUNT,
                    tenor_months=3,
                    method="bullet",
                    underlying_kind="invoice",
                    underlying_ref=ref,
                    payee=PAYEE,
                    line=line,
                    on=TODAY,
                )
                status = app.status
                codes = [r["code"] for r in app.decision["reasons"]]
                messages = [r["message"] for r in app.decision["reasons"]]
        except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
            out.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        out.statuses[status] += 1
        for code in codes:
            out.reasons[code] += 1
        # declined after the rules had said approve: the conditional UPDATE on the line
        # found it full, or the registry found the invoice registered a moment before
        for message in messages:
            if "cannot take" in message:
                out.reasons["(lost the race at reservation)"] += 1
            elif "registered to bank" in message or "registered concurrently" in message:
                out.reasons["(lost the race at registration)"] += 1
    return out


def test_applicants_racing_for_the_last_of_a_line_never_overdraw_it(
    database_url: str, session_factory: sessionmaker[Session]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set CHAINFIN_TEST_DATABASE_URL to race real connections")
    # session_factory has emptied the database; the clients get an engine with a
    # connection for each of them, so that they really run at the same time
    engine = make_engine(database_url, pool_size=THREADS + 4, max_overflow=0, pool_timeout=60)
    try:
        factory = make_session_factory(engine)
        lw = build_lending(factory)
        with transaction(factory) as s:
            line = lines.open_line(
                s,
                lw.admin(),
                obligor=lw.ids["t1"],
                core=lw.ids["core"],
                limit=LIMIT,
                starts_on=TODAY - timedelta(days=330),
                expires_on=TODAY + timedelta(days=400),
            )
            line_id = line.id
        refs = invoices(factory, lw, THREADS * PER_THREAD)
        start = threading.Barrier(THREADS, timeout=60)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            runs = [
                pool.submit(client, factory, lw, refs[n::THREADS], start) for n in range(THREADS)
            ]
            outcomes = [run.result(timeout=300) for run in runs]
        wall = time.perf_counter() - began
        statuses = sum((o.statuses for o in outcomes), Counter[str]())
        reasons = sum((o.reasons for o in outcomes), Counter[str]())
        errors = [e for o in outcomes for e in o.errors]
        log.info(
            "%d clients x %d applications in %.1f s: %s; decline reasons %s",
            THREADS,
            PER_THREAD,
            wall,
            dict(statuses),
            dict(reasons),
        )
        assert errors == [], errors[:5]
        assert sum(statuses.values()) == THREADS * PER_THREAD
        with factory() as s:
            approved = list(
                s.scalars(select(LoanApplication).where(LoanApplication.status == "approved"))
            )
            declined = list(
                s.scalars(select(LoanApplication).where(LoanApplication.status == "declined"))
            )
            line_row = s.get(CreditLine, line_id)
            assert line_row is not None
            total = sum(a.amount_minor for a in approved)
            assert total <= LIMIT.amount_minor
            assert len(approved) == FITS, f"{len(approved)} approved, {FITS} fit"
            assert all(a.line_id == line_id for a in approved)
            assert line_row.pending_minor == total
            assert line_row.posted_minor == 0
            held = s.scalars(select(LineReservation).where(LineReservation.line_id == line_id))
            assert sorted(r.application_id for r in held) == sorted(a.id for a in approved)
            assert len(approved) + len(declined) == THREADS * PER_THREAD
            for app in declined:
                codes = [r["code"] for r in app.decision["reasons"]]
                assert codes == ["line_insufficient"], (app.id, app.decision["reasons"])
            check_invariants(s, [lw.credit.banks["BKA"]])
        with transaction(factory) as s:
            ledger.sequence(s, ORIGIN)
        with factory() as s:
            report = ledger_verify.verify(s, origin=ORIGIN)
        assert report.ok, report.findings[:5]
    finally:
        engine.dispose()


def test_applicants_racing_for_one_invoice_on_two_lines_finance_it_once(
    database_url: str, session_factory: sessionmaker[Session]
) -> None:
    """The registry, not a line's row lock, is what keeps one invoice to one loan: half the
    clients apply on t1's own line, half on the core's, all with the same invoice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set CHAINFIN_TEST_DATABASE_URL to race real connections")
    engine = make_engine(database_url, pool_size=THREADS + 4, max_overflow=0, pool_timeout=60)
    try:
        factory = make_session_factory(engine)
        lw = build_lending(factory)
        with transaction(factory) as s:
            own = lines.open_line(
                s,
                lw.admin(),
                obligor=lw.ids["t1"],
                core=lw.ids["core"],
                limit=LIMIT,
                starts_on=TODAY - timedelta(days=330),
                expires_on=TODAY + timedelta(days=400),
            ).id
        (ref,) = invoices(factory, lw, 1)
        start = threading.Barrier(THREADS, timeout=60)
        on_line = [own, lw.line_id]  # half on t1's own line, half on the core's
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            runs = [
                pool.submit(client, factory, lw, [ref], start, on_line[n % 2])
                for n in range(THREADS)
            ]
            outcomes = [run.result(timeout=300) for run in runs]
        statuses = sum((o.statuses for o in outcomes), Counter[str]())
        reasons = sum((o.reasons for o in outcomes), Counter[str]())
        errors = [e for o in outcomes for e in o.errors]
        log.info("one invoice, %d clients on two lines: %s %s", THREADS, statuses, reasons)
        assert errors == [], errors[:5]
        assert statuses == Counter({"approved": 1, "declined": THREADS - 1})
        assert reasons["duplicate_financing"] == THREADS - 1
        with factory() as s:
            held = s.scalars(select(LineReservation)).all()
            assert [r.amount_minor for r in held] == [AMOUNT.amount_minor]
            check_invariants(s, [lw.credit.banks["BKA"]])
        with transaction(factory) as s:
            ledger.sequence(s, ORIGIN)
        with factory() as s:
            report = ledger_verify.verify(s, origin=ORIGIN)
        assert report.ok, report.findings[:5]
    finally:
        engine.dispose()
