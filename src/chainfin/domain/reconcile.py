"""Bank statement reconciliation: match the entries of an imported account statement
(ISO 20022 camt.053, parsed by an adapter into :class:`BankEntry`) to what the platform
expects — the loan disbursements it instructed and the repayments borrowers owe.

:func:`reconcile` decides each entry on its own, in file order, by the first rule that
applies:

==  ================================  ====================================================
#   the entry                         outcome
==  ================================  ====================================================
1   has a key seen before (in         ``already_imported``. Every entry's key counts as
    ``seen_keys`` or earlier in the   seen once reached, whatever its outcome, so the
    same call)                        second of two entries with one key is this.
2   has a status other than ``BOOK``  ``not_booked`` (pending and information-only entries
                                      may still change). Checked before the reversal flag:
                                      a pending reversal is first of all not booked.
3   is a reversal (RvslInd)           ``reversal``: what it reverses needs a person.
4   is a debit                        matched by EndToEndId, see below.
5   is a credit                       matched as a repayment, see below.
==  ================================  ====================================================

**Debits** are disbursements the platform instructed (pain.001 out of the bank's settlement
account). The distinct EndToEndIds of the entry, taken together, must each name an instructed
disbursement not matched yet, in the entry's currency, and their amounts must sum to the
entry's amount. Then there is one :class:`Match` per disbursement: a batch-booked entry
carrying several EndToEndIds matches several. Otherwise the whole entry is unmatched (never
part of it), for the first of these reasons: no EndToEndId at all, or one no disbursement
instructed → ``unknown_end_to_end_id``; one already matched to an earlier entry →
``disbursement_already_matched`` (a second debit for a settled disbursement is a possible
double payment, whatever its amount); another currency or another total →
``amount_differs``. An unmatched entry leaves its disbursements free for a later entry.

**Credits** are repayments. First by reference: the repayment reference of a loan found as a
whole token in any remittance text (NFKC-normalised, case-insensitive; a token is a run of
ASCII letters and digits joined by single ``-``, ``_`` or ``.``, so ``RPY-LN0001`` is found
in ``"还款RPY-LN0001。"`` but not in ``"RPY-LN00012"`` or ``"RPY-LN0001-2"``). References
of one loan match it; of several different loans → ``ambiguous``; the one loan in another
currency → ``currency_differs``. Without a reference, by the counterparty account (spaces
removed, case-insensitive): exactly one loan registered for that account in the entry's
currency matches; several → ``ambiguous``; only loans in other currencies →
``currency_differs``; none (or no account) → ``no_loan_reference``.

A repayment above what the loan still owes is matched and flagged with ``overpaid``. What
it owes is ``outstanding`` less the repayments matched to it earlier in the same call, so two
repayments of 600.00 against 1,000.00 outstanding flag the second with 200.00.

Everything is pure and deterministic; each entry costs dictionary look-ups only.

>>> from chainfin.domain.money import Money
>>> entry = BankEntry("ACC:1", 1, Money(100_000), credit=False, status="BOOK",
...                   value_date=None, booking_date=None, end_to_end_ids=("E2E-9",),
...                   remittance=(), counterparty_account=None, counterparty_name=None)
>>> [miss] = reconcile([entry], [], []).unmatched
>>> miss.detail
'entry 1: debit 1,000.00 CNY carries EndToEndId E2E-9 which no disbursement instructed'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money

BOOKED = "BOOK"

# Keys of Reconciliation.totals(), in this order.
TOTAL_DISBURSEMENT = "disbursement"
TOTAL_REPAYMENT = "repayment"
TOTAL_UNMATCHED_CREDIT = "unmatched_credit"
TOTAL_UNMATCHED_DEBIT = "unmatched_debit"
TOTAL_KEYS: tuple[str, ...] = (
    TOTAL_DISBURSEMENT,
    TOTAL_REPAYMENT,
    TOTAL_UNMATCHED_CREDIT,
    TOTAL_UNMATCHED_DEBIT,
)

# Applied to NFKC-normalised, case-folded text.
_TOKEN = re.compile(r"[0-9a-z]+(?:[-_.][0-9a-z]+)*")


class ReconcileError(ChainfinError):
    """The expectations handed to :func:`reconcile` contradict themselves."""

    code = "reconciliation_input_invalid"
    status = 422


class MatchKind(StrEnum):
    DISBURSEMENT = "disbursement"
    REPAYMENT = "repayment"


class UnmatchedReason(StrEnum):
    NOT_BOOKED = "not_booked"  # status other than BOOK
    REVERSAL = "reversal"  # reversal entries need a person
    ALREADY_IMPORTED = "already_imported"  # key seen before
    UNKNOWN_END_TO_END_ID = "unknown_end_to_end_id"  # a debit whose e2e id we did not instruct
    AMOUNT_DIFFERS = "amount_differs"  # debit with our e2e id but another amount/currency
    DISBURSEMENT_ALREADY_MATCHED = "disbursement_already_matched"
    NO_LOAN_REFERENCE = "no_loan_reference"  # a credit naming no loan, from no known account
    AMBIGUOUS = "ambiguous"  # references/accounts point at more than one loan
    CURRENCY_DIFFERS = "currency_differs"


class MatchBasis(StrEnum):
    END_TO_END_ID = "end_to_end_id"
    REFERENCE = "reference"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class BankEntry:
    """One statement entry as the reconciliation sees it."""

    key: str  # stable identity for de-duplication (built by the service)
    index: int  # 1-based position in the imported file, for messages ("entry 3")
    amount: Money  # never negative: the direction is ``credit``
    credit: bool
    status: str  # BOOK, PDNG, INFO, ...
    value_date: date | None
    booking_date: date | None
    end_to_end_ids: tuple[str, ...]
    remittance: tuple[str, ...]
    counterparty_account: str | None
    counterparty_name: str | None
    reversal: bool = False

    def __post_init__(self) -> None:
        if self.amount.amount_minor < 0:
            raise ReconcileError(
                f"entry {self.index}: amount {self.amount} is negative; "
                "the direction belongs in credit"
            )


@dataclass(frozen=True, slots=True)
class ExpectedDisbursement:
    end_to_end_id: str
    loan_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class RepayableLoan:
    loan_id: str
    reference: str  # repayment reference on the contract, e.g. "RPY-LN0001"; "" for none
    borrower_accounts: tuple[str, ...]  # compared without spaces, case-insensitive
    currency: str
    outstanding: Money  # owed in total now; only used to flag over-payments


@dataclass(frozen=True, slots=True)
class Match:
    entry: BankEntry
    kind: MatchKind
    loan_id: str
    end_to_end_id: str | None  # for disbursements
    basis: MatchBasis  # a StrEnum: compares equal to "end_to_end_id", "reference", "account"
    overpaid: Money | None = None  # repayment above what the loan still owed: by how much


@dataclass(frozen=True, slots=True)
class Unmatched:
    entry: BankEntry
    reason: UnmatchedReason
    detail: str  # for a person: "entry 4: debit 1,000.00 CNY carries EndToEndId E2E-9 ..."


@dataclass(frozen=True, slots=True)
class Reconciliation:
    matches: tuple[Match, ...]  # in entry order; a batch entry's matches are consecutive
    unmatched: tuple[Unmatched, ...]  # in entry order

    def totals(self) -> dict[str, dict[str, Money]]:
        """Entry amounts summed per category, then per currency::

            {"disbursement": {"CNY": Money(...)}, "repayment": {...},
             "unmatched_credit": {...}, "unmatched_debit": {...}}

        All four categories are always present (an empty dict when nothing falls in one);
        currencies are in alphabetical order. A batch-booked entry matching several
        disbursements counts once. Every unmatched entry counts, whatever the reason
        (``already_imported`` too), so per currency ``disbursement + unmatched_debit`` is the
        sum of all debit entries and ``repayment + unmatched_credit`` of all credit entries.
        """
        sums: dict[str, dict[str, int]] = {name: {} for name in TOTAL_KEYS}
        counted: set[int] = set()  # id() of entries already summed (batch entries)
        for match in self.matches:
            if id(match.entry) in counted:
                continue
            counted.add(id(match.entry))
            _add(sums[str(match.kind)], match.entry.amount)
        for miss in self.unmatched:
            name = TOTAL_UNMATCHED_CREDIT if miss.entry.credit else TOTAL_UNMATCHED_DEBIT
            _add(sums[name], miss.entry.amount)
        return {
            name: {ccy: Money(sums[name][ccy], ccy) for ccy in sorted(sums[name])}
            for name in TOTAL_KEYS
        }


def _add(into: dict[str, int], amount: Money) -> None:
    into[amount.currency] = into.get(amount.currency, 0) + amount.amount_minor


def fmt_amount(amount: Money) -> str:
    """``1,000.00 CNY``: thousands separated, the currency's decimals."""
    return f"{amount.to_decimal():,} {amount.currency}"


