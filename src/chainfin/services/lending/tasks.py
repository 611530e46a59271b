"""Due diligence in the loop: site visits with their checklist and financial statement
analysis, each a task a rule opened and a person completes. A referred application cannot be
approved while one is open."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import DueDiligenceTask, LoanApplication, TradeDocumentRow
from chainfin.domain import financials
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import _change, _get
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

_SHA256 = re.compile(r"[0-9a-f]{64}")


def task_for(session: Session, actor: Principal, task_id: str) -> DueDiligenceTask:
    actor.require(Scope.LOANS_READ)
    return scoping.bank_record(session, actor, DueDiligenceTask, task_id, "task")


def tasks(
    session: Session,
    actor: Principal,
    *,
    state: str | None = None,
    kind: str | None = None,
    application: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[DueDiligenceTask]:
    """The bank's due-diligence tasks, oldest first: by state, kind or application."""
    actor.require(Scope.LOANS_READ)
    query = select(DueDiligenceTask).where(scoping.by_bank(actor, DueDiligenceTask.bank_id))
    if state is not None:
        query = query.where(DueDiligenceTask.state == state)
    if kind is not None:
        query = query.where(DueDiligenceTask.kind == kind)
    if application is not None:
        query = query.where(DueDiligenceTask.application_id == application)
    return paginate(session, query, DueDiligenceTask.id, cursor=cursor, limit=limit)


def _open_task(session: Session, actor: Principal, task_id: str, kind: str) -> DueDiligenceTask:
    actor.require(Scope.LOANS_WRITE)
    task = task_for(session, actor, task_id)
    if task.kind != kind:
        raise ValidationFailed(
            [FieldError("task", f"{task.id} is a {task.kind} task")], code="task_kind_mismatch"
        )
    if task.state != "open":
        raise Conflict(f"task {task.id} is {task.state}", code="task_not_open")
    return task


def _checklist_problems(data: Mapping[str, Any], now: datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    known = {
        "premises_verified",
        "production_running",
        "inventory_on_hand",
        "findings",
        "gps",
        "visited_at",
        "attachments",
        "staff_count_seen",
    }
    for key in sorted(set(data) - known):
        errors.append(FieldError(key, f"unknown item (known: {', '.join(sorted(known))})"))
    for key in ("premises_verified", "production_running"):
        if not isinstance(data.get(key), bool):
            errors.append(FieldError(key, "required: true or false"))
    stock = data.get("inventory_on_hand")
    if not isinstance(stock, str):
        errors.append(
            FieldError("inventory_on_hand", "required: the stock's value, e.g. '250000.00'")
        )
    else:
        try:
            Money.parse(stock)
        except (ValueError, ArithmeticError) as exc:
            errors.append(FieldError("inventory_on_hand", str(exc)))
    if not isinstance(data.get("findings"), str) or not str(data.get("findings")).strip():
        errors.append(FieldError("findings", "required: what the visit found"))
    gps = data.get("gps")
    if not isinstance(gps, Mapping):
        errors.append(FieldError("gps", "required: {lat, lon} of the visit"))
    else:
        for axis, bound in (("lat", 90), ("lon", 180)):
            value = gps.get(axis)
            if not isinstance(value, int | float) or isinstance(value, bool) or abs(value) > bound:
                errors.append(FieldError(f"gps.{axis}", f"must be a number within ±{bound}"))
    visited = data.get("visited_at")
    try:
        at = datetime.fromisoformat(str(visited))
        if at.tzinfo is None:
            errors.append(FieldError("visited_at", "must carry a UTC offset"))
        elif at > now + timedelta(minutes=5):
            errors.append(FieldError("visited_at", "is in the future"))
    except ValueError:
        errors.append(FieldError("visited_at", "required: ISO 8601 time of the visit"))
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list):
        errors.append(FieldError("attachments", "must be a list of {name, sha256}"))
    else:
        for n, item in enumerate(attachments, 1):
            ok = isinstance(item, Mapping) and isinstance(item.get("name"), str)
            if not ok or not _SHA256.fullmatch(str(item.get("sha256", ""))):
                errors.append(
                    FieldError(f"attachments[{n}]", "must be {name, sha256: 64 hex digits}")
                )
    return errors


