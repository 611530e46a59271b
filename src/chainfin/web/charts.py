"""ECharts options for the bank workbench's charts, built on the server as plain data.

A page passes an option to the ``chart`` macro of ``_chart.html``, which writes the drawing
area and the option as a JSON data island; ``static/workbench.js`` draws it with the vendored
ECharts. Nothing here is a function or markup, so the Content-Security-Policy stays
``'self'`` only, and every chart also has a table of the same figures on its page (the
chart is for seeing a shape; the table is the record and what a screen reader reads).

Chart values are for drawing only: amounts go in as integer minor units and come out in
十万/万 yuan as numbers rounded for the axis; the tables beside the charts show the exact
amounts.

>>> opt = bar(["A", "B"], [("Exposure", [1_000_000_00, 250_000_00])], money=True)
>>> opt["series"][0]["data"], opt["yAxis"]["name"]
([100.0, 25.0], '万元')
>>> pie([("正常", 3), ("关注", 1)])["series"][0]["data"][1]
{'name': '关注', 'value': 1}
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PALETTE = ["#1f5f8b", "#3f9c6d", "#d08c1f", "#b83b3b", "#6b5ca5", "#2a9bb0", "#8a6d3b", "#5f6b7a"]
"""Colours that stay apart for most colour-blind readers and on grey print; the pages never
rely on colour alone (each chart's table names every figure)."""

WAN = 10_000_00  # minor units in 万元 (ten thousand yuan)


def wan(amount_minor: int) -> float:
    """An amount in minor units as 万元, two decimals, for an axis (display only)."""
    return float((Decimal(amount_minor) / WAN).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _values(values: Sequence[int | float], money: bool) -> list[float | int]:
    return [wan(int(v)) if money else v for v in values]


def _base(title: str | None) -> dict[str, Any]:
    option: dict[str, Any] = {
        "color": PALETTE,
        "aria": {"enabled": False},  # the page gives the label (_chart.html)
        "animation": False,
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
    }
    if title:
        option["title"] = {"text": title, "textStyle": {"fontSize": 14}}
    return option


def bar(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | float]]],
    *,
    money: bool = False,
    unit: str = "",
    horizontal: bool = False,
    stacked: bool = False,
    title: str | None = None,
    unit_label: str = "万元",
) -> dict[str, Any]:
    """Bars, one group per category and one bar per series. ``money``: the values are
    minor units, shown in 万元 (``unit_label``: the axis name in the page's language)."""
    option = _base(title)
    option["tooltip"] = {"trigger": "axis", "confine": True}
    axis_name = unit_label if money else unit
    category_axis = {
        "type": "category",
        "data": list(categories),
        "axisLabel": {"interval": 0, "hideOverlap": True},
    }
    value_axis = {"type": "value", "name": axis_name}
    option["xAxis"], option["yAxis"] = (
        (value_axis, category_axis) if horizontal else (category_axis, value_axis)
    )
    if horizontal:
        option["yAxis"]["inverse"] = True
    if len(series) > 1:
        option["legend"] = {"top": 0, "right": 0}
    option["series"] = [
        {
            "name": name,
            "type": "bar",
            "data": _values(values, money),
            **({"stack": "total"} if stacked else {}),
        }
        for name, values in series
    ]
    return option


def line(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | float | None]]],
    *,
    unit: str = "",
    title: str | None = None,
    mark_at: float | None = None,
) -> dict[str, Any]:
    """Lines over ``x`` (dates or periods); ``None`` leaves a gap. ``mark_at``: a dashed
    threshold line (a warning level)."""
    option = _base(title)
    option["tooltip"] = {"trigger": "axis", "confine": True}
    option["xAxis"] = {"type": "category", "data": list(x), "boundaryGap": False}
    option["yAxis"] = {"type": "value", "name": unit}
    if len(series) > 1:
        option["legend"] = {"top": 0, "right": 0}
    option["series"] = [
        {"name": name, "type": "line", "data": list(values), "connectNulls": False}
        for name, values in series
    ]
    if mark_at is not None and option["series"]:
        option["series"][0]["markLine"] = {
            "silent": True,
            "symbol": "none",
            "lineStyle": {"type": "dashed", "color": "#b83b3b"},
            "data": [{"yAxis": mark_at}],
        }
    return option


def pie(
    items: Sequence[tuple[str, int | float]], *, title: str | None = None, money: bool = False
) -> dict[str, Any]:
    """A ring of shares (five-category distribution, exposure by industry)."""
    option = _base(title)
    option["legend"] = {"bottom": 0, "type": "scroll"}
    option["series"] = [
        {
            "type": "pie",
            "radius": ["40%", "68%"],
            "avoidLabelOverlap": True,
            "label": {"formatter": "{b}: {d}%"},
            "data": [{"name": name, "value": wan(int(v)) if money else v} for name, v in items],
        }
    ]
    return option
