"""The committee report PDF (adapters/formats/strategy_report.py), on a report built by hand.

The pages are rasterised with poppler's pdftoppm when it is installed, into
var/screenshots/strategy-report-<zh-CN|en>-<n>.png, so a person can look at them.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from chainfin.adapters.formats.strategy_report import render_pdf
from chainfin.domain.strategy.criteria import CRITERIA, INFORMATIONAL
from chainfin.domain.strategy.results import (
    ChainMap,
    ChainMeasures,
    Coverage,
    Lead,
    MapFirm,
    MapLink,
    Measure,
    RankedChain,
    Ranking,
    SegmentNode,
    StrategyReport,
    Weights,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AS_OF = date(2026, 6, 30)
GENERATED_ON = date(2026, 7, 2)

CHAINS = (
    # key, name, kind, score, rank, low, high, attractiveness, ability, quadrant, reason
    (
        "yrd-nev",
        "长三角新能源汽车链",
        "nev",
        0.71,
        1,
        1,
        2,
        0.78,
        0.66,
        "pursue",
        "完整度高、核心企业评级 AA+，本行已服务 2 家核心企业",
    ),
    (
        "yrd-ic",
        "长三角集成电路链",
        "ic",
        0.64,
        2,
        1,
        3,
        0.81,
        0.32,
        "build",
        "融资缺口大，但本行客户覆盖率仅 6%",
    ),
    (
        "yrd-pv",
        "长三角光伏链",
        "pv",
        0.52,
        3,
        2,
        4,
        0.41,
        0.58,
        "maintain",
        "采购集中度高（HHI 0.31），单点故障 2 个",
    ),
    (
        "yrd-steel",
        "长三角钢铁链",
        "steel",
        0.33,
        4,
        3,
        4,
        0.22,
        0.28,
        "watch",
        "成长性为负，风险水平最高",
    ),
)


def _weights() -> Weights:
    keys = [c.key for c in CRITERIA]
    entropy = {k: 1 / len(keys) for k in keys}
    subjective = {k: (2 if i < 4 else 1) / 16 for i, k in enumerate(keys)}
    final = {k: (entropy[k] + subjective[k]) / 2 for k in keys}
    return Weights(entropy, subjective, "ahp", 0.043, 0.5, final)


def _measures(key: str, name: str, kind: str, seed: int) -> ChainMeasures:
    values: dict[str, Measure] = {}
    units = {
        "completeness": "share",
        "local_supporting_rate": "share",
        "core_strength": "index",
        "concentration": "index",
        "sme_depth": "count",
        "growth": "rate",
        "financing_gap": "CNY",
        "policy_priority": "score",
        "customer_share": "share",
        "cores_covered": "share",
        "financing_share": "share",
        "risk": "rate",
        "financing_need": "CNY",
        "financing_in_place": "CNY",
        "credentials_funded": "CNY",
        "expected_loss": "CNY",
    }
    for i, measure_key in enumerate([c.key for c in CRITERIA] + list(INFORMATIONAL)):
        unit = units.get(measure_key, "rate" if "rate" in measure_key else "count")
        value: float | None = {
            "share": 0.1 + 0.07 * ((i + seed) % 12),
            "index": 0.05 * (i + seed),
            "count": float(3 + (i * seed) % 40),
            "rate": 0.01 * ((i + seed) % 9),
            "score": 1.0 if seed % 2 else 0.75,
            "CNY": 123_456_789.0 * (seed + 1) / 7,  # yuan, as measures give money
        }[unit]
        basis = "data"
        if measure_key == "local_supporting_rate" and seed == 2:
            basis = "fallback"
        if measure_key == "financing_gap" and seed == 3:
            value, basis = None, "missing"
        values[measure_key] = Measure(measure_key, value, unit, basis)
    return ChainMeasures(key, name, kind, "yrd", values)


def _segment(
    stage: str, division: str, zh: str, en: str, count: int, critical: bool = False
) -> SegmentNode:
    return SegmentNode(stage, division, zh, en, "", critical, count, count >= 3, count == 1)


def _map(key: str, name: str, kind: str) -> ChainMap:
    segments = (
        _segment(
            "upstream", "C26", "化学原料和化学制品制造业", "Chemical materials and products", 7
        ),
        _segment(
            "upstream",
            "C32",
            "有色金属冶炼和压延加工业",
            "Smelting and pressing of non-ferrous metals",
            1,
            critical=True,
        ),
        _segment("upstream", "C30", "非金属矿物制品业", "Non-metallic mineral products", 0),
        _segment(
            "midstream",
            "C38",
            "电气机械和器材制造业",
            "Electrical machinery and equipment",
            12,
            critical=True,
        ),
        _segment("midstream", "C36", "汽车制造业", "Motor vehicles", 4),
        _segment("downstream", "F52", "零售业", "Retail trade", 2),
    )
    firms = tuple(
        MapFirm(
            f"91320500MA{i:08d}",
            f"苏州配套企业{i}号有限公司",
            "320505",
            "C38",
            "supplier",
            "upstream",
            1 + i % 3,
            "upstream",
            i % 4 != 0,
            i % 5 == 0,
        )
        for i in range(9)
    )
    links = tuple(
        MapLink(firms[i].uscc, firms[0].uscc, "platform_trade", date(2026, 6, 1), 29, "fresh")
        for i in range(1, 9)
    )
    coverage = Coverage(
        0.75,
        ("enterprises", "relations", "trade_flows"),
        ("financials",),
        ("无财务数据：营运资金需求按交易流估算。",),
    )
    return ChainMap(key, name, kind, "yrd", AS_OF, segments, firms, links, 0.82, "fresh", coverage)


def _leads(key: str) -> tuple[Lead, ...]:
    return tuple(
        Lead(
            f"91320500MB{i:08d}",
            f"{key} 潜在客户 {i} 号精密制造有限公司",
            "320505",
            "C38",
            "upstream",
            1 + i % 2,
            ("91320500MA00000000",),
            8_765_432_100 // (i + 1),
            0.93,
            1_234_567_800 // (i + 1),
            500_000_000,
            90.0 - 7 * i,
            ("与核心企业交易稳定",),
        )
        for i in range(6)
    )


def make_report(
    lang: str = "zh_CN", *, chains: int = len(CHAINS), maps: int = 2, long_name: str | None = None
) -> StrategyReport:
    rows = list(CHAINS[:chains])
    if long_name is not None and rows:
        rows[0] = (rows[0][0], long_name, *rows[0][2:])
    ranked = tuple(RankedChain(*row[:10], reason=row[10]) for row in rows)
    if chains == len(CHAINS):
        ranked += (
            RankedChain(
                "yrd-tob",
                "长三角烟草链",
                "tobacco",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                ("限制类行业：烟草",),
            ),
        )
    coverage = Coverage(
        0.83,
        ("enterprises", "relations", "trade_flows"),
        ("financials", "policies"),
        ("政策名单未提供：政策优先度记为缺失。",),
    )
    ranking = Ranking(
        "yrd", AS_OF, tuple(c.key for c in CRITERIA), _weights(), ranked, 500, 0.2, 17, coverage
    )
    measures = tuple(_measures(r[0], r[1], r[2], i) for i, r in enumerate(rows))
    chain_maps = tuple(_map(r[0], r[1], r[2]) for r in rows[:maps])
    return StrategyReport(
        bank="示范城市商业银行",
        region="yrd",
        region_label="长三角",
        as_of=AS_OF,
        generated_on=GENERATED_ON,
        lang=lang,
        ranking=ranking,
        measures=measures,
        maps=chain_maps,
        leads={m.chain_key: _leads(m.chain_key) for m in chain_maps},
        sources={"enterprises": "enterprises.csv (2026-06-30)", "relations": "relations.csv"},
        missing=("financials", "policies"),
    )


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_the_report_is_a_pdf() -> None:
    assert render_pdf(make_report()).startswith(b"%PDF-")


def test_one_page_per_section_and_one_per_chain_map() -> None:
    # cover, ranking, quadrant, measures, 2 maps, definitions, sources
    assert page_count(render_pdf(make_report(maps=2))) == 8
    assert page_count(render_pdf(make_report(maps=0))) == 6


def test_the_same_report_renders_to_the_same_bytes() -> None:
    assert render_pdf(make_report()) == render_pdf(make_report())


def test_the_document_is_dated_by_the_report_not_the_clock() -> None:
    pdf = render_pdf(make_report())
    assert b"/CreationDate (D:20260702000000+00'00')" in pdf
    later = render_pdf(dataclasses.replace(make_report(), generated_on=date(2026, 7, 3)))
    assert b"D:20260703" in later


def test_chinese_uses_the_stsong_cid_font_without_embedding_a_font_file() -> None:
    pdf = render_pdf(make_report("zh_CN"))
    assert b"/BaseFont /STSong-Light" in pdf
    assert b"/FontFile" not in pdf


def test_english_and_chinese_reports_differ() -> None:
    zh, en = render_pdf(make_report("zh_CN")), render_pdf(make_report("en"))
    assert en.startswith(b"%PDF-")
    assert zh != en
    assert page_count(en) == page_count(zh)


def test_an_empty_ranking_still_renders_and_says_there_is_nothing_to_rank() -> None:
    pdf = render_pdf(make_report("en", chains=0, maps=0))
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 6
    assert "There is nothing to rank" in _text_of(pdf)


LONG_NAME = "长三角高端装备与新能源汽车动力电池及储能系统暨智能网联汽车零部件配套产业链"


def test_very_long_names_wrap_onto_more_lines_within_the_table() -> None:
    pdf = render_pdf(make_report(long_name=LONG_NAME))
    assert page_count(pdf) == 8
    lines = _text_of(pdf).splitlines()
    # The whole name is there, over several lines, not cut.
    assert LONG_NAME not in lines
    assert LONG_NAME in "".join(line.strip() for line in lines)


def test_a_name_too_long_for_one_page_spills_onto_the_next_instead_of_overflowing() -> None:
    huge = "长三角" + "高端装备与新能源汽车动力电池及储能系统" * 6 + "产业链"
    assert page_count(render_pdf(make_report(long_name=huge))) > 8


def test_a_segment_tree_longer_than_a_page_continues_on_the_next_page() -> None:
    report = make_report(maps=1)
    many = tuple(
        _segment("upstream", f"C{n}", f"制造业第{n}类", f"Manufacturing {n}", n % 5)
        for n in range(13, 73)
    )
    chain_map = dataclasses.replace(report.maps[0], segments=many)
    pdf = render_pdf(dataclasses.replace(report, maps=(chain_map,)))
    assert page_count(pdf) > 7


def test_amounts_are_in_wan_and_fallback_values_carry_a_dagger() -> None:
    lines = _text_of(render_pdf(make_report("en"))).splitlines()
    assert "8,765.4" in lines  # the first lead's 87,654,321.00 yuan of trade, in 万元
    assert "1,763.7" in lines  # a financing gap of 17,636,684.14 yuan, in 万元
    assert "31.0% †" in lines  # local supporting rate from the input-output table


def test_a_map_whose_coverage_is_partial_says_it_is_not_complete() -> None:
    text = _text_of(render_pdf(make_report("en")))
    assert "This map is not complete" in text
    assert "No chain map is complete when its coverage says otherwise." in text


def _poppler(tool: str) -> str:
    """The poppler tool's path; a skip with the reason when it is missing, a failure under
    CI=true (.ci/run installs poppler-utils)."""
    found = shutil.which(tool)
    if found is None:
        why = f"poppler's {tool} is not installed (apt-get install poppler-utils poppler-data)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{why}; CI=true: a missing tool is a failure")
        pytest.skip(why)
    return found


def _text_of(pdf: bytes) -> str:
    pdftotext = _poppler("pdftotext")
    done = subprocess.run([pdftotext, "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_page_rasterises_to_a_page_that_is_not_blank(lang: str, tmp_path: Path) -> None:
    pdf_path = tmp_path / "report.pdf"
    pdf_path.write_bytes(render_pdf(make_report(lang)))
    subprocess.run(
        [_poppler("pdftoppm"), "-r", "80", "-png", str(pdf_path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 8
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tag = lang.replace("_", "-")  # as the browser tests name theirs: zh-CN, en
    for n, page in enumerate(pages, start=1):
        target = SCREENSHOTS / f"strategy-report-{tag}-{n}.png"
        shutil.copyfile(page, target)
        with Image.open(io.BytesIO(target.read_bytes())) as image:
            spread = ImageStat.Stat(image.convert("L")).stddev[0]
        assert spread > 5, f"page {n} looks blank"
