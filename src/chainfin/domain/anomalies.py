"""What the authenticity and fraud checks report, and how a document is named in a report.

A finding names its kind, the documents and enterprises involved, and a reason a reviewer
can act on. Documents are named by :func:`document_key` (kind/seller USCC/number), which is
stable across systems, so planted anomalies and detections can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chainfin.domain.documents import TradeDocument


class AnomalyKind(StrEnum):
    DUPLICATE_INVOICE = "duplicate_invoice"  # same number, or same content under another
    DOUBLE_FINANCING = "double_financing"  # one invoice/receivable financed twice
    CIRCULAR_TRADING = "circular_trading"  # A→B→C→A, similar amounts, short window
    RELATED_PARTY = "related_party"  # shared legal representative, address or phone
    AMOUNT_OUTLIER = "amount_outlier"  # far outside the pair's history
    INVOICE_BEFORE_DELIVERY = "invoice_before_delivery"
    RECEIPT_WITHOUT_DELIVERY = "receipt_without_delivery"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: AnomalyKind
    documents: tuple[str, ...]  # document keys, sorted
    enterprises: tuple[str, ...]  # USCCs, sorted
    reason: str
    severity: Severity = Severity.MEDIUM


def document_key(doc: TradeDocument) -> str:
    return f"{doc.kind.value}/{doc.seller_uscc}/{doc.number}"
