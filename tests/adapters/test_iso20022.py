"""ISO 20022 adapter: pain.001.001.09 out (CNY disbursements), camt.053 .02/.08 in.

The reference pain.001.001.09 sample and everything the writer makes pass the shipped XSD;
every bad input is refused with its field and row, in message order; every reference camt.053
sample reads to the figures in the upstream expected.json dumps and expected_summary.json,
and its balances add up exactly where SOURCE.md says they do; hostile XML is refused
before libxml2 can expand or fetch anything.
"""

from __future__ import annotations

import doctest
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from chainfin.adapters.formats import iso20022
from chainfin.adapters.formats.iso20022 import (
    CAMT053_NAMESPACES,
    PAIN001_NS,
    ChargeBearer,
    Entry,
    PaymentBatch,
    PaymentInstruction,
    Statement,
    check_balances,
    check_payment_batch,
    read_camt053,
    validate_camt053,
    validate_pain001,
    write_pain001,
)
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money
from propbudget import budget
from reference import REFERENCE

DATA = REFERENCE / "iso20022"
SUMMARY: dict[str, dict[str, Any]] = json.loads(
    (DATA / "expected_summary.json").read_text(encoding="utf-8")
)
PAIN_V09 = "phpsepaxml_pain.001.001.09.xml"
PAIN_V03 = "phpsepaxml_pain.001.001.03.xml"
MINIMAL = "genkgo_camt053.v2.minimal.xml"
MULTI = "genkgo_camt053.v2.multi.statement.xml"
FIVE_DECIMALS = "genkgo_camt053.v2.five.decimals.xml"
V8 = "genkgo_camt053.v8.xml"
WRONG = "genkgo_camt053.v2.wrong.xml"
CAMT_GOOD = [MINIMAL, MULTI, FIVE_DECIMALS, V8]
XSDS = ["pain.001.001.09.xsd", "camt.053.001.02.xsd", "camt.053.001.08.xsd"]
P = {"p": PAIN001_NS}

CREATED = datetime(2025, 8, 19, 9, 30, tzinfo=timezone(timedelta(hours=8)))
UETR_1 = uuid.UUID("7b0f6d3e-0c56-4f0e-9a57-2f1d3c4b5a69")


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
    return data.replace(old, new)


def _instruction(n: int = 1, **changes: Any) -> PaymentInstruction:
    base = PaymentInstruction(
        end_to_end_id=f"LOAN-42-D{n}",
        amount=Money(150_000_00 + n, "CNY"),
        creditor_name="无锡精密轴承有限公司",
        creditor_account="6222021001012345678",
        creditor_agent="102302000019",
        remittance_info=f"Loan 42 drawdown {n}",
        uetr=uuid.UUID(int=n, version=4),
    )
    return replace(base, **changes)


def _batch(count: int = 1, **changes: Any) -> PaymentBatch:
    base = PaymentBatch(
        message_id="DISB-20250819-0001",
        created_at=CREATED,
        debtor_name="Chainfin Demo Bank loan settlement",
        debtor_account="110060149018001234",
        debtor_agent="102100099996",
        requested_execution_date=date(2025, 8, 19),
        instructions=[_instruction(n) for n in range(1, count + 1)],
    )
    return replace(base, **changes)


def _tree(xml: bytes) -> Any:
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


def _errors(batch: PaymentBatch) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        write_pain001(batch)
    assert caught.value.errors == check_payment_batch(batch)
    return caught.value.errors


def test_module_doctest() -> None:
    assert doctest.testmod(iso20022).failed == 0


@pytest.mark.parametrize("name", XSDS)
def test_shipped_xsds_are_the_reference_ones_byte_for_byte(name: str) -> None:
    shipped = files("chainfin.adapters.formats").joinpath("xsd", name).read_bytes()
    assert shipped == _read(name)


# --- pain.001.001.09 ---------------------------------------------------------------------


def test_reference_pain001_v09_sample_validates() -> None:
    assert SUMMARY[PAIN_V09]["xsd_valid"] is True
    assert validate_pain001(_read(PAIN_V09)) == []


def test_a_broken_pain001_is_reported_with_its_line() -> None:
    broken = _once(_read(PAIN_V09), b"<EndToEndId>SomethingUnique</EndToEndId>", b"<EndToEndId/>")
    assert validate_pain001(broken) == [
        "line 43: Element 'EndToEndId': [facet 'minLength'] The value has a length of '0';"
        " this underruns the allowed minimum length of '1'."
    ]  # namespaces are left out of the messages for readability


def test_pain001_v03_is_refused_naming_its_namespace() -> None:
    [problem] = validate_pain001(_read(PAIN_V03))
    assert problem.startswith("Document/@xmlns: namespace")
    assert SUMMARY[PAIN_V03]["namespace"] in problem


