"""Applications: gather the facts, let the rules decide (approve, refer, decline — always
with the reasons), and route referrals to people: due-diligence tasks, maker-checker approval
within delegated authority, conditions to meet before the money moves.

An approval (automatic, or the checker's) reserves the line, registers the underlying in the
registry and creates the loan, in one transaction: if the line cannot take the amount at that
moment (another approval got there first) nothing is approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    ApplicationApproval,
    BankCustomer,
    CredentialProgramme,
    CreditLine,
    CreditSublimit,
    DueDiligenceTask,
    Enterprise,
    LineReservation,
    Loan,
    LoanApplication,
    LoanProduct,
    ProgrammeFunder,
    SupplyRelation,
    TradeDocumentRow,
)
from chainfin.domain import clock
from chainfin.domain import decision as rules
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.consent import Purpose
from chainfin.domain.credentials import add_months
from chainfin.domain.errors import (
    CODES,
    ChainfinError,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chainfin.domain.ids import new_id
from chainfin.domain.loans import METHODS, LoanCategory, LoanStatus
from chainfin.domain.money import Money
from chainfin.domain.products import ProductConfig, UnderlyingKind
from chainfin.domain.states import LOAN_APPLICATION
from chainfin.domain.uscc import check_uscc
from chainfin.services import audit, consent, ledger, rates, receivables, scoping, states
from chainfin.services.credentials._common import _change, _get, _resolve_bank
from chainfin.services.lending import filters, products
from chainfin.services.lending import lines as limits
from chainfin.services.lending.prices import owner_of_product
from chainfin.services.lending.underlying import Underlying, resolve
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate


class ApprovalRefused(ChainfinError):
    code = "approval_refused"
    status = 409


@dataclass(frozen=True, slots=True)
class Payment:
    """Where the loan is paid: the borrower's account, or the core's in dealer financing."""

    name: str
    account: str
    agent: str


def _problems_in_request(
    config: ProductConfig, amount: Money, tenor_months: int, method: str, payee: Payment
) -> list[FieldError]:
    errors: list[FieldError] = []
    if amount.amount_minor <= 0:
        errors.append(FieldError("amount", "must be positive"))
    if not 1 <= tenor_months <= 12:
        errors.append(FieldError("tenor_months", "must be 1 to 12"))
    if method not in METHODS:
        errors.append(FieldError("method", f"unknown {method!r} (known: {', '.join(METHODS)})"))
    if not payee.name.strip():
        errors.append(FieldError("payee.name", "must not be empty"))
    digits = payee.account.replace(" ", "")
    if not (digits.isdigit() and 8 <= len(digits) <= 32):
        errors.append(FieldError("payee.account", "must be a bank account number of 8-32 digits"))
    if not (payee.agent.isdigit() and len(payee.agent) == 12):
        errors.append(FieldError("payee.agent", "must be the 12-digit CNAPS code of the bank"))
    return errors


def _find_line(
    session: Session, bank_id: str, applicant_id: str, line_id: str | None, on: date
) -> CreditLine | None:
    if line_id is not None:
        line = session.get(CreditLine, line_id)
        if line is None or line.bank_id != bank_id:
            raise ValidationFailed(
                [FieldError("line", f"no credit line {line_id!r} at this bank")],
                code="credit_line_unknown",
            )
        named = session.scalar(
            select(CreditSublimit.id).where(
                CreditSublimit.line_id == line.id, CreditSublimit.member_id == applicant_id
            )
        )
        if line.obligor_id != applicant_id and named is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "line",
                        f"{line_id} is not the applicant's line, and no sub-limit on it names "
                        "the applicant",
                    )
                ],
                code="credit_line_not_applicable",
            )
        return line
    own = session.scalar(
        select(CreditLine)
        .where(
            CreditLine.bank_id == bank_id,
            CreditLine.obligor_id == applicant_id,
            CreditLine.status != "closed",
        )
        .order_by(CreditLine.expires_on.desc())
        .limit(1)
    )
    if own is not None:
        return own
    return session.scalar(
        select(CreditLine)
        .join(CreditSublimit, CreditSublimit.line_id == CreditLine.id)
        .where(
            CreditLine.bank_id == bank_id,
            CreditSublimit.member_id == applicant_id,
            CreditLine.status != "closed",
        )
        .order_by(CreditLine.expires_on.desc())
        .limit(1)
    )


def _score(
    session: Session, applicant_id: str, line: CreditLine | None, on: date, overdue: int
) -> rules.ScoreResult:
    return rules.interim_score(score_inputs(session, applicant_id, line, on, overdue))


def score_inputs(
    session: Session, applicant_id: str, line: CreditLine | None, on: date, overdue: int
) -> rules.ScoreInputs:
    """What the interim scorecard reads about the applicant on ``on`` (no consent read: the
    platform's own trade counts, relations and the programme's rating)."""
    since = on - timedelta(days=365)
    docs = select(func.count()).where(
        or_(TradeDocumentRow.seller_id == applicant_id, TradeDocumentRow.buyer_id == applicant_id),
        TradeDocumentRow.issue_date > since,
        TradeDocumentRow.issue_date <= on,
    )
    trades = session.scalar(docs.where(TradeDocumentRow.kind != "credit_note")) or 0
    disputes = session.scalar(docs.where(TradeDocumentRow.kind == "credit_note")) or 0
    first = session.scalar(
        select(func.min(SupplyRelation.since)).where(
            or_(SupplyRelation.seller_id == applicant_id, SupplyRelation.buyer_id == applicant_id)
        )
    )
    tenure = 0 if first is None else max(0, (on - first).days * 12 // 365)
    rating = None
    if line is not None:
        # the rating this bank gave the core when it funded its programme (latest first)
        rating = session.scalar(
            select(CredentialProgramme.core_rating)
            .join(ProgrammeFunder, ProgrammeFunder.programme_id == CredentialProgramme.id)
            .where(
                CredentialProgramme.core_enterprise_id == line.core_id,
                ProgrammeFunder.bank_id == line.bank_id,
            )
            .order_by(CredentialProgramme.created_at.desc())
            .limit(1)
        )
    return rules.ScoreInputs(
        tenure_months=tenure,
        trades_12m=int(trades),
        disputes_12m=int(disputes),
        on_time_share=None,
        overdue_loans=overdue,
        core_rating=rating,
    )


def _facts(
    session: Session,
    actor: Principal,
    *,
    bank_id: str,
    applicant: Enterprise,
    config: ProductConfig,
    underlying: Underlying,
    line: CreditLine | None,
    amount: Money,
    tenor_months: int,
    method: str,
    on: date,
) -> tuple[rules.Facts, rules.ScoreResult, limits.Availability | None]:
    missing = consent.missing_for_bank(
        session,
        enterprise_id=applicant.id,
        bank_id=bank_id,
        actor_label=actor.label,
        categories=config.consent_categories,
        purpose=Purpose.CREDIT_ASSESSMENT,
        resource=f"loan application of {applicant.id}",
    )
    known = session.get(BankCustomer, (bank_id, applicant.id)) is not None
    borrowed = session.scalar(
        select(func.count()).where(Loan.bank_id == bank_id, Loan.borrower_id == applicant.id)
    )
    overdue = session.scalar(
        select(func.count()).where(
            Loan.bank_id == bank_id,
            Loan.borrower_id == applicant.id,
            Loan.status == LoanStatus.OVERDUE.value,
        )
    )
    duplicate = None
    if underlying.key is not None:
        active = receivables.active_key(session, underlying.key)
        duplicate = active.id if active is not None else None
    avail = None
    if line is not None:
        avail = limits.availability(
            session, line, member_id=applicant.id, product_kind=config.kind.value
        )
    flags = session.scalars(
        select(Alert.kind).where(Alert.enterprise_id == applicant.id, Alert.state == "open")
    )
    guarantee = line is not None and line.guarantor_id is not None
    if config.kind.value == "dealer_financing":
        guarantee = line is not None and underlying.counterparty_id in (
            line.guarantor_id,
            line.obligor_id,
        )
    score = _score(session, applicant.id, line, on, int(overdue or 0))
    facts = rules.Facts(
        amount_minor=amount.amount_minor,
        currency=amount.currency,
        tenor_months=tenor_months,
        method=method,
        maturity_on=add_months(on, tenor_months),
        applicant_registered=check_uscc(applicant.uscc).valid,
        new_customer=not known and not borrowed,
        consent_missing=tuple(missing),
        underlying_kind=underlying.kind,
        underlying_found=underlying.found,
        trade_status=underlying.trade_status,
        underlying_value_minor=underlying.value_minor,
        underlying_due_on=underlying.due_on,
        duplicate_of=duplicate,
        core_guarantee=guarantee,
        line_status=avail.line_status(on) if avail else "none",
        line_available_minor=avail.line_available_minor if avail else 0,
        sublimit_available_minor=avail.sublimit_available_minor if avail else None,
        core_cap_available_minor=avail.core_cap_available_minor if avail else None,
        group_cap_available_minor=avail.group_cap_available_minor if avail else None,
        overdue_loans=int(overdue or 0),
        score=score.points,
        risk_flags=tuple(sorted(set(flags))),
    )
    return facts, score, avail


def submit(
    session: Session,
    actor: Principal,
    *,
    bank: str,
    product: str,
    amount: Money,
    tenor_months: int,
    method: str,
    underlying_kind: str,
    underlying_ref: str,
    payee: Payment,
    line: str | None = None,
    on: date | None = None,
) -> LoanApplication:
    """An enterprise applies; the rules decide at once. Approved applications come back with
    their loan ready for disbursement; referred ones with the tasks people must do."""
    actor.require(Scope.LOANS_APPLY)
    if actor.enterprise_id is None:
        raise Forbidden("an enterprise applies for its own loans", code="enterprise_user_only")
    today = clock.today()
    if on is not None and on < today and not actor.is_system:
        # the decision date drives line expiry, the LPR fixing, the score window and the
        # maturity check: an applicant may not move it into the past
        raise ValidationFailed(
            [FieldError("on", f"{on} is in the past; an application is decided today ({today})")],
            code="date_in_past",
        )
    on = on or today
    bank_row = _resolve_bank(session, bank)
    product_row = products.resolve(session, bank_row.id, product)
    config = products.config_of(product_row)
    if underlying_kind not in {k.value for k in UnderlyingKind}:
        known = ", ".join(k.value for k in UnderlyingKind)
        raise ValidationFailed(
            [FieldError("underlying.kind", f"unknown {underlying_kind!r} (known: {known})")],
            code="underlying_kind_unknown",
        )
    errors = _problems_in_request(config, amount, tenor_months, method, payee)
    if errors:
        raise ValidationFailed(errors)
    applicant = _get(session, Enterprise, actor.enterprise_id)
    underlying = resolve(
        session,
        underlying_kind,
        underlying_ref,
        applicant.id,
        on,
        prices=owner_of_product(product_row),
    )
    credit_line = _find_line(session, bank_row.id, applicant.id, line, on)
    facts, score, avail = _facts(
        session,
        actor,
        bank_id=bank_row.id,
        applicant=applicant,
        config=config,
        underlying=underlying,
        line=credit_line,
        amount=amount,
        tenor_months=tenor_months,
        method=method,
        on=on,
    )
    decided = rules.decide(facts, config)
    now = utcnow()
    app = LoanApplication(
        id=new_id("application"),
        bank_id=bank_row.id,
        product_id=product_row.id,
        applicant_id=applicant.id,
        line_id=credit_line.id if credit_line else None,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        tenor_months=tenor_months,
        method=method,
        underlying_kind=underlying_kind,
        underlying_ref=underlying_ref,
        underlying_key=underlying.key,
        underlying_value_minor=underlying.value_minor,
        payee_name=payee.name.strip(),
        payee_account=payee.account.replace(" ", ""),
        payee_agent=payee.agent,
        status=states.initial(LoanApplication),
        score=score.points,
        decision={
            **decided.to_dict(),
            "score": {"points": score.points, "reasons": list(score.reasons)},
            "decided_on": on.isoformat(),
        },
        conditions=[],
        reservation_id=None,
        submitted_by=actor.label,
        submitted_at=now,
        decided_by=None,
        decided_at=None,
    )
    session.add(app)
    session.flush()
    if decided.outcome is rules.Outcome.DECLINE:
        _finish(app, "decline", "system")
    elif decided.outcome is rules.Outcome.APPROVE:
        if avail is None:
            raise AssertionError("an approved application has a line")
        try:
            with session.begin_nested():
                _approve(session, actor, app, product_row, config, underlying, avail, on)
        except Conflict as exc:
            # between reading the facts and approving, another approval took a limit, the
            # line was frozen or expired (LimitExceeded), or the same underlying was
            # registered: the decline names what refused, with the rules' own code
            if CODES[exc.code].decision != rules.Outcome.DECLINE:
                raise
            reason = rules.Reason(exc.code, rules.Outcome.DECLINE, exc.message)
            app.decision = {
                **app.decision,
                "outcome": "decline",
                "reasons": [*app.decision["reasons"], reason.to_dict()],
            }
            _finish(app, "decline", "system")
        else:
            _finish(app, "approve", "system")
    else:
        for task in decided.tasks:
            _open_task(session, app, task.value, decided)
    session.flush()
    ledger.one(
        session,
        actor,
        f"application.{app.status}",
        _change("application", app),
        *(_change("task", t) for t in _tasks(session, app.id)),
        *(_change("loan", loan) for loan in _loans(session, app.id)),
    )
    audit.record(
        session,
        actor,
        "application.submit",
        "application",
        app.id,
        {"outcome": decided.outcome.value, "codes": list(decided.codes)},
    )
    return app


def _finish(app: LoanApplication, event: str, by: str) -> None:
    states.move(app, event)
    app.decided_by = by
    app.decided_at = utcnow()


def _open_task(
    session: Session, app: LoanApplication, kind: str, decided: rules.Decision
) -> DueDiligenceTask:
    because = [
        r.code for r in decided.reasons if rules.TASKS_BY_RULE.get(r.code) == rules.TaskKind(kind)
    ]
    manager = session.scalar(
        select(BankCustomer.relationship_manager_id).where(
            BankCustomer.bank_id == app.bank_id, BankCustomer.enterprise_id == app.applicant_id
        )
    )
    task = DueDiligenceTask(
        id=new_id("task"),
        application_id=app.id,
        bank_id=app.bank_id,
        enterprise_id=app.applicant_id,
        kind=kind,
        reasons=because,
        state=states.initial(DueDiligenceTask),
        assignee_id=manager,
        result=None,
        completed_by=None,
        completed_at=None,
        created_at=utcnow(),
    )
    session.add(task)
    return task


def _tasks(session: Session, application_id: str) -> list[DueDiligenceTask]:
    return list(
        session.scalars(
            select(DueDiligenceTask)
            .where(DueDiligenceTask.application_id == application_id)
            .order_by(DueDiligenceTask.kind)
        )
    )


def _loans(session: Session, application_id: str) -> list[Loan]:
    return list(session.scalars(select(Loan).where(Loan.application_id == application_id)))


def _approve(
    session: Session,
    actor: Principal,
    app: LoanApplication,
    product_row: LoanProduct,
    config: ProductConfig,
    underlying: Underlying,
    avail: limits.Availability,
    on: date,
) -> Loan:
    """Reserve the limit, register the underlying, create the loan."""
    amount = Money(app.amount_minor, app.currency)
    reservation = limits.reserve(session, actor, avail, application_id=app.id, amount=amount, on=on)
    app.reservation_id = reservation.id
    loan_id = new_id("loan")
    if underlying.key is not None:
        receivables.register_key(
            session,
            actor,
            key=underlying.key,
            what=f"{underlying.kind} {underlying.ref}",
            kind="transfer" if underlying.kind == "credential_piece" else "pledge",
            creditor_id=app.applicant_id,
            debtor_id=underlying.debtor_id or underlying.counterparty_id or app.applicant_id,
            bank_id=app.bank_id,
            amount=Money(underlying.value_minor, app.currency),
            due_on=underlying.due_on,
            financing_ref=loan_id,
        )
    fixing = rates.in_force(session, on)
    if fixing is None:
        raise ValidationFailed(
            [FieldError("on", f"no LPR fixing on record on or before {on}")],
            code="lpr_fixing_missing",
        )
    rate = fixing.rate_1y + Decimal(config.spread_bp) / 100
    body = loan_id.split("_", 1)[1]
    now = utcnow()
    loan = Loan(
        id=loan_id,
        application_id=app.id,
        bank_id=app.bank_id,
        borrower_id=app.applicant_id,
        product_id=product_row.id,
        product_kind=product_row.kind,
        line_id=avail.line.id,
        reference=f"RPY-{body[-12:]}",
        currency=app.currency,
        principal_minor=app.amount_minor,
        annual_rate=str(rate),
        penalty_rate=str((rate * config.penalty_multiplier).quantize(Decimal("0.0001"))),
        day_count=config.day_count,
        method=app.method,
        term_months=app.tenor_months,
        start_on=None,
        maturity_on=None,
        schedule=[],
        principal_paid_minor=0,
        principal_prepaid_minor=0,
        interest_paid_minor=0,
        penalty_charged_minor=0,
        penalty_paid_minor=0,
        penalty_through=None,
        status=states.initial(Loan),
        dpd=0,
        category=LoanCategory.NORMAL.value,
        flags=[],
        payee_name=app.payee_name,
        payee_account=app.payee_account,
        payee_agent=app.payee_agent,
        end_to_end_id=f"LN{body}",
        disbursement_id=None,
        disbursement_confirmed_at=None,
        collateral={
            **underlying.collateral,
            "kind": underlying.kind,
            "ref": underlying.ref,
            "value_minor": underlying.value_minor,
            "payee": config.payee.value,
        },
        released_minor=0,
        created_at=now,
        updated_at=now,
    )
    session.add(loan)
    session.flush()
    return loan


# ---------------------------------------------------------------------------- people


def _staff_app(session: Session, actor: Principal, application_id: str) -> LoanApplication:
    why = "applications are reviewed by the bank's staff"
    return scoping.own_bank_record(
        session, actor, LoanApplication, application_id, "application", why
    )


def _steps(session: Session, application_id: str) -> dict[str, ApplicationApproval]:
    rows = session.scalars(
        select(ApplicationApproval).where(ApplicationApproval.application_id == application_id)
    )
    return {row.step: row for row in rows}


def review(
    session: Session,
    actor: Principal,
    application_id: str,
    *,
    action: str,
    note: str,
    conditions: list[str] | None = None,
    on: date | None = None,
) -> LoanApplication:
    """One person's step on a referred application. The first is the maker's (recommend or
    decline); the second the checker's — another person, with authority for the amount, after
    every due-diligence task is done. A decline at either step ends the application."""
    actor.require(Scope.LOANS_APPROVE)
    app = _staff_app(session, actor, application_id)
    if app.status != "referred":
        raise Conflict(
            f"application {app.id} is {app.status}; only referred ones are reviewed",
            code="application_not_referred",
        )
    if action not in ("approve", "decline"):
        raise ValidationFailed(
            [FieldError("action", "approve or decline")], code="review_action_invalid"
        )
    if not note.strip():
        raise ValidationFailed(
            [FieldError("note", "say why: the note is the credit memo")], code="note_required"
        )
    conditions = [c.strip() for c in (conditions or []) if c.strip()]
    steps = _steps(session, app.id)
    product_row = _get(session, LoanProduct, app.product_id)
    config = products.config_of(product_row)
    level = products.authority_level(session, app.bank_id, actor.subject_id)
    step = "maker" if "maker" not in steps else "checker"
    if step == "checker":
        maker = steps["maker"]
        if maker.user_id == actor.subject_id:
            raise ApprovalRefused(
                "the checker must be another person than the maker (four eyes)",
                hint="Ask a colleague with credit authority to check it.",
                code="four_eyes_required",
            )
        needed = config.required_level(app.amount_minor)
        if action == "approve" and (needed is None or level is None or level < needed):
            amount = Money(app.amount_minor, app.currency)
            raise ApprovalRefused(
                f"approving {amount} needs authority level {needed or 'above every level'}; "
                f"you hold {level or 'none'}",
                hint="Refer it up to an approver with the authority.",
                code="authority_insufficient",
            )
        open_tasks = [t for t in _tasks(session, app.id) if t.state == "open"]
        if action == "approve" and open_tasks:
            listed = ", ".join(f"{t.kind} {t.id}" for t in open_tasks)
            raise ApprovalRefused(
                f"due diligence is not finished: {listed} still open",
                hint="Complete the site visit / financial analysis first.",
                code="due_diligence_open",
            )
    row = ApplicationApproval(
        id=new_id("approval"),
        application_id=app.id,
        user_id=actor.subject_id,
        step=step,
        action=action,
        level=level,
        conditions=conditions,
        note=note.strip(),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    touched: list[Any] = []
    if action == "decline":
        _finish(app, "decline", actor.label)
        for task in _tasks(session, app.id):
            if task.state == "open":
                states.move(task, "cancel")
                touched.append(_change("task", task))
    elif step == "checker":
        on = on or clock.today()
        underlying = resolve(
            session,
            app.underlying_kind,
            app.underlying_ref,
            app.applicant_id,
            on,
            prices=owner_of_product(product_row),
        )
        if not underlying.found:
            raise ApprovalRefused(
                f"the underlying {app.underlying_ref} is no longer available",
                code="underlying_missing",
            )
        if app.line_id is None:
            raise ApprovalRefused(
                "the application has no credit line to draw on", code="line_missing"
            )
        line = _get(session, CreditLine, app.line_id)
        avail = limits.availability(
            session, line, member_id=app.applicant_id, product_kind=product_row.kind
        )
        loan = _approve(session, actor, app, product_row, config, underlying, avail, on)
        every = [*steps["maker"].conditions, *conditions]
        app.conditions = [{"text": c, "met": False, "met_by": None, "met_at": None} for c in every]
        _finish(app, "approve", actor.label)
        touched.append(_change("loan", loan))
    session.flush()
    ledger.one(
        session,
        actor,
        f"application.{step}_{action}",
        _change("application", app),
        _change("approval", row),
        *touched,
    )
    audit.record(
        session, actor, f"application.{step}.{action}", "application", app.id, {"level": level}
    )
    return app


def meet_condition(
    session: Session, actor: Principal, application_id: str, index: int, *, note: str
) -> LoanApplication:
    """Mark an approval condition met (a signed guarantee, a deposit received)."""
    actor.require(Scope.LOANS_WRITE)
    app = _staff_app(session, actor, application_id)
    if not 1 <= index <= len(app.conditions):
        raise ValidationFailed(
            [FieldError("index", f"must be 1 to {len(app.conditions)}")],
            code="condition_index_out_of_range",
        )
    conditions = [dict(c) for c in app.conditions]
    if conditions[index - 1]["met"]:
        raise Conflict(f"condition {index} is already met", code="condition_already_met")
    conditions[index - 1].update(
        {"met": True, "met_by": actor.label, "met_at": utcnow().isoformat(), "note": note}
    )
    app.conditions = conditions
    session.flush()
    ledger.one(session, actor, "application.condition_met", _change("application", app))
    audit.record(session, actor, "application.condition", "application", app.id, {"n": index})
    return app


def withdraw(session: Session, actor: Principal, application_id: str) -> LoanApplication:
    """The applicant withdraws before disbursement; an approval's hold and registration go."""
    actor.require(Scope.LOANS_APPLY)
    applicant = scoping.enterprise_of(actor, "the applicant withdraws its application")
    app = session.get(LoanApplication, application_id)
    if app is None or app.applicant_id != applicant:
        raise NotFound(f"no application {application_id!r}", code="application_not_found")
    if app.status not in ("referred", "approved"):
        raise Conflict(
            f"application {app.id} is {app.status}; it can no longer be withdrawn",
            code="application_not_withdrawable",
        )
    cancel_approval(session, actor, app, "withdraw")
    return app


