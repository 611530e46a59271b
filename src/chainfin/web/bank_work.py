"""The relationship manager's work in the bank workbench: the due-diligence tasks the rules
opened on referred applications (/tasks), each task's page with the site-visit form a
phone can fill on the customer's premises (GPS from the browser, photos kept as
attachments whose SHA-256 digests go on the log with the completion) or the financial
statements form, and what a completed task recorded; and the bank's alerts (/alerts),
acknowledged and resolved with a note in place.

Every read and write goes through the services with the signed-in person
(``services/lending/tasks.py``, ``services/alerts.py``): another bank's task or alert is
not found. Tasks are for relationship managers; alerts for relationship managers and risk
officers (acting on one needs ``loans:write``, which risk officers do not hold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, DueDiligenceTask, LoanApplication
from chainfin.api.deps import SessionDep
from chainfin.domain import clock, financials
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import alerts, identity
from chainfin.services.lending import applications, attachments, tasks
from chainfin.services.pagination import MAX_LIMIT
from chainfin.web.i18n import N_, Language
from chainfin.web.render import FormChecked, PagePrincipal, language_of, render, whoami

router = APIRouter(include_in_schema=False)

TASK_ROLES = frozenset({"relationship_manager"})
ALERT_ROLES = frozenset({"relationship_manager", "risk_officer"})
NOT_TASKS = N_("Due-diligence tasks are for the bank's relationship managers.")
NOT_ALERTS = N_("Alerts are for the bank's relationship managers and risk officers.")
TASK_NOT_FOUND = N_("No such due-diligence task at your bank.")
ALERT_NOT_FOUND = N_("No such alert at your bank.")

TASK_KINDS = {"site_visit": N_("Site visit"), "financial_analysis": N_("Financial analysis")}
TASK_STATES = {"open": N_("To do"), "completed": N_("Done"), "cancelled": N_("Cancelled")}
TASK_FILTERS = {"": N_("All, open first"), "open": N_("To do"), "done": N_("Done")}
TASK_REASONS = {
    "site_visit_threshold": N_("The amount is above the product's site-visit threshold"),
    "new_customer": N_("A new customer: the product asks for a site visit"),
    "risk_flags": N_("The applicant has open risk findings"),
    "financial_analysis_threshold": N_(
        "The amount is above the product's financial-analysis threshold"
    ),
}
ALERT_STATES = {
    "open": N_("New, not taken on"),
    "acknowledged": N_("Acknowledged"),
    "resolved": N_("Resolved"),
}
SEVERITIES = {
    "critical": N_("Critical"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
    "info": N_("Information"),
}
ALERT_KINDS = {
    "credential_overdue": N_("A credential is overdue"),
    "sector_warning": N_("Sector warning"),
    "model_drift": N_("Scoring model drift"),
    "temperature_out_of_range": N_("Warehouse temperature out of range"),
    "device_silent": N_("A monitoring device is silent"),
    "collateral_shortfall": N_("Collateral below the required cover"),
    "ew_revenue_drop": N_("Early warning: sales falling"),
    "ew_overdue": N_("Early warning: payments overdue"),
    "ew_concentration": N_("Early warning: buyer concentration"),
    "ew_core_paying_later": N_("Early warning: the core enterprise pays later"),
    "ew_delivery_delays": N_("Early warning: deliveries delayed"),
    "customer_review": N_("Customer review"),
    "credential_due": N_("A credential falls due"),
    "loan_overdue": N_("A loan is overdue"),
    "loan_downgraded": N_("A loan was downgraded in the five-category classification"),
    "margin_call": N_("Margin call: the collateral's value fell"),
    "buyback_due": N_("The core enterprise's buy-back is due"),
}
OTHER_KIND = N_("Other alert")
SUBJECTS = {
    "enterprise": N_("the firm"),
    "loan": N_("a loan"),
    "credential": N_("a credential"),
    "device": N_("a monitoring device"),
    "risk_model": N_("a scoring model"),
    "industry": N_("an industry"),
    "region": N_("a region"),
}
REFUSALS = {
    "task_not_open": N_("This task is already done; reload the page to see what was recorded."),
    "task_kind_mismatch": N_("This form is not for this kind of task."),
    "note_required": N_("Say what was found and done: a note is required to resolve."),
    "illegal_transition": N_("This alert has moved on; reload the page."),
    "concurrent_change": N_("This changed while you worked; reload the page and try again."),
    "scope_missing": N_("Your role may not do this."),
    "statement_file_invalid": N_("The statements could not be read."),
}
REFUSED = N_("This was refused; reload the page and try again.")

# The site-visit form's fields, and what each service field's refusal means on it.
VISIT_FIELD_OF = {
    "premises_verified": "premises_verified",
    "production_running": "production_running",
    "inventory_on_hand": "inventory_on_hand",
    "findings": "findings",
    "gps": "latitude",
    "gps.lat": "latitude",
    "gps.lon": "longitude",
    "gps.accuracy": "accuracy",
    "visited_at": "visited_at",
    "staff_count_seen": "staff_count_seen",
    "photos": "photos",
    "attachments": "photos",
}
VISIT_REASONS = {
    "premises_verified": N_("Say whether the premises were verified."),
    "production_running": N_("Say whether production was running."),
    "inventory_on_hand": N_("Enter the stock's value in yuan, e.g. 250000.00."),
    "findings": N_("Say what the visit found."),
    "latitude": N_("Enter the latitude: a number from -90 to 90."),
    "longitude": N_("Enter the longitude: a number from -180 to 180."),
    "accuracy": N_("Enter the accuracy in metres (0 to 100000), or leave it empty."),
    "visited_at": N_("Enter when the visit took place (not in the future)."),
    "staff_count_seen": N_("Enter a whole number of people, or leave it empty."),
}
PHOTO_REASONS = {
    "empty": N_("Photo %(n)s (%(name)s) is empty."),
    "larger": N_("Photo %(n)s (%(name)s) is larger than %(mb)s MB."),
    "not a JPEG": N_("Photo %(n)s (%(name)s) is not a JPEG, PNG or HEIC image."),
}
TOO_MANY_PHOTOS = N_("Attach at most %(max)s photos.")
PHOTOS_AGAIN = N_("Nothing was recorded. Correct the marked fields and attach the photos again.")
STATEMENT_ITEMS = {
    "as_of": N_("Balance sheet date"),
    "period_start": N_("Period start"),
    "period_end": N_("Period end"),
    "cash": N_("Cash"),
    "receivables": N_("Accounts receivable"),
    "inventory": N_("Inventory"),
    "current_assets": N_("Total current assets"),
    "total_assets": N_("Total assets"),
    "payables": N_("Accounts payable"),
    "current_liabilities": N_("Total current liabilities"),
    "total_liabilities": N_("Total liabilities"),
    "equity": N_("Total equity"),
    "revenue": N_("Revenue"),
    "cost_of_sales": N_("Cost of sales"),
    "operating_profit": N_("Operating profit"),
    "interest_expense": N_("Interest expense"),
    "net_profit": N_("Net profit"),
}
STATEMENT_REASON = N_("Enter a date (YYYY-MM-DD) or an amount in yuan such as 1250000.00.")
RATIOS = {
    "current_ratio": N_("Current ratio"),
    "quick_ratio": N_("Quick ratio"),
    "debt_to_assets": N_("Debt to assets"),
    "dso_days": N_("Days sales outstanding"),
    "dio_days": N_("Days inventory outstanding"),
    "dpo_days": N_("Days payables outstanding"),
    "cash_conversion_cycle_days": N_("Cash conversion cycle (days)"),
    "interest_coverage": N_("Interest coverage"),
}
FINDINGS = {
    "identity_broken": N_("Assets do not equal liabilities plus equity"),
    "subtotal_exceeded": N_("A part is larger than the total it belongs to"),
    "dates_differ": N_("The balance sheet date is not the end of the income period"),
    "observed_exceeds_reported": N_("The platform saw more sales than the statements report"),
    "low_platform_coverage": N_("The platform saw little of the reported revenue"),
}
CONCERNS = {
    "premises not verified": N_("Premises not verified"),
    "production not running": N_("Production not running"),
}


# ---------------------------------------------------------------------------- common


def _refused(
    request: Request, session: Session, principal: Principal, reason: str, status: int = 403
) -> Response:
    me = whoami(session, principal)
    return render(request, "error.html", {"reason": reason}, me=me, status_code=status)


def _may(principal: Principal, roles: frozenset[str]) -> bool:
    return principal.bank_id is not None and bool(roles & set(principal.roles))


def _gettext(request: Request) -> Language:
    return language_of(request)[0]


def _names(session: Session, principal: Principal, ids: set[str]) -> dict[str, str]:
    return identity.party_names(session, principal, ids)


def _age_days(since: datetime) -> int:
    return max(0, (clock.today() - clock.business_date(since)).days)


# ---------------------------------------------------------------------------- task list


@dataclass(frozen=True)
class TaskRow:
    task: DueDiligenceTask
    firm: str
    amount: str | None  # the application's amount, major units
    currency: str
    age_days: int
    opened_on: date


def _application(
    session: Session, principal: Principal, application_id: str
) -> LoanApplication | None:
    try:
        return applications.application_for(session, principal, application_id)
    except ChainfinError:
        return None


def _task_rows(session: Session, principal: Principal, show: str) -> list[TaskRow]:
    wanted = {"open": ["open"], "done": ["completed"]}.get(show, ["open", "completed"])
    found: list[DueDiligenceTask] = []
    for state in wanted:
        page = tasks.tasks(session, principal, state=state, limit=MAX_LIMIT)
        ordered = page.items if state == "open" else reversed(page.items)
        found.extend(ordered)  # open: oldest first (most urgent); done: newest first
    names = _names(session, principal, {t.enterprise_id for t in found})
    rows = []
    for task in found:
        app = _application(session, principal, task.application_id)
        amount = Money(app.amount_minor, app.currency).to_decimal_string() if app else None
        rows.append(
            TaskRow(
                task,
                names.get(task.enterprise_id, task.enterprise_id),
                amount,
                app.currency if app else "CNY",
                _age_days(task.created_at),
                clock.business_date(task.created_at),
            )
        )
    return rows


def _labels() -> dict[str, Any]:
    return {
        "task_kinds": TASK_KINDS,
        "task_states": TASK_STATES,
        "task_reasons": TASK_REASONS,
        "alert_states": ALERT_STATES,
        "severities": SEVERITIES,
        "alert_kinds": ALERT_KINDS,
        "other_kind": OTHER_KIND,
        "subjects": SUBJECTS,
    }


@router.get("/tasks", response_class=HTMLResponse)
def task_list(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    show: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """My bank's due-diligence tasks, open ones first."""
    if not _may(principal, TASK_ROLES):
        return _refused(request, session, principal, NOT_TASKS)
    show = show if show in TASK_FILTERS else ""
    rows = _task_rows(session, principal, show)
    context = {
        "nav": "tasks",
        "rows": rows,
        "show": show,
        "filters": TASK_FILTERS,
        "open_count": sum(1 for r in rows if r.task.state == "open"),
        **_labels(),
    }
    return render(request, "bank_work_tasks.html", context, me=whoami(session, principal))


