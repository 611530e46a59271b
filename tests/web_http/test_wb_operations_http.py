"""The operations desk over HTTP: each test names one refusal or rule the desk relies on
(the journeys are in tests/web/test_wb_operations.py). The world is the lending world with
two administrators of bank A (ops1 proposes, ops2 checks), its auditor, t1's administrator
and bank B's all-role ``bkb-boss``; t1's receivable financing of 400,000.00 is approved and
waits to be paid out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token, sign_in
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    AuditEvent,
    CreditLine,
    DisbursementFile,
    LedgerEntry,
    LineChange,
    Loan,
    LoanRepayment,
    StatementImport,
)
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import auth
from chainfin.services.lending import applications
from credit_world import uscc
from lending_world import PAYEE, LendingWorld, build_lending

BANK_B_ROLES = ["relationship_manager", "risk_officer", "approver", "admin", "auditor"]
PAGES = (
    "/operations",
    "/operations/lines",
    "/operations/products",
    "/operations/disbursements",
    "/operations/statements",
)
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol3;</Document>"""


@dataclass
class Desk:
    world: LendingWorld
    loan_id: str


@pytest.fixture
def desk(session_factory: sessionmaker[Session]) -> Desk:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        for username, roles, bank, firm in [
            ("bka-ops1", ["admin"], "BKA", None),
            ("bka-ops2", ["admin"], "BKA", None),
            ("bka-auditor", ["auditor"], "BKA", None),
            ("bka-risk", ["risk_officer"], "BKA", None),
            ("t1-admin", ["enterprise_admin"], None, 4),
            ("bkb-boss", BANK_B_ROLES, "BKB", None),
        ]:
            auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles, bank_code=bank,
                enterprise_uscc=uscc(firm) if firm else None,
            )  # fmt: skip
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        loan = applications.loan_of(s, app.id)
        assert loan is not None
    return Desk(world, loan.id)


def _as(client: TestClient, username: str) -> str:
    client.cookies.clear()
    sign_in(client, username, "en")
    return csrf_token(client.get("/operations/lines").text) if "bk" in username else ""


def _token(client: TestClient) -> str:
    return csrf_token(client.get("/account").text)


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _written(factory: sessionmaker[Session]) -> tuple[int, int]:
    return _count(factory, LedgerEntry), _count(factory, AuditEvent)


def _limit(factory: sessionmaker[Session], line_id: str) -> int:
    with factory() as s:
        line = s.get(CreditLine, line_id)
        assert line is not None
        return line.limit_minor


def _propose_limit(client: TestClient, token: str, line_id: str, amount: str) -> object:
    return client.post(
        f"/operations/lines/{line_id}/propose",
        data={"csrf_token": token, "kind": "limit", "amount": amount, "reason": "annual review"},
        follow_redirects=False,
    )


# ------------------------------------------------------------------------------ roles


def test_an_admin_opens_every_page_but_the_books(client: TestClient, desk: Desk) -> None:
    _as(client, "bka-ops1")
    for path in (*PAGES, f"/operations/lines/{desk.world.line_id}"):
        r = client.get(path)
        assert r.status_code == 200, path
    books = client.get("/operations/books")
    assert books.status_code == 403
    assert "books:read" in books.text
    assert client.get("/operations/books/general-ledger.csv").status_code == 403


