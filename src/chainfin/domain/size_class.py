"""企业规模 (enterprise size class: 大型, 中型, 小型, 微型) under the rules in force.

The 300号 rules (《中小企业划型标准规定》, 工信部联企业〔2011〕300号) split industry into 16
sector groups, each judged on one or two of 从业人员 (employees), 营业收入 (revenue) and 资产总额
(total assets). They define 中型, 小型 and 微型; the NBS method (《统计上大中小微型企业划分办法
（2017）》, 国统字〔2017〕213号) maps the groups onto GB/T 4754-2017 and adds the 大型 bounds.

The NBS rule decides: 大型, 中型 and 小型 must meet the lower bound of *every* indicator the group
lists, otherwise the enterprise drops a class (and is tested again); 微型 needs only one
indicator below the 小型 bound. So the class is the lowest class any one indicator reaches.

Where a 300号 group is narrower than a division, ``group_code`` (the GB/T 4754 中类, three
digits) decides; without it:

- K70 房地产业 is 房地产开发经营 (group 701). 702 is 物业管理; 703 and 709 are 其他未列明行业;
  704 房地产租赁经营 (the NBS's 自有房地产经营活动) is outside the rules.
- G59 装卸搬运和仓储业 is 仓储业 (592-599). 591 装卸搬运 is 交通运输业.

Not covered, so :class:`SizeClassError`: G53 铁路运输业 (excluded from 交通运输业 by name), J 金融业
(it has its own rules, 银发〔2015〕309号), S and T (not enterprises), and 704 above. P 教育 and
Q84 卫生 are named by neither document; they are judged as 其他未列明行业, since 300号 says
industries outside its list are classified by reference to it (参照本规定进行划型) and that
group's list ends in 等. Named exclusions get no such reference group: choosing one is a policy
decision for the bank, not something the standard says.

Amounts are compared as integers in fen: the published bounds are in 万元 (1万元 = 1 000 000 fen).

>>> from chainfin.domain.money import Money
>>> result = classify("C36", employees=350, revenue=Money.parse("50000000"))
>>> result.size_class.label_zh
'中型'
>>> result.rule
'工业: 从业人员 350 ≥ 300 且 营业收入 5000万元 ≥ 2000万元 → 中型'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from chainfin.domain.errors import ChainfinError
from chainfin.domain.industry import Industry, IndustryLevel, divisions, parse_industry_code
from chainfin.domain.money import Money

STANDARD_CITATION = (
    "《中小企业划型标准规定》（工信部联企业〔2011〕300号）；"
    "《统计上大中小微型企业划分办法（2017）》（国统字〔2017〕213号）"
)

_FEN_PER_WAN_YUAN = 1_000_000  # 1万元 = 10 000 yuan = 1 000 000 fen
_CURRENCY = "CNY"


class SizeClass(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"

    @property
    def label_zh(self) -> str:
        return _LABEL_ZH[self]

    @property
    def rank(self) -> int:
        """0 for 微型 up to 3 for 大型, so classes compare by size."""
        return _ASCENDING.index(self)


_LABEL_ZH = {
    SizeClass.LARGE: "大型",
    SizeClass.MEDIUM: "中型",
    SizeClass.SMALL: "小型",
    SizeClass.MICRO: "微型",
}
_ASCENDING = (SizeClass.MICRO, SizeClass.SMALL, SizeClass.MEDIUM, SizeClass.LARGE)


class Indicator(StrEnum):
    EMPLOYEES = "employees"
    REVENUE = "revenue"
    TOTAL_ASSETS = "total_assets"

    @property
    def label_zh(self) -> str:
        return {"employees": "从业人员", "revenue": "营业收入", "total_assets": "资产总额"}[self]


class Sector(StrEnum):
    """The 16 sector groups of 300号; the value is the group's name there."""

    AGRICULTURE = "农、林、牧、渔业"
    INDUSTRY = "工业"
    CONSTRUCTION = "建筑业"
    WHOLESALE = "批发业"
    RETAIL = "零售业"
    TRANSPORT = "交通运输业"
    WAREHOUSING = "仓储业"
    POSTAL = "邮政业"
    ACCOMMODATION = "住宿业"
    CATERING = "餐饮业"
    INFORMATION_TRANSMISSION = "信息传输业"
    SOFTWARE_IT = "软件和信息技术服务业"
    REAL_ESTATE_DEVELOPMENT = "房地产开发经营"
    PROPERTY_MANAGEMENT = "物业管理"
    LEASING_BUSINESS = "租赁和商务服务业"
    OTHER = "其他未列明行业"


