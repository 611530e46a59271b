"""The persistent verifiable log.

* :func:`record` appends entries in the caller's transaction, so a state change and the
  entry that records it commit together or not at all. Entries wait unsequenced.
* :func:`integrate` (the sequencer) takes the ledger_state row as a lock, gives pending
  entries the next contiguous indices, and stores the new perfect-subtree hashes; a proof in
  a log of any size then needs O(log n) node reads in one query.
* :func:`publish_checkpoint` signs the new tree head as a C2SP checkpoint.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    NODE_LEVEL_SHIFT,
    Cosignature,
    LedgerEntry,
    LedgerKey,
    LedgerNode,
    LedgerState,
    Witness,
)
from chainfin.adapters.db.models import Checkpoint as CheckpointRow
from chainfin.domain.access import SYSTEM, Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import (
    ChainfinError,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chainfin.domain.ids import new_ids
from chainfin.ledger import merkle
from chainfin.ledger.canonical import canonical, check, encode_checked, salted_digest
from chainfin.ledger.note import Checkpoint as NoteCheckpoint
from chainfin.ledger.note import (
    KeyKind,
    NoteError,
    NoteSigner,
    NoteVerifier,
    SignatureLine,
    add_signatures,
    open_note,
    sign_note,
)
from chainfin.services import ledger_chains, notifications, scoping
from chainfin.services.ledger_records import KINDS, entry_parties
from chainfin.services.pagination import DEFAULT_LIMIT, Page, paginate

# v2: an entry's parties are derived from its records (entry_parties); v1 entries carried
# them as written (documents' submitters and chain member lists' banks were not in clear).
SCHEMA_VERSION = 2
_ENTRIES = LedgerEntry.metadata.tables["ledger_entries"]
PENDING_KEY = "chainfin.ledger.pending"


class LedgerNotReady(ChainfinError):
    code = "ledger_not_ready"
    status = 503


@dataclass(frozen=True)
class PendingEntry:
    entry_id: str
    leaf_hash: bytes
    event_type: str


@dataclass
class Change:
    """One record's new state, to go on the log (``kind`` is a key of ledger_records.KINDS)."""

    kind: str
    row: Mapping[str, Any]


@dataclass
class EntryDraft:
    event_type: str
    changes: list[Change] = field(default_factory=list)


def _digest_key(kind: str, key: str, field_name: str) -> str:
    return f"{kind}/{key}/{field_name}"


def build_payload(
    event_type: str, changes: Sequence[Change], *, actor: str, at: str, salt: bytes
) -> tuple[bytes, list[str]]:
    """The canonical leaf input for one entry, and its parties (derived from the records by
    :func:`~chainfin.services.ledger_records.entry_parties`, as ``ledger verify`` does)."""
    records = []
    for change in changes:
        kind = KINDS[change.kind]
        key = kind.key(change.row)
        clear, private = kind.split(change.row)
        check(clear, f"$.{kind.name}/{key}")
        digests = {
            f: salted_digest(salt, _digest_key(kind.name, key, f), v) for f, v in private.items()
        }
        records.append({"kind": kind.name, "id": key, "clear": clear, "digests": digests})
    parties = entry_parties(records)
    payload = {
        "type": event_type,
        "v": SCHEMA_VERSION,
        "at": at,
        "actor": actor,
        "records": records,
        "parties": parties,
    }
    return encode_checked(payload), parties


