"""Load a synthetic region into the database, with demo users for each kind of person.

Everything goes through the registry services that file imports use (deduplication, bank
and platform links, audit), in one transaction: a failure leaves the database as it was.
The generator's records are valid by construction; its tests check every USCC, region and
industry code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from time import perf_counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Bank, Enterprise, TradeDocumentRow
from chainfin.demo.synthetic import SyntheticRegion
from chainfin.demo.trade_history import TradeHistory
from chainfin.domain.access import SYSTEM, EnterpriseRole, OwnerKind, StaffRole
from chainfin.domain.documents import to_row
from chainfin.domain.errors import Conflict
from chainfin.domain.registry import Role
from chainfin.services import auth, chains, documents, receivables, registry

DEMO_PASSWORD = "chainfin-demo-2026"  # noqa: S105 - published demo credential, demo data only
STAFF_TITLES = {  # the demo staff's display names: the bank's name and the person's post
    StaffRole.ADMIN: "系统管理员",
    StaffRole.RELATIONSHIP_MANAGER: "客户经理",
    StaffRole.RISK_OFFICER: "风险经理",
    StaffRole.APPROVER: "审批人",
    StaffRole.AUDITOR: "审计员",
    StaffRole.STRATEGIST: "总行战略部",
}
_STAFF = (
    ("admin", StaffRole.ADMIN),
    ("rm", StaffRole.RELATIONSHIP_MANAGER),
    ("risk", StaffRole.RISK_OFFICER),
    ("approver", StaffRole.APPROVER),
    ("auditor", StaffRole.AUDITOR),
    ("strategy", StaffRole.STRATEGIST),
)


@dataclass
class SeedReport:
    enterprises: int = 0
    relations: int = 0
    banks: int = 0
    chains: int = 0
    chain_members: int = 0
    users: list[tuple[str, str]] = field(default_factory=list)  # (username, what it is)
    clients: list[tuple[str, str, str]] = field(default_factory=list)  # (id, secret, owner)
    seconds: dict[str, float] = field(default_factory=dict)


def seed(session: Session, region: SyntheticRegion, *, with_users: bool = True) -> SeedReport:
    report = SeedReport()
    t0 = perf_counter()
    registry.import_enterprises(session, SYSTEM, region.enterprises)
    report.enterprises = len(region.enterprises)
    report.seconds["enterprises"] = perf_counter() - t0

    t0 = perf_counter()
    for bank in region.banks:
        registry.create_bank(session, SYSTEM, bank)
    session.flush()
    banks = {b.code: b for b in session.scalars(select(Bank))}
    report.banks = len(region.banks)
    ids = registry.ids_by_uscc(session, (e.uscc for e in region.enterprises))
    per_bank: dict[str, list[str]] = defaultdict(list)
    for bank_code, uscc in region.customers:
        per_bank[bank_code].append(ids[uscc])
    for bank_code, members in per_bank.items():
        registry.link_customers(session, SYSTEM, banks[bank_code].id, members)
    report.seconds["banks"] = perf_counter() - t0

    t0 = perf_counter()
    registry.import_relations(session, SYSTEM, region.relations)
    report.relations = len(region.relations)
    report.seconds["relations"] = perf_counter() - t0

    t0 = perf_counter()
    customers_of: dict[str, set[str]] = defaultdict(set)
    for bank_code, uscc in region.customers:
        customers_of[uscc].add(bank_code)
    created: list[str] = []
    for chain in region.chains:
        lead_banks = sorted(set.intersection(*(customers_of[c] for c in chain.core_usccs)))
        for bank_code in lead_banks:
            summary = chains.create_chain(
                session,
                SYSTEM,
                name=chain.name,
                core_usccs=chain.core_usccs,
                industry_code=chain.industry_code,
                region_code=chain.region_code,
                max_tier=chain.max_tier,
                bank_id=banks[bank_code].id,
                compute=False,
            )
            created.append(summary.chain.id)
    report.chain_members = chains.recompute_tiers(session, created)
    report.chains = len(created)
    report.seconds["chains"] = perf_counter() - t0

    if with_users:
        t0 = perf_counter()
        _demo_users(session, region, report)
        report.seconds["users (argon2)"] = perf_counter() - t0
    return report


def _demo_users(session: Session, region: SyntheticRegion, report: SeedReport) -> None:
    for bank in region.banks:
        for suffix, role in _STAFF:
            username = f"{bank.code.lower()}-{suffix}"
            auth.create_user(
                session,
                SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                roles=[role.value],
                bank_code=bank.code,
                display_name=f"{bank.name}{STAFF_TITLES[role]}",
            )
            report.users.append((username, f"{bank.name} · {role.value}"))
    by_role: dict[Role, list[Enterprise]] = defaultdict(list)
    for ent in session.scalars(select(Enterprise).order_by(Enterprise.uscc)):
        for role_name in ent.roles:
            by_role[Role(role_name)].append(ent)
    picks = [("core", by_role[Role.CORE][:3]), ("supplier", by_role[Role.SUPPLIER][:2])]
    for label, ents in picks:
        for i, ent in enumerate(ents, start=1):
            username = f"{label}{i}-admin"
            auth.create_user(
                session,
                SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                roles=[EnterpriseRole.ENTERPRISE_ADMIN.value],
                enterprise_uscc=ent.uscc,
                display_name=f"{ent.name} 管理员",
            )
            report.users.append((username, f"{ent.name} · enterprise_admin"))
    first_bank = region.banks[0]
    client = auth.create_client(
        session,
        SYSTEM,
        name=f"{first_bank.name} core banking",
        owner_kind=OwnerKind.BANK,
        owner=first_bank.code,
        scopes=["registry:read"],
    )
    report.clients.append((client.client_id, client.client_secret, first_bank.name))


@dataclass
class HistoryReport:
    documents: int = 0
    registrations: int = 0
    refused_registrations: int = 0
    planted: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def load_history(session: Session, history: TradeHistory, *, batch: int = 5000) -> HistoryReport:
    """Load a generated trade history through the same services an integrator uses. The
    ground truth is not loaded: the caller writes it to a file."""
    report = HistoryReport(planted=len(history.truth))
    t0 = perf_counter()
    for uscc, (rep, address, phone) in sorted(history.contact_overrides.items()):
        registry.update_contacts(
            session, SYSTEM, uscc, legal_representative=rep, address=address, phone=phone
        )
    rows = [to_row(doc) for doc in history.documents]
    for i in range(0, len(rows), batch):
        parsed = documents.parse_rows(rows[i : i + batch], first_row=i + 1)
        documents.ingest(session, SYSTEM, parsed)
    report.documents = len(rows)
    report.seconds["documents"] = perf_counter() - t0
    t0 = perf_counter()
    banks = {b.code: b.id for b in session.scalars(select(Bank))}
    invoice_ids = dict(
        session.execute(
            select(TradeDocumentRow.invoice_number, TradeDocumentRow.id).where(
                TradeDocumentRow.kind == "invoice"
            )
        ).all()
    )
    for bank_code, financing_id, number in history.financings:
        doc_id = invoice_ids.get(number)
        if doc_id is None or bank_code not in banks:
            continue
        try:
            with session.begin_nested():
                receivables.register(
                    session,
                    SYSTEM,
                    invoice_document_id=doc_id,
                    kind="pledge",
                    financing_ref=financing_id,
                    bank_id=banks[bank_code],
                )
            report.registrations += 1
        except Conflict:
            report.refused_registrations += 1  # the registry stopped a double financing
    report.seconds["registry"] = perf_counter() - t0
    return report
