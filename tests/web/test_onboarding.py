"""How a credential goes down the tiers, in the browser: a supplier passes part of a piece to
its own supplier, and a tier-2 supplier invites a firm that is not on the platform, which
registers through the link and accepts the piece offered to it. Each journey acts on pieces
of its own (world_onboarding.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from browsing import (
    AXE,
    BLOCKING,
    Portal,
    Watched,
    axe_scan,
    new_context,
    screenshot,
    signin,
    yuan,
)
from playwright.sync_api import Browser, Locator, Page, expect
from portal_world import NAMES, PASSWORD
from world_onboarding import (
    AT_TIER_2,
    NEW_ADMIN,
    NEW_FIRM,
    NEW_USCC,
    OFFER_KEPT,
    OFFERED,
    PASS_KEPT,
    PASSED,
    TO_PASS,
)

pytestmark = pytest.mark.browser


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def row(page: Page, amount: str) -> Locator:
    return page.get_by_role("main").get_by_role("row").filter(has_text=yuan(amount))


def open_inbox(page: Page, username: str) -> None:
    signin(page, username)
    page.get_by_role("navigation").get_by_role("link", name="债权凭证").click()
    expect(heading(page)).to_have_text("债权凭证")


@contextmanager
def another_person(browser: Browser, portal: Portal) -> Iterator[Page]:
    """A browser of their own (a fresh cookie jar), watched like the ``page`` fixture's."""
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


def axe_scan_shown(page: Page) -> None:
    """axe-core on the page as shown: the answer to a form, which a second GET of its
    address would not give back (the registration link is shown once)."""
    browser = page.context.browser
    assert browser is not None
    origin = "/".join(page.url.split("/", 3)[:3])
    scanner = browser.new_context(bypass_csp=True, locale="zh-CN", viewport=page.viewport_size)
    try:
        tab = scanner.new_page()
        tab.goto(origin + "/")
        tab.set_content(page.content())
        tab.add_script_tag(path=AXE)
        results = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        scanner.close()
    blocking = [v["id"] for v in results["violations"] if v.get("impact") in BLOCKING]
    assert not blocking, f"axe on the page shown at {page.url}: {blocking}"


def test_a_supplier_passes_part_of_a_piece_to_its_own_supplier(
    page: Page, browser: Browser, portal: Portal
) -> None:
    world = portal.world
    open_inbox(page, "supplier")
    row(page, TO_PASS).get_by_role("link", name="转让", exact=True).click()
    expect(heading(page)).to_have_text("转让凭证")
    page.wait_for_load_state("load")  # htmx (deferred) checks the amount as it is typed
    picker = page.get_by_label("供应商", exact=True)
    choices = picker.locator("option").all_inner_texts()
    assert f"{NAMES['t2']} ({world.usccs('t2')})" in choices
    assert not [c for c in choices if NAMES["core"] in c or NAMES["t3"] in c or NAMES["x"] in c]
    amount = page.get_by_label("转让金额（元）")
    feedback = page.locator("#amount-feedback")
    amount.fill("200000")
    expect(feedback).to_contain_text(f"超过凭证金额（{yuan(TO_PASS)}）")
    amount.fill("58000.001")
    expect(feedback).to_contain_text("最多两位小数")
    amount.fill("58,000")
    expect(feedback).to_contain_text(f"转让后剩余：{yuan(PASS_KEPT)}")
    picker.select_option(world.ids["t2"])
    screenshot(page, "pass-on")
    axe_scan(page)
    page.get_by_role("button", name="转让", exact=True).click()

    expect(heading(page)).to_have_text("债权凭证")
    main = page.get_by_role("main")
    expect(main.get_by_role("status")).to_contain_text(
        f"已向{NAMES['t2']}转让 {yuan(PASSED)}，待对方签收。"
    )
    expect(row(page, PASS_KEPT)).to_contain_text("持有中")
    sent = page.get_by_role("region", name="已转让，待对方签收").get_by_role("row")
    passed = sent.filter(has_text=yuan(PASSED))
    expect(passed).to_contain_text(NAMES["t2"])
    passed.get_by_role("link", name="流转记录").click()
    expect(heading(page)).to_have_text("凭证流转记录")
    child = page.get_by_role("main").get_by_role("listitem").filter(has_text=yuan(PASSED))
    expect(child).to_contain_text(NAMES["t2"])
    expect(child).to_contain_text("第 2 级")
    expect(child).to_contain_text("待对方签收")

    with another_person(browser, portal) as t2:
        open_inbox(t2, "supplier2")
        expect(row(t2, PASSED)).to_contain_text("待您签收")
        expect(row(t2, PASSED).get_by_role("button", name="签收")).to_be_visible()


