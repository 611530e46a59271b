"""The risk officer's pages of the bank workbench (/risk): the portfolio dashboard (exposure
by core enterprise, chain, industry and region with their concentration; limits sanctioned,
used and available; ageing buckets; the five-category distribution; what falls due in the
twelve weeks ahead), the sector monitor over time with its warnings, contagion scenarios on
a core enterprise of the bank's chains (distress by tier, expected loss, the chain map with
the distress on it) and the model registry (champion and challengers, stability over time,
promoting a challenger).

Every figure comes from the services with the signed-in person's principal: the pages only
arrange them. Tables show exact amounts; charts show the same figures in 万元 for their
shape. Only the bank's risk officers open these pages (a person without the role reads a
refusal, as does an enterprise's user)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.api.deps import SessionDep
from chainfin.domain import clock, concentration
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.errors import ChainfinError, ValidationFailed
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.money import Money
from chainfin.domain.region import UnknownRegion, lookup
from chainfin.resources.risk import RiskModelOut
from chainfin.services import chains, contagion, identity, models, portfolio, portfolio_quality
from chainfin.services import sectors as sector_rates
from chainfin.services.contagion_report import ContagionReport
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web import chain_map, charts
from chainfin.web.i18n import N_
from chainfin.web.render import FormChecked, PagePrincipal, language_of, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("dashboard", "/risk", N_("Portfolio")),
    ("sectors", "/risk/sectors", N_("Sector monitor")),
    ("contagion", "/risk/contagion", N_("Contagion scenarios")),
    ("models", "/risk/models", N_("Model registry")),
)
NOT_RISK = N_("These pages are for your bank's risk officers.")
DIMENSIONS = (
    ("core", N_("Exposure by core enterprise"), N_("Core enterprise")),
    ("chain", N_("Exposure by chain"), N_("Chain")),
    ("industry_section", N_("Exposure by industry"), N_("Industry")),
    ("region_province", N_("Exposure by region"), N_("Region")),
)
CONCENTRATION = {
    "unconcentrated": N_("unconcentrated"),
    "moderate": N_("moderately concentrated"),
    "high": N_("highly concentrated"),
}
BUCKETS = {
    "current": N_("Not past due"),
    "1-30": N_("1–30 days past due"),
    "31-60": N_("31–60 days past due"),
    "61-90": N_("61–90 days past due"),
    "over_90": N_("Over 90 days past due"),
}
CATEGORIES = {
    "normal": N_("Normal"),
    "special_mention": N_("Special mention"),
    "substandard": N_("Substandard"),
    "doubtful": N_("Doubtful"),
    "loss": N_("Loss"),
}
LINE_STATES = {"active": N_("Active"), "frozen": N_("Frozen")}
SECTOR_BY = {
    "industry_section": N_("By industry"),
    "region_province": N_("By province"),
}
KINDS = {"default": N_("Default"), "delay": N_("Pays late")}
MODEL_STATES = {
    "champion": N_("Champion"),
    "challenger": N_("Challenger"),
    "retired": N_("Retired"),
}
STABILITY = {"stable": N_("Stable"), "watch": N_("Watch"), "shift": N_("Shift")}
REFUSALS = {
    "model_already_champion": N_("This version is the champion already."),
    "model_not_found": N_("No such model is in your bank's registry."),
    "concurrent_change": N_("This changed while you worked; reload the page and try again."),
    "scope_missing": N_("Your role may not do this."),
    "core_has_no_trade": N_(
        "This core enterprise has no invoiced trade in the last year: there is no network to "
        "run the scenario on."
    ),
}
CHOOSE_CORE = N_("Choose a core enterprise of one of your bank's chains.")
CHOOSE_KIND = N_("Choose default or pays late.")
DAYS_RANGE = N_("Enter a whole number of days from 1 to 3650.")
REFUSED = N_("This was refused; reload the page and try again.")
UNIT = N_("10k yuan")  # the charts' axis: 万元


# ---------------------------------------------------------------------------- helpers


def _is_risk_officer(principal: Principal) -> bool:
    return principal.bank_id is not None and StaffRole.RISK_OFFICER in principal.roles


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    page: str,
    section: str,
    context: Callable[[], dict[str, Any]],
    status_code: int = 200,
) -> Response:
    """A page of the risk desk, or the refusal a person without the role reads (before
    anything of the page is computed)."""
    me = whoami(session, principal)
    if not _is_risk_officer(principal):
        return render(request, "error.html", {"reason": NOT_RISK}, me=me, status_code=403)
    values = {
        "nav": "risk",
        "sections": SECTIONS,
        "section": section,
        "today": clock.today(),
        **context(),
    }
    return render(request, page, values, me=me, status_code=status_code)


def _gettext(request: Request) -> Callable[[str], str]:
    return language_of(request)[0].gettext


def major(money: Money) -> Decimal:
    """An amount for the ``money`` filter (major units)."""
    return money.to_decimal()


def pct(value: Fraction | float, places: str = "0.1") -> str:
    """A share as a percentage for a table: ``37.5%``."""
    number = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(repr(value))
    )
    return f"{(number * 100).quantize(Decimal(places), ROUND_HALF_UP)}%"


def _unit(request: Request) -> str:
    return _gettext(request)(UNIT)


def _roomy(option: dict[str, Any]) -> dict[str, Any]:
    """A line chart with room on the right for its last date's label."""
    option["grid"]["right"] = 44
    return option


