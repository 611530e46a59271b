"""The credit desk's reads (services/lending/queue.py): who may sign the next step of each
application in progress, every rule's outcome in precedence order, and the history with the
log entries that record each step."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry
from chainfin.domain import decision as rules
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.errors import Forbidden, NotFound
from chainfin.domain.money import Money
from chainfin.services import documents
from chainfin.services.lending import applications, queue
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> tuple[LendingWorld, str]:
    """The lending world and a referred application of t1 for 1,234,000.00 (level 2)."""
    lending = build_lending(session_factory)
    with transaction(session_factory) as s:
        row = {
            "kind": "invoice", "number": "Q-1", "seller_uscc": uscc(4), "buyer_uscc": uscc(3),
            "issue_date": TODAY.isoformat(), "currency": "CNY", "total": "1500000.00",
            "tax": "0.00", "invoice_number": "26321900000000009201", "due_date": "2027-05-20",
        }  # fmt: skip
        doc_id = str(
            documents.ingest(s, lending.ent("t1"), documents.parse_rows([row])).rows[0].document_id
        )
        documents.confirm(s, lending.ent("core"), doc_id)
    with transaction(session_factory) as s:
        app = applications.submit(
            s, lending.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("1234000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=doc_id, payee=PAYEE,
        )  # fmt: skip
        assert app.status == "referred"
        return lending, app.id


def queued(factory: sessionmaker[Session], who: Principal, everything: bool = False) -> set[str]:
    with transaction(factory, write=False) as s:
        return {r.application.id for r in queue.queue(s, who, everything=everything)}


def test_the_maker_step_is_anyones_the_checker_step_needs_another_with_authority(
    session_factory: sessionmaker[Session], world: tuple[LendingWorld, str]
) -> None:
    lending, app_id = world
    ck1, ck3 = lending.staff("ck1"), lending.staff("ck3")
    rm_only = lending.staff("rm", StaffRole.RELATIONSHIP_MANAGER)
    assert app_id in queued(session_factory, ck1)
    assert app_id in queued(session_factory, ck3)
    assert app_id not in queued(session_factory, rm_only)  # may not sign at all
    assert app_id in queued(session_factory, rm_only, everything=True)
    with transaction(session_factory) as s:
        applications.review(s, ck3, app_id, action="approve", note="ok")
    assert app_id not in queued(session_factory, ck3)  # the maker is not the checker
    assert app_id not in queued(session_factory, ck1)  # level 1 < level 2
    with transaction(session_factory, write=False) as s:
        (row,) = [r for r in queue.queue(s, ck1, everything=True) if r.application.id == app_id]
        assert (row.waits_for, row.required_level, row.mine) == ("checker", 2, False)


def test_the_file_lists_every_rule_in_order_and_the_steps_with_their_log_entries(
    session_factory: sessionmaker[Session], world: tuple[LendingWorld, str]
) -> None:
    lending, app_id = world
    ck1, ck3 = lending.staff("ck1"), lending.staff("ck3")
    with transaction(session_factory) as s:
        applications.review(s, ck1, app_id, action="approve", note="maker memo")
    with transaction(session_factory) as s:
        applications.review(s, ck3, app_id, action="approve", note="checker memo")
    with transaction(session_factory, write=False) as s:
        file = queue.review_file(s, ck1, app_id)
        assert [r.code for r in file.rules] == list(rules.RULE_CODES)
        outcomes = {r.code: r.outcome for r in file.rules}
        assert outcomes["above_auto_limit"] == "refer"
        assert outcomes["line_missing"] == "pass"
        assert [h.what for h in file.history] == ["rules_refer", "maker_approve", "checker_approve"]
        assert all(h.entry_id for h in file.history)
        entry = s.get(LedgerEntry, file.history[-1].entry_id)
        assert entry is not None
        assert entry.event_type == "application.checker_approve"
        assert file.reservation is not None
        assert file.reservation.amount_minor == 1_234_000_00
        assert file.next_step is None
        assert not file.i_may_sign


def test_other_banks_and_enterprises_get_no_file(
    session_factory: sessionmaker[Session], world: tuple[LendingWorld, str]
) -> None:
    lending, app_id = world
    with transaction(session_factory, write=False) as s:
        with pytest.raises(NotFound):
            queue.review_file(s, lending.credit.staff("BKB"), app_id)
        with pytest.raises(Forbidden):
            queue.review_file(s, lending.ent("t1"), app_id)
        with pytest.raises(Forbidden):
            queue.queue(s, lending.ent("t1"))
