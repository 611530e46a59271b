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


_ANONYMOUS = "chainfin.principal"  # request.state key: the principal, or the refusal


def presented_credentials(request: Request) -> Principal | Unauthenticated | None:
    """Check the access token a request presents (bearer header, else the page cookie) in a
    short read transaction of its own, once per request: the principal, the refusal, or
    None when nothing was presented.

    It runs before the unit of work (:func:`get_session` depends on it), so a request with
    a forged, expired or revoked token never takes the database's write lock: on SQLite a
    write transaction holds the one write lock from its first statement, and garbage tokens
    sent to write routes would otherwise queue every writer behind their verification."""
    if hasattr(request.state, _ANONYMOUS):
        cached: Principal | Unauthenticated | None = getattr(request.state, _ANONYMOUS)
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(COOKIE, "")
    outcome: Principal | Unauthenticated | None = None
    if token:
        settings: Settings = request.app.state.settings
        try:
            with transaction(request.app.state.session_factory, write=False) as session:
                outcome = auth.principal_from_token(session, token, issuer=settings.token_issuer)
        except Unauthenticated as exc:
            outcome = exc
    setattr(request.state, _ANONYMOUS, outcome)
    return outcome


PresentedDep = Annotated[
    Principal | Unauthenticated | None, Depends(presented_credentials, use_cache=True)
]


def _needs_principal(request: Request) -> bool:
    """Does the matched route ask for :func:`current_principal` (directly or through a
    dependency)? Cached per route."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    key = id(route)
    if key not in _NEEDS:
        stack, found = [dependant], False
        while stack and not found:
            node = stack.pop()
            found = node.call is current_principal
            stack.extend(node.dependencies)
        _NEEDS[key] = found
    return _NEEDS[key]


_NEEDS: dict[int, bool] = {}


def get_session(request: Request, presented: PresentedDep) -> Iterator[Session]:
    """One request = one transaction: committed when the handler returns, rolled back if it
    raises (the error then becomes problem+json).

    Used through :data:`SessionDep`, which is function-scoped: the commit runs after the
    handler has built its response and *before* that response is sent, so no 2xx and no
    receipt leaves before the write is durable, and a commit that fails becomes an error
    response (409 on a conflict, 503 when the database is unavailable, 500 otherwise)
    instead of a 2xx. FastAPI's default ("request") scope would run it after the response
    has gone out.

    A route that needs a principal is refused before the transaction opens when the
    credentials it presents are bad (see :func:`presented_credentials`)."""
    if isinstance(presented, Unauthenticated) and _needs_principal(request):
        raise presented
    with transaction(
        request.app.state.session_factory, write=request.method not in SAFE
    ) as session:
        yield session


def get_write_session(request: Request, presented: PresentedDep) -> Iterator[Session]:
    """For reads that also write (a consented read logs itself in the access log): take
    SQLite's write lock up front, so a concurrent writer cannot invalidate the snapshot.
    Function-scoped like :func:`get_session`: the access log is committed before the read
    is answered."""
    if isinstance(presented, Unauthenticated) and _needs_principal(request):
        raise presented
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
    presented: PresentedDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal the request's access token names (checked by
    :func:`presented_credentials`); ``credentials`` is here for the OpenAPI document."""
    del credentials
    if isinstance(presented, Unauthenticated):
        raise presented
    if presented is None:
        raise Unauthenticated(
            "send an access token: Authorization: Bearer <token>", code="token_missing"
        )
    return presented


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
