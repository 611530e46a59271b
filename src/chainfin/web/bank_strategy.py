"""The head office's chain strategy pages (/strategy): which regional industrial chains the
bank should pursue, on its own market data.

- ``/strategy?region=yrd``: the region picker, what the analysis ran on (dataset, date,
  coverage, what is missing), the ranking with each chain's rank interval under weight
  noise and the chains a gate excluded, the attractiveness × ability quadrant, the measures
  of every chain (with a sparkline of its monthly trade), the weights, and head office's own
  weights (a JSON file of AHP comparisons or direct weights) to re-rank with.
- ``/strategy/chains/{key}?region=yrd``: one chain's map (segments upstream → midstream →
  downstream, its members as a graph, the freshness of its links and what the map lacks),
  its measures with the inputs each was computed from, and its leads (CSV for branches).
- ``/strategy/data``: the bank's market datasets and the CSV upload (strategists only).
- ``/strategy/report.pdf``: the committee report.

Every figure comes from :mod:`chainfin.services.strategy` with the signed-in person's
principal; the pages only arrange them. People with ``strategy:read`` (strategists, risk
officers) read them; only ``strategy:write`` imports. Others read the standard refusal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import ChainfinError, NotFound, ValidationFailed
from chainfin.domain.strategy.criteria import BY_KEY, CRITERIA, INFORMATIONAL
from chainfin.domain.strategy.display import lead_reasons, note_text, reason_text
from chainfin.domain.strategy.ratings import SCALE
from chainfin.domain.strategy.regions import NAMED, StrategyRegion, UnknownRegion, parse_region
from chainfin.domain.strategy.results import ChainMap, ChainMeasures, Measure, Ranking
from chainfin.domain.strategy.segments import STAGES
from chainfin.risk.strategy import maps
from chainfin.risk.strategy import ranking as ranking_model
from chainfin.risk.strategy.graph import RegionView
from chainfin.risk.strategy.leads import leads_csv as to_csv
from chainfin.risk.strategy.measures import measure_chains
from chainfin.services import strategy
from chainfin.web import chain_map, charts
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, language_of, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("ranking", "/strategy", N_("Ranking")),
    ("data", "/strategy/data", N_("Market data")),
)
NOT_STRATEGY = N_("These pages are for your bank's head-office strategists and risk officers.")
NOT_IMPORT = N_("Only your bank's head-office strategists import market data.")
NO_REGION = N_(
    "This is not a region: choose 京津冀, 长三角 or 大湾区, or give a GB/T 2260 province or "
    "prefecture code such as 320000 or 320500."
)
NO_CHAIN = N_("This chain is not in your bank's market data for this region.")
NO_FILE = N_("Choose one or more CSV files.")
TOO_LARGE = N_("A file is larger than the limit of 20 MB.")
WEIGHTS_TOO_LARGE = N_("The weights file is larger than the limit of 64 KB.")
NOT_CSV = N_("Only CSV files (.csv) are imported.")
# Inputs whose absence lowers nothing: without its own segment table the bank's analysis
# uses the platform's (services.strategy.coverage_of does not count it either).
NOT_LACKING = frozenset({"segments"})
TWICE = N_("Two files share one name: give each input once.")
NO_LABEL = N_("Give the dataset a name (at most 200 characters).")
NO_WEIGHTS_FILE = N_("Choose a weights file (JSON).")
BAD_SETTING = N_("This setting is out of range; the defaults were used.")
UNIT = N_("10k yuan")  # 万元
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_WEIGHTS_BYTES = 64 * 1024
MAX_WEIGHTS_QUERY = 6000  # a weights file carried in a link: 12 × 12 comparisons fit
MAX_NODES = 120  # members drawn on the chain's graph; the rest are counted
MAX_LEADS = 100

QUADRANTS = {
    "pursue": N_("Pursue"),
    "build": N_("Build position"),
    "maintain": N_("Maintain"),
    "watch": N_("Watch"),
}
QUADRANT_HELP = {
    "pursue": N_("attractive, and the bank can win it"),
    "build": N_("attractive, but the bank's position is weak"),
    "maintain": N_("less attractive, the bank is well placed"),
    "watch": N_("less attractive, weak position"),
}
STAGE_LABELS = {
    "upstream": N_("Upstream"),
    "midstream": N_("Midstream"),
    "downstream": N_("Downstream"),
}
SIDE_LABELS = {"core": N_("Core"), "upstream": N_("Supplier"), "downstream": N_("Buyer")}
FRESHNESS = {
    "fresh": N_("Fresh"),
    "ageing": N_("Ageing"),
    "stale": N_("Stale"),
    "unknown": N_("No links"),
}
PROVENANCE = {
    "platform_trade": N_("platform trade"),
    "declared": N_("declared relation"),
    "payments": N_("inferred from payments"),
}
BASIS = {"data": N_("from data"), "fallback": N_("fallback"), "missing": N_("missing")}
INPUT_LABELS = {
    "enterprises": N_("enterprises"),
    "chains": N_("chains and their cores"),
    "relations": N_("supply relations"),
    "trade_flows": N_("monthly trade flows"),
    "financials": N_("financial statements"),
    "policies": N_("policy lists of key chains"),
    "io_shares": N_("input-output shares"),
    "segments": N_("the bank's own segment table"),
    "receivables": N_("receivables"),
    "customers": N_("the bank's customers"),
    "exposures": N_("the bank's exposures"),
    "alerts": N_("the bank's open alerts"),
}
MEASURE_LABELS = {
    "single_points_of_failure": N_("Single points of failure"),
    "net_entry": N_("Net entry of firms"),
    "trade_trend": N_("Trade volume trend"),
    "financing_need": N_("Working-capital need"),
    "financing_in_place": N_("Financing in place"),
    "credentials_funded": N_("Credentials funded"),
    "alert_rate": N_("Alert rate"),
    "delinquency_rate": N_("Delinquency rate"),
    "debtrank_fragility": N_("DebtRank fragility of the core"),
    "expected_loss": N_("Expected loss"),
}
DEFINITIONS = {
    "completeness": N_(
        "Share of the chain kind's segments present in the region with at least the "
        "minimum number of firms."
    ),
    "local_supporting_rate": N_(
        "Share of the chain's purchases bought from firms in the same region (trade data; "
        "an input-output table where trade is thin)."
    ),
    "core_strength": N_(
        "Centrality of the core enterprises in the chain's trade graph, weighted by their "
        "credit quality."
    ),
    "concentration": N_(
        "Herfindahl–Hirschman index of the chain's purchases by supplier; lower is better."
    ),
    "sme_depth": N_("Number of small and medium firms in tiers 1 to 3."),
    "growth": N_("Trend of the chain's monthly trade volume and net entry of firms."),
    "financing_gap": N_(
        "Working-capital need (revenue and DSO/DIO/DPO, else trade flows) less the "
        "financing in place."
    ),
    "policy_priority": N_(
        "Whether the chain's kind is on a provincial or municipal key-chain list."
    ),
    "customer_share": N_("Share of the chain's members that are customers of the bank."),
    "cores_covered": N_("Share of the chain's core enterprises that are customers of the bank."),
    "financing_share": N_("The bank's share of the financing the chain's members hold."),
    "risk": N_(
        "Alert and delinquency rates, DebtRank fragility and expected loss; lower is better."
    ),
    "single_points_of_failure": N_("Critical segments with a single firm."),
    "net_entry": N_("Firms that entered the chain less firms that left it in the last year."),
    "trade_trend": N_(
        "Trade of the last 12 months against the 12 before, as a change (6 against 6 "
        "months when the data is shorter)."
    ),
    "financing_need": N_("The regulatory working-capital estimate of the chain's members."),
    "financing_in_place": N_("Working-capital loans the members hold at all banks."),
    "credentials_funded": N_("Credential financings the bank made to members in 12 months."),
    "alert_rate": N_("Share of the members the bank has open alerts about."),
    "delinquency_rate": N_("Share of the members with a loan of the bank past due."),
    "debtrank_fragility": N_("Distress the chain suffers if its core defaults (DebtRank)."),
    "expected_loss": N_("Probability of default × loss given default × the bank's exposure."),
}


# ---------------------------------------------------------------------------- helpers


def _gettext(request: Request) -> Callable[[str], str]:
    return language_of(request)[0].gettext


def _english(request: Request) -> bool:
    return language_of(request)[0].tag == "en"


def may_read(principal: Principal) -> bool:
    return principal.bank_id is not None and Scope.STRATEGY_READ in principal.scopes


def may_import(principal: Principal) -> bool:
    return principal.bank_id is not None and Scope.STRATEGY_WRITE in principal.scopes


def _refused(
    request: Request, session: Session, principal: Principal, reason: str, status: int
) -> Response:
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=status)


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    name: str,
    section: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    values = {
        "nav": "strategy",
        "sections": SECTIONS,
        "section": section,
        "may_import": may_import(principal),
        **context,
    }
    me = whoami(session, principal)
    return render(request, name, values, me=me, status_code=status_code)


def pct(value: float | None, places: str = "0.1") -> str:
    """A share as a percentage: ``37.5%``; ``—`` when unknown."""
    if value is None:
        return "—"
    number = (Decimal(repr(float(value))) * 100).quantize(Decimal(places), ROUND_HALF_UP)
    return f"{number}%"


def _decimal(value: float, places: str) -> str:
    return str(Decimal(repr(float(value))).quantize(Decimal(places), ROUND_HALF_UP))


def wan_text(yuan: float | int, unit: str) -> str:
    """An amount in yuan as 万元 with a thousands separator: ``1,234.56 万元``."""
    return f"{charts.wan(round(yuan * 100)):,.2f} {unit}"


def format_measure(measure: Measure | None, unit_label: str) -> str:
    """A measure's value as its table shows it: shares in %, amounts in 万元, counts whole;
    ``—`` when missing, ``†`` after a value from a fallback."""
    if measure is None or measure.value is None or measure.basis == "missing":
        return "—"
    value = measure.value
    if measure.unit in ("share", "rate"):
        text = pct(value)
    elif measure.unit == "CNY":
        text = wan_text(value, unit_label)
    elif measure.unit == "count":
        text = f"{round(value):,}"
    else:
        text = _decimal(value, "0.001")
    return f"{text} †" if measure.basis == "fallback" else text


def _input_text(value: float | int | str) -> str:
    if isinstance(value, float):
        return _decimal(value, "0.0001") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _input_pair(key: str, value: float | int | str, unit: str) -> tuple[str, str]:
    """An input as shown beside its measure: ``*_minor`` amounts (fen) in 万元 under the
    name without the suffix, as the API shows them in yuan."""
    if key.endswith("_minor") and isinstance(value, int | float) and not isinstance(value, bool):
        return key.removesuffix("_minor"), wan_text(value / 100, unit)
    return key, _input_text(value)


def measure_label(key: str, english: bool) -> str:
    """A criterion's label in the page's language, or an informational measure's msgid
    (translated in the template)."""
    found = BY_KEY.get(key)
    if found is not None:
        return found.label_en if english else found.label_zh
    return MEASURE_LABELS.get(key, key)


def _kind_label(kinds: Mapping[str, Any], kind: str, english: bool) -> str:
    found = kinds.get(kind)
    if found is None:
        return kind
    return str(found.label_en if english else found.label_zh)


def _query(values: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list | tuple):
            pairs += [(key, str(v)) for v in value]
        elif value not in (None, ""):
            pairs.append((key, str(value)))
    return urlencode(pairs)


# ---------------------------------------------------------------------------- region


class NoMarketData(Exception):
    """The bank has imported no market data yet."""


def _resolve_region(session: Session, principal: Principal, text: str) -> StrategyRegion:
    """The region asked for (:class:`UnknownRegion` when it is none), or by default the
    first named region in which the bank's data has chains, else 长三角.
    :class:`NoMarketData` when the bank has no dataset."""
    if not strategy.datasets(session, principal):
        raise NoMarketData
    if text.strip():
        return parse_region(text)
    for region in NAMED.values():
        if strategy.view(session, principal, region).chains:
            return region
    return NAMED["yrd"]


def _no_data(request: Request, session: Session, principal: Principal) -> Response:
    return _page(request, session, principal, "strategy_empty.html", "ranking", {}, 404)


def _bad_region(request: Request, session: Session, principal: Principal) -> Response:
    return _refused(request, session, principal, NO_REGION, 404)


# ---------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """The ranking's settings from the page's form (GET), each checked; a value out of
    range falls back to its default and is named in ``errors``."""

    blend: float | None = None  # None: the weights file's own blend, else the default 0.5
    draws: int = 500
    seed: int = 17
    min_rating: str = ""
    restricted: list[str] = field(default_factory=list)
    weights: str = ""  # head office's weights file, compact JSON, carried on in links
    parsed: ranking_model.WeightInput | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, Any]:
        """The settings as query parameters (links keep them)."""
        return {
            "blend": _decimal(self.blend, "0.01") if self.blend is not None else "",
            "draws": self.draws,
            "seed": self.seed,
            "min_rating": self.min_rating,
            "kind": self.restricted,
            "weights": self.weights,
        }

    def gates(self) -> ranking_model.Gates:
        return ranking_model.Gates(
            restricted_kinds=frozenset(self.restricted),
            min_core_rating=self.min_rating or None,
        )


def _number(text: str, low: float, high: float, whole: bool) -> float | None:
    try:
        value = float(text) if not whole else int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def compact(text: str) -> str:
    """A weights file as one line of JSON (for a query parameter); the text itself when it
    is not JSON (:func:`parse_settings` then names the problem)."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return text


