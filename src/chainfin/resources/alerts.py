"""Alerts and the early-warning scan that raises many of them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import Alert
from chainfin.domain.states import AlertState
from chainfin.resources.common import Written

if TYPE_CHECKING:
    from chainfin.services.early_warning import ScanResult


class AlertOut(BaseModel):
    """Something a person must look at: raised once per subject and kind while open, owned
    by the customer's relationship manager, acknowledged, resolved with a note."""

    id: str
    kind: str = Field(examples=["margin_call"])
    severity: str = Field(description="info, low, medium, high or critical")
    subject_kind: str = Field(description="what it is about: loan, credential, device, ...")
    subject_id: str
    bank_id: str | None
    enterprise_id: str | None
    message: str
    state: AlertState = Field(description="open, acknowledged or resolved")
    rule: str | None
    owner_id: str | None
    escalation_level: int
    escalated_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    created_at: datetime

    @classmethod
    def build(cls, row: Alert) -> Self:
        return cls(
            id=row.id,
            kind=row.kind,
            severity=row.severity,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            bank_id=row.bank_id,
            enterprise_id=row.enterprise_id,
            message=row.message,
            state=row.state,
            rule=row.rule,
            owner_id=row.owner_id,
            escalation_level=row.escalation_level,
            escalated_at=row.escalated_at,
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=row.acknowledged_at,
            resolved_by=row.resolved_by,
            resolved_at=row.resolved_at,
            note=row.note,
            created_at=row.created_at,
        )


class AlertWrittenOut(AlertOut, Written):
    """An alert acknowledged or resolved, with the ledger receipt."""


class EscalatedOut(Written):
    escalated: int = Field(description="how many alerts went up a level")


class ScanOut(Written):
    """What a full early-warning rescan of a bank's borrowers found."""

    subjects: int = Field(description="borrowers and obligors scanned")
    without_consent: int = Field(description="skipped: no consent for post-loan monitoring")
    warnings: int
    alerts_raised: int
    by_code: dict[str, int] = Field(description="warnings per signal code")

    @classmethod
    def build(cls, r: ScanResult) -> Self:
        return cls(
            subjects=r.subjects,
            without_consent=r.without_consent,
            warnings=r.warnings,
            alerts_raised=r.alerts_raised,
            by_code=r.by_code,
        )
