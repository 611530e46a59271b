"""(being built by the customers pages) The chain map: one industrial chain as a graph for
the bank workbench — the core at the centre, suppliers' tiers outward on one side, dealers
downstream on the other; each firm marked customer or not, with its open alerts and the
bank's exposure; and the same firms as a list. Drawn by static/workbench.js (ECharts graph).

Interface other pages use (the risk officer's contagion page overlays distress):

    chain_map.build(session, principal, chain_id, distress=None, gettext=str) -> ChainMap

and the ``chain_map(map)`` macro of ``_chain_map.html`` renders the drawing and the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chainfin.domain.access import Principal


@dataclass(frozen=True)
class MapNode:
    enterprise_id: str
    name: str
    side: str  # core, upstream, downstream
    tier: int  # 0 for the core, 1.. outward
    customer: bool  # a customer of the signed-in person's bank
    open_alerts: int  # the bank's open alerts about the firm
    exposure_minor: int  # the bank's outstanding exposure to the firm, CNY minor units
    distress: float | None = None  # an overlay (contagion): 0..1, None when not given
    url: str = ""  # the firm's 360° page


@dataclass(frozen=True)
class ChainMap:
    chain_id: str
    chain_name: str
    nodes: list[MapNode]
    links: list[tuple[str, str]]  # (supplier id, buyer id)
    option: dict[str, Any]  # the ECharts option (web/charts.py conventions)
    notes: list[str] = field(default_factory=list)  # coverage notes shown under the map


def build(
    session: Session,
    principal: Principal,
    chain_id: str,
    *,
    distress: Mapping[str, float] | None = None,
    gettext: Callable[[str], str] = str,
) -> ChainMap:
    raise NotImplementedError("the customers pages build this (issue 16)")
