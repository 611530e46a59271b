"""Debtor confirmation (确权): what the core enterprise confirms it owes, on what evidence, and
how much of it credentials use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Credential,
    DocumentConfirmation,
    Enterprise,
    PayableBasisDocument,
    PayableConfirmation,
    TradeDocumentRow,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, ledger
from chainfin.services.credentials._common import (
    _change,
    _enterprise_of,
    _get,
    _resolve_enterprise,
    _within,
)
from chainfin.services.lending.filters import party_id
from chainfin.services.pagination import DEFAULT_LIMIT, Page, check_limit, paginate

# ---------------------------------------------------------------------------- confirmation


def confirm(
    session: Session,
    actor: Principal,
    *,
    supplier: str,
    amount: Money,
    due_on: date,
    document_ids: Sequence[str] = (),
    trade_case_key: str | None = None,
) -> PayableConfirmation:
    """The core enterprise confirms what it owes a supplier (确权). Irrevocable."""
    actor.require(Scope.CREDENTIALS_WRITE)
    debtor = _enterprise_of(actor)
    creditor = _resolve_enterprise(session, supplier, "supplier")
    if creditor.id == debtor:
        raise ValidationFailed(
            [FieldError("supplier", "an enterprise does not owe itself")], code="self_confirmation"
        )
    if bool(document_ids) == bool(trade_case_key):
        raise ValidationFailed(
            [FieldError("basis", "give the confirmed documents or a matched trade case, not both")],
            code="confirmation_basis_ambiguous",
        )
    if amount.amount_minor <= 0:
        raise ValidationFailed(
            [FieldError("amount", "must be positive")], code="amount_not_positive"
        )
    if trade_case_key:
        documents = _trade_case_documents(session, actor, debtor, creditor, trade_case_key)
        basis = "trade_case"
    else:
        documents = _confirmed_documents(session, debtor, creditor.id, document_ids)
        basis = "documents"
    _check_basis_amount(documents, amount)
    taken = session.scalars(
        select(PayableBasisDocument.document_id).where(
            PayableBasisDocument.document_id.in_([d.id for d in documents])
        )
    ).all()
    if taken:
        raise Conflict(
            f"document(s) {', '.join(sorted(taken))} already back another debtor confirmation",
            code="documents_already_confirmed",
        )
    row = PayableConfirmation(
        id=new_id("payable"),
        debtor_id=debtor,
        creditor_id=creditor.id,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        issued_minor=0,
        due_on=due_on,
        basis=basis,
        trade_case_key=trade_case_key,
        document_ids=sorted(d.id for d in documents),
        confirmed_by=actor.label,
        confirmed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    session.add_all(
        [PayableBasisDocument(document_id=d.id, confirmation_id=row.id) for d in documents]
    )
    session.flush()
    ledger.one(session, actor, "payable.confirmed", _change("payable", row))
    audit.record(session, actor, "payable.confirm", "payable", row.id, {"basis": basis})
    return row


def _confirmed_documents(
    session: Session, debtor: str, creditor: str, document_ids: Sequence[str]
) -> list[TradeDocumentRow]:
    errors: list[FieldError] = []
    out = []
    for n, doc_id in enumerate(document_ids):
        doc = session.get(TradeDocumentRow, doc_id)
        field = f"document_ids[{n}]"
        if doc is None or debtor not in (doc.buyer_id, doc.seller_id):
            errors.append(FieldError(field, f"no document {doc_id!r}"))
        elif doc.buyer_id != debtor or doc.seller_id != creditor:
            errors.append(FieldError(field, "must be billed by the supplier to this enterprise"))
        elif doc.kind not in ("invoice", "goods_receipt"):
            errors.append(FieldError(field, f"a {doc.kind} does not evidence a payable"))
        elif session.get(DocumentConfirmation, doc.id) is None:
            errors.append(FieldError(field, "confirm the document first (buyer confirmation)"))
        else:
            out.append(doc)
    if errors:
        raise ValidationFailed(errors)
    return out


def _trade_case_documents(
    session: Session, actor: Principal, debtor: str, creditor: Enterprise, key: str
) -> list[TradeDocumentRow]:
    from chainfin.domain.matching import CaseStatus
    from chainfin.services import trade_cases

    cases = {c.case_key: c for c in trade_cases.cases_for(session, actor, debtor)}
    case = cases.get(key)
    if case is None or case.seller_uscc != creditor.uscc:
        raise ValidationFailed(
            [FieldError("trade_case", f"no trade case {key!r} with {creditor.uscc}")],
            code="trade_case_unknown",
        )
    if case.status is not CaseStatus.MATCHED:
        raise ValidationFailed(
            [
                FieldError(
                    "trade_case",
                    f"the case is {case.status.value}, not matched: "
                    + "; ".join(case.messages[:3]),
                )
            ],
            code="trade_case_not_matched",
        )
    out = []
    for doc_key in case.documents:
        kind, _seller, number = doc_key.split("/", 2)
        if kind != "invoice":
            continue
        doc = session.scalar(
            select(TradeDocumentRow).where(
                TradeDocumentRow.kind == kind,
                TradeDocumentRow.seller_id == creditor.id,
                TradeDocumentRow.number == number,
            )
        )
        if doc is not None:
            out.append(doc)
    if not out:
        raise ValidationFailed(
            [FieldError("trade_case", "the case has no invoice to confirm")],
            code="trade_case_without_invoice",
        )
    return out


def _check_basis_amount(documents: Sequence[TradeDocumentRow], amount: Money) -> None:
    invoices = [d for d in documents if d.kind == "invoice"]
    basis = invoices or list(documents)
    wrong = [d.id for d in basis if d.currency != amount.currency]
    if wrong:
        raise ValidationFailed(
            [FieldError("amount", f"documents {wrong} are not {amount.currency}")],
            code="currency_mismatch",
        )
    total = sum(d.total_minor for d in basis)
    if amount.amount_minor > total:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} exceeds what the documents evidence "
                    f"({Money(total, amount.currency)})",
                )
            ],
            code="amount_exceeds_evidence",
        )


@dataclass(frozen=True)
class ConfirmationFilter:
    """What to list of the confirmations an enterprise is a party to (every field narrows)."""

    debtor: str | None = None  # the core enterprise that owes: id or USCC
    creditor: str | None = None  # the supplier owed: id or USCC
    due_from: date | None = None
    due_to: date | None = None


def confirmations(
    session: Session,
    actor: Principal,
    filters: ConfirmationFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[PayableConfirmation]:
    """The confirmations the enterprise gave (as debtor) or was given (as creditor), by id
    (oldest first)."""
    actor.require(Scope.CREDENTIALS_READ)
    filters = filters or ConfirmationFilter()
    query = select(PayableConfirmation)
    if not actor.is_system:
        me = _enterprise_of(actor)
        query = query.where(
            or_(PayableConfirmation.debtor_id == me, PayableConfirmation.creditor_id == me)
        )
    if filters.debtor is not None:
        debtor = party_id(session, filters.debtor, field="debtor")
        query = query.where(PayableConfirmation.debtor_id == debtor)
    if filters.creditor is not None:
        creditor = party_id(session, filters.creditor, field="creditor")
        query = query.where(PayableConfirmation.creditor_id == creditor)
    query = query.where(
        *_within(PayableConfirmation.due_on, filters.due_from, filters.due_to, "due")
    )
    return paginate(session, query, PayableConfirmation.id, cursor=cursor, limit=limit)


def _allocate_confirmations(
    session: Session, core: str, ids: Sequence[str], amount: Money
) -> list[tuple[PayableConfirmation, int]]:
    if not ids:
        raise ValidationFailed(
            [FieldError("confirmation_ids", "name at least one confirmation")],
            code="confirmation_required",
        )
    rows: list[PayableConfirmation] = []
    errors: list[FieldError] = []
    for n, cid in enumerate(ids):
        row = session.get(PayableConfirmation, cid)
        if row is None or row.debtor_id != core:
            errors.append(FieldError(f"confirmation_ids[{n}]", f"no confirmation {cid!r}"))
        elif row.currency != amount.currency:
            errors.append(FieldError(f"confirmation_ids[{n}]", f"is {row.currency}"))
        else:
            rows.append(row)
    if not errors and len({r.creditor_id for r in rows}) != 1:
        errors.append(FieldError("confirmation_ids", "must all be payables to one supplier"))
    if errors:
        raise ValidationFailed(errors)
    remaining = amount.amount_minor
    out = []
    for row in rows:
        take = min(remaining, row.amount_minor - row.issued_minor)
        if take > 0:
            out.append((row, take))
            remaining -= take
    if remaining > 0:
        available = sum(r.amount_minor - r.issued_minor for r in rows)
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    f"{amount} exceeds the confirmed payables not yet issued against "
                    f"({Money(available, amount.currency)})",
                )
            ],
            code="amount_exceeds_confirmed",
        )
    return out


def _release_confirmations(session: Session, credential: Credential) -> list[PayableConfirmation]:
    out = []
    for cid, take in credential.confirmations:
        session.execute(
            update(PayableConfirmation)
            .where(PayableConfirmation.id == cid)
            .values(issued_minor=PayableConfirmation.issued_minor - take)
            .execution_options(synchronize_session=False)
        )
        row = _get(session, PayableConfirmation, cid)
        session.refresh(row)
        out.append(row)
    return out


# ---------------------------------------------------------------------------- bases still free


def free_documents(
    session: Session, actor: Principal, *, limit: int = 200
) -> list[TradeDocumentRow]:
    """The invoices and goods receipts billed to the enterprise that it has confirmed as the
    buyer and that back no debtor confirmation yet: what it may confirm (确权) on, oldest
    first."""
    actor.require(Scope.CREDENTIALS_READ)
    me = _enterprise_of(actor)
    query = (
        select(TradeDocumentRow)
        .where(
            TradeDocumentRow.buyer_id == me,
            TradeDocumentRow.kind.in_(["invoice", "goods_receipt"]),
            TradeDocumentRow.id.in_(select(DocumentConfirmation.document_id)),
            TradeDocumentRow.id.not_in(select(PayableBasisDocument.document_id)),
        )
        .order_by(TradeDocumentRow.issue_date, TradeDocumentRow.id)
        .limit(check_limit(limit))
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class FreeTradeCase:
    """A matched trade case whose invoices back no debtor confirmation yet."""

    case_key: str
    creditor_id: str
    invoices: tuple[TradeDocumentRow, ...]

    @property
    def total_minor(self) -> int:
        return sum(d.total_minor for d in self.invoices)


def free_trade_cases(session: Session, actor: Principal) -> list[FreeTradeCase]:
    """The enterprise's matched trade cases as the buyer whose invoices are all on file and
    back no debtor confirmation yet: what it may confirm (确权) on a trade case."""
    from chainfin.domain.matching import CaseStatus
    from chainfin.services import trade_cases

    actor.require(Scope.CREDENTIALS_READ)
    me = _enterprise_of(actor)
    taken = select(PayableBasisDocument.document_id)
    out = []
    for case in trade_cases.cases_for(session, actor, me, status=CaseStatus.MATCHED):
        numbers = [k.split("/", 2)[2] for k in case.documents if k.startswith("invoice/")]
        if not numbers:
            continue
        invoices = tuple(
            session.scalars(
                select(TradeDocumentRow)
                .join(Enterprise, Enterprise.id == TradeDocumentRow.seller_id)
                .where(
                    TradeDocumentRow.kind == "invoice",
                    TradeDocumentRow.buyer_id == me,
                    Enterprise.uscc == case.seller_uscc,
                    TradeDocumentRow.number.in_(numbers),
                    TradeDocumentRow.id.not_in(taken),
                )
                .order_by(TradeDocumentRow.id)
            )
        )
        if invoices and len(invoices) == len(numbers):
            out.append(FreeTradeCase(case.case_key, invoices[0].seller_id, invoices))
    return out
