"""Shapes shared by every area: pages, amounts, rates and the ledger receipt."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from chainfin.domain.money import Money

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    """One page of a list, in a stable order; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= to get the next page")


class MoneyOut(BaseModel):
    """An amount on its own (a total, an exposure): ``{"amount": "1234.56", "currency": "CNY"}``."""

    amount: str = Field(examples=["1234.56"], description="decimal string, major units")
    currency: str = Field(examples=["CNY"])

    @classmethod
    def build(cls, money: Money) -> MoneyOut:
        return cls(amount=money.to_decimal_string(), currency=money.currency)


def amount(minor: int | None, currency: str) -> str | None:
    """Minor units as the decimal string of the interface (``123456`` → ``"1234.56"``)."""
    return None if minor is None else Money(minor, currency).to_decimal_string()


def pct(value: Decimal | None, *, fraction: bool = False) -> str | None:
    """A rate as the ``*_pct`` decimal string: ``Decimal("3.85")`` → ``"3.85"``; with
    ``fraction=True`` the value is a fraction (``Decimal("0.9")`` → ``"90"``)."""
    if value is None:
        return None
    percent = value * 100 if fraction else value
    text = format(percent.normalize(), "f")
    return text


class ReceiptEntryOut(BaseModel):
    entry_id: str
    leaf_hash: str = Field(description="hex SHA-256 leaf hash (RFC 9162, 0x00 prefix)")
    event_type: str


class ReceiptOut(BaseModel):
    """Entries recording this change, and the log's signed promise to include them in a
    signed checkpoint by ``integrate_by``. Fetch ``/v1/ledger/receipts/{entry_id}`` after
    that for the index and an inclusion proof."""

    origin: str
    entries: list[ReceiptEntryOut]
    integrate_by: datetime
    key_id: str
    signature: str = Field(
        description="base64 Ed25519 signature by the log key over the RFC 8785 JSON "
        '{"entries": [[entry_id, leaf_hash], ...], "integrate_by": ..., "origin": ...}'
    )


class Written(BaseModel):
    """Mixin for the answer to a write: the resource plus its ledger receipt."""

    receipt: ReceiptOut | None = Field(None, description="on writes: the ledger receipt")
