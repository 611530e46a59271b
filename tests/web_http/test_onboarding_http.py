"""Passing a piece on and inviting a supplier, over HTTP: each test names one refusal or
rule a person relies on (the journeys themselves are in tests/web/test_onboarding.py, the rules in
tests/services/test_supplier_onboarding.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from http_world import Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CredentialPiece, Enterprise, SupplierInvitation, User
from chainfin.domain.money import Money
from chainfin.domain.uscc import make_uscc
from chainfin.services import credentials

NEW_USCC = make_uscc("9", "1", "320281", "55443322")
PASSWORD = "a long enough secret"


@pytest.fixture
def held(portal: Portal, session_factory: sessionmaker[Session]) -> str:
    """t1 accepts the credential of the HTTP world: its root piece, held."""
    with transaction(session_factory) as s:
        credentials.accept(s, portal.world.ent("t1"), portal.piece_id)
    return portal.piece_id


def _status(factory: sessionmaker[Session], piece_id: str) -> str:
    with transaction(factory, write=False) as s:
        piece = s.get(CredentialPiece, piece_id)
        assert piece is not None
        return piece.status


def _field_error(html: str, field: str) -> str:
    found = re.search(
        rf'<p class="error" id="{field}-error" role="alert">\s*(.*?)\s*</p>', html, re.S
    )
    assert found, f"no error at {field}"
    return found[1]


def _invite(client: TestClient, **changes: str) -> TestClient:
    token = csrf_token(client.get("/suppliers/invite").text)
    form = {
        "csrf_token": token,
        "uscc": NEW_USCC,
        "name": "江阴新材料有限公司",
        "contact_name": "周明",
        "contact_mobile": "13812345678",
        **changes,
    }
    return client.post("/suppliers/invite", data=form)  # type: ignore[return-value]


def _link(html: str) -> str:
    found = re.search(r'id="link" type="text" value="[^"]*(/join/[A-Za-z0-9_-]+)"', html)
    assert found, "no registration link shown"
    return found[1]


# ---------------------------------------------------------------------------- passing on


def test_the_picker_lists_only_my_suppliers(client: TestClient, portal: Portal, held: str) -> None:
    sign_in(client, "t1-admin", lang="en")
    html = client.get(f"/credentials/pieces/{held}/pass").text
    options = re.findall(r'<option value="(ent_[^"]+)"[^>]*>([^<]*)</option>', html)
    assert [value for value, _ in options] == [portal.world.ids["t2"]]
    assert "t2 (" in options[0][1]


def test_an_amount_over_the_piece_is_named_as_it_is_typed(
    client: TestClient, portal: Portal, held: str
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get(f"/credentials/pieces/{held}/pass").text)
    check = f"/credentials/pieces/{held}/pass/check"
    hx = {"X-CSRF-Token": token, "HX-Request": "true"}
    over = client.post(check, data={"amount": "1234567.90"}, headers=hx)
    assert over.status_code == 200
    assert "More than the piece holds (CN¥1,234,567.89)." in over.text
    assert "<html" not in over.text
    fine = client.post(check, data={"amount": "234,567.89"}, headers=hx)
    assert "Remaining after this: CN¥1,000,000.00" in fine.text
    precise = client.post(check, data={"amount": "1.001"}, headers=hx)
    assert "At most two decimal places" in precise.text
    assert (
        "Enter an amount above zero." in client.post(check, data={"amount": "0"}, headers=hx).text
    )
    assert "Enter a number" in client.post(check, data={"amount": "十万"}, headers=hx).text


def test_passing_on_without_the_token_is_refused_and_nothing_moves(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin")
    r = client.post(
        f"/credentials/pieces/{held}/pass", data={"to": portal.world.ids["t2"], "amount": "1000"}
    )
    assert r.status_code == 403
    assert _status(session_factory, held) == "held"


def test_passing_to_a_firm_not_my_supplier_is_refused_at_the_field(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get(f"/credentials/pieces/{held}/pass").text)
    form = {"csrf_token": token, "to": portal.world.ids["x"], "amount": "1000"}
    r = client.post(f"/credentials/pieces/{held}/pass", data=form)
    assert r.status_code == 422
    assert _field_error(r.text, "to") == "Choose one of your suppliers."
    assert _status(session_factory, held) == "held"


def test_passing_more_than_the_piece_is_refused_at_the_amount(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get(f"/credentials/pieces/{held}/pass").text)
    form = {"csrf_token": token, "to": portal.world.ids["t2"], "amount": "2000000"}
    r = client.post(f"/credentials/pieces/{held}/pass", data=form)
    assert r.status_code == 422
    assert "More than the piece holds" in _field_error(r.text, "amount")
    assert 'value="2000000"' in r.text  # what was typed is kept
    assert _status(session_factory, held) == "held"


def test_another_firms_piece_is_not_found(client: TestClient, portal: Portal, held: str) -> None:
    sign_in(client, "t2-admin")
    r = client.get(f"/credentials/pieces/{held}/pass")
    assert r.status_code == 404
    assert "1,234,567.89" not in r.text


def test_an_offered_piece_cannot_be_passed_on(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    r = client.get(f"/credentials/pieces/{portal.piece_id}/pass")
    assert r.status_code == 409
    assert "not held by your firm" in r.text


def test_passing_part_goes_to_the_inbox_which_names_the_recipient(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get(f"/credentials/pieces/{held}/pass").text)
    form = {"csrf_token": token, "to": portal.world.ids["t2"], "amount": "234567.89"}
    r = client.post(f"/credentials/pieces/{held}/pass", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/credentials?passed=pce_")
    inbox = client.get(r.headers["location"]).text
    assert "CN¥234,567.89 offered to t2: it waits for their acceptance." in inbox
    assert "Passed on, awaiting acceptance" in inbox
    assert "CN¥1,000,000.00" in inbox  # what t1 keeps
    assert _status(session_factory, held) == "split"


def test_a_held_row_links_to_pass_on_and_to_quotes(
    client: TestClient, portal: Portal, held: str
) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/credentials").text
    assert f'href="/credentials/pieces/{held}/pass"' in html
    assert f'href="/financing/pieces/{held}/quotes"' in html


# ---------------------------------------------------------------------------- inviting


def test_a_uscc_with_a_wrong_check_character_is_refused_at_the_field(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin", lang="en")
    wrong = NEW_USCC[:17] + ("0" if NEW_USCC[17] != "0" else "1")
    r = _invite(client, uscc=wrong)
    assert r.status_code == 422
    assert "check character" in _field_error(r.text, "uscc")
    assert 'aria-invalid="true"' in r.text
    with transaction(session_factory, write=False) as s:
        assert s.scalar(select(func.count()).select_from(SupplierInvitation)) == 0
        assert s.scalar(select(Enterprise.id).where(Enterprise.uscc == NEW_USCC)) is None


def test_inviting_without_the_token_is_refused(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin")
    r = client.post("/suppliers/invite", data={"uscc": NEW_USCC, "name": "x"})
    assert r.status_code == 403
    with transaction(session_factory, write=False) as s:
        assert s.scalar(select(func.count()).select_from(SupplierInvitation)) == 0


def test_finance_staff_may_not_invite(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-staff", lang="en")
    r = _invite(client)
    assert r.status_code == 403
    assert "Only your firm&#39;s administrator invites suppliers." in r.text


def test_the_link_is_shown_once_and_registers_the_firm_once(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin", lang="en")
    r = _invite(client)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "The platform sends no SMS" in r.text
    link = _link(r.text)
    listing = client.get("/suppliers/invite").text
    assert link not in listing  # shown once, never again
    assert "138****5678" in listing
    assert "13812345678" not in listing
    client.cookies.clear()  # the invitee has no session
    client.cookies.set("lang", "en")
    page = client.get(link)
    assert page.status_code == 200
    assert "t2 invited 江阴新材料有限公司 to chainfin" in page.text
    assert NEW_USCC not in page.text  # the person registering types it
    form = {
        "uscc": make_uscc("9", "1", "320505", "00000006"),  # t3's: valid, not the invited one
        "display_name": "周明",
        "username": "jiangyin",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    wrong = client.post(link, data=form)
    assert wrong.status_code == 422
    assert _field_error(wrong.text, "uscc")
    form["uscc"] = NEW_USCC.lower()
    done = client.post(link, data=form, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/join/registered")
    with transaction(session_factory, write=False) as s:
        user = s.scalar(select(User).where(User.username == "jiangyin"))
        assert user is not None
        assert user.roles == ["enterprise_admin"]
    assert client.get(link).status_code == 410
    assert client.post(link, data=form).status_code == 410


def test_a_wrong_link_is_404_and_names_no_firm(client: TestClient, portal: Portal) -> None:
    r = client.get("/join/" + "A" * 43)
    assert r.status_code == 404
    assert "江阴" not in r.text
    assert "t2" not in r.text


def test_a_cross_site_registration_is_refused(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t2-admin")
    link = _link(_invite(client).text)
    client.cookies.clear()
    r = client.post(link, data={"uscc": NEW_USCC}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_another_firm_cannot_cancel_my_invitation(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t2-admin")
    _invite(client)
    with transaction(session_factory, write=False) as s:
        invitation_id = s.scalar(select(SupplierInvitation.id))
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, "t1-admin")
    assert "江阴新材料" not in client.get("/suppliers/invite").text
    token = csrf_token(client.get("/suppliers/invite").text)
    r = client.post(f"/suppliers/invitations/{invitation_id}/cancel", data={"csrf_token": token})
    assert r.status_code == 404
    with transaction(session_factory, write=False) as s:
        assert s.scalar(select(SupplierInvitation.status)) == "invited"


def test_a_piece_passed_on_is_taken_back_before_the_recipient_answers(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        moved = credentials.transfer(
            s, portal.world.ent("t1"), held, to=portal.world.ids["t2"], amount=Money(1_000_00)
        )
        offered = moved.offered.id
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/credentials").text
    assert f'action="/credentials/pieces/{offered}/withdraw"' in html
    token = csrf_token(html)
    r = client.post(f"/credentials/pieces/{offered}/withdraw", data={"csrf_token": token})
    assert r.status_code == 200  # followed to the inbox
    assert "The piece is back with you" in r.text
    assert _status(session_factory, offered) == "cancelled"
    again = client.post(f"/credentials/pieces/{offered}/withdraw", data={"csrf_token": token})
    assert again.status_code == 409
    assert "can no longer be taken back" in again.text


def test_the_recipient_cannot_take_back_what_it_was_offered(
    client: TestClient, portal: Portal, held: str, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        moved = credentials.transfer(
            s, portal.world.ent("t1"), held, to=portal.world.ids["t2"], amount=Money(1_000_00)
        )
    sign_in(client, "t2-admin", lang="en")
    token = csrf_token(client.get("/credentials").text)
    r = client.post(f"/credentials/pieces/{moved.offered.id}/withdraw", data={"csrf_token": token})
    assert r.status_code == 404
    assert "not one you passed on" in r.text
    assert _status(session_factory, moved.offered.id) == "offered"


def test_a_firm_the_registry_knew_registers_an_admin_who_waits_for_verification(
    client: TestClient, portal: Portal
) -> None:
    t3 = make_uscc("9", "1", "320505", "00000006")  # in the registry, no users yet
    sign_in(client, "t2-admin", lang="en")
    link = _link(_invite(client, uscc=t3, name="t3").text)
    client.cookies.clear()
    client.cookies.set("lang", "en")
    form = {
        "uscc": t3,
        "display_name": "周明",
        "username": "t3-by-link",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    done = client.post(link, data=form, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/join/registered?pending=1")
    page = client.get(done.headers["location"]).text
    assert "waits for verification" in page
    assert 'name="password"' not in page  # nothing to sign in with yet
    signed = client.post("/login", data={"username": "t3-by-link", "password": PASSWORD})
    assert signed.status_code == 401  # inactive: refused as any wrong sign-in is
