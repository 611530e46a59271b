"""Payable credentials as every interface shows them: programmes, debtor confirmations,
credentials and their pieces, quotes, financings, payments, invitations and the LPR table.

Each model is built from the service layer's rows with ``build`` and printed with
``model_dump(mode="json")`` (API answers, ``--json`` in the CLI, the pages). Amounts are
decimal strings in major units beside the resource's ``currency``; rates carry their unit in
the name: ``*_pct`` (``"3.65"`` is 3.65 % a year) or ``*_bp`` (basis points)::

    >>> from chainfin.domain.pricing import LprFixing
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> LprFixingOut.build(LprFixing(date(2024, 2, 20), Decimal("3.45"), Decimal("3.95")))
    LprFixingOut(fixed_on=datetime.date(2024, 2, 20), rate_1y_pct='3.45', rate_5y_pct='3.95')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from chainfin.adapters.db.models import (
    Credential,
    CredentialPayment,
    CredentialPiece,
    CredentialProgramme,
    CredentialQuote,
    Financing,
    PayableConfirmation,
)
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.money import Money
from chainfin.domain.pricing import LprFixing
from chainfin.domain.states import InvitationStatus, ProgrammeStatus
from chainfin.resources.common import Written
from chainfin.services.credentials import AmountDue, InvitationView, Transfer


def _currency() -> Any:
    return Field(description="ISO 4217 code of every amount in this resource", examples=["CNY"])


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


# ---------------------------------------------------------------------------- programmes


class ProgrammeOut(BaseModel):
    """A core enterprise's credential programme: the limit its funder banks' lines give it
    and the two-phase use of that limit (pending while a credential waits for its first
    holder, posted once accepted, released as it is paid)."""

    id: str = Field(examples=["prg_01M97X7MF0B7YA641ZP02GTYEG"])
    core_enterprise_id: str = Field(description="the enterprise whose payables it carries")
    lead_bank_id: str = Field(description="the bank that opened it and invites other funders")
    name: str = Field(examples=["core A supplier credentials"])
    currency: str = _currency()
    limit: str = Field(description="the sum of the funder banks' lines", examples=["2000000.00"])
    pending: str = Field(description="reserved by credentials offered, not yet accepted")
    posted: str = Field(description="used by accepted credentials not yet paid")
    available: str = Field(description="limit − pending − posted", examples=["1700000.00"])
    core_rating: str = Field(description="the core enterprise's rating", examples=["AA+"])
    tenor_cap_months: int = Field(description="longest tenor of a credential", examples=[6])
    roll_convention: str = Field(
        description="how a maturity on a non-working day rolls", examples=["following"]
    )
    min_piece: str = Field(description="smallest piece a split or transfer may leave")
    day_count: str = Field(examples=["ACT/360"])
    grace_days: int = Field(description="days after the payment date before penalty interest")
    penalty_multiplier: str = Field(
        description="penalty interest a year = this × the 1-year LPR", examples=["1.5"]
    )
    status: ProgrammeStatus = Field(examples=["active"])
    created_at: datetime

    @classmethod
    def build(cls, p: CredentialProgramme) -> ProgrammeOut:
        c = p.currency
        return cls(
            id=p.id,
            core_enterprise_id=p.core_enterprise_id,
            lead_bank_id=p.lead_bank_id,
            name=p.name,
            currency=c,
            limit=_amount(p.limit_minor, c),
            pending=_amount(p.pending_minor, c),
            posted=_amount(p.posted_minor, c),
            available=_amount(p.limit_minor - p.pending_minor - p.posted_minor, c),
            core_rating=p.core_rating,
            tenor_cap_months=p.tenor_cap_months,
            roll_convention=p.roll_convention,
            min_piece=_amount(p.min_piece_minor, c),
            day_count=p.day_count,
            grace_days=p.grace_days,
            penalty_multiplier=p.penalty_multiplier,
            status=p.status,
            created_at=p.created_at,
        )


class ProgrammeWrittenOut(ProgrammeOut, Written):
    """The programme just opened, with its ledger receipt."""


# ---------------------------------------------------------------------------- confirmations


class ConfirmationOut(BaseModel):
    """A debtor confirmation (确权): what a core enterprise irrevocably confirms it owes a
    supplier, on which evidence, and how much of it credentials already use."""

    id: str = Field(examples=["cfm_01M97X7MF1DQSS1XCRSY5GWJKH"])
    debtor_id: str = Field(description="the core enterprise that owes")
    creditor_id: str = Field(description="the supplier owed")
    currency: str = _currency()
    amount: str = Field(description="the payable confirmed", examples=["500000.00"])
    issued: str = Field(description="used by credentials issued against it")
    available: str = Field(description="amount − issued: still free to issue against")
    due_on: date
    basis: str = Field(description="documents or trade_case", examples=["documents"])
    trade_case_key: str | None = None
    document_ids: list[str] = Field(description="the confirmed trade documents it rests on")
    confirmed_at: datetime

    @classmethod
    def build(cls, c: PayableConfirmation) -> ConfirmationOut:
        return cls(
            id=c.id,
            debtor_id=c.debtor_id,
            creditor_id=c.creditor_id,
            currency=c.currency,
            amount=_amount(c.amount_minor, c.currency),
            issued=_amount(c.issued_minor, c.currency),
            available=_amount(c.amount_minor - c.issued_minor, c.currency),
            due_on=c.due_on,
            basis=c.basis,
            trade_case_key=c.trade_case_key,
            document_ids=list(c.document_ids),
            confirmed_at=c.confirmed_at,
        )


class ConfirmationWrittenOut(ConfirmationOut, Written):
    """The confirmation just given, with its ledger receipt."""


# ---------------------------------------------------------------------------- credentials


class CredentialOut(BaseModel):
    """A digital payable credential: the core enterprise's promise to pay ``face`` on
    ``payment_on`` (``maturity_on`` rolled to a working day) to whoever holds its pieces."""

    id: str = Field(examples=["crd_01M97X7MF1DQSS1XCRSY5GWJKJ"])
    programme_id: str
    issuer_id: str = Field(description="the core enterprise that pays")
    first_holder_id: str = Field(description="the supplier it was issued to")
    currency: str = _currency()
    face: str = Field(examples=["300000.00"])
    settled: str = Field(description="principal paid so far", examples=["0.00"])
    outstanding: str = Field(description="face − settled", examples=["300000.00"])
    issued_on: date
    maturity_on: date = Field(description="the contractual date")
    payment_on: date = Field(description="the maturity rolled to a working day")
    payment_provisional: bool = Field(
        description="true while the payment date rests on a calendar not yet official"
    )
    calendar_source: str
    status: CredentialStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, c: Credential) -> CredentialOut:
        return cls(**_credential_fields(c))


def _credential_fields(c: Credential) -> dict[str, Any]:
    return {
        "id": c.id,
        "programme_id": c.programme_id,
        "issuer_id": c.issuer_id,
        "first_holder_id": c.first_holder_id,
        "currency": c.currency,
        "face": _amount(c.face_minor, c.currency),
        "settled": _amount(c.settled_minor, c.currency),
        "outstanding": _amount(c.face_minor - c.settled_minor, c.currency),
        "issued_on": c.issued_on,
        "maturity_on": c.maturity_on,
        "payment_on": c.payment_on,
        # a paid credential's payment date is a fact, whatever the calendar said then
        "payment_provisional": c.payment_provisional and c.status != "settled",
        "calendar_source": c.calendar_source,
        "status": CredentialStatus(c.status),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


class CredentialWrittenOut(CredentialOut, Written):
    """The credential just changed, with its ledger receipt."""


class CredentialPieceOut(BaseModel):
    """A piece of a credential: split off or passed down a tier, held by one enterprise (or
    by the bank that discounted it)."""

    id: str = Field(examples=["pce_01M97X7MF1DQSS1XCRSY5GWJKK"])
    credential_id: str
    parent_id: str | None = Field(description="the piece it came from; null for the root")
    lineage: list[str] = Field(description="ids of its ancestors, the root first")
    tier: int = Field(description="1 for the core's direct supplier, 2 one step down, …")
    currency: str = _currency()
    amount: str = Field(examples=["120000.00"])
    settled: str = Field(description="principal paid on it so far", examples=["0.00"])
    holder_id: str = Field(description="the enterprise holding it")
    sender_id: str | None = Field(description="who offered it to the holder")
    status: PieceStatus
    financing_id: str | None = Field(description="the financing that discounted it, if any")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, p: CredentialPiece) -> CredentialPieceOut:
        return cls(
            id=p.id,
            credential_id=p.credential_id,
            parent_id=p.parent_id,
            lineage=list(p.lineage),
            tier=p.tier,
            currency=p.currency,
            amount=_amount(p.amount_minor, p.currency),
            settled=_amount(p.settled_minor, p.currency),
            holder_id=p.holder_id,
            sender_id=p.sender_id,
            status=PieceStatus(p.status),
            financing_id=p.financing_id,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class CredentialPieceWrittenOut(CredentialPieceOut, Written):
    """The piece just accepted or rejected, with its ledger receipt."""


class CredentialTreeOut(CredentialOut):
    """A credential with the pieces the caller may see, depth first (each piece followed by
    its branch): the issuer and the funder banks see every piece, a holder the branches below
    the pieces it has held."""

    pieces: list[CredentialPieceOut]

    @classmethod
    def build(cls, c: Credential, pieces: Sequence[CredentialPiece] = ()) -> CredentialTreeOut:
        return cls(**_credential_fields(c), pieces=[CredentialPieceOut.build(p) for p in pieces])


class CredentialTreeWrittenOut(CredentialTreeOut, Written):
    """The credential just issued with its root piece, and the ledger receipt."""


class SplitOut(BaseModel):
    """The pieces a split made, in the order of the amounts asked for."""

    pieces: list[CredentialPieceOut]

    @classmethod
    def build(cls, pieces: Sequence[CredentialPiece]) -> SplitOut:
        return cls(pieces=[CredentialPieceOut.build(p) for p in pieces])


class SplitWrittenOut(SplitOut, Written):
    """The pieces a split made, with the ledger receipt."""


class TransferOut(BaseModel):
    """A transfer: the piece offered to the supplier, and the part the holder kept."""

    offered: CredentialPieceOut
    kept: CredentialPieceOut | None = Field(description="null when the whole piece moved")

    @classmethod
    def build(cls, t: Transfer) -> TransferOut:
        return cls(
            offered=CredentialPieceOut.build(t.offered),
            kept=CredentialPieceOut.build(t.kept) if t.kept is not None else None,
        )


class TransferWrittenOut(TransferOut, Written):
    """A transfer, with the ledger receipt."""


class AmountDueOut(BaseModel):
    """What settles a credential in full on a date: the principal outstanding and, past the
    grace days, the penalty interest."""

    on: date
    currency: str = _currency()
    principal: str = Field(examples=["300000.00"])
    penalty: str = Field(examples=["1125.00"])
    total: str = Field(examples=["301125.00"])
    late: bool = Field(description="past the payment date and the grace days")

    @classmethod
    def build(cls, due: AmountDue) -> AmountDueOut:
        c = due.currency
        return cls(
            on=due.on,
            currency=c,
            principal=_amount(due.principal_minor, c),
            penalty=_amount(due.penalty_minor, c),
            total=_amount(due.total_minor, c),
            late=due.late,
        )


# ---------------------------------------------------------------------------- LPR


class LprFixingOut(BaseModel):
    """One monthly Loan Prime Rate publication."""

    fixed_on: date
    rate_1y_pct: str = Field(description="1-year LPR, percent a year", examples=["3.00"])
    rate_5y_pct: str = Field(description="over-5-year LPR, percent a year", examples=["3.50"])

    @classmethod
    def build(cls, f: LprFixing) -> LprFixingOut:
        return cls(
            fixed_on=f.fixed_on,
            rate_1y_pct=format(f.rate_1y, "f"),
            rate_5y_pct=format(f.rate_5y, "f"),
        )

    @classmethod
    def from_terms(cls, d: dict[str, Any]) -> LprFixingOut:
        """From the stored ``LprFixing.to_dict`` shape inside a quote's terms."""
        return cls(
            fixed_on=date.fromisoformat(d["fixed_on"]),
            rate_1y_pct=d["rate_1y"],
            rate_5y_pct=d["rate_5y"],
        )


