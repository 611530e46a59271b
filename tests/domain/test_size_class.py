"""Enterprise size class under 工信部联企业〔2011〕300号 and 国统字〔2017〕213号.

The bounds below are copied from the published tables, independently of the module, and every
boundary is tested exactly at the bound and one unit (one person, one fen) below it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.domain.errors import ChainfinError
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.money import Money
from chainfin.domain.size_class import (
    STANDARD_CITATION,
    Sector,
    SizeClass,
    SizeClassError,
    classify,
    sector_of,
)
from propbudget import budget

LARGE, MEDIUM, SMALL, MICRO = SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO
FEN_PER_WAN = 1_000_000


def wan(amount: int, fen: int = 0) -> Money:
    """``amount`` 万元 plus ``fen`` fen, in CNY."""
    return Money(amount * FEN_PER_WAN + fen, "CNY")


@dataclass(frozen=True)
class Group:
    """One 300号 group as published: bounds (大型, 中型, 小型) per indicator; persons or 万元."""

    sector: Sector
    industry: str
    group_code: str | None = None
    employees: tuple[int, int, int] | None = None
    revenue: tuple[int, int, int] | None = None
    total_assets: tuple[int, int, int] | None = None


GROUPS = [
    Group(Sector.AGRICULTURE, "A01", revenue=(20000, 500, 50)),
    Group(Sector.INDUSTRY, "C36", employees=(1000, 300, 20), revenue=(40000, 2000, 300)),
    Group(Sector.CONSTRUCTION, "E47", revenue=(80000, 6000, 300), total_assets=(80000, 5000, 300)),
    Group(Sector.WHOLESALE, "F51", employees=(200, 20, 5), revenue=(40000, 5000, 1000)),
    Group(Sector.RETAIL, "F52", employees=(300, 50, 10), revenue=(20000, 500, 100)),
    Group(Sector.TRANSPORT, "G54", employees=(1000, 300, 20), revenue=(30000, 3000, 200)),
    Group(Sector.WAREHOUSING, "G59", employees=(200, 100, 20), revenue=(30000, 1000, 100)),
    Group(Sector.POSTAL, "G60", employees=(1000, 300, 20), revenue=(30000, 2000, 100)),
    Group(Sector.ACCOMMODATION, "H61", employees=(300, 100, 10), revenue=(10000, 2000, 100)),
    Group(Sector.CATERING, "H62", employees=(300, 100, 10), revenue=(10000, 2000, 100)),
    Group(
        Sector.INFORMATION_TRANSMISSION,
        "I63",
        employees=(2000, 100, 10),
        revenue=(100000, 1000, 100),
    ),
    Group(Sector.SOFTWARE_IT, "I65", employees=(300, 100, 10), revenue=(10000, 1000, 50)),
    Group(
        Sector.REAL_ESTATE_DEVELOPMENT,
        "K70",
        revenue=(200000, 1000, 100),
        total_assets=(10000, 5000, 2000),
    ),
    Group(
        Sector.PROPERTY_MANAGEMENT,
        "K70",
        "702",
        employees=(1000, 300, 100),
        revenue=(5000, 1000, 500),
    ),
    Group(
        Sector.LEASING_BUSINESS, "L72", employees=(300, 100, 10), total_assets=(120000, 8000, 100)
    ),
    Group(Sector.OTHER, "M73", employees=(300, 100, 10)),
]
INDICATORS = ("employees", "revenue", "total_assets")
RANKED = (MICRO, SMALL, MEDIUM, LARGE)


@dataclass(frozen=True)
class Case:
    group: Group
    employees: int | None
    revenue: Money | None
    total_assets: Money | None
    expected: SizeClass
    why: str


def _at(group: Group, size: SizeClass, lowered: str | None = None) -> Case:
    """Every indicator exactly at ``size``'s lower bound, ``lowered`` one unit below it."""
    column = {LARGE: 0, MEDIUM: 1, SMALL: 2}[size]
    values: dict[str, int | Money | None] = {}
    for name in INDICATORS:
        bounds = getattr(group, name)
        if bounds is None:
            values[name] = None
            continue
        below = -1 if name == lowered else 0
        bound = bounds[column]
        values[name] = bound + below if name == "employees" else wan(bound, below)
    expected = size if lowered is None else RANKED[RANKED.index(size) - 1]
    why = f"{group.sector.name} at {size} bounds" + (f", {lowered} one below" if lowered else "")
    employees = values["employees"]
    revenue = values["revenue"]
    assets = values["total_assets"]
    assert employees is None or isinstance(employees, int)
    assert revenue is None or isinstance(revenue, Money)
    assert assets is None or isinstance(assets, Money)
    return Case(group, employees, revenue, assets, expected, why)