def test_an_auditor_reads_but_may_not_propose(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-auditor")
    assert client.get("/operations/books").status_code == 200
    assert client.get("/operations/lines").status_code == 200
    assert 'action="/operations/lines/propose"' not in client.get("/operations/lines").text
    before = _written(session_factory)
    r = _propose_limit(client, token, desk.world.line_id, "25000000.00")
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert _count(session_factory, LineChange) == 0
    assert _written(session_factory) == before


def test_enterprise_users_are_refused_every_page(client: TestClient, desk: Desk) -> None:
    _as(client, "t1-admin")
    for path in (
        *PAGES,
        "/operations/books",
        f"/operations/lines/{desk.world.line_id}",
        "/operations/books/general-ledger.csv",
    ):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "The operations desk is for a bank&#39;s staff." in r.text, path


def test_bank_b_never_reaches_bank_a_lines_or_changes(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-ops1")
    assert _propose_limit(client, token, desk.world.line_id, "23456789.00").status_code == 303  # type: ignore[attr-defined]
    with session_factory() as s:
        change_id = s.scalars(select(LineChange.id)).one()
    token = _as(client, "bkb-boss")
    before = _written(session_factory)
    assert client.get(f"/operations/lines/{desk.world.line_id}").status_code == 404
    for path in (*PAGES, "/operations/books"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "23,456,789.00" not in r.text, path
        assert "20,000,000.00" not in r.text, path
    r = client.post(
        f"/operations/changes/{change_id}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 404
    assert _propose_limit(client, token, desk.world.line_id, "1.00").status_code == 404  # type: ignore[attr-defined]
    assert _written(session_factory) == before
    with session_factory() as s:
        assert s.get(LineChange, change_id).status == "pending"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ maker-checker


def test_the_proposer_cannot_approve_and_another_admin_can(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    line_id = desk.world.line_id
    token = _as(client, "bka-ops1")
    r = _propose_limit(client, token, line_id, "25,000,000.00")
    assert r.status_code == 303  # type: ignore[attr-defined]
    with session_factory() as s:
        change_id = s.scalars(select(LineChange.id)).one()
    page = client.get(f"/operations/lines/{line_id}").text
    assert "You proposed it: another person approves or rejects it." in page
    assert f"/operations/changes/{change_id}/approve" not in page
    before = _written(session_factory)
    refused = client.post(f"/operations/changes/{change_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "You proposed this change: another person approves or rejects it." in refused.text
    assert _limit(session_factory, line_id) == 20_000_000_00
    assert _written(session_factory) == before
    token = _as(client, "bka-ops2")
    done = client.post(
        f"/operations/changes/{change_id}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/operations/lines/{line_id}?decided={change_id}"
    assert _limit(session_factory, line_id) == 25_000_000_00
    assert "¥25,000,000.00" in client.get(done.headers["location"]).text
    again = client.post(f"/operations/changes/{change_id}/approve", data={"csrf_token": token})
    assert again.status_code == 409


def test_a_rejection_says_why(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-ops1")
    client.post(
        f"/operations/lines/{desk.world.line_id}/propose",
        data={"csrf_token": token, "kind": "freeze", "reason": "covenant breach"},
    )
    with session_factory() as s:
        change_id = s.scalars(select(LineChange.id)).one()
    token = _as(client, "bka-ops2")
    empty = client.post(
        f"/operations/changes/{change_id}/reject", data={"csrf_token": token, "note": " "}
    )
    assert empty.status_code == 422
    assert "Say why." in empty.text
    done = client.post(
        f"/operations/changes/{change_id}/reject",
        data={"csrf_token": token, "note": "cured already"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_factory() as s:
        assert s.get(LineChange, change_id).status == "rejected"  # type: ignore[union-attr]
        assert s.get(CreditLine, desk.world.line_id).status == "active"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount."),
        ("abc", "Enter an amount like 1234.56."),
        ("-100.00", "Enter an amount above zero."),
        ("0", "Enter an amount above zero."),
        ("1.234", "Enter an amount like 1234.56."),
    ],
)
def test_a_bad_amount_is_refused_on_its_field_and_nothing_is_written(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    amount: str,
    message: str,
) -> None:
    token = _as(client, "bka-ops1")
    before = _written(session_factory)
    r = _propose_limit(client, token, desk.world.line_id, amount)
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    field = re.search(r'<input id="limit-amount"[^>]*>', html)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    error = re.search(r'id="limit-amount-error"[^>]*>([^<]*)<', html)
    assert error is not None
    assert error.group(1) == message
    assert _count(session_factory, LineChange) == 0
    assert _written(session_factory) == before


def test_a_limit_below_usage_is_refused_with_the_reason(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    """The line holds the approved 400,000.00: a limit of 300,000.00 is refused."""
    token = _as(client, "bka-ops1")
    r = _propose_limit(client, token, desk.world.line_id, "300000.00")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Enter a positive amount within the line" in r.text  # type: ignore[attr-defined]
    assert _count(session_factory, LineChange) == 0


def test_a_new_line_for_a_stranger_is_refused_on_the_obligor(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-ops1")
    form = {
        "csrf_token": token, "kind": "open", "obligor": uscc(4), "amount": "100000.00",
        "starts_on": "2026-11-26", "expires_on": "2026-11-01", "reason": "new",
    }  # fmt: skip
    r = client.post("/operations/lines/propose", data=form)
    assert r.status_code == 422
    assert re.search(r'id="open-expires_on-error"[^>]*>The expiry must be after', r.text)
    assert _count(session_factory, LineChange) == 0


# ------------------------------------------------------------------------------ files


def test_a_disbursement_file_downloads_as_pain001(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-ops1")
    form = {
        "csrf_token": token, "loan_ids": desk.loan_id, "debtor_name": "bank A",
        "debtor_account": "110000000000000001", "debtor_agent": "102100099996",
        "execution_on": "2026-11-26",
    }  # fmt: skip
    missing = client.post("/operations/disbursements", data={**form, "debtor_account": ""})
    assert missing.status_code == 422
    assert "Enter the paying account" in missing.text
    assert _count(session_factory, DisbursementFile) == 0
    r = client.post("/operations/disbursements", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    with session_factory() as s:
        file_id = s.scalars(select(DisbursementFile.id)).one()
    xml = client.get(f"/operations/disbursements/{file_id}/pain001")
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert xml.headers["content-disposition"].startswith("attachment;")
    tree = etree.fromstring(xml.content)
    amounts = tree.xpath("//*[local-name()='InstdAmt']/text()")
    assert amounts == ["400000.00"]
    _as(client, "bkb-boss")
    assert client.get(f"/operations/disbursements/{file_id}/pain001").status_code == 404
    _as(client, "t1-admin")
    assert client.get(f"/operations/disbursements/{file_id}/pain001").status_code == 403


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (BOMB, "DOCTYPE refused"),
        (b"%PDF-1.4 not a statement", "not well-formed XML"),
        (b"<Document xmlns='urn:other'/>", "namespace"),
    ],
)
def test_a_statement_that_is_not_camt053_is_refused_precisely(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    content: bytes,
    detail: str,
) -> None:
    token = _as(client, "bka-ops1")
    before = _written(session_factory)
    r = client.post(
        "/operations/statements",
        data={"csrf_token": token},
        files={"statement": ("statement.xml", content, "application/xml")},
    )
    assert r.status_code == 422
    assert "This is not a camt.053 statement the desk can read." in r.text
    assert detail in r.text
    assert _count(session_factory, StatementImport) == 0
    assert _written(session_factory) == before


def test_no_file_is_refused(client: TestClient, desk: Desk) -> None:
    token = _as(client, "bka-ops1")
    r = client.post("/operations/statements", data={"csrf_token": token})
    assert r.status_code == 422
    assert "Choose a camt.053 statement file." in r.text


def test_the_general_ledger_downloads_as_csv_and_balances(client: TestClient, desk: Desk) -> None:
    _as(client, "bka-auditor")
    page = client.get("/operations/books")
    assert "Balanced: debits equal credits in every currency." in page.text
    r = client.get("/operations/books/general-ledger.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.text.splitlines()[0].startswith("journal_id,value_on,kind")
    bad = client.get("/operations/books?account=9999")
    assert bad.status_code == 422
    assert "Choose one of the bank&#39;s accounts." in bad.text


def camt053(e2e: str, day: str, paid_out: str, gift: str) -> bytes:
    """Bank A's statement: the disbursement ``e2e`` left, and a credit naming no loan came in."""

    def entry(ref: str, amount: str, side: str, refs: str) -> str:
        return f"""
   <Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>
    <Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
    <BkTxCd><Prtry><Cd>PMNT</Cd></Prtry></BkTxCd>
    <NtryDtls><TxDtls>{refs}<RmtInf><Ustrd>payment</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""

    def balance(code: str, amount: str) -> str:
        return f"""
   <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{amount}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"""

    closing = f"{10_000_000 - float(paid_out) + float(gift):.2f}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-OPS-{day}</MsgId><CreDtTm>{day}T18:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>BKA-{day}</Id><CreDtTm>{day}T18:00:00+08:00</CreDtTm>
   <Acct><Id><Othr><Id>110000000000000001</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   {balance("OPBD", "10000000.00")}{balance("CLBD", closing)}
   {entry("E-1", paid_out, "DBIT", f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs>")}
   {entry("E-2", gift, "CRDT", "")}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


def test_a_statement_matches_the_payout_and_an_unmatched_credit_is_applied_by_hand(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _as(client, "bka-ops1")
    form = {
        "csrf_token": token, "loan_ids": desk.loan_id, "debtor_name": "bank A",
        "debtor_account": "110000000000000001", "debtor_agent": "102100099996",
        "execution_on": "2026-11-26",
    }  # fmt: skip
    assert client.post("/operations/disbursements", data=form).status_code == 200
    with session_factory() as s:
        loan = s.get(Loan, desk.loan_id)
        assert loan is not None
        assert loan.status == "disbursed"
        e2e = loan.end_to_end_id
    data = camt053(e2e, "2026-11-26", "400000.00", "1234.00")
    r = client.post(
        "/operations/statements",
        data={"csrf_token": token},
        files={"statement": ("camt053.xml", data, "application/xml")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert re.search(r'id="matched-count">1<', page.text)
    assert re.search(r'id="unmatched-count">1<', page.text)
    assert "Money in that names no loan" in page.text
    apply = r.headers["location"] + "/entries/2/apply"
    assert client.post(apply, data={"csrf_token": token, "loan_id": ""}).status_code == 422
    debit = client.post(
        r.headers["location"] + "/entries/1/apply", data={"csrf_token": token, "loan_id": "x"}
    )
    assert debit.status_code == 409
    done = client.post(apply, data={"csrf_token": token, "loan_id": desk.loan_id})
    assert done.status_code == 200
    assert "Entry 2 is applied as a repayment." in done.text
    with session_factory() as s:
        paid = s.scalars(select(LoanRepayment).where(LoanRepayment.loan_id == desk.loan_id)).one()
        assert paid.amount_minor == 1234_00
        assert paid.source_ref is not None
    again = client.post(
        "/operations/statements",
        data={"csrf_token": token},
        files={"statement": ("camt053.xml", data, "application/xml")},
        follow_redirects=False,
    )
    assert again.headers["location"] == r.headers["location"]  # the same file: the same import