def test_one_instruction_writes_every_field_where_the_schema_wants_it() -> None:
    xml = write_pain001(_batch(1, instructions=[_instruction(1, uetr=UETR_1)]))
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert validate_pain001(xml) == []
    root = _tree(xml)

    def text(path: str) -> str:
        found = root.findtext("p:" + path.replace("/", "/p:"), namespaces=P)
        assert found is not None, path
        return str(found)

    assert etree.QName(root).namespace == PAIN001_NS
    assert text("CstmrCdtTrfInitn/GrpHdr/MsgId") == "DISB-20250819-0001"
    assert text("CstmrCdtTrfInitn/GrpHdr/CreDtTm") == "2025-08-19T09:30:00+08:00"
    assert text("CstmrCdtTrfInitn/GrpHdr/NbOfTxs") == "1"
    assert text("CstmrCdtTrfInitn/GrpHdr/CtrlSum") == "150000.01"
    assert text("CstmrCdtTrfInitn/GrpHdr/InitgPty/Nm") == "Chainfin Demo Bank loan settlement"
    info = "CstmrCdtTrfInitn/PmtInf/"
    assert text(info + "PmtInfId") == "DISB-20250819-0001"
    assert text(info + "PmtMtd") == "TRF"
    assert text(info + "BtchBookg") == "false"
    assert text(info + "NbOfTxs") == "1"
    assert text(info + "CtrlSum") == "150000.01"
    assert text(info + "PmtTpInf/SvcLvl/Cd") == "NURG"
    assert text(info + "PmtTpInf/CtgyPurp/Cd") == "LOAN"
    assert text(info + "ReqdExctnDt/Dt") == "2025-08-19"
    assert text(info + "Dbtr/Nm") == "Chainfin Demo Bank loan settlement"
    assert text(info + "DbtrAcct/Id/Othr/Id") == "110060149018001234"
    assert text(info + "DbtrAcct/Ccy") == "CNY"
    assert text(info + "DbtrAgt/FinInstnId/ClrSysMmbId/ClrSysId/Cd") == "CNAPS"
    assert text(info + "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId") == "102100099996"
    assert text(info + "ChrgBr") == "SHAR"
    tx = info + "CdtTrfTxInf/"
    assert text(tx + "PmtId/InstrId") == "LOAN-42-D1"
    assert text(tx + "PmtId/EndToEndId") == "LOAN-42-D1"
    assert text(tx + "PmtId/UETR") == str(UETR_1)
    amount = root.find("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf/p:Amt/p:InstdAmt", P)
    assert (amount.text, amount.get("Ccy")) == ("150000.01", "CNY")
    assert text(tx + "CdtrAgt/FinInstnId/ClrSysMmbId/ClrSysId/Cd") == "CNAPS"
    assert text(tx + "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId") == "102302000019"
    assert text(tx + "Cdtr/Nm") == "无锡精密轴承有限公司"
    assert text(tx + "CdtrAcct/Id/Othr/Id") == "6222021001012345678"
    assert text(tx + "RmtInf/Ustrd") == "Loan 42 drawdown 1"


def test_bic_agents_iban_accounts_and_the_batch_options() -> None:
    # SOURCE.md: the sample's creditor IBAN DE87200500001234567890 passes mod-97.
    batch = _batch(
        1,
        debtor_agent="BANKDEFFXXX",
        payment_info_id="PMT-1",
        initiating_party_name="Chainfin Platform",
        charge_bearer=ChargeBearer.SLEV,
        batch_booking=True,
        service_level="URGP",
        category_purpose=None,
        instructions=[
            _instruction(
                1,
                creditor_account="DE87200500001234567890",
                creditor_agent="BANKDEFF",
                instruction_id="INSTR-1",
                remittance_info=None,
            )
        ],
    )
    xml = write_pain001(batch)
    assert validate_pain001(xml) == []
    root = _tree(xml)
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", P)
    assert info.findtext("p:PmtInfId", namespaces=P) == "PMT-1"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:InitgPty/p:Nm", namespaces=P) == (
        "Chainfin Platform"
    )
    assert info.findtext("p:BtchBookg", namespaces=P) == "true"
    assert info.findtext("p:ChrgBr", namespaces=P) == "SLEV"
    assert info.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=P) == "URGP"
    assert info.find("p:PmtTpInf/p:CtgyPurp", P) is None
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=P) == "BANKDEFFXXX"
    tx = info.find("p:CdtTrfTxInf", P)
    assert tx.findtext("p:PmtId/p:InstrId", namespaces=P) == "INSTR-1"
    assert tx.findtext("p:CdtrAgt/p:FinInstnId/p:BICFI", namespaces=P) == "BANKDEFF"
    assert tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=P) == "DE87200500001234567890"
    assert tx.find("p:RmtInf", P) is None


def test_no_payment_type_information_when_neither_code_is_given() -> None:
    xml = write_pain001(_batch(1, service_level=None, category_purpose=None))
    assert validate_pain001(xml) == []
    assert _tree(xml).find("p:CstmrCdtTrfInitn/p:PmtInf/p:PmtTpInf", P) is None


@pytest.mark.parametrize(
    ("minor", "written"), [(1, "0.01"), (10, "0.10"), (100, "1.00"), (10**18 - 1, None)]
)
def test_amounts_carry_exactly_two_decimals(minor: int, written: str | None) -> None:
    xml = write_pain001(_batch(1, instructions=[_instruction(1, amount=Money(minor, "CNY"))]))
    expected = written or Money(minor, "CNY").to_decimal_string()
    assert f">{expected}</InstdAmt>".encode() in xml
    assert f"<CtrlSum>{expected}</CtrlSum>".encode() in xml
    assert validate_pain001(xml) == []


