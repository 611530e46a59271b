"""A person's sessions (services/sessions.py) and an enterprise administrator's colleagues
(services/auth.py), rule by rule: what is listed, what ending a session does, what a
password change and a removal do to the sessions, and the refusals in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry, User, UserSession
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, Principal
from chainfin.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated
from chainfin.services import auth, sessions, token_keys

ISSUER = "chainfin.test"
TTL = 3600


@pytest.fixture
def people(session_factory: sessionmaker[Session]) -> dict[str, Principal]:
    """t1's administrator and finance person, t2's administrator, bank A's administrator."""
    credit_world.build(session_factory)
    out = {}
    with transaction(session_factory) as s:
        for username, roles, firm, bank in (
            ("t1-admin", ["enterprise_admin"], 4, None),
            ("t1-staff", ["finance_staff"], 4, None),
            ("t2-admin", ["enterprise_admin"], 5, None),
            ("bka-admin", ["admin"], None, "BKA"),
        ):
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                password="correct horse battery",
                roles=roles,
                enterprise_uscc=credit_world.uscc(firm) if firm else None,
                bank_code=bank,
            )
            out[username] = auth.principal_for_user(user)
    return out


def open_one(
    factory: sessionmaker[Session], who: Principal, agent: str = "Firefox/130.0"
) -> tuple[UserSession, str]:
    """A session and its token, as the sign-in opens them."""
    opening = sessions.Opening.new(
        who.subject_id, ttl_seconds=TTL, address="10.0.0.7", user_agent=agent
    )
    with transaction(factory) as s:
        row = sessions.open_session(s, opening)
        signer = token_keys.ensure_token_key(s)
    token = auth.issue_token(
        who,
        signer=signer,
        ttl_seconds=TTL,
        issuer=ISSUER,
        jti=opening.jti,
        expires_at=opening.expires_at,
    )
    return row, token.access_token


def accepted(factory: sessionmaker[Session], token: str) -> bool:
    with factory() as s:
        try:
            auth.principal_from_token(s, token, issuer=ISSUER)
        except Unauthenticated:
            return False
        return True


def live(factory: sessionmaker[Session], who: Principal) -> list[str]:
    with factory() as s:
        return [r.jti for r in sessions.live(s, who)]


# ---------------------------------------------------------------------------- sessions


def test_a_session_is_listed_with_a_trimmed_browser_until_it_expires(
    session_factory: sessionmaker[Session],
    people: dict[str, Principal],
    world_clock: clock.FixedClock,
) -> None:
    me = people["t1-staff"]
    row, token = open_one(session_factory, me, "x" * 500 + "\x00")
    assert len(row.user_agent) == sessions.USER_AGENT_CHARS
    assert "\x00" not in row.user_agent
    assert live(session_factory, me) == [row.jti]
    assert accepted(session_factory, token)
    world_clock.advance(timedelta(seconds=TTL + 1))
    assert live(session_factory, me) == []
    open_one(session_factory, me)  # opening another prunes the expired row
    with session_factory() as s:
        assert s.get(UserSession, row.jti) is None


def test_ending_a_session_refuses_its_token_at_once(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    me = people["t1-staff"]
    kept, kept_token = open_one(session_factory, me)
    ended, ended_token = open_one(session_factory, me)
    with transaction(session_factory) as s:
        sessions.end(s, me, ended.jti)
    assert not accepted(session_factory, ended_token)
    assert accepted(session_factory, kept_token)
    assert live(session_factory, me) == [kept.jti]
    with transaction(session_factory) as s:  # again: nothing more to do
        assert sessions.end(s, me, ended.jti).revoked_at is not None


def test_someone_elses_session_is_not_found(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    theirs, token = open_one(session_factory, people["t1-admin"])
    with transaction(session_factory) as s, pytest.raises(NotFound) as refused:
        sessions.end(s, people["t1-staff"], theirs.jti)
    assert refused.value.code == "session_not_found"
    assert accepted(session_factory, token)


def test_revoking_a_token_marks_its_session_ended(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    me = people["t1-staff"]
    _, token = open_one(session_factory, me)
    with session_factory() as s:
        found = auth.revocable(s, token, issuer=ISSUER)
    assert found is not None
    with transaction(session_factory) as s:
        auth.revoke(s, found)
    assert live(session_factory, me) == []


def test_a_password_change_ends_every_session(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    me = people["t1-staff"]
    _, token = open_one(session_factory, me)
    new_hash = auth.hash_password("another long password")
    with transaction(session_factory) as s:
        auth.change_own_password(s, me, new_hash)
    assert live(session_factory, me) == []
    assert not accepted(session_factory, token)
    with session_factory() as s:
        entry = s.scalar(
            select(LedgerEntry).where(LedgerEntry.event_type == "user.password_changed")
        )
    assert entry is not None


# ---------------------------------------------------------------------------- colleagues


def test_colleagues_are_the_admins_own_firms_people(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    with session_factory() as s:
        names = [u.username for u in auth.colleagues(s, people["t1-admin"])]
    assert names == ["t1-admin", "t1-staff"]


@pytest.mark.parametrize(
    ("who", "code"),
    [("t1-staff", "scope_missing"), ("bka-admin", "enterprise_user_only")],
)
def test_only_an_enterprise_admin_manages_colleagues(
    session_factory: sessionmaker[Session], people: dict[str, Principal], who: str, code: str
) -> None:
    with session_factory() as s, pytest.raises(Forbidden) as refused:
        auth.colleagues(s, people[who])
    assert refused.value.code == code


def test_removing_a_colleague_refuses_their_tokens_and_ends_their_sessions(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    staff = people["t1-staff"]
    _, token = open_one(session_factory, staff)
    with transaction(session_factory) as s:
        auth.remove_colleague(s, people["t1-admin"], staff.subject_id)
    assert not accepted(session_factory, token)
    assert live(session_factory, staff) == []
    with session_factory() as s:
        assert not s.get(User, staff.subject_id).active  # type: ignore[union-attr]
        assert s.scalar(select(LedgerEntry).where(LedgerEntry.event_type == "user.changed"))


def test_removal_refusals_in_order(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    admin = people["t1-admin"]
    with transaction(session_factory) as s, pytest.raises(NotFound) as stranger:
        auth.remove_colleague(s, admin, people["t2-admin"].subject_id)
    assert stranger.value.code == "user_not_found"
    with transaction(session_factory) as s, pytest.raises(Conflict) as myself:
        auth.remove_colleague(s, admin, admin.subject_id)
    assert myself.value.code == "self_removal_refused"


def test_the_last_admin_keeps_the_admin_role(
    session_factory: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    admin = people["t1-admin"]
    with transaction(session_factory) as s, pytest.raises(Conflict) as refused:
        auth.set_colleague_roles(s, admin, admin.subject_id, ["finance_staff"])
    assert refused.value.code == "last_enterprise_admin"
    with transaction(session_factory) as s:  # with a second administrator it may go
        auth.set_colleague_roles(
            s, admin, people["t1-staff"].subject_id, ["enterprise_admin", "finance_staff"]
        )
        changed = auth.set_colleague_roles(s, admin, admin.subject_id, ["finance_staff"])
    assert changed.roles == ["finance_staff"]
