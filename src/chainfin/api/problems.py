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
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainfin.api.headers import baseline_headers
from chainfin.domain.errors import ChainfinError, ValidationFailed

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("chainfin.api")

# What every operation may answer besides its success, documented on each (see document()).
DOCUMENTED = {
    400: "invalid-request: a malformed request (e.g. an unreadable Content-Length)",
    401: "unauthenticated: no valid access token",
    403: "forbidden (or consent-refused): the principal may not do this",
    404: "not-found: no such resource, or not one the principal may see",
    409: "conflict: the request conflicts with the current state",
    413: "payload-too-large: the body is over this route's limit (refused before it is read)",
    415: "unsupported-media-type: a body in a format this operation does not take",
    422: "validation-failed (or invalid-money): invalid input, with errors[] of field and reason",
    429: "too many requests: slow down and retry after Retry-After",
    500: "internal-error: an unexpected failure, logged; nothing was written",
    503: "database-unavailable or sign-in-unavailable: retry after Retry-After; nothing was "
    "written",
}

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
    "too-many-requests": "Too many requests",
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
    429: "too-many-requests",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable code",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                    "row": {"type": "integer"},
                },
            },
        },
    },
}


def document(app: FastAPI) -> None:
    """Declare on every operation of ``app``'s OpenAPI the problem responses it may give
    (``DOCUMENTED``, as ``application/problem+json``), replacing FastAPI's default 422."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in DOCUMENTED.items():
                    responses[str(status)] = {
                        "description": description,
                        "content": {MEDIA_TYPE: {"schema": ref}},
                    }
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


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

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the database refused to store or compare (too long for its column, out of
        # its type's range): input that slipped past validation. Logged so that the missing
        # check gets added; the client gets a 4xx, never a 5xx, and nothing was written.
        log.warning(
            "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
        )
        return problem(422, "validation-failed", "a value is too long or out of range for storage")

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
        # Starlette answers unhandled errors from its outermost middleware, outside the
        # security-headers middleware: the headers go on here.
        return problem(
            500,
            "internal-error",
            "an unexpected error occurred; it has been logged",
            headers=baseline_headers(),
        )
