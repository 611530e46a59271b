"""The customers pages' routes in the pages' tenancy matrix (test_page_tenancy.py): bank A's
chain around the core (its map) and t1's 360° page, with an open bank-A alert about t1 whose
message only bank A's pages show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.services import alerts, chains
from credit_world import uscc

CHAIN = "电芯供应链（租户隔离探针）"
ALERT = "租户隔离探针：恒锂应收集中度预警"

PROBES: dict[tuple[str, str], Callable[[Any], tuple[dict[str, str], dict[str, Any]]]] = {
    ("GET", "/chains/{chain_id}"): lambda v: ({"chain_id": v.ids["wb_customers_chain"]}, {}),
    ("GET", "/firms/{enterprise_id}"): lambda v: (
        {"enterprise_id": v.ids["wb_customers_firm"]},
        {},
    ),
}
MARKS = (CHAIN, ALERT)


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    bank_a = world.credit.banks["BKA"]
    rm = Principal.staff("usr_probe_rm", bank_id=bank_a, roles=[StaffRole.RELATIONSHIP_MANAGER])
    with transaction(factory) as s:
        chain = chains.create_chain(
            s, rm, name=CHAIN, core_usccs=[uscc(3)], industry_code="C38", region_code="320505"
        )
        raised = alerts.raise_alert(
            s,
            SYSTEM,
            kind="customer_review",
            severity="high",
            subject_kind="enterprise",
            subject_id=world.ids["t1"],
            bank_id=bank_a,
            enterprise_id=world.ids["t1"],
            message=ALERT,
        )
        assert raised is not None  # acknowledged: no risk flag on other areas' applications
        alerts.acknowledge(s, rm, raised.id, note="跟进中")
    ids["wb_customers_chain"] = chain.chain.id
    ids["wb_customers_firm"] = world.ids["t1"]
