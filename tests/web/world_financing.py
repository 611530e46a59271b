"""The financing journeys' own objects (world.extra["financing"]), built through the services.

Quotes compared side by side need banks that price differently, and the common programme's
two funders both price on the default policy. So a second core enterprise of the supplier
(t1) runs a programme of its own:

- 华东储能科技股份有限公司 (core2, rated AA+) buys from t1. 星湖银行 (BKA) leads its programme
  on the default pricing (ACT/360, LPR + 65 bp for 91-180 days, platform service, handling
  and registry filing fees); 东海银行 (BKB) joined on keener terms (LPR + 55 bp, ACT/365F, a
  higher handling fee, no filing fee); 江南农商银行 (BKF) joined too, but finances at most
  90 days. core2 confirmed an invoice of ¥480,000.00 from t1 and issued a credential on it
  maturing on 2027-04-26, which t1 accepted: the piece the quote journey finances (BKB's
  quote is the best; BKF refuses, the tenor being longer than it finances).

Loan applications, under the lending world's line to the core (BKA):

- 常州华锂隔膜科技有限公司 (fa, user ``fin-supplier``), a tier-1 supplier of the core since
  2021 and BKA's customer, with consent to BKA and a ¥5,000,000.00 sub-limit on the core's
  line, and an invoice of ¥600,000.00 to the core, confirmed by the core: receivable
  financing of ¥500,000.00 on it is approved at once.
- t1 (``supplier``) has an invoice of ¥3,600,000.00 to the core, confirmed by the core:
  ¥3,200,000.00 on it is referred (above the automatic approval limit and the site-visit
  threshold, and t1 has an open risk finding), with a site visit for the bank to make.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal_world import PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.pricing import DEFAULT_POLICY, FeeRule, PricingPolicy, SpreadBand
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.services import auth, consent, credentials, documents, registry
from chainfin.services.lending import lines
from credit_world import ISSUED_ON, uscc
from worldclock import WORLD_DAY

NAMES = {
    "core2": "华东储能科技股份有限公司",
    "bank F": "江南农商银行",
    "fa": "常州华锂隔膜科技有限公司",
}
SERIAL = {"core2": 41_500_001, "bank F": 41_500_002, "fa": 41_500_003}
USER = "fin-supplier"
USER_NAME = "周婷"
PIECE_FACE = "480000.00"
PIECE_MATURITY = date(2027, 4, 26)
APPROVED_INVOICE = "600000.00"
APPROVED_AMOUNT = "500000.00"
REFERRED_INVOICE = "3600000.00"
REFERRED_AMOUNT = "3200000.00"
PAYEE_ACCOUNT = "6222020200556677889"
PAYEE_AGENT = "102100099996"

BKB_POLICY = PricingPolicy(
    spreads={"AA+": (SpreadBand(90, 45), SpreadBand(180, 55), SpreadBand(366, 75))},
    fees=(
        FeeRule("platform_service", "platform service fee", "rate_annual", Decimal("30")),
        FeeRule("handling", "handling fee", "rate_flat", Decimal("10")),
    ),
    day_count="ACT/365F",
)
BKF_POLICY = PricingPolicy(
    spreads={"AA+": (SpreadBand(90, 40),)},
    fees=(FeeRule("handling", "handling fee", "rate_flat", Decimal("5")),),
)


def _key(name: str) -> str:
    return uscc(SERIAL[name])


def _invoice(number: str, serial: int, seller: str, buyer: str, total: str, due: date) -> dict:
    return {
        "kind": "invoice",
        "number": number,
        "seller_uscc": seller,
        "buyer_uscc": buyer,
        "issue_date": (WORLD_DAY - timedelta(days=6)).isoformat(),
        "currency": "CNY",
        "total": total,
        "tax": "0.00",
        "invoice_number": f"2632415000000000{serial:04d}",
        "due_date": due.isoformat(),
    }


def _firm(user_id: str, enterprise_id: str) -> Principal:
    return Principal.enterprise_user(
        user_id, enterprise_id=enterprise_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    lending = world.lending
    ids: dict[str, str] = {}
    roles = {"core2": Role.CORE, "bank F": Role.BANK, "fa": Role.SUPPLIER}
    records = [
        EnterpriseRecord(
            uscc=_key(key),
            name=NAMES[key],
            region_code="320505",
            industry_code="C38",
            roles=frozenset({role}),
            employees=300,
            revenue=Money(900_000_000_00),
            total_assets=Money(700_000_000_00),
        )
        for key, role in roles.items()
    ]
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, records)
        bank_f = registry.create_bank(s, SYSTEM, BankRecord("BKF", NAMES["bank F"], _key("bank F")))
        s.flush()
        found = registry.ids_by_uscc(s, [_key(k) for k in SERIAL])
        ids |= {k: found[_key(k)] for k in SERIAL}
        ids["BKF"] = bank_f.id
        registry.import_relations(
            s,
            SYSTEM,
            [
                RelationRecord(_key("core2"), world.usccs("t1"), "储能电芯", date(2021, 6, 1)),
                RelationRecord(world.usccs("core"), _key("fa"), "隔膜", date(2021, 3, 1)),
            ],
        )
        registry.link_customers(s, SYSTEM, lending.credit.banks["BKA"], [ids["core2"], ids["fa"]])
        user = auth.create_user(
            s,
            SYSTEM,
            username=USER,
            display_name=USER_NAME,
            password=PASSWORD,
            roles=["enterprise_admin"],
            enterprise_uscc=_key("fa"),
        )
        world.user_ids[USER] = user.id
    t1, core = world.user("supplier"), world.user("core")
    core2, fa = _firm("usr_core2", ids["core2"]), _firm(world.user_ids[USER], ids["fa"])
    _quote_world(factory, world, ids, t1, core2)
    _loan_world(factory, world, ids, t1, core, fa)
    world.extra["financing"] = ids


def _quote_world(
    factory: sessionmaker[Session],
    world: PortalWorld,
    ids: dict[str, str],
    t1: Principal,
    core2: Principal,
) -> None:
    """core2's programme with three funders, and the piece t1 holds under it."""
    bka, bkb = world.lending.staff("rm"), world.lending.credit.staff("BKB")
    bkf = Principal.staff("usr_bkf", bank_id=ids["BKF"], roles=bkb.roles)
    due = PIECE_MATURITY
    with transaction(factory) as s:
        row = _invoice("FIN-INV-Q1", 1, world.usccs("t1"), _key("core2"), PIECE_FACE, due)
        report = documents.ingest(s, t1, documents.parse_rows([row]))
        document_id = str(report.rows[0].document_id)
        documents.confirm(s, core2, document_id)
        confirmation = credentials.confirm(
            s,
            core2,
            supplier=world.usccs("t1"),
            amount=Money.parse(PIECE_FACE),
            due_on=due,
            document_ids=[document_id],
        )
        programme = credentials.create_programme(
            s,
            bka,
            core=_key("core2"),
            name="储能电芯供应商凭证计划",
            line=Money(20_000_000_00),
            rating="AA+",
            pricing=DEFAULT_POLICY.to_dict(),
        )
        for bank, staff, line, policy in (
            ("BKB", bkb, Money(10_000_000_00), BKB_POLICY),
            ("BKF", bkf, Money(5_000_000_00), BKF_POLICY),
        ):
            invitation = credentials.invite(s, bka, programme.id, bank=bank)
            credentials.approve_invitation(s, core2, invitation.id)
            credentials.accept_invitation(
                s, staff, invitation.id, line=line, pricing=policy.to_dict()
            )
        credential = credentials.issue(
            s,
            core2,
            programme_id=programme.id,
            confirmation_ids=[confirmation.id],
            amount=Money.parse(PIECE_FACE),
            maturity_on=PIECE_MATURITY,
            issued_on=ISSUED_ON,
        )
        ids["programme"], ids["credential"] = programme.id, credential.id
    with transaction(factory) as s:
        (root,) = credentials.tree(s, t1, ids["credential"])
        credentials.accept(s, t1, root.id)
        ids["piece"] = root.id


