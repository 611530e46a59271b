"""The sign-in steps of services/signin.py run from async handlers (the token endpoint and
the pages' login form), so that no request thread and no transaction waits on argon2:

1. the throttles and the read transaction, in the shared thread pool;
2. argon2, on a small pool of its own (``CHAINFIN_SIGNIN_CONCURRENCY`` threads, default one
   fewer than the cores) whose threads run at a lower CPU priority (nice +10, on Linux):
   sign-ins waiting for it wait as futures, holding neither a thread of the shared pool nor
   a database connection, and when the machine is busy ordinary requests get the CPU
   first. A sign-in that waited re-checks the throttles before it spends argon2;
3. the short write transaction and the token, in the shared thread pool.

A person's sign-in (the pages' form, the API's password grant) also opens a session
(services/sessions.py): its row — the token's id, expiry, the client's address and browser
— is written in a short transaction of its own, in the shared thread pool, before the token
is signed with that id and handed out. A client's token has no session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.ratelimit import RateLimiter
from chainfin.config import Settings
from chainfin.domain.errors import ChainfinError
from chainfin.services import auth, sessions
from chainfin.services.signin import Attempt, Grant, Policy, SignIn, verify

NICE = 10  # how much lower the argon2 threads' CPU priority is


def concurrency(settings: Settings) -> int:
    if settings.signin_concurrency > 0:
        return settings.signin_concurrency
    return max(1, (os.cpu_count() or 2) - 1)


def _lower_priority() -> None:
    """Run this worker thread at a lower priority. Linux schedules threads on their own, so
    ``setpriority`` on the thread id touches only this thread; elsewhere it would renice
    the whole process, so it is not done."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # not allowed here: run at the usual priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


@dataclass(frozen=True)
class SessionGrant(Grant):
    """A person's grant whose session is recorded: the token is issued with its id."""

    jti: str
    expires_at: datetime


class SignInGate:
    def __init__(self, service: SignIn, max_verifying: int, ttl_seconds: int = 3600) -> None:
        self.service = service
        self.max_verifying = max_verifying
        self.ttl_seconds = ttl_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.max_verifying,
                    thread_name_prefix="argon2",
                    initializer=_lower_priority,
                )
            return self._pool

    def close(self) -> None:
        """Stop the argon2 threads (at shutdown; they start again on the next sign-in)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _check_and_verify(self, attempt: Attempt, secret: str) -> bool:
        self.service.recheck(attempt)  # the throttles may have closed while it waited
        return verify(attempt, secret)

    async def _run(self, begin: Callable[[], Attempt], secret: str) -> Grant:
        attempt = await run_in_threadpool(begin)
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(self._executor(), self._check_and_verify, attempt, secret)
        return await run_in_threadpool(self.service.finish, attempt, ok)

    async def password(
        self, username: str, password: str, address: str, *, user_agent: str | None = None
    ) -> Grant:
        """Check a person's password. With ``user_agent`` (a sign-in: see :func:`gate`) the
        grant opens a session; without, it only proves the password (re-authentication)."""
        grant = await self._run(lambda: self.service.begin_password(username, address), password)
        if user_agent is None:
            return grant
        return await run_in_threadpool(self._open, grant, address, user_agent)

    def _open(self, grant: Grant, address: str, user_agent: str) -> SessionGrant:
        opening = sessions.Opening.new(
            grant.principal.subject_id,
            ttl_seconds=self.ttl_seconds,
            address=address,
            user_agent=user_agent,
        )
        with transaction(self.service.factory, write=True) as s:
            sessions.open_session(s, opening)
        return SessionGrant(
            grant.principal, grant.signer, grant.not_before, opening.jti, opening.expires_at
        )

    async def hash_password(self, password: str) -> str:
        """The password rules and argon2 (:func:`auth.hash_password`), on the argon2 threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), auth.hash_password, password)

    async def client(self, client_id: str, secret: str, address: str) -> Grant:
        return await self._run(lambda: self.service.begin_client(client_id, address), secret)


def build_gate(settings: Settings, factory: sessionmaker[Session]) -> SignInGate:
    policy = Policy.of(
        address=settings.signin_address_limit,
        account=settings.signin_account_limit,
        lockout_failures=settings.signin_lockout_failures,
        lockout_minutes=settings.signin_lockout_minutes,
    )
    limiter = RateLimiter(settings.rate_limit_storage, namespace=settings.rate_limit_namespace)
    auth.dummy_hash()  # made now, not by the first sign-in for an unknown name
    return SignInGate(
        SignIn(factory, limiter, policy), concurrency(settings), settings.token_ttl_seconds
    )


@dataclass(frozen=True)
class RequestGate:
    """The sign-in gate as one request uses it: a person's sign-in opens a session that
    remembers the request's browser."""

    shared: SignInGate
    user_agent: str

    async def password(self, username: str, password: str, address: str) -> Grant:
        return await self.shared.password(username, password, address, user_agent=self.user_agent)

    async def client(self, client_id: str, secret: str, address: str) -> Grant:
        return await self.shared.client(client_id, secret, address)


def gate(request: Request) -> RequestGate:
    found: SignInGate = request.app.state.signin
    return RequestGate(found, request.headers.get("user-agent", ""))


def address(request: Request) -> str:
    """The client's address (after uvicorn's trusted-proxy handling of X-Forwarded-For)."""
    return request.client.host if request.client is not None else "unknown"


def issue(request: Request, grant: Grant, requested_scopes: list[str] | None) -> auth.IssuedToken:
    """Sign the grant's token; a session's token carries the session's id and expiry. A
    token refused here (scopes not granted) was never handed out: its session is dropped."""
    settings: Settings = request.app.state.settings
    opened = grant if isinstance(grant, SessionGrant) else None
    try:
        return auth.issue_token(
            grant.principal,
            signer=grant.signer,
            ttl_seconds=settings.token_ttl_seconds,
            issuer=settings.token_issuer,
            requested_scopes=requested_scopes,
            not_before=grant.not_before,
            jti=opened.jti if opened else None,
            expires_at=opened.expires_at if opened else None,
        )
    except ChainfinError:
        if opened is not None:  # a rare refusal: a short write on the way out
            with transaction(request.app.state.session_factory, write=True) as session:
                sessions.forget(session, opened.jti)
        raise


def revoke(request: Request, token: str) -> None:
    """Revoke ``token`` (RFC 7009): checked in a read transaction, written in a short write
    transaction only if it is a valid token not yet revoked."""
    settings: Settings = request.app.state.settings
    factory: sessionmaker[Session] = request.app.state.session_factory
    with transaction(factory, write=False) as session:
        found = auth.revocable(session, token, issuer=settings.token_issuer)
    if found is not None:
        with transaction(factory, write=True) as session:
            auth.revoke(session, found)
