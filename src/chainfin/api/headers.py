"""Security headers on every response, API and pages (docs/security.md).

A pure ASGI middleware: it never buffers a body.

- ``Content-Security-Policy``: ``default-src 'self'``, no inline script or style anywhere
  (the pages' stylesheet and scripts are files under /static), ``frame-ancestors 'none'``.
  ``/docs`` (Swagger UI, vendored under /static/vendor/swagger-ui and started by
  /static/swagger-init.js) gets a narrower policy of its own: scripts and styles from this
  site only, plus the inline ``style`` attributes Swagger UI's React components set and the
  ``data:`` images its stylesheet embeds. No outside origin anywhere: banks run it offline.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` only on a request that came over TLS (``https`` scheme:
  TLS at uvicorn, or ``X-Forwarded-Proto: https`` from a proxy uvicorn trusts, see
  ``--forwarded-allow-ips``), or on every request when ``CHAINFIN_TLS_PROXY=true``.
- ``Cache-Control: no-store`` on ``/oauth/*``, the sign-in form's answer and every
  authenticated request's answer (a bearer token or the pages' cookie), whatever the
  handler set; ``Pragma: no-cache`` too, for HTTP/1.0 caches (RFC 6749 §5.1). Files under
  ``/static/`` keep their long cache lifetime whoever asks, and ``/openapi.json`` its
  ``no-cache`` with an ETag (api/openapi_doc.py): they are the same for everyone.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""The Swagger UI page's policy: this site's files only (no inline script)."""
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

STATIC_PREFIX = "/static/"
PUBLIC_PATHS = (STATIC_PREFIX, "/openapi.json")  # the same for everyone, whoever asks


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
        no_store = path.startswith(NO_STORE_PATHS) or (
            _authenticated(scope) and not path.startswith(PUBLIC_PATHS)
        )
        tls = self.tls_proxy or scope.get("scheme") == "https"
        csp = DOCS_CSP if path == self.docs_path else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(MutableHeaders(scope=message), csp, tls, no_store)
            await send(message)

        await self.app(scope, receive, send_with_headers)

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
