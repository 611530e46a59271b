"""Trade documents in the browser: 铜陵极片 (``supplier2``) uploads CSV, JSON Lines and UBL
files; 恒锂电芯 (``supplier``) reads its documents, confirms an invoice it received and
reads how its trades match. Every journey starts from sign-in and uses documents of its own
(world_trade_documents.py; the uploads their own numbers), so they run in any order."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from browsing import ROOT, axe_scan, chinese_date, screenshot, signin, yuan
from playwright.sync_api import Locator, Page, expect
from portal_world import NAMES

from credit_world import uscc
from worldclock import WORLD_DAY

pytestmark = pytest.mark.browser

T1, T2 = uscc(4), uscc(5)  # 恒锂电芯 buys from 铜陵极片
COLUMNS = ["kind", "number", "seller_uscc", "buyer_uscc", "issue_date", "currency", "total"]
COLUMNS += ["tax", "order_number", "delivery_number", "invoice_number", "lines"]
LINES = json.dumps(
    [
        {
            "item": "极片",
            "quantity": "50",
            "unit": "卷",
            "unit_price": "200.00",
            "amount": "10000.00",
        }
    ],
    ensure_ascii=False,
)
PEPPOL = ROOT / "tests" / "data" / "reference" / "ubl21" / "peppol_bis3_base-example.xml"


def row(kind: str, number: str, **extra: str) -> dict[str, str]:
    base = {"kind": kind, "number": number, "seller_uscc": T2, "buyer_uscc": T1}
    day = WORLD_DAY.isoformat()
    return {**base, "issue_date": day, "currency": "CNY", "total": "10000.00", **extra}


def three_good_one_bad() -> bytes:
    """An order, its delivery note and the invoice; row 5 has a date that does not exist."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        [
            row("purchase_order", "UP-PO-1", lines=LINES),
            row("delivery_note", "UP-DN-1", order_number="UP-PO-1", lines=LINES),
            row(
                "invoice",
                "UP-INV-1",
                total="11300.00",
                tax="1300.00",
                order_number="UP-PO-1",
                delivery_number="UP-DN-1",
                invoice_number="26320000000000200001",
                lines=LINES,
            ),
            row("purchase_order", "UP-PO-2", issue_date="2026-13-01"),
        ]
    )
    return out.getvalue().encode()


def peppol_invoice() -> bytes:
    """The Peppol BIS 3 base example, as 铜陵极片's invoice to 恒锂电芯 in yuan, carrying its
    official 全电 number as cbc:ID."""
    xml = PEPPOL.read_text(encoding="utf-8")
    return (
        xml.replace("GB983294", T2)
        .replace("39937423947", T1)
        .replace("<cbc:ID>Snippet1<", "<cbc:ID>26320000000000300001<")
        .replace("EUR", "CNY")
        .replace("2017-11-13", WORLD_DAY.isoformat())
        .replace("2017-12-01", (WORLD_DAY + timedelta(days=30)).isoformat())
        .encode()
    )


