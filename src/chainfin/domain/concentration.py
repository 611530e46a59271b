"""Concentration of a portfolio: shares, the Herfindahl-Hirschman index and the top-N share.

Amounts are integer minor units; shares are exact fractions rounded once for display.

>>> hhi([50, 30, 20])  # 0.5² + 0.3² + 0.2²
Fraction(19, 50)
>>> top_share([50, 30, 20], 2)
Fraction(4, 5)
>>> hhi([])
Fraction(0, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

# The thresholds of the US merger guidelines (2023: above 1,800 on the 0–10,000 scale is
# highly concentrated), commonly borrowed for credit concentration; a bank sets its own.
MODERATE_HHI = Fraction(1_000, 10_000)
HIGH_HHI = Fraction(1_800, 10_000)


def _checked(amounts: Iterable[int]) -> list[int]:
    values = list(amounts)
    if any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in values):
        raise ValueError("amounts must be whole numbers of minor units, not negative")
    return values


def shares(amounts: Sequence[int]) -> list[Fraction]:
    """Each amount's share of the total (all zero when the total is zero)."""
    values = _checked(amounts)
    total = sum(values)
    return [Fraction(a, total) if total else Fraction(0) for a in values]


def hhi(amounts: Sequence[int]) -> Fraction:
    """Σ share², from 1/N (evenly spread over N) to 1 (all in one)."""
    return sum((s * s for s in shares(amounts)), Fraction(0))


def top_share(amounts: Sequence[int], n: int) -> Fraction:
    """The share of the ``n`` largest amounts."""
    if n < 1:
        raise ValueError("n must be at least 1")
    values = sorted(_checked(amounts), reverse=True)
    total = sum(values)
    return Fraction(sum(values[:n]), total) if total else Fraction(0)


def level(index: Fraction) -> str:
    """``unconcentrated``, ``moderate`` or ``high`` by the thresholds above."""
    if index > HIGH_HHI:
        return "high"
    return "moderate" if index > MODERATE_HHI else "unconcentrated"


def breakout(history: Sequence[Fraction], latest: Fraction, *, z: Fraction = Fraction(2)) -> bool:
    """Whether ``latest`` rises beyond its own ``history``: above the trailing mean by more
    than ``z`` standard deviations (and above the mean at all when the history is flat).
    A history of fewer than three points says nothing."""
    if len(history) < 3:
        return False
    mean = sum(history, Fraction(0)) / len(history)
    variance = sum(((x - mean) ** 2 for x in history), Fraction(0)) / len(history)
    if latest <= mean:
        return False
    if variance == 0:
        return True
    return (latest - mean) ** 2 > z * z * variance
