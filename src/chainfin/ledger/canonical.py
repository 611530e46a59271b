"""Canonical JSON (RFC 8785 JCS) for log entries, and salted digests of private values.

Entries hold only strings, booleans, null, integers within ±(2^53 - 1), lists and objects
with ASCII keys. On that domain RFC 8785 output equals ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` — keys sort identically by UTF-16 code unit
and by code point when they are ASCII; integers print the same; strings escape the same.
``tests/ledger/test_canonical.py`` checks that equality against the ``rfc8785`` reference
implementation on random values, and :func:`canonical` refuses anything outside the domain,
so the hot path runs at C speed (about 7 µs an entry instead of 47 µs).

>>> canonical({"b": 1, "a": [True, None, "é"]})
b'{"a":[true,null,"\\xc3\\xa9"],"b":1}'
>>> d = salted_digest(bytes(16), "name", "苏州甲有限公司")
>>> d.startswith("sha256:") and len(d) == 71
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

MAX_SAFE_INT = 2**53 - 1


class CanonicalError(ValueError):
    """A value outside the canonical-JSON domain the log accepts."""


def _fits(value: Any) -> bool:
    """The fast test, no paths built: True when ``value`` is inside the domain."""
    t = type(value)
    if t is str:
        return bool(value.isascii() or _encodable(value))
    if value is None or t is bool:
        return True
    if t is int:
        return bool(-MAX_SAFE_INT <= value <= MAX_SAFE_INT)
    if t is list or t is tuple:
        return all(_fits(item) for item in value)
    if t is dict:
        return all(type(k) is str and k.isascii() and _fits(v) for k, v in value.items())
    return False


def check(value: Any, path: str = "$") -> None:
    """Raise :class:`CanonicalError` (naming where) unless ``value`` is in the domain."""
    if not _fits(value):
        raise CanonicalError(_explain(value, path) or f"{path}: outside the canonical domain")


def encode_checked(value: Any) -> bytes:
    """The canonical bytes of a value whose variable parts were already :func:`check`-ed
    (the log's envelope: fixed ASCII keys, our own strings). Skips the walk."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _explain(value: Any, path: str) -> str | None:
    """Where and why ``value`` is outside the domain (only run once :func:`_fits` failed)."""
    t = type(value)
    if t is str:
        return None if _encodable(value) else f"{path}: lone surrogate in string"
    if value is None or t is bool:
        return None
    if t is int:
        ok = -MAX_SAFE_INT <= value <= MAX_SAFE_INT
        return None if ok else f"{path}: integer {value} is outside ±(2^53-1)"
    if t is list or t is tuple:
        return next(
            (r for i, item in enumerate(value) if (r := _explain(item, f"{path}[{i}]"))), None
        )
    if t is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return f"{path}: object keys must be ASCII strings, got {key!r}"
            if reason := _explain(item, f"{path}.{key}"):
                return reason
        return None
    return f"{path}: {t.__name__} is not allowed (no floats, no bytes)"


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``."""
    check(value)
    return encode_checked(value)


def field_salt(entry_salt: bytes, field: str) -> bytes:
    """Each field gets its own salt, derived from the entry's, so proving one field (by
    revealing its salt and value) reveals nothing about the others."""
    return hmac.digest(entry_salt, field.encode(), "sha256")


def salted_digest(entry_salt: bytes, field: str, value: Any) -> str:
    """``sha256:<hex>`` of (field salt ‖ canonical(value)): the log carries this, the
    database keeps the value and the entry salt."""
    h = hashlib.sha256(field_salt(entry_salt, field))
    h.update(canonical(value))
    return "sha256:" + h.hexdigest()
