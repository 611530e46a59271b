"""The core enterprise's treasury desk (/treasury): confirming invoices as the buyer, 确权,
issuing a credential within a programme with the limit and the payment date shown as the
form is filled, the issued book, and the payment run. Each journey acts on objects of its
own (world_treasury.py), so they run in any order."""

from __future__ import annotations

import re
from datetime import date

import pytest
from browsing import axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES
from world_treasury import (
    CASE_ORDER,
    DUE_FACE,
    LONG_PROGRAMME,
    PAGED,
    PROGRAMME,
    SPLIT_FACE,
    SPLIT_TO_T2,
    TO_CONFIRM_ONE,
    TO_CONFIRM_TWO,
)

from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser

PAYABLE = "1180000.00"  # confirmed on the invoice of TO_PAYABLE (less than it evidences)
OVER_LIMIT = "1100000.00"  # the programme's line is 1,000,000.00
ISSUED = "600000.00"
WEEKEND = date(2026, 12, 5)  # a Saturday of 2026, whose official calendar is published
MONDAY_AFTER = date(2026, 12, 7)
UNPUBLISHED = date(2027, 2, 6)  # a Saturday of 2027, in the Spring Festival break


def open_desk(page: Page, section: str | None = None) -> None:
    signin(page, "core")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="资金管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("资金管理")
    if section is not None:
        desk = page.get_by_role("navigation", name="资金管理页面")
        desk.get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)


def rows(page: Page, amount: str) -> Locator:
    return page.get_by_role("main").get_by_role("row").filter(has_text=yuan(amount))


def results(page: Page) -> Locator:
    return page.get_by_role("region", name="处理结果").get_by_role("listitem")


def test_the_treasury_overview_in_chinese_and_english(page: Page) -> None:
    open_desk(page)
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="待确认发票")).to_be_visible()
    expect(main.get_by_role("heading", name="兑付清单")).to_be_visible()
    programmes = main.get_by_role("region", name="凭证计划")
    expect(programmes.get_by_role("row").filter(has_text=PROGRAMME)).to_contain_text(
        yuan("1000000.00")
    )
    screenshot(page, "treasury")
    axe_scan(page)
    page.goto("/treasury?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Treasury")
    expect(page.get_by_role("main").get_by_role("heading", name="Payment run")).to_be_visible()
    screenshot(page, "treasury")
    axe_scan(page)