def test_one_thousand_instructions_count_and_sum_right() -> None:
    batch = _batch(1000)
    xml = write_pain001(batch)
    assert validate_pain001(xml) == []
    root = _tree(xml)
    total = Money(sum(i.amount.amount_minor for i in batch.instructions), "CNY")
    for where in ("p:CstmrCdtTrfInitn/p:GrpHdr", "p:CstmrCdtTrfInitn/p:PmtInf"):
        assert root.findtext(f"{where}/p:NbOfTxs", namespaces=P) == "1000"
        assert root.findtext(f"{where}/p:CtrlSum", namespaces=P) == total.to_decimal_string()
    ids = [e.text for e in root.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", P)]
    assert ids == [i.end_to_end_id for i in batch.instructions]
    amounts = [Money.parse(e.text, "CNY") for e in root.iterfind(".//p:InstdAmt", P)]
    assert amounts == [i.amount for i in batch.instructions]


def test_same_batch_same_bytes_and_a_fresh_uetr_per_instruction() -> None:
    batch = _batch(3)
    assert write_pain001(batch) == write_pain001(batch)
    first = PaymentInstruction("E2E-1", Money(1, "CNY"), "A", "12345678", "102100099996")
    second = PaymentInstruction("E2E-2", Money(1, "CNY"), "A", "12345678", "102100099996")
    assert first.uetr.version == second.uetr.version == 4
    assert first.uetr != second.uetr
    assert validate_pain001(write_pain001(_batch(instructions=[first, second]))) == []


# --- pain.001: every input error, with its field and row ---------------------------------

A35 = "A" * 35
A140 = "名" * 140
V1_UUID = uuid.UUID("a8098c1a-f86e-11da-bd1a-00112444be1e")
BadBatch = Callable[[], PaymentBatch]


def _row(n: int, **changes: Any) -> BadBatch:
    """A three-instruction batch whose row ``n`` has ``changes``."""

    def make() -> PaymentBatch:
        batch = _batch(3)
        rows = list(batch.instructions)
        rows[n - 1] = replace(rows[n - 1], **changes)
        return replace(batch, instructions=rows)

    return make


def _whole(**changes: Any) -> BadBatch:
    return lambda: _batch(3, **changes)


REJECTIONS: list[tuple[str, BadBatch, str, int | None, str]] = [
    # (case, batch, field, row, part of the reason), batch fields first, in message order
    ("message_id over 35", _whole(message_id=A35 + "1"), "message_id", None, "36 characters"),
    ("message_id blank", _whole(message_id="  "), "message_id", None, "blank"),
    ("message_id padded", _whole(message_id=" M1"), "message_id", None, "whitespace"),
    (
        "message_id control char",
        _whole(message_id="M\x071"),
        "message_id",
        None,
        "U+0007 at 2",
    ),
    ("message_id not text", _whole(message_id=42), "message_id", None, "not int"),
    (
        "created_at naive",
        _whole(created_at=datetime(2025, 8, 19, 9, 30)),  # noqa: DTZ001 - the case under test
        "created_at",
        None,
        "timezone-aware",
    ),
    ("created_at a date", _whole(created_at=date(2025, 8, 19)), "created_at", None, "datetime"),
    ("payment_info_id over 35", _whole(payment_info_id=A35 + "1"), "payment_info_id", None, "36"),
    (
        "initiating party over 140",
        _whole(initiating_party_name=A140 + "x"),
        "initiating_party_name",
        None,
        "141 characters",
    ),
    (
        "execution date in the past",
        _whole(requested_execution_date=date(2025, 8, 18)),
        "requested_execution_date",
        None,
        "before the message's creation date 2025-08-19",
    ),
    (
        "execution date a datetime",
        _whole(requested_execution_date=CREATED),
        "requested_execution_date",
        None,
        "must be a date, not datetime",
    ),
    ("debtor_name over 140", _whole(debtor_name=A140 + "x"), "debtor_name", None, "141"),
    ("debtor_account short", _whole(debtor_account="1234567"), "debtor_account", None, "7 digits"),
    (
        "debtor IBAN fails mod-97 (SOURCE.md)",
        _whole(debtor_account="BG87200500001234567890"),
        "debtor_account",
        None,
        "mod-97",
    ),
    ("debtor_agent bad", _whole(debtor_agent="10210009999"), "debtor_agent", None, "CNAPS"),
    ("charge bearer", _whole(charge_bearer="DEBT"), "charge_bearer", None, "SHAR or SLEV"),
    ("batch_booking", _whole(batch_booking="yes"), "batch_booking", None, "true or false"),
    ("service level", _whole(service_level="SEPA1"), "service_level", None, "external code"),
    ("category purpose", _whole(category_purpose="loan"), "category_purpose", None, "capitals"),
    ("empty batch", _whole(instructions=[]), "instructions", None, "at least one"),
    ("instructions not a list", _whole(instructions="x"), "instructions", None, "sequence"),
    # then each instruction, its fields in message order
    ("not an instruction", _whole(instructions=[_instruction(1), "x"]), "instruction", 2, "str"),
    ("instruction_id over 35", _row(2, instruction_id=A35 + "1"), "instruction_id", 2, "36"),
    ("end_to_end_id over 35", _row(3, end_to_end_id=A35 + "1"), "end_to_end_id", 3, "36"),
    ("end_to_end_id blank", _row(1, end_to_end_id=""), "end_to_end_id", 1, "blank"),
    (
        "end_to_end_id twice",
        _row(3, end_to_end_id="LOAN-42-D1"),
        "end_to_end_id",
        3,
        "duplicates row 1",
    ),
    (
        "instruction_id twice",
        _row(2, instruction_id="LOAN-42-D1"),  # row 1's InstrId is its end_to_end_id
        "instruction_id",
        2,
        "duplicates row 1",
    ),
    (
        "defaulted InstrId clashes",
        lambda: _batch(
            2,
            instructions=[_instruction(1, instruction_id="X"), _instruction(2, end_to_end_id="X")],
        ),
        "instruction_id",
        2,
        "InstrId defaults to the end_to_end_id, which is row 1's InstrId",
    ),
    ("uetr twice", _row(2, uetr=uuid.UUID(int=1, version=4)), "uetr", 2, "duplicates row 1"),
    ("uetr not v4", _row(1, uetr=V1_UUID), "uetr", 1, "version-4"),
    ("uetr a string", _row(1, uetr=str(UETR_1)), "uetr", 1, "version-4"),
    ("amount in EUR", _row(2, amount=Money(100, "EUR")), "amount", 2, "CNY, not EUR"),
    ("amount zero", _row(2, amount=Money(0, "CNY")), "amount", 2, "positive, not 0.00"),
    ("amount negative", _row(2, amount=Money(-1, "CNY")), "amount", 2, "positive, not -0.01"),
    ("amount 19 digits", _row(1, amount=Money(10**18, "CNY")), "amount", 1, "18 digits"),
    ("amount a Decimal", _row(1, amount=Decimal("1.00")), "amount", 1, "Money, not Decimal"),
    ("creditor_agent bad", _row(3, creditor_agent="bankdeff"), "creditor_agent", 3, "BIC"),
    ("creditor_name over 140", _row(2, creditor_name=A140 + "x"), "creditor_name", 2, "141"),
    ("creditor_name tab", _row(2, creditor_name="A\tB"), "creditor_name", 2, "U+0009"),
    ("creditor_name C1 control", _row(2, creditor_name="A\x85B"), "creditor_name", 2, "U+0085"),
    ("creditor_name padded", _row(2, creditor_name="公司\u3000"), "creditor_name", 2, "whitespace"),
    ("account 33 digits", _row(1, creditor_account="1" * 33), "creditor_account", 1, "33 digits"),
    (
        "account with spaces",
        _row(1, creditor_account="6222 0210 0101 2345"),
        "creditor_account",
        1,
        "8 to 32 digits",
    ),
    (
        "account lower-case IBAN",
        _row(1, creditor_account="de87200500001234567890"),
        "creditor_account",
        1,
        "is not an IBAN: 2 capital letters",
    ),
    (
        "account IBAN with dashes",
        _row(1, creditor_account="DE87-2005-0000-1234-5678-90"),
        "creditor_account",
        1,
        "is not an IBAN",
    ),
    (
        "account neither",
        _row(1, creditor_account="#6222021001012345678"),
        "creditor_account",
        1,
        "must be a Chinese bank account number (8 to 32 digits) or an IBAN",
    ),
    (
        "account IBAN bad check digits",
        _row(1, creditor_account="DE88200500001234567890"),
        "creditor_account",
        1,
        "mod-97",
    ),
    (
        "account in Arabic-Indic digits",
        _row(1, creditor_account="622202100101٢٣٤٥"),
        "creditor_account",
        1,
        "must be a Chinese bank account number",
    ),
    (
        "CNAPS in full-width digits",
        _row(1, creditor_agent="１０２３０２００００１９"),
        "creditor_agent",
        1,
        "12-digit CNAPS bank code",
    ),
    ("remittance over 140", _row(3, remittance_info="x" * 141), "remittance_info", 3, "141"),
]


@pytest.mark.parametrize(
    ("make", "field", "row", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS],
)
def test_each_bad_input_is_refused_with_its_field_and_row(
    make: BadBatch, field: str, row: int | None, reason: str
) -> None:
    [error] = _errors(make())
    assert (error.field, error.row) == (field, row)
    assert reason in error.reason


def test_the_limits_themselves_are_accepted() -> None:
    batch = _batch(
        1,
        message_id=A35,
        debtor_name=A140,
        instructions=[
            _instruction(
                1,
                end_to_end_id=A35,
                creditor_name=A140,
                remittance_info="款" * 140,
                creditor_account="1" * 32,
            ),
        ],
    )
    assert validate_pain001(write_pain001(batch)) == []
    assert validate_pain001(write_pain001(_batch(1, debtor_account="12345678"))) == []


def test_a_control_sum_past_18_digits_is_refused_for_the_batch() -> None:
    big = Money(6 * 10**17, "CNY")
    batch = _batch(2, instructions=[_instruction(1, amount=big), _instruction(2, amount=big)])
    assert _errors(batch) == [
        FieldError(
            "instructions",
            "the control sum 12000000000000000.00 has more than the 18 digits pain.001"
            " allows; split the batch",
        )
    ]


def test_every_problem_is_reported_in_message_order() -> None:
    batch = _batch(
        3,
        message_id="",
        debtor_account="x",
        instructions=[
            _instruction(1, amount=Money(1, "USD")),
            _instruction(2, creditor_account="1", remittance_info=""),
            _instruction(3, end_to_end_id="LOAN-42-D2", creditor_agent="1"),
        ],
    )
    assert [(e.field, e.row) for e in _errors(batch)] == [
        ("message_id", None),
        ("debtor_account", None),
        ("amount", 1),
        ("creditor_account", 2),
        ("remittance_info", 2),
        ("end_to_end_id", 3),
        ("creditor_agent", 3),
    ]


def test_not_a_batch_is_refused() -> None:
    assert check_payment_batch("batch") == [  # type: ignore[arg-type]
        FieldError("batch", "must be a PaymentBatch, not str")
    ]


# --- pain.001: properties over random valid batches --------------------------------------

_XML_SAFE = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_XML_SAFE, min_size=1, max_size=max_size).map(str.strip).filter(bool)


