"""The bank workbench's administration (/admin) over HTTP: each test names one refusal or
rule a bank's administrator relies on (the journey itself is tests/web/test_wb_admin.py).

The world: the portal's HTTP world (banks A and B, t1 a customer of bank A) with
``bka-admin`` and ``bka-admin2`` (bank A's administrators), ``bkb-admin`` (bank B's),
``bka-rm`` (bank A's relationship manager, no admin role), ``t1-admin`` (an enterprise
administrator: users:admin of a firm), and an administrator of t3 who registered through
t1's supplier invitation and waits for verification."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    ApiClient,
    ApprovalAuthority,
    AuditEvent,
    LedgerEntry,
    User,
    UserSession,
)
from chainfin.domain.access import SYSTEM
from chainfin.services import auth, onboarding
from credit_world import uscc

PAGES = ("/admin", "/admin/users", "/admin/clients", "/admin/authorities")


@dataclass
class Bench:
    portal: Portal
    ids: dict[str, str]  # username -> user id


@pytest.fixture
def bench(portal: Portal, session_factory: sessionmaker[Session]) -> Bench:
    ids = {}
    with transaction(session_factory) as s:
        for username, name, roles, bank in [
            ("bka-admin", "吴刚", ["admin"], "BKA"),
            ("bka-admin2", "冯静", ["admin", "auditor"], "BKA"),
            ("bka-appr", "秦川", ["approver"], "BKA"),
            ("bkb-admin", "钱峰", ["admin"], "BKB"),
        ]:
            made = auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=roles,
                display_name=name,
                bank_code=bank,
            )
            ids[username] = made.id
        invited = onboarding.invite(
            s,
            portal.world.ent("t1"),
            onboarding.InviteSupplier(
                uscc=uscc(6), name="江阴精密铜箔有限公司", contact_name="周婷",
                contact_mobile="13800138000",
            ),
        )  # fmt: skip
        assert not invited.created
    with transaction(session_factory) as s:
        pending = onboarding.register(
            s,
            onboarding.RegisterSupplier(
                token=invited.token, uscc=uscc(6), display_name="周婷", username="t3-first",
                password=PASSWORD, password_again=PASSWORD,
            ),
        )  # fmt: skip
        assert pending.active is False
        ids["t3-first"] = pending.id
        for username in ("bka-rm", "t1-admin"):
            ids[username] = s.scalars(select(User.id).where(User.username == username)).one()
    return Bench(portal, ids)


def page_token(client: TestClient, url: str = "/admin/users") -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def counts(factory: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with factory() as s:
        return (
            s.scalar(select(func.count()).select_from(User)) or 0,
            s.scalar(select(func.count()).select_from(ApiClient)) or 0,
            s.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def user_row(factory: sessionmaker[Session], user_id: str) -> User:
    with factory() as s:
        return s.get_one(User, user_id)


# ---------------------------------------------------------------------------- who may


@pytest.mark.parametrize("username", ["bka-rm", "bka-appr", "t1-admin"])
def test_every_admin_page_refuses_anyone_but_a_banks_administrator(
    client: TestClient, bench: Bench, username: str
) -> None:
    sign_in(client, username, "en")
    for url in PAGES:
        r = client.get(url)
        assert r.status_code == 403, url
        assert "Administration is for your bank&#39;s administrators." in r.text


@pytest.mark.parametrize("username", ["bka-rm", "t1-admin"])
def test_a_non_administrator_writes_nothing(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session], username: str
) -> None:
    sign_in(client, username, "en")
    token = csrf_token(client.get("/account").text)
    before = counts(session_factory)
    target = bench.ids["bka-appr"]
    for url, form in [
        ("/admin/users", {"username": "sneaky", "display_name": "x", "roles": "admin"}),
        (f"/admin/users/{target}/roles", {"roles": "admin"}),
        (f"/admin/users/{target}/deactivate", {}),
        (f"/admin/pending/{bench.ids['t3-first']}/activate", {}),
        ("/admin/clients", {"name": "sneaky", "scopes": "registry:read"}),
        ("/admin/authorities", {"user_id": target, "level": "9"}),
    ]:
        r = client.post(url, data={"csrf_token": token, **form})
        assert r.status_code == 403, url
    assert counts(session_factory) == before


def test_signed_out_people_are_sent_to_sign_in(client: TestClient, bench: Bench) -> None:
    r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    before = counts(session_factory)
    r = client.post("/admin/users", data={"username": "x1", "display_name": "x", "roles": "admin"})
    assert r.status_code == 403
    assert counts(session_factory) == before


# ---------------------------------------------------------------------------- staff


def test_an_admin_creates_a_staff_member_with_a_password_shown_once(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "bka-new",
            "display_name": "韩梅",
            "roles": ["relationship_manager", "approver"],
        },
    )
    assert r.status_code == 200
    found = re.search(r'class="secret code">([^<]+)<', r.text)
    assert found, r.text
    with session_factory() as s:
        made = s.scalars(select(User).where(User.username == "bka-new")).one()
        assert made.bank_id == bench.portal.world.banks["BKA"]
        assert made.roles == ["approver", "relationship_manager"]
    other = TestClient(client.app)
    r = other.post("/login", data={"username": "bka-new", "password": found.group(1)})
    assert r.status_code == 200
    assert "韩梅" in r.text
    assert found.group(1) not in client.get("/admin/users").text  # shown once


@pytest.mark.parametrize(
    ("username", "status", "message"),
    [
        ("has space", 422, "Use 1 to 100 letters, digits or signs, without spaces."),
        ("", 422, "Use 1 to 100 letters, digits or signs, without spaces."),
        ("bkb-admin", 409, "This username is taken: choose another."),  # another bank's
        ("t1-admin", 409, "This username is taken: choose another."),
    ],
)
def test_a_bad_or_taken_username_is_refused_at_the_field(
    client: TestClient,
    bench: Bench,
    session_factory: sessionmaker[Session],
    username: str,
    status: int,
    message: str,
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    before = counts(session_factory)
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": username,
            "display_name": "某人",
            "roles": "auditor",
        },
    )
    assert r.status_code == status
    assert 'id="username" name="username"' in r.text
    assert 'aria-describedby="username-error"' in r.text
    assert f'<p class="error" id="username-error" role="alert">{message}</p>' in r.text
    assert counts(session_factory) == before


def test_no_role_and_no_name_are_refused_at_their_fields(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    before = counts(session_factory)
    r = client.post("/admin/users", data={"csrf_token": token, "username": "ok-name"})
    assert r.status_code == 422
    assert 'id="roles-error" role="alert">Choose at least one role.' in r.text
    assert "Enter the staff member's name." in r.text
    r = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "ok-name", "display_name": "x", "roles": "boss"},
    )
    assert r.status_code == 422
    assert 'id="roles-error"' in r.text
    assert counts(session_factory) == before


def test_an_admin_cannot_remove_their_own_admin_role_nor_deactivate_themselves(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    me = bench.ids["bka-admin"]
    before = counts(session_factory)
    r = client.post(f"/admin/users/{me}/roles", data={"csrf_token": token, "roles": "auditor"})
    assert r.status_code == 409
    assert "You cannot remove your own administrator role" in r.text
    r = client.post(f"/admin/users/{me}/deactivate", data={"csrf_token": token})
    assert r.status_code == 409
    assert "You cannot deactivate yourself" in r.text
    assert counts(session_factory) == before
    assert user_row(session_factory, me).roles == ["admin"]
    assert user_row(session_factory, me).active
    # nor give themselves a role (they could then make and check their own decisions, or
    # audit themselves), nor credit authority
    r = client.post(
        f"/admin/users/{me}/roles", data={"csrf_token": token, "roles": ["admin", "approver"]}
    )
    assert r.status_code == 409
    assert "You cannot give yourself a role or credit authority" in r.text
    r = client.post("/admin/authorities", data={"csrf_token": token, "user_id": me, "level": "9"})
    assert r.status_code == 409
    assert "You cannot give yourself a role or credit authority" in r.text
    assert user_row(session_factory, me).roles == ["admin"]
    assert counts(session_factory) == before


def test_deactivating_ends_their_sessions_and_reactivating_lets_them_back(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    theirs = TestClient(client.app)
    sign_in(theirs, "bka-appr", "en")
    assert theirs.get("/").status_code == 200
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    target = bench.ids["bka-appr"]
    r = client.post(f"/admin/users/{target}/deactivate", data={"csrf_token": token})
    assert r.status_code == 200
    assert "The staff member was deactivated" in r.text
    assert theirs.get("/account", follow_redirects=False).headers["location"] == "/"
    with session_factory() as s:
        live = s.scalars(
            select(UserSession).where(
                UserSession.user_id == target, UserSession.revoked_at.is_(None)
            )
        ).all()
        assert live == []
        events = s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == target)).all()
        assert "user.deactivated" in events
    r = client.post(f"/admin/users/{target}/reactivate", data={"csrf_token": token})
    assert r.status_code == 200
    assert user_row(session_factory, target).active
    r = theirs.post("/login", data={"username": "bka-appr", "password": PASSWORD})
    assert r.status_code == 200


def test_bank_b_admin_cannot_act_on_bank_a_users(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bkb-admin", "en")
    token = page_token(client)
    page = client.get("/admin/users").text
    assert "吴刚" not in page
    assert "bka-appr" not in page
    assert "t3-first" not in page
    before = counts(session_factory)
    target = bench.ids["bka-appr"]
    for url, form in [
        (f"/admin/users/{target}/roles", {"roles": "admin"}),
        (f"/admin/users/{target}/deactivate", {}),
        (f"/admin/users/{target}/reactivate", {}),
        (f"/admin/pending/{bench.ids['t3-first']}/activate", {}),
        ("/admin/authorities", {"user_id": target, "level": "9"}),
    ]:
        r = client.post(url, data={"csrf_token": token, **form})
        assert r.status_code in (404, 422), url
        assert "秦川" not in r.text
    assert counts(session_factory) == before
    assert user_row(session_factory, target).roles == ["approver"]


# ---------------------------------------------------------------------------- pending


def test_an_admin_activates_an_enterprise_administrator_awaiting_verification(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    page = client.get("/admin/users").text
    assert uscc(6) in page
    assert "t3-first" in page
    assert "周婷" in page
    token = csrf_token(page)
    pending = bench.ids["t3-first"]
    r = client.post(f"/admin/pending/{pending}/activate", data={"csrf_token": token})
    assert r.status_code == 200
    assert "The enterprise administrator was activated" in r.text
    assert user_row(session_factory, pending).active
    with session_factory() as s:
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.target_id == pending, AuditEvent.action == "user.activated"
            )
        ).one()
        assert event.actor == f"staff:{bench.ids['bka-admin']}"
    r = client.post(f"/admin/pending/{pending}/activate", data={"csrf_token": token})
    assert r.status_code == 404  # no longer waiting


def test_a_banks_own_staff_is_not_a_pending_administrator(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client)
    r = client.post(f"/admin/pending/{bench.ids['bka-appr']}/activate", data={"csrf_token": token})
    assert r.status_code == 404
    assert "No enterprise administrator with this id awaits" in r.text


# ---------------------------------------------------------------------------- clients


def test_an_admin_creates_rotates_and_revokes_a_client(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client, "/admin/clients")
    r = client.post(
        "/admin/clients",
        data={"csrf_token": token, "name": "核心系统", "scopes": ["registry:read", "loans:read"]},
    )
    assert r.status_code == 200
    client_id = re.search(r'class="code client-id">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'class="code secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    api = TestClient(client.app)
    grant = {"grant_type": "client_credentials", "client_id": client_id}
    r = api.post("/oauth/token", data={**grant, "client_secret": secret})
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "loans:read registry:read"
    r = client.post(f"/admin/clients/{client_id}/rotate", data={"csrf_token": token})
    assert r.status_code == 200
    new_secret = re.search(r'class="code secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert new_secret != secret
    assert api.post("/oauth/token", data={**grant, "client_secret": secret}).status_code == 401
    assert api.post("/oauth/token", data={**grant, "client_secret": new_secret}).status_code == 200
    r = client.post(f"/admin/clients/{client_id}/revoke", data={"csrf_token": token})
    assert r.status_code == 200
    assert api.post("/oauth/token", data={**grant, "client_secret": new_secret}).status_code == 401
    r = client.post(f"/admin/clients/{client_id}/rotate", data={"csrf_token": token})
    assert r.status_code == 409
    assert "This client is revoked" in r.text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "", "scopes": "registry:read"}, "client-name-error"),
        ({"name": "x"}, "scopes-error"),
        ({"name": "x", "scopes": "users:admin"}, "scopes-error"),
        ({"name": "x", "scopes": "consent:manage"}, "scopes-error"),
        ({"name": "x", "scopes": "platform:audit"}, "scopes-error"),
        ({"name": "x", "scopes": "nonsense"}, "scopes-error"),
    ],
)
def test_a_client_with_bad_fields_is_refused_at_the_field(
    client: TestClient,
    bench: Bench,
    session_factory: sessionmaker[Session],
    form: dict[str, str],
    field: str,
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client, "/admin/clients")
    before = counts(session_factory)
    r = client.post("/admin/clients", data={"csrf_token": token, **form})
    assert r.status_code == 422
    assert f'id="{field}" role="alert"' in r.text
    assert counts(session_factory) == before


def test_bank_b_admin_cannot_touch_bank_a_clients(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        from chainfin.domain.access import OwnerKind

        made = auth.create_client(
            s, SYSTEM, name="星湖核心", owner_kind=OwnerKind.BANK, owner="BKA",
            scopes=["registry:read"],
        )  # fmt: skip
    sign_in(client, "bkb-admin", "en")
    token = page_token(client, "/admin/clients")
    assert "星湖核心" not in client.get("/admin/clients").text
    before = counts(session_factory)
    for action in ("rotate", "revoke"):
        r = client.post(f"/admin/clients/{made.client_id}/{action}", data={"csrf_token": token})
        assert r.status_code == 404
    assert counts(session_factory) == before


# ---------------------------------------------------------------------------- authority


def test_an_admin_grants_and_changes_a_level(
    client: TestClient, bench: Bench, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client, "/admin/authorities")
    target = bench.ids["bka-appr"]
    for level in ("2", "4"):
        r = client.post(
            "/admin/authorities",
            data={"csrf_token": token, "user_id": target, "level": level},
            follow_redirects=False,
        )
        assert r.status_code == 303
    with session_factory() as s:
        row = s.get_one(ApprovalAuthority, (bench.portal.world.banks["BKA"], target))
        assert row.level == 4
    page = client.get("/admin/authorities").text
    assert f'id="authority-{target}"' in page


@pytest.mark.parametrize(
    ("form", "field"),
    [({"level": "3"}, "grant-user-error"), ({"level": "0"}, "grant-level-error")],
)
def test_a_bad_level_or_no_person_is_refused_at_the_field(
    client: TestClient,
    bench: Bench,
    session_factory: sessionmaker[Session],
    form: dict[str, str],
    field: str,
) -> None:
    sign_in(client, "bka-admin", "en")
    token = page_token(client, "/admin/authorities")
    if "user_id" not in form and field == "grant-level-error":
        form = {**form, "user_id": bench.ids["bka-appr"]}
    before = counts(session_factory)
    r = client.post("/admin/authorities", data={"csrf_token": token, **form})
    assert r.status_code == 422
    assert f'id="{field}" role="alert"' in r.text
    assert counts(session_factory) == before


def test_the_overview_counts_my_bank_only(client: TestClient, bench: Bench) -> None:
    sign_in(client, "bka-admin", "en")
    page = client.get("/admin").text
    assert '<span class="label">Awaiting verification</span><span class="value">1</span>' in page
    sign_in(client, "bkb-admin", "en")
    page = client.get("/admin").text
    assert '<span class="label">Awaiting verification</span><span class="value">0</span>' in page
