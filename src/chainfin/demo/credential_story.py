"""The demo's credential story, told through the same services the API uses: a core
enterprise confirms a payable and issues a credential; it is split and passed to tier 2
and tier 3; the tier-3 supplier discounts its piece at a funder bank; at maturity the core
pays and every holder is paid its piece; the books balance.

:func:`run` tells the story up to the financing, on the timeline's day; :func:`mature`
moves the timeline to the payment date and settles, after the other stories have run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank, Chain, ChainCore, Enterprise, SupplyRelation
from chainfin.demo.timeline import Timeline
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.books import TrialBalance
from chainfin.domain.money import Money
from chainfin.services import books, credentials, documents, rates


@dataclass
class StoryReport:
    lines: list[str] = field(default_factory=list)
    trial_balances: dict[str, TrialBalance] = field(default_factory=dict)
    credential_id: str = ""
    core_id: str = ""
    bank_code: str = ""
    face: Money = field(default_factory=Money.zero)
    payment_on: date = date.max

    def say(self, text: str) -> None:
        self.lines.append(text)


def _user(enterprise_id: str) -> Principal:
    return Principal.enterprise_user(
        f"demo:{enterprise_id}",
        enterprise_id=enterprise_id,
        roles=[EnterpriseRole.ENTERPRISE_ADMIN],
    )


def _path(session: Session) -> tuple[Bank, Enterprise, list[Enterprise]]:
    """A bank's chain with a core enterprise and suppliers three tiers deep."""
    sellers: dict[str, list[str]] = {}
    for buyer, seller in session.execute(
        select(SupplyRelation.buyer_id, SupplyRelation.seller_id).order_by(SupplyRelation.id)
    ):
        sellers.setdefault(buyer, []).append(seller)
    for chain, core_id in session.execute(
        select(Chain, ChainCore.enterprise_id)
        .join(ChainCore, ChainCore.chain_id == Chain.id)
        .order_by(Chain.name)
    ):
        for t1 in sellers.get(core_id, []):
            for t2 in sellers.get(t1, []):
                for t3 in sellers.get(t2, []):
                    if len({core_id, t1, t2, t3}) == 4:
                        bank = session.get(Bank, chain.bank_id)
                        core = session.get(Enterprise, core_id)
                        tiers = [session.get(Enterprise, e) for e in (t1, t2, t3)]
                        if bank and core and all(tiers):
                            return bank, core, [t for t in tiers if t is not None]
    raise LookupError("no chain in the region has suppliers three tiers deep")


