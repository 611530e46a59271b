"""The ASGI application: ``create_app()`` wires settings, database, routers and error
handling. ``chainfin serve`` runs it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from chainfin import __version__
from chainfin.adapters.db import crypto
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.migrate import current_revision, head_revision
from chainfin.api import openapi_doc, problems, schemas
from chainfin.api.guard import InputGuard
from chainfin.api.headers import SecurityHeaders
from chainfin.api.routers import (
    alerts,
    auth,
    chains,
    consent,
    credentials,
    documents,
    invitations,
    iot,
    ledger,
    lending,
    models,
    portfolio,
    prices,
    receivables,
    reference,
    registry,
    strategy,
)
from chainfin.api.signin import build_gate
from chainfin.config import Settings, get_settings, install_clock_from_environment
from chainfin.resources.auth import HealthOut, ReadyOut
from chainfin.services import ledger as ledger_service
from chainfin.services import token_keys
from chainfin.services.sequencer import Sequencer
from chainfin.web import pages

DESCRIPTION = """chainfin connects a bank to the industrial chains its customers run.

Authenticate with `POST /oauth/token` (client credentials for API clients, password for
staff and enterprise users) and send `Authorization: Bearer <token>`. Errors are RFC 9457
`application/problem+json` with a stable `code`. Lists are cursor-paginated (`limit`,
`cursor`, `next_cursor`). Amounts are decimal strings with a `currency`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:  # a server process (uvicorn's factory): honour CHAINFIN_CLOCK
        install_clock_from_environment()
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The log key exists before the first write needs it for a receipt.
        with transaction(app.state.session_factory) as session:
            ledger_service.ensure_log_key(session, settings.ledger_origin)
            token_keys.ensure_token_key(session)  # and the token signing key
        sequencer = None
        if settings.ledger_sequencer:
            sequencer = Sequencer(
                app.state.session_factory,
                origin=settings.ledger_origin,
                interval_seconds=settings.ledger_sequencer_interval_seconds,
            )
            sequencer.start()
        yield
        if sequencer is not None:
            sequencer.stop()
        app.state.signin.close()  # the argon2 threads

    app = FastAPI(
        lifespan=lifespan,
        title="chainfin",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=None,  # served by api/openapi_doc.py: encoded once, ETag and gzip
        docs_url=None,  # the pages serve /docs from the vendored Swagger UI (web/pages.py)
        redoc_url=None,
    )
    data_key_spec = settings.data_key_spec()
    crypto.configure(FieldCipher.from_spec(data_key_spec))
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.signin = build_gate(settings, app.state.session_factory)
    problems.install(app)
    # Outermost after Starlette's error middleware: sizes, nesting and the URL are checked
    # before routing, authentication or any parser sees the request.
    app.add_middleware(
        InputGuard,
        max_body_bytes=settings.max_body_bytes,
        max_ingest_bytes=settings.max_ingest_bytes,
    )
    # Outermost of all: every answer, the guard's refusals included, carries them.
    app.add_middleware(
        SecurityHeaders,
        hsts_seconds=settings.hsts_seconds,
        tls_proxy=settings.tls_proxy,
        docs_path=pages.DOCS,
    )

    @app.get("/healthz", response_model=HealthOut, tags=["health"], summary="The process is up")
    def healthz() -> HealthOut:
        return HealthOut(status="ok")

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        tags=["health"],
        summary="The database is reachable and migrated (503 with the same body when not)",
    )
    def readyz(request: Request) -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, head = current_revision(request.app.state.engine), head_revision()
            checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure as not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    routers = (
        auth,
        registry,
        chains,
        documents,
        receivables,
        consent,
        invitations,  # before credentials: /v1/credentials/invitations is not a credential
        credentials,
        lending,
        prices,
        portfolio,
        alerts,
        models,
        iot,
        ledger,
        reference,
        strategy,
    )
    for router in (r.router for r in routers):
        app.include_router(router)
    pages.install(app, data_key_spec)
    openapi_doc.install(app)
    problems.document(app)
    schemas.document_schema_refs(app)
    return app
