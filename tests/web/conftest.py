"""Browser tests: a real ``chainfin serve`` on a free port over a temporary SQLite database
seeded with the portal world (portal_world.py), driven by Debian's Chromium through
Playwright. One server and one browser per test process (pytest-xdist workers each have
their own); a fresh browser context, so a fresh cookie jar, per test.

Playwright never downloads a browser here: it launches /usr/bin/chromium. Without it the
browser tests skip with the reason printed by ``-ra``, except in CI (``CI=true``), where a
missing browser is a failure (.ci/run installs it). What tests do with pages (sign in,
screenshots, the axe scan) is in browsing.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from browsing import CHROMIUM, MISSING_BROWSER, Portal, Watched, new_context
from playwright.sync_api import Browser, Page, sync_playwright
from portal_world import build_portal

from chainfin.adapters.db import migrate
from chainfin.adapters.db.engine import make_engine, make_session_factory
from chainfin.domain import clock
from chainfin.services import auth
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_NOW

STARTUP = 60.0  # seconds the server may take to answer /readyz (a bound, not a measurement)
SERVER_LEAD = timedelta(minutes=5)  # the server's clock starts this far after the world's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while True:
        assert proc.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the server is not ready:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """``chainfin serve`` in its own process over a database of its own (not the suite's
    shared test database, which other tests empty), on the test worlds' day. The server
    starts (its imports take seconds) while the world is built on a clock pinned to
    WORLD_NOW; the server's clock starts SERVER_LEAD later, after anything the world wrote.
    Writers queue on SQLite's lock (BEGIN IMMEDIATE, busy_timeout)."""
    here = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{here / 'portal.db'}"
    migrate.upgrade(url)
    env = {
        **os.environ,
        "CHAINFIN_ENV": "development",
        "CHAINFIN_DATABASE_URL": url,
        "CHAINFIN_DATA_KEYS": TEST_DATA_KEYS,
        "CHAINFIN_VAR_DIR": str(here / "var"),
        "CHAINFIN_RATE_LIMIT_STORAGE": "memory://",
        clock.ENV_VAR: (WORLD_NOW + SERVER_LEAD).isoformat(),
    }
    port = _free_port()
    log = here / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainfin.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        engine = make_engine(url)
        try:
            with (
                pytest.MonkeyPatch.context() as patch,
                clock.using(clock.FixedClock(WORLD_NOW)) as fixed,
            ):
                # the users' passwords hashed at argon2's cheapest (as tests/conftest.py
                # does); the server verifies each hash with the parameters written in it
                patch.setattr(auth, "_hasher", PasswordHasher.from_parameters(CHEAPEST))
                world = build_portal(make_session_factory(engine))
                assert fixed.now() < WORLD_NOW + SERVER_LEAD, "the world took too long"
        finally:
            engine.dispose()
        _wait_ready(proc, base, log)
        yield Portal(base, world, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{MISSING_BROWSER} (CI=true: a missing browser is a failure)")
        pytest.skip(MISSING_BROWSER)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, portal: Portal) -> Iterator[Page]:
    """A fresh context and tab; the test fails if the page threw, broke its own CSP or
    asked for anything off the server."""
    watched = Watched()
    context = new_context(browser, portal, refused=watched.off_server)
    tab = context.new_page()
    tab.on("console", watched.console)
    tab.on("pageerror", watched.page_error)
    try:
        yield tab
    finally:
        context.close()
    assert not watched.problems, "\n".join(watched.problems)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed browser test shows the end of the server's log (a 500's traceback)."""
    report = yield
    portal = getattr(item, "funcargs", {}).get("portal")
    if report.failed and isinstance(portal, Portal):
        report.sections.append(("chainfin serve log (end)", portal.log_tail()))
    return report
