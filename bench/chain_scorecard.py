"""A scorecard from chain data, scored honestly on later defaults: features per enterprise
at a cut-off, labels = defaulted in the half year after it. Prints figures, asserts nothing.

    .venv/bin/python bench/chain_scorecard.py                 # medium region, seed 42
    BENCH_SCALE=small .venv/bin/python bench/chain_scorecard.py

The synthetic history (a year from 2025-07-01) knows nothing of defaults; the default
outcomes come from ``default_outcomes``: a latent risk per firm from its behaviour in the
documents before the cut-off plus noise, and a default drawn from it in the 182 days after
(see docs/risk-chain-features.md). The features only read documents dated before the
cut-off, the labels only say what happened after it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pandas as pd
from sklearn.metrics import roc_auc_score

from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.trade_history import default_cutoff, default_outcomes, generate_history
from chainfin.domain.errors import ValidationFailed
from chainfin.risk.features import features
from chainfin.risk.scorecard import TrainOptions, train

SEED = 42


def main() -> int:
    scale = Scale(os.environ.get("BENCH_SCALE", "medium"))
    t0 = time.perf_counter()
    region = generate(list(RegionKey), scale, SEED)
    history = generate_history(region, seed=SEED)
    cutoff = default_cutoff(history)
    outcomes = default_outcomes(region, history, seed=SEED, cutoff=cutoff)
    print(
        f"[{scale}] {len(history.documents):,} documents, generated in "
        f"{time.perf_counter() - t0:.1f} s; cut-off {cutoff} (features from documents dated "
        f"up to {cutoff - timedelta(days=1)}), defaults from {cutoff} for 182 days"
    )
    t1 = time.perf_counter()
    cores = {u for chain in region.chains for u in chain.core_usccs}
    firms = sorted(outcomes)
    rows = features(history.documents, cutoff - timedelta(days=1), cores=cores, enterprises=firms)
    frame = pd.DataFrame(rows)
    frame["defaulted"] = [int(outcomes[u].defaulted) for u in firms]
    print(f"[{scale}] features for {len(frame):,} firms in {time.perf_counter() - t1:.1f} s")
    missing = frame.isna().mean()
    empty = [str(c) for c in frame.columns if missing[c] > 0.9]
    for c in empty:
        print(f"left out: {c}, undefined for {missing[c]:.1%} of firms at this cut-off")
    frame = frame.drop(columns=empty)
    n_bad = int(frame["defaulted"].sum())
    print(f"firms {len(frame):,}, defaults {n_bad:,}, bad rate {n_bad / len(frame):.2%}")
    truth_auc = roc_auc_score(frame["defaulted"], [outcomes[u].pd for u in firms])
    print(
        f"ceiling: the generator's own PD (latent risk incl. hidden noise) has AUC {truth_auc:.3f}"
    )

    options = TrainOptions(id_column="uscc", exclude=("as_of",), test_size=0.3, seed=SEED)
    t2 = time.perf_counter()
    model = train(frame, "defaulted", options=options)
    _report("stratified 30 % holdout", model.card, time.perf_counter() - t2)
    try:
        folds = train(frame, "defaulted", options=replace(options, folds=5))
    except ValidationFailed as exc:
        print(f"stratified 5-fold: not run ({exc})")
    else:
        _report("stratified 5-fold (means)", folds.card, None)

    iv: dict[str, float] = {}
    for entry in model.card["points_table"]:
        iv[entry["variable"]] = iv.get(entry["variable"], 0.0) + entry["iv"]
    print("features by information value (training part):")
    for name, value in sorted(iv.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<20}{value:8.3f}")
    return 0


def _report(title: str, card: dict[str, Any], seconds: float | None) -> None:
    m = card["metrics"]
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    print(
        f"{title}{took}: scorecard AUC {m['auc']:.3f}  KS {m['ks']:.3f}  Gini {m['gini']:.3f}"
        f"  (train AUC {m['train_auc']:.3f}); plain logistic regression AUC "
        f"{m['baseline_logistic_auc']:.3f}"
    )
    if "test_rows" in m:
        print(f"  test part: {m['test_rows']:,} firms, {m['test_bads']:,} defaults")


if __name__ == "__main__":
    sys.exit(main())
