"""What a bank's auditor reads of the verifiable log and the audit trail (the workbench's
/audit pages): the latest checkpoints with each signature checked here, the entries the
auditor's bank is a party to (newest first, by kind and object), one entry with its
inclusion proof, consistency proofs, the bank's audit trail, and an export for offline
verification.

Scoping is the ledger API's: an entry is read by its parties, computed from its payload
(``services/ledger.get_entry`` and ``scoping.may_read_ledger_entry``), so a bank added to
the stored ``parties`` column behind the platform's back gains nothing. The stored column
only narrows the query; every row is re-checked against its payload.

The export has the files ``chainfin ledger export`` writes (``entries.jsonl``,
``checkpoints/*.note``, ``log.vkeys``, ``witness.vkeys``, ``origin``), zipped. An entry the
auditor may not read is *withheld*: its line carries the index and leaf hash only (a leaf
hash is already public: consistency proofs between adjacent tree sizes carry it), so the
tree and every checkpoint still verify, and ``chainfin ledger verify-export`` says how many
entries were withheld."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    AuditEvent,
    Checkpoint,
    Cosignature,
    LedgerEntry,
    LedgerKey,
    User,
    Witness,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.ledger.note import NoteError, NoteVerifier, SignatureLine, open_note, split_note
from chainfin.services import ledger, scoping

CHECKPOINTS_SHOWN = 10
SCAN_LIMIT = 5000  # rows one page of a filtered list reads at most before it stops


def require_auditor(actor: Principal) -> None:
    """The auditor's pages: a bank's auditor (``audit:read`` acting for a bank), a platform
    auditor or the operator. Other staff and every enterprise user are refused."""
    if actor.platform_may(Scope.PLATFORM_AUDIT):
        return
    if actor.bank_id is None or not actor.has(Scope.AUDIT_READ):
        raise Forbidden("the ledger explorer is for auditors", code="scope_missing")


# ---------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of a checkpoint as the server found it."""

    name: str  # the key's name (the log's origin, or the witness's name)
    key_id: str
    witness: bool
    verified: bool
    owner_id: str | None = None  # a witness's bank or enterprise
    timestamp: int | None = None  # a cosignature's time (POSIX seconds)


@dataclass(frozen=True)
class CheckpointView:
    tree_size: int
    root_hash: str
    created_at: datetime
    note: str
    signatures: list[SignatureCheck] = field(default_factory=list)

    @property
    def log_verified(self) -> bool:
        return any(s.verified for s in self.signatures if not s.witness)


def log_vkeys(session: Session) -> list[str]:
    """Every log key (oldest first): what a checkpoint's signature is checked against."""
    return list(session.scalars(select(LedgerKey.vkey).order_by(LedgerKey.created_at)))


def witness_rows(session: Session) -> list[Witness]:
    return list(session.scalars(select(Witness).order_by(Witness.name)))


def _check_line(note: str, line: SignatureLine, keys: Sequence[NoteVerifier]) -> int | None:
    """-1 when ``line`` verifies as a log signature, its timestamp when it verifies as a
    cosignature, None when it does not verify (or no key of its name and id is known)."""
    mine = [k for k in keys if k.name == line.name and k.key_id == line.key_id]
    if not mine:
        return None
    try:
        opened = open_note(note, mine)
    except NoteError:
        return None
    for cosig in opened.cosignatures:
        if cosig.name == line.name:
            return cosig.timestamp
    return -1 if opened.verified_by(mine[0]) else None


def _checks(
    cp: Checkpoint, logs: Sequence[NoteVerifier], witnesses: dict[str, Witness]
) -> list[SignatureCheck]:
    try:
        _, lines = split_note(cp.note)
    except NoteError:
        return []
    out = []
    for line in lines:
        witness = witnesses.get(line.name)
        keys = [NoteVerifier.from_vkey(witness.vkey)] if witness is not None else logs
        result = _check_line(cp.note, line, keys)
        owner = (witness.bank_id or witness.enterprise_id) if witness is not None else None
        stamp = result if witness is not None and result is not None and result >= 0 else None
        out.append(
            SignatureCheck(
                line.name, line.key_id.hex(), witness is not None, result is not None, owner, stamp
            )
        )
    return out


