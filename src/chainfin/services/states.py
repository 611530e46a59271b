"""The one way a service changes a resource's state: by an event of the resource's machine
(:mod:`chainfin.domain.states`).

- :func:`move` applies an event to an ORM row (the flush-time guard checks it again);
- :func:`move_to` does so for a state derived from facts (a loan restated from its
  position), through the event that leads there;
- :func:`swap` is the guarded compare-and-swap: one conditional ``UPDATE … SET state = next
  WHERE id = … AND state = <the state read>``, for moves that must not race (two holders
  accepting one piece, two promotions of one model);
- :func:`initial` is the state a new row starts in.

A contract test fails if any other code assigns a state column or passes one to
``.values(...)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ClauseElement

from chainfin.adapters.db.state_guard import machine_of


def initial(model: type[Any]) -> str:
    """The state a new ``model`` row starts in (its machine has a single initial state)."""
    return str(machine_of(model).start.value)


def move(row: Any, event: str) -> str:
    """Move ``row`` by ``event``; :class:`~chainfin.domain.states.IllegalTransition` if its
    current state does not allow it. Returns the new state."""
    machine = machine_of(type(row))
    after = str(machine.next(getattr(row, machine.column), event, subject=row.id).value)
    setattr(row, machine.column, after)
    return after


def move_to(row: Any, target: str) -> str:
    """Move ``row`` to ``target`` by the event that leads there from its current state."""
    machine = machine_of(type(row))
    return move(row, machine.event_to(getattr(row, machine.column), target, subject=row.id))


def swap(session: Session, row: Any, event: str, *where: Any, **values: Any) -> bool:
    """Move ``row`` by ``event`` in the database only if it is still in the state it was read
    in (and every ``where`` holds), setting ``values`` too. False when another transaction
    moved it first (the caller says what that means); the row then keeps what it held. On
    success the row holds the new state and every plain value without reading it back."""
    model = type(row)
    machine = machine_of(model)
    before = getattr(row, machine.column)
    after = str(machine.next(before, event, subject=row.id).value)
    column = getattr(model, machine.column)
    changes = {machine.column: after, **values}
    result = session.execute(
        update(model)
        .where(model.id == row.id, column == before, *where)
        .values(changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for name, value in changes.items():
        if not isinstance(value, ClauseElement):
            set_committed_value(row, name, value)
    return True
