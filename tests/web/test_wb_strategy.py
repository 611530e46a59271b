"""The head-office strategist's chain strategy pages (/strategy): from the home page to the
ranking of 长三角 with its rank intervals and quadrant, into the top chain's map, segments
and leads, the CSV and PDF downloads, head office's own AHP weights (refused when
inconsistent, applied when consistent), the market data page, and a risk officer who reads
but does not import. The objects are the strategy world's own (world_wb_strategy.py);
refusals and edge cases are in tests/web_http/test_wb_strategy_http.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browsing import Portal, axe_scan, screenshot, signin
from playwright.sync_api import Page, expect
from world_wb_strategy import BATTERY, LABEL, LEADS, PV, STRATEGIST, market_files

pytestmark = pytest.mark.browser

OPTION = "id => echarts.getInstanceByDom(document.getElementById(id + '-area')).getOption()"
CONSISTENT = {
    "pairwise": {
        "criteria": ["customer_share", "cores_covered", "completeness"],
        "matrix": [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
    }
}
INCONSISTENT = {
    "pairwise": {
        "criteria": ["customer_share", "cores_covered", "completeness"],
        "matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]],
    }
}


def open_strategy(page: Page, username: str = STRATEGIST) -> None:
    signin(page, username)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="产业链策略").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("产业链策略：长三角")


def drawn(page: Page, chart_id: str) -> dict[str, Any]:
    area = page.locator(f"#{chart_id}-area")
    expect(area).to_have_attribute("data-finished-ms", re.compile(r"\d+"))
    option: dict[str, Any] = page.evaluate(OPTION, chart_id)
    return option


def weights_file(tmp_path: Path, name: str, content: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_the_strategist_goes_from_home_to_the_ranking_of_the_region(page: Page) -> None:
    signin(page, STRATEGIST)
    page.get_by_role("main").get_by_role("link", name=re.compile("拓展哪些区域产业链")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("产业链策略：长三角")
    main = page.get_by_role("main")
    expect(main.locator(".data-line")).to_contain_text(LABEL)
    expect(main.locator(".data-line")).to_contain_text("财务报表")  # a missing input, in words
    table = main.locator("#ranking-table")
    first = table.locator("tbody tr").first
    expect(first.get_by_role("cell").first).to_have_text("1")
    expect(table).to_contain_text(BATTERY)
    expect(table.locator(".rank-text").first).to_have_text(re.compile(r"^\d+–\d+$"))
    quadrant = drawn(page, "quadrant")
    names = [p["name"] for p in quadrant["series"][0]["data"]]
    assert BATTERY in names
    splits = quadrant["series"][0]["markLine"]["data"]
    assert [(d.get("xAxis"), d.get("yAxis")) for d in splits] == [(0.5, None), (None, 0.5)]
    expect(main.locator("#quadrant-table")).to_contain_text(BATTERY)
    measures = main.locator("#measures-table")
    expect(measures.locator("thead abbr").first).to_have_attribute("title", re.compile("环节"))
    expect(measures).to_contain_text("%")
    spark = drawn(page, "spark-0")
    assert len(spark["series"][0]["data"]) >= 12  # a month per point
    expect(main.locator("#weights-table")).to_contain_text("熵权")
    screenshot(page, "wb-strategy-ranking")
    axe_scan(page)
    page.goto("/strategy?region=yrd&lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Chain strategy: Yangtze River Delta")
    expect(page.locator("#ranking-table")).to_contain_text("TOPSIS score")
    screenshot(page, "wb-strategy-ranking")
    axe_scan(page)


def test_a_rating_floor_excludes_a_chain_with_its_reason(page: Page) -> None:
    open_strategy(page)
    form = page.locator("form.settings-form")
    form.get_by_label("最佳核心企业的最低评级").select_option("AA-")
    form.get_by_role("button", name="重新排名").click()
    excluded = page.locator("#excluded")
    expect(excluded).to_contain_text(PV)
    expect(excluded).to_contain_text("BBB")
    expect(page.locator("#ranking-table")).not_to_contain_text(PV)


def test_the_top_chain_shows_its_segments_map_and_leads(page: Page) -> None:
    open_strategy(page)
    page.locator("#ranking-table").get_by_role("link", name=BATTERY).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(BATTERY)
    main = page.get_by_role("main")
    expect(main.locator("#freshness-badge")).to_contain_text("关系")
    expect(main.locator(".coverage-missing")).to_contain_text("财务报表")
    for stage in ("上游", "中游", "下游"):
        expect(main.locator("#segments").get_by_role("heading", name=stage)).to_be_visible()
    expect(main.locator("#segments .segment.critical").first).to_be_visible()
    graph = drawn(page, "strategy-map")
    assert len(graph["series"][0]["data"]) >= 10
    styles = {link["lineStyle"]["type"] for link in graph["series"][0]["links"]}
    assert {"solid", "dashed", "dotted"} <= styles  # fresh, ageing and stale links
    expect(main.locator("#inputs-table")).to_contain_text("core_rating")
    leads = main.locator("#leads-table")
    for name in LEADS[:2]:
        expect(leads).to_contain_text(name)
    screenshot(page, "wb-strategy-chain")
    axe_scan(page)
    page.goto(page.url + "&lang=en")
    expect(page.locator("#leads-table")).to_contain_text("Indicative limit")
    screenshot(page, "wb-strategy-chain")
    axe_scan(page)


def test_the_leads_and_the_report_download(page: Page) -> None:
    open_strategy(page)
    page.locator("#ranking-table").get_by_role("link", name=BATTERY).click()
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="下载 CSV").click()
    csv_path = csv_download.value.path()
    assert csv_path is not None
    text = Path(csv_path).read_text(encoding="utf-8-sig")
    assert text.startswith("rank,uscc,name")
    assert LEADS[0] in text
    csv_answer = page.request.get(
        page.get_by_role("link", name="下载 CSV").get_attribute("href") or ""
    )
    assert csv_answer.headers["content-type"].startswith("text/csv")
    page.get_by_role("link", name="返回排名").click()
    pdf_link = page.get_by_role("link", name="下载报告（PDF）")
    pdf = page.request.get(pdf_link.get_attribute("href") or "")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")


def test_head_office_weights_are_refused_when_inconsistent_and_applied_when_consistent(
    page: Page, tmp_path: Path
) -> None:
    open_strategy(page)
    before = page.locator("#weights-table").inner_text()
    form = page.locator("form.weights-form")
    form.get_by_label("权重文件（JSON）").set_input_files(
        weights_file(tmp_path, "inconsistent.json", INCONSISTENT)
    )
    form.get_by_role("button", name="按这些权重排名").click()
    refusal = page.locator("#weights-error")
    expect(refusal).to_contain_text("consistency ratio CR = ")
    expect(refusal).to_be_visible()
    screenshot(page, "wb-strategy-weights-refused", full_page=False)
    form = page.locator("form.weights-form")
    form.get_by_label("权重文件（JSON）").set_input_files(
        weights_file(tmp_path, "consistent.json", CONSISTENT)
    )
    form.get_by_role("button", name="按这些权重排名").click()
    expect(page.locator("#weights-notice")).to_contain_text("一致性比率 0.0")
    after = page.locator("#weights-table").inner_text()
    assert after != before
    row = page.locator("#weights-table").get_by_role("row").filter(has_text="客户覆盖率")
    expect(row.get_by_role("cell").nth(2)).not_to_have_text("—")  # head office's weight
    axe_scan(page)


def test_the_market_data_page_lists_the_dataset_and_refuses_a_bad_file(
    page: Page, portal: Portal, tmp_path: Path
) -> None:
    open_strategy(page)
    page.get_by_role("navigation", name="产业链策略页面").get_by_role(
        "link", name="市场数据"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("市场数据")
    expect(page.locator("#datasets-table")).to_contain_text(LABEL)
    files = market_files({k: portal.world.usccs(k) for k in ("core", "t1", "t2", "t3", "x")})
    files["enterprises.csv"] = files["enterprises.csv"].replace(b",C38,", b",X99,", 1)
    paths = []
    for name in ("enterprises.csv", "chains.csv", "relations.csv"):
        (tmp_path / name).write_bytes(files[name])
        paths.append(tmp_path / name)
    form = page.locator("form[action='/strategy/data']")
    form.get_by_label("数据集名称").fill("坏数据")
    form.get_by_label("CSV 文件").set_input_files(paths)
    form.get_by_role("button", name="导入").click()
    expect(page.locator("#files-error")).to_contain_text("未导入任何数据")
    refused = page.locator("#import-errors").get_by_role("row").filter(has_text="enterprises.csv")
    expect(refused).to_contain_text("industry_code")
    expect(page.locator("#datasets-table tbody tr")).to_have_count(1)
    screenshot(page, "wb-strategy-data")
    axe_scan(page)


def test_a_risk_officer_reads_the_ranking_but_may_not_import(page: Page) -> None:
    open_strategy(page, "bka-risk")
    expect(page.locator("#ranking-table")).to_contain_text(BATTERY)
    page.goto("/strategy/data")
    expect(page.locator("#datasets-table")).to_contain_text(LABEL)
    expect(page.locator("form[action='/strategy/data']")).to_have_count(0)
    expect(page.locator("#import-not-allowed")).to_be_visible()
