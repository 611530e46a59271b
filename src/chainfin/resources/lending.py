"""Lending as every interface shows it: credit lines, sub-limits and exposure caps; loan
products and credit authority; applications with their decision, due-diligence tasks,
approvals and conditions; disbursement files and imported bank statements; loans with their
schedule and position, repayments and goods releases; prices of pledged goods; the batch
jobs; and one line of the general-ledger export.

Each model is built from the service layer's rows with ``build`` and printed with
``model_dump(mode="json")`` (API answers, ``--json`` in the CLI). Amounts are decimal
strings in major units beside the resource's ``currency``; rates carry their unit in the
name: ``annual_rate_pct`` (``"3.60"`` is 3.60 % a year), ``advance_rate_cap_pct`` (``"90"``
is 90 % of the underlying's value), ``spread_bp`` (basis points over the LPR). A product's
configuration is sent and shown with the same names (:class:`ProductConfigIn`,
:class:`ProductConfigOut`)::

    >>> ProductConfigIn(kind="inventory_pledge", ltv_cap_pct="65").to_domain()
    {'kind': 'inventory_pledge', 'ltv_cap': '0.65'}
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    ApplicationApproval,
    ApprovalAuthority,
    CommodityPrice,
    CreditLine,
    CreditSublimit,
    DisbursementFile,
    DueDiligenceTask,
    ExposureCap,
    GoodsRelease,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanRepayment,
    PriceSource,
    StatementImport,
)
from chainfin.domain.access import Principal
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.loans import dpd_bucket
from chainfin.domain.money import Money
from chainfin.domain.products import ProductKind
from chainfin.domain.states import (
    ApplicationStatus,
    LineStatus,
    LoanStatus,
    ProductStatus,
    TaskState,
)
from chainfin.resources.common import MoneyOut, Written, pct
from chainfin.services import scoping
from chainfin.services.lending.products import INTERNAL

if TYPE_CHECKING:
    from chainfin.services.books import LedgerLine
    from chainfin.services.lending.loans import Position

# The books and the applications' services are imported where they are used: a CLI read of
# lines or loans then loads neither (bench/cli_start.py).


def _currency() -> Any:
    return Field(description="ISO 4217 code of every amount in this resource", examples=["CNY"])


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


def _stored_amount(value: Any) -> str | None:
    """An amount as a stored record keeps it (``{"amount": "1.00", "currency": "CNY"}``)."""
    return None if not isinstance(value, Mapping) else str(value["amount"])


def _stored_money(value: Any) -> MoneyOut | None:
    if not isinstance(value, Mapping):
        return None
    return MoneyOut(amount=str(value["amount"]), currency=str(value["currency"]))


def _fraction_pct(value: Any) -> str | None:
    """A stored fraction (``"0.7"``) as the interface's percent (``"70"``)."""
    return None if value is None else pct(Decimal(str(value)), fraction=True)


# ---------------------------------------------------------------------------- credit lines


class CreditLineOut(BaseModel):
    """A bank's credit line to an obligor (a core enterprise, or a chain member under its
    core's credit), used in two phases: ``pending`` while approvals hold it, ``posted`` once
    their loans are paid out, released as principal is repaid."""

    id: str = Field(examples=["line_01M97X7MF0B7YA641ZP02GTYEG"])
    bank_id: str
    obligor_id: str = Field(description="the enterprise that borrows under the line")
    core_id: str = Field(description="the core enterprise whose chain it serves")
    guarantor_id: str | None = Field(None, description="the guarantor, if any")
    currency: str = _currency()
    limit: str = Field(examples=["20000000.00"])
    pending: str = Field(description="held by approved applications not yet paid out")
    posted: str = Field(description="drawn by loans paid out and not yet repaid")
    available: str = Field(description="limit − pending − posted", examples=["19600000.00"])
    revolving: bool = Field(description="repaid principal can be lent again")
    status: LineStatus = Field(examples=["active"], description="active, frozen, expired or closed")
    status_reason: str | None = Field(None, description="why it was frozen, closed or expired")
    starts_on: date
    expires_on: date
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, line: CreditLine) -> CreditLineOut:
        c = line.currency
        return cls(
            id=line.id,
            bank_id=line.bank_id,
            obligor_id=line.obligor_id,
            core_id=line.core_id,
            guarantor_id=line.guarantor_id,
            currency=c,
            limit=_amount(line.limit_minor, c),
            pending=_amount(line.pending_minor, c),
            posted=_amount(line.posted_minor, c),
            available=_amount(line.limit_minor - line.pending_minor - line.posted_minor, c),
            revolving=line.revolving,
            status=line.status,
            status_reason=line.status_reason,
            starts_on=line.starts_on,
            expires_on=line.expires_on,
            created_by=line.created_by,
            created_at=line.created_at,
        )


class CreditLineWrittenOut(CreditLineOut, Written):
    """The line just opened, frozen, unfrozen or closed, with its ledger receipt."""


class SublimitOut(BaseModel):
    """Part of a line carved out for one product kind, one chain member, or both: a loan of
    that kind or to that member draws on the sub-limit and the line together."""

    id: str = Field(examples=["sublimit_01M97X7MF0B7YA641ZP02GTYEG"])
    line_id: str
    product_kind: ProductKind | None = Field(None, description="only loans of this kind")
    member_id: str | None = Field(None, description="only loans to this chain member")
    currency: str = _currency()
    limit: str = Field(examples=["10000000.00"])
    pending: str
    posted: str
    available: str = Field(description="limit − pending − posted")
    created_at: datetime

    @classmethod
    def build(cls, sub: CreditSublimit, currency: str) -> SublimitOut:
        return cls(
            id=sub.id,
            line_id=sub.line_id,
            product_kind=ProductKind(sub.product_kind) if sub.product_kind else None,
            member_id=sub.member_id,
            currency=currency,
            limit=_amount(sub.limit_minor, currency),
            pending=_amount(sub.pending_minor, currency),
            posted=_amount(sub.posted_minor, currency),
            available=_amount(sub.limit_minor - sub.pending_minor - sub.posted_minor, currency),
            created_at=sub.created_at,
        )


