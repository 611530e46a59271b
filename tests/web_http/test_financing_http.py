"""Financing pages over HTTP (/financing): the refusals a person may meet, one behaviour per
test. The world is http_world's (t1 holds the credential the core issued once it accepts it;
banks A and B fund the programme on the same pricing), plus a loan product of bank A."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from http_world import Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CredentialQuote, Financing, LoanApplication
from chainfin.domain import clock
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.services import credentials
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
    assert "最优报价" in html  # equal offers are all best
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
    r = client.post(f"/financing/quotes/{first}/accept", data={"csrf_token": token})
    assert r.status_code == 409
    assert "该报价已过期" in r.text
    assert "重新询价" in r.text
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
            "tenor_months": "3",
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
            "tenor_months": "3",
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
