"""Concurrent writers: many clients importing the same enterprises at once end with each
enterprise exactly once, and every writer either succeeds or is refused cleanly (a
uniqueness conflict the API reports as 409), never a half-written batch."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import AuditEvent, Enterprise
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import registry

WRITERS = 16


def batch() -> list[EnterpriseRecord]:
    return [
        EnterpriseRecord(
            uscc=make_uscc("9", "1", "320505", f"{n:08d}"),
            name=f"firm {n}",
            region_code="320505",
            industry_code="C36",
            roles=frozenset({Role.SUPPLIER}),
        )
        for n in range(1, 21)
    ]


def test_concurrent_imports_of_the_same_batch(session_factory: sessionmaker[Session]) -> None:
    records = batch()
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)

    def writer() -> None:
        start.wait()
        try:
            with transaction(session_factory) as session:
                report = registry.import_enterprises(session, SYSTEM, records)
            result = f"ok created={report.count('created')}"
        except IntegrityError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == WRITERS
    assert outcomes.count("ok created=20") == 1
    assert all(o in ("ok created=20", "ok created=0", "conflict") for o in outcomes)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Enterprise)) == 20
        audited = session.scalar(select(func.count()).select_from(AuditEvent))
    # one audit event per successful writer, none for a refused one
    assert audited == sum(o.startswith("ok") for o in outcomes)
