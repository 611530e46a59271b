"""Bank statement reconciliation: every unmatched reason and match basis with its exact
message, the precedence of the rules, batch-booked debits, whole-token references, running
over-payment, totals, input errors, speed, and properties (every entry accounted for once,
no disbursement matched twice, a second import is entirely already imported)."""

from __future__ import annotations

import doctest
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.domain import reconcile as reconcile_module
from chainfin.domain.money import Money
from chainfin.domain.reconcile import (
    TOTAL_KEYS,
    BankEntry,
    ExpectedDisbursement,
    Match,
    MatchBasis,
    MatchKind,
    ReconcileError,
    RepayableLoan,
    UnmatchedReason,
    reconcile,
)
from propbudget import budget

R = UnmatchedReason


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def entry(
    index: int = 1,
    amount: Money | None = None,
    *,
    credit: bool = False,
    status: str = "BOOK",
    e2e: tuple[str, ...] = (),
    remittance: tuple[str, ...] = (),
    account: str | None = None,
    reversal: bool = False,
    key: str | None = None,
) -> BankEntry:
    return BankEntry(
        key=f"ACC:{index}" if key is None else key,
        index=index,
        amount=cny("1000.00") if amount is None else amount,
        credit=credit,
        status=status,
        value_date=None,
        booking_date=None,
        end_to_end_ids=e2e,
        remittance=remittance,
        counterparty_account=account,
        counterparty_name=None,
        reversal=reversal,
    )


def credit(
    index: int = 1,
    amount: Money | None = None,
    *,
    status: str = "BOOK",
    e2e: tuple[str, ...] = (),
    remittance: tuple[str, ...] = (),
    account: str | None = None,
    reversal: bool = False,
    key: str | None = None,
) -> BankEntry:
    return entry(
        index,
        amount,
        credit=True,
        status=status,
        e2e=e2e,
        remittance=remittance,
        account=account,
        reversal=reversal,
        key=key,
    )


DISBURSEMENTS = (
    ExpectedDisbursement("E2E-1", "LN1", cny("1000.00")),
    ExpectedDisbursement("E2E-2", "LN2", cny("500.00")),
    ExpectedDisbursement("E2E-3", "LN3", usd("200.00")),
)
LN1_ACCOUNT = "6222 0000 1111"
SHARED_ACCOUNT = "6222 0000 2222"  # repays LN2 and LN4, both CNY
USD_ACCOUNT = "6222 0000 3333"  # repays LN3 (USD) only
MIXED_ACCOUNT = "6222 0000 4444"  # repays LN1 (CNY) and LN3 (USD)
IBAN = "GB33BUKB20201555555555"  # repays LN2
LOANS = (
    RepayableLoan("LN1", "RPY-LN0001", (LN1_ACCOUNT, MIXED_ACCOUNT), "CNY", cny("10000.00")),
    RepayableLoan("LN2", "RPY-LN0002", (SHARED_ACCOUNT, IBAN), "CNY", cny("10000.00")),
    RepayableLoan("LN3", "RPY-LN0003", (USD_ACCOUNT, MIXED_ACCOUNT), "USD", usd("10000.00")),
    RepayableLoan("LN4", "RPY-LN0004", (SHARED_ACCOUNT,), "CNY", cny("10000.00")),
    RepayableLoan("LN5", "RPY-LN00012", ("7777",), "CNY", cny("10000.00")),
)


def run(
    entries: Sequence[BankEntry],
    disbursements: Sequence[ExpectedDisbursement] = DISBURSEMENTS,
    loans: Sequence[RepayableLoan] = LOANS,
    seen_keys: Sequence[str] = (),
) -> reconcile_module.Reconciliation:
    return reconcile(entries, disbursements, loans, seen_keys=seen_keys)


# ---------------------------------------------------------------------------------------
# Every unmatched reason, with its exact message. The subject is the last entry; the ones
# before it set the stage.

