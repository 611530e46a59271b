"""``chainfin risk …``: risk models on any data — scorecards (train, score) and contagion
(DebtRank). The commands live beside this module, one per model family, and register on
``risk_app`` when it is imported."""

from __future__ import annotations

from chainfin.cli.common import group

risk_app = group("Risk models: scorecards and contagion")

# The command modules decorate functions onto risk_app; importing them registers them.
from chainfin.cli import (  # noqa: E402
    risk_contagion,
    risk_models,
    risk_portfolio,
    risk_scorecard,
)

__all__ = ["risk_app", "risk_contagion", "risk_models", "risk_portfolio", "risk_scorecard"]
