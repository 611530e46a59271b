"""Enterprise data-use consent: who may use which data, for what, until when.

An enterprise grants a bank the use of named data categories for named purposes until an
expiry; it may revoke at any moment, effective immediately. Every read of an enterprise's
data on a bank's behalf asks :func:`decide` first.

>>> from datetime import datetime, UTC
>>> cats, purposes = frozenset({DataCategory.INVOICES}), frozenset({Purpose.CREDIT_ASSESSMENT})
>>> g = Grant("cns_1", cats, purposes, datetime(2026, 1, 1, tzinfo=UTC),
...           datetime(2027, 1, 1, tzinfo=UTC), None)
>>> june = datetime(2026, 6, 1, tzinfo=UTC)
>>> decide([g], DataCategory.INVOICES, Purpose.CREDIT_ASSESSMENT, june).allowed
True
>>> decide([g], DataCategory.IOT, Purpose.CREDIT_ASSESSMENT, june).reason
'no consent covers iot for credit_assessment'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DataCategory(StrEnum):
    TRADE_DOCUMENTS = "trade_documents"
    INVOICES = "invoices"
    LOGISTICS = "logistics"
    IOT = "iot"
    FINANCIAL_STATEMENTS = "financial_statements"


class Purpose(StrEnum):
    CREDIT_ASSESSMENT = "credit_assessment"
    POST_LOAN_MONITORING = "post_loan_monitoring"
    # the bank finances the enterprise's receivables: it may register (pledge or take a
    # transfer of) the enterprise's invoices in the receivables registry
    FINANCING = "financing"


@dataclass(frozen=True, slots=True)
class Grant:
    consent_id: str
    categories: frozenset[DataCategory]
    purposes: frozenset[Purpose]
    valid_from: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def state_at(self, at: datetime) -> str:
        if self.revoked_at is not None and self.revoked_at <= at:
            return "revoked"
        if at < self.valid_from:
            return "not yet valid"
        if at >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    consent_id: str | None
    reason: str


def decide(
    grants: Iterable[Grant], category: DataCategory, purpose: Purpose, at: datetime
) -> Decision:
    """Allowed only under a grant that covers both the category and the purpose and is in
    force at ``at``; otherwise the reason names the closest grant and why it does not count."""
    covering = [g for g in grants if category in g.categories and purpose in g.purposes]
    for grant in sorted(covering, key=lambda g: g.expires_at, reverse=True):
        if grant.state_at(at) == "active":
            return Decision(
                True,
                grant.consent_id,
                f"consent {grant.consent_id} until {grant.expires_at.isoformat()}",
            )
    if covering:
        latest = max(covering, key=lambda g: g.expires_at)
        return Decision(
            False,
            latest.consent_id,
            f"consent {latest.consent_id} for {category.value}/{purpose.value} is "
            f"{latest.state_at(at)}",
        )
    return Decision(False, None, f"no consent covers {category.value} for {purpose.value}")