def complete_site_visit(
    session: Session, actor: Principal, task_id: str, checklist: Mapping[str, Any]
) -> DueDiligenceTask:
    """Record a site visit: premises, stock on hand, production, findings, where and when,
    and the digests of the photos and documents taken (the files stay with the bank)."""
    task = _open_task(session, actor, task_id, "site_visit")
    errors = _checklist_problems(checklist, utcnow())
    if errors:
        raise ValidationFailed(errors)
    result = dict(checklist)
    # coordinates as decimal strings: the record's canonical form carries no floats
    result["gps"] = {axis: str(Decimal(str(checklist["gps"][axis]))) for axis in ("lat", "lon")}
    result["concerns"] = [
        name
        for name, ok in (
            ("premises not verified", checklist["premises_verified"]),
            ("production not running", checklist["production_running"]),
        )
        if not ok
    ]
    return _complete(session, actor, task, result)


def _observed_sales(session: Session, enterprise_id: str, start: date, end: date) -> int:
    total = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    TradeDocumentRow.total_minor - func.coalesce(TradeDocumentRow.tax_minor, 0)
                ),
                0,
            )
        ).where(
            TradeDocumentRow.seller_id == enterprise_id,
            TradeDocumentRow.kind == "invoice",
            TradeDocumentRow.issue_date >= start,
            TradeDocumentRow.issue_date <= end,
        )
    )
    return int(total or 0)


def complete_financial_analysis(
    session: Session, actor: Principal, task_id: str, statements: str | Mapping[str, object]
) -> DueDiligenceTask:
    """Analyse uploaded statements (CSV ``item,amount`` or JSON): ratios, consistency, and
    reported revenue against the sales the platform saw (invoices net of VAT)."""
    task = _open_task(session, actor, task_id, "financial_analysis")
    parsed = financials.parse_statements(statements)
    income = parsed.income_statement
    sheet = parsed.balance_sheet
    ratios = financials.ratios(sheet, income)
    findings = list(financials.consistency_findings(parsed))
    observed = Money(
        _observed_sales(session, task.enterprise_id, income.period_start, income.period_end),
        income.revenue.currency,
    )
    gap = financials.revenue_gap(income.revenue, observed)
    if gap is not None:
        findings.append(gap)
    result = {
        "period": [income.period_start.isoformat(), income.period_end.isoformat()],
        "ratios": _ratios_out(ratios),
        "reported_revenue": income.revenue.as_dict(),
        "observed_sales": observed.as_dict(),
        "findings": [_finding_out(f) for f in findings],
    }
    return _complete(session, actor, task, result)


def _ratios_out(ratios: financials.Ratios) -> dict[str, Any]:
    out: dict[str, Any] = {"days": ratios.days}
    for name in (
        "current_ratio",
        "quick_ratio",
        "debt_to_assets",
        "dso_days",
        "dio_days",
        "dpo_days",
        "cash_conversion_cycle_days",
        "interest_coverage",
    ):
        ratio: financials.Ratio = getattr(ratios, name)
        out[name] = (
            {"value": str(ratio.value)} if ratio.value is not None else {"reason": ratio.reason}
        )
    return out


def _finding_out(finding: financials.Finding) -> dict[str, Any]:
    return {
        "code": finding.code.value,
        "severity": str(finding.severity),
        "message": finding.message,
        "amount": finding.amount.as_dict() if finding.amount else None,
        "coverage": str(finding.coverage) if finding.coverage is not None else None,
    }


def _complete(
    session: Session, actor: Principal, task: DueDiligenceTask, result: dict[str, Any]
) -> DueDiligenceTask:
    states.move(task, "complete")
    task.result = result
    task.completed_by = actor.label
    task.completed_at = utcnow()
    session.flush()
    app = _get(session, LoanApplication, task.application_id)
    ledger.one(session, actor, f"task.{task.kind}_completed", _change("task", task))
    audit.record(session, actor, f"task.{task.kind}", "task", task.id, {"application": app.id})
    return task