_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/", min_size=1, max_size=35)
_accounts = st.one_of(
    st.from_regex(r"[0-9]{8,32}", fullmatch=True),
    st.sampled_from(["DE87200500001234567890", "NL26VAYB8060476890"]),
)
_agents = st.one_of(
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.from_regex(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", fullmatch=True),
)
_instructions = st.builds(
    PaymentInstruction,
    end_to_end_id=_ids,
    amount=st.integers(1, 10**15).map(lambda minor: Money(minor, "CNY")),
    creditor_name=_text(140),
    creditor_account=_accounts,
    creditor_agent=_agents,
    remittance_info=st.none() | _text(140),
    uetr=st.uuids(version=4),
)


@st.composite
def _batches(draw: st.DrawFn) -> PaymentBatch:
    created = draw(
        st.datetimes(
            min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds; the value is aware
            max_value=datetime(2099, 12, 1),  # noqa: DTZ001
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
        )
    )
    return PaymentBatch(
        message_id=draw(_ids),
        created_at=created,
        debtor_name=draw(_text(140)),
        debtor_account=draw(_accounts),
        debtor_agent=draw(_agents),
        requested_execution_date=created.date() + timedelta(days=draw(st.integers(0, 30))),
        instructions=draw(
            st.lists(
                _instructions,
                min_size=1,
                max_size=25,
                unique_by=(lambda i: i.end_to_end_id, lambda i: i.uetr),
            )
        ),
        charge_bearer=draw(st.sampled_from(ChargeBearer)),
        batch_booking=draw(st.booleans()),
    )


@settings(max_examples=budget(60), deadline=None)
@given(_batches())
def test_random_valid_batches_are_schema_valid_and_sum_right(batch: PaymentBatch) -> None:
    xml = write_pain001(batch)
    assert validate_pain001(xml) == []
    root = _tree(xml)
    total = sum(i.amount.amount_minor for i in batch.instructions)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", P)
    assert Money.parse(header.findtext("p:CtrlSum", namespaces=P), "CNY").amount_minor == total
    assert header.findtext("p:NbOfTxs", namespaces=P) == str(len(batch.instructions))
    names = [e.text for e in root.iterfind(".//p:CdtTrfTxInf/p:Cdtr/p:Nm", P)]
    assert names == [i.creditor_name for i in batch.instructions]


_FUZZED = (
    "creditor_name",
    "remittance_info",
    "end_to_end_id",
    "creditor_account",
    "creditor_agent",
)


@settings(max_examples=budget(150), deadline=None)
@given(st.tuples(st.text(max_size=150), st.text(max_size=150), st.text(max_size=40),
                 st.text("0123456789ABCDEZde -٠１", max_size=36),
                 st.text("0123456789ABCDEFXZ -１", max_size=13)))  # fmt: skip
def test_any_text_is_refused_by_our_checks_or_written_schema_valid(
    values: tuple[str, str, str, str, str],
) -> None:
    """Our checks cover the schema: arbitrary text is refused by a FieldError or written
    schema-valid, never refused by lxml or the XSD instead."""
    batch = _batch(1, instructions=[_instruction(1, **dict(zip(_FUZZED, values, strict=True)))])
    errors = check_payment_batch(batch)
    assert {e.field for e in errors} <= set(_FUZZED)
    if errors:
        with pytest.raises(ValidationFailed):
            write_pain001(batch)
    else:  # write_pain001 checks its output against the XSD too, and would raise
        assert validate_pain001(write_pain001(batch)) == []


# --- camt.053: the reference samples -----------------------------------------------------


@pytest.mark.parametrize("name", CAMT_GOOD)
def test_every_good_sample_is_schema_valid(name: str) -> None:
    assert SUMMARY[name]["xsd_valid"] is True
    assert validate_camt053(_read(name)) == []


@pytest.mark.parametrize("name", CAMT_GOOD)
def test_samples_read_to_expected_summary(name: str) -> None:
    expected = SUMMARY[name]
    statements = read_camt053(_read(name))
    assert [s.version for s in statements] == [expected["namespace"].rsplit(":", 1)[-1]] * len(
        statements
    )
    assert [s.message_id for s in statements] == [expected["MsgId"]] * len(statements)
    assert len(statements) == len(expected["statements"])
    for statement, want in zip(statements, expected["statements"], strict=True):
        assert statement.id == want["Id"]
        assert statement.account == (want["account_iban"] or "NL26VAYB8060476890")
        got_balances = [
            (
                b.type_code,
                abs(b.amount.to_decimal()),
                b.amount.currency,
                "DBIT" if b.amount.amount_minor < 0 else "CRDT",
                b.on.isoformat() if b.on else None,
            )
            for b in statement.balances
        ]
        assert got_balances == [
            (b["type"], Decimal(b["amount"]), b["ccy"], b["cdt_dbt"], b["date"])
            for b in want["balances"]
        ]
        got_entries = [
            (
                e.amount.to_decimal(),
                e.amount.currency,
                "CRDT" if e.credit else "DBIT",
                (e.booked_at or e.booking_date or date.min).isoformat(),
            )
            for e in statement.entries
        ]
        assert got_entries == [
            (Decimal(e["amount"]), e["ccy"], e["cdt_dbt"], e["booking_date"])
            for e in want["entries"]
        ]
        net = sum(
            (e.amount.to_decimal() * (1 if e.credit else -1) for e in statement.entries),
            Decimal(0),
        )
        assert net == Decimal(want["net_of_entries"])


_GENKGO_BALANCE_TYPES = {
    "opening": "OPBD",
    "closing": "CLBD",
    "opening_available": "OPAV",
    "closing_available": "CLAV",
}


def _genkgo_time(value: dict[str, str]) -> datetime:
    return datetime.fromisoformat(value["0"])


def _check_against_genkgo(entry: Entry, want: dict[str, Any]) -> None:
    money = want["getAmount"]
    signed = entry.amount.amount_minor * (1 if entry.credit else -1)
    assert (signed, entry.amount.currency) == (
        int(money["getAmount"]),
        money["getCurrency"]["getCode"],
    )
    assert entry.credit == (want["getCreditDebitIndicator"] == "CRDT")
    assert entry.status == want["getStatus"]
    assert entry.reversal == want["getReversalIndicator"]
    assert entry.ref == (want["getReference"] or want["getAccountServicerReference"])
    booked = _genkgo_time(want["getBookingDate"])
    if entry.booked_at is not None:
        assert entry.booked_at == booked  # the same instant; genkgo shows it in UTC
        assert entry.booking_date == date(2014, 12, 31)
    else:
        assert entry.booking_date == booked.date()
    assert entry.value_date == _genkgo_time(want["getValueDate"]).date()
    detail = want["getTransactionDetail"]
    e2e = (detail["getReference"] or {}).get("getEndToEndId")
    assert entry.end_to_end_ids == ((e2e,) if e2e else ())
    assert detail["getRemittanceInformation"]["getMessage"] in entry.remittance
    role = "Debtor" if entry.credit else "Creditor"
    others = [
        p
        for p in detail["getRelatedParties"]
        if p["getRelatedPartyType"]["__CLASS__"].endswith("\\" + role)
    ]
    assert entry.counterparty_name == (
        others[0]["getRelatedPartyType"]["getName"] if others else None
    )
    assert entry.counterparty_account == (
        others[0]["getAccount"]["getIdentification"] if others else None
    )


def _check_record_against_genkgo(statement: Statement, record: dict[str, Any]) -> None:
    assert statement.id == record["getId"]
    assert statement.account == record["getAccount"]["getIdentification"]
    assert statement.created_at == _genkgo_time(record["getCreatedOn"])
    assert len(statement.entries) == len(record["getEntries"])
    assert [
        (b.type_code, b.amount.amount_minor, b.amount.currency, b.on) for b in statement.balances
    ] == [
        (
            _GENKGO_BALANCE_TYPES[b["getType"]],
            int(b["getAmount"]["getAmount"]),
            b["getAmount"]["getCurrency"]["getCode"],
            _genkgo_time(b["getDate"]).date(),
        )
        for b in record["getBalances"]
    ]


@pytest.mark.parametrize("name", CAMT_GOOD)
def test_samples_read_to_the_upstream_expected_json(name: str) -> None:
    expected = json.loads(
        (DATA / name.replace(".xml", ".expected.json")).read_text(encoding="utf-8")
    )
    by_id = {s.id: s for s in read_camt053(_read(name))}
    assert expected["getEntries"], "the dump lists at least one entry"
    for want in expected["getEntries"]:
        statement = by_id[want["getRecord"]["getId"]]
        _check_record_against_genkgo(statement, want["getRecord"])
        _check_against_genkgo(statement.entries[want["getIndex"]], want)


def test_v08_reads_status_code_servicer_reference_other_account_and_times() -> None:
    [statement] = read_camt053(_read(V8))
    assert statement.version == "camt.053.001.08"
    assert statement.account == "NL26VAYB8060476890"  # Acct/Id/Othr/Id
    assert statement.currency == "EUR"  # no Acct/Ccy: the opening balance's currency
    [entry] = statement.entries
    assert entry.status == "BOOK"  # Sts/Cd
    assert entry.ref == "AAAASESS-FP-CN_98765/01"
    assert entry.booked_at == datetime(2014, 12, 31, 13, 15, tzinfo=timezone(timedelta(hours=1)))
    assert entry.booking_date == date(2014, 12, 31)
    assert entry.end_to_end_ids == ("MUELL/FINP/RA12345",)
    assert entry.counterparty_name == "NAME NAME"


def test_a_debit_closing_balance_is_negative() -> None:
    [statement] = read_camt053(_read(MINIMAL))
    assert statement.opening_balance == Money(18_15, "EUR")
    assert statement.closing_balance == Money(-27_00, "SEK")
    assert [b.amount for b in statement.balances][2:] == [Money(35_00, "CHF"), Money(-2700, "JPY")]


def test_multi_statement_entries_carry_their_end_to_end_ids() -> None:
    first, second = read_camt053(_read(MULTI))
    assert [(e.credit, e.amount, e.end_to_end_ids, e.remittance) for e in first.entries] == [
        (True, Money(8_85, "EUR"), ("000000001",), ("Transaction Description 1",))
    ]
    assert [
        (e.credit, e.amount, e.end_to_end_ids, e.counterparty_name) for e in second.entries
    ] == [(False, Money(7_00, "EUR"), ("000000002",), "Company Name 2")]


def test_five_decimals_are_exact_when_the_extra_digits_are_zeros() -> None:
    [statement] = read_camt053(_read(FIVE_DECIMALS))
    assert statement.opening_balance == Money(18_15, "EUR")  # 18.150
    assert statement.closing_balance == Money(27_05, "EUR")  # 27.050
    assert statement.entries[0].amount == Money(8_85, "EUR")  # 8.850


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b">8.850<", b">8.85001<", "Stmt[1]/Ntry[1]/Amt"),
        (b">18.150<", b">18.155<", "Stmt[1]/Bal[1]/Amt"),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(
    old: bytes, new: bytes, field: str
) -> None:
    data = _once(_read(FIVE_DECIMALS), old, new)
    assert validate_camt053(data) == []  # the XSD allows five decimals
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    [error] = caught.value.errors
    assert error.field == field
    assert new.strip(b"<>").decode() + " EUR has more decimals than the 2 EUR has" in error.reason
    assert "refused rather than rounded" in error.reason