def checkpoints(
    session: Session, actor: Principal, *, limit: int = CHECKPOINTS_SHOWN
) -> list[CheckpointView]:
    """The latest checkpoints and each witness's latest cosigned one (largest first), each
    signature checked here: the log's against the log keys, each witness's cosignature
    against its registered key."""
    require_auditor(actor)
    logs = [NoteVerifier.from_vkey(v) for v in log_vkeys(session)]
    witnesses = {w.name: w for w in witness_rows(session)}
    latest = select(Checkpoint.tree_size).order_by(Checkpoint.tree_size.desc()).limit(limit)
    cosigned = select(func.max(Cosignature.tree_size)).group_by(Cosignature.witness_name)
    sizes = set(session.scalars(latest)) | set(session.scalars(cosigned))
    rows = session.scalars(
        select(Checkpoint)
        .where(Checkpoint.tree_size.in_(sorted(sizes)))
        .order_by(Checkpoint.tree_size.desc())
    )
    return [
        CheckpointView(
            cp.tree_size,
            bytes(cp.root_hash).hex(),
            cp.created_at,
            cp.note,
            _checks(cp, logs, witnesses),
        )
        for cp in rows
    ]


def checkpoint_sizes(session: Session, actor: Principal, *, limit: int = 200) -> list[int]:
    """The tree sizes of the latest checkpoints, largest first (to choose two of)."""
    require_auditor(actor)
    query = select(Checkpoint.tree_size).order_by(Checkpoint.tree_size.desc()).limit(limit)
    return list(session.scalars(query))


def cosigned_sizes(session: Session, sizes: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    query = select(Cosignature.tree_size, Cosignature.witness_name).where(
        Cosignature.tree_size.in_(list(sizes))
    )
    for size, name in session.execute(query):
        out.setdefault(size, []).append(name)
    return out


# ---------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class EntryView:
    """One entry as the auditor reads it: the canonical bytes and what they say."""

    index: int | None
    entry_id: str
    event_type: str
    at: str
    actor: str
    records: list[dict[str, Any]]
    parties: list[str]
    leaf_hash: str
    payload: str  # the canonical bytes (UTF-8 JSON), exactly as hashed

    @property
    def recorded_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.at.replace("Z", "+00:00"))
        except ValueError:
            return None

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(str(r.get("kind", "")) for r in self.records))

    @property
    def object_ids(self) -> list[str]:
        return [str(r.get("id", "")) for r in self.records]


def _view(entry: LedgerEntry) -> EntryView:
    payload = bytes(entry.payload)
    body = json.loads(payload)
    return EntryView(
        entry.seq,
        entry.id,
        entry.event_type,
        str(body.get("at", "")),
        str(body.get("actor", "")),
        list(body.get("records", [])),
        ledger.payload_parties(payload),
        bytes(entry.leaf_hash).hex(),
        payload.decode("utf-8"),
    )


def _party_condition(session: Session, actor: Principal) -> Any:
    """A narrowing of the stored ``parties`` column to the actor's tenant ids (rows are
    re-checked against their payload after)."""
    if actor.platform_may(Scope.PLATFORM_AUDIT):
        return true()
    ids = scoping.tenant_ids(session, actor)
    if not ids:
        return false()
    text = cast(LedgerEntry.parties, Text)
    return or_(*(text.contains(f'"{i}"', autoescape=True) for i in sorted(ids)))


def _matches(view: EntryView, kind: str | None, object_id: str | None) -> bool:
    if kind and kind not in view.kinds:
        return False
    if object_id:
        wanted = object_id.strip()
        return any(wanted == i or wanted in i.split("/") for i in view.object_ids)
    return True


@dataclass(frozen=True)
class EntryPage:
    items: list[EntryView]
    next_before: int | None  # the index to continue from (exclusive), None at the end


def entries(
    session: Session,
    actor: Principal,
    *,
    kind: str | None = None,
    object_id: str | None = None,
    before: int | None = None,
    limit: int = 25,
) -> EntryPage:
    """The sequenced entries the actor may read, newest first, optionally only those with a
    record of ``kind`` or of the object ``object_id`` (a record's id, or one part of a
    compound id such as ``bnk_…/ent_…``); ``before``: an index to continue below."""
    require_auditor(actor)
    query = select(LedgerEntry).where(
        LedgerEntry.seq.is_not(None), _party_condition(session, actor)
    )
    if before is not None:
        query = query.where(LedgerEntry.seq < before)
    query = query.order_by(LedgerEntry.seq.desc())
    found: list[EntryView] = []
    scanned, last = 0, None
    chunk = 200
    while scanned < SCAN_LIMIT:
        rows = list(session.scalars(query.offset(scanned).limit(chunk)))
        for row in rows:
            last = row.seq
            view = _view(row)
            if not scoping.may_read_ledger_entry(session, actor, view.parties):
                continue
            if _matches(view, kind, object_id):
                found.append(view)
                if len(found) > limit:
                    return EntryPage(found[:limit], found[limit - 1].index)
        scanned += len(rows)
        if len(rows) < chunk:
            return EntryPage(found, None)
    return EntryPage(found, last)  # scanned enough: the next page goes on from here


