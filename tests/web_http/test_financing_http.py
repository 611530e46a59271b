"""Financing pages over HTTP (/financing): the refusals a person may meet, one behaviour per
test. The world is http_world's (t1 holds the credential the core issued once it accepts it;
banks A and B fund the programme on the same pricing), plus a loan product of bank A."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from http_world import Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    CredentialQuote,
    Financing,
    LoanApplication,
    TradeDocumentRow,
)
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.services import credentials, receivables
from chainfin.services.lending import applications, products


@pytest.fixture
def held(portal: Portal, session_factory: sessionmaker[Session]) -> str:
    """t1 accepts the piece offered to it: it may now have it discounted."""
    with transaction(session_factory) as s:
        credentials.accept(s, portal.world.ent("t1"), portal.piece_id)
    return portal.piece_id


@pytest.fixture
def product(portal: Portal, session_factory: sessionmaker[Session]) -> str:
    admin = Principal.staff(
        "usr_bka_admin", bank_id=portal.world.banks["BKA"], roles=[StaffRole.ADMIN]
    )
    with transaction(session_factory) as s:
        row = products.define(
            s,
            admin,
            code="RF",
            name="receivable financing",
            config={"kind": "receivable_financing"},
        )
        return row.id


def count(factory: sessionmaker[Session], model: type) -> int:
    with transaction(factory, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def ask(client: TestClient, piece_id: str) -> str:
    page = client.get(f"/financing/pieces/{piece_id}/quotes").text
    r = client.post(f"/financing/pieces/{piece_id}/quotes", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 200, r.text
    return r.text


def quote_ids(factory: sessionmaker[Session]) -> list[str]:
    with transaction(factory, write=False) as s:
        return list(s.scalars(select(CredentialQuote.id).order_by(CredentialQuote.created_at)))


def test_looking_at_the_comparison_asks_no_bank(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    r = client.get(f"/financing/pieces/{held}/quotes")
    assert r.status_code == 200
    assert "向各家银行询价" in r.text
    assert count(session_factory, CredentialQuote) == 0


def test_asking_without_the_csrf_token_is_refused_and_asks_no_bank(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    r = client.post(f"/financing/pieces/{held}/quotes")
    assert r.status_code == 403
    assert count(session_factory, CredentialQuote) == 0


def test_every_funder_bank_quotes_side_by_side(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    html = ask(client, held)
    assert ">bank A" in html
    assert ">bank B" in html
    assert "1年期LPR 3.00%" in html
    assert "最优报价" not in html  # equal offers: neither is best
    assert html.count("报价相同") == 4  # each bank's header, and each one's figure on a phone
    assert len(quote_ids(session_factory)) == 2


def test_another_firms_piece_is_not_found(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin")
    r = client.get(f"/financing/pieces/{held}/quotes")
    assert r.status_code == 404
    assert "1,234,567.89" not in r.text
    token = csrf_token(client.get("/financing").text)
    r = client.post(f"/financing/pieces/{held}/quotes", data={"csrf_token": token})
    assert r.status_code == 404
    assert count(session_factory, CredentialQuote) == 0


def test_accepting_a_quote_finances_the_piece(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    html = ask(client, held)
    first = quote_ids(session_factory)[0]
    r = client.post(
        f"/financing/quotes/{first}/accept",
        data={"csrf_token": csrf_token(html)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/financing/quotes/{first}/financing"
    page = client.get(r.headers["location"])
    assert "报价已接受" in page.text
    assert "应收账款登记" in page.text
    assert count(session_factory, Financing) == 1
    assert "已完成的融资" in (overview := client.get("/financing").text)
    assert f'/financing/pieces/{held}/quotes">比较报价' not in overview  # no longer held


def test_an_expired_quote_is_refused_with_a_button_for_fresh_quotes(
    client: TestClient,
    held: str,
    session_factory: sessionmaker[Session],
    world_clock: clock.FixedClock,
) -> None:
    sign_in(client, "t1-admin")
    ask(client, held)
    first = quote_ids(session_factory)[0]
    world_clock.advance(timedelta(hours=5))  # past the four hours; sign in again
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/financing").text)
    r = client.post(
        f"/financing/quotes/{first}/accept", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303  # back to the comparison, not left on the POST's address
    assert r.headers["location"] == f"/financing/pieces/{held}/quotes?refused=quote_expired"
    page = client.get(r.headers["location"])
    assert "该报价已过期" in page.text
    assert "重新询价" in page.text
    assert count(session_factory, Financing) == 0


def test_another_firms_quote_cannot_be_accepted(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    ask(client, held)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/financing").text)})
    sign_in(client, "t2-admin")
    first = quote_ids(session_factory)[0]
    token = csrf_token(client.get("/financing").text)
    r = client.post(f"/financing/quotes/{first}/accept", data={"csrf_token": token})
    assert r.status_code == 404
    assert client.get(f"/financing/quotes/{first}/financing").status_code == 404
    assert count(session_factory, Financing) == 0


def test_an_amount_that_is_not_a_number_is_refused_next_to_the_field(
    client: TestClient, held: str, product: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/apply?product={product}").text
    r = client.post(
        "/financing/apply",
        data={
            "csrf_token": csrf_token(page),
            "product": product,
            "amount": "五十万",
            "tenor_months": "2",
            "method": "bullet",
            "underlying": f"credential_piece:{held}",
            "payee_name": "t1",
            "payee_account": "6222020200112233445",
            "payee_agent": "102100099996",
        },
    )
    assert r.status_code == 422
    assert 'id="amount-error"' in r.text
    assert 'aria-invalid="true" aria-describedby="amount-error"' in r.text
    assert 'value="五十万"' in r.text  # what was typed is kept
    assert count(session_factory, LoanApplication) == 0


def test_a_service_refusal_of_a_field_is_shown_next_to_it(
    client: TestClient, held: str, product: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/apply?product={product}").text
    r = client.post(
        "/financing/apply",
        data={
            "csrf_token": csrf_token(page),
            "product": product,
            "amount": "100000.00",
            "tenor_months": "2",
            "method": "bullet",
            "underlying": f"credential_piece:{held}",
            "payee_name": "t1",
            "payee_account": "12-34",
            "payee_agent": "102100099996",
        },
    )
    assert r.status_code == 422
    assert 'id="payee_account-error"' in r.text
    assert "请输入收款账号" in r.text
    assert count(session_factory, LoanApplication) == 0


def test_another_firms_application_is_not_found(
    client: TestClient,
    portal: Portal,
    held: str,
    product: str,
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as s:
        app = applications.submit(
            s,
            portal.world.ent("t1"),
            bank="BKA",
            product=product,
            amount=Money.parse("100000.00"),
            tenor_months=3,
            method="bullet",
            underlying_kind="credential_piece",
            underlying_ref=held,
            payee=applications.Payment("t1", "6222020200112233445", "102100099996"),
        )
        app_id = app.id
    sign_in(client, "t1-admin")
    mine = client.get(f"/financing/applications/{app_id}")
    assert mine.status_code == 200
    assert "审批结果" in mine.text
    assert "贵司在该银行没有授信额度。" in mine.text  # the reason in words, not its code
    assert "line_missing" not in mine.text
    client.post("/logout", data={"csrf_token": csrf_token(mine.text)})
    sign_in(client, "t2-admin")
    r = client.get(f"/financing/applications/{app_id}")
    assert r.status_code == 404
    assert "100,000.00" not in r.text


# ---------------------------------------------------------------------------- fixes (issue 15)


@pytest.fixture
def pledged(held: str, portal: Portal, session_factory: sessionmaker[Session]) -> str:
    """t1's held piece, registered to bank A for a loan (as an approved loan against it
    registers it): it backs one financing already."""
    with transaction(session_factory) as s:
        receivables.register_credential_piece(
            s,
            SYSTEM,
            piece_id=held,
            creditor_id=portal.world.ids["t1"],
            debtor_id=portal.world.ids["core"],
            bank_id=portal.world.banks["BKA"],
            amount=Money(1_234_567_89),
            due_on=date(2027, 2, 20),
            financing_ref="loan_test",
        )
    return held


def test_a_pledged_piece_is_not_offered_for_financing(client: TestClient, pledged: str) -> None:
    sign_in(client, "t1-admin")
    overview = client.get("/financing").text
    assert f"/financing/pieces/{pledged}/quotes" not in overview
    assert "已质押/已用于贷款" in overview
    inbox = client.get("/credentials").text
    assert f"/financing/pieces/{pledged}/quotes" not in inbox
    assert "已质押/已用于贷款" in inbox
    page = client.get(f"/financing/pieces/{pledged}/quotes").text
    assert "该凭证已质押给银行用于贷款" in page
    assert "向各家银行询价" not in page  # refused up front: no button to ask


def test_asking_quotes_on_a_pledged_piece_is_refused_in_words(
    client: TestClient, pledged: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/financing").text)
    r = client.post(f"/financing/pieces/{pledged}/quotes", data={"csrf_token": token})
    assert r.status_code == 409
    assert "该凭证已质押给银行用于贷款" in r.text
    assert "registered" not in r.text
    assert "reg_01" not in r.text
    assert count(session_factory, CredentialQuote) == 0


def test_accepting_a_quote_on_a_piece_pledged_since_goes_back_with_the_reason(
    client: TestClient,
    held: str,
    portal: Portal,
    session_factory: sessionmaker[Session],
) -> None:
    sign_in(client, "t1-admin")
    html = ask(client, held)
    first = quote_ids(session_factory)[0]
    with transaction(session_factory) as s:  # a loan against the piece, meanwhile
        receivables.register_credential_piece(
            s,
            SYSTEM,
            piece_id=held,
            creditor_id=portal.world.ids["t1"],
            debtor_id=portal.world.ids["core"],
            bank_id=portal.world.banks["BKA"],
            amount=Money(1_234_567_89),
            due_on=date(2027, 2, 20),
            financing_ref="loan_test",
        )
    r = client.post(
        f"/financing/quotes/{first}/accept",
        data={"csrf_token": csrf_token(html)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/financing/pieces/{held}/quotes?refused=duplicate_financing"
    page = client.get(r.headers["location"]).text
    assert "该凭证已质押给银行用于贷款" in page
    assert "registered" not in page
    assert "reg_01" not in page
    assert count(session_factory, Financing) == 0
    home = client.get("/").text.split("可接受的报价")[-1]
    assert "暂无有效报价。" in home  # a quote on a pledged piece is moot
    assert "/v1/" not in home


def test_the_receipt_labels_the_platforms_registration_number(
    client: TestClient, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    html = ask(client, held)
    first = quote_ids(session_factory)[0]
    r = client.post(f"/financing/quotes/{first}/accept", data={"csrf_token": csrf_token(html)})
    assert "平台登记编号" in r.text
    assert 'class="copyable"' in r.text
    assert "动产融资统一登记公示系统" in r.text


def test_the_apply_form_offers_only_usable_underlyings(
    client: TestClient, held: str, product: str, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/apply?product={product}").text
    assert f"credential_piece:{held}" in page
    assert "债权凭证  ·" not in page
    assert "债权凭证 ·" in page
    assert "INV-C-1" not in page  # the credential's basis: already used
    assert 'role="alert"' not in page


def test_the_tenors_end_by_the_time_the_underlying_is_paid(
    client: TestClient, held: str, product: str
) -> None:
    sign_in(client, "t1-admin")
    r = client.get(
        "/financing/apply/tenors",
        params={"product": product, "underlying": f"credential_piece:{held}"},
    )
    assert r.status_code == 200
    assert 'value="2"' in r.text  # paid on 2027-02-22; today is 2026-12-07
    assert 'value="3"' not in r.text
    assert "2027年2月22日" in r.text  # the payment date: the next working day


def test_a_tenor_past_the_underlying_is_refused_at_the_field_with_a_summary(
    client: TestClient, held: str, product: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/apply?product={product}").text
    r = client.post(
        "/financing/apply",
        data={
            "csrf_token": csrf_token(page),
            "product": product,
            "amount": "100000.00",
            "tenor_months": "6",
            "method": "bullet",
            "underlying": f"credential_piece:{held}",
            "payee_name": "t1",
            "payee_account": "6222020200112233445",
            "payee_agent": "102100099996",
        },
    )
    assert r.status_code == 422
    assert 'class="error-summary" role="alert"' in r.text
    assert 'href="#tenor_months"' in r.text
    assert 'id="tenor_months-error"' in r.text
    assert "贷款到期日将晚于融资标的的付款日" in r.text
    assert count(session_factory, LoanApplication) == 0


def test_a_used_underlying_is_refused_at_the_field(
    client: TestClient,
    held: str,
    product: str,
    portal: Portal,
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory, write=False) as s:
        used = s.scalar(select(TradeDocumentRow.id).where(TradeDocumentRow.number == "INV-C-1"))
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/apply?product={product}").text
    r = client.post(
        "/financing/apply",
        data={
            "csrf_token": csrf_token(page),
            "product": product,
            "amount": "100000.00",
            "tenor_months": "2",
            "method": "bullet",
            "underlying": f"invoice:{used}",
            "payee_name": "t1",
            "payee_account": "6222020200112233445",
            "payee_agent": "102100099996",
        },
    )
    assert r.status_code == 422
    assert 'href="#underlying"' in r.text
    assert "请从列表中选择融资标的" in r.text
    assert count(session_factory, LoanApplication) == 0


def test_a_declined_application_names_its_underlying_and_the_overview_its_first_decision(
    client: TestClient,
    held: str,
    product: str,
    session_factory: sessionmaker[Session],
    portal: Portal,
) -> None:
    with transaction(session_factory) as s:
        used = s.scalar(select(TradeDocumentRow.id).where(TradeDocumentRow.number == "INV-C-1"))
        app = applications.submit(
            s,
            portal.world.ent("t1"),
            bank="BKA",
            product=product,
            amount=Money.parse("100000.00"),
            tenor_months=2,
            method="bullet",
            underlying_kind="invoice",
            underlying_ref=str(used),
            payee=applications.Payment("t1", "6222020200112233445", "102100099996"),
        )
        app_id = app.id
    sign_in(client, "t1-admin")
    page = client.get(f"/financing/applications/{app_id}").text
    financed_against = page.split("融资标的")[1].split("</dd>")[0]
    assert "发票" in financed_against
    assert "INV-C-1" in financed_against
    assert "3,000,000.00" in financed_against  # the invoice's total: the rules valued none
    overview = client.get("/financing").text
    assert "当前状态" in overview
    assert "首次决定" in overview
    assert "系统审批拒绝" in overview
