"""What the browser tests do with a page: sign in through the form, take screenshots at
desktop and phone widths, scan with axe-core; and the browser context a person in China
has. The fixtures that start the server and the browser are in conftest.py."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal_world import PASSWORD, PortalWorld

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never fetch a browser

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
MISSING_BROWSER = "Debian chromium not installed: apt-get install chromium fonts-noto-cjk"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000  # for any one wait in a page (a bound, not a measurement)
BLOCKING = ("serious", "critical")  # axe impacts that fail a test
HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character

expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Portal:
    """The running server and the world it serves."""

    url: str
    world: PortalWorld
    log: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@dataclass
class Watched:
    """What went wrong in a page that a person would notice, or a developer would see in
    the console: uncaught script errors and anything the Content-Security-Policy refused."""

    problems: list[str] = field(default_factory=list)

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.problems.append(f"CSP: {msg.text}")

    def page_error(self, error: Exception) -> None:
        self.problems.append(f"script error: {error}")

    def off_server(self, url: str) -> None:
        self.problems.append(f"asked for {url}, which is not on the server (refused)")


def _local_only(base: str, refused: Callable[[str], None] | None) -> Any:
    def handle(route: Route, request: Request) -> None:
        url = request.url
        if url == base or url.startswith((base + "/", "data:", "blob:")):
            route.continue_()
        else:  # the platform runs on a bank's intranet: nothing may come from outside
            if refused is not None:
                refused(url)
            route.abort("blockedbyclient")

    return handle


def new_context(
    browser: Browser,
    portal: Portal,
    *,
    refused: Callable[[str], None] | None = None,
    **options: Any,
) -> BrowserContext:
    """A context as a person in China has one: Chinese first, Beijing time, a desktop
    window. Requests for anything not on the test server are refused (and reported to
    ``refused``), so a page that needs the internet fails its test instead of reaching
    out."""
    context = browser.new_context(
        base_url=portal.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=DESKTOP,
        **options,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", _local_only(portal.url, refused))
    return context


def yuan(amount: str) -> str:
    """An amount as the pages write it: ¥1,234,567.89."""
    return f"¥{Decimal(amount):,.2f}"


def chinese_date(day: date) -> str:
    """A date as the Chinese pages write it: 2026年12月7日."""
    return f"{day.year}年{day.month}月{day.day}日"


def signin(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person does, and land on the home page."""
    page.goto("/")
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("[type='submit']").click()
    expect(page.locator("input[name='password'][type='password']")).to_have_count(0)


OFF_SCREEN_CONTROLS = """() => {
  const controls = "a[href], button, input:not([type=hidden]), select, textarea";
  return [...document.querySelectorAll(controls)]
    .filter((el) => el.getClientRects().length > 0)
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map((el) => el.outerHTML.replace(/\\s+/g, " ").slice(0, 140));
}"""
"""Links, buttons and fields that stick out to the right of the window, wholly or partly
(inside a scrolling table, say). A skip link parked off the left edge is not one."""


def screenshot(
    page: Page, name: str, *, full_page: bool = True, phone_check: bool = True
) -> list[Path]:
    """Write the page (whole, or its first screen) at desktop and phone widths to
    var/screenshots/<name>-<lang>-<width>.png and return the paths. On the phone the page
    must not scroll sideways, and every link, button and field must be within the screen:
    what a person cannot see there they cannot use (``phone_check=False`` for a page that
    is not ours, such as Swagger UI)."""
    lang = page.locator("html").get_attribute("lang") or "none"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size or DESKTOP
    written = []
    try:
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            path = SCREENSHOTS / f"{name}-{lang}-{size['width']}.png"
            page.screenshot(path=path, full_page=full_page, animations="disabled")
            written.append(path)
            if size is PHONE and phone_check:
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 1, (
                    f"{name} ({lang}) is {overflow}px wider than a {size['width']}px phone "
                    f"screen: see {path.relative_to(ROOT)}"
                )
                beyond = page.evaluate(OFF_SCREEN_CONTROLS)
                assert not beyond, (
                    f"{name} ({lang}): on a {size['width']}px phone these controls are cut "
                    f"off on the right (scroll sideways to reach them), see "
                    f"{path.relative_to(ROOT)}:\n" + "\n".join(beyond)
                )
    finally:
        page.set_viewport_size({"width": before["width"], "height": before["height"]})
    return written


def axe_scan(page: Page) -> None:
    """Run axe-core on the page at its address and fail on any serious or critical
    violation, naming the rule, its impact and the nodes. The pages' Content-Security-Policy
    allows only their own scripts, so axe goes in through a second context that bypasses
    it (with the first one's cookies, so the same user and language): the test's own
    context keeps the policy a person's browser enforces."""
    browser = page.context.browser
    assert browser is not None
    origin = "/".join(page.url.split("/", 3)[:3])
    scanner = browser.new_context(
        base_url=origin,
        bypass_csp=True,
        storage_state=page.context.storage_state(),
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=page.viewport_size or DESKTOP,
    )
    try:
        tab = scanner.new_page()
        tab.goto(page.url)
        tab.add_script_tag(path=AXE)
        results = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        scanner.close()
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING]
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(_describe(v) for v in blocking)


def _describe(violation: dict[str, Any]) -> str:
    nodes = "\n".join(
        f"    {json.dumps(node['target'], ensure_ascii=False)}: "
        + (node.get("failureSummary") or "").replace("\n", " ")
        for node in violation["nodes"][:10]
    )
    more = len(violation["nodes"]) - 10
    tail = f"\n    … and {more} more" if more > 0 else ""
    return f"  {violation['id']} ({violation['impact']}): {violation['help']}\n{nodes}{tail}"
