"""The double-entry books as every interface shows them: a trial balance, an account's
statement and a posted journal. Amounts are decimal strings in major units beside their
``currency``; a debit is positive and a credit negative where one signed amount is shown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, Field

from chainfin.domain.books import AccountSpec, TrialBalance
from chainfin.domain.money import Money
from chainfin.resources.common import Written
from chainfin.services.books import Posted, StatementLine


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


class TrialBalanceRowOut(BaseModel):
    account: str = Field(examples=["1301"])
    name: str = Field(examples=["discounted credentials"])
    type: str = Field(description="asset, liability, equity, income or expense")
    currency: str = Field(examples=["CNY"])
    debit: str = Field(examples=["120000.00"])
    credit: str = Field(examples=["0.00"])


class TrialBalanceTotalOut(BaseModel):
    debit: str
    credit: str


class TrialBalanceOut(BaseModel):
    """Every account's balance in the debit or the credit column, per currency, and the
    column totals; ``balanced`` when each currency's totals agree."""

    book: str = Field(description="as asked: a bank's code, or platform", examples=["BKA"])
    balanced: bool
    rows: list[TrialBalanceRowOut] = Field(description="accounts at zero are left out")
    totals: dict[str, TrialBalanceTotalOut] = Field(description="by currency")

    @classmethod
    def build(cls, book: str, tb: TrialBalance) -> TrialBalanceOut:
        return cls(
            book=book,
            balanced=tb.balanced,
            rows=[
                TrialBalanceRowOut(
                    account=r.account.code,
                    name=r.account.name,
                    type=r.account.type.value,
                    currency=r.currency,
                    debit=_amount(r.debit_minor, r.currency),
                    credit=_amount(r.credit_minor, r.currency),
                )
                for r in tb.rows
            ],
            totals={
                c: TrialBalanceTotalOut(
                    debit=_amount(tb.debit_totals.get(c, 0), c),
                    credit=_amount(tb.credit_totals.get(c, 0), c),
                )
                for c in sorted(set(tb.debit_totals) | set(tb.credit_totals))
            },
        )


class StatementLineOut(BaseModel):
    journal_id: str
    value_on: date
    kind: str = Field(examples=["discount"])
    memo: str
    currency: str = Field(examples=["CNY"])
    amount: str = Field(description="debit positive, credit negative", examples=["-117500.00"])
    balance: str = Field(description="the running balance after this line")


class AccountStatementOut(BaseModel):
    """An account's movements in one currency in value-date order, with the balance brought
    forward from before ``since`` and the running balance."""

    book: str = Field(description="as asked: a bank's code, or platform", examples=["BKA"])
    account: str = Field(examples=["1001"])
    name: str = Field(examples=["clearing"])
    currency: str = Field(examples=["CNY"])
    since: date | None
    until: date | None
    opening: str = Field(description="the balance before since (zero without since)")
    closing: str = Field(description="the balance after the last line")
    lines: list[StatementLineOut]

    @classmethod
    def build(
        cls,
        book: str,
        spec: AccountSpec,
        currency: str,
        opening_minor: int,
        lines: Sequence[StatementLine],
        *,
        since: date | None = None,
        until: date | None = None,
    ) -> AccountStatementOut:
        closing = lines[-1].balance_minor if lines else opening_minor
        return cls(
            book=book,
            account=spec.code,
            name=spec.name,
            currency=currency,
            since=since,
            until=until,
            opening=_amount(opening_minor, currency),
            closing=_amount(closing, currency),
            lines=[
                StatementLineOut(
                    journal_id=ln.journal_id,
                    value_on=ln.value_on,
                    kind=ln.kind,
                    memo=ln.memo,
                    currency=ln.currency,
                    amount=_amount(ln.amount_minor, ln.currency),
                    balance=_amount(ln.balance_minor, ln.currency),
                )
                for ln in lines
            ],
        )


class JournalLineOut(BaseModel):
    account: str = Field(examples=["1301"])
    amount: str = Field(description="debit positive, credit negative", examples=["-120000.00"])
    currency: str = Field(examples=["CNY"])


class JournalOut(BaseModel):
    """A posted journal; a reversal names the journal it mirrors in ``reverses_id``."""

    id: str = Field(examples=["jnl_01M97X7MF1DQSS1XCRSY5GWJKR"])
    book: str = Field(description="the book's id: a bank's id, or platform")
    kind: str = Field(examples=["reversal"])
    value_on: date
    memo: str
    reverses_id: str | None
    lines: list[JournalLineOut]

    @classmethod
    def build(cls, posted: Posted) -> JournalOut:
        j = posted.journal
        return cls(
            id=j.id,
            book=j.book_id,
            kind=j.kind,
            value_on=j.value_on,
            memo=j.memo,
            reverses_id=j.reverses_id,
            lines=[
                JournalLineOut(
                    account=p.account,
                    amount=_amount(p.amount.amount_minor, p.amount.currency),
                    currency=p.amount.currency,
                )
                for p in posted.postings
            ],
        )


class JournalWrittenOut(JournalOut, Written):
    """The reversal (new, or the first one of that journal), with its ledger receipt."""
