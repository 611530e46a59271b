"""The chain ranking: TOPSIS against published examples, AHP weights and the consistency
ratio, entropy weights computed by hand, the blend, the gates, missing values, the seeded
sensitivity intervals, the quadrant, the reasons, and every refusal of a weights file."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pytest
from pymcdm import normalizations  # type: ignore[import-untyped]
from pymcdm.methods import TOPSIS  # type: ignore[import-untyped]

from chainfin.domain.strategy.criteria import CRITERIA
from chainfin.domain.strategy.results import ChainMeasures, Coverage, Measure, RankedChain
from chainfin.risk.strategy.ranking import (
    ENTROPY_SHIFT,
    Gates,
    WeightInput,
    WeightsError,
    entropy,
    format_value,
    parse_weights,
    quadrant,
    rank,
    subjective_weights,
    topsis,
    weights_template,
)

AS_OF = date(2026, 6, 30)
KEYS = [c.key for c in CRITERIA]


def chain(
    key: str,
    values: Mapping[str, float | None] | None = None,
    *,
    kind: str = "nev",
    rating: str = "AA",
    default: float = 0.5,
) -> ChainMeasures:
    """A chain whose every criterion is ``default`` unless ``values`` says otherwise (None:
    the measure could not be computed)."""
    given = values or {}
    measures = {}
    for c in CRITERIA:
        v = given.get(c.key, default)
        inputs: dict[str, float | int | str] = (
            {"core_rating": rating} if c.key == "core_strength" else {}
        )
        measures[c.key] = Measure(c.key, v, "share", "missing" if v is None else "data", inputs)
    return ChainMeasures(key, key.upper(), kind, "yrd", measures)


def ranked(measures: list[ChainMeasures], **kw: Any) -> dict[str, RankedChain]:
    r = rank(measures, region="yrd", as_of=AS_OF, **kw)
    return {c.chain_key: c for c in r.chains}


# --- TOPSIS --------------------------------------------------------------------------------


def test_topsis_reproduces_opricovic_tzeng_example() -> None:
    """Opricovic, S. & Tzeng, G.-H. (2004), "Compromise solution by MCDM methods: a
    comparative analysis of VIKOR and TOPSIS", EJOR 156(2), 445–455, numerical example:
    A1 (1, 3000), A2 (2, 3750), A3 (5, 4500), criterion 1 a cost, criterion 2 a benefit,
    equal weights, linear (min-max) normalisation: closeness 0.500, 0.617, 0.500 (the
    values pymcdm's own reference test pins)."""
    raw = np.array([[1, 3000], [2, 3750], [5, 4500]], dtype=float)
    closeness = topsis(raw, np.array([0.5, 0.5]), [False, True])
    assert [round(float(c), 3) for c in closeness] == [0.500, 0.617, 0.500]


def test_topsis_with_vector_normalisation_matches_the_textbook_steps() -> None:
    """B. Sennaroğlu, Decision Analysis lecture notes (after Yoon & Hwang, "Multiple
    Attribute Decision Making: An Introduction", Sage 1995): two benefit criteria weighted
    0.714 / 0.286, ratings (17, 12), (10, 9), (8, 6); the published weighted normalised
    matrix is 0.5703 0.2124 / 0.3355 0.1593 / 0.2684 0.1062. The closeness follows from it
    by the TOPSIS steps, done here by hand."""
    raw = np.array([[17, 12], [10, 9], [8, 6]], dtype=float)
    v = np.array([[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]])
    assert np.allclose(raw / np.sqrt((raw**2).sum(axis=0)) * [0.714, 0.286], v, atol=5e-5)
    d_best = np.sqrt(((v - v.max(axis=0)) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - v.min(axis=0)) ** 2).sum(axis=1))
    by_hand = d_worst / (d_best + d_worst)  # 1.000, 0.262, 0.000
    method = TOPSIS(normalization_function=normalizations.vector_normalization)
    got = method(raw, np.array([0.714, 0.286]), np.array([1, 1]), validation=False)
    assert [round(float(x), 3) for x in got] == [round(float(x), 3) for x in by_hand]
    assert [round(float(x), 3) for x in got] == [1.000, 0.262, 0.000]


