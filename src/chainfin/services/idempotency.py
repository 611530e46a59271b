"""Idempotency: the same request twice is carried out once; a different request under the
same key is a typed conflict, never a silent replay. Both decisions live here, in the
service layer, so the API and the CLI behave alike.

**Natural keys.** A payment reference, a statement entry's key or a fixing's date names a
request a service carries out once. When it finds the key on file, the service calls
:func:`same_request` with what the first request said and what this one says: the same
request replays (the service returns the first result and writes nothing), a different one
raises :class:`~chainfin.domain.errors.Conflict` with the code
``exists_with_different_request`` naming every field that differs.

>>> same_request("payment 'P-1'", {"amount": "100.00 CNY"}, {"amount": "100.00 CNY"})
>>> try:
...     same_request("payment 'P-1'", {"amount": "100.00 CNY"}, {"amount": "90.00 CNY"})
... except Conflict as exc:
...     print(exc.code, "|", exc.message.split(": ")[1])
exists_with_different_request | amount was 100.00 CNY, now 90.00 CNY

**Idempotency-Key.** A client that retries an API write with the same ``Idempotency-Key``
gets the first answer back instead of a second write (:func:`replay`); the same key with a
different method, path or body is refused with the code ``idempotency_key_reused``. The key
is stored in the same transaction as the write it protects.

The stored answer is hash-chained like the audit trail (services/ledger_chains.py): it gets a
digest when stored, and a replay re-checks it, so an answer edited in the database is
refused instead of replayed (and ``ledger verify`` names it)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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

    code = "stored_answer_tampered"
    status = 500


def same_request(what: str, first: Mapping[str, object], again: Mapping[str, object]) -> None:
    """Return when ``again`` asks what ``first`` asked (a replay: the caller returns the first
    result); raise ``exists_with_different_request`` naming the fields that differ."""
    differ = [name for name in again if first.get(name) != again[name]]
    if not differ:
        return
    named = "; ".join(f"{name} was {first.get(name)}, now {again[name]}" for name in differ)
    raise Conflict(
        f"{what} is on file with a different request: {named}",
        hint="Resend exactly the first request to get its result, or use a new reference for "
        "a new request.",
        code="exists_with_different_request",
    )


def request_hash(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256(f"{method} {path}\n".encode())
    h.update(body)
    return h.hexdigest()


def _check(key: str) -> None:
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(
            [FieldError("Idempotency-Key", f"1-{MAX_KEY} printable characters")],
            code="idempotency_key_invalid",
        )


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
            code="idempotency_key_reused",
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
