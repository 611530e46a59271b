"""The risk officer's pages (/risk): the portfolio dashboard with the limits bank A sanctioned
and used, the sector monitor, a contagion scenario on the core with the distress on the
chain map, and promoting a challenger in the model registry. The objects are the risk
world's own (world_wb_risk.py); refusals and edge cases are in
tests/web_http/test_wb_risk_http.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from browsing import axe_scan, screenshot, signin, yuan
from playwright.sync_api import Page, expect
from portal_world import NAMES
from world_wb_risk import AVAILABLE, HELD, LINE, MODEL

pytestmark = pytest.mark.browser

OPTION = "id => echarts.getInstanceByDom(document.getElementById(id + '-area')).getOption()"


def open_risk(page: Page, section: str | None = None) -> None:
    signin(page, "bka-risk")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="组合风险").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("组合风险")
    if section is not None:
        pages = page.get_by_role("navigation", name="组合风险页面")
        pages.get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)


def drawn(page: Page, chart_id: str) -> dict:
    area = page.locator(f"#{chart_id}-area")
    expect(area).to_have_attribute("data-finished-ms", re.compile(r"\d+"))
    option: dict = page.evaluate(OPTION, chart_id)
    return option


def test_the_dashboard_shows_the_banks_exposure_and_limits(page: Page) -> None:
    open_risk(page)
    main = page.get_by_role("main")
    core = main.locator("#exposure-core-title").locator("xpath=..")
    row = core.get_by_role("row").filter(has_text=NAMES["core"])
    expect(row).to_have_count(1)
    shown = row.get_by_role("cell").first.inner_text()  # ¥1,234.56, exact
    amount = Decimal(shown.replace("¥", "").replace(",", ""))
    assert amount > 0
    option = drawn(page, "exposure-core")
    assert option["yAxis"][0]["data"][0] == NAMES["core"]
    assert option["series"][0]["data"][0] == float(round(amount / 10_000, 2))  # 万元
    limits = main.locator("#limits-table")
    mine = limits.get_by_role("row").filter(has_text=yuan(LINE))
    expect(mine).to_contain_text(NAMES["core"])
    expect(mine).to_contain_text(yuan(HELD))
    expect(mine).to_contain_text(yuan(AVAILABLE))
    expect(main.locator("#ageing-table")).to_contain_text("逾期90天以上")
    expect(main.locator("#categories-table")).to_contain_text("次级")
    expect(main.get_by_role("heading", name="未来12周到期情况")).to_be_visible()
    expect(main).to_contain_text("赫芬达尔指数（HHI）")
    screenshot(page, "wb-risk-dashboard")
    axe_scan(page)
    page.goto("/risk?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio risk")
    expect(page.locator("#limits-table")).to_contain_text(f"{Decimal(LINE):,.2f}")
    expect(
        page.get_by_role("heading", name="Limits sanctioned, used and available")
    ).to_be_visible()
    screenshot(page, "wb-risk-dashboard")
    axe_scan(page)


def test_the_sector_monitor_lists_warnings_and_marks_the_threshold(page: Page) -> None:
    open_risk(page, "行业监测")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="预警")).to_be_visible()
    expect(main.locator("#sectors-table").get_by_role("row")).not_to_have_count(1)
    option = drawn(page, "sector-focus")
    assert len(option["series"]) == 2  # the alert rate and the delinquency rate
    screenshot(page, "wb-risk-sectors")
    axe_scan(page)
    page.get_by_role("navigation", name="行业划分方式").get_by_role("link", name="按省份").click()
    expect(main.locator("#sectors-table")).to_contain_text("江苏省")


def test_a_default_of_the_core_spreads_distress_over_the_chain(page: Page) -> None:
    open_risk(page, "风险传染情景")
    form = page.locator("form.scenario-form")
    form.get_by_label("核心企业").select_option(index=0)
    form.get_by_role("radio", name="延迟付款").check()
    form.get_by_label("延迟天数（延迟付款时填写）").fill("45")
    form.get_by_role("button", name="运行情景测算").click()
    result = page.locator("#scenario-result")
    expect(result.get_by_role("heading", level=2)).to_contain_text("延迟付款 45 天")
    tiers = result.locator("#tiers-table")
    expect(tiers.get_by_role("row").filter(has_text="核心企业")).to_have_count(1)
    expect(result.locator("#expected-loss")).to_contain_text("¥")
    option = drawn(page, "distress-by-tier")
    assert max(option["series"][0]["data"]) > 0, "the shock distresses the core's tier"
    expect(result.locator("#firms-table")).to_contain_text(NAMES["core"])
    if result.locator("#chain-map-area").count():
        drawn(page, "chain-map")
    screenshot(page, "wb-risk-contagion")
    axe_scan(page)
    form = page.locator("form.scenario-form")
    form.get_by_role("radio", name="违约").check()
    form.get_by_role("button", name="运行情景测算").click()
    expect(result.get_by_role("heading", level=2)).to_contain_text("违约")
    page.goto(page.url + "&lang=en")
    expect(page.locator("#scenario-result").get_by_role("heading", level=2)).to_contain_text(
        "defaults"
    )
    screenshot(page, "wb-risk-contagion")
    axe_scan(page)


def test_the_risk_officer_promotes_the_challenger(page: Page) -> None:
    open_risk(page, "模型管理")
    card = page.get_by_role("region", name=MODEL)
    expect(card).to_contain_text("冠军模型：版本 1")
    drawn(page, "psi-1")
    screenshot(page, "wb-risk-models")
    axe_scan(page)
    v2 = card.locator("table.models-table").get_by_role("row").filter(has_text="版本 2")
    expect(v2).to_contain_text("挑战者模型")
    v2.get_by_role("button", name="提升为冠军模型").click()
    expect(page.get_by_role("status")).to_contain_text(f"{MODEL} v2")
    page.reload()
    card = page.get_by_role("region", name=MODEL)
    expect(card).to_contain_text("冠军模型：版本 2")
    v1 = card.locator("table.models-table").get_by_role("row").filter(has_text="版本 1")
    expect(v1).to_contain_text("已退役")
    expect(v1.get_by_role("button", name="回退到此版本")).to_be_visible()
