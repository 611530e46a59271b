"""The treasury desk over HTTP: each test names one refusal or rule a core's treasurer
relies on (the journeys themselves are in tests/web/test_treasury.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from http_world import Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    Credential,
    DocumentConfirmation,
    PayableConfirmation,
    TradeDocumentRow,
)
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import auth, credentials, documents


@dataclass
class Desk:
    portal: Portal
    small_programme_id: str  # BKA's line of 1,000,000.00 for the core
    to_confirm_id: str  # an invoice from t1 awaiting the core's confirmation
    stranger_doc_id: str  # an invoice from t2 to t1: none of the core's business
    sold_doc_id: str  # an invoice the core billed to x: the core is its seller
    used_doc_id: str  # INV-C-1, confirmed and already backing the world's 确权


def _rows(world: credit_world.CreditWorld) -> list[dict[str, str]]:
    def invoice(number: str, serial: int, seller: int, buyer: int) -> dict[str, str]:
        return {
            "kind": "invoice",
            "number": number,
            "seller_uscc": credit_world.uscc(seller),
            "buyer_uscc": credit_world.uscc(buyer),
            "issue_date": "2026-11-20",
            "currency": "CNY",
            "total": "50000.00",
            "tax": "0.00",
            "invoice_number": f"2632000000000000{serial:04d}",
            "due_date": "2027-02-20",
        }

    return [invoice("INV-D-1", 8101, 4, 3), invoice("INV-D-2", 8102, 5, 4)]


@pytest.fixture
def desk(portal: Portal, session_factory: sessionmaker[Session]) -> Desk:
    world = portal.world
    with transaction(session_factory) as s:
        auth.create_user(
            s,
            SYSTEM,
            username="core-admin",
            password="correct horse battery",
            roles=["enterprise_admin"],
            display_name="王海",
            enterprise_uscc=credit_world.uscc(3),
        )
        first, second = documents.parse_rows(_rows(world))
        mine = documents.ingest(s, world.ent("t1"), [first]).rows[0].document_id
        other = documents.ingest(s, world.ent("t2"), [second]).rows[0].document_id
        sold = {**_rows(world)[0], "number": "INV-D-3", "invoice_number": "26320000000000008103"}
        sold |= {"seller_uscc": credit_world.uscc(3), "buyer_uscc": credit_world.uscc(7)}
        sold_id = documents.ingest(s, world.ent("core"), documents.parse_rows([sold]))
        small = credentials.create_programme(
            s,
            world.staff("BKA"),
            core=credit_world.uscc(3),
            name="small programme",
            line=Money(1_000_000_00),
            rating="AAA",
        )
        used = s.scalars(select(TradeDocumentRow.id).where(TradeDocumentRow.number == "INV-C-1"))
        return Desk(
            portal,
            small.id,
            str(mine),
            str(other),
            str(sold_id.rows[0].document_id),
            used.one(),
        )


def _form(client: TestClient, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def at_field(html: str, field: str, reason: str) -> bool:
    """The reason is in the message linked to the field (``<p id="<field>-error">``)."""
    return re.search(f'id="{field}-error"[^>]*>[^<]*{re.escape(reason)}', html) is not None


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------- who


def test_the_desk_is_for_core_enterprises(client: TestClient, desk: Desk) -> None:
    sign_in(client, "t1-admin")
    r = client.get("/treasury")
    assert r.status_code == 403
    assert "资金管理仅供核心企业使用" in r.text


def test_a_supplier_cannot_issue_from_the_desk(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/credentials").text)
    before = _count(session_factory, Credential)
    r = client.post(
        "/treasury/issue",
        data={"csrf_token": token, "programme_id": desk.small_programme_id, "amount": "1.00"},
    )
    assert r.status_code == 403
    assert _count(session_factory, Credential) == before


# ---------------------------------------------------------------------------- confirmations


def test_a_confirmation_without_the_token_is_refused(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    r = client.post("/treasury/confirmations", data={"document_ids": [desk.to_confirm_id]})
    assert r.status_code == 403
    with session_factory() as s:
        assert s.get(DocumentConfirmation, desk.to_confirm_id) is None


def test_confirming_selected_invoices_shows_each_outcome(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    """One transaction per document: the seller's own invoice is refused, the other stays
    confirmed."""
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/confirmations")
    r = client.post(
        "/treasury/confirmations",
        data={"csrf_token": token, "document_ids": [desk.to_confirm_id, desk.sold_doc_id]},
    )
    assert r.status_code == 200  # after the redirect: a reload reads, never confirms again
    assert r.url.path == "/treasury/confirmations"
    results = r.text[r.text.index("处理结果") :]
    assert "INV-D-1" in results
    assert "已确认" in results
    assert "INV-D-3" in results
    assert "只有买方才能确认单据" in results
    with session_factory() as s:
        assert s.get(DocumentConfirmation, desk.to_confirm_id) is not None
        assert s.get(DocumentConfirmation, desk.sold_doc_id) is None


def test_another_firms_document_in_the_url_is_not_found(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/confirmations")
    r = client.post(f"/treasury/confirmations/{desk.stranger_doc_id}", data={"csrf_token": token})
    assert r.status_code == 404
    assert "INV-D-2" not in r.text
    with session_factory() as s:
        assert s.get(DocumentConfirmation, desk.stranger_doc_id) is None


def test_confirming_nothing_says_to_choose(client: TestClient, desk: Desk) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/confirmations")
    r = client.post("/treasury/confirmations", data={"csrf_token": token})
    assert r.status_code == 422
    assert "请至少选择一份单据" in r.text


# ---------------------------------------------------------------------------- 确权


def test_a_basis_already_used_is_refused_at_the_field(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/payables")
    before = _count(session_factory, PayableConfirmation)
    r = client.post(
        "/treasury/payables",
        data={
            "csrf_token": token,
            "basis": "documents",
            "document_ids": [desk.used_doc_id],
            "amount": "1000.00",
            "due_on": "2027-02-20",
        },
    )
    assert r.status_code == 409
    assert at_field(r.text, "document_ids", "这些单据已用于其他确权")
    assert _count(session_factory, PayableConfirmation) == before


def test_an_unconfirmed_invoice_cannot_back_a_payable(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/payables")
    r = client.post(
        "/treasury/payables",
        data={
            "csrf_token": token,
            "document_ids": [desk.to_confirm_id],
            "amount": "1000.00",
            "due_on": "2027-02-20",
        },
    )
    assert r.status_code == 422
    assert at_field(r.text, "document_ids", "请选择同一供应商开给贵司且已确认的单据")
    assert _count(session_factory, PayableConfirmation) == 1  # the world's own


@pytest.mark.parametrize(
    ("amount", "due_on", "field", "reason"),
    [
        ("", "2027-02-20", "amount", "请输入金额"),
        ("12,34x", "2027-02-20", "amount", "请输入金额，如 1234.56"),
        ("0", "2027-02-20", "amount", "请输入大于零的金额"),
        ("1000.00", "next week", "due_on", "请输入日期"),
    ],
)
def test_bad_payable_input_is_refused_at_its_field(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    amount: str,
    due_on: str,
    field: str,
    reason: str,
) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/payables")
    with transaction(session_factory) as s:
        documents.confirm(s, desk.portal.world.ent("core"), desk.to_confirm_id)
    r = client.post(
        "/treasury/payables",
        data={
            "csrf_token": token,
            "document_ids": [desk.to_confirm_id],
            "amount": amount,
            "due_on": due_on,
        },
    )
    assert r.status_code == 422
    assert at_field(r.text, field, reason)
    assert _count(session_factory, PayableConfirmation) == 1


def _chain(world: credit_world.CreditWorld) -> list[dict[str, object]]:
    """A matched trade: order, delivery, receipt, invoice and payment from t1 to the core."""
    base = {"seller_uscc": credit_world.uscc(4), "buyer_uscc": credit_world.uscc(3)}
    base |= {"currency": "CNY", "total": "1130.00", "tax": "130.00"}
    line = {"item": "电芯", "quantity": "10", "unit": "件", "unit_price": "100.00"}
    lines = json.dumps([{**line, "amount": "1000.00"}])
    order, delivery = {"order_number": "PO-T"}, {"delivery_number": "DN-T"}
    official = {"invoice_number": "26320000000000000777"}

    def doc(kind: str, number: str, day: str, **extra: object) -> dict[str, object]:
        return {**base, "kind": kind, "number": number, "issue_date": day, **extra}

    return [
        doc("purchase_order", "PO-T", "2026-11-01", lines=lines),
        doc("delivery_note", "DN-T", "2026-11-03", lines=lines, **order),
        doc("goods_receipt", "GR-T", "2026-11-05", lines=lines, **order, **delivery),
        doc("invoice", "INV-T", "2026-11-06", lines=lines, due_date="2027-02-06", **order,
            **delivery, **official),
        doc("payment", "PAY-T", "2026-11-20", **official),
    ]  # fmt: skip


def test_a_payable_is_confirmed_on_a_matched_trade_case(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        documents.ingest(
            s, desk.portal.world.ent("t1"), documents.parse_rows(_chain(desk.portal.world))
        )
    sign_in(client, "core-admin")
    page = client.get("/treasury/payables").text
    assert "PO-T" in page  # offered as a basis
    key = page.split('<option value="', 2)[2].split('"', 1)[0]
    r = client.post(
        "/treasury/payables",
        data={
            "csrf_token": csrf_token(page),
            "basis": "trade_case",
            "trade_case": key,
            "amount": "1130.00",
            "due_on": "2027-02-06",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with session_factory() as s:
        made = s.scalars(
            select(PayableConfirmation).where(PayableConfirmation.basis == "trade_case")
        ).one()
        assert made.trade_case_key == key
        assert made.amount_minor == 1130_00
    after = client.get("/treasury/payables").text
    choices = after[after.index('<select id="trade_case"') : after.index("</select>")]
    assert key not in choices  # its invoice now backs a confirmation


# ---------------------------------------------------------------------------- issue


def _issue(client: TestClient, desk: Desk, **fields: str) -> object:
    token = _form(client, "/treasury/issue")
    data = {
        "csrf_token": token,
        "programme_id": desk.small_programme_id,
        "confirmation_ids": desk.portal.world.confirmation_id,
        "amount": "500000.00",
        "maturity_on": "2027-01-15",
        **fields,
    }
    return client.post("/treasury/issue", data=data, follow_redirects=False)


def test_an_amount_over_the_available_limit_is_refused_at_the_amount(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    before = _count(session_factory, Credential)
    r = _issue(client, desk, amount="1000000.01")
    assert r.status_code == 409  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert at_field(html, "amount", "金额超过凭证计划的可用额度")
    assert 'value="1000000.01"' in html  # what was typed stays
    assert _count(session_factory, Credential) == before


@pytest.mark.parametrize(
    ("fields", "field", "reason", "status"),
    [
        ({"maturity_on": "2027-06-30"}, "maturity_on", "到期日超出凭证计划的期限上限", 422),
        ({"maturity_on": "2026-11-26"}, "maturity_on", "到期日须晚于今天", 422),
        ({"maturity_on": ""}, "maturity_on", "请输入日期", 422),
        ({"amount": "50.00"}, "amount", "低于凭证计划的最小拆分金额", 422),
        ({"confirmation_ids": ""}, "confirmation_ids", "请至少选择一项确权", 422),
        ({"confirmation_ids": "payable_nope"}, "confirmation_ids", "同一供应商的确权", 422),
        ({"programme_id": "prg_nope"}, "programme_id", "请选择贵司的凭证计划", 422),
    ],
)
def test_bad_issue_input_is_refused_at_its_field(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    fields: dict[str, str],
    field: str,
    reason: str,
    status: int,
) -> None:
    sign_in(client, "core-admin")
    before = _count(session_factory, Credential)
    r = _issue(client, desk, **fields)
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert at_field(r.text, field, reason)  # type: ignore[attr-defined]
    assert _count(session_factory, Credential) == before


def test_the_issue_preview_shows_the_limit_and_a_provisional_payment_date(
    client: TestClient, desk: Desk
) -> None:
    sign_in(client, "core-admin")
    params = {
        "programme_id": desk.small_programme_id,
        "confirmation_ids": desk.portal.world.confirmation_id,
        "amount": "1200000",
        "maturity_on": "2027-01-01",
    }
    r = client.get("/treasury/issue/preview", params=params)
    assert r.status_code == 200
    assert "¥1,000,000.00" in r.text  # available
    assert "¥200,000.00" in r.text  # over by
    assert "2027年1月4日" in r.text  # New Year's Day rolled to the Monday
    assert "（暂定）" in r.text


def test_a_credential_is_issued_and_offered_to_the_supplier(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    r = _issue(client, desk)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    with session_factory() as s:
        made = s.scalars(
            select(Credential).where(Credential.programme_id == desk.small_programme_id)
        ).one()
        assert made.face_minor == 500_000_00
        assert made.status == "offered"
        assert made.first_holder_id == desk.portal.world.ids["t1"]
    book = client.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert "¥500,000.00" in book
    assert "待签收" in book


# ---------------------------------------------------------------------------- payment run


def test_settling_before_the_payment_date_is_refused(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    portal = desk.portal
    with transaction(session_factory) as s:
        credentials.accept(s, portal.world.ent("t1"), portal.piece_id)
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/calendar")
    r = client.post(f"/treasury/settle/{portal.credential_id}", data={"csrf_token": token})
    assert r.status_code == 200
    assert "该凭证尚未到期，请于兑付日兑付" in r.text[r.text.index("处理结果") :]
    with session_factory() as s:
        credential = s.get(Credential, portal.credential_id)
        assert credential is not None
        assert credential.status == "active"
        assert credential.settled_minor == 0


def test_a_credential_due_today_is_settled_in_full(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    world = desk.portal.world
    with transaction(session_factory) as s:
        due = credentials.issue(
            s,
            world.ent("core"),
            programme_id=world.programme_id,
            confirmation_ids=[world.confirmation_id],
            amount=Money(88_000_00),
            maturity_on=credit_world.ISSUED_ON,
            issued_on=date(2026, 10, 26),
        )
        (root,) = credentials.tree(s, SYSTEM, due.id)
        credentials.accept(s, world.ent("t1"), root.id)
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/calendar")
    r = client.post("/treasury/settle", data={"csrf_token": token, "credential_ids": [due.id]})
    assert r.status_code == 200
    assert "已兑付" in r.text[r.text.index("处理结果") :]
    with session_factory() as s:
        paid = s.get(Credential, due.id)
        assert paid is not None
        assert paid.status == "settled"


def test_another_firms_credential_in_the_url_is_not_found(client: TestClient, desk: Desk) -> None:
    sign_in(client, "core-admin")
    token = _form(client, "/treasury/calendar")
    r = client.post("/treasury/settle/crd_nope", data={"csrf_token": token})
    assert r.status_code == 404


def test_settling_without_the_token_is_refused(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "core-admin")
    r = client.post(f"/treasury/settle/{desk.portal.credential_id}")
    assert r.status_code == 403


# ---------------------------------------------------------------------------- many to confirm


def _many(world: credit_world.CreditWorld, n: int) -> list[dict[str, str]]:
    """``n`` invoices from t1 to the core, INV-P-001 the first received."""
    return [
        {
            "kind": "invoice",
            "number": f"INV-P-{i:03d}",
            "seller_uscc": credit_world.uscc(4),
            "buyer_uscc": credit_world.uscc(3),
            "issue_date": "2026-11-10",
            "currency": "CNY",
            "total": f"{1000 + i}.00",
            "tax": "0.00",
            "invoice_number": f"2632000000000007{i:04d}",
            "due_date": "2027-02-10",
        }
        for i in range(1, n + 1)
    ]


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="document-([^"]+)"', html)


def test_many_invoices_to_confirm_are_paged_newest_first_and_searched(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        documents.ingest(
            s, desk.portal.world.ent("t1"), documents.parse_rows(_many(desk.portal.world, 60))
        )
        total = documents.count_awaiting(s, desk.portal.world.ent("core"))
    assert total > 60  # and the fixture's own
    sign_in(client, "core-admin")
    # the overview counts them all, not a page
    overview = client.get("/treasury").text
    tile = overview[overview.index('id="tile-confirm"') :]
    assert f'<p class="figure">{total}</p>' in tile
    first = client.get("/treasury/confirmations")
    assert first.status_code == 200
    assert f"({total})" in first.text
    shown = _row_ids(first.text)
    assert len(shown) == 50
    assert first.text.index("INV-P-060") < first.text.index("INV-P-059")  # the newest first
    assert "INV-P-001" not in first.text
    more = re.search(r'href="(/treasury/confirmations\?cursor=[^"]+)">下一页', first.text)
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "INV-P-001" in second.text
    assert not set(_row_ids(second.text)) & set(shown)
    assert "第一页" in second.text
    # a number, in part, finds it among them all
    found = client.get("/treasury/confirmations", params={"q": "inv-p-007"})
    assert len(_row_ids(found.text)) == 1
    assert "INV-P-007" in found.text
    assert "1 份单据与“inv-p-007”匹配" in found.text
    # the supplier's name finds its documents, a page at a time, the search kept when paging
    by_seller = client.get("/treasury/confirmations", params={"q": "t1"}).text
    assert len(_row_ids(by_seller)) == 50
    assert re.search(r'href="/treasury/confirmations\?q=t1&amp;cursor=', by_seller)
    nothing = client.get("/treasury/confirmations", params={"q": "100%_"})  # wildcards as typed
    assert _row_ids(nothing.text) == []
    assert "没有与搜索条件匹配的待确认单据" in nothing.text


def test_a_page_link_not_issued_by_the_page_is_refused(client: TestClient, desk: Desk) -> None:
    sign_in(client, "core-admin")
    r = client.get("/treasury/confirmations", params={"cursor": "not a cursor!"})
    assert r.status_code == 422
    assert "该翻页链接已失效" in r.text
    assert _row_ids(r.text) == []


def test_a_trade_case_is_offered_by_its_supplier_document_and_amount(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        documents.ingest(
            s, desk.portal.world.ent("t1"), documents.parse_rows(_chain(desk.portal.world))
        )
    sign_in(client, "core-admin")
    page = client.get("/treasury/payables").text
    choices = page[page.index('<select id="trade_case"') : page.index("</select>")]
    value, text = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', choices)[0]
    assert value.startswith("purchase_order/")  # the key is the option's value only
    assert value.endswith("/PO-T")
    assert "/" not in text  # a person reads words, not the key
    assert text.startswith("t1 · 采购订单 PO-T · ¥1,130.00")
    assert "2026年11月6日" in text
    english = client.get("/treasury/payables?lang=en").text
    assert "t1 · Purchase order PO-T · CN¥1,130.00 · invoiced November 6, 2026" in english


def test_the_payment_run_names_whom_the_credential_is_paid_to(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    world = desk.portal.world
    with transaction(session_factory) as s:
        due = credentials.issue(
            s,
            world.ent("core"),
            programme_id=world.programme_id,
            confirmation_ids=[world.confirmation_id],
            amount=Money(77_000_00),
            maturity_on=credit_world.ISSUED_ON,
            issued_on=date(2026, 10, 26),
        )
        (root,) = credentials.tree(s, SYSTEM, due.id)
        credentials.accept(s, world.ent("t1"), root.id)
        moved = credentials.transfer(
            s, world.ent("t1"), root.id, to=credit_world.uscc(5), amount=Money(27_000_00)
        )
        credentials.accept(s, world.ent("t2"), moved.offered.id)
    sign_in(client, "core-admin")
    page = client.get("/treasury/calendar").text
    row = page[page.index(f'id="due-{due.id}"') :]
    row = row[: row.index("</tr>")]
    assert "当前持有人" in page
    assert '<li>t1 · <span class="num">¥50,000.00</span>' in row
    assert '<li>t2 · <span class="num">¥27,000.00</span>' in row
