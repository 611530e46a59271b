"""The credit desk's own objects (tests/web/test_wb_credit.py), added to the portal world
(world.extra["wb_credit"]), built through the services.

t1 (恒锂电芯材料有限公司) sells to the core on invoices of its own, each confirmed by the
core, and applies to 星湖银行 (BKA) for receivable financing on each. The rules refer every
one of them: the amounts are above the product's automatic approval limit
(¥1,000,000.00), and t1 has an open risk finding (the portal world's platform alert), which
asks for a site visit.

- ``approve``: ¥1,357,900.00 on CR-INV-1 (¥1,600,000.00), needs authority level 2; its
  site visit was made in the world, so a checker may approve it. The journey: bka-ck1
  (level 1) makes, bka-ck3 (level 3) checks and approves with a condition.
- ``decline``: ¥1,246,800.00 on CR-INV-2 (¥1,500,000.00): declined with a reason.
- ``checked``: ¥5,432,100.00 on CR-INV-3 (¥6,100,000.00), needs level 3; bka-rm made the
  maker's step in the world, so it waits for a checker of level 3 (in bka-ck3's queue, not
  in bka-ck1's), its site visit and financial statement analysis still open.

No journey of another area touches these applications or invoices.
"""

from __future__ import annotations

from datetime import timedelta

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.services import documents
from chainfin.services.lending import applications, tasks
from lending_world import PAYEE
from worldclock import WORLD_DAY

APPROVE = "1357900.00"
DECLINE = "1246800.00"
CHECKED = "5432100.00"
INVOICES = {  # application key -> (invoice number, face value, serial)
    "approve": ("CR-INV-1", "1600000.00", 1),
    "decline": ("CR-INV-2", "1500000.00", 2),
    "checked": ("CR-INV-3", "6100000.00", 3),
}
AMOUNTS = {"approve": APPROVE, "decline": DECLINE, "checked": CHECKED}
MAKER_NOTE = "核心企业确权，应收账款真实，建议审批"


def _invoice(world: PortalWorld, number: str, total: str, serial: int) -> dict[str, str]:
    return {
        "kind": "invoice",
        "number": number,
        "seller_uscc": world.usccs("t1"),
        "buyer_uscc": world.usccs("core"),
        "issue_date": (WORLD_DAY - timedelta(days=9)).isoformat(),
        "currency": "CNY",
        "total": total,
        "tax": "0.00",
        "invoice_number": f"2632190000000000{serial:04d}",
        "due_date": (WORLD_DAY + timedelta(days=170)).isoformat(),
    }


def _site_visit() -> dict[str, object]:
    return {
        "premises_verified": True,
        "production_running": True,
        "inventory_on_hand": "420000.00",
        "findings": "厂区正常生产，库存与账面一致",
        "gps": {"lat": 31.2989, "lon": 120.5853},
        "visited_at": (utcnow() - timedelta(hours=2)).isoformat(),
    }


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    lending = world.lending
    t1, core, rm = lending.ent("t1"), lending.ent("core"), lending.staff("rm")
    ids: dict[str, str] = {}
    with transaction(factory) as s:
        for key, (number, total, serial) in INVOICES.items():
            rows = documents.parse_rows([_invoice(world, number, total, serial)])
            report = documents.ingest(s, t1, rows)
            ids[f"{key}_invoice"] = str(report.rows[0].document_id)
            documents.confirm(s, core, ids[f"{key}_invoice"])
    with transaction(factory) as s:
        for key, amount in AMOUNTS.items():
            app = applications.submit(
                s,
                t1,
                bank="BKA",
                product="receivable_financing",
                amount=Money.parse(amount),
                tenor_months=3,
                method="bullet",
                underlying_kind="invoice",
                underlying_ref=ids[f"{key}_invoice"],
                payee=PAYEE,
            )
            assert app.status == "referred", (key, app.decision)
            ids[key] = app.id
    with transaction(factory) as s:
        for task in applications.tasks_of(s, ids["approve"]):
            tasks.complete_site_visit(s, rm, task.id, _site_visit())
            ids["approve_task"] = task.id
        applications.review(s, rm, ids["checked"], action="approve", note=MAKER_NOTE)
    ids["line"] = lending.line_id
    world.extra["wb_credit"] = ids