def test_a_column_without_spread_does_not_move_topsis() -> None:
    raw = np.array([[1, 7], [2, 7], [3, 7]], dtype=float)
    assert np.allclose(topsis(raw, np.array([0.5, 0.5]), [True, True]), [0.0, 0.5, 1.0])


def test_identical_chains_all_sit_on_the_ideal() -> None:
    raw = np.array([[1, 7], [1, 7]], dtype=float)
    assert topsis(raw, np.array([0.5, 0.5]), [True, True]).tolist() == [1.0, 1.0]


# --- AHP -----------------------------------------------------------------------------------


def pairwise(criteria: list[str], matrix: list[list[object]]) -> str:
    return json.dumps({"pairwise": {"criteria": criteria, "matrix": matrix}})


def test_a_consistent_pairwise_matrix_gives_its_eigenvector_and_cr_zero() -> None:
    # a = 2b, b = 2c: weights 4/7, 2/7, 1/7 exactly, and a perfectly consistent matrix
    w = parse_weights(
        pairwise(
            ["customer_share", "completeness", "risk"],
            [[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]],
        )
    )
    weights, method, cr = subjective_weights(w)
    assert method == "ahp"
    assert cr == pytest.approx(0.0, abs=1e-9)
    assert weights["customer_share"] == pytest.approx(4 / 7)
    assert weights["completeness"] == pytest.approx(2 / 7)
    assert weights["risk"] == pytest.approx(1 / 7)
    assert weights["growth"] == 0.0  # not compared: no subjective weight


def test_an_inconsistent_pairwise_matrix_is_refused_with_its_cr() -> None:
    # a ≫ b ≫ c ≫ a, each by 9: as inconsistent as three comparisons get (CR 6.131)
    text = pairwise(
        ["customer_share", "completeness", "risk"],
        [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]],
    )
    with pytest.raises(WeightsError, match=r"consistency ratio CR = 6\.131 .*CR < 0\.10"):
        parse_weights(text)


def test_decimal_reciprocals_within_tolerance_are_accepted() -> None:
    w = parse_weights(pairwise(["risk", "growth"], [[1, 3], [1 / 3, 1]]))
    weights, _, cr = subjective_weights(w)
    assert weights["risk"] == pytest.approx(0.75)
    assert cr == 0.0  # two criteria are always consistent


# --- entropy ---------------------------------------------------------------------------------


def test_entropy_weights_by_hand() -> None:
    # benefit column 0, 5, 10 -> min-max 0, 0.5, 1; cost column 1, 1, 4 -> 1, 1, 0
    raw = np.array([[0, 1], [5, 1], [10, 4]], dtype=float)
    e = ENTROPY_SHIFT

    def entropy_of(col: list[float]) -> float:
        shifted = [x + e for x in col]
        p = [x / sum(shifted) for x in shifted]
        return -sum(q * math.log(q) for q in p) / math.log(3)

    d1 = 1 - entropy_of([0.0, 0.5, 1.0])
    d2 = 1 - entropy_of([1.0, 1.0, 0.0])
    assert entropy(raw, [True, False]).tolist() == pytest.approx([d1 / (d1 + d2), d2 / (d1 + d2)])


def test_a_criterion_without_spread_gets_no_entropy_weight() -> None:
    raw = np.array([[0, 3], [5, 3], [10, 3]], dtype=float)
    assert entropy(raw, [True, True]).tolist() == pytest.approx([1.0, 0.0])


def test_with_one_chain_entropy_weights_are_equal() -> None:
    raw = np.array([[0.2, 3.0]])
    assert entropy(raw, [True, True]).tolist() == [0.5, 0.5]


