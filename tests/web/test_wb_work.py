"""The relationship manager's due diligence and alerts (/tasks, /alerts): a site visit
recorded on a phone with the browser's location and a photo whose SHA-256 is then shown on
the log's entry, and an alert acknowledged then resolved with a note. Each journey acts on
objects of its own (world_wb_work.py), so they run in any order."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator

import pytest
from browsing import PHONE, Portal, Watched, axe_scan, new_context, screenshot, signin
from playwright.sync_api import Browser, Page, expect
from portal_world import NAMES
from world_wb_work import ALERT_LEFT_OPEN, ALERT_TO_RESOLVE, FIRM

pytestmark = pytest.mark.browser

WHERE = {"latitude": 31.298912, "longitude": 120.585316, "accuracy": 15}
NOTE = "已电话核实：买方已于本周付清逾期货款，预警解除"


def png(width: int = 32, height: int = 24) -> bytes:
    """A real PNG photo (a red-to-blue gradient), made here so the test knows its bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((255 - 8 * x, 60, 8 * x)) for x in range(width))
        for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def phone(browser: Browser, portal: Portal) -> Iterator[Page]:
    """A phone-sized tab whose browser may tell the page where it is."""
    watched = Watched()
    context = new_context(browser, portal, refused=watched.off_server)
    context.grant_permissions(["geolocation"])
    context.set_geolocation(WHERE)
    tab = context.new_page()
    tab.set_viewport_size(PHONE)
    tab.on("console", watched.console)
    tab.on("pageerror", watched.page_error)
    try:
        yield tab
    finally:
        context.close()
    assert not watched.problems, "\n".join(watched.problems)