@dataclass(frozen=True, slots=True)
class Threshold:
    """Lower bounds of one indicator for 大型, 中型 and 小型, as published: persons for
    employees, 万元 for money. Below ``small`` is 微型."""

    indicator: Indicator
    large: int
    medium: int
    small: int

    def bound(self, size: SizeClass) -> int:
        """The lower bound for ``size`` in comparison units: persons, or fen."""
        published = {
            SizeClass.LARGE: self.large,
            SizeClass.MEDIUM: self.medium,
            SizeClass.SMALL: self.small,
            SizeClass.MICRO: 0,
        }[size]
        return published if self.indicator is Indicator.EMPLOYEES else published * _FEN_PER_WAN_YUAN

    def shown(self, size: SizeClass) -> str:
        """The lower bound for ``size`` as the standard prints it."""
        return _show(self.indicator, self.bound(size))


def _t(indicator: Indicator, large: int, medium: int, small: int) -> Threshold:
    return Threshold(indicator, large, medium, small)


_E, _R, _A = Indicator.EMPLOYEES, Indicator.REVENUE, Indicator.TOTAL_ASSETS

# The one table to change if the rules are revised. Order is the standard's and decides which
# missing indicator is reported first.
THRESHOLDS: Mapping[Sector, tuple[Threshold, ...]] = MappingProxyType(
    {
        Sector.AGRICULTURE: (_t(_R, 20000, 500, 50),),
        Sector.INDUSTRY: (_t(_E, 1000, 300, 20), _t(_R, 40000, 2000, 300)),
        Sector.CONSTRUCTION: (_t(_R, 80000, 6000, 300), _t(_A, 80000, 5000, 300)),
        Sector.WHOLESALE: (_t(_E, 200, 20, 5), _t(_R, 40000, 5000, 1000)),
        Sector.RETAIL: (_t(_E, 300, 50, 10), _t(_R, 20000, 500, 100)),
        Sector.TRANSPORT: (_t(_E, 1000, 300, 20), _t(_R, 30000, 3000, 200)),
        Sector.WAREHOUSING: (_t(_E, 200, 100, 20), _t(_R, 30000, 1000, 100)),
        Sector.POSTAL: (_t(_E, 1000, 300, 20), _t(_R, 30000, 2000, 100)),
        Sector.ACCOMMODATION: (_t(_E, 300, 100, 10), _t(_R, 10000, 2000, 100)),
        Sector.CATERING: (_t(_E, 300, 100, 10), _t(_R, 10000, 2000, 100)),
        Sector.INFORMATION_TRANSMISSION: (_t(_E, 2000, 100, 10), _t(_R, 100000, 1000, 100)),
        Sector.SOFTWARE_IT: (_t(_E, 300, 100, 10), _t(_R, 10000, 1000, 50)),
        Sector.REAL_ESTATE_DEVELOPMENT: (_t(_R, 200000, 1000, 100), _t(_A, 10000, 5000, 2000)),
        Sector.PROPERTY_MANAGEMENT: (_t(_E, 1000, 300, 100), _t(_R, 5000, 1000, 500)),
        Sector.LEASING_BUSINESS: (_t(_E, 300, 100, 10), _t(_A, 120000, 8000, 100)),
        Sector.OTHER: (_t(_E, 300, 100, 10),),
    }
)

# Why the rules do not cover an industry.
_RAILWAY = "G53 铁路运输业 is excluded from 交通运输业 by 300号 and has no bounds of its own"
_FINANCE = "J 金融业 is classified under 《金融业企业划型标准规定》（银发〔2015〕309号）, not 300号"
_PUBLIC = "S 公共管理、社会保障和社会组织 are not enterprises; the size rules do not apply"
_INTERNATIONAL = "T 国际组织 are not enterprises; the size rules do not apply"
_OWN_PROPERTY = (
    "704 房地产租赁经营 (自有房地产经营活动) is excluded from 其他未列明行业 by the NBS"
    " and has no bounds of its own"
)