def test_a_tier_2_supplier_invites_a_tier_3_firm_which_registers_and_accepts(
    page: Page, browser: Browser, portal: Portal
) -> None:
    world = portal.world
    ids = world.extra["onboarding"]
    open_inbox(page, "supplier2")
    page.get_by_role("link", name="邀请尚未入驻平台的供应商").click()
    expect(heading(page)).to_have_text("邀请供应商")
    page.wait_for_load_state("load")  # htmx (deferred) checks the amount as it is typed
    page.get_by_label("统一社会信用代码").fill(NEW_USCC)
    page.get_by_label("企业名称").fill(NEW_FIRM)
    page.get_by_label("联系人", exact=True).fill("钱立")
    page.get_by_label("联系人手机号").fill("139 1234 8765")
    page.get_by_label("供货品类").fill("铜箔")
    piece = page.get_by_label("转让的凭证")
    offered_piece = piece.locator(f"option[value='{ids['at_tier_2']}']")
    expect(offered_piece).to_contain_text(yuan(AT_TIER_2))
    piece.select_option(ids["at_tier_2"])
    page.get_by_label("转让金额（元）").fill("37000")
    expect(page.locator("#amount-feedback")).to_contain_text(f"转让后剩余：{yuan(OFFER_KEPT)}")
    screenshot(page, "invite")
    axe_scan(page)
    page.get_by_role("button", name="邀请并生成注册链接").click()

    expect(heading(page)).to_have_text("注册链接")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"已邀请{NEW_FIRM}。")
    expect(main).to_contain_text("平台不发送短信")
    expect(main).to_contain_text(f"{yuan(OFFERED)}，待对方签收")
    link = page.get_by_label("注册链接").input_value()
    assert link.startswith(f"{portal.url}/join/")
    screenshot(page, "invite-link")
    axe_scan_shown(page)
    page.get_by_role("link", name="返回邀请记录").click()
    invited = page.get_by_role("main").get_by_role("row").filter(has_text=NEW_FIRM)
    expect(invited).to_contain_text("待注册")
    expect(invited).to_contain_text("139****8765")
    expect(page.get_by_role("main")).not_to_contain_text(link)  # shown once

    with another_person(browser, portal) as newcomer:
        newcomer.goto(urlsplit(link).path)
        expect(heading(newcomer)).to_have_text("企业注册")
        expect(newcomer.get_by_role("main")).to_contain_text(f"{NAMES['t2']}邀请{NEW_FIRM}入驻")
        expect(newcomer.get_by_role("main")).to_contain_text(yuan(OFFERED))
        screenshot(newcomer, "join")
        axe_scan(newcomer)
        username, name = NEW_ADMIN
        uscc = newcomer.get_by_label("贵司的统一社会信用代码")
        uscc.fill(world.usccs("t3"))  # a valid code, but not the invited firm's
        newcomer.get_by_label("您的姓名").fill(name)
        newcomer.get_by_label("用户名").fill(username)
        newcomer.get_by_label("密码", exact=True).fill(PASSWORD)
        newcomer.get_by_label("确认密码").fill(PASSWORD)
        newcomer.get_by_role("button", name="注册", exact=True).click()
        expect(newcomer.locator("#uscc-error")).to_contain_text("这不是受邀企业的统一社会信用代码")
        expect(uscc).to_have_attribute("aria-invalid", "true")
        screenshot(newcomer, "join-refused")
        uscc.fill(NEW_USCC.lower())  # compared normalised
        newcomer.get_by_label("密码", exact=True).fill(PASSWORD)
        newcomer.get_by_label("确认密码").fill(PASSWORD)
        newcomer.get_by_role("button", name="注册", exact=True).click()

        expect(heading(newcomer)).to_have_text("企业注册成功")
        screenshot(newcomer, "join-done")
        axe_scan(newcomer)
        newcomer.get_by_label("用户名").fill(username)
        newcomer.get_by_label("密码").fill(PASSWORD)
        with newcomer.expect_navigation():
            newcomer.get_by_role("button", name="登录").click()
        expect(newcomer.locator("header.site")).to_contain_text(NEW_FIRM)
        newcomer.get_by_role("navigation").get_by_role("link", name="债权凭证").click()
        offer = row(newcomer, OFFERED)
        expect(offer).to_contain_text("待您签收")
        offer.get_by_role("button", name="签收").click()
        expect(offer).to_contain_text("持有中")
        expect(offer).to_contain_text("3")
        offer.get_by_role("link", name="流转记录").click()
        mine = newcomer.get_by_role("main").get_by_role("listitem")
        expect(mine.filter(has_text=NEW_FIRM)).to_contain_text("第 3 级")

    page.goto(f"/credentials/{ids['at_tier_2_credential']}")  # t2 knows its supplier
    items = page.get_by_role("main").get_by_role("listitem")
    expect(items.filter(has_text=NEW_FIRM)).to_contain_text("第 3 级")
    expect(items.filter(has_text=NEW_FIRM)).to_contain_text("持有中")
    with another_person(browser, portal) as t1:  # t1 sees the three tiers, not who is at 3
        signin(t1, "supplier")
        t1.goto(f"/credentials/{ids['at_tier_2_credential']}")
        items = t1.get_by_role("main").get_by_role("listitem")
        expect(items.filter(has_text=NAMES["t1"])).to_contain_text("第 1 级")
        expect(items.filter(has_text=NAMES["t2"]).first).to_contain_text("第 2 级")
        tier_3 = items.filter(has_text="第 3 级")
        expect(tier_3).to_contain_text("下级供应商")
        expect(tier_3).to_contain_text(yuan(OFFERED))
        expect(t1.get_by_role("main")).not_to_contain_text("ent_")


def test_the_invitation_page_in_english(page: Page) -> None:
    signin(page, "supplier2")
    page.goto("/suppliers/invite?lang=en")
    expect(heading(page)).to_have_text("Invite a supplier")
    expect(page.get_by_label("Unified social credit code (USCC)")).to_be_editable()
    expect(page.get_by_role("button", name="Invite and make the link")).to_be_visible()
    screenshot(page, "invite")
    axe_scan(page)
