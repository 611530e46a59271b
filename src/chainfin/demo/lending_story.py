"""The demo's lending story, told through the same services the API uses, after the
credential story and on the same bank and core enterprise.

The bank sets up its four supply-chain products, a line to the core with sub-limits for
members, a cap on its exposure to the core's chain and two people with credit authority.
Members consent to share their data; one application of each product follows: a
receivable loan approved by the rules in milliseconds, an order loan and a dealer loan
approved the same way, an inventory pledge from a new customer referred to people (site
visit, financial statements, maker and checker, a condition met), and two applications
declined with their reasons. The approved loans go out in one pain.001 file; the bank's
camt.053 statement comes back and is reconciled; weeks later interest is accrued and the
daily scan classifies the book; the bank's books balance.

Everything not taken from the seeded region (account numbers, the bank's CNAPS code, the
documents the story adds) is derived from the region's identifiers, so a given seed tells
the same story.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Alert,
    Bank,
    BankCustomer,
    DocumentConfirmation,
    Enterprise,
    Loan,
    LoanApplication,
    LoanProduct,
    SupplyRelation,
    TradeDocumentRow,
    User,
)
from chainfin.adapters.formats import iso20022
from chainfin.demo.credential_story import _path
from chainfin.demo.seed import DEMO_PASSWORD, STAFF_TITLES
from chainfin.demo.timeline import Timeline
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.books import TrialBalance
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import add_months
from chainfin.domain.errors import ChainfinError
from chainfin.domain.money import Money
from chainfin.domain.products import ProductKind, template
from chainfin.resources.lending import StatementImportOut
from chainfin.services import auth, books, consent, documents, receivables, registry
from chainfin.services.lending import applications, lines, loans, products, statements, tasks
from chainfin.services.lending.applications import Payment
from chainfin.services.lending.underlying import set_price
from chainfin.services.pagination import MAX_LIMIT

CST = timezone(timedelta(hours=8))
LINE_LIMIT = Money(30_000_000_00)
CORE_CAP = Money(25_000_000_00)
OPENING_BALANCE = Money(500_000_000_00)
GLASS = "药用玻璃管"  # medicinal glass tubing, the pledged goods
GLASS_PRICE = Money(75_000_00)  # a tonne
GLASS_TONNES = 120
PLEDGE_AMOUNT = Money(6_200_000_00)
SCAN_AFTER = timedelta(days=49)
_CONSENTED = ["trade_documents", "invoices", "logistics", "iot", "financial_statements"]
_PRODUCT_NAMES = {
    ProductKind.RECEIVABLE: "应收账款融资 receivable financing",
    ProductKind.ORDER: "订单融资 order financing",
    ProductKind.INVENTORY: "存货/仓单质押 inventory pledge",
    ProductKind.DEALER: "经销商预付款融资 dealer financing",
}


@dataclass
class LendingReport:
    lines: list[str] = field(default_factory=list)
    trial_balances: dict[str, TrialBalance] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # application label -> status
    auto_seconds: float = 0.0
    referred: dict[str, Any] = field(default_factory=dict)
    declined: dict[str, list[str]] = field(default_factory=dict)  # label -> reason codes
    pain001_path: Path | None = None
    pain001_problems: list[str] = field(default_factory=list)
    disbursed: dict[str, str] = field(default_factory=dict)  # loan id -> end-to-end id
    camt053_path: Path | None = None
    reconciliation: dict[str, Any] = field(default_factory=dict)
    loan_book: list[dict[str, Any]] = field(default_factory=list)
    scan: dict[str, int] = field(default_factory=dict)
    paying_ids: list[str] = field(default_factory=list)  # loans repaid by direct debit
    bank_code: str = ""  # the bank the story lends from (its staff have work in the workbench)
    bank_name: str = ""
    debit_from: date = date.max  # the first due date direct debits have not paid yet

    def say(self, text: str) -> None:
        self.lines.append(text)


def files_dir(database_url: str, fallback: Path) -> Path:
    """Where the story writes its files: next to a SQLite database, else ``fallback``."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and not database_url.endswith(":memory:"):
        return Path(database_url.removeprefix(prefix)).parent
    return fallback


def _digits(seed: str, count: int) -> str:
    """``count`` digits derived from ``seed``: synthetic account numbers that a given region
    always gets the same way."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    return str(number).zfill(count)[-count:]


def _invoice_number(issued: date, seller: Enterprise, seed: str) -> str:
    """A 20-digit 全电 invoice number as the tax system issues it: the issue year's last two
    digits, the seller's province, then 16 digits derived from ``seed``."""
    return f"{issued.year % 100:02d}{seller.region_code[:2]}" + _digits(seed, 16)


def _account(ent: Enterprise) -> str:
    return "6222" + _digits(f"account/{ent.uscc}", 15)


def _cnaps(bank: Bank) -> str:
    return "3" + _digits(f"cnaps/{bank.code}", 11)


def _settlement_account(bank: Bank) -> str:
    return "1100" + _digits(f"settlement/{bank.code}", 14)


def _yuan(money: Money) -> str:
    whole, _, frac = money.to_decimal_string().partition(".")
    return f"{int(whole):,}.{frac} {money.currency}"


