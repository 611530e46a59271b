"""The persistent log from the operator's side: entries recorded with state changes,
sequenced into a tree, signed checkpoints, proofs that verify against them, and a verifier
that catches every kind of tampering (run on SQLite and, when configured, PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Checkpoint, Enterprise, LedgerEntry
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.ledger import merkle
from chainfin.ledger.note import Checkpoint as NoteCheckpoint
from chainfin.ledger.note import NoteVerifier, open_note
from chainfin.services import ledger, ledger_verify, registry

ORIGIN = "chainfin.test/ledger"


def firm(n: int) -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=make_uscc("9", "1", "320505", f"{n:08d}"),
        name=f"苏州第{n}有限公司",
        region_code="320505",
        industry_code="C36",
        roles=frozenset({Role.SUPPLIER}),
        employees=50 + n,
        revenue=Money(100_000_000 + n),
        phone="13812345678",
    )


def seed(factory: sessionmaker[Session], count: int = 6) -> None:
    with transaction(factory) as s:
        records = [firm(n) for n in range(1, count + 1)]
        registry.import_enterprises(s, SYSTEM, records)
        registry.import_relations(
            s,
            SYSTEM,
            [RelationRecord(records[0].uscc, records[1].uscc, "电芯", date(2022, 1, 1))],
        )


def sequence(factory: sessionmaker[Session]) -> Checkpoint | None:
    with transaction(factory) as s:
        return ledger.sequence(s, ORIGIN)


def verify(factory: sessionmaker[Session]) -> ledger_verify.Report:
    with factory() as s:
        return ledger_verify.verify(s, origin=ORIGIN)


def test_state_changes_are_recorded_sequenced_and_signed(
    session_factory: sessionmaker[Session],
) -> None:
    seed(session_factory)
    with session_factory() as s:
        assert ledger_verify.pending_count(s) == 7
    cp = sequence(session_factory)
    assert cp is not None
    assert cp.tree_size == 8  # the 7 entries and the one anchoring the audit chain's head
    with session_factory() as s:
        keys = ledger_verify.log_keys(s)
        entries = list(s.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))
    opened = open_note(cp.note, keys)
    assert opened.signed_by == (ORIGIN,)
    assert NoteCheckpoint.parse(opened.body).root_hash == merkle.root_hash(
        [e.payload for e in entries]
    )
    assert [e.seq for e in entries] == list(range(8))
    assert entries[-1].event_type == "chain.sealed"
    assert sequence(session_factory) is None  # nothing new, no new checkpoint
    assert verify(session_factory).ok


def test_entries_carry_ids_and_digests_never_private_detail(
    session_factory: sessionmaker[Session],
) -> None:
    seed(session_factory, 2)
    with session_factory() as s:
        payload = s.scalars(
            select(LedgerEntry.payload).where(LedgerEntry.event_type == "enterprise.registered")
        ).first()
    assert payload is not None
    body = json.loads(payload)
    assert body["type"] == "enterprise.registered"
    record = body["records"][0]
    assert record["clear"] == {
        "region_code": "320505",
        "industry_code": "C36",
        "roles": ["supplier"],
        "size_class": "micro",
        "currency": "CNY",
    }
    assert set(record["digests"]) == {
        "uscc",
        "name",
        "employees",
        "revenue_minor",
        "total_assets_minor",
        "legal_representative",
        "phone",
        "address",
    }
    text_payload = payload.decode()
    for secret in ("苏州第1有限公司", "13812345678", firm(1).uscc, "100000001"):
        assert secret not in text_payload


def test_proofs_from_storage_verify_against_signed_checkpoints(
    session_factory: sessionmaker[Session],
) -> None:
    seed(session_factory, 3)
    first = sequence(session_factory)
    seed_more = [firm(n) for n in range(10, 30)]
    with transaction(session_factory) as s:
        registry.import_enterprises(s, SYSTEM, seed_more)
    second = sequence(session_factory)
    assert first is not None
    assert second is not None
    with session_factory() as s:
        leaves = [
            bytes(h) for h in s.scalars(select(LedgerEntry.leaf_hash).order_by(LedgerEntry.seq))
        ]
        for index in range(second.tree_size):
            proof = ledger.inclusion_proof(s, index, second.tree_size)
            merkle.verify_inclusion(leaves[index], index, second.tree_size, proof, second.root_hash)
        proof = ledger.consistency_proof(s, first.tree_size, second.tree_size)
    merkle.verify_consistency(
        first.tree_size, second.tree_size, proof, first.root_hash, second.root_hash
    )


def test_sixteen_concurrent_writers_and_sequencers_give_a_gap_free_log(
    session_factory: sessionmaker[Session],
) -> None:
    writers, per_writer = 16, 10
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def work(w: int) -> None:
        start.wait()
        try:
            for k in range(per_writer):
                with transaction(session_factory) as s:
                    registry.import_enterprises(s, SYSTEM, [firm(1000 + w * 100 + k)])
                if k % 3 == 0:
                    with transaction(session_factory) as s:
                        ledger.integrate(s, batch=7)
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    sequence(session_factory)
    with session_factory() as s:
        seqs = sorted(s.scalars(select(LedgerEntry.seq)))
    assert seqs == list(range(writers * per_writer + 1))  # and the audit chain's anchor
    assert verify(session_factory).ok


def test_rotated_keys_keep_old_checkpoints_verifiable(
    session_factory: sessionmaker[Session],
) -> None:
    seed(session_factory, 2)
    old = sequence(session_factory)
    with transaction(session_factory) as s:
        new_key = ledger.rotate_log_key(s, ORIGIN)
        registry.import_enterprises(s, SYSTEM, [firm(77)])
    new = sequence(session_factory)
    assert old is not None
    assert new is not None
    assert new.key_id == new_key.key_id.hex() != old.key_id
    report = verify(session_factory)
    assert report.ok, report.findings
    assert report.checkpoints == 2


# ------------------------------------------------------------------ tampering


def _exec(factory: sessionmaker[Session], sql: str, **params: object) -> None:
    with transaction(factory) as s:
        s.execute(text(sql), params)


def change_entry(f: sessionmaker[Session]) -> None:
    with transaction(f) as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.seq == 2)).one()
        entry.payload = entry.payload.replace(b'"C36"', b'"C37"')


def delete_entry(f: sessionmaker[Session]) -> None:
    _exec(f, "DELETE FROM ledger_entries WHERE seq = 3")


def insert_entry(f: sessionmaker[Session]) -> None:
    with transaction(f) as s:
        e = s.scalars(select(LedgerEntry).where(LedgerEntry.seq == 1)).one()
        s.execute(update(LedgerEntry).where(LedgerEntry.seq >= 4).values(seq=LedgerEntry.seq + 100))
        s.add(
            LedgerEntry(
                id="led_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
                seq=4,
                event_type=e.event_type,
                payload=e.payload,
                leaf_hash=e.leaf_hash,
                parties=e.parties,
                salt=e.salt,
                created_at=e.created_at,
                sequenced_at=e.sequenced_at,
            )
        )


def reorder_entries(f: sessionmaker[Session]) -> None:
    _exec(f, "UPDATE ledger_entries SET seq = -1 WHERE seq = 1")
    _exec(f, "UPDATE ledger_entries SET seq = 1 WHERE seq = 2")
    _exec(f, "UPDATE ledger_entries SET seq = 2 WHERE seq = -1")


def edit_amount(f: sessionmaker[Session]) -> None:
    _exec(f, "UPDATE enterprises SET revenue_minor = revenue_minor + 1 WHERE employees = 53")


def edit_clear_state(f: sessionmaker[Session]) -> None:
    _exec(f, "UPDATE enterprises SET industry_code = 'C39' WHERE employees = 52")


def delete_state_row(f: sessionmaker[Session]) -> None:
    _exec(f, "DELETE FROM supply_relations")


def insert_state_row(f: sessionmaker[Session]) -> None:
    with transaction(f) as s:
        e = s.scalars(select(Enterprise).limit(1)).one()
        s.add(
            Enterprise(
                id="ent_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
                uscc=make_uscc("9", "1", "320505", "99999999"),
                name="ghost",
                region_code=e.region_code,
                industry_code=e.industry_code,
                roles=["supplier"],
                currency="CNY",
                created_by="x",
                created_at=e.created_at,
                updated_at=e.updated_at,
            )
        )


def alter_checkpoint(f: sessionmaker[Session]) -> None:
    with transaction(f) as s:
        cp = s.scalars(select(Checkpoint)).one()
        cp.note = cp.note.replace(f"\n{cp.tree_size}\n", f"\n{cp.tree_size + 1}\n", 1)


def forge_checkpoint(f: sessionmaker[Session]) -> None:
    from chainfin.ledger.note import NoteSigner, sign_note

    with transaction(f) as s:
        cp = s.scalars(select(Checkpoint)).one()
        forger = NoteSigner.generate(ORIGIN)
        body = NoteCheckpoint(ORIGIN, cp.tree_size, bytes(32)).body()
        cp.note = sign_note(body, [forger])


def alter_node(f: sessionmaker[Session]) -> None:
    _exec(f, "UPDATE ledger_nodes SET hash = :h WHERE node_id = :n", h=bytes(32), n=1 << 48)


TAMPERING: dict[str, tuple[Callable[[sessionmaker[Session]], None], str, str]] = {
    "changed entry": (change_entry, "leaf", "entry 2"),
    "deleted entry": (delete_entry, "sequence", "entry 4"),
    "inserted entry": (insert_entry, "checkpoint", "checkpoint 8"),
    "reordered entries": (reorder_entries, "checkpoint", "checkpoint 8"),
    "amount edited in the database": (edit_amount, "state", "field revenue_minor"),
    "public field edited in the database": (edit_clear_state, "state", "field industry_code"),
    "state row deleted": (delete_state_row, "state", "relation "),
    "state row inserted": (insert_state_row, "state", "ent_01ZZZZZZZZZZZZZZZZZZZZZZZZ"),
    "altered checkpoint": (alter_checkpoint, "signature", "checkpoint"),
    "forged checkpoint": (forge_checkpoint, "signature", "checkpoint"),
    "altered tree node": (alter_node, "node", "node 1/0"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected_precisely(session_factory: sessionmaker[Session], case: str) -> None:
    seed(session_factory)
    assert sequence(session_factory) is not None
    assert verify(session_factory).ok
    tamper, check, where = TAMPERING[case]
    tamper(session_factory)
    report = verify(session_factory)
    assert not report.ok
    assert any(f.check == check and where in f.where for f in report.findings), report.findings


def test_a_known_key_with_a_bad_signature_is_named(session_factory: sessionmaker[Session]) -> None:
    seed(session_factory, 2)
    sequence(session_factory)
    with session_factory() as s:
        keys = ledger_verify.log_keys(s)
    assert all(isinstance(k, NoteVerifier) for k in keys)
    forge_checkpoint(session_factory)
    messages = [str(f) for f in verify(session_factory).findings]
    assert any("no signature from a known key" in m for m in messages), messages