class LprTableOut(BaseModel):
    """The LPR fixings on record, latest first, and the one in force on ``as_of``."""

    as_of: date
    in_force: LprFixingOut | None = Field(description="null when no fixing is that old")
    fixings: list[LprFixingOut]

    @classmethod
    def build(
        cls, as_of: date, in_force: LprFixing | None, fixings: Sequence[LprFixing]
    ) -> LprTableOut:
        return cls(
            as_of=as_of,
            in_force=LprFixingOut.build(in_force) if in_force is not None else None,
            fixings=[LprFixingOut.build(f) for f in fixings],
        )


# ---------------------------------------------------------------------------- quotes, financing


class QuoteFeeOut(BaseModel):
    code: str = Field(examples=["platform_service"])
    name: str = Field(examples=["platform service fee"])
    kind: str = Field(
        description="rate_annual (a yearly percentage of face for the tenor), rate_flat (a "
        "percentage of face) or fixed",
        examples=["rate_annual"],
    )
    basis: str = Field(
        description="how it was computed, for a person",
        examples=["0.30%/yr × 179/360 on 120,000.00"],
    )
    amount: str = Field(examples=["179.00"])


class QuoteOut(BaseModel):
    """A funder bank's firm offer, until ``valid_until``, to discount a held piece: the base
    rate (the LPR fixing it used), the spread, every fee, the net proceeds and the all-in
    cost a year. ``face`` = ``net_proceeds`` + ``discount_interest`` + ``fees_total``."""

    id: str = Field(examples=["quo_01M97X7MF1DQSS1XCRSY5GWJKM"])
    piece_id: str
    bank_id: str
    holder_id: str
    valid_until: datetime
    currency: str = _currency()
    face: str = Field(examples=["120000.00"])
    rating: str = Field(description="the core enterprise's rating priced", examples=["AA+"])
    value_on: date = Field(description="the day the holder is paid")
    payment_on: date = Field(description="the day the core pays the bank")
    payment_provisional: bool
    maturity_on: date
    as_of: date
    days: int = Field(description="value_on to payment_on")
    day_count: str = Field(examples=["ACT/360"])
    year_fraction: str = Field(description="days under the day count", examples=["0.497222"])
    base: str = Field(description="the LPR tenor priced on", examples=["lpr_1y"])
    base_rate_pct: str = Field(description="the base rate, percent a year", examples=["3.00"])
    spread_bp: int = Field(description="the spread for the rating and tenor", examples=[65])
    discount_rate_pct: str = Field(
        description="base_rate_pct + spread, percent a year", examples=["3.65"]
    )
    discount_interest: str
    fees: list[QuoteFeeOut]
    fees_total: str
    net_proceeds: str = Field(description="what the holder receives on value_on")
    all_in_rate_pct: str = Field(
        description="(face − net) / net × 365 / days, percent a year", examples=["4.1123"]
    )
    fixing: LprFixingOut = Field(description="the LPR fixing in force on as_of")
    warnings: list[str] = Field(description="e.g. a fixing more than a month old")
    created_at: datetime

    @classmethod
    def build(cls, q: CredentialQuote) -> QuoteOut:
        t = q.terms
        return cls(
            id=q.id,
            piece_id=q.piece_id,
            bank_id=q.bank_id,
            holder_id=q.holder_id,
            valid_until=q.valid_until,
            currency=t["face"]["currency"],
            face=t["face"]["amount"],
            rating=t["rating"],
            value_on=date.fromisoformat(t["value_date"]),
            payment_on=date.fromisoformat(t.get("payment_on", t["payment_date"])),
            payment_provisional=bool(t.get("payment_provisional", False)),
            maturity_on=date.fromisoformat(t.get("maturity_on", t["payment_date"])),
            as_of=date.fromisoformat(t["as_of"]),
            days=t["days"],
            day_count=t["day_count"],
            year_fraction=t["year_fraction"],
            base=t["base"],
            base_rate_pct=t["base_rate"],
            spread_bp=t["spread_bp"],
            discount_rate_pct=t["discount_rate"],
            discount_interest=t["discount_interest"]["amount"],
            fees=[
                QuoteFeeOut(
                    code=f["code"],
                    name=f["name"],
                    kind=f["kind"],
                    basis=f["basis"],
                    amount=f["amount"]["amount"],
                )
                for f in t["fees"]
            ],
            fees_total=t["fees_total"]["amount"],
            net_proceeds=t["net_proceeds"]["amount"],
            all_in_rate_pct=t["all_in_rate"],
            fixing=LprFixingOut.from_terms(t["fixing"]),
            warnings=list(t["warnings"]),
            created_at=q.created_at,
        )


