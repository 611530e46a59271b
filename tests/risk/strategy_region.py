"""A tiny region built by hand for the strategy tests: three chains in 长三角 (yrd), twelve
firms (one more named only by the links), 24 months of trade flows, two firms' financials,
input-output shares, two policy entries and a bank position. Every figure below is chosen
so a test can redo the arithmetic in a line.

Tests import it the way they import ``credit_world``::

    from strategy_region import AS_OF, build, view

The chains (as_of 2026-06-30, window July 2025 … June 2026):

``nev-sz`` 新能源汽车, core NC1 (苏州, C36, AA)::

    T1 (无锡, C32) ──▶ S1 (苏州, C38) ──┐
    T2 (深圳, C26) ──▶ S2 (苏州, C38) ──┤
    U1 (not described) ▶ S3 (上海, C38) ─┼──▶ NC1 ──▶ D1 (苏州, F52)
                       S4 (苏州, C39) ──┘

``pv-wx`` 光伏, core PC1 (无锡, C38, unrated), tier-1 suppliers only (``max_tier=1``):
S1, P1 (无锡, C40, a division the pv template lacks), P2 (深圳, C29); no trade flows among
them.

``ic-hz`` 集成电路, core EC1 (杭州), described nowhere and linked to no one: an empty chain.

Monthly flows (yuan) before / from July 2025: S1→NC1 100/150, S2→NC1 100/100,
S3→NC1 50/50, S4→NC1 nothing, then 200 a month from January 2026, T1→S1 20/20, T2→S2 30/30,
U1→S3 10/10, NC1→D1 500/600; from July 2024.
"""

from __future__ import annotations

from datetime import date

from chainfin.domain.strategy.dataset import (
    BankPosition,
    Exposure,
    Financials,
    IoShare,
    MarketChain,
    MarketFirm,
    MarketLink,
    PolicyEntry,
    RegionDataset,
    TradeFlow,
)
from chainfin.domain.strategy.regions import NAMED
from chainfin.risk.strategy.graph import RegionView

AS_OF = date(2026, 6, 30)
YRD = NAMED["yrd"]

FIRMS = (
    MarketFirm("NC1", "苏州新能整车", "320505", "C36", "core", "large", revenue_minor=100_000_000,
               rating="AA"),
    MarketFirm("S1", "苏州电池", "320506", "C38", "supplier", "small", revenue_minor=20_000_000),
    MarketFirm("S2", "苏州电机", "320583", "C38", "supplier", "micro"),
    MarketFirm("S3", "上海电控", "310115", "C38", "supplier", "medium", revenue_minor=30_000_000),
    MarketFirm("S4", "苏州座舱", "320507", "C39", "supplier"),
    MarketFirm("T1", "无锡铜箔", "320205", "C32", "supplier", "small", revenue_minor=10_000_000),
    MarketFirm("T2", "深圳正极", "440305", "C26", "supplier", "large", revenue_minor=80_000_000),
    MarketFirm("D1", "苏州车行", "320508", "F52", "dealer", "small", revenue_minor=5_000_000),
    MarketFirm("PC1", "无锡光伏组件", "320214", "C38", "core", "large", revenue_minor=50_000_000),
    MarketFirm("P1", "无锡仪表", "320211", "C40", "supplier", "small", revenue_minor=10_000_000),
    MarketFirm("P2", "深圳胶膜", "440306", "C29", "supplier", "medium"),
    MarketFirm("X1", "广州无关", "440106", "C13", "other", "small"),
)  # fmt: skip

CHAINS = (
    MarketChain("nev-sz", "苏州新能源汽车链", "nev", ("NC1",), "320505"),
    MarketChain("pv-wx", "无锡光伏链", "pv", ("PC1",), "320214", max_tier=1),
    MarketChain("ic-hz", "杭州集成电路链", "ic", ("EC1",), "330100"),
    MarketChain("gz-food", "广州食品链", "food", ("X1",), "440106"),  # outside yrd
)


def _link(
    seller: str, buyer: str, first: date, last: date, prov: str = "platform_trade"
) -> MarketLink:
    return MarketLink(seller, buyer, prov, first, last)


