"""The credit desk's reads: the queue of applications in progress at the bank (who may sign
the next step of each), and one application's file as the maker and checker read it —
every rule's outcome in precedence order, the facts gathered again as they stand today,
the people's steps with the log entries that record them.

Reads only: nothing here writes (the documents behind an application are read under the
applicant's consent by the page, through ``services.documents`` and
``services.trade_cases``, which log the access themselves).

Who may sign what follows :func:`chainfin.services.lending.applications.review`: anyone
with the ``loans:approve`` scope makes the first step (the maker's recommendation); the
checker is another person whose delegated authority level covers the amount.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    ApplicationApproval,
    BankCustomer,
    CreditLine,
    DueDiligenceTask,
    Enterprise,
    LedgerEntry,
    LineReservation,
    Loan,
    LoanApplication,
    LoanProduct,
    User,
)
from chainfin.domain import clock
from chainfin.domain import decision as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.credentials import add_months
from chainfin.domain.errors import NotFound
from chainfin.domain.ids import PREFIXES, new_id
from chainfin.domain.loans import LoanStatus
from chainfin.domain.products import ProductConfig
from chainfin.services import scoping
from chainfin.services.credentials._common import _get
from chainfin.services.lending import applications, products
from chainfin.services.lending import lines as limits

IN_PROGRESS = ("referred", "approved")
QUEUE_LIMIT = 200
# How long after a step its log entry may be written (the same transaction: well under this).
ENTRY_WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One application in progress and what it waits for.

    ``waits_for``: ``maker`` (the first person's step), ``checker`` (the second's),
    ``disbursement`` (approved: the loan waits to be paid out) or ``conditions`` (approved
    with conditions still to meet). ``mine``: the signed-in person may sign the next step."""

    application: LoanApplication
    applicant_name: str
    product: LoanProduct
    required_level: int | None
    maker_id: str | None
    open_tasks: tuple[str, ...]
    waits_for: str
    mine: bool


def my_level(session: Session, actor: Principal) -> int | None:
    """The signed-in person's delegated credit authority at their bank (None: none)."""
    if actor.bank_id is None:
        return None
    return products.authority_level(session, actor.bank_id, actor.subject_id)


def may_sign(
    actor: Principal,
    level: int | None,
    *,
    status: str,
    maker_id: str | None,
    required_level: int | None,
) -> bool:
    """Whether ``actor`` (authority ``level``) may take the next step of an application, as
    :func:`applications.review` decides it: the maker's step needs the approve scope; the
    checker's another person with authority for the amount."""
    if status != "referred" or not actor.has(Scope.LOANS_APPROVE):
        return False
    if maker_id is None:
        return True
    if maker_id == actor.subject_id:
        return False
    return level is not None and required_level is not None and level >= required_level


def queue(
    session: Session, actor: Principal, *, everything: bool = False, limit: int = QUEUE_LIMIT
) -> list[QueueRow]:
    """The bank's applications in progress, oldest first: those the signed-in person may
    sign now, or (``everything``) every referred or approved one not yet disbursed."""
    actor.require(Scope.LOANS_READ)
    bank_id = scoping.bank_of(actor, "the credit queue is a bank's")
    apps = list(
        session.scalars(
            select(LoanApplication)
            .where(LoanApplication.bank_id == bank_id, LoanApplication.status.in_(IN_PROGRESS))
            .order_by(LoanApplication.submitted_at, LoanApplication.id)
            .limit(limit)
        )
    )
    ids = [a.id for a in apps]
    makers = dict(
        session.execute(
            select(ApplicationApproval.application_id, ApplicationApproval.user_id).where(
                ApplicationApproval.application_id.in_(ids), ApplicationApproval.step == "maker"
            )
        ).all()
    )
    tasks: dict[str, list[str]] = {}
    for app_id, kind in session.execute(
        select(DueDiligenceTask.application_id, DueDiligenceTask.kind).where(
            DueDiligenceTask.application_id.in_(ids), DueDiligenceTask.state == "open"
        )
    ):
        tasks.setdefault(app_id, []).append(kind)
    product_rows = {
        p.id: p
        for p in session.scalars(
            select(LoanProduct).where(LoanProduct.id.in_({a.product_id for a in apps}))
        )
    }
    names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_({a.applicant_id for a in apps})
            )
        ).all()
    )
    level = my_level(session, actor)
    configs: dict[str, ProductConfig] = {}
    out = []
    for app in apps:
        product = product_rows[app.product_id]
        config = configs.setdefault(product.id, products.config_of(product))
        needed = config.required_level(app.amount_minor)
        maker = makers.get(app.id)
        mine = may_sign(actor, level, status=app.status, maker_id=maker, required_level=needed)
        if not (everything or mine):
            continue
        out.append(
            QueueRow(
                application=app,
                applicant_name=names.get(app.applicant_id, app.applicant_id),
                product=product,
                required_level=needed,
                maker_id=maker,
                open_tasks=tuple(sorted(tasks.get(app.id, []))),
                waits_for=_waits_for(app, maker),
                mine=mine,
            )
        )
    return out


