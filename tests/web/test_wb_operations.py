"""The bank's operations desk (/operations): a limit changed by maker-checker (吴刚 proposes,
冯雪 approves), the products and their authority ladders, a loan paid out in a pain.001
file that is downloaded and parsed, the bank's camt.053 that shows it left imported and
its unmatched credit applied by hand, and the books' trial balance. Each journey acts on
the desk's own objects (world_wb_operations.py), so they run in any order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browsing import axe_scan, screenshot, signin, yuan
from lxml import etree
from playwright.sync_api import Page, expect
from portal_world import NAMES
from world_wb_operations import (
    ADMIN2,
    LINE_LIMIT,
    LOAN_AMOUNT,
    NEW_LIMIT,
    OB_NAME,
    PENDING_SUBLIMIT,
    camt053,
)

from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser

GIFT = "6688.00"  # a credit on the statement that names no loan


def open_desk(page: Page, username: str, section: str | None = None) -> None:
    signin(page, username)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="运营管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("运营管理")
    if section is not None:
        desk = page.get_by_role("navigation", name="运营管理页面")
        desk.get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)


def my_line(page: Page) -> None:
    row = page.get_by_role("main").get_by_role("row").filter(has_text=yuan(LINE_LIMIT))
    row = row.or_(page.get_by_role("main").get_by_role("row").filter(has_text=yuan(NEW_LIMIT)))
    row.first.get_by_role("link", name=NAMES["core"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{NAMES['core']}的授信额度")


def test_the_overview_in_chinese_and_english(page: Page) -> None:
    open_desk(page, "bka-admin")
    main = page.get_by_role("main")
    expect(main.get_by_text("待审批的变更")).to_be_visible()
    expect(main.get_by_text("待放款贷款")).to_be_visible()
    # an administrator does not read the books (books:read): no link, and a precise refusal
    desk = page.get_by_role("navigation", name="运营管理页面")
    expect(desk.get_by_role("link", name="账务")).to_have_count(0)
    screenshot(page, "wb-operations")
    axe_scan(page)
    page.goto("/operations?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Operations")
    expect(page.get_by_role("main").get_by_text("Changes awaiting approval")).to_be_visible()
    screenshot(page, "wb-operations")
    axe_scan(page)
    page.goto("/operations/books?lang=zh-CN")
    expect(page.get_by_role("alert")).to_contain_text("books:read")


def test_a_limit_change_is_proposed_by_one_admin_and_approved_by_another(page: Page) -> None:
    open_desk(page, "bka-admin", "授信额度")
    screenshot(page, "wb-operations-lines")
    axe_scan(page)
    pending = page.get_by_role("table", name="待审批的变更")
    theirs = pending.get_by_role("row").filter(has_text=yuan(PENDING_SUBLIMIT))
    expect(theirs).to_contain_text(ADMIN2[1])
    expect(theirs.get_by_role("button", name="同意")).to_be_visible()  # another's: may decide
    my_line(page)
    form = page.get_by_role("region", name="提议调整额度")
    form.get_by_label("新额度（人民币元）").fill("abc")
    form.get_by_label("原因").fill("年度授信复审，核心企业销售增长")
    form.get_by_role("button", name="提交额度调整").click()
    expect(form.get_by_text("请输入金额，如 1234.56。")).to_be_visible()
    form.get_by_label("新额度（人民币元）").fill(NEW_LIMIT)
    form.get_by_role("button", name="提交额度调整").click()
    expect(page.get_by_role("status")).to_contain_text("您的变更已提交")
    mine = (
        page.get_by_role("table", name="该额度待审批的变更")
        .get_by_role("row")
        .filter(has_text=yuan(NEW_LIMIT))
    )
    expect(mine).to_contain_text("此变更由您提出：须由他人审批或驳回。")
    expect(mine.get_by_role("button", name="同意")).to_have_count(0)
    expect(page.locator("#line-limit")).to_have_text(yuan(LINE_LIMIT))  # not yet applied
    screenshot(page, "wb-operations-line")
    axe_scan(page)
    page.get_by_role("button", name="退出登录").click()
    open_desk(page, ADMIN2[0], "授信额度")
    mine = (
        page.get_by_role("table", name="待审批的变更")
        .get_by_role("row")
        .filter(has_text=yuan(NEW_LIMIT))
    )
    expect(mine).to_contain_text("吴刚")
    mine.get_by_role("button", name="同意").click()
    expect(page.get_by_role("status")).to_contain_text("该变更已审批完毕")
    expect(page.locator("#line-limit")).to_have_text(yuan(NEW_LIMIT))
    decided = page.get_by_role("table", name="该额度已审批的变更").get_by_role("row")
    expect(decided.filter(has_text=yuan(NEW_LIMIT))).to_contain_text("已批准")
    page.goto("/operations/lines")
    lines = page.get_by_role("table", name="本行的授信额度")
    expect(lines.get_by_role("row").filter(has_text=yuan(NEW_LIMIT))).to_have_count(1)


def test_products_and_their_authority_ladders(page: Page) -> None:
    open_desk(page, "bka-admin", "产品与审批权限")
    ladder = page.get_by_role("table", name="本行人员的审批权限")
    expect(ladder.get_by_role("row").filter(has_text="bka-ck3")).to_contain_text("3")
    expect(ladder.get_by_role("row").filter(has_text="bka-ck1")).to_contain_text("1")
    product = page.get_by_role("table", name="receivable_financing的审批权限阶梯")
    expect(product.get_by_role("row")).to_have_count(4)  # a header and three levels
    screenshot(page, "wb-operations-products")
    axe_scan(page)


def test_a_loan_is_paid_out_and_the_statement_shows_it_left(page: Page, tmp_path: Path) -> None:
    open_desk(page, "bka-admin", "放款")
    ready = page.get_by_role("main").get_by_role("row").filter(has_text=yuan(LOAN_AMOUNT))
    expect(ready).to_contain_text(OB_NAME)
    screenshot(page, "wb-operations-disbursements")
    axe_scan(page)
    page.get_by_role("button", name="生成放款文件").click()  # nothing chosen, no account
    expect(page.get_by_text("请至少选择一笔已审批、可放款的贷款。")).to_be_visible()
    ready = page.get_by_role("main").get_by_role("row").filter(has_text=yuan(LOAN_AMOUNT))
    reference = ready.get_by_role("checkbox").get_attribute("aria-label") or ""
    ready.get_by_role("checkbox").check()
    page.get_by_label("付款账户名称").fill("星湖银行结算户")
    page.get_by_label("付款账号（账号或 IBAN）").fill("110000000000000001")
    page.get_by_label("付款行行号（BIC 或 CNAPS）").fill("102100099996")
    page.get_by_label("执行日期").fill(WORLD_DAY.isoformat())
    page.get_by_role("button", name="生成放款文件").click()
    expect(page.get_by_role("status")).to_contain_text("放款文件已生成")
    written = page.locator("tr.just")
    expect(written).to_contain_text(yuan(LOAN_AMOUNT))
    with page.expect_download() as download:
        written.get_by_role("link").click()
    path = tmp_path / "pain001.xml"
    download.value.save_as(path)
    tree = etree.parse(str(path))
    assert tree.xpath("//*[local-name()='InstdAmt']/text()") == [LOAN_AMOUNT]
    e2e = tree.xpath("//*[local-name()='EndToEndId']/text()")[0]
    assert reference  # the loan's checkbox named it
    # the bank's statement of the day: the money left, and a credit no one explains
    statement = tmp_path / "camt053.xml"
    statement.write_bytes(camt053(e2e, WORLD_DAY.isoformat(), LOAN_AMOUNT, GIFT))
    desk = page.get_by_role("navigation", name="运营管理页面")
    desk.get_by_role("link", name="对账单导入").click()
    screenshot(page, "wb-operations-statements")
    axe_scan(page)
    page.get_by_label("camt.053 文件（XML，不超过 5 MB）").set_input_files(str(statement))
    page.get_by_role("button", name="导入对账单").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("对账单 STMT-OPS-")
    expect(page.locator("#matched-count")).to_have_text("1")
    expect(page.locator("#unmatched-count")).to_have_text("1")
    matched = page.get_by_role("table", name="已匹配并入账的分录")
    expect(matched).to_contain_text("放款已出账")
    expect(matched).to_contain_text(yuan(LOAN_AMOUNT))
    unmatched = page.get_by_role("table", name="未匹配的分录及原因").get_by_role("row")
    gift = unmatched.filter(has_text=yuan(GIFT))
    expect(gift).to_contain_text("未注明贷款的入账")
    expect(gift).to_contain_text("如已知对应贷款")
    screenshot(page, "wb-operations-statement")
    axe_scan(page)
    gift.get_by_label("分录 2 偿还的贷款").select_option(index=1)
    gift.get_by_role("button", name="作为还款入账").click()
    expect(page.get_by_role("status")).to_contain_text("分录 2 已作为还款入账")
    gift = (
        page.get_by_role("table", name="未匹配的分录及原因")
        .get_by_role("row")
        .filter(has_text=yuan(GIFT))
    )
    expect(gift).to_contain_text(re.compile("已作为贷款 .* 的还款入账"))


def test_the_books_balance(page: Page) -> None:
    open_desk(page, ADMIN2[0], "账务")
    expect(page.locator("#trial-state")).to_have_text("平衡：各币种借方合计等于贷方合计。")
    totals = page.get_by_role("table", name="试算平衡").locator("tfoot tr")
    expect(totals.first).to_contain_text("合计（CNY）")
    cells = totals.first.locator("td")
    expect(cells.nth(0)).to_have_text(cells.nth(1).inner_text())
    page.get_by_label("会计科目").select_option("1303")
    page.get_by_role("button", name="查看明细").click()
    expect(page.get_by_role("heading", name="1303 贷款本金")).to_be_visible()
    screenshot(page, "wb-operations-books")
    axe_scan(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载总账（CSV）").click()
    first = download.value.path().read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("journal_id,value_on,kind")
