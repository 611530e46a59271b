"""The notifications inbox over HTTP: each test names one behaviour a person relies on. The
core's issue of a credential to t1 (http_world.py) notified t1; t2 was not notified."""

from __future__ import annotations

from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Notification, NotificationRead
from chainfin.domain.access import SYSTEM
from chainfin.services import auth, documents
from credit_world import ISSUED_ON, uscc


def t1_notification(factory: sessionmaker[Session], portal: Portal) -> str:
    with transaction(factory, write=False) as s:
        found = s.scalars(
            select(Notification.id).where(Notification.recipient_id == portal.world.ids["t1"])
        ).all()
    assert len(found) == 1, found
    return found[0]


def reads(factory: sessionmaker[Session]) -> int:
    with transaction(factory, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(NotificationRead)) or 0)


def token(client: TestClient) -> str:
    return csrf_token(client.get("/notifications").text)


def test_the_inbox_lists_the_credential_issued_to_my_firm_unread(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/notifications").text
    assert "A credential of CN¥1,234,567.89 was issued to you: accept or reject it." in html
    assert "(unread)" in html
    assert f'id="notification-{nid}"' in html
    assert f'action="/notifications/{nid}/open"' in html
    assert "core" in html  # who it came from, by name
    assert portal.world.ids["core"] not in html


def test_the_menu_counts_my_unread_notifications(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    assert "1 unread</span>" in client.get("/").text
    sign_in(client, "t2-admin", lang="en")
    assert "unread</span>" not in client.get("/").text  # nothing for t2: no count at all


def test_marking_read_without_the_token_is_refused_and_writes_nothing(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin")
    for path in (f"/notifications/{nid}/read", f"/notifications/{nid}/open"):
        r = client.post(path, data={}, follow_redirects=False)
        assert r.status_code == 403
    assert client.post("/notifications/read-all", data={}).status_code == 403
    assert reads(session_factory) == 0


def test_another_firms_notification_is_not_found_and_nothing_is_written(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t2-admin", lang="en")
    form = {"csrf_token": token(client)}
    assert nid not in client.get("/notifications").text
    for path in (f"/notifications/{nid}/read", f"/notifications/{nid}/open"):
        r = client.post(path, data=form, follow_redirects=False)
        assert r.status_code == 404
        assert "This notification is not yours." in r.text
    unknown = client.post("/notifications/ntf_nothing/read", data=form, follow_redirects=False)
    assert unknown.status_code == 404
    assert client.post("/notifications/read-all", data=form).status_code == 200
    assert reads(session_factory) == 0


def test_marking_one_read_with_htmx_swaps_its_row_and_the_count(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin", lang="en")
    r = client.post(
        f"/notifications/{nid}/read",
        headers={"HX-Request": "true", "X-CSRF-Token": token(client)},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<tr id="notification-{nid}" class="read">')
    assert "(unread)" not in r.text
    assert 'id="nav-unread" hx-swap-oob="true"' in r.text  # the menu's count, now none
    assert "unread</span>" not in r.text


def test_read_marks_are_each_persons_own(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin", lang="en")
    r = client.post(f"/notifications/{nid}/read", data={"csrf_token": token(client)})
    assert r.status_code == 200  # followed back to the inbox
    assert "(unread)" not in r.text
    sign_in(client, "t1-staff", lang="en")
    assert "(unread)" in client.get("/notifications").text
    assert "1 unread</span>" in client.get("/").text


def test_opening_one_marks_it_read_and_goes_to_the_credential(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin", lang="en")
    r = client.post(
        f"/notifications/{nid}/open", data={"csrf_token": token(client)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/credentials/{portal.credential_id}"
    assert reads(session_factory) == 1
    again = client.post(
        f"/notifications/{nid}/open", data={"csrf_token": token(client)}, follow_redirects=False
    )
    assert again.status_code == 303  # opening again changes nothing
    assert reads(session_factory) == 1


def test_mark_all_leaves_nothing_unread(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    r = client.post("/notifications/read-all?show=unread", data={"csrf_token": token(client)})
    assert r.status_code == 200
    assert str(r.url).endswith("/notifications?show=unread")
    assert "You have read every notification." in r.text
    assert reads(session_factory) == 1


def test_a_cursor_the_page_did_not_issue_is_refused_with_a_page(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin", lang="en")
    r = client.get("/notifications?cursor=%21%21%21")
    assert r.status_code == 422
    assert "This page link is out of date" in r.text


def test_an_unknown_filter_shows_all(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    r = client.get("/notifications?show=everything")
    assert r.status_code == 200
    assert "(unread)" in r.text


def test_accepting_the_piece_resolves_the_notification_that_asked_for_it(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    nid = t1_notification(session_factory, portal)
    sign_in(client, "t1-admin", lang="en")
    assert "1 unread</span>" in client.get("/").text
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/accept",
        data={"csrf_token": csrf_token(client.get("/credentials").text)},
    )
    assert r.status_code == 200
    assert "unread</span>" not in client.get("/").text  # answered: nothing waits for me
    html = client.get("/notifications").text
    assert f'id="notification-{nid}" class="resolved"' in html
    assert "A credential of CN¥1,234,567.89 was issued to you." in html
    assert "accept or reject it" not in html  # no prompt to do what was done
    assert "Handled" in html
    assert "(unread)" not in html
    assert "Mark as read" not in html
    assert "You have read every notification." in client.get("/notifications?show=unread").text
    sign_in(
        client, "t1-staff", lang="zh-CN"
    )  # resolved for everyone at the firm, whatever they read
    assert "已处理" in client.get("/notifications").text
    assert reads(session_factory) == 0


def test_an_invoice_to_confirm_opens_its_document_and_confirming_resolves_it(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    world = portal.world
    invoice = {
        "kind": "invoice",
        "number": "INV-HTTP-1",
        "seller_uscc": uscc(4),
        "buyer_uscc": uscc(3),
        "issue_date": ISSUED_ON.isoformat(),
        "currency": "CNY",
        "total": "5000.00",
        "tax": "0.00",
        "invoice_number": f"{ISSUED_ON.year % 100:02d}320000000000009301",
        "due_date": "2027-02-18",
    }
    with transaction(session_factory) as s:
        auth.create_user(
            s,
            SYSTEM,
            username="core-admin",
            password=PASSWORD,
            roles=["enterprise_admin"],
            enterprise_uscc=uscc(3),
        )
        report = documents.ingest(s, world.ent("t1"), documents.parse_rows([invoice]))
        document_id = str(report.rows[0].document_id)
    with transaction(session_factory, write=False) as s:
        (nid,) = s.scalars(
            select(Notification.id).where(
                Notification.recipient_id == world.ids["core"],
                Notification.topic == "invoice_to_confirm",
                Notification.subject_id == document_id,
            )
        ).all()
    sign_in(client, "core-admin", lang="en")
    assert (
        "An invoice of CN¥5,000.00 awaits your confirmation." in client.get("/notifications").text
    )
    r = client.post(
        f"/notifications/{nid}/open", data={"csrf_token": token(client)}, follow_redirects=False
    )
    assert r.headers["location"] == f"/documents/{document_id}"  # the document, not the list
    with transaction(session_factory) as s:
        documents.confirm(s, world.ent("core"), document_id)
    html = client.get("/notifications").text
    assert f'id="notification-{nid}" class="resolved"' in html
    assert "An invoice of CN¥5,000.00 was sent to you for confirmation." in html
