"""Who is asking, and what they may do: principals, roles, scopes.

A principal is built by the services layer from a verified token (or, for the operator's
CLI, as :data:`SYSTEM`). Tenancy is carried on the principal: bank staff and bank-owned
clients act for one bank; enterprise users and enterprise-owned clients for one enterprise;
platform clients for one industrial internet platform. Platform operators' people (kind
``operator``) belong to no tenant: a platform operator writes the platform's own reference
data (named price sources), a platform auditor reads every ledger entry; neither reads a
tenant's records through the services.

>>> p = Principal.staff("usr_x", bank_id="bnk_1", roles={StaffRole.AUDITOR})
>>> p.has(Scope.REGISTRY_READ), p.has(Scope.REGISTRY_WRITE)
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from chainfin.domain.errors import Forbidden


class PrincipalKind(StrEnum):
    STAFF = "staff"
    ENTERPRISE_USER = "enterprise"
    CLIENT = "client"
    OPERATOR = "operator"  # the platform operator's people: no tenant (see PlatformRole)
    SYSTEM = "system"


class StaffRole(StrEnum):
    RELATIONSHIP_MANAGER = "relationship_manager"
    RISK_OFFICER = "risk_officer"
    APPROVER = "approver"
    ADMIN = "admin"
    AUDITOR = "auditor"
    STRATEGIST = "strategist"  # head office strategy (总行战略): regional chain analysis


class EnterpriseRole(StrEnum):
    ENTERPRISE_ADMIN = "enterprise_admin"
    FINANCE_STAFF = "finance_staff"


class PlatformRole(StrEnum):
    """Roles of the platform operator's people: not a bank's, not an enterprise's."""

    PLATFORM_OPERATOR = "platform_operator"
    PLATFORM_AUDITOR = "platform_auditor"


class OwnerKind(StrEnum):
    BANK = "bank"
    ENTERPRISE = "enterprise"
    PLATFORM = "platform"


class Scope(StrEnum):
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"
    CONSENT_MANAGE = "consent:manage"
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_WRITE = "documents:write"
    CREDENTIALS_READ = "credentials:read"
    CREDENTIALS_WRITE = "credentials:write"
    FINANCING_WRITE = "financing:write"
    BOOKS_READ = "books:read"
    LOANS_READ = "loans:read"
    LOANS_APPLY = "loans:apply"
    LOANS_WRITE = "loans:write"
    LOANS_APPROVE = "loans:approve"
    STRATEGY_READ = "strategy:read"  # regional chain maps, measures, ranking, leads, report
    STRATEGY_WRITE = "strategy:write"  # import the bank's market data for the analysis
    # Platform operators only (they count only on an ``operator`` principal, never on a
    # bank's, an enterprise's or a platform client's, whatever scopes it was given).
    PLATFORM_PRICES = "platform:prices"
    PLATFORM_AUDIT = "platform:audit"


ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    StaffRole.RELATIONSHIP_MANAGER: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.REGISTRY_WRITE,
            Scope.DOCUMENTS_READ,
            Scope.CREDENTIALS_READ,
            Scope.FINANCING_WRITE,
            Scope.BOOKS_READ,
            Scope.LOANS_READ,
            Scope.LOANS_WRITE,
        }
    ),
    StaffRole.RISK_OFFICER: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.DOCUMENTS_READ,
            Scope.CREDENTIALS_READ,
            Scope.BOOKS_READ,
            Scope.LOANS_READ,
            Scope.LOANS_APPROVE,
            Scope.STRATEGY_READ,
        }
    ),
    StaffRole.APPROVER: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.DOCUMENTS_READ,
            Scope.CREDENTIALS_READ,
            Scope.FINANCING_WRITE,
            Scope.LOANS_READ,
            Scope.LOANS_APPROVE,
        }
    ),
    StaffRole.ADMIN: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.REGISTRY_WRITE,
            Scope.USERS_ADMIN,
            Scope.FINANCING_WRITE,
            Scope.LOANS_READ,
            Scope.LOANS_WRITE,
        }
    ),
    StaffRole.AUDITOR: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.AUDIT_READ,
            Scope.CREDENTIALS_READ,
            Scope.BOOKS_READ,
            Scope.LOANS_READ,
        }
    ),
    StaffRole.STRATEGIST: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.CREDENTIALS_READ,
            Scope.LOANS_READ,
            Scope.STRATEGY_READ,
            Scope.STRATEGY_WRITE,
        }
    ),
    EnterpriseRole.ENTERPRISE_ADMIN: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.REGISTRY_WRITE,
            Scope.USERS_ADMIN,
            Scope.CONSENT_MANAGE,
            Scope.DOCUMENTS_READ,
            Scope.DOCUMENTS_WRITE,
            Scope.CREDENTIALS_READ,
            Scope.CREDENTIALS_WRITE,
            Scope.LOANS_READ,
            Scope.LOANS_APPLY,
        }
    ),
    EnterpriseRole.FINANCE_STAFF: frozenset(
        {
            Scope.REGISTRY_READ,
            Scope.DOCUMENTS_READ,
            Scope.DOCUMENTS_WRITE,
            Scope.CREDENTIALS_READ,
            Scope.CREDENTIALS_WRITE,
            Scope.LOANS_READ,
            Scope.LOANS_APPLY,
        }
    ),
    PlatformRole.PLATFORM_OPERATOR: frozenset({Scope.PLATFORM_PRICES}),
    PlatformRole.PLATFORM_AUDITOR: frozenset(
        {Scope.PLATFORM_AUDIT, Scope.AUDIT_READ, Scope.BOOKS_READ}
    ),
}

