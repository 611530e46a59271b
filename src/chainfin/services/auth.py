"""Authentication: argon2-hashed passwords and client secrets, signed bearer tokens.

Tokens are short-lived JWTs signed with Ed25519 (JWS ``EdDSA``, a ``kid`` header naming the
key in ``token_keys``; see services/token_keys.py). Every request re-loads the user or
client the token names, so deactivating one takes effect at once; a revoked token (its
``jti`` on the denylist) and a user's token issued before their last password change
(``tokens_valid_after``) are refused. Signing in — argon2 outside any transaction,
throttling, lockout — is services/signin.py.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    ApiClient,
    Bank,
    Enterprise,
    Platform,
    RevokedToken,
    User,
    UserSession,
)
from chainfin.domain import clock
from chainfin.domain.access import (
    PLATFORM_SCOPES,
    EnterpriseRole,
    OwnerKind,
    PlatformRole,
    Principal,
    PrincipalKind,
    Scope,
    StaffRole,
    parse_scopes,
    scopes_for_roles,
)
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from chainfin.domain.ids import new_id
from chainfin.services import audit, ledger, token_keys
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import record_user_change, row_of

_hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None
MIN_PASSWORD = 12


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret
    jti: str = ""  # the token's id: what a session row, the denylist and revocation name


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    scopes: frozenset[Scope]


def verify_secret(hash_: str, secret: str) -> bool:
    """Argon2 verification (CPU-bound, tens of milliseconds): call it outside any
    transaction (see services/signin.py)."""
    try:
        return _hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def dummy_hash() -> str:
    """A hash with the current parameters, to verify unknown names against so that they
    cost the same time as known ones."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("timing-equaliser"))
    return _dummy[1]