class CreditLineDetailOut(CreditLineOut):
    """One line with its sub-limits."""

    sublimits: list[SublimitOut]

    @classmethod
    def build_with(
        cls, line: CreditLine, sublimits: Sequence[CreditSublimit]
    ) -> CreditLineDetailOut:
        return cls(
            **CreditLineOut.build(line).model_dump(),
            sublimits=[SublimitOut.build(s, line.currency) for s in sublimits],
        )


class SublimitWrittenOut(SublimitOut, Written):
    """The sub-limit just carved out, the line it belongs to, and the ledger receipt."""

    line: CreditLineOut

    @classmethod
    def build_with(cls, sub: CreditSublimit, line: CreditLine) -> SublimitWrittenOut:
        return cls(
            **SublimitOut.build(sub, line.currency).model_dump(), line=CreditLineOut.build(line)
        )


class ExposureCapOut(BaseModel):
    """A cap on what the bank may have reserved and drawn against one core enterprise's
    chain (``kind`` core) or one group of related parties (``kind`` group)."""

    id: str = Field(examples=["cap_01M97X7MF0B7YA641ZP02GTYEG"])
    bank_id: str
    kind: str = Field(description="core or group", examples=["core"])
    name: str = Field(examples=["chain of core A"])
    core_id: str | None = Field(None, description="the core enterprise (kind core)")
    members: list[str] = Field(description="the related parties' ids (kind group), sorted")
    currency: str = _currency()
    cap: str = Field(examples=["50000000.00"])
    used: str = Field(description="reserved and drawn under the cap")
    available: str = Field(description="cap − used")
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, cap: ExposureCap, members: Sequence[str]) -> ExposureCapOut:
        c = cap.currency
        return cls(
            id=cap.id,
            bank_id=cap.bank_id,
            kind=cap.kind,
            name=cap.name,
            core_id=cap.core_id,
            members=sorted(members),
            currency=c,
            cap=_amount(cap.cap_minor, c),
            used=_amount(cap.used_minor, c),
            available=_amount(cap.cap_minor - cap.used_minor, c),
            created_by=cap.created_by,
            created_at=cap.created_at,
        )


class ExposureCapWrittenOut(ExposureCapOut, Written):
    """The cap just set, with its ledger receipt."""


class LinesExpiredOut(BaseModel):
    """The daily job that expires lines past their expiry date."""

    as_of: date
    expired: int = Field(description="lines that expired in this run")


class LinesExpiredWrittenOut(LinesExpiredOut, Written):
    """The run, with the ledger receipt of what it changed (null if nothing)."""


# ---------------------------------------------------------------------------- products

# The product configuration's fractions, named with their unit in the interface.
_PCT_KEYS = {
    "advance_rate_cap_pct": "advance_rate_cap",
    "ltv_cap_pct": "ltv_cap",
    "margin_call_ltv_pct": "margin_call_ltv",
}
_DOMAIN_RATIO = re.compile(r"\b(advance_rate_cap|ltv_cap|margin_call_ltv)\b(?: \(([0-9.]+)\))?")
_RATIO_REASON = "must be a decimal above 0 and at most 1"


class AuthorityLevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: StrictInt = Field(examples=[1])
    max_amount: str = Field(examples=["1000000.00"], description="decimal string")


