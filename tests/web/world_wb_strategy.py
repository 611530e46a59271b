"""The head-office strategist's objects (tests/web/test_wb_strategy.py), added to the portal
world:

- ``bka-strategy`` (周策, bank A's head-office strategist);
- bank A's market dataset 「星湖银行市场数据（策略测试）」, imported as the strategist would:
  four chains whose home is in 长三角 and one in 大湾区. The first, 「星湖动力电池产业链（策略）」,
  is built around the portal world's core (a customer of bank A) with t1, t2, t3 and the
  dealer x among its members, and market firms beside them: its suppliers S1–S3 and buyers
  D1–D2 trade with the core and are not bank A's customers, so they are its leads. The
  photovoltaic chain's core is rated BBB (a rating floor of AA- excludes it); one supplier
  of the battery chain sits in Shenzhen (outside the region); links are fresh, ageing and
  stale; there are no financials or input-output shares (missing inputs).

:func:`market_files` builds the CSV files (tests/web_http builds its own small one).
Names in ``world.extra["wb_strategy"]``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from portal_world import PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, strategy
from worldclock import WORLD_DAY

STRATEGIST = "bka-strategy"
LABEL = "星湖银行市场数据（策略测试）"
AS_OF = WORLD_DAY - timedelta(days=6)  # the latest link seen
BATTERY = "星湖动力电池产业链（策略）"
IC = "苏州集成电路产业链（策略）"
PV = "无锡光伏产业链（策略）"
AUTO = "嘉兴汽车零部件产业链（策略）"
GBA = "深圳消费电子产业链（策略）"
LEADS = ("常熟电芯材料有限公司", "苏州电控系统有限公司", "昆山热管理科技有限公司")


def firm_uscc(n: int, region: str) -> str:
    return make_uscc("9", "1", region, f"{900 + n:08d}")


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _months(last: date, n: int) -> list[str]:
    out = []
    year, month = last.year, last.month
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def market_files(platform: dict[str, str]) -> dict[str, bytes]:
    """The dataset's CSV files; ``platform`` maps core, t1, t2, t3 and x to their USCCs."""
    core, t1, t2, t3, x = (platform[k] for k in ("core", "t1", "t2", "t3", "x"))
    f = firm_uscc
    firms = [  # uscc, name, region, division, role, rating
        (core, "星湖动力电池股份有限公司", "320505", "C36", "core", "AA+"),
        (t1, "恒锂电芯材料有限公司", "320505", "C38", "supplier", ""),
        (t2, "铜陵极片制造有限公司", "320505", "C38", "supplier", ""),
        (t3, "江阴精密铜箔有限公司", "320505", "C32", "supplier", ""),
        (x, "星湖新能源汽车销售有限公司", "320505", "F52", "dealer", ""),
        (f(1, "320582"), LEADS[0], "320582", "C38", "supplier", ""),
        (f(2, "320505"), LEADS[1], "320505", "C39", "supplier", ""),
        (f(3, "320583"), LEADS[2], "320583", "C38", "supplier", ""),
        (f(4, "320506"), "吴中精密冲压有限公司", "320506", "C33", "supplier", ""),
        (f(5, "320582"), "张家港塑胶制品有限公司", "320582", "C29", "supplier", ""),
        (f(6, "440305"), "深圳南山化工材料有限公司", "440305", "C26", "supplier", ""),
        (f(7, "320505"), "苏州新能源汽车销售有限公司", "320505", "F52", "dealer", ""),
        (f(8, "320506"), "吴中汽车贸易有限公司", "320506", "F52", "dealer", ""),
        # 集成电路
        (f(20, "320506"), "苏州芯片制造股份有限公司", "320506", "C39", "core", "AA"),
        (f(21, "320506"), "吴中晶圆材料有限公司", "320506", "C39", "supplier", ""),
        (f(22, "320505"), "虎丘电子特气有限公司", "320505", "C26", "supplier", ""),
        (f(23, "320583"), "昆山设备零件有限公司", "320583", "C35", "supplier", ""),
        (f(24, "320582"), "张家港光刻胶有限公司", "320582", "C26", "supplier", ""),
        # 光伏
        (f(30, "320205"), "无锡光伏组件股份有限公司", "320205", "C38", "core", "BBB"),
        (f(31, "320211"), "滨湖硅片有限公司", "320211", "C39", "supplier", ""),
        (f(32, "320205"), "锡山玻璃有限公司", "320205", "C30", "supplier", ""),
        # 汽车
        (f(40, "330402"), "嘉兴汽车零部件股份有限公司", "330402", "C36", "core", "A+"),
        (f(41, "330411"), "秀洲线束有限公司", "330411", "C38", "supplier", ""),
        (f(42, "330402"), "南湖轴承有限公司", "330402", "C34", "supplier", ""),
        (f(43, "330411"), "秀洲冲压件有限公司", "330411", "C33", "supplier", ""),
        # 大湾区
        (f(50, "440305"), "深圳消费电子股份有限公司", "440305", "C39", "core", "AA-"),
        (f(51, "440305"), "南山模组有限公司", "440305", "C39", "supplier", ""),
    ]
    chains = [
        ("yrd-nev-xh", BATTERY, "nev", core),
        ("yrd-ic-sz", IC, "ic", f(20, "320506")),
        ("yrd-pv-wx", PV, "pv", f(30, "320205")),
        ("yrd-auto-jx", AUTO, "auto", f(40, "330402")),
        ("gba-electronics-sz", GBA, "electronics", f(50, "440305")),
    ]
    fresh = (AS_OF - timedelta(days=400), AS_OF - timedelta(days=10))
    ageing = (AS_OF - timedelta(days=500), AS_OF - timedelta(days=200))
    stale = (AS_OF - timedelta(days=900), AS_OF - timedelta(days=500))
    links = [  # seller, buyer, provenance, (first, last), monthly trade in yuan (0: none)
        (t1, core, "platform_trade", fresh, 900_000),
        (f(1, "320582"), core, "platform_trade", fresh, 1_200_000),
        (f(2, "320505"), core, "payments", fresh, 600_000),
        (f(3, "320583"), core, "declared", ageing, 300_000),
        (t2, t1, "platform_trade", fresh, 400_000),
        (f(4, "320506"), f(1, "320582"), "declared", fresh, 150_000),
        (f(5, "320582"), f(2, "320505"), "declared", stale, 0),
        (f(6, "440305"), f(1, "320582"), "payments", fresh, 250_000),
        (t3, t2, "platform_trade", fresh, 120_000),
        (core, x, "platform_trade", fresh, 2_000_000),
        (core, f(7, "320505"), "platform_trade", fresh, 800_000),
        (core, f(8, "320506"), "declared", ageing, 0),
        (f(21, "320506"), f(20, "320506"), "platform_trade", fresh, 700_000),
        (f(22, "320505"), f(20, "320506"), "platform_trade", fresh, 350_000),
        (f(23, "320583"), f(20, "320506"), "declared", fresh, 200_000),
        (f(24, "320582"), f(21, "320506"), "payments", fresh, 90_000),
        (f(31, "320211"), f(30, "320205"), "platform_trade", fresh, 500_000),
        (f(32, "320205"), f(30, "320205"), "declared", stale, 0),
        (f(41, "330411"), f(40, "330402"), "platform_trade", fresh, 300_000),
        (f(42, "330402"), f(40, "330402"), "declared", ageing, 100_000),
        (f(43, "330411"), f(41, "330411"), "payments", fresh, 60_000),
        (f(51, "440305"), f(50, "440305"), "platform_trade", fresh, 400_000),
    ]
    months = _months(AS_OF, 24)
    flows = []
    for n, (seller, buyer, _, _, monthly) in enumerate(links):
        if not monthly:
            continue
        for i, month in enumerate(months):
            amount = monthly * (80 + i * (1 + n % 3)) // 100  # growing, some faster
            late = amount // 10 if (n + i) % 5 == 0 else 0
            flows.append((seller, buyer, month, f"{amount}.00", f"{late}.00"))
    due = AS_OF + timedelta(days=60)
    return {
        "enterprises.csv": _csv(
            ("uscc", "name", "region_code", "industry_code", "role", "rating", "size_class"),
            (
                (*row, "large" if row[4] == "core" else ("medium" if n % 3 == 0 else "small"))
                for n, row in enumerate(firms)
            ),
        ),
        "chains.csv": _csv(("chain_key", "name", "kind", "core_usccs"), chains),
        "relations.csv": _csv(
            ("seller_uscc", "buyer_uscc", "provenance", "first_seen_on", "last_seen_on"),
            ((s, b, p, first.isoformat(), last.isoformat()) for s, b, p, (first, last), _ in links),
        ),
        "trade_flows.csv": _csv(
            ("seller_uscc", "buyer_uscc", "month", "amount_yuan", "paid_late_yuan"), flows
        ),
        "policies.csv": _csv(
            ("region_code", "kind", "level", "source", "year"),
            [("320000", "nev", "province", "示例：演示用清单", 2025)],
        ),
        "receivables.csv": _csv(
            ("seller_uscc", "buyer_uscc", "amount_yuan", "due_on", "confirmed", "registered"),
            [
                (f(1, "320582"), core, "850000.00", due.isoformat(), "1", "0"),
                (f(2, "320505"), core, "320000.00", due.isoformat(), "1", "1"),
            ],
        ),
    }


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    bank_a = world.lending.credit.banks["BKA"]
    with transaction(factory) as s:
        user = auth.create_user(
            s,
            SYSTEM,
            username=STRATEGIST,
            display_name="周策",
            password=PASSWORD,
            roles=["strategist"],
            bank_code="BKA",
        )
        world.user_ids[STRATEGIST] = user.id
    strategist = Principal.staff(user.id, bank_id=bank_a, roles=[StaffRole.STRATEGIST])
    platform = {k: world.usccs(k) for k in ("core", "t1", "t2", "t3", "x")}
    with transaction(factory) as s:
        info = strategy.import_market(s, strategist, market_files(platform), label=LABEL)
    world.extra["wb_strategy"] = {"dataset_id": info.id}