LINKS = (
    _link("S1", "NC1", date(2023, 1, 1), date(2026, 6, 15)),  # 15 days: fresh
    _link("S2", "NC1", date(2023, 1, 1), date(2026, 5, 1)),  # 60: fresh
    _link("S3", "NC1", date(2023, 1, 1), date(2026, 3, 1)),  # 121: ageing
    _link("S4", "NC1", date(2025, 9, 1), date(2026, 6, 1)),  # entrant; fresh
    _link("T1", "S1", date(2024, 1, 1), date(2026, 6, 1)),  # fresh
    _link("T2", "S2", date(2022, 1, 1), date(2025, 1, 1), "declared"),  # 545: stale; leaver
    _link("U1", "S3", date(2024, 1, 1), date(2026, 6, 20), "payments"),  # fresh
    _link("NC1", "D1", date(2024, 1, 1), date(2026, 6, 20)),  # fresh
    _link("S1", "PC1", date(2024, 6, 1), date(2026, 6, 10)),  # fresh
    _link("P1", "PC1", date(2025, 10, 1), date(2026, 6, 10)),  # entrant; fresh
    _link("P2", "PC1", date(2024, 1, 1), date(2026, 4, 15)),  # 76: fresh
)

# (seller, buyer): (monthly yuan before July 2025, from July 2025)
MONTHLY_YUAN = {
    ("S1", "NC1"): (100, 150),
    ("S2", "NC1"): (100, 100),
    ("S3", "NC1"): (50, 50),
    ("T1", "S1"): (20, 20),
    ("T2", "S2"): (30, 30),
    ("U1", "S3"): (10, 10),
    ("NC1", "D1"): (500, 600),
}
S4_FROM = date(2026, 1, 1)  # S4 sells 200 yuan a month to NC1 from January 2026
MONTHS = tuple(
    date(2024 + (6 + k) // 12, (6 + k) % 12 + 1, 1) for k in range(24)
)  # 2024-07…2026-06
WINDOW_START = date(2025, 7, 1)


def _flows() -> tuple[TradeFlow, ...]:
    out: list[TradeFlow] = []
    for month in MONTHS:
        for (seller, buyer), (before, after) in MONTHLY_YUAN.items():
            yuan = after if month >= WINDOW_START else before
            out.append(TradeFlow(seller, buyer, month, yuan * 100))
        if month >= S4_FROM:
            out.append(TradeFlow("S4", "NC1", month, 200 * 100))
    return tuple(out)


FINANCIALS = (
    Financials("S1", 2024, 10_000_000, 0.2, 0.0, 30, 30, 30, loans_minor=9),  # superseded
    Financials("S1", 2025, 20_000_000, 0.1, 0.2, 60, 30, 30, loans_minor=1_000_000),
    Financials("T1", 2025, 10_000_000, 0.1, 0.1, 30, 20, 60),  # cash cycle -10 days: need 0
)

POLICIES = (
    PolicyEntry("320500", "nev", "prefecture", "苏州市重点产业链", 2024),
    PolicyEntry("320000", "pv", "province", "江苏省重点产业链", 2023),
)

IO_SHARES = (
    IoShare("320000", "C38", 0.6),
    IoShare("320000", "C32", 0.3),
    IoShare("320000", "C40", 0.2),
)

BANK = BankPosition(
    bank="testbank",
    customers=frozenset({"NC1", "S1", "S2", "PC1"}),
    exposures=(
        Exposure("NC1", 5_000_000, credentials_funded_minor=200_000, pd=0.01, lgd=0.4),
        Exposure("S1", 800_000, credentials_funded_minor=50_000, pd=0.02),
        Exposure("S2", 300_000, overdue=True),
    ),
    open_alerts=(("S2", 2),),
)


def build() -> RegionDataset:
    return RegionDataset(
        as_of=AS_OF,
        currency="CNY",
        firms=FIRMS,
        chains=CHAINS,
        links=LINKS,
        flows=_flows(),
        financials=FINANCIALS,
        policies=POLICIES,
        io_shares=IO_SHARES,
        bank=BANK,
        missing=("receivables", "segments"),
    )


def view(dataset: RegionDataset | None = None) -> RegionView:
    return RegionView(dataset if dataset is not None else build(), YRD)
