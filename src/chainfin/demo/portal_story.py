"""The demo's people: the firms of the demo story sign in to the portal, and on the story's
last day each finds work waiting, so that every journey of the enterprise portal
(docs/portal.md) can be walked in ``make demo``.

The firms are the stories' own (:func:`chainfin.demo.credential_story._path` and
:func:`chainfin.demo.lending_story._cast`): the core enterprise, its suppliers three tiers
deep, the lending story's two borrowers and its newcomer, and the dealer. On the last day,
through the same services the pages use:

- a second bank joins the core's credential programme (the lead bank invites, the core
  approves, the bank accepts with its line), so a supplier can compare two banks' quotes;
- the tier-1 supplier sends the core two invoices, which wait for the core's confirmation,
  and one the core confirms, owes (确权) and pays with two credentials: one accepted by tier 1,
  who passes part of it to tier 2 (accepted), and one still offered to tier 1;
- tier 2 holds a piece it can pass to tier 3 or to a firm it invites;
- a credential issued weeks ago on an invoice and a confirmation of its own, accepted by
  tier 1, matures on the last day (on the working day before it, when that is a rest day):
  the core's payment run has it to pay on the day ``make demo`` serves.

:func:`run` returns the users and what each can do, for ``chainfin demo run`` to print."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    Credential,
    CredentialProgramme,
    Enterprise,
    ProgrammeFunder,
    User,
)
from chainfin.demo.credential_story import _path
from chainfin.demo.lending_story import _cast
from chainfin.demo.seed import DEMO_PASSWORD
from chainfin.demo.timeline import Timeline
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.money import Money
from chainfin.domain.uscc import make_uscc
from chainfin.domain.workcal import NoSchedule
from chainfin.services import auth, credentials, documents, workcal

SECOND_FUNDER_LINE = Money(30_000_000_00)
ISSUED = Money(1_800_000_00)
PASSED_TO_TIER2 = Money(500_000_00)
OFFERED = Money(600_000_00)
DUE = Money(320_000_00)  # matures on the story's last day: the payment run's work
DUE_TENOR_DAYS = 60


@dataclass
class PortalReport:
    users: list[tuple[str, str]] = field(default_factory=list)  # username, who and what to try
    lines: list[str] = field(default_factory=list)
    invite_example: str = ""  # a valid USCC no firm on the platform has
    awaiting: list[str] = field(default_factory=list)  # invoice numbers the core is to confirm
    due_credential_id: str = ""  # in the core's payment run on the last day

    def say(self, text: str) -> None:
        self.lines.append(text)


def _firm_user(session: Session, username: str, ent: Enterprise, person: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = auth.create_user(
            session,
            SYSTEM,
            username=username,
            password=DEMO_PASSWORD,
            roles=[EnterpriseRole.ENTERPRISE_ADMIN.value],
            enterprise_uscc=ent.uscc,
            display_name=person,
        )
    return Principal.enterprise_user(
        user.id, enterprise_id=ent.id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


def _second_funder(
    session: Session, programme: CredentialProgramme, lead: Principal, core: Principal
) -> Bank | None:
    """Another bank joins the programme through the owners' acts; None if none can."""
    funders = set(
        session.scalars(
            select(ProgrammeFunder.bank_id).where(ProgrammeFunder.programme_id == programme.id)
        )
    )
    for bank in session.scalars(select(Bank).order_by(Bank.code)):
        if bank.id in funders or bank.id == programme.lead_bank_id:
            continue
        staff = Principal.staff(
            f"demo:{bank.code.lower()}", bank_id=bank.id, roles=[StaffRole.RELATIONSHIP_MANAGER]
        )
        invitation = credentials.invite(session, lead, programme.id, bank=bank.code)
        credentials.approve_invitation(session, core, invitation.id)
        credentials.accept_invitation(session, staff, invitation.id, line=SECOND_FUNDER_LINE)
        return bank
    return None


def _invoice(
    session: Session,
    seller: Principal,
    seller_ent: Enterprise,
    buyer: Enterprise,
    n: int,
    day: date,
) -> str:
    net, tax = Money(1_000_000_00 * n), Money(130_000_00 * n)
    parsed = documents.parse_rows(
        [
            {
                "kind": "invoice",
                "number": _number(day, n),
                "seller_uscc": seller_ent.uscc,
                "buyer_uscc": buyer.uscc,
                "issue_date": day.isoformat(),
                "currency": "CNY",
                "total": (net + tax).to_decimal_string(),
                "tax": tax.to_decimal_string(),
                "invoice_number": f"{day.year % 100:02d}{seller_ent.region_code[:2]}"
                f"00000000000{day:%m%d}{n}",
                "due_date": (day + timedelta(days=90)).isoformat(),
            }
        ]
    )
    return str(documents.ingest(session, seller, parsed).rows[0].document_id)


def _number(day: date, n: int) -> str:
    return f"DEMO-PORTAL-INV-{day:%Y%m%d}-{n}"


def _due_maturity(session: Session, programme: CredentialProgramme, today: date) -> date:
    """The latest maturity whose payment date (rolled on the working-day calendar) is not
    after ``today``: today itself when it is a working day."""
    cal = workcal.calendar(session)
    for back in range(15):
        day = today - timedelta(days=back)
        try:
            if cal.roll(day, programme.roll_convention).date <= today:
                return day
        except NoSchedule:
            return today
    return today


def _free_uscc(session: Session, region_code: str) -> str:
    """A valid code no enterprise on the platform has: what a supplier types to invite a
    firm that is not yet here."""
    for n in range(1, 1000):
        code = make_uscc("9", "1", region_code, f"PT{n:06d}")
        if session.scalar(select(Enterprise.id).where(Enterprise.uscc == code)) is None:
            return code
    raise LookupError("no free USCC in 999 tries")


