"""Chain maps over the hand-built region of strategy_region.py."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from strategy_region import AS_OF, build, view

from chainfin.domain.strategy.results import ChainMap, SegmentNode
from chainfin.risk.strategy.maps import badge, chain_map, chain_maps, freshness_of


def _segment(m: ChainMap, stage: str, division: str) -> SegmentNode:
    return next(s for s in m.segments if (s.stage, s.division) == (stage, division))


def test_maps_cover_the_chains_of_the_region_only_in_key_order() -> None:
    assert [m.chain_key for m in chain_maps(view())] == ["ic-hz", "nev-sz", "pv-wx"]


def test_a_chain_outside_the_region_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        chain_map(view(), "gz-food")


def test_template_segments_come_in_table_order_with_the_members_inside_the_region() -> None:
    m = chain_map(view(), "nev-sz")
    assert [(s.stage, s.division) for s in m.segments][:3] == [
        ("midstream", "C36"),
        ("midstream", "C38"),
        ("midstream", "C39"),
    ]
    assert len(m.segments) == 13  # the nev template; no segment observed outside it
    # S1, S2 (苏州) and S3 (上海) are tier-1 suppliers in C38: three, so present.
    battery = _segment(m, "midstream", "C38")
    assert (battery.firm_count, battery.present, battery.critical) == (3, True, True)
    assert not battery.single_source


def test_the_core_counts_at_midstream_by_its_division() -> None:
    vehicles = _segment(chain_map(view(), "nev-sz"), "midstream", "C36")
    assert (vehicles.firm_count, vehicles.present, vehicles.single_source) == (1, False, True)
    assert vehicles.label_zh == "汽车制造业"
    assert vehicles.label_en == "Manufacture of Automobiles"


def test_a_critical_segment_with_one_member_is_a_single_source() -> None:
    m = chain_map(view(), "nev-sz")
    cockpit, copper = _segment(m, "midstream", "C39"), _segment(m, "upstream", "C32")
    assert (cockpit.critical, cockpit.single_source, cockpit.present) == (True, True, False)
    assert (copper.critical, copper.single_source, copper.firm_count) == (True, True, 1)


def test_members_outside_the_region_are_not_counted_on_a_segment() -> None:
    # T2 sits in 深圳 on upstream C26: a member, but not inside 长三角.
    m = chain_map(view(), "nev-sz")
    assert _segment(m, "upstream", "C26").firm_count == 0
    t2 = next(f for f in m.firms if f.uscc == "T2")
    assert (t2.side, t2.tier, t2.stage, t2.in_region) == ("upstream", 2, "upstream", False)


def test_an_observed_segment_missing_from_the_template_is_appended_not_critical() -> None:
    m = chain_map(view(), "pv-wx")
    extra = m.segments[-1]
    assert (extra.stage, extra.division, extra.critical) == ("midstream", "C40", False)
    assert (extra.firm_count, extra.label_zh) == (1, "仪器仪表制造业")


def test_min_firms_sets_the_presence_threshold() -> None:
    modules = _segment(chain_map(view(), "pv-wx", min_firms=2), "midstream", "C38")
    assert (modules.firm_count, modules.present) == (2, True)  # PC1 and S1
    assert not _segment(chain_map(view(), "pv-wx"), "midstream", "C38").present


def test_every_member_is_a_map_firm_marked_as_customer_of_the_bank() -> None:
    m = chain_map(view(), "nev-sz")
    assert {f.uscc for f in m.firms} == {"NC1", "S1", "S2", "S3", "S4", "T1", "T2", "U1", "D1"}
    assert {f.uscc for f in m.firms if f.customer} == {"NC1", "S1", "S2"}
    unknown = next(f for f in m.firms if f.uscc == "U1")
    assert (unknown.name, unknown.industry_code, unknown.in_region) == ("U1", "", False)


def test_links_carry_age_and_freshness() -> None:
    m = chain_map(view(), "nev-sz")
    by_pair = {(lk.seller, lk.buyer): lk for lk in m.links}
    assert len(m.links) == 8
    assert (by_pair[("S2", "NC1")].age_days, by_pair[("S2", "NC1")].freshness) == (60, "fresh")
    assert (by_pair[("S3", "NC1")].age_days, by_pair[("S3", "NC1")].freshness) == (121, "ageing")
    stale = by_pair[("T2", "S2")]
    assert (stale.age_days, stale.freshness) == ((AS_OF - date(2025, 1, 1)).days, "stale")


def test_freshness_boundaries_are_inclusive() -> None:
    assert [freshness_of(d) for d in (0, 90, 91, 365, 366)] == [
        "fresh",
        "fresh",
        "ageing",
        "ageing",
        "stale",
    ]
    assert [badge(x) for x in (1.0, 0.8, 0.79, 0.5, 0.49)] == [
        "fresh",
        "fresh",
        "ageing",
        "ageing",
        "stale",
    ]


def test_chain_badges_follow_the_share_of_fresh_links() -> None:
    maps = {m.chain_key: m for m in chain_maps(view())}
    assert (maps["nev-sz"].fresh_share, maps["nev-sz"].freshness) == (6 / 8, "ageing")
    assert (maps["pv-wx"].fresh_share, maps["pv-wx"].freshness) == (1.0, "fresh")
    assert maps["ic-hz"].freshness == "unknown"  # no links at all


def test_a_chain_whose_links_are_all_old_is_stale() -> None:
    old = tuple(dataclasses.replace(lk, last_seen_on=date(2025, 1, 1)) for lk in build().links)
    m = chain_map(view(dataclasses.replace(build(), links=old)), "pv-wx")
    assert (m.fresh_share, m.freshness) == (0.0, "stale")
    assert "3 of 3 links not seen for over 365 days" in m.coverage.notes


def test_coverage_says_what_is_stale_and_who_is_undescribed() -> None:
    cov = chain_map(view(), "nev-sz").coverage
    assert cov.share == 1.0
    assert cov.inputs_missing == ()
    assert cov.notes == (
        "1 of 8 links not seen for over 365 days",
        "1 member named by the links is missing from the enterprises input",
    )


def test_coverage_without_flows_or_bank_lowers_the_share_and_says_so() -> None:
    ds = dataclasses.replace(build(), flows=(), bank=None, missing=("trade_flows", "customers"))
    m = chain_map(view(ds), "nev-sz")
    assert m.coverage.share == 2 / 4
    assert m.coverage.inputs_missing == ("trade_flows", "customers")
    assert "no trade flows: link provenance only" in m.coverage.notes
    assert not any(f.customer for f in m.firms)


def test_links_age_from_the_day_the_map_is_read_and_old_data_says_so() -> None:
    """Market data sits while time passes: read 200 days after its as_of, links seen in
    the last 90 days of the data are no longer fresh, and the coverage says how old it is."""
    from datetime import timedelta

    from strategy_region import AS_OF, YRD, build

    from chainfin.risk.strategy.graph import RegionView

    later = RegionView(build(), YRD, today=AS_OF + timedelta(days=200))
    found = chain_map(later, "nev-sz")
    assert found.freshness == "stale"
    assert all(lk.freshness != "fresh" for lk in found.links)
    assert any("200 days before today" in n for n in found.coverage.notes)


def test_segments_observed_outside_the_template_are_marked_as_such() -> None:
    found = chain_map(view(), "nev-sz")
    template = {(s.stage, s.division) for s in view().kinds["nev"].segments}
    for node in found.segments:
        assert node.in_template == ((node.stage, node.division) in template)
