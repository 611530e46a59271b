"""Sign-in from the attacker's side (issue 13, part 2): bogus sign-ins do not block writers,
throttling and lockout answer 429 with Retry-After and tell nothing about which names
exist, revoked tokens and tokens from before a password change are refused, rotated keys
keep verifying their tokens, tokens signed any other way are refused, and every answer
carries the security headers. On SQLite and on PostgreSQL (CHAINFIN_TEST_DATABASE_URL);
the Redis test needs a Redis (CHAINFIN_TEST_REDIS_URL, default redis://127.0.0.1:6379).
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
import pytest
import uvicorn
from apiworld import PASSWORD, World, login, uscc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import WRITE, transaction
from chainfin.adapters.db.models import AuditEvent, TokenKey, User
from chainfin.adapters.ratelimit import RateLimiter
from chainfin.app import create_app
from chainfin.cli import app as cli
from chainfin.config import Settings, get_settings
from chainfin.domain import clock
from chainfin.domain.errors import Unauthenticated
from chainfin.services import auth, token_keys
from chainfin.services.signin import Policy, SignIn, TooManyAttempts, verify
from testkeys import TEST_DATA_KEYS

REDIS_URL = os.environ.get("CHAINFIN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
ATTACKERS = 8
WAIT = 30.0  # seconds: the most any step of a test waits for another thread


def settings_for(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "var_dir": var_dir,
        "data_keys": TEST_DATA_KEYS,
        "ledger_sequencer": False,
        "ledger_origin": "chainfin.test/ledger",
        "rate_limit_namespace": f"test-{uuid.uuid4().hex}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_client(
    database_url: str, tmp_path: Path, world: World
) -> Iterator[Callable[..., TestClient]]:
    """Apps on the test database with the given Settings overrides, each a new instance (its
    own memory:// throttles), started and stopped with the test."""
    made: list[tuple[FastAPI, TestClient]] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(settings_for(database_url, tmp_path, **overrides))
        client = TestClient(app)
        client.__enter__()
        made.append((app, client))
        return client

    yield make
    for app, client in made:
        client.__exit__(None, None, None)
        app.state.engine.dispose()


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_throttled(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "too_many_requests"
    assert body["status"] == 429
    assert body["error"] == "temporarily_unavailable"
    retry = int(r.headers["retry-after"])
    assert retry >= 1
    return retry


# ---------------------------------------------------------------------------- writers


@pytest.fixture
def live(database_url: str, tmp_path: Path, world: World) -> Iterator[tuple[FastAPI, str]]:
    """The app in a real uvicorn server on a thread; argon2 may run 8 at a time, so that all
    8 attackers are inside it at once."""
    app = create_app(settings_for(database_url, tmp_path, signin_concurrency=ATTACKERS))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server thread died"
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=WAIT)
    assert not thread.is_alive(), "server did not stop"
    app.state.engine.dispose()


def test_bogus_sign_ins_in_flight_do_not_block_a_writer(
    live: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    """8 wrong-password sign-ins are held inside argon2 (a verification that waits for the
    test's word); meanwhile the database has no connection checked out for them, and an
    ordinary write commits and answers 201 before any of them has answered. Before the fix
    each sign-in held SQLite's write lock (BEGIN IMMEDIATE) through argon2, and the write
    waited behind them until busy_timeout, then failed."""
    app, base = live
    with httpx.Client(base_url=base, timeout=WAIT) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "a-rm", "password": PASSWORD},
        ).json()["access_token"]

    inside = threading.Semaphore(0)
    release = threading.Event()
    real_verify = auth.verify_secret

    def held_verify(hash_: str, secret: str) -> bool:
        inside.release()
        assert release.wait(WAIT), "the test never released the sign-ins"
        return real_verify(hash_, secret)

    monkeypatch.setattr(auth, "verify_secret", held_verify)
    answers: list[int] = []
    lock = threading.Lock()

    def attacker(n: int) -> None:
        user = "a-rm" if n % 2 else f"ghost-{n}"
        with httpx.Client(base_url=base, timeout=WAIT) as http:
            r = http.post(
                "/oauth/token",
                data={"grant_type": "password", "username": user, "password": "wrong-guess"},
            )
        with lock:
            answers.append(r.status_code)

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(ATTACKERS)]
    for t in threads:
        t.start()
    try:
        for _ in range(ATTACKERS):
            assert inside.acquire(timeout=WAIT), "not every sign-in reached argon2"
        # Every attacker is inside argon2 now: none holds a connection, let alone a lock.
        assert app.state.engine.pool.checkedout() == 0
        with httpx.Client(base_url=base, timeout=WAIT) as http:
            write = http.post(
                "/v1/enterprises",
                json={
                    "uscc": uscc("320505", 900),
                    "name": "写入不被登录阻塞",
                    "region_code": "320505",
                    "industry_code": "C36",
                    "roles": "supplier",
                },
                headers=bearer(token),
            )
        with lock:
            assert answers == [], "a sign-in answered before it was released"
        assert write.status_code == 201, write.text
    finally:
        release.set()
        for t in threads:
            t.join(timeout=WAIT)
    assert sorted(answers) == [400] * ATTACKERS


