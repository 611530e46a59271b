"""The input rules of domain.text and domain.bounds, and their modules' doctests (with those
of the parsers that apply them)."""

from __future__ import annotations

import doctest
import unicodedata
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.adapters.formats import jsonbound
from chainfin.domain import bounds, documents, money, registry_input, text
from chainfin.domain.bounds import check_amount_minor, check_business_date, check_instant
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.text import check_text
from propbudget import budget


@pytest.mark.parametrize(
    "module", [text, bounds, documents, registry_input, money, jsonbound], ids=lambda m: m.__name__
)
def test_module_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "U+0000 NUL at position 2: control characters are not allowed"),
        ("\x1b[31mred", "U+001B ESCAPE at position 1: control characters are not allowed"),
        ("x\x85", "U+0085 at position 2: control characters are not allowed"),
        ("x\x7f", "U+007F DELETE at position 2: control characters are not allowed"),
        ("a\u202db", "U+202D LEFT-TO-RIGHT OVERRIDE at position 2: bidirectional control"),
        ("a\u2069", "U+2069 POP DIRECTIONAL ISOLATE at position 2: bidirectional control"),
        ("a\ud800", "U+D800 at position 2: a lone surrogate is not text"),
        ("two\nlines", "U+000A LINE FEED at position 4: must be a single line"),
        ("tab\there", "U+0009 TAB at position 4: must be a single line"),
    ],
)
def test_refused_characters_are_named_with_their_position(value: str, reason: str) -> None:
    assert (check_text(value) or "").startswith(reason)


def test_multiline_text_may_carry_tabs_and_newlines_only() -> None:
    assert check_text("第一行\r\n\t第二行", multiline=True) is None
    assert check_text("line\x00", multiline=True) is not None
    assert check_text("line\u202e", multiline=True) is not None


@settings(max_examples=budget(300))
@given(st.text())
def test_the_rule_is_exactly_the_documented_set(value: str) -> None:
    refused = [
        c for c in value if unicodedata.category(c) in ("Cc", "Cs") or c in text.BIDI_CONTROLS
    ]
    assert (check_text(value) is None) == (not refused)


def test_business_dates_instants_and_amounts() -> None:
    assert check_business_date(date(1990, 1, 1)) is None
    assert check_business_date(date(2199, 12, 31)) is None
    assert check_business_date(date(1989, 12, 31)) is not None
    assert check_business_date(date(9999, 12, 31)) is not None
    assert check_instant(datetime(2027, 1, 1, tzinfo=UTC)) is None
    assert "UTC offset" in (check_instant(datetime(2027, 1, 1)) or "")  # noqa: DTZ001
    assert check_amount_minor(2**53 - 1) is None
    assert check_amount_minor(-(2**53)) is not None


def test_money_parse_refuses_amounts_beyond_2_53_minor_units_and_non_strings() -> None:
    assert Money.parse("90071992547409.91").amount_minor == 2**53 - 1
    for text_ in ("90071992547409.92", "-90071992547409.92", "999999999999999999"):
        with pytest.raises(MoneyError, match="largest amount"):
            Money.parse(text_)
    with pytest.raises(MoneyError, match="decimal string"):
        Money.parse(1130.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="not a decimal amount"):
        Money.parse("١٢٣")  # Arabic-Indic digits are not amounts