def entry_kinds(session: Session, actor: Principal) -> list[str]:
    """The event types of the entries the actor's tenant is named in (for the filter)."""
    require_auditor(actor)
    query = select(LedgerEntry.event_type).distinct().where(_party_condition(session, actor))
    kinds = {t.split(".")[0] for t in session.scalars(query)}
    return sorted(kinds)


def entry(session: Session, actor: Principal, index: int) -> EntryView:
    """One entry, for its parties' auditors (404 otherwise, as the API answers)."""
    require_auditor(actor)
    return _view(ledger.get_entry(session, actor, index=index))


@dataclass(frozen=True)
class InclusionData:
    """What the browser needs to check an entry is in the log: the exact leaf bytes, the
    audit path and the signed checkpoint it leads to."""

    index: int
    leaf: bytes
    leaf_hash: str
    tree_size: int
    proof: list[str]
    checkpoint: str

    def as_json(self) -> dict[str, Any]:
        import base64

        return {
            "index": self.index,
            "leaf_base64": base64.b64encode(self.leaf).decode("ascii"),
            "leaf_hash": self.leaf_hash,
            "tree_size": self.tree_size,
            "proof": self.proof,
            "checkpoint": self.checkpoint,
        }


def inclusion(session: Session, actor: Principal, index: int) -> InclusionData | None:
    """The entry's inclusion proof against the latest checkpoint; None while no signed
    checkpoint covers it yet."""
    require_auditor(actor)
    row = ledger.get_entry(session, actor, index=index)
    cp = ledger.latest_checkpoint(session)
    if cp is None or row.seq is None or row.seq >= cp.tree_size:
        return None
    proof = ledger.inclusion_proof(session, row.seq, cp.tree_size)
    return InclusionData(
        row.seq,
        bytes(row.payload),
        bytes(row.leaf_hash).hex(),
        cp.tree_size,
        [h.hex() for h in proof],
        cp.note,
    )


def consistency(session: Session, actor: Principal, first: int, second: int) -> dict[str, Any]:
    """Two signed checkpoints and the proof that the second extends the first."""
    require_auditor(actor)
    if not 1 <= first <= second:
        raise ValidationFailed(
            [FieldError("second", "choose an older checkpoint first and a newer one second")],
            code="tree_range_invalid",
        )
    one, two = ledger.checkpoint_at(session, first), ledger.checkpoint_at(session, second)
    proof = ledger.consistency_proof(session, first, second)
    return {
        "first": first,
        "second": second,
        "first_checkpoint": one.note,
        "second_checkpoint": two.note,
        "proof": [h.hex() for h in proof],
    }


# ---------------------------------------------------------------------------- audit trail


@dataclass(frozen=True)
class TrailFilter:
    actor: str | None = None  # a username, display name or label (staff:usr_…)
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class TrailPage:
    items: list[AuditEvent]
    people: dict[str, str]  # actor label -> display name
    next_cursor: str | None
    users: dict[str, str] = field(default_factory=dict)  # a target user's id -> name


def _actor_labels(session: Session, actor: Principal, text: str) -> list[str]:
    """The audit labels of the people of the auditor's bank whose username or name holds
    ``text``, and ``text`` itself (a label such as ``client:cli_…``)."""
    like = f"%{text}%"
    query = select(User.id, User.kind).where(
        or_(User.username.ilike(like), User.display_name.ilike(like)),
        scoping.by_bank(actor, User.bank_id)
        if not actor.platform_may(Scope.PLATFORM_AUDIT)
        else true(),
    )
    labels = [
        f"{'staff' if kind == 'staff' else kind}:{uid}" for uid, kind in session.execute(query)
    ]
    return [*labels, text]


