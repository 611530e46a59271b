"""Early warning at scale: a full scan of a region's enterprises and the incremental update
of one enterprise's signals when a document arrives. Prints figures, asserts nothing.

    .venv/bin/python bench/early_warning.py                   # medium region (SQLite)
    BENCH_SCALE=large .venv/bin/python bench/early_warning.py
    .venv/bin/python bench/early_warning.py --database-url postgresql+psycopg://…

The region and its year of trade come from the synthetic generator and are loaded through the
services (`demo seed --history`), so the scan reads what production would. The full scan is
`services.early_warning.signals` over every enterprise that sells (as if each one were a
borrower) plus every default policy; the incremental update recomputes one enterprise's
signals and policies, which is what a new document for it changes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import Bank, Enterprise, TradeDocumentRow
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.trade_history import generate_history
from chainfin.domain import early_warning as rules
from chainfin.domain.clock import utcnow
from chainfin.domain.ids import new_ids
from chainfin.services import early_warning


def _bulk_load(factory: Any, history: Any) -> None:
    """The documents' columns straight into the table, 20,000 rows a statement."""
    with factory() as s:
        ids = dict(s.execute(select(Enterprise.uscc, Enterprise.id)).all())
    now = utcnow()
    docs = history.documents
    for start in range(0, len(docs), 20_000):
        chunk = docs[start : start + 20_000]
        doc_ids = new_ids("document", len(chunk))
        rows = [
            {
                "id": doc_id,
                "kind": d.kind.value,
                "schema_version": d.schema_version,
                "number": d.number,
                "seller_id": ids[d.seller_uscc],
                "buyer_id": ids[d.buyer_uscc],
                "issue_date": d.issue_date,
                "currency": d.currency,
                "total_minor": d.total.amount_minor,
                "tax_minor": d.tax.amount_minor if d.tax else None,
                "contract_number": d.contract_number,
                "order_number": d.order_number,
                "delivery_number": d.delivery_number,
                "invoice_number": d.invoice_number,
                "content": {},
                "content_hash": "",
                "submitted_by": "bench",
                "submitter_enterprise_id": None,
                "submitter_platform_id": None,
                "created_at": now,
            }
            for doc_id, d in zip(doc_ids, chunk, strict=True)
        ]
        with transaction(factory) as s:
            s.execute(insert(TradeDocumentRow), rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="load the documents with bulk inserts (columns only, content left empty) instead "
        "of through the services: for the large region, whose 9 million documents would take "
        "hours through the services here",
    )
    args = parser.parse_args()
    scale = Scale(os.environ.get("BENCH_SCALE", "medium"))
    url = args.database_url
    if url is None:
        path = Path("var/bench/early_warning.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    crypto.configure(FieldCipher.from_spec(FieldCipher.new_spec()))
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    t0 = time.perf_counter()
    region = generate(list(RegionKey), scale, 42)
    history = generate_history(region, seed=42)
    with transaction(factory) as s:
        demo_seed.seed(s, region, with_users=False)
    if args.bulk:
        _bulk_load(factory, history)
    else:
        with transaction(factory) as s:
            demo_seed.load_history(s, history)
    print(
        f"[{scale}] {len(region.enterprises):,} enterprises, {len(history.documents):,} "
        f"documents loaded in {time.perf_counter() - t0:.1f} s ({engine.dialect.name})",
        flush=True,
    )
    with factory() as s:
        bank_id = s.scalars(select(Bank.id).limit(1)).one()
        sellers = sorted(set(s.scalars(select(TradeDocumentRow.seller_id).distinct())))
        last = s.scalar(select(TradeDocumentRow.issue_date).order_by(
            TradeDocumentRow.issue_date.desc()).limit(1))  # fmt: skip
    if last is None:
        print("no documents: nothing to scan")
        return 1
    # the last complete month: a month still being written would look like a collapse
    last = last.replace(day=1) - timedelta(days=1)
    with factory() as s:
        t1 = time.perf_counter()
        series = early_warning.signals(s, sellers, bank_id, last)
        t2 = time.perf_counter()
        hits = [h for e in series.values() for h in rules.evaluate(rules.DEFAULT_POLICIES, e)]
        t3 = time.perf_counter()
    by_code: dict[str, int] = {}
    for h in hits:
        by_code[h.code] = by_code.get(h.code, 0) + 1
    full = t3 - t1
    print(f"full scan: {len(sellers):,} enterprises: signals {t2 - t1:.1f} s, policies "
          f"{t3 - t2:.2f} s, {full:.1f} s in all (target < 60 s: "
          f"{'met' if full < 60 else 'MISSED'}); warnings {by_code}")  # fmt: skip
    timings = []
    with factory() as s:
        for enterprise_id in sellers[:: max(1, len(sellers) // 200)][:200]:
            t = time.perf_counter()
            one = early_warning.signals(s, [enterprise_id], bank_id, last)
            rules.evaluate(rules.DEFAULT_POLICIES, one[enterprise_id])
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"incremental update of one enterprise ({len(timings)} samples): p50 "
          f"{statistics.median(timings):.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
