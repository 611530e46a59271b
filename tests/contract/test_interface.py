"""The interface contract, read off the OpenAPI document: every operation says what it
answers (a named schema, or a declared non-JSON media type), every JSON request body has a
named schema, and no list answers a bare array (lists are pages of ``{items, next_cursor}``
with ``limit`` and ``cursor``).

The sets below are the operations not yet brought to the contract (issue 14). They may only
shrink: an entry that now complies fails the test until it is removed, so the lists record
exactly what is left to do.
"""

from __future__ import annotations

from typing import Any

import pytest

from chainfin.app import create_app
from chainfin.config import Settings
from testkeys import TEST_DATA_KEYS

UNTYPED_RESPONSES: set[str] = set()

BARE_ARRAYS: set[str] = set()

UNTYPED_BODIES: set[str] = set()

BODYLESS = {
    "POST /v1/chains/{chain_id}/recompute",
    "POST /v1/consents/{consent_id}/revoke",
    "POST /v1/credentials/pieces/{piece_id}/accept",
    "POST /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/approve",
    "POST /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/decline",
    "POST /v1/credentials/quotes/{quote_id}/finance",
    "POST /v1/credentials/{credential_id}/cancel",
    "POST /v1/documents/{document_id}/confirm",
    "POST /v1/loan-applications/lapse",
    "POST /v1/loan-applications/{application_id}/withdraw",
    "POST /v1/receivables/{registration_id}/release",
    "POST /v1/risk/models/{model_id}/promote",
}

# Operations that take no body at all: the path names the object and the verb is the action.
# A new bodyless write must be added here deliberately.


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(
        database_url="sqlite://",
        var_dir=tmp_path_factory.mktemp("var"),
        data_keys=TEST_DATA_KEYS,
        ledger_sequencer=False,
    )
    app = create_app(settings)
    document = app.openapi()
    app.state.engine.dispose()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def _success_schemas(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (media, body.get("schema", {}))
        for status, answer in op["responses"].items()
        if status.startswith("2")
        for media, body in answer.get("content", {}).items()
    ]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    resolved: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return resolved


def _is_json(media: str) -> bool:
    """One JSON document (JSON Lines streams rows and documents them as ``itemSchema``)."""
    return media.endswith("json") and media not in {"application/x-ndjson", "application/jsonl"}


def _typed(op: dict[str, Any]) -> bool:
    schemas = _success_schemas(op)
    return bool(schemas) and all(
        "$ref" in schema or not _is_json(media) for media, schema in schemas
    )


def test_every_operation_names_what_it_answers(spec: dict[str, Any]) -> None:
    untyped = {name for name, op in _operations(spec) if not _typed(op)}
    assert untyped - UNTYPED_RESPONSES == set(), "answers without a named schema"
    assert UNTYPED_RESPONSES - untyped == set(), "now typed: remove from UNTYPED_RESPONSES"


def test_no_list_answers_a_bare_array_and_pages_take_limit_and_cursor(
    spec: dict[str, Any],
) -> None:
    bare, unpaged = set(), set()
    for name, op in _operations(spec):
        for media, schema in _success_schemas(op):
            if not _is_json(media):
                continue
            resolved = _resolve(spec, schema)
            if resolved.get("type") == "array":
                bare.add(name)
            if {"items", "next_cursor"} <= set(resolved.get("properties", {})):
                params = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
                if not {"limit", "cursor"} <= params:
                    unpaged.add(name)
    assert bare - BARE_ARRAYS == set(), "lists must answer {items, next_cursor}"
    assert BARE_ARRAYS - bare == set(), "now paged: remove from BARE_ARRAYS"
    assert unpaged == set(), "a page without ?limit= and ?cursor="


def test_every_json_body_has_a_named_schema(spec: dict[str, Any]) -> None:
    untyped, bodyless = set(), set()
    for name, op in _operations(spec):
        body = op.get("requestBody")
        if body is None:
            if name.split()[0] in {"POST", "PUT", "PATCH"}:
                bodyless.add(name)
            continue
        for media, content in body.get("content", {}).items():
            schema = content.get("schema", {})
            items = schema.get("items", {})
            if media.endswith("json") and "$ref" not in schema and "$ref" not in items:
                untyped.add(name)
    assert untyped - UNTYPED_BODIES == set(), "JSON bodies need a named schema"
    assert UNTYPED_BODIES - untyped == set(), "now typed: remove from UNTYPED_BODIES"
    assert bodyless == BODYLESS, "a write without a body: add it to BODYLESS deliberately"
