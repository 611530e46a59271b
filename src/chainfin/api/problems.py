"""RFC 9457 problem details for every error the API returns.

``type`` is ``/problems/<code>`` (a stable code per kind of problem, listed at
``GET /problems``), ``title`` a short summary, ``detail`` what happened in this case, and
``errors`` the field-level list (``field``, ``reason``, optional ``row``) for invalid input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainfin.domain.errors import ChainfinError, ValidationFailed

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("chainfin.api")

TITLES = {
    "validation-failed": "The request has invalid fields",
    "invalid-request": "The request is malformed",
    "not-found": "Not found",
    "forbidden": "Not allowed",
    "unauthenticated": "Authentication required",
    "conflict": "Conflicts with the current state",
    "invalid-money": "Invalid amount",
    "method-not-allowed": "Method not allowed",
    "unsupported-media-type": "Unsupported media type",
    "payload-too-large": "Request body too large",
    "internal-error": "Internal error",
    "database-unavailable": "Database unavailable",
    "consent-refused": "The enterprise has not consented to this use of its data",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": TITLES.get(code, code.replace("-", " ").capitalize()),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


_STATUS_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ChainfinError)
    async def _domain(_: Request, exc: ChainfinError) -> JSONResponse:
        errors = [e.as_dict() for e in exc.errors] if isinstance(exc, ValidationFailed) else None
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(exc.status, exc.code, exc.message, errors=errors, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc_to_field(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem(422, "validation-failed", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "invalid-request")
        return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race between two writers: the loser's transaction was rolled back.
        log.info("integrity conflict: %s", exc.orig)
        return problem(409, "conflict", "a concurrent change conflicted with this one; retry it")

    @app.exception_handler(OperationalError)
    async def _unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return problem(
            503,
            "database-unavailable",
            "the database is unavailable; retry shortly",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "an unexpected error occurred; it has been logged")
