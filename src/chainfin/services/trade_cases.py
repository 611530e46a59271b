"""Trade cases for an enterprise: its stored documents linked and matched (three- and
four-way, with tolerances and logistics evidence). Banks see them under the enterprise's
consent for every category the cases draw on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Enterprise, TradeDocumentRow
from chainfin.domain.access import Principal, Scope
from chainfin.domain.anomalies import document_key
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.documents import TradeDocument, parse_document
from chainfin.domain.errors import ChainfinError, NotFound
from chainfin.domain.matching import CaseResult, CaseStatus, MatchConfig, match_all
from chainfin.services import consent

CATEGORIES = (DataCategory.TRADE_DOCUMENTS, DataCategory.INVOICES, DataCategory.LOGISTICS)


class StoredDocumentInvalid(ChainfinError):
    code = "stored_document_invalid"
    status = 500


def load_documents(session: Session, enterprise_id: str) -> list[TradeDocument]:
    """Every document the enterprise is a party to, rebuilt from its stored content."""
    out = []
    query = select(TradeDocumentRow.id, TradeDocumentRow.content).where(
        or_(TradeDocumentRow.seller_id == enterprise_id, TradeDocumentRow.buyer_id == enterprise_id)
    )
    for doc_id, content in session.execute(query):
        doc = parse_document(content, strict=False)
        if isinstance(doc, list):
            raise StoredDocumentInvalid(f"document {doc_id} no longer parses: {doc[0]}")
        out.append(doc)
    return out


def regions_of(session: Session, documents: Sequence[TradeDocument]) -> dict[str, str]:
    usccs = sorted({u for d in documents for u in (d.seller_uscc, d.buyer_uscc)})
    regions: dict[str, str] = {}
    for i in range(0, len(usccs), 500):
        regions.update(
            (uscc, region)
            for uscc, region in session.execute(
                select(Enterprise.uscc, Enterprise.region_code).where(
                    Enterprise.uscc.in_(usccs[i : i + 500])
                )
            )
        )
    return regions


def cases_for(
    session: Session,
    actor: Principal,
    enterprise_id: str,
    *,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    status: CaseStatus | None = None,
    counterparty: str | None = None,
    config: MatchConfig | None = None,
) -> list[CaseResult]:
    """The enterprise's trade cases; ``status`` and ``counterparty`` (the other party's
    USCC, seller or buyer) narrow them."""
    actor.require(Scope.DOCUMENTS_READ)
    for category in CATEGORIES:
        consent.require(
            session,
            actor,
            enterprise_id=enterprise_id,
            category=category,
            purpose=purpose,
            resource=f"trade cases of {enterprise_id}",
        )
    documents = load_documents(session, enterprise_id)
    results = match_all(documents, regions_of(session, documents), config or MatchConfig())
    other = counterparty.strip().upper() if counterparty else None
    return [
        r
        for r in results
        if (status is None or r.status is status)
        and (other is None or other in (r.seller_uscc, r.buyer_uscc))
    ]


def case_documents(
    session: Session, actor: Principal, enterprise_id: str, case_key: str
) -> tuple[CaseResult, list[TradeDocumentRow]]:
    """One of the enterprise's trade cases (by its key) and its stored documents, in the
    case's order; ``NotFound`` when the enterprise has no such case."""
    found = [r for r in cases_for(session, actor, enterprise_id) if r.case_key == case_key]
    if not found:
        raise NotFound.of("trade case", case_key)
    result = found[0]
    rows = session.scalars(
        select(TradeDocumentRow).where(
            or_(
                TradeDocumentRow.seller_id == enterprise_id,
                TradeDocumentRow.buyer_id == enterprise_id,
            ),
            TradeDocumentRow.number.in_(sorted({k.split("/", 2)[-1] for k in result.documents})),
        )
    )
    by_key = {_key_of(row): row for row in rows}
    return result, [by_key[k] for k in result.documents if k in by_key]


def _key_of(row: TradeDocumentRow) -> str:
    doc = parse_document(row.content, strict=False)
    if isinstance(doc, list):
        raise StoredDocumentInvalid(f"document {row.id} no longer parses: {doc[0]}")
    return document_key(doc)
