"""The keyed hash chain's primitives (chainfin.ledger.chain): standard library only."""

from __future__ import annotations

import hashlib

import pytest

from chainfin.ledger import chain

KEY = bytes(range(32))


def test_a_digest_covers_every_non_null_field_and_the_chain_name() -> None:
    row = {"id": "aud_1", "action": "user.create", "detail": {"b": 1, "a": [1, 2]}}
    digest = chain.row_digest(KEY, "audit", row)
    assert digest == chain.row_digest(KEY, "audit", {**row, "source": None})  # nulls left out
    assert digest == chain.row_digest(KEY, "audit", dict(reversed(list(row.items()))))
    assert digest != chain.row_digest(KEY, "access", row)
    assert digest != chain.row_digest(KEY, "audit", {**row, "source": "10.0.0.1"})
    assert digest != chain.row_digest(KEY, "audit", {**row, "detail": {"b": 1, "a": [2, 1]}})
    assert digest != chain.row_digest(bytes(32), "audit", row)
    assert chain.row_bytes("audit", row) == (
        b'{"chain":"audit","row":{"action":"user.create","detail":{"a":[1,2],"b":1},"id":"aud_1"}}'
    )


def test_links_commit_to_the_predecessor_the_position_and_the_digest() -> None:
    d1, d2 = "11" * 32, "22" * 32
    g = chain.genesis("audit")
    assert g == hashlib.sha256(b"chainfin/chain/v1 genesis\x00audit").digest()
    h1 = chain.link(g, 1, d1)
    assert h1 == hashlib.sha256(b"\x02" + g + (1).to_bytes(8, "big") + bytes.fromhex(d1)).digest()
    h2 = chain.link(h1, 2, d2)
    assert h2 != chain.link(chain.link(g, 1, d2), 2, d1)  # order matters
    assert h2 != chain.link(h1, 3, d2)  # so does the position
    with pytest.raises(ValueError, match="start at 1"):
        chain.link(g, 0, d1)
    with pytest.raises(ValueError, match="non-hexadecimal"):
        chain.link(g, 1, "not hex")
