"""/v1/strategy: a bank's market data and, per region, chain maps, measures, the ranking,
leads and the committee report. One behaviour per test, on the small region of
``strategy_csv`` imported by bank A's strategist (bank A serves its core CORE1)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import StrategyDataset
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.services import auth, registry
from strategy_csv import NAME, USCC, market_files

Headers = dict[str, str]


def _upload(
    client: TestClient,
    headers: Headers,
    files: dict[str, bytes] | None = None,
    label: str = "vendor 2026-10",
) -> Any:
    parts = [
        ("files", (name, data, "text/csv")) for name, data in (files or market_files()).items()
    ]
    return client.post("/v1/strategy/datasets", files=parts, data={"label": label}, headers=headers)


@pytest.fixture
def staff(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> dict[str, Headers]:
    """Strategists of banks A and B; CORE1 registered on the platform as bank A's customer."""
    with transaction(session_factory) as s:
        for username, bank in (("a-strategy", "BKA"), ("b-strategy", "BKB")):
            auth.create_user(
                s, SYSTEM, username=username, password="correct horse battery",
                roles=["strategist"], bank_code=bank,
            )  # fmt: skip
        core = EnterpriseRecord(
            USCC["CORE1"], NAME["CORE1"], "320505", "C36", frozenset({Role.CORE})
        )
        registry.import_enterprises(s, SYSTEM, [core])
        s.flush()
        bank_a = registry.bank_by_code(s, "BKA")
        registry.link_customers(
            s, SYSTEM, bank_a.id, list(registry.ids_by_uscc(s, [core.uscc]).values())
        )
    return {name: login(client, name) for name in ("a-strategy", "b-strategy", "a-rm", "s1")}


@pytest.fixture
def imported(client: TestClient, staff: dict[str, Headers]) -> dict[str, Headers]:
    r = _upload(client, staff["a-strategy"])
    assert r.status_code == 201, r.text
    return staff


# ---------------------------------------------------------------------------- regions, data


def test_the_named_regions_are_listed(client: TestClient, staff: dict[str, Headers]) -> None:
    r = client.get("/v1/strategy/regions", headers=staff["a-rm"])
    assert r.status_code == 200
    body = r.json()
    assert [(x["key"], x["label_zh"]) for x in body["items"]] == [
        ("jjj", "京津冀"), ("yrd", "长三角"), ("gba", "大湾区"),
    ]  # fmt: skip
    assert body["items"][1]["scopes"] == ["310000", "320000", "330000", "340000"]
    assert body["next_cursor"] is None