def _loan_world(
    factory: sessionmaker[Session],
    world: PortalWorld,
    ids: dict[str, str],
    t1: Principal,
    core: Principal,
    fa: Principal,
) -> None:
    """fa's invoice (approved at once) and t1's large one (referred)."""
    approved_due = WORLD_DAY + timedelta(days=120)
    referred_due = WORLD_DAY + timedelta(days=150)
    with transaction(factory) as s:
        mine = _invoice(
            "FIN-INV-A1", 2, _key("fa"), world.usccs("core"), APPROVED_INVOICE, approved_due
        )
        theirs = _invoice(
            "FIN-INV-R1", 3, world.usccs("t1"), world.usccs("core"), REFERRED_INVOICE, referred_due
        )
        for who, row, key in ((fa, mine, "approved_invoice"), (t1, theirs, "referred_invoice")):
            report = documents.ingest(s, who, documents.parse_rows([row]))
            ids[key] = str(report.rows[0].document_id)
            documents.confirm(s, core, ids[key])
        consent.grant(
            s,
            fa,
            bank_code="BKA",
            categories=["trade_documents", "invoices", "financial_statements"],
            purposes=["credit_assessment", "post_loan_monitoring"],
            expires_at=utcnow() + timedelta(days=400),
        )
        lines.add_sublimit(
            s,
            world.lending.admin(),
            world.lending.line_id,
            limit=Money(5_000_000_00),
            member=ids["fa"],
        )
