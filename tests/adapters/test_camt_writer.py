"""camt.053.001.08 out: the bank simulator's statements are schema-valid, read back to the
same entries, balance when the figures do, and bad input is refused naming the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from chainfin.adapters.formats.iso20022 import (
    CAMT053_V08_NS,
    Balance,
    Entry,
    Statement,
    check_balances,
    check_statement,
    read_camt053,
    validate_camt053,
    write_camt053,
)
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.money import Money
from propbudget import budget

C = {"c": CAMT053_V08_NS}
DAY = date(2026, 12, 1)
CREATED = datetime(2026, 12, 1, 18, 30, tzinfo=timezone(timedelta(hours=8)))


def _debit(n: int, minor: int = 150_000_00) -> Entry:
    return Entry(
        ref=f"BNK-D{n}",
        amount=Money(minor),
        credit=False,
        status="BOOK",
        booking_date=DAY,
        value_date=DAY,
        end_to_end_ids=(f"LN{n:04d}",),
        remittance=(f"Loan RPY-{n:04d}",),
        counterparty_name="无锡精密轴承有限公司",
        counterparty_account=f"62220210010123456{n:02d}",
        uetrs=("7b0f6d3e-0c56-4f0e-9a57-2f1d3c4b5a69",),
    )


def _credit(minor: int = 20_000_00, ref: str = "BNK-C1") -> Entry:
    return Entry(
        ref=ref,
        amount=Money(minor),
        credit=True,
        status="BOOK",
        booking_date=DAY,
        value_date=DAY + timedelta(days=1),
        end_to_end_ids=(),
        remittance=("还款 RPY-0001", "thank you"),
        counterparty_name="苏州电池包有限公司",
        counterparty_account="6222020200112233445",
    )


def _statement(*entries: Entry, opening: int = 10_000_000_00) -> Statement:
    moved = sum(e.amount.amount_minor * (1 if e.credit else -1) for e in entries)
    return Statement(
        id="STMT-20261201-001",
        account="110060149018001234",
        currency="CNY",
        created_at=CREATED,
        opening_balance=Money(opening),
        closing_balance=Money(opening + moved),
        entries=tuple(entries),
        message_id="CAMT-20261201-001",
    )


def _field_errors(statement: Statement) -> set[tuple[str, int | None]]:
    with pytest.raises(ValidationFailed) as caught:
        write_camt053(statement)
    assert caught.value.errors == check_statement(statement)
    return {(e.field, e.row) for e in caught.value.errors}


def test_round_trip_gives_back_every_entry_and_the_statement_fields() -> None:
    statement = _statement(_debit(1), _debit(2, 80_000_00), _credit())
    xml = write_camt053(statement)
    [back] = read_camt053(xml)
    assert back.entries == statement.entries
    assert (back.id, back.account, back.currency, back.created_at) == (
        statement.id,
        statement.account,
        statement.currency,
        statement.created_at,
    )
    assert (back.opening_balance, back.closing_balance) == (
        statement.opening_balance,
        statement.closing_balance,
    )
    assert (back.message_id, back.version) == ("CAMT-20261201-001", "camt.053.001.08")
    assert [(b.type_code, b.on) for b in back.balances] == [("OPBD", DAY), ("CLBD", DAY)]


def test_output_is_schema_valid_and_says_what_the_brief_asks_where_the_xsd_wants_it() -> None:
    xml = write_camt053(_statement(_debit(1), _credit()))
    assert validate_camt053(xml) == []
    root = etree.fromstring(xml)
    stmt = root.find("c:BkToCstmrStmt/c:Stmt", C)
    assert stmt.findtext("c:Acct/c:Id/c:Othr/c:Id", namespaces=C) == "110060149018001234"
    assert stmt.findtext("c:Acct/c:Ccy", namespaces=C) == "CNY"
    debit, credit = stmt.findall("c:Ntry", C)
    assert debit.findtext("c:Sts/c:Cd", namespaces=C) == "BOOK"
    assert debit.findtext("c:AcctSvcrRef", namespaces=C) == "BNK-D1"
    assert debit.findtext("c:BkTxCd/c:Domn/c:Cd", namespaces=C) == "PMNT"
    assert debit.findtext("c:BkTxCd/c:Domn/c:Fmly/c:Cd", namespaces=C) == "ICDT"
    assert credit.findtext("c:BkTxCd/c:Domn/c:Fmly/c:Cd", namespaces=C) == "RCDT"
    tx = debit.find("c:NtryDtls/c:TxDtls", C)
    assert tx.findtext("c:Refs/c:EndToEndId", namespaces=C) == "LN0001"
    assert tx.findtext("c:RltdPties/c:Cdtr/c:Pty/c:Nm", namespaces=C) == "无锡精密轴承有限公司"
    assert credit.find("c:NtryDtls/c:TxDtls/c:RltdPties/c:Dbtr", C) is not None
    assert debit.find("c:Amt", C).get("Ccy") == "CNY"


def test_balances_are_consistent_when_closing_is_opening_plus_credits_minus_debits() -> None:
    [back] = read_camt053(write_camt053(_statement(_debit(1), _debit(2), _credit())))
    assert check_balances(back) == []
    off = replace(_statement(_debit(1)), closing_balance=Money(1))
    [back] = read_camt053(write_camt053(off))  # written all the same: a simulator may lie
    [problem] = check_balances(back)
    assert "CLBD" in problem


def test_a_negative_balance_is_written_as_a_debit_and_reads_back_negative() -> None:
    statement = _statement(_debit(1, 200_00), opening=100_00)
    xml = write_camt053(statement)
    assert b"<CdtDbtInd>DBIT</CdtDbtInd>" in xml
    [back] = read_camt053(xml)
    assert back.closing_balance == Money(-100_00)
    assert check_balances(back) == []


def test_iban_accounts_times_batches_reversal_and_other_balances() -> None:
    booked = datetime(2026, 12, 1, 10, 2, tzinfo=UTC)
    batch = Entry(
        ref=None,
        amount=Money(300_00, "EUR"),
        credit=False,
        status="PDNG",
        booking_date=booked.date(),
        value_date=None,
        end_to_end_ids=("E2E-A", "E2E-B"),
        remittance=(),
        counterparty_name=None,
        counterparty_account="DE87200500001234567890",
        reversal=True,
        booked_at=booked,
        uetrs=(
            "7b0f6d3e-0c56-4f0e-9a57-2f1d3c4b5a69",
            "0a3c9d1e-5b7f-4c2d-8e9f-1a2b3c4d5e6f",
        ),
    )
    bare = Entry(None, Money(1, "EUR"), True, "INFO", None, None, (), (), None, None)
    statement = Statement(
        id="S",
        account="NL26VAYB8060476890",
        currency="EUR",
        created_at=booked,
        opening_balance=Money(0, "EUR"),
        closing_balance=Money(0, "EUR"),
        entries=(batch, bare),
        balances=(
            Balance("CLBD", Money(0, "EUR"), date(2026, 12, 2)),
            Balance("CLAV", Money(-5_00, "EUR"), date(2026, 12, 2)),
            Balance("INTERIM-CUSTOM", Money(7_00, "EUR"), None),
        ),
    )
    xml = write_camt053(statement)
    assert b"<IBAN>NL26VAYB8060476890</IBAN>" in xml
    [back] = read_camt053(xml)
    assert back.entries == statement.entries
    assert back.message_id == "S"  # the statement's id when no message id is given
    assert [(b.type_code, b.amount, b.on) for b in back.balances] == [
        ("OPBD", Money(0, "EUR"), booked.date()),
        ("CLBD", Money(0, "EUR"), date(2026, 12, 2)),
        ("CLAV", Money(-5_00, "EUR"), date(2026, 12, 2)),
        ("INTERIM-CUSTOM", Money(7_00, "EUR"), booked.date()),
    ]
    assert check_balances(back) == []  # neither entry is booked


def test_same_statement_same_bytes() -> None:
    statement = _statement(_debit(1), _credit())
    assert write_camt053(statement) == write_camt053(statement)


# --- bad input ---------------------------------------------------------------------------


def test_a_negative_entry_amount_is_refused_naming_the_field_and_row() -> None:
    statement = _statement(_debit(1), replace(_credit(), amount=Money(-5_00)))
    assert _field_errors(statement) == {("amount", 2)}


def test_an_entry_in_another_currency_is_refused_naming_the_field() -> None:
    statement = _statement(_debit(1), replace(_credit(), amount=Money(5_00, "USD")))
    with pytest.raises(ValidationFailed) as caught:
        write_camt053(statement)
    [error] = caught.value.errors
    assert (error.field, error.row) == ("amount", 2)
    assert "USD" in error.reason
    assert "CNY" in error.reason


def test_a_balance_in_another_currency_is_refused_naming_the_field() -> None:
    statement = replace(_statement(_debit(1)), opening_balance=Money(5_00, "USD"))
    assert _field_errors(statement) == {("opening_balance", None)}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": ""}, {("id", None)}),
        ({"id": "X" * 36}, {("id", None)}),
        ({"message_id": " M"}, {("message_id", None)}),
        ({"account": "12-34"}, {("account", None)}),
        ({"account": "DE00200500001234567890"}, {("account", None)}),
        ({"currency": "XXX"}, {("currency", None)}),
        ({"created_at": datetime(2026, 12, 1)}, {("created_at", None)}),  # noqa: DTZ001
        ({"opening_balance": None}, {("opening_balance", None)}),
        ({"closing_balance": None}, {("closing_balance", None)}),
        ({"balances": (Balance("OPBD", Money(1), DAY),)}, {("balance.amount", 1)}),
        ({"balances": (Balance("", Money(1), DAY),)}, {("balance.type_code", 1)}),
        ({"entries": ("not an entry",)}, {("entry", 1)}),
    ],
)
def test_bad_statement_fields_are_refused_by_name(
    change: dict[str, object], expected: set[tuple[str, int | None]]
) -> None:
    assert _field_errors(replace(_statement(_debit(1)), **change)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Money(0)}, "amount"),
        ({"amount": Money(10**18)}, "amount"),
        ({"status": ""}, "status"),
        ({"ref": "R" * 36}, "ref"),
        ({"end_to_end_ids": ("NOTPROVIDED",)}, "end_to_end_ids[1]"),
        ({"end_to_end_ids": ("E" * 36,)}, "end_to_end_ids[1]"),
        ({"uetrs": ("not-a-uuid",)}, "uetrs[1]"),
        ({"remittance": ("ok", "x" * 141)}, "remittance[2]"),
        ({"remittance": ("line\nbreak",)}, "remittance[1]"),
        ({"counterparty_name": " padded"}, "counterparty_name"),
        ({"counterparty_account": "ACC-1"}, "counterparty_account"),
        ({"booking_date": datetime(2026, 12, 1, tzinfo=UTC)}, "booking_date"),
        ({"booked_at": datetime(2026, 12, 2, tzinfo=UTC)}, "booking_date"),
        ({"valued_at": datetime(2026, 12, 1)}, "valued_at"),  # noqa: DTZ001
        ({"credit": "yes"}, "credit"),
    ],
)
def test_bad_entry_fields_are_refused_by_name(change: dict[str, object], field: str) -> None:
    statement = _statement(_credit(), replace(_debit(1), **change))  # type: ignore[arg-type]
    assert _field_errors(statement) == {(field, 2)}


def test_not_a_statement_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_camt053("<Document/>")  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "statement"


# --- properties over random statements -----------------------------------------------------

_XML_SAFE = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_XML_SAFE, min_size=1, max_size=max_size).map(str.strip).filter(bool)


_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/", min_size=1, max_size=35).filter(
    lambda t: t != "NOTPROVIDED"
)
_accounts = st.one_of(
    st.from_regex(r"[0-9]{8,32}", fullmatch=True),
    st.sampled_from(["DE87200500001234567890", "NL26VAYB8060476890"]),
)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def _entries(draw: st.DrawFn) -> Entry:
    booked = draw(st.none() | _days)
    return Entry(
        ref=draw(st.none() | _ids),
        amount=Money(draw(st.integers(1, 10**15)), "CNY"),
        credit=draw(st.booleans()),
        status=draw(st.sampled_from(["BOOK", "BOOK", "PDNG", "INFO", "OTHERSTATUS"])),
        booking_date=booked,
        value_date=draw(st.none() | _days),
        end_to_end_ids=tuple(draw(st.lists(_ids, max_size=3))),
        remittance=tuple(draw(st.lists(_text(140), max_size=3))),
        counterparty_name=draw(st.none() | _text(140)),
        counterparty_account=draw(st.none() | _accounts),
        reversal=draw(st.booleans()),
        uetrs=tuple(str(u) for u in draw(st.lists(st.uuids(version=4), max_size=3))),
    )


@settings(max_examples=budget(80), deadline=None)
@given(
    st.lists(_entries(), max_size=12),
    st.integers(-(10**15), 10**15),
    _accounts,
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds; the value is aware
        max_value=datetime(2099, 12, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
    ),
)
def test_random_statements_round_trip_schema_valid_and_balanced(
    entries: list[Entry], opening: int, account: str, created: datetime
) -> None:
    moved = sum(
        e.amount.amount_minor * (1 if e.credit else -1) for e in entries if e.status == "BOOK"
    )
    statement = Statement(
        id="STMT-1",
        account=account,
        currency="CNY",
        created_at=created,
        opening_balance=Money(opening),
        closing_balance=Money(opening + moved),
        entries=tuple(entries),
    )
    xml = write_camt053(statement)
    assert validate_camt053(xml) == []
    [back] = read_camt053(xml)
    assert back.entries == statement.entries
    assert back.account == account
    assert back.created_at == created
    assert check_balances(back) == []