# ---------------------------------------------------------------------------- one task


@dataclass
class VisitForm:
    """The site-visit form as typed, and the refusals to show beside its fields."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _task_context(session: Session, principal: Principal, task: DueDiligenceTask) -> dict[str, Any]:
    names = _names(session, principal, {task.enterprise_id})
    app = _application(session, principal, task.application_id)
    who = tasks.staff_names(session, principal, [task.completed_by])
    photos = tasks.task_photos(session, principal, task.id)
    entry = tasks.completion_entry(session, principal, task.id)
    return {
        "nav": "tasks",
        "task": task,
        "firm": names.get(task.enterprise_id, task.enterprise_id),
        "application": app,
        "amount": Money(app.amount_minor, app.currency).to_decimal_string() if app else None,
        "age_days": _age_days(task.created_at),
        "opened_on": clock.business_date(task.created_at),
        "completed_by": who.get(task.completed_by or "", task.completed_by or ""),
        "photos": photos,
        "entry": entry,
        "on_log": set(entry.photo_digests) if entry else set(),
        "result": task.result or {},
        "visited_at": _instant(str((task.result or {}).get("visited_at", ""))),
        "logged_at": _instant(entry.at) if entry else None,
        "statement_items": STATEMENT_ITEMS,
        "ratios": RATIOS,
        "findings_labels": FINDINGS,
        "concerns": CONCERNS,
        "max_photos": attachments.MAX_PHOTOS,
        "max_photo_mb": attachments.MAX_PHOTO_BYTES // (1024 * 1024),
        **_labels(),
    }


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _visit_defaults() -> dict[str, str]:
    now = clock.local_now()
    return {"visited_at": now.strftime("%Y-%m-%dT%H:%M")}


def _task_page(
    request: Request,
    session: Session,
    principal: Principal,
    task_id: str,
    *,
    visit: VisitForm | None = None,
    statements: VisitForm | None = None,
    status_code: int = 200,
) -> Response:
    if not _may(principal, TASK_ROLES):
        return _refused(request, session, principal, NOT_TASKS)
    try:
        task = tasks.task_for(session, principal, task_id)
    except ChainfinError:
        return _refused(request, session, principal, TASK_NOT_FOUND, 404)
    context = _task_context(session, principal, task)
    context["visit"] = visit or VisitForm(_visit_defaults())
    context["statements"] = statements or VisitForm()
    me = whoami(session, principal)
    return render(request, "bank_work_task.html", context, me=me, status_code=status_code)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(
    task_id: str, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """The task: its form while open, what was recorded once done."""
    return _task_page(request, session, principal, task_id)


def _not_for(request: Request, principal: Principal) -> Response | None:
    """A task's forms are for relationship managers: anyone else is refused first."""
    if _may(principal, TASK_ROLES):
        return None
    with transaction(request.app.state.session_factory, write=False) as session:
        return _refused(request, session, principal, NOT_TASKS)