PLATFORM_SCOPES = frozenset({Scope.PLATFORM_PRICES, Scope.PLATFORM_AUDIT})
"""Scopes that mean something only on a platform operator's principal."""


def scopes_for_roles(roles: Iterable[str]) -> frozenset[Scope]:
    out: set[Scope] = set()
    for role in roles:
        out |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(out)


def parse_scopes(text: Iterable[str]) -> frozenset[Scope]:
    """Scopes from strings; an unknown scope is an error, never silently dropped."""
    out: set[Scope] = set()
    for item in text:
        try:
            out.add(Scope(item))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {item!r} (known: {known})") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    subject_id: str
    bank_id: str | None = None
    enterprise_id: str | None = None
    platform_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @classmethod
    def staff(cls, user_id: str, *, bank_id: str, roles: Iterable[StaffRole]) -> Principal:
        role_set = frozenset(str(r) for r in roles)
        return cls(
            PrincipalKind.STAFF,
            user_id,
            bank_id=bank_id,
            roles=role_set,
            scopes=scopes_for_roles(role_set),
        )

    @classmethod
    def enterprise_user(
        cls, user_id: str, *, enterprise_id: str, roles: Iterable[EnterpriseRole]
    ) -> Principal:
        role_set = frozenset(str(r) for r in roles)
        return cls(
            PrincipalKind.ENTERPRISE_USER,
            user_id,
            enterprise_id=enterprise_id,
            roles=role_set,
            scopes=scopes_for_roles(role_set),
        )

    @classmethod
    def operator(cls, user_id: str, *, roles: Iterable[PlatformRole]) -> Principal:
        """One of the platform operator's people (no tenant)."""
        role_set = frozenset(str(r) for r in roles)
        return cls(
            PrincipalKind.OPERATOR, user_id, roles=role_set, scopes=scopes_for_roles(role_set)
        )

    @property
    def is_system(self) -> bool:
        return self.kind is PrincipalKind.SYSTEM

    @property
    def is_operator(self) -> bool:
        """One of the platform operator's people (not the CLI's :data:`SYSTEM`)."""
        return self.kind is PrincipalKind.OPERATOR

    def platform_may(self, scope: Scope) -> bool:
        """A platform operator's power: the CLI, or an operator principal with ``scope``."""
        return self.is_system or (self.is_operator and scope in self.scopes)

    @property
    def acts_for_bank(self) -> bool:
        return self.bank_id is not None

    @property
    def acts_for_enterprise(self) -> bool:
        return self.enterprise_id is not None

    @property
    def acts_for_platform(self) -> bool:
        return self.platform_id is not None

    def has(self, scope: Scope) -> bool:
        return self.is_system or scope in self.scopes

    def require(self, scope: Scope) -> None:
        if not self.has(scope):
            raise Forbidden(
                f"this action needs the {scope.value!r} scope",
                hint="Ask your administrator for a role or client scope that grants it.",
                code="scope_missing",
            )

    @property
    def label(self) -> str:
        """How the audit trail names this principal."""
        return f"{self.kind.value}:{self.subject_id}"


SYSTEM = Principal(PrincipalKind.SYSTEM, "operator", scopes=frozenset(Scope))
"""The machine operator using the CLI: no tenant restriction, every scope."""
