"""DebtRank (Battiston et al., 2012) on small networks computed by hand, every input error
with its field and row, properties on random networks, and a cross-check against a
straightforward pure-Python implementation of the same rules.

Notation in the comments: ``W_ij = min(1, A_ij / E_i)`` is the impact of j on its holder i;
``h(t)`` is distress at time t; U/D/I are the states; ``v`` the relative values."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.risk.debtrank import MAX_ERRORS, Network, Result, debtrank, parse_shocks, run
from propbudget import budget

Node = tuple[str, float, float]  # id, equity, value
Edge = tuple[str, str, float]  # holder, counterparty, exposure


def net(nodes: list[Node], edges: list[Edge]) -> Network:
    return Network.from_rows(
        [{"id": i, "equity": e, "value": v} for i, e, v in nodes],
        [{"holder": h, "counterparty": c, "exposure": x} for h, c, x in edges],
    )


def h(result: Result) -> dict[str, float]:
    return dict(zip(result.ids, result.h.tolist(), strict=True))


def errors_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str, int | None]]:
    return [(e.field, e.reason, e.row) for e in exc.value.errors]


# --- hand-computed networks ----------------------------------------------------------------


def test_two_node_chain() -> None:
    # A is exposed to B by 50 with equity 100: W_AB = min(1, 50/100) = 0.5.
    # V = (30, 70) so v = (0.3, 0.7).
    network = net([("A", 100, 30), ("B", 200, 70)], [("A", "B", 50)])
    # Shock B fully. t=1: h = (0, 1), B is D.
    # t=2: h_A = 0 + W_AB·h_B = 0.5·1 = 0.5; B: D→I, A: U→D.
    # t=3: nobody is exposed to A; A: D→I. No D left: T = 3, rounds = T-1 = 2.
    r = debtrank(network, {"B": 1.0})
    assert h(r) == {"A": 0.5, "B": 1.0}
    assert r.rounds == 2
    # R = Σ h(T)v − Σ h(1)v = (0.5·0.3 + 1·0.7) − 1·0.7 = 0.5·v_A = 0.15.
    assert r.debtrank == pytest.approx(0.15)
    assert r.total == pytest.approx(0.85)
    assert r.initial == pytest.approx(0.7)
    assert r.distressed == 2
    # Shock B by 0.3 instead: h_A = 0.5·0.3 = 0.15; R = 0.15·0.3 = 0.045; initial 0.3·0.7.
    r = debtrank(network, {"B": 0.3})
    assert h(r) == pytest.approx({"A": 0.15, "B": 0.3})
    assert r.debtrank == pytest.approx(0.045)
    assert r.initial == pytest.approx(0.21)
    # Shock A instead: nobody is exposed to A, so nothing spreads; R = 0 and one round.
    r = debtrank(network, {"A": 1.0})
    assert h(r) == {"A": 1.0, "B": 0.0}
    assert (r.rounds, r.debtrank, r.distressed) == (1, 0.0, 1)


def test_three_node_chain_passes_distress_one_hop_per_round() -> None:
    # C exposed to B (W_CB = 40/100 = 0.4), B exposed to A (W_BA = 50/100 = 0.5).
    network = net([("A", 100, 1), ("B", 100, 1), ("C", 100, 1)], [("B", "A", 50), ("C", "B", 40)])
    # t=1: h = (1, 0, 0). t=2: h_B = 0.5·1 = 0.5. t=3: h_C = 0.4·0.5 = 0.2. t=4: C→I.
    r = debtrank(network, {"A": 1.0})
    assert h(r) == pytest.approx({"A": 1.0, "B": 0.5, "C": 0.2})
    assert r.rounds == 3
    # v = 1/3 each: R = (0.5 + 0.2)/3.
    assert r.debtrank == pytest.approx(0.7 / 3)


def test_no_second_round_reverberation_through_an_inactive_node() -> None:
    # The chain A → B → C (B exposed to A, C exposed to B, W = 0.5 each) plus A exposed to B
    # (W_AB = 0.5), so distress comes back to A.
    network = net(
        [("A", 100, 1), ("B", 100, 1), ("C", 100, 1)],
        [("B", "A", 50), ("C", "B", 50), ("A", "B", 50)],
    )
    # t=1: h = (0.4, 0, 0); D = {A}.
    # t=2: h_B = 0.5·0.4 = 0.2; A: D→I, B: U→D.
    # t=3: h_A = 0.4 + W_AB·h_B = 0.4 + 0.1 = 0.5 (an inactive node still absorbs distress);
    #      h_C = W_CB·h_B = 0.1; B: D→I, C: U→D.
    # t=4: nobody is exposed to C; C: D→I. Stop.
    # A is inactive, so its extra 0.1 never reaches B again (else h_B would be 0.25 and
    # h_C 0.125).
    r = debtrank(network, {"A": 0.4})
    assert h(r) == pytest.approx({"A": 0.5, "B": 0.2, "C": 0.1})
    assert r.rounds == 3
    # R = Σ(h(T) − h(1))v = (0.1 + 0.2 + 0.1)/3.
    assert r.debtrank == pytest.approx(0.4 / 3)


def test_cycle_does_not_reverberate() -> None:
    # A ↔ B: A exposed to B and B exposed to A, 50 each on equity 100: W_AB = W_BA = 0.5.
    network = net([("A", 100, 1), ("B", 100, 3)], [("A", "B", 50), ("B", "A", 50)])
    # t=1: h = (0, 0.4), D = {B}.
    # t=2: h_A = 0.5·0.4 = 0.2; B: D→I, A: U→D.
    # t=3: h_B = 0.4 + 0.5·0.2 = 0.5; A: D→I. No D: stop, rounds 2.
    # Without the inactive state it would go on: h_A += 0.5·0.1, h_B += 0.5·0.05, …
    r = debtrank(network, {"B": 0.4})
    assert h(r) == pytest.approx({"A": 0.2, "B": 0.5})
    assert r.rounds == 2
    # v = (0.25, 0.75): R = 0.2·0.25 + (0.5 − 0.4)·0.75 = 0.05 + 0.075 = 0.125.
    assert r.debtrank == pytest.approx(0.125)
    # Shocked fully, B's distress is capped: h_B = min(1, 1 + 0.5·0.5) = 1.
    r = debtrank(network, {"B": 1.0})
    assert h(r) == pytest.approx({"A": 0.5, "B": 1.0})


def test_impact_is_capped_at_one_and_distress_at_one() -> None:
    # A exposed to B by 250 on equity 100: W_AB = min(1, 2.5) = 1.
    network = net([("A", 100, 1), ("B", 100, 1)], [("A", "B", 250)])
    assert debtrank(network, {"B": 0.6}).h_of("A") == pytest.approx(0.6)  # 1·0.6, not 1.5
    assert debtrank(network, {"B": 1.0}).h_of("A") == 1.0
    # A exposed to B (W 0.7) and C (W 0.6); both fail: h_A = min(1, 0.7 + 0.6) = 1.
    network = net([("A", 100, 1), ("B", 100, 1), ("C", 100, 1)], [("A", "B", 70), ("A", "C", 60)])
    assert debtrank(network, {"B": 1.0, "C": 1.0}).h_of("A") == 1.0


def test_parallel_edges_are_summed_before_the_cap() -> None:
    # Two edges A→B of 30 and 40 on equity 100: A_AB = 70, W_AB = 0.7.
    network = net([("A", 100, 1), ("B", 100, 1)], [("A", "B", 30), ("A", "B", 40)])
    assert network.n_links == 1
    assert debtrank(network, {"B": 1.0}).h_of("A") == pytest.approx(0.7)
    # 150 + 50 = 200 on equity 100: W_AB = min(1, 2) = 1, so a 0.5 shock gives h_A = 0.5.
    # (Capping each edge first would give (1 + 0.5)·0.5 = 0.75.)
    network = net([("A", 100, 1), ("B", 100, 1)], [("A", "B", 150), ("A", "B", 50)])
    assert debtrank(network, {"B": 0.5}).h_of("A") == pytest.approx(0.5)


def test_several_shocked_firms() -> None:
    # A exposed to B (W 0.2) and C (W 0.3); B exposed to C (W 0.5); C exposed to B (W 0.4).
    network = net(
        [("A", 100, 2), ("B", 100, 1), ("C", 100, 1)],
        [("A", "B", 20), ("A", "C", 30), ("B", "C", 50), ("C", "B", 40)],
    )
    # t=1: h = (0, 1, 0.5); D = {B, C}.
    # t=2: h_A = 0.2·1 + 0.3·0.5 = 0.35; h_B = min(1, 1 + 0.5·0.5) = 1;
    #      h_C = 0.5 + 0.4·1 = 0.9. B, C: D→I; A: U→D. t=3: A→I (nobody exposed to A).
    r = debtrank(network, {"B": 1.0, "C": 0.5})
    assert h(r) == pytest.approx({"A": 0.35, "B": 1.0, "C": 0.9})
    assert r.rounds == 2
    # v = (0.5, 0.25, 0.25): R = 0.35·0.5 + 0·0.25 + 0.4·0.25 = 0.175 + 0.1 = 0.275.
    assert r.debtrank == pytest.approx(0.275)
    assert r.initial == pytest.approx(1 * 0.25 + 0.5 * 0.25)


def test_zero_exposure_edges_and_zero_value_nodes() -> None:
    # A's edge to B carries 0: W_AB = 0, so A is never distressed. C has value 0.
    network = net([("A", 100, 1), ("B", 100, 1), ("C", 100, 0)], [("A", "B", 0), ("C", "B", 100)])
    r = debtrank(network, {"B": 1.0})
    assert h(r) == {"A": 0.0, "B": 1.0, "C": 1.0}
    assert r.debtrank == 0.0  # C is fully distressed but worth nothing
    assert r.distressed == 2


def test_adding_a_shocked_firm_can_lower_distress() -> None:
    # A documented quirk of the paper's rule: B exposed to A and C exposed to B, W = 1 each.
    network = net([("A", 100, 1), ("B", 100, 1), ("C", 100, 1)], [("B", "A", 100), ("C", "B", 100)])
    assert debtrank(network, {"A": 1.0}).h_of("C") == 1.0  # A → B (t=2) → C (t=3)
    # Shock B a little too: B is D at t=1 with h 0.01 and I from t=2, so it passes 0.01 to C
    # and never the 1 it receives from A at t=2.
    assert debtrank(network, {"A": 1.0, "B": 0.01}).h_of("C") == pytest.approx(0.01)


def test_result_to_dict_and_top() -> None:
    network = net([("A", 100, 30), ("B", 200, 70), ("C", 50, 0)], [("A", "B", 50)])
    r = debtrank(network, {"B": 1.0})
    assert r.to_dict() == {
        "debtrank": pytest.approx(0.15),
        "total": pytest.approx(0.85),
        "initial": pytest.approx(0.7),
        "rounds": 2,
        "distressed": 2,
        "shock": {"B": 1.0},
        "h": {"A": 0.5, "B": 1.0, "C": 0.0},
    }
    top = r.top(5)
    assert [(d.id, d.h, d.shock) for d in top] == [("B", 1.0, 1.0), ("A", 0.5, 0.0)]
    assert top[1].loss == pytest.approx(0.15)
    assert r.top(1)[0].id == "B"


def test_from_rows_takes_csv_strings_and_arrays_agree() -> None:
    by_rows = Network.from_rows(
        [{"id": " A ", "equity": "100", "value": "1e1"}, {"id": "B", "equity": "2e2", "value": 7}],
        [{"holder": "A", "counterparty": "B", "exposure": " 50.0 "}],
    )
    by_arrays = Network.from_arrays(["A", "B"], [100, 200], [10, 7], [0], [1], [50.0])
    for network in (by_rows, by_arrays):
        assert network.ids == ("A", "B")
        assert debtrank(network, {"B": 1}).h_of("A") == 0.5
    with pytest.raises(ValueError, match="read-only"):
        by_rows.equity[0] = 1.0


# --- input errors ----------------------------------------------------------------------------


def test_empty_and_bad_shocks_are_refused() -> None:
    network = net([("A", 100, 1), ("B", 100, 1)], [("A", "B", 50)])
    with pytest.raises(ValidationFailed) as exc:
        debtrank(network, {})
    assert errors_of(exc) == [("shock", "name at least one firm to shock", None)]
    with pytest.raises(ValidationFailed) as exc:
        debtrank(network, {"Z": 0.5, "A": 0.0, "B": 1.5})
    assert errors_of(exc) == [
        ("shock[Z]", "is not a node of the network", None),
        ("shock[A]", "fraction must be in (0, 1], got 0", None),
        ("shock[B]", "fraction must be in (0, 1], got 1.5", None),
    ]
    with pytest.raises(ValidationFailed) as exc:
        debtrank(network, {"A": -0.1, "B": math.nan})
    assert errors_of(exc) == [
        ("shock[A]", "fraction must be in (0, 1], got -0.1", None),
        ("shock[B]", "fraction must be a finite number, got nan", None),
    ]
    with pytest.raises(ValidationFailed, match="at least one"):
        run(network, [0.0, 0.0])
    with pytest.raises(ValidationFailed, match="2 fractions"):
        run(network, [0.5])


def test_parse_shocks() -> None:
    assert parse_shocks(["A=1, B=0.3", "x=y=0.5"]) == {"A": 1.0, "B": 0.3, "x=y": 0.5}
    with pytest.raises(ValidationFailed) as exc:
        parse_shocks(["A=1,,B", "=0.5", "C=half", "A=0.2"], field="--shock")
    assert errors_of(exc) == [
        ("--shock", "empty item in 'A=1,,B'", None),
        ("--shock", "'B' is not ID=FRACTION", None),
        ("--shock", "'=0.5' is not ID=FRACTION", None),
        ("--shock[C]", "fraction is not a number: 'half'", None),
        ("--shock[A]", "is named twice", None),
    ]


def test_node_errors_name_field_and_row() -> None:
    nodes = [
        {"id": "A", "equity": "100", "value": "1"},  # row 2 (as from a CSV with a header)
        {"id": "", "equity": "100", "value": "1"},  # 3
        {"id": "A", "equity": "100", "value": "1"},  # 4
        {"id": "B", "equity": "0", "value": "1"},  # 5
        {"id": "C", "equity": "-5", "value": "-1"},  # 6
        {"id": "D", "equity": "abc", "value": "inf"},  # 7
        {"id": "E", "value": "1"},  # 8
    ]
    with pytest.raises(ValidationFailed) as exc:
        Network.from_rows(nodes, [], first_row=2, nodes_source="n.csv")
    assert errors_of(exc) == [
        ("n.csv:id", "is required", 3),
        ("n.csv:id", "duplicate of row 2", 4),
        ("n.csv:equity", "must be positive, got 0", 5),
        ("n.csv:equity", "must be positive, got -5", 6),
        ("n.csv:value", "must not be negative, got -1", 6),
        ("n.csv:equity", "is not a number: 'abc'", 7),
        ("n.csv:value", "must be a finite number, got 'inf'", 7),
        ("n.csv:equity", "is required", 8),
    ]


def test_edge_errors_name_field_and_row() -> None:
    nodes = [{"id": "A", "equity": 100, "value": 1}, {"id": "B", "equity": 100, "value": 1}]
    edges = [
        {"holder": "A", "counterparty": "B", "exposure": "5"},  # row 1
        {"holder": "Z", "counterparty": "B", "exposure": "5"},  # 2
        {"holder": "A", "counterparty": "Y", "exposure": "5"},  # 3
        {"holder": "A", "counterparty": "B", "exposure": "-5"},  # 4
        {"holder": "A", "counterparty": "A", "exposure": "5"},  # 5
        {"holder": "", "counterparty": "B"},  # 6
        {"holder": "A", "counterparty": "B", "exposure": "nan"},  # 7
    ]
    with pytest.raises(ValidationFailed) as exc:
        Network.from_rows(nodes, edges)
    assert errors_of(exc) == [
        ("edges:holder", "'Z' is not a node in nodes", 2),
        ("edges:counterparty", "'Y' is not a node in nodes", 3),
        ("edges:exposure", "must not be negative, got -5", 4),
        ("edges:counterparty", "is the holder itself: self-exposures are refused", 5),
        ("edges:holder", "is required", 6),
        ("edges:exposure", "is required", 6),
        ("edges:exposure", "must be a finite number, got 'nan'", 7),
    ]


def test_network_wide_errors() -> None:
    with pytest.raises(ValidationFailed) as exc:
        Network.from_rows([], [])
    assert errors_of(exc) == [("nodes", "no nodes", None)]
    with pytest.raises(ValidationFailed) as exc:
        net([("A", 1, 0), ("B", 1, 0)], [])
    assert errors_of(exc) == [("nodes:value", "all values are 0; at least one must be >0", None)]
    with pytest.raises(ValidationFailed, match="use a larger unit"):
        net([("A", 1, 1e308), ("B", 1, 1e308)], [])


def test_error_collection_stops_after_the_limit() -> None:
    nodes = [{"id": f"N{k}", "equity": "-1", "value": "1"} for k in range(1000)]
    with pytest.raises(ValidationFailed) as exc:
        Network.from_rows(nodes, [])
    assert len(exc.value.errors) == MAX_ERRORS + 1
    assert exc.value.errors[-1] == FieldError(
        "nodes:equity", f"stopped after {MAX_ERRORS} errors", MAX_ERRORS
    )


def test_from_arrays_errors() -> None:
    with pytest.raises(ValidationFailed) as exc:
        Network.from_arrays(
            ["A", "B", "A"], [1, 0, 1], [1, 1, -1], [0, 3, 1], [1, 1, 1], [1, 1, -2]
        )
    assert errors_of(exc) == [
        ("nodes:id", "duplicate of row 1", 3),
        ("nodes:equity", "must be positive and finite", 2),
        ("nodes:value", "must be >= 0 and finite", 3),
        ("edges:holder", "is not a node position 0..2", 2),
        ("edges:counterparty", "is the holder itself: self-exposures refused", 3),
        ("edges:exposure", "must be >= 0 and finite", 3),
    ]
    with pytest.raises(ValidationFailed, match="equally long"):
        Network.from_arrays(["A", "B"], [1, 1], [1, 1], [0], [1, 0], [1.0])
    with pytest.raises(ValidationFailed, match="integer node positions"):
        Network.from_arrays(["A", "B"], [1, 1], [1, 1], [0.0], [1.0], [1.0])
    with pytest.raises(ValidationFailed, match="all values are 0"):
        Network.from_arrays(["A", "B"], [1, 1], [0, 0], [], [], [])
    with pytest.raises(ValidationFailed, match="use a larger unit"):
        Network.from_arrays(["A", "B"], [1, 1], [1e308, 1e308], [], [], [])
    huge = Network.from_arrays(["A", "B"], [1e-300, 1], [1, 1], [0], [1], [1e300])
    assert debtrank(huge, {"B": 0.5}).h_of("A") == 0.5  # W = min(1, 1e600) = 1


# --- properties and a cross-check ----------------------------------------------------------


def reference(
    nodes: list[Node], edges: list[Edge], shocks: Mapping[str, float]
) -> tuple[dict[str, float], float, int]:
    """The rules written out plainly: dicts, every node every round."""
    equity = {i: e for i, e, _ in nodes}
    total_value = sum(v for _, _, v in nodes)
    v = {i: val / total_value for i, _, val in nodes}
    exposure: dict[tuple[str, str], float] = defaultdict(float)
    for i, j, x in edges:
        exposure[i, j] += x
    w = {(i, j): min(1.0, a / equity[i]) for (i, j), a in exposure.items()}
    h = {i: shocks.get(i, 0.0) for i in equity}
    h1 = dict(h)
    state = {i: "D" if h[i] > 0 else "U" for i in equity}
    rounds = 0
    while any(s == "D" for s in state.values()):
        rounds += 1
        new_h = {
            i: min(
                1.0,
                h[i] + sum(w.get((i, j), 0.0) * h[j] for j in equity if state[j] == "D"),
            )
            for i in equity
        }
        state = {i: "I" if state[i] != "U" else ("D" if new_h[i] > 0 else "U") for i in equity}
        h = new_h
    r = sum(h[i] * v[i] for i in equity) - sum(h1[i] * v[i] for i in equity)
    return h, r, rounds


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Node], list[Edge], dict[str, float]]:
    n = draw(st.integers(1, 7))
    ids = [f"N{k}" for k in range(n)]
    nodes = [(i, draw(st.floats(0.5, 100)), draw(st.floats(0, 10) | st.just(0.0))) for i in ids]
    if not any(v > 0 for _, _, v in nodes):
        nodes[0] = (nodes[0][0], nodes[0][1], 1.0)
    pairs = [(i, j) for i in ids for j in ids if i != j]
    edges: list[Edge] = []
    if pairs:
        chosen = draw(st.lists(st.sampled_from(pairs), max_size=3 * n))
        edges = [(i, j, draw(st.floats(0, 150))) for i, j in chosen]
    shocked = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    shocks = {i: draw(st.floats(0.01, 1.0)) for i in shocked}
    return nodes, edges, shocks


@settings(max_examples=budget(300), deadline=None)
@given(scenarios(), st.floats(0, 1))
def test_properties_and_reference(
    scenario: tuple[list[Node], list[Edge], dict[str, float]], raise_by: float
) -> None:
    nodes, edges, shocks = scenario
    network = net(nodes, edges)
    r = debtrank(network, shocks)
    psi = r.shock
    v = r.relative_value
    # 0 <= h <= 1 and h >= the initial shock.
    assert np.all((r.h >= 0) & (r.h <= 1))
    assert np.all(r.h >= psi)
    # 0 <= R <= 1 − Σ ψ v (the total is at most 1); with full shocks, R <= 1 − Σ_shocked v.
    assert r.debtrank >= 0
    assert r.debtrank <= 1 - float(psi @ v) + 1e-12
    assert r.total <= 1 + 1e-12
    if all(f == 1.0 for f in shocks.values()):
        assert r.debtrank <= 1 - sum(v[network.index[i]] for i in shocks) + 1e-12
    # Monotone in the shock for the same shocked firms: raise each ψ towards 1.
    bigger = {i: f + raise_by * (1 - f) for i, f in shocks.items()}
    r2 = debtrank(network, bigger)
    assert np.all(r2.h >= r.h - 1e-12)
    assert r2.total >= r.total - 1e-12
    # The same numbers as the plain implementation.
    ref_h, ref_r, ref_rounds = reference(nodes, edges, shocks)
    assert h(r) == pytest.approx(ref_h, abs=1e-12)
    assert r.debtrank == pytest.approx(ref_r, abs=1e-12)
    assert r.rounds == ref_rounds


def test_reference_on_larger_random_networks() -> None:
    rng = random.Random(541)
    for _ in range(5):
        n = 60
        nodes = [(f"F{k}", rng.uniform(1, 100), rng.lognormvariate(0, 1)) for k in range(n)]
        edges: list[Edge] = []
        while len(edges) < 300:
            i, j = rng.randrange(n), rng.randrange(n)
            if i != j:
                edges.append((f"F{i}", f"F{j}", rng.lognormvariate(1, 1.5)))
        shocks = {f"F{k}": rng.choice([1.0, 0.3, rng.random() or 0.5]) for k in range(3)}
        r = debtrank(net(nodes, edges), shocks)
        ref_h, ref_r, ref_rounds = reference(nodes, edges, shocks)
        assert h(r) == pytest.approx(ref_h, abs=1e-12)
        assert r.debtrank == pytest.approx(ref_r, abs=1e-12)
        assert r.rounds == ref_rounds