def test_an_unsupported_currency_is_refused_with_its_path() -> None:
    data = _once(_read(MULTI), b'<Amt Ccy="EUR">7.00</Amt>', b'<Amt Ccy="XAU">7.00</Amt>')
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    assert caught.value.errors == [
        FieldError("Stmt[2]/Ntry[1]/Amt", "currency 'XAU' is not supported")
    ]


# --- camt.053: balance checks exactly as SOURCE.md describes -----------------------------


def test_multi_statement_balances_add_up() -> None:
    first, second = read_camt053(_read(MULTI))
    assert check_balances(first) == []  # 18.15 + 8.85 = 27.00
    assert check_balances(second) == []  # 27.00 - 7.00 = 20.00


@pytest.mark.parametrize("name", [MINIMAL, V8])
def test_minimal_and_v8_do_not_add_up_their_clbd_is_a_sek_debit(name: str) -> None:
    [statement] = read_camt053(_read(name))
    assert check_balances(statement) == [
        "statement 253EURNL26VAYB8060476890: opening 18.15 EUR + credits 8.85 EUR - debits"
        " 0.00 EUR = 27.00 EUR, but the closing booked balance (CLBD) is -27.00 SEK"
    ]


def test_five_decimals_does_not_add_up() -> None:
    [statement] = read_camt053(_read(FIVE_DECIMALS))
    assert check_balances(statement) == [
        "statement 253EURNL26VAYB8060476890: opening 18.15 EUR + credits 8.85 EUR - debits"
        " 0.00 EUR = 27.00 EUR, but the closing booked balance (CLBD) is 27.05 EUR"
    ]


