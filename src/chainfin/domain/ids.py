"""Typed, time-ordered, prefixed identifiers (``ent_01JD...``).

The prefix says what a thing is, so an enterprise id can never be passed where a chain id
is expected without the type checker (``NewType``) and a reader noticing. The body is a
ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort by creation
time, which keeps cursor pagination stable and index inserts append-only.
"""

from __future__ import annotations

import base64
import os
import threading
from typing import NewType

from chainfin.domain.clock import wall_epoch_ms

EnterpriseId = NewType("EnterpriseId", str)
BankId = NewType("BankId", str)
PlatformId = NewType("PlatformId", str)
ChainId = NewType("ChainId", str)
RelationId = NewType("RelationId", str)
UserId = NewType("UserId", str)
ClientId = NewType("ClientId", str)
AuditId = NewType("AuditId", str)

PREFIXES: dict[str, str] = {
    "enterprise": "ent",
    "bank": "bnk",
    "platform": "plf",
    "chain": "chn",
    "relation": "rel",
    "user": "usr",
    "client": "cli",
    "audit": "aud",
    "ledger": "led",
    "consent": "cns",
    "access": "acc",
    "document": "doc",
    "registration": "reg",
    "programme": "prg",
    "payable": "cfm",
    "credential": "crd",
    "piece": "pce",
    "quote": "quo",
    "financing": "fin",
    "payment": "pmt",
    "alert": "alr",
    "journal": "jnl",
    "line": "lin",
    "sublimit": "sub",
    "cap": "cap",
    "reservation": "rsv",
    "product": "prd",
    "application": "app",
    "approval": "apv",
    "task": "tsk",
    "loan": "lon",
    "repayment": "rpy",
    "disbursement": "dsb",
    "statement": "stm",
    "release": "rls",
    "device": "dev",
    "reading": "rdg",
    "dead_letter": "dlq",
    "model": "mdl",
    "monitoring": "mon",
    "invitation": "ivt",
    "price": "prc",
    "supplier_invitation": "sin",
    "notification": "ntf",
    "line_change": "lch",
    "strategy_dataset": "sds",
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def _ulid(now_ms: int, randomness: bytes) -> str:
    value = (now_ms << 80) | int.from_bytes(randomness, "big")
    # 26 base-32 digits of the 128-bit value: encode it as 160 bits (whole base32 groups)
    # with the alphabet mapped to Crockford's, and drop the 6 leading zero digits.
    encoded = base64.b32encode(value.to_bytes(20, "big")).translate(_TO_CROCKFORD)
    return encoded[6:].decode()


# Ids made in one process are strictly increasing (the ULID spec's monotonic mode): within a
# millisecond, or if the clock steps back, the random part of the last id is incremented
# instead of drawn again. The log sequences pending entries in id order, so two entries one
# transaction appends in the same millisecond keep the order they were made in.
_RANDOM_BITS = 80
_FRESH_BITS = 79  # a fresh random part leaves room to count up within the millisecond
_lock = threading.Lock()
_last = [0, 0]  # milliseconds, random part of the last id made


def _monotonic(count: int) -> list[tuple[int, int]]:
    with _lock:
        now = wall_epoch_ms()
        last_ms, last_random = _last
        if now > last_ms:
            ms, first = now, int.from_bytes(os.urandom(10), "big") >> (_RANDOM_BITS - _FRESH_BITS)
        else:
            ms, first = last_ms, last_random + 1
        if first + count > 1 << _RANDOM_BITS:  # counted through the millisecond: borrow the next
            ms, first = ms + 1, int.from_bytes(os.urandom(10), "big") >> 1
        _last[0], _last[1] = ms, first + count - 1
    return [(ms, first + i) for i in range(count)]


def new_id(kind: str, *, now_ms: int | None = None, randomness: bytes | None = None) -> str:
    """A new id for ``kind`` (a key of :data:`PREFIXES`); later than every id this process
    made before, unless ``now_ms`` or ``randomness`` is given (for tests)."""
    prefix = PREFIXES[kind]
    if now_ms is None and randomness is None:
        ((ms, part),) = _monotonic(1)
        return f"{prefix}_{_ulid(ms, part.to_bytes(10, 'big'))}"
    ms = wall_epoch_ms() if now_ms is None else now_ms
    rand = os.urandom(10) if randomness is None else randomness
    return f"{prefix}_{_ulid(ms, rand)}"


def new_ids(kind: str, count: int) -> list[str]:
    """``count`` new ids for ``kind`` in one go, in increasing order, after every id this
    process made before; for bulk writers."""
    prefix = PREFIXES[kind]
    return [f"{prefix}_{_ulid(ms, part.to_bytes(10, 'big'))}" for ms, part in _monotonic(count)]


def kind_of(identifier: str) -> str | None:
    prefix, sep, body = identifier.partition("_")
    if not sep or len(body) != 26 or any(c not in _CROCKFORD for c in body):
        return None
    for kind, known in PREFIXES.items():
        if known == prefix:
            return kind
    return None
