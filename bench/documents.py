"""Trade-document ingestion benchmark: print figures, assert nothing.

    .venv/bin/python bench/documents.py
    CHAINFIN_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/documents.py

Ingests purchase orders with two lines each through the same service the API and CLI use
(parsing, schema validation, party and attribution checks, duplicate checks, insert, ledger
entry), in batches of 1, 100 and 1,000, and prints documents/s.

On PostgreSQL the table statistics are refreshed (ANALYZE) between phases, as autovacuum
or a DBA would after a bulk load: with no statistics on a table that grew from empty, the
planner ignores the (kind, seller, number) index and scans, and throughput falls with size.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.domain.access import SYSTEM, Principal, PrincipalKind, Scope
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import documents, registry

VAR = Path("var/bench")
SELLER = make_uscc("9", "1", "320505", "00000001")
BUYER = make_uscc("9", "1", "320506", "00000002")


def fresh() -> str:
    pg = os.environ.get("CHAINFIN_BENCH_DATABASE_URL")
    if pg:
        engine = make_engine(pg)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS chainfin_bench_docs CASCADE"))
            conn.execute(text("CREATE SCHEMA chainfin_bench_docs"))
        engine.dispose()
        sep = "&" if "?" in pg else "?"
        url = f"{pg}{sep}options=-csearch_path%3Dchainfin_bench_docs"
    else:
        VAR.mkdir(parents=True, exist_ok=True)
        db = VAR / "documents.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    migrate.upgrade(url)
    return url


def row(n: int) -> dict[str, object]:
    return {
        "kind": "purchase_order",
        "number": f"PO-{n:08d}",
        "seller_uscc": SELLER,
        "buyer_uscc": BUYER,
        "issue_date": "2026-03-01",
        "currency": "CNY",
        "total": "2260.00",
        "tax": "260.00",
        "lines": [
            {
                "item": "电芯",
                "quantity": "10",
                "unit": "件",
                "unit_price": "100.00",
                "amount": "1000.00",
            },
            {
                "item": "壳体",
                "quantity": "5",
                "unit": "件",
                "unit_price": "200.00",
                "amount": "1000.00",
            },
        ],
    }


def main() -> int:
    crypto.configure(FieldCipher.from_spec(FieldCipher.new_spec()))
    url = fresh()
    backend = make_engine(url).dialect.name
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as s:
        registry.import_enterprises(
            s,
            SYSTEM,
            [
                EnterpriseRecord(SELLER, "卖方", "320505", "C38", frozenset({Role.SUPPLIER})),
                EnterpriseRecord(BUYER, "买方", "320506", "C36", frozenset({Role.CORE})),
            ],
        )
        seller_id = registry.enterprise_by_uscc(s, SELLER).id
    actor = Principal(
        PrincipalKind.ENTERPRISE_USER,
        "bench",
        enterprise_id=seller_id,
        scopes=frozenset({Scope.DOCUMENTS_WRITE}),
    )
    n = 0
    for batch, total in ((1, 500), (100, 10_000), (1_000, 30_000)):
        if backend == "postgresql":
            with transaction(factory) as s:
                s.execute(text("ANALYZE trade_documents"))
        rates = []
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(total // batch):
                rows = [row(n + i) for i in range(batch)]
                n += batch
                with transaction(factory) as s:
                    documents.ingest(s, actor, documents.parse_rows(rows))
            rates.append(total / (time.perf_counter() - t0))
        print(
            f"[{backend}] ingest, {batch:>5} per batch".ljust(52)
            + f"{max(rates):,.0f} documents/s (best of 3; worst {min(rates):,.0f})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