def test_bogus_requests_need_no_write_lock(
    client: TestClient, world: World, engine: Engine, backend: str
) -> None:
    """With another writer holding SQLite's write lock, a sign-in for an unknown name and
    a revocation of a garbage token still answer at once: neither takes the lock (before,
    the sign-in waited for it, and then held it through argon2)."""
    if backend != "sqlite":
        pytest.skip("the database-wide write lock is SQLite's")
    with engine.connect().execution_options(**WRITE) as other:
        other.exec_driver_sql("SELECT 1")  # begins: BEGIN IMMEDIATE, the write lock
        probe = sqlite3.connect(str(engine.url.database), timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")  # the lock is really held
        probe.close()
        try:
            assert sign_in(client, "nobody-here", "wrong-guess").status_code == 400
            assert client.post("/oauth/revoke", data={"token": "garbage"}).status_code == 200
            assert client.get("/oauth/jwks").status_code == 200
        finally:
            other.rollback()


def test_a_sign_in_that_waited_its_turn_rechecks_the_throttles(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """Sign-ins queued for argon2 while the account's limit filled up are refused before
    they spend it."""
    policy = Policy.of(
        address="100/minute", account="2/minute", lockout_failures=10, lockout_minutes=15
    )
    service = SignIn(session_factory, RateLimiter("memory://"), policy)
    queued = [service.begin_password("a-rm", "192.0.2.1") for _ in range(3)]
    for attempt in queued[:2]:
        service.recheck(attempt)
        with pytest.raises(Unauthenticated):
            service.finish(attempt, verify(attempt, "wrong-guess"))
    with pytest.raises(TooManyAttempts):
        service.recheck(queued[2])


def test_failed_sign_ins_are_recorded_after_argon2_in_a_short_write(
    client: TestClient, session_factory: sessionmaker[Session], world: World
) -> None:
    assert sign_in(client, "a-rm", "wrong-guess").status_code == 400
    assert sign_in(client, "a-rm").status_code == 200
    with session_factory() as s:
        user = s.scalar(select(User).where(User.username == "a-rm"))
        assert user is not None
        assert user.failed_sign_ins == 0  # a good sign-in resets the count
        assert user.last_sign_in_at is not None
        actions = list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target_id == user.id)
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            )
        )
    assert actions[-2:] == ["user.sign_in_failed", "user.sign_in"]


# ---------------------------------------------------------------------------- throttling