def _statement(**changes: Any) -> Statement:
    [statement] = read_camt053(_read(MULTI))[1:]
    return replace(statement, **changes)


def test_pending_entries_do_not_move_booked_balances() -> None:
    pending = replace(_statement().entries[0], status="PDNG", amount=Money(99_00, "EUR"))
    statement = _statement(entries=(*_statement().entries, pending))
    assert check_balances(statement) == []


def test_missing_balances_and_foreign_entries_are_reported() -> None:
    foreign = replace(_statement().entries[0], amount=Money(1_00, "USD"), ref="R9")
    statement = _statement(opening_balance=None, entries=(*_statement().entries, foreign))
    assert check_balances(statement) == [
        "statement 254EURNL26VAYB8060476890: no opening booked balance (OPBD or PRCD)",
        "statement 254EURNL26VAYB8060476890: entry 2 (R9) is in USD, the account in EUR;"
        " left out of the sum",
    ]
    assert check_balances(_statement(closing_balance=None)) == [
        "statement 254EURNL26VAYB8060476890: no closing booked balance (CLBD)"
    ]
    assert check_balances(_statement(opening_balance=Money(27_00, "CHF"))) == [
        "statement 254EURNL26VAYB8060476890: the opening booked balance is in CHF, the"
        " account in EUR"
    ]