def parse_settings(
    blend: str, draws: str, seed: str, min_rating: str, kinds: Sequence[str], weights: str
) -> Settings:
    out = Settings()
    if blend.strip():
        value = _number(blend.strip(), 0.0, 1.0, whole=False)
        if value is None:
            out.errors["blend"] = BAD_SETTING
        else:
            out.blend = value
    if draws.strip():
        value = _number(draws.strip(), 1, 2000, whole=True)
        if value is None:
            out.errors["draws"] = BAD_SETTING
        else:
            out.draws = int(value)
    if seed.strip():
        value = _number(seed.strip(), 0, 2**31 - 1, whole=True)
        if value is None:
            out.errors["seed"] = BAD_SETTING
        else:
            out.seed = int(value)
    if min_rating.strip():
        if min_rating.strip().upper() in SCALE:
            out.min_rating = min_rating.strip().upper()
        else:
            out.errors["min_rating"] = BAD_SETTING
    out.restricted = sorted({k.strip() for k in kinds if k.strip()})[:40]
    if weights.strip():
        try:
            out.parsed = ranking_model.parse_weights(weights)
            out.weights = compact(weights)
        except ranking_model.WeightsError as exc:
            out.errors["weights"] = str(exc)
    return out


# ---------------------------------------------------------------------------- ranking page


