"""A supplier finances (/financing): it compares the quotes of every funder bank of a piece's
programme and accepts the best; a firm applies for a loan and sees the decision and its
reasons at once, or, referred, the checks the bank will make. The objects are
world_financing.py's own, so the journeys run in any order."""

from __future__ import annotations

from datetime import date

import pytest
from browsing import axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES
from world_financing import (
    APPROVED_AMOUNT,
    PAYEE_ACCOUNT,
    PAYEE_AGENT,
    PIECE_FACE,
    REFERRED_AMOUNT,
    USER,
)
from world_financing import (
    NAMES as FIRMS,
)

from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser

BKA, BKB, BKF = NAMES["bank A"], NAMES["bank B"], FIRMS["bank F"]
BKA_NET, BKB_NET = "471757.33", "471874.85"  # 480,000.00 for 151 days (see world_financing)


def open_financing(page: Page, username: str) -> None:
    signin(page, username)
    page.get_by_role("navigation").get_by_role("link", name="融资").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("融资")


def term(page: Page, name: str) -> Locator:
    """The comparison's row for one term (its row header), every bank's figure in it."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))


def test_the_supplier_compares_every_banks_quote_and_accepts_the_best(page: Page) -> None:
    open_financing(page, "supplier")
    piece = (
        page.get_by_role("row").filter(has_text=yuan(PIECE_FACE)).filter(has_text=FIRMS["core2"])
    )
    piece.get_by_role("link", name="比较报价").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("比较报价")
    page.get_by_role("button", name="向各家银行询价").click()

    table = page.get_by_role("table")
    for bank in (BKA, BKB, BKF):
        expect(table.get_by_role("columnheader", name=bank)).to_be_visible()
    expect(table.get_by_role("columnheader", name=f"{BKB} 最优报价")).to_be_visible()
    expect(term(page, "所用LPR报价")).to_contain_text(
        f"1年期LPR 3.00%（{chinese_date(date(2026, 8, 20))} 发布）"
    )
    expect(term(page, "加点")).to_contain_text("+65个基点")
    expect(term(page, "加点")).to_contain_text("+55个基点")
    expect(term(page, "距兑付日天数")).to_contain_text("151天（ACT/365F）")
    expect(term(page, "平台服务费")).to_contain_text(yuan("604.00"))
    expect(term(page, "手续费")).to_contain_text(yuan("480.00"))
    expect(term(page, "登记费")).to_contain_text(yuan("50.00"))
    expect(term(page, "实收金额")).to_contain_text(yuan(BKA_NET))
    expect(term(page, "实收金额")).to_contain_text(yuan(BKB_NET))
    expect(term(page, "年化综合成本")).to_contain_text("年化 4.2234%")
    expect(term(page, "年化综合成本")).to_contain_text("年化 4.1622%")
    refused = table.get_by_role("cell").filter(has_text="未报价")
    expect(refused).to_contain_text("距兑付日的期限超出该银行对此核心企业的融资期限。")
    screenshot(page, "quotes")
    axe_scan(page)

    page.goto(page.url + "?lang=en")  # the latest open quotes, in English
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare quotes")
    expect(term(page, "Net proceeds")).to_contain_text(f"CN¥{BKB_NET[:3]},{BKB_NET[3:]}")
    expect(table.get_by_role("columnheader", name=f"{BKB} Best offer")).to_be_visible()
    screenshot(page, "quotes")
    axe_scan(page)
    page.goto(page.url.replace("lang=en", "lang=zh-CN"))

    page.get_by_role("button", name=f"接受{BKB}的报价").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("报价已接受")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"您将于{chinese_date(WORLD_DAY)}收到 {yuan(BKB_NET)}。")
    expect(main).to_contain_text(f"{BKB}已为您的债权凭证融资")
    expect(main.get_by_role("heading", name="应收账款登记")).to_be_visible()
    expect(main).to_contain_text("转让登记")
    expect(main).to_contain_text("已融资")
    screenshot(page, "quote-accepted")
    axe_scan(page)

    page.get_by_role("navigation").get_by_role("link", name="融资").click()
    done = page.get_by_role("region", name="已完成的融资")
    expect(done.get_by_role("row").filter(has_text=BKB)).to_contain_text(yuan(BKB_NET))
    can = page.get_by_role("region", name="可融资的债权凭证")
    expect(can.get_by_role("row").filter(has_text=FIRMS["core2"])).to_have_count(0)
    screenshot(page, "financing")
    axe_scan(page)


def apply_with(page: Page, invoice: str, amount: str) -> None:
    page.get_by_role("link", name="申请贷款").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请贷款")
    product = page.get_by_role("listitem").filter(has_text=f"应收账款融资 · {BKA}")
    product.get_by_role("link", name="申请应收账款融资").click()
    # htmx (a deferred script) must have wired the form before a choice can refresh it
    page.wait_for_load_state("load")
    form = page.locator("#application-form")
    underlying = form.get_by_label("融资标的")
    choice = underlying.locator("option", has_text=invoice).get_attribute("value")
    assert choice is not None
    underlying.select_option(choice)
    # htmx swaps in the tenors that end by the time the invoice is paid
    expect(form.locator("#tenor_months-hint")).to_contain_text("贷款须在融资标的付款日")
    expect(form.get_by_label("期限").locator("option")).not_to_have_count(12)
    form.get_by_label("金额（元）").fill(amount)
    form.get_by_label("期限").select_option(label="3个月")
    form.get_by_label("账号").fill(PAYEE_ACCOUNT)
    form.get_by_label("开户行联行号").fill(PAYEE_AGENT)


def test_a_supplier_applies_for_a_loan_and_is_approved_at_once(page: Page) -> None:
    open_financing(page, USER)
    apply_with(page, "FIN-INV-A1", APPROVED_AMOUNT)
    expect(page.get_by_label("账户名称")).to_have_value(FIRMS["fa"])
    screenshot(page, "apply")
    axe_scan(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("贷款申请")
    decision = page.get_by_role("status")
    expect(decision).to_contain_text("审批结果：已批准")
    expect(decision).to_contain_text(f"{BKA}已批准 {yuan(APPROVED_AMOUNT)}。")
    loan = page.get_by_role("region", name="贷款", exact=True)
    expect(loan).to_contain_text("年化 3.50% （计息基准 ACT/360）")
    expect(loan).to_contain_text("已批准，待放款")
    screenshot(page, "application-decided")
    axe_scan(page)
    page.get_by_role("link", name="返回融资").click()
    mine = page.get_by_role("region", name="我的贷款申请")
    row = mine.get_by_role("row").filter(has_text=yuan(APPROVED_AMOUNT))
    expect(row).to_contain_text("已批准，待放款")  # where it stands
    expect(row).to_contain_text(f"{chinese_date(WORLD_DAY)} 系统审批通过")  # the first decision
    expect(mine.get_by_role("columnheader", name="首次决定")).to_be_visible()
    expect(page.get_by_role("region", name="我的贷款", exact=True)).to_contain_text(
        yuan(APPROVED_AMOUNT)
    )


def test_a_referred_application_shows_the_checks_the_bank_makes(page: Page) -> None:
    open_financing(page, "supplier")
    apply_with(page, "FIN-INV-R1", REFERRED_AMOUNT)
    page.get_by_role("button", name="提交申请").click()
    decision = page.get_by_role("status")
    expect(decision).to_contain_text("转银行信贷人员审批")
    expect(decision).to_contain_text("此金额需进行实地调查。")
    expect(decision).to_contain_text("贵司存在未处理的风险提示。")
    expect(decision).to_contain_text("申请金额超过产品自动审批上限，由银行信贷人员审批。")
    expect(decision).not_to_contain_text("site_visit")  # codes are never shown
    checks = page.get_by_role("region", name="银行审批前的调查事项")
    task = checks.get_by_role("row").filter(has_text="实地调查")
    expect(task).to_contain_text("银行客户经理到贵司现场调查。")
    expect(task).to_contain_text(BKA)
    expect(task).to_contain_text("待办理")
    screenshot(page, "application-referred")
    axe_scan(page)