UNMATCHED_CASES: list[tuple[str, tuple[BankEntry, ...], UnmatchedReason, str]] = [
    (
        "pending",
        (entry(status="PDNG", e2e=("E2E-1",)),),
        R.NOT_BOOKED,
        "entry 1: debit 1,000.00 CNY has status PDNG, not BOOK; only booked entries are reconciled",
    ),
    (
        "information only",
        (credit(status="INFO", remittance=("RPY-LN0001",)),),
        R.NOT_BOOKED,
        "entry 1: credit 1,000.00 CNY has status INFO, not BOOK; only booked entries are "
        "reconciled",
    ),
    (
        "no status",
        (entry(status="", e2e=("E2E-1",)),),
        R.NOT_BOOKED,
        "entry 1: debit 1,000.00 CNY has status (none), not BOOK; only booked entries are "
        "reconciled",
    ),
    (
        "reversal of a disbursement",
        (entry(e2e=("E2E-1",), reversal=True),),
        R.REVERSAL,
        "entry 1: debit 1,000.00 CNY is a reversal; a person must decide what it reverses",
    ),
    (
        "reversal of a repayment",
        (credit(remittance=("RPY-LN0001",), reversal=True),),
        R.REVERSAL,
        "entry 1: credit 1,000.00 CNY is a reversal; a person must decide what it reverses",
    ),
    (
        "key repeated in the same import",
        (entry(1, e2e=("E2E-1",), key="K"), entry(2, e2e=("E2E-2",), key="K")),
        R.ALREADY_IMPORTED,
        "entry 2: debit 1,000.00 CNY has key 'K', as entry 1 of this import",
    ),
    (
        "debit without EndToEndId",
        (entry(),),
        R.UNKNOWN_END_TO_END_ID,
        "entry 1: debit 1,000.00 CNY carries no EndToEndId",
    ),
    (
        "debit with a foreign EndToEndId",
        (entry(4, e2e=("E2E-9",)),),
        R.UNKNOWN_END_TO_END_ID,
        "entry 4: debit 1,000.00 CNY carries EndToEndId E2E-9 which no disbursement instructed",
    ),
    (
        "batch with one foreign EndToEndId: only that one is named",
        (entry(e2e=("E2E-1", "E2E-8", "E2E-9")),),
        R.UNKNOWN_END_TO_END_ID,
        "entry 1: debit 1,000.00 CNY carries EndToEndIds E2E-8, E2E-9 which no disbursement "
        "instructed",
    ),
    (
        "EndToEndIds are case-sensitive",
        (entry(e2e=("e2e-1",)),),
        R.UNKNOWN_END_TO_END_ID,
        "entry 1: debit 1,000.00 CNY carries EndToEndId e2e-1 which no disbursement instructed",
    ),
    (
        "amount differs by one fen",
        (entry(1, cny("999.99"), e2e=("E2E-1",)),),
        R.AMOUNT_DIFFERS,
        "entry 1: debit 999.99 CNY carries EndToEndId E2E-1, but disbursement E2E-1 (loan LN1) "
        "is 1,000.00 CNY",
    ),
    (
        "currency differs",
        (entry(1, cny("200.00"), e2e=("E2E-3",)),),
        R.AMOUNT_DIFFERS,
        "entry 1: debit 200.00 CNY carries EndToEndId E2E-3, but disbursement E2E-3 (loan LN3) "
        "is 200.00 USD",
    ),
    (
        "batch whose disbursements sum to another amount",
        (entry(1, cny("1400.00"), e2e=("E2E-1", "E2E-2")),),
        R.AMOUNT_DIFFERS,
        "entry 1: debit 1,400.00 CNY carries EndToEndIds E2E-1, E2E-2, but their disbursements "
        "total 1,500.00 CNY",
    ),
    (
        "batch mixing currencies",
        (entry(1, cny("1200.00"), e2e=("E2E-1", "E2E-3")),),
        R.AMOUNT_DIFFERS,
        "entry 1: debit 1,200.00 CNY carries EndToEndIds E2E-1, E2E-3, but disbursement E2E-3 "
        "(loan LN3) is 200.00 USD",
    ),
    (
        "second debit for a disbursement",
        (entry(2, e2e=("E2E-1",)), entry(5, e2e=("E2E-1",))),
        R.DISBURSEMENT_ALREADY_MATCHED,
        "entry 5: debit 1,000.00 CNY carries EndToEndId E2E-1, but disbursement already "
        "matched: E2E-1 to entry 2",
    ),
    (
        "already matched outranks amount differs",
        (entry(2, e2e=("E2E-1",)), entry(5, cny("900.00"), e2e=("E2E-1",))),
        R.DISBURSEMENT_ALREADY_MATCHED,
        "entry 5: debit 900.00 CNY carries EndToEndId E2E-1, but disbursement already "
        "matched: E2E-1 to entry 2",
    ),
    (
        "batch reusing a disbursement matched alone",
        (entry(1, e2e=("E2E-1",)), entry(2, cny("1500.00"), e2e=("E2E-1", "E2E-2"))),
        R.DISBURSEMENT_ALREADY_MATCHED,
        "entry 2: debit 1,500.00 CNY carries EndToEndIds E2E-1, E2E-2, but disbursement "
        "already matched: E2E-1 to entry 1",
    ),
    (
        "credit naming nothing from an unknown account",
        (credit(6, cny("500.00"), remittance=("货款",), account="6222 9999"),),
        R.NO_LOAN_REFERENCE,
        "entry 6: credit 500.00 CNY names no loan reference and comes from account 6222 9999, "
        "which is no borrower's registered account",
    ),
    (
        "credit naming nothing, no account",
        (credit(6, cny("500.00")),),
        R.NO_LOAN_REFERENCE,
        "entry 6: credit 500.00 CNY names no loan reference and comes from an account the "
        "statement omits, which is no borrower's registered account",
    ),
    (
        "reference as a prefix of a longer token is no reference",
        (credit(remittance=("RPY-LN00013",)),),
        R.NO_LOAN_REFERENCE,
        "entry 1: credit 1,000.00 CNY names no loan reference and comes from an account the "
        "statement omits, which is no borrower's registered account",
    ),
    (
        "credit carrying a disbursement's EndToEndId is still a credit",
        (credit(e2e=("E2E-1",)),),
        R.NO_LOAN_REFERENCE,
        "entry 1: credit 1,000.00 CNY names no loan reference and comes from an account the "
        "statement omits, which is no borrower's registered account",
    ),
    (
        "references of two loans",
        (credit(7, cny("500.00"), remittance=("RPY-LN0002 和 rpy-ln0001",)),),
        R.AMBIGUOUS,
        "entry 7: credit 500.00 CNY names the repayment references of several loans: "
        "LN1 (RPY-LN0001), LN2 (RPY-LN0002)",
    ),
    (
        "references of two loans in two remittance lines",
        (credit(7, cny("500.00"), remittance=("RPY-LN0001", "RPY-LN0003")),),
        R.AMBIGUOUS,
        "entry 7: credit 500.00 CNY names the repayment references of several loans: "
        "LN1 (RPY-LN0001), LN3 (RPY-LN0003)",
    ),
    (
        "account shared by two loans in the entry's currency",
        (credit(7, cny("500.00"), account=SHARED_ACCOUNT),),
        R.AMBIGUOUS,
        "entry 7: credit 500.00 CNY names no loan reference and comes from account "
        "6222 0000 2222, which repays several CNY loans: LN2, LN4",
    ),
    (
        "reference of a loan in another currency",
        (credit(8, cny("500.00"), remittance=("RPY-LN0003",), account=USD_ACCOUNT),),
        R.CURRENCY_DIFFERS,
        "entry 8: credit 500.00 CNY names loan LN3 (reference RPY-LN0003), which is in USD",
    ),
    (
        "account of a loan in another currency only",
        (credit(8, cny("500.00"), account=USD_ACCOUNT),),
        R.CURRENCY_DIFFERS,
        "entry 8: credit 500.00 CNY names no loan reference and comes from account "
        "6222 0000 3333, which repays only loans in other currencies: LN3 (USD)",
    ),
]