def test_an_import_answers_201_once_the_dataset_is_committed(
    client: TestClient, staff: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    r = _upload(client, staff["a-strategy"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["label"], body["as_of"]) == ("vendor 2026-10", "2026-10-31")
    assert body["counts"]["enterprises"] == 10
    assert body["counts"]["chains"] == 3
    assert {"policies", "financials"} <= set(body["missing"])
    with session_factory() as s:  # a session of its own: only what was committed
        assert s.get(StrategyDataset, body["id"]) is not None


def test_a_bad_row_is_named_and_nothing_is_written(
    client: TestClient, staff: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    files = market_files()
    files["enterprises.csv"] += "91320505MA1MXXXXXX,坏代码,320505,C36,core,\n".encode()
    r = _upload(client, staff["a-strategy"], files)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["enterprises.csv row 12: uscc"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StrategyDataset)) == 0


def test_the_position_is_not_imported(client: TestClient, staff: dict[str, Headers]) -> None:
    files = {**market_files(), "customers.csv": f"uscc\n{USCC['S1']}\n".encode()}
    r = _upload(client, staff["a-strategy"], files)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["customers.csv"]


def test_a_file_given_twice_is_refused(client: TestClient, staff: dict[str, Headers]) -> None:
    parts = [("files", ("chains.csv", b"x", "text/csv"))] * 2
    r = client.post(
        "/v1/strategy/datasets", files=parts, data={"label": "x"}, headers=staff["a-strategy"]
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "chains.csv", "reason": "given twice"}]


def test_importing_needs_the_strategy_write_scope(
    client: TestClient, staff: dict[str, Headers]
) -> None:
    r = _upload(client, staff["a-rm"])
    assert (r.status_code, r.json()["code"]) == (403, "scope_missing")


def test_the_datasets_are_the_banks_own(client: TestClient, imported: dict[str, Headers]) -> None:
    mine = client.get("/v1/strategy/datasets", headers=imported["a-strategy"]).json()["items"]
    theirs = client.get("/v1/strategy/datasets", headers=imported["b-strategy"]).json()["items"]
    assert [d["label"] for d in mine] == ["vendor 2026-10"]
    assert theirs == []


# ---------------------------------------------------------------------------- refusals


def test_an_unknown_region_is_404_with_the_regions_named(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    r = client.get("/v1/strategy/regions/prd/measures", headers=imported["a-strategy"])
    assert (r.status_code, r.json()["code"]) == (404, "region_not_found")
    assert "give jjj, yrd or gba" in r.json()["detail"]


def test_another_banks_data_is_never_read(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get("/v1/strategy/regions/yrd/ranking", headers=imported["b-strategy"])
    assert (r.status_code, r.json()["code"]) == (404, "strategy_no_market_data")


@pytest.mark.parametrize("who", ["a-rm", "s1"])
def test_staff_without_the_scope_and_enterprises_are_refused(
    client: TestClient, imported: dict[str, Headers], who: str
) -> None:
    r = client.get("/v1/strategy/regions/yrd/chains", headers=imported[who])
    assert r.status_code == 403


def test_draws_are_capped(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get(
        "/v1/strategy/regions/yrd/ranking", params={"draws": 5000}, headers=imported["a-strategy"]
    )
    assert r.status_code == 422


# ---------------------------------------------------------------------------- the analysis


def test_the_regions_chains_in_one_line_each(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    r = client.get("/v1/strategy/regions/yrd/chains", headers=imported["a-strategy"])
    assert r.status_code == 200
    rows = {c["chain_key"]: c for c in r.json()["items"]}
    assert sorted(rows) == ["hz-pv", "sz-nev"]  # sz-disp is in gba
    assert (rows["sz-nev"]["firms"], rows["sz-nev"]["customers"]) == (6, 1)
    assert rows["sz-nev"]["freshness"] == "fresh"


def test_the_chains_come_in_pages(client: TestClient, imported: dict[str, Headers]) -> None:
    url, headers = "/v1/strategy/regions/yrd/chains", imported["a-strategy"]
    first = client.get(url, params={"limit": 1}, headers=headers).json()
    assert [c["chain_key"] for c in first["items"]] == ["hz-pv"]
    params = {"limit": 1, "cursor": first["next_cursor"]}
    second = client.get(url, params=params, headers=headers).json()
    assert ([c["chain_key"] for c in second["items"]], second["next_cursor"]) == (["sz-nev"], None)


def test_a_chains_map(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get("/v1/strategy/regions/yrd/chains/sz-nev", headers=imported["a-strategy"])
    assert r.status_code == 200
    body = r.json()
    sides = {f["name"]: (f["side"], f["tier"]) for f in body["firms"]}
    assert sides["苏州整车"] == ("core", 0)
    assert sides["无锡电芯"] == ("upstream", 2)
    assert len(body["links"]) == 5
    assert any(s["critical"] for s in body["segments"])


def test_a_chain_outside_the_region_is_404(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    r = client.get("/v1/strategy/regions/yrd/chains/sz-disp", headers=imported["a-strategy"])
    assert (r.status_code, r.json()["code"]) == (404, "strategy_chain_not_found")


def test_a_missing_measure_is_null_never_zero(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    r = client.get("/v1/strategy/regions/yrd/measures", headers=imported["a-strategy"])
    assert r.status_code == 200
    body = r.json()
    assert body["currency"] == "CNY"
    nev = next(c for c in body["chains"] if c["chain_key"] == "sz-nev")
    policy = next(m for m in nev["measures"] if m["key"] == "policy_priority")
    assert (policy["value"], policy["basis"]) == (None, "missing")
    assert policy["note"]
    assert [m["key"] for m in nev["measures"]][:2] == ["completeness", "local_supporting_rate"]


def test_the_ranking_with_rank_intervals(client: TestClient, imported: dict[str, Headers]) -> None:
    params = {"draws": 50, "seed": 3}
    r = client.get(
        "/v1/strategy/regions/yrd/ranking", params=params, headers=imported["a-strategy"]
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["draws"], body["seed"], body["noise_pct"]) == (50, 3, "20")
    assert [c["rank"] for c in body["chains"]] == [1, 2]
    assert all(c["rank_low"] <= c["rank"] <= c["rank_high"] for c in body["chains"])
    assert all(c["reason"] for c in body["chains"])
    assert body["weights"]["subjective_method"] is None
    again = client.get(
        "/v1/strategy/regions/yrd/ranking", params=params, headers=imported["a-strategy"]
    )
    assert again.json() == body


def test_a_gate_excludes_a_chain(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get(
        "/v1/strategy/regions/yrd/ranking",
        params={"min_core_rating": "AA"},
        headers=imported["a-strategy"],
    )
    chains = {c["chain_key"]: c for c in r.json()["chains"]}
    assert chains["hz-pv"]["rank"] is None  # its core is rated A
    assert chains["hz-pv"]["excluded_by"]
    assert chains["sz-nev"]["rank"] == 1


def test_head_offices_weights_in_the_body(client: TestClient, imported: dict[str, Headers]) -> None:
    body = {"weights": {"direct": {"customer_share": 3, "others": 1}}, "blend": 0.8, "draws": 20}
    r = client.post("/v1/strategy/regions/yrd/ranking", json=body, headers=imported["a-strategy"])
    assert r.status_code == 200, r.text
    weights = r.json()["weights"]
    assert (weights["subjective_method"], weights["blend"]) == ("direct", 0.8)


def test_inconsistent_pairwise_weights_are_refused_with_their_cr(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    pairwise = {
        "criteria": ["completeness", "customer_share", "risk"],
        "matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]],
    }
    r = client.post(
        "/v1/strategy/regions/yrd/ranking",
        json={"weights": {"pairwise": pairwise}},
        headers=imported["a-strategy"],
    )
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["field"] == "weights"
    assert "CR" in error["reason"]


def test_leads_as_json(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get("/v1/strategy/regions/yrd/chains/sz-nev/leads", headers=imported["a-strategy"])
    assert r.status_code == 200
    body = r.json()
    assert body["leads"][0]["uscc"] == USCC["S1"]
    # the members trading with CORE1, the bank's one customer on the platform
    assert {lead["uscc"] for lead in body["leads"]} == {USCC["S1"], USCC["S2"], USCC["D1"]}
    assert body["leads"][0]["financeable"] == "300000.00"


@pytest.mark.parametrize("how", ["accept", "format"])
def test_leads_as_csv_for_branches(
    client: TestClient, imported: dict[str, Headers], how: str
) -> None:
    headers = dict(imported["a-strategy"])
    params = {}
    if how == "accept":
        headers["accept"] = "text/csv"
    else:
        params["format"] = "csv"
    r = client.get("/v1/strategy/regions/yrd/chains/sz-nev/leads", headers=headers, params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="leads-sz-nev.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["uscc"] == USCC["S1"]


def test_the_report_is_a_pdf(client: TestClient, imported: dict[str, Headers]) -> None:
    r = client.get(
        "/v1/strategy/regions/yrd/report.pdf", params={"lang": "en"}, headers=imported["a-strategy"]
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert json.dumps(r.headers["content-disposition"]).count("strategy-yrd-en.pdf") == 1


def test_the_report_takes_the_rankings_options_and_refuses_a_bad_rating(
    client: TestClient, imported: dict[str, Headers]
) -> None:
    url = "/v1/strategy/regions/yrd/report.pdf"
    good = client.get(url, params={"draws": 50, "seed": 3}, headers=imported["a-strategy"])
    assert good.status_code == 200
    bad = client.get(url, params={"min_core_rating": "ZZ"}, headers=imported["a-strategy"])
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/strategy_rating_unknown")