class ProductConfigIn(BaseModel):
    """A product's configuration: ``kind`` plus any overrides of the kind's template
    (every key left out keeps the template's value). Amounts are decimal strings in major
    units of ``currency``; ``*_pct`` are percentages (``"90"`` is 90 %)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "receivable_financing", "spread_bp": 60}]},
    )

    kind: ProductKind
    currency: str | None = Field(None, examples=["CNY"])
    min_amount: str | None = Field(None, examples=["10000.00"])
    max_amount: str | None = Field(None, examples=["50000000.00"])
    min_tenor_months: StrictInt | None = None
    max_tenor_months: StrictInt | None = None
    methods: list[str] | None = Field(None, examples=[["bullet", "equal_principal"]])
    day_count: str | None = Field(None, examples=["ACT/360"])
    spread_bp: StrictInt | None = Field(None, description="over the 1-year LPR", examples=[50])
    penalty_multiplier: str | None = Field(
        None, description="penalty rate = this × the contract rate", examples=["1.5"]
    )
    underlying: list[str] | None = Field(None, examples=[["credential_piece", "invoice"]])
    advance_rate_cap_pct: str | None = Field(
        None, description="the most lent against the underlying's value, in %", examples=["90"]
    )
    ltv_cap_pct: str | None = Field(
        None, description="loan-to-value cap of a pledge, in % (or null)", examples=["70"]
    )
    margin_call_ltv_pct: str | None = Field(
        None, description="loan-to-value above which a margin call is raised, in %"
    )
    price_source: str | None = Field(
        None, description="platform price source code; null: the bank's own prices"
    )
    auto_approve_limit: str | None = None
    min_score: StrictInt | None = None
    min_score_auto: StrictInt | None = None
    site_visit_above: str | None = None
    financial_analysis_above: str | None = None
    new_customer_site_visit: StrictBool | None = None
    consent_categories: list[str] | None = None
    payee: str | None = Field(None, description="borrower or core")
    core_guarantee_required: StrictBool | None = None
    buyback_after_dpd: StrictInt | None = None
    authority: list[AuthorityLevelIn] | None = None

    @classmethod
    def parse(cls, data: object, field: str = "config") -> ProductConfigIn:
        """Read a configuration (a JSON object), or raise ValidationFailed naming the keys."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed(
                [
                    FieldError(".".join(str(p) for p in e["loc"]) or field, e["msg"])
                    for e in exc.errors()
                ]
            ) from None

    def to_domain(self) -> dict[str, object]:
        """The configuration as :meth:`chainfin.domain.products.ProductConfig.from_dict`
        reads it: keys sent only, percentages as fractions."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        errors: list[FieldError] = []
        for key, domain_key in _PCT_KEYS.items():
            if key not in data:
                continue
            value = data.pop(key)
            try:
                data[domain_key] = None if value is None else format(Decimal(value) / 100, "f")
            except InvalidOperation:
                errors.append(FieldError(key, "must be a percentage as a decimal string, '90'"))
        if errors:
            raise ValidationFailed(errors)
        return data

    @staticmethod
    @contextmanager
    def interface_names() -> Iterator[None]:
        """Report the domain's refusals of a configuration under the interface's names
        (``advance_rate_cap`` → ``advance_rate_cap_pct``, fractions as percentages)."""
        try:
            yield
        except ValidationFailed as exc:
            raise ValidationFailed(
                [FieldError(_pct_text(e.field), _pct_text(e.reason), e.row) for e in exc.errors],
                code=exc.code,
            ) from None


def _pct_text(text: str) -> str:
    if text == _RATIO_REASON:
        return "must be above 0 and at most 100 (a percentage)"

    def rename(m: re.Match[str]) -> str:
        value = f" ({pct(Decimal(m.group(2)), fraction=True)})" if m.group(2) else ""
        return f"{m.group(1)}_pct{value}"

    return _DOMAIN_RATIO.sub(rename, text)


class AuthorityLevelOut(BaseModel):
    level: int = Field(examples=[1])
    max_amount: str = Field(description="the most this level approves", examples=["1000000.00"])


class ProductConfigOut(BaseModel):
    """A product's configuration. The decision settings (``auto_approve_limit``, the score
    bars, due-diligence thresholds, the authority ladder) are shown to the bank's own staff
    only; an applicant sees null there."""

    kind: ProductKind
    currency: str = _currency()
    min_amount: str = Field(examples=["10000.00"])
    max_amount: str = Field(examples=["50000000.00"])
    min_tenor_months: int
    max_tenor_months: int
    methods: list[str] = Field(examples=[["bullet"]])
    day_count: str = Field(examples=["ACT/360"])
    spread_bp: int = Field(description="over the 1-year LPR, in basis points", examples=[50])
    penalty_multiplier: str = Field(
        description="penalty rate = this × the contract rate", examples=["1.5"]
    )
    underlying: list[str] = Field(examples=[["credential_piece", "invoice"]])
    advance_rate_cap_pct: str = Field(
        description="the most lent against the underlying's value, in %", examples=["90"]
    )
    ltv_cap_pct: str | None = Field(None, description="loan-to-value cap of a pledge, in %")
    margin_call_ltv_pct: str | None = Field(None, description="margin call above this LTV, %")
    price_source: str | None = Field(
        None, description="the platform source valuing collateral; null: the bank's own"
    )
    consent_categories: list[str]
    payee: str = Field(description="borrower or core", examples=["borrower"])
    core_guarantee_required: bool
    buyback_after_dpd: int | None = None
    auto_approve_limit: str | None = Field(None, description="bank staff only")
    min_score: int | None = Field(None, description="bank staff only")
    min_score_auto: int | None = Field(None, description="bank staff only")
    site_visit_above: str | None = Field(None, description="bank staff only")
    financial_analysis_above: str | None = Field(None, description="bank staff only")
    new_customer_site_visit: bool | None = Field(None, description="bank staff only")
    authority: list[AuthorityLevelOut] | None = Field(None, description="bank staff only")

    @classmethod
    def build(cls, config: Mapping[str, Any], *, full: bool) -> ProductConfigOut:
        """From the stored configuration (``ProductConfig.to_dict``); ``full`` shows the
        decision settings."""
        shown = {k: v for k, v in config.items() if full or k not in INTERNAL}
        out: dict[str, Any] = {k: v for k, v in shown.items() if k in cls.model_fields}
        for key, domain_key in _PCT_KEYS.items():
            out[key] = _fraction_pct(shown.get(domain_key))
        return cls(**out)


class LoanProductOut(BaseModel):
    """A bank's loan product: a kind and a configuration of rules."""

    id: str = Field(examples=["product_01M97X7MF0B7YA641ZP02GTYEG"])
    bank_id: str
    code: str = Field(examples=["RF"])
    name: str = Field(examples=["receivable financing"])
    kind: ProductKind
    status: ProductStatus = Field(examples=["active"])
    config: ProductConfigOut
    created_at: datetime

    @classmethod
    def build(cls, row: LoanProduct, viewer: Principal) -> LoanProductOut:
        """In full for its bank's staff (and the operator); its catalogue terms for
        applicants and platforms."""
        return cls(
            id=row.id,
            bank_id=row.bank_id,
            code=row.code,
            name=row.name,
            kind=ProductKind(row.kind),
            status=row.status,
            config=ProductConfigOut.build(row.config, full=scoping.owns(viewer, row.bank_id)),
            created_at=row.created_at,
        )


class LoanProductWrittenOut(LoanProductOut, Written):
    """The product just defined, with its ledger receipt."""


class ApprovalAuthorityOut(BaseModel):
    """Credit authority a bank delegated to one of its staff: approvals up to the product's
    amount for the level."""

    bank_id: str
    user_id: str
    level: int = Field(examples=[2])
    granted_by: str
    granted_at: datetime

    @classmethod
    def build(cls, row: ApprovalAuthority) -> ApprovalAuthorityOut:
        return cls(
            bank_id=row.bank_id,
            user_id=row.user_id,
            level=row.level,
            granted_by=row.granted_by,
            granted_at=row.granted_at,
        )


class ApprovalAuthorityWrittenOut(ApprovalAuthorityOut, Written):
    """The authority just granted, with its ledger receipt."""


# ---------------------------------------------------------------------------- applications


class UnderlyingOut(BaseModel):
    kind: str = Field(examples=["invoice"])
    ref: str = Field(description="the underlying's id or reference")
    value: str = Field(description="its value, in the application's currency")


class PayeeOut(BaseModel):
    name: str
    account: str = Field(description="masked: the last four digits", examples=["***3445"])


class ReasonOut(BaseModel):
    code: str = Field(examples=["above_auto_limit"])
    outcome: str = Field(description="decline or refer", examples=["refer"])
    message: str


