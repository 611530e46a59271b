"""How long the ``chainfin`` command takes from start to exit: ``--help`` and the reads a
bank's staff run most, each as a fresh process. Prints figures against the 0.5 s target,
asserts nothing.

    .venv/bin/python bench/cli_start.py              # 10 runs of each command
    .venv/bin/python bench/cli_start.py --runs 30

The database is SQLite under var/bench/ (``chainfin db upgrade``, then ``chainfin demo seed
--region yrd --scale small``, made once and reused); the reads act as its first bank.
Each command runs ``--runs`` times after one warm-up run (which also compiles bytecode);
printed per command: the median, the p95 and the slowest start-to-exit time, and whether
the median is under the target. The machine is shared (2 cores), so take the figures as
±30 %; ``python -X importtime -c "import chainfin.cli.main"`` shows where import time goes.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

VAR = Path("var/bench")
DB = VAR / "cli_start.db"
TARGET_S = 0.5
CHAINFIN = str(Path(sys.executable).with_name("chainfin"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CHAINFIN_CLOCK", None)
    # As on a user's machine: bytecode is cached after the first run (some CI images and
    # this project's sandbox set PYTHONDONTWRITEBYTECODE, which recompiles every module of
    # the package on every start and adds ~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        CHAINFIN_DATABASE_URL=f"sqlite:///{DB.resolve()}",
        CHAINFIN_VAR_DIR=str(VAR.resolve()),
        COLUMNS="80",
    )
    return env


def _seed() -> str:
    """The bench database (made once) and the code of the bank the reads act as."""
    if not DB.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        for args in (
            ["db", "upgrade"],
            ["demo", "seed", "--region", "yrd", "--scale", "small", "--seed", "42"],
        ):
            subprocess.run([CHAINFIN, *args], env=_env(), check=True, capture_output=True)  # noqa: S603
    with sqlite3.connect(DB) as conn:
        (code,) = conn.execute("SELECT code FROM banks ORDER BY code LIMIT 1").fetchone()
    return str(code)


def _time(args: list[str], runs: int) -> list[float]:
    env = _env()
    times = []
    for n in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run([CHAINFIN, *args], env=env, capture_output=True, check=False)  # noqa: S603
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"chainfin {' '.join(args)} failed:\n{done.stderr.decode()}")
        if n:  # the first run warms the page cache and compiles bytecode
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    runs = parser.parse_args().runs
    bank = _seed()
    commands = [
        ["--help"],
        ["loan", "--help"],
        ["ledger", "verify", "--help"],
        ["loan", "list", "--bank", bank],
        ["line", "list", "--bank", bank],
        ["risk", "alerts", "--bank", bank],
    ]
    print(f"chainfin start-to-exit, {runs} runs each, SQLite {DB} (bank {bank})")
    print(f"{'command':<34} {'median':>8} {'p95':>8} {'max':>8}  target {TARGET_S} s")
    for args in commands:
        times = sorted(_time(args, runs))
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        verdict = "ok" if median < TARGET_S else "over"
        print(
            f"{' '.join(['chainfin', *args]):<34} {median:>7.3f}s {p95:>7.3f}s "
            f"{times[-1]:>7.3f}s  {verdict}"
        )


if __name__ == "__main__":
    main()