# --- blending --------------------------------------------------------------------------------


def three_chains() -> list[ChainMeasures]:
    return [
        chain("a", {"customer_share": 0.1, "growth": 0.30, "risk": 0.02}),
        chain("b", {"customer_share": 0.4, "growth": 0.10, "risk": 0.05}),
        chain("c", {"customer_share": 0.2, "growth": 0.20, "risk": 0.01}),
    ]


def test_without_head_office_weights_the_final_weights_are_the_entropy_ones() -> None:
    r = rank(three_chains(), region="yrd", as_of=AS_OF)
    assert r.weights.blend == 0.0
    assert r.weights.subjective is None
    assert r.weights.subjective_method is None
    assert r.weights.final == r.weights.entropy
    assert sum(r.weights.final.values()) == pytest.approx(1.0)
    # nine criteria do not vary across the chains: they carry no entropy weight
    assert [k for k, v in r.weights.entropy.items() if v > 0] == [
        "growth",
        "customer_share",
        "risk",
    ]


def test_final_weights_blend_subjective_and_entropy() -> None:
    direct = WeightInput(direct={k: (3.0 if k == "customer_share" else 1.0) for k in KEYS})
    r = rank(three_chains(), region="yrd", as_of=AS_OF, weights=direct, blend=0.25)
    sub, ent = r.weights.subjective, r.weights.entropy
    assert sub is not None
    assert sub["customer_share"] == pytest.approx(3 / 14)
    assert r.weights.subjective_method == "direct"
    assert r.weights.blend == 0.25
    for k in KEYS:
        assert r.weights.final[k] == pytest.approx(0.25 * sub[k] + 0.75 * ent[k])


def test_a_blend_in_the_weights_file_applies_when_none_is_given() -> None:
    w = parse_weights('{"direct": {"others": 1}, "blend": 1}')
    r = rank(three_chains(), region="yrd", as_of=AS_OF, weights=w)
    assert r.weights.blend == 1.0
    assert r.weights.final == pytest.approx(dict.fromkeys(KEYS, 1 / 12))


def test_a_blend_given_with_the_request_wins_over_the_files() -> None:
    w = parse_weights('{"direct": {"others": 1}, "blend": 1}')
    r = rank(three_chains(), region="yrd", as_of=AS_OF, weights=w, blend=0.3)
    assert r.weights.blend == 0.3


def test_without_any_blend_head_offices_weights_count_for_half() -> None:
    w = parse_weights('{"direct": {"others": 1}}')
    assert rank(three_chains(), region="yrd", as_of=AS_OF, weights=w).weights.blend == 0.5


# --- ranking ---------------------------------------------------------------------------------


def test_the_best_chain_on_every_criterion_ranks_first_and_scores_one() -> None:
    good = {c.key: (0.9 if c.benefit else 0.1) for c in CRITERIA}
    bad = {c.key: (0.1 if c.benefit else 0.9) for c in CRITERIA}
    out = ranked([chain("worse", bad), chain("better", good)])
    assert out["better"].rank == 1
    assert out["better"].score == pytest.approx(1.0)
    assert out["worse"].rank == 2
    assert out["worse"].score == pytest.approx(0.0)


def test_ties_go_to_the_smaller_chain_key() -> None:
    out = ranked([chain("zeta"), chain("alpha")])
    assert out["alpha"].rank == 1
    assert out["zeta"].rank == 2


def test_no_chains_give_an_empty_ranking() -> None:
    r = rank([], region="yrd", as_of=AS_OF)
    assert r.chains == ()
    assert "no chains in the region" in r.coverage.notes


def test_a_single_chain_ranks_first_with_score_one() -> None:
    (only,) = rank([chain("a")], region="yrd", as_of=AS_OF).chains
    assert (only.rank, only.score, only.rank_low, only.rank_high) == (1, 1.0, 1, 1)
    assert only.quadrant == "pursue"
    assert "only chain" in only.reason


