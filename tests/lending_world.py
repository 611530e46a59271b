"""The credit world plus what lending needs: bank A's four products, a line to the core
with a sub-limit per product kind, consent from the members, and one underlying of each
kind (an invoice, a purchase order from the core, a warehouse receipt with a price, a
dealer order placed with the core). Staff: rm (maker), ck1 (checker, level 1), ck3 (level 3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import TradeDocumentRow
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.products import template
from chainfin.domain.registry import RelationRecord
from chainfin.services import auth, consent, documents, registry
from chainfin.services.lending import lines, products
from chainfin.services.lending.applications import Payment
from chainfin.services.lending.underlying import set_price
from credit_world import CreditWorld, build, uscc
from worldclock import WORLD_DAY

TODAY = WORLD_DAY  # an applicant cannot backdate: dates here are relative to the world's day
LINE = Money(20_000_000_00)
PAYEE = Payment("t1 co", "6222020200112233445", "102100099996")
CORE_PAYEE = Payment("core co", "6222020200998877665", "102100099996")


@dataclass
class LendingWorld:
    credit: CreditWorld
    line_id: str
    docs: dict[str, str]
    staff_ids: dict[str, str]

    def ent(self, name: str) -> Principal:
        return self.credit.ent(name)

    @property
    def ids(self) -> dict[str, str]:
        return self.credit.ids

    def staff(self, name: str, *roles: StaffRole) -> Principal:
        return Principal.staff(
            self.staff_ids[name],
            bank_id=self.credit.banks["BKA"],
            roles=roles or [StaffRole.RELATIONSHIP_MANAGER, StaffRole.APPROVER],
        )

    def admin(self) -> Principal:
        return Principal.staff(
            self.staff_ids["rm"], bank_id=self.credit.banks["BKA"], roles=[StaffRole.ADMIN]
        )


def _doc(kind: str, number: str, seller: int, buyer: int, total: str, **extra: object) -> dict:
    row: dict[str, object] = {
        "kind": kind,
        "number": number,
        "seller_uscc": uscc(seller),
        "buyer_uscc": uscc(buyer),
        "issue_date": (TODAY - timedelta(days=6)).isoformat(),
        "currency": "CNY",
        "total": total,
    }
    row.update(extra)
    return row


def build_lending(
    factory: sessionmaker[Session],
    *,
    line: Money = LINE,
    consent_all: bool = True,
    names: Mapping[str, str] | None = None,
) -> LendingWorld:
    credit = build(factory, names=names)
    bank_id = credit.banks["BKA"]
    with transaction(factory) as s:
        staff_ids = {}
        for name in ("rm", "ck1", "ck3"):
            user = auth.create_user(
                s,
                SYSTEM,
                username=f"bka-{name}",
                display_name=name,
                password="correct horse battery",
                bank_code="BKA",
                roles=["relationship_manager", "approver"],
            )
            staff_ids[name] = user.id
    world = LendingWorld(credit, "", {}, staff_ids)
    admin = world.admin()
    with transaction(factory) as s:
        for kind in ("receivable_financing", "order_financing", "inventory_pledge"):
            products.define(s, admin, code=kind, name=kind, config={"kind": kind})
        dealer = template("dealer_financing").to_dict()
        products.define(s, admin, code="dealer_financing", name="dealer", config=dealer)
        products.grant_authority(s, admin, user=staff_ids["ck1"], level=1)
        products.grant_authority(s, admin, user=staff_ids["ck3"], level=3)
        credit_line = lines.open_line(
            s,
            admin,
            obligor=credit.ids["core"],
            limit=line,
            starts_on=TODAY - timedelta(days=330),
            expires_on=TODAY + timedelta(days=400),
        )
        for member in ("t1", "t2", "x"):
            lines.add_sublimit(
                s,
                admin,
                credit_line.id,
                limit=Money(line.amount_minor // 2),
                member=credit.ids[member],
            )
        world.line_id = credit_line.id
        set_price(
            s,
            admin,
            item="copper foil",
            on=TODAY - timedelta(days=25),
            price=Money.parse("80000.00"),
            unit="t",
            source="SHFE settlement",
        )
    with transaction(factory) as s:
        core_user = world.ent("core")
        rows = [
            _doc("purchase_order", "PO-1", 4, 3, "1000000.00", order_number="PO-1"),
            _doc(
                "warehouse_receipt",
                "WR-1",
                5,
                1,
                "1600000.00",
                warehouse_uscc=uscc(6),
                destination_region="320505",
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
            _doc("purchase_order", "DO-1", 3, 7, "600000.00", order_number="DO-1"),
            _doc(
                "invoice",
                "INV-T1-2",
                4,
                3,
                "500000.00",
                invoice_number="26320000000000000002",
                tax="0.00",
                due_date=(TODAY + timedelta(days=114)).isoformat(),
            ),
        ]
        parsed = documents.parse_rows(rows)
        documents.ingest(s, core_user, [parsed[0], parsed[2]])
        documents.ingest(s, world.ent("t2"), [parsed[1]])
        documents.ingest(s, world.ent("t1"), [parsed[3]])
        for number in ("PO-1", "WR-1", "DO-1", "INV-T1-2"):
            world.docs[number] = s.scalars(
                select(TradeDocumentRow.id).where(TradeDocumentRow.number == number)
            ).one()
        documents.confirm(s, world.ent("core"), world.docs["INV-T1-2"])
        if consent_all:
            for member in ("t1", "t2", "x", "core"):
                consent.grant(
                    s,
                    world.ent(member),
                    bank_code="BKA",
                    categories=[
                        "trade_documents",
                        "invoices",
                        "logistics",
                        "iot",
                        "financial_statements",
                    ],
                    purposes=["credit_assessment", "post_loan_monitoring"],
                    expires_at=utcnow() + timedelta(days=400),
                )
        registry.import_relations(
            s, SYSTEM, [RelationRecord(uscc(7), uscc(3), "电池包", date(2021, 1, 1))]
        )
        # t1 and x already bank with BKA; t2 is a new customer
        registry.link_customers(s, SYSTEM, bank_id, [credit.ids["t1"], credit.ids["x"]])
    return world
