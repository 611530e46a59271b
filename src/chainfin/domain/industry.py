"""国民经济行业分类 (Industrial classification for national economic activities, GB/T 4754-2017).

The standard has four levels: 门类 section (a letter A-T), 大类 division (two digits 01-97),
中类 group (three digits) and 小类 class (four digits). We carry the 20 sections and the 97
divisions, the level an enterprise record and the SME size rules need. Amendment No. 1 (2019)
changed classes only, not divisions, so the table below is current.

A canonical code is a section letter (``"C"``) or a letter plus a division (``"C36"``); the
letter is redundant but makes a code readable at a glance, so a given letter must agree.

English names follow the translation the National Bureau of Statistics uses in the China
Statistical Yearbook where one exists; the Chinese name is the authoritative one.

>>> parse_industry_code("c 36").name_zh
'汽车制造业'
>>> parse_industry_code("36").code
'C36'
>>> parse_industry_code("A36")
Traceback (most recent call last):
...
chainfin.domain.industry.UnknownIndustry: division 36 belongs to section C (制造业), not A
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

STANDARD = "GB/T 4754-2017"

# (letter, Chinese name, English name)
_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("A", "农、林、牧、渔业", "Agriculture, Forestry, Animal Husbandry and Fishery"),
    ("B", "采矿业", "Mining"),
    ("C", "制造业", "Manufacturing"),
    (
        "D",
        "电力、热力、燃气及水生产和供应业",
        "Production and Supply of Electricity, Heat, Gas and Water",
    ),
    ("E", "建筑业", "Construction"),
    ("F", "批发和零售业", "Wholesale and Retail Trades"),
    ("G", "交通运输、仓储和邮政业", "Transport, Storage and Post"),
    ("H", "住宿和餐饮业", "Hotels and Catering Services"),
    (
        "I",
        "信息传输、软件和信息技术服务业",
        "Information Transmission, Software and Information Technology",
    ),
    ("J", "金融业", "Financial Intermediation"),
    ("K", "房地产业", "Real Estate"),
    ("L", "租赁和商务服务业", "Leasing and Business Services"),
    ("M", "科学研究和技术服务业", "Scientific Research and Technical Services"),
    (
        "N",
        "水利、环境和公共设施管理业",
        "Management of Water Conservancy, Environment and Public Facilities",
    ),
    ("O", "居民服务、修理和其他服务业", "Services to Households, Repair and Other Services"),
    ("P", "教育", "Education"),
    ("Q", "卫生和社会工作", "Health and Social Work"),
    ("R", "文化、体育和娱乐业", "Culture, Sports and Entertainment"),
    (
        "S",
        "公共管理、社会保障和社会组织",
        "Public Management, Social Security and Social Organizations",
    ),
    ("T", "国际组织", "International Organizations"),
)

# (letter, division, Chinese name, English name)
_DIVISIONS: tuple[tuple[str, str, str, str], ...] = (
    ("A", "01", "农业", "Agriculture"),
    ("A", "02", "林业", "Forestry"),
    ("A", "03", "畜牧业", "Animal Husbandry"),
    ("A", "04", "渔业", "Fishery"),
    (
        "A",
        "05",
        "农、林、牧、渔专业及辅助性活动",
        "Professional and Support Activities for Agriculture, Forestry, Animal Husbandry"
        " and Fishery",
    ),
    ("B", "06", "煤炭开采和洗选业", "Mining and Washing of Coal"),
    ("B", "07", "石油和天然气开采业", "Extraction of Petroleum and Natural Gas"),
    ("B", "08", "黑色金属矿采选业", "Mining and Processing of Ferrous Metal Ores"),
    ("B", "09", "有色金属矿采选业", "Mining and Processing of Non-ferrous Metal Ores"),
    ("B", "10", "非金属矿采选业", "Mining and Processing of Non-metal Ores"),
    ("B", "11", "开采专业及辅助性活动", "Professional and Support Activities for Mining"),
    ("B", "12", "其他采矿业", "Mining of Other Ores"),
    ("C", "13", "农副食品加工业", "Processing of Food from Agricultural Products"),
    ("C", "14", "食品制造业", "Manufacture of Foods"),
    ("C", "15", "酒、饮料和精制茶制造业", "Manufacture of Liquor, Beverages and Refined Tea"),
    ("C", "16", "烟草制品业", "Manufacture of Tobacco"),
    ("C", "17", "纺织业", "Manufacture of Textile"),
    ("C", "18", "纺织服装、服饰业", "Manufacture of Textile, Wearing Apparel and Accessories"),
    (
        "C",
        "19",
        "皮革、毛皮、羽毛及其制品和制鞋业",
        "Manufacture of Leather, Fur, Feather and Related Products and Footwear",
    ),
    (
        "C",
        "20",
        "木材加工和木、竹、藤、棕、草制品业",
        "Processing of Timber, Manufacture of Wood, Bamboo, Rattan, Palm and Straw Products",
    ),
    ("C", "21", "家具制造业", "Manufacture of Furniture"),
    ("C", "22", "造纸和纸制品业", "Manufacture of Paper and Paper Products"),
    ("C", "23", "印刷和记录媒介复制业", "Printing and Reproduction of Recording Media"),
    (
        "C",
        "24",
        "文教、工美、体育和娱乐用品制造业",
        "Manufacture of Articles for Culture, Education, Arts and Crafts, Sport and Entertainment"
        " Activities",
    ),
    ("C", "25", "石油、煤炭及其他燃料加工业", "Processing of Petroleum, Coal and Other Fuels"),
    (
        "C",
        "26",
        "化学原料和化学制品制造业",
        "Manufacture of Raw Chemical Materials and Chemical Products",
    ),
    ("C", "27", "医药制造业", "Manufacture of Medicines"),
    ("C", "28", "化学纤维制造业", "Manufacture of Chemical Fibers"),
    ("C", "29", "橡胶和塑料制品业", "Manufacture of Rubber and Plastics Products"),
    ("C", "30", "非金属矿物制品业", "Manufacture of Non-metallic Mineral Products"),
    ("C", "31", "黑色金属冶炼和压延加工业", "Smelting and Pressing of Ferrous Metals"),
    ("C", "32", "有色金属冶炼和压延加工业", "Smelting and Pressing of Non-ferrous Metals"),
    ("C", "33", "金属制品业", "Manufacture of Metal Products"),
    ("C", "34", "通用设备制造业", "Manufacture of General Purpose Machinery"),
    ("C", "35", "专用设备制造业", "Manufacture of Special Purpose Machinery"),
    ("C", "36", "汽车制造业", "Manufacture of Automobiles"),
    (
        "C",
        "37",
        "铁路、船舶、航空航天和其他运输设备制造业",
        "Manufacture of Railway, Ship, Aerospace and Other Transport Equipment",
    ),
    ("C", "38", "电气机械和器材制造业", "Manufacture of Electrical Machinery and Apparatus"),
    (
        "C",
        "39",
        "计算机、通信和其他电子设备制造业",
        "Manufacture of Computers, Communication and Other Electronic Equipment",
    ),
    ("C", "40", "仪器仪表制造业", "Manufacture of Measuring Instruments"),
    ("C", "41", "其他制造业", "Other Manufacture"),
    ("C", "42", "废弃资源综合利用业", "Utilization of Waste Resources"),
    (
        "C",
        "43",
        "金属制品、机械和设备修理业",
        "Repair Service of Metal Products, Machinery and Equipment",
    ),
    ("D", "44", "电力、热力生产和供应业", "Production and Supply of Electric Power and Heat Power"),
    ("D", "45", "燃气生产和供应业", "Production and Supply of Gas"),
    ("D", "46", "水的生产和供应业", "Production and Supply of Water"),
    ("E", "47", "房屋建筑业", "Construction of Buildings"),
    ("E", "48", "土木工程建筑业", "Civil Engineering"),
    ("E", "49", "建筑安装业", "Building Installation"),
    (
        "E",
        "50",
        "建筑装饰、装修和其他建筑业",
        "Building Decoration, Renovation and Other Construction",
    ),
    ("F", "51", "批发业", "Wholesale Trade"),
    ("F", "52", "零售业", "Retail Trade"),
    ("G", "53", "铁路运输业", "Rail Transport"),
    ("G", "54", "道路运输业", "Road Transport"),
    ("G", "55", "水上运输业", "Water Transport"),
    ("G", "56", "航空运输业", "Air Transport"),
    ("G", "57", "管道运输业", "Pipeline Transport"),
    ("G", "58", "多式联运和运输代理业", "Multimodal Transport and Transport Agency"),
    ("G", "59", "装卸搬运和仓储业", "Loading, Unloading and Storage"),
    ("G", "60", "邮政业", "Postal Services"),
    ("H", "61", "住宿业", "Accommodation"),
    ("H", "62", "餐饮业", "Catering Services"),
    (
        "I",
        "63",
        "电信、广播电视和卫星传输服务",
        "Telecommunications, Broadcasting, Television and Satellite Transmission Services",
    ),
    ("I", "64", "互联网和相关服务", "Internet and Related Services"),
    ("I", "65", "软件和信息技术服务业", "Software and Information Technology Services"),
    ("J", "66", "货币金融服务", "Monetary Financial Services"),
    ("J", "67", "资本市场服务", "Capital Market Services"),
    ("J", "68", "保险业", "Insurance"),
    ("J", "69", "其他金融业", "Other Financial Services"),
    ("K", "70", "房地产业", "Real Estate"),
    ("L", "71", "租赁业", "Leasing"),
    ("L", "72", "商务服务业", "Business Services"),
    ("M", "73", "研究和试验发展", "Research and Experimental Development"),
    ("M", "74", "专业技术服务业", "Professional Technical Services"),
    ("M", "75", "科技推广和应用服务业", "Technology Promotion and Application Services"),
    ("N", "76", "水利管理业", "Management of Water Conservancy"),
    ("N", "77", "生态保护和环境治理业", "Ecological Protection and Environmental Governance"),
    ("N", "78", "公共设施管理业", "Management of Public Facilities"),
    ("N", "79", "土地管理业", "Land Management"),
    ("O", "80", "居民服务业", "Services to Households"),
    (
        "O",
        "81",
        "机动车、电子产品和日用产品修理业",
        "Repair of Motor Vehicles, Electronic Products and Household Goods",
    ),
    ("O", "82", "其他服务业", "Other Services"),
    ("P", "83", "教育", "Education"),
    ("Q", "84", "卫生", "Health"),
    ("Q", "85", "社会工作", "Social Work"),
    ("R", "86", "新闻和出版业", "News and Publishing"),
    (
        "R",
        "87",
        "广播、电视、电影和录音制作业",
        "Broadcasting, Television, Film and Sound Recording Production",
    ),
    ("R", "88", "文化艺术业", "Culture and Arts"),
    ("R", "89", "体育", "Sports"),
    ("R", "90", "娱乐业", "Entertainment"),
    ("S", "91", "中国共产党机关", "Organs of the Communist Party of China"),
    ("S", "92", "国家机构", "State Organs"),
    (
        "S",
        "93",
        "人民政协、民主党派",
        "Chinese People's Political Consultative Conference and Democratic Parties",
    ),
    ("S", "94", "社会保障", "Social Security"),
    (
        "S",
        "95",
        "群众团体、社会团体和其他成员组织",
        "Mass Organizations, Social Organizations and Other Membership Organizations",
    ),
    (
        "S",
        "96",
        "基层群众自治组织及其他组织",
        "Grass-roots Self-governing Organizations and Other Organizations",
    ),
    ("T", "97", "国际组织", "International Organizations"),
)

# Optional letter, then optional digits; spaces and hyphens are dropped before matching.
_CODE = re.compile(r"^([A-Z]?)([0-9]*)$")


class IndustryLevel(StrEnum):
    SECTION = "section"
    DIVISION = "division"


@dataclass(frozen=True, slots=True)
class Industry:
    """One GB/T 4754-2017 section (``division`` is None) or division."""

    code: str
    section: str
    division: str | None
    name_zh: str
    name_en: str
    level: IndustryLevel

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class UnknownIndustry(LookupError):
    """The text is not a GB/T 4754-2017 section or division code."""


@dataclass(frozen=True, slots=True)
class _Table:
    sections: dict[str, Industry]
    divisions: dict[str, Industry]


@cache
def _table() -> _Table:
    sections = {
        letter: Industry(letter, letter, None, zh, en, IndustryLevel.SECTION)
        for letter, zh, en in _SECTIONS
    }
    divisions = {
        number: Industry(f"{letter}{number}", letter, number, zh, en, IndustryLevel.DIVISION)
        for letter, number, zh, en in _DIVISIONS
    }
    return _Table(sections, divisions)


def _section(letter: str) -> Industry:
    section = _table().sections.get(letter)
    if section is None:
        raise UnknownIndustry(f"there is no section {letter} in {STANDARD} (sections are A-T)")
    return section


def parse_industry_code(text: str) -> Industry:
    """The section or division ``text`` names: ``"C36"``, ``"c36"``, ``"C 36"``, ``"36"`` or
    ``"C"`` (full-width characters are folded). Raises :class:`UnknownIndustry` saying why
    the text is not one."""
    code = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text)).upper()
    match = _CODE.match(code)
    if not code or match is None:
        raise UnknownIndustry(
            f"{text!r} is not an industry code: expected a section letter A-T, a two-digit"
            " division, or both, like 'C36'"
        )
    letter, number = match.groups()
    if not number:
        return _section(letter)
    if len(number) in (3, 4):
        raise UnknownIndustry(
            f"{text!r} is a group or class code; give the section and two-digit division,"
            f" like '{letter or ''}{number[:2]}'"
        )
    if len(number) != 2:
        raise UnknownIndustry(f"{text!r}: a division has exactly two digits, like '07' or '36'")
    division = _table().divisions.get(number)
    if division is None:
        raise UnknownIndustry(f"there is no division {number} in {STANDARD} (divisions are 01-97)")
    if letter and letter != division.section:
        owner = _section(division.section)
        raise UnknownIndustry(
            f"division {number} belongs to section {owner.code} ({owner.name_zh}), not {letter}"
        )
    return division


def sections() -> list[Industry]:
    """All 20 sections, A to T."""
    return list(_table().sections.values())


def divisions(section: str | None = None) -> list[Industry]:
    """All 97 divisions in code order, or those of one section (raises
    :class:`UnknownIndustry` for a letter that is not a section)."""
    out = list(_table().divisions.values())
    if section is None:
        return out
    letter = _section(section.strip().upper()).section
    return [d for d in out if d.section == letter]


def check_industry_code(text: str, *, require_division: bool = True) -> str | None:
    """Why ``text`` is not acceptable as an enterprise's industry, or None if it is.

    An enterprise is filed under a division, so a bare section is refused unless
    ``require_division`` is False.
    """
    try:
        industry = parse_industry_code(text)
    except UnknownIndustry as exc:
        return str(exc)
    if require_division and industry.level is IndustryLevel.SECTION:
        own = divisions(industry.section)
        span = own[0].code if len(own) == 1 else f"{own[0].code}-{own[-1].code}"
        return f"section {industry.code} ({industry.name_zh}) is too broad: give a division, {span}"
    return None