@pytest.mark.parametrize(
    ("entries", "reason", "detail"),
    [pytest.param(e, r, d, id=name) for name, e, r, d in UNMATCHED_CASES],
)
def test_unmatched_reason_and_message(
    entries: tuple[BankEntry, ...], reason: UnmatchedReason, detail: str
) -> None:
    result = run(entries)
    subject = entries[-1]
    [miss] = [m for m in result.unmatched if m.entry is subject]
    assert miss.reason is reason
    assert miss.detail == detail
    assert all(match.entry is not subject for match in result.matches)


def test_already_imported_from_an_earlier_import() -> None:
    [miss] = run([entry(3, e2e=("E2E-1",), key="ACC:9")], seen_keys=["ACC:9"]).unmatched
    assert miss.reason is R.ALREADY_IMPORTED
    assert miss.detail == "entry 3: debit 1,000.00 CNY has key 'ACC:9', already imported"


def test_every_reason_is_covered_by_the_table() -> None:
    covered = {reason for _, _, reason, _ in UNMATCHED_CASES}
    assert covered | {R.ALREADY_IMPORTED} == set(UnmatchedReason)


# ---------------------------------------------------------------------------------------
# Every match basis.

MATCH_CASES: list[tuple[str, BankEntry, Match]] = []


def _match_case(
    name: str,
    subject: BankEntry,
    kind: MatchKind,
    loan_id: str,
    end_to_end_id: str | None,
    basis: MatchBasis,
) -> None:
    MATCH_CASES.append((name, subject, Match(subject, kind, loan_id, end_to_end_id, basis)))


