"""Payable-credential transfer benchmarks on PostgreSQL: print figures, assert nothing.

    .venv/bin/python bench/credentials.py              # ~3 minutes
    .venv/bin/python bench/credentials.py --quick      # ~1 minute, shorter phases
    .venv/bin/python bench/credentials.py --profile    # also cProfile worker 0, print top costs
    CHAINFIN_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/credentials.py          # another server (the default shown)

The database is PostgreSQL only (a transfer benchmark on SQLite's single writer says nothing
about the target): schema ``chainfin_bench_credentials`` is dropped and recreated, and the
script prints SKIPPED and exits 0 when the server cannot be reached.

Setup, through the services: one core enterprise and 8 supply chains of 5 suppliers each
(the core buys from s1, s1 from s2, … s4 from s5); per chain one invoice, its buyer and debtor
confirmations, and credentials of 100,000.00 issued to s1, accepted and split into ten pieces of
10,000.00 (small trees, as most credentials have).

Figures:

1. Transfer throughput through the service layer: 8 worker processes, each with its own
   engine, each walking its own chain's pieces down the chain (s1 → s2 → … → s5). One
   *transfer* is counted when the sender's ``credentials.transfer`` transaction and the
   recipient's ``credentials.accept`` transaction have both committed: two transactions,
   each with its ledger entry, audit event and (for the acceptance) a balanced journal.
   Alongside: the latency of each transaction under that load, and the CPU a transfer
   costs in the workers and in their PostgreSQL backends (read from /proc when the server
   runs on this host), with the number of SQL statements it takes.
2. ``pgbench`` TPC-B-like throughput on the same server in the same run (scratch database
   ``chainfin_pgbench``, scale 8, 8 clients, 2 threads), and the ratio chainfin transfers/s
   over pgbench transactions/s. Target: ratio ≥ 0.3.
3. API latency of ``POST /v1/credentials/pieces/{id}/transfer`` (a partial transfer of
   1,000.00 from a 10,000.00 piece) at a steady 50 requests/s, open loop: each request is
   due at a fixed time whether or not earlier ones have answered, and its latency is
   measured from when it was due, so a stall is not hidden (no coordinated omission). The
   app runs in a uvicorn subprocess like ``chainfin serve`` (one worker, ledger sequencer
   on, access log off). Target: p99 < 50 ms.

Before each timed phase the tables are ANALYZEd (as autovacuum would after a bulk load)
and the server CHECKPOINTs, so one phase's dirty pages are not flushed during the next.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import glob
import itertools
import multiprocessing
import os
import pstats
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import Base
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, credentials, documents, ledger, registry

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "chainfin_bench_credentials"
PGBENCH_DB = "chainfin_pgbench"
VAR = Path("var/bench")
WORKERS = 8
CHAIN_DEPTH = 5  # suppliers per chain: every piece makes CHAIN_DEPTH - 1 transfers
PIECE = Money(10_000_00)
PIECES_PER_CREDENTIAL = 10  # a credential's tree stays small, as most do
API_TAKE = "1000.00"
API_RATE = 50.0  # requests/s
PASSWORD = "bench password 123"  # noqa: S105 - users of a throwaway bench schema
SECRET_KEY = "b" * 48
TRANSFER_PATH = "/v1/credentials/pieces/{piece_id}/transfer"
RATIO_TARGET = 0.3
P99_TARGET_MS = 50.0


def line(name: str, value: str) -> None:
    print(f"{name:<56} {value}", flush=True)


def loud(message: str) -> None:
    bar = "!" * 88
    print(f"{bar}\n!! {message}\n{bar}", flush=True)


@dataclass(frozen=True)
class Plan:
    """How long each phase runs; --quick shortens them all."""

    transfer_seconds: float
    pgbench_seconds: int
    api_seconds: float
    pieces_per_worker: int  # each makes CHAIN_DEPTH - 1 transfers

    @property
    def api_requests(self) -> int:
        return round(API_RATE * self.api_seconds)

    @property
    def api_pieces_per_chain(self) -> int:
        warmup = 2
        return -(-self.api_requests // WORKERS) + warmup


FULL = Plan(transfer_seconds=15, pgbench_seconds=15, api_seconds=20, pieces_per_worker=200)
QUICK = Plan(transfer_seconds=5, pgbench_seconds=5, api_seconds=5, pieces_per_worker=80)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---------------------------------------------------------------------------- database


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


def fresh(base: str) -> str:
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{SCHEMA}"
    migrate.upgrade(url)
    return url


def settle_down(engine: Engine) -> None:
    """Fresh statistics and a checkpoint before a timed phase."""
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            conn.execute(text(f'ANALYZE "{table.name}"'))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))


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


def enterprise_actor(enterprise_id: str) -> Principal:
    return Principal.enterprise_user(
        f"usr_{enterprise_id}", enterprise_id=enterprise_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


@dataclass
class Chain:
    ids: list[str]  # s1 … s5
    usccs: list[str]
    pieces: list[str] = field(default_factory=list)  # held by s1


@dataclass
class World:
    core_id: str
    programme_id: str
    chains: list[Chain]


def build_world(url: str, pieces_per_chain: int) -> World:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    bank = _ent("bench bank", 1, Role.BANK)
    core = _ent("bench core", 2, Role.CORE)
    suppliers = [
        [_ent(f"c{w}s{k}", 100 + w * 10 + k, Role.SUPPLIER) for k in range(1, CHAIN_DEPTH + 1)]
        for w in range(WORKERS)
    ]
    since = utcnow().date() - timedelta(days=3 * 365)
    relations = []
    for chain in suppliers:
        relations.append(RelationRecord(core.uscc, chain[0].uscc, "电芯", since))
        relations += [
            RelationRecord(buyer.uscc, seller.uscc, "材料", since)
            for buyer, seller in itertools.pairwise(chain)
        ]
    everyone = [bank, core, *(e for chain in suppliers for e in chain)]
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, everyone)
        bank_row = registry.create_bank(s, SYSTEM, BankRecord("BKBENCH", bank.name, bank.uscc))
        s.flush()
        ids = registry.ids_by_uscc(s, [e.uscc for e in everyone])
        registry.import_relations(s, SYSTEM, relations)
        registry.link_customers(s, SYSTEM, bank_row.id, [ids[core.uscc]])  # it leads
    staff = Principal.staff(
        "usr_bench_rm", bank_id=bank_row.id, roles=[StaffRole.RELATIONSHIP_MANAGER]
    )
    credentials_per_chain = -(-pieces_per_chain // PIECES_PER_CREDENTIAL)
    face = Money(PIECE.amount_minor * PIECES_PER_CREDENTIAL)
    owed = Money(face.amount_minor * credentials_per_chain)
    with transaction(factory) as s:
        programme = credentials.create_programme(
            s,
            staff,
            core=core.uscc,
            name="bench programme",
            line=Money(owed.amount_minor * WORKERS * 2),
            rating="AAA",
            min_piece=Money(100_00),
        )
    world = World(ids[core.uscc], programme.id, [])
    core_actor = enterprise_actor(world.core_id)
    due_on = utcnow().date() + timedelta(days=90)
    for w, chain in enumerate(suppliers):
        s1 = enterprise_actor(ids[chain[0].uscc])
        with transaction(factory) as s:
            rows = [invoice(w, chain[0].uscc, core.uscc, owed, due_on)]
            report = documents.ingest(s, s1, documents.parse_rows(rows))
            doc_id = str(report.rows[0].document_id)
            documents.confirm(s, core_actor, doc_id)
            confirmation = credentials.confirm(
                s,
                core_actor,
                supplier=chain[0].uscc,
                amount=owed,
                due_on=due_on,
                document_ids=[doc_id],
            )
        pieces: list[str] = []
        for _ in range(credentials_per_chain):
            with transaction(factory) as s:
                credential = credentials.issue(
                    s,
                    core_actor,
                    programme_id=programme.id,
                    confirmation_ids=[confirmation.id],
                    amount=face,
                    maturity_on=due_on,
                )
                root = credentials.tree(s, s1, credential.id)[0]
                credentials.accept(s, s1, root.id)
                parts = credentials.split(s, s1, root.id, [PIECE] * PIECES_PER_CREDENTIAL)
                pieces += [p.id for p in parts]
        world.chains.append(Chain([ids[e.uscc] for e in chain], [e.uscc for e in chain], pieces))
    engine.dispose()
    return world


def invoice(w: int, seller: str, buyer: str, total: Money, due_on: date) -> dict[str, object]:
    today = utcnow().date()
    return {
        "kind": "invoice",
        "number": f"INV-BENCH-{w}",
        "seller_uscc": seller,
        "buyer_uscc": buyer,
        "issue_date": (today - timedelta(days=5)).isoformat(),
        "currency": total.currency,
        "total": total.to_decimal_string(),
        "tax": "0.00",
        "invoice_number": f"263200000000{w:08d}",
        "due_date": due_on.isoformat(),
    }


# ---------------------------------------------------------------------------- service layer


@dataclass(frozen=True)
class WorkerJob:
    index: int
    url: str
    data_keys: str
    chain: list[str]
    pieces: list[str]
    seconds: float
    profile_to: str | None


@dataclass
class WorkerResult:
    index: int
    transfers: int = 0
    seconds: float = 0.0
    ran_out: bool = False
    transfer_ms: list[float] = field(default_factory=list)
    accept_ms: list[float] = field(default_factory=list)
    statements: int = 0
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None  # its PostgreSQL backend, when on this host
    error: str | None = None


def worker(job: WorkerJob, barrier: Any, results: Any) -> None:
    result = WorkerResult(job.index)
    try:
        run_worker(job, barrier, result)
    except Exception:  # noqa: BLE001 - any failure goes back to the parent to print
        result.error = traceback.format_exc()
        barrier.abort()
    results.put(result)


def run_worker(job: WorkerJob, barrier: Any, result: WorkerResult) -> None:
    crypto.configure(FieldCipher.from_spec(job.data_keys))
    engine = make_engine(job.url)
    factory = make_session_factory(engine)
    actors = [enterprise_actor(e) for e in job.chain]
    pieces = iter(job.pieces)

    def hop(piece_id: str, k: int) -> str:
        t0 = time.perf_counter()
        with transaction(factory) as s:
            offered = credentials.transfer(s, actors[k], piece_id, to=job.chain[k + 1]).offered
        t1 = time.perf_counter()
        with transaction(factory) as s:
            credentials.accept(s, actors[k + 1], offered.id)
        t2 = time.perf_counter()
        result.transfer_ms.append((t1 - t0) * 1000)
        result.accept_ms.append((t2 - t1) * 1000)
        return offered.id

    hop(next(pieces), 0)  # warm the connection and the statement caches; not counted
    result.transfer_ms.clear()
    result.accept_ms.clear()
    backend = backend_cpu_reader(engine)
    event.listen(engine, "before_cursor_execute", lambda *_: count_statement(result))
    barrier.wait(timeout=120)  # all start together, once all are warm
    profiler = cProfile.Profile() if job.profile_to else None
    if profiler is not None:
        profiler.enable()
    server_cpu0 = backend()
    client_cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + job.seconds
    while time.perf_counter() < deadline:
        piece_id = next(pieces, None)
        if piece_id is None:
            result.ran_out = True
            break
        for k in range(len(job.chain) - 1):
            piece_id = hop(piece_id, k)
            result.transfers += 1
            if time.perf_counter() >= deadline:
                break
    result.seconds = time.perf_counter() - start
    result.client_cpu_seconds = time.process_time() - client_cpu0
    server_cpu1 = backend()
    if server_cpu0 is not None and server_cpu1 is not None:
        result.server_cpu_seconds = server_cpu1 - server_cpu0
    if profiler is not None and job.profile_to:
        profiler.disable()
        profiler.dump_stats(job.profile_to)
    engine.dispose()


def count_statement(result: WorkerResult) -> None:
    result.statements += 1


def backend_cpu_reader(engine: Engine) -> Callable[[], float | None]:
    """CPU seconds used so far by this worker's PostgreSQL backend process, read from
    /proc when the server runs on this host (None otherwise). The worker is single-threaded,
    so its pool holds one connection and every transaction runs on this backend."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    proc = Path(f"/proc/{pid}")
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            # A server in a container has its own pid numbers: make sure it is postgres.
            if b"postgres" not in (proc / "cmdline").read_bytes():
                return None
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return read


