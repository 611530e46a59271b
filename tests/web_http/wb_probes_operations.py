"""The operations desk's routes in the pages' tenancy matrix (test_page_tenancy.py): bank A's
line, a change of it proposed by bank A's relationship manager (a limit of 765,432.10),
the victim's disbursement file and a camt.053 import with an unmatched credit of
876,543.21. Bank B's all-role staff and other firms must reach none of them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import DisbursementFile
from chainfin.services.lending import line_changes, statements

CHANGE_LIMIT = "765432.10"
UNMATCHED_CREDIT = "876543.21"
MARKS = ("765,432.10", "765432.10", "876,543.21", "876543.21")


def _path(**params: str) -> Any:
    return lambda v: ({name: v.ids[key] for name, key in params.items()}, {})


def _with_form(probe: Any, form: dict[str, str]) -> Any:
    return lambda v: (probe(v)[0], form)


PROBES = {
    ("GET", "/operations/lines/{line_id}"): _path(line_id="wb_operations_line"),
    ("POST", "/operations/lines/{line_id}/propose"): _with_form(
        _path(line_id="wb_operations_line"),
        {"kind": "limit", "amount": "1000.00", "reason": "probe"},
    ),
    ("POST", "/operations/changes/{change_id}/approve"): _path(change_id="wb_operations_change"),
    ("POST", "/operations/changes/{change_id}/reject"): _with_form(
        _path(change_id="wb_operations_change"), {"note": "probe"}
    ),
    ("GET", "/operations/disbursements/{file_id}/pain001"): _path(file_id="wb_operations_file"),
    ("GET", "/operations/statements/{import_id}"): _path(import_id="wb_operations_import"),
    ("POST", "/operations/statements/{import_id}/entries/{entry}/apply"): lambda v: (
        {"import_id": v.ids["wb_operations_import"], "entry": "1"},
        {"loan_id": v.ids["loan"]},
    ),
}


def camt053(day: date, amount: str) -> bytes:
    """A statement of bank A's settlement account with one credit that names no loan."""
    on = day.isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>PROBE-{day:%Y%m%d}</MsgId><CreDtTm>{on}T18:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>PROBE-{day:%Y%m%d}</Id><CreDtTm>{on}T18:00:00+08:00</CreDtTm>
   <Acct><Id><Othr><Id>110000000000000001</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">0.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{amount}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>
   <Ntry><NtryRef>P-1</NtryRef><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts>BOOK</Sts><BookgDt><Dt>{on}</Dt></BookgDt><ValDt><Dt>{on}</Dt></ValDt>
    <BkTxCd><Prtry><Cd>PMNT</Cd></Prtry></BkTxCd>
    <NtryDtls><TxDtls><RmtInf><Ustrd>unknown</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    rm = world.staff("rm")
    with transaction(factory) as s:
        change = line_changes.propose(
            s,
            rm,
            line_changes.Proposal(
                kind="limit", reason="probe", line_id=world.line_id, amount=CHANGE_LIMIT
            ),
        )
        imported = statements.import_statement(s, rm, camt053(date(2026, 11, 26), UNMATCHED_CREDIT))
        file_id = s.scalars(
            select(DisbursementFile.id).where(DisbursementFile.bank_id == rm.bank_id)
        ).first()
        assert file_id is not None, "the victim's loan was paid out in a file"
    ids |= {
        "wb_operations_line": world.line_id,
        "wb_operations_change": change.id,
        "wb_operations_file": file_id,
        "wb_operations_import": imported.id,
    }