def _boundary_cases() -> list[Case]:
    cases = []
    for group in GROUPS:
        used = [name for name in INDICATORS if getattr(group, name) is not None]
        for size in (LARGE, MEDIUM, SMALL):
            cases.append(_at(group, size))
            cases.extend(_at(group, size, lowered=name) for name in used)
    return cases


BOUNDARY_CASES = _boundary_cases()


def test_the_table_covers_all_16_groups() -> None:
    assert {g.sector for g in GROUPS} == set(Sector)
    assert len(Sector) == 16


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=[c.why for c in BOUNDARY_CASES])
def test_boundaries(case: Case) -> None:
    result = classify(
        case.group.industry,
        employees=case.employees,
        revenue=case.revenue,
        total_assets=case.total_assets,
        group_code=case.group.group_code,
    )
    assert (result.size_class, result.sector) == (case.expected, case.group.sector)
    assert result.standard == STANDARD_CITATION


# 工业 (C36): 从业人员 (1000, 300, 20), 营业收入 (40000, 2000, 300) 万元.
# (employees, revenue, class, rule) — each a rule the NBS states, in words.
INDUSTRY_CASES = [
    # Meets all lower bounds of a class.
    (350, wan(5000), MEDIUM, "工业: 从业人员 350 ≥ 300 且 营业收入 5000万元 ≥ 2000万元 → 中型"),
    (
        1000,
        wan(40000),
        LARGE,
        "工业: 从业人员 1000 ≥ 1000 且 营业收入 40000万元 ≥ 40000万元 → 大型",
    ),
    # Must meet ALL: large employees with medium revenue drops to medium.
    (
        1200,
        wan(5000),
        MEDIUM,
        "工业: 从业人员 1200 ≥ 300 且 营业收入 5000万元 ≥ 2000万元 → 中型"
        "（营业收入 5000万元 < 40000万元，未达大型）",
    ),
    # ... and keeps dropping: large employees with small revenue is small.
    (
        5000,
        wan(1999),
        SMALL,
        "工业: 从业人员 5000 ≥ 20 且 营业收入 1999万元 ≥ 300万元 → 小型"
        "（营业收入 1999万元 < 2000万元，未达中型）",
    ),
    # Micro needs one indicator below the small bound.
    (19, wan(90000), MICRO, "工业: 从业人员 19 < 20 → 微型"),
    (5000, wan(299, 999_999), MICRO, "工业: 营业收入 299.999999万元 < 300万元 → 微型"),
    (0, wan(0), MICRO, "工业: 从业人员 0 < 20 或 营业收入 0万元 < 300万元 → 微型"),
]


@pytest.mark.parametrize(("employees", "revenue", "expected", "rule"), INDUSTRY_CASES)
def test_industry_rules(employees: int, revenue: Money, expected: SizeClass, rule: str) -> None:
    result = classify("C36", employees=employees, revenue=revenue)
    assert (result.size_class, result.rule) == (expected, rule)


def test_single_indicator_groups_use_it_alone() -> None:
    farm = classify("A", employees=None, revenue=wan(20000))
    assert farm.rule == "农、林、牧、渔业: 营业收入 20000万元 ≥ 20000万元 → 大型"
    other = classify("M73", employees=9, revenue=None)
    assert other.rule == "其他未列明行业: 从业人员 9 < 10 → 微型"


def test_indicators_a_group_does_not_use_are_ignored() -> None:
    usd = Money(1, "USD")
    result = classify("A01", employees=-1, revenue=wan(50), total_assets=usd)
    assert result.size_class is SMALL


