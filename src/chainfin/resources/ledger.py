"""The verifiable log: signed checkpoints, keys, proofs, entries, receipts' status and
witnesses. (A write's own receipt is :class:`chainfin.resources.common.ReceiptOut`.)"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import Checkpoint, LedgerEntry, LedgerKey, Witness


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="hex SHA-256")
    note: str = Field(description="C2SP signed note: checkpoint body, log signature, cosignatures")
    cosigned_by: list[str]
    created_at: datetime

    @classmethod
    def build(cls, cp: Checkpoint, cosigned_by: list[str]) -> Self:
        return cls(
            tree_size=cp.tree_size,
            root_hash=cp.root_hash.hex(),
            note=cp.note,
            cosigned_by=cosigned_by,
            created_at=cp.created_at,
        )


class LogKeyOut(BaseModel):
    vkey: str = Field(description="C2SP note verifier key")
    active: bool
    created_at: datetime

    @classmethod
    def build(cls, k: LedgerKey) -> Self:
        return cls(vkey=k.vkey, active=k.active, created_at=k.created_at)


class WitnessKeyOut(BaseModel):
    name: str
    vkey: str = Field(description="cosignature/v1 verifier key")
    active: bool


class KeysOut(BaseModel):
    log: list[LogKeyOut]
    witnesses: list[WitnessKeyOut]


class ProofOut(BaseModel):
    first: int
    second: int
    proof: list[str] = Field(description="hex hashes, RFC 9162 consistency proof")


class EntryOut(BaseModel):
    index: int | None = Field(description="null until sequenced")
    entry_id: str
    event_type: str
    leaf_hash: str
    payload: dict[str, Any]
    sequenced_at: datetime | None

    @classmethod
    def build(cls, entry: LedgerEntry) -> Self:
        return cls(
            index=entry.seq,
            entry_id=entry.id,
            event_type=entry.event_type,
            leaf_hash=bytes(entry.leaf_hash).hex(),
            payload=json.loads(entry.payload),
            sequenced_at=entry.sequenced_at,
        )


class InclusionOut(BaseModel):
    index: int
    entry_id: str
    leaf_hash: str
    tree_size: int
    proof: list[str] = Field(description="hex hashes, RFC 9162 inclusion proof")
    checkpoint: str = Field(description="the signed checkpoint the proof is against")


class ReceiptStatusOut(BaseModel):
    entry_id: str
    leaf_hash: str
    status: str = Field(description="pending until sequenced, then sequenced")
    inclusion: InclusionOut | None = None


class WitnessOut(BaseModel):
    name: str
    vkey: str
    bank_id: str | None
    enterprise_id: str | None
    created_at: datetime

    @classmethod
    def build(cls, w: Witness) -> Self:
        return cls(
            name=w.name,
            vkey=w.vkey,
            bank_id=w.bank_id,
            enterprise_id=w.enterprise_id,
            created_at=w.created_at,
        )
