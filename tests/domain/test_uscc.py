"""统一社会信用代码 (GB 32100-2015): the reference samples, every rejection in order of
precedence, normalisation, and the check character's power to catch a mistyped character.

The reference samples are vendored in ``tests/data/reference/uscc`` (read its ``SOURCE.md``);
this file never writes to it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from chainfin.domain.uscc import (
    AUTHORITIES,
    CHARSET,
    WEIGHTS,
    check_character,
    check_uscc,
    make_uscc,
)
from reference import REFERENCE

SAMPLES_PATH = REFERENCE / "uscc" / "uscc_samples.json"
SAMPLES: dict[str, Any] = json.loads(SAMPLES_PATH.read_text(encoding="utf-8"))
VALID = SAMPLES["valid_samples"]
INVALID = SAMPLES["invalid_samples"]

GOOD = "91110000600037341L"  # python-stdnum's and our doctests' example


def test_the_reference_data_is_present() -> None:
    assert len(VALID) == 40
    assert len(INVALID) == 6


def test_weights_match_the_standard() -> None:
    assert list(WEIGHTS) == SAMPLES["algorithm"]["weights_positions_1_to_17"]
    assert len(CHARSET) == 31
    assert not set("IOSVZ") & set(CHARSET)


@pytest.mark.parametrize("sample", VALID, ids=[s["uscc"] for s in VALID])
def test_every_valid_reference_sample_is_accepted(sample: dict[str, Any]) -> None:
    verdict = check_uscc(sample["uscc"])
    assert verdict.valid is sample["gb32100_valid"] is True
    assert verdict.reason == ""
    assert verdict.org_code_valid is sample["gb11714_org_code_valid"]
    assert verdict.region_code == sample["uscc"][2:8]


@pytest.mark.parametrize("sample", INVALID, ids=[s["uscc"] for s in INVALID])
def test_every_invalid_reference_sample_is_rejected_for_its_reason(
    sample: dict[str, Any],
) -> None:
    verdict = check_uscc(sample["uscc"])
    assert verdict.valid is sample["gb32100_valid"] is False
    # The data names the rule ("length", "charset") or gives the whole verdict.
    reason = sample["computed_reason"]
    if reason.startswith("check digit should be"):
        assert verdict.reason == reason
    else:
        assert reason in {"length", "charset"}
        assert verdict.reason.startswith(f"{reason}:")
    assert verdict.region_code is None


def test_authority_a_is_judged_on_its_check_digit_not_its_format() -> None:
    # python-stdnum refuses a letter in position 1; GB 32100 allows A, N and Y.
    assert check_uscc("A1110000600037341L").reason == "check digit should be K"
    assert check_uscc("A1110000600037341K").valid


# Each row breaks its own rule and every rule after it, so the reason shows which rule wins.
PRECEDENCE = [
    ("I1A", "length: expected 18 characters, got 3"),
    ("I1A10000600037341N", "charset: 'I' at position 1 is not allowed (no I, O, S, V, Z)"),
    ("B1A10000600037341N", "structure: 'B' is not a registration authority"),
    ("91A10000600037341N", "structure: positions 3-8 must be a 6-digit region code"),
    ("91110000600037341N", "check digit should be L"),
]


@pytest.mark.parametrize(("code", "reason"), PRECEDENCE)
def test_rejections_in_order_of_precedence(code: str, reason: str) -> None:
    verdict = check_uscc(code)
    assert not verdict.valid
    assert verdict.reason == reason


@pytest.mark.parametrize(
    "raw",
    [
        "91110000600037341l",
        " 91110000600037341L ",
        "9111 0000 6000 3734 1L",
        "9111-0000-6000-3734-1L",
        "91-1100 00600037341l",
    ],
)
def test_lowercase_spaces_and_hyphens_are_accepted_and_normalised(raw: str) -> None:
    verdict = check_uscc(raw)
    assert verdict.valid
    assert verdict.code == GOOD


def test_a_failed_organisation_code_check_is_advisory() -> None:
    first17 = "91110000600037342"  # GB 11714 wants 1 in position 17
    code = first17 + check_character(first17)
    verdict = check_uscc(code)
    assert verdict.valid
    assert verdict.org_code_valid is False


@pytest.mark.parametrize("authority", list(AUTHORITIES))
def test_every_registration_authority_is_accepted(authority: str) -> None:
    code = make_uscc(authority, "1", "110105", "60003734")
    assert check_uscc(code).valid


def test_make_uscc_refuses_a_body_outside_the_character_set() -> None:
    with pytest.raises(ValueError, match="cannot build"):
        make_uscc("9", "1", "110105", "6000373O")


regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
org_bodies = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8)


@given(
    authority=st.sampled_from(AUTHORITIES),
    category=st.sampled_from("123"),
    region=regions,
    body=org_bodies,
)
def test_make_uscc_round_trips_through_check_uscc(
    authority: str, category: str, region: str, body: str
) -> None:
    try:
        code = make_uscc(authority, category, region, body)
    except ValueError:
        assert set(body) & set("IOSVZ"), "only letters outside the charset are refused"
        reject()
    verdict = check_uscc(code)
    assert verdict.valid, verdict.reason
    assert verdict.code == code
    assert verdict.org_code_valid is True
    assert verdict.region_code == region == code[2:8]
    assert code[8:16] == body


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    """Any valid code: a body drawn from the charset always has a GB 11714 check character."""
    body = draw(st.text(alphabet=CHARSET, min_size=8, max_size=8))
    return make_uscc(draw(st.sampled_from(AUTHORITIES)), "1", draw(regions), body)


@given(code=valid_codes(), position=st.integers(0, 17), data=st.data())
def test_a_single_substituted_character_is_always_detected(
    code: str, position: int, data: st.DataObject
) -> None:
    replacement = data.draw(st.sampled_from([c for c in CHARSET if c != code[position]]))
    mistyped = code[:position] + replacement + code[position + 1 :]
    assert not check_uscc(mistyped).valid
