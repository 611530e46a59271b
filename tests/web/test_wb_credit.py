"""The credit desk (/credit): the queue a credit officer may sign, the relationship
manager's applications in progress, the maker's and the checker's steps on one application
(the line's reservation moves), a decline with its reason, and a checker refused while due
diligence is open. Each journey acts on its own application (world_wb_credit.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from browsing import Portal, axe_scan, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES
from world_wb_credit import APPROVE, CHECKED, DECLINE

pytestmark = pytest.mark.browser


def ids(portal: Portal) -> dict[str, str]:
    result: dict[str, str] = portal.world.extra["wb_credit"]
    return result


def open_desk(page: Page, username: str) -> None:
    signin(page, username)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="融资申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("授信审批")


def row(page: Page, amount: str) -> Locator:
    return page.get_by_role("main").get_by_role("row").filter(has_text=yuan(amount))


def figure(page: Page, element_id: str) -> Decimal:
    text = page.locator(f"#{element_id}").inner_text()
    return Decimal(re.sub(r"[^\d.]", "", text))


def sign(page: Page, decision: str, memo: str, conditions: str = "") -> None:
    form = page.get_by_role("main").locator("form[action$='/review']")
    form.get_by_role("radio", name=decision, exact=True).check()
    form.get_by_label("审查意见（拒绝时请写明理由）").fill(memo)
    if conditions:
        form.get_by_label("审批条件，每行一项（附条件同意时填写）").fill(conditions)
    form.get_by_role("button").click()


def test_the_queue_shows_what_i_may_sign_and_everything_in_progress(page: Page) -> None:
    open_desk(page, "bka-ck1")
    mine = page.get_by_role("main")
    expect(mine.get_by_role("heading", name=re.compile("待您办理"))).to_be_visible()
    expect(row(page, APPROVE)).to_contain_text(NAMES["t1"])
    expect(row(page, APPROVE)).to_contain_text("经办审查")
    expect(row(page, DECLINE)).to_have_count(1)
    expect(row(page, CHECKED)).to_have_count(0)  # waits for a checker of level 3
    screenshot(page, "wb-credit-queue")
    axe_scan(page)
    page.get_by_role("navigation", name="申请视图").get_by_role("link", name="全部在办").click()
    waiting = row(page, CHECKED)
    expect(waiting).to_contain_text("复核审批")
    expect(waiting).to_contain_text("3级")
    expect(waiting).to_contain_text("实地调查")
    page.goto("/credit?view=all&lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit applications")
    expect(row(page, CHECKED)).to_contain_text("Checker's decision")
    screenshot(page, "wb-credit-in-progress")
    axe_scan(page)


def test_the_checker_of_level_3_sees_it_and_due_diligence_holds_it(page: Page) -> None:
    open_desk(page, "bka-ck3")
    waiting = row(page, CHECKED)
    expect(waiting).to_contain_text("复核审批")
    waiting.get_by_role("link", name=re.compile("的申请")).click()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAMES["t1"])
    rules = main.get_by_role("table", name="各规则结论")
    expect(rules.get_by_role("row").filter(has_text="金额在自动审批限额内")).to_contain_text(
        "转人工审查"
    )
    expect(rules.get_by_role("row").filter(has_text="申请人有授信额度")).to_contain_text("通过")
    expect(main.get_by_role("table", name="尽职调查任务")).to_contain_text("待办")
    expect(main.get_by_role("table", name="谁在何时作出了何种决定")).to_contain_text(
        "经办人建议同意"
    )
    screenshot(page, "wb-credit-application")
    axe_scan(page)
    sign(page, "同意", "同意放款")
    expect(main.get_by_role("alert")).to_contain_text("尽职调查尚未完成")
    page.reload()
    expect(main.locator(".app-referred")).to_have_text("审查中")


def used_on_the_risk_dashboard(page: Page) -> Decimal:
    """The bank's limits used, as the risk officer's dashboard shows them."""
    page.context.clear_cookies()
    signin(page, "bka-risk")
    page.goto("/risk")
    used = figure(page, "kpi-used")
    page.context.clear_cookies()
    return used


def test_maker_then_checker_approve_and_the_line_is_reserved(page: Page, portal: Portal) -> None:
    used_before = used_on_the_risk_dashboard(page)
    open_desk(page, "bka-ck1")
    row(page, APPROVE).get_by_role("link", name=re.compile("的申请")).click()
    main = page.get_by_role("main")
    reserved_before = figure(page, "line-reserved")
    expect(main.locator("#hold")).to_have_text(yuan(APPROVE))
    sign(page, "同意", "应收账款经核心企业确权，建议同意")
    expect(main.get_by_role("status")).to_contain_text("您的经办意见已记录")
    history = main.get_by_role("table", name="谁在何时作出了何种决定")
    expect(history).to_contain_text("经办人建议同意")
    page.context.clear_cookies()
    open_desk(page, "bka-ck3")
    row(page, APPROVE).get_by_role("link", name=re.compile("的申请")).click()
    sign(page, "附条件同意", "同意", "放款前取得核心企业付款确认书")
    expect(main.get_by_role("status")).to_contain_text("申请已批准")
    page.reload()
    expect(main.locator(".app-approved")).to_have_text("已批准")
    expect(history).to_contain_text("经办人建议同意")
    expect(history).to_contain_text("复核人批准")
    expect(history).to_contain_text("ck1")
    expect(history).to_contain_text("ck3")
    expect(main.locator("#hold")).to_contain_text("已预占")
    assert figure(page, "line-reserved") == reserved_before + Decimal(APPROVE)
    expect(main.get_by_role("region", name="审批条件")).to_contain_text(
        "放款前取得核心企业付款确认书"
    )
    screenshot(page, "wb-credit-approved")
    axe_scan(page)
    # the approval reserved the line: the risk officer's dashboard counts it as used
    assert used_on_the_risk_dashboard(page) == used_before + Decimal(APPROVE)


def test_a_decline_with_its_reason(page: Page) -> None:
    open_desk(page, "bka-ck3")
    row(page, DECLINE).get_by_role("link", name=re.compile("的申请")).click()
    main = page.get_by_role("main")
    sign(page, "拒绝", "")
    expect(main.get_by_role("alert").first).to_contain_text("请填写审查意见")
    sign(page, "拒绝", "经营流水不足以支持融资规模")
    expect(main.get_by_role("status")).to_contain_text("申请已拒绝")
    expect(main.locator(".app-declined")).to_have_text("已拒绝")
    history = main.get_by_role("table", name="谁在何时作出了何种决定")
    expect(history).to_contain_text("经营流水不足以支持融资规模")
    expect(history).to_contain_text("经办人拒绝")
    page.goto("/credit?view=all")
    expect(row(page, DECLINE)).to_have_count(0)