def lapse(session: Session, actor: Principal) -> int:
    """Approvals never drawn within the hold's time lapse: the hold expires, the loan is
    cancelled and the underlying released."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None and not actor.is_system:
        raise Forbidden("a bank lapses its own approvals", code="bank_staff_only")
    now = utcnow()
    query = (
        select(LoanApplication)
        .join(LineReservation, LineReservation.id == LoanApplication.reservation_id)
        .where(
            LoanApplication.status == "approved",
            LineReservation.state == "pending",
            LineReservation.expires_at < now,
        )
    )
    if actor.bank_id is not None:
        query = query.where(LoanApplication.bank_id == actor.bank_id)
    lapsed = list(session.scalars(query))
    for app in lapsed:
        cancel_approval(session, actor, app, "lapse", hold_state="expired")
    return len(lapsed)


def cancel_approval(
    session: Session,
    actor: Principal,
    app: LoanApplication,
    event: str,
    *,
    hold_state: str = "voided",
) -> None:
    """Withdraw (``event`` "withdraw") or lapse ("lapse") an application before disbursement:
    its approved loan is cancelled, its hold voided or expired, its open tasks cancelled."""
    status = LOAN_APPLICATION.next(app.status, event, subject=app.id).value
    touched: list[Any] = []
    for loan in _loans(session, app.id):
        states.move(loan, "cancel")
        loan.updated_at = utcnow()
        touched.append(_change("loan", loan))
    if app.reservation_id is not None:
        reservation = _get(session, LineReservation, app.reservation_id)
        if reservation.state == "pending":
            limits.void(session, actor, reservation, state=hold_state)
    if app.underlying_key is not None and app.status == "approved":
        receivables.release_key(session, actor, app.underlying_key)
    for task in _tasks(session, app.id):
        if task.state == "open":
            states.move(task, "cancel")
            touched.append(_change("task", task))
    _finish(app, event, actor.label)
    session.flush()
    ledger.one(session, actor, f"application.{status}", _change("application", app), *touched)
    audit.record(session, actor, f"application.{status}", "application", app.id, {})


# ---------------------------------------------------------------------------- reads


def application_for(session: Session, actor: Principal, application_id: str) -> LoanApplication:
    actor.require(Scope.LOANS_READ)
    app = session.get(LoanApplication, application_id)
    if app is None or not scoping.bank_or_party(actor, app.bank_id, app.applicant_id):
        raise NotFound(f"no application {application_id!r}", code="application_not_found")
    return app


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Which applications to list: by state, applicant (USCC or id), product (id), and the
    business days they were submitted on (China Standard Time)."""

    status: str | None = None
    applicant: str | None = None
    product: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None


