"""Credential lists from the client's side: pages of ``{items, next_cursor}`` in id order,
the filters a user needs, and every party entitled to a list gets it — a funder bank's staff
list the credentials and pieces their bank funds, and nothing of another bank's. Writes
answer with the model their route declares."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.resources import books as books_resources
from chainfin.resources import credentials as resources
from chainfin.services import rates

ISSUED_ON = "2026-11-26"


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _payable(client: TestClient, world: World, core: str, core_user: str, number: int) -> str:
    """A confirmed invoice from s1 to ``core`` and the core's debtor confirmation of it."""
    s1, debtor = login(client, "s1"), login(client, core_user)
    invoice = {
        "kind": "invoice",
        "number": f"INV-LIST-{number}",
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs[core],
        "issue_date": "2026-11-20",
        "currency": "CNY",
        "total": "500000.00",
        "tax": "57522.12",
        "invoice_number": f"2632000000000000{number:04d}",
        "due_date": "2027-02-20",
    }
    doc = _ok(client.post("/v1/documents", json=invoice, headers=s1), 201)["rows"][0]
    r = client.post(f"/v1/documents/{doc['document_id']}/confirm", headers=debtor)
    assert r.status_code in (200, 201), r.text
    confirmation = {
        "supplier": world.usccs["s1"],
        "amount": "500000.00",
        "due_on": "2027-02-20",
        "document_ids": [doc["document_id"]],
    }
    r = client.post("/v1/credentials/confirmations", json=confirmation, headers=debtor)
    return str(_ok(r, 201)["id"])


def _programme(client: TestClient, world: World, core: str, bank_user: str) -> str:
    body = {
        "core": world.usccs[core],
        "name": f"{core} payables",
        "line": "2000000.00",
        "rating": "AA+",
        "min_piece": "1000.00",
    }
    r = client.post("/v1/credentials/programmes", json=body, headers=login(client, bank_user))
    return str(_ok(r, 201)["id"])


def _issue(
    client: TestClient,
    core_user: str,
    programme: str,
    confirmation: str,
    amount: str,
    maturity_on: str = "2027-02-22",
    issued_on: str = ISSUED_ON,
) -> dict[str, Any]:
    body = {
        "programme_id": programme,
        "confirmation_ids": [confirmation],
        "amount": amount,
        "maturity_on": maturity_on,
        "issued_on": issued_on,
    }
    return dict(
        _ok(client.post("/v1/credentials", json=body, headers=login(client, core_user)), 201)
    )


