"""The relationship manager's tasks and alerts (tests/web/test_wb_work.py), added to the
portal world (world.extra["wb_work"]), built through the services.

- t1 (恒锂电芯材料有限公司) sells to the core on WK-INV-1 (¥3,900,000.00), confirmed by the
  core, and applies to 星湖银行 (BKA) for ¥3,186,420.00 of receivable financing on it: above
  the product's site-visit threshold, so the rules refer it with a site visit for bka-rm to
  make. The phone journey records that visit.
- 苏州恒远精工机械有限公司, a customer of BKA in no chain, with two open BKA alerts about
  it: overdue payments from its buyers (high; the journey acknowledges and resolves it) and
  falling power use (medium; left open).

No other area's journey touches these; this area's journeys touch nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.services import alerts, documents, registry
from chainfin.services.lending import applications
from credit_world import uscc
from lending_world import PAYEE
from worldclock import WORLD_DAY

INVOICE, INVOICE_TOTAL = "WK-INV-1", "3900000.00"
VISIT_AMOUNT = "3186420.00"
FIRM = "苏州恒远精工机械有限公司"
FIRM_SERIAL = 41_600_001
ALERT_TO_RESOLVE = "恒远精工主要买方付款延迟47天，应收账款逾期金额上升"
ALERT_LEFT_OPEN = "恒远精工厂区用电量环比下降四成"


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    lending = world.lending
    t1, core = lending.ent("t1"), lending.ent("core")
    bank_a = lending.credit.banks["BKA"]
    ids: dict[str, str] = {}
    invoice = {
        "kind": "invoice",
        "number": INVOICE,
        "seller_uscc": world.usccs("t1"),
        "buyer_uscc": world.usccs("core"),
        "issue_date": (WORLD_DAY - timedelta(days=8)).isoformat(),
        "currency": "CNY",
        "total": INVOICE_TOTAL,
        "tax": "0.00",
        "invoice_number": "26321800000000000001",
        "due_date": (WORLD_DAY + timedelta(days=160)).isoformat(),
    }
    with transaction(factory) as s:
        report = documents.ingest(s, t1, documents.parse_rows([invoice]))
        ids["invoice"] = str(report.rows[0].document_id)
        documents.confirm(s, core, ids["invoice"])
    with transaction(factory) as s:
        app = applications.submit(
            s, t1, bank="BKA", product="receivable_financing",
            amount=Money.parse(VISIT_AMOUNT), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=ids["invoice"], payee=PAYEE,
        )  # fmt: skip
        assert app.status == "referred", app.decision
        ids["application"] = app.id
        (visit,) = [t for t in applications.tasks_of(s, app.id) if t.kind == "site_visit"]
        ids["site_visit"] = visit.id
    record = EnterpriseRecord(
        uscc=uscc(FIRM_SERIAL),
        name=FIRM,
        region_code="320505",
        industry_code="C34",
        roles=frozenset({Role.SUPPLIER}),
        employees=180,
        revenue=Money(260_000_000_00),
    )
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, [record])
        s.flush()
        ids["firm"] = registry.ids_by_uscc(s, [uscc(FIRM_SERIAL)])[uscc(FIRM_SERIAL)]
        registry.link_customers(s, SYSTEM, bank_a, [ids["firm"]])
        for key, kind, severity, message in (
            ("alert", "ew_overdue", "high", ALERT_TO_RESOLVE),
            ("alert_open", "ew_revenue_drop", "medium", ALERT_LEFT_OPEN),
        ):
            row = alerts.raise_alert(
                s, SYSTEM, kind=kind, severity=severity, subject_kind="enterprise",
                subject_id=ids["firm"], bank_id=bank_a, enterprise_id=ids["firm"],
                message=message,
            )  # fmt: skip
            assert row is not None
            ids[key] = row.id
    world.extra["wb_work"] = ids
