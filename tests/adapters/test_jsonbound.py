"""Nesting measured on the raw bytes agrees with the parsed document's depth, whatever the
strings hold (brackets, quotes, backslashes, escapes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.adapters.formats import jsonbound
from propbudget import budget

TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\/ab\n\u202e\x00'), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=20,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=budget(300))
@given(JSON, st.booleans())
def test_depth_of_the_bytes_is_the_depth_of_the_document(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert jsonbound.nesting_depth(text.encode("utf-8", "surrogatepass")) == depth(value)


@settings(max_examples=budget(100))
@given(st.lists(JSON, min_size=1, max_size=5))
def test_json_lines_are_as_deep_as_the_deepest_line(values: list[Any]) -> None:
    lines = "\n".join(json.dumps(v) for v in values)
    assert jsonbound.nesting_depth(lines) == max(depth(v) for v in values)


def test_deep_documents_are_refused_before_parsing() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # json.loads would raise RecursionError
    with pytest.raises(jsonbound.TooDeep, match="deeper than 32 levels"):
        jsonbound.loads(deep)
    assert jsonbound.loads("[" * 32 + "]" * 32) is not None
    assert jsonbound.nesting_depth("[" * 10**6, stop_above=32) > 32


def test_stray_closers_do_not_hide_what_follows() -> None:
    assert jsonbound.nesting_depth("]" * 50 + "[" * 40) == 40