# Division -> the 300号 group, or why the rules do not cover it.
_BY_DIVISION: Mapping[str, Sector | str] = MappingProxyType(
    {
        **dict.fromkeys((f"{n:02d}" for n in range(1, 6)), Sector.AGRICULTURE),
        **dict.fromkeys((f"{n:02d}" for n in range(6, 47)), Sector.INDUSTRY),
        **dict.fromkeys((f"{n:02d}" for n in range(47, 51)), Sector.CONSTRUCTION),
        "51": Sector.WHOLESALE,
        "52": Sector.RETAIL,
        "53": _RAILWAY,
        **dict.fromkeys(("54", "55", "56", "57", "58"), Sector.TRANSPORT),
        "59": Sector.WAREHOUSING,
        "60": Sector.POSTAL,
        "61": Sector.ACCOMMODATION,
        "62": Sector.CATERING,
        "63": Sector.INFORMATION_TRANSMISSION,
        "64": Sector.INFORMATION_TRANSMISSION,
        "65": Sector.SOFTWARE_IT,
        **dict.fromkeys(("66", "67", "68", "69"), _FINANCE),
        "70": Sector.REAL_ESTATE_DEVELOPMENT,
        "71": Sector.LEASING_BUSINESS,
        "72": Sector.LEASING_BUSINESS,
        **dict.fromkeys((f"{n:02d}" for n in range(73, 91)), Sector.OTHER),
        **dict.fromkeys((f"{n:02d}" for n in range(91, 97)), _PUBLIC),
        "97": _INTERNATIONAL,
    }
)

# Groups that move a division to another 300号 group (the NBS 2017 notes).
_BY_GROUP: Mapping[str, Mapping[str, Sector | str]] = MappingProxyType(
    {
        "59": {
            "591": Sector.TRANSPORT,
            **dict.fromkeys(("592", "593", "594", "595", "596", "599"), Sector.WAREHOUSING),
        },
        "70": {
            "701": Sector.REAL_ESTATE_DEVELOPMENT,
            "702": Sector.PROPERTY_MANAGEMENT,
            "703": Sector.OTHER,
            "704": _OWN_PROPERTY,
            "709": Sector.OTHER,
        },
    }
)


class SizeClassError(ChainfinError):
    """The size class cannot be determined from what was given."""

    code = "size_class_undetermined"
    status = 422


@dataclass(frozen=True, slots=True)
class SizeClassification:
    """The verdict: ``rule`` says which bounds decided, ``standard`` what they come from."""

    size_class: SizeClass
    sector: Sector
    rule: str
    standard: str = STANDARD_CITATION


def _resolve(industry: Industry | str, group_code: str | None) -> tuple[Industry, str | None]:
    """The industry as a division when ``group_code`` names one, and the group (3 digits)."""
    found = parse_industry_code(industry) if isinstance(industry, str) else industry
    if group_code is None:
        return found, None
    group = group_code.strip()
    if len(group) not in (3, 4) or not group.isascii() or not group.isdigit():
        raise SizeClassError(f"group_code {group_code!r} is not a 3-digit GB/T 4754 group")
    if found.level is IndustryLevel.SECTION:
        found = parse_industry_code(found.section + group[:2])
    if group[:2] != found.division:
        raise SizeClassError(f"group {group[:3]} is not in division {found.code}")
    known = _BY_GROUP.get(group[:2])
    if known is not None and group[:3] not in known:
        raise SizeClassError(f"group {group[:3]} is not a GB/T 4754-2017 group of {found.code}")
    return found, group[:3]


