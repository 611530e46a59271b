"""The automated credit decision: an ordered table of rules, one outcome, every reason, the
tasks people must do, and an interim score.

**Rules.** :data:`RULES` is one ordered table. Each :class:`Rule` reads only the
:class:`Facts` the service gathered and the product's
:class:`~chainfin.domain.products.ProductConfig`, and returns a message when the application
fails it. :func:`decide` runs every rule and lists *every* failure, in table order: the
position in the table is the precedence (as TigerBeetle orders its result codes), so the
first reason is the most fundamental one. The outcome is ``decline`` if any declining rule
fails, else ``refer`` (to a person) if any referring rule fails, else ``approve``. Referring
rules may ask for tasks (a site visit, a financial statement analysis); a declined
application gets no tasks.

A rule whose premise an earlier rule already refuted stays silent instead of repeating it:
with no underlying named, ``underlying_missing`` is not reported; with the underlying not
found, its value is unknown, so the advance-rate, loan-to-value and maturity rules are not
checked; with no active line, its available amount is not compared.

Amounts in messages are in major units with thousands separators (``1,200,000.00``).
Ratio caps are exact: the largest amount allowed is ``floor(cap × value)`` in fen, computed
with :class:`~fractions.Fraction`, never float.

**Interim score.** :func:`interim_score` is a transparent points scorecard, an *expert card*
and not a statistical model: the points below were set by judgment, not fitted to default
data, and are meant to be replaced by a validated model once the platform has its own
performance history. The card is data (:class:`Scorecard`), so a bank can set its own.

:data:`DEFAULT_SCORECARD`: base 300 plus, per characteristic, the points of the first bin
whose exclusive upper bound exceeds the value; from 300 (worst) to 850 (best).

=====================  ================================================  ======================
characteristic         bins (value < bound: points)                      reason code
=====================  ================================================  ======================
tenure_months          <6: 0, <12: 35, <24: 60, <36: 85, else 100        short_tenure
trades_12m             <4: 0, <12: 30, <24: 55, <48: 70, else 80         few_trades
disputes_12m           <1: 70, <2: 45, <4: 20, else 0                    disputes
on_time_share          <0.80: 0, <0.90: 40, <0.95: 75, <0.99: 100,       late_payments
                       else 120; unknown: 45                             (no_payment_history)
overdue_loans          <1: 90, <2: 20, else 0                            overdue_loans
core_rating            AAA 90, AA+ 75, AA 60, AA- 45, A+ 30, A 20,       weak_core_rating
                       A- 10; other or unknown: 0
=====================  ================================================  ======================

The score's reasons are the (at most three) characteristics that cost the most points
against their best attribute, worst first; ties keep the card's order.

>>> inputs = ScoreInputs(tenure_months=30, trades_12m=20, disputes_12m=0,
...                      on_time_share=None, overdue_loans=0, core_rating="AA+")
>>> interim_score(inputs)
ScoreResult(points=720, reasons=('no_payment_history', 'few_trades', 'short_tenure'))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType

from chainfin.domain.errors import CODES, FieldError, UnregisteredCode, ValidationFailed
from chainfin.domain.money import MINOR_UNITS, Money
from chainfin.domain.products import ProductConfig


class Outcome(StrEnum):
    APPROVE = "approve"
    REFER = "refer"
    DECLINE = "decline"


class TaskKind(StrEnum):
    SITE_VISIT = "site_visit"
    FINANCIAL_ANALYSIS = "financial_analysis"


TRADE_STATUSES: tuple[str, ...] = ("verified", "unverified", "disputed", "not_applicable")
LINE_STATUSES: tuple[str, ...] = ("active", "frozen", "expired", "none")


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the service gathered about one application; the rules read only this."""

    amount_minor: int
    currency: str
    tenor_months: int
    method: str
    maturity_on: date
    applicant_registered: bool
    new_customer: bool
    consent_missing: tuple[str, ...]
    underlying_kind: str | None
    underlying_found: bool
    trade_status: str
    underlying_value_minor: int
    underlying_due_on: date | None
    duplicate_of: str | None
    core_guarantee: bool
    line_status: str
    line_available_minor: int
    sublimit_available_minor: int | None
    core_cap_available_minor: int | None
    group_cap_available_minor: int | None
    overdue_loans: int
    score: int
    risk_flags: tuple[str, ...]

    def __post_init__(self) -> None:
        errors = []
        if self.trade_status not in TRADE_STATUSES:
            reason = (
                f"unknown trade status {self.trade_status!r} (known: {', '.join(TRADE_STATUSES)})"
            )
            errors.append(FieldError("trade_status", reason))
        if self.line_status not in LINE_STATUSES:
            reason = f"unknown line status {self.line_status!r} (known: {', '.join(LINE_STATUSES)})"
            errors.append(FieldError("line_status", reason))
        if errors:
            raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    outcome: Outcome
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "outcome": self.outcome.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    tasks: tuple[TaskKind, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "tasks": [task.value for task in self.tasks],
        }


