"""A bank's portfolio seen from above: exposure and limits by core enterprise, chain, industry
(GB/T 4754 section or division), region (province or prefecture) or obligor, with the
concentration of each view (HHI and the top-5 share).

Exposure is what the bank stands to lose today: the outstanding principal of its loans (the
borrower is the obligor; the core is the line's) and the face of the payable credentials it
discounted and still holds (the issuing core enterprise is the obligor). An obligor in several
of the bank's chains counts in each chain, so chain shares can add up to more than 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Chain,
    ChainCore,
    ChainMember,
    Credential,
    CredentialPiece,
    CreditLine,
    Enterprise,
    Financing,
    Loan,
)
from chainfin.domain import concentration
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import FieldError, Forbidden, ValidationFailed
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.money import Money

DIMENSIONS = (
    "core",
    "chain",
    "industry_section",
    "industry_division",
    "region_province",
    "region_prefecture",
    "obligor",
)
ACTIVE_LOANS = ("disbursed", "current", "overdue")


@dataclass(frozen=True, slots=True)
class Exposure:
    obligor_id: str
    core_id: str
    kind: str  # loan | credential
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    exposure: Money
    limit: Money | None
    items: int
    share: Fraction


@dataclass(frozen=True, slots=True)
class Portfolio:
    by: str
    currency: str
    total: Money
    rows: tuple[Row, ...]
    hhi: Fraction
    top5_share: Fraction


def exposures(session: Session, bank_id: str, currency: str) -> list[Exposure]:
    out = []
    line_core = dict(
        session.execute(
            select(CreditLine.id, CreditLine.core_id).where(CreditLine.bank_id == bank_id)
        ).all()
    )
    for loan in session.scalars(
        select(Loan).where(
            Loan.bank_id == bank_id, Loan.status.in_(ACTIVE_LOANS), Loan.currency == currency
        )
    ):
        outstanding = (
            loan.principal_minor - loan.principal_paid_minor - loan.principal_prepaid_minor
        )
        if outstanding > 0:
            core = line_core.get(loan.line_id or "", loan.borrower_id)
            out.append(Exposure(loan.borrower_id, core, "loan", outstanding))
    held = session.execute(
        select(Financing.face_minor, Credential.issuer_id)
        .join(CredentialPiece, CredentialPiece.id == Financing.bank_piece_id)
        .join(Credential, Credential.id == CredentialPiece.credential_id)
        .where(
            Financing.bank_id == bank_id,
            Financing.currency == currency,
            CredentialPiece.status.in_(("financed", "overdue")),
        )
    )
    for face, issuer in held:
        out.append(Exposure(issuer, issuer, "credential", face))
    return out


def _chains_of(session: Session, bank_id: str) -> dict[str, list[tuple[str, str]]]:
    chains = dict(
        session.execute(select(Chain.id, Chain.name).where(Chain.bank_id == bank_id)).all()
    )
    member_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows: Iterable[tuple[str, str]] = [
        *session.execute(
            select(ChainMember.enterprise_id, ChainMember.chain_id).where(
                ChainMember.chain_id.in_(chains)
            )
        ),
        *session.execute(
            select(ChainCore.enterprise_id, ChainCore.chain_id).where(
                ChainCore.chain_id.in_(chains)
            )
        ),
    ]
    for enterprise_id, chain_id in rows:
        entry = (chain_id, chains[chain_id])
        if entry not in member_of[enterprise_id]:
            member_of[enterprise_id].append(entry)
    return member_of


def _industry(code: str, division: bool) -> tuple[str, str]:
    try:
        industry = parse_industry_code(code)
    except UnknownIndustry:
        return code or "?", "unknown industry"
    if division and industry.division is not None:
        return industry.code, industry.name_zh
    section = parse_industry_code(industry.section)
    return section.code, section.name_zh


def exposure(session: Session, actor: Principal, *, by: str, currency: str = "CNY") -> Portfolio:
    """The bank's exposure grouped ``by`` one of :data:`DIMENSIONS`."""
    actor.require(Scope.LOANS_READ)
    if actor.bank_id is None:
        raise Forbidden("a bank reads its own portfolio", code="bank_staff_only")
    if by not in DIMENSIONS:
        raise ValidationFailed(
            [FieldError("by", f"must be one of {', '.join(DIMENSIONS)}")], code="dimension_unknown"
        )
    items = exposures(session, actor.bank_id, currency)
    ids = {e.obligor_id for e in items} | {e.core_id for e in items}
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
    groups: dict[str, list[Exposure]] = defaultdict(list)
    labels: dict[str, str] = {}
    chains = _chains_of(session, actor.bank_id) if by == "chain" else {}
    for item in items:
        obligor = ents[item.obligor_id]
        keys: list[tuple[str, str]]
        if by == "core":
            keys = [(item.core_id, ents[item.core_id].name)]
        elif by == "obligor":
            keys = [(obligor.id, obligor.name)]
        elif by == "chain":
            keys = chains.get(obligor.id) or [("-", "(in none of the bank's chains)")]
        elif by.startswith("industry"):
            keys = [_industry(obligor.industry_code, by == "industry_division")]
        else:
            digits = 2 if by == "region_province" else 4
            code = obligor.region_code[:digits].ljust(6, "0")
            keys = [(code, code)]
        for key, label in keys:
            groups[key].append(item)
            labels[key] = label
    limits: dict[str, int] = defaultdict(int)
    if by == "core":
        for core_id, limit in session.execute(
            select(CreditLine.core_id, CreditLine.limit_minor).where(
                CreditLine.bank_id == actor.bank_id,
                CreditLine.currency == currency,
                CreditLine.status.in_(("active", "frozen")),
            )
        ):
            limits[core_id] += limit
    total = sum(e.amount_minor for e in items)
    amounts = {k: sum(e.amount_minor for e in v) for k, v in groups.items()}
    rows = tuple(
        Row(
            key=key,
            label=labels[key],
            exposure=Money(amount, currency),
            limit=Money(limits[key], currency) if by == "core" else None,
            items=len(groups[key]),
            share=Fraction(amount, total) if total else Fraction(0),
        )
        for key, amount in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    values = list(amounts.values())
    return Portfolio(
        by=by,
        currency=currency,
        total=Money(total, currency),
        rows=rows,
        hhi=concentration.hhi(values),
        top5_share=concentration.top_share(values, 5) if values else Fraction(0),
    )
