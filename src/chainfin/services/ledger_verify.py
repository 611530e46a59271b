"""``chainfin ledger verify``: the log against itself, its checkpoints and the database.

1. The log: every stored leaf recomputed from its payload, indices contiguous, the root at
   every checkpoint recomputed from the leaves, every checkpoint signed by a log key (and its
   cosignatures checked), the stored tree nodes recomputed level by level.
2. The state: the latest snapshot of every covered record is replayed from the log and
   compared field by field with the database (digests recomputed with the entry's salt), and
   records present on one side only are reported.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    NODE_LEVEL_SHIFT,
    Checkpoint,
    LedgerEntry,
    LedgerKey,
    LedgerNode,
    LedgerState,
    Witness,
)
from chainfin.ledger import merkle
from chainfin.ledger.canonical import salted_digest
from chainfin.ledger.note import NoteVerifier
from chainfin.ledger.verifier import ExportedEntry, Finding, Report, verify_log
from chainfin.services.ledger import _digest_key
from chainfin.services.ledger_records import KINDS, current_rows


@dataclass
class LoggedRecord:
    where: str  # which entry holds the latest snapshot
    salt: bytes
    clear: dict[str, Any]
    digests: dict[str, str]


def log_keys(session: Session) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(v) for v in session.scalars(select(LedgerKey.vkey))]


def witness_keys(session: Session) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(v) for v in session.scalars(select(Witness.vkey))]


def _sequenced(session: Session) -> Iterator[ExportedEntry]:
    query = (
        select(LedgerEntry.seq, LedgerEntry.payload, LedgerEntry.leaf_hash)
        .where(LedgerEntry.seq.is_not(None))
        .order_by(LedgerEntry.seq)
        .execution_options(yield_per=5000)
    )
    for seq, payload, leaf in session.execute(query):
        if seq is not None:
            yield ExportedEntry(seq, bytes(payload), bytes(leaf))


def verify(session: Session, *, origin: str) -> Report:
    notes = list(session.scalars(select(Checkpoint.note).order_by(Checkpoint.tree_size)))
    report = verify_log(
        _sequenced(session), notes, log_keys(session), witness_keys(session), origin=origin
    )
    st = session.get(LedgerState, 1)
    if st is not None and (st.tree_size, st.root_hash) != (report.tree_size, report.root_hash):
        report.findings.append(
            Finding(
                "state",
                "ledger_state",
                f"records size {st.tree_size} root {st.root_hash.hex()[:16]}…, entries give "
                f"size {report.tree_size} root {report.root_hash.hex()[:16]}…",
            )
        )
    _verify_pending(session, report)
    _verify_nodes(session, report)
    _verify_records(session, report)
    return report


def _verify_pending(session: Session, report: Report) -> None:
    for eid, payload, leaf in session.execute(
        select(LedgerEntry.id, LedgerEntry.payload, LedgerEntry.leaf_hash).where(
            LedgerEntry.seq.is_(None)
        )
    ):
        if merkle.leaf_hash(bytes(payload)) != bytes(leaf):
            report.findings.append(
                Finding("leaf", f"pending entry {eid}", "leaf hash does not match the payload")
            )


def _verify_nodes(session: Session, report: Report) -> None:
    """Stored perfect-subtree hashes are what proofs are served from: recompute them."""
    size = report.tree_size
    below: dict[int, bytes] = {}
    level = 0
    while (1 << level) <= size:
        count = size >> level
        low, high = level << NODE_LEVEL_SHIFT, (level + 1) << NODE_LEVEL_SHIFT
        stored = {
            nid - low: bytes(h)
            for nid, h in session.execute(
                select(LedgerNode.node_id, LedgerNode.hash).where(
                    LedgerNode.node_id >= low, LedgerNode.node_id < high
                )
            )
        }
        if level == 0:
            expected = {
                seq: bytes(leaf)
                for seq, leaf in session.execute(
                    select(LedgerEntry.seq, LedgerEntry.leaf_hash).where(
                        LedgerEntry.seq.is_not(None)
                    )
                )
                if seq is not None
            }
        else:
            expected = {
                i: merkle.node_hash(below[2 * i], below[2 * i + 1])
                for i in range(count)
                if 2 * i in below and 2 * i + 1 in below
            }
        for i in range(count):
            got = stored.get(i)
            if got is None:
                report.findings.append(Finding("node", f"node {level}/{i}", "missing"))
            elif i in expected and got != expected[i]:
                report.findings.append(
                    Finding("node", f"node {level}/{i}", "stored hash does not match its children")
                )
        below = stored
        level += 1


def _logged_records(session: Session, report: Report) -> dict[tuple[str, str], LoggedRecord]:
    latest: dict[tuple[str, str], LoggedRecord] = {}
    query = (
        select(LedgerEntry.seq, LedgerEntry.id, LedgerEntry.payload, LedgerEntry.salt)
        .order_by(LedgerEntry.seq.is_(None), LedgerEntry.seq, LedgerEntry.id)
        .execution_options(yield_per=5000)
    )
    for seq, eid, payload, salt in session.execute(query):
        where = f"entry {seq}" if seq is not None else f"pending entry {eid}"
        try:
            body = json.loads(payload)
            records = body["records"]
        except (ValueError, KeyError, TypeError):
            continue  # reported by the log checks
        for rec in records:
            latest[(rec["kind"], rec["id"])] = LoggedRecord(
                where, base64.b64decode(salt), rec.get("clear", {}), rec.get("digests", {})
            )
    return latest


def _verify_records(session: Session, report: Report) -> None:
    logged = _logged_records(session, report)
    seen: set[tuple[str, str]] = set()
    for kind_name, row in current_rows(session):
        kind = KINDS[kind_name]
        key = kind.key(row)
        seen.add((kind_name, key))
        where = f"{kind_name} {key}"
        entry = logged.get((kind_name, key))
        if entry is None:
            report.findings.append(Finding("state", where, "is in the database but not on the log"))
            continue
        clear, private = kind.split(kind.derive(row) if kind.derive is not None else row)
        for name, value in clear.items():
            if entry.clear.get(name) != value:
                report.findings.append(
                    Finding(
                        "state",
                        f"{where} field {name}",
                        f"database has {value!r}, {entry.where} has {entry.clear.get(name)!r}",
                    )
                )
        for name, value in private.items():
            digest = salted_digest(entry.salt, _digest_key(kind_name, key, name), value)
            if entry.digests.get(name) != digest:
                report.findings.append(
                    Finding(
                        "state",
                        f"{where} field {name}",
                        f"database value does not match the digest in {entry.where}",
                    )
                )
    for kind_name, key in sorted(set(logged) - seen):
        report.findings.append(
            Finding(
                "state",
                f"{kind_name} {key}",
                f"is on the log ({logged[(kind_name, key)].where}) but missing from the database",
            )
        )


def pending_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.seq.is_(None))
        )
        or 0
    )
