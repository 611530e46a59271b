"""The receipt every state-changing response carries (see services.ledger.Receipt)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from chainfin.config import Settings
from chainfin.domain.access import Principal
from chainfin.resources.common import ReceiptEntryOut, ReceiptOut
from chainfin.services import idempotency, ledger


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


def write_once(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    payload: BaseModel | bytes | None,
    status: int,
    produce: Callable[[], dict[str, Any]],
) -> JSONResponse:
    """Run a write once per ``Idempotency-Key`` (the same key and request body get the first
    answer back) and answer with its receipt. ``payload`` is the parsed body, or the raw
    bytes of an XML or CSV upload."""
    key = request.headers.get("idempotency-key")
    raw = payload.model_dump_json().encode() if isinstance(payload, BaseModel) else payload
    digest = idempotency.request_hash(request.method, request.url.path, raw or b"")
    if key is not None:
        previous = idempotency.replay(session, principal, key, digest)
        if previous is not None:
            code, answer = previous
            return JSONResponse(answer, status_code=code, headers={"Idempotent-Replayed": "true"})
    answer = jsonable_encoder(produce())
    receipt = receipt_for(session, settings)
    answer["receipt"] = jsonable_encoder(receipt) if receipt else None
    if key is not None:
        idempotency.remember(session, principal, key, digest, status, answer)
    return JSONResponse(answer, status_code=status)