def _industry_label(code: str) -> str:
    try:
        return f"{code} {parse_industry_code(code).name_zh}"
    except UnknownIndustry:
        return code


def _region_label(code: str) -> str:
    try:
        return lookup(code).name
    except UnknownRegion:
        return code


# ---------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class ExposureRowView:
    label: str
    exposure_minor: int
    exposure: Decimal
    limit: Decimal | None
    items: int
    share: str


@dataclass(frozen=True)
class ExposureView:
    key: str
    title: str
    column: str
    total: Decimal
    hhi_points: int
    level: str
    top5: str
    rows: list[ExposureRowView]
    option: dict[str, Any]


def _exposure_label(by: str, key: str, label: str, gettext: Callable[[str], str]) -> str:
    if by == "chain" and key == "-":
        return gettext("Not in any of your chains")
    if by.startswith("industry"):
        return f"{key} {label}" if label != "unknown industry" else gettext("Unknown industry")
    if by.startswith("region"):
        return _region_label(key)
    return label


def _exposure(request: Request, session: Session, principal: Principal) -> list[ExposureView]:
    gettext = _gettext(request)
    views = []
    for by, title, column in DIMENSIONS:
        book = portfolio.exposure(session, principal, by=by)
        rows = [
            ExposureRowView(
                label=_exposure_label(by, r.key, r.label, gettext),
                exposure_minor=r.exposure.amount_minor,
                exposure=major(r.exposure),
                limit=major(r.limit) if r.limit is not None else None,
                items=r.items,
                share=pct(r.share),
            )
            for r in book.rows
        ]
        shown = rows[:10]
        if by == "industry_section":
            option = charts.pie([(r.label, r.exposure_minor) for r in shown], money=True)
        else:
            option = charts.bar(
                [r.label for r in shown],
                [(gettext("Exposure"), [r.exposure_minor for r in shown])],
                money=True,
                horizontal=True,
                unit_label=_unit(request),
            )
        views.append(
            ExposureView(
                key=by,
                title=title,
                column=column,
                total=major(book.total),
                hhi_points=round(book.hhi * 10_000),
                level=CONCENTRATION[concentration.level(book.hhi)],
                top5=pct(book.top5_share),
                rows=rows,
                option=option,
            )
        )
    return views


def _minor(money: Money) -> int:
    return money.amount_minor


