"""The verifiable log over HTTP.

Public (no token): the latest and any signed checkpoint, the log and witness keys, and
consistency proofs — none of them carries private data, and witnesses and auditors need them
without an account. Entries, inclusion proofs and receipts are for the entry's parties and
auditors.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from chainfin.adapters.db.models import Checkpoint, LedgerEntry
from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.api.inputs import Index, Input, Size
from chainfin.api.schemas import Cursor, Limit
from chainfin.domain.bounds import INT64_MAX
from chainfin.domain.errors import FieldError, NotFound, ValidationFailed
from chainfin.resources.common import PageOut
from chainfin.resources.ledger import (
    CheckpointOut,
    EntryOut,
    InclusionOut,
    KeysOut,
    LogKeyOut,
    ProofOut,
    ReceiptStatusOut,
    WitnessKeyOut,
    WitnessOut,
)
from chainfin.services import ledger

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


class WitnessIn(Input):
    vkey: str = Field(description="cosignature/v1 verifier key: <name>+<hex id>+<base64>")


class CosignatureIn(Input):
    signature_line: str = Field(description="— <witness name> <base64(key id ‖ time ‖ sig)>")


def _checkpoint_out(session: SessionDep, cp: Checkpoint) -> CheckpointOut:
    return CheckpointOut.build(cp, ledger.cosigners(session, cp.tree_size))


@router.get("/checkpoint", response_model=CheckpointOut, summary="Latest signed checkpoint")
def latest(session: SessionDep) -> CheckpointOut:
    cp = ledger.latest_checkpoint(session)
    if cp is None:
        raise NotFound("no checkpoint has been published yet", code="checkpoint_not_found")
    return _checkpoint_out(session, cp)


@router.get("/checkpoints/{tree_size}", response_model=CheckpointOut)
def checkpoint(tree_size: Size, session: SessionDep) -> CheckpointOut:
    return _checkpoint_out(session, ledger.checkpoint_at(session, tree_size))


@router.get("/keys", response_model=KeysOut, summary="Log and witness verifier keys")
def keys(session: SessionDep) -> KeysOut:
    log, witnesses = ledger.verifier_keys(session)
    return KeysOut(
        log=[LogKeyOut.build(k) for k in log],
        witnesses=[WitnessKeyOut(name=w.name, vkey=w.vkey, active=w.active) for w in witnesses],
    )


@router.get("/consistency", response_model=ProofOut, summary="Consistency proof")
def consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=INT64_MAX)],
    second: Annotated[int, Query(ge=1, le=INT64_MAX)],
) -> ProofOut:
    size = ledger.state(session).tree_size
    if not first <= second <= size:
        raise ValidationFailed(
            [FieldError("second", f"need 1 <= first <= second <= {size} (the tree size)")],
            code="tree_range_invalid",
        )
    proof = ledger.consistency_proof(session, first, second)
    return ProofOut(first=first, second=second, proof=[h.hex() for h in proof])


@router.get("/entries/{index}", response_model=EntryOut)
def entry(index: Index, session: SessionDep, principal: CurrentPrincipal) -> EntryOut:
    return EntryOut.build(ledger.get_entry(session, principal, index=index))


def _inclusion(session: SessionDep, entry: LedgerEntry, tree_size: int | None) -> InclusionOut:
    cp = (
        ledger.checkpoint_at(session, tree_size)
        if tree_size is not None
        else ledger.latest_checkpoint(session)
    )
    if cp is None or entry.seq is None or entry.seq >= cp.tree_size:
        raise NotFound(
            "the entry is not yet covered by a signed checkpoint", code="entry_not_yet_checkpointed"
        )
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


@router.get("/witnesses", response_model=PageOut[WitnessOut])
def witnesses(
    session: SessionDep,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[WitnessOut]:
    """The registered witnesses, by name."""
    page = ledger.witnesses(session, active=active, cursor=cursor, limit=limit)
    return PageOut[WitnessOut](
        items=[WitnessOut.build(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post("/witnesses", response_model=WitnessOut, status_code=201)
def register_witness(
    body: WitnessIn, session: SessionDep, principal: CurrentPrincipal
) -> WitnessOut:
    return WitnessOut.build(ledger.register_witness(session, principal, vkey=body.vkey))


@router.post("/checkpoints/{tree_size}/cosignatures", response_model=CheckpointOut, status_code=201)
def cosign(
    tree_size: Size, body: CosignatureIn, session: SessionDep, principal: CurrentPrincipal
) -> CheckpointOut:
    ledger.add_cosignature(session, principal, tree_size=tree_size, line=body.signature_line)
    return _checkpoint_out(session, ledger.checkpoint_at(session, tree_size))
