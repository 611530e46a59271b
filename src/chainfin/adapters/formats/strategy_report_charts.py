"""The charts of the committee report, drawn with reportlab.graphics (vector, no images):
the rank intervals of the sensitivity run and the attractiveness × ability quadrant."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import (  # type: ignore[import-untyped]
    Circle,
    Drawing,
    Group,
    Line,
    Rect,
    String,
)
from reportlab.lib import colors  # type: ignore[import-untyped]

from chainfin.adapters.formats.strategy_report_fonts import fit, runs, text_width
from chainfin.adapters.formats.strategy_report_text import label
from chainfin.domain.strategy.results import RankedChain

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#7b8794")
ACCENT = colors.HexColor("#1d4ed8")
BAND = colors.HexColor("#93c5fd")
GRID = colors.HexColor("#d9e2ec")

QUADRANT_COLOURS = {
    "pursue": colors.HexColor("#15803d"),
    "build": colors.HexColor("#1d4ed8"),
    "maintain": colors.HexColor("#b45309"),
    "watch": colors.HexColor("#6b7280"),
}


def draw_text(
    drawing: Drawing,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    anchor: str = "start",
    colour: colors.Color = INK,
    bold: bool = False,
) -> None:
    """Add ``text`` at (x, y) run by run, so Chinese and Latin pieces each get their font."""
    width = text_width(text, size, bold=bold)
    if anchor == "end":
        x -= width
    elif anchor == "middle":
        x -= width / 2
    for font, piece in runs(text, bold=bold):
        drawing.add(String(x, y, piece, fontName=font, fontSize=size, fillColor=colour))
        x += text_width(piece, size, bold=bold)


def rank_interval_chart(
    chains: Sequence[RankedChain], lang: str, width: float, *, total: int | None = None
) -> Drawing:
    """One row per ranked chain: the band from its best to its worst rank over the draws,
    the dot at its rank. ``total`` is the number of ranked chains (the axis length)."""
    ranked = [c for c in chains if c.rank is not None]
    n = total or max((c.rank_high or c.rank or 1 for c in ranked), default=1)
    row = 16.0
    top, bottom = 24.0, 30.0
    height = top + bottom + row * len(ranked)
    drawing = Drawing(width, height)
    name_w = 140.0
    x0, x1 = name_w + 8, width - 34  # room on the right for the "low–high" labels
    span = max(n - 1, 1)

    def x_of(rank: float) -> float:
        return x0 + (rank - 1) / span * (x1 - x0) if n > 1 else (x0 + x1) / 2

    draw_text(drawing, 0, height - 12, label("interval_chart", lang), 10, bold=True)
    axis_y = bottom - 8
    drawing.add(Line(x0, axis_y, x1, axis_y, strokeColor=MUTED, strokeWidth=0.6))
    step = max(1, round(n / 10))
    for r in range(1, n + 1):
        if r == 1 or r == n or (r - 1) % step == 0:
            x = x_of(r)
            drawing.add(Line(x, axis_y, x, height - top + 4, strokeColor=GRID, strokeWidth=0.4))
            draw_text(drawing, x, axis_y - 10, str(r), 7, anchor="middle", colour=MUTED)
    draw_text(
        drawing, (x0 + x1) / 2, 0, label("interval_axis", lang), 7, anchor="middle", colour=MUTED
    )
    for i, chain in enumerate(ranked):
        y = height - top - row * (i + 0.5)
        name = f"{chain.rank}. {chain.name}"
        draw_text(drawing, 0, y - 3, fit(name, 8, name_w), 8)
        low = chain.rank_low or chain.rank or 1
        high = chain.rank_high or chain.rank or 1
        drawing.add(
            Rect(
                x_of(low) - 3,
                y - 4,
                x_of(high) - x_of(low) + 6,
                8,
                rx=4,
                ry=4,
                fillColor=BAND,
                strokeColor=None,
            )
        )
        drawing.add(Circle(x_of(chain.rank or low), y, 3.2, fillColor=ACCENT, strokeColor=None))
        draw_text(drawing, x_of(high) + 6, y - 3, f"{low}–{high}", 7, colour=MUTED)
    return drawing


def quadrant_chart(chains: Sequence[RankedChain], lang: str, size: float) -> Drawing:
    """Attractiveness (x) against ability to win (y), both in [0, 1], split at 0.5; each
    chain a dot labelled with its rank and name, coloured by its quadrant."""
    margin_l, margin_b, margin_t, margin_r = 34.0, 30.0, 6.0, 10.0
    plot = size - margin_l - margin_r
    drawing = Drawing(size, plot + margin_b + margin_t)
    x0, y0 = margin_l, margin_b

    def at(v: float) -> float:
        return min(max(v, 0.0), 1.0) * plot

    drawing.add(Rect(x0, y0, plot, plot, fillColor=None, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(
        Line(
            x0 + plot / 2,
            y0,
            x0 + plot / 2,
            y0 + plot,
            strokeColor=MUTED,
            strokeDashArray=[3, 2],
            strokeWidth=0.6,
        )
    )
    drawing.add(
        Line(
            x0,
            y0 + plot / 2,
            x0 + plot,
            y0 + plot / 2,
            strokeColor=MUTED,
            strokeDashArray=[3, 2],
            strokeWidth=0.6,
        )
    )
    corners = {
        "maintain": (x0 + 4, y0 + plot - 11, "start"),
        "pursue": (x0 + plot - 4, y0 + plot - 11, "end"),
        "watch": (x0 + 4, y0 + 5, "start"),
        "build": (x0 + plot - 4, y0 + 5, "end"),
    }
    for quadrant, (qx, qy, anchor) in corners.items():
        draw_text(
            drawing,
            qx,
            qy,
            label(quadrant, lang),
            8,
            anchor=anchor,
            colour=QUADRANT_COLOURS[quadrant],
            bold=True,
        )
    for tick in (0.0, 0.5, 1.0):
        draw_text(drawing, x0 + at(tick), y0 - 10, f"{tick:.1f}", 7, anchor="middle", colour=MUTED)
        draw_text(
            drawing, x0 - 4, y0 + at(tick) - 2.5, f"{tick:.1f}", 7, anchor="end", colour=MUTED
        )
    draw_text(drawing, x0 + plot / 2, 2, label("attractiveness", lang) + " →", 8, anchor="middle")
    _vertical_label(drawing, 9, y0 + plot / 2, label("ability", lang) + " →")
    placed: list[tuple[float, float, float, float]] = []
    plotted = sorted(
        (
            (c.rank or 10**6, c.chain_key, c.attractiveness, c.ability, c)
            for c in chains
            if c.attractiveness is not None and c.ability is not None
        ),
        key=lambda row: (row[0], row[1]),
    )
    # Dots first, and every dot an obstacle for the labels, so no label hides a dot.
    for _, _, attractiveness, ability, chain in plotted:
        px, py = x0 + at(attractiveness), y0 + at(ability)
        colour = QUADRANT_COLOURS.get(chain.quadrant or "", MUTED)
        drawing.add(
            Circle(px, py, 3.5, fillColor=colour, strokeColor=colors.white, strokeWidth=0.5)
        )
        placed.append((px - 3.5, py - 3.5, 7.0, 7.0))
    for _, _, attractiveness, ability, chain in plotted:
        px, py = x0 + at(attractiveness), y0 + at(ability)
        # The name beside the dot where it overlaps no earlier label; else the rank
        # alone; else nothing (the ranking table names every chain).
        for text in (
            fit(f"{chain.rank or '–'}. {chain.name}", 7, plot * 0.42),
            str(chain.rank or "–"),
        ):
            spot = _free_spot(placed, px, py, text_width(text, 7), (x0, y0, x0 + plot, y0 + plot))
            if spot is not None:
                w = text_width(text, 7)
                placed.append((*spot, w, 8.0))
                # A white ground keeps the label legible over the split lines.
                drawing.add(
                    Rect(
                        spot[0] - 1,
                        spot[1] - 2,
                        w + 2,
                        8.5,
                        fillColor=colors.white,
                        strokeColor=None,
                    )
                )
                draw_text(drawing, spot[0], spot[1], text, 7)
                break
    return drawing


def _free_spot(
    placed: list[tuple[float, float, float, float]],
    px: float,
    py: float,
    w: float,
    box: tuple[float, float, float, float],
) -> tuple[float, float] | None:
    """A baseline (x, y) for a label of width ``w`` next to the dot at (px, py), inside
    ``box`` and clear of every label placed before, or None."""
    left, bottom, right, top = box
    for dx in (4.5, -4.5 - w):
        for dy in (-2.5, -10.0, 5.0):
            x, y = px + dx, py + dy
            if x < left + 1 or x + w > right - 1 or y < bottom + 1 or y + 8 > top - 1:
                continue
            if all(
                y + 8 <= qy or y >= qy + qh or x + w <= qx or x >= qx + qw
                for qx, qy, qw, qh in placed
            ):
                return x, y
    return None


def _vertical_label(drawing: Drawing, x: float, y: float, text: str) -> None:
    """A label read bottom to top, centred on (x, y)."""
    inner = Drawing(0, 0)
    draw_text(inner, 0, 0, text, 8, anchor="middle")
    group = Group(*inner.contents)
    group.transform = (0, 1, -1, 0, x, y)
    drawing.add(group)
