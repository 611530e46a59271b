"""A small chain for credential tests, built through the services: core C buys from t1,
t1 from t2, t2 from t3; bank A opens C's programme and bank B joins it by invitation (A
invites, C approves, B accepts with its line); x supplies nobody in the chain.
Principals are built directly (the services trust the principal they are given)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import credentials, documents, rates, registry

ISSUED_ON = date(2026, 11, 26)
LINE = Money(10_000_000_00)
SECOND_LINE = Money(5_000_000_00)
MIN_PIECE = Money(1_000_00)


def uscc(n: int) -> str:
    return make_uscc("9", "1", "320505", f"{n:08d}")


def _ent(name: str, n: int, *roles: Role) -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=uscc(n),
        name=name,
        region_code="320505",
        industry_code="C36",
        roles=frozenset(roles),
        employees=100,
        revenue=Money(9_000_000_000),
        total_assets=Money(7_000_000_000),
    )


@dataclass
class CreditWorld:
    ids: dict[str, str]
    banks: dict[str, str]  # code -> bank id
    bank_ents: dict[str, str]  # code -> the bank's enterprise id
    programme_id: str
    confirmation_id: str

    def ent(self, name: str) -> Principal:
        return Principal.enterprise_user(
            f"usr_{name}", enterprise_id=self.ids[name], roles=[EnterpriseRole.ENTERPRISE_ADMIN]
        )

    def staff(self, code: str) -> Principal:
        return Principal.staff(
            f"usr_{code}", bank_id=self.banks[code], roles=[StaffRole.RELATIONSHIP_MANAGER]
        )


def build(
    factory: sessionmaker[Session],
    *,
    line: Money = LINE,
    second_line: Money | None = SECOND_LINE,
    invoice_total: str = "3000000.00",
    min_piece: Money = MIN_PIECE,
    names: Mapping[str, str] | None = None,
) -> CreditWorld:
    """``names``: display names for the firms and banks (by their key, e.g. ``{"t1": "…"}``);
    the keys of ``ids`` stay the same."""
    shown = dict(names or {})
    ents = [
        _ent("bank A", 1, Role.BANK),
        _ent("bank B", 2, Role.BANK),
        _ent("core", 3, Role.CORE),
        _ent("t1", 4, Role.SUPPLIER),
        _ent("t2", 5, Role.SUPPLIER),
        _ent("t3", 6, Role.SUPPLIER),
        _ent("x", 7, Role.SUPPLIER, Role.DEALER),  # a dealer: it buys the core's goods
    ]
    with transaction(factory) as s:
        registry.import_enterprises(
            s, SYSTEM, [replace(e, name=shown.get(e.name, e.name)) for e in ents]
        )
        a_name, b_name = shown.get("bank A", "bank A"), shown.get("bank B", "bank B")
        a = registry.create_bank(s, SYSTEM, BankRecord("BKA", a_name, ents[0].uscc))
        b = registry.create_bank(s, SYSTEM, BankRecord("BKB", b_name, ents[1].uscc))
        s.flush()
        by_uscc = registry.ids_by_uscc(s, [e.uscc for e in ents])
        ids = {e.name: by_uscc[e.uscc] for e in ents}
        since = date(2021, 1, 1)
        registry.import_relations(
            s,
            SYSTEM,
            [
                RelationRecord(ents[2].uscc, ents[3].uscc, "电芯", since),
                RelationRecord(ents[3].uscc, ents[4].uscc, "极片", since),
                RelationRecord(ents[4].uscc, ents[5].uscc, "铜箔", since),
            ],
        )
        rates.load_bundled(s, SYSTEM)
        registry.link_customers(s, SYSTEM, a.id, [ids["core"]])  # BKA leads the programme
    world = CreditWorld(
        ids=ids,
        banks={"BKA": a.id, "BKB": b.id},
        bank_ents={"BKA": ids["bank A"], "BKB": ids["bank B"]},
        programme_id="",
        confirmation_id="",
    )
    with transaction(factory) as s:
        parsed = documents.parse_rows(
            [
                {
                    "kind": "invoice",
                    "number": "INV-C-1",
                    "seller_uscc": ents[3].uscc,
                    "buyer_uscc": ents[2].uscc,
                    "issue_date": "2026-11-20",
                    "currency": "CNY",
                    "total": invoice_total,
                    "tax": "0.00",
                    "invoice_number": "26320000000000000001",
                    "due_date": "2027-02-20",
                }
            ]
        )
        report = documents.ingest(s, world.ent("t1"), parsed)
        doc_id = str(report.rows[0].document_id)
        documents.confirm(s, world.ent("core"), doc_id)
        confirmation = credentials.confirm(
            s,
            world.ent("core"),
            supplier=ents[3].uscc,
            amount=Money.parse(invoice_total),
            due_on=date(2027, 2, 20),
            document_ids=[doc_id],
        )
        programme = credentials.create_programme(
            s,
            world.staff("BKA"),
            core=ents[2].uscc,
            name="core supplier programme",
            line=line,
            rating="AAA",
            min_piece=min_piece,
        )
        if second_line is not None:  # BKB joins by invitation: BKA invites, the core approves
            invitation = credentials.invite(s, world.staff("BKA"), programme.id, bank="BKB")
            credentials.approve_invitation(s, world.ent("core"), invitation.id)
            credentials.accept_invitation(s, world.staff("BKB"), invitation.id, line=second_line)
        world.programme_id = programme.id
        world.confirmation_id = confirmation.id
    return world