@dataclass(frozen=True)
class RankRow:
    key: str
    name: str
    kind: str
    score: str
    rank: int | None
    low: int | None
    high: int | None
    quadrant: str
    reason: str
    excluded_by: tuple[str, ...]
    url: str
    bar: dict[str, float] | None  # the interval drawn on a 0..100 scale


@dataclass(frozen=True)
class MeasureRow:
    key: str
    name: str
    url: str
    cells: list[tuple[str, str]]  # (criterion key, formatted value)
    spark_id: str
    spark: dict[str, Any] | None
    spark_text: str  # the last month's volume, for readers of the table


def _bar(low: int | None, high: int | None, rank: int | None, n: int) -> dict[str, float] | None:
    if low is None or high is None or rank is None or n <= 0:
        return None
    step = 100.0 / n
    return {
        "x": round((low - 1) * step, 2),
        "width": round(max(step * (high - low + 1), 2.0), 2),
        "dot": round((rank - 0.5) * step, 2),
    }


def quadrant_option(
    points: Sequence[tuple[str, float, float, str]], gettext: Callable[[str], str]
) -> dict[str, Any]:
    """An ECharts scatter: attractiveness across, ability to win up, split at 0.5 into the
    four quadrants (named in the corners), each chain labelled and opening its page."""
    split = {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"type": "dashed", "color": "#5f6b7a"},
        "label": {"show": False},
        "data": [{"xAxis": 0.5}, {"yAxis": 0.5}],
    }
    corners = [
        (0.98, 0.98, "right", QUADRANTS["pursue"]),
        (0.02, 0.98, "left", QUADRANTS["maintain"]),
        (0.98, 0.46, "right", QUADRANTS["build"]),
        (0.02, 0.46, "left", QUADRANTS["watch"]),
    ]
    return {
        "color": charts.PALETTE,
        "aria": {"enabled": False},
        "animation": False,
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"left": 44, "right": 16, "top": 16, "bottom": 44, "containLabel": False},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": 1,
            "name": gettext("Attractiveness"),
            "nameLocation": "middle",
            "nameGap": 26,
        },
        "yAxis": {
            "type": "value",
            "min": 0,
            "max": 1,
            "name": gettext("Ability to win"),
            "nameLocation": "middle",
            "nameGap": 30,
        },
        "series": [
            {
                "type": "scatter",
                "name": gettext("Chains"),
                "symbolSize": 14,
                "label": {"show": True, "position": "right", "formatter": "{b}"},
                "labelLayout": {"hideOverlap": True},
                "data": [
                    {
                        "name": name,
                        "value": [round(x, 3), round(y, 3)],
                        "url": url,
                        # a label to the left of a point on the right stays inside the chart
                        "label": {"position": "left" if x > 0.5 else "right"},
                    }
                    for name, x, y, url in points
                ],
                "markLine": split,
            },
            {
                "type": "scatter",
                "silent": True,
                "symbolSize": 0,
                "label": {
                    "show": True,
                    "formatter": "{b}",
                    "color": "#4f5b69",
                    "fontWeight": "bold",
                },
                "data": [
                    {"name": gettext(text), "value": [x, y], "label": {"align": align}}
                    for x, y, align, text in corners
                ],
                "tooltip": {"show": False},
            },
        ],
    }