def payload_parties(payload: bytes) -> list[str]:
    """An entry's parties, from its payload alone: recomputed from its records (v2 on), or
    as the payload states them (v1). Raises ValueError on a payload that is not an entry."""
    try:
        body = json.loads(payload)
        if int(body.get("v", 1)) < 2:
            return sorted(str(p) for p in body["parties"])
        return entry_parties(body["records"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a ledger entry payload: {exc}") from None


def record(session: Session, actor: Principal, drafts: Iterable[EntryDraft]) -> list[PendingEntry]:
    """Append one entry per draft to the log queue, in the caller's transaction."""
    now = utcnow()
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows: list[dict[str, Any]] = []
    heard: list[dict[str, Any]] = []  # notifications: rows of their own, not in the payload
    out: list[PendingEntry] = []
    drafts = list(drafts)
    ids = new_ids("ledger", len(drafts))
    salts = os.urandom(16 * len(drafts))
    for n, draft in enumerate(drafts):
        salt = salts[16 * n : 16 * n + 16]
        payload, parties = build_payload(
            draft.event_type, draft.changes, actor=actor.label, at=at, salt=salt
        )
        entry = PendingEntry(ids[n], merkle.leaf_hash(payload), draft.event_type)
        rows.append(
            {
                "id": entry.entry_id,
                "seq": None,
                "event_type": draft.event_type,
                "payload": payload,
                "leaf_hash": entry.leaf_hash,
                "parties": parties,
                "salt": base64.b64encode(salt).decode(),
                "created_at": now,
                "sequenced_at": None,
            }
        )
        out.append(entry)
        heard += notifications.rows_for(
            entry.entry_id, draft.event_type, draft.changes, parties, actor, now
        )
    # Core executemany: no ORM bookkeeping for rows nobody will load in this transaction.
    for i in range(0, len(rows), 2000):
        session.execute(insert(_ENTRIES), rows[i : i + 2000])
    notifications.write(session, heard)  # after the entries they refer to
    for draft in drafts:  # the acts that answer earlier notifications resolve them
        notifications.resolve(session, draft.event_type, draft.changes, now)
    session.info.setdefault(PENDING_KEY, []).extend(out)
    return out


def one(session: Session, actor: Principal, event_type: str, *changes: Change) -> PendingEntry:
    return record(session, actor, [EntryDraft(event_type, list(changes))])[0]


def pending_in(session: Session) -> list[PendingEntry]:
    """Entries this unit of work appended (for the response's receipt)."""
    return list(session.info.get(PENDING_KEY, []))


# ------------------------------------------------------------------ tree storage


def node_id(key: merkle.NodeKey) -> int:
    level, index = key
    return level << NODE_LEVEL_SHIFT | index


# Built once: the compiled form is cached, and the expanding IN takes any number of keys.
_NODES_QUERY = select(LedgerNode.node_id, LedgerNode.hash).where(
    LedgerNode.node_id.in_(bindparam("ids", expanding=True))
)


def _nodes(session: Session, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    wanted = {node_id(k): k for k in keys}
    found: dict[merkle.NodeKey, bytes] = {}
    ids = sorted(wanted)
    for i in range(0, len(ids), 500):
        for nid, h in session.execute(_NODES_QUERY, {"ids": ids[i : i + 500]}):
            found[wanted[nid]] = bytes(h)
    missing = [k for n, k in sorted(wanted.items()) if k not in found]
    if missing:
        raise LedgerNotReady(f"tree nodes missing from storage: {missing[:5]}")
    return found


def state(session: Session, *, lock: bool = False) -> LedgerState:
    query = select(LedgerState).where(LedgerState.id == 1)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise LedgerNotReady("the ledger is not initialised; run `chainfin db upgrade`")
    return row


@dataclass(frozen=True)
class Integration:
    size_before: int
    size_after: int
    root_hash: bytes


def integrate(session: Session, *, batch: int = 10_000) -> Integration:
    """Sequence up to ``batch`` pending entries. Safe to run from many processes at once:
    the locked state row makes sequencers take turns, so indices stay gap- and
    duplicate-free."""
    st = state(session, lock=True)
    size = st.tree_size
    pending = list(
        session.execute(
            select(LedgerEntry.id, LedgerEntry.leaf_hash)
            .where(LedgerEntry.seq.is_(None))
            .order_by(LedgerEntry.id)
            .limit(batch)
        )
    )
    if not pending:
        return Integration(size, size, st.root_hash)
    now = utcnow()
    session.execute(
        update(LedgerEntry),
        [{"id": eid, "seq": size + i, "sequenced_at": now} for i, (eid, _) in enumerate(pending)],
    )
    leaves = [h for _, h in pending]
    known = _nodes(session, merkle.integration_keys(size, len(leaves)))
    new = merkle.integrate(size, leaves, known)
    session.execute(
        insert(LedgerNode),
        [{"node_id": node_id(key), "hash": h} for key, h in sorted(new.items())],
    )
    new_size = size + len(leaves)
    root_keys = merkle.root_keys(new_size)
    have = {**known, **new}
    have.update(_nodes(session, [k for k in root_keys if k not in have]))
    root = merkle.root_from_nodes(new_size, have)
    st.tree_size, st.root_hash, st.updated_at = new_size, root, now
    return Integration(size, new_size, root)


def integrate_all(session: Session, *, batch: int = 10_000) -> Integration:
    first = integrate(session, batch=batch)
    last = first
    while last.size_after - last.size_before == batch:
        last = integrate(session, batch=batch)
    return Integration(first.size_before, last.size_after, last.root_hash)


def root_at(session: Session, size: int) -> bytes:
    return merkle.root_from_nodes(size, _nodes(session, merkle.root_keys(size)))


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof_from_nodes(
        index, size, _nodes(session, merkle.inclusion_keys(index, size))
    )


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    return merkle.consistency_proof_from_nodes(
        size1, size2, _nodes(session, merkle.consistency_keys(size1, size2))
    )


# ------------------------------------------------------------------ keys and checkpoints


def active_signer(session: Session) -> NoteSigner | None:
    row = session.scalar(select(LedgerKey.private_key).where(LedgerKey.active.is_(True)))
    return _signer(row) if row is not None else None


@functools.lru_cache(maxsize=8)
def _signer(key_string: str) -> NoteSigner:
    """Parsing a key costs more than signing with it; every write response signs."""
    return NoteSigner.from_key_string(key_string)


def ensure_log_key(session: Session, origin: str) -> NoteSigner:
    """The active log key, created on first use (the key name is the log's origin)."""
    signer = active_signer(session)
    if signer is None:
        signer = _new_key(session, origin)
    return signer


def _new_key(session: Session, origin: str) -> NoteSigner:
    signer = NoteSigner.generate(origin)
    session.add(
        LedgerKey(
            key_id=signer.key_id.hex(),
            name=origin,
            vkey=signer.verifier().vkey(),
            private_key=signer.key_string(),
            active=True,
            created_at=utcnow(),
            retired_at=None,
        )
    )
    session.flush()
    return signer


def rotate_log_key(session: Session, origin: str) -> NoteVerifier:
    """Retire the active key (kept, so old checkpoints stay verifiable) and start a new one."""
    now = utcnow()
    for row in session.scalars(select(LedgerKey).where(LedgerKey.active.is_(True))):
        row.active, row.retired_at = False, now
    session.flush()
    return _new_key(session, origin).verifier()


def publish_checkpoint(session: Session, origin: str) -> CheckpointRow | None:
    """Sign the current tree head if it grew since the last checkpoint."""
    st = state(session)
    last = session.scalar(select(func.max(CheckpointRow.tree_size)))
    if last is not None and last >= st.tree_size:
        return None
    signer = ensure_log_key(session, origin)
    body = NoteCheckpoint(origin, st.tree_size, st.root_hash).body()
    row = CheckpointRow(
        tree_size=st.tree_size,
        root_hash=st.root_hash,
        note=sign_note(body, [signer]),
        key_id=signer.key_id.hex(),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def sequence(session: Session, origin: str, *, batch: int = 10_000) -> CheckpointRow | None:
    """Seal the hash chains and anchor their heads on the log (one entry for all chains that
    grew), integrate everything pending and publish a checkpoint (the sequencer's job)."""
    heads = ledger_chains.seal(session, batch=batch)
    if heads:
        one(session, SYSTEM, "chain.sealed", *(Change("chain_head", h) for h in heads))
    integrate_all(session, batch=batch)
    return publish_checkpoint(session, origin)


def latest_checkpoint(session: Session) -> CheckpointRow | None:
    return session.scalar(select(CheckpointRow).order_by(CheckpointRow.tree_size.desc()).limit(1))


def checkpoint_at(session: Session, size: int) -> CheckpointRow:
    row = session.get(CheckpointRow, size)
    if row is None:
        raise NotFound(f"no checkpoint at tree size {size}", code="checkpoint_not_found")
    return row


# ------------------------------------------------------------------ receipts


@dataclass(frozen=True)
class Receipt:
    """What a client gets back at once for a state change: the entries that record it, the
    time by which they will be in a signed checkpoint, and the log's signature on that
    promise (like Rekor's signed entry timestamp)."""

    origin: str
    entries: list[PendingEntry]
    integrate_by: datetime
    key_id: str
    signature: bytes

    def promise(self) -> bytes:
        return promise_bytes(self.origin, self.entries, self.integrate_by)


def promise_bytes(origin: str, entries: Sequence[PendingEntry], integrate_by: datetime) -> bytes:
    return canonical(
        {
            "origin": origin,
            "integrate_by": integrate_by.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": [[e.entry_id, e.leaf_hash.hex()] for e in entries],
        }
    )


def receipt(session: Session, origin: str, max_delay_seconds: int) -> Receipt | None:
    entries = pending_in(session)
    if not entries:
        return None
    signer = ensure_log_key(session, origin)
    integrate_by = (utcnow() + timedelta(seconds=max_delay_seconds)).replace(microsecond=0)
    message = promise_bytes(origin, entries, integrate_by)
    return Receipt(
        origin, entries, integrate_by, signer.key_id.hex(), signer.private_key.sign(message)
    )


# ------------------------------------------------------------------ reading entries


def get_entry(
    session: Session, actor: Principal, *, index: int | None = None, entry_id: str | None = None
) -> LedgerEntry:
    """An entry, for its parties (a bank's auditor too reads only its bank's), platform
    auditors and the operator; anyone else gets 404."""
    query = select(LedgerEntry)
    query = (
        query.where(LedgerEntry.seq == index)
        if index is not None
        else query.where(LedgerEntry.id == entry_id)
    )
    entry = session.scalar(query)
    # Parties from the payload itself (hashed into the tree), not the stored column alone:
    # a bank added to the column behind the platform's back gains nothing.
    # Tenancy (services/scoping.py): the entry's parties — a bank's staff, its auditor
    # included, read what their bank is a party to — platform auditors and the operator.
    if entry is None or not scoping.may_read_ledger_entry(
        session, actor, payload_parties(entry.payload)
    ):
        what = f"index {index}" if index is not None else f"id {entry_id}"
        raise NotFound(f"no ledger entry with {what}", code="ledger_entry_not_found")
    return entry


# ------------------------------------------------------------------ witnesses


def witnesses(
    session: Session,
    *,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Witness]:
    """The registered witnesses by name: public, like the keys a cosignature is checked
    against."""
    query = select(Witness)
    if active is not None:
        query = query.where(Witness.active == active)
    return paginate(session, query, Witness.name, cursor=cursor, limit=limit)


def verifier_keys(session: Session) -> tuple[list[LedgerKey], list[Witness]]:
    """Every log key (oldest first) and every witness (by name): what verifies the log."""
    log = list(session.scalars(select(LedgerKey).order_by(LedgerKey.created_at)))
    return log, list(session.scalars(select(Witness).order_by(Witness.name)))


def register_witness(session: Session, actor: Principal, *, vkey: str) -> Witness:
    """A bank, a core enterprise or an auditor registers its cosigning key. Bank staff and
    enterprise admins register for their own organisation (``users:admin``); auditors for
    themselves (``audit:read``)."""
    if not (actor.is_system or actor.has(Scope.USERS_ADMIN) or actor.has(Scope.AUDIT_READ)):
        raise Forbidden("registering a witness needs an admin or auditor role")
    try:
        verifier = NoteVerifier.from_vkey(vkey)
    except NoteError as exc:
        raise ValidationFailed([FieldError("vkey", str(exc))], code="witness_key_invalid") from None
    if verifier.kind is not KeyKind.COSIGNATURE_V1:
        raise ValidationFailed(
            [FieldError("vkey", "a witness key must be a cosignature/v1 key (type 0x04)")],
            code="witness_key_invalid",
        )
    if session.get(Witness, verifier.name) is not None:
        raise Conflict(
            f"a witness named {verifier.name!r} is already registered", code="witness_name_taken"
        )
    witness = Witness(
        name=verifier.name,
        vkey=verifier.vkey(),
        bank_id=actor.bank_id,
        enterprise_id=actor.enterprise_id,
        registered_by=actor.label,
        active=True,
        created_at=utcnow(),
    )
    session.add(witness)
    session.flush()
    return witness


def add_cosignature(
    session: Session, actor: Principal, *, tree_size: int, line: str
) -> Cosignature:
    """Attach a witness's cosignature to a checkpoint after checking it. A witness signs only
    after verifying consistency with the last checkpoint it signed (``chainfin ledger
    witness`` does); the log re-checks that here too, so no cosignature vouches for a fork."""
    cp = checkpoint_at(session, tree_size)
    try:
        sig = SignatureLine.parse(line.strip())
    except NoteError as exc:
        raise ValidationFailed(
            [FieldError("signature_line", str(exc))], code="cosignature_invalid"
        ) from None
    witness = session.get(Witness, sig.name)
    if witness is None or not witness.active:
        raise ValidationFailed(
            [FieldError("signature_line", f"{sig.name!r} is not a registered witness")],
            code="witness_unknown",
        )
    mine = {actor.bank_id, actor.enterprise_id} - {None}
    if (
        not actor.is_system
        and actor.label != witness.registered_by
        and not (mine & {witness.bank_id, witness.enterprise_id})
    ):
        raise Forbidden("only the witness's owner submits its cosignatures", code="not_your_record")
    previous = session.scalar(
        select(Cosignature)
        .where(Cosignature.witness_name == witness.name)
        .order_by(Cosignature.tree_size.desc())
        .limit(1)
    )
    if previous is not None and previous.tree_size >= tree_size:
        raise Conflict(
            f"{witness.name} already cosigned tree size {previous.tree_size}",
            code="already_cosigned",
        )
    verifier = NoteVerifier.from_vkey(witness.vkey)
    try:
        opened = open_note(add_signatures(cp.note, [sig]), [verifier, *_log_verifiers(session)])
    except NoteError as exc:
        raise ValidationFailed(
            [FieldError("signature_line", str(exc))], code="cosignature_invalid"
        ) from None
    cosig = next((c for c in opened.cosignatures if c.name == witness.name), None)
    if cosig is None:
        raise ValidationFailed(
            [FieldError("signature_line", "not a valid cosignature")], code="cosignature_invalid"
        )
    if previous is not None:
        before = checkpoint_at(session, previous.tree_size)
        merkle.verify_consistency(
            before.tree_size,
            tree_size,
            consistency_proof(session, before.tree_size, tree_size),
            before.root_hash,
            cp.root_hash,
        )
    row = Cosignature(
        witness_name=witness.name,
        tree_size=tree_size,
        timestamp=cosig.timestamp,
        signature_line=str(sig),
        created_at=utcnow(),
    )
    session.add(row)
    cp.note = add_signatures(cp.note, [sig])
    return row


def _log_verifiers(session: Session) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(v) for v in session.scalars(select(LedgerKey.vkey))]


def cosigners(session: Session, tree_size: int) -> list[str]:
    return sorted(
        session.scalars(select(Cosignature.witness_name).where(Cosignature.tree_size == tree_size))
    )
