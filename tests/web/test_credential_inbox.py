"""The supplier's credential inbox (/credentials): accepting and rejecting an offered piece,
and reading a credential's lineage. Each journey acts on a piece of its own (see
portal_world.py), so they run in any order."""

from __future__ import annotations

import pytest
from browsing import axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import (
    HELD,
    MATURITY,
    NAMES,
    OFFERED_SHOWN,
    OFFERED_TO_ACCEPT,
    OFFERED_TO_REJECT,
)

pytestmark = pytest.mark.browser


def open_inbox(page: Page) -> None:
    signin(page, "supplier")
    page.get_by_role("navigation").get_by_role("link", name="债权凭证").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("债权凭证")


def row(page: Page, amount: str) -> Locator:
    return page.get_by_role("main").get_by_role("row").filter(has_text=yuan(amount))


def test_the_inbox_shows_what_the_supplier_holds_and_is_offered(page: Page) -> None:
    open_inbox(page)
    held = row(page, HELD)
    expect(held).to_contain_text("持有中")
    expect(held).to_contain_text(NAMES["core"])
    expect(held).to_contain_text(chinese_date(MATURITY))
    offered = row(page, OFFERED_SHOWN)
    expect(offered).to_contain_text("待您签收")
    expect(offered.get_by_role("button", name="签收")).to_be_visible()
    expect(offered.get_by_role("button", name="拒收")).to_be_visible()
    expect(offered.get_by_label("拒收原因")).to_be_editable()
    screenshot(page, "credentials")
    axe_scan(page)


def test_the_supplier_accepts_an_offered_piece(page: Page) -> None:
    open_inbox(page)
    piece = row(page, OFFERED_TO_ACCEPT)
    expect(piece).to_contain_text("待您签收")
    piece.get_by_role("button", name="签收").click()
    expect(piece).to_contain_text("持有中")
    expect(piece.get_by_role("button")).to_have_count(0)
    expect(piece.get_by_role("link", name="流转记录")).to_be_visible()
    page.reload()  # it stays accepted
    expect(row(page, OFFERED_TO_ACCEPT)).to_contain_text("持有中")
    page.get_by_role("navigation").get_by_role("link", name="首页").click()
    waiting = (
        page.get_by_role("main")
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name="签收或拒收"))
    )
    expect(waiting.filter(has_text=yuan(OFFERED_SHOWN))).to_have_count(1)
    expect(waiting.filter(has_text=yuan(OFFERED_TO_ACCEPT))).to_have_count(0)


def test_the_supplier_rejects_an_offered_piece_with_a_reason(page: Page) -> None:
    open_inbox(page)
    piece = row(page, OFFERED_TO_REJECT)
    piece.get_by_label("拒收原因").fill("金额与合同不符")
    piece.get_by_role("button", name="拒收").click()
    expect(piece).to_contain_text("已拒收")
    expect(piece.get_by_role("button")).to_have_count(0)
    page.reload()  # no longer offered
    expect(row(page, OFFERED_TO_REJECT).get_by_role("button", name="签收")).to_have_count(0)


def test_the_supplier_reads_the_lineage_of_a_held_credential(page: Page) -> None:
    open_inbox(page)
    row(page, HELD).get_by_role("link", name="流转记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("凭证流转记录")
    main = page.get_by_role("main")
    expect(main).to_contain_text(NAMES["core"])
    expect(main).to_contain_text(yuan(HELD))
    expect(main).to_contain_text(chinese_date(MATURITY))
    expect(main.get_by_role("listitem").filter(has_text=NAMES["t1"])).to_have_count(1)
    screenshot(page, "lineage")
    axe_scan(page)
