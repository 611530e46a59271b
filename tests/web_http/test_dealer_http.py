"""Dealer financing (/dealer) over HTTP: the dealer reads its applications, its loan, the
goods released against its repayments and what remains; another firm's loan is not found.
The loan is built as the browser world builds it (tests/web/world_dealer.py)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, sign_in
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal
from chainfin.services import auth
from credit_world import uscc
from lending_world import build_lending

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from world_dealer import build_dealer_loans, build_overdue_loan  # beside the browser world


@dataclass
class DealerWorld:
    ids: dict[str, Any]
    firm_ids: dict[str, str]


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> DealerWorld:
    lending = build_lending(session_factory)
    with transaction(session_factory) as s:
        users = {}
        for username, firm in (("x-admin", 7), ("t1-admin", 4)):
            made = auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=["enterprise_admin"],
                display_name=username,
                enterprise_uscc=uscc(firm),
            )
            users[username] = made.id
    dealer = Principal.enterprise_user(
        users["x-admin"],
        enterprise_id=lending.ids["x"],
        roles=[EnterpriseRole.ENTERPRISE_ADMIN],
    )
    ids = build_dealer_loans(session_factory, lending, dealer)
    ids["overdue"] = build_overdue_loan(session_factory, lending, dealer)
    return DealerWorld(ids, users)


def test_the_dealer_sees_its_loan_what_was_released_and_what_remains(
    client: TestClient, world: DealerWorld
) -> None:
    sign_in(client, "x-admin")
    html = client.get("/dealer").text
    row = _row(html, f"loan-{world.ids['loan_id']}")
    assert world.ids["reference"] in row
    assert "¥400,000.00" in row  # principal
    assert "¥200,000.00" in row  # outstanding after two early repayments
    assert "¥225,000.00" in row  # released
    assert "¥375,000.00" in row  # still pledged
    assert "¥75,000.00" in row  # repaid for, awaiting release
    assert "200%" in row  # ¥400,000.00 of goods at today's price for ¥200,000.00
    assert "bank A" in row


def test_each_release_names_the_repayment_it_was_released_against(
    client: TestClient, world: DealerWorld
) -> None:
    sign_in(client, "x-admin")
    html = client.get(f"/dealer/loans/{world.ids['loan_id']}").text
    assert "动力电池包 10 套" in html
    assert "动力电池包 5 套" in html
    assert html.count("2026年11月26日还款 ¥100,000.00") == 2
    assert "¥16,000.00" in html  # the latest price of a set
    assert "25 套" in html  # still pledged
    assert "由bank A办理放货" in html  # who releases what is awaiting


def test_an_overdue_loan_says_how_late_how_much_and_what_to_quote(
    client: TestClient, world: DealerWorld
) -> None:
    overdue = world.ids["overdue"]
    sign_in(client, "x-admin")
    html = client.get("/dealer").text
    notice = html[html.index('id="overdue-title"') : html.index('id="loans-title"')]
    assert "您有 1 笔贷款已逾期，请尽快还款" in notice  # at the top of the page
    assert overdue["reference"] in notice
    assert world.ids["reference"] not in notice  # the current loan is not overdue
    body = html[html.index('id="loans-title"') :]
    assert body.index(overdue["reference"]) < body.index(world.ids["reference"])  # listed first
    page = client.get(f"/dealer/loans/{overdue['loan_id']}").text
    card = page[page.index('id="overdue-title"') : page.index('id="terms-title"')]
    assert "逾期天数" in card
    assert " 天</strong>" in card
    for label in ("当前逾期金额", "逾期本金", "逾期利息", "罚息"):
        assert label in card
    assert "¥200,000.00" in card  # the whole principal is due: every instalment is late
    assert "次级" in card  # five-category classification, in Chinese
    assert f"还款时请注明参考号 {overdue['reference']}" in card
    assert "回购担保" in card  # the core's buy-back may be called
    current = client.get(f"/dealer/loans/{world.ids['loan_id']}").text
    assert 'id="overdue-title"' not in current


def test_a_declined_application_shows_its_reasons(client: TestClient, world: DealerWorld) -> None:
    sign_in(client, "x-admin")
    row = _row(client.get("/dealer").text, f"application-{world.ids['declined_id']}")
    assert "已拒绝" in row
    assert "超过融资比例上限" in row
    assert "¥450,000.00" in row


def test_another_firms_loan_is_not_found(client: TestClient, world: DealerWorld) -> None:
    sign_in(client, "t1-admin")
    r = client.get(f"/dealer/loans/{world.ids['loan_id']}")
    assert r.status_code == 404
    assert world.ids["reference"] not in r.text
    assert "¥400,000.00" not in r.text
    listing = client.get("/dealer").text
    assert world.ids["reference"] not in listing
    assert "贵企业暂无经销商融资" in listing


def test_an_unknown_loan_is_not_found(client: TestClient, world: DealerWorld) -> None:
    sign_in(client, "x-admin")
    r = client.get("/dealer/loans/lon_00000000000000000000000000")
    assert r.status_code == 404


def test_bank_staff_are_sent_elsewhere(client: TestClient, world: DealerWorld) -> None:
    sign_in(client, "bka-rm")
    r = client.get("/dealer")
    assert r.status_code == 403
    assert "经销商本企业" in r.text


def test_the_dealer_page_in_english(client: TestClient, world: DealerWorld) -> None:
    sign_in(client, "x-admin", lang="en")
    html = client.get("/dealer").text
    assert "Goods released against repayments" in html
    assert "CN¥75,000.00" in html


def test_the_dealer_pages_need_sign_in(client: TestClient, world: DealerWorld) -> None:
    r = client.get(f"/dealer/loans/{world.ids['loan_id']}", follow_redirects=False)
    assert r.status_code == 303


def _row(html: str, row_id: str) -> str:
    start = html.index(f'<tr id="{row_id}">')
    return html[start : html.index("</tr>", start)]
