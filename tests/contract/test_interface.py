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

UNTYPED_RESPONSES = {
    "GET /healthz",
    "GET /oauth/jwks",
    "GET /readyz",
    "GET /v1/alerts",
    "GET /v1/bank-statements/{import_id}",
    "GET /v1/banks",
    "GET /v1/books/{book}/accounts/{account}/statement",
    "GET /v1/books/{book}/general-ledger",
    "GET /v1/books/{book}/trial-balance",
    "GET /v1/commodity-prices",
    "GET /v1/consents",
    "GET /v1/credentials",
    "GET /v1/credentials/confirmations",
    "GET /v1/credentials/invitations",
    "GET /v1/credentials/pieces",
    "GET /v1/credentials/pieces/{piece_id}",
    "GET /v1/credentials/programmes",
    "GET /v1/credentials/programmes/{programme_id}",
    "GET /v1/credentials/programmes/{programme_id}/invitations",
    "GET /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}",
    "GET /v1/credentials/quotes/{quote_id}",
    "GET /v1/credentials/{credential_id}",
    "GET /v1/credentials/{credential_id}/due",
    "GET /v1/credentials/{credential_id}/tree",
    "GET /v1/credit-lines",
    "GET /v1/credit-lines/{line_id}",
    "GET /v1/disbursements/{file_id}",
    "GET /v1/due-diligence-tasks",
    "GET /v1/due-diligence-tasks/{task_id}",
    "GET /v1/enterprises/{enterprise_id}/findings",
    "GET /v1/enterprises/{enterprise_id}/trade-cases",
    "GET /v1/exposure-caps",
    "GET /v1/iot/dead-letters",
    "GET /v1/iot/devices",
    "GET /v1/iot/devices/{ref}",
    "GET /v1/iot/devices/{ref}/readings",
    "GET /v1/ledger/witnesses",
    "GET /v1/loan-applications",
    "GET /v1/loan-applications/{application_id}",
    "GET /v1/loan-products",
    "GET /v1/loans",
    "GET /v1/loans/{loan_id}",
    "GET /v1/loans/{loan_id}/repayments",
    "GET /v1/portfolio/exposure",
    "GET /v1/portfolio/sectors",
    "GET /v1/price-sources",
    "GET /v1/rates/lpr",
    "GET /v1/receivables",
    "GET /v1/receivables/filing",
    "GET /v1/reference/industries",
    "GET /v1/registry/{kind}/export",
    "GET /v1/risk/contagion",
    "GET /v1/risk/models",
    "GET /v1/risk/models/{model_id}",
    "GET /v1/risk/models/{model_id}/monitoring",
    "POST /oauth/revoke",
    "POST /v1/alerts/escalate",
    "POST /v1/alerts/{alert_id}/acknowledge",
    "POST /v1/alerts/{alert_id}/resolve",
    "POST /v1/approval-authorities",
    "POST /v1/bank-statements",
    "POST /v1/books/journals/{journal_id}/reverse",
    "POST /v1/commodity-prices",
    "POST /v1/credentials",
    "POST /v1/credentials/confirmations",
    "POST /v1/credentials/pieces/{piece_id}/accept",
    "POST /v1/credentials/pieces/{piece_id}/quote",
    "POST /v1/credentials/pieces/{piece_id}/reject",
    "POST /v1/credentials/pieces/{piece_id}/split",
    "POST /v1/credentials/pieces/{piece_id}/transfer",
    "POST /v1/credentials/programmes",
    "POST /v1/credentials/programmes/{programme_id}/invitations",
    "POST /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/accept",
    "POST /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/approve",
    "POST /v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/decline",
    "POST /v1/credentials/quotes/{quote_id}/finance",
    "POST /v1/credentials/{credential_id}/cancel",
    "POST /v1/credentials/{credential_id}/settle",
    "POST /v1/credit-lines",
    "POST /v1/credit-lines/expire",
    "POST /v1/credit-lines/{line_id}/close",
    "POST /v1/credit-lines/{line_id}/freeze",
    "POST /v1/credit-lines/{line_id}/sublimits",
    "POST /v1/credit-lines/{line_id}/unfreeze",
    "POST /v1/disbursements",
    "POST /v1/documents",
    "POST /v1/documents/batch",
    "POST /v1/due-diligence-tasks/{task_id}/financial-analysis",
    "POST /v1/due-diligence-tasks/{task_id}/site-visit",
    "POST /v1/early-warning/scan",
    "POST /v1/exposure-caps",
    "POST /v1/iot/devices",
    "POST /v1/iot/devices/{ref}/bind",
    "POST /v1/iot/devices/{ref}/retire",
    "POST /v1/iot/telemetry",
    "POST /v1/loan-applications",
    "POST /v1/loan-applications/lapse",
    "POST /v1/loan-applications/{application_id}/conditions/{n}/met",
    "POST /v1/loan-applications/{application_id}/review",
    "POST /v1/loan-applications/{application_id}/withdraw",
    "POST /v1/loan-products",
    "POST /v1/loans/accrue",
    "POST /v1/loans/scan",
    "POST /v1/loans/{loan_id}/buy-back",
    "POST /v1/loans/{loan_id}/extension",
    "POST /v1/loans/{loan_id}/goods-releases",
    "POST /v1/loans/{loan_id}/prepayments",
    "POST /v1/loans/{loan_id}/repayments",
    "POST /v1/price-sources",
    "POST /v1/risk/models",
    "POST /v1/risk/models/{model_id}/monitoring",
    "POST /v1/risk/models/{model_id}/promote",
    "POST /v1/risk/models/{name}/score",
}

BARE_ARRAYS = {
    "GET /v1/alerts",
    "GET /v1/banks",
    "GET /v1/commodity-prices",
    "GET /v1/consents",
    "GET /v1/credentials",
    "GET /v1/credentials/confirmations",
    "GET /v1/credentials/invitations",
    "GET /v1/credentials/pieces",
    "GET /v1/credentials/programmes",
    "GET /v1/credentials/programmes/{programme_id}/invitations",
    "GET /v1/credit-lines",
    "GET /v1/due-diligence-tasks",
    "GET /v1/enterprises/{enterprise_id}/findings",
    "GET /v1/enterprises/{enterprise_id}/trade-cases",
    "GET /v1/exposure-caps",
    "GET /v1/iot/dead-letters",
    "GET /v1/iot/devices",
    "GET /v1/iot/devices/{ref}/readings",
    "GET /v1/ledger/witnesses",
    "GET /v1/loan-applications",
    "GET /v1/loan-products",
    "GET /v1/loans",
    "GET /v1/loans/{loan_id}/repayments",
    "GET /v1/price-sources",
    "GET /v1/receivables",
    "GET /v1/receivables/filing",
    "GET /v1/reference/industries",
    "GET /v1/risk/models",
    "GET /v1/risk/models/{model_id}/monitoring",
}

UNTYPED_BODIES = {
    "POST /v1/documents",
    "POST /v1/documents/batch",
    "POST /v1/due-diligence-tasks/{task_id}/financial-analysis",
    "POST /v1/due-diligence-tasks/{task_id}/site-visit",
    "POST /v1/enterprises",
    "POST /v1/iot/telemetry",
    "POST /v1/registry/{kind}/import",
    "POST /v1/relations",
}

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


def _typed(op: dict[str, Any]) -> bool:
    schemas = _success_schemas(op)
    return bool(schemas) and all(
        "$ref" in schema or not media.endswith("json") for media, schema in schemas
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
            if not media.endswith("json"):
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
