"""Authentication: argon2-hashed passwords and client secrets, signed bearer tokens.

Tokens are short-lived JWTs (HS256, ``CHAINFIN_SECRET_KEY``). Every request re-loads the
user or client the token names, so deactivating one takes effect at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import ApiClient, Bank, Enterprise, Platform, User
from chainfin.domain import clock
from chainfin.domain.access import (
    EnterpriseRole,
    OwnerKind,
    Principal,
    PrincipalKind,
    Scope,
    StaffRole,
    parse_scopes,
    scopes_for_roles,
)
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.services import audit, ledger
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    scopes: frozenset[Scope]


def _verify(hash_: str, secret: str) -> bool:
    try:
        return _hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def _resolve_bank(session: Session, code: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.code == code))
    if bank is None:
        raise NotFound(f"no bank with code {code!r}")
    return bank


def _resolve_enterprise(session: Session, uscc: str) -> Enterprise:
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if ent is None:
        raise NotFound(f"no enterprise with USCC {uscc!r}")
    return ent


def create_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    password: str,
    roles: list[str],
    display_name: str | None = None,
    bank_code: str | None = None,
    enterprise_uscc: str | None = None,
) -> User:
    """Create bank staff (``bank_code``) or an enterprise user (``enterprise_uscc``)."""
    actor.require(Scope.USERS_ADMIN)
    errors: list[FieldError] = []
    if (bank_code is None) == (enterprise_uscc is None):
        errors.append(FieldError("tenant", "give exactly one of a bank or an enterprise"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD} characters"))
    if not username or len(username) > 100 or not username.isprintable() or " " in username:
        errors.append(FieldError("username", "1-100 printable characters without spaces"))
    allowed = {r.value for r in (StaffRole if bank_code else EnterpriseRole)}
    bad = [r for r in roles if r not in allowed]
    if bad or not roles:
        errors.append(
            FieldError("roles", f"choose from {', '.join(sorted(allowed))}; got {roles or 'none'}")
        )
    if errors:
        raise ValidationFailed(errors)
    bank_id = enterprise_id = None
    if bank_code is not None:
        bank_id = _resolve_bank(session, bank_code).id
        if not actor.is_system and actor.bank_id != bank_id:
            raise NotFound(f"no bank with code {bank_code!r}")
    if enterprise_uscc is not None:
        enterprise_id = _resolve_enterprise(session, enterprise_uscc).id
        if not actor.is_system and actor.enterprise_id != enterprise_id:
            raise NotFound(f"no enterprise with USCC {enterprise_uscc!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken")
    user = User(
        id=new_id("user"),
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        kind="staff" if bank_id else "enterprise",
        bank_id=bank_id,
        enterprise_id=enterprise_id,
        roles=sorted(set(roles)),
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    ledger.one(session, actor, "user.created", Change("user", row_of(user)))
    audit.record(session, actor, "user.create", "user", user.id, {"roles": user.roles})
    return user


def create_client(
    session: Session,
    actor: Principal,
    *,
    name: str,
    owner_kind: OwnerKind,
    owner: str,
    scopes: list[str],
) -> NewClient:
    """Register an OAuth2 client-credentials client. The secret is shown once, stored hashed.
    ``owner`` is a bank code, an enterprise USCC or a platform code."""
    actor.require(Scope.USERS_ADMIN)
    try:
        scope_set = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationFailed([FieldError("scopes", str(exc))]) from None
    if not scope_set:
        raise ValidationFailed([FieldError("scopes", "at least one scope is required")])
    bank_id = enterprise_id = platform_id = None
    if owner_kind is OwnerKind.BANK:
        bank_id = _resolve_bank(session, owner).id
    elif owner_kind is OwnerKind.ENTERPRISE:
        enterprise_id = _resolve_enterprise(session, owner).id
    else:
        platform = session.scalar(select(Platform).where(Platform.code == owner))
        if platform is None:
            raise NotFound(f"no platform with code {owner!r}")
        platform_id = platform.id
    if not actor.is_system and (
        (bank_id and bank_id != actor.bank_id)
        or (enterprise_id and enterprise_id != actor.enterprise_id)
        or platform_id
    ):
        raise NotFound(f"no {owner_kind.value} {owner!r}")
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        id=new_id("client"),
        name=name,
        secret_hash=_hasher.hash(secret),
        owner_kind=owner_kind.value,
        bank_id=bank_id,
        enterprise_id=enterprise_id,
        platform_id=platform_id,
        scopes=sorted(s.value for s in scope_set),
        active=True,
        created_at=utcnow(),
    )
    session.add(client)
    ledger.one(session, actor, "client.created", Change("client", row_of(client)))
    audit.record(session, actor, "client.create", "client", client.id, {"scopes": client.scopes})
    return NewClient(client.id, secret, scope_set)


def principal_for_user(user: User) -> Principal:
    roles = frozenset(user.roles)
    kind = PrincipalKind.STAFF if user.kind == "staff" else PrincipalKind.ENTERPRISE_USER
    return Principal(
        kind,
        user.id,
        bank_id=user.bank_id,
        enterprise_id=user.enterprise_id,
        roles=roles,
        scopes=scopes_for_roles(roles),
    )


def principal_for_client(client: ApiClient) -> Principal:
    return Principal(
        PrincipalKind.CLIENT,
        client.id,
        bank_id=client.bank_id,
        enterprise_id=client.enterprise_id,
        platform_id=client.platform_id,
        scopes=parse_scopes(client.scopes),
    )


def authenticate_password(session: Session, username: str, password: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _verify(_DUMMY_HASH, password)  # same cost whether or not the user exists
        raise Unauthenticated("wrong username or password")
    if not _verify(user.password_hash, password) or not user.active:
        raise Unauthenticated("wrong username or password")
    return principal_for_user(user)


def authenticate_client(session: Session, client_id: str, secret: str) -> Principal:
    client = session.get(ApiClient, client_id)
    if client is None:
        _verify(_DUMMY_HASH, secret)
        raise Unauthenticated("unknown client or wrong secret")
    if not _verify(client.secret_hash, secret) or not client.active:
        raise Unauthenticated("unknown client or wrong secret")
    return principal_for_client(client)


def issue_token(
    principal: Principal,
    *,
    key: str,
    ttl_seconds: int,
    issuer: str,
    requested_scopes: list[str] | None = None,
) -> IssuedToken:
    """Sign a token; a client may ask for a subset of its scopes, never more."""
    scopes = principal.scopes
    if requested_scopes:
        try:
            wanted = parse_scopes(requested_scopes)
        except ValueError as exc:
            raise ValidationFailed([FieldError("scope", str(exc))]) from None
        if not wanted <= principal.scopes:
            extra = ", ".join(sorted(s.value for s in wanted - principal.scopes))
            raise ValidationFailed([FieldError("scope", f"not granted to this client: {extra}")])
        scopes = wanted
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": principal.subject_id,
        "knd": principal.kind.value,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": secrets.token_hex(8),
        "scope": " ".join(sorted(s.value for s in scopes)),
    }
    token = jwt.encode(claims, key, algorithm="HS256")
    return IssuedToken(token, ttl_seconds, claims["scope"])


def principal_from_token(session: Session, token: str, *, key: str, issuer: str) -> Principal:
    """Verify signature, expiry and issuer, then load the subject so that a deactivated user
    or client is refused immediately."""
    try:
        # Expiry is checked against chainfin's clock, not PyJWT's reading of the wall clock.
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            issuer=issuer,
            options={
                "require": ["exp", "sub"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        raise Unauthenticated("the access token is not valid") from None
    expires = claims["exp"]
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise Unauthenticated("the access token is not valid")
    if expires <= clock.epoch_seconds():
        raise Unauthenticated("the access token has expired")
    subject, kind = str(claims["sub"]), claims.get("knd")
    granted = parse_scopes(str(claims.get("scope", "")).split())
    if kind == PrincipalKind.CLIENT.value:
        client = session.get(ApiClient, subject)
        if client is None or not client.active:
            raise Unauthenticated("the client is no longer active")
        base = principal_for_client(client)
    else:
        user = session.get(User, subject)
        if user is None or not user.active:
            raise Unauthenticated("the user is no longer active")
        base = principal_for_user(user)
    # A token never carries more than the subject holds today.
    return Principal(
        base.kind,
        base.subject_id,
        bank_id=base.bank_id,
        enterprise_id=base.enterprise_id,
        platform_id=base.platform_id,
        roles=base.roles,
        scopes=base.scopes & granted,
    )