def _number(text: str) -> float | str | None:
    """A typed number as a number; anything else as typed (the service names the field)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _checklist(values: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The form's values as the service's checklist, and what only the form can refuse."""
    errors: list[FieldError] = []
    yes_no = {"yes": True, "no": False}
    data: dict[str, Any] = {
        "premises_verified": yes_no.get(values.get("premises_verified", "")),
        "production_running": yes_no.get(values.get("production_running", "")),
        "findings": values.get("findings", ""),
    }
    if values.get("inventory_on_hand", "").strip():
        data["inventory_on_hand"] = values["inventory_on_hand"].strip().replace(",", "")
    gps: dict[str, Any] = {"lat": _number(values.get("latitude", ""))}
    gps["lon"] = _number(values.get("longitude", ""))
    accuracy = _number(values.get("accuracy", ""))
    if accuracy is not None:
        gps["accuracy"] = accuracy
    data["gps"] = gps
    visited = values.get("visited_at", "").strip()
    try:
        at = datetime.fromisoformat(visited)
        data["visited_at"] = (
            at.replace(tzinfo=clock.SHANGHAI) if at.tzinfo is None else at
        ).isoformat()
    except ValueError:
        data["visited_at"] = visited
    staff = values.get("staff_count_seen", "").strip()
    if staff:
        if staff.isascii() and staff.isdecimal() and int(staff) <= 1_000_000:
            data["staff_count_seen"] = int(staff)
        else:
            errors.append(FieldError("staff_count_seen", "a whole number"))
    return data, errors


