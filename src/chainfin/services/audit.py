"""The audit trail: every state change records who, what, when and from where, in the same
transaction as the change itself. Each event is hash-chained and the chain anchored on the
ledger (services/ledger_chains.py), so ``ledger verify`` catches an edited, inserted or
deleted event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from chainfin.adapters.db.models import AuditEvent
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.ids import new_id
from chainfin.services import ledger_chains


def record(
    session: Session,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str | None,
    detail: dict[str, Any] | None = None,
    *,
    source: str | None = None,
) -> None:
    event = AuditEvent(
        id=new_id("audit"),
        occurred_at=utcnow(),
        actor=principal.label,
        actor_kind=principal.kind.value,
        bank_id=principal.bank_id,
        enterprise_id=principal.enterprise_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        source=source,
    )
    # Its digest now; the sequencer chains it and anchors the chain on the ledger.
    session.add(ledger_chains.stamp(session, event))