def test_a_site_visit_is_recorded_on_a_phone_with_its_location_and_photo(
    phone: Page, portal: Portal
) -> None:
    page = phone
    task_id = portal.world.extra["wb_work"]["site_visit"]
    signin(page, "bka-rm")
    page.get_by_role("link", name="尽职调查", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("尽职调查任务")
    row = page.locator(f"#task-{task_id}")
    expect(row).to_contain_text(NAMES["t1"])
    expect(row).to_contain_text("¥3,186,420.00")
    expect(row).to_contain_text("待办")
    expect(row.get_by_role("link", name="实地调查")).to_be_visible()
    row.get_by_role("link", name="实地调查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"实地调查 · {NAMES['t1']}")
    form = page.locator("form.visit-form")

    form.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#locate-status")).to_have_text("已填入位置，提交前请核对。")
    expect(form.get_by_label("纬度")).to_have_value("31.298912")
    expect(form.get_by_label("经度")).to_have_value("120.585316")
    expect(form.get_by_label("定位精度（米，选填）")).to_have_value("15")

    premises = form.get_by_role("group", name="经营场所是否已核实？")
    premises.get_by_label("是").check()
    form.get_by_role("group", name="生产是否正常进行？").get_by_label("是").check()
    form.get_by_label("现场库存价值（元）").fill("1280000.00")
    form.get_by_label("现场在岗人数（选填）").fill("36")
    form.get_by_label("走访发现").fill(
        "两条产线满负荷运转，成品库存与账面一致，门卫登记簿记录正常出货"
    )
    photo = png()
    form.get_by_label("现场照片").set_input_files(
        {"name": "厂区大门.png", "mimeType": "image/png", "buffer": photo}
    )
    expect(page.locator("#photo-list")).to_contain_text("厂区大门.png")
    # the form a relationship manager fills at the customer's gate, on the phone
    assert form.evaluate("f => f.getBoundingClientRect().width") <= PHONE["width"]
    submit = form.get_by_role("button", name="提交走访记录")
    assert submit.bounding_box()["height"] >= 44  # type: ignore[index]
    screenshot(page, "wb-work-site-visit")
    axe_scan(page)

    with page.expect_navigation():
        submit.click()
    digest = hashlib.sha256(photo).hexdigest()
    for _ in range(2):  # as recorded, and again after a reload
        expect(page.locator("#task-state")).to_have_text("已完成")
        expect(page.locator("#recorded-by")).to_have_text("rm")
        shown = page.locator(".photo code.sha256")
        expect(shown).to_have_text(digest)
        expect(page.locator(".photo")).to_contain_text("✓ 已随完成记录写入可验证账本")
        entry = page.locator("#ledger-entry")
        expect(entry).to_contain_text("task.site_visit_completed")
        expect(entry.locator("code.logged")).to_have_text(digest)
        expect(page.get_by_role("main")).to_contain_text("纬度 31.298912，经度 120.585316")
        page.reload()
    served = page.request.get(f"/tasks/{task_id}/photos/1")
    assert hashlib.sha256(served.body()).hexdigest() == digest
    screenshot(page, "wb-work-task-done")
    axe_scan(page)
    page.goto("/tasks?show=done")
    expect(page.locator(f"#task-{task_id}")).to_contain_text("已完成")


def test_a_refused_location_is_said_in_words(browser: Browser, portal: Portal) -> None:
    context = new_context(browser, portal)
    try:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.add_init_script(
            "navigator.geolocation.getCurrentPosition = (ok, fail) =>"
            " fail({code: 1, PERMISSION_DENIED: 1, message: 'denied'});"
        )
        signin(page, "bka-rm")
        page.goto(f"/tasks/{portal.world.extra['wb_work']['site_visit']}")
        button = page.get_by_role("button", name="使用我的位置")
        if button.count() == 0:  # the visit journey ran first: the task is done
            expect(page.locator("#task-state")).to_have_text("已完成")
            return
        button.click()
        expect(page.locator("#locate-status")).to_have_text(
            "定位权限被拒绝。请在浏览器设置中允许定位，或手动填写经纬度。"
        )
    finally:
        context.close()


def test_an_alert_is_acknowledged_then_resolved_with_a_note(page: Page, portal: Portal) -> None:
    alert_id = portal.world.extra["wb_work"]["alert"]
    signin(page, "bka-rm")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="预警").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("预警")
    row = page.locator(f"#alert-{alert_id}")
    expect(row.get_by_role("link", name=FIRM)).to_have_attribute(
        "href", f"/firms/{portal.world.extra['wb_work']['firm']}"
    )
    expect(row).to_contain_text("早期预警：回款逾期")
    expect(row).to_contain_text(ALERT_TO_RESOLVE)
    expect(row).to_contain_text("待处理")
    expect(page.get_by_role("main")).to_contain_text(ALERT_LEFT_OPEN)
    screenshot(page, "wb-work-alerts")
    axe_scan(page)

    row.get_by_role("button", name="确认接手").click()
    expect(row).to_contain_text("已确认")
    expect(row).to_contain_text("确认")
    expect(row.get_by_role("button", name="确认接手")).to_have_count(0)
    row.get_by_role("button", name="解除预警").click()
    expect(row.locator(f"#note-{alert_id}-error")).to_have_text(
        "请说明发现的情况和采取的措施：解除预警须填写处理说明。"
    )
    expect(row).to_contain_text("已确认")
    row.get_by_label("备注").fill(NOTE)
    row.get_by_role("button", name="解除预警").click()
    expect(row).to_contain_text("已解除")
    expect(row).to_contain_text(NOTE)

    page.reload()
    row = page.locator(f"#alert-{alert_id}")
    expect(row).to_contain_text("已解除")
    expect(row).to_contain_text(NOTE)
    expect(row.get_by_role("button")).to_have_count(0)
    page.goto("/alerts?state=resolved")
    expect(page.locator(f"#alert-{alert_id}")).to_be_visible()


def test_the_task_list_and_alerts_in_english(page: Page, portal: Portal) -> None:
    signin(page, "bka-rm")
    page.goto("/tasks?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Due-diligence tasks")
    task_id = portal.world.extra["wb_work"]["site_visit"]
    expect(page.locator(f"#task-{task_id}")).to_contain_text("Site visit")
    screenshot(page, "wb-work-tasks")
    axe_scan(page)
    page.goto("/tasks?lang=zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("尽职调查任务")
    screenshot(page, "wb-work-tasks")
    page.goto("/alerts?severity=medium&lang=en")
    table = page.get_by_role("table", name="Alerts of your bank")
    expect(table).to_contain_text("Early warning: sales falling")
    expect(table).not_to_contain_text("Early warning: payments overdue")
    screenshot(page, "wb-work-alerts")
