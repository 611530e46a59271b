"""Dependencies shared by routers: the unit-of-work session and the current principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

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
    raises (the error then becomes problem+json).

    Used through :data:`SessionDep`, which is function-scoped: the commit runs after the
    handler has built its response and *before* that response is sent, so no 2xx and no
    receipt leaves before the write is durable, and a commit that fails becomes an error
    response (409 on a conflict, 503 when the database is unavailable, 500 otherwise)
    instead of a 2xx. FastAPI's default ("request") scope would run it after the response
    has gone out."""
    with transaction(
        request.app.state.session_factory, write=request.method not in SAFE
    ) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """For reads that also write (a consented read logs itself in the access log): take
    SQLite's write lock up front, so a concurrent writer cannot invalidate the snapshot.
    Function-scoped like :func:`get_session`: the access log is committed before the read
    is answered."""
    with transaction(request.app.state.session_factory, write=True) as session:
        yield session


COMMIT_BEFORE_RESPONSE: Literal["function"] = "function"
"""The scope of every unit-of-work dependency (see :func:`get_session`). A dependency that
depends on a session must be a plain function or function-scoped too: FastAPI refuses a
request-scoped ``yield`` dependency that depends on a function-scoped one."""

SessionDep = Annotated[Session, Depends(get_session, scope=COMMIT_BEFORE_RESPONSE)]
LoggedReadSessionDep = Annotated[Session, Depends(get_write_session, scope=COMMIT_BEFORE_RESPONSE)]
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
    return auth.principal_from_token(session, token, issuer=settings.token_issuer)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
