"""Post-loan early warning as small composable policies over signals.

A **signal** is a monthly series for one enterprise, oldest first, the last value being the
month of the scan (``None`` where the month has no data: a ratio with no denominator). A
**policy** looks at the signals and returns the warnings it raises:

- :class:`Threshold` — the latest value compared with a bound (``orders fell to 0``);
- :class:`Trend` — the latest value against the mean of the ``window`` months before it, as a
  relative change (``-0.30``: down 30 % or more) or an absolute one (``+15``: up 15 or more);
- :class:`AllOf` / :class:`AnyOf` — compose others (a warning when all, or any, fire).

Policies are data (``policy_from_dict`` / ``to_dict``), so a bank tunes them without code.

>>> drop = Trend("orders_drop", "orders", window=3, change=Decimal("-0.3"), severity="medium")
>>> [h.code for h in drop.evaluate({"orders": [Decimal(100), Decimal(110), Decimal(90),
...                                           Decimal(50)]})]
['orders_drop']
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from chainfin.domain.errors import FieldError, ValidationFailed

Signals = Mapping[str, Sequence[Decimal | None]]
SEVERITIES = ("info", "low", "medium", "high", "critical")
_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    severity: str
    message: str


class Policy(Protocol):
    @property
    def code(self) -> str: ...

    def evaluate(self, signals: Signals) -> tuple[Hit, ...]: ...

    def to_dict(self) -> dict[str, object]: ...


def _latest(signals: Signals, name: str) -> Decimal | None:
    series = signals.get(name) or ()
    return series[-1] if series else None


def _check_severity(severity: str) -> None:
    if severity not in SEVERITIES:
        raise ValidationFailed(
            [FieldError("severity", f"must be one of {', '.join(SEVERITIES)}")],
            code="early_warning_policy_invalid",
        )


@dataclass(frozen=True, slots=True)
class Threshold:
    code: str
    signal: str
    op: str
    value: Decimal
    severity: str = "medium"

    def __post_init__(self) -> None:
        _check_severity(self.severity)
        if self.op not in _OPS:
            raise ValidationFailed(
                [FieldError("op", f"must be one of {', '.join(_OPS)}")],
                code="early_warning_policy_invalid",
            )

    def evaluate(self, signals: Signals) -> tuple[Hit, ...]:
        latest = _latest(signals, self.signal)
        if latest is None or not _OPS[self.op](latest, self.value):
            return ()
        message = f"{self.signal} is {latest.normalize():f} ({self.op} {self.value:f})"
        return (Hit(self.code, self.severity, message),)

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "threshold",
            "code": self.code,
            "signal": self.signal,
            "op": self.op,
            "value": str(self.value),
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class Trend:
    """Latest against the trailing mean of the ``window`` values before it. ``relative``:
    ``(latest − mean) / mean``; else ``latest − mean``. A negative ``change`` fires at or
    below it (a fall), a positive one at or above it (a rise). Needs the full window."""

    code: str
    signal: str
    window: int
    change: Decimal
    severity: str = "medium"
    relative: bool = True

    def __post_init__(self) -> None:
        _check_severity(self.severity)
        if self.window < 1:
            raise ValidationFailed(
                [FieldError("window", "must be at least 1 month")],
                code="early_warning_policy_invalid",
            )
        if self.change == 0:
            raise ValidationFailed(
                [FieldError("change", "must not be zero")], code="early_warning_policy_invalid"
            )

    def evaluate(self, signals: Signals) -> tuple[Hit, ...]:
        series = list(signals.get(self.signal) or ())
        if len(series) < self.window + 1:
            return ()
        latest, before = series[-1], series[-self.window - 1 : -1]
        if latest is None or any(v is None for v in before):
            return ()
        mean = sum((v for v in before if v is not None), Decimal(0)) / self.window
        if self.relative:
            if mean == 0:
                return ()
            moved = (latest - mean) / mean
        else:
            moved = latest - mean
        fired = moved <= self.change if self.change < 0 else moved >= self.change
        if not fired:
            return ()
        how = f"{moved:+.0%}" if self.relative else f"{moved:+.1f}"
        message = (
            f"{self.signal} {latest.normalize():f} against a {self.window}-month mean of "
            f"{mean:.2f} ({how})"
        )
        return (Hit(self.code, self.severity, message),)

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "trend",
            "code": self.code,
            "signal": self.signal,
            "window": self.window,
            "change": str(self.change),
            "relative": self.relative,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class AllOf:
    code: str
    policies: tuple[Policy, ...]
    severity: str = "high"

    def __post_init__(self) -> None:
        _check_severity(self.severity)
        if not self.policies:
            raise ValidationFailed(
                [FieldError("policies", "name at least one policy")],
                code="early_warning_policy_invalid",
            )

    def evaluate(self, signals: Signals) -> tuple[Hit, ...]:
        hits = [p.evaluate(signals) for p in self.policies]
        if not all(hits):
            return ()
        message = "; ".join(h.message for group in hits for h in group)
        return (Hit(self.code, self.severity, message),)

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "all_of",
            "code": self.code,
            "severity": self.severity,
            "policies": [p.to_dict() for p in self.policies],
        }


@dataclass(frozen=True, slots=True)
class AnyOf:
    code: str
    policies: tuple[Policy, ...]
    severity: str = "medium"

    def __post_init__(self) -> None:
        _check_severity(self.severity)
        if not self.policies:
            raise ValidationFailed(
                [FieldError("policies", "name at least one policy")],
                code="early_warning_policy_invalid",
            )

    def evaluate(self, signals: Signals) -> tuple[Hit, ...]:
        hits = [h for p in self.policies for h in p.evaluate(signals)]
        if not hits:
            return ()
        return (Hit(self.code, self.severity, "; ".join(h.message for h in hits)),)

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "any_of",
            "code": self.code,
            "severity": self.severity,
            "policies": [p.to_dict() for p in self.policies],
        }


def policy_from_dict(data: Mapping[str, object], path: str = "policy") -> Policy:
    """A policy from its ``to_dict`` form; every problem names its place (``policy.policies[1]
    .window``)."""
    kind = data.get("type")
    try:
        if kind == "threshold":
            return Threshold(
                str(data["code"]),
                str(data["signal"]),
                str(data["op"]),
                Decimal(str(data["value"])),
                str(data.get("severity", "medium")),
            )
        if kind == "trend":
            return Trend(
                str(data["code"]),
                str(data["signal"]),
                int(str(data["window"])),
                Decimal(str(data["change"])),
                str(data.get("severity", "medium")),
                bool(data.get("relative", True)),
            )
        if kind in ("all_of", "any_of"):
            raw = data.get("policies")
            if not isinstance(raw, list):
                raise ValidationFailed(
                    [FieldError(f"{path}.policies", "must be a list")],
                    code="early_warning_policy_invalid",
                )
            subs = tuple(policy_from_dict(p, f"{path}.policies[{i}]") for i, p in enumerate(raw))
            maker = AllOf if kind == "all_of" else AnyOf
            return maker(str(data["code"]), subs, str(data.get("severity", "high")))
    except KeyError as exc:
        raise ValidationFailed(
            [FieldError(f"{path}.{exc.args[0]}", "is required")],
            code="early_warning_policy_invalid",
        ) from None
    except (ArithmeticError, ValueError) as exc:
        raise ValidationFailed(
            [FieldError(path, str(exc))], code="early_warning_policy_invalid"
        ) from None
    raise ValidationFailed(
        [FieldError(f"{path}.type", "must be threshold, trend, all_of or any_of")],
        code="early_warning_policy_invalid",
    )


def evaluate(policies: Sequence[Policy], signals: Signals) -> list[Hit]:
    return [hit for policy in policies for hit in policy.evaluate(signals)]


_ORDERS_DROP = Trend("order_volume_drop", "orders_received", 3, Decimal("-0.30"), "medium")
_CUSTOMER_LOSS = Trend("customer_loss", "customers", 3, Decimal("-0.34"), "medium")

DEFAULT_POLICIES: tuple[Policy, ...] = (
    _ORDERS_DROP,
    _CUSTOMER_LOSS,
    Trend(
        "core_paying_later",
        "payment_days",
        3,
        Decimal("15"),
        "high",
        relative=False,
    ),
    Trend(
        "delivery_delays",
        "delivery_days",
        3,
        Decimal("7"),
        "medium",
        relative=False,
    ),
    Threshold("invoice_cancellations", "cancellation_share", ">", Decimal("0.10"), "medium"),
    Threshold("overdue_elsewhere", "overdue_loans_elsewhere", ">", Decimal(0), "high"),
    AllOf("business_shrinking", (_ORDERS_DROP, _CUSTOMER_LOSS), "critical"),
)
"""Orders down 30 % against the last three months; customers down a third; the buyers
(the core) paying 15 days later than their three-month average; deliveries taking 7 days
longer than their three-month average; more than 10 % of last
month's invoices cancelled by credit notes; any loan overdue at another bank; and orders and
customers falling together (critical)."""
