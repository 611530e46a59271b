"""Trade documents over HTTP (/documents, /documents/upload, /trade-cases): each test names
one behaviour, and every refusal is checked to have written nothing."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from http_world import Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import DocumentConfirmation, TradeDocumentRow
from chainfin.web.trade_documents import ENVELOPE_BYTES, FILE_MAX_BYTES
from credit_world import uscc

T1, T2 = uscc(4), uscc(5)  # t1 buys from t2
COLUMNS = ["kind", "number", "seller_uscc", "buyer_uscc", "issue_date", "currency", "total"]
COLUMNS += ["tax", "order_number", "invoice_number", "lines"]
LINES = json.dumps(
    [{"item": "极片", "quantity": "10", "unit": "件", "unit_price": "100.00", "amount": "1000.00"}]
)


def row(kind: str, number: str, **extra: str) -> dict[str, str]:
    base = {"kind": kind, "number": number, "seller_uscc": T2, "buyer_uscc": T1}
    return {**base, "issue_date": "2026-11-20", "currency": "CNY", "total": "1000.00", **extra}


def csv_of(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def good_and_bad(prefix: str) -> bytes:
    """Three good rows (an order, its delivery note, the invoice) and a bad date in row 5."""
    return csv_of(
        [
            row("purchase_order", f"{prefix}-PO", lines=LINES),
            row("delivery_note", f"{prefix}-DN", order_number=f"{prefix}-PO", lines=LINES),
            row(
                "invoice",
                f"{prefix}-INV",
                total="1130.00",
                tax="130.00",
                order_number=f"{prefix}-PO",
                invoice_number="26320000000000000777",
                lines=LINES,
            ),
            row("purchase_order", f"{prefix}-PO2", issue_date="2026-13-01"),
        ]
    )


def count(factory: sessionmaker[Session]) -> int:
    with transaction(factory, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(TradeDocumentRow)) or 0)


def upload(
    client: TestClient,
    body: bytes,
    name: str = "batch.csv",
    *,
    partial: bool = False,
    fmt: str = "auto",
    token: bool = True,
) -> object:
    data = {"format": fmt}
    if partial:
        data["partial"] = "1"
    if token:
        data["csrf_token"] = csrf_token(client.get("/documents/upload").text)
    return client.post("/documents/upload", data=data, files={"file": (name, body, "text/csv")})


def errors_table(html: str) -> list[list[str]]:
    table = re.search(r'<table class="row-errors"[^>]*>(.*?)</table>', html, re.S)
    assert table, "no errors table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
        if "<td" in r
    ]


# ---------------------------------------------------------------------------- the list


def test_the_list_shows_my_documents_with_the_counterparty_named(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/documents").text
    assert "INV-C-1" in html
    assert "发票" in html
    assert "core" in html  # the buyer, by name
    assert "¥3,000,000.00" in html
    assert "2026年11月20日" in html
    assert "买方已确认" in html  # the core confirmed it
    assert portal.world.ids["core"] not in html


def test_the_list_filters_by_side_and_kind(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    assert "INV-C-1" in client.get("/documents?side=seller&kind=invoice").text
    assert "INV-C-1" not in client.get("/documents?side=buyer").text
    assert "INV-C-1" not in client.get("/documents?kind=purchase_order").text


def test_an_unknown_filter_is_refused_next_to_its_field(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    r = client.get("/documents?kind=receipt")
    assert r.status_code == 422
    assert 'id="kind-error"' in r.text
    assert 'aria-describedby="kind-error"' in r.text


def test_the_list_pages_with_a_next_link(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin")
    many = [row("purchase_order", f"PG-{n:03d}") for n in range(55)]
    assert upload(client, csv_of(many)).status_code == 200
    first = client.get("/documents").text
    found = re.search(r'href="/documents\?cursor=([^"]+)"', first)
    assert found, "no next-page link"
    second = client.get(f"/documents?cursor={found.group(1)}").text
    assert "PG-054" in second
    assert "PG-054" not in first
    assert "下一页" not in second


def test_another_firms_document_is_not_found(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    mine = re.search(r'href="/documents/(doc_[^"]+)"', client.get("/documents").text)
    assert mine
    client.cookies.clear()
    sign_in(client, "t2-admin")
    r = client.get(f"/documents/{mine.group(1)}")
    assert r.status_code == 404
    assert "INV-C-1" not in r.text


def test_bank_staff_are_sent_to_their_own_pages(client: TestClient, portal: Portal) -> None:
    sign_in(client, "bka-rm")
    assert client.get("/documents").status_code == 403
    assert client.get("/trade-cases").status_code == 403


# ---------------------------------------------------------------------------- uploads


def test_without_partial_mode_one_bad_row_writes_nothing(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    r = upload(client, good_and_bad("AON"))
    assert r.status_code == 422
    assert count(session_factory) == before
    assert errors_table(r.text) == [
        ["5", "单据日期 (issue_date)", "2026-13-01 不是有效的日历日期。"]
    ]
    assert "未写入任何单据" in r.text


def test_partial_mode_writes_the_good_rows_and_lists_the_bad(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin", lang="en")
    r = upload(client, good_and_bad("PRT"), partial=True)
    assert r.status_code == 200
    assert count(session_factory) == before + 3
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", r.text))
    assert counts == {"Accepted": "3", "Already on file": "0", "Not accepted": "1"}
    assert errors_table(r.text) == [
        ["5", "Document date (issue_date)", "2026-13-01 is not a date on the calendar."]
    ]


def test_the_same_file_again_is_already_on_file_not_doubled(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin", lang="en")
    body = csv_of([row("purchase_order", "TWICE-1"), row("purchase_order", "TWICE-2")])
    assert upload(client, body).status_code == 200
    before = count(session_factory)
    again = upload(client, body)
    assert again.status_code == 200
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", again.text))
    assert counts == {"Accepted": "0", "Already on file": "2", "Not accepted": "0"}
    assert count(session_factory) == before


def test_an_unknown_buyer_is_named_in_the_reason(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    stranger = uscc(99)
    before = count(session_factory)
    sign_in(client, "t2-admin")
    r = upload(client, csv_of([row("purchase_order", "UNK-1", buyer_uscc=stranger)]))
    assert r.status_code == 422
    assert errors_table(r.text) == [
        ["2", "买方统一社会信用代码 (buyer_uscc)", f"{stranger} 不是在平台登记的企业。"]
    ]
    assert count(session_factory) == before


def test_a_file_too_large_is_refused_before_it_is_read(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    big = csv_of([row("purchase_order", "BIG-1")]) + b"#" * (FILE_MAX_BYTES + ENVELOPE_BYTES)
    r = upload(client, big, token=False)  # refused from its length: the form is never parsed
    assert r.status_code == 413
    assert 'id="file-error"' in r.text
    assert "文件超过 512 KB" in r.text
    assert count(session_factory) == before


def test_a_file_just_over_the_limit_is_refused_too(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    body = csv_of([row("purchase_order", "BIG-2")])
    r = upload(client, body + b"#" * (FILE_MAX_BYTES + 1 - len(body)))
    assert r.status_code == 413
    assert "文件超过 512 KB" in r.text
    assert count(session_factory) == before


def test_no_file_is_refused_naming_the_field(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    token = csrf_token(client.get("/documents/upload").text)
    r = client.post("/documents/upload", data={"csrf_token": token, "format": "auto"})
    assert r.status_code == 422
    assert 'aria-describedby="file-hint file-error"' in r.text
    assert "请选择要上传的文件" in r.text
    assert count(session_factory) == before


@pytest.mark.parametrize(
    ("name", "body", "fmt", "field", "reason"),
    [
        ("notes.txt", b"kind;number\n", "auto", "format", "无法判断"),
        ("batch.csv", b"<?xml version='1.0'?><x/>", "ubl", "XML 文件", "UBL 2.1"),
        ("batch.jsonl", b"kind,number\npurchase_order,X\n", "auto", "文件", "JSON"),
    ],
)
def test_a_wrong_format_is_refused_saying_why(
    client: TestClient,
    portal: Portal,
    session_factory: sessionmaker[Session],
    name: str,
    body: bytes,
    fmt: str,
    field: str,
    reason: str,
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    r = upload(client, body, name, fmt=fmt)
    assert r.status_code == 422
    if field == "format":
        assert 'id="format-error"' in r.text
        assert reason in r.text
    else:
        ((_row, where, why),) = errors_table(r.text)
        assert where == field
        assert reason in why
    assert count(session_factory) == before


def test_an_upload_without_the_token_is_refused(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "t2-admin")
    r = upload(client, csv_of([row("purchase_order", "NOTOKEN-1")]), token=False)
    assert r.status_code == 403
    assert "表单已失效" in r.text
    assert count(session_factory) == before


def test_bank_staff_cannot_upload(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    before = count(session_factory)
    sign_in(client, "bka-rm")
    token = csrf_token(client.get("/").text)
    r = client.post(
        "/documents/upload",
        data={"csrf_token": token},
        files={"file": ("b.csv", csv_of([row("purchase_order", "BANK-1")]), "text/csv")},
    )
    assert r.status_code == 403
    assert count(session_factory) == before


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xml"])
def test_the_sample_is_the_firms_own_and_uploads_as_it_is(
    client: TestClient, portal: Portal, fmt: str
) -> None:
    sign_in(client, "t2-admin", lang="en")
    sample = client.get(f"/documents/samples/{fmt}")
    assert sample.status_code == 200
    assert "attachment" in sample.headers["content-disposition"]
    assert T2 in sample.text  # this firm is the seller
    assert T1 in sample.text  # its customer the buyer
    r = upload(client, sample.content, f"sample.{fmt}")
    assert r.status_code == 200, r.text
    assert "The documents are on file." in r.text


def test_an_unknown_sample_is_not_found(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t2-admin")
    assert client.get("/documents/samples/xlsx").status_code == 404


# ---------------------------------------------------------------------------- confirmation


def test_the_seller_waits_and_the_buyer_confirms(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin")
    body = csv_of(
        [
            row(
                "invoice",
                "CONF-INV",
                total="1130.00",
                tax="130.00",
                invoice_number="26320000000000000888",
            )
        ]
    )
    assert upload(client, body).status_code == 200
    assert "等待买方确认" in client.get("/documents?kind=invoice").text
    client.cookies.clear()
    sign_in(client, "t1-admin")
    html = client.get("/documents?side=buyer").text
    found = re.search(r'hx-post="/documents/(doc_[^"]+)/confirm"', html)
    assert found
    assert "待您确认" in html
    doc_id = found.group(1)
    no_token = client.post(f"/documents/{doc_id}/confirm")
    assert no_token.status_code == 403
    r = client.post(
        f"/documents/{doc_id}/confirm",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(html)},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<tr id="document-{doc_id}"')
    assert "买方已确认" in r.text
    with transaction(session_factory, write=False) as s:
        assert s.get(DocumentConfirmation, doc_id) is not None


def test_the_seller_may_not_confirm(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/documents").text
    doc_id = re.search(r'href="/documents/(doc_[^"]+)"', html)
    assert doc_id
    r = client.post(f"/documents/{doc_id.group(1)}/confirm", data={"csrf_token": csrf_token(html)})
    assert r.status_code in (403, 422)


# ---------------------------------------------------------------------------- trade cases


def test_trade_cases_show_status_and_reasons(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t2-admin")
    body = csv_of(
        [
            row("purchase_order", "TC-PO", lines=LINES),
            row(
                "invoice",
                "TC-INV",
                issue_date="2026-11-10",
                total="1130.00",
                tax="130.00",
                order_number="TC-MISSING",
                invoice_number="26320000000000000999",
                lines=LINES,
            ),
        ]
    )
    assert upload(client, body).status_code == 200
    html = client.get("/trade-cases").text
    assert "采购订单 TC-PO" in html
    assert "部分匹配" in html  # the order has no delivery note yet
    assert "采购订单 TC-PO 尚无送货单。" in html
    assert "单据不全" in html
    assert "发票 TC-INV 引用的采购订单 TC-MISSING 未在平台上。" in html
    case = re.search(r'href="(/trade-cases/purchase_order/[^"]+/TC-PO)"', html)
    assert case
    page = client.get(case.group(1))
    assert page.status_code == 200
    assert "TC-PO" in page.text
    assert 'href="/documents/doc_' in page.text


def test_an_unknown_trade_case_is_not_found(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    r = client.get(f"/trade-cases/purchase_order/{T1}/NOPE")
    assert r.status_code == 404