class ScoreOut(BaseModel):
    points: int = Field(examples=[640])
    reasons: list[str]


class DecisionOut(BaseModel):
    """What the rules decided and every reason."""

    outcome: str = Field(description="approve, refer or decline", examples=["refer"])
    reasons: list[ReasonOut]
    tasks: list[str] = Field(description="the due-diligence tasks the rules asked for")
    score: ScoreOut | None = None
    decided_on: date | None = None

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> DecisionOut:
        score = stored.get("score")
        return cls(
            outcome=stored["outcome"],
            reasons=[ReasonOut(**r) for r in stored.get("reasons", [])],
            tasks=list(stored.get("tasks", [])),
            score=ScoreOut(**score) if isinstance(score, Mapping) else None,
            decided_on=stored.get("decided_on"),
        )


class ConditionOut(BaseModel):
    """A condition an approval set, to be met before the money moves."""

    number: int = Field(description="its number, from 1 (to mark it met)")
    text: str
    met: bool
    met_by: str | None = None
    met_at: datetime | None = None
    note: str | None = None


class ApprovalStepOut(BaseModel):
    step: str = Field(description="maker or checker")
    action: str = Field(description="approve or decline")
    user_id: str
    level: int | None = Field(None, description="the person's authority level then")
    conditions: list[str]
    note: str
    at: datetime

    @classmethod
    def build(cls, a: ApplicationApproval) -> ApprovalStepOut:
        return cls(
            step=a.step,
            action=a.action,
            user_id=a.user_id,
            level=a.level,
            conditions=list(a.conditions),
            note=a.note,
            at=a.created_at,
        )


class TaskSummaryOut(BaseModel):
    id: str
    kind: str = Field(examples=["site_visit"])
    state: TaskState = Field(examples=["open"])
    reasons: list[str]


class LoanApplicationOut(BaseModel):
    """An application for a loan: what was asked, what the rules decided and why, the
    people's steps, the due-diligence tasks, the conditions and the loan it became."""

    id: str = Field(examples=["application_01M97X7MF0B7YA641ZP02GTYEG"])
    bank_id: str
    product_id: str
    applicant_id: str
    line_id: str | None = Field(None, description="the credit line it draws on")
    currency: str = _currency()
    amount: str = Field(examples=["400000.00"])
    tenor_months: int = Field(examples=[3])
    method: str = Field(examples=["bullet"])
    underlying: UnderlyingOut
    payee: PayeeOut
    status: ApplicationStatus = Field(examples=["approved"])
    decision: DecisionOut
    conditions: list[ConditionOut]
    approvals: list[ApprovalStepOut]
    tasks: list[TaskSummaryOut]
    loan_id: str | None = Field(None, description="the loan, once approved")
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None

    @classmethod
    def build(cls, session: Session, app: LoanApplication) -> LoanApplicationOut:
        """The application with its approvals, tasks and loan (read in ``session``)."""
        from chainfin.services.lending import applications

        c = app.currency
        loan = applications.loan_of(session, app.id)
        return cls(
            id=app.id,
            bank_id=app.bank_id,
            product_id=app.product_id,
            applicant_id=app.applicant_id,
            line_id=app.line_id,
            currency=c,
            amount=_amount(app.amount_minor, c),
            tenor_months=app.tenor_months,
            method=app.method,
            underlying=UnderlyingOut(
                kind=app.underlying_kind,
                ref=app.underlying_ref,
                value=_amount(app.underlying_value_minor, c),
            ),
            payee=PayeeOut(name=app.payee_name, account=_mask(app.payee_account)),
            status=app.status,
            decision=DecisionOut.build(app.decision),
            conditions=[
                ConditionOut(
                    number=n,
                    text=cond["text"],
                    met=cond["met"],
                    met_by=cond.get("met_by"),
                    met_at=cond.get("met_at"),
                    note=cond.get("note"),
                )
                for n, cond in enumerate(app.conditions, 1)
            ],
            approvals=[
                ApprovalStepOut.build(a) for a in applications.approvals_of(session, app.id)
            ],
            tasks=[
                TaskSummaryOut(id=t.id, kind=t.kind, state=t.state, reasons=list(t.reasons))
                for t in applications.tasks_of(session, app.id)
            ],
            loan_id=loan.id if loan is not None else None,
            submitted_by=app.submitted_by,
            submitted_at=app.submitted_at,
            decided_by=app.decided_by,
            decided_at=app.decided_at,
        )


class LoanApplicationWrittenOut(LoanApplicationOut, Written):
    """The application after this step, with its ledger receipt."""


def _mask(account: str) -> str:
    return "*" * max(0, len(account) - 4) + account[-4:]


class LapseRunOut(BaseModel):
    """The job that cancels approvals whose limit hold expired undrawn."""

    lapsed: int = Field(description="approvals cancelled in this run")


class LapseRunWrittenOut(LapseRunOut, Written):
    """The run, with the ledger receipt of what it changed (null if nothing)."""


# ---------------------------------------------------------------------------- due diligence


class GpsOut(BaseModel):
    lat: str = Field(examples=["31.3"], description="decimal degrees")
    lon: str = Field(examples=["120.7"], description="decimal degrees")


class AttachmentOut(BaseModel):
    name: str = Field(examples=["gate.jpg"])
    sha256: str = Field(description="hex digest of the file the bank keeps")


class SiteVisitResultOut(BaseModel):
    """What the visit found (the checklist as recorded) and the concerns it raises."""

    premises_verified: bool
    production_running: bool
    inventory_on_hand: str = Field(description="the stock's value seen, decimal string")
    findings: str
    gps: GpsOut
    visited_at: datetime
    attachments: list[AttachmentOut]
    staff_count_seen: int | None = None
    concerns: list[str]

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> SiteVisitResultOut:
        return cls(**{k: v for k, v in stored.items() if k in cls.model_fields})


class RatioOut(BaseModel):
    value: str | None = Field(None, description="the ratio, or null with the reason")
    reason: str | None = Field(None, description="why it could not be computed")


