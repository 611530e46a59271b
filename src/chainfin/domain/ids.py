"""Typed, time-ordered, prefixed identifiers (``ent_01JD...``).

The prefix says what a thing is, so an enterprise id can never be passed where a chain id
is expected without the type checker (``NewType``) and a reader noticing. The body is a
ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort by creation
time, which keeps cursor pagination stable and index inserts append-only.
"""

from __future__ import annotations

import base64
import os
import time
from typing import NewType

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
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def _ulid(now_ms: int, randomness: bytes) -> str:
    value = (now_ms << 80) | int.from_bytes(randomness, "big")
    # 26 base-32 digits of the 128-bit value: encode it as 160 bits (whole base32 groups)
    # with the alphabet mapped to Crockford's, and drop the 6 leading zero digits.
    encoded = base64.b32encode(value.to_bytes(20, "big")).translate(_TO_CROCKFORD)
    return encoded[6:].decode()


def new_id(kind: str, *, now_ms: int | None = None, randomness: bytes | None = None) -> str:
    """A new id for ``kind`` (a key of :data:`PREFIXES`)."""
    prefix = PREFIXES[kind]
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = os.urandom(10) if randomness is None else randomness
    return f"{prefix}_{_ulid(ms, rand)}"


def new_ids(kind: str, count: int) -> list[str]:
    """``count`` new ids for ``kind`` in one go (one clock read, one randomness read), in
    increasing order; for bulk writers."""
    prefix = PREFIXES[kind]
    ms = int(time.time() * 1000)
    pool = os.urandom(10 * count)
    ids = [f"{prefix}_{_ulid(ms, pool[10 * i : 10 * i + 10])}" for i in range(count)]
    ids.sort()
    return ids


def kind_of(identifier: str) -> str | None:
    prefix, sep, body = identifier.partition("_")
    if not sep or len(body) != 26 or any(c not in _CROCKFORD for c in body):
        return None
    for kind, known in PREFIXES.items():
        if known == prefix:
            return kind
    return None