def sparkline(series: Sequence[tuple[date, float]]) -> dict[str, Any] | None:
    """A small line of monthly trade volume (万元): :func:`charts.line` without its axes."""
    if len(series) < 2:
        return None
    option = charts.line(
        [f"{month:%Y-%m}" for month, _ in series],
        [("", [charts.wan(round(v * 100)) for _, v in series])],
    )
    option["grid"] = {"left": 2, "right": 2, "top": 4, "bottom": 4, "containLabel": False}
    option["xAxis"]["show"] = False
    option["yAxis"]["show"] = False
    option["yAxis"]["scale"] = True
    option["series"][0].update(symbol="none", lineStyle={"width": 1.5}, areaStyle={"opacity": 0.15})
    return option


def _chain_url(key: str, region: StrategyRegion, lang: str | None) -> str:
    return f"/strategy/chains/{key}?" + _query({"region": region.key, "lang": lang})


def _reason_values(ms: Sequence[ChainMeasures]) -> dict[str, dict[str, tuple[float | None, str]]]:
    return {cm.chain_key: {k: (m.value, m.unit) for k, m in cm.measures.items()} for cm in ms}


def _rank_rows(
    result: Ranking,
    kinds: Mapping[str, Any],
    region: StrategyRegion,
    english: bool,
    ms: Sequence[ChainMeasures] = (),
) -> tuple[list[RankRow], list[RankRow]]:
    ranked_n = sum(1 for c in result.chains if c.rank is not None)
    values = _reason_values(ms)
    ranked: list[RankRow] = []
    excluded: list[RankRow] = []
    for c in result.chains:
        row = RankRow(
            key=c.chain_key,
            name=c.name,
            kind=_kind_label(kinds, c.kind, english),
            score=_decimal(c.score, "0.001") if c.score is not None else "—",
            rank=c.rank,
            low=c.rank_low,
            high=c.rank_high,
            quadrant=c.quadrant or "",
            reason=reason_text(c, values.get(c.chain_key, {}), "en" if english else "zh_CN"),
            excluded_by=c.excluded_by,
            url=_chain_url(c.chain_key, region, None),
            bar=_bar(c.rank_low, c.rank_high, c.rank, ranked_n),
        )
        (ranked if c.rank is not None else excluded).append(row)
    return ranked, excluded


