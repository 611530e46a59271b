"""/openapi.json is encoded once and served as a large public file should be: gzip to a
client that accepts it, a strong ETag per representation and 304 on revalidation, cacheable
(``no-cache``) even when the request carries a session (api/openapi_doc.py)."""

from __future__ import annotations

import gzip
import json

from apiworld import World
from fastapi.testclient import TestClient

from chainfin.api.openapi_doc import accepts_gzip


def _raw(client: TestClient, **headers: str) -> tuple[int, dict[str, str], bytes]:
    with client.stream("GET", "/openapi.json", headers=headers) as r:
        body = b"".join(r.iter_raw())
        return r.status_code, dict(r.headers), body


def test_gzip_when_accepted_and_the_same_document(client: TestClient, world: World) -> None:
    status, headers, body = _raw(client, **{"accept-encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    document = json.loads(gzip.decompress(body))
    assert document == client.app.openapi()  # type: ignore[attr-defined]
    assert len(body) * 5 < len(gzip.decompress(body))  # a fifth of the size, or less


def test_identity_when_gzip_is_refused(client: TestClient, world: World) -> None:
    status, headers, body = _raw(client, **{"accept-encoding": "br, gzip;q=0"})
    assert status == 200
    assert "content-encoding" not in headers
    assert json.loads(body)["openapi"].startswith("3.")


def test_revalidation_answers_304_without_a_body(client: TestClient, world: World) -> None:
    _, first, _ = _raw(client, **{"accept-encoding": "gzip"})
    etag = first["etag"]
    status, headers, body = _raw(client, **{"accept-encoding": "gzip", "if-none-match": etag})
    assert (status, body, headers["etag"]) == (304, b"", etag)
    # the identity bytes are another representation with another validator
    status, plain, _ = _raw(client, **{"accept-encoding": "identity", "if-none-match": etag})
    assert status == 200
    assert plain["etag"] != etag


def test_cacheable_even_with_a_session_cookie(client: TestClient, world: World) -> None:
    client.cookies.set("chainfin_token", "anything")
    _, headers, _ = _raw(client, **{"accept-encoding": "gzip"})
    assert headers["cache-control"] == "no-cache"
    assert "pragma" not in headers


def test_accept_encoding_is_read_as_rfc_9110_says() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("deflate, *")
    assert accepts_gzip("GZIP;q=0.5")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("*;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")
    assert not accepts_gzip("gzip;q=zero")
