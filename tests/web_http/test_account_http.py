"""The account page (/account) over HTTP: changing my password, my sessions, and an
enterprise administrator's colleagues. Each test names one behaviour; password changes and
removals act on people made for the test, never on the portal's own users."""

from __future__ import annotations

import re

import jwt
import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry, RevokedToken, User, UserSession
from chainfin.api.deps import COOKIE
from chainfin.domain.access import SYSTEM
from chainfin.services import auth
from credit_world import uscc

NEW_PASSWORD = "a brand new passphrase"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def person(portal: Portal, session_factory: sessionmaker[Session]) -> str:
    """A finance person of t1 made for the test (its password may change)."""
    with transaction(session_factory) as s:
        auth.create_user(
            s,
            SYSTEM,
            username="t1-pw",
            password=PASSWORD,
            roles=["finance_staff"],
            display_name="周敏",
            enterprise_uscc=uscc(4),
        )
    return "t1-pw"


def other_browser(client: TestClient) -> TestClient:
    """A second browser on the same server (its own cookies)."""
    return TestClient(client.app, headers={"User-Agent": BROWSER})


def user(session_factory: sessionmaker[Session], username: str) -> User:
    with session_factory() as s:
        return s.scalars(select(User).where(User.username == username)).one()


def live_sessions(session_factory: sessionmaker[Session], username: str) -> list[UserSession]:
    with session_factory() as s:
        user_id = s.scalars(select(User.id).where(User.username == username)).one()
        return list(
            s.scalars(
                select(UserSession).where(
                    UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
                )
            )
        )


