"""Idempotency keys: a client that retries a write with the same ``Idempotency-Key`` gets the
first answer back instead of a second write; reusing a key for a different request is an
error. The key is stored in the same transaction as the write it protects."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from chainfin.adapters.db.models import IdempotencyKey
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, ValidationFailed

MAX_KEY = 200


def request_hash(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256(f"{method} {path}\n".encode())
    h.update(body)
    return h.hexdigest()


def _check(key: str) -> None:
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed([FieldError("Idempotency-Key", f"1-{MAX_KEY} printable characters")])


def replay(session: Session, actor: Principal, key: str, digest: str) -> tuple[int, Any] | None:
    """The first answer for this key, or None if the key is new."""
    _check(key)
    row = session.get(IdempotencyKey, (actor.label, key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict(
            f"Idempotency-Key {key!r} was used for a different request",
            hint="Use a new key for a new request.",
        )
    return row.status_code, row.response


def remember(
    session: Session, actor: Principal, key: str, digest: str, status: int, body: Any
) -> None:
    session.add(
        IdempotencyKey(
            principal=actor.label,
            key=key,
            request_hash=digest,
            response=body,
            status_code=status,
            created_at=utcnow(),
        )
    )