@pytest.fixture
def two_banks(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> dict[str, Any]:
    """Bank A funds core A's credential to s1, bank B core B's; s1 accepted both and split
    core A's in two."""
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    s1 = login(client, "s1")
    a = _issue(
        client,
        "coreA",
        _programme(client, world, "core A", "a-rm"),
        _payable(client, world, "core A", "coreA", 1),
        "300000.00",
    )
    b = _issue(
        client,
        "coreB",
        _programme(client, world, "core B", "b-rm"),
        _payable(client, world, "core B", "coreB", 2),
        "200000.00",
    )
    for credential in (a, b):
        root = credential["pieces"][0]["id"]
        _ok(client.post(f"/v1/credentials/pieces/{root}/accept", headers=s1))
    a_root = a["pieces"][0]["id"]
    split = client.post(
        f"/v1/credentials/pieces/{a_root}/split",
        json={"amounts": ["100000.00", "200000.00"]},
        headers=s1,
    )
    parts = [p["id"] for p in _ok(split, 201)["pieces"]]
    return {"a": a, "b": b, "a_parts": parts, "b_root": b["pieces"][0]["id"]}


def _ids(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    page = _ok(client.get(path, headers=headers, params=params))
    assert page["next_cursor"] is None
    return [item["id"] for item in page["items"]]


def _walk(
    client: TestClient, path: str, headers: dict[str, str], limit: int, **params: Any
) -> list[list[str]]:
    """Every page of a list, following next_cursor, as lists of ids."""
    pages, cursor = [], None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = _ok(client.get(path, headers=headers, params=query))
        assert set(page) == {"items", "next_cursor"}
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor does not move"


# ------------------------------------------------------------------------------ tenancy


def test_bank_staff_list_the_credentials_their_bank_funds_and_no_other(
    client: TestClient, two_banks: dict[str, Any]
) -> None:
    a, b = two_banks["a"], two_banks["b"]
    a_rm, b_rm = login(client, "a-rm"), login(client, "b-rm")
    assert _ids(client, "/v1/credentials", a_rm) == [a["id"]]
    assert _ids(client, "/v1/credentials", b_rm) == [b["id"]]
    # naming another bank or its core narrows the caller's list; it never widens it
    assert _ids(client, "/v1/credentials", a_rm, funder="BKB") == []
    assert _ids(client, "/v1/credentials", a_rm, funder="BKA") == [a["id"]]
    assert _ids(client, "/v1/credentials", a_rm, core=b["issuer_id"]) == []
    # each listed credential is one the bank also reads by id
    assert _ok(client.get(f"/v1/credentials/{a['id']}", headers=a_rm))["id"] == a["id"]


def test_bank_staff_list_the_pieces_their_bank_funds_and_no_other(
    client: TestClient, world: World, two_banks: dict[str, Any]
) -> None:
    a_rm, b_rm = login(client, "a-rm"), login(client, "b-rm")
    assert _ids(client, "/v1/credentials/pieces", a_rm) == two_banks["a_parts"]
    assert _ids(client, "/v1/credentials/pieces", b_rm) == [two_banks["b_root"]]
    s1 = world.usccs["s1"]  # s1 holds pieces in both banks' programmes
    assert _ids(client, "/v1/credentials/pieces", a_rm, holder=s1) == two_banks["a_parts"]
    assert _ids(client, "/v1/credentials/pieces", b_rm, holder=s1) == [two_banks["b_root"]]
    assert _ids(client, "/v1/credentials/pieces", a_rm, credential_id=two_banks["b"]["id"]) == []
    closed = _ids(client, "/v1/credentials/pieces", a_rm, include_closed=True)
    assert closed == [two_banks["a"]["pieces"][0]["id"], *two_banks["a_parts"]]


def test_a_financed_piece_is_listed_by_the_bank_that_discounted_it(
    client: TestClient, two_banks: dict[str, Any]
) -> None:
    s1, a_rm = login(client, "s1"), login(client, "a-rm")
    piece = two_banks["a_parts"][0]
    q = _ok(
        client.post(
            f"/v1/credentials/pieces/{piece}/quote",
            json={"bank": "BKA", "as_of": ISSUED_ON},
            headers=s1,
        ),
        201,
    )
    financing = _ok(client.post(f"/v1/credentials/quotes/{q['id']}/finance", headers=s1), 201)
    held = _ids(client, "/v1/credentials/pieces", a_rm, financed_by="BKA")
    assert held == [financing["bank_piece_id"]]
    assert _ids(
        client, "/v1/credentials/pieces", a_rm, financed_by="BKA", status="transferred"
    ) == [piece]
    assert _ids(client, "/v1/credentials/pieces", login(client, "b-rm"), financed_by="BKA") == []


def test_holders_and_issuers_list_what_they_may_read(
    client: TestClient, two_banks: dict[str, Any]
) -> None:
    a, b = two_banks["a"], two_banks["b"]
    # s1 holds pieces of both credentials; each core sees the one it issued
    assert _ids(client, "/v1/credentials", login(client, "s1")) == [a["id"], b["id"]]
    assert _ids(client, "/v1/credentials", login(client, "coreA")) == [a["id"]]
    assert _ids(client, "/v1/credentials", login(client, "coreB")) == [b["id"]]
    # the issuer lists every live piece of its credential; s2 holds nothing
    assert _ids(client, "/v1/credentials/pieces", login(client, "coreA")) == two_banks["a_parts"]
    assert _ids(client, "/v1/credentials", login(client, "s2-staff")) == []
    assert _ids(client, "/v1/credentials/pieces", login(client, "s2-staff")) == []


# ------------------------------------------------------------------------------ pages


def test_paging_with_a_small_limit_visits_every_credential_once_in_order(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    programme = _programme(client, world, "core A", "a-rm")
    confirmation = _payable(client, world, "core A", "coreA", 3)
    issued = [_issue(client, "coreA", programme, confirmation, "10000.00")["id"] for _ in range(5)]
    core = login(client, "coreA")
    pages = _walk(client, "/v1/credentials", core, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == sorted(issued)
    # the bank funding the programme pages through the same credentials
    assert [
        i for p in _walk(client, "/v1/credentials", login(client, "a-rm"), limit=3) for i in p
    ] == sorted(issued)


def test_paging_with_a_small_limit_visits_every_piece_once_in_order(
    client: TestClient, two_banks: dict[str, Any]
) -> None:
    s1 = login(client, "s1")
    parts = _ok(
        client.post(
            f"/v1/credentials/pieces/{two_banks['a_parts'][1]}/split",
            json={"amounts": ["50000.00"] * 4},
            headers=s1,
        ),
        201,
    )["pieces"]
    expected = sorted([two_banks["a_parts"][0], two_banks["b_root"], *(p["id"] for p in parts)])
    pages = _walk(client, "/v1/credentials/pieces", s1, limit=2)
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in p] == expected
    assert len(set(expected)) == 6


def test_limits_and_cursors_are_checked(client: TestClient, two_banks: dict[str, Any]) -> None:
    s1 = login(client, "s1")
    for limit in (0, 501):
        r = client.get("/v1/credentials", params={"limit": limit}, headers=s1)
        assert r.status_code == 422, r.text
    r = client.get("/v1/credentials/pieces", params={"cursor": "not a cursor!"}, headers=s1)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cursor"


# ------------------------------------------------------------------------------ filters


def test_credentials_are_filtered_by_state_dates_and_counterparty(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    programme = _programme(client, world, "core A", "a-rm")
    confirmation = _payable(client, world, "core A", "coreA", 4)
    early = _issue(client, "coreA", programme, confirmation, "10000.00", "2027-01-15", "2026-11-20")
    late = _issue(client, "coreA", programme, confirmation, "10000.00", "2027-04-15")
    root = late["pieces"][0]["id"]
    _ok(client.post(f"/v1/credentials/pieces/{root}/accept", headers=login(client, "s1")))
    core = login(client, "coreA")
    path = "/v1/credentials"
    assert _ids(client, path, core, status="active") == [late["id"]]
    assert _ids(client, path, core, status=["offered", "active"]) == [early["id"], late["id"]]
    assert _ids(client, path, core, maturity_from="2027-02-01") == [late["id"]]
    assert _ids(client, path, core, maturity_to="2027-02-01") == [early["id"]]
    assert _ids(client, path, core, issued_to="2026-11-25") == [early["id"]]
    assert _ids(client, path, core, issued_from=ISSUED_ON, issued_to=ISSUED_ON) == [late["id"]]
    assert _ids(client, path, core, holder=world.usccs["s1"]) == [early["id"], late["id"]]
    assert _ids(client, path, core, core=world.usccs["core A"], programme_id=programme) == [
        early["id"],
        late["id"],
    ]
    pieces = "/v1/credentials/pieces"
    assert _ids(client, pieces, core, maturity_from="2027-02-01") == [root]
    assert _ids(client, pieces, core, status="offered") == [early["pieces"][0]["id"]]
    backwards = client.get(
        path, params={"maturity_from": "2027-03-01", "maturity_to": "2027-02-01"}, headers=core
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "maturity_from"
    stranger = client.get(path, params={"holder": "91110000MA00000000"}, headers=core)
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "holder"
    assert client.get(path, params={"status": "lost"}, headers=core).status_code == 422


def test_programmes_confirmations_and_invitations_are_pages_with_filters(
    client: TestClient, world: World, two_banks: dict[str, Any]
) -> None:
    a_rm, core = login(client, "a-rm"), login(client, "coreA")
    (programme,) = _ids(client, "/v1/credentials/programmes", a_rm)
    assert _ids(client, "/v1/credentials/programmes", a_rm, funder="BKB") == []
    assert _ids(client, "/v1/credentials/programmes", core, core=world.usccs["core A"]) == [
        programme
    ]
    confirmations = _ids(client, "/v1/credentials/confirmations", login(client, "s1"))
    assert len(confirmations) == 2
    by_a = _ids(
        client, "/v1/credentials/confirmations", login(client, "s1"), debtor=world.usccs["core A"]
    )
    assert by_a == [
        c for c in confirmations if c in _ids(client, "/v1/credentials/confirmations", core)
    ]
    assert _ids(client, "/v1/credentials/confirmations", core, due_from="2027-03-01") == []
    base = f"/v1/credentials/programmes/{programme}/invitations"
    invited = _ok(client.post(base, json={"bank": "BKB"}, headers=a_rm), 201)
    assert _ids(client, base, a_rm) == [invited["id"]]
    assert _ids(client, base, a_rm, status="accepted") == []
    inbox = login(client, "b-rm")
    assert _ids(client, "/v1/credentials/invitations", inbox, status="invited") == [invited["id"]]
    assert _ids(client, "/v1/credentials/invitations", inbox, bank="BKA") == []


# ------------------------------------------------------------------------------ writes


def _declared(client: TestClient, method: str, path: str, status: int) -> type[BaseModel]:
    spec = client.get("/openapi.json").json()
    schema = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    name = schema["schema"]["$ref"].rsplit("/", 1)[-1]
    model = getattr(resources, name, None) or getattr(books_resources, name)
    assert issubclass(model, BaseModel)
    return model  # type: ignore[no-any-return]


def _conforms(client: TestClient, r: Any, method: str, path: str, status: int) -> dict[str, Any]:
    """The answer has the route's status and exactly the fields of its declared model."""
    assert r.status_code == status, r.text
    model = _declared(client, method, path, status)
    body = r.json()
    model.model_validate(body)
    assert set(body) == set(model.model_fields), model.__name__
    assert "receipt" in model.model_fields
    assert body["receipt"] is not None
    return dict(body)


def test_every_credential_write_answers_its_declared_model(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
    core, s1, a_rm = login(client, "coreA"), login(client, "s1"), login(client, "a-rm")
    body = {"core": world.usccs["core A"], "name": "p", "line": "2000000.00", "rating": "AA+"}
    programme = _conforms(
        client,
        client.post("/v1/credentials/programmes", json=body, headers=a_rm),
        "post",
        "/v1/credentials/programmes",
        201,
    )
    assert (programme["limit"], programme["available"], programme["currency"]) == (
        "2000000.00",
        "2000000.00",
        "CNY",
    )
    confirmation = _payable(client, world, "core A", "coreA", 5)
    issue = {
        "programme_id": programme["id"],
        "confirmation_ids": [confirmation],
        "amount": "300000.00",
        "maturity_on": "2027-02-22",
        "issued_on": ISSUED_ON,
    }
    credential = _conforms(
        client,
        client.post("/v1/credentials", json=issue, headers=core),
        "post",
        "/v1/credentials",
        201,
    )
    assert (credential["face"], credential["outstanding"]) == ("300000.00", "300000.00")
    root = credential["pieces"][0]["id"]
    pieces = "/v1/credentials/pieces/{piece_id}"
    _conforms(
        client,
        client.post(f"/v1/credentials/pieces/{root}/accept", headers=s1),
        "post",
        pieces + "/accept",
        200,
    )
    split = _conforms(
        client,
        client.post(
            f"/v1/credentials/pieces/{root}/split",
            json={"amounts": ["100000.00", "200000.00"]},
            headers=s1,
        ),
        "post",
        pieces + "/split",
        201,
    )
    first, second = (p["id"] for p in split["pieces"])
    moved = _conforms(
        client,
        client.post(
            f"/v1/credentials/pieces/{first}/transfer",
            json={"to": world.usccs["s2"], "amount": "40000.00"},
            headers=s1,
        ),
        "post",
        pieces + "/transfer",
        201,
    )
    assert (moved["offered"]["amount"], moved["kept"]["amount"]) == ("40000.00", "60000.00")
    quote = _conforms(
        client,
        client.post(
            f"/v1/credentials/pieces/{second}/quote",
            json={"bank": "BKA", "as_of": ISSUED_ON},
            headers=s1,
        ),
        "post",
        pieces + "/quote",
        201,
    )
    assert quote["fixing"]["rate_1y_pct"] == quote["base_rate_pct"]
    parts = [
        quote["net_proceeds"],
        quote["discount_interest"],
        *(f["amount"] for f in quote["fees"]),
    ]
    assert sum(Decimal(p) for p in parts) == Decimal(quote["face"]) == Decimal("200000.00")
    financing = _conforms(
        client,
        client.post(f"/v1/credentials/quotes/{quote['id']}/finance", headers=s1),
        "post",
        "/v1/credentials/quotes/{quote_id}/finance",
        201,
    )
    assert financing["discount_rate_pct"] == quote["discount_rate_pct"]
    assert financing["net_proceeds"] == quote["net_proceeds"]
    payment = _conforms(
        client,
        client.post(
            f"/v1/credentials/{credential['id']}/settle",
            json={"amount": "300000.00", "payment_ref": "PAY-1", "paid_on": "2027-02-22"},
            headers=core,
        ),
        "post",
        "/v1/credentials/{credential_id}/settle",
        201,
    )
    assert sorted(a["principal"] for a in payment["allocations"]) == [
        "200000.00",
        "40000.00",
        "60000.00",
    ]
    invitations = "/v1/credentials/programmes/{programme_id}/invitations"
    _conforms(
        client,
        client.post(
            f"/v1/credentials/programmes/{programme['id']}/invitations",
            json={"bank": "BKB"},
            headers=a_rm,
        ),
        "post",
        invitations,
        201,
    )
