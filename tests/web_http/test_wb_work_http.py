"""The relationship manager's due-diligence and alert pages over HTTP: each test names one
rule the pages keep (the journeys themselves are in tests/web/test_wb_work.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from wb_probes_work import AMOUNT, MARKS, extend, png

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, DueDiligenceTask, LedgerEntry, TaskAttachment
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import local_now
from chainfin.domain.money import Money
from chainfin.services import auth, documents
from chainfin.services.lending import applications
from credit_world import uscc
from lending_world import PAYEE, TODAY, build_lending

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"
STATEMENTS = {
    "as_of": "2025-12-31", "period_start": "2025-01-01", "period_end": "2025-12-31",
    "cash": "1000000.00", "receivables": "3000000.00", "inventory": "2000000.00",
    "current_assets": "8000000.00", "total_assets": "20000000.00", "payables": "1500000.00",
    "current_liabilities": "4000000.00", "total_liabilities": "12000000.00",
    "equity": "8000000.00", "revenue": "36500000.00", "cost_of_sales": "21900000.00",
    "operating_profit": "3000000.00", "interest_expense": "400000.00",
    "net_profit": "2000000.00",
}  # fmt: skip


@dataclass
class Desk:
    ids: dict[str, str]


@pytest.fixture
def desk(session_factory: sessionmaker[Session]) -> Desk:
    world = build_lending(session_factory)
    ids: dict[str, str] = {"t1": world.ids["t1"]}
    with transaction(session_factory) as s:
        for username, roles, bank, firm in [
            ("t1-admin", ["enterprise_admin"], None, 4),
            ("bka-risk", ["risk_officer"], "BKA", None),
            ("bka-auditor", ["auditor"], "BKA", None),
            ("bkb-rm", ["relationship_manager"], "BKB", None),
        ]:
            auth.create_user(
                s, SYSTEM, username=username, password=PASSWORD, roles=roles,
                bank_code=bank, enterprise_uscc=uscc(firm) if firm else None,
            )  # fmt: skip
    extend(session_factory, world, ids)
    # a second referral (site visit only) whose visit the tests record through the page
    invoice = {
        "kind": "invoice", "number": "WKH-INV-2", "seller_uscc": uscc(4), "buyer_uscc": uscc(3),
        "issue_date": (TODAY - timedelta(days=5)).isoformat(), "currency": "CNY",
        "total": "4200000.00", "tax": "0.00", "invoice_number": "26321800000000000902",
        "due_date": (TODAY + timedelta(days=160)).isoformat(),
    }  # fmt: skip
    with transaction(session_factory) as s:
        report = documents.ingest(s, world.ent("t1"), documents.parse_rows([invoice]))
        documents.confirm(s, world.ent("core"), str(report.rows[0].document_id))
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("3456789.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=str(report.rows[0].document_id),
            payee=PAYEE,
        )  # fmt: skip
        assert app.status == "referred"
        (task,) = applications.tasks_of(s, app.id)
        ids["open_visit"] = task.id
    return Desk(ids)


def _sign_in(client: TestClient, username: str, lang: str = "en") -> str:
    client.cookies.clear()
    client.cookies.set("lang", lang)
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def _form(token: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "premises_verified": "yes",
        "production_running": "no",
        "inventory_on_hand": "980,000.00",
        "staff_count_seen": "23",
        "findings": "一条产线停产检修",
        "visited_at": (local_now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "latitude": "31.2304",
        "longitude": "121.4737",
        "accuracy": "8",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v != ""}


def _written(factory: sessionmaker[Session], task_id: str) -> tuple[str, int, int]:
    with factory() as s:
        task = s.get(DueDiligenceTask, task_id)
        assert task is not None
        photos = s.scalar(select(func.count()).select_from(TaskAttachment)) or 0
        entries = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        return task.state, photos, entries


def test_the_task_list_shows_open_tasks_first_with_firm_and_application(
    client: TestClient, desk: Desk
) -> None:
    _sign_in(client, "bka-rm")
    page = client.get("/tasks").text
    assert "5,678,901.23" in page
    assert "3,456,789.00" in page
    assert f"/credit/applications/{desk.ids['wb_work_application']}" in page
    assert page.index(f'id="task-{desk.ids["open_visit"]}"') < page.index(
        f'id="task-{desk.ids["wb_work_visit"]}"'
    ), "the open task comes before the done one"
    done = client.get("/tasks?show=done").text
    assert desk.ids["wb_work_visit"] in done
    assert desk.ids["open_visit"] not in done


def test_a_site_visit_with_photos_is_recorded_with_their_digests_on_the_log(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["open_visit"]
    files = [
        ("photos", ("gate.png", png(), "image/png")),
        ("photos", ("line.jpg", JPEG, "image/jpeg")),
    ]
    r = client.post(
        f"/tasks/{task_id}/site-visit", data=_form(token), files=files, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/tasks/{task_id}"
    page = client.get(f"/tasks/{task_id}").text
    digests = [hashlib.sha256(b).hexdigest() for b in (png(), JPEG)]
    for digest in digests:
        assert page.count(digest) == 2, "listed with the photo and on the entry"
    assert "Production not running" in page
    assert "980,000.00" in page
    with session_factory() as s:
        task = s.get(DueDiligenceTask, task_id)
        assert task is not None
        assert task.state == "completed"
        assert task.result is not None
        assert task.result["gps"] == {"lat": "31.2304", "lon": "121.4737", "accuracy_m": "8.0"}
        assert task.result["staff_count_seen"] == 23
        assert [a["sha256"] for a in task.result["attachments"]] == digests
        entry = s.scalars(
            select(LedgerEntry).where(LedgerEntry.event_type == "task.site_visit_completed")
        ).all()[-1]
        records = json.loads(entry.payload)["records"]
        logged = [r["clear"]["sha256"] for r in records if r["kind"] == "task_attachment"]
        assert logged == digests
    assert entry.id in page
    photo = client.get(f"/tasks/{task_id}/photos/2")
    assert photo.status_code == 200
    assert photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("scan.jpg", b"%PDF-1.7\n" + bytes(100), "is not a JPEG, PNG or HEIC image"),
        ("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(10 * 1024 * 1024), "is larger than 10 MB"),
        ("empty.png", b"", "is empty"),
    ],
)
def test_a_forged_oversized_or_empty_photo_is_refused_and_nothing_is_written(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    name: str,
    data: bytes,
    reason: str,
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["open_visit"]
    before = _written(session_factory, task_id)
    files = [
        ("photos", ("gate.png", png(), "image/png")),
        ("photos", (name, data, "image/jpeg")),
    ]
    r = client.post(f"/tasks/{task_id}/site-visit", data=_form(token), files=files)
    assert r.status_code == 422
    assert f"Photo 2 ({name}) {reason}" in r.text
    assert 'id="photos-error" role="alert"' in r.text
    assert _written(session_factory, task_id) == before == ("open", 1, before[2])


def test_more_than_twelve_photos_are_refused(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["open_visit"]
    files = [("photos", (f"p{n}.png", png(), "image/png")) for n in range(13)]
    r = client.post(f"/tasks/{task_id}/site-visit", data=_form(token), files=files)
    assert r.status_code == 422
    assert "Attach at most 12 photos." in r.text
    assert _written(session_factory, task_id)[:2] == ("open", 1)


@pytest.mark.parametrize(
    ("missing", "field", "reason"),
    [
        ("findings", "findings", "Say what the visit found."),
        ("premises_verified", "premises_verified", "Say whether the premises were verified."),
        ("latitude", "latitude", "Enter the latitude: a number from -90 to 90."),
        ("inventory_on_hand", "inventory_on_hand", "Enter the stock"),
    ],
)
def test_a_missing_checklist_item_is_refused_at_its_field(
    client: TestClient,
    desk: Desk,
    session_factory: sessionmaker[Session],
    missing: str,
    field: str,
    reason: str,
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["open_visit"]
    before = _written(session_factory, task_id)
    files = [("photos", ("gate.png", png(), "image/png"))]
    r = client.post(f"/tasks/{task_id}/site-visit", data=_form(token, **{missing: ""}), files=files)
    assert r.status_code == 422
    error = r.text.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert reason in error
    assert "attach the photos again" in r.text
    assert _written(session_factory, task_id) == before


def test_a_bad_coordinate_or_a_visit_in_the_future_is_refused(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["open_visit"]
    later = (local_now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    form = _form(token, longitude="181", visited_at=later, accuracy="-3")
    r = client.post(f"/tasks/{task_id}/site-visit", data=form)
    assert r.status_code == 422
    for field in ("longitude", "visited_at", "accuracy"):
        assert f'id="{field}-error" role="alert"' in r.text, field
    assert _written(session_factory, task_id)[0] == "open"


def test_a_recorded_visit_is_not_recorded_twice(client: TestClient, desk: Desk) -> None:
    token = _sign_in(client, "bka-rm")
    r = client.post(f"/tasks/{desk.ids['wb_work_visit']}/site-visit", data=_form(token))
    assert r.status_code == 409
    assert "already done" in r.text


def test_the_financial_analysis_shows_its_ratios_and_refuses_a_bad_figure(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bka-rm")
    task_id = desk.ids["wb_work_analysis"]
    path = f"/tasks/{task_id}/financial-analysis"
    bad = client.post(path, data={"csrf_token": token, **STATEMENTS, "cash": "a lot"})
    assert bad.status_code == 422
    assert 'id="cash-error" role="alert"' in bad.text
    assert _written(session_factory, task_id)[0] == "open"
    r = client.post(path, data={"csrf_token": token, **STATEMENTS}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/tasks/{task_id}").text
    assert "Current ratio" in page
    assert "2.00" in page
    assert "36,500,000.00" in page


def test_enterprise_users_are_refused_every_page(client: TestClient, desk: Desk) -> None:
    token = _sign_in(client, "t1-admin")
    for url in ("/tasks", f"/tasks/{desk.ids['open_visit']}", "/alerts"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert not any(mark in r.text for mark in MARKS)
    r = client.post(f"/tasks/{desk.ids['open_visit']}/site-visit", data=_form(token))
    assert r.status_code == 403
    r = client.post(f"/alerts/{desk.ids['wb_work_alert']}/acknowledge", data={"csrf_token": token})
    assert r.status_code == 403


def test_bank_b_finds_none_of_bank_as_tasks_photos_or_alerts(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bkb-rm")
    before = _written(session_factory, desk.ids["open_visit"])
    for url in ("/tasks", "/alerts"):
        page = client.get(url)
        assert page.status_code == 200
        assert not any(mark in page.text for mark in MARKS), url
    assert client.get(f"/tasks/{desk.ids['open_visit']}").status_code == 404
    assert client.get(f"/tasks/{desk.ids['wb_work_visit']}/photos/1").status_code == 404
    files = [("photos", ("gate.png", png(), "image/png"))]
    r = client.post(f"/tasks/{desk.ids['open_visit']}/site-visit", data=_form(token), files=files)
    assert r.status_code == 404
    r = client.post(
        f"/alerts/{desk.ids['wb_work_alert']}/resolve", data={"csrf_token": token, "note": "x"}
    )
    assert r.status_code == 404
    assert _written(session_factory, desk.ids["open_visit"]) == before
    with session_factory() as s:
        alert = s.get(Alert, desk.ids["wb_work_alert"])
        assert alert is not None
        assert alert.state == "open"


def test_risk_officers_read_alerts_but_only_managers_act_and_auditors_are_refused(
    client: TestClient, desk: Desk
) -> None:
    token = _sign_in(client, "bka-risk")
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "恒通精密" in page.text
    assert "/acknowledge" not in page.text
    assert client.get("/tasks").status_code == 403
    r = client.post(f"/alerts/{desk.ids['wb_work_alert']}/acknowledge", data={"csrf_token": token})
    assert r.status_code == 403
    _sign_in(client, "bka-auditor")
    assert client.get("/alerts").status_code == 403
    assert client.get("/tasks").status_code == 403


def test_an_alert_is_acknowledged_then_resolved_with_a_note_in_place(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    token = _sign_in(client, "bka-rm")
    alert_id = desk.ids["wb_work_alert"]
    hx = {"HX-Request": "true", "X-CSRF-Token": token}
    r = client.post(f"/alerts/{alert_id}/acknowledge", headers=hx)
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<tr id="alert-{alert_id}"')
    assert "Acknowledged" in r.text
    assert "/acknowledge" not in r.text
    blank = client.post(f"/alerts/{alert_id}/resolve", data={"note": "  "}, headers=hx)
    assert blank.status_code == 422
    error = blank.text.split(f'id="note-{alert_id}-error"')[1].split("</p>")[0]
    assert "a note is required" in error
    with session_factory() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        assert alert.state == "acknowledged"
    note = "买方已付清逾期款项，预警解除"
    done = client.post(f"/alerts/{alert_id}/resolve", data={"note": note}, headers=hx)
    assert done.status_code == 200
    assert "Resolved" in done.text
    assert note in done.text
    again = client.post(f"/alerts/{alert_id}/resolve", data={"note": note}, headers=hx)
    assert again.status_code == 409
    listed = client.get("/alerts?state=resolved").text
    assert note in listed
    assert f'href="/firms/{desk.ids["wb_work_firm"]}"' in listed
    assert AMOUNT not in listed