def _waits_for(app: LoanApplication, maker: str | None) -> str:
    if app.status == "referred":
        return "checker" if maker else "maker"
    if any(not c.get("met") for c in app.conditions):
        return "conditions"
    return "disbursement"


# ---------------------------------------------------------------------------- one file


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule of :data:`chainfin.domain.decision.RULES` as it went at submission:
    ``pass``, or ``refer``/``decline`` with the rules' own message."""

    code: str
    outcome: str
    message: str


@dataclass(frozen=True, slots=True)
class Step:
    """What happened to the application, in order: submitted, decided by the rules, each
    person's step, a condition met. ``entry_id``/``entry_seq``: the log entry recording it
    (None when the step is not a logged act of its own)."""

    at: datetime
    what: str  # submitted, rules_<outcome>, maker_approve, checker_decline, condition_met, ...
    who: str
    note: str
    conditions: tuple[str, ...]
    level: int | None
    entry_id: str | None
    entry_seq: int | None


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts about the applicant as they stand today (the rules read them at
    submission; a checker decides on today's)."""

    maturity_on: date
    customer: bool
    loans_here: int
    overdue_loans: int
    risk_flags: tuple[str, ...]
    score_inputs: rules.ScoreInputs
    score_now: rules.ScoreResult


@dataclass(frozen=True, slots=True)
class ReviewFile:
    application: LoanApplication
    applicant: Enterprise
    product: LoanProduct
    config: ProductConfig
    rules: tuple[RuleOutcome, ...]
    score_points: int | None
    score_reasons: tuple[str, ...]
    tasks: tuple[DueDiligenceTask, ...]
    steps: tuple[ApplicationApproval, ...]
    history: tuple[Step, ...]
    names: dict[str, str]  # user id -> display name, for the steps
    line: CreditLine | None
    availability: limits.Availability | None
    reservation: LineReservation | None
    loan: Loan | None
    facts: Facts
    required_level: int | None
    my_level: int | None
    next_step: str | None  # maker, checker, or None when no step is open
    i_may_sign: bool
    i_made_it: bool


def rule_outcomes(decision: dict[str, Any]) -> tuple[RuleOutcome, ...]:
    """Every rule in precedence order with what it said at submission (a rule not among the
    decision's reasons passed, or stayed silent because an earlier one refuted its
    premise: see the decision module)."""
    reasons = decision.get("reasons") or []
    said = {str(r["code"]): r for r in reasons if isinstance(r, dict) and "code" in r}
    out = []
    for rule in rules.RULES:
        found = said.get(rule.code)
        if found is None:
            out.append(RuleOutcome(rule.code, "pass", ""))
        else:
            out.append(RuleOutcome(rule.code, str(found["outcome"]), str(found["message"])))
    # a reason no rule of the table gave (a limit refused at approval time) comes last
    known = set(rules.RULE_CODES)
    for code, found in said.items():
        if code not in known:
            out.append(RuleOutcome(code, str(found["outcome"]), str(found["message"])))
    return tuple(out)


def review_file(session: Session, actor: Principal, application_id: str) -> ReviewFile:
    """One application of the signed-in person's bank, as its reviewers read it."""
    actor.require(Scope.LOANS_READ)
    bank_id = scoping.bank_of(actor, "applications are reviewed by the bank's staff")
    app = applications.application_for(session, actor, application_id)
    if app.bank_id != bank_id:  # application_for lets the applicant in too; staff only here
        raise NotFound(f"no application {application_id!r}", code="application_not_found")
    product = _get(session, LoanProduct, app.product_id)
    applicant = _get(session, Enterprise, app.applicant_id)
    config = products.config_of(product)
    steps = tuple(applications.approvals_of(session, app.id))
    tasks = tuple(applications.tasks_of(session, app.id))
    line = session.get(CreditLine, app.line_id) if app.line_id else None
    avail = (
        limits.availability(session, line, member_id=app.applicant_id, product_kind=product.kind)
        if line is not None
        else None
    )
    reservation = session.get(LineReservation, app.reservation_id) if app.reservation_id else None
    names = _names(session, bank_id, [s.user_id for s in steps])
    needed = config.required_level(app.amount_minor)
    level = my_level(session, actor)
    maker = next((s.user_id for s in steps if s.step == "maker"), None)
    next_step = None if app.status != "referred" else ("checker" if maker else "maker")
    score = app.decision.get("score") if isinstance(app.decision, dict) else None
    return ReviewFile(
        application=app,
        applicant=applicant,
        product=product,
        config=config,
        rules=rule_outcomes(app.decision),
        score_points=app.score,
        score_reasons=tuple(score.get("reasons", ())) if isinstance(score, dict) else (),
        tasks=tasks,
        steps=steps,
        history=tuple(_history(session, app, steps, names)),
        names=names,
        line=line,
        availability=avail,
        reservation=reservation,
        loan=applications.loan_of(session, app.id),
        facts=_facts_now(session, app, line),
        required_level=needed,
        my_level=level,
        next_step=next_step,
        i_may_sign=may_sign(actor, level, status=app.status, maker_id=maker, required_level=needed),
        i_made_it=maker == actor.subject_id,
    )


def _names(session: Session, bank_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(
            User.id.in_(set(user_ids)), User.bank_id == bank_id
        )
    )
    return {uid: display or username for uid, display, username in rows}


def _decided_on(app: LoanApplication) -> date:
    text = app.decision.get("decided_on") if isinstance(app.decision, dict) else None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return clock.business_date(app.submitted_at)


def _facts_now(session: Session, app: LoanApplication, line: CreditLine | None) -> Facts:
    today = clock.today()
    loans_here = session.scalar(
        select(func.count()).where(
            Loan.bank_id == app.bank_id, Loan.borrower_id == app.applicant_id
        )
    )
    overdue = session.scalar(
        select(func.count()).where(
            Loan.bank_id == app.bank_id,
            Loan.borrower_id == app.applicant_id,
            Loan.status == LoanStatus.OVERDUE.value,
        )
    )
    flags = session.scalars(
        select(Alert.kind).where(Alert.enterprise_id == app.applicant_id, Alert.state == "open")
    )
    inputs = applications.score_inputs(session, app.applicant_id, line, today, int(overdue or 0))
    return Facts(
        maturity_on=add_months(_decided_on(app), app.tenor_months),
        customer=session.get(BankCustomer, (app.bank_id, app.applicant_id)) is not None,
        loans_here=int(loans_here or 0),
        overdue_loans=int(overdue or 0),
        risk_flags=tuple(sorted(set(flags))),
        score_inputs=inputs,
        score_now=rules.interim_score(inputs),
    )


def _history(
    session: Session,
    app: LoanApplication,
    steps: Sequence[ApplicationApproval],
    names: dict[str, str],
) -> list[Step]:
    entries = _entries(session, app, steps)
    outcome = str(app.decision.get("outcome", "")) if isinstance(app.decision, dict) else ""
    first = entries.get(app.id)
    out = [
        Step(
            app.submitted_at,
            f"rules_{outcome}" if outcome else "submitted",
            "",
            "",
            (),
            None,
            first[0] if first else None,
            first[1] if first else None,
        )
    ]
    for row in steps:
        found = entries.get(row.id)
        out.append(
            Step(
                row.created_at,
                f"{row.step}_{row.action}",
                names.get(row.user_id, row.user_id),
                row.note,
                tuple(row.conditions),
                row.level,
                found[0] if found else None,
                found[1] if found else None,
            )
        )
    for cond in app.conditions:
        if cond.get("met") and cond.get("met_at"):
            out.append(
                Step(
                    datetime.fromisoformat(str(cond["met_at"])),
                    "condition_met",
                    "",
                    str(cond.get("note") or ""),
                    (str(cond["text"]),),
                    None,
                    None,
                    None,
                )
            )
    return sorted(out, key=lambda s: s.at)


def _entries(
    session: Session, app: LoanApplication, steps: Sequence[ApplicationApproval]
) -> dict[str, tuple[str, int | None]]:
    """The log entry recording each act: the submission's by the application's id, each
    step's by the approval's id. Ids are ULIDs made in increasing order by one process, so
    the entry a transaction wrote after its record has a later id, within a minute: a range
    of the primary key, then the entry that carries the record."""
    wanted = {app.id: "application."}
    for row in steps:
        wanted[row.id] = f"application.{row.step}_{row.action}"
    out: dict[str, tuple[str, int | None]] = {}
    for record_id, event in wanted.items():
        body = record_id.partition("_")[2]
        ms = _ms_of(body)
        if ms is None:
            continue
        upper = new_id("ledger", now_ms=ms + ENTRY_WINDOW_MS, randomness=bytes(10))
        candidates = session.execute(
            select(LedgerEntry.id, LedgerEntry.seq, LedgerEntry.payload)
            .where(
                LedgerEntry.id > f"{PREFIXES['ledger']}_{body}",
                LedgerEntry.id < upper,
                LedgerEntry.event_type.startswith(event),
            )
            .order_by(LedgerEntry.id)
            .limit(20)
        )
        for entry_id, seq, payload in candidates:
            if _carries(payload, record_id):
                out[record_id] = (entry_id, seq)
                break
    return out


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ms_of(ulid: str) -> int | None:
    """The millisecond time in a ULID's first ten digits."""
    if len(ulid) != 26:
        return None
    value = 0
    for char in ulid[:10]:
        digit = _CROCKFORD.find(char)
        if digit < 0:
            return None
        value = value * 32 + digit
    return value


def _carries(payload: bytes, record_id: str) -> bool:
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return any(r.get("id") == record_id for r in body.get("records", []) if isinstance(r, dict))
