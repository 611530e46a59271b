"""Money as an integer number of minor units with an ISO 4217 currency. Never float.

>>> Money.parse("10.005", "CNY")
Traceback (most recent call last):
...
chainfin.domain.money.MoneyError: '10.005' has more than 2 decimal places for CNY
>>> Money(1999, "CNY").to_decimal_string()
'19.99'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from chainfin.domain.bounds import MAX_AMOUNT_MINOR
from chainfin.domain.errors import ChainfinError

# ISO 4217 minor-unit exponents for the currencies a Chinese bank books in.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "SGD": 2,
    "CNH": 2,
    "CAD": 2,
    "AUD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "MOP": 2,
    "TWD": 2,
    "KRW": 0,
}

_AMOUNT = re.compile(r"^-?\d{1,18}(\.\d+)?$", re.ASCII)


class MoneyError(ChainfinError):
    code = "invalid_money"
    status = 422


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}") from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``amount_minor`` smallest units (fen for CNY) of ``currency``."""

    amount_minor: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if type(self.amount_minor) is not int:
            raise MoneyError(f"amount_minor must be int, not {type(self.amount_minor).__name__}")
        minor_units(self.currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "CNY") -> Money:
        """Parse a decimal string such as ``"1234.56"``; more decimals than the currency has
        is an error, never a silent rounding, and so is an amount beyond 2^53 - 1 minor units
        (``bounds.MAX_AMOUNT_MINOR``)."""
        if not isinstance(text, str):
            raise MoneyError(f'{text!r} is not a decimal string like "1234.56"')
        text = text.strip()
        if not _AMOUNT.match(text):
            raise MoneyError(f"{text!r} is not a decimal amount like 1234.56")
        exponent = minor_units(currency)
        whole, _, frac = text.lstrip("-").partition(".")
        if len(frac) > exponent:
            if frac[exponent:].strip("0"):
                raise MoneyError(f"{text!r} has more than {exponent} decimal places for {currency}")
            frac = frac[:exponent]
        minor = int(whole) * 10**exponent + int((frac or "0").ljust(exponent, "0") or "0")
        if minor > MAX_AMOUNT_MINOR:
            raise MoneyError(f"{text!r} is beyond the largest amount this platform takes")
        return cls(-minor if text.startswith("-") else minor, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str = "CNY") -> Money:
        """Round a computed Decimal half-up to the currency's minor unit (the one rounding)."""
        exponent = minor_units(currency)
        if not value.is_finite():
            raise MoneyError(f"cannot convert {value!r} to money")
        try:
            # Quantize first: scaling before rounding would round twice past 28 digits.
            rounded = value.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise MoneyError(f"cannot convert {value!r} to money") from exc
        return cls(int(rounded.scaleb(exponent)), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-minor_units(self.currency))

    def to_decimal_string(self) -> str:
        """The API's one convention: a decimal string with exactly the currency's decimals."""
        exponent = minor_units(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exponent)
        return f"{sign}{whole}.{frac:0{exponent}d}" if exponent else f"{sign}{whole}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor >= other.amount_minor

    def is_zero(self) -> bool:
        return self.amount_minor == 0

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that sum exactly to this amount
        (largest-remainder method; no fen is created or lost)."""
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise MoneyError("weights must be non-negative and not all zero")
        total = sum(weights)
        sign = -1 if self.amount_minor < 0 else 1
        magnitude = abs(self.amount_minor)
        shares = [magnitude * w // total for w in weights]
        remainders = sorted(
            range(len(weights)), key=lambda i: (-(magnitude * weights[i] % total), i)
        )
        for i in remainders[: magnitude - sum(shares)]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    def as_dict(self) -> dict[str, str]:
        """The JSON shape of an amount everywhere in the API: decimal string and currency."""
        return {"amount": self.to_decimal_string(), "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"
