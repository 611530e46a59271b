"""Sign-in that cannot starve writers (issue 13): throttling, lockout, and no transaction
held while argon2 runs.

A sign-in is three steps, and only the last one writes:

1. :meth:`SignIn.begin_password` / :meth:`SignIn.begin_client` — check the throttles, then
   read the user (or client) and the signing key in a *read* transaction (on SQLite a
   deferred BEGIN, which takes no lock in WAL mode), and close it;
2. :func:`verify` — argon2, outside any transaction (an unknown name is checked against a
   dummy hash of the same cost, so it takes the same time);
3. :meth:`SignIn.finish` — a short *write* transaction records what must be recorded: the
   last good sign-in, or the failure counter and the lockout it may lead to, and the audit
   event. An unknown user name and a client writes nothing.

Throttling (``limits``, moving windows, storage ``CHAINFIN_RATE_LIMIT_STORAGE``) counts
failures per client address and per account name (a user name, known or not, or a client
id). Lockout: after ``lockout_failures`` consecutive failures, each within
``lockout_minutes`` of the one before, a user is locked for ``lockout_minutes``; that is
kept on the user row, so it holds across restarts and workers, and it ends on expiry or
with ``chainfin users unlock``. An unknown user name is locked the same way in the rate-limit
storage, so that lockout does not tell which names exist. Every refusal for too many
attempts, throttle or lockout, right password or not, is the same 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from limits import RateLimitItem, parse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import ApiClient, User
from chainfin.adapters.ratelimit import RateLimiter, RateLimitUnavailable, parse_limits
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import ChainfinError, Unauthenticated
from chainfin.services import audit, auth, token_keys
from chainfin.services.token_keys import Signer

T = TypeVar("T")
WRONG_PASSWORD = "wrong username or password"  # noqa: S105 - a message
WRONG_SECRET = "unknown client or wrong secret"  # noqa: S105 - a message, not a secret


class TooManyAttempts(ChainfinError):
    """Too many failed sign-ins from this address or for this account, or the account is
    locked. The same answer in every case, so it tells nothing about the account."""

    code = "too_many_requests"
    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            f"too many failed sign-in attempts; try again in {self.retry_after} s",
            hint="Wait for Retry-After; an administrator can unlock an account.",
        )


class SignInUnavailable(ChainfinError):
    """The rate-limit storage cannot be reached: sign-in fails closed."""

    code = "sign_in_unavailable"
    status = 503


@dataclass(frozen=True)
class Policy:
    address_limits: tuple[RateLimitItem, ...]
    account_limits: tuple[RateLimitItem, ...]
    lockout_failures: int
    lockout_minutes: int

    @classmethod
    def of(
        cls, *, address: str, account: str, lockout_failures: int, lockout_minutes: int
    ) -> Policy:
        return cls(
            tuple(parse_limits(address)),
            tuple(parse_limits(account)),
            lockout_failures,
            lockout_minutes,
        )

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)

    @property
    def shadow_lockout(self) -> tuple[RateLimitItem, ...]:
        """The lockout of an unknown user name, in the rate-limit storage."""
        return (parse(f"{self.lockout_failures} per {self.lockout_minutes} minutes"),)


@dataclass(frozen=True)
class Attempt:
    kind: Literal["user", "client"]
    name: str  # the user name or client id as given
    subject_id: str | None  # None: no such user or client
    secret_hash: str
    address: str
    signer: Signer | None


@dataclass(frozen=True)
class Grant:
    principal: Principal
    signer: Signer
    not_before: datetime | None  # the user's tokens_valid_after, if any


def verify(attempt: Attempt, secret: str) -> bool:
    """Argon2 — no transaction, no lock. Unknown names are checked against a dummy hash."""
    return auth.verify_secret(attempt.secret_hash, secret) and attempt.subject_id is not None


def _name_key(kind: str, name: str) -> str:
    # Fixed-size keys whatever the caller sends as a name.
    return f"{kind}:{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


class SignIn:
    def __init__(
        self, factory: sessionmaker[Session], limiter: RateLimiter, policy: Policy
    ) -> None:
        self.factory = factory
        self.limiter = limiter
        self.policy = policy

    # ------------------------------------------------------------------ step 1: read

    def begin_password(self, username: str, address: str) -> Attempt:
        account = _name_key("user", username)
        self._refuse_if_throttled(address, account)
        with transaction(self.factory, write=False) as s:
            row = s.execute(
                select(User.id, User.password_hash, User.locked_until).where(
                    User.username == username
                )
            ).first()
            signer = token_keys.active_signer(s)
        if row is None:
            self._refuse_if_limited(self.policy.shadow_lockout, "lockout", account)
            return Attempt("user", username, None, auth.dummy_hash(), address, signer)
        if row.locked_until is not None and row.locked_until > utcnow():
            raise TooManyAttempts(_seconds_until(row.locked_until))
        return Attempt("user", username, row.id, row.password_hash, address, signer)

    def begin_client(self, client_id: str, address: str) -> Attempt:
        self._refuse_if_throttled(address, _name_key("client", client_id))
        with transaction(self.factory, write=False) as s:
            secret_hash = s.scalar(select(ApiClient.secret_hash).where(ApiClient.id == client_id))
            signer = token_keys.active_signer(s)
        if secret_hash is None:
            return Attempt("client", client_id, None, auth.dummy_hash(), address, signer)
        return Attempt("client", client_id, client_id, secret_hash, address, signer)

    def recheck(self, attempt: Attempt) -> None:
        """Just before argon2: raise :class:`TooManyAttempts` if the throttles closed while
        the attempt waited for its turn (so a queue of bogus sign-ins costs no argon2)."""
        kind = "user" if attempt.kind == "user" else "client"
        account = _name_key(kind, attempt.name)
        self._refuse_if_throttled(attempt.address, account)
        if attempt.kind == "user" and attempt.subject_id is None:
            self._refuse_if_limited(self.policy.shadow_lockout, "lockout", account)

    # ------------------------------------------------------------------ step 3: record

    def finish(self, attempt: Attempt, ok: bool) -> Grant:
        """Record the outcome in a short write transaction and return the grant, or raise
        :class:`Unauthenticated` (wrong name or secret) or :class:`TooManyAttempts`."""
        if attempt.kind == "client":
            return self._finish_client(attempt, ok)
        if not ok or attempt.subject_id is None:  # verify() is False without a subject
            self._failed(attempt)
            raise Unauthenticated(WRONG_PASSWORD)
        with transaction(self.factory, write=True) as s:
            user = s.get(User, attempt.subject_id, with_for_update=True)
            if user is None or not user.active:
                raise Unauthenticated(WRONG_PASSWORD)
            now = utcnow()
            if user.locked_until is not None and user.locked_until > now:
                raise TooManyAttempts(_seconds_until(user.locked_until))  # locked meanwhile
            user.failed_sign_ins = 0
            user.last_sign_in_at = now
            principal = auth.principal_for_user(user)
            audit.record(s, principal, "user.sign_in", "user", user.id, source=attempt.address)
            signer = attempt.signer or token_keys.ensure_token_key(s)
            return Grant(principal, signer, user.tokens_valid_after)

    def _finish_client(self, attempt: Attempt, ok: bool) -> Grant:
        if not ok:
            self._hit(attempt.address, _name_key("client", attempt.name))
            raise Unauthenticated(WRONG_SECRET)
        with transaction(self.factory, write=False) as s:
            client = s.get(ApiClient, attempt.name)
            if client is None or not client.active:
                raise Unauthenticated(WRONG_SECRET)
            principal = auth.principal_for_client(client)
            signer = attempt.signer
        if signer is None:
            with transaction(self.factory, write=True) as s:
                signer = token_keys.ensure_token_key(s)
        return Grant(principal, signer, None)

    def _failed(self, attempt: Attempt) -> None:
        account = _name_key("user", attempt.name)
        if attempt.subject_id is None:
            self._hit(attempt.address, account)
            self._guard(lambda: self.limiter.hit(self.policy.shadow_lockout, "lockout", account))
            raise Unauthenticated(WRONG_PASSWORD)
        with transaction(self.factory, write=True) as s:
            user = s.get(User, attempt.subject_id, with_for_update=True)
            if user is not None:
                self._count_failure(s, user, attempt.address)
        self._hit(attempt.address, account)
        raise Unauthenticated(WRONG_PASSWORD)

    def _count_failure(self, s: Session, user: User, address: str) -> None:
        now = utcnow()
        last = user.last_failed_sign_in_at
        if last is None or now - last > self.policy.lockout:
            user.failed_sign_ins = 0  # failures further apart than the window do not add up
        user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
        user.last_failed_sign_in_at = now
        principal = auth.principal_for_user(user)
        if user.failed_sign_ins >= self.policy.lockout_failures:
            user.locked_until = now + self.policy.lockout
            detail = {"failures": user.failed_sign_ins, "until": user.locked_until.isoformat()}
            user.failed_sign_ins = 0
            audit.record(s, principal, "user.locked", "user", user.id, detail, source=address)
        else:
            detail = {"failures": user.failed_sign_ins}
            audit.record(
                s, principal, "user.sign_in_failed", "user", user.id, detail, source=address
            )

    # ------------------------------------------------------------------ throttles

    def _refuse_if_throttled(self, address: str, account: str) -> None:
        waits = [
            self._guard(
                lambda: self.limiter.retry_after(self.policy.address_limits, "address", address)
            ),
            self._guard(
                lambda: self.limiter.retry_after(self.policy.account_limits, "account", account)
            ),
        ]
        if any(w is not None for w in waits):
            raise TooManyAttempts(max(w for w in waits if w is not None))

    def _refuse_if_limited(self, items: tuple[RateLimitItem, ...], *key: str) -> None:
        wait = self._guard(lambda: self.limiter.retry_after(items, *key))
        if wait is not None:
            raise TooManyAttempts(wait)

    def _hit(self, address: str, account: str) -> None:
        self._guard(lambda: self.limiter.hit(self.policy.address_limits, "address", address))
        self._guard(lambda: self.limiter.hit(self.policy.account_limits, "account", account))

    @staticmethod
    def _guard(call: Callable[[], T]) -> T:
        try:
            return call()
        except RateLimitUnavailable as exc:
            raise SignInUnavailable(
                "sign-in is unavailable: the rate-limit storage cannot be reached; retry shortly"
            ) from exc


def forget(limiter: RateLimiter, policy: Policy, username: str) -> None:
    """Clear the throttles on a user name (after an unlock). Raises
    :class:`RateLimitUnavailable` if the storage cannot be reached."""
    account = _name_key("user", username)
    limiter.clear(policy.account_limits, "account", account)
    limiter.clear(policy.shadow_lockout, "lockout", account)


def _seconds_until(instant: datetime) -> int:
    return max(1, math.ceil((instant - utcnow()).total_seconds()))
