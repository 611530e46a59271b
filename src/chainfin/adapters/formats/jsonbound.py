"""JSON from outside, with its nesting bounded before it is parsed.

Python's ``json`` recurses once per level: a few thousand ``[`` exhaust the interpreter's
stack (RecursionError), and anything deep that does parse is deep for every consumer after
it (validation, canonical JSON, the ledger). :func:`nesting_depth` measures the depth of a
document's brackets outside strings in C-speed passes, without parsing it (a 20 MB body
costs tens of milliseconds), and :func:`loads` refuses anything deeper than ``max_depth``
before ``json`` sees it.

>>> nesting_depth(b'{"a": [1, {"b": "[[[[not brackets]]]]"}]}')
3
>>> loads("[" * 40 + "]" * 40)
Traceback (most recent call last):
...
chainfin.adapters.formats.jsonbound.TooDeep: JSON nested deeper than 32 levels
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from chainfin.domain.bounds import MAX_JSON_DEPTH

# Escapes that could hide a quote: an escaped backslash, then an escaped quote (in that
# order, so that an escaped backslash before a closing quote leaves the quote closing).
_ESCAPES = (b"\\\\", b'\\"')
# Everything but quotes and brackets, for bytes.translate to delete.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_QUOTE = ord('"')
_STEP = np.zeros(256, dtype=np.int64)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 20


class TooDeep(ValueError):
    """The document nests deeper than allowed (it was not parsed)."""


def nesting_depth(data: bytes | str, stop_above: int | None = None) -> int:
    """The deepest bracket nesting in ``data`` outside strings. For a sequence of documents
    (JSON Lines) it is the deepest of them; stray closing brackets (invalid JSON, refused
    by the parser anyway) never hide an opening run after them. With ``stop_above``, the
    count stops as soon as it passes that depth (and returns a depth above it).

    C-speed passes only: drop escaped backslashes and quotes (so every quote left opens or
    closes a string), delete every byte that is not a quote or a bracket, then with numpy,
    a megabyte at a time, ignore brackets after an odd number of quotes (inside a string)
    and keep the running sum of +1 and -1 for the others."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for escape in _ESCAPES:
        raw = raw.replace(escape, b"")
    codes = np.frombuffer(raw.translate(None, _NOT_STRUCTURE), dtype=np.uint8)
    deepest, level, floor, quotes = 0, 0, 0, 0
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start : start + _CHUNK]
        seen = np.cumsum(chunk == _QUOTE) + quotes
        steps = np.where(seen % 2 == 0, _STEP[chunk], 0)
        levels = np.cumsum(steps) + level
        floors = np.minimum(np.minimum.accumulate(levels), floor)
        deepest = max(deepest, int((levels - floors).max()))
        if stop_above is not None and deepest > stop_above:
            break
        level, floor, quotes = int(levels[-1]), int(floors[-1]), int(seen[-1])
    return deepest


def check_depth(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> None:
    if nesting_depth(data, stop_above=max_depth) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted input: refuses (``TooDeep``, a ValueError) a document
    nested deeper than ``max_depth``; malformed JSON raises ``json.JSONDecodeError`` as
    usual (also a ValueError)."""
    check_depth(data, max_depth)
    return json.loads(data)