# --- gates -----------------------------------------------------------------------------------


def test_a_restricted_kind_is_excluded_and_listed_after_the_ranked() -> None:
    r = rank(
        [chain("a", kind="steel"), chain("b"), chain("c")],
        region="yrd",
        as_of=AS_OF,
        gates=Gates(restricted_kinds=frozenset({"steel"})),
    )
    assert [c.chain_key for c in r.chains] == ["b", "c", "a"]
    a = r.chains[-1]
    assert (a.score, a.rank, a.rank_low, a.quadrant) == (None, None, None, None)
    assert a.excluded_by == ("excluded: chain kind steel is restricted",)


def test_a_restricted_division_excludes_chains_whose_cores_sit_in_it() -> None:
    gates = Gates(restricted_divisions=frozenset({"C38"}))
    out = ranked([chain("ev", kind="nev"), chain("chip", kind="ic")], gates=gates)
    assert out["ev"].excluded_by == (
        "excluded: midstream segment C38 (动力电池、驱动电机) is in a restricted division",
    )
    assert out["chip"].rank == 1


def test_a_restricted_supplier_division_does_not_exclude() -> None:
    gates = Gates(restricted_divisions=frozenset({"C31"}))  # cold-rolled steel for EVs
    assert ranked([chain("ev", kind="nev")], gates=gates)["ev"].rank == 1


def test_a_core_below_the_rating_floor_is_excluded() -> None:
    out = ranked(
        [chain("a", rating="A"), chain("b", rating="AA")], gates=Gates(min_core_rating="AA-")
    )
    assert out["a"].reason == "excluded: core rating A below the floor AA-"
    assert out["b"].rank == 1


def test_an_unrated_core_never_passes_a_floor() -> None:
    out = ranked([chain("a", rating="unrated")], gates=Gates(min_core_rating="BBB"))
    assert out["a"].excluded_by == ("excluded: core unrated below the floor BBB",)


def test_a_floor_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="'AAAA' is not a rating"):
        Gates(min_core_rating="AAAA")


# --- missing values --------------------------------------------------------------------------


def test_a_criterion_missing_for_every_chain_is_left_out() -> None:
    r = rank(
        [
            chain("a", {"policy_priority": None, "growth": 0.1}),
            chain("b", {"policy_priority": None}),
        ],
        region="yrd",
        as_of=AS_OF,
    )
    assert "policy_priority" not in r.criteria
    assert len(r.criteria) == len(CRITERIA) - 1
    assert r.coverage.inputs_missing == ("policy_priority",)
    assert (
        "Policy priority (policy_priority) missing for every chain: left out of the ranking"
        in r.coverage.notes
    )


def test_a_criterion_missing_for_some_chains_counts_at_the_worst_observed_value() -> None:
    # risk is a cost: the worst observed value is the highest, 0.05
    chains = three_chains()
    chains[2] = chain("c", {"customer_share": 0.2, "growth": 0.20, "risk": None})
    same_as_worst = three_chains()
    same_as_worst[2] = chain("c", {"customer_share": 0.2, "growth": 0.20, "risk": 0.05})
    r = rank(chains, region="yrd", as_of=AS_OF)
    r_worst = rank(same_as_worst, region="yrd", as_of=AS_OF)
    assert [c.score for c in r.chains] == [c.score for c in r_worst.chains]
    c = next(x for x in r.chains if x.chain_key == "c")
    assert c.reason.endswith("Risk missing, counted at the worst observed value")
    assert any(n.startswith("Risk (risk) missing for c:") for n in r.coverage.notes)


