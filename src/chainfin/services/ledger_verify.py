"""``chainfin ledger verify``: the log against itself, its checkpoints and the database.

1. The log: every stored leaf recomputed from its payload, indices contiguous, the root at
   every checkpoint recomputed from the leaves, every checkpoint signed by a log key (and its
   cosignatures checked), the stored tree nodes recomputed level by level.
2. Who may read an entry: the ``parties`` stored with every entry (which access control
   reads) are recomputed from its payload's records.
3. The state: the latest snapshot of every covered record is replayed from the log and
   compared field by field with the database (digests recomputed with the entry's salt), and
   records present on one side only are reported. Users and API clients are covered records
   (roles, scopes, tenant, active flag, a digest of the password or secret hash).
4. The chained tables (audit trail, data-access log, stored idempotent answers): every row's
   digest and chain link, and the chain heads anchored on the log (services/ledger_chains.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, select
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
from chainfin.services import ledger_chains
from chainfin.services.ledger import _digest_key
from chainfin.services.ledger_chains import Anchor
from chainfin.services.ledger_records import KINDS, current_rows, entry_parties

CHAIN_HEAD = "chain_head"


@dataclass
class LoggedRecord:
    where: str  # which entry holds the latest snapshot
    salt: bytes
    clear: dict[str, Any]
    digests: dict[str, str]
    version: int = 2  # entry schema: v1 entries predate some fields (not compared)


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
    logged, anchors = _logged_records(session, report)
    _verify_records(session, report, logged)
    report.findings.extend(ledger_chains.verify(session, anchors))
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


def _logged_records(
    session: Session, report: Report
) -> tuple[dict[tuple[str, str], LoggedRecord], dict[str, list[Anchor]]]:
    """One pass over the log: the latest snapshot of every record, every chain anchor in log
    order, and each entry's stored parties checked against its payload."""
    latest: dict[tuple[str, str], LoggedRecord] = {}
    anchors: dict[str, list[Anchor]] = {}
    query = (
        select(
            LedgerEntry.seq,
            LedgerEntry.id,
            LedgerEntry.payload,
            LedgerEntry.salt,
            # As stored text: compared with the expected text first, parsed only if it differs.
            cast(LedgerEntry.parties, Text),
        )
        .order_by(LedgerEntry.seq.is_(None), LedgerEntry.seq, LedgerEntry.id)
        .execution_options(yield_per=5000)
    )
    for seq, eid, payload, salt, stored_parties in session.execute(query):
        where = f"entry {seq}" if seq is not None else f"pending entry {eid}"
        try:
            body = json.loads(payload)
            records = body["records"]
            version = int(body.get("v", 1))
        except (ValueError, KeyError, TypeError):
            continue  # reported by the log checks
        _check_parties(where, body, records, version, stored_parties, report)
        for rec in records:
            kind, key, clear = rec["kind"], rec["id"], rec.get("clear", {})
            latest[(kind, key)] = LoggedRecord(
                where, base64.b64decode(salt), clear, rec.get("digests", {}), version
            )
            if kind == CHAIN_HEAD:
                anchors.setdefault(key, []).append(
                    Anchor(int(clear.get("size", -1)), str(clear.get("head")), where)
                )
    return latest, anchors


def _check_parties(
    where: str,
    body: dict[str, Any],
    records: list[dict[str, Any]],
    version: int,
    stored: Any,
    report: Report,
) -> None:
    """The parties column is what access control reads: it must be what the payload gives
    (from v2 on, recomputed from the records; the payload's own list must agree too)."""
    stated = body.get("parties")
    if version >= 2:
        try:
            derived = entry_parties(records)
        except (KeyError, TypeError, AttributeError) as exc:
            report.findings.append(Finding("parties", where, f"records give no parties: {exc}"))
            return
        if stated != derived:
            report.findings.append(
                Finding(
                    "parties",
                    where,
                    f"payload states parties {stated!r} but its records give {derived!r}",
                )
            )
    else:
        derived = sorted(str(p) for p in stated or [])
    if stored == json.dumps(derived):  # the form the JSON column writes: the usual case
        return
    try:
        parsed = json.loads(stored) if isinstance(stored, str) else stored
    except ValueError:
        parsed = stored
    have = sorted(str(p) for p in parsed) if isinstance(parsed, list) else parsed
    if have == derived:
        return
    extra = sorted(set(have) - set(derived)) if isinstance(have, list) else []
    missing = sorted(set(derived) - set(have)) if isinstance(have, list) else derived
    detail = "; ".join(
        part
        for part in (
            f"adds {', '.join(extra)} (opens the entry to them)" if extra else "",
            f"drops {', '.join(missing)}" if missing else "",
        )
        if part
    )
    report.findings.append(
        Finding(
            "parties",
            where,
            f"stored parties {have!r} differ from the payload's {derived!r}: {detail}",
        )
    )


def _verify_records(
    session: Session, report: Report, logged: dict[tuple[str, str], LoggedRecord]
) -> None:
    seen: set[tuple[str, str]] = {k for k in logged if k[0] == CHAIN_HEAD}  # ledger_chains
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
            if entry.version < 2 and name not in entry.clear:
                continue  # a field the kind gained after this v1 entry was written
            if entry.clear.get(name) != value:
                report.findings.append(
                    Finding(
                        "state",
                        f"{where} field {name}",
                        f"database has {value!r}, {entry.where} has {entry.clear.get(name)!r}",
                    )
                )
        for name, value in private.items():
            if entry.version < 2 and name not in entry.digests:
                continue
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