def test_the_core_confirms_one_invoice_then_two_at_once(page: Page) -> None:
    open_desk(page, "待确认发票")
    one = rows(page, TO_CONFIRM_ONE)
    expect(one).to_contain_text("INV-TR-1")
    expect(one).to_contain_text(NAMES["t1"])
    one.get_by_role("button", name="确认 INV-TR-1").click()
    expect(results(page)).to_have_count(1)
    expect(results(page)).to_contain_text("INV-TR-1")
    expect(results(page)).to_contain_text("已确认")
    expect(rows(page, TO_CONFIRM_ONE)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/treasury/confirmations\?result="))  # reloads read
    screenshot(page, "treasury-confirmations")
    axe_scan(page)
    for amount, number in zip(TO_CONFIRM_TWO, ("INV-TR-2", "INV-TR-3"), strict=True):
        rows(page, amount).get_by_role("checkbox", name=f"选择 {number}").check()
    page.get_by_role("button", name="确认所选单据").click()
    expect(results(page)).to_have_count(2)
    for amount, number in zip(TO_CONFIRM_TWO, ("INV-TR-2", "INV-TR-3"), strict=True):
        done = results(page).filter(has_text=number)
        expect(done).to_contain_text("已确认")
        expect(done).to_contain_text(yuan(amount))
        expect(rows(page, amount)).to_have_count(0)


def test_the_core_finds_the_newest_invoices_by_search_and_by_page(page: Page) -> None:
    open_desk(page, "待确认发票")
    listed = page.get_by_role("main").get_by_role("row").filter(has_text="INV-TRP-")
    expect(listed.first).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(PAGED[0])  # the oldest: a page on
    search = page.get_by_role("search", name="搜索待确认单据")
    search.get_by_label("单据编号或供应商").fill("inv-trp-05")
    search.get_by_role("button", name="搜索").click()
    found = page.get_by_role("main").get_by_role("row").filter(has_text="INV-TRP-")
    expect(found).to_have_count(6)  # 050 to 055, the newest first
    expect(found.first).to_contain_text(PAGED[-1])
    expect(found.last).to_contain_text("INV-TRP-050")
    expect(page.get_by_role("status").filter(has_text="匹配")).to_contain_text("共 6 份单据")
    screenshot(page, "treasury-confirmations-search")
    axe_scan(page)
    search.get_by_role("link", name="显示全部").click()
    pages = page.get_by_role("navigation", name="待确认单据分页")
    pages.get_by_role("link", name="下一页").click()
    expect(page.get_by_role("main").get_by_role("row").filter(has_text=PAGED[0])).to_have_count(1)
    expect(pages.get_by_role("link", name="第一页")).to_be_visible()


def test_the_core_reads_a_trade_case_by_its_supplier_and_order(page: Page) -> None:
    open_desk(page, "确权")
    case = page.get_by_label("已匹配的贸易").locator("option").filter(has_text=CASE_ORDER)
    expect(case).to_have_count(1)
    expect(case).to_have_text(
        f"{NAMES['t1']} · 采购订单 {CASE_ORDER} · {yuan('1130.00')} · 开票日期 2026年11月6日"
    )
    screenshot(page, "treasury-payables")  # long numbers and options fit a phone
    axe_scan(page)


def test_the_core_confirms_a_payable_and_issues_a_credential_within_the_programme(
    page: Page,
) -> None:
    open_desk(page, "确权")
    form = page.get_by_role("region", name="应付账款确权")
    form.get_by_role("checkbox", name="INV-TR-4").check()
    form.get_by_label("确权金额（元）").fill(PAYABLE)
    form.get_by_label("付款到期日").fill("2027-02-18")
    form.get_by_role("button", name="确权", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("确权成功")
    confirmed = rows(page, PAYABLE)
    expect(confirmed).to_contain_text(NAMES["t1"])
    expect(confirmed.get_by_role("cell").nth(4)).to_have_text(yuan(PAYABLE))  # all remaining
    confirmed.get_by_role("link", name="开立凭证").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("开立凭证")
    page.wait_for_load_state()  # htmx (deferred) watches the form from here on
    form = page.get_by_role("region", name="凭证信息")
    preview = page.locator("#issue-preview")
    expect(form.get_by_label("凭证计划").locator("option", has_text=LONG_PROGRAMME)).to_have_count(
        1
    )
    form.get_by_label("凭证计划").select_option(label=PROGRAMME)
    expect(form.get_by_role("checkbox", name=yuan(PAYABLE))).to_be_checked()
    expect(preview.locator("[data-figure=available]")).to_have_text(yuan("1000000.00"))
    form.get_by_label("凭证金额（元）").fill(OVER_LIMIT)
    expect(preview.locator("[data-figure=amount]")).to_have_text(yuan(OVER_LIMIT))
    live = page.locator("#amount-error")  # the amount is checked against the limit as typed
    expect(live).to_have_text(f"该金额超出可用额度{yuan('100000.00')}。")
    expect(preview).to_contain_text(NAMES["t1"])  # the first holder
    form.get_by_label("到期日").fill(WEEKEND.isoformat())
    expect(preview.locator("[data-figure=payment]")).to_have_text(chinese_date(MONDAY_AFTER))
    expect(preview).to_contain_text("非工作日")
    form.get_by_role("button", name="开立凭证").click()
    amount = page.get_by_label("凭证金额（元）")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#amount-error")).to_have_text("金额超过凭证计划的可用额度。")
    expect(amount).to_have_value(OVER_LIMIT)  # what was typed stays
    page.wait_for_load_state()

    amount.fill(ISSUED)
    preview = page.locator("#issue-preview")
    expect(preview.locator("[data-figure=after]")).to_have_text(yuan("400000.00"))
    expect(page.locator("#amount-error")).to_be_empty()
    page.get_by_label("到期日").fill(UNPUBLISHED.isoformat())
    expect(preview.locator("[data-figure=payment]")).to_contain_text("（暂定）")
    expect(preview).to_contain_text("2027年的法定节假日安排尚未公布")
    screenshot(page, "treasury-issue")
    axe_scan(page)
    page.get_by_role("button", name="开立凭证").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("已开立凭证")
    expect(page.get_by_role("status")).to_contain_text(yuan(ISSUED))
    issued = rows(page, ISSUED).filter(has_text=chinese_date(UNPUBLISHED))
    expect(issued).to_have_count(1)
    expect(issued).to_contain_text("待签收")
    expect(issued).to_contain_text(NAMES["t1"])
    expect(issued).to_contain_text("（兑付日暂定）")


def test_the_core_reads_who_holds_what_in_the_issued_book(page: Page) -> None:
    open_desk(page, "已开立凭证")
    split = rows(page, SPLIT_FACE)
    holders = split.get_by_role("listitem")
    expect(holders).to_have_count(2)
    expect(holders.nth(0)).to_contain_text(NAMES["t1"])
    expect(holders.nth(0)).to_contain_text(yuan("310000.00"))
    expect(holders.nth(0)).to_contain_text("第 1 级")
    expect(holders.nth(1)).to_contain_text(NAMES["t2"])
    expect(holders.nth(1)).to_contain_text(yuan(SPLIT_TO_T2))
    expect(holders.nth(1)).to_contain_text("第 2 级")
    expect(split).to_contain_text("生效中")
    screenshot(page, "treasury-issued")
    axe_scan(page)
    split.get_by_role("link", name="流转记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("凭证流转记录")
    expect(page.get_by_role("main")).to_contain_text(yuan(SPLIT_TO_T2))


def test_the_core_settles_a_credential_due_today_in_the_payment_run(page: Page) -> None:
    open_desk(page, "到期日历")
    run = page.get_by_role("region", name=f"兑付清单：截至{chinese_date(WORLD_DAY)}到期")
    due = run.get_by_role("row").filter(has_text=yuan(DUE_FACE))
    expect(due).to_contain_text(chinese_date(WORLD_DAY))
    expect(due.get_by_role("cell").nth(1)).to_have_text(re.compile(f"{NAMES['t1']} · "))
    coming = page.get_by_role("region", name="即将到期")
    expect(coming.get_by_role("heading", name="2027年3月")).to_be_visible()
    later = coming.get_by_role("row").filter(has_text=yuan(SPLIT_FACE))
    expect(later).to_contain_text("2027年3月18日")
    holders = later.get_by_role("listitem")  # whom the payment goes to, not the first holder
    expect(holders).to_have_count(2)
    expect(holders.nth(0)).to_contain_text(f"{NAMES['t1']} · {yuan('310000.00')}")
    expect(holders.nth(1)).to_contain_text(f"{NAMES['t2']} · {yuan(SPLIT_TO_T2)}")
    screenshot(page, "treasury-calendar")
    axe_scan(page)
    due.get_by_role("button", name="兑付").click()
    done = results(page).filter(has_text=NAMES["t1"])
    expect(done).to_contain_text("已兑付")
    expect(done).to_contain_text(yuan(DUE_FACE))
    run = page.get_by_role("region", name=f"兑付清单：截至{chinese_date(WORLD_DAY)}到期")
    expect(run.get_by_role("row").filter(has_text=yuan(DUE_FACE))).to_have_count(0)
    axe_scan(page)
    page.get_by_role("navigation", name="资金管理页面").get_by_role(
        "link", name="已开立凭证"
    ).click()
    expect(rows(page, DUE_FACE)).to_contain_text("已兑付")
