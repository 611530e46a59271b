"""Error codes from the client's side: every problem's ``type`` resolves at
``/problems/<code>``, ``GET /problems`` pages through the same registry docs/errors.md is
generated from, and refusals carry their specific code."""

from __future__ import annotations

from typing import Any

from apiworld import World, login
from fastapi.testclient import TestClient

from chainfin.domain.error_codes import CODES


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{body['code']}"
    assert body["title"] == CODES[body["code"]].title
    return body


def test_get_problems_lists_the_whole_registry_in_pages(client: TestClient) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        r = client.get("/problems", params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [p["code"] for p in seen] == sorted(CODES)
    frozen = next(p for p in seen if p["code"] == "line_frozen")
    assert frozen == {
        "code": "line_frozen",
        "type": "/problems/line_frozen",
        "status": 409,
        "title": CODES["line_frozen"].title,
        "when": CODES["line_frozen"].when,
        "action": CODES["line_frozen"].action,
        "decision": "decline",
    }


def test_a_problem_type_resolves_to_its_entry(client: TestClient) -> None:
    r = client.get("/problems/exists_with_different_request")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision"]) == (409, None)
    missing = _problem(client.get("/problems/no_such_thing"), 404)
    assert missing["code"] == "error_code_not_found"


def test_an_unknown_loan_is_loan_not_found(client: TestClient, world: World) -> None:
    body = _problem(client.get("/v1/loans/loan_nope", headers=login(client, "a-rm")), 404)
    assert body["code"] == "loan_not_found"
    assert body["detail"] == "no loan 'loan_nope'"


def test_a_missing_scope_is_scope_missing(client: TestClient, world: World) -> None:
    r = client.post(
        "/v1/credit-lines/expire", json={"as_of": "2027-01-01"}, headers=login(client, "s1")
    )
    body = _problem(r, 403)
    assert body["code"] == "scope_missing"


def test_a_bad_cursor_is_cursor_invalid(client: TestClient) -> None:
    body = _problem(client.get("/problems", params={"cursor": "%%%"}), 422)
    assert body["code"] == "cursor_invalid"
    assert body["errors"] == [{"field": "cursor", "reason": "is not a cursor this API issued"}]


def test_a_body_in_the_wrong_format_is_415(client: TestClient, world: World) -> None:
    r = client.post("/v1/bank-statements", json={"x": 1}, headers=login(client, "a-rm"))
    body = _problem(r, 415)
    assert body["code"] == "unsupported_media_type"
    assert body["errors"][0]["field"] == "content-type"
