"""The enterprise portal attacked by a signed-in firm or an outsider: each test names one
attack a review found and what the pages do about it (a refusal at the field, nothing
written; never a 5xx, never another firm's object)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, csrf_token, sign_in
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    ConsentGrant,
    LoanApplication,
    TradeDocumentRow,
    User,
)
from chainfin.domain.uscc import make_uscc
from chainfin.services import onboarding

NEW_USCC = make_uscc("9", "1", "320281", "55443322")


def _count(factory: sessionmaker[Session], model: type) -> int:
    with transaction(factory, write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"[^>]*>\s*(.*?)\s*</', html, re.S)
    assert found, f"no error at {field}"
    return found[1]


# ---------------------------------------------------------------------------- registration


def _invitation(factory: sessionmaker[Session], portal: Portal, inviter: str) -> str:
    """``inviter`` invites the new firm; the link's token."""
    command = onboarding.InviteSupplier(NEW_USCC, "江阴新材料有限公司", "周明", "13812345678")
    with transaction(factory) as s:
        return onboarding.invite(s, portal.world.ent(inviter), command).token


def _register(client: TestClient, token: str, username: str) -> object:
    form = {
        "uscc": NEW_USCC,
        "display_name": "周明",
        "username": username,
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    return client.post(f"/join/{token}", data=form, follow_redirects=False)


def test_a_second_link_cannot_add_an_admin_to_a_firm_that_registered(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    """Two firms invite the same new supplier: each holds a link. Once the supplier has
    registered through one, the other inviter's link must not make a second administrator
    of the supplier (the inviter knows its own link: it would take the firm over)."""
    first = _invitation(session_factory, portal, "t1")
    second = _invitation(session_factory, portal, "t2")
    client.cookies.set("lang", "en")
    done = _register(client, first, "jiangyin")
    assert done.status_code == 303  # type: ignore[attr-defined]
    users = _count(session_factory, User)
    r = _register(client, second, "takeover")
    assert r.status_code == 409  # type: ignore[attr-defined]
    assert "already has users" in _field_error(r.text, "uscc")  # type: ignore[attr-defined]
    assert _count(session_factory, User) == users
    with transaction(session_factory, write=False) as s:
        assert s.scalar(select(User.id).where(User.username == "takeover")) is None


# ---------------------------------------------------------------------------- odd input


def test_a_tenor_in_superscript_digits_is_refused(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raises: it was a 500."""
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/financing/apply").text)
    form = {"csrf_token": token, "amount": "1000.00", "tenor_months": "²", "method": "bullet"}
    r = client.post("/financing/apply", data=form)
    assert r.status_code == 422
    assert _count(session_factory, LoanApplication) == 0


def test_a_consent_until_the_last_day_of_year_9999_is_refused_at_the_field(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    """The end of 9999-12-31 is past the last date Python has: it was a 500."""
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/consents").text)
    form = {
        "csrf_token": token,
        "bank_code": "BKA",
        "categories": "invoices",
        "purposes": "credit_assessment",
        "expires_on": "9999-12-31",
    }
    r = client.post("/consents", data=form)
    assert r.status_code == 422
    assert _field_error(r.text, "expires_on")
    assert _count(session_factory, ConsentGrant) == 0


def _upload(client: TestClient, name: str, body: bytes) -> object:
    token = csrf_token(client.get("/documents/upload").text)
    files = {"file": (name, body, "application/octet-stream")}
    return client.post("/documents/upload", data={"csrf_token": token}, files=files)


def test_a_csv_field_over_the_csv_modules_limit_is_refused(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    """A field longer than ``csv.field_size_limit()`` (128 KiB) in the header line raised
    ``csv.Error`` outside the reader's guard: a 500."""
    sign_in(client, "t1-admin", lang="en")
    before = _count(session_factory, TradeDocumentRow)
    r = _upload(client, "long.csv", b"kind," + b"x" * 200_000 + b"\ninvoice,1\n")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Not a well-formed CSV file." in r.text  # type: ignore[attr-defined]
    assert _count(session_factory, TradeDocumentRow) == before


def test_a_json_number_of_thousands_of_digits_is_refused(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    """Python refuses to convert an integer of more than 4,300 digits with ValueError, not
    JSONDecodeError: a 500."""
    sign_in(client, "t1-admin", lang="en")
    before = _count(session_factory, TradeDocumentRow)
    body = b'{"kind": "invoice", "total": ' + b"9" * 5000 + b"}\n"
    r = _upload(client, "big.jsonl", body)
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Not valid JSON." in r.text  # type: ignore[attr-defined]
    assert _count(session_factory, TradeDocumentRow) == before
