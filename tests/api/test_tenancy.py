"""Tenant isolation through the API: every registry endpoint, probed across tenants.

Reading another tenant's record answers 404 (its existence is not disclosed); an action the
principal's role does not allow on something it can see answers 403.
"""

from __future__ import annotations

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient


def ids_of(client: TestClient, path: str, headers: dict[str, str]) -> set[str]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return {item.get("id") or item.get("enterprise_id") for item in r.json()["items"]}


def test_bank_staff_see_only_their_customers(client: TestClient, world: World) -> None:
    a = login(client, "a-rm")
    b = login(client, "b-rm")
    seen_a = ids_of(client, "/v1/enterprises", a)
    seen_b = ids_of(client, "/v1/enterprises", b)
    w = world.ids
    assert {w["core A"], w["s1"], w["s2"], w["d1"], w["bank A"]} == seen_a
    assert {w["core B"], w["bank B"]} == seen_b


@pytest.mark.parametrize(
    ("user", "target", "path"),
    [
        ("b-rm", "core A", "/v1/enterprises/{id}"),
        ("b-rm", "core A", "/v1/enterprises/{id}/relations"),
        ("a-rm", "core B", "/v1/enterprises/{id}"),
        ("a-rm", "core B", "/v1/enterprises/{id}/relations"),
        ("coreB", "core A", "/v1/enterprises/{id}"),
        ("coreB", "s1", "/v1/enterprises/{id}/relations"),
        ("s2-staff", "core A", "/v1/enterprises/{id}"),
        ("s2-staff", "d1", "/v1/enterprises/{id}/relations"),
    ],
)
def test_cross_tenant_enterprise_reads_are_404(
    client: TestClient, world: World, user: str, target: str, path: str
) -> None:
    r = client.get(path.format(id=world.ids[target]), headers=login(client, user))
    assert r.status_code == 404
    assert r.json()["code"] == "enterprise_not_found"


@pytest.mark.parametrize(
    ("user", "chain", "path"),
    [
        ("b-rm", "a", "/v1/chains/{id}"),
        ("b-rm", "a", "/v1/chains/{id}/members"),
        ("a-rm", "b", "/v1/chains/{id}"),
        ("coreB", "a", "/v1/chains/{id}/members"),
        ("s2-staff", "b", "/v1/chains/{id}"),
    ],
)
def test_cross_tenant_chain_reads_are_404(
    client: TestClient, world: World, user: str, chain: str, path: str
) -> None:
    chain_id = world.chain_a if chain == "a" else world.chain_b
    r = client.get(path.format(id=chain_id), headers=login(client, user))
    assert r.status_code == 404


def test_cross_tenant_recompute_is_404_and_readonly_is_403(
    client: TestClient, world: World
) -> None:
    r = client.post(f"/v1/chains/{world.chain_a}/recompute", headers=login(client, "b-rm"))
    assert r.status_code == 404
    r = client.post(f"/v1/chains/{world.chain_a}/recompute", headers=login(client, "a-auditor"))
    assert r.status_code == 403
    r = client.post(f"/v1/chains/{world.chain_a}/recompute", headers=login(client, "a-rm"))
    assert r.status_code == 200


def test_lists_and_exports_never_leak(client: TestClient, world: World) -> None:
    b = login(client, "b-rm")
    assert ids_of(client, "/v1/relations", b) == set()
    assert ids_of(client, "/v1/chains", b) == {world.chain_b}
    export = client.get("/v1/registry/enterprises/export?format=json", headers=b).json()
    assert {row["uscc"] for row in export} == {world.usccs["core B"], world.usccs["bank B"]}
    rel_export = client.get("/v1/registry/relations/export?format=json", headers=b).json()
    assert rel_export == []


def test_enterprise_user_sees_self_and_counterparties_public_profile(
    client: TestClient, world: World
) -> None:
    s1 = login(client, "s1")
    seen = ids_of(client, "/v1/enterprises", s1)
    assert seen == {world.ids["s1"], world.ids["core A"], world.ids["s2"]}
    own = client.get(f"/v1/enterprises/{world.ids['s1']}", headers=s1).json()
    assert own["employees"] == 120
    assert own["phone"] == "138****5678"
    assert own["legal_representative"] == "王**"
    other = client.get(f"/v1/enterprises/{world.ids['core A']}", headers=s1).json()
    assert other["name"] == "core A"
    for private in ("employees", "revenue", "phone", "legal_representative", "address"):
        assert other[private] is None, private


def test_member_sees_chain_but_only_its_own_row_core_sees_all(
    client: TestClient, world: World
) -> None:
    s2 = login(client, "s2-staff")
    members = client.get(f"/v1/chains/{world.chain_a}/members", headers=s2).json()["items"]
    assert [(m["enterprise_id"], m["side"], m["tier"]) for m in members] == [
        (world.ids["s2"], "upstream", 2)
    ]
    core = login(client, "coreA")
    all_members = client.get(f"/v1/chains/{world.chain_a}/members", headers=core).json()["items"]
    assert len(all_members) == 4


def test_enterprise_cannot_register_other_enterprises(client: TestClient, world: World) -> None:
    r = client.post(
        "/v1/enterprises",
        json={
            "uscc": world.usccs["core B"],
            "name": "x",
            "region_code": "440305",
            "industry_code": "C39",
            "roles": "supplier",
        },
        headers=login(client, "s1"),
    )
    assert r.status_code == 403


def test_enterprise_records_only_relations_it_is_party_to(client: TestClient, world: World) -> None:
    r = client.post(
        "/v1/relations",
        json={
            "buyer_uscc": world.usccs["core B"],
            "seller_uscc": world.usccs["s2"],
            "product_category": "x",
            "since": "2024-01-01",
        },
        headers=login(client, "s1"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"] == "you can only record relations you are a party to"


def test_platform_client_sees_its_members_only(client: TestClient, world: World) -> None:
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.platform_client_id,
            "client_secret": world.platform_client_secret,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert ids_of(client, "/v1/enterprises", headers) == {world.ids["s1"]}
    assert client.get(f"/v1/chains/{world.chain_a}", headers=headers).status_code == 404
    assert client.get(f"/v1/enterprises/{world.ids['core B']}", headers=headers).status_code == 404


def test_bank_sees_whole_chain_with_customer_flags(client: TestClient, world: World) -> None:
    members = client.get(
        f"/v1/chains/{world.chain_a}/members", headers=login(client, "a-rm")
    ).json()["items"]
    got = {(m["enterprise_id"], m["side"], m["tier"], m["is_customer"]) for m in members}
    w = world.ids
    assert got == {
        (w["core A"], "core", 0, True),
        (w["s1"], "upstream", 1, True),
        (w["s2"], "upstream", 2, True),
        (w["d1"], "downstream", 1, True),
    }