def run(session: Session, timeline: Timeline) -> StoryReport:
    """Confirm, issue, split, pass down and finance, on the timeline's day."""
    today = timeline.today
    report = StoryReport()
    rates.load_bundled(session, SYSTEM)
    bank, core, (t1, t2, t3) = _path(session)
    staff = Principal.staff("demo:staff", bank_id=bank.id, roles=[StaffRole.RELATIONSHIP_MANAGER])
    core_user, t1_user, t2_user, t3_user = (_user(e.id) for e in (core, t1, t2, t3))
    face = Money(2_000_000_00)

    issued = today - timedelta(days=6)
    parsed = documents.parse_rows(
        [
            {
                "kind": "invoice",
                "number": "DEMO-CRED-INV-1",
                "seller_uscc": t1.uscc,
                "buyer_uscc": core.uscc,
                "issue_date": issued.isoformat(),
                "currency": "CNY",
                "total": "2260000.00",
                "tax": "260000.00",
                # a 全电 number: the year it was issued, the seller's province, a sequence
                "invoice_number": f"{issued.year % 100:02d}{t1.region_code[:2]}0000000000009001",
                "due_date": (today + timedelta(days=90)).isoformat(),
            }
        ]
    )
    doc_id = str(documents.ingest(session, t1_user, parsed).rows[0].document_id)
    documents.confirm(session, core_user, doc_id)
    payable = credentials.confirm(
        session,
        core_user,
        supplier=t1.uscc,
        amount=face,
        due_on=today + timedelta(days=90),
        document_ids=[doc_id],
    )
    report.say(
        f"确权: {core.name} confirms it owes {t1.name} {face} (invoice DEMO-CRED-INV-1, "
        "buyer-confirmed)"
    )
    programme = credentials.create_programme(
        session,
        staff,
        core=core.uscc,
        name=f"{core.name}供应商债权凭证计划",
        line=Money(50_000_000_00),
        rating="AA+",
        min_piece=Money(1_000_00),
    )
    report.say(f"programme: {bank.code} backs {core.name} with a line of 50000000.00 CNY (AA+)")
    credential = credentials.issue(
        session,
        core_user,
        programme_id=programme.id,
        confirmation_ids=[payable.id],
        amount=face,
        maturity_on=today + timedelta(days=175),
        issued_on=today,
    )
    root = credentials.tree(session, core_user, credential.id)[0]
    credentials.accept(session, t1_user, root.id)
    report.say(
        f"issue: credential {credential.id} for {face}, matures {credential.maturity_on}, paid "
        f"{credential.payment_on}"
        + (
            " (provisional: that year's official holidays are not published yet)"
            if credential.payment_provisional
            else ""
        )
    )
    _kept, onward = credentials.split(
        session, t1_user, root.id, [Money(1_200_000_00), Money(800_000_00)]
    )
    to_t2 = credentials.transfer(session, t1_user, onward.id, to=t2.uscc).offered
    credentials.accept(session, t2_user, to_t2.id)
    to_t3 = credentials.transfer(
        session, t2_user, to_t2.id, to=t3.uscc, amount=Money(300_000_00)
    ).offered
    credentials.accept(session, t3_user, to_t3.id)
    report.say(
        f"split and pass down: tier 1 {t1.name} keeps 1200000.00, passes 800000.00 to tier 2 "
        f"{t2.name}, who passes 300000.00 to tier 3 {t3.name}"
    )
    quote = credentials.quote(session, t3_user, to_t3.id, bank=bank.code, as_of=today)
    terms = quote.terms
    fees = ", ".join(f"{f['name']} {f['amount']['amount']}" for f in terms["fees"])
    report.say(
        f"quote from {bank.code}: LPR {terms['base_rate']}% (fixing {terms['fixing']['fixed_on']})"
        f" + {terms['spread_bp']} bp = {terms['discount_rate']}% for {terms['days']} days "
        f"({terms['day_count']}); discount {terms['discount_interest']['amount']}; fees {fees}; "
        f"net {terms['net_proceeds']['amount']}; all-in {terms['all_in_rate']}% a year"
    )
    for warning in terms["warnings"]:
        report.say(f"  warning: {warning}")
    financing = credentials.finance(session, t3_user, quote.id)
    report.say(
        f"finance: {t3.name} receives {Money(financing.net_minor)} today; the piece passes to "
        f"{bank.code} and is registered ({financing.registration_id})"
    )
    report.trial_balances["platform (before maturity)"] = books.trial_balance(
        session, SYSTEM, "platform"
    )
    report.credential_id, report.core_id, report.bank_code = credential.id, core.id, bank.code
    report.face, report.payment_on = face, credential.payment_on
    return report


def mature(session: Session, timeline: Timeline, report: StoryReport) -> None:
    """On the credential's payment date the core pays; every holder gets its piece."""
    credential = credentials.get(session, SYSTEM, report.credential_id)
    core = session.get_one(Enterprise, report.core_id)
    timeline.on(credential.payment_on, 10)
    credentials.accrue(session, SYSTEM, credential.payment_on)
    payment = credentials.settle(
        session,
        _user(core.id),
        credential.id,
        amount=report.face,
        payment_ref="DEMO-MATURITY",
        paid_on=credential.payment_on,
    )
    paid = ", ".join(f"{a['holder_id']} {Money(a['principal_minor'])}" for a in payment.allocations)
    report.say(
        f"maturity {credential.payment_on}: {core.name} pays {report.face}; holders paid: {paid}"
    )
    report.trial_balances[f"{report.bank_code} (after maturity)"] = books.trial_balance(
        session, SYSTEM, report.bank_code
    )