Check = Callable[[Facts, ProductConfig], str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """``check`` returns why the application fails the rule, or None when it passes."""

    code: str
    outcome: Outcome
    check: Check
    task: TaskKind | None = None

    def __post_init__(self) -> None:
        # one vocabulary: a reason is a registered code that names this outcome
        entry = CODES.get(self.code)
        if entry is None or entry.decision != self.outcome.value:
            raise UnregisteredCode(
                f"decision reason {self.code!r} is not registered as a {self.outcome} reason "
                "in chainfin.domain.error_codes"
            )


# --- formatting --------------------------------------------------------------------------


def _yuan(amount_minor: int, currency: str) -> str:
    """``1,200,000.00``: the amount in major units with thousands separators."""
    text = Money(amount_minor, currency if currency in MINOR_UNITS else "CNY").to_decimal_string()
    whole, dot, frac = text.partition(".")
    return f"{int(whole):,}{dot}{frac}"


def _amount(facts: Facts, amount_minor: int) -> str:
    return _yuan(amount_minor, facts.currency)


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def _cap(ratio: Decimal, value_minor: int) -> int:
    """The largest whole amount not above ``ratio × value``, exactly."""
    return math.floor(Fraction(ratio) * value_minor)


# --- the rules ---------------------------------------------------------------------------


def _identity(f: Facts, c: ProductConfig) -> str | None:
    if f.applicant_registered:
        return None
    return "the applicant is not in the enterprise registry with a valid unified social credit code"


def _consent(f: Facts, c: ProductConfig) -> str | None:
    if not f.consent_missing:
        return None
    return f"no consent in force for credit assessment covers: {', '.join(f.consent_missing)}"


def _currency(f: Facts, c: ProductConfig) -> str | None:
    if f.currency == c.currency:
        return None
    return f"the application is in {f.currency} but the product lends in {c.currency}"


def _below_minimum(f: Facts, c: ProductConfig) -> str | None:
    if f.amount_minor >= c.min_amount_minor:
        return None
    minimum = _amount(f, c.min_amount_minor)
    return f"amount {_amount(f, f.amount_minor)} is below the product's minimum {minimum}"


def _above_maximum(f: Facts, c: ProductConfig) -> str | None:
    if f.amount_minor <= c.max_amount_minor:
        return None
    maximum = _amount(f, c.max_amount_minor)
    return f"amount {_amount(f, f.amount_minor)} exceeds the product's maximum {maximum}"


def _tenor(f: Facts, c: ProductConfig) -> str | None:
    if c.min_tenor_months <= f.tenor_months <= c.max_tenor_months:
        return None
    offered = f"{c.min_tenor_months} to {c.max_tenor_months} months"
    return f"tenor {f.tenor_months} months is outside the product's {offered}"


def _method(f: Facts, c: ProductConfig) -> str | None:
    if f.method in c.methods:
        return None
    return f"repayment method {f.method!r} is not offered (offered: {', '.join(c.methods)})"


def _underlying_accepted(f: Facts, c: ProductConfig) -> str | None:
    accepted = ", ".join(c.underlying)
    if f.underlying_kind is None:
        return f"no underlying named; the product accepts: {accepted}"
    if f.underlying_kind in c.underlying:
        return None
    return f"underlying {f.underlying_kind} is not accepted (accepted: {accepted})"


def _underlying_missing(f: Facts, c: ProductConfig) -> str | None:
    if f.underlying_kind is None or f.underlying_found:
        return None
    return f"the {f.underlying_kind} named was not found or does not belong to the applicant"


def _disputed(f: Facts, c: ProductConfig) -> str | None:
    if f.trade_status != "disputed":
        return None
    return "the trade behind the underlying is disputed"


def _duplicate(f: Facts, c: ProductConfig) -> str | None:
    if f.duplicate_of is None:
        return None
    return f"the underlying is already registered or financed ({f.duplicate_of})"


def _ratio_exceeded(f: Facts, ratio: Decimal, what: str) -> str | None:
    if not f.underlying_found:
        return None
    allowed = _cap(ratio, f.underlying_value_minor)
    if f.amount_minor <= allowed:
        return None
    value = _amount(f, f.underlying_value_minor)
    return (
        f"amount {_amount(f, f.amount_minor)} exceeds the {what} of {_percent(ratio)} of the "
        f"underlying's value {value} (at most {_amount(f, allowed)})"
    )


def _advance_rate(f: Facts, c: ProductConfig) -> str | None:
    return _ratio_exceeded(f, c.advance_rate_cap, "advance rate cap")


def _ltv(f: Facts, c: ProductConfig) -> str | None:
    return None if c.ltv_cap is None else _ratio_exceeded(f, c.ltv_cap, "loan-to-value cap")


def _matures_after(f: Facts, c: ProductConfig) -> str | None:
    due = f.underlying_due_on
    if not f.underlying_found or due is None or f.maturity_on <= due:
        return None
    return (
        f"the loan matures on {f.maturity_on.isoformat()}, after the underlying is paid "
        f"on {due.isoformat()}"
    )


def _guarantee(f: Facts, c: ProductConfig) -> str | None:
    if not c.core_guarantee_required or f.core_guarantee:
        return None
    return "the product requires the core enterprise's guarantee, and there is none"


def _line_status(status: str, message: str) -> Check:
    def check(f: Facts, c: ProductConfig) -> str | None:
        return message if f.line_status == status else None

    return check


def _available(
    label: str, available: Callable[[Facts], int | None], *, needs_active_line: bool
) -> Check:
    def check(f: Facts, c: ProductConfig) -> str | None:
        limit = available(f)
        if limit is None or (needs_active_line and f.line_status != "active"):
            return None
        if f.amount_minor <= limit:
            return None
        return f"amount {_amount(f, f.amount_minor)} exceeds {label} {_amount(f, limit)}"

    return check


def _overdue(f: Facts, c: ProductConfig) -> str | None:
    if f.overdue_loans <= 0:
        return None
    loans = "loan" if f.overdue_loans == 1 else "loans"
    return f"the applicant has {f.overdue_loans} overdue {loans} at this bank"


def _score_minimum(f: Facts, c: ProductConfig) -> str | None:
    if f.score >= c.min_score:
        return None
    return f"score {f.score} is below the product's minimum {c.min_score}"


def _unverified(f: Facts, c: ProductConfig) -> str | None:
    if f.trade_status != "unverified":
        return None
    return "the trade behind the underlying is not verified yet"


def _score_auto(f: Facts, c: ProductConfig) -> str | None:
    if not c.min_score <= f.score < c.min_score_auto:
        return None
    return f"score {f.score} is below {c.min_score_auto}, the minimum for automatic approval"


def _new_customer(f: Facts, c: ProductConfig) -> str | None:
    if not (c.new_customer_site_visit and f.new_customer):
        return None
    return "a first-time customer needs a site visit"


def _site_visit(f: Facts, c: ProductConfig) -> str | None:
    if f.amount_minor <= c.site_visit_above_minor:
        return None
    threshold = _amount(f, c.site_visit_above_minor)
    return f"amount {_amount(f, f.amount_minor)} is above {threshold}, which needs a site visit"


def _financial_analysis(f: Facts, c: ProductConfig) -> str | None:
    if f.amount_minor <= c.financial_analysis_above_minor:
        return None
    threshold = _amount(f, c.financial_analysis_above_minor)
    return (
        f"amount {_amount(f, f.amount_minor)} is above {threshold}, which needs a financial "
        "statement analysis"
    )


def _risk_flags(f: Facts, c: ProductConfig) -> str | None:
    if not f.risk_flags:
        return None
    return f"open risk findings: {', '.join(f.risk_flags)}"


def _auto_limit(f: Facts, c: ProductConfig) -> str | None:
    if c.auto_approve_limit_minor == 0:
        return "automatic approval is disabled for this product"
    if f.amount_minor <= c.auto_approve_limit_minor:
        return None
    limit = _amount(f, c.auto_approve_limit_minor)
    return f"amount {_amount(f, f.amount_minor)} is above the automatic approval limit {limit}"


_D, _R = Outcome.DECLINE, Outcome.REFER

RULES: tuple[Rule, ...] = (
    Rule("identity_unregistered", _D, _identity),
    Rule("consent_missing", _D, _consent),
    Rule("currency_mismatch", _D, _currency),
    Rule("amount_below_minimum", _D, _below_minimum),
    Rule("amount_above_maximum", _D, _above_maximum),
    Rule("tenor_out_of_range", _D, _tenor),
    Rule("method_not_offered", _D, _method),
    Rule("underlying_not_accepted", _D, _underlying_accepted),
    Rule("underlying_missing", _D, _underlying_missing),
    Rule("trade_disputed", _D, _disputed),
    Rule("duplicate_financing", _D, _duplicate),
    Rule("advance_rate_exceeded", _D, _advance_rate),
    Rule("ltv_exceeded", _D, _ltv),
    Rule("matures_after_underlying", _D, _matures_after),
    Rule("guarantee_missing", _D, _guarantee),
    Rule("line_missing", _D, _line_status("none", "the applicant has no credit line")),
    Rule("line_frozen", _D, _line_status("frozen", "the applicant's credit line is frozen")),
    Rule("line_expired", _D, _line_status("expired", "the applicant's credit line has expired")),
    Rule(
        "line_insufficient",
        _D,
        _available(
            "the line's available", lambda f: f.line_available_minor, needs_active_line=True
        ),
    ),
    Rule(
        "sublimit_insufficient",
        _D,
        _available(
            "the sub-limit's available",
            lambda f: f.sublimit_available_minor,
            needs_active_line=True,
        ),
    ),
    Rule(
        "core_cap_exceeded",
        _D,
        _available(
            "the core enterprise cap's available",
            lambda f: f.core_cap_available_minor,
            needs_active_line=False,
        ),
    ),
    Rule(
        "group_cap_exceeded",
        _D,
        _available(
            "the group cap's available",
            lambda f: f.group_cap_available_minor,
            needs_active_line=False,
        ),
    ),
    Rule("overdue_elsewhere", _D, _overdue),
    Rule("score_below_minimum", _D, _score_minimum),
    Rule("trade_unverified", _R, _unverified),
    Rule("score_below_auto", _R, _score_auto),
    Rule("new_customer", _R, _new_customer, TaskKind.SITE_VISIT),
    Rule("site_visit_threshold", _R, _site_visit, TaskKind.SITE_VISIT),
    Rule("financial_analysis_threshold", _R, _financial_analysis, TaskKind.FINANCIAL_ANALYSIS),
    Rule("risk_flags", _R, _risk_flags, TaskKind.SITE_VISIT),
    Rule("above_auto_limit", _R, _auto_limit),
)
"""Every rule, in order of precedence."""

RULE_CODES: tuple[str, ...] = tuple(rule.code for rule in RULES)
TASKS_BY_RULE: Mapping[str, TaskKind] = MappingProxyType(
    {rule.code: rule.task for rule in RULES if rule.task is not None}
)


def decide(facts: Facts, config: ProductConfig) -> Decision:
    """Run every rule in :data:`RULES`; see the module docstring for outcome and tasks."""
    reasons = []
    tasks: list[TaskKind] = []
    for rule in RULES:
        message = rule.check(facts, config)
        if message is None:
            continue
        reasons.append(Reason(rule.code, rule.outcome, message))
        if rule.task is not None and rule.task not in tasks:
            tasks.append(rule.task)
    outcomes = {reason.outcome for reason in reasons}
    if Outcome.DECLINE in outcomes:
        return Decision(Outcome.DECLINE, tuple(reasons), ())
    if Outcome.REFER in outcomes:
        return Decision(Outcome.REFER, tuple(reasons), tuple(tasks))
    return Decision(Outcome.APPROVE, (), ())


# --- the interim score -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    tenure_months: int
    trades_12m: int
    disputes_12m: int
    on_time_share: Fraction | None
    overdue_loans: int
    core_rating: str | None

    def __post_init__(self) -> None:
        errors = []
        for name in ("tenure_months", "trades_12m", "disputes_12m", "overdue_loans"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                errors.append(FieldError(name, "must be a whole number, not negative"))
        share = self.on_time_share
        if share is not None and not (isinstance(share, Fraction) and 0 <= share <= 1):
            errors.append(FieldError("on_time_share", "must be a Fraction from 0 to 1, or None"))
        if self.core_rating is not None and not isinstance(self.core_rating, str):
            errors.append(FieldError("core_rating", "must be a rating string, or None"))
        if errors:
            raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class Bin:
    """Values below ``below`` (exclusive; None: no bound) that no earlier bin took score
    ``points``."""

    below: Fraction | None
    points: int


@dataclass(frozen=True, slots=True)
class Characteristic:
    """One line of the card. ``source`` names the :class:`ScoreInputs` field it reads.

    Numeric characteristics have ``bins`` (ascending bounds, the last one unbounded);
    categorical ones have ``categories`` (value -> points). A missing value (None), or a
    category not listed, scores ``missing_points`` and is reported as ``missing_reason``
    (or ``reason`` when that is None)."""

    source: str
    reason: str
    bins: tuple[Bin, ...] = ()
    categories: tuple[tuple[str, int], ...] = ()
    missing_points: int = 0
    missing_reason: str | None = None

    def best(self) -> int:
        points = [b.points for b in self.bins] + [p for _, p in self.categories]
        return max([*points, self.missing_points])

    def score(self, value: object) -> tuple[int, str]:
        """The points for ``value`` and the reason code to give if they fall short."""
        missing = (self.missing_points, self.missing_reason or self.reason)
        if value is None:
            return missing
        if self.categories:
            return next(((p, self.reason) for c, p in self.categories if c == value), missing)
        if not isinstance(value, int | Fraction):
            return missing
        for b in self.bins:
            if b.below is None or value < b.below:
                return b.points, self.reason
        return missing  # only on a card without bins for a numeric input


_SCORE_SOURCES = tuple(f.name for f in fields(ScoreInputs))


@dataclass(frozen=True, slots=True)
class Scorecard:
    base: int
    characteristics: tuple[Characteristic, ...]

    def __post_init__(self) -> None:
        errors = []
        for i, ch in enumerate(self.characteristics):
            where = f"characteristics[{i}]"
            if ch.source not in _SCORE_SOURCES:
                reason = f"unknown input {ch.source!r} (known: {', '.join(_SCORE_SOURCES)})"
                errors.append(FieldError(f"{where}.source", reason))
            if bool(ch.bins) == bool(ch.categories):
                errors.append(FieldError(where, "needs either bins or categories"))
            finite = [b.below for b in ch.bins[:-1] if b.below is not None]
            if ch.bins and (
                ch.bins[-1].below is not None
                or len(finite) < len(ch.bins) - 1
                or any(a >= b for a, b in pairwise(finite))
            ):
                reason = "bounds must ascend strictly and the last bin must be unbounded (None)"
                errors.append(FieldError(f"{where}.bins", reason))
        if errors:
            raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class ScoreResult:
    points: int
    reasons: tuple[str, ...]


def _bins(*pairs: tuple[Fraction | int | None, int]) -> tuple[Bin, ...]:
    return tuple(Bin(None if b is None else Fraction(b), p) for b, p in pairs)


DEFAULT_SCORECARD = Scorecard(
    base=300,
    characteristics=(
        Characteristic(
            "tenure_months",
            "short_tenure",
            _bins((6, 0), (12, 35), (24, 60), (36, 85), (None, 100)),
        ),
        Characteristic(
            "trades_12m", "few_trades", _bins((4, 0), (12, 30), (24, 55), (48, 70), (None, 80))
        ),
        Characteristic("disputes_12m", "disputes", _bins((1, 70), (2, 45), (4, 20), (None, 0))),
        Characteristic(
            "on_time_share",
            "late_payments",
            _bins(
                (Fraction(80, 100), 0),
                (Fraction(90, 100), 40),
                (Fraction(95, 100), 75),
                (Fraction(99, 100), 100),
                (None, 120),
            ),
            missing_points=45,
            missing_reason="no_payment_history",
        ),
        Characteristic("overdue_loans", "overdue_loans", _bins((1, 90), (2, 20), (None, 0))),
        Characteristic(
            "core_rating",
            "weak_core_rating",
            categories=(
                ("AAA", 90),
                ("AA+", 75),
                ("AA", 60),
                ("AA-", 45),
                ("A+", 30),
                ("A", 20),
                ("A-", 10),
            ),
        ),
    ),
)
"""The interim expert card documented in the module docstring (300 to 850)."""


def interim_score(inputs: ScoreInputs, card: Scorecard = DEFAULT_SCORECARD) -> ScoreResult:
    """Score ``inputs`` on ``card``: base plus each characteristic's points, and the (at most
    three) reason codes that cost the most points against the best attribute, worst first."""
    points = card.base
    shortfalls: list[tuple[int, int, str]] = []
    for position, ch in enumerate(card.characteristics):
        got, reason = ch.score(getattr(inputs, ch.source))
        points += got
        if got < ch.best():
            shortfalls.append((-(ch.best() - got), position, reason))
    shortfalls.sort()
    reasons: list[str] = []
    for _, _, reason in shortfalls:
        if reason not in reasons:
            reasons.append(reason)
    return ScoreResult(points, tuple(reasons[:3]))