class RatiosOut(BaseModel):
    days: int = Field(description="days in the statements' period")
    current_ratio: RatioOut
    quick_ratio: RatioOut
    debt_to_assets_pct: RatioOut = Field(description="total liabilities / total assets, in %")
    dso_days: RatioOut
    dio_days: RatioOut
    dpo_days: RatioOut
    cash_conversion_cycle_days: RatioOut
    interest_coverage: RatioOut

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> RatiosOut:
        out: dict[str, Any] = {"days": stored["days"]}
        for name in cls.model_fields:
            if name == "days":
                continue
            ratio = dict(stored[name.removesuffix("_pct")])
            if name.endswith("_pct") and ratio.get("value") is not None:
                ratio["value"] = _fraction_pct(ratio["value"])
            out[name] = RatioOut(**ratio)
        return cls(**out)


class FindingOut(BaseModel):
    code: str = Field(examples=["low_platform_coverage"])
    severity: str = Field(examples=["medium"])
    message: str
    amount: str | None = Field(None, description="the difference at issue")
    coverage_pct: str | None = Field(
        None, description="share of the reported revenue seen on the platform, in %"
    )


class FinancialAnalysisResultOut(BaseModel):
    """Ratios, consistency findings, and reported revenue against the sales the platform
    saw (invoices net of VAT)."""

    period_start: date
    period_end: date
    currency: str = _currency()
    ratios: RatiosOut
    reported_revenue: str
    observed_sales: str
    findings: list[FindingOut]

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> FinancialAnalysisResultOut:
        start, end = stored["period"]
        return cls(
            period_start=start,
            period_end=end,
            currency=stored["reported_revenue"]["currency"],
            ratios=RatiosOut.build(stored["ratios"]),
            reported_revenue=str(stored["reported_revenue"]["amount"]),
            observed_sales=str(stored["observed_sales"]["amount"]),
            findings=[
                FindingOut(
                    code=f["code"],
                    severity=f["severity"],
                    message=f["message"],
                    amount=_stored_amount(f.get("amount")),
                    coverage_pct=_fraction_pct(f.get("coverage")),
                )
                for f in stored["findings"]
            ],
        )


class DueDiligenceTaskOut(BaseModel):
    """Offline work a rule asked for (a site visit, a financial statement analysis), done
    by the bank's people before a referred application can be approved."""

    id: str = Field(examples=["task_01M97X7MF0B7YA641ZP02GTYEG"])
    application_id: str
    enterprise_id: str = Field(description="the applicant")
    kind: str = Field(description="site_visit or financial_analysis", examples=["site_visit"])
    reasons: list[str] = Field(description="the rules that asked for it")
    state: TaskState = Field(description="open, completed or cancelled", examples=["open"])
    assignee_id: str | None = Field(None, description="the applicant's relationship manager")
    result: SiteVisitResultOut | FinancialAnalysisResultOut | None = Field(
        None, description="once completed: the visit's checklist or the analysis"
    )
    completed_by: str | None = None
    completed_at: datetime | None = None
    created_at: datetime

    @classmethod
    def build(cls, task: DueDiligenceTask) -> DueDiligenceTaskOut:
        result: SiteVisitResultOut | FinancialAnalysisResultOut | None = None
        if task.result is not None:
            result = (
                SiteVisitResultOut.build(task.result)
                if task.kind == "site_visit"
                else FinancialAnalysisResultOut.build(task.result)
            )
        return cls(
            id=task.id,
            application_id=task.application_id,
            enterprise_id=task.enterprise_id,
            kind=task.kind,
            reasons=list(task.reasons),
            state=task.state,
            assignee_id=task.assignee_id,
            result=result,
            completed_by=task.completed_by,
            completed_at=task.completed_at,
            created_at=task.created_at,
        )


class DueDiligenceTaskWrittenOut(DueDiligenceTaskOut, Written):
    """The task just completed, with its ledger receipt."""


# ---------------------------------------------------------------------------- disbursement


class DisbursedLoanOut(BaseModel):
    id: str
    end_to_end_id: str = Field(description="the EndToEndId the payment carries")
    principal: str
    payee_name: str


class DisbursementFileOut(BaseModel):
    """A pain.001.001.09 file paying loans out; fetch the XML from ``link``."""

    id: str = Field(examples=["disbursement_01M97X7MF0B7YA641ZP02GTYEG"])
    message_id: str = Field(description="the file's MsgId")
    execution_on: date = Field(description="the requested execution date: the loans' start")
    currency: str = _currency()
    count: int = Field(description="payments in the file")
    total: str = Field(examples=["400000.00"])
    digest: str = Field(description="hex SHA-256 of the XML as written")
    loans: list[DisbursedLoanOut]
    created_by: str
    created_at: datetime
    link: str = Field(examples=["/v1/disbursements/disbursement_01M9…/pain001"])

    @classmethod
    def build(cls, row: DisbursementFile, loans: Sequence[Loan]) -> DisbursementFileOut:
        c = row.currency
        return cls(
            id=row.id,
            message_id=row.message_id,
            execution_on=row.execution_on,
            currency=c,
            count=row.count,
            total=_amount(row.total_minor, c),
            digest=row.digest,
            loans=[
                DisbursedLoanOut(
                    id=loan.id,
                    end_to_end_id=loan.end_to_end_id,
                    principal=_amount(loan.principal_minor, loan.currency),
                    payee_name=loan.payee_name,
                )
                for loan in loans
            ],
            created_by=row.created_by,
            created_at=row.created_at,
            link=f"/v1/disbursements/{row.id}/pain001",
        )


class DisbursementFileWrittenOut(DisbursementFileOut, Written):
    """The file just written, with its ledger receipt."""


# ---------------------------------------------------------------------------- repayments