def sector_of(industry: Industry | str, *, group_code: str | None = None) -> Sector:
    """The 300号 group an industry belongs to. A section will do when all its divisions fall
    in one group. Raises :class:`SizeClassError` when the rules do not cover the industry."""
    found, group = _resolve(industry, group_code)
    if found.division is None:
        outcomes = {_BY_DIVISION[d.division or ""] for d in divisions(found.section)}
        if len(outcomes) == 1:
            return _covered(outcomes.pop())
        named = "、".join(s for s in Sector if s in outcomes)
        raise SizeClassError(
            f"section {found.code} ({found.name_zh}) spans several size groups ({named});"
            " give a division",
            hint="Pass the enterprise's division, e.g. 'G54' rather than 'G'.",
        )
    if group is not None and found.division in _BY_GROUP:
        return _covered(_BY_GROUP[found.division][group])
    return _covered(_BY_DIVISION[found.division])


def _covered(outcome: Sector | str) -> Sector:
    if isinstance(outcome, Sector):
        return outcome
    raise SizeClassError(
        outcome,
        hint="The size rules give no class here: record none, or apply a documented bank policy.",
    )


def _show(indicator: Indicator, value: int) -> str:
    if indicator is Indicator.EMPLOYEES:
        return str(value)
    wan = Decimal(value).scaleb(-6).normalize()
    return f"{wan:f}万元"


def _measure(
    sector: Sector, threshold: Threshold, employees: int | None, money: Money | None
) -> int:
    """The indicator's value in comparison units, or why it cannot be used."""
    indicator = threshold.indicator
    label = f"{indicator.label_zh} ({indicator.value})"
    given: int | Money | None = employees if indicator is Indicator.EMPLOYEES else money
    if given is None:
        needed = " and ".join(t.indicator.label_zh for t in THRESHOLDS[sector])
        raise SizeClassError(
            f"{label} is missing; {sector} is classified by {needed}",
            hint=f"Provide {indicator.label_zh} to classify a {sector} enterprise.",
        )
    if isinstance(given, Money):
        if given.currency != _CURRENCY:
            raise SizeClassError(f"{label} must be in CNY, not {given.currency}")
        given = given.amount_minor
    if given < 0:
        raise SizeClassError(f"{label} cannot be negative")
    return given


def _reached(threshold: Threshold, value: int) -> SizeClass:
    """The highest class whose lower bound this one indicator meets."""
    for size in (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL):
        if value >= threshold.bound(size):
            return size
    return SizeClass.MICRO


def _rule(sector: Sector, values: dict[Threshold, int], result: SizeClass) -> str:
    if result is SizeClass.MICRO:
        below = [
            f"{t.indicator.label_zh} {_show(t.indicator, v)} < {t.shown(SizeClass.SMALL)}"
            for t, v in values.items()
            if _reached(t, v) is SizeClass.MICRO
        ]
        return f"{sector}: {' 或 '.join(below)} → {result.label_zh}"
    met = [
        f"{t.indicator.label_zh} {_show(t.indicator, v)} ≥ {t.shown(result)}"
        for t, v in values.items()
    ]
    text = f"{sector}: {' 且 '.join(met)} → {result.label_zh}"
    if any(_reached(t, v).rank > result.rank for t, v in values.items()):
        above = _ASCENDING[result.rank + 1]
        short = [
            f"{t.indicator.label_zh} {_show(t.indicator, v)} < {t.shown(above)}"
            for t, v in values.items()
            if _reached(t, v) is result
        ]
        text += f"（{'，'.join(short)}，未达{above.label_zh}）"
    return text


def classify(
    industry: Industry | str,
    *,
    employees: int | None,
    revenue: Money | None,
    total_assets: Money | None = None,
    group_code: str | None = None,
) -> SizeClassification:
    """Classify one enterprise. Only the indicators its sector group uses are read; each must
    be given (checked in the standard's order), in CNY, and not negative, else
    :class:`SizeClassError`. A malformed industry code raises
    :class:`~chainfin.domain.industry.UnknownIndustry`.

    ``group_code`` is the GB/T 4754 中类 where a division spans 300号 groups (G59, K70); see the
    module docstring for the defaults.
    """
    sector = sector_of(industry, group_code=group_code)
    money = {Indicator.REVENUE: revenue, Indicator.TOTAL_ASSETS: total_assets}
    values = {t: _measure(sector, t, employees, money.get(t.indicator)) for t in THRESHOLDS[sector]}
    result = min((_reached(t, v) for t, v in values.items()), key=lambda s: s.rank)
    return SizeClassification(result, sector, _rule(sector, values, result))
