"""The bank's administration (/admin), as 星湖银行's administrator ``bka-admin`` (吴刚) uses it:
a new staff member is created, signs in and finds their area, has their roles changed and
is deactivated (their open page then asks them to sign in); an API client is created and
its secret, shown once, gets a token at /oauth/token; a credit authority level is granted
and listed; an enterprise administrator awaiting verification is activated. The refusals
are in tests/web_http/test_wb_admin_http.py. Each journey acts on its own people
(world_wb_admin.py)."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from browsing import Portal, axe_scan, new_context, screenshot, signin
from playwright.sync_api import Browser, Page, expect
from world_wb_admin import APPROVER, FIRM_ADMIN, FIRM_NAME, FIRM_USCC, NEW_STAFF

pytestmark = pytest.mark.browser


def open_admin(page: Page, section: str | None = None) -> None:
    signin(page, "bka-admin")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="系统管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("系统管理")
    if section:
        page.get_by_role("navigation", name="系统管理页面").get_by_role(
            "link", name=section
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)


def test_the_overview_counts_the_banks_administration(page: Page) -> None:
    open_admin(page)
    figures = page.get_by_role("list", name="系统管理概况")
    expect(figures).to_contain_text("待核实")
    expect(page.get_by_role("region", name="员工")).to_contain_text("银行管理员")
    screenshot(page, "wb-admin-overview")
    axe_scan(page)
    page.goto("/admin?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    screenshot(page, "wb-admin-overview")
    axe_scan(page)


def test_an_admin_creates_a_staff_member_changes_their_roles_and_deactivates_them(
    page: Page, browser: Browser, portal: Portal
) -> None:
    username, name = NEW_STAFF
    open_admin(page, "员工")
    form = page.get_by_role("form", name="新增员工")
    form.get_by_label("姓名").fill(name)
    form.get_by_label("用户名").fill(username)
    form.get_by_role("checkbox", name="客户经理").uncheck()
    form.get_by_role("checkbox", name="风险经理").check()
    expect(form.get_by_role("checkbox", name="风险经理")).to_have_accessible_description(
        "监测资产组合、预警与账簿；从风险角度把关。"
    )
    form.get_by_role("button", name="新增员工").click()
    expect(page.get_by_role("status")).to_contain_text(username)
    password = page.locator(".secret").inner_text().strip()
    row = page.locator("tr", has_text=username)
    expect(row).to_contain_text("风险经理")
    screenshot(page, "wb-admin-users")
    axe_scan(page)

    elsewhere = new_context(browser, portal)
    try:
        theirs = elsewhere.new_page()
        signin(theirs, username, password)
        menu = theirs.get_by_role("navigation", name="主菜单")
        expect(menu.get_by_role("link", name="组合风险")).to_be_visible()
        expect(menu.get_by_role("link", name="尽职调查")).to_have_count(0)

        page.reload()
        row = page.locator("tr", has_text=username)
        row.get_by_role("checkbox", name="客户经理").check()
        row.get_by_role("button", name=f"修改角色（{name}）").click()
        expect(page.get_by_role("status")).to_have_text("角色已修改。")
        expect(page.locator("tr", has_text=username)).to_contain_text("客户经理")
        theirs.reload()
        expect(menu.get_by_role("link", name="尽职调查")).to_be_visible()

        page.locator("tr", has_text=username).get_by_role("button", name=f"停用{name}").click()
        expect(page.get_by_role("status")).to_contain_text("已停用")
        row = page.locator("tr", has_text=username)
        expect(row).to_contain_text("已停用")
        expect(row.get_by_role("button", name=f"重新启用{name}")).to_be_visible()
        theirs.reload()
        expect(theirs.locator("input[name='password'][type='password']")).to_be_visible()
        expect(theirs.get_by_role("navigation", name="主菜单")).to_have_count(0)
    finally:
        elsewhere.close()


def test_an_admin_activates_an_enterprise_administrator_awaiting_verification(
    page: Page, browser: Browser, portal: Portal
) -> None:
    username, name = FIRM_ADMIN
    open_admin(page, "员工")
    pending = page.get_by_role("region", name="待核实的企业管理员")
    row = pending.locator("tr", has_text=FIRM_USCC)
    expect(row).to_contain_text(FIRM_NAME)
    expect(row).to_contain_text("星湖新能源汽车销售有限公司")  # who invited them
    row.get_by_role("button", name=f"激活{name}（{FIRM_NAME}）").click()
    expect(page.get_by_role("status")).to_contain_text("企业管理员已激活")
    expect(pending.locator("tr", has_text=FIRM_USCC)).to_have_count(0)
    elsewhere = new_context(browser, portal)
    try:
        theirs = elsewhere.new_page()
        signin(theirs, username)
        expect(theirs.get_by_role("banner")).to_contain_text(FIRM_NAME)
    finally:
        elsewhere.close()


def test_an_admin_creates_an_api_client_whose_secret_gets_a_token(
    page: Page, portal: Portal
) -> None:
    open_admin(page, "API 客户端")
    form = page.get_by_role("form", name="创建 API 客户端")
    form.get_by_label("客户端名称").fill("信贷核心系统")
    form.get_by_role("checkbox", name="查阅产品、申请与贷款").check()
    form.get_by_role("button", name="创建客户端").click()
    shown = page.get_by_role("status")
    expect(shown).to_contain_text("信贷核心系统")
    client_id = shown.locator(".client-id").inner_text().strip()
    secret = shown.locator(".secret").inner_text().strip()
    row = page.locator("tr", has_text=client_id)
    expect(row).to_contain_text("loans:read")
    screenshot(page, "wb-admin-clients")
    axe_scan(page)
    r = httpx.post(
        f"{portal.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "loans:read registry:read"
    page.goto("/admin/clients?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("API clients")
    screenshot(page, "wb-admin-clients")
    axe_scan(page)


def test_an_admin_grants_a_credit_authority_level(page: Page) -> None:
    username, name = APPROVER
    open_admin(page, "审批权限")
    form = page.get_by_role("form", name="授予或调整权限级别")
    form.get_by_label("员工").select_option(label=f"{name} ({username})")
    form.get_by_label("权限级别").select_option("2")
    form.get_by_role("button", name="保存权限级别").click()
    expect(page.get_by_role("status")).to_have_text("审批权限已保存。")
    holders = page.get_by_role("region", name="谁可以审批")
    row = holders.locator("tr", has_text=username)
    expect(row.locator(".level")).to_have_text("2")
    page.reload()
    expect(
        page.get_by_role("region", name="谁可以审批").locator("tr", has_text=username)
    ).to_be_visible()
    screenshot(page, "wb-admin-authorities")
    axe_scan(page)
