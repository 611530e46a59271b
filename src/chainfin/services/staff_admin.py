"""A bank administrator's work on their own bank: its staff (roles, deactivation,
reactivation), its API clients (create, rotate the secret, revoke), the credit authority
delegated to its staff, and the enterprise administrators waiting for the bank to verify
who they are (services/onboarding.py registers them inactive).

Every function takes the administrator's principal (``users:admin`` of a bank) and acts
on that bank's own users and clients only: anything else is not found. Every change is
audited and goes on the log (services/ledger_records.py ``record_user_change``,
``record_client_change``), in the caller's one transaction.

The rules an administrator meets, in the order they are checked:

- a person who is not a bank's administrator: ``scope_missing`` / ``bank_staff_only``;
- another bank's (or no one's) user or client: ``user_not_found`` / ``client_not_found``;
- removing one's own administrator role: ``self_demotion_refused``;
- giving oneself a role or credit authority (one person would hold both the power to grant
  and what is granted, and could make and check their own credit decision):
  ``self_escalation_refused``;
- deactivating oneself: ``self_deactivation_refused``;
- a client scope a bank's client may not hold: ``scope_not_for_bank_clients``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    ApiClient,
    ApprovalAuthority,
    Bank,
    Chain,
    ChainMember,
    Enterprise,
    SupplierInvitation,
    User,
    UserSession,
)
from chainfin.domain.access import (
    ROLE_SCOPES,
    EnterpriseRole,
    OwnerKind,
    Principal,
    Scope,
    StaffRole,
    parse_scopes,
)
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chainfin.services import audit, auth, scoping
from chainfin.services.ledger_records import record_client_change, record_user_change

ADMIN = StaffRole.ADMIN.value
STAFF_ROLES = tuple(r.value for r in StaffRole)
# What a bank's API client may hold: what its staff's roles grant, but never the power to
# administer people (a machine does not hire or dismiss).
BANK_CLIENT_SCOPES: frozenset[Scope] = frozenset(
    scope for role in StaffRole for scope in ROLE_SCOPES[role]
) - {Scope.USERS_ADMIN}


def _bank(actor: Principal) -> str:
    actor.require(Scope.USERS_ADMIN)
    return scoping.bank_of(actor, "a bank's administrator administers its staff and clients")


# ---------------------------------------------------------------------------- staff


@dataclass(frozen=True)
class StaffMember:
    user: User
    live_sessions: int
    authority_level: int | None


def staff(session: Session, actor: Principal) -> list[StaffMember]:
    """The bank's people, active first, by name; with their live sessions and authority."""
    bank_id = _bank(actor)
    users = list(
        session.scalars(
            select(User).where(User.bank_id == bank_id).order_by(User.display_name, User.id)
        )
    )
    now = utcnow()
    counts: dict[str, int] = dict(
        session.execute(
            select(UserSession.user_id, func.count())
            .join(User, User.id == UserSession.user_id)
            .where(
                User.bank_id == bank_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .group_by(UserSession.user_id)
        ).all()
    )
    levels: dict[str, int] = dict(
        session.execute(
            select(ApprovalAuthority.user_id, ApprovalAuthority.level).where(
                ApprovalAuthority.bank_id == bank_id
            )
        ).all()
    )
    rows = [StaffMember(u, counts.get(u.id, 0), levels.get(u.id)) for u in users]
    return sorted(rows, key=lambda m: not m.user.active)


def staff_member(session: Session, actor: Principal, user_id: str) -> User:
    """One of the bank's people, locked; another bank's or no one's: not found."""
    bank_id = _bank(actor)
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.bank_id != bank_id:
        raise NotFound(f"no staff member {user_id!r} at this bank", code="user_not_found")
    return user


def staff_roles(roles: list[str]) -> list[str]:
    """The roles chosen, checked: at least one, each a bank staff role."""
    if not roles or any(r not in STAFF_ROLES for r in roles):
        raise ValidationFailed(
            [FieldError("roles", f"choose from {', '.join(STAFF_ROLES)}")], code="roles_invalid"
        )
    return sorted(set(roles))


def set_staff_roles(session: Session, actor: Principal, user_id: str, roles: list[str]) -> User:
    """Give a staff member new roles. Fewer scopes take effect at once (a token never
    carries more than its subject holds today); more at their next sign-in. An
    administrator cannot take their own administrator role away."""
    wanted = staff_roles(roles)
    user = staff_member(session, actor, user_id)
    if user.id == actor.subject_id and ADMIN not in wanted:
        raise Conflict(
            "you cannot remove your own administrator role",
            hint="Ask another administrator of your bank to change your roles.",
            code="self_demotion_refused",
        )
    if user.id == actor.subject_id and set(wanted) - set(user.roles):
        raise Conflict(
            "you cannot give yourself a role",
            hint="Ask another administrator of your bank to change your roles.",
            code="self_escalation_refused",
        )
    before = list(user.roles)
    if before == wanted:
        return user
    user.roles = wanted
    audit.record(
        session, actor, "user.roles_changed", "user", user.id, {"from": before, "to": wanted}
    )
    record_user_change(session, actor, user)
    return user


def deactivate_staff(session: Session, actor: Principal, user_id: str) -> User:
    """They can no longer sign in; every token they hold is refused from its next request
    (the principal is re-loaded on every request) and their sessions are ended."""
    user = staff_member(session, actor, user_id)
    if user.id == actor.subject_id:
        raise Conflict(
            "you cannot deactivate yourself",
            hint="Ask another administrator of your bank.",
            code="self_deactivation_refused",
        )
    if not user.active:
        return user
    user.active = False
    auth.end_sessions(session, user.id)
    audit.record(session, actor, "user.deactivated", "user", user.id)
    record_user_change(session, actor, user)
    return user


def reactivate_staff(session: Session, actor: Principal, user_id: str) -> User:
    """Let a deactivated staff member sign in again. Tokens issued before now stay refused
    (as after a password change): they sign in afresh."""
    user = staff_member(session, actor, user_id)
    if user.active:
        return user
    user.active = True
    user.tokens_valid_after = datetime.fromtimestamp(int(utcnow().timestamp()) + 1, UTC)
    user.failed_sign_ins, user.locked_until = 0, None
    audit.record(session, actor, "user.reactivated", "user", user.id)
    record_user_change(session, actor, user)
    return user


def create_staff(
    session: Session,
    actor: Principal,
    *,
    username: str,
    display_name: str,
    roles: list[str],
    password: str,
) -> User:
    """A new staff member of the administrator's bank (auth.create_user), with an initial
    password the administrator hands over."""
    bank_id = _bank(actor)
    code = session.scalar(select(Bank.code).where(Bank.id == bank_id))
    return auth.create_user(
        session,
        actor,
        username=username,
        password=password,
        roles=roles,
        display_name=display_name,
        bank_code=code,
    )


# ---------------------------------------------------------------------------- authority


def grant_authority(session: Session, actor: Principal, user_id: str, level: int) -> int:
    """Delegate (or change) credit authority through lending.products.grant_authority, for
    one of the bank's active people (by id: a username is never guessed at)."""
    from chainfin.services.lending import products

    user = staff_member(session, actor, user_id)
    if not user.active:
        raise NotFound(f"no active staff member {user_id!r}", code="user_not_found")
    if user.id == actor.subject_id:
        raise Conflict(
            "you cannot grant yourself credit authority",
            hint="Ask another administrator of your bank to grant it.",
            code="self_escalation_refused",
        )
    return products.grant_authority(session, actor, user=user.id, level=level).level


# ---------------------------------------------------------------------------- pending


@dataclass(frozen=True)
class PendingAdmin:
    user: User
    firm: Enterprise
    invited_by: str | None  # the inviting firm's name, when an invitation registered them


def _linked_firms(bank_id: str) -> ColumnElement[bool]:
    """Firms linked to the bank: its customers, members of chains it defined, and firms its
    customers invited (a customer's supplier)."""
    customers = scoping.customer_ids(bank_id)
    members = select(ChainMember.enterprise_id).join(Chain, Chain.id == ChainMember.chain_id)
    invited = select(SupplierInvitation.invitee_id).where(
        SupplierInvitation.inviter_id.in_(customers)
    )
    return or_(
        Enterprise.id.in_(customers),
        Enterprise.id.in_(members.where(Chain.bank_id == bank_id)),
        Enterprise.id.in_(invited),
    )


def _pending_query(bank_id: str) -> Select[User, Enterprise]:
    return (
        select(User, Enterprise)
        .join(Enterprise, Enterprise.id == User.enterprise_id)
        .where(
            User.kind == "enterprise",
            User.active.is_(False),
            _linked_firms(bank_id),
            # waiting for verification: registered through a link, never signed in
            User.id.in_(select(SupplierInvitation.registered_user_id)),
            User.last_sign_in_at.is_(None),
        )
    )


def pending_admins(session: Session, actor: Principal) -> list[PendingAdmin]:
    """Enterprise administrators registered through a supplier invitation and waiting for
    verification, of firms linked to the administrator's bank; oldest first."""
    bank_id = _bank(actor)
    rows = session.execute(_pending_query(bank_id).order_by(User.created_at, User.id)).all()
    out = []
    for user, firm in rows:
        if EnterpriseRole.ENTERPRISE_ADMIN.value not in user.roles:
            continue
        inviter = session.scalar(
            select(Enterprise.name)
            .join(SupplierInvitation, SupplierInvitation.inviter_id == Enterprise.id)
            .where(SupplierInvitation.registered_user_id == user.id)
        )
        out.append(PendingAdmin(user, firm, inviter))
    return out


def activate_pending(session: Session, actor: Principal, user_id: str) -> User:
    """What ``chainfin users activate`` does, by the bank that verified who they are."""
    bank_id = _bank(actor)
    found = session.execute(
        _pending_query(bank_id).where(User.id == user_id).with_for_update()
    ).first()
    if found is None or EnterpriseRole.ENTERPRISE_ADMIN.value not in found[0].roles:
        raise NotFound(f"no administrator {user_id!r} awaits your bank", code="user_not_found")
    user: User = found[0]
    user.active = True
    audit.record(session, actor, "user.activated", "user", user.id, {"verified_by": bank_id})
    record_user_change(session, actor, user)
    return user


# ---------------------------------------------------------------------------- clients


def clients(session: Session, actor: Principal) -> list[ApiClient]:
    """The bank's API clients, active first, by name."""
    bank_id = _bank(actor)
    rows = session.scalars(
        select(ApiClient).where(ApiClient.bank_id == bank_id).order_by(ApiClient.name, ApiClient.id)
    )
    return sorted(rows, key=lambda c: not c.active)


def _client(session: Session, actor: Principal, client_id: str) -> ApiClient:
    bank_id = _bank(actor)
    row = session.get(ApiClient, client_id, with_for_update=True)
    if row is None or row.bank_id != bank_id:
        raise NotFound(f"no client {client_id!r} of this bank", code="client_not_found")
    return row


def create_client(
    session: Session, actor: Principal, *, name: str, scopes: list[str]
) -> auth.NewClient:
    """A client of the administrator's bank (auth.create_client), with scopes a bank's
    client may hold; the secret is in the answer only."""
    bank_id = _bank(actor)
    errors = []
    name = name.strip()
    if not name or len(name) > 200:
        errors.append(FieldError("name", "must be 1 to 200 characters"))
    try:
        wanted = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationFailed([FieldError("scopes", str(exc))], code="scope_unknown") from None
    if not wanted:
        errors.append(FieldError("scopes", "at least one scope is required"))
    elif not wanted <= BANK_CLIENT_SCOPES:
        extra = ", ".join(sorted(s.value for s in wanted - BANK_CLIENT_SCOPES))
        errors.append(FieldError("scopes", f"not for a bank's client: {extra}"))
    if errors:
        code = "scope_not_for_bank_clients" if wanted - BANK_CLIENT_SCOPES else None
        raise ValidationFailed(errors, code=code)
    code_of_bank = session.scalar(select(Bank.code).where(Bank.id == bank_id)) or ""
    return auth.create_client(
        session,
        actor,
        name=name,
        owner_kind=OwnerKind.BANK,
        owner=code_of_bank,
        scopes=sorted(s.value for s in wanted),
    )


def rotate_secret(session: Session, actor: Principal, client_id: str) -> str:
    """A new secret for an active client; the old one stops working at once (tokens it
    already obtained run until they expire). The new secret is in the answer only."""
    row = _client(session, actor, client_id)
    if not row.active:
        raise Conflict("this client is revoked", code="client_revoked")
    secret = secrets.token_urlsafe(32)
    row.secret_hash = auth.hash_secret(secret)
    audit.record(session, actor, "client.secret_rotated", "client", row.id)
    record_client_change(session, actor, row, "client.secret_rotated")
    return secret


def revoke_client(session: Session, actor: Principal, client_id: str) -> ApiClient:
    """The client can no longer get a token, and every token it holds is refused at once."""
    row = _client(session, actor, client_id)
    if not row.active:
        return row
    row.active = False
    audit.record(session, actor, "client.revoked", "client", row.id)
    record_client_change(session, actor, row)
    return row