def change(client: TestClient, current: str, new: str, repeat: str | None = None) -> object:
    token = csrf_token(client.get("/account").text)
    form = {
        "csrf_token": token,
        "current_password": current,
        "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    }
    return client.post("/account/password", data=form, follow_redirects=False)


def signed_in(client: TestClient) -> bool:
    return client.get("/account", follow_redirects=False).status_code == 200


# ---------------------------------------------------------------------------- sessions


def test_signing_in_records_a_session_with_address_and_browser(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    client.headers["User-Agent"] = BROWSER
    sign_in(client, person)
    (row,) = live_sessions(session_factory, person)
    assert row.user_agent == BROWSER
    assert row.address == "testclient"
    html = client.get("/account").text
    assert "Chrome · Linux" in html
    assert "当前会话" in html  # this session, which has no button to end it
    assert f'action="/account/sessions/{row.jti}/end"' not in html


def test_the_api_password_grant_records_a_session_under_the_tokens_id(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    r = client.post(
        "/oauth/token", data={"grant_type": "password", "username": person, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    (row,) = live_sessions(session_factory, person)
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["jti"] == row.jti
    assert claims["exp"] == int(row.expires_at.timestamp())


def test_a_token_refused_for_its_scopes_leaves_no_session(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    form = {"grant_type": "password", "username": person, "password": PASSWORD}
    r = client.post("/oauth/token", data={**form, "scope": "users:admin"})
    assert r.status_code == 400
    assert live_sessions(session_factory, person) == []


def test_ending_another_session_signs_it_out(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    other = other_browser(client)
    sign_in(other, person)
    sign_in(client, person)
    theirs = next(s for s in live_sessions(session_factory, person) if s.user_agent == BROWSER)
    token = csrf_token(client.get("/account").text)
    r = client.post(
        f"/account/sessions/{theirs.jti}/end",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert r.text == ""  # htmx removes the row
    assert not signed_in(other)
    assert signed_in(client)
    with session_factory() as s:
        assert s.get(RevokedToken, theirs.jti) is not None
    assert [s.jti for s in live_sessions(session_factory, person)] != [theirs.jti]


def test_a_session_of_someone_else_is_not_found(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    other = other_browser(client)
    sign_in(other, "t1-admin")
    (theirs,) = live_sessions(session_factory, "t1-admin")
    sign_in(client, person)
    token = csrf_token(client.get("/account").text)
    r = client.post(f"/account/sessions/{theirs.jti}/end", data={"csrf_token": token})
    assert r.status_code == 404
    assert "该会话不属于您" in r.text
    assert signed_in(other)


def test_ending_a_session_needs_the_forms_token(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, person)
    (mine,) = live_sessions(session_factory, person)
    r = client.post(f"/account/sessions/{mine.jti}/end")
    assert r.status_code == 403
    assert signed_in(client)


def test_signing_out_marks_the_session_ended(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, person)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
    assert live_sessions(session_factory, person) == []


# ---------------------------------------------------------------------------- password


def test_a_wrong_current_password_is_refused_at_its_field(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, person)
    before = user(session_factory, person).password_hash
    r = change(client, "not my password", NEW_PASSWORD)
    assert r.status_code == 422
    assert 'id="current_password-error"' in r.text
    assert "当前密码不正确" in r.text
    assert 'aria-describedby="current_password-error"' in r.text
    assert user(session_factory, person).password_hash == before
    assert signed_in(client)


def test_a_short_or_mismatched_new_password_is_refused_at_its_field(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, person)
    before = user(session_factory, person).password_hash
    r = change(client, PASSWORD, "short", "shorter")
    assert r.status_code == 422
    assert 'id="new_password-error"' in r.text
    assert "请至少使用12个字符" in r.text
    assert 'id="repeat_password-error"' in r.text
    assert "两次输入的新密码不一致" in r.text
    assert 'id="current_password-error"' not in r.text  # not checked: nothing else was
    assert user(session_factory, person).password_hash == before


def test_changing_the_password_keeps_this_browser_and_signs_out_the_others(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    other = other_browser(client)
    sign_in(other, person)
    sign_in(client, person)
    old_cookie = client.cookies.get(COOKIE)
    r = change(client, PASSWORD, NEW_PASSWORD)
    assert r.status_code == 303
    assert r.headers["location"] == "/account?done=password"
    assert client.cookies.get(COOKIE) != old_cookie  # a new session for this browser
    page = client.get(r.headers["location"])
    assert "密码已修改" in page.text
    assert not signed_in(other)
    (kept,) = live_sessions(session_factory, person)
    assert kept.user_agent != BROWSER
    with session_factory() as s:
        entries = s.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.event_type == "user.password_changed")
        )
    assert entries == 1
    fresh = TestClient(client.app)
    assert fresh.post("/login", data={"username": person, "password": PASSWORD}).status_code == 401
    r = fresh.post("/login", data={"username": person, "password": NEW_PASSWORD})
    assert r.status_code == 200


def test_the_password_form_needs_the_forms_token(
    client: TestClient, person: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, person)
    before = user(session_factory, person).password_hash
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    r = client.post("/account/password", data={**form, "repeat_password": NEW_PASSWORD})
    assert r.status_code == 403
    assert user(session_factory, person).password_hash == before


# ---------------------------------------------------------------------------- colleagues


def invite(client: TestClient, **fields: object) -> object:
    token = csrf_token(client.get("/account").text)
    return client.post("/account/colleagues", data={"csrf_token": token, **fields})


def initial_password(html: str) -> str:
    found = re.search(r'<p class="initial-password code">([^<]+)</p>', html)
    assert found, html
    return found.group(1)


def test_finance_staff_see_no_colleagues_and_may_not_invite(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-staff")
    html = client.get("/account").text
    assert "修改密码" in html
    assert "邀请同事" not in html
    r = invite(client, username="t1-new", display_name="新同事", roles="finance_staff")
    assert r.status_code == 403
    assert "只有贵企业的管理员可以管理同事" in r.text
    with session_factory() as s:
        assert s.scalar(select(User).where(User.username == "t1-new")) is None


def test_bank_staff_change_their_password_here_but_have_no_colleagues(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "bka-rm")
    html = client.get("/account").text
    assert "修改密码" in html
    assert "登录设备" in html
    assert "邀请同事" not in html
    r = invite(client, username="bka-new", display_name="新同事", roles="finance_staff")
    assert r.status_code == 403


def test_an_admin_invites_a_colleague_who_signs_in_with_the_initial_password(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    r = invite(client, username="t1-new", display_name="新同事", roles="finance_staff")
    assert r.status_code == 200
    assert "初始密码仅显示这一次" in r.text
    password = initial_password(r.text)
    assert len(password) >= auth.MIN_PASSWORD
    colleague = TestClient(client.app)
    r = colleague.post("/login", data={"username": "t1-new", "password": password})
    assert r.status_code == 200
    assert "新同事" in colleague.get("/").text
    made = user(session_factory, "t1-new")
    assert made.roles == ["finance_staff"]
    assert made.enterprise_id == portal.world.ids["t1"]
    again = client.get("/account").text
    assert password not in again  # shown once


def test_an_invite_with_a_taken_username_is_refused_at_the_field(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    r = invite(client, username="t2-admin", display_name="重名", roles="finance_staff")
    assert r.status_code == 409
    assert 'id="username-error"' in r.text
    assert "该用户名已被占用" in r.text
    assert 'value="重名"' in r.text  # what was typed stays


def test_an_invite_without_a_name_or_a_role_is_refused_at_the_fields(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    r = invite(client, username="t1-nobody")
    assert r.status_code == 422
    assert 'id="display_name-error"' in r.text
    assert 'id="roles-error"' in r.text
    with session_factory() as s:
        assert s.scalar(select(User).where(User.username == "t1-nobody")) is None


def _colleague(session_factory: sessionmaker[Session]) -> str:
    with transaction(session_factory) as s:
        made = auth.create_user(
            s,
            SYSTEM,
            username="t1-leaving",
            password=PASSWORD,
            roles=["finance_staff"],
            display_name="将离职",
            enterprise_uscc=uscc(4),
        )
        return made.id


def test_removing_a_colleague_ends_their_open_sessions(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    leaving = _colleague(session_factory)
    theirs = other_browser(client)
    sign_in(theirs, "t1-leaving")
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/account").text)
    r = client.post(f"/account/colleagues/{leaving}/remove", data={"csrf_token": token})
    assert r.status_code == 200
    assert "已移除该同事" in r.text
    assert not signed_in(theirs)
    assert not user(session_factory, "t1-leaving").active
    assert live_sessions(session_factory, "t1-leaving") == []
    login = TestClient(client.app).post(
        "/login", data={"username": "t1-leaving", "password": PASSWORD}
    )
    assert login.status_code == 401
    with session_factory() as s:
        changed = s.scalars(
            select(LedgerEntry.event_type).where(LedgerEntry.event_type == "user.changed")
        ).all()
    assert changed


def test_an_admin_cannot_remove_themselves(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    me = user(session_factory, "t1-admin")
    html = client.get("/account").text
    assert f'action="/account/colleagues/{me.id}/remove"' not in html
    token = csrf_token(html)
    r = client.post(f"/account/colleagues/{me.id}/remove", data={"csrf_token": token})
    assert r.status_code == 409
    assert "不能移除您自己" in r.text
    assert user(session_factory, "t1-admin").active


def test_the_last_admin_cannot_give_up_the_admin_role(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    me = user(session_factory, "t1-admin")
    token = csrf_token(client.get("/account").text)
    r = client.post(
        f"/account/colleagues/{me.id}/roles",
        data={"csrf_token": token, "roles": "finance_staff"},
    )
    assert r.status_code == 409
    assert "必须至少保留一名管理员" in r.text
    assert user(session_factory, "t1-admin").roles == ["enterprise_admin"]


def test_an_admin_changes_a_colleagues_roles(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    staff = user(session_factory, "t1-staff")
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/account").text)
    r = client.post(
        f"/account/colleagues/{staff.id}/roles",
        data={"csrf_token": token, "roles": ["finance_staff", "enterprise_admin"]},
    )
    assert r.status_code == 200
    assert "同事的角色已修改" in r.text
    assert user(session_factory, "t1-staff").roles == ["enterprise_admin", "finance_staff"]


def test_a_colleague_of_another_firm_is_not_found(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    stranger = user(session_factory, "t2-admin")
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/account").text)
    r = client.post(f"/account/colleagues/{stranger.id}/remove", data={"csrf_token": token})
    assert r.status_code == 404
    assert "此人不是贵企业的同事" in r.text
    assert user(session_factory, "t2-admin").active
    r = client.post(
        f"/account/colleagues/{stranger.id}/roles",
        data={"csrf_token": token, "roles": "finance_staff"},
    )
    assert r.status_code == 404
    assert user(session_factory, "t2-admin").roles == ["enterprise_admin"]


def test_removing_needs_the_forms_token(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    staff = user(session_factory, "t1-staff")
    sign_in(client, "t1-admin")
    r = client.post(f"/account/colleagues/{staff.id}/remove")
    assert r.status_code == 403
    assert user(session_factory, "t1-staff").active


def test_the_account_page_in_english(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/account").text
    assert "Change password" in html
    assert "Where you are signed in" in html
    assert "Invite a colleague" in html
