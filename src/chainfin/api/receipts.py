"""The receipt every state-changing response carries (see services.ledger.Receipt)."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainfin.config import Settings
from chainfin.services import ledger


class ReceiptEntryOut(BaseModel):
    entry_id: str
    leaf_hash: str = Field(description="hex SHA-256 leaf hash (RFC 9162, 0x00 prefix)")
    event_type: str


class ReceiptOut(BaseModel):
    """Entries recording this change, and the log's signed promise to include them in a
    signed checkpoint by ``integrate_by``. Fetch ``/v1/ledger/receipts/{entry_id}`` after
    that for the index and an inclusion proof."""

    origin: str
    entries: list[ReceiptEntryOut]
    integrate_by: datetime
    key_id: str
    signature: str = Field(
        description="base64 Ed25519 signature by the log key over the RFC 8785 JSON "
        '{"entries": [[entry_id, leaf_hash], ...], "integrate_by": ..., "origin": ...}'
    )


def receipt_for(session: Session, settings: Settings) -> ReceiptOut | None:
    r = ledger.receipt(session, settings.ledger_origin, settings.ledger_max_delay_seconds)
    if r is None:
        return None
    return ReceiptOut(
        origin=r.origin,
        entries=[
            ReceiptEntryOut(
                entry_id=e.entry_id, leaf_hash=e.leaf_hash.hex(), event_type=e.event_type
            )
            for e in r.entries
        ],
        integrate_by=r.integrate_by,
        key_id=r.key_id,
        signature=base64.b64encode(r.signature).decode(),
    )
