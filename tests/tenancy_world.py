"""Two tenants with at least one object of every kind each, for the tenancy matrix.

Tenant A and tenant B are mirror images: a bank (BKA, BKB) with staff of every role and an
API client; a chain around its core enterprise (core ← t1 ← t2 suppliers, a dealer buying
from the core) whose members are the bank's customers and have consented to it; and every
record the platform keeps: documents, consents, a receivable registration, a credential
programme with a credential, pieces, a quote, a financing and an invitation, credit lines,
an exposure cap, products, applications (approved and referred), a loan, a due-diligence
task, a disbursement file, a statement import, alerts, an IoT device, a risk model with its
monitoring, prices, journals, ledger entries and witnesses. Outside both tenants: an
unrelated firm ``x`` (a member of the industrial platform PLAT), a third bank BKC (invited
by both, with no staff), and the platform operator's people (an operator and an auditor).

Every object is recorded with the enterprises that are a party to it, so that the matrix can
pick, for any principal, objects that belong to another tenant.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    Alert,
    CredentialPiece,
    Journal,
    LedgerEntry,
    Loan,
    TradeDocumentRow,
)
from chainfin.domain.access import (
    SYSTEM,
    EnterpriseRole,
    OwnerKind,
    PlatformRole,
    Principal,
    Scope,
    StaffRole,
)
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.ledger.note import KeyKind, NoteSigner
from chainfin.risk.scorecard import TrainOptions
from chainfin.services import (
    alerts,
    auth,
    chains,
    consent,
    credentials,
    documents,
    iot,
    ledger,
    rates,
    receivables,
    registry,
)
from chainfin.services import models as model_registry
from chainfin.services.lending import (
    applications,
    lines,
    loans,
    prices,
    products,
    statements,
)
from chainfin.services.lending.applications import Payment
from reference import REFERENCE
from worldclock import WORLD_DAY

PASSWORD = "correct horse battery"
TODAY = WORLD_DAY
ORIGIN = "chainfin.test/ledger"
ROLES = ("relationship_manager", "risk_officer", "approver", "admin", "auditor")
ROLE_TAG = {
    "relationship_manager": "rm",
    "risk_officer": "risk",
    "approver": "approver",
    "admin": "admin",
    "auditor": "auditor",
}
MEMBERS = ("core", "t1", "t2", "dealer")
DATA = Path(__file__).parent / "risk" / "data" / "applications.csv"
CAMT = REFERENCE / "iso20022" / "genkgo_camt053.v2.minimal.xml"
SITE_VISIT = {
    "premises_verified": True,
    "production_running": True,
    "inventory_on_hand": "1800000.00",
    "findings": "stock on hand as declared",
    "gps": {"lat": 31.2989, "lon": 120.5853},
    "visited_at": (utcnow() - timedelta(days=1)).isoformat(),
    "attachments": [{"name": "bay3.jpg", "sha256": "a" * 64}],
}


def uscc(region: str, n: int) -> str:
    return make_uscc("9", "1", region, f"{n:08d}")


@dataclass(frozen=True)
class Obj:
    """A record of one kind, the tenant it belongs to (``A``, ``B`` or ``-`` for none) and
    the enterprises (by name within the tenant) that are a party to it."""

    kind: str
    id: str
    tenant: str
    parties: frozenset[str] = frozenset()
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Tenant:
    name: str  # "A" or "B"
    code: str  # bank code
    bank_id: str
    bank_enterprise_id: str
    region: str
    ids: dict[str, str]  # member name -> enterprise id
    usccs: dict[str, str]
    objects: list[Obj] = field(default_factory=list)  # kind "secret": text, not an id
    users: dict[str, str] = field(default_factory=dict)  # username -> user id
    model_name: str = ""
    product_codes: list[str] = field(default_factory=list)

    def add(self, kind: str, id_: str, *parties: str, **extra: str) -> Obj:
        obj = Obj(kind, id_, self.name, frozenset(parties), dict(extra))
        self.objects.append(obj)
        return obj

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.kind == kind]

    def staff(self, role: str = "admin") -> Principal:
        return Principal.staff(
            self.users[f"{self.name.lower()}-{ROLE_TAG[role]}"],
            bank_id=self.bank_id,
            roles=[StaffRole(role)],
        )

    def maker(self) -> Principal:
        return Principal.staff(
            self.users[f"{self.name.lower()}-rm"],
            bank_id=self.bank_id,
            roles=[StaffRole.RELATIONSHIP_MANAGER, StaffRole.APPROVER],
        )

    def checker(self) -> Principal:
        return Principal.staff(
            self.users[f"{self.name.lower()}-approver"],
            bank_id=self.bank_id,
            roles=[StaffRole.APPROVER, StaffRole.RISK_OFFICER],
        )

    def ent(self, member: str) -> Principal:
        return Principal.enterprise_user(
            f"usr_{self.name}{member}",
            enterprise_id=self.ids[member],
            roles=[EnterpriseRole.ENTERPRISE_ADMIN],
        )


@dataclass
class TenancyWorld:
    tenants: dict[str, Tenant]
    x_id: str
    x_uscc: str
    platform_id: str
    clients: dict[str, tuple[str, str]]  # name -> (client id, secret)
    users: dict[str, str]  # every username -> user id
    public: list[Obj] = field(default_factory=list)  # records of no tenant (BKC, PLAT, …)


def _ent(name: str, uscc_: str, region: str, industry: str, *roles: Role) -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=uscc_,
        name=name,
        region_code=region,
        industry_code=industry,
        roles=frozenset(roles),
        employees=150,
        revenue=Money(8_000_000_000),
        total_assets=Money(6_000_000_000),
        legal_representative=f"{name} 法人",
        phone="13900001111",
        address=f"{name} 地址",
    )


ALL_CLIENT_SCOPES = [
    s.value for s in Scope if s not in (Scope.PLATFORM_AUDIT, Scope.PLATFORM_PRICES)
]


def build(factory: sessionmaker[Session]) -> TenancyWorld:
    regions = {"A": "320505", "B": "440305"}
    tenants: dict[str, Tenant] = {}
    users: dict[str, str] = {}
    clients: dict[str, tuple[str, str]] = {}
    with transaction(factory) as s:
        rates.load_bundled(s, SYSTEM)
        records: list[EnterpriseRecord] = []
        plans: dict[str, dict[str, str]] = {}
        for n, (t, region) in enumerate(regions.items()):
            base = 100 * (n + 1)
            plan = {
                "bank": uscc(region, base),
                "core": uscc(region, base + 1),
                "t1": uscc(region, base + 2),
                "t2": uscc(region, base + 3),
                "dealer": uscc(region, base + 4),
                "warehouse": uscc(region, base + 5),
            }
            plans[t] = plan
            records += [
                _ent(f"bank {t}", plan["bank"], region, "J66", Role.BANK),
                _ent(f"core {t}", plan["core"], region, "C36", Role.CORE),
                _ent(f"t1 {t}", plan["t1"], region, "C38", Role.SUPPLIER),
                _ent(f"t2 {t}", plan["t2"], region, "C33", Role.SUPPLIER),
                _ent(f"dealer {t}", plan["dealer"], region, "F51", Role.DEALER),
                _ent(f"warehouse {t}", plan["warehouse"], region, "G59", Role.WAREHOUSE),
            ]
        x_uscc = uscc("110105", 900)
        c_uscc = uscc("110105", 901)
        registry.import_enterprises(s, SYSTEM, records)
        registry.import_enterprises(
            s,
            SYSTEM,
            [
                _ent("bank C", c_uscc, "110105", "J66", Role.BANK),
            ],
        )
        platform = registry.create_platform(s, SYSTEM, code="PLAT", name="an industrial platform")
        registry.import_enterprises(
            s,
            SYSTEM,
            [_ent("x", x_uscc, "110105", "C39", Role.SUPPLIER)],
            link_platform_id=platform.id,
        )
        registry.create_bank(s, SYSTEM, BankRecord("BKC", "bank C", c_uscc))
        for t in regions:
            bank = registry.create_bank(
                s, SYSTEM, BankRecord(f"BK{t}", f"bank {t}", plans[t]["bank"])
            )
            s.flush()
            ids = registry.ids_by_uscc(s, plans[t].values())
            by_name = {name: ids[u] for name, u in plans[t].items()}
            tenants[t] = Tenant(
                name=t,
                code=f"BK{t}",
                bank_id=bank.id,
                bank_enterprise_id=by_name["bank"],
                region=regions[t],
                ids={k: v for k, v in by_name.items() if k != "bank"},
                usccs={k: v for k, v in plans[t].items() if k != "bank"},
            )
            registry.link_customers(s, SYSTEM, bank.id, [by_name[m] for m in MEMBERS])
            since = date(2021, 1, 1)
            p = plans[t]
            registry.import_relations(
                s,
                SYSTEM,
                [
                    RelationRecord(p["core"], p["t1"], "电芯", since),
                    RelationRecord(p["t1"], p["t2"], "极片", since),
                    RelationRecord(p["dealer"], p["core"], "整车", since),
                ],
            )
        x_id = registry.ids_by_uscc(s, [x_uscc])[x_uscc]
        # people: staff of every role at A and B, members' admins, x, the operator's people
        for t, tenant in tenants.items():
            for role in ROLES:
                name = f"{t.lower()}-{ROLE_TAG[role]}"
                users[name] = tenant.users[name] = auth.create_user(
                    s, SYSTEM, username=name, password=PASSWORD, roles=[role], bank_code=tenant.code
                ).id
            for member in MEMBERS:
                name = f"{t.lower()}-{member}"
                users[name] = tenant.users[name] = auth.create_user(
                    s,
                    SYSTEM,
                    username=name,
                    password=PASSWORD,
                    roles=["enterprise_admin"],
                    enterprise_uscc=tenant.usccs[member],
                ).id
            new = auth.create_client(
                s,
                SYSTEM,
                name=f"bank {t} integration",
                owner_kind=OwnerKind.BANK,
                owner=tenant.code,
                scopes=ALL_CLIENT_SCOPES,
            )
            clients[f"client-{t.lower()}"] = (new.client_id, new.client_secret)
        users["x"] = auth.create_user(
            s,
            SYSTEM,
            username="x",
            password=PASSWORD,
            roles=["enterprise_admin"],
            enterprise_uscc=x_uscc,
        ).id
        users["op"] = auth.create_user(
            s,
            SYSTEM,
            username="op",
            password=PASSWORD,
            roles=[PlatformRole.PLATFORM_OPERATOR.value],
        ).id
        users["pa"] = auth.create_user(
            s,
            SYSTEM,
            username="pa",
            password=PASSWORD,
            roles=[PlatformRole.PLATFORM_AUDITOR.value],
        ).id
        new = auth.create_client(
            s,
            SYSTEM,
            name="t1 A's ERP",
            owner_kind=OwnerKind.ENTERPRISE,
            owner=tenants["A"].usccs["t1"],
            scopes=ALL_CLIENT_SCOPES,
        )
        clients["client-a-t1"] = (new.client_id, new.client_secret)
        new = auth.create_client(
            s,
            SYSTEM,
            name="the platform",
            owner_kind=OwnerKind.PLATFORM,
            owner="PLAT",
            scopes=ALL_CLIENT_SCOPES,
        )
        clients["client-plat"] = (new.client_id, new.client_secret)
        prices.create_source(s, SYSTEM, code="SHFE", name="Shanghai Futures Exchange settlement")
        prices.set_price(
            s,
            SYSTEM,
            item="copper foil",
            on=TODAY - timedelta(days=20),
            price=Money.parse("79000.00"),
            unit="t",
            source="SHFE settlement",
            platform_source="SHFE",
        )
    world = TenancyWorld(tenants, x_id, x_uscc, platform.id, clients, users)
    for tenant in tenants.values():
        _tenant_records(factory, tenant)
    _cross_records(factory, world)
    with transaction(factory) as s:
        ledger.sequence(s, ORIGIN)
    _ledger_objects(factory, world)
    return world


# ------------------------------------------------------------------------------ one tenant


def _doc(tenant: Tenant, kind: str, number: str, seller: str, buyer: str, total: str, **extra: Any):
    row: dict[str, Any] = {
        "kind": kind,
        "number": f"{number}-{tenant.name}",
        "seller_uscc": seller,
        "buyer_uscc": buyer,
        "issue_date": (TODAY - timedelta(days=6)).isoformat(),
        "currency": "CNY",
        "total": total,
    }
    row.update(extra)
    return row


def _doc_id(s: Session, number: str) -> str:
    return s.scalars(select(TradeDocumentRow.id).where(TradeDocumentRow.number == number)).one()


def _tenant_records(factory: sessionmaker[Session], t: Tenant) -> None:
    u, n = t.usccs, 1 if t.name == "A" else 2
    bank_uscc = uscc(t.region, 100 * n)
    # -------------------------------------------------------------- documents, consents
    with transaction(factory) as s:
        inv = lambda number, total, k: _doc(  # noqa: E731
            t,
            "invoice",
            number,
            u["t1"],
            u["core"],
            total,
            invoice_number=f"2632000000{n}000000{k:03d}",
            tax="0.00",
            due_date=(TODAY + timedelta(days=114)).isoformat(),
        )
        rows = [
            inv("INV-CRED", "3000000.00", 1),
            inv("INV-LOAN", "500000.00", 2),
            inv("INV-BIG", "9000000.00", 3),
            inv("INV-REG", "120000.00", 4),
        ]
        documents.ingest(s, t.ent("t1"), documents.parse_rows(rows))
        documents.ingest(
            s,
            t.ent("core"),
            documents.parse_rows(
                [
                    _doc(
                        t,
                        "purchase_order",
                        "PO",
                        u["t1"],
                        u["core"],
                        "1000000.00",
                        order_number=f"PO-{t.name}",
                    ),
                    _doc(
                        t,
                        "purchase_order",
                        "DO",
                        u["core"],
                        u["dealer"],
                        "600000.00",
                        order_number=f"DO-{t.name}",
                    ),
                ]
            ),
        )
        documents.ingest(
            s,
            t.ent("t2"),
            documents.parse_rows(
                [
                    _doc(
                        t,
                        "warehouse_receipt",
                        "WR",
                        u["t2"],
                        bank_uscc,
                        "1600000.00",
                        warehouse_uscc=u["warehouse"],
                        destination_region=t.region,
                        lines=json.dumps(
                            [
                                {
                                    "item": "copper foil",
                                    "quantity": "20",
                                    "unit": "t",
                                    "unit_price": "80000.00",
                                    "amount": "1600000.00",
                                }
                            ]
                        ),
                    ),
                    _doc(
                        t,
                        "waybill",
                        "WB",
                        u["t2"],
                        u["t1"],
                        "500000.00",
                        delivery_number=f"DN-{t.name}",
                        carrier_uscc=u["warehouse"],
                        origin_region=t.region,
                        destination_region=t.region,
                        shipped_on=TODAY.isoformat(),
                    ),
                ]
            ),
        )
        docs = {
            k: _doc_id(s, f"{k}-{t.name}")
            for k in ("INV-CRED", "INV-LOAN", "INV-BIG", "INV-REG", "PO", "DO", "WR", "WB")
        }
        for k in ("INV-CRED", "INV-LOAN", "INV-BIG", "INV-REG"):
            documents.confirm(s, t.ent("core"), docs[k])
            t.add("document", docs[k], "t1", "core")
        t.add("document", docs["PO"], "t1", "core")
        t.add("document", docs["DO"], "core", "dealer")
        t.add("document", docs["WR"], "t2")
        t.add("document", docs["WB"], "t2", "t1")
        t.add("secret", f"2632000000{n}000000004", "t1", "core")
        t.add("secret", f"INV-REG-{t.name}", "t1", "core")
        for member, parties in (
            ("core", ("core", "t1", "dealer")),
            ("t1", ("t1", "core", "t2")),
            ("t2", ("t2", "t1")),
            ("dealer", ("dealer", "core")),
        ):
            t.add(
                "enterprise",
                t.ids[member],
                *parties,
                uscc=t.usccs[member],
                name=f"{member} {t.name}",
            )
        for member in MEMBERS:
            grant = consent.grant(
                s,
                t.ent(member),
                bank_code=t.code,
                categories=[
                    "trade_documents",
                    "invoices",
                    "logistics",
                    "iot",
                    "financial_statements",
                ],
                purposes=["credit_assessment", "post_loan_monitoring", "financing"],
                expires_at=utcnow() + timedelta(days=400),
            )
            t.add("consent", grant.id, member)
        reg = receivables.register(
            s,
            t.staff("relationship_manager"),
            invoice_document_id=docs["INV-REG"],
            kind="pledge",
            financing_ref=f"FINREF-{t.name}-SECRET",
        )
        t.add("registration", reg.id, "t1", "core")
        t.add("secret", f"FINREF-{t.name}-SECRET", "t1", "core")
        chain = chains.create_chain(
            s,
            SYSTEM,
            name=f"chain {t.name}",
            core_usccs=[u["core"]],
            industry_code="C36",
            region_code=t.region[:4] + "00",
            bank_id=t.bank_id,
        )
        t.add("chain", chain.chain.id, *MEMBERS)
    # -------------------------------------------------------------- credentials
    with transaction(factory) as s:
        programme = credentials.create_programme(
            s,
            t.staff("relationship_manager"),
            core=u["core"],
            name=f"programme {t.name}",
            line=Money(20_000_000_00),
            rating="AAA",
            min_piece=Money(1_000_00),
        )
        # its holders read the programme's id on their credential, not the programme itself
        t.add("programme", programme.id, "core", referenced_by="t1 t2")
        confirmation = credentials.confirm(
            s,
            t.ent("core"),
            supplier=u["t1"],
            amount=Money.parse("3000000.00"),
            due_on=TODAY + timedelta(days=114),
            document_ids=[docs["INV-CRED"]],
        )
        t.add("confirmation", confirmation.id, "core", "t1")
        credential = credentials.issue(
            s,
            t.ent("core"),
            programme_id=programme.id,
            confirmation_ids=[confirmation.id],
            amount=Money.parse("1000000.00"),
            maturity_on=TODAY + timedelta(days=110),
        )
        t.add("credential", credential.id, "core", "t1", "t2")
        root = s.scalars(
            select(CredentialPiece).where(
                CredentialPiece.credential_id == credential.id,
                CredentialPiece.parent_id.is_(None),
            )
        ).one()
        credentials.accept(s, t.ent("t1"), root.id)
        kept, passed, financed = credentials.split(
            s,
            t.ent("t1"),
            root.id,
            [Money.parse("500000.00"), Money.parse("300000.00"), Money.parse("200000.00")],
        )
        moved = credentials.transfer(s, t.ent("t1"), passed.id, to=u["t2"])
        credentials.accept(s, t.ent("t2"), moved.offered.id)
        t.add("piece", kept.id, "core", "t1", holder="t1")
        t.add("piece", root.id, "core", "t1")
        t.add("piece", moved.offered.id, "core", "t1", "t2", holder="t2")
        quote = credentials.quote(s, t.ent("t2"), moved.offered.id, bank=t.code)
        t.add("quote", quote.id, "t2")
        done = credentials.quote(s, t.ent("t1"), financed.id, bank=t.code)
        financing = credentials.finance(s, t.ent("t1"), done.id)
        t.add("quote", done.id, "t1")
        t.add("piece", financed.id, "core", "t1")
        t.add("financing", financing.id, "t1")
        invitation = credentials.invite(
            s, t.staff("relationship_manager"), programme.id, bank="BKC"
        )
        t.add("invitation", invitation.id, "core", programme=programme.id)
    # -------------------------------------------------------------- lending
    with transaction(factory) as s:
        admin = t.staff("admin")
        for kind in ("receivable_financing", "inventory_pledge"):
            code = f"{kind[:3].upper()}-{t.name}"
            products.define(s, admin, code=code, name=f"{kind} of {t.code}", config={"kind": kind})
            t.product_codes.append(code)
        products.grant_authority(s, admin, user=t.users[f"{t.name.lower()}-approver"], level=3)
        products.grant_authority(s, admin, user=t.users[f"{t.name.lower()}-rm"], level=3)
        line = lines.open_line(
            s,
            admin,
            obligor=u["core"],
            limit=Money(50_000_000_00),
            starts_on=TODAY - timedelta(days=300),
            expires_on=TODAY + timedelta(days=400),
        )
        t.add("line", line.id, "core", "t1")  # t1 draws on it (a sub-limit)
        lines.add_sublimit(s, admin, line.id, limit=Money(20_000_000_00), member=u["t1"])
        cap = lines.set_cap(
            s, admin, name=f"core {t.name} cap", cap=Money(80_000_000_00), core=u["core"]
        )
        t.add("cap", cap.id)
        price = prices.set_price(
            s,
            admin,
            item="copper foil",
            on=TODAY - timedelta(days=25),
            price=Money.parse("80000.00"),
            unit="t",
            source="bank's own valuation",
        )
        t.add("price", price.id)
    payee = Payment(f"t1 {t.name} co", "6222020200112233445", "102100099996")
    t.add("secret", f"t1 {t.name} co", "t1")
    with transaction(factory) as s:
        approved = applications.submit(
            s,
            t.ent("t1"),
            bank=t.code,
            product=t.product_codes[0],
            amount=Money.parse("400000.00"),
            tenor_months=3,
            method="bullet",
            underlying_kind="invoice",
            underlying_ref=docs["INV-LOAN"],
            payee=payee,
            on=TODAY,
        )
        assert approved.status == "approved", approved.decision
        t.add("application", approved.id, "t1")
        referred = applications.submit(
            s,
            t.ent("t1"),
            bank=t.code,
            product=t.product_codes[0],
            amount=Money.parse("6000000.00"),
            tenor_months=3,
            method="bullet",
            underlying_kind="invoice",
            underlying_ref=docs["INV-BIG"],
            payee=payee,
            on=TODAY,
        )
        assert referred.status == "referred", referred.decision
        t.add("application", referred.id, "t1", referral="yes")
        for task in applications._tasks(s, referred.id):
            t.add("task", task.id, "t1", task_kind=task.kind)  # listed in t1's application
    with transaction(factory) as s:
        maker = t.maker()
        file = loans.disburse(
            s,
            maker,
            debtor_name=f"bank {t.name}",
            debtor_account="110000000000000001",
            debtor_agent="102100099996",
            execution_on=TODAY + timedelta(days=5),
        )
        t.add("disbursement", file.id, "t1")  # named in t1's loan
        loan = s.scalars(select(Loan).where(Loan.application_id == approved.id)).one()
        t.add("loan", loan.id, "t1")
        statement = statements.import_statement(s, maker, CAMT.read_bytes())
        t.add("statement", statement.id)
        alert = alerts.raise_alert(
            s,
            SYSTEM,
            kind="watch",
            severity="medium",
            subject_kind="loan",
            subject_id=loan.id,
            bank_id=t.bank_id,
            enterprise_id=t.ids["t1"],
            message=f"loan {loan.id}: watch list ({t.name})",
        )
        assert alert is not None
        t.add("alert", alert.id)
        device, _token = iot.register(s, admin, serial=f"SCALE-{t.name}-1", kind="weight", unit="t")
        t.add("device", device.id, serial=device.serial, device_kind="weight")
        tracker, _token = iot.register(s, admin, serial=f"GPS-{t.name}-1", kind="gps")
        t.add("device", tracker.id, serial=tracker.serial, device_kind="gps")
        for journal in s.scalars(select(Journal).where(Journal.book_id == t.bank_id)):
            t.add("journal", journal.id)
    with transaction(factory) as s:
        with DATA.open(newline="") as f:
            rows_ = list(csv.DictReader(f))
        t.model_name = f"pd-{t.name.lower()}"
        model = model_registry.train_and_register(
            s,
            t.staff("relationship_manager"),
            t.model_name,
            rows_,
            target="default",
            options=TrainOptions(
                features=("debt_ratio", "days_late_12m", "years_in_business"), seed=1
            ),
            columns=list(rows_[0]),
        )
        t.add("model", model.id, name=t.model_name)
        model_registry.promote(s, t.staff("relationship_manager"), model.id)
        model_registry.monitor(
            s,
            t.staff("relationship_manager"),
            model.id,
            rows_[:200],
            as_of=TODAY,
            columns=list(rows_[0]),
        )
    with transaction(factory) as s:
        signer = NoteSigner.generate(f"witness.{t.code.lower()}", KeyKind.COSIGNATURE_V1)
        ledger.register_witness(s, t.staff("admin"), vkey=signer.verifier().vkey())
        t.add("witness", signer.name)
    t.add("secret", t.model_name)
    t.add("secret", f"SCALE-{t.name}-1")


def _cross_records(factory: sessionmaker[Session], world: TenancyWorld) -> None:
    """An approved invitation (waiting for the invited bank) in each tenant."""
    with transaction(factory) as s:
        for t in world.tenants.values():
            (invitation,) = t.of("invitation")
            credentials.approve_invitation(s, t.ent("core"), invitation.id)


def _ledger_objects(factory: sessionmaker[Session], world: TenancyWorld) -> None:
    """For each tenant, sequenced entries whose parties are only its own: the line opened,
    the registration, the device."""
    with factory() as s:
        for t in world.tenants.values():
            mine = {t.bank_id, t.bank_enterprise_id, *t.ids.values()}
            names = {eid: name for name, eid in t.ids.items()}
            for entry in s.scalars(
                select(LedgerEntry).where(LedgerEntry.seq.is_not(None)).order_by(LedgerEntry.seq)
            ):
                if entry.event_type in (
                    "line.opened",
                    "receivable.registered",
                    "device.registered",
                ):
                    parties = set(entry.parties)
                    if parties and parties <= mine:
                        members = [names[p] for p in parties if p in names]
                        t.add("entry", str(entry.seq), *members, entry_id=entry.id)


def cosignature_line(witness: str) -> str:
    """A well-formed cosignature line naming ``witness`` (its signature is noise)."""
    raw = os.urandom(4) + (0).to_bytes(8, "big") + os.urandom(64)
    return f"— {witness} {base64.b64encode(raw).decode()}"


def alert_ids(s: Session, bank_id: str) -> list[str]:
    return list(s.scalars(select(Alert.id).where(Alert.bank_id == bank_id)))
