"""The chain strategy pages in the pages' tenancy matrix (test_page_tenancy.py): bank A's
market dataset with one chain around the core. Its chain and dataset names are the marks
bank B's pages must never show; bank B has no dataset, so its staff (``bkb-boss`` holds
risk officer, which reads strategy pages) meet the "no market data" page, never bank A's.

:func:`market_files` is also the small dataset of test_wb_strategy_http.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.uscc import make_uscc
from chainfin.services import strategy
from credit_world import uscc

CHAIN_KEY = "yrd-nev-probe"
CHAIN = "星湖受测策略链"
OTHER_CHAIN = "苏州受测集成电路链"
LABEL = "星湖受测市场数据"
LEAD = "常熟受测电芯有限公司"
MARKS = (CHAIN, OTHER_CHAIN, LABEL, LEAD)

PROBES: dict[tuple[str, str], Callable[[Any], tuple[dict[str, str], dict[str, Any]]]] = {
    ("GET", "/strategy/chains/{chain_key}"): lambda v: ({"chain_key": v.ids["strategy_chain"]}, {}),
    ("GET", "/strategy/chains/{chain_key}/leads.csv"): lambda v: (
        {"chain_key": v.ids["strategy_chain"]},
        {},
    ),
}


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def market(n: int) -> str:
    return make_uscc("9", "1", "320505", f"{800 + n:08d}")


def market_files() -> dict[str, bytes]:
    """Two chains in 苏州: the core's battery chain (t1 and three market firms supply the
    core; the first of them, :data:`LEAD`, is not bank A's customer) and a chip chain."""
    core, t1 = uscc(3), uscc(4)
    firms = [
        (core, "星湖动力电池股份有限公司", "C36", "core", "AA+"),
        (t1, "恒锂电芯材料有限公司", "C38", "supplier", ""),
        (market(1), LEAD, "C38", "supplier", ""),
        (market(2), "苏州受测电控有限公司", "C39", "supplier", ""),
        (market(3), "苏州受测冲压有限公司", "C33", "supplier", ""),
        (market(10), "苏州受测芯片股份有限公司", "C39", "core", "AA"),
        (market(11), "苏州受测晶圆材料有限公司", "C39", "supplier", ""),
        (market(12), "苏州受测特气有限公司", "C26", "supplier", ""),
    ]
    links = [
        (t1, core, 500_000),
        (market(1), core, 900_000),
        (market(2), core, 300_000),
        (market(3), market(1), 100_000),
        (market(11), market(10), 400_000),
        (market(12), market(10), 200_000),
    ]
    months = [f"2026-{m:02d}" for m in range(1, 12)] + [f"2025-{m:02d}" for m in range(1, 13)]
    return {
        "enterprises.csv": _csv(
            ("uscc", "name", "region_code", "industry_code", "role", "rating"),
            ((u, name, "320505", div, role, rating) for u, name, div, role, rating in firms),
        ),
        "chains.csv": _csv(
            ("chain_key", "name", "kind", "core_usccs"),
            [(CHAIN_KEY, CHAIN, "nev", core), ("yrd-ic-probe", OTHER_CHAIN, "ic", market(10))],
        ),
        "relations.csv": _csv(
            ("seller_uscc", "buyer_uscc", "provenance", "first_seen_on", "last_seen_on"),
            ((s, b, "platform_trade", "2025-01-05", "2026-11-20") for s, b, _ in links),
        ),
        "trade_flows.csv": _csv(
            ("seller_uscc", "buyer_uscc", "month", "amount_yuan"),
            ((s, b, m, f"{amount}.00") for s, b, amount in links for m in months),
        ),
    }


def import_for(
    factory: sessionmaker[Session], user_id: str, bank_id: str, label: str = LABEL
) -> str:
    """The bank's dataset imported by a strategist of it; its id."""
    strategist = Principal.staff(user_id, bank_id=bank_id, roles=[StaffRole.STRATEGIST])
    with transaction(factory) as s:
        return strategy.import_market(s, strategist, market_files(), label=label).id


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    import_for(factory, world.staff_ids["rm"], world.credit.banks["BKA"])
    ids["strategy_chain"] = CHAIN_KEY
