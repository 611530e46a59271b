"""The verifiable log over HTTP.

Public (no token): the latest and any signed checkpoint, the log and witness keys, and
consistency proofs — none of them carries private data, and witnesses and auditors need them
without an account. Entries, inclusion proofs and receipts are for the entry's parties and
auditors.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from chainfin.adapters.db.models import Checkpoint, LedgerKey, Witness
from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.api.inputs import Index, Input, Size
from chainfin.domain.bounds import INT64_MAX
from chainfin.domain.errors import FieldError, NotFound, ValidationFailed
from chainfin.services import ledger

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str
    note: str = Field(description="C2SP signed note: checkpoint body, log signature, cosignatures")
    cosigned_by: list[str]
    created_at: datetime


class KeysOut(BaseModel):
    log: list[dict[str, Any]]
    witnesses: list[dict[str, Any]]


class ProofOut(BaseModel):
    first: int
    second: int
    proof: list[str]


class EntryOut(BaseModel):
    index: int | None
    entry_id: str
    event_type: str
    leaf_hash: str
    payload: dict[str, Any]
    sequenced_at: datetime | None


class InclusionOut(BaseModel):
    index: int
    entry_id: str
    leaf_hash: str
    tree_size: int
    proof: list[str]
    checkpoint: str


class ReceiptStatusOut(BaseModel):
    entry_id: str
    leaf_hash: str
    status: str = Field(description="pending until sequenced, then sequenced")
    inclusion: InclusionOut | None = None


class WitnessIn(Input):
    vkey: str = Field(description="cosignature/v1 verifier key: <name>+<hex id>+<base64>")


class WitnessOut(BaseModel):
    name: str
    vkey: str
    bank_id: str | None
    enterprise_id: str | None
    created_at: datetime


class CosignatureIn(Input):
    signature_line: str = Field(description="— <witness name> <base64(key id ‖ time ‖ sig)>")


def _checkpoint_out(session: SessionDep, cp: Checkpoint) -> CheckpointOut:
    return CheckpointOut(
        tree_size=cp.tree_size,
        root_hash=cp.root_hash.hex(),
        note=cp.note,
        cosigned_by=ledger.cosigners(session, cp.tree_size),
        created_at=cp.created_at,
    )


@router.get("/checkpoint", response_model=CheckpointOut, summary="Latest signed checkpoint")
def latest(session: SessionDep) -> CheckpointOut:
    cp = ledger.latest_checkpoint(session)
    if cp is None:
        raise NotFound("no checkpoint has been published yet")
    return _checkpoint_out(session, cp)


@router.get("/checkpoints/{tree_size}", response_model=CheckpointOut)
def checkpoint(tree_size: Size, session: SessionDep) -> CheckpointOut:
    return _checkpoint_out(session, ledger.checkpoint_at(session, tree_size))


@router.get("/keys", response_model=KeysOut, summary="Log and witness verifier keys")
def keys(session: SessionDep) -> KeysOut:
    log = [
        {"vkey": k.vkey, "active": k.active, "created_at": k.created_at.isoformat()}
        for k in session.scalars(select(LedgerKey).order_by(LedgerKey.created_at))
    ]
    witnesses = [
        {"name": w.name, "vkey": w.vkey, "active": w.active}
        for w in session.scalars(select(Witness).order_by(Witness.name))
    ]
    return KeysOut(log=log, witnesses=witnesses)


@router.get("/consistency", response_model=ProofOut, summary="Consistency proof")
def consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=INT64_MAX)],
    second: Annotated[int, Query(ge=1, le=INT64_MAX)],
) -> ProofOut:
    size = ledger.state(session).tree_size
    if not first <= second <= size:
        raise ValidationFailed(
            [FieldError("second", f"need 1 <= first <= second <= {size} (the tree size)")]
        )
    proof = ledger.consistency_proof(session, first, second)
    return ProofOut(first=first, second=second, proof=[h.hex() for h in proof])


def _entry_out(entry: Any) -> EntryOut:
    return EntryOut(
        index=entry.seq,
        entry_id=entry.id,
        event_type=entry.event_type,
        leaf_hash=bytes(entry.leaf_hash).hex(),
        payload=json.loads(entry.payload),
        sequenced_at=entry.sequenced_at,
    )


@router.get("/entries/{index}", response_model=EntryOut)
def entry(index: Index, session: SessionDep, principal: CurrentPrincipal) -> EntryOut:
    return _entry_out(ledger.get_entry(session, principal, index=index))


def _inclusion(session: SessionDep, entry: Any, tree_size: int | None) -> InclusionOut:
    cp = (
        ledger.checkpoint_at(session, tree_size)
        if tree_size is not None
        else ledger.latest_checkpoint(session)
    )
    if cp is None or entry.seq is None or entry.seq >= cp.tree_size:
        raise NotFound("the entry is not yet covered by a signed checkpoint")
    proof = ledger.inclusion_proof(session, entry.seq, cp.tree_size)
    return InclusionOut(
        index=entry.seq,
        entry_id=entry.id,
        leaf_hash=bytes(entry.leaf_hash).hex(),
        tree_size=cp.tree_size,
        proof=[h.hex() for h in proof],
        checkpoint=cp.note,
    )


@router.get("/entries/{index}/inclusion", response_model=InclusionOut)
def inclusion(
    index: Index,
    session: SessionDep,
    principal: CurrentPrincipal,
    tree_size: Annotated[
        int | None, Query(ge=1, le=INT64_MAX, description="a checkpoint's size")
    ] = None,
) -> InclusionOut:
    return _inclusion(session, ledger.get_entry(session, principal, index=index), tree_size)


@router.get("/receipts/{entry_id}", response_model=ReceiptStatusOut)
def receipt_status(
    entry_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ReceiptStatusOut:
    entry = ledger.get_entry(session, principal, entry_id=entry_id)
    out = ReceiptStatusOut(
        entry_id=entry.id, leaf_hash=bytes(entry.leaf_hash).hex(), status="pending"
    )
    cp = ledger.latest_checkpoint(session)
    if entry.seq is not None and cp is not None and entry.seq < cp.tree_size:
        out.status = "sequenced"
        out.inclusion = _inclusion(session, entry, cp.tree_size)
    return out


@router.get("/witnesses", response_model=list[WitnessOut])
def witnesses(session: SessionDep) -> list[WitnessOut]:
    return [
        WitnessOut(
            name=w.name,
            vkey=w.vkey,
            bank_id=w.bank_id,
            enterprise_id=w.enterprise_id,
            created_at=w.created_at,
        )
        for w in session.scalars(select(Witness).order_by(Witness.name))
    ]


@router.post("/witnesses", response_model=WitnessOut, status_code=201)
def register_witness(
    body: WitnessIn, session: SessionDep, principal: CurrentPrincipal
) -> WitnessOut:
    w = ledger.register_witness(session, principal, vkey=body.vkey)
    return WitnessOut(
        name=w.name,
        vkey=w.vkey,
        bank_id=w.bank_id,
        enterprise_id=w.enterprise_id,
        created_at=w.created_at,
    )


@router.post("/checkpoints/{tree_size}/cosignatures", response_model=CheckpointOut, status_code=201)
def cosign(
    tree_size: Size, body: CosignatureIn, session: SessionDep, principal: CurrentPrincipal
) -> CheckpointOut:
    ledger.add_cosignature(session, principal, tree_size=tree_size, line=body.signature_line)
    return _checkpoint_out(session, ledger.checkpoint_at(session, tree_size))