def _measure_rows(
    measures: Sequence[ChainMeasures],
    order: Sequence[str],
    region: StrategyRegion,
    unit: str,
) -> list[MeasureRow]:
    position = {key: i for i, key in enumerate(order)}
    rows = []
    for n, m in enumerate(
        sorted(measures, key=lambda m: (position.get(m.chain_key, 10**6), m.name))
    ):
        trade = m.series.get("trade_volume", ())
        rows.append(
            MeasureRow(
                key=m.chain_key,
                name=m.name,
                url=_chain_url(m.chain_key, region, None),
                cells=[(c.key, format_measure(m.measures.get(c.key), unit)) for c in CRITERIA],
                spark_id=f"spark-{n}",
                spark=sparkline(trade),
                spark_text=wan_text(trade[-1][1], unit) if trade else "—",
            )
        )
    return rows


def _weights_rows(result: Ranking, english: bool) -> list[dict[str, str]]:
    w = result.weights
    rows = []
    for key in result.criteria:
        c = BY_KEY.get(key)
        rows.append(
            {
                "key": key,
                "label": measure_label(key, english),
                "group": c.group if c else "",
                "benefit": "benefit" if (c is None or c.benefit) else "cost",
                "entropy": pct(w.entropy.get(key)),
                "subjective": pct(w.subjective.get(key)) if w.subjective else "—",
                "final": pct(w.final.get(key)),
            }
        )
    return rows


def _ranking_context(
    request: Request,
    session: Session,
    principal: Principal,
    region: StrategyRegion,
    settings: Settings,
) -> dict[str, Any]:
    gettext = _gettext(request)
    english = _english(request)
    unit = gettext(UNIT)
    view = strategy.view(session, principal, region)
    measures = measure_chains(view)
    result = _rank(view, measures, settings)
    ranked, excluded = _rank_rows(result, view.kinds, region, english, measures)
    points = [
        (c.name, c.attractiveness, c.ability, _chain_url(c.chain_key, region, None))
        for c in result.chains
        if c.rank is not None and c.attractiveness is not None and c.ability is not None
    ]
    dataset = view.dataset
    order = [r.key for r in ranked] + [r.key for r in excluded]
    kinds = sorted({c.kind for c in view.chains} | set(settings.restricted))
    lang = language_of(request)[0].tag
    return {
        "region": region,
        "region_label": region.label_en if english else region.label_zh,
        "named": list(NAMED.values()),
        "english": english,
        "dataset": dataset,
        "info": _dataset_info(session, principal),
        "coverage": result.coverage,
        "coverage_notes": [
            note_text(n, "en" if english else "zh_CN")
            for n in result.coverage.notes
            if not n.endswith(": not given")
        ],
        "missing": [INPUT_LABELS.get(m, m) for m in dataset.missing if m not in NOT_LACKING],
        "ranking": result,
        "ranked": ranked,
        "excluded": excluded,
        "quadrants": QUADRANTS,
        "quadrant_help": QUADRANT_HELP,
        "quadrant_option": quadrant_option(points, gettext) if points else None,
        "points": [r for r in ranked if r.quadrant],
        "criteria": CRITERIA,
        "definitions": DEFINITIONS,
        "measure_rows": _measure_rows(measures, order, region, unit),
        "weights_rows": _weights_rows(result, english),
        "weights": result.weights,
        "cr": _decimal(result.weights.consistency_ratio, "0.001")
        if result.weights.consistency_ratio is not None
        else None,
        "settings": settings,
        "kinds": [(k, _kind_label(view.kinds, k, english)) for k in kinds],
        "scale": SCALE,
        "pdf_url": "/strategy/report.pdf?"
        + _query(
            {"region": region.key, "lang": "en" if lang == "en" else "zh_CN"} | settings.query()
        ),
        "weights_example": ranking_model.weights_template(),
        "without_weights_url": "/strategy?"
        + _query({"region": region.key, **settings.query(), "weights": ""}),
        "groups": {"attractiveness": N_("Attractiveness"), "ability": N_("Ability to win")},
        "weights_error": None,
        "weights_uploaded": settings.parsed is not None,
    }


def _rank(
    view: RegionView,
    measures: Sequence[ChainMeasures],
    settings: Settings,
) -> Ranking:
    """The services' ranking of the view (:func:`strategy.rank_view`) with the page's
    settings, on the measures the page shows."""
    return strategy.rank_view(
        view,
        measured=measures,
        weights=settings.parsed,
        blend=settings.blend,
        gates=settings.gates(),
        draws=settings.draws,
        seed=settings.seed,
    )


def _dataset_info(session: Session, principal: Principal) -> Any:
    found = strategy.datasets(session, principal)
    return found[0] if found else None


