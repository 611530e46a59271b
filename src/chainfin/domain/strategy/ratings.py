"""The long-term credit rating scale used for cores (domestic agencies' AAA … C, the scale
the credential programmes price on), best first.

>>> rating_index("AA+") < rating_index("AA")
True
>>> at_least("AA", "AA-"), at_least("A+", "AA-"), at_least(None, "AA-")
(True, False, False)
"""

from __future__ import annotations

SCALE = (
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-",
    "BB+", "BB", "BB-", "B+", "B", "B-", "CCC", "CC", "C", "D",
)  # fmt: skip
_INDEX = {r: i for i, r in enumerate(SCALE)}


def rating_index(rating: str) -> int:
    """Position on the scale (0 = AAA); ValueError for a rating not on it."""
    key = rating.strip().upper()
    if key not in _INDEX:
        raise ValueError(f"{rating!r} is not a rating on the scale {SCALE[0]}…{SCALE[-1]}")
    return _INDEX[key]


def is_rating(text: str) -> bool:
    return text.strip().upper() in _INDEX


def at_least(rating: str | None, floor: str) -> bool:
    """True when ``rating`` is ``floor`` or better; an unrated firm never passes a floor."""
    return rating is not None and is_rating(rating) and rating_index(rating) <= rating_index(floor)


def quality(rating: str | None) -> float | None:
    """A rating as a credit-quality weight in (0, 1]: AAA 1.0, each notch 1/len(SCALE) less;
    None when unrated."""
    if rating is None or not is_rating(rating):
        return None
    return 1.0 - rating_index(rating) / len(SCALE)
