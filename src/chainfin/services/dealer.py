"""A dealer's prepayment financing (预付款融资, 保兑仓) as the dealer reads it: its
applications for dealer-financing products and their decisions, its loans, the goods
released to it against its repayments and the goods still pledged.

The bank pays the core enterprise for goods the dealer ordered; the core holds them and
they are released to the dealer as it repays (services/lending/loans.py
:func:`~chainfin.services.lending.loans.release_goods`: value released ≤ goods × principal
repaid / principal). Releases are recorded by the lending bank's staff (``loans:write``);
a dealer reads them. A release names no repayment, so it is shown against the repayments
whose principal made it releasable, first come first served: repayment *k* entitles the
dealer to goods up to goods × (principal repaid through *k*) / principal, and releases use
those entitlements in order. Quantities are the order's lines in proportion to value (the
order's unit prices), and what is still pledged is valued at the latest price the product's
price source has for each item (services/lending/prices.py), as collateral is valued.

Reads only, through the same scoping as ``GET /v1/loans/{id}`` (``loans.loan_for``) and
``GET /v1/documents/{id}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    GoodsRelease,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanRepayment,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import ChainfinError, Forbidden, NotFound
from chainfin.domain.money import Money
from chainfin.domain.products import ProductKind
from chainfin.services import documents
from chainfin.services.lending import applications, loans, products
from chainfin.services.lending.prices import owner_of_product, price_of
from chainfin.services.pagination import MAX_LIMIT

DEALER = ProductKind.DEALER.value
QUANTUM = Decimal("0.001")  # quantities shown to three places


@dataclass(frozen=True)
class Goods:
    """One line of goods: how much, and (for what is still pledged) its latest price."""

    item: str
    quantity: Decimal
    unit: str
    price: Money | None = None  # per unit, the latest on or before the day
    priced_on: date | None = None

    @property
    def value(self) -> Money | None:
        if self.price is None:
            return None
        minor = int(self.quantity * self.price.amount_minor)
        return Money(minor, self.price.currency)


@dataclass(frozen=True)
class Release:
    """Goods released to the dealer, with the repayments they were released against."""

    row: GoodsRelease
    goods: list[Goods]
    against: list[str]  # repayment ids, in the order they were applied


@dataclass(frozen=True)
class Remaining:
    """What is still pledged: its order value, what the dealer's repayments already entitle
    it to (awaiting release by the bank), the goods and their value at the latest prices,
    the loan's principal outstanding and the coverage (value ÷ outstanding)."""

    pledged: Money
    releasable: Money
    goods: list[Goods]
    value: Money | None  # None: no lines on the order, or an item without a price
    outstanding: Money
    bought_back: Money | None

    @property
    def coverage(self) -> Decimal | None:
        if self.value is None or self.outstanding.amount_minor <= 0:
            return None
        return Decimal(self.value.amount_minor) / Decimal(self.outstanding.amount_minor)


@dataclass(frozen=True)
class DealerLoan:
    loan: Loan
    position: loans.Position | None
    repayments: list[LoanRepayment]
    releases: list[Release]
    remaining: Remaining
    order_number: str | None  # the dealer order financed
    # the core's buy-back guarantee may be called: the product has one, the loan is as many
    # days past due as it asks for, and the bank's scan has raised its alert
    buyback_callable: bool = False

    @property
    def overdue(self) -> bool:
        """Something due is unpaid: days past due on the day, or the bank's scan says so."""
        dpd = self.position.dpd if self.position is not None else 0
        return dpd > 0 or self.loan.status == "overdue"


def _require_dealer_reader(actor: Principal) -> None:
    actor.require(Scope.LOANS_READ)
    if actor.enterprise_id is None:
        raise Forbidden("a dealer reads its own prepayment financing", code="enterprise_user_only")


def dealer_products(session: Session, ids: Sequence[str]) -> set[str]:
    """The ids among ``ids`` of dealer-financing products."""
    if not ids:
        return set()
    found = session.scalars(
        select(LoanProduct.id).where(LoanProduct.id.in_(ids), LoanProduct.kind == DEALER)
    )
    return set(found)


def applications_of(session: Session, actor: Principal) -> list[LoanApplication]:
    """The enterprise's applications for dealer-financing products, newest first."""
    _require_dealer_reader(actor)
    rows = applications.applications(session, actor, limit=MAX_LIMIT).items
    dealer = dealer_products(session, sorted({a.product_id for a in rows}))
    chosen = [a for a in rows if a.product_id in dealer]
    return sorted(chosen, key=lambda a: a.submitted_at, reverse=True)


def loans_of(session: Session, actor: Principal) -> list[Loan]:
    """The enterprise's dealer loans (as borrower), newest first."""
    _require_dealer_reader(actor)
    only = loans.LoanFilter(product_kind=DEALER)
    rows = loans.loans(session, actor, only, limit=MAX_LIMIT).items
    return sorted(rows, key=lambda loan: loan.created_at, reverse=True)


def loan(session: Session, actor: Principal, loan_id: str, on: date) -> DealerLoan:
    """One dealer loan of the enterprise, where it stands on ``on``. Another firm's loan, or
    a loan that is not dealer financing, is not found."""
    _require_dealer_reader(actor)
    row = loans.loan_for(session, actor, loan_id)
    if row.product_kind != DEALER or row.borrower_id != actor.enterprise_id:
        raise NotFound(f"no loan {loan_id!r}", code="loan_not_found")
    return view(session, actor, row, on)