def reference_tokens(text: str) -> list[str]:
    """The tokens of a remittance text a repayment reference is compared with (normalised)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize_account(account: str) -> str:
    """An account number as compared: no whitespace, case-insensitive."""
    return "".join(unicodedata.normalize("NFKC", account).split()).casefold()


def _normalize_reference(loan: RepayableLoan) -> str | None:
    text = unicodedata.normalize("NFKC", loan.reference).strip().casefold()
    if not text:
        return None
    if not _TOKEN.fullmatch(text):
        raise ReconcileError(
            f"loan {loan.loan_id}: repayment reference {loan.reference!r} is not one token "
            "(letters and digits joined by single -, _ or .), so no remittance could name it"
        )
    return text


def _unique_disbursements(
    disbursements: Iterable[ExpectedDisbursement],
) -> dict[str, ExpectedDisbursement]:
    by_id: dict[str, ExpectedDisbursement] = {}
    for item in disbursements:
        known = by_id.setdefault(item.end_to_end_id, item)
        if known != item:
            raise ReconcileError(
                f"EndToEndId {item.end_to_end_id} is expected twice: for loan {known.loan_id} "
                f"({fmt_amount(known.amount)}) and loan {item.loan_id} "
                f"({fmt_amount(item.amount)})"
            )
    return by_id


def _unique_loans(loans: Iterable[RepayableLoan]) -> dict[str, RepayableLoan]:
    by_id: dict[str, RepayableLoan] = {}
    for loan in loans:
        if loan.outstanding.currency != loan.currency:
            raise ReconcileError(
                f"loan {loan.loan_id} is in {loan.currency} but its outstanding is "
                f"{fmt_amount(loan.outstanding)}"
            )
        known = by_id.setdefault(loan.loan_id, loan)
        if known != loan:
            raise ReconcileError(f"loan {loan.loan_id} is given twice, differently")
    return by_id


def _ids(values: Sequence[str]) -> str:
    return ", ".join(values)


def _plural(word: str, values: Sequence[str]) -> str:
    return f"{word}s" if len(values) > 1 else word


class _Reconciler:
    """The indexes built once per call, and the state carried from entry to entry."""

    def __init__(
        self,
        disbursements: Sequence[ExpectedDisbursement],
        loans: Sequence[RepayableLoan],
        seen_keys: Collection[str],
    ) -> None:
        self.disbursements = _unique_disbursements(disbursements)
        self.loans = _unique_loans(loans)
        self.by_reference: dict[str, list[str]] = {}
        self.by_account: dict[str, list[str]] = {}
        for loan in self.loans.values():
            reference = _normalize_reference(loan)
            if reference is not None:
                self.by_reference.setdefault(reference, []).append(loan.loan_id)
            for account in dict.fromkeys(map(normalize_account, loan.borrower_accounts)):
                if account:
                    self.by_account.setdefault(account, []).append(loan.loan_id)
        self.seen_before = set(seen_keys)
        self.seen_here: dict[str, int] = {}  # key -> index of its first entry in this call
        self.matched_by: dict[str, int] = {}  # EndToEndId -> index of the entry it matched
        self.owed: dict[str, int] = {
            loan.loan_id: loan.outstanding.amount_minor for loan in self.loans.values()
        }
        self.matches: list[Match] = []
        self.unmatched: list[Unmatched] = []

    def miss(self, entry: BankEntry, reason: UnmatchedReason, detail: str) -> None:
        self.unmatched.append(Unmatched(entry, reason, detail))

    def entry(self, entry: BankEntry) -> None:
        if entry.key in self.seen_before:
            self.miss(
                entry,
                UnmatchedReason.ALREADY_IMPORTED,
                f"{_head(entry)} has key {entry.key!r}, already imported",
            )
            return
        first = self.seen_here.get(entry.key)
        if first is not None:
            self.miss(
                entry,
                UnmatchedReason.ALREADY_IMPORTED,
                f"{_head(entry)} has key {entry.key!r}, as entry {first} of this import",
            )
            return
        self.seen_here[entry.key] = entry.index
        if entry.status.strip().upper() != BOOKED:
            self.miss(
                entry,
                UnmatchedReason.NOT_BOOKED,
                f"{_head(entry)} has status {entry.status or '(none)'}, not {BOOKED}; "
                "only booked entries are reconciled",
            )
        elif entry.reversal:
            self.miss(
                entry,
                UnmatchedReason.REVERSAL,
                f"{_head(entry)} is a reversal; a person must decide what it reverses",
            )
        elif entry.credit:
            self.repayment(entry)
        else:
            self.disbursement(entry)

    def disbursement(self, entry: BankEntry) -> None:
        ids = list(dict.fromkeys(entry.end_to_end_ids))
        if not ids:
            self.miss(
                entry,
                UnmatchedReason.UNKNOWN_END_TO_END_ID,
                f"{_head(entry)} carries no EndToEndId",
            )
            return
        unknown = [e2e for e2e in ids if e2e not in self.disbursements]
        if unknown:
            self.miss(
                entry,
                UnmatchedReason.UNKNOWN_END_TO_END_ID,
                f"{_head(entry)} carries {_plural('EndToEndId', unknown)} {_ids(unknown)} "
                "which no disbursement instructed",
            )
            return
        taken = [e2e for e2e in ids if e2e in self.matched_by]
        if taken:
            where = ", ".join(f"{e2e} to entry {self.matched_by[e2e]}" for e2e in taken)
            self.miss(
                entry,
                UnmatchedReason.DISBURSEMENT_ALREADY_MATCHED,
                f"{_head(entry)} carries {_plural('EndToEndId', ids)} {_ids(ids)}, "
                f"but {_plural('disbursement', taken)} already matched: {where}",
            )
            return
        expected = [self.disbursements[e2e] for e2e in ids]
        currency = entry.amount.currency
        for item in expected:
            if item.amount.currency != currency:
                self.miss(
                    entry,
                    UnmatchedReason.AMOUNT_DIFFERS,
                    f"{_head(entry)} carries {_plural('EndToEndId', ids)} {_ids(ids)}, but "
                    f"disbursement {item.end_to_end_id} (loan {item.loan_id}) is "
                    f"{fmt_amount(item.amount)}",
                )
                return
        total = Money(sum(item.amount.amount_minor for item in expected), currency)
        if total != entry.amount:
            what = (
                f"disbursement {ids[0]} (loan {expected[0].loan_id}) is"
                if len(ids) == 1
                else "their disbursements total"
            )
            self.miss(
                entry,
                UnmatchedReason.AMOUNT_DIFFERS,
                f"{_head(entry)} carries {_plural('EndToEndId', ids)} {_ids(ids)}, but "
                f"{what} {fmt_amount(total)}",
            )
            return
        for item in expected:
            self.matched_by[item.end_to_end_id] = entry.index
            self.matches.append(
                Match(
                    entry,
                    MatchKind.DISBURSEMENT,
                    item.loan_id,
                    item.end_to_end_id,
                    MatchBasis.END_TO_END_ID,
                )
            )

    def repayment(self, entry: BankEntry) -> None:
        currency = entry.amount.currency
        named = self._referenced_loans(entry)
        if len(named) > 1:
            listed = ", ".join(f"{lid} ({self.loans[lid].reference})" for lid in named)
            self.miss(
                entry,
                UnmatchedReason.AMBIGUOUS,
                f"{_head(entry)} names the repayment references of several loans: {listed}",
            )
            return
        if named:
            loan = self.loans[named[0]]
            if loan.currency != currency:
                self.miss(
                    entry,
                    UnmatchedReason.CURRENCY_DIFFERS,
                    f"{_head(entry)} names loan {loan.loan_id} (reference {loan.reference}), "
                    f"which is in {loan.currency}",
                )
                return
            self._repaid(entry, loan, MatchBasis.REFERENCE)
            return
        account = entry.counterparty_account
        registered = self.by_account.get(normalize_account(account), []) if account else []
        same = [lid for lid in registered if self.loans[lid].currency == currency]
        if len(same) == 1:
            self._repaid(entry, self.loans[same[0]], MatchBasis.ACCOUNT)
        elif same:
            self.miss(
                entry,
                UnmatchedReason.AMBIGUOUS,
                f"{_head(entry)} names no loan reference and comes from account {account}, "
                f"which repays several {currency} loans: {_ids(same)}",
            )
        elif registered:
            others = ", ".join(f"{lid} ({self.loans[lid].currency})" for lid in registered)
            self.miss(
                entry,
                UnmatchedReason.CURRENCY_DIFFERS,
                f"{_head(entry)} names no loan reference and comes from account {account}, "
                f"which repays only loans in other currencies: {others}",
            )
        else:
            source = f"account {account}" if account else "an account the statement omits"
            self.miss(
                entry,
                UnmatchedReason.NO_LOAN_REFERENCE,
                f"{_head(entry)} names no loan reference and comes from {source}, "
                "which is no borrower's registered account",
            )

    def _referenced_loans(self, entry: BankEntry) -> list[str]:
        found: dict[str, None] = {}
        for text in entry.remittance:
            for token in reference_tokens(text):
                for loan_id in self.by_reference.get(token, ()):
                    found[loan_id] = None
        return sorted(found)

    def _repaid(self, entry: BankEntry, loan: RepayableLoan, basis: MatchBasis) -> None:
        owed = self.owed[loan.loan_id]
        amount = entry.amount.amount_minor
        over = amount - max(owed, 0)
        self.owed[loan.loan_id] = owed - amount
        self.matches.append(
            Match(
                entry,
                MatchKind.REPAYMENT,
                loan.loan_id,
                None,
                basis,
                Money(over, loan.currency) if over > 0 else None,
            )
        )


def _head(entry: BankEntry) -> str:
    direction = "credit" if entry.credit else "debit"
    return f"entry {entry.index}: {direction} {fmt_amount(entry.amount)}"


def reconcile(
    entries: Sequence[BankEntry],
    disbursements: Sequence[ExpectedDisbursement],
    loans: Sequence[RepayableLoan],
    *,
    seen_keys: Collection[str] = (),
) -> Reconciliation:
    """Match each entry to the disbursements and loans, in the order the module describes.

    ``seen_keys`` are the keys of entries imported before; an entry with one of them (or
    with the key of an earlier entry of ``entries``) is ``already_imported``. Raises
    :class:`ReconcileError` when two disbursements share an EndToEndId or two loans a loan
    id with different details, when a loan's outstanding is in another currency than the
    loan, or when a repayment reference is not one token.
    """
    state = _Reconciler(disbursements, loans, seen_keys)
    for entry in entries:
        state.entry(entry)
    return Reconciliation(tuple(state.matches), tuple(state.unmatched))