def bench_transfers(url: str, data_keys: str, world: World, plan: Plan, profile: bool) -> float:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    profile_to = str((VAR / "credentials-worker0.prof").resolve()) if profile else None
    procs = []
    for w, chain in enumerate(world.chains):
        job = WorkerJob(
            index=w,
            url=url,
            data_keys=data_keys,
            chain=chain.ids,
            pieces=chain.pieces[: plan.pieces_per_worker],
            seconds=plan.transfer_seconds,
            profile_to=profile_to if w == 0 else None,
        )
        proc = ctx.Process(
            target=worker, args=(job, barrier, results), name=f"bench-worker-{w}", daemon=True
        )
        proc.start()
        procs.append(proc)
    outcomes = collect(procs, results)
    failed = [r for r in outcomes if r.error]
    if failed:
        loud(f"{len(failed)} transfer worker(s) failed; the first traceback follows")
        print(failed[0].error, flush=True)
        raise SystemExit(1)
    rate = report_transfers(outcomes, plan, profile)
    if profile_to:
        print_profile(profile_to)
    return rate


def report_transfers(outcomes: list[WorkerResult], plan: Plan, profile: bool) -> float:
    total = sum(r.transfers for r in outcomes)
    seconds = max(r.seconds for r in outcomes)
    rate = total / seconds
    note = " (worker 0 under cProfile: understated)" if profile else ""
    line(
        f"[postgresql] transfer+accept, {WORKERS} workers, {plan.transfer_seconds:g} s",
        f"{rate:,.1f} transfers/s = {2 * rate:,.1f} transactions/s ({total:,} transfers){note}",
    )
    spread = sorted(r.transfers for r in outcomes)
    line(
        "[postgresql]   transfers per worker (min/median/max)",
        f"{spread[0]:,} / {statistics.median(spread):,.0f} / {spread[-1]:,}",
    )
    for name, samples in (
        ("transfer", [x for r in outcomes for x in r.transfer_ms]),
        ("accept", [x for r in outcomes for x in r.accept_ms]),
    ):
        line(
            f"[postgresql]   one {name} transaction, under that load",
            f"p50 {percentile(samples, 50):.1f} ms, p99 {percentile(samples, 99):.1f} ms",
        )
    client_ms = 1000 * sum(r.client_cpu_seconds for r in outcomes) / total
    server = [r.server_cpu_seconds for r in outcomes]
    server_ms = (
        f"{1000 * sum(x for x in server if x is not None) / total:.1f} ms"
        if all(x is not None for x in server)
        else "n/a (server not on this host)"
    )
    line(
        "[postgresql]   CPU per transfer, workers / backends",
        f"{client_ms:.1f} ms / {server_ms} ({sum(r.statements for r in outcomes) / total:.1f} "
        "SQL statements per transfer, BEGIN/COMMIT aside)",
    )
    if any(r.ran_out for r in outcomes):
        loud("a worker ran out of pieces before the time was up: raise pieces_per_worker")
    return rate


