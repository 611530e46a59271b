"""Canonical JSON: our fast encoder equals the RFC 8785 reference on the log's value domain,
and values outside that domain are refused rather than encoded differently."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from chainfin.ledger.canonical import (
    MAX_SAFE_INT,
    CanonicalError,
    canonical,
    field_salt,
    salted_digest,
)

ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
strings = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]),  # no lone surrogates
    max_size=30,
)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INT, MAX_SAFE_INT) | strings
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ascii_keys, inner, max_size=5),
    max_leaves=25,
)


@given(values)
def test_equals_the_rfc8785_reference(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "float is not allowed"),
        (b"x", "bytes is not allowed"),
        (2**53, "outside"),
        ({"é": 1}, "ASCII"),
        ({1: 1}, "ASCII"),
        ("\ud800", "lone surrogate"),
        ({"a": [1, {"b": 0.0}]}, r"\$\.a\[1\]\.b"),
    ],
)
def test_values_outside_the_domain_are_refused(value: object, reason: str) -> None:
    with pytest.raises(CanonicalError, match=reason):
        canonical(value)


def test_rfc8785_sample_ordering_and_escapes() -> None:
    value = {"b": '\u001f\n"\\/', "a": [None, True, 10], "": "€"}
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value) == b'{"":"\xe2\x82\xac","a":[null,true,10],"b":"\\u001f\\n\\"\\\\/"}'


def test_field_salts_are_independent_and_digests_bind_salt_field_and_value() -> None:
    salt = bytes(16)
    assert field_salt(salt, "name") != field_salt(salt, "phone")
    d = salted_digest(salt, "name", "甲")
    assert d == salted_digest(salt, "name", "甲")
    assert d != salted_digest(salt, "name", "乙")
    assert d != salted_digest(salt, "phone", "甲")
    assert d != salted_digest(bytes([1]) + bytes(15), "name", "甲")
