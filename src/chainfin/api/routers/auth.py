"""OAuth2 token endpoint (RFC 6749 client credentials and resource-owner password) and /me.

Token errors carry both the RFC 6749 fields (``error``, ``error_description``) and the RFC
9457 problem fields, so OAuth libraries and our other clients both read them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.problems import problem
from chainfin.api.schemas import MeOut, TokenOut
from chainfin.domain.errors import Unauthenticated, ValidationFailed
from chainfin.services import auth

router = APIRouter(tags=["auth"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="chainfin"'} if status == 401 else None
    return problem(
        status,
        f"oauth-{error.replace('_', '-')}",
        description,
        headers=headers,
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
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> TokenOut | JSONResponse:
    """``grant_type=client_credentials`` (client id and secret in the form or HTTP Basic) for
    API clients; ``grant_type=password`` for staff and enterprise users."""
    try:
        if grant_type == "client_credentials":
            basic = _basic(request)
            cid, secret = basic if basic else (client_id, client_secret)
            if not cid or not secret:
                return _oauth_error(401, "invalid_client", "client_id and client_secret required")
            principal = auth.authenticate_client(session, cid, secret)
        elif grant_type == "password":
            if not username or not password:
                return _oauth_error(400, "invalid_request", "username and password required")
            try:
                principal = auth.authenticate_password(session, username, password)
            except Unauthenticated as exc:
                return _oauth_error(400, "invalid_grant", exc.message)
        else:
            return _oauth_error(400, "unsupported_grant_type", f"{grant_type!r} is not supported")
        issued = auth.issue_token(
            principal,
            key=request.app.state.signing_key,
            ttl_seconds=settings.token_ttl_seconds,
            issuer=settings.token_issuer,
            requested_scopes=scope.split() if scope else None,
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


@router.get("/v1/me", response_model=MeOut, summary="Who am I")
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        kind=principal.kind.value,
        subject_id=principal.subject_id,
        bank_id=principal.bank_id,
        enterprise_id=principal.enterprise_id,
        platform_id=principal.platform_id,
        roles=sorted(principal.roles),
        scopes=sorted(s.value for s in principal.scopes),
    )
