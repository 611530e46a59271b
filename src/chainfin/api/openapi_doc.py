"""``GET /openapi.json``: the OpenAPI document, built once per process and served the way a
large, public, rarely changing file should be.

FastAPI's own route serialises the ~700 KB document on every request and sends it whole;
/docs fetches it on every visit. Here the document is encoded once (on first request), with
a strong ``ETag`` (the SHA-256 of the bytes: it changes exactly when the API does), so a
browser that has it asks ``If-None-Match`` and gets ``304 Not Modified`` with no body; and
it is sent gzip-compressed to a client whose ``Accept-Encoding`` allows it (RFC 9110
§12.5.3: ``gzip`` not refused with ``q=0``), ``Vary: Accept-Encoding``. The document is the
same for everyone, so it is cacheable whoever asks (``Cache-Control: no-cache``: keep it,
but revalidate each time; the security headers leave it so, see api/headers.py).

>>> accepts_gzip("gzip, deflate, br"), accepts_gzip("br;q=1, gzip;q=0"), accepts_gzip(None)
(True, False, False)
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response

PATH = "/openapi.json"
CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class Encoded:
    identity: bytes
    gzipped: bytes
    digest: str  # SHA-256 of the identity bytes

    def etag(self, coding: str | None) -> str:
        """A strong validator per representation: the gzip bytes are another one."""
        return f'"{self.digest}-{coding}"' if coding else f'"{self.digest}"'


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``*`` counts, ``q=0`` refuses)."""
    allowed: dict[str, bool] = {}
    for item in (header or "").split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[coding.strip().lower()] = q > 0
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags  # weak comparison (§13.1.2)


def encode(document: dict[str, object]) -> Encoded:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    # mtime=0: the same document gives the same bytes in every process
    return Encoded(body, gzip.compress(body, compresslevel=9, mtime=0), digest)


def install(app: FastAPI) -> None:
    @app.get(PATH, include_in_schema=False)
    def openapi_json(request: Request) -> Response:
        encoded: Encoded | None = getattr(request.app.state, "openapi_encoded", None)
        if encoded is None:
            encoded = encode(request.app.openapi())
            request.app.state.openapi_encoded = encoded
        coding = "gzip" if accepts_gzip(request.headers.get("accept-encoding")) else None
        etag = encoded.etag(coding)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if coding is None:
            return Response(encoded.identity, media_type="application/json", headers=headers)
        headers["Content-Encoding"] = coding
        return Response(encoded.gzipped, media_type="application/json", headers=headers)
