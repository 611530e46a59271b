"""What a bank's operations desk lists: the loans approved and not yet paid out, the
disbursement files and statement imports it wrote, the credit authority of its people.
Each read is the acting bank's own rows (bank staff only; anyone else is refused)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    ApprovalAuthority,
    DisbursementFile,
    Loan,
    LoanRepayment,
    StatementImport,
    User,
)
from chainfin.domain.access import Principal, Scope
from chainfin.services import scoping
from chainfin.services.lending.loans import ACTIVE

_WHY = "the operations desk is a bank's"
MAX_ROWS = 200


def _bank(actor: Principal) -> str:
    actor.require(Scope.LOANS_READ)
    return scoping.bank_of(actor, _WHY)


def loans_to_disburse(session: Session, actor: Principal) -> list[Loan]:
    """The bank's approved loans not yet in a disbursement file, oldest first."""
    bank_id = _bank(actor)
    return list(
        session.scalars(
            select(Loan)
            .where(
                Loan.bank_id == bank_id,
                Loan.status == "approved",
                Loan.disbursement_id.is_(None),
            )
            .order_by(Loan.created_at, Loan.id)
            .limit(MAX_ROWS)
        )
    )


def disbursement_files(session: Session, actor: Principal) -> list[DisbursementFile]:
    """The bank's disbursement files, the newest first."""
    bank_id = _bank(actor)
    return list(
        session.scalars(
            select(DisbursementFile)
            .where(DisbursementFile.bank_id == bank_id)
            .order_by(DisbursementFile.created_at.desc(), DisbursementFile.id.desc())
            .limit(MAX_ROWS)
        )
    )


def statement_imports(session: Session, actor: Principal) -> list[StatementImport]:
    """The bank's statement imports, the newest first."""
    bank_id = _bank(actor)
    return list(
        session.scalars(
            select(StatementImport)
            .where(StatementImport.bank_id == bank_id)
            .order_by(StatementImport.created_at.desc(), StatementImport.id.desc())
            .limit(MAX_ROWS)
        )
    )


@dataclass(frozen=True, slots=True)
class Authority:
    """One rung of the ladder: a person and the credit authority level delegated to them."""

    user_id: str
    username: str
    display_name: str
    level: int
    granted_by: str


def authority_ladder(session: Session, actor: Principal) -> list[Authority]:
    """Who at the bank may approve up to which level, the highest first."""
    bank_id = _bank(actor)
    rows = session.execute(
        select(ApprovalAuthority, User)
        .join(User, User.id == ApprovalAuthority.user_id)
        .where(ApprovalAuthority.bank_id == bank_id, User.bank_id == bank_id)
        .order_by(ApprovalAuthority.level.desc(), User.username)
    )
    return [Authority(u.id, u.username, u.display_name, a.level, a.granted_by) for a, u in rows]


def staff_names(session: Session, actor: Principal, user_ids: set[str]) -> dict[str, str]:
    """Display names of the bank's own people among ``user_ids`` (others stay out)."""
    bank_id = _bank(actor)
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(
            User.id.in_(sorted(user_ids)), User.bank_id == bank_id
        )
    )
    return {uid: name or username for uid, name, username in rows}


def loans_to_repay(session: Session, actor: Principal) -> list[Loan]:
    """The bank's loans that take repayments (paid out, not settled), by reference."""
    bank_id = _bank(actor)
    return list(
        session.scalars(
            select(Loan)
            .where(Loan.bank_id == bank_id, Loan.status.in_(ACTIVE))
            .order_by(Loan.reference)
            .limit(MAX_ROWS)
        )
    )


def applied_entries(session: Session, actor: Principal, keys: set[str]) -> dict[str, str]:
    """Statement entries (by key) applied to one of the bank's loans as a repayment: the
    loan's reference for each."""
    bank_id = _bank(actor)
    if not keys:
        return {}
    rows = session.execute(
        select(LoanRepayment.source_ref, Loan.reference)
        .join(Loan, Loan.id == LoanRepayment.loan_id)
        .where(LoanRepayment.source_ref.in_(sorted(keys)), Loan.bank_id == bank_id)
    )
    return {str(key): ref for key, ref in rows}
