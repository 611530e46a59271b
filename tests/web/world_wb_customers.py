"""The customers pages' own objects (tests/web/test_wb_customers.py), added to the portal
world: bank A's chain around the core, 「星湖动力电池供应链（客户视图）」 (t1, t2, t3 upstream,
the dealer x downstream; t2 and t3 are not bank A's customers: prospects), and one open
bank-A alert about t1 whose message only bank A's pages show."""

from __future__ import annotations

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.services import alerts, chains

CHAIN = "星湖动力电池供应链（客户视图）"
ALERT = "客户视图预警：恒锂电芯应收账款集中度升至六成"


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    ids = world.ids
    bank_a = world.lending.credit.banks["BKA"]
    rm = Principal.staff(
        world.lending.staff_ids["rm"], bank_id=bank_a, roles=[StaffRole.RELATIONSHIP_MANAGER]
    )
    with transaction(factory) as s:
        chain = chains.create_chain(
            s,
            rm,
            name=CHAIN,
            core_usccs=[world.usccs("core")],
            industry_code="C38",
            region_code="320505",
        )
        raised = alerts.raise_alert(
            s,
            SYSTEM,
            kind="customer_review",
            severity="high",
            subject_kind="enterprise",
            subject_id=ids["t1"],
            bank_id=bank_a,
            enterprise_id=ids["t1"],
            message=ALERT,
        )
        # acknowledged, not open: still live on the customers pages, but no risk flag on
        # the loan applications other journeys make for t1
        assert raised is not None
        alerts.acknowledge(s, rm, raised.id, note="跟进中")
    world.extra["wb_customers"] = {"chain_id": chain.chain.id}
