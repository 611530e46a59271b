"""The account page (/account): a person changes their password, ends a session signed in
elsewhere; an enterprise administrator invites a colleague and removes them. Each journey
acts on people of its own (world_account.py)."""

from __future__ import annotations

import pytest
from browsing import Portal, axe_scan, new_context, screenshot, signin
from playwright.sync_api import Browser, Page, expect
from portal_world import PASSWORD
from world_account import INVITED, PEOPLE

pytestmark = pytest.mark.browser

NEW_PASSWORD = "river stone lantern 42"


def open_account(page: Page, username: str, password: str = PASSWORD) -> None:
    signin(page, username, password)
    page.get_by_role("navigation").get_by_role("link", name="账户").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("账户")


def expect_signed_out(page: Page) -> None:
    expect(page.locator("input[name='password'][type='password']")).to_be_visible()
    expect(page.get_by_role("navigation", name="主菜单")).to_have_count(0)


def test_a_person_changes_their_password(page: Page) -> None:
    open_account(page, "acct-pw")
    form = page.get_by_role("region", name="修改密码")
    form.get_by_label("当前密码", exact=True).fill("not my password at all")
    form.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    form.get_by_role("button", name="修改密码").click()
    current = form.get_by_label("当前密码", exact=True)
    expect(current).to_have_attribute("aria-invalid", "true")
    expect(current).to_have_accessible_description("当前密码不正确。")
    current.fill(PASSWORD)
    form.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    form.get_by_role("button", name="修改密码").click()
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    expect(page.get_by_role("heading", level=1)).to_have_text("账户")  # still signed in
    screenshot(page, "account")
    axe_scan(page)
    page.goto("/account?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Account")
    screenshot(page, "account")
    axe_scan(page)
    page.goto("/?lang=zh-CN")
    page.get_by_role("button", name="退出登录").click()
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='username']").fill("acct-pw")
    form.locator("input[name='password']").fill(PASSWORD)
    form.locator("[type='submit']").click()
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()  # the old one is refused
    signin(page, "acct-pw", NEW_PASSWORD)
    expect(page.get_by_role("banner")).to_contain_text(PEOPLE["acct-pw"][1])


def test_a_person_ends_the_session_they_opened_elsewhere(
    page: Page, browser: Browser, portal: Portal
) -> None:
    elsewhere = new_context(browser, portal)
    try:
        other = elsewhere.new_page()
        signin(other, "acct-two")
        open_account(page, "acct-two")
        sessions = page.get_by_role("region", name="登录设备")
        rows = sessions.get_by_role("row").filter(has=page.get_by_role("cell"))
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="当前会话")).to_have_count(1)
        screenshot(page, "account-sessions")
        axe_scan(page)
        rows.get_by_role("button", name="结束").click()
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("当前会话")
        other.reload()
        expect_signed_out(other)
        page.reload()
        expect(page.get_by_role("region", name="登录设备").get_by_role("row")).to_have_count(2)
    finally:
        elsewhere.close()


def test_an_admin_invites_a_colleague_and_removes_them(
    page: Page, browser: Browser, portal: Portal
) -> None:
    username, name = INVITED
    open_account(page, "acct-admin")
    colleagues = page.get_by_role("region", name="同事")
    invite = colleagues.get_by_role("form", name="邀请同事")
    invite.get_by_label("姓名").fill(name)
    invite.get_by_label("用户名").fill(username)
    expect(invite.get_by_role("checkbox", name="财务人员")).to_be_checked()
    invite.get_by_role("button", name="邀请").click()
    shown = page.get_by_role("status")
    expect(shown).to_contain_text(username)
    password = page.locator(".initial-password").inner_text().strip()
    row = colleagues.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("财务人员")
    expect(row).to_contain_text("从未登录")
    mine = colleagues.get_by_role("row").filter(has_text=PEOPLE["acct-admin"][1])
    expect(mine.get_by_role("button", name="移除")).to_have_count(0)  # not themselves
    screenshot(page, "account-colleagues")
    page.goto("/account")  # the answer to the invitation is a POST's: scan the page again
    axe_scan(page)

    elsewhere = new_context(browser, portal)
    try:
        theirs = elsewhere.new_page()
        signin(theirs, username, password)
        expect(theirs.get_by_role("banner")).to_contain_text(name)
        page.reload()
        row = page.get_by_role("region", name="同事").get_by_role("row").filter(has_text=name)
        expect(row.get_by_role("cell", name="从未登录")).to_have_count(0)
        row.get_by_role("button", name=f"移除{name}").click()
        expect(page.get_by_role("status")).to_contain_text("已移除该同事")
        row = page.get_by_role("region", name="同事").get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text("已移除")
        theirs.reload()
        expect_signed_out(theirs)
    finally:
        elsewhere.close()
