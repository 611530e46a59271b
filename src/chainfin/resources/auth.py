"""Signing in and the service itself: access tokens, who the caller is, the keys that verify
tokens, and the health of the process."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from chainfin.domain.access import Principal


class TokenOut(BaseModel):
    """An OAuth2 access token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = Field(examples=["Bearer"])
    expires_in: int = Field(description="seconds")
    scope: str = Field(description="space-separated scopes")


class MeOut(BaseModel):
    kind: str
    subject_id: str
    bank_id: str | None
    enterprise_id: str | None
    platform_id: str | None
    roles: list[str]
    scopes: list[str]

    @classmethod
    def build(cls, principal: Principal) -> Self:
        return cls(
            kind=principal.kind.value,
            subject_id=principal.subject_id,
            bank_id=principal.bank_id,
            enterprise_id=principal.enterprise_id,
            platform_id=principal.platform_id,
            roles=sorted(principal.roles),
            scopes=sorted(s.value for s in principal.scopes),
        )


class JwkOut(BaseModel):
    """One public key (RFC 7517, OKP Ed25519 as RFC 8037 writes it)."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str = Field(description="the public key, base64url")
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: Literal["sig"]


class JwksOut(BaseModel):
    """A JWK Set (RFC 7517 section 5): the keys that verify tokens, newest first."""

    keys: list[JwkOut]

    @classmethod
    def build(cls, jwks: dict[str, Any]) -> Self:
        return cls.model_validate(jwks)


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description='"database" and "migrations": "ok", or what is wrong',
        examples=[{"database": "ok", "migrations": "ok"}],
    )
