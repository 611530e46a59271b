"""The sign-in steps of services/signin.py run from async handlers (the token endpoint and
the pages' login form), so that no request thread and no transaction waits on argon2:

1. the throttles and the read transaction, in the shared thread pool;
2. argon2, on a small pool of its own (``CHAINFIN_SIGNIN_CONCURRENCY`` threads, default one
   fewer than the cores) whose threads run at a lower CPU priority (nice +10, on Linux):
   sign-ins waiting for it wait as futures, holding neither a thread of the shared pool nor
   a database connection, and when the machine is busy ordinary requests get the CPU
   first. A sign-in that waited re-checks the throttles before it spends argon2;
3. the short write transaction and the token, in the shared thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.ratelimit import RateLimiter
from chainfin.config import Settings
from chainfin.services import auth
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


class SignInGate:
    def __init__(self, service: SignIn, max_verifying: int) -> None:
        self.service = service
        self.max_verifying = max_verifying
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

    async def password(self, username: str, password: str, address: str) -> Grant:
        return await self._run(lambda: self.service.begin_password(username, address), password)

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
    return SignInGate(SignIn(factory, limiter, policy), concurrency(settings))


def gate(request: Request) -> SignInGate:
    found: SignInGate = request.app.state.signin
    return found


def address(request: Request) -> str:
    """The client's address (after uvicorn's trusted-proxy handling of X-Forwarded-For)."""
    return request.client.host if request.client is not None else "unknown"


def issue(request: Request, grant: Grant, requested_scopes: list[str] | None) -> auth.IssuedToken:
    settings: Settings = request.app.state.settings
    return auth.issue_token(
        grant.principal,
        signer=grant.signer,
        ttl_seconds=settings.token_ttl_seconds,
        issuer=settings.token_issuer,
        requested_scopes=requested_scopes,
        not_before=grant.not_before,
    )


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
