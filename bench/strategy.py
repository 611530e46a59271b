"""Regional chain strategy: how long head office waits for the ranking of every region's
chains and the top chain's leads. Prints figures, asserts nothing.

    .venv/bin/python bench/strategy.py                  # medium, all three regions
    .venv/bin/python bench/strategy.py --scale large --regions yrd
    .venv/bin/python bench/strategy.py --reuse          # keep var/bench/strategy-<scale>-*.zip

Setup (not timed as the analysis): the synthetic region at ``--scale`` (seed 42), a year of
trade along it (``generate_history``), exported as the market CSV files a bank would import
(``chainfin.demo.strategy_market.market_files``) and cached as a zip under var/bench. The
bank's position is the first bank's customers from the synthetic region.

Timed, per region, the way the service runs it on a stored dataset: parse the CSV files
(``parse_inputs``, once for all regions), then for each region the region view, the measures
of every chain, the ranking (TOPSIS, 500 sensitivity draws) and the leads of the top-ranked
chain. Target: the medium region under 10 s in all (parse included), the large region under
60 s. The machine is shared (2 cores): take the times as ±30 %.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from chainfin.demo.strategy_market import market_files
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.trade_history import generate_history, history_end
from chainfin.domain.strategy.csv_input import parse_inputs
from chainfin.domain.strategy.dataset import BankPosition
from chainfin.domain.strategy.regions import parse_region
from chainfin.risk.strategy.graph import RegionView
from chainfin.risk.strategy.leads import leads
from chainfin.risk.strategy.measures import measure_chains
from chainfin.risk.strategy.ranking import rank

SEED = 42
VAR = Path("var/bench")


def line(name: str, value: str) -> None:
    print(f"  {name:<44} {value}")


def market(scale: Scale, keys: list[RegionKey], reuse: bool) -> tuple[dict[str, bytes], set[str]]:
    """The market files and the first bank's customers (USCCs), cached as a zip."""
    tag = "-".join(k.value for k in keys)
    path = VAR / f"strategy-{scale.value}-{tag}.zip"
    t0 = time.perf_counter()
    region = generate(keys, scale, SEED)
    bank = region.banks[0].code
    customers = {uscc for code, uscc in region.customers if code == bank}
    if reuse and path.exists():
        with zipfile.ZipFile(path) as z:
            files = {n: z.read(n) for n in z.namelist()}
        line("market files read from", str(path))
        return files, customers
    history = generate_history(region, seed=SEED)
    t1 = time.perf_counter()
    files = market_files(region, history, as_of=history_end(history), seed=SEED)
    t2 = time.perf_counter()
    VAR.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    line("synthetic region + a year of trade", f"{t1 - t0:.1f} s ({len(history.documents):,} docs)")
    line("exported as market files", f"{t2 - t1:.1f} s, {len(buf.getvalue()) / 1e6:.1f} MB zipped")
    return files, customers


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium", choices=[s.value for s in Scale])
    parser.add_argument("--regions", default="all", help="yrd, gba, jjj, or all")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    scale = Scale(args.scale)
    keys = list(RegionKey.expand(args.regions))
    print(f"strategy bench: {scale.value} scale, regions {', '.join(k.value for k in keys)}")
    files, customers = market(scale, keys, args.reuse)
    sizes = {name: len(data) for name, data in files.items()}
    line("files", ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in sorted(sizes.items())))

    t0 = time.perf_counter()
    dataset = parse_inputs(files)
    parsed = time.perf_counter() - t0
    dataset = replace(dataset, bank=BankPosition(bank="bench", customers=frozenset(customers)))
    line(
        "parse the market files",
        f"{parsed:.2f} s ({len(dataset.firms):,} firms, {len(dataset.links):,} links, "
        f"{len(dataset.flows):,} monthly flows)",
    )
    total = parsed
    for key in keys:
        region = parse_region(key.value)
        t1 = time.perf_counter()
        view = RegionView(dataset, region)
        measures = measure_chains(view)
        t2 = time.perf_counter()
        ranking = rank(measures, region=region.key, as_of=dataset.as_of, draws=500, seed=17)
        t3 = time.perf_counter()
        top = next((c for c in ranking.chains if c.rank == 1), None)
        found = leads(view, top.chain_key) if top is not None else ()
        t4 = time.perf_counter()
        members = sum(len(view.members(c.key).members) for c in view.chains)
        total += t4 - t1
        print(f"{region.label_zh} ({region.key}): {len(view.chains)} chains, {members:,} members")
        line("measures of every chain", f"{t2 - t1:.2f} s")
        line("ranking (TOPSIS, 500 draws)", f"{t3 - t2:.2f} s")
        line("leads of the top chain", f"{t4 - t3:.2f} s ({len(found)} leads)")
        for chain in ranking.chains:
            interval = f"{chain.rank_low}–{chain.rank_high}" if chain.rank_low is not None else "—"
            score = f"{chain.score:.3f}" if chain.score is not None else "excluded"
            line(f"  #{chain.rank or '-'} [{interval}] {score}", f"{chain.name[:40]}")
    target = 10 if scale is Scale.MEDIUM else 60
    print(f"total (parse + every region): {total:.1f} s; target under {target} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