def test_a_given_coverage_keeps_its_share_and_gains_the_ranking_notes() -> None:
    given = Coverage(0.8, ("enterprises",), ("policies",), ("policies not given",))
    r = rank(
        [chain("a", {"policy_priority": None}), chain("b", {"policy_priority": None})],
        region="yrd",
        as_of=AS_OF,
        coverage=given,
    )
    assert r.coverage.share == 0.8
    assert r.coverage.inputs_missing == ("policies",)
    assert r.coverage.notes[0] == "policies not given"
    assert len(r.coverage.notes) == 2


# --- sensitivity -----------------------------------------------------------------------------


def five_chains() -> list[ChainMeasures]:
    rows = [
        ("a", 0.30, 0.10, 0.02),
        ("b", 0.25, 0.20, 0.03),
        ("c", 0.20, 0.25, 0.01),
        ("d", 0.10, 0.40, 0.04),
        ("e", 0.05, 0.05, 0.05),
    ]
    return [chain(k, {"customer_share": s, "growth": g, "risk": r}) for k, s, g, r in rows]


def intervals(**kw: Any) -> list[tuple[str, int | None, int | None, int | None]]:
    r = rank(five_chains(), region="yrd", as_of=AS_OF, **kw)
    return [(c.chain_key, c.rank_low, c.rank, c.rank_high) for c in r.chains]


def test_the_same_seed_gives_the_same_intervals() -> None:
    assert intervals(seed=5, draws=200) == intervals(seed=5, draws=200)


def test_intervals_contain_the_spread_of_the_draws() -> None:
    for _, low, at, high in intervals(seed=5, draws=200, noise=0.5):
        assert low is not None
        assert high is not None
        assert at is not None
        assert 1 <= low <= high <= 5


def test_weight_noise_moves_close_chains() -> None:
    widths = [(high or 0) - (low or 0) for _, low, _, high in intervals(draws=300, noise=0.5)]
    assert max(widths) >= 1


def test_without_noise_the_interval_is_the_rank() -> None:
    for _, low, at, high in intervals(noise=0.0, draws=50):
        assert low == at == high


def test_without_draws_the_interval_is_the_rank() -> None:
    for _, low, at, high in intervals(draws=0):
        assert low == at == high


# --- quadrant and reasons --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attractiveness", "ability", "expected"),
    [
        (0.5, 0.5, "pursue"),
        (0.9, 0.49, "build"),
        (0.49, 0.9, "maintain"),
        (0.1, 0.1, "watch"),
        (None, 0.9, None),
    ],
)
def test_quadrant(
    attractiveness: float | None, ability: float | None, expected: str | None
) -> None:
    assert quadrant(attractiveness, ability) == expected


def test_attractiveness_and_ability_are_topsis_over_their_groups() -> None:
    # a leads on ability (customer share), b on attractiveness (growth)
    out = ranked(
        [
            chain("a", {"customer_share": 0.6, "growth": 0.1}),
            chain("b", {"customer_share": 0.1, "growth": 0.6}),
        ]
    )
    a, b = out["a"], out["b"]
    assert (a.attractiveness, a.ability, a.quadrant) == (0.0, 1.0, "maintain")
    assert (b.attractiveness, b.ability, b.quadrant) == (1.0, 0.0, "build")