class RepaymentOut(BaseModel):
    """Money received on a loan and how it was applied: penalty, then interest, then
    principal; a prepayment's principal apart; anything more held as excess."""

    id: str = Field(examples=["repayment_01M97X7MF0B7YA641ZP02GTYEG"])
    loan_id: str
    currency: str = _currency()
    value_on: date
    amount: str = Field(description="what was received", examples=["403600.00"])
    penalty: str
    interest: str
    principal: str
    prepaid: str = Field(description="principal repaid early")
    excess: str = Field(description="more than was due: held as unapplied")
    payer_id: str
    source: str = Field(description="manual, statement, prepayment or buyback")
    source_ref: str | None = Field(None, description="e.g. the statement entry it came from")

    @classmethod
    def build(cls, row: LoanRepayment) -> RepaymentOut:
        c = row.currency
        return cls(
            id=row.id,
            loan_id=row.loan_id,
            currency=c,
            value_on=row.value_on,
            amount=_amount(row.amount_minor, c),
            penalty=_amount(row.penalty_minor, c),
            interest=_amount(row.interest_minor, c),
            principal=_amount(row.principal_minor, c),
            prepaid=_amount(row.prepaid_minor, c),
            excess=_amount(row.excess_minor, c),
            payer_id=row.payer_id,
            source=row.source,
            source_ref=row.source_ref,
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RepaymentOut:
        """From the copy a statement import keeps (amounts as ``{amount, currency}``)."""
        parts = ("amount", "penalty", "interest", "principal", "prepaid", "excess")
        return cls(
            **{k: v for k, v in record.items() if k in cls.model_fields and k not in parts},
            currency=record["amount"]["currency"],
            **{k: str(record[k]["amount"]) for k in parts},
        )


class RepaymentWrittenOut(RepaymentOut, Written):
    """The repayment just applied, with its ledger receipt."""


# ---------------------------------------------------------------------------- statements


class StatementSummaryOut(BaseModel):
    """One statement in the file: its account, balances and totals by currency."""

    id: str
    account: str
    currency: str = Field(description="the account's currency")
    entries: int
    opening: MoneyOut | None = Field(None, description="opening booked balance")
    closing: MoneyOut | None = Field(None, description="closing booked balance")
    credits: list[MoneyOut] = Field(description="booked and pending credits, by currency")
    debits: list[MoneyOut] = Field(description="booked and pending debits, by currency")
    balance_problems: list[str] = Field(description="what does not add up, if anything")

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> StatementSummaryOut:
        return cls(
            id=stored["id"],
            account=stored["account"],
            currency=stored["currency"],
            entries=stored["entries"],
            opening=_stored_money(stored.get("opening")),
            closing=_stored_money(stored.get("closing")),
            credits=[MoneyOut(**m) for _, m in sorted(stored["credits"].items())],
            debits=[MoneyOut(**m) for _, m in sorted(stored["debits"].items())],
            balance_problems=list(stored.get("balance_problems", [])),
        )


class MatchedEntryOut(BaseModel):
    """A statement entry matched to a disbursement (confirmed) or a loan (repaid)."""

    entry: int = Field(description="the entry's number in the file, from 1")
    key: str = Field(description="the entry's identity: a later import will not apply it again")
    kind: str = Field(description="disbursement or repayment")
    basis: str = Field(description="end_to_end_id, reference or account")
    currency: str = _currency()
    amount: str
    overpaid: str | None = Field(None, description="paid beyond what was owed")
    loan_id: str
    repayment: RepaymentOut | None = Field(None, description="how a repayment was applied")

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> MatchedEntryOut:
        repayment = stored.get("repayment")
        return cls(
            entry=stored["entry"],
            key=stored["key"],
            kind=stored["kind"],
            basis=stored["basis"],
            currency=stored["amount"]["currency"],
            amount=str(stored["amount"]["amount"]),
            overpaid=_stored_amount(stored.get("overpaid")),
            loan_id=stored["loan_id"],
            repayment=RepaymentOut.from_record(repayment) if repayment else None,
        )


class UnmatchedEntryOut(BaseModel):
    """An entry nothing on file explains, with the reason (apply it by hand if it is a
    repayment: ``source_ref`` = its key)."""

    entry: int
    key: str
    credit: bool = Field(description="money in (true) or out")
    currency: str = _currency()
    amount: str
    value_on: date
    reason: str = Field(examples=["no_loan_reference"])
    detail: str

    @classmethod
    def build(cls, stored: Mapping[str, Any]) -> UnmatchedEntryOut:
        return cls(
            entry=stored["entry"],
            key=stored["key"],
            credit=stored["credit"],
            currency=stored["amount"]["currency"],
            amount=str(stored["amount"]["amount"]),
            value_on=stored["value_on"],
            reason=stored["reason"],
            detail=stored["detail"],
        )


class StatementImportOut(BaseModel):
    """An imported camt.053 file: what matched and was applied, what did not and why."""

    id: str = Field(examples=["statement_01M97X7MF0B7YA641ZP02GTYEG"])
    message_id: str
    version: str = Field(description="camt.053.001.02 or .08")
    digest: str = Field(description="hex SHA-256 of the file: the same file imports once")
    statements: list[StatementSummaryOut]
    matched: list[MatchedEntryOut]
    unmatched: list[UnmatchedEntryOut]
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: StatementImport) -> StatementImportOut:
        return cls(
            id=row.id,
            message_id=row.message_id,
            version=row.version,
            digest=row.digest,
            statements=[StatementSummaryOut.build(s) for s in row.statements],
            matched=[MatchedEntryOut.build(m) for m in row.matched],
            unmatched=[UnmatchedEntryOut.build(u) for u in row.unmatched],
            created_by=row.created_by,
            created_at=row.created_at,
        )


class StatementImportWrittenOut(StatementImportOut, Written):
    """The import, with its ledger receipt (the first import's answer for the same file)."""


# ---------------------------------------------------------------------------- loans


class InstalmentOut(BaseModel):
    number: int
    starts_on: date
    due_on: date
    principal: str
    interest: str
    balance_after: str = Field(description="principal outstanding after it is paid")


class PaidOut(BaseModel):
    principal: str
    prepaid: str
    interest: str
    penalty: str