D, P = MatchKind.DISBURSEMENT, MatchKind.REPAYMENT
E2E, REF, ACC = MatchBasis.END_TO_END_ID, MatchBasis.REFERENCE, MatchBasis.ACCOUNT
_match_case("disbursement", entry(e2e=("E2E-1",)), D, "LN1", "E2E-1", E2E)
_match_case("disbursement in USD", entry(1, usd("200.00"), e2e=("E2E-3",)), D, "LN3", "E2E-3", E2E)
_match_case(
    "EndToEndId repeated within the entry counts once",
    entry(e2e=("E2E-1", "E2E-1")),
    D,
    "LN1",
    "E2E-1",
    E2E,
)
_match_case(
    "status compared case-blind", entry(status=" book ", e2e=("E2E-1",)), D, "LN1", "E2E-1", E2E
)
_match_case("reference", credit(remittance=("RPY-LN0001",)), P, "LN1", None, REF)
_match_case("reference, lower case", credit(remittance=("rpy-ln0001",)), P, "LN1", None, REF)
_match_case(
    "reference inside Chinese text",
    credit(remittance=("还款RPY-LN0001本金。",)),
    P,
    "LN1",
    None,
    REF,
)
_match_case(
    "reference in full-width characters",
    credit(remittance=("ＲＰＹ－ＬＮ０００１",)),
    P,
    "LN1",
    None,
    REF,
)
_match_case(
    "reference followed by a full stop",
    credit(remittance=("Repayment RPY-LN0001. Thanks",)),
    P,
    "LN1",
    None,
    REF,
)
_match_case(
    "reference in a structured remittance after free text",
    credit(remittance=("June instalment", "RPY-LN0002")),
    P,
    "LN2",
    None,
    REF,
)
_match_case(
    "reference named twice is one loan",
    credit(remittance=("RPY-LN0001", "rpy-LN0001 again")),
    P,
    "LN1",
    None,
    REF,
)
_match_case(
    "a longer reference is its own loan, not the shorter one",
    credit(remittance=("RPY-LN00012",)),
    P,
    "LN5",
    None,
    REF,
)
_match_case(
    "the reference outranks the account",
    credit(remittance=("RPY-LN0001",), account=SHARED_ACCOUNT),
    P,
    "LN1",
    None,
    REF,
)
_match_case("account", credit(account="6222 0000 1111"), P, "LN1", None, ACC)
_match_case("account without spaces", credit(account="622200001111"), P, "LN1", None, ACC)
_match_case(
    "IBAN with spaces, lower case",
    credit(account="gb33 bukb 2020 1555 5555 55"),
    P,
    "LN2",
    None,
    ACC,
)
_match_case(
    "account of loans in two currencies: the entry's currency decides",
    credit(1, usd("50.00"), account=MIXED_ACCOUNT),
    P,
    "LN3",
    None,
    ACC,
)
_match_case(
    "a token that is not a reference does not stop the account",
    credit(remittance=("RPY-LN00013 货款",), account=LN1_ACCOUNT),
    P,
    "LN1",
    None,
    ACC,
)


