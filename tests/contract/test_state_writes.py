"""No state column is written outside its transition table.

Three lines of defence, each tested here:

- the source: nothing in src assigns a stateful model's ``status``/``state`` or passes one to
  ``.values(...)`` except ``chainfin.services.states`` (an AST scan);
- the session: a flush refuses a new row outside its machine's initial states and any change
  of state that is not a move of the table (the before_flush guard);
- the database: each state column's CHECK constraint, in a database built by the Alembic
  migrations, lists exactly its machine's states.
"""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, Base, Loan
from chainfin.adapters.db.state_guard import STATEFUL
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.states import MACHINES, IllegalLoanTransition, IllegalTransition
from chainfin.services import alerts
from chainfin.services.lending import applications, loans
from lending_world import PAYEE, TODAY, build_lending

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "chainfin"
COLUMNS = frozenset(m.column for m in MACHINES.values())
# The modules that write states: the helper every service uses, and the guard (reads only).
STATE_HELPERS = frozenset({"services/states.py", "adapters/db/state_guard.py"})
# Objects with a ``status`` that are no stateful model: (module, target) -> what it is.
NOT_MODELS = {
    ("services/documents.py", "outcome.status"): "one row of an upload's report",
    ("api/routers/ledger.py", "out.status"): "a response being built",
}


# ---------------------------------------------------------------------------- the source


def _targets(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.Tuple | ast.List):
        return [t for element in node.elts for t in _targets(element)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return [node]


def _dict_keys(node: ast.expr) -> set[str]:
    if not isinstance(node, ast.Dict):
        return set()
    return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}


def state_writes(source: str) -> list[tuple[int, str]]:
    """(line, what) of every write of a ``status``/``state`` in ``source``: an assignment to
    the attribute, a ``.values(...)`` naming it, a ``setattr``/``set_committed_value`` of it."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in (t for group in targets for t in _targets(group)):
                if isinstance(target, ast.Attribute) and target.attr in COLUMNS:
                    found.append((node.lineno, ast.unparse(target)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name == "values":
                named = {k.arg for k in node.keywords if k.arg is not None}
                for spread in [k.value for k in node.keywords if k.arg is None] + node.args:
                    named |= _dict_keys(spread)
                found += [(node.lineno, f".values({c}=...)") for c in sorted(named & COLUMNS)]
            elif name in ("setattr", "set_committed_value") and len(node.args) >= 2:
                column = node.args[1]
                if isinstance(column, ast.Constant) and column.value in COLUMNS:
                    found.append((node.lineno, f"{name}(..., {column.value!r})"))
    return sorted(found)


def test_the_scan_finds_every_kind_of_state_write() -> None:
    source = """
