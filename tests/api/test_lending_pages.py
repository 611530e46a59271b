"""Lending lists and shapes from the client's side: every list is a page walked with
``limit`` and ``cursor`` in the order the records were made, filtered by state, dates and
parties; every write answers the model its operation declares; rates carry their unit in
their names, in answers and in request bodies alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from apiworld import PASSWORD, World, login
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from test_lending_api import (
    BANK_ACCOUNT,
    LINE_EXPIRES,
    LINE_STARTS,
    ON,
    TODAY,
    _application,
    _bank_setup,
    _invoice,
)

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.resources import lending as resources
from chainfin.services import auth

EXECUTION = TODAY + timedelta(days=5)


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _walk(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    """Every item of a list, page by page, checking each page's shape on the way."""
    items: list[Any] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = _ok(client.get(path, params=query, headers=headers))
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= params.get("limit", 50)
        items += page["items"]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            return items
        assert page["items"], "a page that promises more is not empty"
        assert pages < 100


def _ids(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    return [x["id"] for x in _walk(client, path, headers, **params)]


def _problem(r: Any, status: int, field: str) -> str:
    assert r.status_code == status, r.text
    reasons = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert field in reasons, reasons
    return reasons[field]


def _line(client: TestClient, world: World, headers: dict[str, str], expires: str) -> Any:
    body = {
        "obligor": world.usccs["core A"],
        "limit": "1000000.00",
        "starts_on": LINE_STARTS,
        "expires_on": expires,
    }
    return _ok(client.post("/v1/credit-lines", json=body, headers=headers), 201)


# ---------------------------------------------------------------------------- paging


def test_a_small_limit_visits_every_line_once_in_the_order_they_were_opened(
    client: TestClient, world: World
) -> None:
    rm = login(client, "a-rm")
    opened = [
        _line(client, world, rm, (TODAY + timedelta(days=30 * n)).isoformat())["id"]
        for n in range(1, 6)
    ]
    for limit in (1, 2, 5):
        assert _ids(client, "/v1/credit-lines", rm, limit=limit) == opened
    first = _ok(client.get("/v1/credit-lines", params={"limit": 5}, headers=rm))
    assert first["next_cursor"] is None
    # a cursor keeps its place when a line is opened behind it
    page = _ok(client.get("/v1/credit-lines", params={"limit": 3}, headers=rm))
    newer = _line(client, world, rm, LINE_EXPIRES)["id"]
    rest = _ids(client, "/v1/credit-lines", rm, limit=3, cursor=page["next_cursor"])
    assert [x["id"] for x in page["items"]] + rest == [*opened, newer]


def test_prices_page_in_the_order_recorded_and_filter_by_item_and_day(
    client: TestClient, world: World
) -> None:
    rm = login(client, "a-rm")
    recorded = []
    for n, item in enumerate(("copper foil", "steel coil", "copper foil", "steel coil", "zinc")):
        body = {
            "item": item,
            "on": (TODAY - timedelta(days=n)).isoformat(),
            "price": f"{1000 + n}.00",
            "unit": "t",
        }
        recorded.append(_ok(client.post("/v1/commodity-prices", json=body, headers=rm), 201))
    ids = [p["id"] for p in recorded]
    assert _ids(client, "/v1/commodity-prices", rm, limit=2) == ids
    assert _ids(client, "/v1/commodity-prices", rm, item="copper foil") == [ids[0], ids[2]]
    window = {"on_from": (TODAY - timedelta(days=3)).isoformat(), "on_to": ON}
    assert _ids(client, "/v1/commodity-prices", rm, **window) == ids[:4]
    assert _ids(client, "/v1/commodity-prices", login(client, "b-rm")) == []


def test_a_page_refuses_a_foreign_cursor_a_limit_out_of_bounds_and_an_empty_range(
    client: TestClient, world: World
) -> None:
    rm = login(client, "a-rm")
    for limit in (0, 501):
        r = client.get("/v1/loans", params={"limit": limit}, headers=rm)
        _problem(r, 422, "limit")
    _problem(client.get("/v1/loans", params={"cursor": "%%%"}, headers=rm), 422, "cursor")
    backwards = {"maturity_from": ON, "maturity_to": (TODAY - timedelta(days=1)).isoformat()}
    reason = _problem(client.get("/v1/loans", params=backwards, headers=rm), 422, "maturity_to")
    assert "maturity_from" in reason
    r = client.get("/v1/loans", params={"status": "lost"}, headers=rm)
    _problem(r, 422, "status")


# ---------------------------------------------------------------------------- filters


def test_credit_lines_filter_by_state_party_and_expiry(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    soon = _line(client, world, rm, (TODAY + timedelta(days=60)).isoformat())["id"]
    later = _line(client, world, rm, (TODAY + timedelta(days=300)).isoformat())["id"]
    r = client.post(f"/v1/credit-lines/{later}/freeze", json={"reason": "review"}, headers=rm)
    assert r.status_code == 200, r.text
    assert _ids(client, "/v1/credit-lines", rm, status="frozen") == [later]
    assert _ids(client, "/v1/credit-lines", rm, status="active") == [soon]
    near = {"expires_to": (TODAY + timedelta(days=90)).isoformat()}
    assert _ids(client, "/v1/credit-lines", rm, **near) == [soon]
    far = {"expires_from": (TODAY + timedelta(days=90)).isoformat()}
    assert _ids(client, "/v1/credit-lines", rm, **far) == [later]
    for party in (world.usccs["core A"], world.ids["core A"]):
        assert _ids(client, "/v1/credit-lines", rm, obligor=party) == [soon, later]
        assert _ids(client, "/v1/credit-lines", rm, core=party) == [soon, later]
    assert _ids(client, "/v1/credit-lines", rm, obligor=world.usccs["s2"]) == []
    assert _ids(client, "/v1/credit-lines", rm, obligor="91000000000000000X") == []
    # a line's sub-limits: every one for the bank, the ones naming it for a party
    sub = {"limit": "100000.00", "member": world.usccs["s1"]}
    carved = _ok(client.post(f"/v1/credit-lines/{soon}/sublimits", json=sub, headers=rm), 201)
    shown = _ok(client.get(f"/v1/credit-lines/{soon}", headers=rm))
    assert [x["id"] for x in shown["sublimits"]] == [carved["id"]]
    assert (carved["line"]["id"], carved["member_id"]) == (soon, world.ids["s1"])
    core = _ok(client.get(f"/v1/credit-lines/{soon}", headers=login(client, "coreA")))
    assert core["sublimits"] == []


@pytest.fixture
def book(client: TestClient, world: World, session_factory: sessionmaker[Session]) -> Any:
    """Two approved receivable loans to s1 (the first paid out and repaid twice before
    anything fell due) and a referred application with its two due-diligence tasks."""
    setup = _bank_setup(client, world, session_factory)
    s1, rm = login(client, "s1"), login(client, "a-rm")
    apps = []
    for number, total, amount in (("INV-0101", "500000.00", "400000.00"),
                                  ("INV-0102", "300000.00", "200000.00"),
                                  ("INV-0103", "7000000.00", "6000000.00")):  # fmt: skip
        invoice = _invoice(client, world, number, total)
        body = _application(invoice, amount)
        apps.append(_ok(client.post("/v1/loan-applications", json=body, headers=s1), 201))
    assert [a["status"] for a in apps] == ["approved", "approved", "referred"]
    first, second = apps[0]["loan_id"], apps[1]["loan_id"]
    pay = {**BANK_ACCOUNT, "execution_on": EXECUTION.isoformat(), "loan_ids": [first]}
    _ok(client.post("/v1/disbursements", json=pay, headers=rm), 201)
    repayments = [
        _ok(
            client.post(
                f"/v1/loans/{first}/repayments",
                json={"amount": "100.00", "value_on": (EXECUTION + timedelta(days=n)).isoformat()},
                headers=rm,
            ),
            201,
        )["id"]
        for n in (1, 2)
    ]
    return {
        "setup": setup,
        "apps": apps,
        "loans": (first, second),
        "repayments": repayments,
    }


def test_loans_filter_by_state_dates_borrower_and_core(
    client: TestClient, world: World, book: Any
) -> None:
    rm, s1 = login(client, "a-rm"), login(client, "s1")
    first, second = book["loans"]
    both = [first, second]
    assert _ids(client, "/v1/loans", rm, limit=1) == both
    assert _ids(client, "/v1/loans", rm, status="disbursed") == [first]
    assert _ids(client, "/v1/loans", rm, status="approved") == [second]
    day = EXECUTION.isoformat()
    assert _ids(client, "/v1/loans", rm, disbursed_from=day, disbursed_to=day) == [first]
    later = (EXECUTION + timedelta(days=1)).isoformat()
    assert _ids(client, "/v1/loans", rm, disbursed_from=later) == []
    matures = _ok(client.get(f"/v1/loans/{first}", headers=rm))["maturity_on"]
    assert _ids(client, "/v1/loans", rm, maturity_from=matures, maturity_to=matures) == [first]
    assert _ids(client, "/v1/loans", rm, maturity_to=day) == []
    for who in (world.usccs["s1"], world.ids["s1"]):
        assert _ids(client, "/v1/loans", rm, borrower=who) == both
    assert _ids(client, "/v1/loans", rm, borrower=world.usccs["s2"]) == []
    assert _ids(client, "/v1/loans", rm, core=world.usccs["core A"]) == both
    assert _ids(client, "/v1/loans", rm, core=world.usccs["core B"]) == []
    assert _ids(client, "/v1/loans", rm, category="normal") == both
    assert _ids(client, "/v1/loans", rm, product_kind="inventory_pledge") == []
    assert _ids(client, "/v1/loans", s1) == both  # the borrower sees its own
    assert _ids(client, "/v1/loans", login(client, "b-rm")) == []
    # repayments by value date, in the order applied
    path = f"/v1/loans/{first}/repayments"
    assert _ids(client, path, rm, limit=1) == book["repayments"]
    value = (EXECUTION + timedelta(days=2)).isoformat()
    assert _ids(client, path, rm, value_from=value) == book["repayments"][1:]
    assert _ids(client, path, rm, value_to=day) == []


def test_applications_and_tasks_filter_by_state_applicant_day_and_kind(
    client: TestClient, world: World, book: Any
) -> None:
    rm = login(client, "a-rm")
    apps = [a["id"] for a in book["apps"]]
    assert _ids(client, "/v1/loan-applications", rm, limit=2) == apps
    assert _ids(client, "/v1/loan-applications", rm, status="disbursed") == apps[:1]
    assert _ids(client, "/v1/loan-applications", rm, status="referred") == apps[2:]
    assert _ids(client, "/v1/loan-applications", rm, applicant=world.usccs["s1"]) == apps
    assert _ids(client, "/v1/loan-applications", rm, applicant=world.usccs["s2"]) == []
    product = book["setup"]["product"]["id"]
    assert _ids(client, "/v1/loan-applications", rm, product=product) == apps
    today = {"submitted_from": ON, "submitted_to": ON}
    assert _ids(client, "/v1/loan-applications", rm, **today) == apps
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert _ids(client, "/v1/loan-applications", rm, submitted_from=tomorrow) == []
    referred = book["apps"][2]
    tasks = _walk(client, "/v1/due-diligence-tasks", rm, limit=1)
    assert sorted(t["kind"] for t in tasks) == ["financial_analysis", "site_visit"]
    assert [t["id"] for t in tasks] == sorted(t["id"] for t in tasks)
    visits = _walk(client, "/v1/due-diligence-tasks", rm, kind="site_visit", state="open")
    assert [(t["kind"], t["application_id"]) for t in visits] == [("site_visit", referred["id"])]
    assert _ids(client, "/v1/due-diligence-tasks", rm, application=apps[0]) == []
    assert _ids(client, "/v1/due-diligence-tasks", rm, state="completed") == []


# ---------------------------------------------------------------------------- declared answers


def _declared(client: TestClient, method: str, path: str, status: str) -> str:
    op = client.get("/openapi.json").json()["paths"][path][method]
    ref: str = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def _answers(body: dict[str, Any], model: type[BaseModel]) -> None:
    """``body`` is exactly ``model``: every field and no other, and it reads back the same."""
    assert set(body) == set(model.model_fields), set(body) ^ set(model.model_fields)
    assert model.model_validate(body).model_dump(mode="json") == body


def test_each_write_answers_the_model_its_operation_declares(
    client: TestClient, world: World, book: Any, session_factory: sessionmaker[Session]
) -> None:
    rm, admin = login(client, "a-rm"), login(client, "a-admin")
    first, _ = book["loans"]
    line = _line(client, world, rm, LINE_EXPIRES)
    sub_body = {"limit": "100000.00", "product_kind": "receivable_financing"}
    writes: list[tuple[str, str, dict[str, Any], dict[str, str], int]] = [
        ("/v1/credit-lines/{line_id}/sublimits", f"/v1/credit-lines/{line['id']}/sublimits",
         sub_body, rm, 201),
        ("/v1/credit-lines/{line_id}/freeze", f"/v1/credit-lines/{line['id']}/freeze",
         {"reason": "audit"}, rm, 200),
        ("/v1/credit-lines/expire", "/v1/credit-lines/expire", {"as_of": ON}, rm, 200),
        ("/v1/exposure-caps", "/v1/exposure-caps",
         {"name": "chain A", "cap": "90000000.00", "core": world.usccs["core A"]}, rm, 201),
        ("/v1/loan-products", "/v1/loan-products",
         {"code": "INV", "name": "pledge", "config": {"kind": "inventory_pledge"}}, admin, 201),
        ("/v1/approval-authorities", "/v1/approval-authorities",
         {"user": "a-rm", "level": 2}, admin, 201),
        ("/v1/commodity-prices", "/v1/commodity-prices",
         {"item": "copper foil", "on": ON, "price": "80000.00", "unit": "t"}, rm, 201),
        ("/v1/loans/{loan_id}/repayments", f"/v1/loans/{first}/repayments",
         {"amount": "1.00", "value_on": (EXECUTION + timedelta(days=3)).isoformat()}, rm, 201),
        ("/v1/loans/accrue", "/v1/loans/accrue",
         {"as_of": (EXECUTION + timedelta(days=3)).isoformat()}, rm, 200),
        ("/v1/loans/scan", "/v1/loans/scan",
         {"as_of": (EXECUTION + timedelta(days=3)).isoformat()}, rm, 200),
    ]  # fmt: skip
    with transaction(session_factory) as s:
        auth.create_user(s, SYSTEM, username="op", password=PASSWORD, roles=["platform_operator"])
    writes.append(
        ("/v1/price-sources", "/v1/price-sources", {"code": "SHFE", "name": "SHFE"},
         login(client, "op"), 201)
    )  # fmt: skip
    for template, path, body, headers, status in writes:
        answer = _ok(client.post(path, json=body, headers=headers), status)
        _answers(answer, getattr(resources, _declared(client, "post", template, str(status))))
        if status == 201:  # a job that changed nothing has nothing to record
            assert answer["receipt"]["entries"], template
    # the answers written earlier in the book, too
    _answers(book["apps"][0], resources.LoanApplicationWrittenOut)
    _answers(book["setup"]["product"], resources.LoanProductWrittenOut)


# ---------------------------------------------------------------------------- rates


def test_rates_carry_their_unit_in_answers_and_in_request_bodies(
    client: TestClient, world: World, book: Any
) -> None:
    admin, s1 = login(client, "a-admin"), login(client, "s1")
    first, _ = book["loans"]
    loan = _ok(client.get(f"/v1/loans/{first}", headers=s1))
    assert {"annual_rate", "penalty_rate"}.isdisjoint(loan)
    contract, penalty = Decimal(loan["annual_rate_pct"]), Decimal(loan["penalty_rate_pct"])
    assert Decimal("1") < contract < Decimal("20")  # percent a year, not a fraction
    assert penalty == (contract * Decimal("1.5")).quantize(penalty)  # the product's 1.5 times
    config = book["setup"]["product"]["config"]
    assert (config["spread_bp"], config["advance_rate_cap_pct"]) == (50, "90")
    assert "advance_rate_cap" not in config
    # a product is configured with the same names it is shown with
    body = {
        "code": "INV",
        "name": "pledge",
        "config": {
            "kind": "inventory_pledge",
            "advance_rate_cap_pct": "60",
            "ltv_cap_pct": "65",
            "margin_call_ltv_pct": "75.5",
        },
    }
    product = _ok(client.post("/v1/loan-products", json=body, headers=admin), 201)
    shown = product["config"]
    assert (shown["advance_rate_cap_pct"], shown["ltv_cap_pct"], shown["margin_call_ltv_pct"]) == (
        "60",
        "65",
        "75.5",
    )
    # an applicant sees the terms, not how the bank decides
    catalogue = _walk(client, "/v1/loan-products", s1, bank="BKA", kind="inventory_pledge")
    assert [p["id"] for p in catalogue] == [product["id"]]
    assert catalogue[0]["config"]["ltv_cap_pct"] == "65"
    assert catalogue[0]["config"]["authority"] is None
    assert catalogue[0]["config"]["min_score_auto"] is None
    # the old names and fractions are refused, naming the field

    def define(**config: str) -> Any:
        cfg = {"kind": "inventory_pledge", **config}
        return client.post("/v1/loan-products", json={**body, "code": "X", "config": cfg},
                           headers=admin)  # fmt: skip

    for old in ("advance_rate_cap", "ltv_cap", "margin_call_ltv"):
        _problem(define(**{old: "0.9"}), 422, f"config.{old}")
    assert "100" in _problem(define(advance_rate_cap_pct="150"), 422, "advance_rate_cap_pct")
    r = define(ltv_cap_pct="70", margin_call_ltv_pct="60")
    assert _problem(r, 422, "margin_call_ltv_pct") == "must be above ltv_cap_pct (70)"
    _problem(define(ltv_cap_pct="seventy"), 422, "ltv_cap_pct")


def test_no_lending_field_is_a_bare_rate_or_fraction(client: TestClient) -> None:
    """Anything that is a rate or a ratio in the lending interface says its unit."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    lending = {
        name
        for name, obj in vars(resources).items()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and name in schemas
    } | {"ProductIn", "SiteVisitIn", "StatementsIn"}
    bare = []
    for name in sorted(lending):
        for prop in schemas[name].get("properties", {}):
            rate_like = any(word in prop for word in ("rate", "ltv"))
            if rate_like and not prop.endswith(("_pct", "_bp")):
                bare.append(f"{name}.{prop}")
    assert bare == []
