"""Site-visit photos kept with their task (services/lending/attachments.py and
tasks.record_site_visit): accepted by their bytes, written with the visit's completion in
one transaction, their SHA-256 on the log in clear, and an edited photo caught by
``ledger verify``."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import DueDiligenceTask, LedgerEntry, TaskAttachment
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import documents, ledger, ledger_verify
from chainfin.services.lending import applications, tasks
from chainfin.services.lending.attachments import MAX_PHOTO_BYTES, Photo, media_type_of
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

ORIGIN = "chainfin.test/ledger"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
JPEG = b"\xff\xd8\xff\xe1" + bytes(40)
HEIC = bytes(4) + b"ftypheic" + bytes(40)


def _visit_task(factory: sessionmaker[Session]) -> tuple[LendingWorld, str]:
    world = build_lending(factory)
    invoice = {
        "kind": "invoice", "number": "ATT-INV-1", "seller_uscc": uscc(4), "buyer_uscc": uscc(3),
        "issue_date": (TODAY - timedelta(days=5)).isoformat(), "currency": "CNY",
        "total": "4000000.00", "tax": "0.00", "invoice_number": "26321800000000000951",
        "due_date": (TODAY + timedelta(days=160)).isoformat(),
    }  # fmt: skip
    with transaction(factory) as s:
        doc = documents.ingest(s, world.ent("t1"), documents.parse_rows([invoice])).rows[0]
        documents.confirm(s, world.ent("core"), str(doc.document_id))
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("3300000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=str(doc.document_id), payee=PAYEE,
        )  # fmt: skip
        (task,) = applications.tasks_of(s, app.id)
    return world, task.id


def _checklist() -> dict[str, object]:
    return {
        "premises_verified": True,
        "production_running": True,
        "inventory_on_hand": "500000.00",
        "findings": "as booked",
        "gps": {"lat": 31.3, "lon": 120.6, "accuracy": 9.5},
        "visited_at": (utcnow() - timedelta(hours=1)).isoformat(),
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (HEIC, "image/heic"), (b"GIF89a", None),
     (b"%PDF-1.7", None), (b"", None)],
)  # fmt: skip
def test_a_photo_is_known_by_its_bytes(data: bytes, expected: str | None) -> None:
    assert media_type_of(data) == expected


def test_photos_go_on_the_log_with_the_visit_and_an_edited_one_is_caught(
    session_factory: sessionmaker[Session],
) -> None:
    world, task_id = _visit_task(session_factory)
    photos = [Photo("C:\\DCIM\\gate.png", PNG), Photo("line.jpg", JPEG)]
    with transaction(session_factory) as s:
        tasks.record_site_visit(s, world.staff("rm"), task_id, _checklist(), photos)
    digests = [hashlib.sha256(p.data).hexdigest() for p in photos]
    with session_factory() as s:
        rows = s.scalars(select(TaskAttachment).order_by(TaskAttachment.seq)).all()
        assert [(r.name, r.media_type, r.sha256) for r in rows] == [
            ("gate.png", "image/png", digests[0]),
            ("line.jpg", "image/jpeg", digests[1]),
        ]
        task = s.get(DueDiligenceTask, task_id)
        assert task is not None
        assert task.result is not None
        assert task.result["gps"]["accuracy_m"] == "9.5"
        entry = s.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
        assert entry is not None
        assert entry.event_type == "task.site_visit_completed"
        records = json.loads(entry.payload)["records"]
        assert [r["clear"]["sha256"] for r in records if r["kind"] == "task_attachment"] == digests
        found = tasks.completion_entry(s, world.staff("rm"), task_id)
        assert found is not None
        assert found.photo_digests == digests
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok
    with transaction(session_factory) as s:
        s.execute(update(TaskAttachment).where(TaskAttachment.seq == 2).values(content=JPEG + b"x"))
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert not report.ok
    assert any("sha256" in str(f) for f in report.findings), report.findings


def test_a_bad_photo_or_checklist_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    world, task_id = _visit_task(session_factory)
    big = Photo("big.jpg", b"\xff\xd8\xff" + bytes(MAX_PHOTO_BYTES))
    checklist = {**_checklist(), "findings": " "}
    photos = [Photo("a.png", PNG), big]
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as refused:
        tasks.record_site_visit(s, world.staff("rm"), task_id, checklist, photos)
    assert [e.field for e in refused.value.errors] == ["findings", "photos[2]"]
    with session_factory() as s:
        assert s.scalars(select(TaskAttachment)).all() == []
        task = s.get(DueDiligenceTask, task_id)
        assert task is not None
        assert task.state == "open"