class PositionOut(BaseModel):
    """Where the loan stands on ``as_of``."""

    as_of: date
    principal_outstanding: str
    principal_due: str
    interest_due: str
    penalty_due: str = Field(description="charged and unpaid, with what accrues to as_of")
    total_due: str
    dpd: int = Field(description="days past due")

    @classmethod
    def build(cls, pos: Position) -> PositionOut:
        return cls(
            as_of=pos.as_of,
            principal_outstanding=pos.principal_outstanding.to_decimal_string(),
            principal_due=pos.principal_due.to_decimal_string(),
            interest_due=pos.interest_due.to_decimal_string(),
            penalty_due=pos.penalty_due.to_decimal_string(),
            total_due=pos.total_due.to_decimal_string(),
            dpd=pos.dpd,
        )


class CollateralItemOut(BaseModel):
    item: str = Field(examples=["copper foil"])
    quantity: str = Field(examples=["20"])
    unit: str = Field(examples=["t"])
    price: str = Field(description="per unit, in the loan's currency")
    priced_on: date


class CollateralOut(BaseModel):
    """What the loan is financed against and what it is worth."""

    kind: str = Field(examples=["warehouse_receipt"])
    ref: str
    payee: str = Field(description="who was paid: borrower or core")
    value: str = Field(description="the underlying's value when approved (or last valued)")
    goods_value: str | None = Field(None, description="dealer financing: the goods' value")
    core_id: str | None = Field(None, description="dealer financing: the core holding goods")
    bought_back: str | None = Field(None, description="goods the core took on buy-back")
    receipt: str | None = Field(None, description="warehouse receipt number")
    items: list[CollateralItemOut] | None = None
    valued_on: date | None = None
    ltv_pct: str | None = Field(None, description="loan-to-value at the last scan, in %")

    @classmethod
    def build(cls, stored: Mapping[str, Any], currency: str) -> CollateralOut:
        def money(key: str) -> str | None:
            value = stored.get(key)
            return None if value is None else _amount(int(value), currency)

        items = stored.get("items")
        return cls(
            kind=stored["kind"],
            ref=stored["ref"],
            payee=stored["payee"],
            value=_amount(int(stored["value_minor"]), currency),
            goods_value=money("goods_value_minor"),
            core_id=stored.get("core_id"),
            bought_back=money("bought_back_minor"),
            receipt=stored.get("receipt"),
            items=None
            if items is None
            else [
                CollateralItemOut(
                    item=i["item"],
                    quantity=i["quantity"],
                    unit=i["unit"],
                    price=str(i["price"]["amount"]),
                    priced_on=i["priced_on"],
                )
                for i in items
            ],
            valued_on=stored.get("valued_on"),
            ltv_pct=_fraction_pct(stored.get("ltv")),
        )


class LoanOut(BaseModel):
    """A loan from approval to settlement: its terms and schedule, what has been paid, its
    arrears and classification, where its money went; with ``as_of``, its position."""

    id: str = Field(examples=["loan_01M97X7MF0B7YA641ZP02GTYEG"])
    application_id: str
    bank_id: str
    borrower_id: str
    product_id: str
    product_kind: ProductKind
    line_id: str | None = None
    reference: str = Field(description="the reference a repayment quotes", examples=["RPY-…"])
    currency: str = _currency()
    principal: str = Field(examples=["400000.00"])
    annual_rate_pct: str = Field(
        description="contract rate a year, in %: 1-year LPR + the product's spread",
        examples=["3.60"],
    )
    penalty_rate_pct: str = Field(description="penalty interest a year, in %", examples=["5.4"])
    day_count: str = Field(examples=["ACT/360"])
    method: str = Field(examples=["bullet"])
    term_months: int
    start_on: date | None = Field(None, description="the disbursement date")
    maturity_on: date | None = None
    status: LoanStatus = Field(examples=["current"])
    dpd: int = Field(description="days past due at the last scan")
    dpd_bucket: str = Field(examples=["current", "1-30"])
    category: str = Field(description="five-category classification", examples=["normal"])
    flags: list[str] = Field(examples=[["extended"]])
    paid: PaidOut
    end_to_end_id: str
    disbursement_id: str | None = None
    disbursement_confirmed: bool = Field(description="the bank's statement shows it paid")
    collateral: CollateralOut
    released: str = Field(description="dealer financing: goods released so far")
    schedule: list[InstalmentOut]
    position: PositionOut | None = Field(None, description="with ?as_of=: where it stands")
    created_at: datetime

    @classmethod
    def build(cls, loan: Loan, position: Position | None = None) -> LoanOut:
        c = loan.currency
        return cls(
            id=loan.id,
            application_id=loan.application_id,
            bank_id=loan.bank_id,
            borrower_id=loan.borrower_id,
            product_id=loan.product_id,
            product_kind=ProductKind(loan.product_kind),
            line_id=loan.line_id,
            reference=loan.reference,
            currency=c,
            principal=_amount(loan.principal_minor, c),
            annual_rate_pct=loan.annual_rate,
            penalty_rate_pct=loan.penalty_rate,
            day_count=loan.day_count,
            method=loan.method,
            term_months=loan.term_months,
            start_on=loan.start_on,
            maturity_on=loan.maturity_on,
            status=loan.status,
            dpd=loan.dpd,
            dpd_bucket=dpd_bucket(loan.dpd),
            category=loan.category,
            flags=list(loan.flags),
            paid=PaidOut(
                principal=_amount(loan.principal_paid_minor, c),
                prepaid=_amount(loan.principal_prepaid_minor, c),
                interest=_amount(loan.interest_paid_minor, c),
                penalty=_amount(loan.penalty_paid_minor, c),
            ),
            end_to_end_id=loan.end_to_end_id,
            disbursement_id=loan.disbursement_id,
            disbursement_confirmed=loan.disbursement_confirmed_at is not None,
            collateral=CollateralOut.build(loan.collateral, c),
            released=_amount(loan.released_minor, c),
            schedule=[
                InstalmentOut(
                    number=r["number"],
                    starts_on=r["starts_on"],
                    due_on=r["due_on"],
                    principal=_amount(r["principal_minor"], c),
                    interest=_amount(r["interest_minor"], c),
                    balance_after=_amount(r["balance_after_minor"], c),
                )
                for r in loan.schedule
            ],
            position=PositionOut.build(position) if position is not None else None,
            created_at=loan.created_at,
        )