# Division -> 300号 group; None where the rules do not cover the division.
def _expected_sector(number: int) -> Sector | None:
    spans = [
        (1, 5, Sector.AGRICULTURE),
        (6, 46, Sector.INDUSTRY),
        (47, 50, Sector.CONSTRUCTION),
        (51, 51, Sector.WHOLESALE),
        (52, 52, Sector.RETAIL),
        (53, 53, None),
        (54, 58, Sector.TRANSPORT),
        (59, 59, Sector.WAREHOUSING),
        (60, 60, Sector.POSTAL),
        (61, 61, Sector.ACCOMMODATION),
        (62, 62, Sector.CATERING),
        (63, 64, Sector.INFORMATION_TRANSMISSION),
        (65, 65, Sector.SOFTWARE_IT),
        (66, 69, None),
        (70, 70, Sector.REAL_ESTATE_DEVELOPMENT),
        (71, 72, Sector.LEASING_BUSINESS),
        (73, 90, Sector.OTHER),
        (91, 97, None),
    ]
    return next(sector for low, high, sector in spans if low <= number <= high)


@pytest.mark.parametrize("number", range(1, 98))
def test_every_division_maps_to_its_group(number: int) -> None:
    code = f"{number:02d}"
    expected = _expected_sector(number)
    if expected is None:
        with pytest.raises(SizeClassError):
            sector_of(code)
    else:
        assert sector_of(code) is expected


@pytest.mark.parametrize(
    ("industry", "group_code", "expected"),
    [
        ("G59", "591", Sector.TRANSPORT),
        ("G59", "592", Sector.WAREHOUSING),
        ("G59", "599", Sector.WAREHOUSING),
        ("K70", None, Sector.REAL_ESTATE_DEVELOPMENT),
        ("K70", "701", Sector.REAL_ESTATE_DEVELOPMENT),
        ("K70", "7010", Sector.REAL_ESTATE_DEVELOPMENT),
        ("K70", "702", Sector.PROPERTY_MANAGEMENT),
        ("K", "702", Sector.PROPERTY_MANAGEMENT),
        ("K70", "703", Sector.OTHER),
        ("K70", "709", Sector.OTHER),
        ("C36", "361", Sector.INDUSTRY),
        ("C", None, Sector.INDUSTRY),
        ("L", None, Sector.LEASING_BUSINESS),
        ("Q", None, Sector.OTHER),
    ],
)
def test_groups_and_sections(industry: str, group_code: str | None, expected: Sector) -> None:
    assert sector_of(industry, group_code=group_code) is expected


def test_accepts_a_parsed_industry() -> None:
    result = classify(parse_industry_code("I65"), employees=10, revenue=wan(50))
    assert (result.size_class, result.sector) == (SMALL, "软件和信息技术服务业")


# Every rejection, in order of precedence: (industry, group_code, employees, revenue,
# total_assets, message). Each row also satisfies every check that comes before it.
REJECTIONS = [
    ("C36", "36x", 1, None, None, "group_code '36x' is not a 3-digit GB/T 4754 group"),
    ("K70", "591", 1, None, None, "group 591 is not in division K70"),
    ("G59", "597", 1, None, None, "group 597 is not a GB/T 4754-2017 group of G59"),
    ("G53", None, 1, None, None, "G53 铁路运输业 is excluded from 交通运输业 by 300号"),
    ("J66", None, 1, None, None, "J 金融业 is classified under 《金融业企业划型标准规定》"),
    ("S92", None, 1, None, None, "S 公共管理、社会保障和社会组织 are not enterprises"),
    ("T", None, 1, None, None, "T 国际组织 are not enterprises"),
    ("K70", "704", 1, None, None, "704 房地产租赁经营 (自有房地产经营活动) is excluded"),
    ("G", None, 1, None, None, "section G (交通运输、仓储和邮政业) spans several size groups"),
    ("C36", None, None, None, None, "从业人员 (employees) is missing; 工业 is classified by"),
    ("C36", None, -1, None, None, "从业人员 (employees) cannot be negative"),
    ("C36", None, 1, None, None, "营业收入 (revenue) is missing; 工业 is classified by"),
    ("C36", None, 1, Money(1, "USD"), None, "营业收入 (revenue) must be in CNY, not USD"),
    ("C36", None, 1, Money(-1, "CNY"), None, "营业收入 (revenue) cannot be negative"),
    ("E47", None, None, None, None, "营业收入 (revenue) is missing; 建筑业 is classified by"),
    ("E47", None, None, wan(1), None, "资产总额 (total_assets) is missing; 建筑业"),
    ("E47", None, None, wan(1), Money(1, "HKD"), "资产总额 (total_assets) must be in CNY"),
    ("L72", None, 5, None, None, "资产总额 (total_assets) is missing; 租赁和商务服务业"),
    ("A01", None, 5, None, None, "营业收入 (revenue) is missing; 农、林、牧、渔业"),
    ("M73", None, None, wan(1), wan(1), "从业人员 (employees) is missing; 其他未列明行业"),
]


