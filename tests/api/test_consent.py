"""Consent from both sides: the enterprise grants and revokes, a bank's read passes the gate
only under a grant in force, and every read — refused ones included — is in the enterprise's
access log. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import ConsentGrant
from chainfin.domain import clock
from chainfin.domain.access import Principal, PrincipalKind, Scope
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.errors import NotFound
from chainfin.services import consent, ledger, ledger_verify

ORIGIN = "chainfin.test/ledger"


def bank_reader(world: World, bank_id: str) -> Principal:
    return Principal(
        PrincipalKind.STAFF, "usr_reader", bank_id=bank_id, scopes=frozenset({Scope.REGISTRY_READ})
    )


def read(
    factory: sessionmaker[Session],
    world: World,
    bank_id: str,
    category: DataCategory = DataCategory.INVOICES,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> str:
    """A bank-side read of s1's data, the way later services will do it."""
    with transaction(factory) as s:
        return consent.require(
            s,
            bank_reader(world, bank_id),
            enterprise_id=world.ids["s1"],
            category=category,
            purpose=purpose,
            resource="invoice 044001900111/12345678",
        )


def grant(client: TestClient, headers: dict[str, str], **over: object) -> dict:  # type: ignore[type-arg]
    body = {
        "bank_code": "BKA",
        "categories": ["invoices", "trade_documents"],
        "purposes": ["credit_assessment"],
        "expires_at": (clock.utcnow() + timedelta(days=180)).isoformat(),
        **over,
    }
    r = client.post("/v1/consents", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def bank_id_of(client: TestClient, code: str, headers: dict[str, str]) -> str:
    return next(
        b["id"]
        for b in client.get("/v1/banks", headers=headers).json()["items"]
        if b["code"] == code
    )


def test_no_consent_is_refused_and_logged(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    bank_a = bank_id_of(client, "BKA", s1)
    with pytest.raises(consent.ConsentRefused, match="no consent covers invoices"):
        read(session_factory, world, bank_a)
    log = client.get("/v1/consents/access-log", headers=s1).json()["items"]
    assert [(e["allowed"], e["category"], e["bank_id"]) for e in log] == [
        (False, "invoices", bank_a)
    ]
    assert log[0]["reason"] == "no consent covers invoices for credit_assessment"


def test_granted_reads_pass_and_are_logged_with_the_consent(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    g = grant(client, s1)
    assert g["state"] == "active"
    assert g["receipt"]["entries"][0]["event_type"] == "consent.granted"
    bank_a = bank_id_of(client, "BKA", s1)
    assert read(session_factory, world, bank_a) == g["id"]
    with pytest.raises(consent.ConsentRefused):
        read(session_factory, world, bank_a, category=DataCategory.IOT)
    with pytest.raises(consent.ConsentRefused):
        read(session_factory, world, bank_a, purpose=Purpose.POST_LOAN_MONITORING)
    bank_b = bank_id_of(client, "BKB", s1)
    # bank B has no relationship with s1 (not its customer, never granted anything): it is
    # not told the data exists — but s1's log shows the attempt
    with pytest.raises(NotFound):
        read(session_factory, world, bank_b)
    log = client.get("/v1/consents/access-log", headers=s1).json()["items"]
    assert [(e["allowed"], e["consent_id"]) for e in log[:1]] == [(True, g["id"])]
    assert [e["allowed"] for e in log] == [True, False, False, False]


def test_revocation_is_immediate(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    g = grant(client, s1)
    bank_a = bank_id_of(client, "BKA", s1)
    read(session_factory, world, bank_a)
    r = client.post(f"/v1/consents/{g['id']}/revoke", headers=s1)
    assert r.status_code == 200
    assert r.json()["state"] == "revoked"
    with pytest.raises(consent.ConsentRefused, match="is revoked"):
        read(session_factory, world, bank_a)


def test_expired_consent_is_refused(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    g = grant(client, s1)
    with transaction(session_factory) as s:
        past = clock.utcnow() - timedelta(days=1)
        s.execute(
            update(ConsentGrant)
            .where(ConsentGrant.id == g["id"])
            .values(valid_from=past - timedelta(days=30), expires_at=past)
        )
    with pytest.raises(consent.ConsentRefused, match="is expired"):
        read(session_factory, world, bank_id_of(client, "BKA", s1))


def test_who_may_grant_see_and_revoke(client: TestClient, world: World) -> None:
    s1 = login(client, "s1")
    g = grant(client, s1)
    # only the enterprise's admin grants; bank staff cannot grant on its behalf
    r = client.post(
        "/v1/consents",
        json={
            "bank_code": "BKA",
            "categories": ["invoices"],
            "purposes": ["credit_assessment"],
            "expires_at": (clock.utcnow() + timedelta(days=10)).isoformat(),
        },
        headers=login(client, "a-rm"),
    )
    assert r.status_code == 403
    # another enterprise cannot revoke it
    assert (
        client.post(f"/v1/consents/{g['id']}/revoke", headers=login(client, "coreB")).status_code
        == 404
    )
    # the bank sees the grants it holds; the other bank does not
    held = client.get("/v1/consents", headers=login(client, "a-rm")).json()
    assert [c["id"] for c in held["items"]] == [g["id"]]
    assert client.get("/v1/consents", headers=login(client, "b-rm")).json()["items"] == []
    # the access log is the enterprise's, not the bank's
    assert client.get("/v1/consents/access-log", headers=login(client, "a-rm")).status_code == 403


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"categories": ["gossip"]}, "categories"),
        ({"purposes": ["marketing"]}, "purposes"),
        ({"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00+00:00"}, "expires_at"),
        ({"bank_code": "NOPE"}, "bank"),
    ],
)
def test_bad_grants_are_precise(client: TestClient, world: World, over: dict, field: str) -> None:  # type: ignore[type-arg]
    body = {
        "bank_code": "BKA",
        "categories": ["invoices"],
        "purposes": ["credit_assessment"],
        "expires_at": (clock.utcnow() + timedelta(days=10)).isoformat(),
        **over,
    }
    r = client.post("/v1/consents", json=body, headers=login(client, "s1"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


def test_grants_and_revocations_are_on_the_ledger_and_verify(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    s1 = login(client, "s1")
    g = grant(client, s1)
    client.post(f"/v1/consents/{g['id']}/revoke", headers=s1)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert report.ok, report.findings
    with transaction(session_factory) as s:
        s.execute(update(ConsentGrant).values(revoked_at=None))  # un-revoke behind the back
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert any("field revoked_at" in f.where for f in report.findings), report.findings
