"""The chain strategy pages over HTTP (/strategy, /strategy/chains/…, /strategy/data,
/strategy/report.pdf): each test names one rule a head-office strategist relies on, or one
refusal; the journeys are in tests/web/test_wb_strategy.py. The market data is the small
dataset of wb_probes_strategy.py, imported for bank A."""

from __future__ import annotations

import json

import http_world
import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from wb_probes_strategy import CHAIN, CHAIN_KEY, LABEL, LEAD, import_for, market_files

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import StrategyDataset
from chainfin.domain.access import SYSTEM
from chainfin.services import auth

PEOPLE = {  # username -> roles, bank
    "bka-strategy": (["strategist"], "BKA"),
    "bka-risk": (["risk_officer"], "BKA"),
    "bkb-strategy": (["strategist"], "BKB"),
}
CONSISTENT = {
    "pairwise": {
        "criteria": ["customer_share", "completeness", "risk"],
        "matrix": [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
    }
}
INCONSISTENT = {
    "pairwise": {
        "criteria": ["customer_share", "completeness", "risk"],
        "matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]],
    }
}


@pytest.fixture
def desk(portal: http_world.Portal, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """The portal's firms, bank A's market data, and the people of the strategy desk."""
    ids = {}
    with transaction(session_factory) as s:
        for username, (roles, bank) in PEOPLE.items():
            user = auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles, bank_code=bank
            )
            ids[username] = user.id
    ids["dataset"] = import_for(session_factory, ids["bka-strategy"], portal.world.banks["BKA"])
    return ids


def sign_in(client: TestClient, username: str) -> str:
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def datasets(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(StrategyDataset)) or 0


def test_the_strategist_reads_the_ranking_of_the_banks_region(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bka-strategy")
    r = client.get("/strategy")
    assert r.status_code == 200, r.text
    assert 'id="ranking-table"' in r.text
    assert CHAIN in r.text
    assert LABEL in r.text
    assert f"/strategy/chains/{CHAIN_KEY}?region=yrd" in r.text


def test_a_risk_officer_reads_the_pages_but_may_not_import(
    client: TestClient, desk: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, "bka-risk")
    assert client.get("/strategy?region=yrd").status_code == 200
    page = client.get("/strategy/data")
    assert page.status_code == 200
    assert 'action="/strategy/data"' not in page.text
    r = client.post(
        "/strategy/data",
        data={"csrf_token": token, "label": "mine"},
        files={"files": ("chains.csv", market_files()["chains.csv"], "text/csv")},
    )
    assert r.status_code == 403
    assert datasets(session_factory) == 1


@pytest.mark.parametrize("username", ["bka-rm", "t1-admin"])
def test_other_people_read_the_refusal(
    client: TestClient, desk: dict[str, str], username: str
) -> None:
    sign_in(client, username)
    for url in ("/strategy", f"/strategy/chains/{CHAIN_KEY}", "/strategy/data"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert CHAIN not in r.text


def test_an_unknown_region_is_a_not_found_page(client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "bka-strategy")
    r = client.get("/strategy?region=999999")
    assert r.status_code == 404
    assert "GB/T 2260" in r.text


def test_a_chain_not_in_the_region_is_a_not_found_page(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bka-strategy")
    assert client.get(f"/strategy/chains/{CHAIN_KEY}?region=gba").status_code == 404
    assert client.get("/strategy/chains/no-such-chain?region=yrd").status_code == 404


def test_a_bank_without_market_data_is_told_how_to_import_it(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bkb-strategy")
    r = client.get("/strategy")
    assert r.status_code == 404
    assert 'id="no-market-data"' in r.text
    assert 'href="/strategy/data"' in r.text
    assert CHAIN not in r.text


def test_another_banks_strategist_sees_only_its_own_datasets(
    client: TestClient,
    desk: dict[str, str],
    portal: http_world.Portal,
    session_factory: sessionmaker[Session],
) -> None:
    import_for(session_factory, desk["bkb-strategy"], portal.world.banks["BKB"], "东海自有数据")
    sign_in(client, "bkb-strategy")
    page = client.get("/strategy/data")
    assert page.status_code == 200
    assert "东海自有数据" in page.text
    assert LABEL not in page.text
    assert LABEL not in client.get("/strategy?region=yrd").text


def test_the_chain_page_shows_segments_and_leads(client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "bka-strategy")
    r = client.get(f"/strategy/chains/{CHAIN_KEY}?region=yrd")
    assert r.status_code == 200, r.text
    assert 'id="segments"' in r.text
    assert 'id="freshness-badge"' in r.text
    assert LEAD in r.text.split('id="leads-table"')[1]


def test_the_leads_download_as_csv_for_spreadsheets(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bka-strategy")
    r = client.get(f"/strategy/chains/{CHAIN_KEY}/leads.csv?region=yrd")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # Excel reads the names as UTF-8
    assert LEAD in r.content.decode("utf-8-sig")


def test_the_report_downloads_as_pdf(client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "bka-strategy")
    r = client.get("/strategy/report.pdf?region=yrd&lang=en")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_inconsistent_pairwise_weights_are_refused_with_their_ratio(
    client: TestClient, desk: dict[str, str]
) -> None:
    token = sign_in(client, "bka-strategy")
    r = client.post(
        "/strategy/weights",
        data={"csrf_token": token, "region": "yrd"},
        files={"weights": ("w.json", json.dumps(INCONSISTENT).encode(), "application/json")},
    )
    assert r.status_code == 422
    assert "consistency ratio CR = " in r.text
    assert 'id="weights-error"' in r.text


def test_consistent_pairwise_weights_rank_again_and_show_their_ratio(
    client: TestClient, desk: dict[str, str]
) -> None:
    token = sign_in(client, "bka-strategy")
    r = client.post(
        "/strategy/weights",
        data={"csrf_token": token, "region": "yrd"},
        files={"weights": ("w.json", json.dumps(CONSISTENT).encode(), "application/json")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])  # a page of its own: reload, link, PDF
    assert page.status_code == 200, page.text
    assert 'id="weights-notice"' in page.text
    assert "consistency ratio 0.0" in page.text
    pdf_link = page.text.split('id="report-pdf"')[0].rsplit('href="', 1)[1]
    assert "weights=" in pdf_link  # the report is ranked with head office's weights too


def test_a_bad_csv_is_refused_row_by_row_and_nothing_is_written(
    client: TestClient, desk: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, "bka-strategy")
    files = market_files()
    bad = files["enterprises.csv"].replace(b",C38,", b",X99,", 1)
    r = client.post(
        "/strategy/data",
        data={"csrf_token": token, "label": "broken"},
        files=[
            ("files", ("enterprises.csv", bad, "text/csv")),
            ("files", ("chains.csv", files["chains.csv"], "text/csv")),
            ("files", ("relations.csv", files["relations.csv"], "text/csv")),
        ],
    )
    assert r.status_code == 422
    errors = r.text.split('id="import-errors"')[1]
    assert "enterprises.csv" in errors
    assert "industry_code" in errors
    assert datasets(session_factory) == 1


def test_an_import_redirects_to_the_datasets_with_a_notice(
    client: TestClient, desk: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, "bka-strategy")
    r = client.post(
        "/strategy/data",
        data={"csrf_token": token, "label": "第二版"},
        files=[("files", (name, body, "text/csv")) for name, body in market_files().items()],
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith("/strategy/data?imported=")
    page = client.get(r.headers["location"])
    assert 'id="import-notice"' in page.text
    assert "第二版" in page.text
    assert datasets(session_factory) == 2


def test_weights_in_the_address_are_checked_like_a_file(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bka-strategy")
    r = client.get("/strategy", params={"region": "yrd", "weights": json.dumps(INCONSISTENT)})
    assert r.status_code == 400
    assert "consistency ratio CR = " in r.text


def test_an_import_without_the_forms_token_is_refused(
    client: TestClient, desk: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-strategy")
    r = client.post(
        "/strategy/data",
        data={"label": "forged"},
        files=[("files", (name, body, "text/csv")) for name, body in market_files().items()],
    )
    assert r.status_code == 403
    assert datasets(session_factory) == 1


def test_a_weights_files_own_blend_applies_when_the_page_gives_none(
    client: TestClient, desk: dict[str, str]
) -> None:
    sign_in(client, "bka-strategy")
    weights = json.dumps({"direct": {"others": 1}, "blend": 0.8})
    r = client.get("/strategy", params={"region": "yrd", "weights": weights})
    assert r.status_code == 200, r.text
    assert "(80% head office)" in r.text
    chosen = client.get("/strategy", params={"region": "yrd", "weights": weights, "blend": "0.3"})
    assert "(30% head office)" in chosen.text
