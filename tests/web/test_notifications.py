"""The notifications inbox (/notifications): t2 was passed two credential pieces by t1
(world_notifications.py), and each transfer's ledger entry notified t2. Read marks are each
person's own, so each journey reads as its own person at t2 and finds both unread."""

from __future__ import annotations

import re

import pytest
from browsing import axe_scan, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES
from world_notifications import FIRST, SECOND

pytestmark = pytest.mark.browser

UNREAD = re.compile(r"^(\d+) 条未读$")


def menu_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="主菜单").get_by_role(
        "link", name=re.compile("^通知")
    )


def unread_in_menu(page: Page) -> int:
    """The count the menu shows, as a screen reader reads it (0: no count shown)."""
    hidden = menu_link(page).locator(".visually-hidden")
    if hidden.count() == 0:
        expect(menu_link(page)).to_have_accessible_name("通知")
        return 0
    found = UNREAD.match(hidden.inner_text().strip())
    assert found, f"the menu says {hidden.inner_text()!r}"
    count = int(found.group(1))
    expect(menu_link(page)).to_have_accessible_name(f"通知 {count} 条未读")
    return count


def row(page: Page, amount: str) -> Locator:
    return page.get_by_role("main").get_by_role("row").filter(has_text=yuan(amount))


def open_inbox(page: Page, username: str) -> int:
    """Sign in, read the count in the menu, follow it to the inbox; returns the count."""
    signin(page, username)
    count = unread_in_menu(page)
    menu_link(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("通知")
    return count


def test_a_person_reads_the_pieces_passed_to_the_firm_and_marks_them_read(page: Page) -> None:
    before = open_inbox(page, "t2-clerk")
    assert before >= 2  # the two transfers, at least
    first, second = row(page, FIRST), row(page, SECOND)
    for notification in (first, second):
        expect(notification).to_contain_text("转让给您")
        expect(notification).to_contain_text("（未读）")  # said to a screen reader
        expect(notification.locator("strong")).to_be_visible()  # and shown in bold
        expect(notification).to_contain_text(NAMES["t1"])  # who passed it, by name
    expect(page.get_by_role("link", name=f"未读（{before}）")).to_be_visible()
    screenshot(page, "notifications")
    axe_scan(page)

    first.get_by_role("button", name="标为已读").click()  # htmx swaps the row
    expect(first).not_to_contain_text("（未读）")
    expect(first.get_by_role("button", name="标为已读")).to_have_count(0)
    expect(first.get_by_role("button", name="查看")).to_be_visible()
    expect(second).to_contain_text("（未读）")
    expect(menu_link(page)).to_have_accessible_name(f"通知 {before - 1} 条未读")

    page.get_by_role("link", name=re.compile(r"^未读（")).click()
    expect(row(page, FIRST)).to_have_count(0)  # read: not in the unread list
    expect(row(page, SECOND)).to_be_visible()
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_role("main")).to_contain_text("所有通知均已阅读。")
    expect(menu_link(page)).to_have_accessible_name("通知")
    page.get_by_role("link", name="全部", exact=True).click()
    expect(row(page, SECOND)).not_to_contain_text("（未读）")


def test_opening_a_notification_goes_to_the_credential_and_marks_it_read(page: Page) -> None:
    before = open_inbox(page, "t2-cashier")
    page.goto("/notifications?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(row(page, SECOND).first).to_contain_text("passed to you")
    screenshot(page, "notifications")
    axe_scan(page)
    page.goto("/notifications?lang=zh-CN")
    row(page, SECOND).get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(r"/credentials/crd_"))
    expect(page.get_by_role("heading", level=1)).to_have_text("凭证流转记录")
    expect(page.get_by_role("main")).to_contain_text(yuan(SECOND))
    menu_link(page).click()
    expect(menu_link(page)).to_have_accessible_name(f"通知 {before - 1} 条未读")
    expect(row(page, SECOND)).not_to_contain_text("（未读）")
    expect(row(page, FIRST)).to_contain_text("（未读）")  # only the one opened


def test_another_persons_read_marks_are_not_mine(page: Page) -> None:
    """Reading as one person at t2 leaves the notifications unread for the others."""
    before = open_inbox(page, "supplier2")
    assert before >= 2
    expect(row(page, FIRST)).to_contain_text("（未读）")
    expect(row(page, SECOND)).to_contain_text("（未读）")