@pytest.mark.parametrize(
    ("subject", "expected"), [pytest.param(e, m, id=name) for name, e, m in MATCH_CASES]
)
def test_match_basis(subject: BankEntry, expected: Match) -> None:
    result = run([subject])
    assert result.matches == (expected,)
    assert result.unmatched == ()


def test_every_basis_is_covered_by_the_table() -> None:
    assert {m.basis for _, _, m in MATCH_CASES} == set(MatchBasis)
    assert {str(basis) for basis in MatchBasis} == {"end_to_end_id", "reference", "account"}


def test_reference_must_be_a_whole_token() -> None:
    loans = [RepayableLoan("LN1", "RPY-LN0001", (), "CNY", cny("10000.00"))]
    for text in ("RPY-LN00012", "XRPY-LN0001", "RPY-LN0001-2", "RPY-LN0001_2", "RPY-LN0001.5"):
        [miss] = run([credit(remittance=(text,))], loans=loans).unmatched
        assert miss.reason is R.NO_LOAN_REFERENCE, text
    for text in (
        "RPY-LN0001",
        "(RPY-LN0001)",
        "RPY-LN0001/2026-06",
        "ref:rpy-ln0001;",
        "RPY-LN0001-",
    ):
        [match] = run([credit(remittance=(text,))], loans=loans).matches
        assert match.loan_id == "LN1", text


def test_two_loans_with_one_reference_are_ambiguous() -> None:
    loans = [
        RepayableLoan("LN1", "RPY-1", (), "CNY", cny("10.00")),
        RepayableLoan("LN2", "rpy-1", (), "CNY", cny("10.00")),
    ]
    [miss] = run([credit(remittance=("RPY-1",))], loans=loans).unmatched
    assert miss.reason is R.AMBIGUOUS
    assert miss.detail.endswith("several loans: LN1 (RPY-1), LN2 (rpy-1)")


def test_loan_without_reference_is_found_by_account_only() -> None:
    loans = [RepayableLoan("LN1", "", ("123",), "CNY", cny("10000.00"))]
    [match] = run([credit(remittance=("anything",), account="1 2 3")], loans=loans).matches
    assert (match.loan_id, match.basis) == ("LN1", MatchBasis.ACCOUNT)


# ---------------------------------------------------------------------------------------
# Precedence of the rules.


@pytest.mark.parametrize(
    ("subject", "seen", "reason"),
    [
        pytest.param(
            entry(status="PDNG", reversal=True, e2e=("E2E-1",)), (), R.NOT_BOOKED, id="pending"
        ),
        pytest.param(
            credit(status="PDNG", reversal=True), (), R.NOT_BOOKED, id="pending reversal credit"
        ),
        pytest.param(
            entry(status="PDNG", reversal=True, key="K"),
            ("K",),
            R.ALREADY_IMPORTED,
            id="imported before",
        ),
        pytest.param(entry(reversal=True, e2e=("E2E-9",)), (), R.REVERSAL, id="reversal"),
        pytest.param(
            credit(reversal=True, remittance=("RPY-LN0001", "RPY-LN0002")),
            (),
            R.REVERSAL,
            id="reversal before ambiguity",
        ),
    ],
)
def test_precedence(subject: BankEntry, seen: tuple[str, ...], reason: UnmatchedReason) -> None:
    """already imported → not booked → reversal → matching: a pending reversal is first of
    all not booked (it may still disappear), and a key imported before is never looked at."""
    [miss] = run([subject], seen_keys=seen).unmatched
    assert miss.reason is reason


def test_unmatched_entry_leaves_its_disbursement_free() -> None:
    result = run([entry(1, cny("999.00"), e2e=("E2E-1",)), entry(2, e2e=("E2E-1",))])
    assert [m.reason for m in result.unmatched] == [R.AMOUNT_DIFFERS]
    assert [(m.entry.index, m.end_to_end_id) for m in result.matches] == [(2, "E2E-1")]


def test_failed_batch_matches_none_of_its_disbursements() -> None:
    result = run([entry(1, cny("1400.00"), e2e=("E2E-1", "E2E-2")), entry(2, e2e=("E2E-1",))])
    assert [m.entry.index for m in result.matches] == [2]


