"""The risk officer's pages over HTTP (/risk, /risk/sectors, /risk/contagion, /risk/models):
each test names one rule a risk officer relies on, or one refusal; the journeys are in
tests/web/test_wb_risk.py."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import AuditEvent, LedgerEntry, RiskModel
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import auth, chains, models, registry
from chainfin.services.lending import applications, loans
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

LOAN = "400000.00"
ALL_ROLES = ["relationship_manager", "risk_officer", "approver", "admin", "auditor"]
PAGES = ("/risk", "/risk/sectors", "/risk/contagion", "/risk/models")
DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"
FEATURES = ("debt_ratio", "days_late_12m", "years_in_business", "sector")


def rows() -> list[dict[str, Any]]:
    with DATA.open(newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Desk:
    world: LendingWorld

    def id(self, key: str) -> str:
        return self.world.ids[key]


@dataclass
class Registry:
    challenger_id: str  # bank A's sme v2
    champion_id: str  # bank A's sme v1
    bank_b_model_id: str


def _staff(world: LendingWorld, bank: str, *roles: StaffRole) -> Principal:
    return Principal.staff(
        f"usr_{bank}", bank_id=world.credit.banks[bank], roles=roles or [StaffRole.ADMIN]
    )


@pytest.fixture
def desk(session_factory: sessionmaker[Session]) -> Desk:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        for username, roles, bank, n in [
            ("bka-risk", ["risk_officer"], "BKA", None),
            ("bkb-boss", ALL_ROLES, "BKB", None),
            ("t1-admin", ["enterprise_admin"], None, 4),
        ]:
            auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles, bank_code=bank,
                enterprise_uscc=uscc(n) if n else None,
            )  # fmt: skip
        admin_a = _staff(world, "BKA", StaffRole.ADMIN, StaffRole.RELATIONSHIP_MANAGER)
        chains.create_chain(
            s, admin_a, name="动力电池链", core_usccs=[uscc(3)], industry_code="C38",
            region_code="320505",
        )  # fmt: skip
        registry.link_customers(s, SYSTEM, world.credit.banks["BKB"], [world.ids["t2"]])
        admin_b = _staff(world, "BKB", StaffRole.ADMIN, StaffRole.RELATIONSHIP_MANAGER)
        chains.create_chain(
            s, admin_b, name="东海极片链", core_usccs=[uscc(5)], industry_code="C38",
            region_code="320505",
        )  # fmt: skip
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse(LOAN), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        assert app.status == "approved", app.decision
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
    return Desk(world)


@pytest.fixture
def registry_(desk: Desk, session_factory: sessionmaker[Session]) -> Registry:
    """Bank A's "sme": version 1 the champion (checked once), version 2 a challenger; bank
    B's own "sme" version 1. Trained on 200 rows, to keep the tests quick."""
    admin_a = _staff(desk.world, "BKA", StaffRole.ADMIN, StaffRole.RELATIONSHIP_MANAGER)
    admin_b = _staff(desk.world, "BKB", StaffRole.ADMIN, StaffRole.RELATIONSHIP_MANAGER)
    data = rows()[:200]
    columns = list(data[0])
    with transaction(session_factory) as s:
        made = []
        for staff, seed, features in [
            (admin_a, 1, FEATURES),
            (admin_a, 2, FEATURES[:3]),
            (admin_b, 3, FEATURES),
        ]:
            made.append(
                models.train_and_register(
                    s,
                    staff,
                    "sme",
                    data,
                    target="default",
                    columns=columns,
                    options=TrainOptions(features=features, seed=seed),
                )
            )
        models.promote(s, admin_a, made[0].id)
        models.monitor(
            s, admin_a, made[0].id, data[:150], as_of=date(2026, 10, 31), columns=columns
        )
    return Registry(made[1].id, made[0].id, made[2].id)


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def _token(client: TestClient) -> str:
    return csrf_token(client.get("/risk/models").text)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return entries, events


# ---------------------------------------------------------------------------- who may


def test_the_risk_officer_opens_every_page(client: TestClient, desk: Desk) -> None:
    _sign_in(client, "bka-risk")
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == 200, (page, r.text[-2000:])
        assert 'href="/risk"' in r.text


@pytest.mark.parametrize("username", ["bka-rm", "t1-admin"])
def test_people_without_the_risk_role_are_refused(
    client: TestClient, desk: Desk, username: str
) -> None:
    _sign_in(client, username)
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == 403, page
        assert "risk officers" in r.text
        assert "400,000.00" not in r.text


