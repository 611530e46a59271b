"""Dependencies shared by routers: the unit-of-work session and the current principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.config import Settings
from chainfin.domain.access import Principal
from chainfin.domain.errors import Unauthenticated
from chainfin.services import auth

_bearer = HTTPBearer(auto_error=False, description="OAuth2 access token from /oauth/token")
COOKIE = "chainfin_token"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One request = one transaction: committed when the handler returns, rolled back if it
    raises (the error then becomes problem+json)."""
    with transaction(
        request.app.state.session_factory, write=request.method not in SAFE
    ) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """For reads that also write (a consented read logs itself in the access log): take
    SQLite's write lock up front, so a concurrent writer cannot invalidate the snapshot."""
    with transaction(request.app.state.session_factory, write=True) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
LoggedReadSessionDep = Annotated[Session, Depends(get_write_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    if token is None:
        token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthenticated("send an access token: Authorization: Bearer <token>")
    return auth.principal_from_token(
        session, token, key=request.app.state.signing_key, issuer=settings.token_issuer
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
