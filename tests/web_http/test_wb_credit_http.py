"""The credit desk's pages over HTTP (no browser): who may open them, the maker's and the
checker's steps and every refusal — four eyes, authority, wrong state, a bad form, a
forged form — each with nothing written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    ApplicationApproval,
    AuditEvent,
    CreditLine,
    LedgerEntry,
    LoanApplication,
)
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import auth, documents
from chainfin.services.lending import applications
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

REFERRED = "1234000.00"  # above the automatic approval limit (1,000,000.00): needs level 2
INVOICE = "1500000.00"


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> tuple[LendingWorld, str]:
    """The lending world, its staff who sign in (bka-rm, bka-ck1, bka-ck3 are
    relationship managers and approvers), people of other roles, and one referred
    application of t1."""
    lending = build_lending(session_factory)
    with transaction(session_factory) as s:
        for username, roles, bank, firm in [
            ("bka-admin", ["admin"], "BKA", None),
            ("bka-auditor", ["auditor"], "BKA", None),
            ("bka-risk", ["risk_officer"], "BKA", None),
            ("bka-rmonly", ["relationship_manager"], "BKA", None),
            ("t1-admin", ["enterprise_admin"], None, 4),
            ("bkb-boss", ["relationship_manager", "approver", "risk_officer"], "BKB", None),
        ]:
            auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles,
                bank_code=bank, enterprise_uscc=uscc(firm) if firm else None,
            )  # fmt: skip
        row = {
            "kind": "invoice", "number": "HTTP-CR-1", "seller_uscc": uscc(4),
            "buyer_uscc": uscc(3), "issue_date": TODAY.isoformat(), "currency": "CNY",
            "total": INVOICE, "tax": "0.00", "invoice_number": "26321900000000009001",
            "due_date": "2027-05-20",
        }  # fmt: skip
        report = documents.ingest(s, lending.ent("t1"), documents.parse_rows([row]))
        doc_id = str(report.rows[0].document_id)
        documents.confirm(s, lending.ent("core"), doc_id)
    with transaction(session_factory) as s:
        app = applications.submit(
            s, lending.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse(REFERRED), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=doc_id, payee=PAYEE,
        )  # fmt: skip
        assert app.status == "referred", app.decision
        app_id = app.id
    return lending, app_id


def sign_in(client: TestClient, username: str) -> str:
    client.cookies.clear()
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as s:
        return (
            s.scalar(select(func.count()).select_from(ApplicationApproval)) or 0,
            s.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def review(client: TestClient, token: str, app_id: str, **form: str) -> object:
    return client.post(
        f"/credit/applications/{app_id}/review",
        data={"csrf_token": token, **form},
        follow_redirects=False,
    )


def status_of(factory: sessionmaker[Session], app_id: str) -> str:
    with factory() as s:
        app = s.get(LoanApplication, app_id)
        assert app is not None
        return app.status


@pytest.mark.parametrize("username", ["bka-ck1", "bka-risk", "bka-rmonly"])
def test_credit_staff_open_the_desk_and_the_application(
    client: TestClient, world: tuple[LendingWorld, str], username: str
) -> None:
    _, app_id = world
    sign_in(client, username)
    r = client.get("/credit?view=all")
    assert r.status_code == 200
    assert "1,234,000.00" in r.text
    assert f"/credit/applications/{app_id}" in r.text
    r = client.get(f"/credit/applications/{app_id}")
    assert r.status_code == 200
    assert "The amount is within the automatic approval limit" in r.text


def test_a_relationship_manager_sees_what_each_application_waits_for(
    client: TestClient, world: tuple[LendingWorld, str]
) -> None:
    sign_in(client, "bka-rmonly")
    r = client.get("/credit")  # no approve scope: the view of everything in progress
    assert r.status_code == 200
    assert "Applications in progress" in r.text
    assert "Maker&#39;s review" in r.text or "Maker's review" in r.text
    assert "My queue" not in r.text


@pytest.mark.parametrize("username", ["bka-admin", "bka-auditor", "t1-admin"])
def test_people_without_a_credit_role_are_refused(
    client: TestClient, world: tuple[LendingWorld, str], username: str
) -> None:
    _, app_id = world
    sign_in(client, username)
    assert client.get("/credit").status_code == 403
    r = client.get(f"/credit/applications/{app_id}")
    assert r.status_code == 403
    assert "1,234,000.00" not in r.text


def test_a_relationship_manager_may_not_sign(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    token = sign_in(client, "bka-rmonly")
    before = counts(session_factory)
    r = review(client, token, app_id, decision="approve", note="ok")
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert counts(session_factory) == before


def test_maker_then_checker_approves_and_the_line_is_reserved(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    lending, app_id = world
    with session_factory() as s:
        line = s.get(CreditLine, lending.line_id)
        assert line is not None
        pending_before = line.pending_minor
    token = sign_in(client, "bka-ck1")
    r = review(client, token, app_id, decision="approve", note="confirmed receivable")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    page = client.get(r.headers["location"])  # type: ignore[attr-defined]
    assert "Your recommendation was recorded" in page.text
    token = sign_in(client, "bka-ck3")
    r = review(
        client, token, app_id, decision="conditions", note="approve",
        conditions="Core's payment confirmation on file\nPledge registered",
    )  # fmt: skip
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert status_of(session_factory, app_id) == "approved"
    with session_factory() as s:
        line = s.get(CreditLine, lending.line_id)
        assert line is not None
        assert line.pending_minor == pending_before + 1_234_000_00
    page = client.get(f"/credit/applications/{app_id}")
    assert "Checker approved" in page.text
    assert "Maker recommends approval" in page.text
    assert "Pledge registered" in page.text
    assert "Reserved" in page.text


def test_the_maker_may_not_be_the_checker(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    token = sign_in(client, "bka-ck3")
    assert review(client, token, app_id, decision="approve", note="ok").status_code == 303  # type: ignore[attr-defined]
    before = counts(session_factory)
    r = review(client, token, app_id, decision="approve", note="and I check it too")
    assert r.status_code == 409  # type: ignore[attr-defined]
    assert "the checker must be another person" in r.text  # type: ignore[attr-defined]
    assert counts(session_factory) == before
    assert status_of(session_factory, app_id) == "referred"


def test_a_checker_without_the_authority_is_refused(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    token = sign_in(client, "bka-ck3")
    assert review(client, token, app_id, decision="approve", note="ok").status_code == 303  # type: ignore[attr-defined]
    token = sign_in(client, "bka-ck1")  # level 1: up to 1,000,000.00
    before = counts(session_factory)
    r = review(client, token, app_id, decision="approve", note="ok")
    assert r.status_code == 409  # type: ignore[attr-defined]
    assert "Your credit authority does not cover this amount" in r.text  # type: ignore[attr-defined]
    assert counts(session_factory) == before
    # ck1's queue does not offer it; ck3 made it, so neither does ck3's
    assert app_id not in client.get("/credit").text
    sign_in(client, "bka-ck3")
    assert app_id not in client.get("/credit").text


def test_a_decline_needs_a_reason_and_ends_the_application(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    token = sign_in(client, "bka-ck1")
    before = counts(session_factory)
    r = review(client, token, app_id, decision="decline", note="  ")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Write the credit memo" in r.text  # type: ignore[attr-defined]
    assert counts(session_factory) == before
    r = review(client, token, app_id, decision="decline", note="turnover does not support it")
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert status_of(session_factory, app_id) == "declined"
    page = client.get(f"/credit/applications/{app_id}")
    assert "turnover does not support it" in page.text
    assert "Maker declined" in page.text
    token = sign_in(client, "bka-ck3")
    before = counts(session_factory)
    r = review(client, token, app_id, decision="approve", note="too late")
    assert r.status_code == 409  # type: ignore[attr-defined]
    assert counts(session_factory) == before


@pytest.mark.parametrize(
    ("form", "field_reason"),
    [
        ({"decision": "conditions", "note": "ok"}, "Write at least one condition"),
        ({"decision": "maybe", "note": "ok"}, "Choose approve, approve with conditions or decline"),
        ({"decision": "approve", "note": "ok", "conditions": "x"}, "Conditions go with"),
    ],
)
def test_a_bad_form_is_refused_on_its_field(
    client: TestClient,
    world: tuple[LendingWorld, str],
    session_factory: sessionmaker[Session],
    form: dict[str, str],
    field_reason: str,
) -> None:
    _, app_id = world
    token = sign_in(client, "bka-ck1")
    before = counts(session_factory)
    r = review(client, token, app_id, **form)
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert field_reason in r.text  # type: ignore[attr-defined]
    assert counts(session_factory) == before


def test_a_form_without_its_token_is_refused(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    sign_in(client, "bka-ck1")
    before = counts(session_factory)
    r = client.post(
        f"/credit/applications/{app_id}/review",
        data={"decision": "approve", "note": "ok"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert counts(session_factory) == before


def test_another_banks_staff_find_nothing(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    _, app_id = world
    token = sign_in(client, "bkb-boss")
    assert "1,234,000.00" not in client.get("/credit?view=all").text
    assert client.get(f"/credit/applications/{app_id}").status_code == 404
    before = counts(session_factory)
    r = review(client, token, app_id, decision="decline", note="no")
    assert r.status_code == 404  # type: ignore[attr-defined]
    assert counts(session_factory) == before


def test_an_application_the_rules_approved_shows_its_hold_and_no_form(
    client: TestClient, world: tuple[LendingWorld, str], session_factory: sessionmaker[Session]
) -> None:
    lending, _ = world
    with transaction(session_factory) as s:
        app = applications.submit(
            s, lending.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=lending.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        assert app.status == "approved"
        app_id = app.id
    sign_in(client, "bka-ck3")
    r = client.get(f"/credit/applications/{app_id}")
    assert r.status_code == 200
    assert "Submitted; the rules approved it" in r.text
    assert "Sign as" not in r.text
    assert "This application&#39;s hold" in r.text or "This application's hold" in r.text
    assert "Waits for" not in r.text
    r = client.get("/credit?view=all")
    assert "Disbursement" in r.text
