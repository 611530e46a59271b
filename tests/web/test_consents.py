"""The consent centre (/consents): the supplier grants a bank named data categories for
named purposes until a date, revokes a grant at once, and reads who read its data. Each
journey has its own grant (see portal_world.py), so they run in any order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browsing import HAN, axe_scan, chinese_date, screenshot, signin
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES

from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser


def open_centre(page: Page) -> None:
    signin(page, "supplier")
    page.get_by_role("navigation").get_by_role("link", name="数据授权").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据授权")


def grants(page: Page) -> Locator:
    section = page.get_by_role("region", name="授权记录")
    return section.get_by_role("row")


def test_the_supplier_grants_a_bank_access_to_named_data(page: Page) -> None:
    until = WORLD_DAY + timedelta(days=90)
    open_centre(page)
    form = page.get_by_role("region", name="向银行授权")
    form.get_by_label("银行", exact=True).select_option(label=NAMES["bank B"])
    form.get_by_role("checkbox", name="物流").check()
    form.get_by_role("checkbox", name="贷后监控").check()
    form.get_by_label("有效期至（含当日）").fill(until.isoformat())
    form.get_by_role("button", name="授权", exact=True).click()
    granted = grants(page).filter(has_text=NAMES["bank B"]).filter(has_text="物流")
    expect(granted).to_have_count(1)
    expect(granted).to_contain_text("贷后监控")
    expect(granted).to_contain_text("生效中")
    expect(granted).to_contain_text(chinese_date(until))  # the day the person chose
    expect(granted.get_by_role("button", name=NAMES["bank B"])).to_be_visible()  # revocable


def test_a_grant_without_categories_is_refused_with_the_reason_next_to_the_field(
    page: Page,
) -> None:
    open_centre(page)
    form = page.get_by_role("region", name="向银行授权")
    form.get_by_label("银行", exact=True).select_option(label=NAMES["bank A"])
    form.get_by_role("checkbox", name="授信评估").check()
    form.get_by_label("有效期至（含当日）").fill((WORLD_DAY + timedelta(days=30)).isoformat())
    form.get_by_role("button", name="授权", exact=True).click()
    categories = form.get_by_role("group", name="数据类别")
    expect(categories.locator(".error")).to_be_visible()
    expect(categories.locator(".error")).to_contain_text(HAN)
    expect(form.get_by_label("银行", exact=True)).to_have_value("BKA")  # the choice stays
    expect(form.get_by_role("checkbox", name="授信评估")).to_be_checked()
    screenshot(page, "consents-refused")
    axe_scan(page)


def test_the_supplier_revokes_a_grant_at_once(page: Page) -> None:
    open_centre(page)
    grant = grants(page).filter(has_text=NAMES["bank B"]).filter(has_text="发票")
    expect(grant).to_contain_text("生效中")
    grant.get_by_role("button", name=NAMES["bank B"]).click()
    expect(grant).to_contain_text("已撤销")
    expect(grant.get_by_role("button")).to_have_count(0)
    page.reload()
    revoked = grants(page).filter(has_text=NAMES["bank B"]).filter(has_text="发票")
    expect(revoked).to_contain_text("已撤销")


def test_the_supplier_reads_who_read_its_data(page: Page) -> None:
    open_centre(page)
    log = page.get_by_role("region", name="数据访问记录").get_by_role("row")
    # the portal world's own read (other journeys' worlds add reads of their own)
    allowed = log.filter(has_text=NAMES["bank A"]).filter(has_text="INV-C-1")
    expect(allowed).to_contain_text("发票")
    expect(allowed).to_contain_text("授信评估")
    expect(allowed).to_contain_text("允许")
    expect(allowed).to_contain_text(chinese_date(WORLD_DAY))
    refused = log.filter(has_text=NAMES["bank B"])
    expect(refused).to_contain_text("财务报表")
    expect(refused).to_contain_text("拒绝")
    screenshot(page, "consents")
    axe_scan(page)