loan.status = "current"
row.state, row.note = "resolved", "done"
session.execute(update(Loan).values(status="settled"))
session.execute(update(Alert).values(**{"state": "open"}, note="x"))
session.execute(update(Alert).values({"state": "open"}))
setattr(loan, "status", "current")
set_committed_value(loan, "status", "current")
loan.category = "loss"
session.execute(update(Loan).values(dpd=3))
"""
    assert [line for line, _ in state_writes(source)] == [2, 3, 4, 5, 6, 7, 8]


def test_no_code_writes_a_state_outside_the_state_helper() -> None:
    offenders = []
    allowed_seen = set()
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if module in STATE_HELPERS or module.startswith("adapters/db/migrations/"):
            continue
        for line, what in state_writes(path.read_text(encoding="utf-8")):
            if (module, what) in NOT_MODELS:
                allowed_seen.add((module, what))
            else:
                offenders.append(f"src/chainfin/{module}:{line}: {what}")
    assert offenders == [], (
        "states move only by an event: use chainfin.services.states (move, move_to, swap)\n"
        + "\n".join(offenders)
    )
    assert set(NOT_MODELS) == allowed_seen, "remove the NOT_MODELS entries no longer in src"


# ---------------------------------------------------------------------------- the session


def _settled_loan(factory: sessionmaker[Session]) -> str:
    world = build_lending(factory)
    rm = world.staff("rm")
    with transaction(factory) as s:
        app = applications.submit(
            s,
            world.ent("t1"),
            bank="BKA",
            product="receivable_financing",
            amount=Money.parse("400000.00"),
            tenor_months=3,
            method="bullet",
            underlying_kind="invoice",
            underlying_ref=world.docs["INV-T1-2"],
            payee=PAYEE,
            on=TODAY,
        )
        loans.disburse(
            s,
            rm,
            debtor_name="bank A",
            debtor_account="110000000000000001",
            debtor_agent="102100099996",
            execution_on=TODAY + timedelta(days=5),
        )
        loan = s.query(Loan).filter_by(application_id=app.id).one()
        for row in loan.schedule:
            due = row["principal_minor"] + row["interest_minor"]
            loans.repay(
                s, rm, loan.id, amount=Money(due), value_on=date.fromisoformat(row["due_on"])
            )
        assert loan.status == "settled"
        return loan.id


def test_the_guard_refuses_a_settled_loan_set_back_to_current(
    session_factory: sessionmaker[Session],
) -> None:
    loan_id = _settled_loan(session_factory)
    with session_factory() as s:
        loan = s.get(Loan, loan_id)
        assert loan is not None
        loan.status = "current"  # a bug that bypasses chainfin.services.states
        with pytest.raises(IllegalLoanTransition, match="is settled; it cannot become current"):
            s.flush()
        s.rollback()
        # the same bug after the loaded state was thrown away: the guard reads the stored one
        s.expire(loan, ["status"])
        loan.status = "overdue"
        with pytest.raises(IllegalLoanTransition, match="is settled; it cannot become overdue"):
            s.flush()
        s.rollback()
    with session_factory() as s:
        assert s.get(Loan, loan_id).status == "settled"  # type: ignore[union-attr]


def _alert(state: str) -> Alert:
    return Alert(
        id=f"alert_{state}",
        kind="test",
        severity="low",
        subject_kind="enterprise",
        subject_id="ent_x",
        bank_id=None,
        enterprise_id=None,
        message="a test alert",
        state=state,
        created_at=utcnow(),
        owner_id=None,
        rule=None,
        escalation_level=0,
    )


def test_the_guard_refuses_a_new_row_that_does_not_start_initial(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s:
        s.add(_alert("resolved"))
        with pytest.raises(IllegalTransition, match="cannot start resolved; it starts open"):
            s.flush()
        s.rollback()
    with session_factory() as s:
        assert s.get(Alert, "alert_resolved") is None


def test_the_guard_lets_a_move_of_the_table_through_and_stops_the_way_back(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as s:
        raised = alerts.raise_alert(
            s,
            SYSTEM,
            kind="test",
            severity="low",
            subject_kind="enterprise",
            subject_id="ent_x",
            bank_id=None,
            enterprise_id=None,
            message="a test alert",
        )
        assert raised is not None
        alert_id = raised.id
    with transaction(session_factory) as s:
        row = s.get(Alert, alert_id)
        assert row is not None
        row.state = "resolved"  # open -> resolved is a move of the table
    with session_factory() as s:
        row = s.get(Alert, alert_id)
        assert row is not None
        assert row.state == "resolved"
        row.state = "open"
        with pytest.raises(IllegalTransition, match=r"alert \w+ is resolved; it cannot become"):
            s.flush()


# ---------------------------------------------------------------------------- the database


def test_every_stateful_model_has_its_machine() -> None:
    assert sorted(m.name for m in STATEFUL.values()) == sorted(MACHINES)
    for model, machine in STATEFUL.items():
        assert machine.column in model.__table__.c, model.__name__


@pytest.mark.parametrize("model", list(STATEFUL), ids=lambda m: m.__tablename__)
def test_the_migrated_check_constraint_lists_exactly_the_machines_states(
    model: type[Base], engine: Engine
) -> None:
    machine = STATEFUL[model]
    table = model.__tablename__
    name = f"ck_{table}_{machine.column}_known"
    checks = {c["name"]: c["sqltext"] for c in inspect(engine).get_check_constraints(table)}
    assert name in checks, f"{table} has no {name} constraint: add it in a migration"
    sql = checks[name]
    assert re.match(rf"\W*{machine.column}\b", sql), sql
    assert re.findall(r"'([^']*)'", sql) == [s.value for s in machine.states]


def test_every_factory_is_guarded_even_where_a_freed_one_lived() -> None:
    """SQLAlchemy keys listeners by ``id(target)``: a factory allocated where a freed one
    lived, before the cycle collector reclaims the old session class, looked guarded to
    ``event.contains`` and was left unguarded (a flaky test caught it in CI)."""
    import gc

    from sqlalchemy import create_engine

    from chainfin.adapters.db.engine import make_session_factory
    from chainfin.adapters.db.state_guard import check_flush

    engine = create_engine("sqlite://")
    unguarded = 0
    gc.disable()
    try:
        for _ in range(50):
            factory = make_session_factory(engine)
            with factory() as s:
                if check_flush not in list(s.dispatch.before_flush):
                    unguarded += 1
            del factory
    finally:
        gc.enable()
        engine.dispose()
    assert unguarded == 0