class QuoteWrittenOut(QuoteOut, Written):
    """The quote just given, with its ledger receipt."""


class FinancingOut(BaseModel):
    """A discounted piece: the bank paid ``net_proceeds`` on ``value_on`` and holds the
    piece (``bank_piece_id``) until the core pays on ``payment_on``."""

    id: str = Field(examples=["fin_01M97X7MF1DQSS1XCRSY5GWJKN"])
    piece_id: str = Field(description="the holder's piece, passed to the bank")
    bank_piece_id: str = Field(description="the bank's piece")
    quote_id: str
    bank_id: str
    seller_id: str = Field(description="the holder that sold the piece")
    currency: str = _currency()
    face: str = Field(examples=["120000.00"])
    discount_interest: str
    fees: str = Field(description="all fees together (itemised on the quote)")
    net_proceeds: str
    discount_rate_pct: str = Field(examples=["3.65"])
    all_in_rate_pct: str = Field(examples=["4.1123"])
    value_on: date
    payment_on: date
    registration_id: str = Field(description="the receivables registry filing")
    created_at: datetime

    @classmethod
    def build(cls, f: Financing) -> FinancingOut:
        c = f.currency
        return cls(
            id=f.id,
            piece_id=f.piece_id,
            bank_piece_id=f.bank_piece_id,
            quote_id=f.quote_id,
            bank_id=f.bank_id,
            seller_id=f.seller_id,
            currency=c,
            face=_amount(f.face_minor, c),
            discount_interest=_amount(f.discount_minor, c),
            fees=_amount(f.fees_minor, c),
            net_proceeds=_amount(f.net_minor, c),
            discount_rate_pct=f.discount_rate,
            all_in_rate_pct=f.all_in_rate,
            value_on=f.value_on,
            payment_on=f.payment_on,
            registration_id=f.registration_id,
            created_at=f.created_at,
        )


