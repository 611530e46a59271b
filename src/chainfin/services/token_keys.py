"""Access-token signing keys: Ed25519 (JWS ``EdDSA``), kept and rotated like the ledger's
log key (``services/ledger.py``).

The newest active key signs. ``chainfin auth rotate-key`` retires it and starts a new one;
a retired key still verifies until the last token it signed has expired (``verify_until``
= retirement + the token lifetime), or not at all if it was withdrawn (``--revoke``, for a
key that may have leaked). Private keys are encrypted at rest with the field cipher
(``adapters/db/crypto.py``); public keys are published as a JWK Set (``GET /oauth/jwks``)
so that other services can verify tokens without any secret. ``kid`` is the key's RFC 7638
JWK thumbprint.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import RevokedToken, TokenKey
from chainfin.domain.clock import utcnow

ALGORITHM = "EdDSA"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(x: str) -> str:
    """RFC 7638: SHA-256 over the required members of the OKP JWK, in lexicographic order."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class Signer:
    kid: str
    key: Ed25519PrivateKey


@functools.lru_cache(maxsize=16)
def _private(stored: str) -> Ed25519PrivateKey:
    """Parsing costs more than signing; every sign-in signs."""
    return Ed25519PrivateKey.from_private_bytes(_unb64url(stored))


@functools.lru_cache(maxsize=64)
def public_key(x: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64url(x))


def active_signer(session: Session) -> Signer | None:
    row = session.execute(
        select(TokenKey.kid, TokenKey.private_key)
        .where(TokenKey.active.is_(True))
        .order_by(TokenKey.created_at.desc(), TokenKey.kid)
        .limit(1)
    ).first()
    return Signer(row.kid, _private(row.private_key)) if row is not None else None


def ensure_token_key(session: Session) -> Signer:
    """The active signing key, created on first use."""
    return active_signer(session) or _new_key(session)


def _new_key(session: Session) -> Signer:
    key = Ed25519PrivateKey.generate()
    x = _b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    d = _b64url(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    row = TokenKey(
        kid=thumbprint(x),
        algorithm=ALGORITHM,
        public_key=x,
        private_key=d,
        active=True,
        created_at=utcnow(),
        retired_at=None,
        verify_until=None,
    )
    session.add(row)
    session.flush()
    return Signer(row.kid, key)


def rotate_token_key(session: Session, *, token_ttl_seconds: int, revoke: bool = False) -> str:
    """Retire every active key and start a new one; return the new ``kid``. Tokens signed
    by a retired key keep verifying until they expire, unless ``revoke`` (then at once)."""
    now = utcnow()
    until = now if revoke else now + timedelta(seconds=token_ttl_seconds)
    for row in session.scalars(select(TokenKey).where(TokenKey.active.is_(True))):
        row.active, row.retired_at, row.verify_until = False, now, until
    if revoke:  # withdraw keys retired earlier too: a leaked key must not verify at all
        for row in session.scalars(select(TokenKey).where(TokenKey.verify_until > now)):
            row.verify_until = now
    session.flush()
    return _new_key(session).kid


def verifying_key(session: Session, kid: str) -> Ed25519PublicKey | None:
    """The public key for ``kid`` if it may still verify tokens, else None."""
    row = session.execute(
        select(TokenKey.public_key, TokenKey.verify_until, TokenKey.algorithm).where(
            TokenKey.kid == kid
        )
    ).first()
    if row is None or row.algorithm != ALGORITHM:
        return None
    if row.verify_until is not None and row.verify_until <= utcnow():
        return None
    return public_key(row.public_key)


def _usable(now: datetime) -> Any:
    return or_(TokenKey.verify_until.is_(None), TokenKey.verify_until > now)


def jwks(session: Session) -> dict[str, Any]:
    """Every key that may verify a token today, newest first, as an RFC 7517 JWK Set."""
    rows = session.scalars(
        select(TokenKey).where(_usable(utcnow())).order_by(TokenKey.created_at.desc(), TokenKey.kid)
    )
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": row.public_key,
                "kid": row.kid,
                "alg": ALGORITHM,
                "use": "sig",
            }
            for row in rows
        ]
    }


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    active: bool
    created_at: datetime
    retired_at: datetime | None
    verify_until: datetime | None


def list_keys(session: Session) -> list[KeyInfo]:
    return [
        KeyInfo(r.kid, r.active, r.created_at, r.retired_at, r.verify_until)
        for r in session.scalars(select(TokenKey).order_by(TokenKey.created_at, TokenKey.kid))
    ]


def prune_revoked(session: Session) -> int:
    """Forget revoked tokens that have expired anyway."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