def test_duplicate_keys_within_one_call() -> None:
    """The second of two entries with one key is already imported, whatever became of the
    first — matched or not — and the third too."""
    entries = [
        entry(1, e2e=("E2E-1",), key="A"),
        entry(2, e2e=("E2E-1",), key="A"),
        credit(3, status="PDNG", key="B"),
        credit(4, remittance=("RPY-LN0001",), key="B"),
        entry(5, e2e=("E2E-2",), key="A"),
    ]
    result = run(entries)
    assert [(m.entry.index, m.loan_id) for m in result.matches] == [(1, "LN1")]
    assert [(m.entry.index, m.reason) for m in result.unmatched] == [
        (2, R.ALREADY_IMPORTED),
        (3, R.NOT_BOOKED),
        (4, R.ALREADY_IMPORTED),
        (5, R.ALREADY_IMPORTED),
    ]
    assert result.unmatched[2].detail == (
        "entry 4: credit 1,000.00 CNY has key 'B', as entry 3 of this import"
    )


# ---------------------------------------------------------------------------------------
# Batches, over-payments, order, totals.


def test_batch_booked_debit_matches_each_disbursement() -> None:
    subject = entry(7, cny("1500.00"), e2e=("E2E-2", "E2E-1"))
    result = run([subject, entry(8, e2e=("E2E-1",))])
    assert result.matches == (
        Match(subject, D, "LN2", "E2E-2", E2E),
        Match(subject, D, "LN1", "E2E-1", E2E),
    )
    [miss] = result.unmatched
    assert (miss.entry.index, miss.reason) == (8, R.DISBURSEMENT_ALREADY_MATCHED)
    assert miss.detail.endswith("E2E-1 to entry 7")


def test_overpayment_is_matched_and_flagged() -> None:
    loans = [RepayableLoan("LN1", "RPY-LN0001", ("1",), "CNY", cny("1000.00"))]
    entries = [
        credit(1, cny("1000.00"), remittance=("RPY-LN0001",)),
        credit(2, cny("0.01"), account="1"),
    ]
    assert [m.overpaid for m in run(entries[:1], loans=loans).matches] == [None]
    assert [m.overpaid for m in run(entries, loans=loans).matches] == [None, cny("0.01")]
    [big] = run([credit(1, cny("1200.00"), account="1")], loans=loans).matches
    assert big.overpaid == cny("200.00")


def test_overpayment_counts_earlier_repayments_of_the_same_import() -> None:
    loans = [RepayableLoan("LN1", "RPY-LN0001", (), "CNY", cny("1000.00"))]
    entries = [
        credit(i, cny(a), remittance=("RPY-LN0001",))
        for i, a in ((1, "600"), (2, "600"), (3, "100"))
    ]
    assert [m.overpaid for m in run(entries, loans=loans).matches] == [
        None,
        cny("200.00"),
        cny("100.00"),
    ]


def test_nothing_outstanding_makes_every_repayment_an_overpayment() -> None:
    loans = [RepayableLoan("LN1", "RPY-LN0001", (), "CNY", cny("0"))]
    [match] = run([credit(remittance=("RPY-LN0001",))], loans=loans).matches
    assert match.overpaid == cny("1000.00")


def test_results_keep_entry_order() -> None:
    entries = [
        credit(1, account=LN1_ACCOUNT),
        entry(2, e2e=("E2E-9",)),
        entry(3, e2e=("E2E-1",)),
        credit(4, status="PDNG"),
        entry(5, cny("500.00"), e2e=("E2E-2",)),
        credit(6, remittance=("RPY-LN0002",)),
    ]
    result = run(entries)
    assert [m.entry.index for m in result.matches] == [1, 3, 5, 6]
    assert [m.entry.index for m in result.unmatched] == [2, 4]


