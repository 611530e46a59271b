"""Batch import and export through the API: row-level errors, all or nothing, round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from apiworld import World, login, uscc
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chainfin.adapters.db.models import Enterprise, SupplyRelation
from chainfin.domain.clock import utcnow

HEADER = "uscc,name,region_code,industry_code,roles,employees,revenue,total_assets\n"


def post_csv(client: TestClient, kind: str, body: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(
        f"/v1/registry/{kind}/import",
        content=body.encode(),
        headers={**headers, "content-type": "text/csv"},
    )


def count(session_factory, model) -> int:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_csv_import_creates_and_links(client: TestClient, world: World, session_factory) -> None:
    rm = login(client, "b-rm")
    body = HEADER + (
        f"{uscc('440306', 100)},深圳新芯科技有限公司,440306,C39,supplier,80,30000000.00,20000000\n"
        f"{world.usccs['s1']},s1,320506,C38,supplier,,,\n"
    )
    # s1 is bank A's customer: bank B takes it on only once s1 has granted it consent
    refused = post_csv(client, "enterprises", body, rm)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["row"] == 3
    granted = client.post(
        "/v1/consents",
        json={
            "bank_code": "BKB",
            "categories": ["trade_documents"],
            "purposes": ["credit_assessment"],
            "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        },
        headers=login(client, "s1"),
    )
    assert granted.status_code == 201, granted.text
    r = post_csv(client, "enterprises", body, rm)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["linked"], report["unchanged"]) == (1, 1, 0)
    assert [row["row"] for row in report["rows"]] == [2, 3]
    new = client.get(f"/v1/enterprises/{report['rows'][0]['id']}", headers=rm).json()
    assert new["size_class"] == "small"
    assert new["revenue"] == "30000000.00"
    assert new["region_name"] == "广东省 深圳市 宝安区"
    # s1 kept its profile (name not overwritten) and is now bank B's customer too
    s1 = client.get(f"/v1/enterprises/{world.ids['s1']}", headers=rm).json()
    assert s1["name"] == "s1"
    again = post_csv(client, "enterprises", body, rm).json()
    assert (again["created"], again["linked"], again["unchanged"]) == (0, 0, 2)


def test_a_bad_batch_reports_every_row_and_writes_nothing(
    client: TestClient, world: World, session_factory
) -> None:
    before = count(session_factory, Enterprise)
    good = f"{uscc('440306', 101)},好公司,440306,C39,supplier,10,100.00,\n"
    body = (
        HEADER
        + good
        + (
            "91110000600037341N,坏公司,440306,C39,supplier,,,\n"
            f"{uscc('440306', 102)},,999999,Z99,pilot,many,1.234,\n" + good
        )
    )
    r = post_csv(client, "enterprises", body, login(client, "b-rm"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "validation_failed"
    errors = {(e["row"], e["field"]): e["reason"] for e in problem["errors"]}
    assert errors[(3, "uscc")] == "check digit should be L"
    assert errors[(4, "name")] == "is required"
    assert errors[(4, "region_code")] == "999999 is not a GB/T 2260 region code"
    assert "no division 99" in errors[(4, "industry_code")]
    assert errors[(4, "roles")].startswith("unknown role 'pilot'")
    assert errors[(4, "employees")] == "'many' is not a whole number of people"
    assert "1.234" in errors[(4, "revenue")]
    assert count(session_factory, Enterprise) == before


def test_duplicate_rows_in_one_batch_are_rejected(client: TestClient, world: World) -> None:
    row = f"{uscc('440306', 103)},甲,440306,C39,supplier,,,\n"
    r = post_csv(client, "enterprises", HEADER + row + row, login(client, "b-rm"))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "uscc", "reason": "duplicate of row 2", "row": 3}]


def test_malformed_files_are_precise(client: TestClient, world: World) -> None:
    rm = login(client, "b-rm")
    r = post_csv(client, "enterprises", HEADER + "a,b\n", rm)
    assert r.json()["errors"] == [
        {"field": "file", "reason": "has 2 fields, the header has 8", "row": 2}
    ]
    r = client.post(
        "/v1/registry/enterprises/import",
        content=b'[{"uscc": 1}, 7]',
        headers={**rm, "content-type": "application/json"},
    )
    assert r.json()["errors"] == [
        {"field": "file", "reason": "each item must be a JSON object", "row": 2}
    ]
    r = client.post(
        "/v1/registry/enterprises/import",
        content=b"\xff\xfe",
        headers={**rm, "content-type": "text/csv"},
    )
    assert r.json()["errors"][0]["reason"].startswith("not UTF-8 text")
    r = client.post(
        "/v1/registry/enterprises/import", content=b"x", headers={**rm, "content-type": "text/xml"}
    )
    assert r.status_code == 415
    assert r.json()["errors"][0]["field"] == "content-type"


def test_json_import_of_relations_and_unknown_party(
    client: TestClient, world: World, session_factory
) -> None:
    rm = login(client, "a-rm")
    rows = [
        {
            "buyer_uscc": world.usccs["s2"],
            "seller_uscc": world.usccs["d1"],
            "product_category": "螺栓",
            "since": "2023-05-01",
        },
        {
            "buyer_uscc": world.usccs["s2"],
            "seller_uscc": uscc("320505", 999),
            "product_category": "钢材",
            "since": "2023-05-01",
        },
    ]
    before = count(session_factory, SupplyRelation)
    r = client.post(
        "/v1/registry/relations/import",
        content=json.dumps(rows).encode(),
        headers={**rm, "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "seller_uscc",
            "row": 2,
            "reason": f"{uscc('320505', 999)} is not registered; import it first",
        }
    ]
    assert count(session_factory, SupplyRelation) == before
    r = client.post(
        "/v1/registry/relations/import",
        content=json.dumps(rows[:1]).encode(),
        headers={**rm, "content-type": "application/json"},
    )
    assert r.status_code == 200
    assert r.json()["created"] == 1


def test_export_round_trips_through_import(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    exported = client.get("/v1/registry/enterprises/export?format=csv", headers=rm)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["uscc"] for r in rows} == {
        world.usccs[n] for n in ("bank A", "core A", "s1", "s2", "d1")
    }
    again = post_csv(client, "enterprises", exported.text, rm).json()
    assert again["created"] == 0
    assert again["unchanged"] == 5
    rel = client.get("/v1/registry/relations/export?format=jsonl", headers=rm)
    lines = [json.loads(line) for line in rel.text.splitlines()]
    assert len(lines) == 3
    back = client.post(
        "/v1/registry/relations/import",
        content=rel.content,
        headers={**rm, "content-type": "application/x-ndjson"},
    ).json()
    assert back["unchanged"] == 3


def test_a_large_export_streams_in_batches(client: TestClient, world: World) -> None:
    """More enterprises than one batch of reads: every one arrives once, in id order, as the
    rows are read (no Content-Length: the body is not built first)."""
    rm = login(client, "a-rm")
    body = "uscc,name,region_code,industry_code,roles\n" + "".join(
        f"{uscc('320581', 1000 + n)},supplier {n},320581,C39,supplier\n" for n in range(1_100)
    )
    assert post_csv(client, "enterprises", body, rm).json()["created"] == 1_100
    with client.stream("GET", "/v1/registry/enterprises/export?format=jsonl", headers=rm) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson; charset=utf-8"
        assert "content-length" not in r.headers
        rows = [json.loads(line) for line in r.iter_lines()]
    assert len(rows) == 1_100 + 5
    assert len({row["uscc"] for row in rows}) == len(rows)
    as_array = client.get("/v1/registry/enterprises/export?format=json", headers=rm).json()
    assert [row["uscc"] for row in as_array] == [row["uscc"] for row in rows]
    listed = client.get("/v1/enterprises", params={"limit": 500}, headers=rm).json()
    assert [e["uscc"] for e in listed["items"]] == [row["uscc"] for row in rows[:500]]


def test_cursor_pagination_walks_everything_once(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/enterprises", params=params, headers=rm).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)
    bad = client.get("/v1/enterprises", params={"cursor": "!!"}, headers=rm)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    too_big = client.get("/v1/enterprises", params={"limit": 501}, headers=rm)
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "limit"


def test_filters(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    dealers = client.get("/v1/enterprises", params={"role": "dealer"}, headers=rm).json()
    assert [e["id"] for e in dealers["items"]] == [world.ids["d1"]]
    c36 = client.get("/v1/enterprises", params={"industry": "C36"}, headers=rm).json()
    assert [e["id"] for e in c36["items"]] == [world.ids["core A"]]
    bad = client.get("/v1/enterprises", params={"role": "pilot"}, headers=rm)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "role"


def test_create_chain_over_api(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    body = {
        "name": "chain A2",
        "core_usccs": [world.usccs["s1"]],
        "industry_code": "C38",
        "region_code": "320500",
        "max_tier": 2,
    }
    r = client.post("/v1/chains", json=body, headers=rm)
    assert r.status_code == 201, r.text
    chain = r.json()
    assert chain["tiers"] == [
        {"side": "core", "tier": 0, "members": 1},
        {"side": "upstream", "tier": 1, "members": 1},
        {"side": "downstream", "tier": 1, "members": 1},
        {"side": "downstream", "tier": 2, "members": 1},
    ]
    dup = client.post("/v1/chains", json=body, headers=rm)
    assert dup.status_code == 409
    foreign = client.post(
        "/v1/chains", json={**body, "name": "x", "core_usccs": [world.usccs["core B"]]}, headers=rm
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["reason"].endswith("is not one of your customers")
    extra = client.post("/v1/chains", json={**body, "colour": "red"}, headers=rm)
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "colour"


def test_reference_endpoints(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    assert client.get("/v1/reference/regions/320505", headers=rm).json()["full_name"] == (
        "江苏省 苏州市 虎丘区"
    )
    assert client.get("/v1/reference/regions/999999", headers=rm).status_code == 404
    c36 = client.get("/v1/reference/industries/C36", headers=rm).json()
    assert c36["name_zh"] == "汽车制造业"
    check = client.get("/v1/reference/uscc/91110000600037341N", headers=rm).json()
    assert check == {
        "code": "91110000600037341N",
        "valid": False,
        "reason": "check digit should be L",
        "org_code_valid": None,
        "region_code": None,
    }