def _due_credential(
    session: Session,
    programme: CredentialProgramme,
    core: Enterprise,
    t1: Enterprise,
    core_user: Principal,
    t1_user: Principal,
    today: date,
) -> Credential:
    """A credential issued weeks ago on an invoice and a confirmation of its own, accepted
    by tier 1, whose payment date is today: the payment run's work on the last day."""
    maturity = _due_maturity(session, programme, today)
    issued = maturity - timedelta(days=DUE_TENOR_DAYS)
    invoice = _invoice(session, t1_user, t1, core, 4, issued)
    documents.confirm(session, core_user, invoice)
    payable = credentials.confirm(
        session, core_user, supplier=t1.uscc, amount=DUE, due_on=maturity, document_ids=[invoice]
    )
    due = credentials.issue(
        session,
        core_user,
        programme_id=programme.id,
        confirmation_ids=[payable.id],
        amount=DUE,
        maturity_on=maturity,
        issued_on=issued,
    )
    root = credentials.tree(session, core_user, due.id)[0]
    credentials.accept(session, t1_user, root.id)
    return due


def run(session: Session, timeline: Timeline) -> PortalReport:
    report = PortalReport()
    today = timeline.today
    bank, core, (t1, t2, t3) = _path(session)
    cast = _cast(session)
    people = [
        ("core-treasury", core, "王海", "the core's treasury: confirm invoices, 确权, issue, pay"),
        ("tier1", t1, "陈静", "tier-1 supplier: accept, pass on, compare quotes, finance"),
        ("tier2", t2, "刘洋", "tier-2 supplier: pass to tier 3 or invite a supplier"),
        ("tier3", t3, "周婷", "tier-3 supplier: its credential history and quotes"),
        ("borrower", cast.receivable, "李娜", "receivable-financing borrower: apply for a loan"),
        ("borrower2", cast.order, "张伟", "order-financing borrower"),
        ("newcomer", cast.newcomer, "黄磊", "a supplier new to the bank: consent, documents"),
        ("dealer", cast.dealer, "赵敏", "dealer: prepayment financing and goods released"),
    ]
    users: dict[str, Principal] = {}
    seen: set[str] = set()
    for username, ent, person, what in people:
        if ent.id in seen:  # a firm plays two parts in a small region: one user for it
            continue
        seen.add(ent.id)
        users[username] = _firm_user(session, username, ent, person)
        report.users.append((username, f"{ent.name} · {what}"))

    programme = session.scalars(
        select(CredentialProgramme)
        .where(CredentialProgramme.core_enterprise_id == core.id)
        .order_by(CredentialProgramme.id)
    ).first()
    if programme is None:
        raise LookupError(f"{core.name} has no credential programme: run the credential story")
    lead = Principal.staff(
        f"demo:{bank.code.lower()}", bank_id=bank.id, roles=[StaffRole.RELATIONSHIP_MANAGER]
    )
    core_user, t1_user, t2_user = users["core-treasury"], users["tier1"], users["tier2"]
    second = _second_funder(session, programme, lead, core_user)
    if second is not None:
        report.say(
            f"programme: {second.name} joins {bank.name}'s programme for {core.name} "
            f"with a line of {SECOND_FUNDER_LINE} (invited, approved by the core, accepted)"
        )

    for n in (1, 2):  # they wait for the core's confirmation
        _invoice(session, t1_user, t1, core, n, today)
        report.awaiting.append(_number(today, n))
    paid_with = _invoice(session, t1_user, t1, core, 3, today)
    documents.confirm(session, core_user, paid_with)
    payable = credentials.confirm(
        session,
        core_user,
        supplier=t1.uscc,
        amount=ISSUED + OFFERED,
        due_on=today + timedelta(days=90),
        document_ids=[paid_with],
    )
    maturity = today + timedelta(days=90)
    held = credentials.issue(
        session,
        core_user,
        programme_id=programme.id,
        confirmation_ids=[payable.id],
        amount=ISSUED,
        maturity_on=maturity,
        issued_on=today,
    )
    root = credentials.tree(session, core_user, held.id)[0]
    credentials.accept(session, t1_user, root.id)
    passed = credentials.transfer(
        session, t1_user, root.id, to=t2.uscc, amount=PASSED_TO_TIER2
    ).offered
    credentials.accept(session, t2_user, passed.id)
    credentials.issue(
        session,
        core_user,
        programme_id=programme.id,
        confirmation_ids=[payable.id],
        amount=OFFERED,
        maturity_on=maturity,
        issued_on=today,
    )
    report.say(
        f"portal: {t1.name} sent {core.name} two invoices awaiting confirmation; the core "
        f"confirmed a third, owes {ISSUED + OFFERED} on it and issued {ISSUED} (accepted; "
        f"{PASSED_TO_TIER2} passed to {t2.name}) and {OFFERED} (offered to {t1.name}), "
        f"maturing {maturity}"
    )
    due = _due_credential(session, programme, core, t1, core_user, t1_user, today)
    report.due_credential_id = due.id
    report.say(
        f"portal: {core.name} has to confirm invoices {', '.join(report.awaiting)} of "
        f"{t1.name} (the newest at the top of 待确认发票)"
    )
    report.say(
        f"portal: a credential of {DUE} issued on {due.issued_on} to {t1.name} (accepted) is "
        f"paid on {due.payment_on}: it is in {core.name}'s payment run (到期日历) today"
    )
    report.invite_example = _free_uscc(session, t2.region_code)
    return report
