"""Lending's automatic path, end to end: print figures, assert nothing.

    .venv/bin/python bench/lending.py                    # SQLite under var/bench/, ~1 minute
    .venv/bin/python bench/lending.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/lending.py --applications 200 --batch 200 --entries 20000  # quicker

The database is SQLite (``var/bench/lending.db``, recreated) unless ``--database-url`` (or
``CHAINFIN_BENCH_DATABASE_URL``) names a PostgreSQL server: schema ``chainfin_bench_lending``
is dropped and recreated there; an unreachable server prints SKIPPED and exits 0.

Setup, through the services: a bank with a receivable-financing product, 20 suppliers of one
core enterprise (customers of the bank, consent given), a line to the core with a sub-limit
per supplier and a cap on the core's chain, and one invoice per application, each confirmed by
the core: every application is clean and is approved by the rules at once.

Figures:

1. The automatic path, application by application: ``applications.submit`` (facts, rules,
   reservation on the line, its sub-limit and the cap, registry, loan) and then
   ``loans.disburse(loan_ids=[the loan])`` (pain.001.001.09 written and checked against the
   XSD, the hold posted, the loan journal), each in its own transaction as the API runs them.
   Timed from submission to the disbursement instruction written: p50, p90, p99, max and
   throughput, with each half apart. Target: p99 < 1 s.
2. A batch: ``--batch`` more applications approved, then one ``loans.disburse`` paying all of
   them in one file.
3. Statement reconciliation (pure, no database): ``domain.reconcile.reconcile`` over a
   camt.053-like list of ``--entries`` entries (disbursement debits by EndToEndId, some booked
   in batches; repayment credits by reference and by account; some that match nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import Loan, TradeDocumentRow
from chainfin.adapters.formats.iso20022 import validate_pain001
from chainfin.domain import clock, reconcile
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import consent, documents, rates, registry
from chainfin.services.lending import applications, lines, loans, products
from chainfin.services.lending.applications import Payment

SCHEMA = "chainfin_bench_lending"
VAR = Path("var/bench")
SUPPLIERS = 20
AMOUNT = Money(100_000_00)  # each application: within the automatic approval limit
INVOICE = "150000.00"  # the advance rate (90 %) allows 135,000.00
P99_TARGET_S = 1.0
DEBTOR = {
    "debtor_name": "bench bank settlement",
    "debtor_account": "110000000000000001",
    "debtor_agent": "102100099996",
}


def line(name: str, value: str) -> None:
    print(f"{name:<62} {value}", flush=True)


def loud(message: str) -> None:
    bar = "!" * 88
    print(f"{bar}\n!! {message}\n{bar}", flush=True)


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---------------------------------------------------------------------------- database


def fresh(url: str | None) -> str:
    if url is None:
        VAR.mkdir(parents=True, exist_ok=True)
        db = VAR / "lending.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{SCHEMA}"


def reachable(url: str) -> str | None:
    """The server's version, or None when it cannot be reached."""
    engine = make_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    except OperationalError:
        return None
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- the world


def uscc(n: int) -> str:
    return make_uscc("9", "1", "320505", f"{n:08d}")


def _ent(name: str, n: int, role: Role) -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=uscc(n),
        name=name,
        region_code="320505",
        industry_code="C36",
        roles=frozenset({role}),
        employees=100,
        revenue=Money(9_000_000_000),
        total_assets=Money(7_000_000_000),
    )


