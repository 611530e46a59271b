"""Import a bank statement (camt.053.001.02 or .08): match each entry to an instructed
disbursement or a loan repayment, post what matched, and list what did not and why.

The same file imported twice returns the first import; an entry seen in an earlier file (the
next day's statement often repeats pending items) counts once. Unmatched entries are not
marked seen, so a person can apply them by hand (``loan repay --source-ref KEY``) and the
key then keeps a later import from applying them again.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Loan,
    LoanRepayment,
    StatementEntrySeen,
    StatementImport,
)
from chainfin.adapters.formats import iso20022
from chainfin.domain import clock, reconcile
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import ChainfinError, Forbidden
from chainfin.domain.ids import new_id
from chainfin.domain.money import Money
from chainfin.services import audit, ledger, scoping
from chainfin.services.credentials._common import _change
from chainfin.services.lending import loans as servicing


def entry_key(statement: iso20022.Statement, entry: iso20022.Entry, index: int) -> str:
    """A stable identity for an entry: the account and the bank's entry reference, or a
    digest of what the entry says when the bank gave no reference."""
    if entry.ref:
        return f"{statement.account}/{entry.ref}"[:160]
    said = "|".join(
        [
            str(entry.value_date or entry.booking_date),
            str(entry.amount.amount_minor),
            entry.amount.currency,
            "C" if entry.credit else "D",
            ",".join(entry.end_to_end_ids),
            ",".join(entry.remittance),
            str(index),
        ]
    )
    return f"{statement.account}/sha256:{hashlib.sha256(said.encode()).hexdigest()[:32]}"


def _bank_entries(statements: list[iso20022.Statement]) -> list[reconcile.BankEntry]:
    out = []
    index = 0
    for statement in statements:
        for entry in statement.entries:
            index += 1
            out.append(
                reconcile.BankEntry(
                    key=entry_key(statement, entry, index),
                    index=index,
                    amount=entry.amount,
                    credit=entry.credit,
                    status=entry.status,
                    value_date=entry.value_date,
                    booking_date=entry.booking_date,
                    end_to_end_ids=entry.end_to_end_ids,
                    remittance=entry.remittance,
                    counterparty_account=entry.counterparty_account,
                    counterparty_name=entry.counterparty_name,
                    reversal=entry.reversal,
                )
            )
    return out


def _expected(
    session: Session, bank_id: str, as_of: date
) -> tuple[list[reconcile.ExpectedDisbursement], list[reconcile.RepayableLoan]]:
    out = session.scalars(
        select(Loan).where(
            Loan.bank_id == bank_id,
            Loan.disbursement_id.is_not(None),
            Loan.disbursement_confirmed_at.is_(None),
        )
    )
    disbursements = [
        reconcile.ExpectedDisbursement(
            loan.end_to_end_id, loan.id, Money(loan.principal_minor, loan.currency)
        )
        for loan in out
    ]
    active = session.scalars(
        select(Loan).where(Loan.bank_id == bank_id, Loan.status.in_(servicing.ACTIVE))
    )
    repayable = []
    for loan in active:
        pos = servicing.position(loan, max(as_of, loan.start_on or as_of))
        accounts = (loan.payee_account,) if loan.collateral.get("payee") != "core" else ()
        repayable.append(
            reconcile.RepayableLoan(
                loan.id,
                loan.reference,
                accounts,
                loan.currency,
                pos.principal_outstanding + pos.interest_due + pos.penalty_due,
            )
        )
    return disbursements, repayable


def _day(entry: reconcile.BankEntry) -> date:
    return entry.value_date or entry.booking_date or clock.today()


def import_statement(session: Session, actor: Principal, data: bytes) -> StatementImport:
    actor.require(Scope.LOANS_WRITE)
    if actor.bank_id is None:
        raise Forbidden("a bank imports its own account statements", code="bank_staff_only")
    digest = hashlib.sha256(data).hexdigest()
    done = session.scalar(
        select(StatementImport).where(
            StatementImport.bank_id == actor.bank_id, StatementImport.digest == digest
        )
    )
    if done is not None:
        return done
    statements = iso20022.read_camt053(data)
    entries = _bank_entries(statements)
    keys = [e.key for e in entries]
    seen = set(
        session.scalars(
            select(StatementEntrySeen.entry_key).where(
                StatementEntrySeen.bank_id == actor.bank_id,
                StatementEntrySeen.entry_key.in_(keys),
            )
        )
    )
    applied = {
        str(ref)
        for ref in session.scalars(
            select(LoanRepayment.source_ref)
            .join(Loan, Loan.id == LoanRepayment.loan_id)
            .where(LoanRepayment.source_ref.in_(keys), Loan.bank_id == actor.bank_id)
        )
    }
    # what each loan owes as of the statement's last day (for the overpayment flag)
    as_of = max((_day(e) for e in entries), default=clock.today())
    disbursements, repayable = _expected(session, actor.bank_id, as_of)
    result = reconcile.reconcile(entries, disbursements, repayable, seen_keys=seen | applied)
    matched: list[dict[str, Any]] = []
    unmatched = [_miss(u.entry, u.reason.value, u.detail) for u in result.unmatched]
    seen_now: set[str] = set()
    for match in result.matches:
        loan = session.get(Loan, match.loan_id)
        if loan is None:
            raise AssertionError(f"reconciled to a loan that is gone: {match.loan_id}")
        try:
            with session.begin_nested():
                if match.kind is reconcile.MatchKind.DISBURSEMENT:
                    servicing.confirm_disbursement(
                        session, actor, loan, _day(match.entry), match.entry.key
                    )
                    detail: dict[str, Any] = {"loan_id": loan.id}
                else:
                    repayment = servicing.repay(
                        session,
                        actor,
                        loan.id,
                        amount=match.entry.amount,
                        value_on=_day(match.entry),
                        source="statement",
                        source_ref=match.entry.key,
                    )
                    detail = {"loan_id": loan.id, "repayment": _applied(repayment)}
        except ChainfinError as exc:
            unmatched.append(_miss(match.entry, "not_applied", exc.message))
            continue
        seen_now.add(match.entry.key)
        matched.append(
            {
                "entry": match.entry.index,
                "key": match.entry.key,
                "kind": match.kind.value,
                "basis": str(match.basis),
                "amount": match.entry.amount.as_dict(),
                "overpaid": match.overpaid.as_dict() if match.overpaid else None,
                **detail,
            }
        )
    row = StatementImport(
        id=new_id("statement"),
        bank_id=actor.bank_id,
        digest=digest,
        message_id=statements[0].message_id[:35] if statements else "",
        version=statements[0].version if statements else "",
        statements=[_summary(s) for s in statements],
        matched=matched,
        unmatched=sorted(unmatched, key=lambda u: int(u["entry"])),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    seen_rows = [
        StatementEntrySeen(bank_id=actor.bank_id, entry_key=key, import_id=row.id)
        for key in sorted(seen_now)
    ]
    session.add_all(seen_rows)
    session.flush()
    ledger.one(
        session,
        actor,
        "statement.imported",
        _change("statement_import", row),
        *(_change("statement_entry", r) for r in seen_rows),
    )
    audit.record(
        session,
        actor,
        "statement.import",
        "statement",
        row.id,
        {"matched": len(matched), "unmatched": len(unmatched)},
    )
    return row


def _applied(row: LoanRepayment) -> dict[str, Any]:
    """The repayment as the import's record keeps it (stored with the import: its shape
    does not change; ``resources.lending.RepaymentOut.from_record`` reads it)."""
    cur = row.currency
    return {
        "id": row.id,
        "loan_id": row.loan_id,
        "value_on": row.value_on.isoformat(),
        **{
            part: Money(getattr(row, f"{part}_minor"), cur).as_dict()
            for part in ("amount", "penalty", "interest", "principal", "prepaid", "excess")
        },
        "payer_id": row.payer_id,
        "source": row.source,
        "source_ref": row.source_ref,
    }


def _miss(entry: reconcile.BankEntry, reason: str, detail: str) -> dict[str, Any]:
    return {
        "entry": entry.index,
        "key": entry.key,
        "credit": entry.credit,
        "amount": entry.amount.as_dict(),
        "value_on": (entry.value_date or entry.booking_date or date.min).isoformat(),
        "reason": reason,
        "detail": detail,
    }


def _summary(statement: iso20022.Statement) -> dict[str, Any]:
    credits: dict[str, int] = {}
    debits: dict[str, int] = {}
    for entry in statement.entries:
        side = credits if entry.credit else debits
        side[entry.amount.currency] = side.get(entry.amount.currency, 0) + entry.amount.amount_minor
    return {
        "id": statement.id,
        "account": statement.account,
        "currency": statement.currency,
        "entries": len(statement.entries),
        "opening": statement.opening_balance.as_dict() if statement.opening_balance else None,
        "closing": statement.closing_balance.as_dict() if statement.closing_balance else None,
        "credits": {c: Money(v, c).as_dict() for c, v in sorted(credits.items())},
        "debits": {c: Money(v, c).as_dict() for c, v in sorted(debits.items())},
        "balance_problems": iso20022.check_balances(statement),
    }


def import_for(session: Session, actor: Principal, import_id: str) -> StatementImport:
    actor.require(Scope.LOANS_READ)
    return scoping.bank_record(session, actor, StatementImport, import_id, "statement import")
