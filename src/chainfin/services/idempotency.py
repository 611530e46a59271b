"""Idempotency keys: a client that retries a write with the same ``Idempotency-Key`` gets the
first answer back instead of a second write; reusing a key for a different request is an
error. The key is stored in the same transaction as the write it protects.

The stored answer is hash-chained like the audit trail (services/ledger_chains.py): it gets a
digest when stored, and a replay re-checks it, so an answer edited in the database is
refused instead of replayed (and ``ledger verify`` names it)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from chainfin.adapters.db.models import IdempotencyKey
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import ChainfinError, Conflict, FieldError, ValidationFailed
from chainfin.services import ledger_chains

MAX_KEY = 200


class StoredAnswerTampered(ChainfinError):
    """The stored first answer for an idempotency key no longer matches its digest."""

    code = "stored-answer-tampered"
    status = 500


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
    if not ledger_chains.intact(session, row):
        raise StoredAnswerTampered(
            f"the stored answer for Idempotency-Key {key!r} fails its integrity check and is "
            "not replayed",
            hint="The request was already carried out once; do not resend it with a new key. "
            "Ask the operator to run `chainfin ledger verify`.",
        )
    if row.request_hash != digest:
        raise Conflict(
            f"Idempotency-Key {key!r} was used for a different request",
            hint="Use a new key for a new request.",
        )
    return row.status_code, row.response


def remember(
    session: Session, actor: Principal, key: str, digest: str, status: int, body: Any
) -> None:
    row = IdempotencyKey(
        principal=actor.label,
        key=key,
        request_hash=digest,
        response=body,
        status_code=status,
        created_at=utcnow(),
    )
    session.add(ledger_chains.stamp(session, row))