def _photo_reason(language: Language, problem: FieldError, photos: list[attachments.Photo]) -> str:
    if problem.field == "photos":
        return language.gettext(TOO_MANY_PHOTOS) % {"max": attachments.MAX_PHOTOS}
    n = int(problem.field.split("[")[1].rstrip("]")) if "[" in problem.field else 0
    name = photos[n - 1].name if 0 < n <= len(photos) else ""
    key = next((k for k in PHOTO_REASONS if k in problem.reason), "not a JPEG")
    params = {"n": n, "name": name, "mb": attachments.MAX_PHOTO_BYTES // (1024 * 1024)}
    return language.gettext(PHOTO_REASONS[key]) % params


def _visit_errors(
    language: Language, problems: list[FieldError], photos: list[attachments.Photo]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in problems:
        name = problem.field.split("[")[0]
        target = VISIT_FIELD_OF.get(problem.field, VISIT_FIELD_OF.get(name, "form"))
        if target == "photos":
            reason = _photo_reason(language, problem, photos)
            out["photos"] = f"{out['photos']} {reason}" if "photos" in out else reason
        elif target not in out:
            out[target] = language.gettext(VISIT_REASONS.get(target, REFUSED))
    return out


VISIT_FIELDS = (
    "premises_verified",
    "production_running",
    "inventory_on_hand",
    "staff_count_seen",
    "findings",
    "visited_at",
    "latitude",
    "longitude",
    "accuracy",
)


async def _read_photos(files: list[UploadFile]) -> list[attachments.Photo]:
    """The files chosen (an empty file input sends one nameless, empty part: not a photo),
    each read to one byte past the limit, so an oversized one is refused, not read whole."""
    photos = []
    for upload in files:
        if not upload.filename and not upload.size:
            continue
        data = await upload.read(attachments.MAX_PHOTO_BYTES + 1)
        photos.append(attachments.Photo(upload.filename or "", data))
    return photos


@router.post("/tasks/{task_id}/site-visit", response_class=HTMLResponse)
async def site_visit(
    task_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
) -> Response:
    """Record the visit with its photos: all or nothing."""
    refused = _not_for(request, principal)
    if refused is not None:
        return refused
    form = await request.form()
    try:
        values = {k: str(form.get(k, ""))[:4000] for k in VISIT_FIELDS}
        files = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
        photos = await _read_photos(files)
    finally:
        await form.close()
    language = _gettext(request)
    factory = request.app.state.session_factory
    data, problems = _checklist(values)
    problems += tasks.site_visit_problems(data, photos)
    if not problems:
        try:
            with transaction(factory) as session:
                tasks.record_site_visit(session, principal, task_id, data, photos)
        except ValidationFailed as exc:
            problems = list(exc.errors)
        except ChainfinError as exc:
            why = {"form": language.gettext(REFUSALS.get(exc.code, REFUSED))}
            with transaction(factory, write=False) as session:
                return _task_page(
                    request, session, principal, task_id,
                    visit=VisitForm(values, why), status_code=_status(exc),
                )  # fmt: skip
        else:
            return RedirectResponse(f"/tasks/{task_id}", status_code=303)
    errors = _visit_errors(language, problems, photos)
    errors["form"] = language.gettext(PHOTOS_AGAIN)
    with transaction(factory, write=False) as session:
        return _task_page(
            request, session, principal, task_id, visit=VisitForm(values, errors), status_code=422
        )


def _status(exc: ChainfinError) -> int:
    status = getattr(exc, "status", 409)
    return status if isinstance(status, int) and 400 <= status < 500 else 409


@router.post("/tasks/{task_id}/financial-analysis", response_class=HTMLResponse)
async def financial_analysis(
    task_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
) -> Response:
    """Analyse the statements typed in: ratios and findings, or each bad figure marked."""
    refused = _not_for(request, principal)
    if refused is not None:
        return refused
    form = await request.form(max_files=0, max_fields=40)
    values = {k: str(form.get(k, "")).strip()[:40] for k in financials.ALL_ITEMS}
    language = _gettext(request)
    factory = request.app.state.session_factory
    statements = {k: v.replace(",", "") for k, v in values.items() if v}
    try:
        with transaction(factory) as session:
            tasks.complete_financial_analysis(session, principal, task_id, statements)
    except ValidationFailed as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors:
            target = problem.field if problem.field in STATEMENT_ITEMS else "form"
            if target == "form":
                reason = language.gettext(REFUSALS.get(exc.code, REFUSED))
                if problem.reason:
                    reason = f"{reason} ({problem.field}: {problem.reason})"
            else:
                reason = language.gettext(STATEMENT_REASON)
            errors.setdefault(target, reason)
        with transaction(factory, write=False) as session:
            return _task_page(
                request, session, principal, task_id,
                statements=VisitForm(values, errors), status_code=422,
            )  # fmt: skip
    except ChainfinError as exc:
        errors = {"form": language.gettext(REFUSALS.get(exc.code, REFUSED))}
        with transaction(factory, write=False) as session:
            return _task_page(
                request, session, principal, task_id,
                statements=VisitForm(values, errors), status_code=_status(exc),
            )  # fmt: skip
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.get("/tasks/{task_id}/photos/{seq}")
def photo(
    task_id: str,
    seq: Annotated[int, Path(ge=1, le=attachments.MAX_PHOTOS)],
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
) -> Response:
    """One photo of the visit, as it was taken (the digest on the page is of these bytes)."""
    if not _may(principal, TASK_ROLES):
        return _refused(request, session, principal, NOT_TASKS)
    try:
        row = tasks.task_photo(session, principal, task_id, seq)
    except ChainfinError:
        return _refused(request, session, principal, TASK_NOT_FOUND, 404)
    headers = {
        "Content-Disposition": f'inline; filename="photo-{row.seq}"',
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(bytes(row.content), media_type=row.media_type, headers=headers)


# ---------------------------------------------------------------------------- alerts


ALERT_FILTERS = ("state", "severity", "kind")


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    firm: str
    about: str  # the message, firms' ids replaced by their names
    acknowledged_by: str
    resolved_by: str


def _alert_rows(session: Session, principal: Principal, found: list[Alert]) -> list[AlertRow]:
    names = _names(session, principal, {a.enterprise_id for a in found if a.enterprise_id})
    people = tasks.staff_names(
        session, principal, [a.acknowledged_by for a in found] + [a.resolved_by for a in found]
    )
    rows = []
    for a in found:
        about = a.message
        for eid, name in names.items():
            about = about.replace(eid, name)
        firm = names.get(a.enterprise_id or "", a.enterprise_id or "")
        rows.append(
            AlertRow(
                a,
                firm,
                about,
                people.get(a.acknowledged_by or "", a.acknowledged_by or ""),
                people.get(a.resolved_by or "", a.resolved_by or ""),
            )
        )
    return rows


def _alerts(
    session: Session, principal: Principal, state: str, severity: str, kind: str
) -> list[Alert]:
    states = [state] if state else list(ALERT_STATES)
    found: list[Alert] = []
    for one in states:  # open first, then acknowledged, then resolved; newest first in each
        f = alerts.AlertFilter(state=one, severity=severity or None, kind=kind or None)
        found.extend(alerts.alerts(session, principal, f, limit=200).items)
    return found


def _alert_context(principal: Principal) -> dict[str, Any]:
    return {"nav": "alerts", "may_act": Scope.LOANS_WRITE in principal.scopes, **_labels()}


@router.get("/alerts", response_class=HTMLResponse)
def alert_list(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    state: Annotated[str, Query(max_length=20)] = "",
    severity: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """My bank's alerts, open first, filtered by state, severity and kind."""
    if not _may(principal, ALERT_ROLES):
        return _refused(request, session, principal, NOT_ALERTS)
    state = state if state in ALERT_STATES else ""
    severity = severity if severity in SEVERITIES else ""
    kinds = sorted({a.kind for a in _alerts(session, principal, "", "", "")})
    kind = kind if kind in kinds else ""
    rows = _alert_rows(session, principal, _alerts(session, principal, state, severity, kind))
    context = {
        **_alert_context(principal),
        "rows": rows,
        "chosen": {"state": state, "severity": severity, "kind": kind},
        "kinds": kinds,
        "open_count": sum(1 for r in rows if r.alert.state == "open"),
    }
    return render(request, "bank_work_alerts.html", context, me=whoami(session, principal))


def _alert_answer(
    request: Request,
    principal: Principal,
    alert_id: str,
    errors: dict[str, str],
    note: str = "",
    status_code: int = 200,
) -> Response:
    """The alert's row (htmx swaps it in place), or back to the list for a plain form."""
    factory = request.app.state.session_factory
    with transaction(factory, write=False) as session:
        if not request.headers.get("hx-request"):
            if not errors:
                return RedirectResponse(f"/alerts#alert-{alert_id}", status_code=303)
            return _refused(request, session, principal, next(iter(errors.values())), status_code)
        try:
            alert = alerts.alert_for(session, principal, alert_id)
        except ChainfinError:
            return _refused(request, session, principal, ALERT_NOT_FOUND, 404)
        (row,) = _alert_rows(session, principal, [alert])
        context = {**_alert_context(principal), "row": row, "errors": errors, "note": note}
        return render(request, "bank_work_alert_row.html", context, status_code=status_code)


def _alert_act(
    request: Request, principal: Principal, alert_id: str, note: str, resolve: bool
) -> Response:
    language = _gettext(request)
    if not _may(principal, ALERT_ROLES):
        with transaction(request.app.state.session_factory, write=False) as session:
            return _refused(request, session, principal, NOT_ALERTS)
    try:
        with transaction(request.app.state.session_factory) as session:
            if resolve:
                alerts.resolve(session, principal, alert_id, note=note)
            else:
                alerts.acknowledge(session, principal, alert_id)
    except ChainfinError as exc:
        if exc.code == "not_found" or exc.status == 404:
            with transaction(request.app.state.session_factory, write=False) as session:
                return _refused(request, session, principal, ALERT_NOT_FOUND, 404)
        field_name = "note" if exc.code == "note_required" else "form"
        errors = {field_name: language.gettext(REFUSALS.get(exc.code, REFUSED))}
        return _alert_answer(request, principal, alert_id, errors, note, _status(exc))
    return _alert_answer(request, principal, alert_id, {})


@router.post("/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    alert_id: str, request: Request, principal: PagePrincipal, _: FormChecked
) -> Response:
    """Someone is on it."""
    return _alert_act(request, principal, alert_id, "", resolve=False)


@router.post("/alerts/{alert_id}/resolve", response_class=HTMLResponse)
def resolve(
    alert_id: str,
    request: Request,
    principal: PagePrincipal,
    _: FormChecked,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Closed, with what was found and done."""
    return _alert_act(request, principal, alert_id, note, resolve=True)
