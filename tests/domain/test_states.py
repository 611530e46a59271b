"""The state machines: every table walked, every refusal typed, the reference doc current."""

from __future__ import annotations

import doctest
from collections import deque
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from chainfin.domain import credentials, loans, states
from chainfin.domain.errors import Conflict
from chainfin.domain.states import MACHINES, IllegalTransition, StateMachine

ROOT = Path(__file__).resolve().parents[2]

# Which states end each resource's life: a spec written out, so that a table that loses or
# gains a final state fails here rather than passing silently.
FINALS = {
    "credential_piece": {"split", "transferred", "settled", "rejected", "cancelled"},
    "credential": {"settled", "rejected", "cancelled"},
    "credential_programme": {"closed"},
    "programme_invitation": {"accepted", "declined"},
    "supplier_invitation": {"registered", "expired", "cancelled"},
    "credit_line": {"expired", "closed"},
    "line_reservation": {"posted", "voided", "expired"},
    "loan_product": {"retired"},
    "loan_application": {"declined", "withdrawn", "disbursed", "cancelled"},
    "due_diligence_task": {"completed", "cancelled"},
    "loan": {"cancelled", "settled", "written_off"},
    "alert": {"resolved"},
    "iot_device": {"retired"},
    "risk_model": set(),  # a retired version may be promoted again
    "line_change": {"approved", "rejected"},
}

ALL = pytest.mark.parametrize("m", list(MACHINES.values()), ids=list(MACHINES))


def test_every_stateful_resource_has_a_machine() -> None:
    assert set(MACHINES) == set(FINALS)


@ALL
def test_every_state_and_event_moves_per_the_table_or_is_refused(m: StateMachine[Any]) -> None:
    for state in m.states:
        for event in (*m.events, "teleport"):
            if (state, event) in m.table:
                assert m.next(state.value, event, subject="x1") is m.table[state, event]
                continue
            with pytest.raises(IllegalTransition) as refused:
                m.next(state.value, event, subject="x1")
            exc = refused.value
            assert isinstance(exc, Conflict)
            assert isinstance(exc, m.error)
            assert exc.code == "illegal_transition"
            assert (exc.machine, exc.current, exc.event) == (m.name, state.value, event)
            assert exc.allowed == m.allowed_events(state)
            assert f"{m.noun} x1 is {state.value}; it cannot {event}" in exc.message
            for allowed in exc.allowed:
                assert allowed in exc.message
                assert allowed in exc.hint


@ALL
def test_final_states_have_no_events(m: StateMachine[Any]) -> None:
    finals = {s.value for s in m.states if m.is_final(s)}
    assert finals == FINALS[m.name]
    for state in finals:
        assert m.allowed_events(state) == ()
        assert m.targets(state) == frozenset()
        assert not [key for key in m.table if key[0] == state]


@ALL
def test_every_state_is_reachable_from_an_initial_state(m: StateMachine[Any]) -> None:
    seen = set(m.initial)
    todo = deque(m.initial)
    while todo:
        for after in m.targets(todo.popleft()):
            if after not in seen:
                seen.add(after)
                todo.append(after)
    assert seen == set(m.states)


@ALL
def test_a_new_row_starts_in_an_initial_state(m: StateMachine[Any]) -> None:
    for state in m.states:
        if state in m.initial:
            assert m.check_initial(state.value) is state
            continue
        with pytest.raises(IllegalTransition, match=f"cannot start {state.value}") as refused:
            m.check_initial(state.value, subject="x1")
        assert refused.value.machine == m.name


@ALL
def test_event_to_names_the_event_of_each_move_and_refuses_the_rest(m: StateMachine[Any]) -> None:
    for state in m.states:
        for target in m.states:
            if target in m.targets(state):
                assert m.table[state, m.event_to(state, target)] is target
                assert m.can_move(state, target)
            else:
                with pytest.raises(IllegalTransition, match=f"cannot become {target.value}"):
                    m.event_to(state, target, subject="x1")
                assert not m.can_move(state, target)


@ALL
def test_an_unknown_state_is_refused_not_guessed(m: StateMachine[Any]) -> None:
    with pytest.raises(IllegalTransition, match="unknown state 'limbo'"):
        m.next("limbo", m.events[0], subject="x1")
    with pytest.raises(IllegalTransition, match="unknown state"):
        m.check_initial(None)  # type: ignore[arg-type]


@ALL
def test_check_sql_lists_exactly_the_states(m: StateMachine[Any]) -> None:
    values = ",".join(f"'{s.value}'" for s in m.states)
    assert m.check_sql() == f"{m.column} IN ({values})"
    assert m.check_sql("x") == f"x IN ({values})"


def test_the_loan_table() -> None:
    """One machine pinned move by move (the property tests walk the others through the
    services)."""
    assert dict(states.LOAN.table) == {
        ("approved", "disburse"): "disbursed",
        ("approved", "cancel"): "cancelled",
        ("disbursed", "fall_due"): "current",
        ("disbursed", "fall_behind"): "overdue",
        ("disbursed", "settle"): "settled",
        ("current", "fall_behind"): "overdue",
        ("current", "settle"): "settled",
        ("overdue", "catch_up"): "current",
        ("overdue", "settle"): "settled",
        ("overdue", "write_off"): "written_off",
    }


def test_the_old_names_still_work() -> None:
    assert credentials.IllegalTransition is IllegalTransition
    assert issubclass(loans.IllegalLoanTransition, IllegalTransition)
    assert credentials.PieceStatus is states.PieceStatus
    assert credentials.CredentialStatus is states.CredentialStatus
    assert loans.LoanStatus is states.LoanStatus
    assert credentials.TRANSITIONS[states.PieceStatus.HELD] == {
        "split",
        "transferred",
        "overdue",
        "settled",
    }
    credentials.check_transition("p1", "offered", states.PieceStatus.HELD)
    with pytest.raises(IllegalTransition, match="piece p1 is settled; it cannot become held"):
        credentials.check_transition("p1", "settled", states.PieceStatus.HELD)
    with pytest.raises(loans.IllegalLoanTransition):
        states.LOAN.next("settled", "catch_up")


def test_a_machine_whose_table_leaves_its_states_is_refused() -> None:
    class Door(StrEnum):
        OPEN = "open"
        SHUT = "shut"

    class Other(StrEnum):
        GONE = "gone"

    with pytest.raises(ValueError, match="leaves the machine's states"):
        states.machine(
            "door",
            Door,
            initial=(Door.OPEN,),
            moves={Door.OPEN: {"vanish": Other.GONE}},  # type: ignore[dict-item]
            meaning={Door.OPEN: "open", Door.SHUT: "shut"},
            about="a door",
        )
    with pytest.raises(ValueError, match="has no meaning"):
        states.machine(
            "door",
            Door,
            initial=(Door.OPEN,),
            moves={Door.OPEN: {"shut": Door.SHUT}},
            meaning={Door.OPEN: "open"},
            about="a door",
        )


def test_module_doctest() -> None:
    assert doctest.testmod(states).failed == 0


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "states.md").read_text(encoding="utf-8")
    assert committed == states.reference(), (
        "docs/states.md is stale: run `python -m chainfin.domain.states > docs/states.md`"
    )