class LoanWrittenOut(LoanOut, Written):
    """The loan after this change (an extension), with its ledger receipt."""


class GoodsReleaseOut(BaseModel):
    """Dealer financing: goods the core released to the dealer as it repaid."""

    id: str = Field(examples=["release_01M97X7MF0B7YA641ZP02GTYEG"])
    loan_id: str
    currency: str = _currency()
    value: str = Field(examples=["100000.00"])
    note: str
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: GoodsRelease) -> GoodsReleaseOut:
        return cls(
            id=row.id,
            loan_id=row.loan_id,
            currency=row.currency,
            value=_amount(row.value_minor, row.currency),
            note=row.note,
            created_by=row.created_by,
            created_at=row.created_at,
        )


class GoodsReleaseWrittenOut(GoodsReleaseOut, Written):
    """The release just recorded, with its ledger receipt."""


class AccrualRunOut(BaseModel):
    """The daily job accruing interest on every active loan."""

    as_of: date
    journals: int = Field(description="accrual journals posted in this run")


class AccrualRunWrittenOut(AccrualRunOut, Written):
    """The run, with the ledger receipt of what it changed (null if nothing)."""


class LoanScanOut(BaseModel):
    """The daily job: days past due, classification and alerts."""

    as_of: date
    loans: int = Field(description="active loans scanned")
    overdue: int = Field(description="loans that fell overdue")
    downgraded: int = Field(description="loans classified worse than before")
    margin_calls: int = Field(description="margin calls raised")
    buybacks_due: int = Field(description="buy-back guarantees that can now be called")


class LoanScanWrittenOut(LoanScanOut, Written):
    """The run, with the ledger receipt of what it changed (null if nothing)."""


# ---------------------------------------------------------------------------- prices


class CommodityPriceOut(BaseModel):
    """The price of one unit of pledged goods on a day, from its owner: a bank's own or a
    platform source's; a correction is the next ``version``."""

    id: str = Field(examples=["price_01M97X7MF0B7YA641ZP02GTYEG"])
    owner: str = Field(description="bank or platform", examples=["bank"])
    bank_id: str | None = Field(None, description="the bank whose price it is")
    platform_source: str | None = Field(None, description="the platform source's code")
    item: str = Field(examples=["copper foil"])
    on: date
    version: int = Field(description="1, then 2, … for corrections of the same day")
    currency: str = _currency()
    price: str = Field(description="per unit", examples=["80000.00"])
    unit: str = Field(examples=["t"])
    source: str = Field(description="where the price comes from", examples=["SHFE settlement"])
    note: str | None = None
    created_by: str
    created_at: datetime

    @classmethod
    def build(cls, row: CommodityPrice) -> CommodityPriceOut:
        return cls(
            id=row.id,
            owner="platform" if row.source_code else "bank",
            bank_id=row.bank_id,
            platform_source=row.source_code,
            item=row.item,
            on=row.on,
            version=row.version,
            currency=row.currency,
            price=_amount(row.price_minor, row.currency),
            unit=row.unit,
            source=row.source,
            note=row.note,
            created_by=row.created_by,
            created_at=row.created_at,
        )


class CommodityPriceWrittenOut(CommodityPriceOut, Written):
    """The price recorded (or the same one again), with its ledger receipt."""


class PriceSourceOut(BaseModel):
    """A named platform price source; a product names it to value collateral at its
    prices."""

    code: str = Field(examples=["SHFE"])
    name: str = Field(examples=["Shanghai Futures Exchange settlement"])
    created_at: datetime

    @classmethod
    def build(cls, row: PriceSource) -> PriceSourceOut:
        return cls(code=row.code, name=row.name, created_at=row.created_at)


class PriceSourceWrittenOut(PriceSourceOut, Written):
    """The source just created, with its ledger receipt."""


# ---------------------------------------------------------------------------- general ledger


class GeneralLedgerLineOut(BaseModel):
    """One journal line of the general-ledger export (one CSV row, one JSON line)."""

    journal_id: str
    value_on: date
    kind: str = Field(examples=["loan_disbursed"])
    ref: str
    line_no: int
    account: str = Field(examples=["1303"])
    account_name: str
    currency: str
    debit: str = Field(examples=["400000.00"])
    credit: str = Field(examples=["0.00"])
    reverses_id: str | None = Field(None, description="the journal this one reverses")
    memo: str

    @classmethod
    def build(cls, line: LedgerLine) -> GeneralLedgerLineOut:
        return cls(
            journal_id=line.journal_id,
            value_on=line.value_on,
            kind=line.kind,
            ref=line.ref,
            line_no=line.line_no,
            account=line.account,
            account_name=line.account_name,
            currency=line.currency,
            debit=_amount(line.debit_minor, line.currency),
            credit=_amount(line.credit_minor, line.currency),
            reverses_id=line.reverses_id,
            memo=line.memo,
        )


def general_ledger_csv(lines: Iterable[LedgerLine], batch: int = 500) -> Iterator[bytes]:
    """The export as CSV (the columns of ``books.GL_COLUMNS``, a header first), encoded
    ``batch`` lines at a time as they are read."""
    from chainfin.services.books import GL_COLUMNS, gl_rows

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(GL_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for n, line in enumerate(lines, 1):
        writer.writerows(gl_rows([line]))
        if n % batch == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def general_ledger_jsonl(lines: Iterable[LedgerLine], batch: int = 500) -> Iterator[bytes]:
    """The export as JSON Lines, one :class:`GeneralLedgerLineOut` a line, encoded ``batch``
    lines at a time as they are read."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(GeneralLedgerLineOut.build(line).model_dump_json() + "\n")
        if len(chunk) == batch:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    if chunk:
        yield "".join(chunk).encode("utf-8")