class FinancingWrittenOut(FinancingOut, Written):
    """The financing (new, or the one this quote already made), with the ledger receipt."""


# ---------------------------------------------------------------------------- payments


class PaymentAllocationOut(BaseModel):
    """What one piece's current holder was paid."""

    piece_id: str
    holder_id: str
    principal: str = Field(examples=["120000.00"])
    penalty: str = Field(description="penalty interest paid", examples=["0.00"])
    outstanding: str = Field(description="principal still unpaid on the piece")
    penalty_due: str = Field(description="penalty interest owed at this payment")
    penalty_assessed: bool = Field(description="paid past the payment date and grace days")


class CredentialPaymentOut(BaseModel):
    """A payment by the issuer, shared among the current holders (penalty first, then
    principal, pro rata when short)."""

    id: str = Field(examples=["pmt_01M97X7MF1DQSS1XCRSY5GWJKP"])
    credential_id: str
    payment_ref: str = Field(description="the issuer's reference: the same one pays once")
    currency: str = _currency()
    amount: str = Field(examples=["300000.00"])
    penalty: str = Field(description="the part of amount that paid penalty interest")
    paid_on: date
    allocations: list[PaymentAllocationOut]
    created_at: datetime

    @classmethod
    def build(cls, p: CredentialPayment) -> CredentialPaymentOut:
        c = p.currency
        return cls(
            id=p.id,
            credential_id=p.credential_id,
            payment_ref=p.payment_ref,
            currency=c,
            amount=_amount(p.amount_minor, c),
            penalty=_amount(p.penalty_minor, c),
            paid_on=p.paid_on,
            allocations=[
                PaymentAllocationOut(
                    piece_id=a["piece_id"],
                    holder_id=a["holder_id"],
                    principal=_amount(a["principal_minor"], c),
                    penalty=_amount(a["penalty_minor"], c),
                    outstanding=_amount(a["outstanding_minor"], c),
                    penalty_due=_amount(a.get("penalty_due_minor", 0), c),
                    penalty_assessed=bool(a.get("penalty_assessed", False)),
                )
                for a in p.allocations
            ],
            created_at=p.created_at,
        )


