"""The operations desk's own objects (tests/web/test_wb_operations.py), added to the portal
world. Only bank A's objects of this desk; other journeys' objects are left alone.

- ``bka-admin2`` (冯雪), a second administrator of bank A who also audits (admin + auditor:
  she checks her colleague's changes and reads the books).
- A line of ¥7,654,321.00 to the core enterprise (expiring before the lending world's line,
  so an application of the core's would still pick that one): the maker-checker journey
  raises it to ¥8,100,000.00.
- A change of that line proposed by ``bka-admin2`` (a sub-limit of ¥1,234,000.00 for
  order financing), pending: ``bka-admin`` sees it with approve and reject.
- 常州星源电解液有限公司 (ob, a supplier of the core since 2021, bank A's customer with
  consent and a ¥2,000,000.00 sub-limit on the core's line; t1 has an open risk finding, so
  its applications are referred): an invoice of ¥432,100.00 to the core, confirmed, and
  receivable financing of ¥345,600.00 on it, approved at once. The disbursement journey
  pays it out, downloads the pain.001 and imports the bank's camt.053 that shows the money
  left, with a credit naming no loan that it applies to the loan by hand.
"""

from __future__ import annotations

from datetime import date, timedelta

from portal_world import PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, RelationRecord, Role
from chainfin.services import auth, consent, documents, registry
from chainfin.services.lending import applications, line_changes, lines
from credit_world import uscc
from lending_world import PAYEE
from worldclock import WORLD_DAY

LINE_LIMIT = "7654321.00"
NEW_LIMIT = "8100000.00"
PENDING_SUBLIMIT = "1234000.00"
INVOICE_TOTAL = "432100.00"
LOAN_AMOUNT = "345600.00"
ADMIN2 = ("bka-admin2", "冯雪")
OB_NAME = "常州星源电解液有限公司"
OB_USCC = uscc(43_210_001)
OB_USER = "ops-supplier"


def _ob_record() -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=OB_USCC,
        name=OB_NAME,
        region_code="320505",
        industry_code="C26",
        roles=frozenset({Role.SUPPLIER}),
        employees=260,
        revenue=Money(600_000_000_00),
        total_assets=Money(450_000_000_00),
    )


def _admin(world: PortalWorld, username: str, *roles: StaffRole) -> Principal:
    return Principal.staff(
        world.user_ids[username],
        bank_id=world.lending.credit.banks["BKA"],
        roles=roles or (StaffRole.ADMIN,),
    )


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    ids: dict[str, str] = {}
    lending = world.lending
    with transaction(factory) as s:
        user = auth.create_user(
            s,
            SYSTEM,
            username=ADMIN2[0],
            display_name=ADMIN2[1],
            password=PASSWORD,
            roles=["admin", "auditor"],
            bank_code="BKA",
        )
        world.user_ids[ADMIN2[0]] = user.id
        line = lines.open_line(
            s,
            _admin(world, "bka-admin"),
            obligor=lending.ids["core"],
            limit=Money.parse(LINE_LIMIT),
            starts_on=WORLD_DAY - timedelta(days=30),
            expires_on=WORLD_DAY + timedelta(days=300),
        )
        ids["line_id"] = line.id
        pending = line_changes.propose(
            s,
            _admin(world, ADMIN2[0]),
            line_changes.Proposal(
                kind="sublimit",
                reason="订单融资单列额度",
                line_id=line.id,
                amount=PENDING_SUBLIMIT,
                product_kind="order_financing",
            ),
        )
        ids["pending_change"] = pending.id
        invoice = {
            "kind": "invoice",
            "number": "INV-OPS-0001",
            "seller_uscc": world.usccs("t1"),
            "buyer_uscc": world.usccs("core"),
            "issue_date": (WORLD_DAY - timedelta(days=6)).isoformat(),
            "currency": "CNY",
            "total": INVOICE_TOTAL,
            "tax": "0.00",
            "invoice_number": "26320000000000006601",
            "due_date": (WORLD_DAY + timedelta(days=114)).isoformat(),
        }
        invoice["seller_uscc"] = OB_USCC
        registry.import_enterprises(s, SYSTEM, [_ob_record()])
        s.flush()
        ob_id = registry.ids_by_uscc(s, [OB_USCC])[OB_USCC]
        ids["ob"] = ob_id
        registry.import_relations(
            s, SYSTEM, [RelationRecord(world.usccs("core"), OB_USCC, "电解液", date(2021, 3, 1))]
        )
        registry.link_customers(s, SYSTEM, lending.credit.banks["BKA"], [ob_id])
        user = auth.create_user(
            s,
            SYSTEM,
            username=OB_USER,
            display_name="钱程",
            password=PASSWORD,
            roles=["enterprise_admin"],
            enterprise_uscc=OB_USCC,
        )
        world.user_ids[OB_USER] = user.id
        ob = Principal.enterprise_user(
            user.id, enterprise_id=ob_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
        )
        consent.grant(
            s,
            ob,
            bank_code="BKA",
            categories=["trade_documents", "invoices", "financial_statements"],
            purposes=["credit_assessment", "post_loan_monitoring"],
            expires_at=utcnow() + timedelta(days=400),
        )
        lines.add_sublimit(
            s, lending.admin(), lending.line_id, limit=Money(2_000_000_00), member=ob_id
        )
        row = documents.ingest(s, ob, documents.parse_rows([invoice])).rows[0]
        ids["invoice"] = str(row.document_id)
    with transaction(factory) as s:
        documents.confirm(s, lending.ent("core"), ids["invoice"])
        app = applications.submit(
            s,
            ob,
            bank="BKA",
            product="receivable_financing",
            amount=Money.parse(LOAN_AMOUNT),
            tenor_months=3,
            method="bullet",
            underlying_kind="invoice",
            underlying_ref=ids["invoice"],
            payee=PAYEE,
        )
        assert app.status == "approved", app.decision
        loan = applications.loan_of(s, app.id)
        assert loan is not None
        ids |= {"loan_id": loan.id, "loan_ref": loan.reference, "e2e": loan.end_to_end_id}
    world.extra["wb_operations"] = ids


def camt053(e2e: str, day: str, paid_out: str, gift: str) -> bytes:
    """Bank A's statement of ``day``: the disbursement ``e2e`` left (a debit of ``paid_out``)
    and a credit of ``gift`` came in that names no loan."""

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

    opening = Money.parse("10000000.00")
    closing = opening.amount_minor - Money.parse(paid_out).amount_minor
    closing += Money.parse(gift).amount_minor
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-OPS-{day}</MsgId><CreDtTm>{day}T18:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>BKA-OPS-{day}</Id><CreDtTm>{day}T18:00:00+08:00</CreDtTm>
   <Acct><Id><Othr><Id>110000000000000001</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   {balance("OPBD", "10000000.00")}{balance("CLBD", Money(closing).to_decimal_string())}
   {entry("OPS-E-1", paid_out, "DBIT", f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs>")}
   {entry("OPS-E-2", gift, "CRDT", "")}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()
