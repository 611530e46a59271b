"""Acting across tenants takes the owner's act: joining a programme (the lead bank invites,
the core approves), prices (each bank's own, platform sources by the operator only, a
correction is a new version), and who audits the log (a bank's auditor its bank's entries,
a platform auditor all)."""

from __future__ import annotations

from typing import Any

import pytest
from apiworld import PASSWORD, World, login, uscc
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, OwnerKind
from chainfin.domain.errors import Forbidden, ValidationFailed
from chainfin.services import auth, ledger
from worldclock import WORLD_DAY

ON = WORLD_DAY.isoformat()


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _operators(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as s:
        auth.create_user(s, SYSTEM, username="op", password=PASSWORD, roles=["platform_operator"])
        auth.create_user(s, SYSTEM, username="pa", password=PASSWORD, roles=["platform_auditor"])


def _programme(client: TestClient, world: World) -> dict[str, Any]:
    return _ok(
        client.post(
            "/v1/credentials/programmes",
            json={
                "core": world.usccs["core A"],
                "name": "core A suppliers",
                "line": "1000000.00",
                "rating": "AAA",
            },
            headers=login(client, "a-rm"),
        ),
        201,
    )


def test_another_bank_joins_only_by_the_lead_banks_invitation_and_the_cores_approval(
    client: TestClient, world: World
) -> None:
    programme = _programme(client, world)
    pid = programme["id"]
    base = f"/v1/credentials/programmes/{pid}/invitations"
    a, b = login(client, "a-rm"), login(client, "b-rm")
    # bank B cannot join, nor invite itself: it does not see the programme
    assert client.post(
        f"/v1/credentials/programmes/{pid}/funders", json={"line": "1.00"}, headers=b
    ).status_code in (404, 405)
    assert client.post(base, json={"bank": "BKB"}, headers=b).status_code == 404
    # a bank the core does not bank with cannot open a programme for it either
    hostile = client.post(
        "/v1/credentials/programmes",
        json={"core": world.usccs["core A"], "name": "x", "line": "1.00", "rating": "AAA"},
        headers=b,
    )
    assert hostile.status_code == 422
    invitation = _ok(client.post(base, json={"bank": "BKB"}, headers=a), 201)
    assert (invitation["status"], invitation["bank_code"]) == ("invited", "BKB")
    iid = invitation["id"]
    # the invited bank sees the invitation (and what it is asked to join), not the programme
    inbox = _ok(client.get("/v1/credentials/invitations", headers=b))["items"]
    assert [(i["id"], i["programme_name"]) for i in inbox] == [(iid, "core A suppliers")]
    assert client.get(f"/v1/credentials/programmes/{pid}", headers=b).status_code == 404
    # nobody but the core approves; the invited bank cannot accept before it does
    assert (
        client.post(f"{base}/{iid}/accept", json={"line": "500000.00"}, headers=b).status_code
        == 409
    )
    assert client.post(f"{base}/{iid}/approve", headers=login(client, "coreB")).status_code == 404
    assert client.post(f"{base}/{iid}/approve", headers=login(client, "s1")).status_code == 404
    assert client.post(f"{base}/{iid}/approve", headers=a).status_code == 403
    approved = _ok(client.post(f"{base}/{iid}/approve", headers=login(client, "coreA")))
    assert approved["status"] == "approved"
    # only the invited bank accepts, with its own line
    assert (
        client.post(f"{base}/{iid}/accept", json={"line": "500000.00"}, headers=a).status_code
        == 403
    )
    accepted = _ok(client.post(f"{base}/{iid}/accept", json={"line": "500000.00"}, headers=b))
    assert (accepted["status"], accepted["line"]) == ("accepted", "500000.00")
    joined = _ok(client.get(f"/v1/credentials/programmes/{pid}", headers=b))
    assert joined["limit"] == "1500000.00"
    # a funder that does not lead the programme invites nobody
    assert client.post(base, json={"bank": "BKA"}, headers=b).status_code == 403
    assert client.post(base, json={"bank": "BKB"}, headers=a).status_code == 409


def test_any_party_closes_an_open_invitation(client: TestClient, world: World) -> None:
    pid = _programme(client, world)["id"]
    base = f"/v1/credentials/programmes/{pid}/invitations"
    a, b = login(client, "a-rm"), login(client, "b-rm")
    first = _ok(client.post(base, json={"bank": "BKB"}, headers=a), 201)["id"]
    assert client.post(base, json={"bank": "BKB"}, headers=a).status_code == 409  # one open
    assert _ok(client.post(f"{base}/{first}/decline", headers=b))["status"] == "declined"
    second = _ok(client.post(base, json={"bank": "BKB"}, headers=a), 201)["id"]
    assert (
        client.post(f"{base}/{second}/decline", headers=login(client, "coreB")).status_code == 404
    )
    assert (
        _ok(client.post(f"{base}/{second}/decline", headers=login(client, "coreA")))["status"]
        == "declined"
    )
    assert (
        client.post(f"{base}/{second}/accept", json={"line": "1.00"}, headers=b).status_code == 409
    )
    listed = _ok(client.get(base, headers=a))["items"]
    assert [i["status"] for i in listed] == ["declined", "declined"]


def _price(client: TestClient, headers: dict[str, str], price: str, **extra: Any) -> Any:
    return client.post(
        "/v1/commodity-prices",
        json={"item": "copper foil", "on": ON, "price": price, "unit": "t", **extra},
        headers=headers,
    )


def test_prices_belong_to_their_bank_or_a_platform_source_and_are_corrected_by_versions(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _operators(session_factory)
    a, b, op = login(client, "a-admin"), login(client, "b-rm"), login(client, "op")
    first = _ok(_price(client, a, "80000.00"), 201)
    assert (first["owner"], first["version"]) == ("bank", 1)
    assert _ok(_price(client, a, "80000.00"), 201)["id"] == first["id"]  # the same again
    # bank B's price is bank B's: it neither overwrites nor values bank A's goods
    other = _ok(_price(client, b, "1.00"), 201)
    assert other["version"] == 1
    fixed = _ok(_price(client, a, "79500.00", note="settlement revised"), 201)
    assert (fixed["version"], fixed["note"]) == (2, "settlement revised")
    mine = _ok(client.get("/v1/commodity-prices", headers=a))["items"]
    assert [(p["version"], p["price"]) for p in mine] == [(1, "80000.00"), (2, "79500.00")]
    theirs = _ok(client.get("/v1/commodity-prices", headers=b))["items"]
    assert [p["price"] for p in theirs] == ["1.00"]
    # platform sources: created and written by the platform operator only
    assert (
        client.post(
            "/v1/price-sources", json={"code": "SHFE", "name": "SHFE"}, headers=a
        ).status_code
        == 403
    )
    _ok(
        client.post("/v1/price-sources", json={"code": "SHFE", "name": "上期所结算价"}, headers=op),
        201,
    )
    assert _price(client, a, "1.00", platform_source="SHFE").status_code == 403
    platform = _ok(_price(client, op, "81000.00", platform_source="SHFE"), 201)
    assert (platform["owner"], platform["platform_source"]) == ("platform", "SHFE")
    assert _price(client, op, "1.00").status_code == 403  # the operator has no bank prices
    seen = _ok(client.get("/v1/commodity-prices?platform_source=SHFE", headers=b))["items"]
    assert [p["price"] for p in seen] == ["81000.00"]
    sources = _ok(client.get("/v1/price-sources", headers=b))["items"]
    assert [s["code"] for s in sources] == ["SHFE"]
    # a product values its collateral at its bank's prices or at the source it names
    product = _ok(
        client.post(
            "/v1/loan-products",
            json={
                "code": "INV",
                "name": "pledge",
                "config": {"kind": "inventory_pledge", "price_source": "SHFE"},
            },
            headers=a,
        ),
        201,
    )
    assert product["config"]["price_source"] == "SHFE"
    unknown = client.post(
        "/v1/loan-products",
        json={
            "code": "INV2",
            "name": "pledge",
            "config": {"kind": "inventory_pledge", "price_source": "LME"},
        },
        headers=a,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "price_source"
    # an applicant sees the product's terms, not how the bank decides
    catalogue = _ok(client.get("/v1/loan-products?bank=BKA", headers=login(client, "s1")))
    terms = catalogue["items"][0]["config"]
    assert (terms["authority"], terms["min_score_auto"]) == (None, None)
    assert terms["ltv_cap_pct"] == "70"


def test_a_banks_auditor_reads_its_banks_entries_a_platform_auditor_reads_all(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _operators(session_factory)
    r = client.post(
        "/v1/enterprises",
        json={
            "uscc": uscc("320505", 17),
            "name": "新客户",
            "region_code": "320505",
            "industry_code": "C36",
            "roles": "supplier",
        },
        headers=login(client, "a-rm"),
    )
    entry_id = _ok(r, 201)["receipt"]["entries"][0]["entry_id"]
    with transaction(session_factory) as s:
        ledger.sequence(s, "chainfin.test/ledger")
    index = _ok(client.get(f"/v1/ledger/receipts/{entry_id}", headers=login(client, "a-rm")))[
        "inclusion"
    ]["index"]
    for user, status in (("a-auditor", 200), ("pa", 200), ("b-rm", 404), ("op", 404)):
        got = client.get(f"/v1/ledger/entries/{index}", headers=login(client, user))
        assert got.status_code == status, user
    # bank B's auditor: an auditor of its own bank only
    with transaction(session_factory) as s:
        auth.create_user(
            s, SYSTEM, username="b-auditor", password=PASSWORD, roles=["auditor"], bank_code="BKB"
        )
    b_auditor = login(client, "b-auditor")
    assert client.get(f"/v1/ledger/entries/{index}", headers=b_auditor).status_code == 404
    assert client.get(f"/v1/ledger/receipts/{entry_id}", headers=b_auditor).status_code == 404
    # the platform's credential sub-ledger spans every bank's programmes: platform auditors
    assert (
        client.get(
            "/v1/books/platform/trial-balance", headers=login(client, "a-auditor")
        ).status_code
        == 403
    )
    assert (
        client.get("/v1/books/platform/trial-balance", headers=login(client, "pa")).status_code
        == 200
    )


def test_platform_people_have_no_tenant_and_clients_no_platform_scopes(
    session_factory: sessionmaker[Session], world: World
) -> None:
    with transaction(session_factory) as s:
        user = auth.create_user(
            s, SYSTEM, username="pa2", password=PASSWORD, roles=["platform_auditor"]
        )
        p = auth.principal_for_user(user)
        assert (p.kind.value, p.bank_id, p.enterprise_id) == ("operator", None, None)
        with pytest.raises(ValidationFailed):  # platform roles are not a bank's
            auth.create_user(
                s,
                SYSTEM,
                username="x1",
                password=PASSWORD,
                roles=["platform_auditor"],
                bank_code="BKA",
            )
        with pytest.raises(ValidationFailed):
            auth.create_client(
                s,
                SYSTEM,
                name="sneaky",
                owner_kind=OwnerKind.BANK,
                owner="BKA",
                scopes=["platform:audit"],
            )
        admin = auth.principal_for_user(
            auth.create_user(
                s, SYSTEM, username="a-admin2", password=PASSWORD, roles=["admin"], bank_code="BKA"
            )
        )
        with pytest.raises(Forbidden):
            auth.create_user(
                s, admin, username="pa3", password=PASSWORD, roles=["platform_auditor"]
            )
