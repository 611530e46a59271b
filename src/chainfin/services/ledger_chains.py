"""Hash chains over the audit trail, the data-access log and stored idempotent responses.

These tables are written far more often than state changes (the access log on every
consented read), so their rows do not each get a log entry. Instead (docs/ledger.md):

* **at write**, a row gets its **digest**, HMAC-SHA256 under its chain's key over the row
  (:func:`stamp`). The writer only inserts: no lock, no predecessor to read, one cheap
  primary-key read of the key per transaction. Without the key (it is never on the log and
  is encrypted at rest) nobody can write or edit a row so that its digest still matches.
* **the sequencer seals** (:func:`seal`, run by ``ledger.sequence`` every second): it takes
  the chain's row as a lock, re-checks the digests of the pending rows, gives them the next
  positions and a **chain hash** each (``link(previous, position, digest)``), and the new
  head (size and hash) goes on the log in a ``chain.sealed`` entry, integrated and signed in
  the same run.
* **``ledger verify``** (:func:`verify`) recomputes every digest, every link and every
  anchored head: an edited row fails its digest, an inserted one has none that matches, a
  deleted or reordered one breaks a link and the anchored head, and rewriting the whole chain
  to hide it still disagrees with the heads on the log.

A row that fails its digest is never sealed: it stays pending and ``ledger verify`` names it.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import inspect, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import AuditEvent, DataAccess, IdempotencyKey, LedgerChain
from chainfin.domain.clock import utcnow
from chainfin.ledger import chain as hashchain
from chainfin.ledger.verifier import Finding
from chainfin.services.ledger_records import _plain

T = TypeVar("T")
CHAIN_COLUMNS = frozenset({"chain_digest", "chain_seq", "chain_hash"})


@dataclass(frozen=True)
class ChainSpec:
    """One chained table: ``name`` is the chain (and the ``chain_head`` record's id on the
    log), ``label`` names its rows in findings."""

    name: str
    model: Any
    label: str

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.key for c in inspect(self.model).primary_key)

    @property
    def fields(self) -> tuple[str, ...]:
        """The columns a row's digest covers: all but the chain's own (so a column added
        later is covered from then on)."""
        return tuple(
            c.key for c in self.model.__mapper__.column_attrs if c.key not in CHAIN_COLUMNS
        )

    def where(self, row: Mapping[Any, Any]) -> str:
        return f"{self.label} " + "/".join(str(row[k]) for k in self.key_columns)


CHAINS: dict[str, ChainSpec] = {
    spec.name: spec
    for spec in (
        ChainSpec("access", DataAccess, "data_access"),
        ChainSpec("audit", AuditEvent, "audit_event"),
        ChainSpec("idempotency", IdempotencyKey, "idempotency_key"),
    )
}
_BY_MODEL: dict[Any, ChainSpec] = {spec.model: spec for spec in CHAINS.values()}


def _value(value: Any) -> Any:
    """A column value as the digest sees it: what both engines round-trip."""
    if isinstance(value, datetime):
        return _plain(value)  # to the second, UTC, as on the log
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.loads(json.dumps(value))  # as a JSON column gives it back
    return value


def digest_of(spec: ChainSpec, key: bytes, row: Mapping[Any, Any]) -> str:
    return hashchain.row_digest(key, spec.name, {f: _value(row.get(f)) for f in spec.fields})


# ------------------------------------------------------------------ keys and the writer's side


def _new_chain(session: Session, name: str) -> LedgerChain:
    """Create the chain's row (its key) on first use, without flushing the caller's pending
    objects. Two first writers may race: ``ON CONFLICT DO NOTHING`` makes the second wait for
    the first and then read its row."""
    now = utcnow()
    values = {
        "name": name,
        "mac_key": base64.b64encode(os.urandom(32)).decode(),
        "size": 0,
        "head": hashchain.genesis(name),
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    with session.no_autoflush:
        session.execute(
            insert(LedgerChain).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
        row = session.get(LedgerChain, name)
    if row is None:  # pragma: no cover - the insert or the other writer's row is there
        raise RuntimeError(f"hash chain {name!r} could not be created")
    return row


def _chain(session: Session, name: str, *, lock: bool = False) -> LedgerChain:
    """The chain's row; with ``lock``, locked for this transaction (the sealer's turn)."""
    with session.no_autoflush:
        row = _locked(session, name) if lock else session.get(LedgerChain, name)
        if row is None:
            _new_chain(session, name)
            row = _locked(session, name) if lock else session.get(LedgerChain, name)
    if row is None:  # pragma: no cover
        raise RuntimeError(f"hash chain {name!r} could not be created")
    return row


def _locked(session: Session, name: str) -> LedgerChain | None:
    return session.scalar(
        select(LedgerChain)
        .where(LedgerChain.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def chain_key(session: Session, name: str) -> bytes:
    return base64.b64decode(_chain(session, name).mac_key)


def stamp(session: Session, obj: T) -> T:
    """Give a new audit event, access-log entry or stored response its digest (call it after
    setting every column, before the row is flushed). Returns ``obj``."""
    spec = _BY_MODEL[type(obj)]
    row = {f: getattr(obj, f) for f in spec.fields}
    obj.chain_digest = digest_of(spec, chain_key(session, spec.name), row)  # type: ignore[attr-defined]
    return obj


def intact(session: Session, obj: Any) -> bool:
    """Does a stored row still match its digest (an idempotent replay checks this)?"""
    spec = _BY_MODEL[type(obj)]
    digest = obj.chain_digest
    if digest is None:
        return False
    return bool(digest == digest_of(spec, chain_key(session, spec.name), _row(obj)))


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


# ------------------------------------------------------------------ sealing


def _pending_batches(
    session: Session, spec: ChainSpec, batch: int
) -> Iterator[list[Mapping[Any, Any]]]:
    """Pending rows in primary-key order, one batch at a time (keyset, so rows left pending
    because they fail their digest do not come round again)."""
    table = spec.model.__table__
    pk = [table.c[k] for k in spec.key_columns]
    after: tuple[Any, ...] | None = None
    while True:
        query = select(table).where(table.c.chain_seq.is_(None))
        if after is not None:
            query = query.where(tuple_(*pk) > tuple_(*after))
        rows: list[Mapping[Any, Any]] = list(
            session.execute(query.order_by(*pk).limit(batch)).mappings()
        )
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][k] for k in spec.key_columns)
        if len(rows) < batch:
            return


def seal(session: Session, *, batch: int = 10_000) -> list[dict[str, Any]]:
    """Seal every chain's pending rows; returns the new head of each chain that grew, as a
    ``chain_head`` record for the log (``ledger.sequence`` records them in one entry)."""
    heads: list[dict[str, Any]] = []
    for name, spec in sorted(CHAINS.items()):
        table = spec.model.__table__
        waiting = session.scalar(
            select(literal(1)).select_from(table).where(table.c.chain_seq.is_(None)).limit(1)
        )
        if waiting is None:
            continue
        chain = _chain(session, name, lock=True)
        key = base64.b64decode(chain.mac_key)
        # Rows written before the chain existed (a database upgraded to migration 0014) have
        # no digest: the chain's first seal adopts them as they stand. After that a row
        # without a valid digest is never sealed.
        adopt = chain.size == 0
        size, head = chain.size, bytes(chain.head)
        for rows in _pending_batches(session, spec, batch):
            updates = []
            for row in rows:
                expected = digest_of(spec, key, row)
                digest = row["chain_digest"]
                if digest != expected and not (adopt and digest is None):
                    continue  # edited or forged while pending: left for verify to name
                size += 1
                head = hashchain.link(head, size, expected)
                updates.append(
                    {
                        **{k: row[k] for k in spec.key_columns},
                        "chain_digest": expected,
                        "chain_seq": size,
                        "chain_hash": head,
                    }
                )
            if updates:
                session.execute(update(spec.model), updates)
        if size != chain.size:
            chain.size, chain.head, chain.updated_at = size, head, utcnow()
            heads.append({"name": name, "size": size, "head": head.hex()})
    session.flush()
    return heads


# ------------------------------------------------------------------ verifying


@dataclass
class Anchor:
    size: int
    head: str
    where: str  # "entry 17"


def verify(session: Session, anchors: Mapping[str, list[Anchor]]) -> list[Finding]:
    """Every chain's rows against their digests, links and the heads anchored on the log
    (``anchors``: per chain, in log order)."""
    findings: list[Finding] = []
    for name, spec in sorted(CHAINS.items()):
        findings.extend(_verify_chain(session, spec, list(anchors.get(name, []))))
    for name in sorted(set(anchors) - set(CHAINS)):
        findings.append(
            Finding("chain", f"{name} chain", f"anchored in {anchors[name][-1].where}: unknown")
        )
    return findings


def _verify_chain(session: Session, spec: ChainSpec, anchors: list[Anchor]) -> list[Finding]:
    out: list[Finding] = []
    name = spec.name
    chain = session.get(LedgerChain, name)
    key = base64.b64decode(chain.mac_key) if chain is not None else None
    table = spec.model.__table__
    query = (
        select(table)
        .order_by(table.c.chain_seq.is_(None), table.c.chain_seq)
        .execution_options(yield_per=5000)
    )
    running = stored = hashchain.genesis(name)
    expected = 1
    last = 0
    pending: list[Anchor] = list(anchors)
    anchor_failed = False
    digested = False

    def check_anchors(upto: int) -> None:
        """Compare the running head with every anchor of size ``upto`` or less."""
        nonlocal anchor_failed
        while pending and pending[0].size <= upto:
            a = pending.pop(0)
            if not anchor_failed and a.head != running.hex():
                anchor_failed = True
                out.append(
                    Finding(
                        "chain",
                        f"{name} chain",
                        f"the rows up to position {a.size} no longer give the head anchored "
                        f"in {a.where}: rows were edited, inserted, deleted or reordered",
                    )
                )

    for row in session.execute(query).mappings():
        where = spec.where(row)
        digest = row["chain_digest"]
        seq = row["chain_seq"]
        digested = digested or digest is not None
        if digest is None:
            out.append(Finding("chain", where, "has no digest: not written by the platform"))
        elif key is not None and digest != digest_of(spec, key, row):
            out.append(
                Finding("chain", where, "does not match its digest: edited after it was written")
            )
        if seq is None:
            if row["chain_hash"] is not None:
                out.append(Finding("chain", where, "has a chain hash but no position"))
            continue
        check_anchors(seq - 1)
        if seq != expected:
            out.append(
                Finding(
                    "chain",
                    f"{name} chain",
                    f"positions {expected}–{seq - 1} are missing: rows deleted"
                    if seq - 1 > expected
                    else f"position {expected} is missing: a row deleted",
                )
            )
        expected = seq + 1
        last = seq
        try:
            local = hashchain.link(stored, seq, digest or "")
            running = hashchain.link(running, seq, digest or "")
        except ValueError:
            out.append(Finding("chain", f"{where} (position {seq})", "digest is not a digest"))
            continue
        got = bytes(row["chain_hash"]) if row["chain_hash"] is not None else None
        if got != local:
            out.append(
                Finding(
                    "chain",
                    f"{where} (position {seq})",
                    "chain hash does not follow from its predecessor and digest: a row "
                    "before it was inserted, deleted or reordered",
                )
            )
        stored = got if got is not None else local
        check_anchors(seq)
    check_anchors(last)
    for a in pending:
        out.append(
            Finding(
                "chain",
                f"{name} chain",
                f"{a.where} anchors {a.size} rows but only {last} are sealed: rows deleted",
            )
        )
    latest = anchors[-1].size if anchors else 0
    if last > latest:
        out.append(
            Finding(
                "chain",
                f"{name} chain",
                f"positions {latest + 1}–{last} are sealed but no entry anchors them"
                if last > latest + 1
                else f"position {last} is sealed but no entry anchors it",
            )
        )
    if chain is not None and (chain.size, bytes(chain.head)) != (last, running):
        out.append(
            Finding(
                "chain",
                f"ledger_chains {name}",
                f"records size {chain.size} head {bytes(chain.head).hex()[:16]}…, the rows "
                f"give size {last} head {running.hex()[:16]}…",
            )
        )
    if chain is None and (digested or anchors):
        out.append(Finding("chain", f"ledger_chains {name}", "missing: the chain's key is gone"))
    return out