@router.get("/strategy", response_class=HTMLResponse)
def strategy_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    region: Annotated[str, Query(max_length=20)] = "",
    blend: Annotated[str, Query(max_length=20)] = "",
    draws: Annotated[str, Query(max_length=20)] = "",
    seed: Annotated[str, Query(max_length=20)] = "",
    min_rating: Annotated[str, Query(max_length=10)] = "",
    kind: Annotated[list[str] | None, Query(max_length=40)] = None,
    weights: Annotated[str, Query(max_length=MAX_WEIGHTS_QUERY)] = "",
) -> Response:
    """The ranking of the region's chains, with the settings of the form and head office's
    weights (a weights file's JSON, as the upload redirects with it): a read."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    try:
        chosen = _resolve_region(session, principal, region)
    except NoMarketData:
        return _no_data(request, session, principal)
    except UnknownRegion:
        return _bad_region(request, session, principal)
    settings = parse_settings(blend, draws, seed, min_rating, kind or [], weights)
    context = _ranking_context(request, session, principal, chosen, settings)
    context["weights_error"] = settings.errors.get("weights")
    status = 400 if settings.errors else 200
    return _page(request, session, principal, "strategy.html", "ranking", context, status)


@router.post("/strategy/weights", response_class=HTMLResponse)
def upload_weights(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    _: FormChecked,
    weights: Annotated[UploadFile | None, File()] = None,
    region: Annotated[str, Form(max_length=20)] = "",
    blend: Annotated[str, Form(max_length=20)] = "",
    draws: Annotated[str, Form(max_length=20)] = "",
    seed: Annotated[str, Form(max_length=20)] = "",
    min_rating: Annotated[str, Form(max_length=10)] = "",
    kind: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Check head office's weights file (AHP pairwise comparisons or direct weights) and
    open the ranking with them (303: a page of its own, to reload, link or print), or the
    page with the precise refusal (422). Nothing is written. The form's fields are
    parameters, so FastAPI reads the body and closes its files on every path."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    text = ""
    if weights is not None and (weights.filename or weights.size):
        text = weights.file.read(MAX_WEIGHTS_BYTES + 1).decode("utf-8", errors="replace")
    values = {"region": region, "blend": blend, "draws": draws, "seed": seed}
    kinds = [k[:40] for k in (kind or [])][:40]
    try:
        chosen = _resolve_region(session, principal, values["region"])
    except NoMarketData:
        return _no_data(request, session, principal)
    except UnknownRegion:
        return _bad_region(request, session, principal)
    settings = parse_settings(
        values["blend"], values["draws"], values["seed"], min_rating, kinds, ""
    )
    gettext = _gettext(request)
    error: str | None = None
    if not text.strip():
        error = gettext(NO_WEIGHTS_FILE)
    elif len(text) > MAX_WEIGHTS_BYTES or len(compact(text)) > MAX_WEIGHTS_QUERY:
        error = gettext(WEIGHTS_TOO_LARGE)
    else:
        try:
            ranking_model.parse_weights(text)
        except ranking_model.WeightsError as exc:
            error = str(exc)
    if error is None:  # the ranking with them is a page of its own (reload, link, PDF)
        query = {"region": chosen.key, **settings.query(), "weights": compact(text)}
        return RedirectResponse("/strategy?" + _query(query), status_code=303)
    context = _ranking_context(request, session, principal, chosen, settings)
    context["weights_error"] = error
    return _page(request, session, principal, "strategy.html", "ranking", context, 422)


@router.get("/strategy/report.pdf")
def report_pdf(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    region: Annotated[str, Query(max_length=20)] = "",
    lang: Annotated[str, Query(max_length=10)] = "zh_CN",
    weights: Annotated[str, Query(max_length=MAX_WEIGHTS_QUERY)] = "",
    blend: Annotated[str, Query(max_length=20)] = "",
    draws: Annotated[str, Query(max_length=20)] = "",
    seed: Annotated[str, Query(max_length=20)] = "",
    min_rating: Annotated[str, Query(max_length=10)] = "",
    kind: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> Response:
    """The committee report of the region as a PDF (in Chinese, or English with
    ``lang=en``), ranked with the page's settings (blend, draws, seed, minimum core
    rating, restricted kinds) and head office's weights when the page carried them: the
    committee reads the ranking head office looked at."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    try:
        chosen = _resolve_region(session, principal, region)
    except NoMarketData:
        return _no_data(request, session, principal)
    except UnknownRegion:
        return _bad_region(request, session, principal)
    kinds = [k[:40] for k in (kind or [])][:40]
    settings = parse_settings(blend, draws, seed, min_rating, kinds, weights)
    if settings.errors:
        return _refused(request, session, principal, next(iter(settings.errors.values())), 400)
    pdf = strategy.report_pdf(
        session,
        principal,
        chosen,
        lang="en" if lang == "en" else "zh_CN",
        weights=settings.parsed,
        blend=settings.blend,
        gates=settings.gates(),
        draws=settings.draws,
        seed=settings.seed,
    )
    name = f"chain-strategy-{chosen.key}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------- chain page


@dataclass(frozen=True)
class SegmentColumn:
    stage: str
    label: str
    segments: list[Any]


