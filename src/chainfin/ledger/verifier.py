"""Verify a log from its entries and checkpoints alone: no database, no server.

Used by ``chainfin ledger verify`` (on the database) and ``chainfin ledger verify-export``
(on an export directory), so an auditor runs the same checks the operator does.

Findings are precise: which entry (index), which checkpoint (size), what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chainfin.ledger import merkle
from chainfin.ledger.canonical import CanonicalError, canonical
from chainfin.ledger.note import Checkpoint, NoteError, NoteVerifier, open_note


@dataclass(frozen=True)
class Finding:
    check: str  # leaf, sequence, canonical, checkpoint, signature, node, state
    where: str  # "entry 17", "checkpoint 200", "enterprise ent_… field phone"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "where": self.where, "message": self.message}

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.message}"


class CompactRange:
    """The right edge of a growing tree: O(log n) memory, the root at every size."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def append(self, leaf: bytes) -> None:
        level, h = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            h = merkle.node_hash(left, h)
            level += 1
        self._stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return merkle.root_hash([])
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = merkle.node_hash(left, h)
        return h


@dataclass(frozen=True)
class ExportedEntry:
    """One line of an export. ``payload`` None: the entry is *withheld* (an export scoped
    to one bank's auditor carries only the index and leaf hash of entries the bank is not a
    party to); its leaf hash then stands in for it in the tree."""

    index: int
    payload: bytes | None
    leaf_hash: bytes | None = None


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    tree_size: int = 0
    root_hash: bytes = b""
    witnesses: dict[int, list[str]] = field(default_factory=dict)  # size -> names
    findings: list[Finding] = field(default_factory=list)
    withheld: int = 0  # entries given by their leaf hash alone

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "cosigned": {str(k): v for k, v in sorted(self.witnesses.items())},
            "findings": [f.as_dict() for f in self.findings],
            **({"withheld": self.withheld} if self.withheld else {}),
        }


def check_payload(index: int, payload: bytes, findings: list[Finding]) -> None:
    """A payload must be canonical JSON: a re-encoding that differs means an edit."""
    where = f"entry {index}"
    try:
        value = json.loads(payload)
        again = canonical(value)
    except (ValueError, CanonicalError) as exc:
        findings.append(Finding("canonical", where, f"payload is not canonical JSON: {exc}"))
        return
    if again != payload:
        findings.append(Finding("canonical", where, "payload is not in canonical form"))


def verify_log(
    entries: Iterable[ExportedEntry],
    checkpoint_notes: Sequence[str],
    log_keys: Sequence[NoteVerifier],
    witness_keys: Sequence[NoteVerifier] = (),
    *,
    origin: str,
) -> Report:
    """Recompute every leaf and the root at every checkpoint; check every signature."""
    report = Report()
    checkpoints: dict[int, Checkpoint] = {}
    for note in checkpoint_notes:
        _check_checkpoint(note, log_keys, witness_keys, origin, checkpoints, report)
    wanted = sorted(checkpoints)
    tree = CompactRange()
    expected = 0
    for entry in entries:
        where = f"entry {entry.index}"
        if entry.index != expected:
            problem = "missing" if entry.index > expected else "duplicated or out of order"
            report.findings.append(
                Finding("sequence", where, f"expected index {expected}: entries {problem}")
            )
            expected = entry.index
        if entry.payload is None:
            if entry.leaf_hash is None or len(entry.leaf_hash) != merkle.HASH_SIZE:
                report.findings.append(
                    Finding("leaf", where, "withheld entry has no 32-byte leaf hash")
                )
                leaf = b"\x00" * merkle.HASH_SIZE
            else:
                leaf = entry.leaf_hash
            report.withheld += 1
        else:
            leaf = merkle.leaf_hash(entry.payload)
            if entry.leaf_hash is not None and entry.leaf_hash != leaf:
                report.findings.append(
                    Finding("leaf", where, "stored leaf hash does not match the payload")
                )
            check_payload(entry.index, entry.payload, report.findings)
        tree.append(leaf)
        expected += 1
        report.entries += 1
        while wanted and wanted[0] == tree.size:
            _compare_root(checkpoints[wanted.pop(0)], tree.root(), report)
    for size in wanted:
        report.findings.append(
            Finding("checkpoint", f"checkpoint {size}", f"log has only {tree.size} entries")
        )
    report.tree_size, report.root_hash = tree.size, tree.root()
    return report


def _compare_root(cp: Checkpoint, root: bytes, report: Report) -> None:
    if cp.root_hash != root:
        report.findings.append(
            Finding(
                "checkpoint",
                f"checkpoint {cp.size}",
                f"signed root {cp.root_hash.hex()[:16]}… but the entries give {root.hex()[:16]}…",
            )
        )


def _check_checkpoint(
    note: str,
    log_keys: Sequence[NoteVerifier],
    witness_keys: Sequence[NoteVerifier],
    origin: str,
    out: dict[int, Checkpoint],
    report: Report,
) -> None:
    report.checkpoints += 1
    try:
        opened = open_note(note, [*log_keys, *witness_keys])
        cp = Checkpoint.parse(opened.body)
    except NoteError as exc:
        report.findings.append(Finding("signature", "checkpoint", str(exc)))
        return
    where = f"checkpoint {cp.size}"
    log_names = {k.name for k in log_keys}
    if not any(name in log_names for name in opened.signed_by):
        report.findings.append(Finding("signature", where, "no valid signature by a log key"))
    if cp.origin != origin:
        report.findings.append(Finding("checkpoint", where, f"origin {cp.origin!r} != {origin!r}"))
    if cp.size in out and out[cp.size] != cp:
        report.findings.append(Finding("checkpoint", where, "two different checkpoints"))
    out[cp.size] = cp
    report.witnesses[cp.size] = sorted(c.name for c in opened.cosignatures)
