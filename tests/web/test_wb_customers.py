"""The relationship manager's customers (/, /customers, /chains/{id}, /firms/{id}): the staff
home with what waits, the book of customers and prospects, the chain map drawn in the
browser with its list, and a firm's 360° page; a risk officer reads them too, and bank B's
staff see none of bank A's customers. The world's chain and alert: world_wb_customers.py."""

from __future__ import annotations

from typing import Any

import pytest
from browsing import Portal, axe_scan, screenshot, signin
from playwright.sync_api import Page, expect
from portal_world import NAMES
from world_wb_customers import ALERT, CHAIN

pytestmark = pytest.mark.browser

OPTION = "id => echarts.getInstanceByDom(document.getElementById(id + '-area')).getOption()"


def chain_id(portal: Portal) -> str:
    return str(portal.world.extra["wb_customers"]["chain_id"])


def drawn(page: Page, chart: str) -> dict[str, Any]:
    page.wait_for_function(
        "id => document.getElementById(id + '-area').hasAttribute('data-finished-ms')", arg=chart
    )
    return dict(page.evaluate(OPTION, chart))


def test_the_relationship_manager_goes_from_home_to_the_customers_and_a_chain(
    page: Page, portal: Portal
) -> None:
    signin(page, "bka-rm")
    main = page.get_by_role("main")
    waiting = main.get_by_role("region", name="待办事项")
    expect(waiting.get_by_role("link", name="未解除预警")).to_be_visible()
    expect(waiting.get_by_role("link", name="本行客户")).to_be_visible()
    expect(main.get_by_role("link", name=CHAIN).first).to_have_attribute(
        "href", f"/chains/{chain_id(portal)}"
    )
    screenshot(page, "wb-customers-home")
    axe_scan(page)

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="客户").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("客户与潜在客户")
    group = main.get_by_role("region", name=CHAIN)
    t2_row = group.get_by_role("row").filter(has_text=NAMES["t2"])
    expect(t2_row).to_contain_text("潜在客户")
    t1_row = group.get_by_role("row").filter(has_text=NAMES["t1"])
    expect(t1_row).to_contain_text("客户")
    expect(t1_row.get_by_text("1", exact=True)).to_be_visible()  # its open alert
    screenshot(page, "wb-customers-book")
    axe_scan(page)

    group.get_by_role("heading").get_by_role("link", name=CHAIN).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CHAIN)
    expect(page).to_have_url(f"{portal.url}/chains/{chain_id(portal)}")


def test_the_chain_map_draws_the_core_and_tier_1_and_its_list_opens_a_firm(
    page: Page, portal: Portal
) -> None:
    signin(page, "bka-rm")
    page.goto(f"/chains/{chain_id(portal)}")
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(CHAIN)
    option = drawn(page, "chain-map")
    nodes = {n["name"]: n for n in option["series"][0]["data"]}
    assert {NAMES["core"], NAMES["t1"], NAMES["x"]} <= set(nodes)
    assert (nodes[NAMES["core"]]["x"], nodes[NAMES["core"]]["y"]) == (0, 0)
    assert nodes[NAMES["t1"]]["label"]["show"] is True  # tier 1 is labelled
    assert nodes[NAMES["t1"]]["x"] < 0 < nodes[NAMES["x"]]["x"]
    assert nodes[NAMES["t1"]]["symbol"] == "diamond"  # its open alert
    listed = main.get_by_role("table", name=f"{CHAIN}的企业")
    expect(listed.get_by_role("row").filter(has_text=NAMES["t3"])).to_contain_text("潜在客户")
    screenshot(page, "wb-customers-chain")
    axe_scan(page)

    listed.get_by_role("link", name=NAMES["t1"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAMES["t1"])
    expect(main.get_by_role("region", name="预警")).to_contain_text(ALERT)
    relations = main.get_by_role("region", name="供应商与采购方")
    expect(relations.get_by_role("link", name=NAMES["core"])).to_be_visible()
    expect(relations.get_by_role("link", name=NAMES["t2"])).to_be_visible()
    trade = drawn(page, "firm-trade")
    assert trade["series"][0]["data"], "the trade chart has the months of t1's documents"
    expect(main.get_by_role("region", name="该企业向本行授予的数据授权")).to_contain_text(
        "授信评估"
    )
    screenshot(page, "wb-customers-firm")
    axe_scan(page)


def test_a_click_on_a_node_of_the_map_opens_the_firm(page: Page, portal: Portal) -> None:
    signin(page, "bka-rm")
    page.goto(f"/chains/{chain_id(portal)}")
    drawn(page, "chain-map")
    core_id = portal.world.ids["core"]
    x, y = page.evaluate(
        """id => {
          const chart = echarts.getInstanceByDom(document.getElementById('chain-map-area'));
          const node = chart.getOption().series[0].data.find(n => n.id === id);
          return chart.convertToPixel({seriesIndex: 0}, [node.x, node.y]);
        }""",
        core_id,
    )
    page.locator("#chain-map-area").scroll_into_view_if_needed()
    box = page.locator("#chain-map-area").bounding_box()
    assert box is not None
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(f"{portal.url}/firms/{core_id}")
    page.goto(f"/firms/{portal.world.ids['t2']}")  # a prospect: the chain's list only
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_contain_text("潜在客户")
    expect(main).not_to_contain_text("按月交易额与单据匹配")
    screenshot(page, "wb-customers-prospect")
    axe_scan(page)


def test_the_risk_officer_reads_the_customers_in_english(page: Page, portal: Portal) -> None:
    signin(page, "bka-risk")
    page.goto("/customers?lang=en")
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers and prospects")
    group = main.get_by_role("region", name=CHAIN)
    expect(group.get_by_role("row").filter(has_text=NAMES["t1"])).to_contain_text("Customer")
    page.get_by_label("Show").select_option("prospect")
    page.get_by_role("button", name="Filter").click()
    expect(group.get_by_role("link", name=NAMES["t2"])).to_be_visible()
    expect(group.get_by_role("link", name=NAMES["t1"])).to_have_count(0)
    screenshot(page, "wb-customers-book")
    axe_scan(page)
    page.goto(f"/chains/{chain_id(portal)}")
    drawn(page, "chain-map")
    expect(main.get_by_role("table", name=f"The firms of {CHAIN}")).to_be_visible()
    screenshot(page, "wb-customers-chain")


def test_bank_b_sees_none_of_bank_a_customers(page: Page, portal: Portal) -> None:
    signin(page, "bkb-boss")
    main = page.get_by_role("main")
    expect(main).not_to_contain_text(CHAIN)
    page.goto("/customers")
    expect(page.get_by_role("heading", level=1)).to_have_text("客户与潜在客户")
    for key in ("core", "t1", "t2", "x"):
        expect(main).not_to_contain_text(NAMES[key])
    refused = page.goto(f"/chains/{chain_id(portal)}")
    assert refused is not None
    assert refused.status == 404
    refused = page.goto(f"/firms/{portal.world.ids['t1']}")
    assert refused is not None
    assert refused.status == 404
    expect(main).not_to_contain_text(ALERT)