def trail(
    session: Session,
    actor: Principal,
    filters: TrailFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> TrailPage:
    """The audit trail of the auditor's bank (events its people and clients caused),
    newest first; a platform auditor reads every event."""
    require_auditor(actor)
    query = select(AuditEvent)
    if not actor.platform_may(Scope.PLATFORM_AUDIT):
        query = query.where(scoping.by_bank(actor, AuditEvent.bank_id))
    if filters.actor:
        query = query.where(AuditEvent.actor.in_(_actor_labels(session, actor, filters.actor)))
    if filters.target_type:
        query = query.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEvent.target_id == filters.target_id)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.occurred_at < filters.until)
    if cursor:
        at, _, event_id = cursor.partition("~")
        try:
            when = datetime.fromisoformat(at)
            if when.tzinfo is None:
                raise ValueError("a cursor's instant carries its offset")
        except ValueError:
            raise ValidationFailed(
                [FieldError("cursor", "not a cursor of this list")], code="cursor_invalid"
            ) from None
        query = query.where(
            or_(
                AuditEvent.occurred_at < when,
                (AuditEvent.occurred_at == when) & (AuditEvent.id < event_id),
            )
        )
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = f"{rows[-1].occurred_at.isoformat()}~{rows[-1].id}" if more and rows else None
    targets = {r.target_id for r in rows if r.target_type == "user" and r.target_id}
    return TrailPage(
        rows, people(session, {r.actor for r in rows}), nxt, users(session, actor, targets)
    )


def users(session: Session, actor: Principal, ids: set[str]) -> dict[str, str]:
    """Display names of the auditor's bank's users among ``ids`` (others stay ids)."""
    if not ids:
        return {}
    query = select(User.id, User.display_name).where(User.id.in_(ids))
    if not actor.platform_may(Scope.PLATFORM_AUDIT):
        query = query.where(scoping.by_bank(actor, User.bank_id))
    return {str(uid): str(name) for uid, name in session.execute(query)}


def trail_target_types(session: Session, actor: Principal) -> list[str]:
    require_auditor(actor)
    query = select(AuditEvent.target_type).distinct()
    if not actor.platform_may(Scope.PLATFORM_AUDIT):
        query = query.where(scoping.by_bank(actor, AuditEvent.bank_id))
    return sorted(session.scalars(query))


def people(session: Session, labels: set[str]) -> dict[str, str]:
    """Display names of the users behind audit labels (``staff:usr_…``)."""
    ids = {label.partition(":")[2] for label in labels if ":" in label}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.kind, User.display_name).where(User.id.in_(ids)))
    return {f"{kind}:{uid}": name for uid, kind, name in rows}


# ---------------------------------------------------------------------------- export


def _export_lines(session: Session, actor: Principal) -> Iterator[tuple[str, bool]]:
    query = (
        select(LedgerEntry.seq, LedgerEntry.payload, LedgerEntry.leaf_hash)
        .where(LedgerEntry.seq.is_not(None))
        .order_by(LedgerEntry.seq)
        .execution_options(yield_per=5000)
    )
    for seq, payload, leaf in session.execute(query):
        raw = bytes(payload)
        row: dict[str, Any] = {"index": seq, "leaf_hash": bytes(leaf).hex()}
        shown = scoping.may_read_ledger_entry(session, actor, ledger.payload_parties(raw))
        if shown:
            row = {"index": seq, "payload": raw.decode(), "leaf_hash": bytes(leaf).hex()}
        yield json.dumps(row, ensure_ascii=False) + "\n", shown


@dataclass(frozen=True)
class Export:
    content: bytes  # a zip of the export directory
    entries: int
    withheld: int
    checkpoints: int


EXPORT_DIR = "chainfin-ledger-export"


def export(session: Session, actor: Principal, origin: str) -> Export:
    """The log for offline verification (``chainfin ledger verify-export``), as the auditor
    may see it: the entries its bank is a party to in full, the others withheld (index and
    leaf hash), every checkpoint and every public key."""
    require_auditor(actor)
    buffer = io.BytesIO()
    count = withheld = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{EXPORT_DIR}/entries.jsonl", "w") as fh:
            for line, shown in _export_lines(session, actor):
                fh.write(line.encode("utf-8"))
                count += 1
                withheld += not shown
        notes = list(session.execute(select(Checkpoint.tree_size, Checkpoint.note)))
        for size, note in notes:
            archive.writestr(f"{EXPORT_DIR}/checkpoints/{size:012d}.note", note)
        logs = log_vkeys(session)
        witnesses = [w.vkey for w in witness_rows(session)]
        archive.writestr(f"{EXPORT_DIR}/log.vkeys", "".join(k + "\n" for k in logs))
        archive.writestr(f"{EXPORT_DIR}/witness.vkeys", "".join(k + "\n" for k in witnesses))
        archive.writestr(f"{EXPORT_DIR}/origin", origin + "\n")
    return Export(buffer.getvalue(), count, withheld, len(notes))


def not_found_entry(index: int) -> NotFound:
    return NotFound(f"no ledger entry with index {index}", code="ledger_entry_not_found")