# --- camt.053: refused messages ----------------------------------------------------------


def test_the_wrong_sample_without_stmt_is_refused_clearly() -> None:
    assert SUMMARY[WRONG]["xsd_valid"] is False
    [problem] = validate_camt053(_read(WRONG))
    assert "BkToCstmrStmt" in problem
    assert "Stmt" in problem
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(_read(WRONG))
    assert caught.value.errors == [
        FieldError(
            "BkToCstmrStmt/Stmt",
            "missing: a camt.053 message carries at least one statement (Stmt) and this one"
            " has none",
        )
    ]


@pytest.mark.parametrize(
    "namespace",
    [
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04",
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02",
        PAIN001_NS,
    ],
)
def test_another_namespace_is_refused_by_name(namespace: str) -> None:
    data = _once(_read(MINIMAL), CAMT053_NAMESPACES[0].encode(), namespace.encode())
    reason = (
        f"namespace {namespace!r} is not a supported camt.053 version (supported:"
        f" {', '.join(CAMT053_NAMESPACES)})"
    )
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    assert caught.value.errors == [FieldError("Document/@xmlns", reason)]
    assert validate_camt053(data) == [f"Document/@xmlns: {reason}"]


def test_a_root_other_than_document_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(b"<BkToCstmrStmt/>")
    assert caught.value.errors == [
        FieldError("xml", "root element is 'BkToCstmrStmt', not an ISO 20022 Document")
    ]