def _enterprise_user(ent: Enterprise) -> Principal:
    return Principal.enterprise_user(
        f"demo:{ent.id}", enterprise_id=ent.id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


@dataclass
class _Cast:
    bank: Bank
    core: Enterprise
    receivable: Enterprise  # a long-standing supplier, customer of the bank
    order: Enterprise  # another one
    newcomer: Enterprise  # a supplier the bank has never lent to
    dealer: Enterprise  # buys from the core
    warehouse: Enterprise
    admin: Principal
    rm: Principal
    maker: Principal
    checker: Principal
    names: dict[str, str]  # principal subject -> username


def _staff(session: Session, bank: Bank, suffix: str, role: StaffRole) -> Principal:
    username = f"{bank.code.lower()}-{suffix}"
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = auth.create_user(
            session,
            SYSTEM,
            username=username,
            password=DEMO_PASSWORD,
            roles=[role.value],
            bank_code=bank.code,
            display_name=f"{bank.name}{STAFF_TITLES[role]}",
        )
    return Principal.staff(user.id, bank_id=bank.id, roles=[role])


def _cast(session: Session) -> _Cast:
    bank, core, _tiers = _path(session)
    customers = set(
        session.scalars(select(BankCustomer.enterprise_id).where(BankCustomer.bank_id == bank.id))
    )
    suppliers: list[tuple[date, Enterprise]] = []
    warehouses: list[Enterprise] = []
    for seller_id, since in session.execute(
        select(SupplyRelation.seller_id, SupplyRelation.since)
        .where(SupplyRelation.buyer_id == core.id)
        .order_by(SupplyRelation.since, SupplyRelation.seller_id)
    ):
        ent = session.get(Enterprise, seller_id)
        if ent is None:
            continue
        if "warehouse" in ent.roles:
            warehouses.append(ent)
        elif "supplier" in ent.roles and ent.id not in {e.id for _, e in suppliers}:
            suppliers.append((since, ent))
    known = [e for since, e in suppliers if e.id in customers]
    new = [e for since, e in suppliers if e.id not in customers]
    dealers = [
        ent
        for buyer_id in session.scalars(
            select(SupplyRelation.buyer_id)
            .where(SupplyRelation.seller_id == core.id)
            .order_by(SupplyRelation.since, SupplyRelation.buyer_id)
        )
        if (ent := session.get(Enterprise, buyer_id)) is not None
        and "dealer" in ent.roles
        and ent.id in customers
    ]
    if not dealers:  # the core sells to no dealer of the bank: any dealer, taken on
        every = list(session.scalars(select(Enterprise).order_by(Enterprise.uscc)))
        dealers = [e for e in every if "dealer" in e.roles and e.id in customers]
        dealers = dealers or [e for e in every if "dealer" in e.roles][:1]
        if dealers and dealers[0].id not in customers:
            registry.link_customers(session, SYSTEM, bank.id, [dealers[0].id])
    if len(known) < 2 or not new or not dealers:
        raise LookupError(
            f"{core.name} needs two suppliers banking with {bank.code}, one that does not, "
            "and a dealer that does"
        )
    warehouse = warehouses[0] if warehouses else _any_warehouse(session)
    admin = _staff(session, bank, "admin", StaffRole.ADMIN)
    rm = _staff(session, bank, "rm", StaffRole.RELATIONSHIP_MANAGER)
    maker = _staff(session, bank, "risk", StaffRole.RISK_OFFICER)
    checker = _staff(session, bank, "approver", StaffRole.APPROVER)
    names = {
        p.subject_id: f"{bank.code.lower()}-{suffix}"
        for p, suffix in ((admin, "admin"), (rm, "rm"), (maker, "risk"), (checker, "approver"))
    }
    return _Cast(
        bank, core, known[0], known[1], new[0], dealers[0], warehouse, admin, rm, maker, checker,
        names,
    )  # fmt: skip


def _any_warehouse(session: Session) -> Enterprise:
    for ent in session.scalars(select(Enterprise).order_by(Enterprise.uscc)):
        if "warehouse" in ent.roles:
            return ent
    raise LookupError("the region has no warehouse enterprise")


# ---------------------------------------------------------------------------- set-up


def _set_up(session: Session, cast: _Cast, today: date, report: LendingReport) -> str:
    bank, core, admin = cast.bank, cast.core, cast.admin
    for kind in ProductKind:
        exists = session.scalar(
            select(LoanProduct).where(LoanProduct.bank_id == bank.id, LoanProduct.code == kind)
        )
        if exists is None:
            products.define(
                session,
                admin,
                code=kind.value,
                name=_PRODUCT_NAMES[kind],
                config=template(kind).to_dict(),
            )
    rec, inv = template(ProductKind.RECEIVABLE), template(ProductKind.INVENTORY)
    report.say(
        f"products: {bank.code} offers the four templates — receivable (LPR+{rec.spread_bp} bp, "
        f"advance {rec.advance_rate_cap:.0%}, auto-approval up to "
        f"{_yuan(Money(rec.auto_approve_limit_minor))}), order, inventory pledge (LTV cap "
        f"{inv.ltv_cap:.0%}, margin call above {inv.margin_call_ltv:.0%}) and dealer financing "
        "(pays the core, which guarantees a buy-back)"
    )
    line = lines.open_line(
        session,
        admin,
        obligor=core.id,
        limit=LINE_LIMIT,
        starts_on=today,
        expires_on=add_months(today, 12),
    )
    sublimits = [
        (cast.receivable, Money(5_000_000_00)),
        (cast.order, Money(3_000_000_00)),
        (cast.newcomer, Money(8_000_000_00)),
        (cast.dealer, Money(2_000_000_00)),
    ]
    for member, limit in sublimits:
        lines.add_sublimit(session, admin, line.id, limit=limit, member=member.id)
    lines.set_cap(session, admin, name=f"{core.name} chain", cap=CORE_CAP, core=core.id)
    report.say(
        f"line: {bank.code} opens {_yuan(LINE_LIMIT)} to core {core.name} for a year, with "
        "sub-limits "
        + ", ".join(f"{m.name} {_yuan(limit)}" for m, limit in sublimits)
        + f"; exposure to the core's chain capped at {_yuan(CORE_CAP)}"
    )
    products.grant_authority(session, admin, user=cast.maker.subject_id, level=1)
    products.grant_authority(session, admin, user=cast.checker.subject_id, level=3)
    ladder = ", ".join(
        f"level {a.level} up to {_yuan(Money(a.max_amount_minor))}" for a in rec.authority
    )
    report.say(
        f"authority: {cast.names[cast.maker.subject_id]} holds level 1, "
        f"{cast.names[cast.checker.subject_id]} level 3 ({ladder})"
    )
    return line.id


# ---------------------------------------------------------------------------- documents


def _doc(
    kind: str,
    number: str,
    seller: Enterprise,
    buyer: Enterprise,
    on: date,
    total: Money,
    **extra: Any,
) -> dict[str, object]:
    row: dict[str, object] = {
        "kind": kind,
        "number": number,
        "seller_uscc": seller.uscc,
        "buyer_uscc": buyer.uscc,
        "issue_date": on.isoformat(),
        "currency": "CNY",
        "total": total.to_decimal_string(),
    }
    row.update(extra)
    return row


def _ingest(session: Session, who: Enterprise, row: dict[str, object]) -> TradeDocumentRow:
    report = documents.ingest(session, _enterprise_user(who), documents.parse_rows([row]))
    doc = session.get(TradeDocumentRow, str(report.rows[0].document_id))
    if doc is None:
        raise AssertionError(f"document {row['number']} was not written")
    return doc


def _invoices(
    session: Session, cast: _Cast, today: date, report: LendingReport
) -> list[TradeDocumentRow]:
    """Two invoices of the receivable supplier to the core, due at least a month out and not
    financed yet: the region's own when its trade history has them, else two the supplier
    submits now."""
    earliest_due = add_months(today, 1)
    found: list[TradeDocumentRow] = []
    for doc in session.scalars(
        select(TradeDocumentRow)
        .where(
            TradeDocumentRow.kind == "invoice",
            TradeDocumentRow.seller_id == cast.receivable.id,
            TradeDocumentRow.buyer_id == cast.core.id,
            TradeDocumentRow.issue_date <= today,
        )
        .order_by(TradeDocumentRow.issue_date.desc(), TradeDocumentRow.number)
    ):
        due = doc.content.get("due_date")
        if not due or date.fromisoformat(str(due)) < earliest_due:
            continue
        if doc.total_minor < 100_000_00:
            continue
        key = receivables.receivable_key(doc.seller_id, doc.invoice_number or doc.number)
        if receivables.active_key(session, key) is None:
            found.append(doc)
        if len(found) == 2:
            break
    if found:
        report.say(
            f"documents: invoices {', '.join(d.number for d in found)} of "
            f"{cast.receivable.name} to the core come from the region's trade history"
        )
    for n in range(len(found) + 1, 3):
        net = Money(800_000_00 + 150_000_00 * n)
        tax = Money(net.amount_minor * 13 // 100)
        issued = today - timedelta(days=10 + n)
        seed = f"invoice/{cast.receivable.uscc}/{n}"
        row = _doc(
            "invoice",
            f"DEMO-LEND-INV-{n}",
            cast.receivable,
            cast.core,
            issued,
            net + tax,
            tax=tax.to_decimal_string(),
            invoice_number=_invoice_number(issued, cast.receivable, seed),
            due_date=(today + timedelta(days=100)).isoformat(),
        )
        found.append(_ingest(session, cast.receivable, row))
        report.say(f"documents: {cast.receivable.name} submits invoice DEMO-LEND-INV-{n}")
    return found


def _trade_documents(
    session: Session, cast: _Cast, today: date, report: LendingReport
) -> dict[str, TradeDocumentRow]:
    core_user = _enterprise_user(cast.core)
    invoice, second = _invoices(session, cast, today, report)
    for doc in (invoice, second):
        if session.get(DocumentConfirmation, doc.id) is None:
            documents.confirm(session, core_user, doc.id)
    report.say(
        f"documents: the core confirms invoices {invoice.number} "
        f"({_yuan(Money(invoice.total_minor))}, due {invoice.content.get('due_date')}) "
        f"and {second.number} ({_yuan(Money(second.total_minor))}) it was billed by "
        f"{cast.receivable.name}"
    )
    stamp = today.strftime("%Y%m%d")
    po = _ingest(
        session,
        cast.core,
        _doc(
            "purchase_order",
            f"DEMO-PO-{stamp}",
            cast.order,
            cast.core,
            today - timedelta(days=3),
            Money(800_000_00),
            order_number=f"DEMO-PO-{stamp}",
        ),
    )
    dealer_order = _ingest(
        session,
        cast.core,
        _doc(
            "purchase_order",
            f"DEMO-DO-{stamp}",
            cast.core,
            cast.dealer,
            today - timedelta(days=2),
            Money(600_000_00),
            order_number=f"DEMO-DO-{stamp}",
        ),
    )
    value = Money(GLASS_PRICE.amount_minor * GLASS_TONNES)
    receipt = _ingest(
        session,
        cast.newcomer,
        _doc(
            "warehouse_receipt",
            f"DEMO-WR-{stamp}",
            cast.newcomer,
            cast.core,
            today - timedelta(days=1),
            value,
            warehouse_uscc=cast.warehouse.uscc,
            destination_region=cast.warehouse.region_code,
            lines=[
                {
                    "item": GLASS,
                    "quantity": str(GLASS_TONNES),
                    "unit": "t",
                    "unit_price": GLASS_PRICE.to_decimal_string(),
                    "amount": value.to_decimal_string(),
                }
            ],
        ),
    )
    set_price(
        session,
        cast.admin,
        item=GLASS,
        on=today - timedelta(days=1),
        price=GLASS_PRICE,
        unit="t",
        source="platform weekly quote",
    )
    report.say(
        f"documents: the core submits purchase order {po.number} ({_yuan(Money(po.total_minor))}) "
        f"to {cast.order.name} and dealer order {dealer_order.number} "
        f"({_yuan(Money(dealer_order.total_minor))}) from {cast.dealer.name}; "
        f"{cast.newcomer.name} deposits {GLASS_TONNES} t of {GLASS} at {cast.warehouse.name} "
        f"(receipt {receipt.number}), priced {_yuan(GLASS_PRICE)}/t = {_yuan(value)}"
    )
    return {"invoice": invoice, "invoice2": second, "po": po, "do": dealer_order, "wr": receipt}


def _consents(session: Session, cast: _Cast, report: LendingReport) -> None:
    until = utcnow() + timedelta(days=365)
    members = (cast.receivable, cast.order, cast.newcomer, cast.dealer, cast.core)
    for member in members:
        consent.grant(
            session,
            _enterprise_user(member),
            bank_code=cast.bank.code,
            categories=_CONSENTED,
            purposes=["credit_assessment", "post_loan_monitoring"],
            expires_at=until,
        )
    report.say(
        f"consent: {len(members)} enterprises let {cast.bank.code} read "
        + ", ".join(_CONSENTED)
        + " for credit assessment and post-loan monitoring for a year"
    )


# ---------------------------------------------------------------------------- applications


def _reasons(app: LoanApplication) -> str:
    return "; ".join(f"{r['code']}: {r['message']}" for r in app.decision["reasons"]) or "none"


def _apply(
    session: Session,
    who: Enterprise,
    cast: _Cast,
    *,
    product: ProductKind,
    kind: str,
    ref: str,
    amount: Money,
    tenor: int,
    method: str,
    on: date,
    payee: Enterprise | None = None,
) -> LoanApplication:
    to = payee or who
    return applications.submit(
        session,
        _enterprise_user(who),
        bank=cast.bank.code,
        product=product.value,
        amount=amount,
        tenor_months=tenor,
        method=method,
        underlying_kind=kind,
        underlying_ref=ref,
        payee=Payment(to.name, _account(to), _cnaps(cast.bank)),
        on=on,
    )


def _tenor_within(today: date, due: date, most: int = 3) -> int:
    return max((n for n in range(1, most + 1) if add_months(today, n) <= due), default=1)


def _applications(
    session: Session,
    cast: _Cast,
    docs: dict[str, TradeDocumentRow],
    today: date,
    report: LendingReport,
) -> dict[str, LoanApplication]:
    apps: dict[str, LoanApplication] = {}
    invoice = docs["invoice"]
    due = date.fromisoformat(str(invoice.content["due_date"]))
    advance = Money(min(invoice.total_minor * 8 // 10 // 100_000 * 100_000, 950_000_00))
    started = perf_counter()
    app = _apply(
        session,
        cast.receivable,
        cast,
        product=ProductKind.RECEIVABLE,
        kind="invoice",
        ref=invoice.id,
        amount=advance,
        tenor=_tenor_within(today, due),
        method="bullet",
        on=today,
    )
    report.auto_seconds = perf_counter() - started
    apps["receivable"] = app
    report.say(
        f"apply: {cast.receivable.name} asks {_yuan(advance)} for {app.tenor_months} months "
        f"against confirmed invoice {invoice.number} (80% of {_yuan(Money(invoice.total_minor))}) "
        f"→ {app.status} by the rules in {report.auto_seconds * 1000:.0f} ms "
        f"(score {app.score}; every rule passed)"
    )
    po = docs["po"]
    app = _apply(
        session,
        cast.order,
        cast,
        product=ProductKind.ORDER,
        kind="purchase_order",
        ref=po.id,
        amount=Money(po.total_minor * 6 // 10),
        tenor=3,
        method="equal_principal",
        on=today,
    )
    apps["order"] = app
    report.say(
        f"apply: {cast.order.name} asks {_yuan(Money(app.amount_minor))} (60% of the core's "
        f"order {po.number}) for 3 months, equal principal → {app.status} (score {app.score})"
        + ("" if app.status == "approved" else f": {_reasons(app)}")
    )
    do = docs["do"]
    app = _apply(
        session,
        cast.dealer,
        cast,
        product=ProductKind.DEALER,
        kind="dealer_order",
        ref=do.id,
        amount=Money(do.total_minor * 8 // 10),
        tenor=1,
        method="bullet",
        on=today,
        payee=cast.core,
    )
    apps["dealer"] = app
    report.say(
        f"apply: dealer {cast.dealer.name} asks {_yuan(Money(app.amount_minor))} (80% of its "
        f"order {do.number}, 20% deposit) for 1 month, paid to the core → {app.status} "
        f"(score {app.score}; the core guarantees the buy-back)"
        + ("" if app.status == "approved" else f": {_reasons(app)}")
    )
    wr = docs["wr"]
    app = _apply(
        session,
        cast.newcomer,
        cast,
        product=ProductKind.INVENTORY,
        kind="warehouse_receipt",
        ref=wr.id,
        amount=PLEDGE_AMOUNT,
        tenor=6,
        method="bullet",
        on=today,
    )
    apps["inventory"] = app
    report.say(
        f"apply: new customer {cast.newcomer.name} asks {_yuan(PLEDGE_AMOUNT)} for 6 months "
        "(interest monthly, principal at maturity) "
        f"against receipt {wr.number} → {app.status} (score {app.score}), tasks "
        f"{', '.join(app.decision['tasks']) or 'none'}"
    )
    for reason in app.decision["reasons"]:
        report.say(f"  reason {reason['code']}: {reason['message']}")
    for label, ref, amount, why in (
        ("duplicate", invoice.id, Money(200_000_00), "the same invoice again"),
        (
            "advance",
            docs["invoice2"].id,
            Money(docs["invoice2"].total_minor // 100_000 * 100_000),
            f"100% of invoice {docs['invoice2'].number}",
        ),
    ):
        declined = _apply(
            session,
            cast.receivable,
            cast,
            product=ProductKind.RECEIVABLE,
            kind="invoice",
            ref=ref,
            amount=amount,
            tenor=1,
            method="bullet",
            on=today,
        )
        apps[label] = declined
        report.declined[label] = [r["code"] for r in declined.decision["reasons"]]
        report.say(
            f"apply: {cast.receivable.name} asks {_yuan(amount)} against {why} → "
            f"{declined.status}: {_reasons(declined)}"
        )
    report.decisions = {label: app.status for label, app in apps.items()}
    return apps


_STATEMENTS_CSV = """item,amount
as_of,{as_of}
period_start,{start}
period_end,{end}
cash,{cash}
receivables,{receivables}
inventory,{inventory}
current_assets,{current_assets}
total_assets,{total_assets}
payables,{payables}
current_liabilities,{current_liabilities}
total_liabilities,{total_liabilities}
equity,{equity}
revenue,{revenue}
cost_of_sales,{cost_of_sales}
operating_profit,{operating_profit}
interest_expense,{interest_expense}
net_profit,{net_profit}
"""


def _statements_csv(ent: Enterprise, today: date) -> str:
    """Management accounts for the twelve months to the end of last month, built on the
    registry's revenue and total assets for the enterprise."""
    end = today.replace(day=1) - timedelta(days=1)
    start = date(end.year - 1, end.month, 1) + timedelta(days=31)
    start = start.replace(day=1)
    revenue = max(ent.revenue_minor or 0, 50_000_000_00)
    assets = max(ent.total_assets_minor or 0, revenue * 8 // 10)

    def part(share: int, of: int) -> str:
        return Money(of * share // 1000).to_decimal_string()

    return _STATEMENTS_CSV.format(
        as_of=end.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        cash=part(80, assets),
        receivables=part(180, assets),
        inventory=part(200, assets),
        current_assets=part(520, assets),
        total_assets=part(1000, assets),
        payables=part(150, assets),
        current_liabilities=part(350, assets),
        total_liabilities=part(550, assets),
        equity=part(450, assets),
        revenue=part(1000, revenue),
        cost_of_sales=part(820, revenue),
        operating_profit=part(70, revenue),
        interest_expense=part(8, revenue),
        net_profit=part(52, revenue),
    )


def _ratio(result: dict[str, Any], name: str) -> str:
    value = result["ratios"][name]
    return value.get("value") or f"n/a ({value.get('reason')})"


def _referral(
    session: Session, cast: _Cast, app: LoanApplication, today: date, report: LendingReport
) -> None:
    rm, maker, checker = cast.rm, cast.maker, cast.checker
    open_tasks = tasks.tasks(session, rm, state="open", application=app.id).items
    visited = min(datetime.combine(today, time(9, 30), CST), utcnow() - timedelta(hours=1))
    for task in sorted(open_tasks, key=lambda t: t.kind != "site_visit"):
        if task.kind == "site_visit":
            photos = [
                {"name": name, "sha256": hashlib.sha256(f"{app.id}/{name}".encode()).hexdigest()}
                for name in ("warehouse-bay-7.jpg", "receipt-stamp.jpg", "production-line.jpg")
            ]
            visit = tasks.complete_site_visit(
                session,
                rm,
                task.id,
                {
                    "premises_verified": True,
                    "production_running": True,
                    "inventory_on_hand": Money(
                        GLASS_PRICE.amount_minor * GLASS_TONNES
                    ).to_decimal_string(),
                    "findings": f"{GLASS_TONNES} t of {GLASS} in bay 7 at "
                    f"{cast.warehouse.name}, seals intact; production line running two shifts",
                    "gps": {"lat": 38.3037, "lon": 116.8388},
                    "visited_at": visited.isoformat(),
                    "attachments": photos,
                    "staff_count_seen": 46,
                },
            )
            visited_result: dict[str, Any] = visit.result or {}
            report.say(
                f"site visit: {cast.names[rm.subject_id]} visits {cast.newcomer.name} and the "
                f"warehouse on {visited:%Y-%m-%d %H:%M} at GPS 38.3037,116.8388; premises "
                f"verified, production running, stock on hand "
                f"{_yuan(Money.parse(visited_result['inventory_on_hand']))}; "
                f"{len(photos)} photos kept by digest (sha256 {photos[0]['sha256'][:12]}…); "
                f"concerns: {', '.join(visited_result['concerns']) or 'none'}"
            )
        else:
            analysis = tasks.complete_financial_analysis(
                session, rm, task.id, _statements_csv(cast.newcomer, today)
            )
            result: dict[str, Any] = analysis.result or {}
            ratios = ", ".join(
                f"{name} {_ratio(result, name)}"
                for name in (
                    "current_ratio",
                    "quick_ratio",
                    "debt_to_assets",
                    "dso_days",
                    "interest_coverage",
                )
            )
            reported = Money.parse(result["reported_revenue"]["amount"])
            observed = Money.parse(result["observed_sales"]["amount"])
            findings = "; ".join(f["message"] for f in result["findings"]) or "none"
            report.say(
                f"financial analysis: statements {result['period'][0]} to {result['period'][1]} "
                f"uploaded as CSV; {ratios}"
            )
            report.say(
                f"  revenue cross-check: reported {_yuan(reported)}, sales seen on the platform "
                f"{_yuan(observed)} (invoices net of VAT); findings: {findings}"
            )
    applications.review(
        session,
        maker,
        app.id,
        action="approve",
        note="New customer, long-standing supplier of the core; goods verified on site, "
        "LTV within cap. Recommend.",
        on=today,
    )
    report.say(f"maker: {cast.names[maker.subject_id]} (level 1) recommends approval")
    try:
        with session.begin_nested():
            applications.review(
                session, maker, app.id, action="approve", note="approving my own", on=today
            )
    except ChainfinError as exc:
        report.say(f"  {cast.names[maker.subject_id]} tries to check it too → refused: {exc}")
    condition = (
        f"tripartite warehouse supervision agreement with {cast.warehouse.name} signed "
        "before drawdown"
    )
    approved = applications.review(
        session,
        checker,
        app.id,
        action="approve",
        note="Approved within level 3 authority.",
        conditions=[condition],
        on=today,
    )
    report.say(
        f"checker: {cast.names[checker.subject_id]} (level 3; "
        f"{_yuan(Money(approved.amount_minor))} needs level "
        f"{template(ProductKind.INVENTORY).required_level(approved.amount_minor)}) approves "
        f"with a condition: {condition} → {approved.status}"
    )
    applications.meet_condition(
        session, rm, app.id, 1, note="agreement signed by the warehouse, the borrower and the bank"
    )
    report.say("condition met: the supervision agreement is signed; the loan may be drawn")
    report.referred = {
        "application_id": app.id,
        "status": approved.status,
        "tasks": sorted(t.kind for t in open_tasks),
        "approvals": [a.step for a in applications.approvals_of(session, approved.id)],
        "conditions_met": all(c["met"] for c in approved.conditions),
    }


# ---------------------------------------------------------------------------- money


def _disburse(
    session: Session, cast: _Cast, today: date, out_dir: Path, report: LendingReport
) -> list[Any]:
    file = loans.disburse(
        session,
        cast.rm,
        debtor_name=f"{cast.bank.name} loan settlement",
        debtor_account=_settlement_account(cast.bank),
        debtor_agent=_cnaps(cast.bank),
        execution_on=today,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{cast.bank.code.lower()}-disbursement-{today:%Y%m%d}.pain.001.xml"
    path.write_bytes(file.xml)
    report.pain001_path = path
    report.pain001_problems = iso20022.validate_pain001(path.read_bytes())
    valid = (
        "valid" if not report.pain001_problems else "INVALID: " + "; ".join(report.pain001_problems)
    )
    report.say(
        f"disburse: one pain.001.001.09 file {path} — {file.count} credit transfers, "
        f"{_yuan(Money(file.total_minor))}, executed {today}; against the shipped XSD: {valid}"
    )
    disbursed = list(
        session.scalars(
            select(Loan).where(Loan.disbursement_id == file.id).order_by(Loan.created_at)
        )
    )
    report.disbursed = {loan.id: loan.end_to_end_id for loan in disbursed}
    return disbursed


def _statement(
    session: Session,
    cast: _Cast,
    disbursed: list[Any],
    repaid: Any,
    today: date,
    out_dir: Path,
    report: LendingReport,
) -> bytes:
    """The bank simulator's camt.053 from ``today`` to the first instalment of ``repaid``."""
    first = repaid.schedule[0]
    due = date.fromisoformat(first["due_on"])
    instalment = Money(first["principal_minor"] + first["interest_minor"])
    entries = [
        iso20022.Entry(
            ref=f"{cast.bank.code}{today:%Y%m%d}D{n:04d}",
            amount=Money(loan.principal_minor),
            credit=False,
            status="BOOK",
            booking_date=today,
            value_date=today,
            end_to_end_ids=(loan.end_to_end_id,),
            remittance=(f"Loan {loan.reference}",),
            counterparty_name=loan.payee_name,
            counterparty_account=loan.payee_account,
        )
        for n, loan in enumerate(disbursed, 1)
    ]
    stranger = cast.warehouse
    entries.append(
        iso20022.Entry(
            ref=f"{cast.bank.code}{due:%Y%m%d}C0001",
            amount=Money(38_600_00),
            credit=True,
            status="BOOK",
            booking_date=due - timedelta(days=2),
            value_date=due - timedelta(days=2),
            end_to_end_ids=(),
            remittance=("仓储费 2026 storage fees",),
            counterparty_name=stranger.name,
            counterparty_account=_account(stranger),
        )
    )
    entries.append(
        iso20022.Entry(
            ref=f"{cast.bank.code}{due:%Y%m%d}C0002",
            amount=instalment,
            credit=True,
            status="BOOK",
            booking_date=due,
            value_date=due,
            end_to_end_ids=(),
            remittance=(f"还款 {repaid.reference} 第1期",),
            counterparty_name=repaid.payee_name,
            counterparty_account=repaid.payee_account,
        )
    )
    moved = sum(e.amount.amount_minor * (1 if e.credit else -1) for e in entries)
    closing = OPENING_BALANCE + Money(moved)
    statement = iso20022.Statement(
        id=f"{cast.bank.code}-STMT-{due:%Y%m%d}",
        account=_settlement_account(cast.bank),
        currency="CNY",
        created_at=datetime.combine(due, time(18, 0), CST),
        opening_balance=OPENING_BALANCE,
        closing_balance=closing,
        entries=tuple(entries),
        balances=(
            iso20022.Balance("OPBD", OPENING_BALANCE, today),
            iso20022.Balance("CLBD", closing, due),
        ),
        message_id=f"{cast.bank.code}-CAMT-{due:%Y%m%d}",
    )
    xml = iso20022.write_camt053(statement)
    path = out_dir / f"{cast.bank.code.lower()}-statement-{due:%Y%m%d}.camt.053.xml"
    path.write_bytes(xml)
    report.camt053_path = path
    [back] = iso20022.read_camt053(xml)
    balance = "adds up" if not iso20022.check_balances(back) else "does NOT add up"
    report.say(
        f"bank statement: the bank simulator writes camt.053.001.08 {path} for {today} to {due}: "
        f"{len(disbursed)} disbursement debits, a repayment of {_yuan(instalment)} quoting "
        f"{repaid.reference}, and a storage-fee credit from {stranger.name}; opening "
        f"{_yuan(OPENING_BALANCE)} + credits - debits = closing {_yuan(closing)} ({balance})"
    )
    return xml


def _import_statement(session: Session, cast: _Cast, xml: bytes, report: LendingReport) -> None:
    """The bank's statement arrives the evening of its last day and is reconciled."""
    imported = statements.import_statement(session, cast.rm, xml)
    out = StatementImportOut.build(imported).model_dump(mode="json")
    report.reconciliation = out
    for match in out["matched"]:
        what = (
            f"disbursement of loan {match['loan_id']} confirmed (EndToEndId)"
            if match["kind"] == "disbursement"
            else f"repayment on loan {match['loan_id']} by {match['basis']}: penalty "
            f"{match['repayment']['penalty']}, interest "
            f"{match['repayment']['interest']}, principal "
            f"{match['repayment']['principal']}"
        )
        report.say(f"  matched entry {match['entry']} ({match['amount']}): {what}")
    for miss in out["unmatched"]:
        report.say(
            f"  unmatched entry {miss['entry']} ({miss['amount']}): {miss['reason']} — "
            f"{miss['detail']}"
        )


def _until_scan(
    session: Session,
    cast: _Cast,
    timeline: Timeline,
    paying: list[Loan],
    statement: tuple[date, bytes],
    as_of: date,
    report: LendingReport,
) -> None:
    """Day by day up to ``as_of``: borrowers on direct debit pay each instalment on its due
    date (the dealer does not), and the bank statement is reconciled the evening it ends."""
    debits = sorted(
        (date.fromisoformat(row["due_on"]), loan.reference, loan, row)
        for loan in paying
        for row in loan.schedule
        if date.fromisoformat(row["due_on"]) < as_of
    )
    statement_on, xml = statement
    pending = True
    for due, _ref, loan, row in debits:
        if pending and statement_on < due:
            timeline.on(statement_on, 18, 30)
            _import_statement(session, cast, xml, report)
            pending = False
        timeline.on(due, 9)
        amount = Money(row["principal_minor"] + row["interest_minor"])
        loans.repay(session, cast.rm, loan.id, amount=amount, value_on=due, source="direct_debit")
        report.say(
            f"direct debit {due}: instalment {row['number']} of loan {loan.reference} "
            f"({loan.product_kind}) paid, {_yuan(amount)}"
        )
    if pending:
        timeline.on(statement_on, 18, 30)
        _import_statement(session, cast, xml, report)


def _book(session: Session, cast: _Cast, as_of: date, report: LendingReport) -> None:
    accrued = loans.accrue(session, cast.rm, as_of)
    lower = Money(GLASS_PRICE.amount_minor * 85 // 100)
    set_price(
        session,
        cast.admin,
        item=GLASS,
        on=as_of - timedelta(days=3),
        price=lower,
        unit="t",
        source="platform weekly quote",
    )
    counts = loans.scan(session, cast.rm, as_of)
    report.scan = counts
    report.say(
        f"{as_of} ({SCAN_AFTER.days} days on): interest accrued "
        f"({accrued} journals); {GLASS} quoted {_yuan(lower)}/t (-15%); daily scan of "
        f"{counts['loans']} loans: {counts['overdue']} fell overdue, {counts['downgraded']} "
        f"downgraded, {counts['margin_calls']} margin call(s)"
    )
    report.loan_book = _loan_book(session, cast, as_of, report)
    _alerts_since(session, cast, None, report)


def _loan_book(
    session: Session, cast: _Cast, as_of: date, report: LendingReport
) -> list[dict[str, Any]]:
    book: list[dict[str, Any]] = []
    names = {
        e.id: e.name for e in (cast.receivable, cast.order, cast.newcomer, cast.dealer, cast.core)
    }
    report.say("loan book:")
    for loan in loans.loans(session, cast.rm, limit=MAX_LIMIT).items:
        pos = loans.position(loan, as_of) if loan.start_on else None
        outstanding = pos.principal_outstanding if pos else Money(loan.principal_minor)
        row: dict[str, Any] = {
            "loan_id": loan.id,
            "product": loan.product_kind,
            "borrower": names.get(loan.borrower_id, loan.borrower_id),
            "principal": Money(loan.principal_minor),
            "outstanding": outstanding,
            "status": loan.status,
            "dpd": loan.dpd,
            "category": loan.category,
            "annual_rate_pct": loan.annual_rate,
        }
        book.append(row)
        extra = ""
        if loan.collateral.get("ltv"):
            extra = f", LTV {Decimal(loan.collateral['ltv']):.2%}"
        report.say(
            f"  {loan.product_kind:<21} {row['borrower']}: principal {_yuan(row['principal'])}, "
            f"outstanding {_yuan(outstanding)} at {loan.annual_rate}% — {loan.status}, "
            f"DPD {loan.dpd}, {loan.category}{extra}"
        )
    return book


def _alerts_since(
    session: Session, cast: _Cast, since: datetime | None, report: LendingReport
) -> None:
    query = select(Alert).where(Alert.bank_id == cast.bank.id).order_by(Alert.created_at)
    if since is not None:
        query = query.where(Alert.created_at > since)
    for alert in session.scalars(query):
        report.say(f"  alert {alert.kind} ({alert.severity}): {alert.message}")


def direct_debits(
    session: Session, timeline: Timeline, report: LendingReport, *, through: date
) -> None:
    """Day by day after the scan, through ``through``: the borrowers on direct debit pay
    each instalment on its due date (the dealer still does not)."""
    cast = _cast(session)
    paying = [session.get_one(Loan, loan_id) for loan_id in report.paying_ids]
    debits = sorted(
        (date.fromisoformat(row["due_on"]), loan.reference, loan, row)
        for loan in paying
        for row in loan.schedule
        if report.debit_from <= date.fromisoformat(row["due_on"]) <= through
    )
    for due, _ref, loan, row in debits:
        timeline.on(due, 9)
        amount = Money(row["principal_minor"] + row["interest_minor"])
        loans.repay(session, cast.rm, loan.id, amount=amount, value_on=due, source="direct_debit")
        report.say(
            f"direct debit {due}: instalment {row['number']} of loan {loan.reference} "
            f"({loan.product_kind}) paid, {_yuan(amount)}"
        )
    report.debit_from = max(report.debit_from, through + timedelta(days=1))


def close(session: Session, timeline: Timeline, report: LendingReport) -> None:
    """The demo's last day, whenever the other stories end it: the instalments due by then
    are paid by direct debit, and the daily jobs run, so every loan's status is its status
    on the day the platform shows."""
    cast = _cast(session)
    day, since = timeline.today, timeline.now()
    direct_debits(session, timeline, report, through=day)
    timeline.on(day, 17)
    accrued = loans.accrue(session, cast.rm, day)
    counts = loans.scan(session, cast.rm, day)
    report.say(
        f"{day}, the last day of the story: interest accrued ({accrued} journals); daily scan "
        f"of {counts['loans']} loans: {counts['overdue']} fell overdue, "
        f"{counts['downgraded']} downgraded"
    )
    report.loan_book = _loan_book(session, cast, day, report)
    _alerts_since(session, cast, since, report)
    report.trial_balances[f"{cast.bank.code} (the last day)"] = books.trial_balance(
        session, SYSTEM, cast.bank.code
    )


def run(session: Session, timeline: Timeline, *, out_dir: Path) -> LendingReport:
    """The lending story on the demo database after the credential story, from the
    timeline's day to the daily scan :data:`SCAN_AFTER` later; files (the pain.001 and the
    camt.053) go to ``out_dir``."""
    today = timeline.today
    report = LendingReport()
    cast = _cast(session)
    _set_up(session, cast, today, report)
    _consents(session, cast, report)
    docs = _trade_documents(session, cast, today, report)
    apps = _applications(session, cast, docs, today, report)
    if apps["inventory"].status == "referred":
        _referral(session, cast, apps["inventory"], today, report)
    disbursed = _disburse(session, cast, today, out_dir, report)
    report.bank_code, report.bank_name = cast.bank.code, cast.bank.name
    if registry.link_customers(session, SYSTEM, cast.bank.id, [cast.newcomer.id]):
        report.say(
            f"onboard: {cast.newcomer.name}, paid out its first loan, is now a customer of "
            f"{cast.bank.name}"
        )
    by_app = {loan.application_id: loan for loan in disbursed}
    repaid = by_app.get(apps["order"].id, disbursed[0])
    xml = _statement(session, cast, disbursed, repaid, today, out_dir, report)
    statement_on = date.fromisoformat(repaid.schedule[0]["due_on"])
    as_of = today + SCAN_AFTER
    paying = [by_app[a.id] for k, a in apps.items() if k != "dealer" and a.id in by_app]
    others = [loan for loan in paying if loan is not repaid]
    _until_scan(session, cast, timeline, others, (statement_on, xml), as_of, report)
    timeline.on(as_of, 17)
    report.paying_ids = [loan.id for loan in paying]
    report.debit_from = as_of  # instalments due on the scan's day are not paid yet
    dealer = by_app.get(apps["dealer"].id)
    if dealer is not None:
        report.say(
            f"the dealer's loan {dealer.reference} fell due {dealer.maturity_on} and is not repaid"
        )
    _book(session, cast, as_of, report)
    report.trial_balances[f"{cast.bank.code} (after lending)"] = books.trial_balance(
        session, SYSTEM, cast.bank.code
    )
    count = session.scalar(select(func.count()).select_from(Loan)) or 0
    report.say(f"{count} loans on the platform; the bank's books:")
    return report