def graph_option(
    cmap: ChainMap, gettext: Callable[[str], str], limit: int = MAX_NODES
) -> tuple[dict[str, Any], int]:
    """The chain's members drawn with :func:`chain_map.option` (cores at the centre,
    suppliers' tiers to the left, buyers to the right; customers coloured), at most
    ``limit`` of them (cores first, then by tier), and the links styled by freshness:
    fresh solid, ageing dashed, stale dotted and faint. Returns the option and how many
    members were left off."""
    shown = list(cmap.firms[:limit])
    nodes = [
        chain_map.MapNode(
            enterprise_id=f.uscc,
            name=f.name,
            side=f.side,
            tier=f.tier,
            customer=f.customer,
            open_alerts=0,
            exposure_minor=0,
            url=f"/firms/{f.enterprise_id}" if f.enterprise_id else "",
        )
        for f in shown
    ]
    ids = {f.uscc for f in shown}
    links = [lk for lk in cmap.links if lk.seller in ids and lk.buyer in ids]
    option = chain_map.option(nodes, [(lk.seller, lk.buyer) for lk in links], gettext)
    style = {
        "fresh": {"type": "solid", "opacity": 0.7, "width": 1.5},
        "ageing": {"type": "dashed", "opacity": 0.55, "width": 1},
        "stale": {"type": "dotted", "opacity": 0.35, "width": 1},
    }
    series = option["series"][0]
    series["links"] = [
        {"source": lk.seller, "target": lk.buyer, "lineStyle": style.get(lk.freshness, {})}
        for lk in links
    ]
    series["name"] = gettext("Chain members")
    if len(nodes) <= 40:  # a small chain fills its area (chain_map zooms out for crowds)
        series["zoom"] = 1.1
    series["categories"] = series["categories"][:2]  # no alerts on a market map
    option["legend"][0]["data"] = option["legend"][0]["data"][:2]
    return option, len(cmap.firms) - len(shown)


def _columns(cmap: ChainMap) -> list[SegmentColumn]:
    return [
        SegmentColumn(stage, STAGE_LABELS[stage], [s for s in cmap.segments if s.stage == stage])
        for stage in STAGES
    ]


@dataclass(frozen=True)
class InputRow:
    key: str
    label: str
    definition: str
    value: str
    basis: str
    inputs: list[tuple[str, str]]
    note: str | None


def _input_rows(m: ChainMeasures | None, unit: str, english: bool) -> list[InputRow]:
    if m is None:
        return []
    keys = [c.key for c in CRITERIA] + list(INFORMATIONAL)
    keys += sorted(k for k in m.measures if k not in keys)
    rows = []
    for key in keys:
        measure = m.measures.get(key)
        if measure is None:
            continue
        rows.append(
            InputRow(
                key=key,
                label=measure_label(key, english),
                definition=DEFINITIONS.get(key, ""),
                value=format_measure(measure, unit),
                basis=measure.basis,
                inputs=[_input_pair(k, v, unit) for k, v in measure.inputs.items()],
                note=measure.note,
            )
        )
    return rows


@dataclass(frozen=True)
class LeadRow:
    name: str
    uscc: str
    url: str
    tier: str
    cores: str
    trade: str
    on_time: str
    financeable: str
    limit: str
    score: str
    reasons: tuple[str, ...]


def _region_or_default(session: Session, principal: Principal, region: str) -> StrategyRegion:
    return _resolve_region(session, principal, region)


