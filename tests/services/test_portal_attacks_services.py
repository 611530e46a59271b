"""Rules of the portal's services that a review found wanting (tests/web_http/
test_portal_attacks.py has the attacks through the pages)."""

from __future__ import annotations

import pytest

from chainfin.domain.money import Money
from chainfin.services.onboarding import AmountProblem, check_amount


@pytest.mark.parametrize("typed", ["１２３", "٣", "१२"])
def test_digits_of_other_scripts_are_not_a_number(typed: str) -> None:
    """``\\d`` matches any Unicode digit: "１２３" passed the number check, failed to parse
    and was worded as more than the piece holds."""
    check = check_amount(typed, Money(10**9), min_piece_minor=100)
    assert check.problem is AmountProblem.NOT_A_NUMBER
