"""Authenticity and fraud checks over everything on file: the platform runs them centrally
(duplicates and cycles only show across enterprises and banks), and a bank sees the findings
that involve an enterprise it has consent for."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    Enterprise,
    ReceivableRegistration,
    TradeDocumentRow,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.anomalies import Finding
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.documents import TradeDocument, parse_document
from chainfin.domain.fraud import EnterpriseContacts, FraudConfig, run_all
from chainfin.services import consent
from chainfin.services.trade_cases import StoredDocumentInvalid


def all_documents(session: Session) -> list[TradeDocument]:
    out = []
    query = select(TradeDocumentRow.id, TradeDocumentRow.content).execution_options(yield_per=5000)
    for doc_id, content in session.execute(query):
        doc = parse_document(content, strict=False)
        if isinstance(doc, list):
            raise StoredDocumentInvalid(f"document {doc_id} no longer parses: {doc[0]}")
        out.append(doc)
    return out


def contacts(session: Session) -> dict[str, EnterpriseContacts]:
    return {
        e.uscc: EnterpriseContacts(e.legal_representative, e.address, e.phone)
        for e in session.scalars(select(Enterprise)).yield_per(5000)
    }


def financings(session: Session) -> list[tuple[str, str, str]]:
    """Every registration ever made (released ones too: a receivable financed, released and
    financed again elsewhere is worth a look) as (bank code, registration id, invoice no.)."""
    codes: dict[str, str] = dict(session.execute(select(Bank.id, Bank.code)).all())
    return [
        (codes[bank_id], reg_id, number)
        for bank_id, reg_id, number in session.execute(
            select(
                ReceivableRegistration.bank_id,
                ReceivableRegistration.id,
                ReceivableRegistration.invoice_number,
            )
        )
        if number
    ]


def run(
    session: Session,
    *,
    extra_financings: Sequence[tuple[str, str, str]] = (),
    config: FraudConfig | None = None,
) -> list[Finding]:
    """Every check over every document (the operator's batch job)."""
    return run_all(
        all_documents(session),
        contacts=contacts(session),
        financings=[*financings(session), *extra_financings],
        config=config,
    )


def findings_for(
    session: Session,
    actor: Principal,
    enterprise_id: str,
    *,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
) -> list[Finding]:
    """Findings that involve one enterprise, for a bank under its consent (trade documents
    and invoices) or for the enterprise itself."""
    actor.require(Scope.DOCUMENTS_READ)
    for category in (DataCategory.TRADE_DOCUMENTS, DataCategory.INVOICES):
        consent.require(
            session,
            actor,
            enterprise_id=enterprise_id,
            category=category,
            purpose=purpose,
            resource=f"authenticity findings of {enterprise_id}",
        )
    uscc = session.get(Enterprise, enterprise_id)
    if uscc is None:
        return []
    return [f for f in run(session) if uscc.uscc in f.enterprises]
