"""Authentication from the client's side: tokens, 401s, problem+json, scopes."""

from __future__ import annotations

import pytest
from apiworld import PASSWORD, World, login
from fastapi.testclient import TestClient

PROTECTED = [
    "/v1/me",
    "/v1/enterprises",
    "/v1/relations",
    "/v1/chains",
    "/v1/banks",
    "/v1/registry/enterprises/export",
    "/v1/reference/industries",
]


def test_health_needs_no_principal(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_openapi_is_3_1_and_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/v1/enterprises" in spec["paths"]
    assert "/oauth/token" in spec["paths"]


PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),  # RFC 7009: holding the token is the authority to revoke it
    ("GET", "/oauth/jwks"),  # the public keys that verify tokens
    # the log's public face: signed checkpoints, keys, consistency proofs (no private data)
    ("GET", "/v1/ledger/checkpoint"),
    ("GET", "/v1/ledger/checkpoints/{tree_size}"),
    ("GET", "/v1/ledger/keys"),
    ("GET", "/v1/ledger/consistency"),
    ("GET", "/v1/ledger/witnesses"),
    # the error-code reference every problem's type points to
    ("GET", "/problems"),
    ("GET", "/problems/{code}"),
}


def test_every_operation_in_the_spec_answers_401_without_a_token(client: TestClient) -> None:
    """Walks the OpenAPI document, so a new endpoint that forgets authentication fails here."""
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method in operations:
            if (method.upper(), path) in PUBLIC:
                continue
            concrete = path.replace("{kind}", "enterprises")
            for name in ("enterprise_id", "chain_id", "code", "index", "entry_id", "tree_size"):
                concrete = concrete.replace("{" + name + "}", "320505")
            r = client.request(method.upper(), concrete)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("path", PROTECTED)
def test_every_endpoint_needs_a_token(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "token_missing"
    assert body["type"] == "/problems/token_missing"
    assert body["status"] == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_garbage_and_forged_tokens_are_refused(client: TestClient, world: World) -> None:
    assert client.get("/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    import jwt

    forged = jwt.encode({"sub": "x", "iss": "chainfin", "exp": 4102444800}, "wrong-key" * 5)
    r = client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert r.json()["detail"] == "the access token is not valid"


def test_password_grant_and_me(client: TestClient, world: World) -> None:
    me = client.get("/v1/me", headers=login(client, "a-rm")).json()
    assert me["kind"] == "staff"
    assert me["roles"] == ["relationship_manager"]
    assert me["scopes"] == [
        "books:read",
        "credentials:read",
        "documents:read",
        "financing:write",
        "loans:read",
        "loans:write",
        "registry:read",
        "registry:write",
    ]
    assert me["bank_id"] is not None


def test_wrong_password_is_an_oauth_error(client: TestClient, world: World) -> None:
    r = client.post(
        "/oauth/token", data={"grant_type": "password", "username": "a-rm", "password": "nope"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    r = client.post(
        "/oauth/token", data={"grant_type": "password", "username": "ghost", "password": "nope"}
    )
    assert r.json()["error"] == "invalid_grant"


def test_client_credentials_in_form_and_basic(client: TestClient, world: World) -> None:
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.client_id,
            "client_secret": world.client_secret,
        },
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "registry:read"
    r2 = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(world.client_id, world.client_secret),
    )
    assert r2.status_code == 200
    bad = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.client_id,
            "client_secret": "wrong",
        },
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_a_client_cannot_ask_for_more_scope_than_granted(client: TestClient, world: World) -> None:
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            "scope": "registry:write",
        },
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


def test_unsupported_grant(client: TestClient) -> None:
    r = client.post("/oauth/token", data={"grant_type": "implicit"})
    assert r.json()["error"] == "unsupported_grant_type"


def test_read_only_role_cannot_write(client: TestClient, world: World) -> None:
    headers = login(client, "a-auditor")
    r = client.post(
        "/v1/registry/enterprises/import",
        content=b"uscc,name\n",
        headers={**headers, "content-type": "text/csv"},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "scope_missing"


def test_deactivated_user_loses_access_at_once(
    client: TestClient, world: World, session_factory
) -> None:
    from sqlalchemy import update

    from chainfin.adapters.db.models import User

    headers = login(client, "a-rm")
    assert client.get("/v1/me", headers=headers).status_code == 200
    with session_factory() as s, s.begin():
        s.execute(update(User).where(User.username == "a-rm").values(active=False))
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_passwords_are_stored_as_argon2(world: World, session_factory) -> None:
    from sqlalchemy import select

    from chainfin.adapters.db.models import User

    with session_factory() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)