def test_the_reason_names_the_two_strongest_and_the_weakest_criterion() -> None:
    reasons = {
        c.chain_key: c.reason for c in rank(three_chains(), region="yrd", as_of=AS_OF).chains
    }
    assert reasons["c"] == "strongest Risk 1.0 % and Growth 20 %; weakest Customer share 20 %"
    # b is worst on growth and risk alike: the weakest is the heavier of the two (growth)
    assert reasons["b"] == "strongest Customer share 40 %; weakest Growth 10 %"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.345, "share", "34 %"),
        (0.041, "rate", "4.1 %"),
        (12_340_000.0, "CNY", "1,234 万元"),
        (56_000.0, "CNY", "5.6 万元"),
        (17.0, "count", "17"),
        (0.8234, "index", "0.82"),
    ],
)
def test_values_are_formatted_for_people(value: float, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


# --- the weights file ------------------------------------------------------------------------


def test_the_template_is_a_valid_weights_file() -> None:
    w = parse_weights(weights_template())
    assert w.blend == 0.5
    assert w.direct is not None
    assert set(w.direct) == set(KEYS)


def test_others_fills_the_criteria_not_named() -> None:
    w = parse_weights('{"direct": {"customer_share": 3, "others": 1}}')
    weights, method, cr = subjective_weights(w)
    assert (method, cr) == ("direct", None)
    assert weights["customer_share"] == pytest.approx(3 / 14)
    assert weights["risk"] == pytest.approx(1 / 14)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"weights: not JSON \(Expecting property name"),
        ("[1, 2]", "weights: the file must hold a JSON object"),
        ('{"direct": {"others": 1}, "weights": 1}', "weights: unknown key 'weights'"),
        ("{}", 'give either "direct" or "pairwise" weights, exactly one'),
        (
            '{"direct": {"others": 1}, "pairwise": {"criteria": [], "matrix": []}}',
            'give either "direct" or "pairwise"',
        ),
        ('{"direct": {"others": 1}, "blend": 1.5}', "blend must be between 0 and 1, got 1.5"),
        ('{"direct": {"others": 1}, "blend": "half"}', "blend must be a number between 0 and 1"),
        ('{"direct": [1, 2]}', "direct: must be an object of criterion -> weight"),
        ('{"direct": {"others": 1, "profit": 2}}', "direct: unknown criterion 'profit'"),
        (
            '{"direct": {"growth": "high", "others": 1}}',
            "direct.growth must be a number, got 'high'",
        ),
        ('{"direct": {"growth": -1, "others": 1}}', "direct.growth must be 0 or more, got -1"),
        ('{"direct": {"others": -2}}', "direct.others must be 0 or more, got -2"),
        ('{"direct": {"growth": 1}}', "direct: no weight for completeness, local_supporting_rate"),
        ('{"direct": {"others": 0}}', "direct: at least one weight must be above 0"),
        ('{"pairwise": [1]}', 'pairwise: must be an object with "criteria" and "matrix"'),
        (
            '{"pairwise": {"criteria": ["risk", "growth"], "matrix": [[1]], "order": 1}}',
            "pairwise: unknown key 'order'",
        ),
        ('{"pairwise": {"criteria": "risk", "matrix": []}}', "pairwise.criteria must be a list"),
        (
            '{"pairwise": {"criteria": ["risk"], "matrix": 1}}',
            "pairwise.matrix must be a list of rows",
        ),
        (
            pairwise(["risk", "profit"], [[1, 2], ["1/2", 1]]),
            "pairwise.criteria: unknown criterion 'profit'",
        ),
        (pairwise(["risk", "risk"], [[1, 1], [1, 1]]), "pairwise.criteria: 'risk' is listed twice"),
        (pairwise(["risk"], [[1]]), "pairwise.criteria: compare at least two criteria"),
        (pairwise(["risk", "growth"], [[1, 2]]), "pairwise.matrix has 1 rows for 2 criteria"),
        (
            pairwise(["risk", "growth"], [[1, 2], [1]]),
            r"pairwise.matrix\[1\] has 1 cells for 2 criteria",
        ),
        (
            pairwise(["risk", "growth"], [[1, 0], [1, 1]]),
            r"pairwise.matrix\[0\]\[1\] \(risk vs growth\) must be positive, got 0",
        ),
        (
            pairwise(["risk", "growth"], [[2, 2], ["1/2", 1]]),
            r"pairwise.matrix\[0\]\[0\] \(risk vs risk\) must be 1",
        ),
        (
            pairwise(["risk", "growth"], [[1, 11], ["1/11", 1]]),
            r"pairwise.matrix\[0\]\[1\] \(risk vs growth\) must be on Saaty's scale",
        ),
        (
            pairwise(["risk", "growth"], [[1, 3], [0.333, 1]]),
            r"pairwise.matrix\[1\]\[0\] must be 1/3 \(the reciprocal of "
            r"pairwise.matrix\[0\]\[1\]\), got 0.333",
        ),
        (
            pairwise(["risk", "growth"], [[1, "3/0"], ["1/3", 1]]),
            r"pairwise.matrix\[0\]\[1\] must be a number or a fraction such as 1/3, got '3/0'",
        ),
    ],
)
def test_a_bad_weights_file_is_refused_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(WeightsError, match=message):
        parse_weights(text)