def test_totals() -> None:
    entries = [
        entry(1, cny("1500.00"), e2e=("E2E-1", "E2E-2")),  # batch: counted once
        entry(2, usd("200.00"), e2e=("E2E-3",)),
        credit(3, cny("300.00"), remittance=("RPY-LN0001",)),
        credit(4, cny("0.50"), account=IBAN),
        credit(5, usd("7.00"), remittance=("RPY-LN0003",)),
        credit(6, cny("99.00")),  # no loan
        credit(7, cny("1.00"), key="ACC:6"),  # already imported: still unmatched
        entry(8, cny("12.34"), e2e=("E2E-9",)),
        entry(9, Money(1000, "JPY")),
    ]
    totals = run(entries).totals()
    assert totals == {
        "disbursement": {"CNY": cny("1500.00"), "USD": usd("200.00")},
        "repayment": {"CNY": cny("300.50"), "USD": usd("7.00")},
        "unmatched_credit": {"CNY": cny("100.00")},
        "unmatched_debit": {"CNY": cny("12.34"), "JPY": Money(1000, "JPY")},
    }
    assert list(totals) == list(TOTAL_KEYS)
    assert list(totals["unmatched_debit"]) == ["CNY", "JPY"]


def test_totals_of_nothing() -> None:
    assert run([]).totals() == {key: {} for key in TOTAL_KEYS}
    assert run([]).matches == ()


# ---------------------------------------------------------------------------------------
# Inputs that contradict themselves.


def test_identical_repeated_expectations_are_harmless() -> None:
    result = run(
        [entry(e2e=("E2E-1",))],
        disbursements=DISBURSEMENTS + DISBURSEMENTS[:1],
        loans=LOANS + LOANS[:1],
    )
    assert len(result.matches) == 1


@pytest.mark.parametrize(
    ("disbursements", "loans", "message"),
    [
        pytest.param(
            [*DISBURSEMENTS, ExpectedDisbursement("E2E-1", "LN9", cny("1.00"))],
            LOANS,
            r"^EndToEndId E2E-1 is expected twice: for loan LN1 \(1,000\.00 CNY\) and loan LN9 "
            r"\(1\.00 CNY\)$",
            id="e2e twice",
        ),
        pytest.param(
            DISBURSEMENTS,
            [*LOANS, RepayableLoan("LN1", "RPY-X", (), "CNY", cny("1.00"))],
            r"^loan LN1 is given twice, differently$",
            id="loan twice",
        ),
        pytest.param(
            DISBURSEMENTS,
            [RepayableLoan("LN9", "RPY-9", (), "CNY", usd("1.00"))],
            r"^loan LN9 is in CNY but its outstanding is 1\.00 USD$",
            id="outstanding currency",
        ),
        pytest.param(
            DISBURSEMENTS,
            [RepayableLoan("LN9", "RPY 9", (), "CNY", cny("1.00"))],
            r"^loan LN9: repayment reference 'RPY 9' is not one token",
            id="reference not a token",
        ),
    ],
)
def test_contradictory_expectations_are_rejected(
    disbursements: list[ExpectedDisbursement], loans: list[RepayableLoan], message: str
) -> None:
    with pytest.raises(ReconcileError, match=message):
        reconcile([], disbursements, loans)


def test_negative_entry_is_rejected() -> None:
    with pytest.raises(ReconcileError, match=r"^entry 3: amount -1\.00 CNY is negative"):
        entry(3, cny("-1.00"))


def test_module_doctest() -> None:
    assert doctest.testmod(reconcile_module).failed == 0


# ---------------------------------------------------------------------------------------
# Scale and properties.


def test_ten_thousand_entries_all_match() -> None:
    n = 10_000
    disbursements = [ExpectedDisbursement(f"E2E-{i}", f"LN{i}", cny("100.00")) for i in range(n)]
    loans = [
        RepayableLoan(f"LN{i}", f"RPY-LN{i:06d}", (f"6222{i:08d}",), "CNY", cny("1000.00"))
        for i in range(n)
    ]
    entries = []
    for i in range(n):
        if i % 3 == 0:
            entries.append(entry(i + 1, cny("100.00"), e2e=(f"E2E-{i}",)))
        elif i % 3 == 1:
            entries.append(credit(i + 1, cny("10.00"), remittance=(f"还款 RPY-LN{i:06d} 谢谢",)))
        else:
            entries.append(credit(i + 1, cny("10.00"), account=f"6222 {i:08d}"))
    result = run(entries, disbursements, loans)
    assert len(result.matches) == n
    assert result.unmatched == ()