def hash_password(password: str) -> str:
    """Check the password rules and hash it (outside any transaction: argon2 is slow)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            [FieldError("password", f"must be at least {MIN_PASSWORD} characters")],
            code="password_too_short",
        )
    return _hasher.hash(password)


def hash_secret(secret: str) -> str:
    """A client secret hashed as :func:`create_client` hashes it (a rotated secret)."""
    return _hasher.hash(secret)


def _resolve_bank(session: Session, code: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.code == code))
    if bank is None:
        raise NotFound(f"no bank with code {code!r}", code="bank_not_found")
    return bank


def _resolve_enterprise(session: Session, uscc: str) -> Enterprise:
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if ent is None:
        raise NotFound(f"no enterprise with USCC {uscc!r}", code="enterprise_not_found")
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
    active: bool = True,
) -> User:
    """Create bank staff (``bank_code``), an enterprise user (``enterprise_uscc``) or, with
    neither and a platform role, one of the platform operator's people (the operator only).
    ``active=False``: the user cannot sign in until activated (:func:`activate_user`)."""
    actor.require(Scope.USERS_ADMIN)
    errors: list[FieldError] = []
    operator = bank_code is None and enterprise_uscc is None
    if operator and not actor.is_system:
        raise Forbidden(
            "the platform operator's people are created by the operator", code="operator_only"
        )
    if bank_code is not None and enterprise_uscc is not None:
        errors.append(FieldError("tenant", "give exactly one of a bank or an enterprise"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD} characters"))
    if not username or len(username) > 100 or not username.isprintable() or " " in username:
        errors.append(FieldError("username", "1-100 printable characters without spaces"))
    roles_of = PlatformRole if operator else StaffRole if bank_code else EnterpriseRole
    allowed = {r.value for r in roles_of}
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
            raise NotFound(f"no bank with code {bank_code!r}", code="bank_not_found")
    if enterprise_uscc is not None:
        enterprise_id = _resolve_enterprise(session, enterprise_uscc).id
        if not actor.is_system and actor.enterprise_id != enterprise_id:
            raise NotFound(
                f"no enterprise with USCC {enterprise_uscc!r}", code="enterprise_not_found"
            )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken", code="username_taken")
    user = User(
        id=new_id("user"),
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        kind="operator" if operator else "staff" if bank_id else "enterprise",
        bank_id=bank_id,
        enterprise_id=enterprise_id,
        roles=sorted(set(roles)),
        active=active,
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
        raise ValidationFailed([FieldError("scopes", str(exc))], code="scope_unknown") from None
    if not scope_set:
        raise ValidationFailed(
            [FieldError("scopes", "at least one scope is required")], code="scope_required"
        )
    if scope_set & PLATFORM_SCOPES:
        raise ValidationFailed(
            [FieldError("scopes", "platform:* scopes belong to the platform operator's people")],
            code="scope_reserved",
        )
    bank_id = enterprise_id = platform_id = None
    if owner_kind is OwnerKind.BANK:
        bank_id = _resolve_bank(session, owner).id
    elif owner_kind is OwnerKind.ENTERPRISE:
        enterprise_id = _resolve_enterprise(session, owner).id
    else:
        platform = session.scalar(select(Platform).where(Platform.code == owner))
        if platform is None:
            raise NotFound(f"no platform with code {owner!r}", code="platform_not_found")
        platform_id = platform.id
    if not actor.is_system and (
        (bank_id and bank_id != actor.bank_id)
        or (enterprise_id and enterprise_id != actor.enterprise_id)
        or platform_id
    ):
        raise NotFound(f"no {owner_kind.value} {owner!r}", code="client_owner_not_found")
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
    kind = PrincipalKind(user.kind)  # staff, enterprise or operator
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


def issue_token(
    principal: Principal,
    *,
    signer: token_keys.Signer,
    ttl_seconds: int,
    issuer: str,
    requested_scopes: list[str] | None = None,
    not_before: datetime | None = None,
    jti: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Sign a token; a client may ask for a subset of its scopes, never more.

    ``not_before`` is the user's ``tokens_valid_after``: ``iat`` is never earlier, so a
    token issued in the second of a password change is not refused with the older ones.
    ``jti`` and ``expires_at`` are those of a session recorded before the token is handed
    out (services/sessions.py); by default a fresh id and ``ttl_seconds`` from now."""
    scopes = principal.scopes
    if requested_scopes:
        try:
            wanted = parse_scopes(requested_scopes)
        except ValueError as exc:
            raise ValidationFailed([FieldError("scope", str(exc))], code="scope_unknown") from None
        if not wanted <= principal.scopes:
            extra = ", ".join(sorted(s.value for s in wanted - principal.scopes))
            raise ValidationFailed(
                [FieldError("scope", f"not granted to this client: {extra}")],
                code="scope_not_granted",
            )
        scopes = wanted
    now = utcnow()
    issued_at = int(now.timestamp())
    if not_before is not None:
        issued_at = max(issued_at, _epoch(not_before))
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": principal.subject_id,
        "knd": principal.kind.value,
        "iat": issued_at,
        "exp": int((expires_at or now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": jti or new_jti(),
        "scope": " ".join(sorted(s.value for s in scopes)),
    }
    token = jwt.encode(
        claims, signer.key, algorithm=token_keys.ALGORITHM, headers={"kid": signer.kid}
    )
    return IssuedToken(token, ttl_seconds, claims["scope"], jti=claims["jti"])


def new_jti() -> str:
    return secrets.token_hex(16)


def _epoch(instant: datetime) -> int:
    """Whole seconds, rounded up: ``tokens_valid_after`` is kept on a second boundary."""
    return math.ceil(instant.timestamp())


def _verified_claims(session: Session, token: str, issuer: str) -> dict[str, Any]:
    """Signature (EdDSA only, by a key that may still verify), issuer and expiry, on
    chainfin's clock. HS256, ``alg: none``, a missing or unknown ``kid`` are refused."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("the access token is not valid", code="token_invalid") from None
    kid = header.get("kid")
    if header.get("alg") != token_keys.ALGORITHM or not isinstance(kid, str) or len(kid) > 64:
        raise Unauthenticated("the access token is not valid", code="token_invalid")
    key = token_keys.verifying_key(session, kid)
    if key is None:
        raise Unauthenticated("the access token is not valid", code="token_invalid")
    try:
        # Expiry is checked against chainfin's clock, not PyJWT's reading of the wall clock.
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[token_keys.ALGORITHM],
            issuer=issuer,
            options={
                "require": ["exp", "sub", "iat", "jti"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        raise Unauthenticated("the access token is not valid", code="token_invalid") from None
    for name in ("exp", "iat"):
        value = claims[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise Unauthenticated("the access token is not valid", code="token_invalid")
    if not isinstance(claims["jti"], str):
        raise Unauthenticated("the access token is not valid", code="token_invalid")
    if claims["exp"] <= clock.epoch_seconds():
        raise Unauthenticated("the access token has expired", code="token_expired")
    return claims


def principal_from_token(session: Session, token: str, *, issuer: str) -> Principal:
    """Verify signature, expiry and issuer; refuse a revoked token; then load the subject so
    that a deactivated user or client, or a token from before the user's last password
    change, is refused immediately."""
    claims = _verified_claims(session, token, issuer)
    if session.get(RevokedToken, claims["jti"]) is not None:
        raise Unauthenticated("the access token has been revoked", code="token_revoked")
    subject, kind = str(claims["sub"]), claims.get("knd")
    granted = parse_scopes(str(claims.get("scope", "")).split())
    if kind == PrincipalKind.CLIENT.value:
        client = session.get(ApiClient, subject)
        if client is None or not client.active:
            raise Unauthenticated("the client is no longer active", code="principal_inactive")
        base = principal_for_client(client)
    else:
        user = session.get(User, subject)
        if user is None or not user.active:
            raise Unauthenticated("the user is no longer active", code="principal_inactive")
        cutoff = user.tokens_valid_after
        if cutoff is not None and claims["iat"] < _epoch(cutoff):
            raise Unauthenticated(
                "the access token has been revoked (the password changed)", code="token_revoked"
            )
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


# ------------------------------------------------------------------ revocation, passwords


@dataclass(frozen=True)
class Revocable:
    jti: str
    subject_id: str
    expires_at: datetime


def revocable(session: Session, token: str, *, issuer: str) -> Revocable | None:
    """RFC 7009, the read half: a valid token not yet revoked, or None (an invalid, expired
    or already revoked token is not an error: the endpoint answers 200 anyway). Reading
    first means a stream of garbage sent to the endpoint never takes the write lock."""
    try:
        claims = _verified_claims(session, token, issuer)
    except Unauthenticated:
        return None
    if session.get(RevokedToken, claims["jti"]) is not None:
        return None
    return Revocable(
        claims["jti"], str(claims["sub"])[:32], datetime.fromtimestamp(claims["exp"], UTC)
    )


def revoke(session: Session, token: Revocable) -> bool:
    """The write half: put the token's ``jti`` on the denylist until it expires; prune
    entries whose tokens have expired anyway. Returns whether this call revoked it."""
    token_keys.prune_revoked(session)
    if session.get(RevokedToken, token.jti) is not None:
        return False
    session.add(
        RevokedToken(
            jti=token.jti,
            subject_id=token.subject_id,
            expires_at=token.expires_at,
            revoked_at=utcnow(),
        )
    )
    # the person's list of sessions shows it ended (a token of a client has no row)
    session.execute(
        update(UserSession)
        .where(UserSession.jti == token.jti, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.flush()
    return True


def end_sessions(session: Session, user_id: str, *, keep: str | None = None) -> None:
    """Stamp every session of the user ended but ``keep``: after a password change (whose
    cut-off already refuses their tokens) or when the user is deactivated (refused too)."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.jti != keep)
    session.execute(query.values(revoked_at=utcnow()))


def _user_by_name(session: Session, actor: Principal, username: str) -> User:
    """The user, if ``actor`` administers users of the user's tenant (else not found)."""
    actor.require(Scope.USERS_ADMIN)
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None or not (
        actor.is_system
        or (user.bank_id is not None and user.bank_id == actor.bank_id)
        or (user.enterprise_id is not None and user.enterprise_id == actor.enterprise_id)
    ):
        raise NotFound(f"no user {username!r}", code="user_not_found")
    return user


def change_password(session: Session, actor: Principal, username: str, password_hash: str) -> User:
    """Set a new password (hashed beforehand with :func:`hash_password`, outside the
    transaction) and refuse every token issued to the user before now. Ends a lockout."""
    user = _user_by_name(session, actor, username)
    _set_password(session, actor, user, password_hash)
    return user


def change_own_password(session: Session, actor: Principal, password_hash: str) -> User:
    """A person sets their own new password (the current one checked beforehand, as a
    sign-in checks it: api/signin.py). Every token issued to them so far stops working."""
    user = session.get(User, actor.subject_id, with_for_update=True)
    if user is None or not user.active or actor.kind is PrincipalKind.CLIENT:
        raise NotFound("no such user", code="user_not_found")
    _set_password(session, actor, user, password_hash)
    return user


def _set_password(session: Session, actor: Principal, user: User, password_hash: str) -> None:
    user.password_hash = password_hash
    # The next whole second: every token issued so far has an earlier iat (tokens carry
    # whole seconds), and a token issued from now on gets at least this iat.
    user.tokens_valid_after = datetime.fromtimestamp(int(utcnow().timestamp()) + 1, UTC)
    user.failed_sign_ins, user.locked_until = 0, None
    end_sessions(session, user.id)
    audit.record(session, actor, "user.password_changed", "user", user.id)
    # On the log: a salted digest of the new hash and the new token cut-off (ledger verify).
    record_user_change(session, actor, user, "user.password_changed")


def unlock_user(session: Session, actor: Principal, username: str) -> User:
    """End a lockout and reset the failure counter."""
    user = _user_by_name(session, actor, username)
    was = user.locked_until
    user.failed_sign_ins, user.locked_until = 0, None
    audit.record(
        session,
        actor,
        "user.unlocked",
        "user",
        user.id,
        {"was_locked_until": was.isoformat() if was else None},
    )
    return user


# ------------------------------------------------------------------ an enterprise's colleagues

ENTERPRISE_ADMIN = EnterpriseRole.ENTERPRISE_ADMIN.value


def _firm_of(actor: Principal) -> str:
    """The enterprise whose people ``actor`` administers (its enterprise administrator)."""
    actor.require(Scope.USERS_ADMIN)
    if actor.enterprise_id is None:
        raise Forbidden(
            "an enterprise's administrator manages its colleagues", code="enterprise_user_only"
        )
    return actor.enterprise_id


def colleagues(session: Session, actor: Principal) -> list[User]:
    """The people of the administrator's enterprise, active first, by name."""
    firm = _firm_of(actor)
    rows = session.scalars(
        select(User).where(User.enterprise_id == firm).order_by(User.display_name, User.username)
    )
    return sorted(rows, key=lambda u: not u.active)


def _colleague(session: Session, actor: Principal, user_id: str) -> tuple[User, list[User]]:
    """The colleague, and every active person of the enterprise, locked: the count of
    administrators a change may not bring to zero cannot move under it."""
    firm = _firm_of(actor)
    people = list(
        session.scalars(
            select(User).where(User.enterprise_id == firm).order_by(User.id).with_for_update()
        )
    )
    found = next((u for u in people if u.id == user_id), None)
    if found is None:
        raise NotFound(f"no user {user_id!r}", code="user_not_found")
    return found, [u for u in people if u.active]


def _admins_left(active: list[User], without: User, roles: list[str] | None = None) -> int:
    """Active administrators once ``without`` has ``roles`` (None: once it is removed)."""
    others = sum(1 for u in active if u.id != without.id and ENTERPRISE_ADMIN in u.roles)
    return others + (1 if roles is not None and ENTERPRISE_ADMIN in roles else 0)


def _enterprise_roles(roles: list[str]) -> list[str]:
    allowed = {r.value for r in EnterpriseRole}
    if not roles or any(r not in allowed for r in roles):
        raise ValidationFailed(
            [FieldError("roles", f"choose from {', '.join(sorted(allowed))}")],
            code="roles_invalid",
        )
    return sorted(set(roles))


def set_colleague_roles(session: Session, actor: Principal, user_id: str, roles: list[str]) -> User:
    """Give a colleague new roles. Fewer scopes take effect at once (a token never carries
    more than its subject holds today); more take effect at their next sign-in."""
    wanted = _enterprise_roles(roles)
    user, active = _colleague(session, actor, user_id)
    if not user.active:
        raise NotFound(f"no user {user_id!r}", code="user_not_found")
    if ENTERPRISE_ADMIN in user.roles and _admins_left(active, user, wanted) == 0:
        raise Conflict(
            "this would leave your enterprise without an administrator",
            hint="Make another colleague an administrator first.",
            code="last_enterprise_admin",
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


def activate_user(session: Session, actor: Principal, username: str) -> User:
    """Let a user who waits for verification sign in: the administrator of the user's
    tenant, or the platform operator (``chainfin users activate``). A firm that was already
    in the registry when another firm invited it registers its first administrator inactive
    (services/onboarding.py): someone other than the inviter must confirm who they are.
    Activating an active user changes nothing."""
    user = _user_by_name(session, actor, username)
    if user.active:
        return user
    user.active = True
    audit.record(session, actor, "user.activated", "user", user.id)
    record_user_change(session, actor, user)
    return user


def remove_colleague(session: Session, actor: Principal, user_id: str) -> User:
    """Deactivate a colleague: they can no longer sign in, and every token they hold is
    refused at once (the principal is re-loaded on every request)."""
    user, active = _colleague(session, actor, user_id)
    if user.id == actor.subject_id:
        raise Conflict(
            "you cannot remove yourself",
            hint="Ask another administrator of your enterprise to remove you.",
            code="self_removal_refused",
        )
    if not user.active:
        return user
    if ENTERPRISE_ADMIN in user.roles and _admins_left(active, user) == 0:
        raise Conflict(
            "this would leave your enterprise without an administrator",
            hint="Make another colleague an administrator first.",
            code="last_enterprise_admin",
        )
    user.active = False
    end_sessions(session, user.id)
    audit.record(session, actor, "user.deactivated", "user", user.id)
    record_user_change(session, actor, user)
    return user
