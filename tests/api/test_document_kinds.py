"""The documented request schema of ``POST /v1/documents``, one per document kind, is what the
API accepts: every kind's OpenAPI example is accepted as it stands, and each field the schema
marks required is refused by name when it is missing."""

from __future__ import annotations

from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient

from chainfin.domain.documents import REQUIRED, DocumentKind

COMMON = {"kind", "number", "seller_uscc", "buyer_uscc", "issue_date", "total"}


def kind_schemas(client: TestClient) -> dict[str, dict[str, Any]]:
    """Each kind's schema, through the discriminator of the body ``POST /v1/documents``
    documents."""
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/documents"]["post"]["requestBody"]["content"]["application/json"]
    union = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert union["discriminator"]["propertyName"] == "kind"
    return {
        kind: spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        for kind, ref in union["discriminator"]["mapping"].items()
    }


@pytest.fixture
def parties(client: TestClient, world: World) -> dict[str, str]:
    """core A (the examples' seller) submits; the examples' buyer is registered by bank A."""
    example = kind_schemas(client)["purchase_order"]["examples"][0]
    assert example["seller_uscc"] == world.usccs["core A"]
    buyer = {
        "uscc": example["buyer_uscc"],
        "name": "北京示例采购有限公司",
        "region_code": "110105",
        "industry_code": "F51",
        "roles": ["dealer"],
    }
    r = client.post("/v1/enterprises", json=buyer, headers=login(client, "a-rm"))
    assert r.status_code == 201, r.text
    return login(client, "coreA")


def test_every_kind_is_documented_with_its_own_required_fields(client: TestClient) -> None:
    schemas = kind_schemas(client)
    assert set(schemas) == {k.value for k in DocumentKind}
    for kind, schema in schemas.items():
        assert set(schema["required"]) == COMMON | set(REQUIRED[(DocumentKind(kind), 1)]), kind
        assert schema["additionalProperties"] is False
        (example,) = schema["examples"]
        assert example["kind"] == kind
        assert set(example) <= set(schema["properties"]), kind
        assert set(schema["required"]) <= set(example), kind


def test_the_example_of_every_kind_is_accepted(client: TestClient, parties: dict[str, str]) -> None:
    for kind, schema in kind_schemas(client).items():
        r = client.post("/v1/documents", json=schema["examples"][0], headers=parties)
        assert r.status_code == 201, (kind, r.text)
        assert r.json()["accepted"] == 1
        assert r.json()["rows"][0]["key"].startswith(f"{kind}/")


def test_a_missing_required_field_is_refused_by_name(
    client: TestClient, parties: dict[str, str]
) -> None:
    for kind, schema in kind_schemas(client).items():
        for field in sorted(set(schema["required"]) - {"kind"}):
            body = {k: v for k, v in schema["examples"][0].items() if k != field}
            r = client.post("/v1/documents", json=body, headers=parties)
            assert r.status_code == 422, (kind, field, r.text)
            assert field in {e["field"] for e in r.json()["errors"]}, (kind, field)


def test_an_unknown_field_or_kind_is_refused(client: TestClient, parties: dict[str, str]) -> None:
    example = kind_schemas(client)["invoice"]["examples"][0]
    r = client.post("/v1/documents", json={**example, "colour": "red"}, headers=parties)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "colour"
    r = client.post("/v1/documents", json={**example, "kind": "receipt"}, headers=parties)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"