class CredentialPaymentWrittenOut(CredentialPaymentOut, Written):
    """The payment (new, or the first one under this reference), with the ledger receipt."""


# ---------------------------------------------------------------------------- invitations


class InvitationOut(BaseModel):
    """An invitation to fund a programme, and what the invited bank is asked to join. It
    goes invited → approved (by the core) → accepted (by the invited bank, with its line),
    or declined by any of the three."""

    id: str = Field(examples=["ivt_01M97X7MF1DQSS1XCRSY5GWJKQ"])
    programme_id: str
    programme_name: str
    core_enterprise_id: str
    core_rating: str = Field(examples=["AA+"])
    tenor_cap_months: int
    bank_id: str = Field(description="the bank invited")
    bank_code: str | None = Field(examples=["BKB"])
    lead_bank_id: str = Field(description="the programme's lead bank, which invited it")
    lead_bank_code: str | None = Field(examples=["BKA"])
    status: InvitationStatus = Field(examples=["invited"])
    currency: str = _currency()
    line: str | None = Field(
        description="the invited bank's line, once it accepted", examples=["5000000.00"]
    )
    invited_at: datetime
    approved_at: datetime | None
    accepted_at: datetime | None
    declined_at: datetime | None

    @classmethod
    def build(cls, v: InvitationView) -> InvitationOut:
        i, p = v.invitation, v.programme
        return cls(
            id=i.id,
            programme_id=i.programme_id,
            programme_name=p.name,
            core_enterprise_id=i.core_enterprise_id,
            core_rating=p.core_rating,
            tenor_cap_months=p.tenor_cap_months,
            bank_id=i.bank_id,
            bank_code=v.bank_code,
            lead_bank_id=i.lead_bank_id,
            lead_bank_code=v.lead_bank_code,
            status=i.status,
            currency=i.currency,
            line=_amount(i.line_minor, i.currency) if i.line_minor else None,
            invited_at=i.invited_at,
            approved_at=i.approved_at,
            accepted_at=i.accepted_at,
            declined_at=i.declined_at,
        )


class InvitationWrittenOut(InvitationOut, Written):
    """The invitation just changed, with its ledger receipt."""
