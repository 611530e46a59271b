"""Where a person is signed in: one row per token issued to them (the pages' sign-in, the
API's password grant; ``user_sessions``), written before the token is handed out, so that
they can list their sessions and end any of them.

A session is live while its row is neither revoked nor expired and its token was issued
after the person's last password change (``users.tokens_valid_after``). Ending one puts its
``jti`` on the denylist, exactly as signing out does (services/auth.py :func:`revoke`), and
stamps the row. Tokens issued some other way (an API client, the CLI) have no row: they are
the client's, not a person's session. Expired rows are pruned as expired denylist entries
are (token_keys.prune_revoked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import UserSession
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import NotFound
from chainfin.services import audit, auth

USER_AGENT_CHARS = 200  # what is kept of the browser's User-Agent
ADDRESS_CHARS = 64


@dataclass(frozen=True)
class Opening:
    """A session about to be handed its token."""

    user_id: str
    jti: str
    expires_at: datetime
    address: str
    user_agent: str

    @classmethod
    def new(cls, user_id: str, *, ttl_seconds: int, address: str, user_agent: str) -> Opening:
        """A fresh token id, expiring ``ttl_seconds`` from now (on a whole second, as the
        token's ``exp`` is)."""
        expires_at = (utcnow() + timedelta(seconds=ttl_seconds)).replace(microsecond=0)
        return cls(user_id, auth.new_jti(), expires_at, address, user_agent)


def trimmed(text: str, limit: int) -> str:
    """Printable characters only (a header is the client's to write), cut to ``limit``."""
    return "".join(c for c in text if c.isprintable())[:limit]


def open_session(session: Session, opening: Opening) -> UserSession:
    """Record a session before its token leaves (in the sign-in's write transaction or one
    of its own); forget sessions that have expired anyway."""
    prune(session)
    row = UserSession(
        jti=opening.jti,
        user_id=opening.user_id,
        issued_at=utcnow(),
        expires_at=opening.expires_at,
        address=trimmed(opening.address, ADDRESS_CHARS),
        user_agent=trimmed(opening.user_agent, USER_AGENT_CHARS),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row


def forget(session: Session, jti: str) -> None:
    """Drop the row of a token that was never handed out (its issue failed)."""
    session.execute(delete(UserSession).where(UserSession.jti == jti))


def prune(session: Session) -> int:
    """Forget sessions whose tokens have expired."""
    result = session.execute(delete(UserSession).where(UserSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def live(session: Session, actor: Principal) -> list[UserSession]:
    """The person's sessions that still work, newest first. (A password change or the
    person's removal stamps every session ended: services/auth.py :func:`end_sessions`.)"""
    query = select(UserSession).where(
        UserSession.user_id == actor.subject_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > utcnow(),
    )
    return list(session.scalars(query.order_by(UserSession.issued_at.desc(), UserSession.jti)))


def end(session: Session, actor: Principal, jti: str) -> UserSession:
    """End one of the person's own sessions at once: its token goes on the denylist. A
    session of anyone else is not found."""
    row = session.get(UserSession, jti, with_for_update=True)
    if row is None or row.user_id != actor.subject_id:
        raise NotFound("no such session of yours", code="session_not_found")
    if row.revoked_at is None:
        auth.revoke(session, auth.Revocable(row.jti, row.user_id, row.expires_at))
        row.revoked_at = utcnow()
        audit.record(session, actor, "user.session_ended", "user", row.user_id, {"jti": jti})
    return row
