"""Score the authenticity and fraud checks against planted anomalies: precision and recall
per kind, plus matching time. Prints figures, asserts nothing.

    .venv/bin/python bench/fraud_score.py                 # medium region, all of it
    BENCH_SCALE=small .venv/bin/python bench/fraud_score.py

The synthetic trade history plants every anomaly kind and keeps the ground truth apart
(in memory here, in a file for `chainfin demo seed --history`); the checks never see it.
"""

from __future__ import annotations

import os
import sys
import time

from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.trade_history import generate_history, score
from chainfin.domain.fraud import EnterpriseContacts, run_all
from chainfin.domain.matching import MatchConfig, match_all


def main() -> int:
    scale = Scale(os.environ.get("BENCH_SCALE", "medium"))
    t0 = time.perf_counter()
    region = generate(list(RegionKey), scale, 42)
    history = generate_history(region, seed=42)
    print(
        f"[{scale}] {len(history.documents):,} documents, {len(history.truth):,} planted "
        f"anomalies, generated in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    contacts = {
        e.uscc: EnterpriseContacts(e.legal_representative, e.address, e.phone)
        for e in region.enterprises
    }
    for uscc, (rep, address, phone) in history.contact_overrides.items():
        contacts[uscc] = EnterpriseContacts(rep, address, phone)
    t1 = time.perf_counter()
    findings = run_all(history.documents, contacts=contacts, financings=history.financings)
    print(f"[{scale}] checks: {len(findings):,} findings in {time.perf_counter() - t1:.1f} s")
    print(f"{'kind':<28}{'planted':>9}{'found':>8}{'precision':>11}{'recall':>8}")
    for kind, s in score(findings, history.truth).items():
        found = s.true_positives + s.false_positives
        print(f"{kind.value:<28}{s.planted:>9}{found:>8}{s.precision:>11.3f}{s.recall:>8.3f}")
    regions = {e.uscc: e.region_code for e in region.enterprises}
    t2 = time.perf_counter()
    results = match_all(history.documents, regions, MatchConfig())
    seconds = time.perf_counter() - t2
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r.status.value] = by_status.get(r.status.value, 0) + 1
    print(
        f"[{scale}] matching: {len(results):,} trade cases in {seconds:.1f} s "
        f"({len(history.documents) / seconds:,.0f} documents/s): {by_status}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