def collect(procs: list[Any], results: Any) -> list[WorkerResult]:
    """Every worker's result; a worker that died without one stops the benchmark."""
    outcomes: list[WorkerResult] = []
    while len(outcomes) < len(procs):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.name for p in procs if p.exitcode not in (None, 0)]
            if dead:
                loud(f"transfer worker(s) {', '.join(dead)} died without a result")
                raise SystemExit(1) from None
    for proc in procs:
        proc.join(timeout=30)
    return outcomes


def print_profile(path: str) -> None:
    print(f"\ncProfile of worker 0 ({path}), top 30 by own time:", flush=True)
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(30)
    print("top 40 by cumulative time:", flush=True)
    stats.sort_stats("cumulative").print_stats(40)
    sys.stdout.flush()


# ---------------------------------------------------------------------------- pgbench


def find_pgbench() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def bench_pgbench(base: str, plan: Plan) -> float | None:
    exe = find_pgbench()
    if exe is None:
        loud("SKIPPED pgbench: no pgbench on PATH or under /usr/lib/postgresql/*/bin/")
        return None
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": PGBENCH_DB}
        ).scalar()
        if not exists:
            conn.execute(text(f"CREATE DATABASE {PGBENCH_DB}"))
    parsed = make_url(base)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    conn_args = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]

    def run(*args: str) -> str:
        out = subprocess.run(  # noqa: S603 - a fixed command line built here
            [exe, *conn_args, *args, PGBENCH_DB],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout + out.stderr

    try:
        run("-i", "-q", "-s", "8")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CHECKPOINT"))
        report = run("-c", str(WORKERS), "-j", "2", "-T", str(plan.pgbench_seconds))
    except subprocess.CalledProcessError as exc:
        loud(f"SKIPPED pgbench: {' '.join(exc.cmd)} failed:\n{exc.stderr}")
        return None
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run("-i", "-I", "d")  # drop the pgbench tables
        admin.dispose()
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", report)
    if match is None:
        loud(f"could not read tps from pgbench output:\n{report}")
        return None
    tps = float(match.group(1))
    line(
        f"[postgresql] pgbench TPC-B-like, -s 8 -c {WORKERS} -j 2 -T {plan.pgbench_seconds}",
        f"{tps:,.1f} transactions/s",
    )
    return tps


# ---------------------------------------------------------------------------- API


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_users(url: str, world: World) -> list[str]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    names = []
    with transaction(factory) as s:
        for w, chain in enumerate(world.chains):
            name = f"bench-c{w}s1"
            auth.create_user(
                s,
                SYSTEM,
                username=name,
                password=PASSWORD,
                roles=[EnterpriseRole.ENTERPRISE_ADMIN.value],
                enterprise_uscc=chain.usccs[0],
            )
            names.append(name)
    engine.dispose()
    return names


def start_server(url: str, data_keys: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CHAINFIN_DATABASE_URL": url,
        "CHAINFIN_SECRET_KEY": SECRET_KEY,
        "CHAINFIN_DATA_KEYS": data_keys,
        "CHAINFIN_VAR_DIR": str(VAR),
        "CHAINFIN_LEDGER_ORIGIN": "bench.chainfin/ledger",
    }
    return subprocess.Popen(  # noqa: S603 - a fixed command line built here
        [
            sys.executable,
            "-m",
            "uvicorn",
            "chainfin.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )


@dataclass(frozen=True)
class ApiJob:
    token: str
    piece_id: str
    to: str


async def drive(base: str, jobs: list[ApiJob], warmup: list[ApiJob]) -> list[tuple[int, float]]:
    """Send ``jobs`` at API_RATE, open loop; return (status, ms since it was due) for each."""
    import httpx2

    limits = httpx2.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def send(job: ApiJob) -> int:
            r = await client.post(
                TRANSFER_PATH.format(piece_id=job.piece_id),
                json={"to": job.to, "amount": API_TAKE},
                headers={
                    "Authorization": f"Bearer {job.token}",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
            )
            return r.status_code

        for job in warmup:
            status = await send(job)
            if status >= 300:
                r = await client.get("/healthz")
                raise RuntimeError(f"warm-up transfer answered {status} (healthz {r.status_code})")
        loop = asyncio.get_running_loop()

        async def timed(job: ApiJob, due: float) -> tuple[int, float]:
            try:
                status = await send(job)
            except Exception:  # noqa: BLE001 - a transport failure is counted as an error
                status = 0
            return status, (loop.time() - due) * 1000

        t0 = loop.time() + 0.1
        tasks = []
        for n, job in enumerate(jobs):
            due = t0 + n / API_RATE
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(timed(job, due)))
        return list(await asyncio.gather(*tasks))


def login(base: str, username: str) -> str:
    import httpx2

    r = httpx2.post(
        f"{base}/oauth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def wait_until_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx2

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not come up within 60 s")


def has_transfer_route(base: str) -> bool:
    import httpx2

    paths = httpx2.get(f"{base}/openapi.json", timeout=10).json().get("paths", {})
    return TRANSFER_PATH in paths


def bench_api(url: str, data_keys: str, world: World, plan: Plan) -> None:
    title = f"[api] transfer, {API_RATE:g} req/s for {plan.api_seconds:g} s (open loop)"
    try:
        import httpx2  # noqa: F401 - only to know whether the client is installed
    except ImportError:
        loud("SKIPPED API latency: httpx2 is not installed in this environment")
        return
    usernames = create_users(url, world)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as s:
        # The transfer phase's entries are sequenced now, so the app's sequencer does
        # the steady trickle of this phase, not a backlog.
        ledger.integrate_all(s, batch=10_000)
    settle_down(engine)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(url, data_keys, port)
    try:
        wait_until_up(base, proc)
        if not has_transfer_route(base):
            loud(
                f"PENDING API latency: the app has no {TRANSFER_PATH} route yet "
                "(src/chainfin/api/routers/credentials.py not written or not included)"
            )
            line(title, "PENDING (no transfer route in the app)")
            return
        tokens = [login(base, name) for name in usernames]
        # s1 of each chain passes part of a piece to its s2; the chains take turns, and
        # every request moves a piece no other request touches.
        per_chain = [
            [ApiJob(tokens[w], p, chain.usccs[1]) for p in chain.pieces[plan.pieces_per_worker :]]
            for w, chain in enumerate(world.chains)
        ]
        warmup = [jobs[0] for jobs in per_chain]
        rounds = itertools.zip_longest(*(jobs[1:] for jobs in per_chain))
        queue = [job for turn in rounds for job in turn if job is not None]
        outcomes = asyncio.run(drive(base, queue[: plan.api_requests], warmup))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    latencies = [ms for status, ms in outcomes if 200 <= status < 300]
    errors = len(outcomes) - len(latencies)
    if not latencies:
        line(title, f"every request failed ({errors} errors)")
        return
    p99 = percentile(latencies, 99)
    verdict = "met" if p99 < P99_TARGET_MS else "MISSED"
    line(
        title,
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms",
    )
    line(
        "[api]   requests, errors; p99 target",
        f"{len(outcomes):,} sent, {errors} errors; p99 < {P99_TARGET_MS:g} ms: {verdict}",
    )


# ---------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (about a minute)")
    parser.add_argument("--profile", action="store_true", help="cProfile worker 0 and print")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    base = os.environ.get("CHAINFIN_BENCH_DATABASE_URL", DEFAULT_URL)
    version = reachable(base)
    shown = make_url(base).render_as_string(hide_password=True)
    if version is None:
        line("[postgresql] credential transfer benchmarks", f"SKIPPED: {shown} is unreachable")
        loud(
            f"SKIPPED bench/credentials.py: PostgreSQL at {shown} is unreachable; no "
            "transfer, pgbench or API figure was measured (set CHAINFIN_BENCH_DATABASE_URL)"
        )
        return 0
    command = ["bench/credentials.py"] + ["--quick"] * args.quick + ["--profile"] * args.profile
    print(
        f"credential transfers on PostgreSQL {version} at {shown}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}\n"
        f"reproduce: .venv/bin/python {' '.join(command)}",
        flush=True,
    )
    VAR.mkdir(parents=True, exist_ok=True)
    data_keys = FieldCipher.new_spec()
    crypto.configure(FieldCipher.from_spec(data_keys))
    t0 = time.perf_counter()
    url = fresh(base)
    pieces_per_chain = plan.pieces_per_worker + plan.api_pieces_per_chain
    world = build_world(url, pieces_per_chain)
    line(
        f"[postgresql] setup: {WORKERS} chains x {CHAIN_DEPTH} suppliers",
        f"{WORKERS * pieces_per_chain:,} pieces of {PIECE} in {time.perf_counter() - t0:.1f} s",
    )
    engine = make_engine(url)
    settle_down(engine)
    engine.dispose()
    rate = bench_transfers(url, data_keys, world, plan, args.profile)
    tps = bench_pgbench(base, plan)
    if tps is not None:
        ratio = rate / tps
        verdict = "met" if ratio >= RATIO_TARGET else "MISSED"
        line(
            "[postgresql] ratio chainfin transfers/s / pgbench tps",
            f"{ratio:.3f} (target >= {RATIO_TARGET}: {verdict}; "
            f"{2 * rate / tps:.3f} counting each transaction)",
        )
    bench_api(url, data_keys, world, plan)
    line(
        "total runtime",
        f"{time.perf_counter() - t0:.0f} s (load average now {os.getloadavg()[0]:.1f}: "
        "other work on this host shares its CPUs with every figure above)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
