"""Who a principal is, in words a person reads: the firm's or the bank's name, the person's
display name and roles, the banks an enterprise works with; and the names of the parties a
page mentions, for the ids the resources carry.

Names follow the same scoping as the records they name: an enterprise's name is shown to
whoever may read that enterprise (:func:`chainfin.services.scoping.enterprise_condition`)
or a credential it issued (:func:`chainfin.services.credentials.credential_condition`: the
core's name is on the credential every tier holds), and a holder's to the issuer of what it
holds (the core pays every holder at maturity, tier 3 included); banks are public to every
signed-in principal (:func:`chainfin.services.registry.list_banks`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    BankCustomer,
    ConsentGrant,
    Credential,
    CredentialPiece,
    CredentialProgramme,
    CreditLine,
    Enterprise,
    ProgrammeFunder,
    User,
)
from chainfin.domain.access import Principal
from chainfin.services.credentials import credential_condition
from chainfin.services.scoping import enterprise_condition


@dataclass(frozen=True)
class BankName:
    id: str
    code: str
    name: str


@dataclass(frozen=True)
class Identity:
    """The signed-in person and the firm they act for."""

    username: str
    display_name: str
    kind: str  # staff, enterprise, operator, client
    roles: tuple[str, ...]
    firm_name: str  # the enterprise's or the bank's name; "" for the operator's people
    uscc: str | None  # the enterprise's (or the bank's) USCC
    bank: BankName | None  # the bank a staff member works for
    banks: tuple[BankName, ...]  # the banks an enterprise works with, by name
    firm_roles: tuple[str, ...] = ()  # the enterprise's roles in its chains: core, dealer, …
    unread: int = 0  # notifications the person has not read (the pages' menu shows it)

    @property
    def person(self) -> str:
        return self.display_name or self.username

    @property
    def is_core(self) -> bool:
        """A core enterprise: it confirms its payables and issues credentials."""
        return "core" in self.firm_roles

    @property
    def is_dealer(self) -> bool:
        """A dealer downstream of a core: it finances prepayments for the core's goods."""
        return "dealer" in self.firm_roles


def whoami(session: Session, actor: Principal) -> Identity:
    user = session.get(User, actor.subject_id)
    username = user.username if user is not None else actor.subject_id
    display = user.display_name if user is not None else ""
    roles = tuple(sorted(actor.roles))
    if actor.bank_id is not None:
        bank = session.get(Bank, actor.bank_id)
        if bank is not None:
            ent = session.get(Enterprise, bank.enterprise_id)
            own = BankName(bank.id, bank.code, bank.name)
            uscc = ent.uscc if ent is not None else None
            return Identity(username, display, actor.kind, roles, bank.name, uscc, own, ())
    if actor.enterprise_id is not None:
        ent = session.get(Enterprise, actor.enterprise_id)
        if ent is not None:
            banks = banks_of(session, ent.id)
            firm_roles = tuple(sorted(ent.roles or ()))
            return Identity(
                username, display, actor.kind, roles, ent.name, ent.uscc, None, banks, firm_roles
            )
    return Identity(username, display, actor.kind, roles, "", None, None, ())


def banks_of(session: Session, enterprise_id: str) -> tuple[BankName, ...]:
    """The banks an enterprise works with: it is their customer, it granted them consent,
    they lend to it, or they fund a credential programme it runs as the core."""
    ids = (
        select(BankCustomer.bank_id)
        .where(BankCustomer.enterprise_id == enterprise_id)
        .union(
            select(ConsentGrant.bank_id).where(
                ConsentGrant.enterprise_id == enterprise_id, ConsentGrant.revoked_at.is_(None)
            ),
            select(CreditLine.bank_id).where(CreditLine.obligor_id == enterprise_id),
            select(ProgrammeFunder.bank_id).where(
                ProgrammeFunder.programme_id.in_(
                    select(CredentialProgramme.id).where(
                        CredentialProgramme.core_enterprise_id == enterprise_id
                    )
                )
            ),
        )
    )
    rows = session.scalars(select(Bank).where(Bank.id.in_(ids)).order_by(Bank.code))
    return tuple(BankName(b.id, b.code, b.name) for b in rows)


def party_names(session: Session, actor: Principal, ids: Iterable[str]) -> dict[str, str]:
    """Names of the enterprises and banks among ``ids`` that ``actor`` may know by name (an
    id it may not see stays out of the answer; pages then show the id)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for bank in session.scalars(
        select(Bank).where(or_(Bank.id.in_(wanted), Bank.enterprise_id.in_(wanted)))
    ):
        out[bank.id] = bank.name
        out[bank.enterprise_id] = bank.name
    issuers = select(Credential.issuer_id).where(credential_condition(actor))
    known = [enterprise_condition(actor), Enterprise.id.in_(issuers)]
    if actor.enterprise_id is not None:
        # an issuer knows who holds what it will pay, however far down the tiers
        holders = (
            select(CredentialPiece.holder_id)
            .join(Credential, Credential.id == CredentialPiece.credential_id)
            .where(Credential.issuer_id == actor.enterprise_id)
        )
        known.append(Enterprise.id.in_(holders))
    rest = wanted - out.keys()
    if rest:
        rows = session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(rest), or_(*known))
        )
        out.update({row.id: row.name for row in rows})
    return out
