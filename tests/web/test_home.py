"""Journeys anyone takes first: the login page, signing in as the supplier, the home page
in Chinese and in English, and the API docs on an intranet with no internet."""

from __future__ import annotations

import re

import pytest
from browsing import HAN, Portal, axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Page, expect
from portal_world import ALERT_MESSAGE, MATURITY, NAMES, OFFERED_SHOWN

pytestmark = pytest.mark.browser

IDS = re.compile(r"\b(?:usr|ent|staff|enterprise_user)[:_][0-9A-Za-z]")  # an id, not a name


def test_the_login_page_is_chinese_and_accessible(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    username = page.locator("input[name='username']")
    expect(username).to_be_visible()
    expect(username).to_have_accessible_name(HAN)  # labelled, in Chinese
    expect(page.locator("input[name='password']")).to_have_accessible_name(HAN)
    expect(page.get_by_role("button", name=HAN)).to_be_visible()  # the submit, in Chinese
    screenshot(page, "login")
    axe_scan(page)


def test_the_supplier_signs_in_and_sees_its_name_in_chinese(page: Page) -> None:
    signin(page, "supplier")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    header = page.get_by_role("banner")
    expect(header).to_contain_text(NAMES["t1"])
    expect(header).not_to_contain_text(IDS)
    expect(page.get_by_role("button", name=HAN).first).to_be_visible()


@pytest.mark.parametrize(
    ("username", "firm", "shot"),
    [
        ("core", NAMES["core"], "home-core"),
        ("dealer", NAMES["x"], "home-dealer"),
        ("bka-rm", NAMES["bank A"], "home-bank"),
    ],
)
def test_every_kind_of_user_sees_its_own_firm_by_name(
    page: Page, username: str, firm: str, shot: str
) -> None:
    signin(page, username)
    header = page.get_by_role("banner")
    expect(header).to_contain_text(firm)
    expect(header).not_to_contain_text(IDS)
    expect(page.get_by_role("main").get_by_role("heading").first).to_be_visible()
    screenshot(page, shot)
    axe_scan(page)


def test_the_home_page_lists_the_credential_offered_to_the_supplier(page: Page) -> None:
    signin(page, "supplier")
    main = page.get_by_role("main")
    expect(main).to_contain_text(yuan(OFFERED_SHOWN))
    expect(main).to_contain_text(chinese_date(MATURITY))
    expect(main).to_contain_text(NAMES["core"])  # who offers it, by name
    expect(main).to_contain_text(ALERT_MESSAGE)  # what needs the supplier now
    screenshot(page, "home")
    axe_scan(page)


def test_the_supplier_switches_to_english(page: Page) -> None:
    signin(page, "supplier")
    page.goto("/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("banner")).to_contain_text(NAMES["t1"])  # names stay as they are
    headings = page.get_by_role("heading").all_inner_texts()
    assert headings
    for text in headings:
        for name in NAMES.values():
            text = text.replace(name, "")
        assert not HAN.search(text), f"heading {text!r} is not in English"
    expect(page.get_by_role("main")).to_contain_text(yuan(OFFERED_SHOWN))
    screenshot(page, "home")
    page.goto("/")  # the choice sticks until changed
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/?lang=zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_the_api_docs_load_without_the_internet(page: Page, portal: Portal) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    expect(page).to_have_title(re.compile("Swagger UI"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("chainfin")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()  # the spec loaded
    outside = [url for url in requested if not url.startswith(portal.url + "/")]
    assert not outside, f"/docs asked for things off the server: {outside}"
    screenshot(page, "docs", full_page=False)  # the first screen: the whole is 11,000 px


def test_the_supplier_sees_a_banks_refused_request_and_its_latest_notifications(
    page: Page,
) -> None:
    """What needs me now, from the ledger's events and the access log: BKB was refused the
    supplier's financial statements (portal_world.py), and the core's issues notified it."""
    signin(page, "supplier")
    now = page.get_by_role("region", name="待办事项")
    asked = now.get_by_role("listitem").filter(has_text=NAMES["bank B"])
    expect(asked).to_contain_text("财务报表")
    expect(asked).to_contain_text("授信评估")
    expect(asked).to_contain_text("被拒绝")
    grant = asked.get_by_role("link", name=f"向{NAMES['bank B']}授权")
    expect(grant).to_have_attribute("href", re.compile(r"^/consents\?bank_code=BKB&"))
    # the latest unread notifications, each a sentence with its counterparty named and a
    # way to the object (which ones depends on what the other journeys' worlds did last)
    latest = now.get_by_role("listitem").filter(has=page.get_by_role("button", name="查看"))
    expect(latest.first).to_contain_text(HAN)
    expect(latest.first).to_contain_text("¥")
    expect(now.get_by_role("link", name=re.compile(r"^全部通知（\d+ 条未读）$"))).to_be_visible()
    axe_scan(page)
    grant.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据授权")