def test_too_many_failures_for_an_account_answer_429_with_retry_after(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(signin_account_limit="3/minute", signin_address_limit="100/minute")
    for _ in range(3):
        assert sign_in(client, "a-rm", "wrong-guess").status_code == 400
    retry = assert_throttled(sign_in(client, "a-rm", "wrong-guess"))
    assert retry <= 60
    assert_throttled(sign_in(client, "a-rm"))  # the right password waits too
    assert sign_in(client, "b-rm").status_code == 200  # other accounts are not affected


def test_too_many_failures_from_an_address_answer_429(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(signin_account_limit="100/minute", signin_address_limit="3/minute")
    for name in ("a-rm", "b-rm", "nobody"):
        assert sign_in(client, name, "wrong-guess").status_code == 400
    assert_throttled(sign_in(client, "s1"))
    assert_throttled(
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
    )


def test_client_credentials_are_throttled_per_client(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(signin_account_limit="2/minute", signin_address_limit="100/minute")
    form = {"grant_type": "client_credentials", "client_id": world.client_id}
    for _ in range(2):
        r = client.post("/oauth/token", data={**form, "client_secret": "wrong"})
        assert r.status_code == 401
    assert_throttled(client.post("/oauth/token", data={**form, "client_secret": "wrong"}))
    good = {**form, "client_id": world.platform_client_id}
    r = client.post("/oauth/token", data={**good, "client_secret": world.platform_client_secret})
    assert r.status_code == 200


def test_unknown_and_known_names_look_the_same(
    make_client: Callable[..., TestClient],
) -> None:
    """The same answers, in the same order, for a real user and a name that does not exist:
    400 while guessing, then the same 429 for the per-account throttle and for lockout."""
    client = make_client(
        signin_account_limit="100/minute",
        signin_address_limit="100/minute",
        signin_lockout_failures=3,
    )

    def story(name: str) -> list[tuple[int, str]]:
        seen = []
        for _ in range(4):
            r = sign_in(client, name, "wrong-guess")
            body = r.json()
            seen.append((r.status_code, re.sub(r"\d+ s$", "N s", body["error_description"])))
        return seen

    known, unknown = story("a-rm"), story("nobody-at-all")
    assert known == unknown
    assert [s for s, _ in known] == [400, 400, 400, 429]


def test_the_pages_sign_in_form_is_throttled_too(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(signin_account_limit="2/minute")
    client.cookies.set("lang", "en")
    for _ in range(2):
        assert client.post("/login", data={"username": "a-rm", "password": "x"}).status_code == 401
    r = client.post("/login", data={"username": "a-rm", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "too many failed sign-in attempts" in r.text


# ---------------------------------------------------------------------------- lockout


def test_lockout_survives_a_new_app_instance_and_ends_on_expiry(
    make_client: Callable[..., TestClient], world_clock: clock.FixedClock
) -> None:
    lenient = {
        "signin_account_limit": "100/minute",
        "signin_address_limit": "100/minute",
        "signin_lockout_failures": 3,
        "signin_lockout_minutes": 15,
    }
    first = make_client(**lenient)
    for _ in range(3):
        assert sign_in(first, "a-rm", "wrong-guess").status_code == 400
    assert_throttled(sign_in(first, "a-rm"))  # locked: the right password fails
    # A new instance forgets its in-memory throttles; the lockout is in the database.
    second = make_client(**lenient)
    retry = assert_throttled(sign_in(second, "a-rm"))
    assert 14 * 60 < retry <= 15 * 60
    world_clock.advance(timedelta(minutes=16))
    assert sign_in(second, "a-rm").status_code == 200


def test_failures_far_apart_do_not_add_up_to_a_lockout(
    make_client: Callable[..., TestClient], world_clock: clock.FixedClock
) -> None:
    client = make_client(
        signin_account_limit="100/minute",
        signin_lockout_failures=3,
        signin_lockout_minutes=15,
    )
    for _ in range(4):
        assert sign_in(client, "a-rm", "wrong-guess").status_code == 400
        world_clock.advance(timedelta(minutes=16))
    assert sign_in(client, "a-rm").status_code == 200


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_admin_unlocks_a_user_from_the_cli(
    make_client: Callable[..., TestClient], cli_env: None
) -> None:
    client = make_client(signin_account_limit="100/minute", signin_lockout_failures=2)
    for _ in range(2):
        sign_in(client, "a-rm", "wrong-guess")
    assert_throttled(sign_in(client, "a-rm"))
    result = CliRunner().invoke(cli, ["users", "unlock", "a-rm"])
    assert result.exit_code == 0, result.output
    assert "unlocked a-rm" in result.output
    assert sign_in(client, "a-rm").status_code == 200
    missing = CliRunner().invoke(cli, ["users", "unlock", "nobody"])
    assert missing.exit_code != 0


# ---------------------------------------------------------------------------- revocation


def test_a_revoked_token_is_refused(client: TestClient, world: World) -> None:
    token = sign_in(client, "a-rm").json()["access_token"]
    other = sign_in(client, "a-rm").json()["access_token"]
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    r = client.post("/oauth/revoke", data={"token": token, "token_type_hint": "access_token"})
    assert r.status_code == 200
    assert r.content == b""
    refused = client.get("/v1/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the access token has been revoked"
    assert client.get("/v1/me", headers=bearer(other)).status_code == 200  # only that one
    # RFC 7009: nonsense, and a token revoked already, are not errors.
    assert client.post("/oauth/revoke", data={"token": "nonsense"}).status_code == 200
    assert client.post("/oauth/revoke", data={"token": token}).status_code == 200


def test_signing_out_of_the_pages_revokes_the_token(client: TestClient, world: World) -> None:
    r = client.post("/login", data={"username": "a-rm", "password": PASSWORD})
    assert r.status_code == 200
    token = client.cookies.get("chainfin_token")
    assert token
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    page = client.get("/").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout").status_code == 403  # no CSRF token: refused
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    assert "chain A" not in client.get("/").text


def test_a_cross_site_form_cannot_sign_in_or_out(client: TestClient, world: World) -> None:
    r = client.post(
        "/login",
        data={"username": "a-rm", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403
    r = client.post(
        "/login",
        data={"username": "a-rm", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_revoked_tokens_are_pruned_once_expired(
    client: TestClient,
    session_factory: sessionmaker[Session],
    world: World,
    world_clock: clock.FixedClock,
) -> None:
    from chainfin.adapters.db.models import RevokedToken

    old = sign_in(client, "a-rm").json()["access_token"]
    client.post("/oauth/revoke", data={"token": old})
    world_clock.advance(timedelta(hours=2))  # past the old token's expiry
    fresh = sign_in(client, "a-rm").json()["access_token"]
    client.post("/oauth/revoke", data={"token": fresh})
    with session_factory() as s:
        assert len(s.scalars(select(RevokedToken)).all()) == 1


def test_a_password_change_revokes_every_earlier_token(
    client: TestClient, world: World, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [sign_in(client, "a-rm").json()["access_token"] for _ in range(2)]
    monkeypatch.setenv("CHAINFIN_NEW_PASSWORD", "a brand new passphrase")
    result = CliRunner().invoke(cli, ["users", "passwd", "a-rm"])
    assert result.exit_code == 0, result.output
    for token in before:
        r = client.get("/v1/me", headers=bearer(token))
        assert r.status_code == 401
        assert "password changed" in r.json()["detail"]
    assert sign_in(client, "a-rm").status_code == 400  # the old password is gone
    # Signing in at once, in the same second as the change, gives a token that works.
    after = sign_in(client, "a-rm", "a brand new passphrase").json()["access_token"]
    assert client.get("/v1/me", headers=bearer(after)).status_code == 200
    # Other users' tokens are untouched.
    assert client.get("/v1/me", headers=login(client, "b-rm")).status_code == 200


def test_a_too_short_new_password_is_refused(cli_env: None, world: World) -> None:
    result = CliRunner().invoke(cli, ["users", "passwd", "a-rm", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output


# ---------------------------------------------------------------------------- signing keys


def test_tokens_are_eddsa_with_a_kid_published_in_the_jwks(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, "a-rm").json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    keys = client.get("/oauth/jwks").json()
    assert client.get("/.well-known/jwks.json").json() == keys
    assert [k["kid"] for k in keys["keys"]] == [header["kid"]]
    assert "d" not in keys["keys"][0]  # no private part
    # Anyone can verify a token with the published key alone.
    key = jwt.PyJWKSet.from_dict(keys)[header["kid"]]
    claims = jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        issuer="chainfin",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["knd"] == "staff"


def test_rotated_keys_still_verify_their_tokens_until_withdrawn(
    client: TestClient, world: World, cli_env: None
) -> None:
    old = sign_in(client, "a-rm").json()["access_token"]
    result = CliRunner().invoke(cli, ["auth", "rotate-key"])
    assert result.exit_code == 0, result.output
    new = sign_in(client, "a-rm").json()["access_token"]
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (old, new))
    assert old_kid != new_kid
    assert client.get("/v1/me", headers=bearer(old)).status_code == 200
    assert client.get("/v1/me", headers=bearer(new)).status_code == 200
    assert {k["kid"] for k in client.get("/oauth/jwks").json()["keys"]} == {old_kid, new_kid}
    listed = CliRunner().invoke(cli, ["auth", "keys", "--json"])
    assert [k["active"] for k in json.loads(listed.output)["items"]] == [False, True]
    # A key that may have leaked is withdrawn: its tokens stop working at once.
    result = CliRunner().invoke(cli, ["auth", "rotate-key", "--revoke"])
    assert result.exit_code == 0, result.output
    for token in (old, new):
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    latest = sign_in(client, "a-rm").json()["access_token"]
    assert client.get("/v1/me", headers=bearer(latest)).status_code == 200
    assert len(client.get("/oauth/jwks").json()["keys"]) == 1


def test_a_retired_key_stops_verifying_once_its_tokens_have_expired(
    client: TestClient,
    session_factory: sessionmaker[Session],
    world: World,
    world_clock: clock.FixedClock,
) -> None:
    sign_in(client, "a-rm")
    with transaction(session_factory) as s:
        token_keys.rotate_token_key(s, token_ttl_seconds=3600)
    assert len(client.get("/oauth/jwks").json()["keys"]) == 2
    world_clock.advance(timedelta(seconds=3601))
    assert len(client.get("/oauth/jwks").json()["keys"]) == 1


def _claims(world_clock: clock.FixedClock, sub: str) -> dict[str, Any]:
    now = int(world_clock.now().timestamp())
    return {
        "iss": "chainfin",
        "sub": sub,
        "knd": "staff",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "scope": "registry:read",
    }


def test_tokens_signed_any_other_way_are_refused(
    client: TestClient,
    session_factory: sessionmaker[Session],
    world: World,
    world_clock: clock.FixedClock,
) -> None:
    token = sign_in(client, "a-rm").json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    with session_factory() as s:
        row = s.get(TokenKey, kid)
        assert row is not None
        public_x = row.public_key
    body = _claims(world_clock, claims["sub"])
    stranger = Ed25519PrivateKey.generate()

    def unsigned(header: dict[str, Any]) -> str:
        def part(obj: dict[str, Any]) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return f"{part(header)}.{part(body)}."

    forged = {
        # the classic confusion: HMAC keyed with the public key everyone can fetch
        "HS256 with the public key": jwt.encode(
            body, public_x.encode(), algorithm="HS256", headers={"kid": kid}
        ),
        "HS256 with the old shared secret": jwt.encode(
            body, "k" * 40, algorithm="HS256", headers={"kid": kid}
        ),
        "alg none": unsigned({"alg": "none", "typ": "JWT", "kid": kid}),
        "alg none, no kid": unsigned({"alg": "none", "typ": "JWT"}),
        "EdDSA by another key under a real kid": jwt.encode(
            body, stranger, algorithm="EdDSA", headers={"kid": kid}
        ),
        "EdDSA with an unknown kid": jwt.encode(
            body, stranger, algorithm="EdDSA", headers={"kid": "not-a-key"}
        ),
        "EdDSA without a kid": jwt.encode(body, stranger, algorithm="EdDSA"),
    }
    for name, bad in forged.items():
        r = client.get("/v1/me", headers=bearer(bad))
        assert r.status_code == 401, name
        assert r.json()["code"] == "token_invalid", name
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200


# ---------------------------------------------------------------------------- headers


COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def assert_headers(r: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert r.headers.get(name) == value, (r.request.url, name)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_every_answer_carries_the_security_headers(client: TestClient, world: World) -> None:
    answers = {
        "health": client.get("/healthz"),
        "page": client.get("/"),
        "stylesheet": client.get("/static/chainfin.css"),
        "401 problem": client.get("/v1/me"),
        "404": client.get("/nowhere"),
        "token": sign_in(client, "a-rm"),
        "wrong password": sign_in(client, "a-rm", "wrong-guess"),
        "jwks": client.get("/oauth/jwks"),
    }
    for name, r in answers.items():
        assert_headers(r), name
        assert "strict-transport-security" not in r.headers, name  # plain http
    token = answers["token"].json()["access_token"]
    assert answers["token"].headers["cache-control"] == "no-store"
    assert answers["token"].headers["pragma"] == "no-cache"
    me = client.get("/v1/me", headers=bearer(token))
    assert_headers(me)
    assert me.headers["cache-control"] == "no-store"
    assert answers["jwks"].headers["cache-control"] == "public, max-age=300"


def test_pages_need_no_inline_script_or_style(client: TestClient, world: World) -> None:
    for html in (
        client.get("/").text,
        client.post("/login", data={"username": "a-rm", "password": PASSWORD}).text,
    ):
        assert "<style" not in html
        assert "<script>" not in html  # scripts are files: <script src="/static/...">
        assert re.findall(r"<script[^>]*>", html) == [
            m for m in re.findall(r"<script[^>]*>", html) if 'src="/static/' in m
        ]
        assert " style=" not in html
        assert 'href="/static/chainfin.css?v=' in html
    assert client.get("/static/chainfin.css").headers["content-type"].startswith("text/css")


def test_hsts_only_over_tls_or_behind_a_tls_proxy(
    make_client: Callable[..., TestClient], client: TestClient
) -> None:
    tls = TestClient(client.app, base_url="https://testserver")
    assert tls.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    proxied = make_client(tls_proxy=True, hsts_seconds=600)
    assert proxied.get("/healthz").headers["strict-transport-security"] == "max-age=600"
    off = make_client(tls_proxy=True, hsts_seconds=0)
    assert "strict-transport-security" not in off.get("/healthz").headers


def test_the_swagger_page_gets_a_narrower_policy_of_its_own_files(
    client: TestClient,
) -> None:
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    assert re.findall(r"<script>(.*?)</script>", r.text, re.S) == []  # vendored files only
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "http" not in csp
    assert int(r.headers["content-length"]) == len(r.content)


# ---------------------------------------------------------------------------- Redis


@pytest.fixture
def redis_url() -> str:
    """Redis for the throttles of several workers; missing, it is a skip on a laptop and a
    failure in CI."""
    import redis

    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        probe.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL} ({exc}); set CHAINFIN_TEST_REDIS_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        probe.close()
    return REDIS_URL


def test_workers_share_throttles_through_redis(
    make_client: Callable[..., TestClient], redis_url: str
) -> None:
    """Two app instances (two workers) on one Redis: failures counted by one throttle the
    other."""
    shared = {
        "rate_limit_storage": redis_url,
        "rate_limit_namespace": f"test-{uuid.uuid4().hex}",
        "signin_account_limit": "3/minute",
    }
    one, two = make_client(**shared), make_client(**shared)
    for worker in (one, two, one):
        assert sign_in(worker, "a-rm", "wrong-guess").status_code == 400
    assert_throttled(sign_in(two, "a-rm"))
    assert_throttled(sign_in(one, "a-rm"))
    alone = make_client(signin_account_limit="3/minute")  # memory://: its own counts
    assert sign_in(alone, "a-rm").status_code == 200


def test_sign_in_fails_closed_when_redis_is_unreachable(
    make_client: Callable[..., TestClient],
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # nothing listens here
    client = make_client(rate_limit_storage=f"redis://127.0.0.1:{port}")
    r = sign_in(client, "a-rm")
    assert r.status_code == 503
    assert r.json()["code"] == "sign_in_unavailable"
    assert r.headers["retry-after"] == "5"
