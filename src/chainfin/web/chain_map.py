"""The chain map: one industrial chain as a graph for
the bank workbench — the core at the centre, suppliers' tiers outward on one side, dealers
downstream on the other; each firm marked customer or not, with its open alerts and the
bank's exposure; and the same firms as a list. Drawn by static/workbench.js (ECharts graph).

Interface other pages use (the risk officer's contagion page overlays distress):

    chain_map.build(session, principal, chain_id, distress=None, gettext=str) -> ChainMap

Positions are computed here in one pass (O(n)): the core(s) at the centre, each upstream
tier on a half ring to the left at a radius that grows with the tier, dealers and other
downstream tiers on half rings to the right; a crowded tier's ring is pushed out until its
firms are apart, and the next tier's further still (tiers never mix). Only the cores and a
tier 1 of at most :data:`LABELLED` firms carry a label (the rest show theirs on hover),
and the drawing uses the canvas renderer, so the largest chain of the medium demo
region draws in well under two seconds. Node size follows the bank's exposure; colour says
customer or not (and the distress overlay when given); a diamond with a red border marks a
firm with open alerts, so no meaning rests on colour alone; the list view says it all again.

and the ``chain_map(map)`` macro of ``_chain_map.html`` renders the drawing and the list.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chainfin.domain.access import Principal
from chainfin.services import customers
from chainfin.web.charts import PALETTE, wan


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


RING = 160.0  # the distance between two tiers' rings, in the graph's own units
SPACING = 26.0  # the least distance between two neighbours on a ring
SPREAD = math.radians(150)  # each side's half ring spans this angle
CUSTOMER_COLOUR = PALETTE[0]
OTHER_COLOUR = "#9aa5b1"
ALERT_BORDER = "#b83b3b"
SIDE_ANGLE = {"upstream": math.pi, "downstream": 0.0}  # the middle of each side's half ring
LABELLED = 16  # tier 1 carries its names up to this many firms; beyond, they overlap


def positions(nodes: list[MapNode]) -> dict[str, tuple[float, float]]:
    """Where each firm is drawn: cores on a small ring at the centre, every other tier of
    each side on its own half ring around it, wider when the tier is crowded. One pass
    over the nodes."""
    by_ring: dict[tuple[str, int], list[MapNode]] = defaultdict(list)
    for node in nodes:
        by_ring[(node.side, node.tier)].append(node)
    out: dict[str, tuple[float, float]] = {}
    cores = by_ring.pop(("core", 0), [])
    for side, tier in list(by_ring):
        if side == "core":  # a core at another tier: put it with the cores
            cores += by_ring.pop((side, tier))
    for i, node in enumerate(cores):
        if len(cores) == 1:
            out[node.enterprise_id] = (0.0, 0.0)
        else:
            angle = 2 * math.pi * i / len(cores)
            out[node.enterprise_id] = (40 * math.cos(angle), 40 * math.sin(angle))
    reached: dict[str, float] = defaultdict(float)  # each side's outermost ring so far
    for (side, tier), ring in sorted(by_ring.items(), key=lambda item: (item[0][0], item[0][1])):
        middle = SIDE_ANGLE.get(side, 0.0)
        # one ring per tier, pushed out until its firms are SPACING apart, and always a
        # RING beyond the side's previous tier: tiers never mix, however crowded
        radius = max(RING * tier, reached[side] + RING, len(ring) * SPACING / SPREAD)
        reached[side] = radius
        for j, node in enumerate(ring):
            offset = SPREAD * ((j + 0.5) / len(ring) - 0.5)
            angle = middle + offset
            out[node.enterprise_id] = (radius * math.cos(angle), radius * math.sin(angle))
    return out


def _size(node: MapNode, largest: int) -> float:
    if node.side == "core":
        return 44.0
    if largest <= 0 or node.exposure_minor <= 0:
        return 12.0
    return round(12.0 + 28.0 * math.sqrt(node.exposure_minor / largest), 1)


def _distress_colour(level: float) -> str:
    """Pale yellow (no distress) to dark red (certain default)."""
    level = min(1.0, max(0.0, level))
    low, high = (0xF6, 0xE7, 0xA1), (0x8B, 0x1A, 0x1A)
    r, g, b = (round(a + (z - a) * level) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def option(
    nodes: list[MapNode], links: list[tuple[str, str]], gettext: Callable[[str], str]
) -> dict[str, Any]:
    """The ECharts graph option: layout "none" with the positions above, zoom and pan."""
    where = positions(nodes)
    largest = max((n.exposure_minor for n in nodes if n.side != "core"), default=0)
    tier_one = sum(1 for n in nodes if n.side != "core" and n.tier <= 1)
    categories = [
        {"name": gettext("Customer"), "itemStyle": {"color": CUSTOMER_COLOUR}},
        {"name": gettext("Not a customer"), "itemStyle": {"color": OTHER_COLOUR}},
        {
            "name": gettext("Open alerts"),
            "symbol": "diamond",
            "itemStyle": {"color": CUSTOMER_COLOUR, "borderColor": ALERT_BORDER, "borderWidth": 3},
        },
    ]
    data = []
    for node in nodes:
        x, y = where[node.enterprise_id]
        colour = CUSTOMER_COLOUR if node.customer else OTHER_COLOUR
        if node.distress is not None:
            colour = _distress_colour(node.distress)
        style: dict[str, Any] = {"color": colour}
        item: dict[str, Any] = {
            "id": node.enterprise_id,
            "name": node.name,
            "x": round(x, 1),
            "y": round(y, 1),
            "value": wan(node.exposure_minor),
            "symbolSize": _size(node, largest),
            "category": 0 if node.customer else 1,
            "url": node.url,
            "itemStyle": style,
        }
        if node.open_alerts:
            item["category"] = 2
            item["symbol"] = "diamond"
            style.update(borderColor=ALERT_BORDER, borderWidth=3)
        if node.side == "core":
            item["label"] = {"show": True, "position": "bottom", "fontWeight": "bold"}
        elif node.tier <= 1 and tier_one <= LABELLED:
            item["label"] = {"show": True}
        data.append(item)
    return {
        "aria": {"enabled": False},  # the page gives the label and the list (_chain_map.html)
        "animation": False,
        "tooltip": {"trigger": "item", "confine": True},
        "legend": [{"data": [c["name"] for c in categories], "bottom": 0}],
        "series": [
            {
                "type": "graph",
                "name": gettext("Exposure (10k yuan)"),
                "layout": "none",
                "roam": True,
                "zoom": 0.75,  # room for the outermost firms' labels and the legend
                "draggable": False,
                "categories": categories,
                "data": data,
                "links": [{"source": s, "target": b} for s, b in links],
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 6,
                "lineStyle": {"color": "#8a94a6", "opacity": 0.5, "width": 1},
                "label": {"show": False, "position": "right", "fontSize": 12},
                "emphasis": {"label": {"show": True}},
                "labelLayout": {"hideOverlap": True},
            }
        ],
    }


def build(
    session: Session,
    principal: Principal,
    chain_id: str,
    *,
    distress: Mapping[str, float] | None = None,
    gettext: Callable[[str], str] = str,
) -> ChainMap:
    """The chain as the signed-in person's bank sees it (``NotFound`` unless the chain is
    the bank's). ``distress``: a level from 0 to 1 by firm id, drawn over the nodes."""
    graph = customers.chain_graph(session, principal, chain_id)
    nodes = [
        MapNode(
            enterprise_id=f.enterprise_id,
            name=f.name,
            side=f.side,
            tier=f.tier,
            customer=f.customer,
            open_alerts=f.open_alerts,
            exposure_minor=f.exposure_minor,
            distress=None if distress is None else distress.get(f.enterprise_id, 0.0),
            url=f"/firms/{f.enterprise_id}",
        )
        for f in graph.members
    ]
    linked = {e for link in graph.links for e in link}
    alone = sum(1 for n in nodes if n.enterprise_id not in linked)
    notes = [
        gettext(
            "Supply relations are drawn only where a customer of your bank is a party; "
            "members are placed by the tiers computed from every recorded relation."
        )
    ]
    if alone:
        notes.append(gettext("Members without any relation shown: %(n)s.") % {"n": alone})
    prospects = sum(1 for n in nodes if not n.customer)
    if prospects:
        notes.append(
            gettext("Members not yet customers of your bank (prospects): %(n)s.") % {"n": prospects}
        )
    return ChainMap(
        chain_id=graph.chain_id,
        chain_name=graph.chain_name,
        nodes=nodes,
        links=graph.links,
        option=option(nodes, graph.links, gettext),
        notes=notes,
    )
