"""RFC 9457 problem details for every error the API returns.

``type`` is ``/problems/<code>`` (a stable code per kind of problem, listed at
``GET /problems``), ``title`` a short summary, ``detail`` what happened in this case, and
``errors`` the field-level list (``field``, ``reason``, optional ``row``) for invalid input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainfin.api.headers import baseline_headers
from chainfin.domain.errors import CODES, ChainfinError, ErrorCode, NotFound, ValidationFailed
from chainfin.resources.common import PageOut
from chainfin.services.pagination import DEFAULT_LIMIT, MAX_LIMIT, page_of

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("chainfin.api")

# What every operation may answer besides its success, documented on each (see document()).
# Each status names its generic code; the specific codes are in the registry (GET /problems).
DOCUMENTED = {
    400: "invalid_request: a malformed request (e.g. an unreadable Content-Length)",
    401: "unauthenticated (or token_expired, token_revoked, ...): no valid access token",
    403: "forbidden (or scope_missing, consent_refused, ...): the principal may not do this",
    404: "<resource>_not_found: no such resource, or not one the principal may see",
    409: "a specific conflict (line_frozen, exists_with_different_request, "
    "idempotency_key_reused, illegal_transition, ...) with the current state",
    413: "payload_too_large: the body is over this route's limit (refused before it is read)",
    415: "unsupported_media_type: a body in a format this operation does not take",
    422: "validation_failed (errors[] of field and reason) or a specific invalid input "
    "(invalid_money, cursor_invalid, ...)",
    429: "too_many_requests: slow down and retry after Retry-After",
    500: "internal_error: an unexpected failure, logged; nothing was written",
    503: "database_unavailable or sign_in_unavailable: retry after Retry-After; nothing was "
    "written",
}
"""Every problem's code, status and what to do: ``GET /problems`` and docs/errors.md."""


def _title(code: str) -> str:
    entry = CODES.get(code)
    return entry.title if entry is not None else code.replace("_", " ").capitalize()


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
        "title": _title(code),
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
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
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


class ProblemCodeOut(BaseModel):
    """One code of the registry: what a problem with this ``type`` means and what to do."""

    code: str
    type: str = Field(description="the problem type URI: /problems/<code>")
    status: int | None = Field(description="HTTP status; null for a decision reason only")
    title: str
    when: str = Field(description="when this is answered")
    action: str = Field(description="what the client can do about it")
    decision: str | None = Field(
        description="decline or refer when a credit decision gives this code as a reason"
    )

    @classmethod
    def build(cls, entry: ErrorCode) -> ProblemCodeOut:
        return cls(
            code=entry.code,
            type=f"/problems/{entry.code}",
            status=entry.status,
            title=entry.title,
            when=entry.when,
            action=entry.action,
            decision=entry.decision,
        )


def catalogue(app: FastAPI) -> None:
    """``GET /problems`` (every code, in code order) and ``GET /problems/{code}``: the problem
    ``type`` URIs resolve. Public, like the OpenAPI document."""

    @app.get(
        "/problems",
        tags=["reference"],
        summary="Every error code and decision reason",
        response_model=PageOut[ProblemCodeOut],
    )
    def problems(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> PageOut[ProblemCodeOut]:
        page = page_of(list(CODES.values()), lambda e: e.code, cursor=cursor, limit=limit)
        items = [ProblemCodeOut.build(e) for e in page.items]
        return PageOut[ProblemCodeOut](items=items, next_cursor=page.next_cursor)

    @app.get(
        "/problems/{code}",
        tags=["reference"],
        summary="One error code",
        response_model=ProblemCodeOut,
    )
    def one_problem(code: Annotated[str, Path(max_length=80)]) -> ProblemCodeOut:
        entry = CODES.get(code)
        if entry is None:
            raise NotFound.of("error code", code)
        return ProblemCodeOut.build(entry)


def install(app: FastAPI) -> None:
    catalogue(app)

    @app.exception_handler(ChainfinError)
    async def _domain(_: Request, exc: ChainfinError) -> JSONResponse:
        errors = [e.as_dict() for e in exc.errors] if isinstance(exc, ValidationFailed) else None
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(
            exc.status, exc.code, exc.message, errors=errors, headers=headers, extra=exc.details()
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc_to_field(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem(422, "validation_failed", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "invalid_request")
        return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race between two writers: the loser's transaction was rolled back.
        log.info("integrity conflict: %s", exc.orig)
        return problem(
            409, "concurrent_change", "a concurrent change conflicted with this one; retry it"
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the database refused to store or compare (too long for its column, out of
        # its type's range): input that slipped past validation. Logged so that the missing
        # check gets added; the client gets a 4xx, never a 5xx, and nothing was written.
        log.warning(
            "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
        )
        return problem(422, "validation_failed", "a value is too long or out of range for storage")

    @app.exception_handler(OperationalError)
    async def _unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return problem(
            503,
            "database_unavailable",
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
            "internal_error",
            "an unexpected error occurred; it has been logged",
            headers=baseline_headers(),
        )
