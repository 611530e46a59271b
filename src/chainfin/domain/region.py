"""行政区划代码 (GB/T 2260 administrative division codes).

The table comes from python-stdnum's ``cn/loc`` database (maintained with the library,
compiled from the published GB/T 2260 code lists, with the year range each code was in
use). A code is *current* when its range is open-ended. Province (``xx0000``) and
prefecture (``xxxx00``) levels are exact; county level follows the same list.

>>> lookup("320505").name
'虎丘区'
>>> lookup("320505").full_name
'江苏省 苏州市 虎丘区'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from stdnum import numdb

_RANGE = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


_PLACEHOLDER_PREFECTURES = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "省直辖县级行政单位", "自治区直辖县级行政单位"}
)


class RegionLevel(StrEnum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    current: bool
    valid_from: int | None
    valid_to: int | None
    province: str
    prefecture: str | None

    @property
    def full_name(self) -> str:
        parts = [self.province]
        # Municipalities list their districts under a placeholder prefecture (市辖区, 县).
        placeholder = self.prefecture in _PLACEHOLDER_PREFECTURES
        if self.prefecture and not placeholder and self.level is not RegionLevel.PROVINCE:
            parts.append(self.prefecture)
        if self.level is RegionLevel.COUNTY:
            parts.append(self.name)
        return " ".join(parts)

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefecture_code(self) -> str:
        return self.code[:4] + "00"


def _split(label: str) -> tuple[str, int | None, int | None]:
    """``"[-1991]东郊区,[1992-]东丽区"`` → ``("东丽区", None, None)``: a code renamed over
    time lists each name with its years; the last one is the code's name today, the first
    start and the last end bound its life."""
    names: list[tuple[str, int | None, int | None]] = []
    for part in label.split(","):
        m = _RANGE.match(part.strip())
        if m:
            start, end, name = m.groups()
            names.append((name, int(start) if start else None, int(end) if end else None))
        else:
            names.append((part.strip(), None, None))
    return names[-1][0], names[0][1], names[-1][2]


@cache
def _table() -> dict[str, Region]:
    """All codes ever listed, keyed by 6-digit code. Built once, on first use."""
    db = numdb.get("cn/loc")
    table: dict[str, Region] = {}
    for _, province_code, _, province_props, children in db.prefixes:
        province = str(province_props.get("province", ""))
        prefectures: dict[str, str] = {}
        entries = sorted((low, str(props.get("county", ""))) for _, low, _, props, _ in children)
        for low, label in entries:
            name, start, end = _split(label)
            code = province_code + low
            if low == "0000":
                level = RegionLevel.PROVINCE
                name = province or name
            elif low.endswith("00"):
                level = RegionLevel.PREFECTURE
                prefectures[low[:2]] = name
            else:
                level = RegionLevel.COUNTY
            table[code] = Region(
                code=code,
                name=name,
                level=level,
                current=end is None,
                valid_from=start,
                valid_to=end,
                province=province,
                prefecture=prefectures.get(low[:2]) if level is not RegionLevel.PROVINCE else None,
            )
    return table


class UnknownRegion(LookupError):
    pass


def lookup(code: str) -> Region:
    """The region for a 6-digit code (current or historical). Raises :class:`UnknownRegion`."""
    region = _table().get(code)
    if region is None:
        raise UnknownRegion(f"{code!r} is not a GB/T 2260 region code")
    return region


def check_region_code(code: str, *, current_only: bool = True) -> str | None:
    """Why ``code`` is not acceptable as an enterprise's region, or None if it is."""
    if len(code) != 6 or not code.isdigit():
        return "must be a 6-digit GB/T 2260 code"
    region = _table().get(code)
    if region is None:
        return f"{code} is not a GB/T 2260 region code"
    if current_only and not region.current:
        return f"{code} ({region.name}) was withdrawn in {region.valid_to}"
    return None


def current_regions(level: RegionLevel | None = None, within: str | None = None) -> list[Region]:
    """Current codes, optionally of one level and inside one province/prefecture prefix."""
    out = [r for r in _table().values() if r.current]
    if level is not None:
        out = [r for r in out if r.level is level]
    if within is not None:
        prefix = within.rstrip("0") if within.endswith("00") else within
        if len(prefix) % 2:
            prefix += "0"
        out = [r for r in out if r.code.startswith(prefix)]
    return sorted(out, key=lambda r: r.code)
