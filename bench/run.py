"""chainfin benchmarks: print figures, assert nothing.

    make bench                      # small and medium scales
    BENCH_SCALES=small,medium,large make bench

Figures: USCC validation rate; synthetic region generation and loading per scale (each
stage); tier recomputation for every chain; API latency (p50/p95) for the main reads, in
process through the ASGI stack on the seeded database. The database is SQLite under
var/bench/ unless CHAINFIN_BENCH_DATABASE_URL names a PostgreSQL database (its schema is
dropped and recreated).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.app import create_app
from chainfin.config import Settings
from chainfin.demo import seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.domain.uscc import check_uscc
from chainfin.services import chains

VAR = Path("var/bench")
SETTINGS = Settings(var_dir=VAR, secret_key="b" * 48)


def line(name: str, value: str) -> None:
    print(f"{name:<48} {value}")


def bench_uscc() -> None:
    codes = [e.uscc for e in generate([RegionKey.YRD], Scale.SMALL, 1).enterprises] * 200
    t0 = time.perf_counter()
    for code in codes:
        check_uscc(code)
    dt = time.perf_counter() - t0
    line("uscc validation", f"{len(codes) / dt:,.0f} codes/s")


def fresh_url(scale: str) -> str:
    pg = os.environ.get("CHAINFIN_BENCH_DATABASE_URL")
    if pg:
        engine = make_engine(pg)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS chainfin_bench CASCADE"))
            conn.execute(text("CREATE SCHEMA chainfin_bench"))
        engine.dispose()
        sep = "&" if "?" in pg else "?"
        return f"{pg}{sep}options=-csearch_path%3Dchainfin_bench"
    VAR.mkdir(parents=True, exist_ok=True)
    db = VAR / f"{scale}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def bench_scale(scale: Scale) -> None:
    url = fresh_url(scale.value)
    migrate.upgrade(url)
    crypto.configure(FieldCipher.from_spec(SETTINGS.data_key_spec()))
    t0 = time.perf_counter()
    region = generate(list(RegionKey), scale, 42)
    gen = time.perf_counter() - t0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    t1 = time.perf_counter()
    with transaction(factory) as session:
        report = seed.seed(session, region, with_users=True)
    load = time.perf_counter() - t1
    n = report.enterprises
    line(f"[{scale}] generate {n:,} enterprises", f"{gen:.2f} s")
    line(f"[{scale}] load into {engine.dialect.name}", f"{load:.2f} s ({n / load:,.0f} ent/s)")
    for stage, secs in report.seconds.items():
        line(f"[{scale}]   {stage}", f"{secs:.2f} s")
    t2 = time.perf_counter()
    with transaction(factory) as session:
        rows = chains.recompute_tiers(session)
    line(
        f"[{scale}] recompute tiers, {report.chains} chains",
        f"{time.perf_counter() - t2:.2f} s ({rows:,} member rows)",
    )
    engine.dispose()
    bench_api(url, scale, report)


def bench_api(url: str, scale: Scale, report: seed.SeedReport) -> None:
    app = create_app(SETTINGS.model_copy(update={"database_url": url}))
    with TestClient(app) as client:
        username = report.users[1][0]  # a relationship manager
        token = client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": username, "password": seed.DEMO_PASSWORD},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        chain_id = client.get("/v1/chains", headers=headers).json()["items"][0]["id"]
        for name, path in (
            ("GET /v1/enterprises?limit=100", "/v1/enterprises?limit=100"),
            ("GET /v1/chains/{id}", f"/v1/chains/{chain_id}"),
            ("GET /v1/chains/{id}/members?limit=100", f"/v1/chains/{chain_id}/members?limit=100"),
        ):
            samples = []
            for _ in range(50):
                t0 = time.perf_counter()
                r = client.get(path, headers=headers)
                samples.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text  # noqa: S101 - a broken bench must stop
            line(
                f"[{scale}] {name}",
                f"p50 {percentile(samples, 50):.1f} ms, p95 {percentile(samples, 95):.1f} ms",
            )
    app.state.engine.dispose()


def main() -> int:
    scales = [Scale(s) for s in os.environ.get("BENCH_SCALES", "small,medium").split(",")]
    bench_uscc()
    for scale in scales:
        bench_scale(scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
