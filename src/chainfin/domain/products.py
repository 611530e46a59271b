"""Loan products as configuration, not code forks.

A bank offers four supply-chain products. What differs between them, and between two banks
offering the same product, is a :class:`ProductConfig`: limits, tenors, repayment methods,
pricing, accepted underlyings, advance rates, decision thresholds, required data consents,
who receives the money and the approval authority ladder. The decision rules
(:mod:`chainfin.domain.decision`) read only the configuration; no product has its own code path.

=================  ====================================================================
receivable         应收账款融资: a supplier borrows against payable credentials (债权凭证)
                   or confirmed receivables of a core enterprise; repaid by the payment.
order              订单融资: a supplier borrows against a core enterprise's confirmed
                   purchase order to produce the goods; repaid when the order is paid.
inventory          存货/仓单质押: a borrower pledges goods in a supervised warehouse
                   (warehouse receipts); the loan is held under a loan-to-value cap.
dealer             预付款(经销商)融资: the bank pays the core enterprise for a dealer's order
                   and the goods are released as the dealer repays; the core guarantees
                   to buy back unsold goods (回购担保) when the dealer falls behind.
=================  ====================================================================

**Units.** Amounts are integer minor units of ``currency`` (fen for CNY) in the dataclass and
decimal strings of major units (yuan) in the JSON shape, under the same key without
``_minor`` (``min_amount_minor`` ↔ ``"min_amount": "10000.00"``). Rates and ratios are
:class:`~decimal.Decimal` in the dataclass and decimal strings in JSON. Validation errors
name the JSON key (``max_amount``, ``authority[1].max_amount``), whichever way the
configuration was built; a :class:`ProductConfig` that exists is valid.

**Template defaults** (:func:`template`), chosen the way Chinese banks usually set these
products up; every one can be overridden per bank through :meth:`ProductConfig.from_dict`:

- Pricing: LPR 1Y plus a spread (receivable 50 bp, order 80 bp, inventory 100 bp, dealer
  60 bp: receivables of a core enterprise are the safest, order financing carries
  performance risk, inventory price risk); day count ACT/360 (RMB loans quote 日利率 =
  年利率 / 360); penalty interest 1.5 × the contract rate (罚息 is usually the contract rate
  plus 30–50 %).
- Tenors: receivable 1–12 months (the receivable's own term; never above a year); order,
  inventory and dealer 1–6 months (a production cycle, a commodity's price risk, a
  dealer's sales cycle).
- Methods: receivable ``bullet`` only (repaid in one sum by the core's payment); the others
  also ``equal_principal`` (partial repayments release pledged goods or shipments).
- Advance rates (融资比例): receivable 90 % of the face value (the core's confirmed debt),
  dealer 80 % (the dealer pays a 20 % deposit, 保证金), order 70 %, inventory 70 % of the
  collateral's value with a loan-to-value cap of 70 % and a margin call (补仓) above 80 %.
- Amounts: receivable 10,000.00–50,000,000.00; order 10,000.00–10,000,000.00; inventory
  100,000.00–30,000,000.00; dealer 50,000.00–20,000,000.00.
- Decision: automatic approval up to 1,000,000.00 for receivables (the core's credit carries
  the risk) and 500,000.00 for the others; decline below score 500, refer below 620; a site
  visit (实地调查) above 3,000,000.00 and for every new customer, a financial statement
  analysis above 5,000,000.00.
- Consent to share for credit assessment: receivable invoices and trade documents; order
  trade documents and logistics; inventory trade documents, logistics and IoT (warehouse
  sensors, 物联网监管); dealer trade documents, invoices and logistics.
- Payee: the borrower, except dealer financing where the bank pays the core enterprise
  (受托支付 to the seller). Dealer financing requires the core's buy-back guarantee, which
  is called when the dealer is 60 days past due.
- Approval authority: level 1 up to 1,000,000.00, level 2 up to 5,000,000.00, level 3 up to
  50,000,000.00.
- Price source (``price_source``): pledged goods are valued at the bank's own prices
  (``null``), or at a named platform price source's (its code, e.g. ``"SHFE"``); never at
  another bank's.

**Rules** every configuration obeys (besides each field's range): min ≤ max amount and
tenor; ``min_score`` ≤ ``min_score_auto``; ``ltv_cap`` and ``margin_call_ltv`` come together,
are required for inventory pledges, and the margin call lies above the cap; dealer financing
pays the core; a buy-back period needs the core guarantee, and a guaranteed dealer product
needs one; each accepted underlying fits the product (:data:`COMPATIBLE_UNDERLYING`);
authority levels are 1, 2, 3 … with strictly ascending amounts, and the highest level covers
``max_amount`` (every application the product allows has someone who may approve it).

>>> config = template("receivable_financing")
>>> config.required_level(300_000_000), config.required_level(6_000_000_000)
(2, None)
>>> ProductConfig.from_dict({"spread_bp": 80}, base=config).spread_bp
80
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, cast

from chainfin.domain.consent import DataCategory
from chainfin.domain.daycount import CONVENTIONS as DAY_COUNTS
from chainfin.domain.daycount import normalise as _normalise_day_count
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.loans import METHODS
from chainfin.domain.money import MINOR_UNITS, Money, MoneyError


class ProductKind(StrEnum):
    RECEIVABLE = "receivable_financing"
    ORDER = "order_financing"
    INVENTORY = "inventory_pledge"
    DEALER = "dealer_financing"


class UnderlyingKind(StrEnum):
    CREDENTIAL_PIECE = "credential_piece"
    INVOICE = "invoice"
    PURCHASE_ORDER = "purchase_order"
    WAREHOUSE_RECEIPT = "warehouse_receipt"
    DEALER_ORDER = "dealer_order"


class Payee(StrEnum):
    BORROWER = "borrower"
    CORE = "core"


COMPATIBLE_UNDERLYING: Mapping[ProductKind, tuple[UnderlyingKind, ...]] = MappingProxyType(
    {
        ProductKind.RECEIVABLE: (UnderlyingKind.CREDENTIAL_PIECE, UnderlyingKind.INVOICE),
        ProductKind.ORDER: (UnderlyingKind.PURCHASE_ORDER,),
        ProductKind.INVENTORY: (UnderlyingKind.WAREHOUSE_RECEIPT,),
        ProductKind.DEALER: (UnderlyingKind.DEALER_ORDER,),
    }
)
"""The underlying kinds each product may accept; a configuration accepts a non-empty subset."""

MAX_TENOR_MONTHS = 12
MAX_SPREAD_BP = 2000
MIN_PENALTY_MULTIPLIER = Decimal(1)
MAX_PENALTY_MULTIPLIER = Decimal(4)
MAX_SCORE = 1000
MAX_BUYBACK_DPD = 180


@dataclass(frozen=True, slots=True)
class AuthorityLevel:
    """An approver of ``level`` may approve applications up to ``max_amount_minor``."""

    level: int
    max_amount_minor: int


@dataclass(frozen=True, slots=True)
class ProductConfig:
    """One product as a bank configured it. Constructing one validates it
    (:class:`~chainfin.domain.errors.ValidationFailed` lists every problem)."""

    kind: ProductKind
    currency: str
    min_amount_minor: int
    max_amount_minor: int
    min_tenor_months: int
    max_tenor_months: int
    methods: tuple[str, ...]
    day_count: str
    spread_bp: int
    penalty_multiplier: Decimal
    underlying: tuple[UnderlyingKind, ...]
    advance_rate_cap: Decimal
    ltv_cap: Decimal | None
    margin_call_ltv: Decimal | None
    price_source: str | None
    auto_approve_limit_minor: int
    min_score: int
    min_score_auto: int
    site_visit_above_minor: int
    financial_analysis_above_minor: int
    new_customer_site_visit: bool
    consent_categories: tuple[str, ...]
    payee: Payee
    core_guarantee_required: bool
    buyback_after_dpd: int | None
    authority: tuple[AuthorityLevel, ...]

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in _ATTRS}
        errors = _problems(values, skip=frozenset())
        if errors:
            raise ValidationFailed(errors)

    def required_level(self, amount_minor: int) -> int | None:
        """The lowest authority level whose maximum covers ``amount_minor`` (None: none does)."""
        for authority in self.authority:
            if amount_minor <= authority.max_amount_minor:
                return authority.level
        return None

    def to_dict(self) -> dict[str, object]:
        """The JSON shape :meth:`from_dict` reads: amounts and rates as decimal strings."""
        out: dict[str, object] = {}
        for name in _ATTRS:
            value = getattr(self, name)
            if name in _AMOUNTS:
                out[_key(name)] = Money(value, self.currency).to_decimal_string()
            elif isinstance(value, Decimal):
                out[name] = format(value, "f")
            elif name == "authority":
                out[name] = [
                    {
                        "level": a.level,
                        "max_amount": Money(a.max_amount_minor, self.currency).to_decimal_string(),
                    }
                    for a in self.authority
                ]
            elif isinstance(value, tuple):
                out[name] = [str(item) for item in value]
            elif isinstance(value, StrEnum):
                out[name] = value.value
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], *, base: ProductConfig | None = None
    ) -> ProductConfig:
        """Parse the JSON shape of :meth:`to_dict`. Keys that are absent take ``base``'s value,
        or without ``base`` the :func:`template` default for ``kind`` (then required).
        Raises :class:`~chainfin.domain.errors.ValidationFailed` listing every problem."""
        if not isinstance(data, Mapping):
            raise ValidationFailed(
                [FieldError("product", "must be an object")], code="product_config_invalid"
            )
        errors: list[FieldError] = []
        known = ", ".join(_KEYS)
        for key in data:
            if key not in _KEYS:
                errors.append(FieldError(str(key), f"unknown key (known: {known})"))

        bad: set[str] = set()
        kind = base.kind if base is not None else None
        if "kind" in data:
            try:
                kind = _parse_kind(data["kind"])
            except _Bad as exc:
                errors.append(FieldError("kind", exc.reason))
                bad.add("kind")
                kind = None
        elif base is None:
            errors.append(FieldError("kind", f"required (one of: {_known(ProductKind)})"))
        currency = base.currency if base is not None else "CNY"
        if "currency" in data:
            raw = data["currency"]
            if isinstance(raw, str) and raw in MINOR_UNITS:
                currency = raw
            else:
                errors.append(FieldError("currency", _CURRENCY_REASON))
                bad.add("currency")

        values: dict[str, object] = {}
        if base is not None:
            values = {name: getattr(base, name) for name in _ATTRS}
        elif kind is not None:
            defaults = template(kind, currency)
            values = {name: getattr(defaults, name) for name in _ATTRS}
        values["kind"], values["currency"] = kind, currency

        for name in _ATTRS:
            key = _key(name)
            if name in {"kind", "currency"} or key not in data:
                continue
            if "currency" in bad and (name in _AMOUNTS or name == "authority"):
                bad.add(name)  # amounts cannot be read without a valid currency
                continue
            try:
                values[name] = _PARSERS[name](data[key], key, currency)
            except _Bad as exc:
                errors.append(FieldError(exc.field or key, exc.reason))
                bad.add(name)
        if kind is None:
            raise ValidationFailed(errors)
        errors.extend(_problems(values, skip=frozenset(bad)))
        if errors:
            raise ValidationFailed(errors)
        return cls(**cast(dict[str, Any], values))


# --- templates ---------------------------------------------------------------------------


def _authority_ladder(scale: int) -> tuple[AuthorityLevel, ...]:
    return (
        AuthorityLevel(1, 1_000_000 * scale),
        AuthorityLevel(2, 5_000_000 * scale),
        AuthorityLevel(3, 50_000_000 * scale),
    )


def template(kind: ProductKind | str, currency: str = "CNY") -> ProductConfig:
    """The default configuration of ``kind`` (see the module docstring for the choices).
    Amounts are the same figures in major units of ``currency``."""
    try:
        product = _parse_kind(kind)
    except _Bad as exc:
        raise ValidationFailed(
            [FieldError("kind", exc.reason)], code="product_kind_unknown"
        ) from None
    if currency not in MINOR_UNITS:
        raise ValidationFailed([FieldError("currency", _CURRENCY_REASON)], code="invalid_money")
    scale = 10 ** MINOR_UNITS[currency]
    common: dict[str, Any] = {
        "kind": product,
        "currency": currency,
        "min_tenor_months": 1,
        "day_count": "ACT/360",
        "penalty_multiplier": Decimal("1.5"),
        "ltv_cap": None,
        "margin_call_ltv": None,
        "price_source": None,
        "auto_approve_limit_minor": 500_000 * scale,
        "min_score": 500,
        "min_score_auto": 620,
        "site_visit_above_minor": 3_000_000 * scale,
        "financial_analysis_above_minor": 5_000_000 * scale,
        "new_customer_site_visit": True,
        "payee": Payee.BORROWER,
        "core_guarantee_required": False,
        "buyback_after_dpd": None,
        "authority": _authority_ladder(scale),
    }
    specific: dict[str, Any]
    if product is ProductKind.RECEIVABLE:
        specific = {
            "min_amount_minor": 10_000 * scale,
            "max_amount_minor": 50_000_000 * scale,
            "max_tenor_months": 12,
            "methods": ("bullet",),
            "spread_bp": 50,
            "underlying": (UnderlyingKind.CREDENTIAL_PIECE, UnderlyingKind.INVOICE),
            "advance_rate_cap": Decimal("0.9"),
            "auto_approve_limit_minor": 1_000_000 * scale,
            "consent_categories": ("invoices", "trade_documents"),
        }
    elif product is ProductKind.ORDER:
        specific = {
            "min_amount_minor": 10_000 * scale,
            "max_amount_minor": 10_000_000 * scale,
            "max_tenor_months": 6,
            "methods": ("bullet", "equal_principal"),
            "spread_bp": 80,
            "underlying": (UnderlyingKind.PURCHASE_ORDER,),
            "advance_rate_cap": Decimal("0.7"),
            "consent_categories": ("trade_documents", "logistics"),
        }
    elif product is ProductKind.INVENTORY:
        specific = {
            "min_amount_minor": 100_000 * scale,
            "max_amount_minor": 30_000_000 * scale,
            "max_tenor_months": 6,
            "methods": ("bullet", "equal_principal"),
            "spread_bp": 100,
            "underlying": (UnderlyingKind.WAREHOUSE_RECEIPT,),
            "advance_rate_cap": Decimal("0.7"),
            "ltv_cap": Decimal("0.7"),
            "margin_call_ltv": Decimal("0.8"),
            "consent_categories": ("trade_documents", "logistics", "iot"),
        }
    else:
        specific = {
            "min_amount_minor": 50_000 * scale,
            "max_amount_minor": 20_000_000 * scale,
            "max_tenor_months": 6,
            "methods": ("bullet", "equal_principal"),
            "spread_bp": 60,
            "underlying": (UnderlyingKind.DEALER_ORDER,),
            "advance_rate_cap": Decimal("0.8"),
            "consent_categories": ("trade_documents", "invoices", "logistics"),
            "payee": Payee.CORE,
            "core_guarantee_required": True,
            "buyback_after_dpd": 60,
        }
    return ProductConfig(**(common | specific))


# --- parsing (JSON shape -> typed values) ---------------------------------------------------


class _Bad(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


_CURRENCY_REASON = f"must be a supported currency code (one of: {', '.join(MINOR_UNITS)})"


def _known(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _key(attr: str) -> str:
    return attr.removesuffix("_minor")


def _parse_kind(value: object) -> ProductKind:
    if isinstance(value, str) and value in ProductKind._value2member_map_:
        return ProductKind(value)
    raise _Bad(f"unknown kind {value!r} (known: {_known(ProductKind)})")


def _parse_amount(value: object, key: str, currency: str) -> int:
    if not isinstance(value, str):
        raise _Bad("must be a decimal string of major units like '1000000.00'", key)
    try:
        return Money.parse(value, currency).amount_minor
    except MoneyError as exc:
        raise _Bad(exc.message, key) from None


def _parse_int(value: object, key: str, currency: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Bad("must be a whole number", key)


def _parse_optional_int(value: object, key: str, currency: str) -> int | None:
    return None if value is None else _parse_int(value, key, currency)


def _parse_bool(value: object, key: str, currency: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad("must be true or false", key)


def _parse_decimal(value: object, key: str, currency: str) -> Decimal:
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            pass
        else:
            if parsed.is_finite():
                return parsed
    raise _Bad("must be a decimal string like '0.9'", key)


def _parse_optional_decimal(value: object, key: str, currency: str) -> Decimal | None:
    return None if value is None else _parse_decimal(value, key, currency)


def _parse_optional_code(value: object, key: str, currency: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _Bad("must be a price source code like 'SHFE' (or null: the bank's own prices)", key)


def _parse_list(value: object, key: str) -> list[object]:
    if isinstance(value, list | tuple):
        return list(value)
    raise _Bad("must be a list", key)


def _parse_strings(value: object, key: str, currency: str) -> tuple[str, ...]:
    items = _parse_list(value, key)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _Bad("must be a string", f"{key}[{i}]")
    return tuple(cast(list[str], items))


def _parse_underlying(value: object, key: str, currency: str) -> tuple[UnderlyingKind, ...]:
    out = []
    for i, item in enumerate(_parse_list(value, key)):
        if not (isinstance(item, str) and item in UnderlyingKind._value2member_map_):
            raise _Bad(
                f"unknown underlying {item!r} (known: {_known(UnderlyingKind)})", f"{key}[{i}]"
            )
        out.append(UnderlyingKind(item))
    return tuple(out)


def _parse_day_count(value: object, key: str, currency: str) -> str:
    if isinstance(value, str):
        try:
            return _normalise_day_count(value)
        except ValueError:
            pass
    raise _Bad(f"unknown day count {value!r} (known: {', '.join(DAY_COUNTS)})", key)


def _parse_payee(value: object, key: str, currency: str) -> Payee:
    if isinstance(value, str) and value in Payee._value2member_map_:
        return Payee(value)
    raise _Bad(f"unknown payee {value!r} (known: {_known(Payee)})", key)


def _parse_authority(value: object, key: str, currency: str) -> tuple[AuthorityLevel, ...]:
    out = []
    for i, item in enumerate(_parse_list(value, key)):
        where = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            raise _Bad('must be an object like {"level": 1, "max_amount": "1000000.00"}', where)
        for extra in item:
            if extra not in {"level", "max_amount"}:
                raise _Bad("unknown key (known: level, max_amount)", f"{where}.{extra}")
        for required in ("level", "max_amount"):
            if required not in item:
                raise _Bad("required", f"{where}.{required}")
        level = _parse_int(item["level"], f"{where}.level", currency)
        amount = _parse_amount(item["max_amount"], f"{where}.max_amount", currency)
        out.append(AuthorityLevel(level, amount))
    return tuple(out)


_ATTRS: tuple[str, ...] = tuple(f.name for f in fields(ProductConfig))
_KEYS: tuple[str, ...] = tuple(_key(name) for name in _ATTRS)
_AMOUNTS = frozenset(
    {
        "min_amount_minor",
        "max_amount_minor",
        "auto_approve_limit_minor",
        "site_visit_above_minor",
        "financial_analysis_above_minor",
    }
)
_PARSERS: dict[str, Callable[[object, str, str], object]] = {
    "min_tenor_months": _parse_int,
    "max_tenor_months": _parse_int,
    "methods": _parse_strings,
    "day_count": _parse_day_count,
    "spread_bp": _parse_int,
    "penalty_multiplier": _parse_decimal,
    "underlying": _parse_underlying,
    "advance_rate_cap": _parse_decimal,
    "ltv_cap": _parse_optional_decimal,
    "margin_call_ltv": _parse_optional_decimal,
    "price_source": _parse_optional_code,
    "min_score": _parse_int,
    "min_score_auto": _parse_int,
    "new_customer_site_visit": _parse_bool,
    "consent_categories": _parse_strings,
    "payee": _parse_payee,
    "core_guarantee_required": _parse_bool,
    "buyback_after_dpd": _parse_optional_int,
    "authority": _parse_authority,
}
_PARSERS.update(dict.fromkeys(_AMOUNTS, _parse_amount))


# --- validation (typed values -> problems) ----------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(value: object, low: int, high: int) -> bool:
    return _is_int(value) and low <= cast(int, value) <= high


def _decimal_in(value: object, low: Decimal, high: Decimal, *, low_open: bool) -> bool:
    if not (isinstance(value, Decimal) and value.is_finite()):
        return False
    return (low < value if low_open else low <= value) and value <= high


def _items_problems(
    key: str, value: object, allowed: tuple[str, ...], *, non_empty: bool
) -> list[FieldError]:
    if not isinstance(value, tuple):
        return [FieldError(key, "must be a tuple")]
    if non_empty and not value:
        return [FieldError(key, f"must name at least one of: {', '.join(allowed)}")]
    errors = []
    for i, item in enumerate(value):
        if item not in allowed:
            errors.append(
                FieldError(f"{key}[{i}]", f"{item!r} is not one of: {', '.join(allowed)}")
            )
        elif item in value[:i]:
            errors.append(FieldError(f"{key}[{i}]", f"{item!r} is listed twice"))
    return errors


def _authority_problems(value: object) -> list[FieldError]:
    if not isinstance(value, tuple):
        return [FieldError("authority", "must be a tuple of AuthorityLevel")]
    if not value:
        return [FieldError("authority", "must have at least one level")]
    errors = []
    previous: int | None = None
    for i, item in enumerate(value):
        where = f"authority[{i}]"
        if not isinstance(item, AuthorityLevel):
            errors.append(FieldError(where, "must be an AuthorityLevel"))
            previous = None
            continue
        if not (_is_int(item.level) and item.level == i + 1):
            errors.append(FieldError(f"{where}.level", f"must be {i + 1} (levels are 1, 2, 3 …)"))
        amount = item.max_amount_minor
        if not (_is_int(amount) and amount > 0):
            errors.append(FieldError(f"{where}.max_amount", "must be a positive amount"))
            previous = None
            continue
        if previous is not None and amount <= previous:
            reason = "must be above the previous level's max_amount"
            errors.append(FieldError(f"{where}.max_amount", reason))
        previous = amount
    return errors


def _field_problems(name: str, value: object) -> list[FieldError]:
    key = _key(name)
    if name == "kind":
        ok, reason = isinstance(value, ProductKind), f"must be one of: {_known(ProductKind)}"
    elif name == "currency":
        ok, reason = isinstance(value, str) and value in MINOR_UNITS, _CURRENCY_REASON
    elif name in {"min_amount_minor", "max_amount_minor"}:
        ok, reason = _is_int(value) and cast(int, value) > 0, "must be a positive amount"
    elif name in _AMOUNTS:
        ok, reason = _is_int(value) and cast(int, value) >= 0, "must not be negative"
    elif name in {"min_tenor_months", "max_tenor_months"}:
        ok = _int_in(value, 1, MAX_TENOR_MONTHS)
        reason = f"must be a whole number of months from 1 to {MAX_TENOR_MONTHS}"
    elif name == "methods":
        return _items_problems(key, value, tuple(METHODS), non_empty=True)
    elif name == "day_count":
        ok = isinstance(value, str) and value in DAY_COUNTS
        reason = f"must be a canonical day count (one of: {', '.join(DAY_COUNTS)})"
    elif name == "spread_bp":
        ok, reason = _int_in(value, 0, MAX_SPREAD_BP), f"must be 0 to {MAX_SPREAD_BP} basis points"
    elif name == "penalty_multiplier":
        ok = _decimal_in(value, MIN_PENALTY_MULTIPLIER, MAX_PENALTY_MULTIPLIER, low_open=False)
        reason = f"must be a decimal from {MIN_PENALTY_MULTIPLIER} to {MAX_PENALTY_MULTIPLIER}"
    elif name == "underlying":
        return _items_problems(key, value, tuple(UnderlyingKind), non_empty=True)
    elif name == "advance_rate_cap":
        ok, reason = _decimal_in(value, Decimal(0), Decimal(1), low_open=True), _RATIO_REASON
    elif name in {"ltv_cap", "margin_call_ltv"}:
        ok = value is None or _decimal_in(value, Decimal(0), Decimal(1), low_open=True)
        reason = _RATIO_REASON + " (or null)"
    elif name in {"min_score", "min_score_auto"}:
        ok, reason = _int_in(value, 0, MAX_SCORE), f"must be a score from 0 to {MAX_SCORE}"
    elif name in {"new_customer_site_visit", "core_guarantee_required"}:
        ok, reason = isinstance(value, bool), "must be true or false"
    elif name == "consent_categories":
        return _items_problems(key, value, tuple(DataCategory), non_empty=False)
    elif name == "payee":
        ok, reason = isinstance(value, Payee), f"must be one of: {_known(Payee)}"
    elif name == "price_source":
        ok = value is None or (
            isinstance(value, str) and PRICE_SOURCE_CODE.fullmatch(value) is not None
        )
        reason = "must be a platform price source code (A-Z, 0-9, _ . -; up to 40) or null"
    elif name == "buyback_after_dpd":
        ok = value is None or _int_in(value, 1, MAX_BUYBACK_DPD)
        reason = f"must be 1 to {MAX_BUYBACK_DPD} days past due (or null)"
    else:
        return _authority_problems(value)
    return [] if ok else [FieldError(key, reason)]


_RATIO_REASON = "must be a decimal above 0 and at most 1"
PRICE_SOURCE_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,39}")


def _problems(values: Mapping[str, object], *, skip: frozenset[str]) -> list[FieldError]:
    """Every problem with ``values`` (attribute name -> typed value). Fields in ``skip``
    already failed to parse; rules that involve them are not checked."""
    errors: list[FieldError] = []
    ok: set[str] = set()
    for name in _ATTRS:
        if name in skip:
            continue
        problems = _field_problems(name, values[name])
        errors.extend(problems)
        if not problems:
            ok.add(name)
    v: dict[str, Any] = dict(values)

    def both(*names: str) -> bool:
        return ok.issuperset(names)

    def money(amount: int) -> str:
        return Money(amount, v["currency"]).to_decimal_string()

    if both("currency", "min_amount_minor", "max_amount_minor") and (
        v["min_amount_minor"] > v["max_amount_minor"]
    ):
        reason = f"must be at least min_amount ({money(v['min_amount_minor'])})"
        errors.append(FieldError("max_amount", reason))
    if both("min_tenor_months", "max_tenor_months") and (
        v["min_tenor_months"] > v["max_tenor_months"]
    ):
        reason = f"must be at least min_tenor_months ({v['min_tenor_months']})"
        errors.append(FieldError("max_tenor_months", reason))
    if both("min_score", "min_score_auto") and v["min_score"] > v["min_score_auto"]:
        reason = f"must be at least min_score ({v['min_score']})"
        errors.append(FieldError("min_score_auto", reason))
    if both("kind", "ltv_cap", "margin_call_ltv"):
        inventory = v["kind"] is ProductKind.INVENTORY
        ltv, margin = v["ltv_cap"], v["margin_call_ltv"]
        if ltv is None and (inventory or margin is not None):
            why = "inventory_pledge" if inventory else "a margin_call_ltv"
            errors.append(FieldError("ltv_cap", f"required for {why}"))
        if margin is None and (inventory or ltv is not None):
            why = "inventory_pledge" if inventory else "an ltv_cap"
            errors.append(FieldError("margin_call_ltv", f"required for {why}"))
        if ltv is not None and margin is not None and margin <= ltv:
            reason = f"must be above ltv_cap ({format(ltv, 'f')})"
            errors.append(FieldError("margin_call_ltv", reason))
    if both("kind", "payee") and v["kind"] is ProductKind.DEALER and v["payee"] is not Payee.CORE:
        reason = "must be core for dealer_financing (the bank pays the core enterprise)"
        errors.append(FieldError("payee", reason))
    if both("kind", "core_guarantee_required", "buyback_after_dpd"):
        guaranteed, buyback = v["core_guarantee_required"], v["buyback_after_dpd"]
        if buyback is not None and not guaranteed:
            errors.append(FieldError("buyback_after_dpd", "needs core_guarantee_required"))
        if buyback is None and guaranteed and v["kind"] is ProductKind.DEALER:
            reason = "required for dealer_financing with a core guarantee"
            errors.append(FieldError("buyback_after_dpd", reason))
    if both("kind", "underlying"):
        fits = COMPATIBLE_UNDERLYING[v["kind"]]
        for i, item in enumerate(v["underlying"]):
            if item not in fits:
                reason = f"does not fit {v['kind']} (use: {', '.join(fits)})"
                errors.append(FieldError(f"underlying[{i}]", reason))
    if both("currency", "max_amount_minor", "authority"):
        top = v["authority"][-1]
        if top.max_amount_minor < v["max_amount_minor"]:
            reason = f"the highest level must cover max_amount ({money(v['max_amount_minor'])})"
            errors.append(FieldError(f"authority[{len(v['authority']) - 1}].max_amount", reason))
    return errors
