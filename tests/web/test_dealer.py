"""Dealer financing (/dealer): the dealer x reads its prepayment loan, the goods released
against each repayment and what remains pledged (world_dealer.py builds them)."""

from __future__ import annotations

import pytest
from browsing import Portal, axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Page, expect
from portal_world import NAMES
from world_dealer import ITEM, PRINCIPAL

from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser


def test_the_dealer_reads_what_was_released_and_what_remains(page: Page, portal: Portal) -> None:
    ids = portal.world.extra["dealer"]
    signin(page, "dealer")
    # The menu links 经销商融资 for a firm registered as a dealer; the common world
    # registers x as a supplier (tests/credit_world.py), so the journey goes by address.
    page.goto("/dealer")
    expect(page.get_by_role("heading", level=1)).to_have_text("经销商融资")

    loans = page.get_by_role("region", name="融资与质押货物")
    loan = loans.get_by_role("row").filter(has_text=ids["reference"])
    expect(loan).to_contain_text(yuan(PRINCIPAL))
    expect(loan).to_contain_text(NAMES["bank A"])
    for figure in ("200000.00", "225000.00", "375000.00", "75000.00"):
        expect(loan).to_contain_text(yuan(figure))  # outstanding, released, pledged, due out
    expect(loan).to_contain_text("200%")

    releases = page.get_by_role("region", name="还款放货记录").get_by_role("row")
    first = releases.filter(has_text=f"{ITEM} 10 套")
    expect(first).to_contain_text(yuan("150000.00"))
    expect(first).to_contain_text(f"{chinese_date(WORLD_DAY)}还款 {yuan('100000.00')}")
    expect(releases.filter(has_text=f"{ITEM} 5 套")).to_contain_text(yuan("75000.00"))

    applications = page.get_by_role("region", name="融资申请").get_by_role("row")
    expect(applications.filter(has_text="已拒绝")).to_contain_text("超过融资比例上限")
    expect(applications.filter(has_text="已放款")).to_contain_text(yuan(PRINCIPAL))
    screenshot(page, "dealer")
    axe_scan(page)

    loan.get_by_role("link", name=ids["reference"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ids["reference"])
    remaining = page.get_by_role("region", name="待释放货物")
    expect(remaining).to_contain_text(yuan("375000.00"))
    expect(remaining).to_contain_text(yuan("400000.00"))  # 25 sets at today's price
    expect(remaining).to_contain_text("200%")
    expect(remaining.get_by_role("row").filter(has_text=ITEM)).to_contain_text("25 套")
    expect(remaining.get_by_role("status")).to_contain_text(f"由{NAMES['bank A']}办理放货")
    repayments = page.get_by_role("region", name="还款记录").get_by_role("row")
    expect(repayments.filter(has_text="提前还款")).to_have_count(2)
    screenshot(page, "dealer-loan")
    axe_scan(page)


def test_another_firms_loan_is_not_found(page: Page, portal: Portal) -> None:
    ids = portal.world.extra["dealer"]
    signin(page, "supplier")
    response = page.goto(f"/dealer/loans/{ids['loan_id']}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("main")).not_to_contain_text(ids["reference"])