E2E_POOL = ("E2E-1", "E2E-2", "E2E-3", "E2E-4", "E2E-9")
P_DISBURSEMENTS = (
    ExpectedDisbursement("E2E-1", "LN1", cny("1.00")),
    ExpectedDisbursement("E2E-2", "LN2", cny("2.00")),
    ExpectedDisbursement("E2E-3", "LN3", usd("1.00")),
    ExpectedDisbursement("E2E-4", "LN1", cny("3.00")),
)
ACCOUNT_POOL = (LN1_ACCOUNT, SHARED_ACCOUNT, USD_ACCOUNT, MIXED_ACCOUNT, "9999", None)
TEXT_POOL = ("RPY-LN0001", "rpy-ln0002", "RPY-LN0003", "RPY-LN00012", "RPY-LN00013", "货款")


@st.composite
def bank_entries(draw: st.DrawFn) -> list[BankEntry]:
    count = draw(st.integers(0, 25))
    entries = []
    for i in range(1, count + 1):
        entries.append(
            BankEntry(
                key=draw(st.sampled_from(("K1", "K2", "K3", f"U{i}", f"U{i}", f"U{i}"))),
                index=i,
                amount=Money(draw(st.integers(0, 600)), draw(st.sampled_from(("CNY", "USD")))),
                credit=draw(st.booleans()),
                status=draw(st.sampled_from(("BOOK", "BOOK", "BOOK", "PDNG", "INFO"))),
                value_date=None,
                booking_date=None,
                end_to_end_ids=tuple(draw(st.lists(st.sampled_from(E2E_POOL), max_size=3))),
                remittance=tuple(draw(st.lists(st.sampled_from(TEXT_POOL), max_size=2))),
                counterparty_account=draw(st.sampled_from(ACCOUNT_POOL)),
                counterparty_name=None,
                reversal=draw(st.integers(0, 9)) == 0,
            )
        )
    return entries


@settings(max_examples=budget(300), deadline=None)
@given(bank_entries(), st.lists(st.sampled_from(("K1", "K2", "U1")), max_size=2))
def test_every_entry_accounted_for_once(entries: list[BankEntry], seen: list[str]) -> None:
    result = reconcile(entries, P_DISBURSEMENTS, LOANS, seen_keys=seen)
    matched = Counter(m.entry.index for m in result.matches)
    unmatched = Counter(m.entry.index for m in result.unmatched)
    assert matched.keys().isdisjoint(unmatched.keys())
    assert set(matched) | set(unmatched) == {e.index for e in entries}
    assert all(count == 1 for count in unmatched.values())
    for index, count in matched.items():
        kinds = {(m.kind, m.basis) for m in result.matches if m.entry.index == index}
        assert count == 1 or kinds == {(MatchKind.DISBURSEMENT, MatchBasis.END_TO_END_ID)}
    e2e_matched = [m.end_to_end_id for m in result.matches if m.kind is MatchKind.DISBURSEMENT]
    assert len(e2e_matched) == len(set(e2e_matched))
    keys = [m.entry.key for m in result.matches]
    assert len(set(keys)) == len(matched)  # one key per matched entry, none twice
    assert [m.entry.index for m in result.matches] == sorted(m.entry.index for m in result.matches)
    assert [m.entry.index for m in result.unmatched] == sorted(unmatched)

    again = reconcile(entries, P_DISBURSEMENTS, LOANS, seen_keys={e.key for e in entries})
    assert again.matches == ()
    assert [m.reason for m in again.unmatched] == [R.ALREADY_IMPORTED] * len(entries)


@settings(max_examples=budget(200), deadline=None)
@given(bank_entries())
def test_totals_add_up_to_the_statement(entries: list[BankEntry]) -> None:
    totals = reconcile(entries, P_DISBURSEMENTS, LOANS).totals()
    for is_credit, names in (
        (True, ("repayment", "unmatched_credit")),
        (False, ("disbursement", "unmatched_debit")),
    ):
        expected: Counter[str] = Counter()
        for e in entries:
            if e.credit is is_credit:
                expected[e.amount.currency] += e.amount.amount_minor
        got: Counter[str] = Counter()
        for name in names:
            for ccy, money in totals[name].items():
                got[ccy] += money.amount_minor
        assert got == expected
