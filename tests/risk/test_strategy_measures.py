"""Chain measures over the hand-built region of strategy_region.py: every value redone by
hand here from the figures listed in that module's docstring."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from strategy_region import BANK, build, view

from chainfin.domain.strategy.criteria import CRITERIA, INFORMATIONAL
from chainfin.domain.strategy.dataset import Exposure, RegionDataset
from chainfin.domain.strategy.results import ChainMeasures, Measure
from chainfin.risk.strategy.measures import measure_chains

ALPHA = 0.85  # PageRank damping, networkx's default

# 12-month (July 2025 … June 2026) and prior-12-month chain flows of nev-sz, yuan.
NEV_12M = {
    ("S1", "NC1"): 12 * 150,
    ("S2", "NC1"): 12 * 100,
    ("S3", "NC1"): 12 * 50,
    ("S4", "NC1"): 6 * 200,
    ("T1", "S1"): 12 * 20,
    ("T2", "S2"): 12 * 30,
    ("U1", "S3"): 12 * 10,
    ("NC1", "D1"): 12 * 600,
}
NEV_PRIOR = 12 * (100 + 100 + 50 + 0 + 20 + 30 + 10 + 500)


def _measures(
    ds: RegionDataset | None = None, *, min_firms: int = 3, lgd_default: float = 0.45
) -> dict[str, ChainMeasures]:
    found = measure_chains(view(ds), min_firms=min_firms, lgd_default=lgd_default)
    return {c.chain_key: c for c in found}


def _m(chain: str, key: str, ds: RegionDataset | None = None) -> Measure:
    return _measures(ds)[chain].measures[key]


def _pagerank(weights: dict[tuple[str, str], float], nodes: list[str]) -> dict[str, float]:
    """Weighted PageRank of an undirected graph by plain power iteration; a node without
    edges hands its rank to every node alike (networkx's rule for dangling nodes)."""
    strength = {n: sum(w for pair, w in weights.items() if n in pair) for n in nodes}
    rank = {n: 1 / len(nodes) for n in nodes}
    for _ in range(500):
        dangling = sum(rank[n] for n in nodes if strength[n] == 0)
        nxt = {n: (1 - ALPHA) / len(nodes) + ALPHA * dangling / len(nodes) for n in nodes}
        for (a, b), w in weights.items():
            nxt[a] += ALPHA * rank[b] * w / strength[b]
            nxt[b] += ALPHA * rank[a] * w / strength[a]
        rank = nxt
    return rank


# The region's whole supply network: the members of its three chains (nev-sz, pv-wx, ic-hz;
# S1 sells to both NC1 and PC1, EC1 has no links), unweighted.
REGION_NODES = sorted(
    {"NC1", "S1", "S2", "S3", "S4", "T1", "T2", "U1", "D1", "PC1", "P1", "P2", "EC1"}
)
REGION_WEIGHTS = {
    **dict.fromkeys(NEV_12M, 1.0),
    ("S1", "PC1"): 1.0,
    ("P1", "PC1"): 1.0,
    ("P2", "PC1"): 1.0,
}


# -- shape ---------------------------------------------------------------------------------


def test_every_chain_of_the_region_has_every_criterion_and_informational_measure() -> None:
    found = measure_chains(view())
    assert [c.chain_key for c in found] == ["ic-hz", "nev-sz", "pv-wx"]
    keys = {c.key for c in CRITERIA} | set(INFORMATIONAL)
    for chain in found:
        assert set(chain.measures) == keys
        for key, m in chain.measures.items():
            assert m.key == key
            assert m.basis in ("data", "fallback", "missing")
            assert (m.value is None) == (m.basis == "missing")


def test_every_computed_measure_carries_the_figures_it_came_from() -> None:
    for chain in measure_chains(view()):
        for m in chain.measures.values():
            if m.value is not None:
                assert m.inputs, m.key


def test_an_empty_chain_is_measured_without_crashing() -> None:
    empty = _measures()["ic-hz"].measures
    assert empty["completeness"].value == 0.0
    for key in (
        "core_strength",
        "local_supporting_rate",
        "concentration",
        "trade_trend",
        "financing_need",
    ):
        assert empty[key].basis == "missing"
        assert empty[key].note
    assert empty["alert_rate"].note == "no bank customers in the chain"
    assert empty["core_strength"].inputs["core_rating"] == "unrated"
    assert empty["risk"].value is None


# -- completeness --------------------------------------------------------------------------


def test_completeness_is_present_template_segments_over_template_segments() -> None:
    m = _m("nev-sz", "completeness")
    assert m.value == pytest.approx(1 / 13)  # only midstream C38 has 3 members in the region
    assert m.inputs == {
        "segments_total": 13,
        "segments_present": 1,
        "critical_missing": "midstream:C39, upstream:C32",
        "min_firms": 3,
    }
    assert _m("pv-wx", "completeness").value == 0.0  # the extra C40 segment does not count


def test_min_firms_lowers_the_bar_for_a_present_segment() -> None:
    pv = _measures(min_firms=2)["pv-wx"].measures["completeness"]
    assert pv.value == pytest.approx(1 / 12)  # midstream C38: PC1 and S1


def test_single_points_of_failure_are_critical_segments_with_one_member() -> None:
    m = _m("nev-sz", "single_points_of_failure")
    assert (m.value, m.unit) == (2, "count")  # midstream C39 (S4), upstream C32 (T1)
    assert _m("pv-wx", "single_points_of_failure").value == 0


# -- local supporting rate -----------------------------------------------------------------


def test_local_supporting_rate_is_the_share_of_purchases_bought_inside_the_region() -> None:
    m = _m("nev-sz", "local_supporting_rate")
    total = sum(NEV_12M.values())
    outside = NEV_12M[("T2", "S2")] + NEV_12M[("U1", "S3")]  # 深圳, and a firm described nowhere
    assert m.value == pytest.approx((total - outside) / total)
    assert (m.basis, m.inputs["purchases_minor"]) == ("data", total * 100)


def test_without_flows_the_io_shares_are_averaged_equally_when_a_revenue_is_unknown() -> None:
    m = _m("nev-sz", "local_supporting_rate", dataclasses.replace(build(), flows=()))
    # S1, S2 (江苏 C38: 0.6) and T1 (江苏 C32: 0.3) match; S2 has no revenue.
    assert m.value == pytest.approx((0.6 + 0.6 + 0.3) / 3)
    assert m.basis == "fallback"
    assert "input-output" in (m.note or "")


def test_the_io_fallback_weights_by_revenue_when_every_revenue_is_known() -> None:
    m = _m("pv-wx", "local_supporting_rate")  # pv-wx has no flows among its members
    revenue = {"PC1": 50_000_000, "S1": 20_000_000, "P1": 10_000_000}
    expected = (0.6 * revenue["PC1"] + 0.6 * revenue["S1"] + 0.2 * revenue["P1"]) / sum(
        revenue.values()
    )
    assert m.value == pytest.approx(expected)
    assert (m.basis, m.inputs["weighting"]) == ("fallback", "revenue")


def test_without_io_shares_the_rate_falls_back_to_link_counts() -> None:
    m = _m("pv-wx", "local_supporting_rate", dataclasses.replace(build(), io_shares=()))
    assert m.value == pytest.approx(2 / 3)  # S1 and P1 of S1, P1, P2 (深圳) selling to PC1
    assert m.basis == "fallback"
    assert "from link counts" in (m.note or "")


def test_with_nothing_to_go_on_the_rate_is_missing() -> None:
    m = _m("ic-hz", "local_supporting_rate")
    assert (m.value, m.basis) == (None, "missing")


# -- core strength -------------------------------------------------------------------------


def test_core_strength_is_the_cores_regional_pagerank_times_rating_quality() -> None:
    m = _m("nev-sz", "core_strength")
    rank = _pagerank(REGION_WEIGHTS, REGION_NODES)
    scaled = rank["NC1"] * len(REGION_NODES)  # multiples of the average firm's PageRank
    quality_aa = 1 - 2 / 20  # AA is two notches below AAA on a 20-notch scale
    assert m.value == pytest.approx(scaled * quality_aa, rel=1e-5)
    assert m.inputs["core_rating"] == "AA"
    assert m.inputs["pagerank_NC1"] == pytest.approx(scaled, rel=1e-5)
    assert m.inputs["region_firms"] == 13
    assert m.basis == "data"


def test_an_unrated_core_counts_at_half_quality_as_a_fallback() -> None:
    m = _m("pv-wx", "core_strength")
    rank = _pagerank(REGION_WEIGHTS, REGION_NODES)
    assert m.value == pytest.approx(rank["PC1"] * len(REGION_NODES) * 0.5, rel=1e-5)
    assert (m.basis, m.inputs["core_rating"]) == ("fallback", "unrated")
    assert m.note == "core PC1 unrated: quality taken as 0.5"


def test_a_big_chains_core_outweighs_a_small_chains_core() -> None:
    """Regional PageRank, not a share inside each chain: NC1 trades with five firms, PC1
    with three, so NC1 scores higher before the rating is applied; both are above the
    average firm (1)."""
    nev, pv = _m("nev-sz", "core_strength"), _m("pv-wx", "core_strength")
    assert nev.inputs["pagerank_NC1"] > pv.inputs["pagerank_PC1"] > 1


# -- concentration -------------------------------------------------------------------------


def test_concentration_is_the_hhi_of_the_cores_purchases() -> None:
    m = _m("nev-sz", "concentration")
    bought = [NEV_12M[(s, "NC1")] for s in ("S1", "S2", "S3", "S4")]
    assert m.value == pytest.approx(sum((a / sum(bought)) ** 2 for a in bought))
    assert m.value == pytest.approx((1800**2 + 1200**2 + 600**2 + 1200**2) / 4800**2)
    assert m.basis == "data"


def test_without_purchases_concentration_is_one_over_the_direct_suppliers() -> None:
    m = _m("pv-wx", "concentration")
    assert m.value == pytest.approx(1 / 3)
    assert m.basis == "fallback"


# -- SME depth -----------------------------------------------------------------------------


def test_sme_depth_counts_small_upstream_members_and_reports_unknown_sizes() -> None:
    m = _m("nev-sz", "sme_depth")
    # S1 small, S2 micro, S3 medium, T1 small; T2 is large; S4 and U1 have no size.
    assert (m.value, m.unit) == (4, "count")
    assert (m.inputs["sme"], m.inputs["size_unknown"]) == (4, 2)
    assert m.note == "2 upstream members of unknown size not counted"
    assert _m("pv-wx", "sme_depth").value == 3  # S1 small, P1 small, P2 medium


# -- growth --------------------------------------------------------------------------------


def test_trade_trend_compares_the_last_12_months_with_the_12_before() -> None:
    m = _m("nev-sz", "trade_trend")
    last = sum(NEV_12M.values())
    assert m.value == pytest.approx((last - NEV_PRIOR) / NEV_PRIOR)
    assert m.value == pytest.approx((12720 - 9720) / 9720)
    assert m.basis == "data"


def test_with_less_than_24_months_the_trend_compares_half_years() -> None:
    recent = tuple(f for f in build().flows if f.month >= date(2025, 7, 1))
    m = _m("nev-sz", "trade_trend", dataclasses.replace(build(), flows=recent))
    before = 6 * (150 + 100 + 50 + 20 + 30 + 10 + 600)  # July … December 2025
    after = before + 6 * 200  # S4 sells from January 2026
    assert m.value == pytest.approx((after - before) / before)
    assert (m.basis, m.inputs["months"]) == ("fallback", 6)


def test_net_entry_is_entrants_minus_leavers_over_members() -> None:
    assert _m("nev-sz", "net_entry").value == pytest.approx((1 - 1) / 9)  # S4 in, T2 out
    assert _m("pv-wx", "net_entry").value == pytest.approx((1 - 0) / 4)  # P1 in


def test_growth_is_the_mean_of_trend_and_net_entry() -> None:
    nev = _measures()["nev-sz"].measures
    assert nev["growth"].value == pytest.approx(((12720 - 9720) / 9720 + 0.0) / 2)
    pv = _m("pv-wx", "growth")  # no flows: net entry alone
    assert pv.value == pytest.approx(1 / 4)
    assert pv.basis == "fallback"


# -- financing -----------------------------------------------------------------------------


def test_financing_need_uses_financials_and_falls_back_to_sales() -> None:
    m = _m("nev-sz", "financing_need")
    # S1 (2025 financials): 20 000 000 × (1 − 0.1) × (1 + 0.2) / (360 / (30 + 60 − 30))
    s1 = 20_000_000 * 0.9 * 1.2 / (360 / (30 + 60 - 30))
    t1 = 0  # cash cycle 20 + 30 − 60 < 0
    sales = 100 * sum(NEV_12M[(s, b)] for s, b in NEV_12M if s in ("S2", "S3", "S4", "T2", "U1"))
    estimate = sales * (1 - 0.10) * (45 + 60 - 45) / 360
    assert m.value == pytest.approx((s1 + t1 + estimate) / 100)
    assert (m.unit, m.basis) == ("CNY", "fallback")
    assert m.inputs["members_sales_estimate"] == 5
    assert m.inputs["members_no_data"] == 1  # D1 sells nothing in the chain


def test_financing_in_place_is_loans_given_plus_this_banks_exposures() -> None:
    m = _m("nev-sz", "financing_in_place")
    assert m.value == pytest.approx((1_000_000 + 300_000) / 100)  # S1's loans; S2 at this bank
    assert m.basis == "fallback"
    assert "other banks' financing unknown" in (m.note or "")


def test_financing_gap_is_need_less_in_place() -> None:
    nev = _measures()["nev-sz"].measures
    need, place = nev["financing_need"].value, nev["financing_in_place"].value
    assert need is not None
    assert place is not None
    assert nev["financing_gap"].value == pytest.approx(max(0.0, need - place))
    assert nev["financing_gap"].value == pytest.approx((3_652_200 - 1_300_000) / 100)


# -- the bank's position -------------------------------------------------------------------


def test_the_banks_shares_of_members_cores_and_financing() -> None:
    nev = _measures()["nev-sz"].measures
    assert nev["customer_share"].value == pytest.approx(3 / 9)  # NC1, S1, S2 of nine
    assert nev["cores_covered"].value == 1.0
    assert nev["financing_share"].value == pytest.approx((800_000 + 300_000) / 1_300_000)
    assert nev["credentials_funded"].value == pytest.approx((200_000 + 50_000) / 100)
    assert _m("pv-wx", "customer_share").value == pytest.approx(2 / 4)  # PC1, S1


def test_financing_share_falls_back_to_the_need_when_nothing_is_in_place() -> None:
    ds = dataclasses.replace(
        build(),
        financials=tuple(dataclasses.replace(f, loans_minor=None) for f in build().financials),
        bank=dataclasses.replace(BANK, exposures=(Exposure("PC1", 900_000),)),
    )
    # Nothing in place at the non-core members: the core's loan is not theirs.
    m = _m("pv-wx", "financing_share", ds)
    assert m.value == pytest.approx(0 / 3_600_000)  # S1's need only (P1, P2 sell nothing)
    assert m.inputs["need_minor"] == 3_600_000
    assert m.basis == "fallback"
    assert "financing need" in (m.note or "")


def test_financing_in_place_of_this_bank_alone_is_no_denominator() -> None:
    """Without any member's loans at all banks, financing in place is this bank's own
    exposure, and the share held would be 100 % by construction: it is taken of the need."""
    ds = dataclasses.replace(build(), financials=())
    nev = _measures(ds)["nev-sz"].measures
    m = nev["financing_share"]
    need = nev["financing_need"].inputs["need_minor"]
    assert isinstance(need, int)
    assert m.value == pytest.approx(min(1.0, (800_000 + 300_000) / need))
    assert "in_place_minor" not in m.inputs
    assert m.basis == "fallback"
    assert m.note is not None
    assert "other banks' financing unknown" in m.note


def test_without_a_bank_position_the_bank_measures_are_missing() -> None:
    nev = _measures(dataclasses.replace(build(), bank=None))["nev-sz"].measures
    for key in (
        "customer_share",
        "cores_covered",
        "financing_share",
        "credentials_funded",
        "alert_rate",
        "delinquency_rate",
        "expected_loss",
    ):
        assert (nev[key].value, nev[key].basis) == (None, "missing"), key
        assert nev[key].note == "no bank position given"
    assert nev["risk"].value == pytest.approx(nev["debtrank_fragility"].value)
    assert nev["risk"].basis == "fallback"


# -- risk ----------------------------------------------------------------------------------


def test_alert_and_delinquency_rates_are_over_the_banks_customers_in_the_chain() -> None:
    nev = _measures()["nev-sz"].measures
    assert nev["alert_rate"].value == pytest.approx(1 / 3)  # S2 has open alerts
    assert nev["delinquency_rate"].value == pytest.approx(1 / 3)  # S2 is overdue


def test_debtrank_fragility_when_the_core_fails() -> None:
    m = _m("nev-sz", "debtrank_fragility")
    # value: revenue where known, else 12-month sales (minor); equity 30 % of it.
    sales = {s: 100 * a for (s, _), a in NEV_12M.items()}
    value = {
        "NC1": 100_000_000,
        "S1": 20_000_000,
        "S2": sales["S2"],
        "S3": 30_000_000,
        "S4": sales["S4"],
        "T1": 10_000_000,
        "T2": 80_000_000,
        "U1": sales["U1"],
        "D1": 5_000_000,
    }

    def w(seller: str, buyer: str) -> float:  # receivable (60/360 of sales) over equity, ≤ 1
        return min(1.0, 100 * NEV_12M[(seller, buyer)] * 60 / 360 / (0.3 * value[seller]))

    h = dict.fromkeys(value, 0.0)
    for s in ("S1", "S2", "S3", "S4"):  # round 1: NC1 (h = 1) hits its suppliers
        h[s] = w(s, "NC1") * 1.0
    h["T1"] = w("T1", "S1") * h["S1"]  # round 2: they hit theirs
    h["T2"] = w("T2", "S2") * h["S2"]
    h["U1"] = w("U1", "S3") * h["S3"]
    expected = sum(h[n] * value[n] for n in value) / sum(value.values())
    assert m.value == pytest.approx(expected)
    assert m.basis == "fallback"  # S2, S4 and U1 sized by sales
    assert _m("pv-wx", "debtrank_fragility").basis == "missing"  # no flows


def test_expected_loss_skips_exposures_without_a_pd() -> None:
    m = _m("nev-sz", "expected_loss")
    assert m.value == pytest.approx((5_000_000 * 0.01 * 0.4 + 800_000 * 0.02 * 0.45) / 100)
    assert (m.unit, m.basis, m.inputs["without_pd"]) == ("CNY", "fallback", 1)
    lgd = _measures(lgd_default=0.5)["nev-sz"].measures["expected_loss"]
    assert lgd.value == pytest.approx((5_000_000 * 0.01 * 0.4 + 800_000 * 0.02 * 0.5) / 100)


def test_expected_loss_is_missing_when_no_exposure_has_a_pd() -> None:
    no_pd = tuple(dataclasses.replace(e, pd=None) for e in BANK.exposures)
    ds = dataclasses.replace(build(), bank=dataclasses.replace(BANK, exposures=no_pd))
    assert _m("nev-sz", "expected_loss", ds).basis == "missing"


def test_risk_is_the_mean_of_the_available_parts() -> None:
    nev = _measures()["nev-sz"].measures
    el_rate = (5_000_000 * 0.01 * 0.4 + 800_000 * 0.02 * 0.45) / (5_000_000 + 800_000)
    parts = [1 / 3, 1 / 3, nev["debtrank_fragility"].value or 0.0, el_rate]
    assert nev["risk"].value == pytest.approx(sum(parts) / 4)
    assert nev["risk"].basis == "data"
    pv = _m("pv-wx", "risk")  # no DebtRank without flows
    assert pv.value == pytest.approx((0 + 0 + 800_000 * 0.02 * 0.45 / 800_000) / 3)
    assert pv.basis == "fallback"


# -- policy --------------------------------------------------------------------------------


def test_policy_priority_by_the_level_of_the_list_naming_the_chain() -> None:
    found = _measures()
    assert found["nev-sz"].measures["policy_priority"].value == 1.0  # 苏州 lists nev
    assert found["pv-wx"].measures["policy_priority"].value == 0.75  # 江苏 lists pv
    assert found["ic-hz"].measures["policy_priority"].value == 0.0  # nobody lists ic


def test_without_a_policy_list_policy_priority_is_missing() -> None:
    ds = dataclasses.replace(build(), policies=(), missing=("policies",))
    m = _m("nev-sz", "policy_priority", ds)
    assert (m.value, m.basis, m.note) == (None, "missing", "no policy list imported")


# -- series and coverage -------------------------------------------------------------------


def test_trade_volume_series_has_the_last_24_monthly_totals() -> None:
    series = _measures()["nev-sz"].series["trade_volume"]
    assert len(series) == 24
    assert series[0] == (date(2024, 7, 1), 100 + 100 + 50 + 20 + 30 + 10 + 500)
    assert series[-1] == (date(2026, 6, 1), 150 + 100 + 50 + 200 + 20 + 30 + 10 + 600)
    assert _measures()["pv-wx"].series["trade_volume"] == ()


def test_coverage_is_the_share_of_measures_computed_from_data() -> None:
    chain = _measures()["nev-sz"]
    assert chain.coverage is not None
    data = sum(1 for m in chain.measures.values() if m.basis == "data")
    assert chain.coverage.share == pytest.approx(data / len(chain.measures))
    assert "expected_loss: 1 exposures without a PD skipped" in chain.coverage.notes
