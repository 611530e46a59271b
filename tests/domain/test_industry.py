"""GB/T 4754-2017 sections and divisions: the table, parsing, and every rejection."""

from __future__ import annotations

import pytest

from chainfin.domain.industry import (
    Industry,
    IndustryLevel,
    UnknownIndustry,
    check_industry_code,
    divisions,
    parse_industry_code,
    sections,
)

# The official division ranges of each section, written out independently of the module.
SECTION_RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}


def test_there_are_20_sections_a_to_t() -> None:
    found = sections()
    assert [s.code for s in found] == list("ABCDEFGHIJKLMNOPQRST")
    assert all(s.level is IndustryLevel.SECTION and s.division is None for s in found)


def test_there_are_97_divisions_01_to_97() -> None:
    found = divisions()
    assert len(found) == 97
    assert [d.division for d in found] == [f"{n:02d}" for n in range(1, 98)]
    assert all(d.level is IndustryLevel.DIVISION for d in found)


@pytest.mark.parametrize(("section", "span"), SECTION_RANGES.items())
def test_every_division_is_in_its_official_section(section: str, span: tuple[int, int]) -> None:
    first, last = span
    expected = [f"{section}{n:02d}" for n in range(first, last + 1)]
    assert [d.code for d in divisions(section)] == expected
    assert all(d.section == section for d in divisions(section))


def test_every_entry_has_both_names() -> None:
    for entry in [*sections(), *divisions()]:
        assert entry.name_zh.strip() == entry.name_zh != ""
        assert entry.name_en.strip() == entry.name_en != ""
    assert len({d.name_zh for d in divisions()}) == 97


@pytest.mark.parametrize(
    ("code", "name_zh", "name_en"),
    [
        ("A05", "农、林、牧、渔专业及辅助性活动", None),
        ("B11", "开采专业及辅助性活动", None),
        ("C25", "石油、煤炭及其他燃料加工业", None),
        ("C27", "医药制造业", "Manufacture of Medicines"),
        ("C36", "汽车制造业", "Manufacture of Automobiles"),
        ("C38", "电气机械和器材制造业", "Manufacture of Electrical Machinery and Apparatus"),
        (
            "C39",
            "计算机、通信和其他电子设备制造业",
            "Manufacture of Computers, Communication and Other Electronic Equipment",
        ),
        ("E50", "建筑装饰、装修和其他建筑业", None),
        ("G58", "多式联运和运输代理业", None),
        ("G59", "装卸搬运和仓储业", None),
        ("I65", "软件和信息技术服务业", "Software and Information Technology Services"),
        ("K70", "房地产业", "Real Estate"),
        ("N79", "土地管理业", None),
        ("R87", "广播、电视、电影和录音制作业", None),
        ("S96", "基层群众自治组织及其他组织", None),
        ("C", "制造业", "Manufacturing"),
        ("D", "电力、热力、燃气及水生产和供应业", None),
        ("I", "信息传输、软件和信息技术服务业", None),
    ],
)
def test_names(code: str, name_zh: str, name_en: str | None) -> None:
    industry = parse_industry_code(code)
    assert industry.name_zh == name_zh
    if name_en is not None:
        assert industry.name_en == name_en


@pytest.mark.parametrize("text", ["C36", "c36", "36", "C 36", " c 36 ", "C-36", "Ｃ３６"])
def test_division_spellings(text: str) -> None:
    assert parse_industry_code(text) == Industry(
        code="C36",
        section="C",
        division="36",
        name_zh="汽车制造业",
        name_en="Manufacture of Automobiles",
        level=IndustryLevel.DIVISION,
    )


@pytest.mark.parametrize("text", ["C", "c", " C "])
def test_section_spellings(text: str) -> None:
    industry = parse_industry_code(text)
    assert (industry.code, industry.section, industry.division) == ("C", "C", None)
    assert industry.level is IndustryLevel.SECTION


def test_leading_zero_divisions_and_single_division_sections() -> None:
    assert parse_industry_code("01").code == "A01"
    assert parse_industry_code("T97").name_zh == "国际组织"
    assert parse_industry_code("70").code == "K70"


# Every rejection, in the order parse_industry_code checks them.
REJECTIONS = [
    ("", "'' is not an industry code: expected a section letter A-T"),
    ("   ", "'   ' is not an industry code"),
    ("36C", "'36C' is not an industry code"),
    ("CC36", "'CC36' is not an industry code"),
    ("C3.6", "'C3.6' is not an industry code"),
    ("Z", "there is no section Z in GB/T 4754-2017 (sections are A-T)"),
    ("U", "there is no section U"),
    (
        "C361",
        "'C361' is a group or class code; give the section and two-digit division, like 'C36'",
    ),
    ("3611", "'3611' is a group or class code; give the section and two-digit division, like '36'"),
    ("C3", "'C3': a division has exactly two digits"),
    ("C36111", "'C36111': a division has exactly two digits"),
    ("00", "there is no division 00 in GB/T 4754-2017 (divisions are 01-97)"),
    ("98", "there is no division 98"),
    ("A36", "division 36 belongs to section C (制造业), not A"),
    ("Z36", "division 36 belongs to section C (制造业), not Z"),
    ("F53", "division 53 belongs to section G (交通运输、仓储和邮政业), not F"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTIONS)
def test_rejections(text: str, reason: str) -> None:
    with pytest.raises(UnknownIndustry) as caught:
        parse_industry_code(text)
    assert str(caught.value).startswith(reason)


def test_unknown_industry_is_a_lookup_error() -> None:
    assert issubclass(UnknownIndustry, LookupError)


def test_divisions_of_a_section_accepts_lowercase_and_rejects_unknown() -> None:
    assert [d.code for d in divisions("f")] == ["F51", "F52"]
    with pytest.raises(UnknownIndustry, match="there is no section Z"):
        divisions("Z")


@pytest.mark.parametrize(
    ("text", "require_division", "reason"),
    [
        ("C36", True, None),
        ("36", True, None),
        ("C", False, None),
        ("C", True, "section C (制造业) is too broad: give a division, C13-C43"),
        ("T", True, "section T (国际组织) is too broad: give a division, T97"),
        ("A36", True, "division 36 belongs to section C (制造业), not A"),
        ("98", False, "there is no division 98 in GB/T 4754-2017 (divisions are 01-97)"),
    ],
)
def test_check_industry_code(text: str, require_division: bool, reason: str | None) -> None:
    assert check_industry_code(text, require_division=require_division) == reason


def test_industry_is_frozen() -> None:
    industry = parse_industry_code("C36")
    with pytest.raises(AttributeError):
        industry.code = "C37"  # type: ignore[misc]
    assert str(industry) == "C36 汽车制造业"
