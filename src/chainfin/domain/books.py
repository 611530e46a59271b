"""Double-entry books: charts of accounts, journals that balance, trial balances.

A journal is a set of postings, debits positive and credits negative, that sums to zero in
every currency it touches. Journals are never edited: a mistake is undone by posting the
reversal (every amount negated) that names the journal it reverses. The database enforces
the same rule again (a trigger refuses a journal whose lines do not balance), so no path
around the services can post a one-sided entry.

>>> cny = lambda a: Money(a, "CNY")
>>> check_journal([Posting("1301", cny(100_00)), Posting("1001", cny(-100_00))])
>>> [p.amount.amount_minor for p in reversal([Posting("1301", cny(5)), Posting("1001", cny(-5))])]
[-5, 5]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money


class UnbalancedJournal(ChainfinError):
    code = "unbalanced_journal"
    status = 422


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def normal_debit(self) -> bool:
        """Assets and expenses grow with debits; the others with credits."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType


# A bank's chart for credential discounting. Codes follow the PBoC/MoF bank chart's first
# digit (1 assets, 2 liabilities, 6 income) so a bank's GL mapping stays obvious.
CLEARING = "1001"
DISCOUNTED = "1301"
OVERDUE_DISCOUNTED = "1302"
UNEARNED_DISCOUNT = "2502"
INTEREST_INCOME = "6011"
FEE_INCOME = "6021"
PENALTY_INCOME = "6031"
# Lending (issue 6): loans at amortised principal, interest accrued daily, disbursements
# instructed but not yet seen on the bank's statement, receipts not yet applied.
INTEREST_RECEIVABLE = "1132"
LOANS = "1303"
DISBURSEMENTS_IN_TRANSIT = "2014"
UNAPPLIED_RECEIPTS = "2241"
LOAN_INTEREST_INCOME = "6012"

BANK_CHART: tuple[AccountSpec, ...] = (
    AccountSpec(
        CLEARING, "Clearing account (settlement with the payment system)", AccountType.ASSET
    ),
    AccountSpec(DISCOUNTED, "Discounted payable credentials, at face", AccountType.ASSET),
    AccountSpec(OVERDUE_DISCOUNTED, "Discounted payable credentials overdue", AccountType.ASSET),
    AccountSpec(UNEARNED_DISCOUNT, "Unearned discount interest", AccountType.LIABILITY),
    AccountSpec(INTEREST_INCOME, "Discount interest income", AccountType.INCOME),
    AccountSpec(FEE_INCOME, "Fee and commission income", AccountType.INCOME),
    AccountSpec(PENALTY_INCOME, "Penalty interest income", AccountType.INCOME),
    AccountSpec(INTEREST_RECEIVABLE, "Loan interest receivable (accrued)", AccountType.ASSET),
    AccountSpec(LOANS, "Loans to chain members, principal", AccountType.ASSET),
    AccountSpec(
        DISBURSEMENTS_IN_TRANSIT,
        "Disbursements instructed, not yet on the statement",
        AccountType.LIABILITY,
    ),
    AccountSpec(UNAPPLIED_RECEIPTS, "Receipts not yet applied to a loan", AccountType.LIABILITY),
    AccountSpec(LOAN_INTEREST_INCOME, "Loan interest income", AccountType.INCOME),
)

# The platform's credential sub-ledger: what each issuer owes on its credentials and what
# each holder holds. One account per party, created on first use.
PLATFORM_BOOK = "platform"
ISSUED_PREFIX = "2201:"
HELD_PREFIX = "1221:"


def issued_account(issuer_id: str) -> AccountSpec:
    return AccountSpec(
        ISSUED_PREFIX + issuer_id, f"Credentials issued by {issuer_id}", AccountType.LIABILITY
    )


def held_account(holder_id: str) -> AccountSpec:
    return AccountSpec(
        HELD_PREFIX + holder_id, f"Credentials held by {holder_id}", AccountType.ASSET
    )


def bank_account(code: str) -> AccountSpec:
    for spec in BANK_CHART:
        if spec.code == code:
            return spec
    raise KeyError(code)


def platform_account(code: str) -> AccountSpec:
    if code.startswith(ISSUED_PREFIX):
        return issued_account(code.removeprefix(ISSUED_PREFIX))
    if code.startswith(HELD_PREFIX):
        return held_account(code.removeprefix(HELD_PREFIX))
    raise KeyError(code)


@dataclass(frozen=True, slots=True)
class Posting:
    """One line: ``amount`` is a debit when positive, a credit when negative."""

    account: str
    amount: Money


def check_journal(postings: Sequence[Posting]) -> None:
    """Raise :class:`UnbalancedJournal` unless the postings make a valid journal."""
    if len(postings) < 2:
        raise UnbalancedJournal("a journal needs at least two postings")
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        if posting.amount.is_zero():
            raise UnbalancedJournal(f"posting to {posting.account} is zero")
        totals[posting.amount.currency] += posting.amount.amount_minor
    off = {c: t for c, t in totals.items() if t != 0}
    if off:
        detail = ", ".join(f"{c} off by {t}" for c, t in sorted(off.items()))
        raise UnbalancedJournal(f"debits and credits differ ({detail} minor units)")


def reversal(postings: Sequence[Posting]) -> list[Posting]:
    return [Posting(p.account, -p.amount) for p in postings]


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One account's balance in one currency, split into the debit or credit column."""

    account: AccountSpec
    currency: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[BalanceRow, ...]
    debit_totals: dict[str, int]
    credit_totals: dict[str, int]

    @property
    def balanced(self) -> bool:
        currencies = set(self.debit_totals) | set(self.credit_totals)
        return all(self.debit_totals.get(c, 0) == self.credit_totals.get(c, 0) for c in currencies)


def trial_balance(balances: Iterable[tuple[AccountSpec, str, int]]) -> TrialBalance:
    """From net balances (debit positive) per account and currency."""
    rows: list[BalanceRow] = []
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for spec, currency, net in sorted(balances, key=lambda b: (b[1], b[0].code)):
        if net == 0:
            continue
        debit, credit = (net, 0) if net > 0 else (0, -net)
        rows.append(BalanceRow(spec, currency, debit, credit))
        debits[currency] += debit
        credits[currency] += credit
    return TrialBalance(tuple(rows), dict(debits), dict(credits))