def applications(
    session: Session,
    actor: Principal,
    only: ApplicationFilter = ApplicationFilter(),
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[LoanApplication]:
    """Applications to the bank, or the enterprise's own, oldest first."""
    actor.require(Scope.LOANS_READ)
    query = select(LoanApplication).where(
        scoping.by_bank_or_party(actor, LoanApplication.bank_id, LoanApplication.applicant_id),
        *filters.instants(
            LoanApplication.submitted_at,
            only.submitted_from,
            only.submitted_to,
            names=("submitted_from", "submitted_to"),
        ),
    )
    if only.status is not None:
        query = query.where(LoanApplication.status == only.status)
    if only.applicant is not None:
        applicant = filters.party_id(session, only.applicant)
        query = query.where(LoanApplication.applicant_id == applicant)
    if only.product is not None:
        query = query.where(LoanApplication.product_id == only.product)
    return paginate(session, query, LoanApplication.id, cursor=cursor, limit=limit)


def approvals_of(session: Session, application_id: str) -> list[ApplicationApproval]:
    """The people's steps on an application, in the order they were taken."""
    return sorted(_steps(session, application_id).values(), key=lambda a: a.created_at)


def tasks_of(session: Session, application_id: str) -> list[DueDiligenceTask]:
    """The due-diligence tasks the rules opened for an application."""
    return _tasks(session, application_id)


def loan_of(session: Session, application_id: str) -> Loan | None:
    """The loan an approval created, if any."""
    found = _loans(session, application_id)
    return found[0] if found else None
