"""The regions a head office analyses: the three named city clusters, or any one GB/T 2260
province or prefecture.

>>> parse_region("yrd").label_zh
'长三角'
>>> parse_region("yrd").contains("320505")
True
>>> parse_region("320500").contains("320505"), parse_region("320500").contains("320205")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from chainfin.domain.region import RegionLevel, lookup
from chainfin.domain.region import UnknownRegion as _UnknownCode


@dataclass(frozen=True, slots=True)
class StrategyRegion:
    key: str  # "yrd", "gba", "jjj", or a six-digit province/prefecture code
    label_zh: str
    label_en: str
    scopes: tuple[str, ...]  # GB/T 2260 codes: whole provinces (xx0000) or prefectures (xxxx00)

    def contains(self, region_code: str) -> bool:
        """True when the six-digit ``region_code`` lies inside one of the scopes."""
        for scope in self.scopes:
            prefix = scope[:2] if scope.endswith("0000") else scope[:4]
            if region_code.startswith(prefix):
                return True
        return False


NAMED: dict[str, StrategyRegion] = {
    "jjj": StrategyRegion("jjj", "京津冀", "Jing-Jin-Ji", ("110000", "120000", "130000")),
    "yrd": StrategyRegion(
        "yrd", "长三角", "Yangtze River Delta", ("310000", "320000", "330000", "340000")
    ),
    "gba": StrategyRegion(
        "gba",
        "大湾区",
        "Greater Bay Area",
        (
            "440100",  # 广州
            "440300",  # 深圳
            "440400",  # 珠海
            "440600",  # 佛山
            "440700",  # 江门
            "441200",  # 肇庆
            "441300",  # 惠州
            "441900",  # 东莞
            "442000",  # 中山
        ),
    ),
}


class UnknownRegion(ValueError):
    """Neither a named region nor a current province or prefecture code."""


def parse_region(text: str) -> StrategyRegion:
    """``yrd``/``gba``/``jjj`` (any case), or a GB/T 2260 province (``320000``) or
    prefecture (``320500``) code; :class:`UnknownRegion` for anything else."""
    key = text.strip().lower()
    if key in NAMED:
        return NAMED[key]
    if len(key) == 6 and key.isdecimal():
        try:
            found = lookup(key)
        except _UnknownCode:
            found = None
        levels = (RegionLevel.PROVINCE, RegionLevel.PREFECTURE)
        if found is not None and found.current and found.level in levels:
            return StrategyRegion(key, found.full_name, found.full_name, (key,))
    raise UnknownRegion(
        f"{text!r} is not a region: give jjj, yrd or gba, or a GB/T 2260 province or "
        "prefecture code such as 320000 or 320500"
    )


def named_regions() -> tuple[StrategyRegion, ...]:
    return tuple(NAMED.values())
