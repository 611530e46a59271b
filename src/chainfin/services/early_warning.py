"""Post-loan early warning: monthly signals from the trade data of a bank's borrowers (read
under their consent for post-loan monitoring), evaluated by the policies of
:mod:`chainfin.domain.early_warning`, each warning raised as an alert for the customer's
relationship manager.

Signals, per enterprise and calendar month, the scan's month last:

- ``orders_received`` — purchase orders it received (total, yuan);
- ``customers`` — distinct buyers it invoiced;
- ``cancellation_share`` — credit notes / invoices it issued;
- ``payment_days`` — mean days from its invoice to the buyer's payment, for payments made
  that month (how promptly it is paid);
- ``delivery_days`` — mean days from a purchase order to the buyer's goods receipt for it,
  for receipts that month (how promptly it delivers);
- ``overdue_loans_elsewhere`` — its loans overdue at other banks on the platform (latest).

A full scan recomputes every signal from the documents; the same warning on the same
enterprise is one open alert, however many scans see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import CreditLine, Loan, TradeDocumentRow
from chainfin.domain import clock
from chainfin.domain import early_warning as rules
from chainfin.domain.access import SYSTEM, Principal, Scope
from chainfin.domain.consent import Purpose
from chainfin.domain.errors import Forbidden
from chainfin.services import alerts, consent

MONTHS = 6
_NEEDS = ("trade_documents", "invoices")


def _month(day: date) -> date:
    return day.replace(day=1)


def months_ending(as_of: date, count: int) -> list[date]:
    out = []
    year, month = as_of.year, as_of.month
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


@dataclass(frozen=True, slots=True)
class ScanResult:
    subjects: int
    without_consent: int
    warnings: int
    alerts_raised: int
    by_code: dict[str, int]


def subjects_of(session: Session, bank_id: str) -> list[str]:
    """The bank's borrowers with a loan running, and the obligors of its open lines."""
    borrowers = session.scalars(
        select(Loan.borrower_id).where(
            Loan.bank_id == bank_id, Loan.status.in_(("disbursed", "current", "overdue"))
        )
    )
    obligors = session.scalars(
        select(CreditLine.obligor_id).where(
            CreditLine.bank_id == bank_id, CreditLine.status.in_(("active", "frozen"))
        )
    )
    return sorted({*borrowers, *obligors})


def signals(
    session: Session, enterprise_ids: Sequence[str], bank_id: str, as_of: date
) -> dict[str, dict[str, list[Decimal | None]]]:
    """Every signal of every enterprise, month by month up to ``as_of``'s month."""
    months = months_ending(as_of, MONTHS)
    index = {m: i for i, m in enumerate(months)}
    start = months[0]
    ids = list(enterprise_ids)
    orders: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * MONTHS)
    invoices: dict[str, list[int]] = defaultdict(lambda: [0] * MONTHS)
    notes: dict[str, list[int]] = defaultdict(lambda: [0] * MONTHS)
    buyers: dict[str, list[set[str]]] = defaultdict(lambda: [set() for _ in range(MONTHS)])
    issued: dict[tuple[str, str], date] = {}
    paid: list[tuple[str, str, date]] = []
    rows = session.execute(
        select(
            TradeDocumentRow.kind,
            TradeDocumentRow.seller_id,
            TradeDocumentRow.buyer_id,
            TradeDocumentRow.issue_date,
            TradeDocumentRow.total_minor,
            TradeDocumentRow.invoice_number,
            TradeDocumentRow.order_number,
        ).where(
            TradeDocumentRow.seller_id.in_(ids),
            TradeDocumentRow.issue_date <= as_of,
            TradeDocumentRow.issue_date >= date(start.year - 1, start.month, 1),
        )
    )
    ordered: dict[tuple[str, str], date] = {}
    received: list[tuple[str, str, date]] = []
    for kind, seller, buyer, issue_date, total, invoice_number, order_number in rows:
        if kind == "invoice" and invoice_number:
            issued[(seller, invoice_number)] = issue_date
        if kind == "purchase_order" and order_number:
            ordered[(seller, order_number)] = issue_date
        if kind == "goods_receipt" and order_number:
            received.append((seller, order_number, issue_date))
        i = index.get(_month(issue_date))
        if i is None:
            continue
        if kind == "purchase_order":
            orders[seller][i] += Decimal(total) / 100
        elif kind == "invoice":
            invoices[seller][i] += 1
            buyers[seller][i].add(buyer)
        elif kind == "credit_note":
            notes[seller][i] += 1
        elif kind == "payment" and invoice_number:
            paid.append((seller, invoice_number, issue_date))
    delays: dict[str, list[list[int]]] = defaultdict(lambda: [[] for _ in range(MONTHS)])
    for seller, number, paid_on in paid:
        invoiced = issued.get((seller, number))
        if invoiced is not None:
            delays[seller][index[_month(paid_on)]].append((paid_on - invoiced).days)
    deliveries: dict[str, list[list[int]]] = defaultdict(lambda: [[] for _ in range(MONTHS)])
    for seller, number, received_on in received:
        placed = ordered.get((seller, number))
        i = index.get(_month(received_on))
        if placed is not None and i is not None:
            deliveries[seller][i].append((received_on - placed).days)
    overdue = dict(
        session.execute(
            select(Loan.borrower_id, func.count())
            .where(Loan.borrower_id.in_(ids), Loan.bank_id != bank_id, Loan.status == "overdue")
            .group_by(Loan.borrower_id)
        ).all()
    )
    out: dict[str, dict[str, list[Decimal | None]]] = {}
    for e in ids:
        share: list[Decimal | None] = [
            Decimal(n) / Decimal(i) if i else None
            for n, i in zip(notes[e], invoices[e], strict=True)
        ]
        mean_days: list[Decimal | None] = [
            Decimal(sum(d)) / len(d) if d else None for d in delays[e]
        ]
        out[e] = {
            "orders_received": list(orders[e]),
            "customers": [Decimal(len(b)) for b in buyers[e]],
            "cancellation_share": share,
            "payment_days": mean_days,
            "delivery_days": [Decimal(sum(d)) / len(d) if d else None for d in deliveries[e]],
            "overdue_loans_elsewhere": [None] * (MONTHS - 1) + [Decimal(overdue.get(e, 0))],
        }
    return out


