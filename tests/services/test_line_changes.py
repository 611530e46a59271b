"""Maker-checker on credit limits (services/lending/line_changes.py): one person proposes,
another approves and the change is applied through the lines service in the same
transaction; the proposer never decides; a refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CreditLine, CreditSublimit, ExposureCap, LineChange
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.domain.errors import ChainfinError
from chainfin.services import auth
from chainfin.services.lending import line_changes, lines
from chainfin.services.lending.line_changes import Proposal
from lending_world import TODAY, LendingWorld, build_lending


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> LendingWorld:
    world = build_lending(session_factory)
    with transaction(session_factory) as s:
        for name in ("ops1", "ops2"):
            user = auth.create_user(
                s, SYSTEM, username=f"bka-{name}", password="x" * 12, roles=["admin"],
                bank_code="BKA",
            )  # fmt: skip
            world.staff_ids[name] = user.id
    return world


def _ops(world: LendingWorld, name: str) -> Principal:
    return world.staff(name, StaffRole.ADMIN)


def _refusal(factory: sessionmaker[Session], call: object) -> ChainfinError:
    with pytest.raises(ChainfinError) as caught, transaction(factory) as s:
        call(s)  # type: ignore[operator]
    return caught.value


def test_a_limit_change_is_applied_only_by_another_person(
    session_factory: sessionmaker[Session], world: LendingWorld
) -> None:
    with transaction(session_factory) as s:
        row = line_changes.propose(
            s, _ops(world, "ops1"),
            Proposal(kind="limit", reason="annual review", line_id=world.line_id,
                     amount="25000000.00"),
        )  # fmt: skip
        change_id = row.id
    refused = _refusal(
        session_factory, lambda s: line_changes.approve(s, _ops(world, "ops1"), change_id)
    )
    assert refused.code == "four_eyes_required"
    with transaction(session_factory) as s:
        assert s.get(CreditLine, world.line_id).limit_minor == 20_000_000_00  # type: ignore[union-attr]
        done = line_changes.approve(s, _ops(world, "ops2"), change_id, note="ok")
        assert done.status == "approved"
        assert s.get(CreditLine, world.line_id).limit_minor == 25_000_000_00  # type: ignore[union-attr]
    again = _refusal(
        session_factory, lambda s: line_changes.approve(s, _ops(world, "ops2"), change_id)
    )
    assert again.code == "illegal_transition"


def test_every_kind_applies_through_the_lines_service(
    session_factory: sessionmaker[Session], world: LendingWorld
) -> None:
    core = world.ids["core"]
    asks = [
        Proposal(kind="open", reason="new", amount="1000000.00", obligor=core,
                 starts_on=TODAY.isoformat(), expires_on=(TODAY + timedelta(days=90)).isoformat()),
        Proposal(kind="sublimit", reason="orders", line_id=world.line_id, amount="500000.00",
                 product_kind="order_financing"),
        Proposal(kind="cap", reason="chain", amount="90000000.00", core=core, name="core chain"),
        Proposal(kind="freeze", reason="covenant breach", line_id=world.line_id),
    ]  # fmt: skip
    with transaction(session_factory) as s:
        before_subs = s.scalar(select(func.count()).select_from(CreditSublimit))
        for ask in asks:
            row = line_changes.propose(s, _ops(world, "ops1"), ask)
            line_changes.approve(s, _ops(world, "ops2"), row.id)
            assert row.result_id
        assert s.scalar(select(func.count()).select_from(CreditSublimit)) == before_subs + 1
        assert s.scalar(select(func.count()).select_from(ExposureCap)) == 1
        assert s.get(CreditLine, world.line_id).status == "frozen"  # type: ignore[union-attr]
        unfreeze = line_changes.propose(
            s, _ops(world, "ops2"), Proposal(kind="unfreeze", reason="cured", line_id=world.line_id)
        )
        line_changes.reject(s, _ops(world, "ops1"), unfreeze.id, note="not yet")
        assert unfreeze.status == "rejected"
        assert s.get(CreditLine, world.line_id).status == "frozen"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ask", "field"),
    [
        (Proposal(kind="limit", reason="x", amount="abc"), "limit"),
        (Proposal(kind="limit", reason="x", amount="-5"), "limit"),
        (Proposal(kind="limit", reason="", amount="100.00"), "reason"),
        (Proposal(kind="sublimit", reason="x", amount="30000000.00", member="x"), "limit"),
        (Proposal(kind="sublimit", reason="x", amount="1.00"), "product_kind"),
    ],
)
def test_a_bad_proposal_names_its_field_and_writes_nothing(
    session_factory: sessionmaker[Session], world: LendingWorld, ask: Proposal, field: str
) -> None:
    refused = _refusal(
        session_factory,
        lambda s: line_changes.propose(
            s, _ops(world, "ops1"),
            Proposal(kind=ask.kind, reason=ask.reason, amount=ask.amount,
                     line_id=world.line_id, member=ask.member, product_kind=ask.product_kind),
        ),
    )  # fmt: skip
    assert refused.code == "validation_failed"
    assert field in [e.field for e in refused.errors]  # type: ignore[attr-defined]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LineChange)) == 0


def test_a_limit_below_usage_is_refused_at_approval_and_stays_pending(
    session_factory: sessionmaker[Session], world: LendingWorld
) -> None:
    with transaction(session_factory) as s:
        row = line_changes.propose(
            s, _ops(world, "ops1"),
            Proposal(kind="limit", reason="cut", line_id=world.line_id, amount="10000000.00"),
        )  # fmt: skip
        change_id = row.id
        line = s.get(CreditLine, world.line_id)
        assert line is not None
        line.pending_minor = 12_000_000_00  # an approval reserved it meanwhile
    refused = _refusal(
        session_factory, lambda s: line_changes.approve(s, _ops(world, "ops2"), change_id)
    )
    assert refused.code == "line_limit_below_usage"
    with session_factory() as s:
        assert s.get(LineChange, change_id).status == "pending"  # type: ignore[union-attr]


def test_another_bank_and_enterprises_never_see_a_change(
    session_factory: sessionmaker[Session], world: LendingWorld
) -> None:
    with transaction(session_factory) as s:
        row = line_changes.propose(
            s, _ops(world, "ops1"),
            Proposal(kind="freeze", reason="x", line_id=world.line_id),
        )  # fmt: skip
        change_id = row.id
    bank_b = Principal.staff("usr_b", bank_id=world.credit.banks["BKB"], roles=[StaffRole.ADMIN])
    assert (
        _refusal(session_factory, lambda s: line_changes.approve(s, bank_b, change_id)).code
        == "line_change_not_found"
    )
    assert (
        _refusal(
            session_factory, lambda s: line_changes.change_for(s, world.ent("t1"), change_id)
        ).code
        == "bank_staff_only"
    )
    with session_factory() as s:
        assert line_changes.changes(s, bank_b) == []
        assert lines.line_for(s, _ops(world, "ops2"), world.line_id).status == "active"