def test_signed_out_people_are_sent_to_sign_in(client: TestClient, desk: Desk) -> None:
    for page in PAGES:
        r = client.get(page, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/")


# ---------------------------------------------------------------------------- dashboard


def test_the_dashboard_shows_exposure_limits_ageing_and_classification(
    client: TestClient, desk: Desk
) -> None:
    _sign_in(client, "bka-risk")
    html = client.get("/risk").text
    assert "¥400,000.00" in html  # the loan: exposure to the core, running, normal, current
    assert "¥20,000,000.00" in html  # the line sanctioned
    assert "¥19,600,000.00" in html  # available once the loan is drawn
    assert "HHI 10000" in html  # one core holds everything
    for label in (
        "Not past due",
        "Over 90 days past due",
        "Normal",
        "Loss",
        "Maturities in the next",
    ):
        assert label in html


def test_bank_b_sees_its_own_empty_book(client: TestClient, desk: Desk) -> None:
    _sign_in(client, "bkb-boss")
    html = client.get("/risk").text
    assert "400,000.00" not in html
    assert "20,000,000.00" not in html
    assert "Your bank has no exposure yet." in html


# ---------------------------------------------------------------------------- contagion


def _core_a(desk: Desk) -> str:
    return desk.id("core")


def test_a_default_of_the_core_shows_distress_by_tier(client: TestClient, desk: Desk) -> None:
    _sign_in(client, "bka-risk")
    before = _counts(client.app.state.session_factory)  # type: ignore[attr-defined]
    r = client.get("/risk/contagion", params={"core": _core_a(desk), "kind": "default"})
    assert r.status_code == 200, r.text[-2000:]
    assert "Distress by tier" in r.text
    assert 'id="tiers-table"' in r.text
    assert "Expected loss" in r.text
    r = client.get("/risk/contagion", params={"core": _core_a(desk), "kind": "delay", "days": "30"})
    assert r.status_code == 200
    assert "pays 30 days late" in r.text
    assert _counts(client.app.state.session_factory) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("days", ["0", "3651", "abc", "", "-5", "2.5"])
def test_a_delay_needs_whole_days_from_1_to_3650(client: TestClient, desk: Desk, days: str) -> None:
    _sign_in(client, "bka-risk")
    r = client.get("/risk/contagion", params={"core": _core_a(desk), "kind": "delay", "days": days})
    assert r.status_code == 422
    assert 'id="days-error"' in r.text
    assert "from 1 to 3650" in r.text
    assert 'id="scenario-result"' not in r.text


def test_an_unknown_kind_is_refused(client: TestClient, desk: Desk) -> None:
    _sign_in(client, "bka-risk")
    r = client.get("/risk/contagion", params={"core": _core_a(desk), "kind": "war"})
    assert r.status_code == 422
    assert 'id="kind-error"' in r.text


@pytest.mark.parametrize("core", ["ent_nope", "", "91320505000000003X"])
def test_an_unknown_core_is_refused(client: TestClient, desk: Desk, core: str) -> None:
    _sign_in(client, "bka-risk")
    r = client.get("/risk/contagion", params={"core": core})
    assert r.status_code == 422
    assert 'id="core-error"' in r.text
    assert "one of your bank&#39;s chains" in r.text


def test_another_banks_core_is_refused_and_not_offered(client: TestClient, desk: Desk) -> None:
    _sign_in(client, "bka-risk")
    page = client.get("/risk/contagion").text
    assert desk.id("t2") not in page  # bank B's chain's core is not offered to bank A
    r = client.get("/risk/contagion", params={"core": desk.id("t2")})
    assert r.status_code == 422
    assert 'id="core-error"' in r.text
    _sign_in(client, "bkb-boss")
    r = client.get("/risk/contagion", params={"core": _core_a(desk)})
    assert r.status_code == 422, "bank A's chain is not bank B's"


# ---------------------------------------------------------------------------- models


def test_the_registry_shows_champion_challenger_and_stability(
    client: TestClient, registry_: Registry
) -> None:
    _sign_in(client, "bka-risk")
    html = client.get("/risk/models").text
    assert "Champion: version 1" in html
    assert "Promote to champion" in html
    assert "October 31, 2026" in html
    assert 'class="risk-table psi-table"' in html


def test_the_risk_officer_promotes_a_challenger(
    client: TestClient, registry_: Registry, session_factory: sessionmaker[Session]
) -> None:
    _sign_in(client, "bka-risk")
    r = client.post(
        f"/risk/models/{registry_.challenger_id}/promote",
        data={"csrf_token": _token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[-2000:]
    assert client.get(r.headers["location"]).text.count("Champion: version 2") == 1
    with session_factory() as s:
        assert s.get_one(RiskModel, registry_.challenger_id).status == "champion"
        assert s.get_one(RiskModel, registry_.champion_id).status == "retired"
        assert s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "model.promote")
        )


def test_promoting_the_champion_again_is_a_conflict(
    client: TestClient, registry_: Registry, session_factory: sessionmaker[Session]
) -> None:
    _sign_in(client, "bka-risk")
    before = _counts(session_factory)
    r = client.post(
        f"/risk/models/{registry_.champion_id}/promote", data={"csrf_token": _token(client)}
    )
    assert r.status_code == 409
    assert "champion already" in r.text
    assert _counts(session_factory) == before


def test_another_banks_model_is_not_found(
    client: TestClient, registry_: Registry, session_factory: sessionmaker[Session]
) -> None:
    _sign_in(client, "bka-risk")
    before = _counts(session_factory)
    r = client.post(
        f"/risk/models/{registry_.bank_b_model_id}/promote", data={"csrf_token": _token(client)}
    )
    assert r.status_code == 404
    assert "No such model" in r.text
    with session_factory() as s:
        assert s.get_one(RiskModel, registry_.bank_b_model_id).status == "challenger"
    assert _counts(session_factory) == before


def test_promoting_needs_the_risk_role_and_the_forms_token(
    client: TestClient, registry_: Registry, session_factory: sessionmaker[Session]
) -> None:
    url = f"/risk/models/{registry_.challenger_id}/promote"
    _sign_in(client, "bka-rm")
    token = csrf_token(client.get("/account").text)
    before = _counts(session_factory)
    r = client.post(url, data={"csrf_token": token})
    assert r.status_code == 403
    assert "risk officers" in r.text
    assert _counts(session_factory) == before
    _sign_in(client, "bka-risk")
    before = _counts(session_factory)
    r = client.post(url, data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert _counts(session_factory) == before
    with session_factory() as s:
        assert s.get_one(RiskModel, registry_.challenger_id).status == "challenger"