def _allowed(
    session: Session, bank_id: str, enterprise_ids: Sequence[str], label: str
) -> list[str]:
    return [
        e
        for e in enterprise_ids
        if not consent.missing_for_bank(
            session,
            enterprise_id=e,
            bank_id=bank_id,
            actor_label=label,
            categories=_NEEDS,
            purpose=Purpose.POST_LOAN_MONITORING,
            resource=f"early-warning signals of {e}",
        )
    ]


def _raise(
    session: Session,
    actor: Principal,
    bank_id: str,
    series: dict[str, dict[str, list[Decimal | None]]],
    policies: Sequence[rules.Policy],
    as_of: date,
) -> tuple[int, int, dict[str, int]]:
    by_code: dict[str, int] = defaultdict(int)
    warnings = raised = 0
    for enterprise_id, signals_of in series.items():
        for hit in rules.evaluate(policies, signals_of):
            warnings += 1
            by_code[hit.code] += 1
            alert = alerts.raise_alert(
                session,
                actor,
                kind=f"ew_{hit.code}",
                severity=hit.severity,
                subject_kind="enterprise",
                subject_id=enterprise_id,
                bank_id=bank_id,
                enterprise_id=enterprise_id,
                message=f"{enterprise_id} as of {as_of}: {hit.message}",
                rule=hit.code,
            )
            raised += alert is not None
    return warnings, raised, dict(by_code)


def on_documents(
    session: Session,
    enterprise_ids: Collection[str],
    *,
    today: date | None = None,
    policies: Sequence[rules.Policy] = rules.DEFAULT_POLICIES,
) -> int:
    """The incremental path, run as documents arrive: re-evaluate these enterprises (the
    sellers of the new documents) for every bank that monitors them, as of the last complete
    month, and raise what is new. Returns the alerts raised."""
    if not enterprise_ids:
        return 0
    ids = sorted(enterprise_ids)
    running = session.execute(
        select(Loan.bank_id, Loan.borrower_id).where(
            Loan.borrower_id.in_(ids), Loan.status.in_(("disbursed", "current", "overdue"))
        )
    ).all()
    lines = session.execute(
        select(CreditLine.bank_id, CreditLine.obligor_id).where(
            CreditLine.obligor_id.in_(ids), CreditLine.status.in_(("active", "frozen"))
        )
    ).all()
    by_bank: dict[str, set[str]] = defaultdict(set)
    for bank_id, enterprise_id in [*running, *lines]:
        by_bank[bank_id].add(enterprise_id)
    if not by_bank:
        return 0
    today = today or clock.today()
    as_of = today.replace(day=1) - timedelta(days=1)
    raised = 0
    for bank_id, members in sorted(by_bank.items()):
        allowed = _allowed(session, bank_id, sorted(members), SYSTEM.label)
        if allowed:
            series = signals(session, allowed, bank_id, as_of)
            raised += _raise(session, SYSTEM, bank_id, series, policies, as_of)[1]
    return raised


def scan(
    session: Session,
    actor: Principal,
    *,
    as_of: date,
    policies: Sequence[rules.Policy] = rules.DEFAULT_POLICIES,
) -> ScanResult:
    """Full rescan of the bank's borrowers: compute signals, evaluate, raise alerts."""
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None:
        raise Forbidden("a bank scans its own borrowers", code="bank_staff_only")
    bank_id = actor.bank_id
    subjects = subjects_of(session, bank_id)
    allowed = _allowed(session, bank_id, subjects, actor.label)
    series = signals(session, allowed, bank_id, as_of)
    warnings, raised, by_code = _raise(session, actor, bank_id, series, policies, as_of)
    return ScanResult(len(subjects), len(subjects) - len(allowed), warnings, raised, dict(by_code))