def test_a_schema_invalid_statement_is_refused_with_the_xsd_errors() -> None:
    data = _once(_read(MULTI), b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>")
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    [error] = caught.value.errors
    assert error.field == "xsd"
    assert error.reason.startswith("line 147: Element 'CdtDbtInd': [facet 'enumeration']")
    assert validate_camt053(data) == [error.reason]


def test_a_timestamp_without_offset_needs_local_tz() -> None:
    data = _read(MULTI).replace(
        b"<CreDtTm>2015-03-10T18:43:50+00:00</CreDtTm>", b"<CreDtTm>2015-03-10T18:43:50</CreDtTm>"
    )
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    assert caught.value.errors == [
        FieldError(
            "Stmt[1]/CreDtTm",
            "'2015-03-10T18:43:50' has no UTC offset; pass local_tz to say which zone the"
            " bank meant",
        )
    ]
    shanghai = timezone(timedelta(hours=8))
    first, _ = read_camt053(data, local_tz=shanghai)
    assert first.created_at == datetime(2015, 3, 10, 18, 43, 50, tzinfo=shanghai)


# --- a CNY round trip: our disbursements come back on the bank's statement -----------------

_CNY_V08 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-20250819</MsgId><CreDtTm>2025-08-19T23:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>110060149018001234-20250819</Id>
      <CreDtTm>2025-08-19T23:00:00+08:00</CreDtTm>
      <Acct><Id><Othr><Id>110060149018001234</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{opening}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-08-19</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{closing}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-08-19</Dt></Dt></Bal>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""
_CNY_ENTRY = """<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="CNY">{amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>{status}</Cd></Sts>
        <BookgDt><DtTm>2025-08-19T10:02:00+08:00</DtTm></BookgDt><ValDt><Dt>2025-08-19</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId><UETR>{uetr}</UETR></Refs>
          <RltdPties><Cdtr><Pty><Nm>{name}</Nm></Pty></Cdtr>
            <CdtrAcct><Id><Othr><Id>{account}</Id></Othr></Id></CdtrAcct></RltdPties>
          <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def test_our_disbursements_come_back_on_a_cny_v08_statement() -> None:
    batch = _batch(3)
    opening = Money(10_000_000_00, "CNY")
    paid = Money(sum(i.amount.amount_minor for i in batch.instructions), "CNY")
    entries = [
        _CNY_ENTRY.format(
            ref=f"N{n}",
            amount=i.amount.to_decimal_string(),
            status="BOOK",
            e2e=i.end_to_end_id,
            uetr=i.uetr,
            name=i.creditor_name,
            account=i.creditor_account,
            remittance=i.remittance_info,
        )
        for n, i in enumerate(batch.instructions, 1)
    ]
    pending = _CNY_ENTRY.format(
        ref="N9", amount="5.00", status="PDNG", e2e="X", uetr=uuid.uuid4(), name="X",
        account="12345678", remittance="X",
    )  # fmt: skip
    data = _CNY_V08.format(
        opening=opening.to_decimal_string(),
        closing=(opening - paid).to_decimal_string(),
        entries="".join([*entries, pending]),
    ).encode()
    assert validate_camt053(data) == []
    [statement] = read_camt053(data)
    assert (statement.account, statement.currency) == ("110060149018001234", "CNY")
    assert check_balances(statement) == []
    booked = [e for e in statement.entries if e.status == "BOOK"]
    assert [(e.end_to_end_ids, e.amount, e.credit) for e in booked] == [
        ((i.end_to_end_id,), i.amount, False) for i in batch.instructions
    ]
    assert [e.uetrs for e in booked] == [(str(i.uetr),) for i in batch.instructions]
    assert [(e.counterparty_name, e.counterparty_account) for e in booked] == [
        (i.creditor_name, i.creditor_account) for i in batch.instructions
    ]
    assert booked[0].booked_at == datetime(2025, 8, 19, 2, 2, tzinfo=UTC)


# --- hostile XML: refused before libxml2 can expand or fetch anything ----------------------

DOCTYPE = "DOCTYPE refused"
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE Document [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10))
    + "]>\n<Document>&lol9;</Document>"
).encode()  # 10^9 "lol"s once expanded


def _refusal(data: bytes) -> FieldError:
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data)
    [error] = caught.value.errors
    assert error.field == "xml"
    assert validate_camt053(data) == [str(error)]
    assert validate_pain001(data) == [str(error)]
    return error


def test_billion_laughs_is_refused() -> None:
    assert DOCTYPE in _refusal(LAUGHS).reason


def test_an_external_file_entity_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        "<Document>&x;</Document>"
    ).encode()
    error = _refusal(data)
    assert DOCTYPE in error.reason
    assert "TOP-SECRET" not in error.reason


def _listener() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    return server


def _no_connection(server: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        server.accept()


@pytest.mark.parametrize(
    "template",
    [
        b'<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:%d/x">]><Document>&x;</Document>',
        b'<!DOCTYPE d SYSTEM "http://127.0.0.1:%d/d.dtd"><Document/>',
        b'<!DOCTYPE d [<!ENTITY %% p SYSTEM "http://127.0.0.1:%d/p"> %%p;]><Document/>',
        b'<?xml version="1.0"?>\n<!-- c --><?pi x?>\n<!DOCTYPE d SYSTEM "http://127.0.0.1:%d/"><a/>',
    ],
    ids=["external entity", "external DTD", "parameter entity", "after comment and PI"],
)
def test_network_entities_are_refused_without_a_connection(template: bytes) -> None:
    with _listener() as server:
        data = template % server.getsockname()[1]
        assert DOCTYPE in _refusal(data).reason
        _no_connection(server)


@pytest.mark.parametrize(
    "template",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:%d/x">]>'
        b"<Document>&x;</Document>",
        b'<!DOCTYPE d SYSTEM "http://127.0.0.1:%d/d.dtd"><Document/>',
    ],
)
def test_the_hardened_parser_alone_fetches_and_expands_nothing(
    template: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the prolog scan switched off, libxml2 still neither expands
    nor fetches, and the DTD it saw is refused after parsing."""
    monkeypatch.setattr(iso20022, "_has_doctype", lambda text: False)
    with _listener() as server:
        data = template % server.getsockname()[1]
        assert DOCTYPE in _refusal(data).reason
        _no_connection(server)
    [problem] = validate_camt053(LAUGHS)  # refused by libxml2's amplification limit or by us
    assert problem.startswith("xml: ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('<?xml version="1.0" encoding="UTF-16"?><Document/>'.encode("utf-16"), "not UTF-8"),
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?><Document/>'.encode("latin-1"),
            "declares encoding 'ISO-8859-1'; ISO 20022 XML is UTF-8",
        ),
        (b"<Document>\xe9</Document>", "not UTF-8 text (invalid byte at offset 10)"),
        (b"<Document><Stmt></Document>", "not well-formed XML"),
        (b"", "not well-formed XML"),
    ],
    ids=["utf-16", "latin-1 declared", "bad utf-8", "unclosed", "empty"],
)
def test_broken_or_foreign_encoded_xml_is_refused(data: bytes, reason: str) -> None:
    assert reason in _refusal(data).reason


def test_a_message_over_the_size_limit_is_refused_before_parsing() -> None:
    data = _read(MINIMAL)
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(data, max_bytes=1000)
    assert caught.value.errors == [
        FieldError("xml", f"{len(data)} bytes is larger than the limit of 1000 bytes")
    ]
    assert validate_pain001(data, max_bytes=10) == [
        f"xml: {len(data)} bytes is larger than the limit of 10 bytes"
    ]


def test_text_instead_of_bytes_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_camt053(_read(MINIMAL).decode())  # type: ignore[arg-type]
    assert caught.value.errors == [FieldError("xml", "must be bytes, not str")]
