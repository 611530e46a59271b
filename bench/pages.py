"""The portal's and the bank workbench's pages: how long the server takes for each, and how
much each weighs. Prints figures, asserts nothing.

    .venv/bin/python bench/pages.py                    # medium region, 50 requests a page
    .venv/bin/python bench/pages.py --scale small --samples 20
    .venv/bin/python bench/pages.py --reuse            # keep var/bench/pages.db if seeded

The database is var/bench/pages.db, seeded with ``chainfin demo seed --region yrd --scale
medium`` (about 10 s, most of it hashing the demo users' passwords), served by a real
``chainfin serve`` (uvicorn, one worker, the ledger sequencer on) on the system clock.

- Server time: each page fetched ``--samples`` times one after another (after 3 warm-up
  requests) as the demo's first supplier (the treasury pages: its first core enterprise),
  signed in through the login form (the login page itself signed out); the time from
  sending the request to the last byte of the answer on the loopback interface,
  p50/p95/max; the workbench's pages (``wb-*``) as the first bank's staff of each role, the
  chain map and the firm page on the bank's largest chain and its core. Target: p95 under
  300 ms. ``openapi`` is the
  document /docs fetches before it shows anything. The seed gives the supplier its chains
  but no credentials, consents or alerts, so those pages are near their lightest here
  (``demo run`` would add them, but takes over five minutes on the medium region).
- Weight, in Debian's Chromium (skipped when /usr/bin/chromium is missing): the page's HTML
  and the assets a first visit loads (styles, scripts, fonts, images, and what scripts
  fetch, such as /openapi.json) with the cache emptied after signing in, then a second
  visit with the cache warm, which is what a person pays each time. Bytes as transferred
  (headers and body). Target: the warm visit under 300 KB; a page over it is followed by
  its heaviest transfers. The chain map's time to draw in the browser (from the start of
  navigation to ECharts' ``finished`` event), first and warm visit. Target: under 2 s.

The machine is shared (2 cores): take the times as ±30 %.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from chainfin.adapters.db.crypto import FieldCipher
from chainfin.demo.seed import DEMO_PASSWORD
from signin import wait_until_up  # bench/signin.py: the same readiness poll

VAR = Path("var/bench")
DB = VAR / "pages.db"
CHROMIUM = Path("/usr/bin/chromium")
KEYS = VAR / "pages.key"  # the database's field-encryption key, kept for --reuse
PAGES = (  # name, path, who: signed out (None), the first supplier or the first core
    ("login", "/", None),
    ("home", "/", "supplier"),
    ("consents", "/consents", "supplier"),
    ("credentials", "/credentials", "supplier"),
    ("financing", "/financing", "supplier"),
    ("apply", "/financing/apply", "supplier"),
    ("documents", "/documents", "supplier"),
    ("trade-cases", "/trade-cases", "supplier"),
    ("invite", "/suppliers/invite", "supplier"),
    ("notifications", "/notifications", "supplier"),
    ("account", "/account", "supplier"),
    ("treasury", "/treasury", "core"),
    ("treasury-issue", "/treasury/issue", "core"),
    ("treasury-issued", "/treasury/issued", "core"),
    ("treasury-cal", "/treasury/calendar", "core"),
    ("docs", "/docs", "supplier"),
    ("openapi", "/openapi.json", "supplier"),  # what /docs fetches before it shows anything
    # the bank workbench, as the first bank's staff ({chain}: its largest chain; {firm}: that
    # chain's first core enterprise)
    ("wb-home", "/", "rm"),
    ("wb-customers", "/customers", "rm"),
    ("wb-chain-map", "/chains/{chain}", "rm"),
    ("wb-firm", "/firms/{firm}", "rm"),
    ("wb-tasks", "/tasks", "rm"),
    ("wb-alerts", "/alerts", "rm"),
    ("wb-credit", "/credit", "approver"),
    ("wb-risk", "/risk", "risk"),
    ("wb-sectors", "/risk/sectors", "risk"),
    ("wb-contagion", "/risk/contagion", "risk"),
    # a run needs trade history, which `demo seed` does not write: on the seed it answers
    # 422 "no trade" at once (demo run writes it)
    ("wb-contagion-run", "/risk/contagion?core={firm}&kind=default", "risk"),
    ("wb-models", "/risk/models", "risk"),
    ("wb-ops", "/operations", "admin"),
    ("wb-lines", "/operations/lines", "admin"),
    ("wb-books", "/operations/books", "auditor"),  # books:read: auditors and risk officers
    ("wb-ledger", "/audit", "auditor"),
    ("wb-trail", "/audit/trail", "auditor"),
    ("wb-users", "/admin/users", "admin"),
)
STAFF = ("rm", "approver", "risk", "admin", "auditor")  # the seed's staff username suffixes
WARMUP = 3
TARGET_P95_MS = 300.0
TARGET_KB = 300.0
TARGET_DRAWN_MS = 2000.0  # the chain map of the largest chain, drawn in the browser


def line(name: str, value: str) -> None:
    print(f"{name:<34} {value}", flush=True)


def percentile(samples: list[float], q: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


# ---------------------------------------------------------------------------- the server


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "CHAINFIN_DATABASE_URL": f"sqlite:///{DB}",
        "CHAINFIN_DATA_KEYS": KEYS.read_text().strip(),
        "CHAINFIN_VAR_DIR": str(VAR),
        "CHAINFIN_LEDGER_ORIGIN": "bench.chainfin/ledger",
    }


def chainfin(*args: str) -> str:
    exe = Path(sys.executable).with_name("chainfin")
    done = subprocess.run(  # noqa: S603 - a fixed command line built here
        [str(exe), *args], env=environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"chainfin {' '.join(args)}: {done.stderr or done.stdout}")
    return done.stdout


def seed(scale: str, reuse: bool) -> dict[str, str]:
    """Seed the region (unless reusing it); the first demo supplier's and core's usernames."""
    VAR.mkdir(parents=True, exist_ok=True)
    users = VAR / "pages-users.json"
    if reuse and DB.exists() and users.exists() and KEYS.exists():
        line("region", f"reusing {DB}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DB}{suffix}").unlink(missing_ok=True)
        KEYS.write_text(FieldCipher.new_spec("b1"))
        t0 = time.perf_counter()
        chainfin("db", "upgrade")
        report = json.loads(chainfin("demo", "seed", "--region", "yrd", "--scale", scale, "--json"))
        users.write_text(json.dumps(report["seeded"]["users"]))  # [[username, what], …]
        line(f"seed yrd {scale}", f"{time.perf_counter() - t0:.1f} s into {DB}")
    names = [row[0] for row in json.loads(users.read_text())]
    who = {}
    for role in ("supplier", "core"):
        who[role] = next((n for n in names if n.startswith(role)), "")
        if not who[role]:
            raise RuntimeError(f"the demo seed made no {role} user: {names}")
    rm = next((n for n in names if n.endswith("-rm")), "")
    if not rm:
        raise RuntimeError(f"the demo seed made no bank staff: {names}")
    bank = rm.removesuffix("-rm")
    for suffix in STAFF:
        who[suffix] = f"{bank}-{suffix}"
    return who


def workbench_ids(username: str) -> dict[str, str]:
    """The largest chain the bank's staff see and its first core enterprise: the chain map
    and firm pages are timed on the biggest the region has."""
    from sqlalchemy import select

    from chainfin.adapters.db.engine import make_engine, make_session_factory
    from chainfin.adapters.db.models import User
    from chainfin.domain.access import Principal, StaffRole
    from chainfin.services import chains

    engine = make_engine(f"sqlite:///{DB}")
    try:
        with make_session_factory(engine)() as s:
            user = s.scalars(select(User).where(User.username == username)).one()
            staff = Principal.staff(
                user.id, bank_id=str(user.bank_id), roles=[StaffRole.RELATIONSHIP_MANAGER]
            )
            page = chains.list_chains(s, staff, limit=200)
            largest = max(page.items, key=lambda summary: summary.member_count)
            line("largest chain", f"{largest.chain.name}: {largest.member_count} members")
            return {"chain": largest.chain.id, "firm": largest.core_ids[0]}
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("chainfin")
    return subprocess.Popen(  # noqa: S603 - a fixed command line built here
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=(VAR / "pages-server.log").open("ab"),
    )


# ---------------------------------------------------------------------------- server time


@dataclass
class Timing:
    statuses: set[int] = field(default_factory=set)
    ms: list[float] = field(default_factory=list)
    html_bytes: int = 0


def sign_in(http: httpx2.Client, username: str) -> None:
    r = http.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    if r.status_code >= 400 or not http.cookies:
        raise RuntimeError(f"signing in as {username} failed: {r.status_code}")


def time_pages(
    base: str, users: dict[str, str], ids: dict[str, str], samples: int
) -> dict[str, Timing]:
    out: dict[str, Timing] = {}
    with (
        httpx2.Client(base_url=base, timeout=60) as anonymous,
        httpx2.Client(base_url=base, timeout=60, follow_redirects=True) as supplier,
        httpx2.Client(base_url=base, timeout=60, follow_redirects=True) as core,
    ):
        sign_in(supplier, users["supplier"])
        sign_in(core, users["core"])
        clients: dict[str | None, httpx2.Client] = {
            None: anonymous,
            "supplier": supplier,
            "core": core,
        }
        for suffix in STAFF:
            clients[suffix] = httpx2.Client(base_url=base, timeout=60, follow_redirects=True)
            sign_in(clients[suffix], users[suffix])
        for name, template, who in PAGES:
            path = template.format(**ids)
            http = clients[who]
            timing = Timing()
            for i in range(WARMUP + samples):
                t0 = time.perf_counter()
                r = http.get(path)
                dt = (time.perf_counter() - t0) * 1000
                timing.statuses.add(r.status_code)
                timing.html_bytes = len(r.content)
                if i >= WARMUP:
                    timing.ms.append(dt)
            out[name] = timing
        for suffix in STAFF:
            clients[suffix].close()
    return out


# ---------------------------------------------------------------------------- weight


@dataclass
class Weight:
    html: int = 0
    assets: int = 0  # first visit, everything but the page itself
    warm: int = 0  # second visit, cache warm: everything transferred
    requests: int = 0
    warm_requests: int = 0
    warm_detail: list[tuple[int, str]] = field(default_factory=list)  # (bytes, path)
    drawn_ms: list[float] = field(default_factory=list)  # the chain map: first and warm visit


def drawn_ms(page: Any) -> float:
    """Milliseconds from the start of the page's navigation until its chart finished drawing
    (static/workbench.js writes ``data-finished-ms`` on ECharts' ``finished`` event)."""
    area = page.locator("[data-chart][data-finished-ms]").first
    area.wait_for(timeout=30_000)
    return float(area.get_attribute("data-finished-ms") or "nan")


def _transferred(requests: list[Any]) -> list[tuple[str, str, int]]:
    """(url, resource type, bytes over the wire) for each finished request; a request
    answered from the browser's cache transfers nothing."""
    out = []
    for request in requests:
        response = request.response()
        if response is None:
            continue
        if response.from_service_worker:
            size = 0
        else:
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        out.append((request.url, request.resource_type, max(size, 0)))
    return out


def weigh_pages(base: str, users: dict[str, str], ids: dict[str, str]) -> dict[str, Weight] | None:
    if not CHROMIUM.exists():
        return None
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    out: dict[str, Weight] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        for name, template, who in PAGES:
            path = template.format(**ids)
            context = browser.new_context(base_url=base, locale="zh-CN")
            page = context.new_page()
            if who is not None:
                page.goto("/")
                page.fill("input[name='username']", users[who])
                page.fill("input[name='password']", DEMO_PASSWORD)
                with page.expect_navigation():
                    page.locator("form:has(input[name='password']) [type='submit']").click()
            # signing in loaded the login page's assets: start the first visit cold
            context.new_cdp_session(page).send("Network.clearBrowserCache")
            weight = Weight()
            for visit in ("first", "warm"):
                seen: list[Any] = []

                def record(request: Any, seen: list[Any] = seen) -> None:
                    seen.append(request)

                page.on("requestfinished", record)
                page.goto(path, wait_until="networkidle")
                page.remove_listener("requestfinished", record)
                if name == "wb-chain-map":
                    weight.drawn_ms.append(drawn_ms(page))
                rows = _transferred(seen)
                if visit == "first":
                    weight.html = sum(b for _, kind, b in rows if kind == "document")
                    weight.assets = sum(b for _, kind, b in rows if kind != "document")
                    weight.requests = len(rows)
                else:
                    weight.warm = sum(b for _, _, b in rows)
                    weight.warm_requests = sum(1 for _, _, b in rows if b > 0)
                    weight.warm_detail = sorted(
                        ((b, url.removeprefix(base)) for url, _, b in rows if b > 0),
                        reverse=True,
                    )
            out[name] = weight
            context.close()
        browser.close()
    return out


# ---------------------------------------------------------------------------- report


def report(timings: dict[str, Timing], weights: dict[str, Weight] | None) -> None:
    print()
    print(
        f"{'page':<16} {'status':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  "
        f"{'HTML KB':>8} {'assets KB':>10} {'warm KB':>8}  p95<300ms  warm<300KB"
    )
    for name, _path, _who in PAGES:
        t = timings[name]
        p95 = percentile(t.ms, 95)
        statuses = ",".join(str(s) for s in sorted(t.statuses))
        w = weights.get(name) if weights else None
        html_kb = f"{w.html / 1024:.1f}" if w else f"{t.html_bytes / 1024:.1f}*"
        assets_kb = f"{w.assets / 1024:.1f}" if w else "-"
        warm_kb = f"{w.warm / 1024:.1f}" if w else "-"
        light = ("yes" if w.warm / 1024 < TARGET_KB else "NO") if w else "-"
        print(
            f"{name:<16} {statuses:>7} {percentile(t.ms, 50):>8.1f} {p95:>8.1f} "
            f"{max(t.ms):>8.1f}  {html_kb:>8} {assets_kb:>10} {warm_kb:>8}  "
            f"{'yes' if p95 < TARGET_P95_MS else 'NO':>9}  {light:>10}"
        )
    if weights is None:
        print(f"* HTML body only: {CHROMIUM} is missing, so no weights in a browser")
    else:
        print(
            "HTML KB and assets KB: a first visit (bytes transferred, headers included); "
            "warm KB: a second visit with the browser's cache warm"
        )
        for name, w in weights.items():
            if w.drawn_ms:
                first, warm = w.drawn_ms
                target = "yes" if max(first, warm) < TARGET_DRAWN_MS else "NO"
                print(
                    f"{name}: drawn in the browser {first:.0f} ms after navigation on the "
                    f"first visit, {warm:.0f} ms warm (under {TARGET_DRAWN_MS:.0f} ms: {target})"
                )
            if w.warm / 1024 >= TARGET_KB:
                heaviest = ", ".join(f"{path} {b / 1024:.0f} KB" for b, path in w.warm_detail[:3])
                print(f"{name} warm visit over {TARGET_KB:.0f} KB: {heaviest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="keep a seeded var/bench/pages.db")
    args = parser.parse_args()
    print("== bench/pages.py: the portal's pages ==", flush=True)
    users = seed(args.scale, args.reuse)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    try:
        wait_until_up(base, proc)
        line("signed in as", f"{users['supplier']} (the first supplier), {users['core']} (core)")
        ids = workbench_ids(users["rm"])
        timings = time_pages(base, users, ids, args.samples)
        weights = weigh_pages(base, users, ids)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report(timings, weights)


if __name__ == "__main__":
    main()
