"""Dealer financing (/dealer): the dealer x reads its prepayment loan, the goods released
against each repayment and what remains pledged (world_dealer.py builds them)."""

from __future__ import annotations

import pytest
from browsing import Portal, axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Page, expect
from portal_world import NAMES
from world_dealer import ITEM, OVERDUE_PRINCIPAL, PRINCIPAL

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
    paid_out = applications.filter(has_text="已放款").filter(has_text=yuan("600000.00"))
    expect(paid_out).to_contain_text(yuan(PRINCIPAL))
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


def test_an_overdue_loan_comes_first_with_what_to_pay_and_what_to_quote(
    page: Page, portal: Portal
) -> None:
    overdue = portal.world.extra["dealer"]["overdue"]
    signin(page, "dealer")
    page.goto("/dealer")
    notice = page.get_by_role("region", name="您有 1 笔贷款已逾期，请尽快还款")
    expect(notice).to_contain_text(overdue["reference"])
    expect(notice).to_contain_text("次级")
    expect(notice).to_contain_text(f"还款时请注明参考号 {overdue['reference']}")
    loans = page.get_by_role("region", name="融资与质押货物").get_by_role("row")
    expect(loans.nth(1)).to_contain_text(overdue["reference"])  # first, after the header
    screenshot(page, "dealer-overdue")

    notice.get_by_role("link", name=overdue["reference"]).click()
    card = page.get_by_role("region", name="该笔贷款已逾期，请尽快还款")
    expect(card).to_contain_text("逾期天数")
    expect(card).to_contain_text(yuan(OVERDUE_PRINCIPAL))  # every instalment is late
    for label in ("当前逾期金额", "逾期利息", "罚息", "五级分类"):
        expect(card).to_contain_text(label)
    expect(card).to_contain_text("回购担保")
    screenshot(page, "dealer-loan-overdue")
    axe_scan(page)
    page.goto(f"/dealer/loans/{overdue['loan_id']}?lang=en")
    card = page.get_by_role("region", name="This loan is overdue: repay it now")
    expect(card).to_contain_text("Substandard")
    expect(card).to_contain_text(f"Quote reference {overdue['reference']} when you pay")
    axe_scan(page)


def test_another_firms_loan_is_not_found(page: Page, portal: Portal) -> None:
    ids = portal.world.extra["dealer"]
    signin(page, "supplier")
    response = page.goto(f"/dealer/loans/{ids['loan_id']}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("main")).not_to_contain_text(ids["reference"])
