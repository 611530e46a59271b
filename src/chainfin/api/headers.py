"""Security headers on every response, API and pages (docs/security.md).

A pure ASGI middleware (it does not buffer bodies, except the small /docs page whose inline
script it hashes into that page's policy).

- ``Content-Security-Policy``: ``default-src 'self'``, no inline script or style anywhere
  (the pages' stylesheet is a file, /static/chainfin.css), ``frame-ancestors 'none'``.
  ``/docs`` (Swagger UI, loaded from a CDN until it is vendored) gets a narrower policy of
  its own: the CDN's origins for its script, style and icon, its one inline script by hash.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` only on a request that came over TLS (``https`` scheme:
  TLS at uvicorn, or ``X-Forwarded-Proto: https`` from a proxy uvicorn trusts, see
  ``--forwarded-allow-ips``), or on every request when ``CHAINFIN_TLS_PROXY=true``.
- ``Cache-Control: no-store`` on ``/oauth/*``, the sign-in form's answer and every
  authenticated request's answer (a bearer token or the pages' cookie), whatever the
  handler set; ``Pragma: no-cache`` too, for HTTP/1.0 caches (RFC 6749 §5.1).
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def baseline_headers() -> dict[str, str]:
    """The headers every answer carries whatever else is known about the request: for
    answers made outside this middleware (an unhandled error's 500)."""
    return {"Content-Security-Policy": CSP, **COMMON, "Cache-Control": "no-store"}


NO_STORE_PATHS = ("/oauth/token", "/oauth/revoke", "/login", "/logout")
COOKIE = b"chainfin_token="

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
_SCRIPT_SRC = re.compile(rb"<script[^>]*\ssrc=[\"'](https://[^\"']+)")
_STYLE_HREF = re.compile(rb"<link[^>]*rel=[\"']stylesheet[\"'][^>]*href=[\"'](https://[^\"']+)")
_ICON_HREF = re.compile(rb"<link[^>]*rel=[\"'][^\"']*icon[\"'][^>]*href=[\"'](https://[^\"']+)")


def docs_policy(html: bytes) -> str:
    """The policy for the Swagger UI page: exactly what ``html`` loads."""

    def origins(pattern: re.Pattern[bytes]) -> str:
        found = sorted({_origin(m.decode()) for m in pattern.findall(html)})
        return " ".join(found)

    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {origins(_SCRIPT_SRC)} {hashes}; "
        f"style-src {origins(_STYLE_HREF)} 'unsafe-inline'; "
        f"img-src 'self' data: {origins(_ICON_HREF)}; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, hsts_seconds: int, tls_proxy: bool, docs_path: str | None
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else None
        self.tls_proxy = tls_proxy
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        no_store = path.startswith(NO_STORE_PATHS) or _authenticated(scope)
        tls = self.tls_proxy or scope.get("scheme") == "https"
        if path == self.docs_path:
            await self._docs(scope, receive, send, tls)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(MutableHeaders(scope=message), CSP, tls, no_store)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send, tls: bool) -> None:
        start: Message | None = None
        body = bytearray()

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                headers = MutableHeaders(scope=start)
                self._apply(headers, docs_policy(bytes(body)), tls, no_store=False)
                if "content-length" in headers:
                    headers["content-length"] = str(len(body))
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, buffer)

    def _apply(self, headers: MutableHeaders, csp: str, tls: bool, no_store: bool) -> None:
        headers["Content-Security-Policy"] = csp
        for name, value in COMMON.items():
            headers[name] = value
        if tls and self.hsts is not None:
            headers["Strict-Transport-Security"] = self.hsts
        if no_store:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"


def _authenticated(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization" or (name == b"cookie" and COOKIE in value):
            return True
    return False