def _dashboard(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    gettext = _gettext(request)
    today = clock.today()
    unit = _unit(request)
    limits = portfolio_quality.limits(session, principal)
    ageing = portfolio_quality.ageing(session, principal, as_of=today)
    classes = portfolio_quality.categories(session, principal)
    weeks = portfolio_quality.maturities(session, principal, as_of=today, weeks=12)
    exposure = _exposure(request, session, principal)
    week_labels = [f"{w.starts_on:%m-%d}" for w in weeks]
    return {
        "exposure": exposure,
        "total_exposure": exposure[0].total,
        "limits": limits,
        "ageing": ageing,
        "ageing_total": sum(c.loans for c in ageing),
        "ageing_amount": major(sum((c.outstanding for c in ageing), Money.zero())),
        "ageing_option": charts.bar(
            [gettext(BUCKETS[c.key]) for c in ageing],
            [(gettext("Outstanding principal"), [_minor(c.outstanding) for c in ageing])],
            money=True,
            unit_label=unit,
        ),
        "categories": classes,
        "categories_amount": major(sum((c.outstanding for c in classes), Money.zero())),
        "categories_option": charts.pie(
            [(gettext(CATEGORIES[c.key]), _minor(c.outstanding)) for c in classes], money=True
        ),
        "weeks": weeks,
        "weeks_option": charts.bar(
            week_labels,
            [
                (gettext("Principal"), [_minor(w.principal) for w in weeks]),
                (gettext("Interest"), [_minor(w.interest) for w in weeks]),
                (gettext("Held credentials"), [_minor(w.credentials) for w in weeks]),
            ],
            money=True,
            stacked=True,
            unit_label=unit,
        ),
        "limits_option": charts.bar(
            [f"{line.obligor} · {line.expires_on:%Y-%m-%d}" for line in limits.lines[:10]],
            [
                (gettext("Used"), [_minor(line.used) for line in limits.lines[:10]]),
                (gettext("Available"), [_minor(line.available) for line in limits.lines[:10]]),
            ],
            money=True,
            horizontal=True,
            stacked=True,
            unit_label=unit,
        ),
        "buckets": BUCKETS,
        "category_labels": CATEGORIES,
        "line_states": LINE_STATES,
        "major": major,
    }


@router.get("/risk", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _page(
        request,
        session,
        principal,
        "bank_risk.html",
        "dashboard",
        lambda: _dashboard(request, session, principal),
    )


# ---------------------------------------------------------------------------- sectors


@dataclass(frozen=True)
class SectorView:
    key: str
    label: str
    population: int
    alert_rate: str
    alert_threshold: str
    delinquency_rate: str
    delinquency_threshold: str
    warned: bool
    reasons: list[str]
    alert_series: list[float]
    delinquency_series: list[float]
    alert_mark: float | None


def _threshold(history: list[Fraction]) -> float | None:
    """Where :func:`concentration.breakout` starts warning: the trailing mean plus two
    standard deviations (None when the history is too short to say)."""
    if len(history) < 3:
        return None
    mean = sum(history, Fraction(0)) / len(history)
    variance = sum(((x - mean) ** 2 for x in history), Fraction(0)) / len(history)
    return float(mean) + 2 * math.sqrt(float(variance))


def _pct_number(value: Fraction) -> float:
    return float(
        (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
    )


def _sectors(
    request: Request, session: Session, principal: Principal, by: str, chosen: str
) -> dict[str, Any]:
    gettext = _gettext(request)
    result = sector_rates.rates(session, principal, by=by, as_of=clock.today())
    last = len(result.months) - 1
    month = result.months[last]
    views = []
    for key in sorted(result.population):
        alerts = [result.rate(key, i) for i in range(last + 1)]
        late = [result.delinquency(key, i) for i in range(last + 1)]
        alert_at = _threshold(alerts[:-1])
        late_at = _threshold(late[:-1])
        reasons = []
        if key in result.warnings:
            if concentration.breakout(alerts[:-1], alerts[-1]):
                reasons.append(
                    gettext(
                        "%(rate)s of borrowers had an alert in the latest month, above the "
                        "sector's own history (warning from %(threshold)s)"
                    )
                    % {"rate": pct(alerts[-1]), "threshold": pct(alert_at or 0.0)}
                )
            if concentration.breakout(late[:-1], late[-1]):
                reasons.append(
                    gettext(
                        "%(rate)s of loans were past due at the latest month's end, above the "
                        "sector's own history (warning from %(threshold)s)"
                    )
                    % {"rate": pct(late[-1]), "threshold": pct(late_at or 0.0)}
                )
        label = _industry_label(key) if by == "industry_section" else _region_label(key)
        views.append(
            SectorView(
                key=key,
                label=label,
                population=result.population[key],
                alert_rate=pct(alerts[-1]),
                alert_threshold=pct(alert_at) if alert_at is not None else "",
                delinquency_rate=pct(late[-1]),
                delinquency_threshold=pct(late_at) if late_at is not None else "",
                warned=key in result.warnings,
                reasons=reasons,
                alert_series=[_pct_number(r) for r in alerts],
                delinquency_series=[_pct_number(r) for r in late],
                alert_mark=round(alert_at * 100, 1) if alert_at is not None else None,
            )
        )
    months = [f"{m:%Y-%m}" for m in result.months]
    focus = next((v for v in views if v.key == chosen), None)
    if focus is None:
        focus = next((v for v in views if v.warned), views[0] if views else None)
    all_option = _roomy(
        charts.line(months, [(v.label, v.alert_series) for v in views[:8]], unit="%")
    )
    focus_option = (
        _roomy(
            charts.line(
                months,
                [
                    (gettext("Alert rate"), focus.alert_series),
                    (gettext("Delinquency rate"), focus.delinquency_series),
                ],
                unit="%",
                mark_at=focus.alert_mark,
            )
        )
        if focus is not None
        else None
    )
    return {
        "by": by,
        "by_choices": SECTOR_BY,
        "sectors": views,
        "warned": [v for v in views if v.warned],
        "months": months,
        "month": month,
        "focus": focus,
        "all_option": all_option,
        "focus_option": focus_option,
    }


@router.get("/risk/sectors", response_class=HTMLResponse)
def sector_monitor(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    by: Annotated[str, Query(max_length=40)] = "industry_section",
    sector: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """An unknown ``by`` reads as the industry view (the choice is a link, not typed)."""
    by = by if by in SECTOR_BY else "industry_section"
    return _page(
        request,
        session,
        principal,
        "bank_risk_sectors.html",
        "sectors",
        lambda: _sectors(request, session, principal, by, sector),
    )


# ---------------------------------------------------------------------------- contagion


@dataclass(frozen=True)
class CoreChoice:
    core_id: str
    chain_id: str
    label: str


@dataclass
class ScenarioForm:
    core: str = ""
    kind: str = "default"
    days: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TierView:
    key: str
    label: str
    firms: int
    mean: str
    worst: str
    mean_value: float
    expected_loss: Decimal


def _cores(session: Session, principal: Principal) -> list[CoreChoice]:
    """The core enterprises of the chains the bank defined, each with its (first) chain."""
    page = chains.list_chains(session, principal, limit=MAX_LIMIT)
    ids = {c for summary in page.items for c in summary.core_ids}
    names = identity.party_names(session, principal, ids)
    seen: dict[str, CoreChoice] = {}
    for summary in page.items:
        for core_id in summary.core_ids:
            if core_id not in seen and core_id in names:
                seen[core_id] = CoreChoice(
                    core_id, summary.chain.id, f"{names[core_id]} · {summary.chain.name}"
                )
    return sorted(seen.values(), key=lambda c: c.label)


def _tier_label(key: str, gettext: Callable[[str], str]) -> str:
    side, _, level = key.partition(" ")
    if key == "core":
        return gettext("Core enterprise")
    if side == "upstream" and level.isascii() and level.isdecimal():
        return gettext("Tier %(n)s suppliers") % {"n": level}
    if side == "downstream" and level.isascii() and level.isdecimal():
        return gettext("Tier %(n)s dealers") % {"n": level}
    return gettext("Outside your chains")


def _tier_order(key: str) -> tuple[int, int]:
    side, _, level = key.partition(" ")
    rank = {"core": 0, "upstream": 1, "downstream": 2}.get(side, 3)
    return rank, int(level) if level.isascii() and level.isdecimal() else 0


def _tiers(report: ContagionReport, gettext: Callable[[str], str]) -> list[TierView]:
    firms: dict[str, list[float]] = defaultdict(list)
    for d in report.top:
        firms[d.tier or "outside"].append(d.h)
    keys = sorted(set(firms) | set(report.bank.by_tier), key=_tier_order)
    out = []
    for key in keys:
        hs = firms.get(key, [])
        loss = report.bank.by_tier.get(key)
        mean = sum(hs) / len(hs) if hs else 0.0
        out.append(
            TierView(
                key=key,
                label=_tier_label(key, gettext),
                firms=len(hs),
                mean=pct(mean),
                worst=pct(max(hs, default=0.0)),
                mean_value=round(mean * 100, 1),
                expected_loss=major(loss) if loss is not None else Decimal(0),
            )
        )
    return out


def _check(form: ScenarioForm, cores: list[CoreChoice]) -> tuple[CoreChoice | None, int]:
    """The core chosen and the delay in days, or the form's errors."""
    choice = next((c for c in cores if c.core_id == form.core), None)
    if choice is None:
        form.errors["core"] = CHOOSE_CORE
    if form.kind not in KINDS:
        form.errors["kind"] = CHOOSE_KIND
    days = 0
    if form.kind == "delay":
        text = form.days.strip()
        if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= 3650:
            form.errors["days"] = DAYS_RANGE
        else:
            days = int(text)
    return choice, days


def _scenario(
    request: Request, session: Session, principal: Principal, form: ScenarioForm, run: bool
) -> tuple[dict[str, Any], int]:
    gettext = _gettext(request)
    cores = _cores(session, principal)
    context: dict[str, Any] = {"form": form, "cores": cores, "kinds": KINDS, "report": None}
    if not run:
        return context, 200
    choice, days = _check(form, cores)
    if choice is None or form.errors:
        return context, 422
    try:
        report = contagion.run(
            session,
            principal,
            core=choice.core_id,
            kind=form.kind,
            days=days,
            as_of=clock.today(),
            top=1000,
        )
    except ValidationFailed as exc:
        form.errors["core"] = REFUSALS.get(exc.code, exc.message)
        return context, 422
    tiers = _tiers(report, gettext)
    distress = {d.id: d.h for d in report.top}
    map_view = None
    map_missing = False
    try:
        map_view = chain_map.build(
            session, principal, choice.chain_id, distress=distress, gettext=gettext
        )
    except NotImplementedError:
        map_missing = True
    context |= {
        "report": report,
        "choice": choice,
        "tiers": tiers,
        "top": report.top[:20],
        "tier_label": lambda key: _tier_label(key or "", gettext),
        "debtrank": pct(report.debtrank),
        "shock": pct(report.scenario.shock),
        "expected_loss": major(report.bank.expected_loss),
        "bank_exposure": major(report.bank.exposure),
        "lgd": pct(float(report.bank.lgd), "1"),
        "tiers_option": charts.bar(
            [t.label for t in tiers],
            [(gettext("Mean distress"), [t.mean_value for t in tiers])],
            unit="%",
        ),
        "loss_option": charts.bar(
            [t.label for t in tiers],
            [(gettext("Expected loss"), [int(t.expected_loss * 100) for t in tiers])],
            money=True,
            unit_label=_unit(request),
        ),
        "map": map_view,
        "map_missing": map_missing,
    }
    return context, 200


@router.get("/risk/contagion", response_class=HTMLResponse)
def contagion_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    core: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str, Query(max_length=20)] = "default",
    days: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Without ``core`` the form alone; with it, the scenario run (a read: nothing is
    written), or the form with each field's refusal (422)."""
    form = ScenarioForm(core or "", kind, days)
    status = 200

    def context() -> dict[str, Any]:
        nonlocal status
        values, status = _scenario(request, session, principal, form, core is not None)
        return values

    refused_or_page = _page(
        request, session, principal, "bank_risk_contagion.html", "contagion", context
    )
    if refused_or_page.status_code == 200 and status != 200:
        refused_or_page.status_code = status
    return refused_or_page


# ---------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelGroup:
    name: str
    champion: RiskModelOut | None
    versions: list[RiskModelOut]
    checks: list[dict[str, Any]]
    latest: dict[str, dict[str, Any]]
    option: dict[str, Any] | None


def _models(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    gettext = _gettext(request)
    rows = models.models(session, principal, limit=MAX_LIMIT).items
    by_name: dict[str, list[RiskModelOut]] = defaultdict(list)
    for row in rows:
        by_name[row.name].append(RiskModelOut.build(row))
    groups = []
    for name, versions in sorted(by_name.items()):
        versions.sort(key=lambda v: -v.version)
        checks: list[dict[str, Any]] = []
        latest: dict[str, dict[str, Any]] = {}
        for v in versions:
            history = models.history(session, principal, v.id, limit=MAX_LIMIT).items
            for check in history:
                entry = {
                    "version": v.version,
                    "model_id": v.id,
                    "as_of": check.as_of,
                    "count": check.count,
                    "psi": f"{Decimal(check.psi_e4) / 10_000:.4f}",
                    "psi_value": check.psi_e4 / 10_000,
                    "status": check.status,
                }
                checks.append(entry)
                latest[v.id] = entry
        checks.sort(key=lambda c: (c["as_of"], c["version"]))
        days = sorted({c["as_of"] for c in checks})
        series = []
        for v in versions:
            points = {c["as_of"]: c["psi_value"] for c in checks if c["model_id"] == v.id}
            if points:
                series.append(
                    (
                        gettext("Version %(n)s") % {"n": v.version},
                        [points.get(d) for d in days],
                    )
                )
        option = None
        if series:
            option = _roomy(
                charts.line(
                    [f"{d:%Y-%m-%d}" for d in days], series, unit="PSI", mark_at=models.SHIFT_ABOVE
                )
            )
            # the shift level stays in sight, however stable the model
            top = max((c["psi_value"] for c in checks), default=0.0)
            option["yAxis"]["max"] = max(0.3, round(top * 1.2, 2))
        champion = next((v for v in versions if v.status == "champion"), None)
        groups.append(ModelGroup(name, champion, versions, checks, latest, option))
    return {
        "groups": groups,
        "model_states": MODEL_STATES,
        "stability": STABILITY,
        "may_promote": _is_risk_officer(principal),
    }


def _promoted_label(session: Session, principal: Principal, model_id: str | None) -> str | None:
    """The version named by ``?promoted=`` (an id the promotion redirected with), if it is
    one of the bank's and the champion now: the notice never repeats text from the address."""
    if not model_id:
        return None
    try:
        row = models.get(session, principal, model_id)
    except ChainfinError:
        return None
    return f"{row.name} v{row.version}" if row.status == "champion" else None


def _models_page(
    request: Request,
    principal: Principal,
    status_code: int = 200,
    error: str | None = None,
    promoted: str | None = None,
) -> Response:
    with transaction(request.app.state.session_factory, write=False) as session:
        return _page(
            request,
            session,
            principal,
            "bank_risk_models.html",
            "models",
            lambda: {
                **_models(request, session, principal),
                "error": error,
                "promoted": _promoted_label(session, principal, promoted),
            },
            status_code=status_code,
        )


@router.get("/risk/models", response_class=HTMLResponse)
def model_registry(
    request: Request,
    principal: PagePrincipal,
    promoted: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _models_page(request, principal, promoted=promoted)


@router.post("/risk/models/{model_id}/promote", response_class=HTMLResponse)
def promote(model_id: str, request: Request, principal: PagePrincipal, _: FormChecked) -> Response:
    """The version becomes its name's champion (the previous one is retired). A version of
    another bank is not found; one that is the champion already is a conflict."""
    if not _is_risk_officer(principal):
        with transaction(request.app.state.session_factory, write=False) as session:
            me = whoami(session, principal)
        return render(request, "error.html", {"reason": NOT_RISK}, me=me, status_code=403)
    try:
        with transaction(request.app.state.session_factory) as session:
            row = models.promote_as_risk_officer(session, principal, model_id)
    except ChainfinError as exc:
        status = exc.status if exc.status in (403, 404) else 409
        if status == 404:
            reason = REFUSALS["model_not_found"]
        elif status == 403:
            reason = REFUSALS["scope_missing"]
        else:
            reason = REFUSALS.get(exc.code, REFUSED)
        return _models_page(request, principal, status_code=status, error=reason)
    return RedirectResponse(f"/risk/models?promoted={row.id}", status_code=303)
