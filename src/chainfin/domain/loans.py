"""Loan servicing rules that hold without a database: schedules, accrual, repayment, arrears,
five-category classification and the loan's states.

Units: ``annual_rate`` is an annual rate **in percent** (``Decimal("4.35")`` is 4.35 %), as in
:mod:`chainfin.domain.pricing`; amounts are :class:`~chainfin.domain.money.Money`.

Interest is simple interest on the outstanding balance over each period,
``balance × rate × year_fraction(period start, due date, day_count)``, computed exactly and
rounded half-up to the fen once per period, by :func:`chainfin.domain.pricing.penalty_interest`
(the platform's one simple-interest routine: a late amount is just another balance).

**Schedules** (:func:`schedule`), one instalment a month:

- ``bullet`` (按月付息、到期还本): interest every month, all principal with the last instalment.
  Interest and principal in one payment at maturity (到期一次还本付息) is not a monthly
  schedule: its interest is :func:`accrued_interest` over the whole term.
- ``equal_principal`` (等额本金): the principal is split into equal parts with
  :meth:`Money.allocate` (the earliest instalments take the odd fen); interest on the balance.
- ``equal_instalment`` (等额本息): the instalment is the textbook annuity
  ``A = P·r·(1+r)^n / ((1+r)^n − 1)`` with the monthly rate ``r = annual / 12`` (how Chinese
  banks compute 月供), half-up to the fen (:func:`instalment_amount`). Interest is still
  charged for each period's actual year fraction under ``day_count``, so an instalment repays
  ``A − interest`` of principal, and **the last instalment repays whatever balance is left**
  (plus its interest). It absorbs the rounding of every period and also the difference between
  day-count interest and ``r``: 30/360 and 30E/360 with a due day of 28 or earlier charge
  exactly ``r`` a month, but under ACT/360 a year of 365 days charges 365/360 of it, so the
  last instalment is usually a little larger than ``A``. An irregular first period (a
  ``payment_day`` other than the start's day) repays the principal a regular month would
  (``A − round(P·r)``) and charges interest for its actual days, so its total differs from
  ``A`` by the odd days' interest (首期按实际天数计息) instead of pushing that difference into
  the last instalment. At high rates over long terms (from roughly 10–12 % a year over 30
  years, by day count) a month's interest can exceed ``A`` (by more than the fen that rounding
  both can explain); equal instalments then do not fit and :func:`schedule` refuses the loan
  (field ``method``) rather than charge more than ``A`` in some month. That is the only refusal.

**A schedule ends when its balance is repaid.** The instalment that repays the last of the
balance before the last due date is the schedule's last: it repays exactly what was left (so an
equal instalment is then at most ``A`` with its interest), no empty instalments follow, and the
balance ends at zero. Equal instalments get there early when the balance falls faster than the
exact annuity's: ``A`` is rounded to a whole fen, each period's interest is rounded to the fen,
and short months (ACT day counts, month-end due dates under 30/360) charge less than ``r``. On a
balance of a few yuan a fen is a large part of every month's principal: 1.17 left by a
prepayment over 103 months at 15.40 % (``A`` = 0.02) is charged 0.02 of interest in a 31-day
month but 0.01 in February, then repays a fen or two a month and is repaid with the 102nd
instalment, where the textbook table (``round(B·r)`` = 0.02 every month) would repay nothing
until a last instalment of 1.19. On long loans at high rates the day count alone (ACT/ACT ISDA
above all) can end a schedule a month or two early. Ending early is deliberate: no month charges
more than ``A``, the bank is repaid to the fen, and a prepayment (or an extension) the borrower
is entitled to is not refused over rounding. Equal principal parts of fewer fen than months
likewise end when the fen run out; a bullet loan always runs its term.

**Due dates** (:func:`due_dates`): instalment k falls k months after ``start``, clamped to the
month's end as :func:`~chainfin.domain.credentials.add_months` does; with ``payment_day`` it
falls on that day (clamped) of the k-th month after the start's month, so the first repayment
is on the agreed day of the month after disbursement (放款次月的约定还款日).

**Changes** keep every paid instalment unchanged and re-amortise the balance after them:
:func:`reschedule_after_prepayment` (提前还款: shorten the term or reduce the instalment) and
:func:`extend` (展期). The new schedule falls on a prefix of the old due dates (and the added
ones) and, like any schedule, ends when the balance is repaid.

**Five-category classification** (五级分类, :func:`classify`) follows the 2023
《商业银行金融资产风险分类办法》 (CBIRC/PBoC order 2023 No. 1, in force 1 July 2023); what was
implemented, and what was not certain, is listed at :data:`DEFAULT_CLASSIFICATION_POLICY`.

>>> from datetime import date
>>> rows = schedule(Money.parse("10000.00"), Decimal("12"), date(2025, 1, 15), 3,
...                 "equal_instalment", day_count="30/360")
>>> [(r.interest.to_decimal_string(), r.principal.to_decimal_string()) for r in rows]
[('100.00', '3300.22'), ('67.00', '3333.22'), ('33.67', '3366.56')]
>>> classify(95, frozenset({"restructured"})).reasons
('overdue_over_90', 'overdue', 'restructured')
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Literal, get_args

from chainfin.domain.credentials import add_months
from chainfin.domain.daycount import CONVENTIONS as DAY_COUNTS
from chainfin.domain.daycount import normalise as _normalise_day_count
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.pricing import amortise, penalty_interest, recognised_through
from chainfin.domain.states import LOAN
from chainfin.domain.states import IllegalLoanTransition as IllegalLoanTransition
from chainfin.domain.states import LoanStatus as LoanStatus

Method = Literal["bullet", "equal_principal", "equal_instalment"]
METHODS: tuple[Method, ...] = get_args(Method)
PrepaymentOption = Literal["shorten_term", "reduce_instalment"]
PREPAYMENT_OPTIONS: tuple[PrepaymentOption, ...] = get_args(PrepaymentOption)
Component = Literal["penalty", "interest", "principal"]
COMPONENTS: tuple[Component, ...] = get_args(Component)

MAX_TERM_MONTHS = 360
MAX_RATE_PERCENT = Decimal(100)
MONTHS_PER_YEAR = 12


# --- validation --------------------------------------------------------------------------


def _problem_if(condition: bool, name: str, reason: str) -> list[FieldError]:
    return [FieldError(name, reason)] if condition else []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _money_problems(name: str, value: object, *, positive: bool = False) -> list[FieldError]:
    if not isinstance(value, Money):
        return [FieldError(name, "must be Money")]
    if positive:
        return _problem_if(value.amount_minor <= 0, name, "must be positive")
    return _problem_if(value.amount_minor < 0, name, "must not be negative")


def _rate_problems(rate: object) -> list[FieldError]:
    ok = isinstance(rate, Decimal) and rate.is_finite() and 0 <= rate <= MAX_RATE_PERCENT
    reason = f"must be a Decimal percentage from 0 to {MAX_RATE_PERCENT}"
    return _problem_if(not ok, "annual_rate", reason)


def _day_count_problems(day_count: object) -> list[FieldError]:
    try:
        if isinstance(day_count, str):
            _normalise_day_count(day_count)
            return []
    except ValueError:
        pass
    reason = f"unknown day count {day_count!r} (known: {', '.join(DAY_COUNTS)})"
    return [FieldError("day_count", reason)]


def _date_problems(name: str, value: object) -> list[FieldError]:
    return _problem_if(not _is_date(value), name, "must be a date (not a datetime)")


def _term_problems(name: str, months: object) -> list[FieldError]:
    return _problem_if(
        not _int_in(months, 1, MAX_TERM_MONTHS),
        name,
        f"must be a whole number of months from 1 to {MAX_TERM_MONTHS}",
    )


def _method_problems(method: object) -> list[FieldError]:
    reason = f"unknown method {method!r} (known: {', '.join(METHODS)})"
    return _problem_if(method not in METHODS, "method", reason)


def _payment_day_problems(payment_day: object) -> list[FieldError]:
    return _problem_if(
        payment_day is not None and not _int_in(payment_day, 1, 31),
        "payment_day",
        "must be a day of the month from 1 to 31 (31 means the month's last day)",
    )


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


# --- interest and daily accrual ----------------------------------------------------------


def _interest(
    balance: Money, annual_rate: Decimal, start: date, end: date, day_count: str
) -> Money:
    return penalty_interest(balance, (end - start).days, annual_rate, day_count, overdue_from=start)


def _half_up(value: Fraction) -> int:
    """Nearest integer, ties away from zero (the platform's one rounding rule)."""
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (value.denominator * 2)
    return magnitude if value >= 0 else -magnitude


def _monthly_rate(annual_rate: Decimal) -> Fraction:
    return Fraction(annual_rate) / 100 / MONTHS_PER_YEAR


def instalment_amount(principal: Money, annual_rate: Decimal, term_months: int) -> Money:
    """The textbook 等额本息 instalment ``P·r·(1+r)^n / ((1+r)^n − 1)`` with ``r = annual / 12``,
    computed exactly and rounded half-up to the fen once (``P / n`` at a zero rate).

    >>> instalment_amount(Money.parse("120000.00"), Decimal("4.35"), 12).to_decimal_string()
    '10237.19'
    """
    errors = _money_problems("principal", principal, positive=True)
    errors += _rate_problems(annual_rate) + _term_problems("term_months", term_months)
    _raise_if(errors)
    rate = _monthly_rate(annual_rate)
    if rate == 0:
        return Money(_half_up(Fraction(principal.amount_minor, term_months)), principal.currency)
    growth = (1 + rate) ** term_months
    exact = principal.amount_minor * rate * growth / (growth - 1)
    return Money(_half_up(exact), principal.currency)


def _accrual_problems(
    balance: object, annual_rate: object, start: object, end: object, day_count: object
) -> list[FieldError]:
    errors = _money_problems("balance", balance) + _rate_problems(annual_rate)
    errors += _date_problems("start", start) + _date_problems("end", end)
    errors += _day_count_problems(day_count)
    if not errors and isinstance(start, date) and isinstance(end, date) and end < start:
        errors.append(FieldError("end", f"must not be before the start {start}"))
    return errors


def accrued_interest(
    balance: Money, annual_rate: Decimal, start: date, end: date, day_count: str = "ACT/360"
) -> Money:
    """Simple interest on ``balance`` over ``year_fraction(start, end, day_count)``, half-up to
    the fen once.

    >>> from datetime import date  # 10,000 × 12 % × 31/360 = 103.333…
    >>> accrued_interest(Money.parse("10000.00"), Decimal("12"), date(2025, 1, 15),
    ...                  date(2025, 2, 15)).to_decimal_string()
    '103.33'
    """
    _raise_if(_accrual_problems(balance, annual_rate, start, end, day_count))
    return _interest(balance, annual_rate, start, end, day_count)


def accrued_through(
    balance: Money,
    annual_rate: Decimal,
    start: date,
    end: date,
    as_of: date,
    day_count: str = "ACT/360",
) -> Money:
    """The interest of the period ``start``–``end`` recognised through ``as_of``, cumulatively:
    through day k of N it is ``round_half_up(period interest × k / N)`` (as
    :func:`chainfin.domain.pricing.amortise` does), so a daily accrual job never drifts from the
    period's interest. Zero on or before ``start``, all of :func:`accrued_interest` from ``end``.
    """
    errors = _accrual_problems(balance, annual_rate, start, end, day_count)
    _raise_if(errors + _date_problems("as_of", as_of))
    total = _interest(balance, annual_rate, start, end, day_count)
    return total if end == start else recognised_through(total, start, end, as_of)


def daily_accruals(
    balance: Money, annual_rate: Decimal, start: date, end: date, day_count: str = "ACT/360"
) -> list[tuple[date, Money]]:
    """Each day's accrual (``start < day <= end``) as in :func:`accrued_through`: no two days
    differ by more than a fen and the days sum exactly to :func:`accrued_interest`."""
    _raise_if(_accrual_problems(balance, annual_rate, start, end, day_count))
    if end == start:
        return []
    return amortise(_interest(balance, annual_rate, start, end, day_count), start, end)


# --- schedules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instalment:
    """One scheduled repayment. Interest accrues on the balance from ``starts_on`` to
    ``due_on``; ``total`` is ``principal + interest``; ``balance_after`` is what remains."""

    number: int
    due_on: date
    principal: Money
    interest: Money
    total: Money
    balance_after: Money
    starts_on: date

    def __post_init__(self) -> None:
        if self.total != self.principal + self.interest:
            raise ValueError(f"instalment {self.number}: total must be principal + interest")
        if min(self.principal, self.interest, self.balance_after).amount_minor < 0:
            raise ValueError(f"instalment {self.number}: amounts must not be negative")
        if self.starts_on >= self.due_on:
            raise ValueError(f"instalment {self.number}: must start before it falls due")

    @property
    def balance_before(self) -> Money:
        return self.balance_after + self.principal


def _on_day(year_month: date, day: int) -> date:
    """``day`` of ``year_month``'s month, clamped to the month's last day."""
    last = calendar.monthrange(year_month.year, year_month.month)[1]
    return year_month.replace(day=min(day, last))


def due_dates(start: date, term_months: int, payment_day: int | None = None) -> list[date]:
    """The due dates of a monthly schedule (see the module docstring).

    >>> due_dates(date(2025, 1, 31), 3)
    [datetime.date(2025, 2, 28), datetime.date(2025, 3, 31), datetime.date(2025, 4, 30)]
    >>> due_dates(date(2025, 1, 25), 2, payment_day=20)
    [datetime.date(2025, 2, 20), datetime.date(2025, 3, 20)]
    """
    errors = _date_problems("start", start) + _term_problems("term_months", term_months)
    _raise_if(errors + _payment_day_problems(payment_day))
    months = range(1, term_months + 1)
    if payment_day is None:
        return [add_months(start, k) for k in months]
    return [_on_day(add_months(start.replace(day=1), k), payment_day) for k in months]


def schedule(
    principal: Money,
    annual_rate: Decimal,
    start: date,
    term_months: int,
    method: Method,
    day_count: str = "ACT/360",
    payment_day: int | None = None,
) -> list[Instalment]:
    """The repayment schedule of ``principal`` disbursed on ``start`` (see the module docstring).

    Rejected with :class:`ValidationFailed`, every problem at once: a principal that is not
    positive Money; a rate outside 0–100 %; a start that is not a date; a term outside
    1–360 months; an unknown method or day count; a payment day outside 1–31.
    """
    errors = _money_problems("principal", principal, positive=True) + _rate_problems(annual_rate)
    errors += _date_problems("start", start) + _term_problems("term_months", term_months)
    errors += _method_problems(method) + _day_count_problems(day_count)
    _raise_if(errors + _payment_day_problems(payment_day))
    dues = due_dates(start, term_months, payment_day)
    irregular = _irregular(start, dues[0])
    return _amortise(
        principal, [start, *dues], 1, method, annual_rate, day_count, irregular_first=irregular
    )


def _irregular(starts_on: date, due_on: date) -> bool:
    """A first period that is not one calendar month (a payment day other than the start's)."""
    return due_on != add_months(starts_on, 1)


def _amortise(
    balance: Money,
    bounds: Sequence[date],
    first_number: int,
    method: Method,
    annual_rate: Decimal,
    day_count: str,
    *,
    keep: Money | None = None,
    irregular_first: bool = False,
) -> list[Instalment]:
    """Amortise ``balance`` over the periods between consecutive ``bounds``.

    Each instalment pays its period's interest and repays principal: a bullet none before the
    last period; equal principal its part of the balance (``keep`` after a shorter term); an
    equal instalment what is left of ``A`` (``keep`` after a shorter term) after the interest,
    or after a regular month's interest ``round(B·r)`` in an irregular first period. The last
    period repays whatever balance is left. An instalment that repays the balance before the
    last period ends the schedule (see the module docstring): it repays exactly what was left,
    and no empty instalments follow. Equal instalments are refused only when a period's
    interest exceeds ``A`` by more than a rounding fen.
    """
    if balance.is_zero():
        return []
    periods = len(bounds) - 1
    zero = Money.zero(balance.currency)
    parts = balance.allocate([1] * periods) if method == "equal_principal" else []
    annuity = zero  # the instalment (equal instalment) or principal part (equal principal)
    if keep is not None:
        annuity = keep
    elif method == "equal_instalment":
        annuity = instalment_amount(balance, annual_rate, periods)
    rows: list[Instalment] = []
    for k in range(periods):
        if balance.is_zero():
            break  # repaid before the last period: the schedule ends here
        starts_on, due_on = bounds[k], bounds[k + 1]
        interest = _interest(balance, annual_rate, starts_on, due_on, day_count)
        if k == periods - 1:
            repaid = balance
        elif method == "bullet":
            repaid = zero
        elif method == "equal_principal":
            repaid = min(annuity if keep is not None else parts[k], balance)
        elif irregular_first and k == 0:
            regular = _half_up(balance.amount_minor * _monthly_rate(annual_rate))
            repaid = min(max(annuity - Money(regular, balance.currency), zero), balance)
        elif (interest - annuity).amount_minor > 1:  # more than rounding both can explain
            raise _annuity_misfit(first_number + k, periods, annuity, interest, day_count)
        else:  # a tiny balance's rounded interest may top its rounded instalment by a fen
            repaid = min(max(annuity - interest, zero), balance)
        balance -= repaid
        number = first_number + k
        rows.append(
            Instalment(number, due_on, repaid, interest, repaid + interest, balance, starts_on)
        )
    return rows


def _annuity_misfit(
    number: int, periods: int, annuity: Money, interest: Money, day_count: str
) -> ValidationFailed:
    """Equal instalments of ``annuity`` do not fit: a period's interest exceeds the instalment
    (day-count interest far above ``r`` at a high rate over a long term)."""
    reason = (
        f"instalment {number}'s interest {interest} exceeds the instalment {annuity} under "
        f"{day_count}, so equal instalments cannot repay this loan over its {periods} periods; "
        "choose a shorter term, equal_principal, or 30/360 with a payment day of 28 or earlier"
    )
    return ValidationFailed([FieldError("method", reason)])


def _schedule_problems(instalments: object, paid_instalments: object) -> list[FieldError]:
    if not isinstance(instalments, Sequence) or not instalments:
        return [FieldError("schedule", "must be a non-empty sequence of instalments")]
    if not all(isinstance(i, Instalment) for i in instalments):
        return [FieldError("schedule", "must hold only Instalment values")]
    return _problem_if(
        not _int_in(paid_instalments, 0, len(instalments) - 1),
        "paid_instalments",
        f"must be a whole number from 0 to {len(instalments) - 1} (an instalment must be unpaid)",
    )


@dataclass(frozen=True, slots=True)
class Prepayment:
    """The outcome of an early repayment of principal.

    ``interest_now`` is due with the prepaid principal: interest on it from the start of the
    current period to the prepayment date. ``instalments`` is the whole new schedule: the paid
    instalments unchanged, then the re-amortised rest (empty rest when the loan is settled).
    """

    interest_now: Money
    instalments: tuple[Instalment, ...]


def reschedule_after_prepayment(
    instalments: Sequence[Instalment],
    paid_instalments: int,
    prepaid_principal: Money,
    prepaid_on: date,
    annual_rate: Decimal,
    method: Method,
    option: PrepaymentOption,
    day_count: str = "ACT/360",
) -> Prepayment:
    """Apply ``prepaid_principal`` repaid on ``prepaid_on``, after ``paid_instalments`` of
    ``instalments`` were paid, and re-amortise the rest over the same due dates.

    The prepaid principal bears interest up to ``prepaid_on`` (``interest_now``, due with it);
    the reduced balance bears the whole current period's interest in the next instalment.
    Together that is interest on the old balance up to ``prepaid_on`` and on the reduced
    balance after it (up to rounding), whichever day of the period the prepayment falls on.

    ``reduce_instalment`` keeps the maturity and lowers each instalment. ``shorten_term`` keeps
    the instalment the old balance needed over the remaining dates (equal instalment) or its
    principal part (equal principal) and ends when the balance is repaid; a bullet loan has no
    term to shorten and is refused.
    """
    errors = _schedule_problems(instalments, paid_instalments)
    errors += _money_problems("prepaid_principal", prepaid_principal, positive=True)
    errors += _date_problems("prepaid_on", prepaid_on) + _rate_problems(annual_rate)
    errors += _method_problems(method) + _day_count_problems(day_count)
    errors += _problem_if(
        option not in PREPAYMENT_OPTIONS,
        "option",
        f"unknown option {option!r} (known: {', '.join(PREPAYMENT_OPTIONS)})",
    )
    errors += _problem_if(
        method == "bullet" and option == "shorten_term",
        "option",
        "a bullet loan repays its principal at maturity; it has no term to shorten",
    )
    _raise_if(errors)
    current = instalments[paid_instalments]
    balance = current.balance_before
    errors += _problem_if(
        prepaid_principal.currency != balance.currency,
        "prepaid_principal",
        f"must be in {balance.currency}",
    )
    errors += _problem_if(
        prepaid_principal.currency == balance.currency and prepaid_principal > balance,
        "prepaid_principal",
        f"is more than the outstanding principal {balance}",
    )
    errors += _problem_if(
        not current.starts_on <= prepaid_on <= current.due_on,
        "prepaid_on",
        f"must fall in the current period {current.starts_on} to {current.due_on}",
    )
    _raise_if(errors)
    rest = instalments[paid_instalments:]
    bounds = [current.starts_on, *(i.due_on for i in rest)]
    keep: Money | None = None
    if option == "shorten_term" and method == "equal_instalment":
        keep = instalment_amount(balance, annual_rate, len(rest))
    elif option == "shorten_term":
        keep = balance.allocate([1] * len(rest))[0]
    new_rest = _amortise(
        balance - prepaid_principal,
        bounds,
        paid_instalments + 1,
        method,
        annual_rate,
        day_count,
        keep=keep,
        irregular_first=paid_instalments == 0 and _irregular(current.starts_on, current.due_on),
    )
    interest_now = _interest(
        prepaid_principal, annual_rate, current.starts_on, prepaid_on, day_count
    )
    return Prepayment(interest_now, (*instalments[:paid_instalments], *new_rest))


def extend(
    instalments: Sequence[Instalment],
    months: int,
    *,
    paid_instalments: int,
    annual_rate: Decimal,
    method: Method,
    day_count: str = "ACT/360",
    payment_day: int | None = None,
) -> list[Instalment]:
    """Extend the loan by ``months`` monthly periods after its last due date (展期) and
    re-amortise the balance left after ``paid_instalments`` over the unpaid dates and the new
    ones; the paid instalments are kept as they were.

    New due dates fall on ``payment_day``, or else on the latest day of the month any existing
    instalment fell on (so a loan due on the 31st stays on month ends), clamped. Arrears (unpaid
    interest or penalty on instalments already due) are not part of a schedule: the servicing
    layer settles or capitalises them before extending. The regulatory ceiling on extensions is
    :func:`max_extension_months`.
    """
    errors = _schedule_problems(instalments, paid_instalments)
    errors += _term_problems("months", months) + _rate_problems(annual_rate)
    errors += _method_problems(method) + _day_count_problems(day_count)
    _raise_if(errors + _payment_day_problems(payment_day))
    rest = instalments[paid_instalments:]
    _raise_if(
        _problem_if(
            len(rest) + months > MAX_TERM_MONTHS,
            "months",
            f"would leave {len(rest) + months} periods to run (at most {MAX_TERM_MONTHS})",
        )
    )
    day = payment_day or max(i.due_on.day for i in instalments)
    last = instalments[-1].due_on.replace(day=1)
    added = [_on_day(add_months(last, k), day) for k in range(1, months + 1)]
    bounds = [rest[0].starts_on, *(i.due_on for i in rest), *added]
    irregular = paid_instalments == 0 and _irregular(rest[0].starts_on, rest[0].due_on)
    new_rest = _amortise(
        rest[0].balance_before,
        bounds,
        paid_instalments + 1,
        method,
        annual_rate,
        day_count,
        irregular_first=irregular,
    )
    return [*instalments[:paid_instalments], *new_rest]


def max_extension_months(original_term_months: int) -> int:
    """The longest cumulative extension 《贷款通则》 (1996) article 12 allows: up to the original
    term for a short-term loan (<= 1 year), half of it for a medium-term loan (1–5 years),
    3 years for a long-term loan (> 5 years). Banks may set stricter limits.

    >>> [max_extension_months(m) for m in (6, 12, 36, 61)]
    [6, 12, 18, 36]
    """
    _raise_if(_term_problems("original_term_months", original_term_months))
    if original_term_months <= 12:
        return original_term_months
    if original_term_months <= 60:
        return original_term_months // 2
    return 36


# --- repayment allocation ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Due:
    """What a borrower owes now, by component (penalty interest on overdue amounts is
    :func:`chainfin.domain.pricing.penalty_interest` at the contract's penalty rate)."""

    penalty: Money
    interest: Money
    principal: Money

    @property
    def total(self) -> Money:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Allocation:
    """How a repayment was applied; ``excess`` is what was left after everything due
    (the servicing layer decides: prepayment, refund or suspense)."""

    penalty: Money
    interest: Money
    principal: Money
    excess: Money


DEFAULT_REPAYMENT_ORDER: tuple[Component, ...] = ("penalty", "interest", "principal")


def allocate_repayment(
    amount: Money, due: Due, order: Sequence[Component] = DEFAULT_REPAYMENT_ORDER
) -> Allocation:
    """Apply ``amount`` to each component of ``due`` in ``order`` (by default penalty, then
    interest, then principal, 先罚息、后利息、再本金, as most loan contracts say); each
    component takes as much as it is owed or as is left.

    >>> due = Due(Money.parse("5.00"), Money.parse("100.00"), Money.parse("1000.00"))
    >>> a = allocate_repayment(Money.parse("50.00"), due)
    >>> [m.to_decimal_string() for m in (a.penalty, a.interest, a.principal, a.excess)]
    ['5.00', '45.00', '0.00', '0.00']
    """
    errors = _money_problems("amount", amount)
    if not isinstance(due, Due):
        errors.append(FieldError("due", "must be a Due"))
    else:
        for name in COMPONENTS:
            errors += _money_problems(f"due.{name}", getattr(due, name))
    errors += _problem_if(
        len(order) != len(COMPONENTS) or set(order) != set(COMPONENTS),
        "order",
        f"must name each of {', '.join(COMPONENTS)} exactly once",
    )
    _raise_if(errors)
    currencies = {amount.currency, *(getattr(due, name).currency for name in COMPONENTS)}
    _raise_if(_problem_if(len(currencies) > 1, "amount", "amount and due must share a currency"))
    left = amount
    applied: dict[str, Money] = {}
    for name in order:
        applied[name] = min(left, getattr(due, name))
        left -= applied[name]
    return Allocation(applied["penalty"], applied["interest"], applied["principal"], left)


# --- days past due -----------------------------------------------------------------------


def days_past_due(oldest_unpaid_due_on: date | None, as_of: date) -> int:
    """Days since the oldest instalment still (partly) unpaid fell due: an instalment due on
    20 March and unpaid is 1 day past due on 21 March; 0 when nothing unpaid has fallen due.

    >>> days_past_due(date(2025, 3, 20), date(2025, 3, 21)), days_past_due(None, date(2025, 1, 1))
    (1, 0)
    """
    errors = _date_problems("as_of", as_of)
    if oldest_unpaid_due_on is not None:
        errors += _date_problems("oldest_unpaid_due_on", oldest_unpaid_due_on)
    _raise_if(errors)
    if oldest_unpaid_due_on is None:
        return 0
    return max((as_of - oldest_unpaid_due_on).days, 0)


DEFAULT_DPD_BUCKET_BOUNDS: tuple[int, ...] = (30, 60, 90, 180)


def _bounds_problems(bounds: object) -> list[FieldError]:
    ok = (
        isinstance(bounds, tuple)
        and len(bounds) > 0
        and all(_is_int(b) and b > 0 for b in bounds)
        and all(a < b for a, b in pairwise(bounds))
    )
    return _problem_if(not ok, "bounds", "must be a non-empty tuple of ascending whole days > 0")


def dpd_bucket_labels(bounds: tuple[int, ...] = DEFAULT_DPD_BUCKET_BOUNDS) -> tuple[str, ...]:
    """The bucket names for ``bounds`` (each bound is the last day of its bucket).

    >>> dpd_bucket_labels()
    ('current', '1-30', '31-60', '61-90', '91-180', '180+')
    """
    _raise_if(_bounds_problems(bounds))
    lows = (1, *(b + 1 for b in bounds[:-1]))
    return (
        "current",
        *(f"{lo}-{hi}" for lo, hi in zip(lows, bounds, strict=True)),
        f"{bounds[-1]}+",
    )


def dpd_bucket(dpd: int, bounds: tuple[int, ...] = DEFAULT_DPD_BUCKET_BOUNDS) -> str:
    """The arrears bucket of ``dpd`` days past due: 0 is "current", 31 is "31-60", 181 "180+"."""
    errors = _problem_if(not _is_int(dpd) or dpd < 0, "dpd", "must be a whole number >= 0")
    _raise_if(errors + _bounds_problems(bounds))
    labels = dpd_bucket_labels(bounds)
    if dpd == 0:
        return labels[0]
    for label, bound in zip(labels[1:], bounds, strict=False):
        if dpd <= bound:
            return label
    return labels[-1]


# --- five-category classification (五级分类) ----------------------------------------------


class LoanCategory(StrEnum):
    """The five risk categories, least risky first; the last three are non-performing."""

    NORMAL = "normal"  # 正常类
    SPECIAL_MENTION = "special_mention"  # 关注类
    SUBSTANDARD = "substandard"  # 次级类
    DOUBTFUL = "doubtful"  # 可疑类
    LOSS = "loss"  # 损失类

    @property
    def rank(self) -> int:
        return list(LoanCategory).index(self)

    @property
    def non_performing(self) -> bool:
        return self.rank >= LoanCategory.SUBSTANDARD.rank


@dataclass(frozen=True, slots=True)
class ClassificationRule:
    """A floor of ``category`` that applies when days past due exceed ``over_dpd``
    (unless ``grace_flag`` is set and the arrears are at most ``grace_days`` old), or when
    ``flag`` is among the loan's flags. Exactly one of ``over_dpd`` and ``flag`` is set."""

    code: str
    category: LoanCategory
    over_dpd: int | None = None
    flag: str | None = None
    grace_flag: str | None = None
    grace_days: int = 0
    basis: str = ""  # where the rule comes from, for the person reviewing a classification

    def fires(self, dpd: int, flags: frozenset[str]) -> bool:
        if self.flag is not None:
            return self.flag in flags
        if self.over_dpd is None:  # not a valid rule: ClassificationPolicy refuses it
            return False
        in_grace = self.grace_flag is not None and self.grace_flag in flags
        return dpd > self.over_dpd and not (in_grace and dpd <= self.grace_days)


def _rule_problems(i: int, rule: object) -> list[FieldError]:
    here = f"rules[{i}]"
    if not isinstance(rule, ClassificationRule):
        return [FieldError(here, "must be a ClassificationRule")]
    errors = _problem_if(
        not isinstance(rule.code, str) or not rule.code, f"{here}.code", "must be a name"
    )
    errors += _problem_if(
        not isinstance(rule.category, LoanCategory) or rule.category is LoanCategory.NORMAL,
        f"{here}.category",
        "must be a LoanCategory other than normal",
    )
    errors += _problem_if(
        (rule.over_dpd is None) == (rule.flag is None),
        here,
        "needs exactly one trigger: over_dpd or flag",
    )
    errors += _problem_if(
        rule.over_dpd is not None and (not _is_int(rule.over_dpd) or rule.over_dpd < 0),
        f"{here}.over_dpd",
        "must be a whole number of days >= 0",
    )
    errors += _problem_if(
        rule.grace_flag is not None and (rule.over_dpd is None or rule.grace_days <= 0),
        f"{here}.grace_flag",
        "needs a days-past-due rule and grace_days > 0",
    )
    return errors


@dataclass(frozen=True, slots=True)
class ClassificationPolicy:
    """A bank's classification rules; a loan takes the worst category any rule gives it."""

    rules: tuple[ClassificationRule, ...]

    def __post_init__(self) -> None:
        errors = _problem_if(not self.rules, "rules", "at least one rule is required")
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            errors += _rule_problems(i, rule)
            if isinstance(rule, ClassificationRule):
                errors += _problem_if(
                    rule.code in seen, f"rules[{i}].code", f"duplicate code {rule.code!r}"
                )
                seen.add(rule.code)
        _raise_if(errors)

    @property
    def known_flags(self) -> frozenset[str]:
        names = {r.flag for r in self.rules} | {r.grace_flag for r in self.rules}
        return frozenset(n for n in names if n is not None)


def dpd_rules(
    *,
    special_mention_over: int = 0,
    substandard_over: int = 90,
    doubtful_over: int = 270,
    loss_over: int = 360,
    technical_grace_days: int = 7,
) -> tuple[ClassificationRule, ...]:
    """The days-past-due rules, worst first: more than ``loss_over`` days is at least loss, and
    so on; arrears of at most ``technical_grace_days`` flagged ``technical_overdue`` (an
    operational or technical delay) do not make a loan special mention."""
    thresholds = (special_mention_over, substandard_over, doubtful_over, loss_over)
    ok = all(_is_int(t) and t >= 0 for t in thresholds) and all(
        a < b for a, b in pairwise(thresholds)
    )
    _raise_if(_problem_if(not ok, "thresholds", "must be whole days >= 0, strictly ascending"))
    return (
        ClassificationRule(
            f"overdue_over_{loss_over}", LoanCategory.LOSS, over_dpd=loss_over, basis="损失类(一)"
        ),
        ClassificationRule(
            f"overdue_over_{doubtful_over}",
            LoanCategory.DOUBTFUL,
            over_dpd=doubtful_over,
            basis="可疑类(一)",
        ),
        ClassificationRule(
            f"overdue_over_{substandard_over}",
            LoanCategory.SUBSTANDARD,
            over_dpd=substandard_over,
            basis="次级类(一)",
        ),
        ClassificationRule(
            "overdue" if special_mention_over == 0 else f"overdue_over_{special_mention_over}",
            LoanCategory.SPECIAL_MENTION,
            over_dpd=special_mention_over,
            grace_flag="technical_overdue",
            grace_days=technical_grace_days,
            basis="关注类(一): 操作性或技术性原因导致的短期逾期除外（7天内）",
        ),
    )


def _flag_rule(code: str, category: LoanCategory, basis: str) -> ClassificationRule:
    return ClassificationRule(code, category, flag=code, basis=basis)


_LOSS, _DOUBTFUL = LoanCategory.LOSS, LoanCategory.DOUBTFUL
_SUBSTANDARD, _SPECIAL = LoanCategory.SUBSTANDARD, LoanCategory.SPECIAL_MENTION

FLAG_RULES: tuple[ClassificationRule, ...] = (
    _flag_rule("bankruptcy_liquidation", _LOSS, "损失类(二): 债务人已进入破产清算程序"),
    _flag_rule("impaired_ecl_over_90pct", _LOSS, "损失类(三): 已信用减值且预期信用损失 >= 90%"),
    _flag_rule("evading_debt", _DOUBTFUL, "可疑类(二): 债务人逃废银行债务"),
    _flag_rule("impaired_ecl_over_50pct", _DOUBTFUL, "可疑类(三): 已信用减值且预期信用损失 >= 50%"),
    _flag_rule("credit_impaired", _SUBSTANDARD, "次级类(二): 金融资产已发生信用减值"),
    _flag_rule("rating_downgraded", _SUBSTANDARD, "次级类(三): 外部评级大幅下调，履约能力显著下降"),
    _flag_rule(
        "overdue_90_over_20pct_all_banks",
        _SUBSTANDARD,
        "次级类(四): 非零售债务人在所有银行的债务中逾期超过90天的超过20%",
    ),
    _flag_rule(
        "npl_over_10pct_this_bank",
        _SUBSTANDARD,
        "非零售债务人在本行债权超过10%已分类为不良的，其在本行的所有债权归为不良",
    ),
    _flag_rule(
        "restructured_again_in_observation",
        _SUBSTANDARD,
        "重组资产: 观察期内未按约及时足额还款或财务状况未好转而再次重组，至少次级类",
    ),
    _flag_rule(
        "restructured_npl_in_observation",
        _SUBSTANDARD,
        "重组资产: 重组前为不良，观察期内未满足上调条件的，仍为不良（至少次级类）",
    ),
    _flag_rule("restructured", _SPECIAL, "重组资产: 观察期内至少归为关注类"),
    _flag_rule("funds_misused", _SPECIAL, "关注类(二): 未经同意擅自改变资金用途"),
    _flag_rule(
        "refinanced_by_new_debt",
        _SPECIAL,
        "关注类(三): 借新还旧或通过其他债务融资方式偿还（债务人财务状况正常的除外）",
    ),
    _flag_rule(
        "npl_elsewhere", _SPECIAL, "关注类(四): 同一非零售债务人在本行或其他银行的债务出现不良"
    ),
)

DEFAULT_CLASSIFICATION_POLICY = ClassificationPolicy((*dpd_rules(), *FLAG_RULES))
"""The minimum classification under the 2023 《商业银行金融资产风险分类办法》, as understood when
this was written from memory of the text (no authoritative copy was at hand; a bank should check
each rule's ``basis`` against the published text and its own policy):

- days past due (本金、利息或收益逾期, counted from the oldest unpaid due date): more than 360
  days at least loss, more than 270 doubtful, more than 90 substandard, any arrears special
  mention, except arrears of at most 7 days caused by an operational or technical problem
  (flag ``technical_overdue``).
- the flags listed in :data:`FLAG_RULES`, each with its basis in the 办法.

Where unsure: (1) restructured assets. The 2007 《贷款风险分类指引》 put every restructured loan at
least substandard; the 2023 办法, as recalled here, puts a restructured asset that was performing
before at least special mention during the observation period (at least two consecutive
repayment periods and at least one year from the first repayment date after the change),
keeps one that was non-performing before in the non-performing categories until the upgrade
conditions are met, and puts one restructured again after failing to pay in the observation
period at least substandard. This policy encodes that reading with three flags; a bank that
wants the stricter 2007 treatment maps ``restructured`` to substandard in its own policy.
(2) The 10 % same-bank and 20 % all-banks (90 days overdue) contagion rules for non-retail
debtors are recalled with their percentages but not their article numbers. (3) The 办法 is a
floor; judgement (财务状况、偿付意愿) can always classify lower than these rules, which
:func:`classify` does not try to capture."""


@dataclass(frozen=True, slots=True)
class Classification:
    """The category and the code of every rule that fired, worst category first, then in the
    policy's order."""

    category: LoanCategory
    reasons: tuple[str, ...]


def classify(
    dpd: int, flags: frozenset[str], policy: ClassificationPolicy = DEFAULT_CLASSIFICATION_POLICY
) -> Classification:
    """The least a loan must be classified as under ``policy``, with every reason.

    An unknown flag is rejected rather than ignored, so a misspelt ``"restructred"`` cannot
    leave a loan in a better category than it belongs in.

    >>> classify(0, frozenset())
    Classification(category=<LoanCategory.NORMAL: 'normal'>, reasons=())
    >>> classify(5, frozenset({"technical_overdue"})).category
    <LoanCategory.NORMAL: 'normal'>
    """
    errors = _problem_if(not _is_int(dpd) or dpd < 0, "dpd", "must be a whole number >= 0")
    if not isinstance(flags, frozenset) or not all(isinstance(f, str) for f in flags):
        errors.append(FieldError("flags", "must be a frozenset of flag names"))
    else:
        unknown = sorted(flags - policy.known_flags)
        errors += _problem_if(
            bool(unknown),
            "flags",
            f"unknown flags {', '.join(unknown)} (known: {', '.join(sorted(policy.known_flags))})",
        )
    _raise_if(errors)
    fired = [(i, r) for i, r in enumerate(policy.rules) if r.fires(dpd, flags)]
    fired.sort(key=lambda pair: (-pair[1].category.rank, pair[0]))
    category = fired[0][1].category if fired else LoanCategory.NORMAL
    return Classification(category, tuple(r.code for _, r in fired))


# --- loan states -------------------------------------------------------------------------


# LoanStatus, its machine (chainfin.domain.states.LOAN) and IllegalLoanTransition live with
# every other machine; these names stay for the callers that read them from here.
LOAN_TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {s: LOAN.targets(s) for s in LoanStatus}


def check_loan_transition(loan_id: str, current: str, target: LoanStatus) -> None:
    """Raise :class:`IllegalLoanTransition` unless some event moves ``current`` to ``target``."""
    LOAN.event_to(current, target, subject=loan_id)
