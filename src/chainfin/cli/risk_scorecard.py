"""``chainfin risk train`` and ``chainfin risk score``: scorecards on tabular data."""

from __future__ import annotations
