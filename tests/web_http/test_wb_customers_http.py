"""The customers pages over HTTP (/ for staff, /customers, /chains/{id}, /firms/{id}): each
test names one rule a relationship manager relies on; the journeys are in
tests/web/test_wb_customers.py."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import AuditEvent, DataAccess, LedgerEntry
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.services import alerts, auth, chains, consent
from chainfin.services.lending import applications, loans
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

CHAIN = "动力电池供应链"
ALERT = "应收账款集中度升至六成"
LOAN = "400000.00"
ALL_ROLES = ["relationship_manager", "risk_officer", "approver", "admin", "auditor"]


@dataclass
class Book:
    world: LendingWorld
    chain_id: str

    def id(self, key: str) -> str:
        return self.world.ids[key]


@pytest.fixture
def book(session_factory: sessionmaker[Session]) -> Book:
    world = build_lending(session_factory)
    bank_a = world.credit.banks["BKA"]
    with transaction(session_factory) as s:
        for username, roles, bank, n in [
            ("bka-risk", ["risk_officer"], "BKA", None),
            ("bka-auditor", ["auditor"], "BKA", None),
            ("bkb-boss", ALL_ROLES, "BKB", None),
            ("t1-admin", ["enterprise_admin"], None, 4),
        ]:
            auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles, bank_code=bank,
                enterprise_uscc=uscc(n) if n else None,
            )  # fmt: skip
        rm = Principal.staff("usr_rm", bank_id=bank_a, roles=[StaffRole.RELATIONSHIP_MANAGER])
        chain = chains.create_chain(
            s, rm, name=CHAIN, core_usccs=[uscc(3)], industry_code="C38", region_code="320505"
        )
        applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse(LOAN), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
        alerts.raise_alert(
            s, SYSTEM, kind="customer_review", severity="high", subject_kind="enterprise",
            subject_id=world.ids["t1"], bank_id=bank_a, enterprise_id=world.ids["t1"],
            message=ALERT,
        )  # fmt: skip
    return Book(world, chain.chain.id)


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def _option(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="chain-map">(.*?)</script>', html, re.S)
    assert found, "the chain map's option is on the page"
    return dict(json.loads(found.group(1)))


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return entries, events


def test_the_staff_home_counts_what_waits_and_links_every_chain(
    client: TestClient, book: Book
) -> None:
    _sign_in(client, "bka-rm")
    r = client.get("/")
    assert r.status_code == 200
    assert f'href="/chains/{book.chain_id}"' in r.text
    assert 'data-count="alerts">1<' in r.text
    assert 'data-count="referred"' in r.text  # bka-rm is an approver too
    assert 'data-count="customers">3<' in r.text  # the core, t1 and x


def test_the_risk_officer_home_counts_no_applications(client: TestClient, book: Book) -> None:
    _sign_in(client, "bka-risk")
    r = client.get("/")
    assert r.status_code == 200
    assert 'data-count="referred"' not in r.text
    assert 'data-count="tasks"' not in r.text
    assert 'data-count="alerts">1<' in r.text


def test_the_book_lists_customers_and_prospects_by_chain(client: TestClient, book: Book) -> None:
    _sign_in(client, "bka-rm")
    r = client.get("/customers", params={"lang": "en"})
    assert r.status_code == 200
    for key in ("core", "t1", "t2", "t3", "x"):
        assert f'/firms/{book.id(key)}"' in r.text, key
    assert 'data-count="customers">3<' in r.text
    assert 'data-count="prospects">2<' in r.text
    assert "400,000.00" in r.text  # t1's exposure: the loan


def test_the_book_filters_by_status_and_by_name_or_uscc(client: TestClient, book: Book) -> None:
    _sign_in(client, "bka-rm")
    prospects = client.get("/customers", params={"status": "prospect"}).text
    assert f"/firms/{book.id('t2')}" in prospects
    assert f"/firms/{book.id('t1')}" not in prospects
    by_name = client.get("/customers", params={"q": "t3"}).text
    assert f"/firms/{book.id('t3')}" in by_name
    assert f"/firms/{book.id('t2')}" not in by_name
    by_uscc = client.get("/customers", params={"q": uscc(5)[-8:]}).text
    assert f"/firms/{book.id('t2')}" in by_uscc
    assert f"/firms/{book.id('t3')}" not in by_uscc
    chained = client.get("/customers", params={"chain": book.chain_id}).text
    assert f"/firms/{book.id('core')}" in chained


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"chain": "chain_nosuch"}, "f-chain-error", "Choose one of your bank&#39;s chains."),
        ({"status": "everyone"}, "f-status-error", "Choose customers or prospects."),
    ],
)
def test_an_unknown_filter_is_refused_with_its_field(
    client: TestClient, book: Book, params: dict[str, str], field: str, reason: str
) -> None:
    _sign_in(client, "bka-rm")
    r = client.get("/customers", params={**params, "lang": "en"})
    assert r.status_code == 400
    assert f'id="{field}">{reason}' in r.text


def test_the_chain_map_places_the_core_at_the_centre_and_tiers_outward(
    client: TestClient, book: Book
) -> None:
    _sign_in(client, "bka-rm")
    r = client.get(f"/chains/{book.chain_id}")
    assert r.status_code == 200
    option = _option(r.text)
    series = option["series"][0]  # type: ignore[index]
    nodes = {n["id"]: n for n in series["data"]}
    assert series["layout"] == "none"
    assert series["roam"] is True
    core, t1, t2, x = (nodes[book.id(k)] for k in ("core", "t1", "t2", "x"))
    assert (core["x"], core["y"]) == (0.0, 0.0)
    assert t1["x"] < 0
    assert t2["x"] < t1["x"]
    assert x["x"] > 0  # the dealer downstream, to the right
    assert core["url"] == f"/firms/{book.id('core')}"
    assert core["label"]["show"]
    assert t1["label"]["show"]
    assert "label" not in t2
    assert t1["symbol"] == "diamond"  # an open alert
    assert t1["category"] == 2
    assert t2["category"] == 1
    assert x["category"] == 0
    links = {(link["source"], link["target"]) for link in series["links"]}
    assert (book.id("t1"), book.id("core")) in links
    assert (book.id("t3"), book.id("t2")) not in links  # neither is bank A's customer
    assert (
        "Members without any relation shown: 1."
        in client.get(f"/chains/{book.chain_id}", params={"lang": "en"}).text
    )


def test_an_unknown_chain_is_not_found(client: TestClient, book: Book) -> None:
    _sign_in(client, "bka-rm")
    assert client.get("/chains/chain_nosuch").status_code == 404


def test_the_firm_page_of_a_customer_shows_its_360_view(
    client: TestClient, book: Book, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        logged = s.scalar(select(func.count()).select_from(DataAccess)) or 0
    _sign_in(client, "bka-rm")
    r = client.get(f"/firms/{book.id('t1')}", params={"lang": "en"})
    assert r.status_code == 200
    text = r.text
    assert uscc(4) in text
    assert f'href="/firms/{book.id("t2")}"' in text  # its supplier
    assert f'href="/firms/{book.id("core")}"' in text  # its buyer
    assert 'id="firm-trade"' in text
    assert 'id="firm-matching"' in text
    assert "400,000.00" in text  # the loan with the bank, and the exposure
    assert ALERT in text
    assert "Credit assessment" in text  # the consent it granted
    with session_factory() as s:  # the consented reads are in t1's access log
        assert (s.scalar(select(func.count()).select_from(DataAccess)) or 0) > logged


def test_without_consent_the_trade_is_not_shared_and_nothing_is_read(
    client: TestClient, book: Book, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        for grant in consent.list_grants(s, book.world.ent("t1")).items:
            if grant.revoked_at is None:
                consent.revoke(s, book.world.ent("t1"), grant.id)
    with session_factory() as s:
        logged = s.scalar(select(func.count()).select_from(DataAccess)) or 0
    _sign_in(client, "bka-rm")
    r = client.get(f"/firms/{book.id('t1')}")
    assert r.status_code == 200
    assert 'data-trade="not-shared"' in r.text
    assert 'id="firm-trade"' not in r.text
    with session_factory() as s:
        assert (s.scalar(select(func.count()).select_from(DataAccess)) or 0) == logged


def test_a_prospect_shows_only_what_the_chain_member_list_shows(
    client: TestClient, book: Book
) -> None:
    _sign_in(client, "bka-rm")
    r = client.get(f"/firms/{book.id('t2')}", params={"lang": "en"})
    assert r.status_code == 200
    assert "Prospect" in r.text
    assert uscc(5) in r.text
    assert 'id="trade-title"' not in r.text
    assert 'id="loans-title"' not in r.text
    assert f'href="/chains/{book.chain_id}"' in r.text


def test_a_firm_the_bank_does_not_know_is_not_found(client: TestClient, book: Book) -> None:
    _sign_in(client, "bka-rm")
    assert client.get(f"/firms/{book.id('bank B')}").status_code == 404
    assert client.get("/firms/ent_nosuch").status_code == 404


@pytest.mark.parametrize(
    ("username", "route", "status"),
    [
        ("bka-risk", "/customers", 200),
        ("bka-risk", "/chains/{chain}", 200),
        ("bka-risk", "/firms/{t1}", 200),
        ("bka-auditor", "/customers", 403),
        ("bka-auditor", "/chains/{chain}", 200),
        ("bka-auditor", "/firms/{t1}", 200),
        ("t1-admin", "/customers", 403),
        ("t1-admin", "/chains/{chain}", 403),
        ("t1-admin", "/firms/{t1}", 403),
    ],
)
def test_who_may_open_the_customers_pages(
    client: TestClient, book: Book, username: str, route: str, status: int
) -> None:
    _sign_in(client, username)
    url = route.format(chain=book.chain_id, t1=book.id("t1"))
    assert client.get(url).status_code == status


def test_bank_b_sees_none_of_bank_a_customers(
    client: TestClient, book: Book, session_factory: sessionmaker[Session]
) -> None:
    _sign_in(client, "bkb-boss")
    before = _counts(session_factory)  # after signing in, which is audited
    r = client.get("/customers")
    assert r.status_code == 200
    for key in ("core", "t1", "t2", "x"):
        assert book.id(key) not in r.text
    assert CHAIN not in client.get("/").text
    for url in (f"/chains/{book.chain_id}", f"/firms/{book.id('t1')}"):
        refused = client.get(url)
        assert refused.status_code == 404, url
        assert ALERT not in refused.text
        assert "400,000.00" not in refused.text
    assert _counts(session_factory) == before