def view(session: Session, actor: Principal, row: Loan, on: date) -> DealerLoan:
    paid = loans.repayments(session, row, limit=MAX_LIMIT).items
    paid = sorted(paid, key=lambda r: (r.created_at, r.id))
    released = list(
        session.scalars(
            select(GoodsRelease)
            .where(GoodsRelease.loan_id == row.id)
            .order_by(GoodsRelease.created_at, GoodsRelease.id)
        )
    )
    number, lines = _order(session, actor, row)
    started = row.start_on is not None and on >= row.start_on
    position = loans.position(row, on) if started else None
    return DealerLoan(
        loan=row,
        position=position,
        repayments=paid,
        releases=_against(row, released, paid, lines),
        remaining=_remaining(session, row, lines, on),
        order_number=number,
        buyback_callable=_buyback_callable(session, row, position),
    )


def _buyback_callable(session: Session, row: Loan, position: loans.Position | None) -> bool:
    """The product's buy-back guarantee is due (its days past due reached) and the bank's
    scan raised the alert that says so, still open."""
    config = products.config_of(session.get_one(LoanProduct, row.product_id))
    threshold = config.buyback_after_dpd
    if threshold is None or position is None or position.dpd < threshold:
        return False
    raised = session.scalar(
        select(Alert.id).where(
            Alert.kind == "buyback_due",
            Alert.subject_kind == "loan",
            Alert.subject_id == row.id,
            Alert.state != "resolved",
        )
    )
    return raised is not None


def _goods_minor(row: Loan) -> int:
    return int(row.collateral.get("goods_value_minor", 0))


def _order(session: Session, actor: Principal, row: Loan) -> tuple[str | None, list[Goods]]:
    """The dealer order's number and lines (item, quantity, unit); no lines if it has none."""
    try:
        doc = documents.get_document(session, actor, str(row.collateral.get("ref", "")))
    except ChainfinError:
        return None, []
    out = []
    for line in doc.content.get("lines") or []:
        try:
            quantity = Decimal(str(line.get("quantity", "0")))
        except ArithmeticError:
            continue
        out.append(Goods(str(line.get("item", "")), quantity, str(line.get("unit", ""))))
    return doc.number, out


def _share(lines: Sequence[Goods], part_minor: int, whole_minor: int) -> list[Goods]:
    """The lines in proportion ``part / whole`` of the order's value."""
    if whole_minor <= 0:
        return []
    ratio = Decimal(part_minor) / Decimal(whole_minor)
    return [Goods(g.item, (g.quantity * ratio).quantize(QUANTUM), g.unit) for g in lines]


def _entitlements(row: Loan, paid: Sequence[LoanRepayment]) -> list[tuple[str, int]]:
    """Each repayment that repaid principal, with the goods value released up to it."""
    goods, out, principal = _goods_minor(row), [], 0
    for repayment in paid:
        part = repayment.principal_minor + repayment.prepaid_minor
        if part <= 0:
            continue
        principal += part
        out.append((repayment.id, goods * principal // row.principal_minor))
    return out


def _against(
    row: Loan,
    released: Sequence[GoodsRelease],
    paid: Sequence[LoanRepayment],
    lines: Sequence[Goods],
) -> list[Release]:
    entitled = _entitlements(row, paid)
    out, start = [], 0
    for release in released:
        end = start + release.value_minor
        against, floor = [], 0
        for repayment_id, ceiling in entitled:
            if floor < end and ceiling > start:  # [floor, ceiling) meets [start, end)
                against.append(repayment_id)
            floor = ceiling
        out.append(Release(release, _share(lines, release.value_minor, _goods_minor(row)), against))
        start = end
    return out


def _remaining(session: Session, row: Loan, lines: Sequence[Goods], on: date) -> Remaining:
    goods = _goods_minor(row)
    currency = row.currency
    bought_back = row.collateral.get("bought_back_minor")
    pledged = 0 if bought_back is not None else max(0, goods - row.released_minor)
    repaid = row.principal_paid_minor + row.principal_prepaid_minor
    releasable = goods * repaid // row.principal_minor - row.released_minor
    owner = owner_of_product(session.get_one(LoanProduct, row.product_id))
    priced, total, complete = [], 0, bool(lines) and pledged > 0
    for share in _share(lines, pledged, goods):
        price = price_of(session, owner, share.item, on)
        if price is None:
            complete = False
            priced.append(share)
            continue
        unit_price = Money(price.price_minor, price.currency)
        line = Goods(share.item, share.quantity, share.unit, unit_price, price.on)
        priced.append(line)
        total += line.value.amount_minor if line.value is not None else 0
    outstanding = row.principal_minor - row.principal_paid_minor - row.principal_prepaid_minor
    return Remaining(
        pledged=Money(pledged, currency),
        releasable=Money(max(0, releasable) if bought_back is None else 0, currency),
        goods=priced,
        value=Money(total, currency) if complete else None,
        outstanding=Money(outstanding, currency),
        bought_back=None if bought_back is None else Money(int(bought_back), currency),
    )