def test_weights_errors_are_value_errors() -> None:
    assert issubclass(WeightsError, ValueError)


def test_head_office_weights_on_left_out_criteria_fall_back_to_entropy() -> None:
    w = parse_weights(pairwise(["policy_priority", "sme_depth"], [[1, 3], ["1/3", 1]]))
    gone: dict[str, float | None] = {"policy_priority": None, "sme_depth": None}
    chains = [
        chain(
            c.chain_key,
            {**gone, **{k: c.measures[k].value for k in ("customer_share", "growth", "risk")}},
        )
        for c in three_chains()
    ]
    r = rank(chains, region="yrd", as_of=AS_OF, weights=w, blend=0.5)
    assert r.weights.final == pytest.approx(r.weights.entropy)
    assert r.weights.consistency_ratio == 0.0
    assert r.weights.subjective_method == "ahp"
    assert (
        "head office's weights name only criteria left out: entropy weights used"
        in r.coverage.notes
    )


def test_the_weakest_criterion_is_never_one_of_the_strongest() -> None:
    """Two criteria weighed, one chain best on both: it names them as strongest and no
    weakest, rather than one criterion as both."""
    out = ranked(
        [
            chain("a", {"customer_share": 0.6, "growth": 0.6}),
            chain("b", {"customer_share": 0.1, "growth": 0.1}),
        ]
    )
    assert "weakest" not in out["a"].reason
    assert out["a"].reason.startswith("strongest ")


@pytest.mark.parametrize("cell", ["1e20000000", "1e309", "1/0", "0x10", "1.5/2", "1000/1"])
def test_a_pairwise_cell_that_is_not_a_small_fraction_is_refused_at_once(cell: str) -> None:
    text = json.dumps(
        {"pairwise": {"criteria": ["completeness", "growth"], "matrix": [[1, cell], [1, 1]]}}
    )
    with pytest.raises(WeightsError, match="must be a number or a fraction such as 1/3"):
        parse_weights(text)


def test_weights_nested_beyond_reason_are_refused_not_crashed() -> None:
    with pytest.raises(WeightsError, match="nested too deeply"):
        parse_weights("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"direct": {"others": 1' + "0" * 400 + "}}", "too large a number"),
        ('{"direct": {"others": ' + "9" * 5000 + "}}", "not a weights file"),
        ('{"direct": {"others": 1}, "blend": 1e999}', "blend must be"),
    ],
)
def test_numbers_beyond_floats_are_refused_not_crashed(text: str, message: str) -> None:
    with pytest.raises(WeightsError, match=message):
        parse_weights(text)


def test_a_criterion_every_chain_shares_is_never_a_reason() -> None:
    out = ranked(
        [
            chain("a", {"customer_share": 0.6, "growth": 0.1, "completeness": 0.0}),
            chain("b", {"customer_share": 0.1, "growth": 0.6, "completeness": 0.0}),
        ]
    )
    for c in out.values():
        assert "Completeness" not in c.reason


def test_a_chain_best_on_every_criterion_names_no_weakness() -> None:
    out = ranked(
        [
            chain("a", {"customer_share": 0.6, "growth": 0.6, "risk": 0.01}),
            chain("b", {"customer_share": 0.1, "growth": 0.1, "risk": 0.05}),
        ]
    )
    assert "weakest" not in out["a"].reason
    assert out["a"].weakest is None
