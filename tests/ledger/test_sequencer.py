"""The background sequencer integrates and signs on its own, and stops cleanly."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.services import ledger
from chainfin.services.ledger import EntryDraft
from chainfin.services.sequencer import Sequencer


def test_sequencer_publishes_then_stops(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as s:
        ledger.record(s, SYSTEM, [EntryDraft("test.event", []) for _ in range(5)])
    seq = Sequencer(session_factory, origin="chainfin.test/ledger", interval_seconds=0.05)
    seq.start()
    deadline = time.monotonic() + 10
    while True:
        with session_factory() as s:
            cp = ledger.latest_checkpoint(s)
        if cp is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    seq.stop()
    assert not seq.is_alive()
    assert cp is not None
    assert cp.tree_size == 5
    assert seq.run_once() == -1  # nothing new: no checkpoint
