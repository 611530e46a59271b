"""A small region as the CSV files a bank gives ``chainfin strategy`` (docs/strategy.md): two
chains in 长三角 (yrd) and one in 大湾区 (gba), ten firms, ten months of trade flows, a
confirmed unregistered receivable, and the bank's position (customers, exposures).

``sz-nev`` 苏州新能源车, core CORE1 (苏州, AA+)::

    S3 (无锡) ─▶ S1 (张家港) ─┐
    S4 (合肥) ─▶ S1           ├─▶ CORE1 ─▶ D1 (上海)
                 S2 (昆山) ───┘

``hz-pv`` 杭州光伏, core CORE3 (杭州, A) ◀─ P1 (嘉兴); ``sz-disp`` 深圳显示, core CORE2
(深圳, AA) ◀─ G1 (东莞): in gba, not in yrd.

The bank serves CORE1, S2 and CORE3 and lends to CORE1 and S2: S1 and D1 are the leads of
sz-nev (they trade with CORE1), S1 the best (it also holds a receivable on CORE1 that could
be financed). No policy list is given, so policy priority is missing for every chain.

Tests import it by name: ``from strategy_csv import write, market_files, USCC``.
"""

from __future__ import annotations

from pathlib import Path

from chainfin.domain.uscc import make_uscc

AS_OF = "2026-10-31"  # the latest last_seen_on and the end of the last month of flows

_FIRMS = (
    ("CORE1", "苏州整车", "320505", "C36", "core", "AA+"),
    ("S1", "张家港电池", "320582", "C38", "supplier", ""),
    ("S2", "昆山电机", "320583", "C38", "supplier", ""),
    ("S3", "无锡电芯", "320205", "C38", "supplier", ""),
    ("S4", "合肥材料", "340100", "C26", "supplier", ""),
    ("D1", "上海经销", "310115", "F51", "dealer", ""),
    ("CORE2", "深圳面板", "440305", "C39", "core", "AA"),
    ("G1", "东莞模组", "441900", "C39", "supplier", ""),
    ("CORE3", "杭州光伏", "330106", "C38", "core", "A"),
    ("P1", "嘉兴硅片", "330402", "C39", "supplier", ""),
)
USCC = {key: make_uscc("9", "1", region, f"{n:08d}") for n, (key, _, region, *_) in
        enumerate(_FIRMS, start=1)}  # fmt: skip
NAME = {key: name for key, name, *_ in _FIRMS}
_LINKS = (
    ("S1", "CORE1"), ("S2", "CORE1"), ("S3", "S1"), ("S4", "S1"), ("CORE1", "D1"),
    ("G1", "CORE2"), ("P1", "CORE3"),
)  # fmt: skip


def _files() -> dict[str, str]:
    firms = "uscc,name,region_code,industry_code,role,rating\n" + "".join(
        f"{USCC[k]},{name},{region},{division},{role},{rating}\n"
        for k, name, region, division, role, rating in _FIRMS
    )
    chains = (
        "chain_key,name,kind,core_usccs\n"
        f"sz-nev,苏州新能源车,nev,{USCC['CORE1']}\n"
        f"hz-pv,杭州光伏,pv,{USCC['CORE3']}\n"
        f"sz-disp,深圳显示,electronics,{USCC['CORE2']}\n"
    )
    relations = "seller_uscc,buyer_uscc,provenance,first_seen_on,last_seen_on\n" + "".join(
        f"{USCC[a]},{USCC[b]},declared,2025-01-01,{AS_OF}\n" for a, b in _LINKS
    )
    flows = "seller_uscc,buyer_uscc,month,amount_yuan\n" + "".join(
        f"{USCC[a]},{USCC[b]},2026-{m:02d},{100_000 * (1 + m % 3)}.00\n"
        for m in range(1, 11)
        for a, b in _LINKS
    )
    return {
        "enterprises.csv": firms,
        "chains.csv": chains,
        "relations.csv": relations,
        "trade_flows.csv": flows,
        "receivables.csv": "seller_uscc,buyer_uscc,amount_yuan,due_on,confirmed,registered\n"
        f"{USCC['S1']},{USCC['CORE1']},300000.00,2026-12-31,1,0\n",
        "customers.csv": f"uscc\n{USCC['CORE1']}\n{USCC['S2']}\n{USCC['CORE3']}\n",
        "exposures.csv": "uscc,exposure_yuan\n"
        f"{USCC['CORE1']},5000000.00\n{USCC['S2']},800000.00\n",
    }


POSITION = ("customers.csv", "exposures.csv", "alerts.csv")


def market_files() -> dict[str, bytes]:
    """The market data a bank imports (its position is read live, not imported)."""
    return {k: v.encode() for k, v in _files().items() if k not in POSITION}


def write(folder: Path, *, without: tuple[str, ...] = ()) -> Path:
    """Write the files (all of them, position included, but ``without``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in _files().items():
        if name not in without:
            (folder / name).write_text(text, encoding="utf-8")
    return folder