def open_upload(page: Page, user: str = "supplier2") -> None:
    signin(page, user)
    page.get_by_role("navigation").get_by_role("link", name="贸易单据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("贸易单据")
    page.get_by_role("link", name="上传单据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("上传贸易单据")


def send(page: Page, name: str, body: bytes, mime: str, *, partial: bool = False) -> Locator:
    form = page.get_by_role("region", name="选择文件")
    form.get_by_label("文件：CSV、JSON Lines 或一张 UBL 2.1 XML 发票").set_input_files(
        {"name": name, "mimeType": mime, "buffer": body}
    )
    partial_box = form.get_by_role("checkbox", name="部分接收")
    if partial:
        partial_box.check()
    else:
        partial_box.uncheck()
    form.get_by_role("button", name="上传", exact=True).click()
    outcome = page.get_by_role("region", name=re.compile("的处理结果"))
    expect(outcome).to_be_visible()
    return outcome


def count(outcome: Locator, label: str) -> Locator:
    return outcome.locator(".counts div").filter(has_text=label).locator("dd")


def errors(outcome: Locator) -> Locator:
    return outcome.get_by_role("table", name="未接收的行及原因").locator("tbody tr")


def test_supplier2_uploads_a_csv_all_or_nothing_then_partly_then_again(page: Page) -> None:
    open_upload(page)
    body = three_good_one_bad()
    refused = send(page, "发货清单.csv", body, "text/csv")
    expect(refused).to_contain_text("未写入任何单据")
    expect(count(refused, "已接收")).to_have_text("0")
    expect(count(refused, "未接收")).to_have_text("1")
    (bad,) = errors(refused).all()
    expect(bad.locator("td").nth(0)).to_have_text("5")
    expect(bad.locator("td").nth(1)).to_have_text("单据日期 (issue_date)")
    expect(bad.locator("td").nth(2)).to_have_text("2026-13-01 不是有效的日历日期。")
    screenshot(page, "upload-errors")
    axe_scan(page)
    page.get_by_role("link", name="返回贸易单据").click()
    expect(page.get_by_role("main")).not_to_contain_text("UP-PO-1")  # nothing was written

    page.get_by_role("link", name="上传单据").click()
    partly = send(page, "发货清单.csv", body, "text/csv", partial=True)
    expect(count(partly, "已接收")).to_have_text("3")
    expect(count(partly, "未接收")).to_have_text("1")
    expect(partly).to_contain_text("无误的行已写入")
    expect(errors(partly)).to_have_count(1)
    expect(errors(partly).first).to_contain_text("单据日期 (issue_date)")
    screenshot(page, "upload-partial")
    axe_scan(page)

    partly.get_by_role("link", name="在列表中查看").click()
    listed = page.get_by_role("main").get_by_role("row")
    for number in ("UP-PO-1", "UP-DN-1", "UP-INV-1"):
        expect(listed.filter(has_text=number)).to_have_count(1)
    invoice = listed.filter(has_text="UP-INV-1")
    expect(invoice).to_contain_text(NAMES["t1"])  # the buyer, by name
    expect(invoice).to_contain_text(yuan("11300.00"))
    expect(invoice).to_contain_text(chinese_date(WORLD_DAY))
    expect(invoice).to_contain_text("等待买方确认")

    page.get_by_role("link", name="上传单据").click()
    again = send(page, "发货清单.csv", body, "text/csv", partial=True)
    expect(count(again, "已接收")).to_have_text("0")
    expect(count(again, "已存在（未重复写入）")).to_have_text("3")
    page.goto("/documents")
    expect(page.get_by_role("main").get_by_role("row").filter(has_text="UP-INV-1")).to_have_count(1)


def test_supplier2_uploads_json_lines(page: Page) -> None:
    open_upload(page)
    body = "\n".join(
        json.dumps(row(kind, number, **extra), ensure_ascii=False)
        for kind, number, extra in (
            ("purchase_order", "JL-PO-1", {}),
            ("delivery_note", "JL-DN-1", {"order_number": "JL-PO-1"}),
        )
    ).encode()
    outcome = send(page, "orders.jsonl", body, "application/x-ndjson")
    expect(count(outcome, "已接收")).to_have_text("2")
    expect(count(outcome, "未接收")).to_have_text("0")
    expect(outcome).to_contain_text("单据已入库")


def test_supplier2_uploads_a_ubl_invoice(page: Page) -> None:
    open_upload(page)
    outcome = send(page, "invoice.xml", peppol_invoice(), "application/xml")
    expect(count(outcome, "已接收")).to_have_text("1")
    outcome.get_by_role("link", name="在列表中查看").click()
    page.get_by_label("单据类型").select_option(label="发票")
    page.get_by_role("button", name="查看").click()
    invoice = page.get_by_role("main").get_by_role("row").filter(has_text="26320000000000300001")
    expect(invoice).to_have_count(1)
    expect(invoice).to_contain_text(NAMES["t1"])
    expect(invoice).to_contain_text(yuan("1656.25"))


def test_the_upload_page_offers_samples_made_for_the_firm(page: Page) -> None:
    open_upload(page)
    samples = page.get_by_role("region", name="示例文件")
    with page.expect_download() as csv_download:
        samples.get_by_role("link", name=re.compile("CSV 示例")).click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("kind,number,seller_uscc,buyer_uscc,issue_date")
    assert T2 in text
    assert T1 in text


def test_the_supplier_reads_its_documents(page: Page) -> None:
    signin(page, "supplier")
    page.get_by_role("navigation").get_by_role("link", name="贸易单据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("贸易单据")
    rows = page.get_by_role("main").get_by_role("row")
    confirmed = rows.filter(has_text="TD-INV-100")
    expect(confirmed).to_contain_text("发票")
    expect(confirmed).to_contain_text(NAMES["t2"])  # the seller, by name
    expect(confirmed).to_contain_text(yuan("135600.00"))
    expect(confirmed).to_contain_text("买方已确认")
    waiting = rows.filter(has_text="TD-INV-200")
    expect(waiting).to_contain_text("待您确认")
    expect(waiting.get_by_role("button", name=re.compile("^确认"))).to_be_visible()
    expect(rows.filter(has_text="TD-PO-100")).to_contain_text("无需确认")
    expect(rows.filter(has_text="INV-C-1")).to_contain_text(NAMES["core"])  # its own sales too
    screenshot(page, "documents")
    axe_scan(page)
    page.get_by_label("我方角色").select_option(label="我方为卖方")
    page.get_by_role("button", name="查看").click()
    expect(rows.filter(has_text="INV-C-1")).to_have_count(1)
    expect(rows.filter(has_text="TD-INV-100")).to_have_count(0)
    page.goto("/documents?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trade documents")
    expect(rows.filter(has_text="TD-INV-200")).to_contain_text("Awaiting your confirmation")
    screenshot(page, "documents")
    axe_scan(page)
    page.goto("/documents?lang=zh-CN")


def test_the_supplier_confirms_an_invoice_it_received(page: Page) -> None:
    signin(page, "supplier")
    page.goto("/documents?side=buyer&kind=invoice")
    invoice = page.get_by_role("main").get_by_role("row").filter(has_text="TD-INV-500")
    expect(invoice).to_contain_text("待您确认")
    invoice.get_by_role("button", name=re.compile("^确认")).click()
    expect(invoice).to_contain_text("买方已确认")
    expect(invoice.get_by_role("button")).to_have_count(0)
    page.reload()
    expect(invoice).to_contain_text("买方已确认")
    invoice.get_by_role("link", name="TD-INV-500").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("发票 TD-INV-500")
    expect(page.get_by_role("main")).to_contain_text(NAMES["t2"])
    axe_scan(page)


def test_the_supplier_reads_how_its_trades_match(page: Page) -> None:
    signin(page, "supplier")
    page.get_by_role("navigation").get_by_role("link", name="贸易单据").click()
    page.get_by_role("link", name="交易匹配情况").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("交易匹配")
    cases = page.get_by_role("main").get_by_role("row")
    # the supplier has more trades than a page holds: it looks these up by number
    page.get_by_label("单据编号或相关方").fill("TD-")
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.get_by_label("单据编号或相关方")).to_have_value("TD-")
    matched = cases.filter(has_text="采购订单 TD-PO-100")
    expect(matched).to_contain_text("已匹配")
    expect(matched).to_contain_text(NAMES["t2"])
    expect(matched).to_contain_text("全部相符")
    mismatch = cases.filter(has_text="采购订单 TD-PO-200")
    expect(mismatch).to_contain_text("不匹配")
    expect(mismatch).to_contain_text("数量不符：应为 500，实为 480。")
    expect(mismatch).to_contain_text("单价不符：约定 ¥120.00，实收 ¥125.00。")
    expect(mismatch).to_contain_text(
        "日期顺序不符：发票 TD-INV-200 的日期为 2026年11月1日，应为不早于 2026年11月6日。"
    )
    expect(cases.filter(has_text="采购订单 TD-PO-300")).to_contain_text(
        "送货单 TD-DN-300 尚无收货单。"
    )
    missing = cases.filter(has_text="发票 TD-INV-400")
    expect(missing).to_contain_text("单据不全")
    expect(missing).to_contain_text("引用的采购订单 TD-PO-999 未在平台上")
    screenshot(page, "trade-cases")
    axe_scan(page)
    mismatch.get_by_role("link", name="采购订单 TD-PO-200").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("交易：采购订单 TD-PO-200")
    documents = page.get_by_role("region", name="本笔交易的单据").get_by_role("row")
    for number in ("TD-PO-200", "TD-DN-200", "TD-GR-200", "TD-INV-200"):
        expect(documents.filter(has_text=number)).to_have_count(1)
    screenshot(page, "trade-case")
    axe_scan(page)
