"""OAuth2 token endpoint (RFC 6749 client credentials and resource-owner password), token
revocation (RFC 7009), the signing keys (RFC 7517 JWK Set) and /me.

Token errors carry both the RFC 6749 fields (``error``, ``error_description``) and the RFC
9457 problem fields, so OAuth libraries and our other clients both read them. The token
endpoint holds no transaction while it checks a password (see api/signin.py): too many
failures answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.api.problems import problem
from chainfin.api.signin import address, gate, issue
from chainfin.api.signin import revoke as revoke_token
from chainfin.domain.errors import Unauthenticated, ValidationFailed
from chainfin.resources.auth import JwksOut, MeOut, TokenOut
from chainfin.services import token_keys
from chainfin.services.signin import Grant, SignInUnavailable, TooManyAttempts

router = APIRouter(tags=["auth"])


def _oauth_error(
    status: int, error: str, description: str, *, code: str | None = None, retry_after: int = 0
) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="chainfin"'} if status == 401 else {}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return problem(
        status,
        code or f"oauth-{error.replace('_', '-')}",
        description,
        headers=headers or None,
        extra={"error": error, "error_description": description},
    )


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, pw


@router.post("/oauth/token", response_model=TokenOut, summary="Get an access token")
async def token(
    request: Request,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> TokenOut | JSONResponse:
    """``grant_type=client_credentials`` (client id and secret in the form or HTTP Basic) for
    API clients; ``grant_type=password`` for staff and enterprise users.

    Too many failed attempts from one address or for one account, or a locked account
    (right password or not), answer 429 ``too_many_requests`` with ``Retry-After``."""
    signin = gate(request)
    where = address(request)
    grant: Grant
    try:
        if grant_type == "client_credentials":
            basic = _basic(request)
            cid, secret = basic if basic else (client_id, client_secret)
            if not cid or not secret:
                return _oauth_error(401, "invalid_client", "client_id and client_secret required")
            grant = await signin.client(cid, secret, where)
        elif grant_type == "password":
            if not username or not password:
                return _oauth_error(400, "invalid_request", "username and password required")
            try:
                grant = await signin.password(username, password, where)
            except Unauthenticated as exc:
                return _oauth_error(400, "invalid_grant", exc.message)
        else:
            return _oauth_error(400, "unsupported_grant_type", f"{grant_type!r} is not supported")
        issued = issue(request, grant, scope.split() if scope else None)
    except TooManyAttempts as exc:
        return _oauth_error(
            429,
            "temporarily_unavailable",
            exc.message,
            code=exc.code,
            retry_after=exc.retry_after,
        )
    except SignInUnavailable as exc:
        return _oauth_error(
            503, "temporarily_unavailable", exc.message, code=exc.code, retry_after=5
        )
    except Unauthenticated as exc:
        return _oauth_error(401, "invalid_client", exc.message)
    except ValidationFailed as exc:
        return _oauth_error(400, "invalid_scope", exc.message)
    return TokenOut(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        scope=issued.scope,
    )


@router.post(
    "/oauth/revoke",
    summary="Revoke an access token (RFC 7009)",
    response_class=Response,
    responses={
        200: {
            "description": "revoked, or was not a valid token: an empty body",
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
        }
    },
)
def revoke(
    request: Request,
    token: Annotated[str, Form(max_length=8192)],
    token_type_hint: Annotated[str | None, Form()] = None,
) -> Response:
    """Put ``token`` on the denylist until it expires: every later request with it answers
    401. Possession of the token is the authority to revoke it. As RFC 7009 asks, the answer
    is 200 with an empty body whether or not the token was valid or already revoked."""
    revoke_token(request, token)
    return Response(status_code=200, media_type="text/plain")


@router.get("/oauth/jwks", response_model=JwksOut, summary="The token signing keys (JWK Set)")
def jwks(session: SessionDep, response: Response) -> JwksOut:
    """The public keys (Ed25519, JWS ``EdDSA``) that verify chainfin's access tokens: the
    active key and retired keys whose tokens may not have expired yet. A verifier that
    meets an unknown ``kid`` fetches this again (a key was rotated)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return JwksOut.build(token_keys.jwks(session))


router.add_api_route("/.well-known/jwks.json", jwks, methods=["GET"], include_in_schema=False)


@router.get("/v1/me", response_model=MeOut, summary="Who am I")
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut.build(principal)
