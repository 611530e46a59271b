"""Keyed hash chains for append-only tables written too often for one log entry per row.

The audit trail, the data-access log (written on reads) and stored idempotent responses are
protected this way (see ``services/ledger_chains.py`` and docs/ledger.md):

* when a row is written it gets its own **digest**: HMAC-SHA256 under the chain's key over a
  deterministic JSON of the row (:func:`row_digest`) — no lock, no predecessor needed;
* a sealer later gives pending rows the next positions and a **chain hash** each,
  ``link(previous chain hash, position, digest)`` (:func:`link`), starting from
  :func:`genesis`;
* the chain's head (size and hash) is then anchored on the verifiable log.

Anyone holding the rows and the key recomputes every digest and link; the anchored heads pin
the whole sequence, so an edited, inserted, deleted or reordered row shows up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

_GENESIS = b"chainfin/chain/v1 genesis\x00"
_LINK = b"\x02"


def row_bytes(chain: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes a row's digest covers: its chain's name and its non-null fields as JSON with
    sorted keys and no whitespace. Null fields are left out, so a column added later (null
    in old rows) leaves old digests valid, while setting or clearing a value changes it.
    Values are those a JSON column round-trips (str, int, float, bool, lists, objects)."""
    present = {k: v for k, v in fields.items() if v is not None}
    return json.dumps(
        {"chain": chain, "row": present},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def row_digest(key: bytes, chain: str, fields: Mapping[str, Any]) -> str:
    """Hex HMAC-SHA256 of :func:`row_bytes` under the chain's key."""
    return hmac.new(key, row_bytes(chain, fields), hashlib.sha256).hexdigest()


def genesis(chain: str) -> bytes:
    """The chain hash before its first row."""
    return hashlib.sha256(_GENESIS + chain.encode("utf-8")).digest()


def link(previous: bytes, position: int, digest: str) -> bytes:
    """The chain hash after the row at ``position`` (1-based) whose digest is ``digest``."""
    if position < 1:
        raise ValueError(f"chain positions start at 1, not {position}")
    return hashlib.sha256(
        _LINK + previous + position.to_bytes(8, "big") + bytes.fromhex(digest)
    ).digest()
