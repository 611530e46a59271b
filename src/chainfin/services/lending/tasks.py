"""Due diligence in the loop: site visits with their checklist and financial statement
analysis, each a task a rule opened and a person completes. A referred application cannot be
approved while one is open."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    DueDiligenceTask,
    LedgerEntry,
    LoanApplication,
    TaskAttachment,
    TradeDocumentRow,
    User,
)
from chainfin.domain import financials
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import audit, ledger, scoping, states
from chainfin.services.credentials._common import _change, _get
from chainfin.services.ledger_records import row_of
from chainfin.services.lending import attachments
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
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not math.isfinite(value)
                or abs(value) > bound
            ):
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


def _with_photos(
    checklist: Mapping[str, Any], photos: Sequence[attachments.Photo]
) -> dict[str, Any]:
    listed = checklist.get("attachments", [])
    taken = [
        {"name": attachments.clean_name(p.name, n), "sha256": p.sha256}
        for n, p in enumerate(photos, 1)
    ]
    return {**checklist, "attachments": [*listed, *taken] if isinstance(listed, list) else listed}


def site_visit_problems(
    checklist: Mapping[str, Any], photos: Sequence[attachments.Photo] = ()
) -> list[FieldError]:
    """Everything :func:`record_site_visit` would refuse in a checklist and its photos, all
    at once, without writing (a form shows them beside its fields)."""
    data = _with_photos(checklist, photos)
    errors = _checklist_problems(data, utcnow())
    _accuracy(data.get("gps"), errors)
    return errors + attachments.photo_problems(photos)


def record_site_visit(
    session: Session,
    actor: Principal,
    task_id: str,
    checklist: Mapping[str, Any],
    photos: Sequence[attachments.Photo] = (),
) -> DueDiligenceTask:
    """:func:`complete_site_visit` with the photos taken, as the workbench's form sends
    them: the checklist (its ``gps`` may carry ``accuracy``, metres) and the files. Every
    problem of both is reported at once and nothing is written unless all are good; the
    photos are kept with the task and the completion's log entry carries each one's
    SHA-256 in clear (the checklist's ``attachments`` lists them too)."""
    task = _open_task(session, actor, task_id, "site_visit")
    errors = site_visit_problems(checklist, photos)
    if errors:
        raise ValidationFailed(errors)
    data = _with_photos(checklist, photos)
    result = dict(data)
    result["gps"] = {axis: str(Decimal(str(data["gps"][axis]))) for axis in ("lat", "lon")}
    accuracy = _accuracy(data["gps"], [])
    if accuracy is not None:
        result["gps"]["accuracy_m"] = accuracy
    result["concerns"] = [
        name
        for name, ok in (
            ("premises not verified", data["premises_verified"]),
            ("production not running", data["production_running"]),
        )
        if not ok
    ]
    rows = attachments.add_photos(session, actor, task, photos)
    kept = [ledger.Change("task_attachment", row_of(r)) for r in rows]
    return _complete(session, actor, task, result, *kept)


def staff_names(session: Session, actor: Principal, labels: Iterable[str | None]) -> dict[str, str]:
    """How a person of the actor's bank is named, by the label the records keep of them
    (``staff:<user id>``); anyone else (another bank's, a system job) is left out."""
    ids = {label.partition(":")[2]: label for label in labels if label}
    if actor.bank_id is None or not ids:
        return {}
    query = select(User.id, User.display_name, User.username).where(
        User.id.in_(ids), User.bank_id == actor.bank_id
    )
    return {ids[row.id]: row.display_name or row.username for row in session.execute(query)}


def _accuracy(gps: object, errors: list[FieldError]) -> str | None:
    """The fix's accuracy in metres as a decimal string, when the checklist gives one."""
    value = gps.get("accuracy") if isinstance(gps, Mapping) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e5:
        errors.append(FieldError("gps.accuracy", "must be a number of metres from 0 to 100000"))
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.1")))


def task_photos(session: Session, actor: Principal, task_id: str) -> list[TaskAttachment]:
    """A task's photos, in the order taken (none before the visit is recorded)."""
    return attachments.attachments_of(session, task_for(session, actor, task_id))


def task_photo(session: Session, actor: Principal, task_id: str, seq: int) -> TaskAttachment:
    """One photo of one of the bank's tasks; 404 for any other bank's."""
    return attachments.attachment_of(session, task_for(session, actor, task_id), seq)


@dataclass(frozen=True)
class CompletionEntry:
    """The log entry that recorded a task's completion, as its reader sees it: the entry's
    id and index (None until the sequencer integrates it), its leaf hash, and the photo
    digests it carries in clear."""

    entry_id: str
    index: int | None
    event_type: str
    at: str
    leaf_hash: str
    photo_digests: list[str]


def completion_entry(session: Session, actor: Principal, task_id: str) -> CompletionEntry | None:
    """The entry recording the completion of one of the bank's tasks (None while open).
    It is found among the completions logged within a minute of the task's completion
    time, by the task record it carries, and read through the ledger's own scoping."""
    task = task_for(session, actor, task_id)
    if task.completed_at is None:
        return None
    since = task.completed_at - timedelta(seconds=1)
    query = select(LedgerEntry.id, LedgerEntry.payload).where(
        LedgerEntry.event_type == f"task.{task.kind}_completed",
        LedgerEntry.created_at >= since,
        LedgerEntry.created_at <= since + timedelta(minutes=1),
    )
    for entry_id, payload in session.execute(query):
        records = json.loads(payload)["records"]
        if any(r["kind"] == "task" and r["id"] == task.id for r in records):
            entry = ledger.get_entry(session, actor, entry_id=entry_id)
            digests = [
                r["clear"]["sha256"]
                for r in records
                if r["kind"] == "task_attachment" and r["id"].startswith(f"{task.id}/")
            ]
            return CompletionEntry(
                entry.id,
                entry.seq,
                entry.event_type,
                json.loads(payload)["at"],
                entry.leaf_hash.hex(),
                digests,
            )
    return None


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


def observed_sales(session: Session, enterprise_id: str, start: date, end: date) -> int:
    """The enterprise's sales the platform saw from ``start`` to ``end`` (its invoices,
    net of VAT, in minor units): the revenue cross-check's lower bound."""
    return _observed_sales(session, enterprise_id, start, end)


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
    session: Session,
    actor: Principal,
    task: DueDiligenceTask,
    result: dict[str, Any],
    *with_records: ledger.Change,
) -> DueDiligenceTask:
    states.move(task, "complete")
    task.result = result
    task.completed_by = actor.label
    task.completed_at = utcnow()
    session.flush()
    app = _get(session, LoanApplication, task.application_id)
    event = f"task.{task.kind}_completed"
    ledger.one(session, actor, event, _change("task", task), *with_records)
    audit.record(session, actor, f"task.{task.kind}", "task", task.id, {"application": app.id})
    return task
