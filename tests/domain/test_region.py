"""GB/T 2260 region codes: the province level exactly, prefecture spot checks, withdrawn
codes, and the filters. Names are those of python-stdnum's ``cn/loc`` table (Hong Kong and
Macau in traditional characters, as that table writes them)."""

from __future__ import annotations

import pytest

from chainfin.domain.region import (
    RegionLevel,
    UnknownRegion,
    check_region_code,
    current_regions,
    lookup,
)

PROVINCES = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
    "710000": "台湾省",
    "810000": "香港特別行政區",
    "820000": "澳門特別行政區",
}


def test_the_current_province_level_is_exactly_the_34_divisions() -> None:
    found = {r.code: r.name for r in current_regions(RegionLevel.PROVINCE)}
    assert found == PROVINCES


@pytest.mark.parametrize(("code", "name"), sorted(PROVINCES.items()))
def test_each_province(code: str, name: str) -> None:
    region = lookup(code)
    assert (region.name, region.province, region.full_name) == (name, name, name)
    assert region.level is RegionLevel.PROVINCE
    assert region.current
    assert region.prefecture is None
    assert region.province_code == code
    assert check_region_code(code) is None


@pytest.mark.parametrize(
    ("code", "name", "province", "full_name"),
    [
        ("320500", "苏州市", "江苏省", "江苏省 苏州市"),
        ("440300", "深圳市", "广东省", "广东省 深圳市"),
        ("130600", "保定市", "河北省", "河北省 保定市"),
        # GB/T 2260 lists a municipality's districts under a placeholder prefecture.
        ("310100", "市辖区", "上海市", "上海市"),
        ("110100", "市辖区", "北京市", "北京市"),
        ("500100", "市辖区", "重庆市", "重庆市"),
        ("500200", "县", "重庆市", "重庆市"),
    ],
)
def test_prefecture_spot_checks(code: str, name: str, province: str, full_name: str) -> None:
    region = lookup(code)
    assert (region.name, region.province, region.prefecture) == (name, province, name)
    assert region.level is RegionLevel.PREFECTURE
    assert region.current
    assert region.full_name == full_name
    assert region.province_code == code[:2] + "0000"
    assert region.prefecture_code == code


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("320505", "江苏省 苏州市 虎丘区"),
        ("440305", "广东省 深圳市 南山区"),
        ("110105", "北京市 朝阳区"),  # the placeholder 市辖区 is left out
        ("500101", "重庆市 万州区"),
    ],
)
def test_full_name_of_a_county_names_province_prefecture_and_county(
    code: str, full_name: str
) -> None:
    region = lookup(code)
    assert region.level is RegionLevel.COUNTY
    assert region.full_name == full_name
    assert region.prefecture_code == code[:4] + "00"


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("429004", "湖北省 仙桃市"),
        ("419001", "河南省 济源市"),
        ("469001", "海南省 五指山市"),
        ("659001", "新疆维吾尔自治区 石河子市"),
    ],
)
def test_full_name_leaves_out_the_directly_administered_placeholder(
    code: str, full_name: str
) -> None:
    assert lookup(code).full_name == full_name


def test_a_withdrawn_code_is_kept_for_history_but_refused_for_enterprises() -> None:
    region = lookup("110103")
    assert (region.name, region.current, region.valid_to) == ("崇文区", False, 2010)
    assert check_region_code("110103") == "110103 (崇文区) was withdrawn in 2010"
    assert check_region_code("110103", current_only=False) is None
    assert "110103" not in {r.code for r in current_regions()}


def test_a_code_introduced_later_carries_its_first_year() -> None:
    region = lookup("460000")  # Hainan became a province in 1988
    assert (region.valid_from, region.valid_to, region.current) == (1988, None, True)


# The table writes a code renamed in place as "[-1991]东郊区,[1992-]东丽区".
@pytest.mark.parametrize(
    ("code", "name", "valid_from"),
    [
        ("210200", "大连市", None),  # 旅大市 until 1980
        ("420600", "襄阳市", None),  # 襄樊市 until 2009
        ("120110", "东丽区", None),  # 东郊区 until 1991
        ("130602", "竞秀区", 1983),  # 新市区 1983-2014
    ],
)
def test_a_code_renamed_in_place_is_current_under_its_latest_name(
    code: str, name: str, valid_from: int | None
) -> None:
    region = lookup(code)
    assert (region.name, region.current, region.valid_from, region.valid_to) == (
        name,
        True,
        valid_from,
        None,
    )
    assert check_region_code(code) is None


def test_a_code_renamed_and_later_withdrawn_reports_its_last_name_and_year() -> None:
    region = lookup("142200")  # 忻县地区 until 1982, 忻州地区 1983-1999
    assert (region.name, region.current, region.valid_to) == ("忻州地区", False, 1999)
    assert check_region_code("142200") == "142200 (忻州地区) was withdrawn in 1999"


def test_no_name_carries_the_tables_year_markup() -> None:
    names = [r.name for r in current_regions()]
    assert not [n for n in names if "[" in n or "," in n]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("12345", "must be a 6-digit GB/T 2260 code"),
        ("1101050", "must be a 6-digit GB/T 2260 code"),
        ("abcdef", "must be a 6-digit GB/T 2260 code"),
        ("", "must be a 6-digit GB/T 2260 code"),
        ("999999", "999999 is not a GB/T 2260 region code"),
        ("110199", "110199 is not a GB/T 2260 region code"),
        ("110103", "110103 (崇文区) was withdrawn in 2010"),
    ],
)
def test_check_region_code_rejections_in_order_of_precedence(code: str, reason: str) -> None:
    assert check_region_code(code) == reason


def test_lookup_of_an_unknown_code_raises() -> None:
    with pytest.raises(UnknownRegion, match="'999999' is not a GB/T 2260 region code"):
        lookup("999999")


@pytest.mark.parametrize("level", list(RegionLevel))
def test_current_regions_of_one_level(level: RegionLevel) -> None:
    found = current_regions(level)
    assert found
    assert all(r.level is level and r.current for r in found)
    assert [r.code for r in found] == sorted(r.code for r in found)


def test_current_regions_without_a_level_is_every_level_together() -> None:
    every = current_regions()
    assert len(every) == sum(len(current_regions(level)) for level in RegionLevel)
    assert all(r.current for r in every)


def test_every_province_and_prefecture_filters_to_its_own_codes() -> None:
    every = current_regions()
    for area in current_regions(RegionLevel.PROVINCE) + current_regions(RegionLevel.PREFECTURE):
        width = 2 if area.level is RegionLevel.PROVINCE else 4
        expected = [r for r in every if r.code[:width] == area.code[:width]]
        assert current_regions(within=area.code) == expected, area.code
        assert area in expected


def test_within_and_level_combine() -> None:
    suzhou = current_regions(RegionLevel.COUNTY, within="320500")
    assert "320505" in {r.code for r in suzhou}
    assert all(r.code.startswith("3205") and r.level is RegionLevel.COUNTY for r in suzhou)
    jiangsu = current_regions(RegionLevel.PREFECTURE, within="320000")
    assert "320500" in {r.code for r in jiangsu}
    assert all(r.province == "江苏省" for r in jiangsu)
    assert current_regions(RegionLevel.PROVINCE, within="320500") == []
