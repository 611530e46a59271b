"""``chainfin risk debtrank``: contagion on a network."""

from __future__ import annotations