def enterprise(enterprise_id: str) -> Principal:
    return Principal.enterprise_user(
        f"usr_{enterprise_id}", enterprise_id=enterprise_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


@dataclass
class World:
    bank_id: str
    staff: Principal
    suppliers: list[str]  # enterprise ids
    invoices: dict[str, list[str]]  # supplier id -> its confirmed invoices, not yet used
    today: date

    def next_invoice(self, n: int) -> tuple[str, str]:
        supplier = self.suppliers[n % len(self.suppliers)]
        return supplier, self.invoices[supplier].pop()


def build_world(factory: sessionmaker[Session], invoices_needed: int) -> World:
    today = clock.today()
    bank = _ent("bench bank", 1, Role.BANK)
    core = _ent("bench core", 2, Role.CORE)
    suppliers = [_ent(f"bench supplier {k}", 100 + k, Role.SUPPLIER) for k in range(SUPPLIERS)]
    since = today - timedelta(days=4 * 365)
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, [bank, core, *suppliers])
        bank_row = registry.create_bank(s, SYSTEM, BankRecord("BKBENCH", bank.name, bank.uscc))
        s.flush()
        ids = registry.ids_by_uscc(s, [e.uscc for e in (core, *suppliers)])
        registry.import_relations(
            s, SYSTEM, [RelationRecord(core.uscc, e.uscc, "电芯", since) for e in suppliers]
        )
        registry.link_customers(s, SYSTEM, bank_row.id, [ids[e.uscc] for e in (core, *suppliers)])
        rates.load_bundled(s, SYSTEM)
        bank_id = bank_row.id
    staff = Principal.staff(
        "usr_bench_staff",
        bank_id=bank_id,
        roles=[StaffRole.ADMIN, StaffRole.RELATIONSHIP_MANAGER, StaffRole.APPROVER],
    )
    supplier_ids = [ids[e.uscc] for e in suppliers]
    per_supplier = -(-invoices_needed // SUPPLIERS)
    total = AMOUNT.amount_minor * (invoices_needed + SUPPLIERS)
    with transaction(factory) as s:
        products.define(
            s, staff, code="receivable", name="receivable", config={"kind": "receivable_financing"}
        )
        credit_line = lines.open_line(
            s,
            staff,
            obligor=ids[core.uscc],
            limit=Money(2 * total),
            starts_on=today - timedelta(days=30),
            expires_on=today + timedelta(days=365),
        )
        for supplier_id in supplier_ids:
            lines.add_sublimit(
                s, staff, credit_line.id, limit=Money(2 * total // SUPPLIERS), member=supplier_id
            )
        lines.set_cap(s, staff, name="bench core chain", cap=Money(2 * total), core=core.uscc)
    world = World(bank_id, staff, supplier_ids, {}, today)
    for k, supplier in enumerate(suppliers):
        rows = [
            {
                "kind": "invoice",
                "number": f"INV-{k:02d}-{i:05d}",
                "seller_uscc": supplier.uscc,
                "buyer_uscc": core.uscc,
                "issue_date": (today - timedelta(days=10)).isoformat(),
                "currency": "CNY",
                "total": INVOICE,
                "tax": "0.00",
                # a 全电 number: issue year, province 32 (Jiangsu), then a sequence
                "invoice_number": f"{today - timedelta(days=10):%y}32{k:03d}{i:013d}",
                "due_date": (today + timedelta(days=240)).isoformat(),
            }
            for i in range(per_supplier)
        ]
        supplier_id = ids[supplier.uscc]
        with transaction(factory) as s:
            consent.grant(
                s,
                enterprise(supplier_id),
                bank_code="BKBENCH",
                categories=["trade_documents", "invoices", "logistics"],
                purposes=["credit_assessment", "post_loan_monitoring"],
                expires_at=clock.utcnow() + timedelta(days=365),
            )
            documents.ingest(s, enterprise(supplier_id), documents.parse_rows(rows))
            doc_ids = list(
                s.scalars(
                    select(TradeDocumentRow.id).where(TradeDocumentRow.seller_id == supplier_id)
                )
            )
            for doc_id in doc_ids:
                documents.confirm(s, enterprise(ids[core.uscc]), doc_id)
        world.invoices[supplier_id] = sorted(doc_ids, reverse=True)
    return world


# ---------------------------------------------------------------------------- the path


def submit(s: Session, world: World, n: int) -> tuple[str, str | None]:
    """One clean application; (its status, its loan id)."""
    supplier, invoice = world.next_invoice(n)
    app = applications.submit(
        s,
        enterprise(supplier),
        bank="BKBENCH",
        product="receivable",
        amount=AMOUNT,
        tenor_months=3,
        method="bullet",
        underlying_kind="invoice",
        underlying_ref=invoice,
        payee=Payment(f"supplier {n}", "6222020200112233445", "102100099996"),
        on=world.today,
    )
    loan_id = s.scalar(select(Loan.id).where(Loan.application_id == app.id))
    return app.status, loan_id


@dataclass
class Samples:
    total: list[float]
    submit: list[float]
    disburse: list[float]
    refused: Counter[str]
    wall: float


def bench_path(factory: sessionmaker[Session], world: World, n: int) -> Samples:
    out = Samples([], [], [], Counter(), 0.0)
    began = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        with transaction(factory) as s:
            status, loan_id = submit(s, world, i)
        t1 = time.perf_counter()
        if loan_id is None:
            out.refused[status] += 1
            continue
        with transaction(factory) as s:
            loans.disburse(s, world.staff, execution_on=world.today, loan_ids=[loan_id], **DEBTOR)
        t2 = time.perf_counter()
        out.total.append(t2 - t0)
        out.submit.append(t1 - t0)
        out.disburse.append(t2 - t1)
    out.wall = time.perf_counter() - began
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report_path(dialect: str, n: int, samples: Samples) -> None:
    done = len(samples.total)
    title = f"[{dialect}] automatic path x {n:,}"
    if not done:
        line(title, f"nothing approved ({dict(samples.refused)})")
        return
    print(f"\n{title}: submit -> approved -> pain.001 written (ms)", flush=True)
    print(f"  {'':<22}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}", flush=True)
    for name, values in (
        ("submit (auto-approve)", samples.submit),
        ("disburse (one loan)", samples.disburse),
        ("end to end", samples.total),
    ):
        figures = [percentile(values, p) for p in (50, 90, 99)] + [max(values)]
        print(f"  {name:<22}" + "".join(f"{ms(v):>9}" for v in figures), flush=True)
    p99 = percentile(samples.total, 99)
    verdict = "met" if p99 < P99_TARGET_S else "MISSED"
    line(
        f"[{dialect}]   throughput, sequential",
        f"{done / samples.wall:,.1f} applications/s ({done:,} in {samples.wall:.1f} s)",
    )
    line(f"[{dialect}]   target p99 < {P99_TARGET_S:g} s", f"{verdict} (p99 {p99 * 1000:.1f} ms)")
    if samples.refused:
        loud(f"{sum(samples.refused.values())} applications were not approved: {samples.refused}")


def bench_batch(
    factory: sessionmaker[Session], dialect: str, world: World, n: int, start: int
) -> None:
    t0 = time.perf_counter()
    approved = 0
    for i in range(start, start + n):
        with transaction(factory) as s:
            approved += submit(s, world, i)[1] is not None
    submitted = time.perf_counter() - t0
    t1 = time.perf_counter()
    with transaction(factory) as s:
        file = loans.disburse(s, world.staff, execution_on=world.today, **DEBTOR)
        count, size, xml = file.count, len(file.xml), file.xml
    batch = time.perf_counter() - t1
    problems = validate_pain001(xml)
    line(
        f"[{dialect}] batch: {n:,} applications approved",
        f"{submitted:.1f} s ({approved / submitted:,.1f} applications/s)",
    )
    line(
        f"[{dialect}] batch: one pain.001 paying {count:,} loans",
        f"{batch:.2f} s ({count / batch:,.0f} loans/s, {size / 1e6:.2f} MB, "
        f"XSD {'valid' if not problems else 'INVALID: ' + problems[0]})",
    )


# ---------------------------------------------------------------------------- reconciliation


def statement(entries: int) -> tuple[list[Any], list[Any], list[Any]]:
    """A camt.053-like day: 45 % disbursement debits (one in ten booked as a batch of five
    EndToEndIds), 45 % repayment credits (by reference, one in five by account only), and
    10 % that match nothing (unknown EndToEndIds, credits naming no loan, pending entries)."""
    cny = "CNY"
    disbursements: list[reconcile.ExpectedDisbursement] = []
    loans_due: list[reconcile.RepayableLoan] = []
    out: list[reconcile.BankEntry] = []
    day = date(2026, 11, 26)

    def entry(amount: int, credit: bool, **kw: Any) -> reconcile.BankEntry:
        fields: dict[str, Any] = {
            "status": "BOOK",
            "value_date": day,
            "booking_date": day,
            "end_to_end_ids": (),
            "remittance": (),
            "counterparty_account": None,
            "counterparty_name": None,
        }
        fields.update(kw)
        n = len(out) + 1
        return reconcile.BankEntry(f"STMT-1:{n}", n, Money(amount, cny), credit, **fields)

    n_loans = max(1, entries // 4)
    for k in range(n_loans):
        loans_due.append(
            reconcile.RepayableLoan(
                loan_id=f"loan_{k:07d}",
                reference=f"RPY-{k:010d}",
                borrower_accounts=(f"6222 0202 {k:010d}",),
                currency=cny,
                outstanding=Money(100_000_00, cny),
            )
        )
    e2e = 0
    while len(out) < entries:
        kind = len(out) % 20
        if kind < 9:  # a disbursement debit, now and then a batch of five
            ids = [f"LN{e2e + j:012d}" for j in range(5 if kind == 0 else 1)]
            for j, eid in enumerate(ids):
                disbursements.append(
                    reconcile.ExpectedDisbursement(eid, f"loan_d{e2e + j}", Money(50_000_00, cny))
                )
            e2e += len(ids)
            out.append(entry(50_000_00 * len(ids), False, end_to_end_ids=tuple(ids)))
        elif kind < 18:  # a repayment credit
            k = (len(out) * 7919) % n_loans
            if kind == 17:
                out.append(entry(10_000_00, True, counterparty_account=f"62220202{k:010d}"))
            else:
                out.append(entry(10_000_00, True, remittance=(f"还款 RPY-{k:010d} 本息",)))
        elif kind == 18:
            out.append(entry(1_00, False, end_to_end_ids=(f"XX{len(out):012d}",)))
        else:
            out.append(entry(5_00, True, remittance=("interest on deposit",), status="PDNG"))
    return out, disbursements, loans_due


def bench_reconcile(entries: int) -> None:
    stmt, disbursements, loans_due = statement(entries)
    times = []
    result = None
    for _ in range(3):
        t0 = time.perf_counter()
        result = reconcile.reconcile(stmt, disbursements, loans_due)
        times.append(time.perf_counter() - t0)
    assert result is not None  # noqa: S101 - three runs happened
    best = statistics.median(times)
    reasons = Counter(str(u.reason) for u in result.unmatched)
    line(
        f"[pure] reconcile {entries:,} statement entries (median of 3)",
        f"{best:.2f} s ({entries / best:,.0f} entries/s)",
    )
    line(
        "[pure]   matched / unmatched",
        f"{len(result.matches):,} matches ({len(disbursements):,} disbursements, "
        f"{len(loans_due):,} loans) / {len(result.unmatched):,} unmatched {dict(reasons)}",
    )


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("CHAINFIN_BENCH_DATABASE_URL"))
    parser.add_argument("--applications", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args(argv)
    base = args.database_url
    if base is not None:
        shown = make_url(base).render_as_string(hide_password=True)
        version = reachable(base)
        if version is None:
            line("[postgresql] lending automatic path", f"SKIPPED: {shown} is unreachable")
            loud(f"SKIPPED bench/lending.py: {shown} is unreachable; no figure was measured")
            return 0
        where = f"PostgreSQL {version} at {shown}"
    else:
        where = f"SQLite at {VAR / 'lending.db'}"
    print(
        f"lending automatic path on {where}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}\nreproduce: .venv/bin/python bench/lending.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        flush=True,
    )
    crypto.configure(FieldCipher.from_spec(FieldCipher.new_spec()))
    started = time.perf_counter()
    url = fresh(base)
    try:
        migrate.upgrade(url)
    except ProgrammingError as exc:
        loud(f"FAILED: the schema cannot be created on this database: {exc.orig}")
        return 2
    engine = make_engine(url)
    factory = make_session_factory(engine)
    dialect = engine.dialect.name
    t0 = time.perf_counter()
    world = build_world(factory, args.applications + args.batch)
    line(
        f"[{dialect}] setup: {SUPPLIERS} suppliers, one line, sub-limits, a cap",
        f"{args.applications + args.batch:,} confirmed invoices "
        f"in {time.perf_counter() - t0:.1f} s",
    )
    samples = bench_path(factory, world, args.applications)
    report_path(dialect, args.applications, samples)
    print(flush=True)
    if args.batch:
        bench_batch(factory, dialect, world, args.batch, args.applications)
    engine.dispose()
    bench_reconcile(args.entries)
    line("total runtime", f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