@router.get("/strategy/chains/{chain_key}", response_class=HTMLResponse)
def chain_page(
    chain_key: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    region: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One chain of the region: its map, measures with their inputs, and its leads."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    try:
        chosen = _region_or_default(session, principal, region)
    except NoMarketData:
        return _no_data(request, session, principal)
    except UnknownRegion:
        return _bad_region(request, session, principal)
    view = strategy.view(session, principal, chosen)
    if view.chain(chain_key) is None:
        return _refused(request, session, principal, NO_CHAIN, 404)
    gettext = _gettext(request)
    english = _english(request)
    unit = gettext(UNIT)
    cmap = maps.chain_map(view, chain_key)
    measures = next((m for m in measure_chains(view) if m.chain_key == chain_key), None)
    leads = strategy.leads(session, principal, chosen, chain_key, limit=MAX_LEADS)
    names = {f.uscc: f.name for f in cmap.firms}
    option, hidden = graph_option(cmap, gettext)
    lead_rows = [
        LeadRow(
            name=lead.name,
            uscc=lead.uscc,
            url=f"/firms/{lead.enterprise_id}" if lead.enterprise_id else "",
            tier=f"{gettext(SIDE_LABELS.get(lead.side, lead.side))} {lead.tier}",
            cores="、".join(names.get(c, c) for c in lead.linked_cores),
            trade=wan_text(lead.trade_volume_minor / 100, unit),
            on_time=pct(lead.on_time_share),
            financeable=wan_text(lead.financeable_minor / 100, unit),
            limit=wan_text(lead.indicative_limit_minor / 100, unit),
            score=_decimal(lead.score, "0.1"),
            reasons=lead_reasons(lead, names, "en" if english else "zh_CN"),
        )
        for lead in leads
    ]
    context = {
        "region": chosen,
        "region_label": chosen.label_en if english else chosen.label_zh,
        "cmap": cmap,
        "coverage_notes": [note_text(n, "en" if english else "zh_CN") for n in cmap.coverage.notes],
        "kind_label": _kind_label(view.kinds, cmap.kind, english),
        "columns": _columns(cmap),
        "english": english,
        "freshness": FRESHNESS,
        "fresh_share": pct(cmap.fresh_share),
        "coverage_share": pct(cmap.coverage.share),
        "missing": [
            INPUT_LABELS.get(m, m)
            for m in dict.fromkeys((*cmap.coverage.inputs_missing, *view.dataset.missing))
            if m not in NOT_LACKING
        ],
        "graph_option": option,
        "hidden": hidden,
        "shown_firms": cmap.firms[:MAX_NODES],
        "side_labels": SIDE_LABELS,
        "stage_labels": STAGE_LABELS,
        "provenance": PROVENANCE,
        "links_by_freshness": {
            key: sum(1 for lk in cmap.links if lk.freshness == key)
            for key in ("fresh", "ageing", "stale")
        },
        "input_rows": _input_rows(measures, unit, english),
        "basis_labels": BASIS,
        "leads": lead_rows,
        "csv_url": f"/strategy/chains/{chain_key}/leads.csv?" + _query({"region": chosen.key}),
        "back_url": "/strategy?" + _query({"region": chosen.key}),
    }
    return _page(request, session, principal, "strategy_chain.html", "ranking", context)


@router.get("/strategy/chains/{chain_key}/leads.csv")
def leads_csv(
    chain_key: str,
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    region: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The chain's leads as CSV (UTF-8 with a byte-order mark, so spreadsheets read the
    Chinese names), for the branches."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    try:
        chosen = _region_or_default(session, principal, region)
    except NoMarketData:
        return _no_data(request, session, principal)
    except UnknownRegion:
        return _bad_region(request, session, principal)
    try:
        leads = strategy.leads(session, principal, chosen, chain_key, limit=1000)
    except NotFound:
        return _refused(request, session, principal, NO_CHAIN, 404)
    text = to_csv(leads)
    body = text if text.startswith("\ufeff") else "\ufeff" + text
    filename = f"leads-{_safe(chain_key)}.csv"
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------------------- data page


@dataclass
class ImportForm:
    label: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (file, where, why)


def _row_errors(exc: ValidationFailed) -> list[tuple[str, str, str]]:
    """Each refused row as (file, row and column, reason)."""
    out = []
    for e in exc.errors:
        name, _, where = e.field.partition(" ")
        if e.row is not None:
            where = f"row {e.row} {where}".strip()
        out.append((name, where, e.reason))
    return out


def _data_context(session: Session, principal: Principal, imported: str | None) -> dict[str, Any]:
    infos = strategy.datasets(session, principal)
    done = next((i for i in infos if imported and str(getattr(i, "id", "")) == imported), None)
    return {
        "datasets": infos,
        "imported": done,
        "input_labels": INPUT_LABELS,
        "max_mb": MAX_FILE_BYTES // (1024 * 1024),
        "form": ImportForm(),
    }


@router.get("/strategy/data", response_class=HTMLResponse)
def data_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    imported: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The bank's market datasets; the upload form for those who may import."""
    if not may_read(principal):
        return _refused(request, session, principal, NOT_STRATEGY, 403)
    context = _data_context(session, principal, imported)
    return _page(request, session, principal, "strategy_data.html", "data", context)


def _safe(text: str) -> str:
    """A name safe in a Content-Disposition filename (keys imported before keys were
    restricted may hold anything)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "chain"


def _read_files(uploads: Sequence[UploadFile]) -> tuple[dict[str, bytes], str | None]:
    files: dict[str, bytes] = {}
    for upload in uploads:
        if not upload.filename and not upload.size:
            continue  # an empty file input sends one nameless, empty part
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name.lower().endswith(".csv"):
            return {}, NOT_CSV
        if name in files:
            return {}, TWICE
        data = upload.file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return {}, TOO_LARGE
        files[name] = data
    return files, (None if files else NO_FILE)


@router.post("/strategy/data", response_class=HTMLResponse)
def import_data(
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    files: Annotated[list[UploadFile] | None, File()] = None,
    label: Annotated[str, Form()] = "",
) -> Response:
    """Import the CSV files as one dataset: all or nothing. A refused file lists every bad
    row with its file, row and column (422); nothing is written. The form's fields are
    parameters, so FastAPI reads the body and closes its files on every path; a plain
    ``def``, so parsing a large import runs in the thread pool, not on the event loop."""
    factory = request.app.state.session_factory
    if not may_import(principal):
        with transaction(factory, write=False) as session:
            reason = NOT_IMPORT if may_read(principal) else NOT_STRATEGY
            return _refused(request, session, principal, reason, 403)
    label = label.strip()
    read, problem = _read_files(files or [])
    state = ImportForm(label=label)
    status = 422
    if not label or len(label) > 200:
        state.errors["label"] = NO_LABEL
    if problem is not None:
        state.errors["files"] = problem
        status = 413 if problem == TOO_LARGE else 422
    if not state.errors:
        try:
            with transaction(factory) as session:
                info = strategy.import_market(session, principal, read, label=label)
        except ValidationFailed as exc:
            state.errors["files"] = N_("The files were refused; nothing was imported.")
            state.rows = _row_errors(exc)
        except ChainfinError as exc:
            status = exc.status if 400 <= exc.status < 500 else 422
            state.errors["files"] = exc.message
        else:
            return RedirectResponse(
                "/strategy/data?" + _query({"imported": getattr(info, "id", "")}), 303
            )
    with transaction(factory, write=False) as session:
        context = _data_context(session, principal, None) | {"form": state}
        return _page(request, session, principal, "strategy_data.html", "data", context, status)
