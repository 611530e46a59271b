"""The request guard: what every request must satisfy before any handler, authentication
or parser sees it (docs/security.md, "Input").

* **Size.** Each route class has a body limit (``Settings.max_body_bytes`` for ordinary
  JSON writes, ``Settings.max_ingest_bytes`` for batch and file ingestion). A declared
  ``Content-Length`` over the limit is refused with 413 at once, without reading a byte; a
  chunked body is counted as it streams and cut off with 413 the moment it passes the limit.
* **Nesting.** A JSON body (``application/json``, ``+json``, JSON Lines) nested deeper than
  ``bounds.MAX_JSON_DEPTH`` is refused with 422 before it is parsed.
* **The URL.** A path or query value carrying control or bidirectional formatting
  characters (``domain.text``) is refused with 422: no identifier contains them, and some
  databases cannot even compare them (PostgreSQL refuses NUL).

Refusals are RFC 9457 problem+json like every other error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainfin.adapters.formats import jsonbound
from chainfin.api import problems
from chainfin.domain.bounds import MAX_JSON_DEPTH
from chainfin.domain.text import check_text

# Batch and file ingestion: larger bodies. Everything else is an ordinary JSON write.
INGESTION_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/v1/documents/batch")),
    ("POST", re.compile(r"/v1/registry/[^/]+/import")),
    ("POST", re.compile(r"/v1/bank-statements")),
    ("POST", re.compile(r"/v1/strategy/datasets")),  # a bank's market data (CSV files)
    ("POST", re.compile(r"/v1/due-diligence-tasks/[^/]+/financial-analysis")),
    # the workbench's site-visit form: the checklist with its photos (services/lending/attachments)
    ("POST", re.compile(r"/tasks/[^/]+/site-visit")),
    # the workbench's statement upload (camt.053, up to STATEMENT_MAX_BYTES)
    ("POST", re.compile(r"/operations/statements")),
    # the workbench's market-data upload (several CSV files, web/bank_strategy.py)
    ("POST", re.compile(r"/strategy/data")),
)


def is_ingestion(method: str, path: str) -> bool:
    return any(method == m and pattern.fullmatch(path) for m, pattern in INGESTION_ROUTES)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return (
        media in ("application/json", "application/x-ndjson", "application/jsonl")
        or media.endswith("+json")
        or media.endswith("/json")
    )


class BodyTooLarge(HTTPException):
    """The body passed its route's limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))
        self.limit = limit


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the limit for this route"


def _url_problems(scope: Scope) -> Iterable[tuple[str, str]]:
    path = scope.get("path", "")
    if (reason := check_text(path)) is not None:
        yield "path", reason
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if (reason := check_text(name)) is not None:
            yield "query", f"a parameter name: {reason}"
        elif (reason := check_text(value)) is not None:
            yield name, reason


class InputGuard:
    """ASGI middleware enforcing the size, nesting and URL rules above."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_ingest_bytes: int,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_ingest_bytes = max_ingest_bytes
        self.max_json_depth = max_json_depth

    def limit_for(self, method: str, path: str) -> int:
        return self.max_ingest_bytes if is_ingestion(method, path) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = [{"field": f, "reason": r} for f, r in _url_problems(scope)]
        if url:
            detail = "; ".join(f"{e['field']}: {e['reason']}" for e in url[:5])
            await self._refuse(scope, receive, send, 422, "url_invalid", detail, url)
            return
        limit = self.limit_for(scope["method"], scope.get("path", ""))
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isascii() or not declared.strip().isdigit():
                await self._refuse(
                    scope,
                    receive,
                    send,
                    400,
                    "content_length_invalid",
                    "Content-Length is not a number",
                )
                return
            if int(declared) > limit:
                await self._refuse(
                    scope, receive, send, 413, "payload_too_large", _too_large(limit)
                )
                return
        if _is_json(headers.get("content-type", "")):
            await self._json(scope, receive, send, limit)
            return
        await self._streamed(scope, receive, send, limit)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole (bounded) JSON body, check its nesting, then hand it on."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(
                    scope, receive, send, 413, "payload_too_large", _too_large(limit)
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if jsonbound.nesting_depth(body, stop_above=self.max_json_depth) > self.max_json_depth:
            reason = f"JSON nested deeper than {self.max_json_depth} levels"
            errors = [{"field": "body", "reason": reason}]
            await self._refuse(
                scope, receive, send, 422, "json_too_deep", f"body: {reason}", errors
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, 413, "payload_too_large", _too_large(limit))

    @staticmethod
    async def _refuse(
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        code: str,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        # A refused body is not read: the connection cannot carry another request after it.
        headers = {"Connection": "close"} if status == 413 else None
        response = problems.problem(status, code, detail, errors=errors, headers=headers)
        await response(scope, receive, send)