@pytest.mark.parametrize(
    ("industry", "group_code", "employees", "revenue", "total_assets", "message"), REJECTIONS
)
def test_rejections(
    industry: str,
    group_code: str | None,
    employees: int | None,
    revenue: Money | None,
    total_assets: Money | None,
    message: str,
) -> None:
    with pytest.raises(SizeClassError) as caught:
        classify(
            industry,
            employees=employees,
            revenue=revenue,
            total_assets=total_assets,
            group_code=group_code,
        )
    assert caught.value.message.startswith(message)


def test_missing_indicator_message_names_the_sector_and_what_it_needs() -> None:
    with pytest.raises(SizeClassError) as caught:
        classify("F51", employees=3, revenue=None)
    assert caught.value.message == (
        "营业收入 (revenue) is missing; 批发业 is classified by 从业人员 and 营业收入"
    )


def test_a_bad_industry_code_is_an_unknown_industry() -> None:
    with pytest.raises(UnknownIndustry, match="division 36 belongs to section C"):
        classify("A36", employees=1, revenue=wan(1))


def test_size_class_error_is_a_typed_422() -> None:
    assert issubclass(SizeClassError, ChainfinError)
    assert (SizeClassError.code, SizeClassError.status) == ("size_class_undetermined", 422)


def test_labels_and_order() -> None:
    assert [s.label_zh for s in SizeClass] == ["大型", "中型", "小型", "微型"]
    assert [s.value for s in SizeClass] == ["large", "medium", "small", "micro"]
    assert [s.rank for s in RANKED] == [0, 1, 2, 3]


def test_citation_names_both_documents() -> None:
    assert "工信部联企业〔2011〕300号" in STANDARD_CITATION
    assert "国统字〔2017〕213号" in STANDARD_CITATION


# Monotone: more employees, revenue or assets never gives a smaller class.
_MAX_FEN = 300_000 * FEN_PER_WAN  # above every published bound


@settings(max_examples=budget(300), database=None)
@given(
    group=st.sampled_from(GROUPS),
    employees=st.integers(0, 3000),
    revenue_fen=st.integers(0, _MAX_FEN),
    assets_fen=st.integers(0, _MAX_FEN),
    more_employees=st.integers(0, 3000),
    more_revenue_fen=st.integers(0, _MAX_FEN),
    more_assets_fen=st.integers(0, _MAX_FEN),
)
def test_classification_is_monotone(
    group: Group,
    employees: int,
    revenue_fen: int,
    assets_fen: int,
    more_employees: int,
    more_revenue_fen: int,
    more_assets_fen: int,
) -> None:
    def size(extra_employees: int, extra_revenue: int, extra_assets: int) -> int:
        result = classify(
            group.industry,
            employees=employees + extra_employees,
            revenue=Money(revenue_fen + extra_revenue, "CNY"),
            total_assets=Money(assets_fen + extra_assets, "CNY"),
            group_code=group.group_code,
        )
        return result.size_class.rank

    base = size(0, 0, 0)
    assert size(more_employees, 0, 0) >= base
    assert size(0, more_revenue_fen, 0) >= base
    assert size(0, 0, more_assets_fen) >= base
    assert size(more_employees, more_revenue_fen, more_assets_fen) >= base


def test_uncovered_industries_say_what_to_do() -> None:
    with pytest.raises(SizeClassError) as caught:
        classify("G53", employees=5000, revenue=wan(90000))
    assert "documented bank policy" in caught.value.diagnostics()
