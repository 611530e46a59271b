"""What a bank's auditor reads of the log (services/ledger_audit.py): the same scoping as the
ledger API, checked against the payload and not the stored ``parties`` column; the export
with other banks' entries withheld, which chainfin.ledger's verifier still checks whole."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.errors import Forbidden, NotFound
from chainfin.ledger.note import NoteVerifier
from chainfin.ledger.verifier import ExportedEntry, verify_log
from chainfin.services import ledger, ledger_audit

ORIGIN = "chainfin.test/ledger"


def _auditor(world: credit_world.CreditWorld, code: str) -> Principal:
    return Principal.staff(f"usr_aud_{code}", bank_id=world.banks[code], roles=[StaffRole.AUDITOR])


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> credit_world.CreditWorld:
    built = credit_world.build(session_factory)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    return built


def _a_only(s: Session, world: credit_world.CreditWorld) -> int:
    a, b = world.banks["BKA"], world.banks["BKB"]
    rows = s.execute(select(LedgerEntry.seq, LedgerEntry.parties).where(LedgerEntry.seq >= 0))
    return next(seq for seq, parties in rows if a in parties and b not in parties)


def test_staff_without_the_auditor_role_and_enterprise_users_are_refused(
    world: credit_world.CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory, write=False) as s:
        for who in (world.staff("BKA"), world.ent("t1")):
            with pytest.raises(Forbidden):
                ledger_audit.entries(s, who)
            with pytest.raises(Forbidden):
                ledger_audit.export(s, who, ORIGIN)


def test_a_bank_added_to_the_stored_parties_gains_nothing(
    world: credit_world.CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        index = _a_only(s, world)
        row = s.scalars(select(LedgerEntry).where(LedgerEntry.seq == index)).one()
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == index)
            .values(parties=[*row.parties, world.banks["BKB"]])
        )
    with transaction(session_factory, write=False) as s:
        b = _auditor(world, "BKB")
        assert index not in [e.index for e in ledger_audit.entries(s, b, limit=500).items]
        with pytest.raises(NotFound):
            ledger_audit.entry(s, b, index)
        a = _auditor(world, "BKA")
        assert index in [e.index for e in ledger_audit.entries(s, a, limit=500).items]


def test_the_entry_list_pages_newest_first_and_filters_by_object(
    world: credit_world.CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory, write=False) as s:
        a = _auditor(world, "BKA")
        first = ledger_audit.entries(s, a, limit=3)
        assert len(first.items) == 3
        indices = [e.index for e in first.items]
        assert indices == sorted(indices, reverse=True)
        assert first.next_before == indices[-1]
        more = ledger_audit.entries(s, a, before=first.next_before, limit=3)
        assert all(e.index < indices[-1] for e in more.items)  # type: ignore[operator]
        wanted = first.items[0].object_ids[0].split("/")[-1]
        found = ledger_audit.entries(s, a, object_id=wanted, limit=500).items
        assert first.items[0].index in [e.index for e in found]
        assert all(any(wanted in i.split("/") for i in e.object_ids) for e in found)
        assert ledger_audit.entries(s, a, object_id="no-such-object").items == []


def test_the_export_withholds_other_banks_entries_and_still_verifies(
    world: credit_world.CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory, write=False) as s:
        out = ledger_audit.export(s, _auditor(world, "BKA"), ORIGIN)
        index = _a_only(s, world)
    files = zipfile.ZipFile(io.BytesIO(out.content))
    lines = [json.loads(x) for x in files.read("chainfin-ledger-export/entries.jsonl").splitlines()]
    assert "payload" in lines[index]
    assert 0 < out.withheld < out.entries == len(lines)
    entries = [
        ExportedEntry(
            r["index"],
            r["payload"].encode() if "payload" in r else None,
            bytes.fromhex(r["leaf_hash"]),
        )
        for r in lines
    ]
    notes = [files.read(n).decode() for n in files.namelist() if n.endswith(".note")]
    keys = [
        NoteVerifier.from_vkey(k)
        for k in files.read("chainfin-ledger-export/log.vkeys").decode().split()
    ]
    report = verify_log(entries, notes, keys, origin=ORIGIN)
    assert report.ok, report.findings
    assert report.withheld == out.withheld
    # a withheld entry's leaf hash stands in for it: changing it breaks the checkpoint's root
    hidden = next(e for e in entries if e.payload is None)
    entries[hidden.index] = ExportedEntry(hidden.index, None, b"\x00" * 32)
    broken = verify_log(entries, notes, keys, origin=ORIGIN)
    assert [f.check for f in broken.findings] == ["checkpoint"]
    short = ExportedEntry(hidden.index, None, b"\x00")
    entries[hidden.index] = short
    assert "leaf" in [f.check for f in verify_log(entries, notes, keys, origin=ORIGIN).findings]
