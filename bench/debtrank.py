"""DebtRank on a 100,000-node, 1,000,000-edge supply-like network: time to build the network
(validation, parallel edges summed, impact matrix) and to run a shock of the 10 largest firms
and of the single largest one. Target: build + run under 10 s. Prints a table; exits 0.

    .venv/bin/python bench/debtrank.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from chainfin.risk.debtrank import Network, Result, debtrank

NODES = 100_000
EDGES = 1_000_000
SEED = 20121001  # reproducible: same network, same figures (bar the clock)
TARGET_S = 10.0


def network_arrays(
    n: int = NODES, m: int = EDGES, seed: int = SEED
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A supply-like network: firm size is lognormal; a firm is chosen as counterparty with
    probability ∝ size^0.8 (big buyers and suppliers have many firms exposed to them: a
    heavy-tailed in-degree), and as holder with a Pareto weight (power-law out-degrees).
    Equity is a lognormal fraction of value; each exposure is a lognormal share of the
    holder's equity (median 5 %), so most impacts are small and a few exceed 1."""
    rng = np.random.default_rng(seed)
    log_size = rng.normal(0.0, 2.0, n)
    value = np.exp(log_size)
    equity = value * 0.3 * rng.lognormal(0.0, 0.3, n)
    pull = np.exp(0.8 * log_size)
    push = rng.pareto(2.0, n) + 1.0
    draw = int(m * 1.02)
    holder = rng.choice(n, size=draw, p=push / push.sum())
    counterparty = rng.choice(n, size=draw, p=pull / pull.sum())
    keep = np.flatnonzero(holder != counterparty)[:m]  # no self-exposures
    holder, counterparty = holder[keep], counterparty[keep]
    exposure = equity[holder] * rng.lognormal(np.log(0.05), 1.0, m)
    ids = [f"F{k:06d}" for k in range(n)]
    return ids, equity, value, holder, counterparty, exposure


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    samples = []
    result: object = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def rows_build_time(
    ids: list[str],
    equity: np.ndarray,
    value: np.ndarray,
    holder: np.ndarray,
    counterparty: np.ndarray,
    exposure: np.ndarray,
) -> float:
    nodes = [
        {"id": i, "equity": repr(e), "value": repr(v)}
        for i, e, v in zip(ids, equity.tolist(), value.tolist(), strict=True)
    ]
    edges = [
        {"holder": ids[h], "counterparty": ids[c], "exposure": repr(x)}
        for h, c, x in zip(holder.tolist(), counterparty.tolist(), exposure.tolist(), strict=True)
    ]
    t0 = time.perf_counter()
    Network.from_rows(nodes, edges)
    return time.perf_counter() - t0


def main() -> None:
    t0 = time.perf_counter()
    ids, equity, value, holder, counterparty, exposure = network_arrays()
    gen_s = time.perf_counter() - t0
    build_s, built = timed(
        lambda: Network.from_arrays(ids, equity, value, holder, counterparty, exposure), 3
    )
    net = built if isinstance(built, Network) else None
    assert net is not None  # noqa: S101 - a bench that built nothing must stop
    largest = [net.ids[k] for k in np.argsort(-net.value, kind="stable")[:10]]
    scenarios = [
        ("10 largest, fraction 1", dict.fromkeys(largest, 1.0)),
        ("10 largest, fraction 0.3", dict.fromkeys(largest, 0.3)),
        ("largest alone, fraction 1", {largest[0]: 1.0}),
    ]
    print(
        f"DebtRank bench: {net.n_nodes:,} nodes, {len(exposure):,} edges "
        f"({net.n_links:,} distinct holder→counterparty links), seed {SEED}"
    )
    print(f"  network generated in {gen_s:.2f} s (not counted)")
    print(f"  build from arrays (Network.from_arrays), median of 3: {build_s:.3f} s")
    rows_s = rows_build_time(ids, equity, value, holder, counterparty, exposure)
    print(f"  build from rows of strings (Network.from_rows, the CLI's path), once: {rows_s:.3f} s")
    print()
    header = (
        f"  {'shock':<26} {'rounds':>6} {'distressed':>10} {'initial':>8} "
        f"{'DebtRank':>9} {'total':>7} {'build s':>8} {'run s':>7} {'build+run':>9}  < 10 s"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    worst = 0.0
    for label, shocks in scenarios:
        run_s, res = timed(lambda shocks=shocks: debtrank(net, shocks), 5)
        assert isinstance(res, Result)  # noqa: S101
        total_s = build_s + run_s
        worst = max(worst, total_s)
        print(
            f"  {label:<26} {res.rounds:>6} {res.distressed:>10,} {res.initial:>8.4f} "
            f"{res.debtrank:>9.4f} {res.total:>7.4f} {build_s:>8.3f} {run_s:>7.3f} "
            f"{total_s:>9.3f}  {'yes' if total_s < TARGET_S else 'NO'}"
        )
    print()
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(
        f"  target build + run < {TARGET_S:.0f} s: {verdict} "
        f"(worst {worst:.3f} s from arrays, {rows_s + worst - build_s:.3f} s from rows; "
        "runs: median of 5)"
    )


if __name__ == "__main__":
    main()
