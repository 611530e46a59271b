"""The pages' tenancy matrix: every page route that names an object in its path, tried by
people of other firms and of another bank against a firm's own objects.

The victim is t1 (a tier-1 supplier of the lending world, with bank A): a credential offered
to it and one it holds, a quote, a loan application and its loan, a consent, its trade
documents and a trade case, a supplier invitation, a colleague, a signed-in session and a
notification; and the core's document waiting for its confirmation and the core's
credential (for the treasury's routes). The attackers sign in through the login form:
``x-admin`` (a firm in no relation with t1), ``t2-admin`` (t1's own supplier: in the same
chain, but not a party to these objects) and ``bkb-rm`` (bank B's relationship manager).

Each probe sends the route's method with the victim's ids in the path and, for a POST, the
attacker's own CSRF token and a plausible form, so that only tenancy can refuse it. A 2xx
fails, as does any 5xx; a refusal must not show the victim's amounts or name. After the
whole run no ledger entry and no audit event was written: a refused action writes nothing.

The bank workbench's pages add to this matrix from ``wb_probes_<area>.py`` modules beside
this one (loaded in name order): each may define ``PROBES`` (as below), ``MARKS`` (texts
only bank A's objects show: an attacker's page must not contain them), ``ALLOWED`` and
``extend(factory, world, ids)``, which adds bank A's objects of that area to the victim
(``world`` is the lending world; ``ids`` the victim's ids, to add to). ``bkb-boss`` holds
every staff role at bank B, so a refusal it meets is tenancy, not a missing role; it also
opens every page without an object in its path, which must not show bank A's marks.

:data:`PROBES` must name every page route with a path parameter: a new route without one
fails ``test_every_page_route_with_an_object_is_probed``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from http_world import PASSWORD, csrf_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    AuditEvent,
    LedgerEntry,
    Notification,
    User,
    UserSession,
)
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import utcnow
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.money import Money
from chainfin.services import auth, consent, credentials, documents, onboarding, trade_cases
from chainfin.services.lending import applications, loans
from credit_world import ISSUED_ON, uscc
from lending_world import PAYEE, TODAY, build_lending

VICTIM_FACE = Money(987_654_32)  # shows as 987,654.32: must never reach an attacker
VICTIM_MARKS: tuple[str, ...] = ("987,654.32", "987654.32")
ATTACKERS = ("x-admin", "t2-admin", "bkb-rm", "bkb-boss")
BANK_B_ROLES = ["relationship_manager", "risk_officer", "approver", "admin", "auditor"]
REFUSED = {303, 400, 401, 403, 404, 409, 410, 422}
_FUNDER = (
    "bank B funds the core's programme, so it sees the programme's credentials, as "
    "GET /v1/credentials/{id} answers it (services/credentials credential_condition)"
)
ALLOWED = {
    ("bkb-rm", "GET", "/credentials/{credential_id}"): _FUNDER,
    ("bkb-boss", "GET", "/credentials/{credential_id}"): _FUNDER,
}


@dataclass
class Victim:
    ids: dict[str, str]


def _build(factory: sessionmaker[Session]) -> Victim:
    world = build_lending(factory)
    credit = world.credit
    ids: dict[str, str] = {}
    t1, core = world.ent("t1"), world.ent("core")
    with transaction(factory) as s:
        for username, roles, bank, n in [
            ("t1-admin", ["enterprise_admin"], None, 4),
            ("t1-staff", ["finance_staff"], None, 4),
            ("t2-admin", ["enterprise_admin"], None, 5),
            ("x-admin", ["enterprise_admin"], None, 7),
            ("bkb-rm", ["relationship_manager"], "BKB", None),
            ("bkb-boss", BANK_B_ROLES, "BKB", None),
        ]:
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=roles,
                bank_code=bank,
                enterprise_uscc=uscc(n) if n else None,
            )
            ids[username] = user.id
        ids["colleague"] = ids["t1-staff"]
        offered = credentials.issue(
            s,
            core,
            programme_id=credit.programme_id,
            confirmation_ids=[credit.confirmation_id],
            amount=VICTIM_FACE,
            maturity_on=ISSUED_ON + timedelta(days=120),
            issued_on=ISSUED_ON,
        )
        ids["credential"] = offered.id
        (root,) = credentials.tree(s, SYSTEM, offered.id)
        ids["offered_piece"] = root.id
        held = credentials.issue(
            s,
            core,
            programme_id=credit.programme_id,
            confirmation_ids=[credit.confirmation_id],
            amount=VICTIM_FACE,
            maturity_on=ISSUED_ON + timedelta(days=120),
            issued_on=ISSUED_ON,
        )
        (held_root,) = credentials.tree(s, SYSTEM, held.id)
    with transaction(factory) as s:
        credentials.accept(s, t1, held_root.id)
        ids["held_piece"] = held_root.id
        ids["quote"] = credentials.quote(s, t1, held_root.id, bank="BKA").id
        passed = credentials.transfer(s, t1, held_root.id, to=uscc(5), amount=Money(1_000_00))
        ids["passed_piece"] = passed.offered.id  # t1 may take it back; no one else may
        grant = consent.grant(
            s,
            t1,
            bank_code="BKA",
            categories=[DataCategory.INVOICES.value],
            purposes=[Purpose.CREDIT_ASSESSMENT.value],
            expires_at=utcnow() + timedelta(days=90),
        )
        ids["consent"] = grant.id
        app = applications.submit(
            s, t1, bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        ids["application"] = app.id
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
        loan = applications.loan_of(s, app.id)
        assert loan is not None
        ids["loan"] = loan.id
        ids["document"] = world.docs["INV-T1-2"]
        sale = {
            "kind": "invoice", "number": "PT-CORE-1", "seller_uscc": uscc(4),
            "buyer_uscc": uscc(3), "issue_date": (TODAY - timedelta(days=3)).isoformat(),
            "currency": "CNY", "total": "987654.32", "tax": "0.00",
            "invoice_number": "26320000000000000991",
        }  # fmt: skip
        row = documents.ingest(s, t1, documents.parse_rows([sale])).rows[0]
        ids["core_document"] = str(row.document_id)  # awaits the core's confirmation
        invited = onboarding.invite(
            s,
            t1,
            onboarding.InviteSupplier(
                uscc=uscc(8), name="江阴新材料有限公司", contact_name="周婷",
                contact_mobile="13800138000",
            ),
        )  # fmt: skip
        ids["invitation"] = invited.invitation.id
        ids["core_credential"] = offered.id
    with transaction(factory, write=False) as s:
        cases = trade_cases.cases_for(s, SYSTEM, world.ids["t1"])
        ids["case_key"] = next(iter(cases)).case_key
        note = s.scalars(
            select(Notification.id).where(Notification.recipient_id == world.ids["t1"])
        ).first()
        assert note is not None, "t1 was offered a credential: it has a notification"
        ids["notification"] = note
    for area in AREAS:
        if hasattr(area, "extend"):
            area.extend(factory, world, ids)
    return Victim(ids)


# ------------------------------------------------------------------------------ probes

Form = dict[str, Any]
Probe = Callable[[Victim], tuple[dict[str, str], Form]]


def path(**params: str) -> Probe:
    """The victim's ids (by key) in the path; an empty form."""
    return lambda v: ({name: v.ids[key] for name, key in params.items()}, {})


def with_form(probe: Probe, form: Form) -> Probe:
    return lambda v: (probe(v)[0], form)


PROBES: dict[tuple[str, str], Probe] = {
    ("GET", "/credentials/{credential_id}"): path(credential_id="credential"),
    ("POST", "/credentials/pieces/{piece_id}/accept"): path(piece_id="offered_piece"),
    ("POST", "/credentials/pieces/{piece_id}/reject"): with_form(
        path(piece_id="offered_piece"), {"reason": "no"}
    ),
    ("GET", "/credentials/pieces/{piece_id}/pass"): path(piece_id="held_piece"),
    ("POST", "/credentials/pieces/{piece_id}/pass/check"): with_form(
        path(piece_id="held_piece"), {"amount": "1.00"}
    ),
    ("POST", "/credentials/pieces/{piece_id}/pass"): with_form(
        path(piece_id="held_piece"), {"amount": "1.00", "to": uscc(5)}
    ),
    ("POST", "/credentials/pieces/{piece_id}/withdraw"): path(piece_id="passed_piece"),
    ("POST", "/consents/{consent_id}/revoke"): path(consent_id="consent"),
    ("POST", "/suppliers/invitations/{invitation_id}/cancel"): path(invitation_id="invitation"),
    ("GET", "/financing/pieces/{piece_id}/quotes"): path(piece_id="held_piece"),
    ("POST", "/financing/pieces/{piece_id}/quotes"): path(piece_id="held_piece"),
    ("POST", "/financing/quotes/{quote_id}/accept"): path(quote_id="quote"),
    ("GET", "/financing/quotes/{quote_id}/financing"): path(quote_id="quote"),
    ("GET", "/financing/applications/{application_id}"): path(application_id="application"),
    ("GET", "/documents/{document_id}"): path(document_id="document"),
    ("POST", "/documents/{document_id}/confirm"): path(document_id="core_document"),
    ("GET", "/trade-cases/{case_key:path}"): path(case_key="case_key"),
    ("POST", "/treasury/confirmations/{document_id}"): path(document_id="core_document"),
    ("POST", "/treasury/settle/{credential_id}"): path(credential_id="core_credential"),
    ("GET", "/dealer/loans/{loan_id}"): path(loan_id="loan"),
    ("POST", "/account/sessions/{jti}/end"): path(jti="session"),
    ("POST", "/account/colleagues/{user_id}/roles"): with_form(
        path(user_id="colleague"), {"roles": "enterprise_admin"}
    ),
    ("POST", "/account/colleagues/{user_id}/remove"): path(user_id="colleague"),
    ("POST", "/notifications/{notification_id}/read"): path(notification_id="notification"),
    ("POST", "/notifications/{notification_id}/open"): path(notification_id="notification"),
}
AREAS = [
    importlib.import_module(p.stem) for p in sorted(Path(__file__).parent.glob("wb_probes_*.py"))
]
for _area in AREAS:
    PROBES.update(getattr(_area, "PROBES", {}))
    ALLOWED.update(getattr(_area, "ALLOWED", {}))
    VICTIM_MARKS += tuple(getattr(_area, "MARKS", ()))
NOT_OBJECTS = {
    ("GET", "/static/{name:path}"),  # the site's files
    ("GET", "/documents/samples/{fmt}"),  # a sample file for the signed-in firm itself
    ("GET", "/join/{token}"),  # the token is the secret: tests/web_http/test_onboarding.py
    ("POST", "/join/{token}"),
}


def page_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every page route (not in the OpenAPI document), however nested."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, APIRoute):
                if not route.include_in_schema:
                    for method in sorted(route.methods - {"HEAD"}):
                        yield method, prefix + route.path
            elif hasattr(route, "original_router"):  # an included router
                context = getattr(route, "include_context", None)
                yield from walk(
                    route.original_router.routes,
                    prefix + (getattr(context, "prefix", "") or ""),
                )

    yield from walk(list(app.routes), "")


def test_every_page_route_with_an_object_is_probed(client: TestClient) -> None:
    with_params = {(m, p) for m, p in page_routes(client.app) if "{" in p}  # type: ignore[arg-type]
    assert with_params, "no page route found: the walk over the app's routes is broken"
    missing = sorted(with_params - set(PROBES) - NOT_OBJECTS)
    assert not missing, f"page routes without a tenancy probe: {missing}"
    stale = sorted(set(PROBES) - with_params)
    assert not stale, f"probes for routes that do not exist: {stale}"


def _sign_in(client: TestClient, username: str) -> str:
    client.cookies.clear()
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return csrf_token(r.text)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return entries, events


@pytest.fixture
def victim(client: TestClient, session_factory: sessionmaker[Session]) -> Victim:
    victim = _build(session_factory)
    _sign_in(client, "t1-admin")  # the victim's own session, to be probed
    with session_factory() as s:
        user = s.scalar(select(User.id).where(User.username == "t1-admin"))
        jti = s.scalar(select(UserSession.jti).where(UserSession.user_id == user))
        assert jti is not None
        victim.ids["session"] = jti
    client.cookies.clear()
    return victim


def test_no_one_reaches_another_firms_objects_through_the_pages(
    client: TestClient, victim: Victim, session_factory: sessionmaker[Session]
) -> None:
    before = _counts(session_factory)
    failures: list[str] = []
    for attacker in ATTACKERS:
        token = _sign_in(client, attacker)
        after_sign_in = _counts(session_factory)
        for (method, route), probe in sorted(PROBES.items()):
            params, form = probe(victim)
            url = route
            for name, value in params.items():
                url = url.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
            if method == "GET":
                r = client.get(url, follow_redirects=False)
            else:
                r = client.post(url, data={"csrf_token": token, **form}, follow_redirects=False)
            where = f"{attacker} {method} {route}"
            if (attacker, method, route) in ALLOWED and r.status_code == 200:
                continue
            if r.status_code >= 500:
                failures.append(f"{where}: {r.status_code}")
            elif r.status_code not in REFUSED:
                failures.append(f"{where}: {r.status_code} (not refused)")
            elif any(mark in r.text for mark in VICTIM_MARKS):
                failures.append(f"{where}: {r.status_code} shows the victim's amount")
            elif r.status_code == 303 and r.headers.get("location") == "/":
                failures.append(f"{where}: signed out instead of refused")
        assert _counts(session_factory) == after_sign_in, f"{attacker}'s probes wrote something"
    assert not failures, "\n".join(failures)
    assert before <= _counts(session_factory)


def test_bank_b_pages_without_an_object_show_none_of_bank_a(
    client: TestClient, victim: Victim, session_factory: sessionmaker[Session]
) -> None:
    """Every page without an object in its path (lists, dashboards, the ledger explorer),
    opened by bank B's staff holding every role: none shows what only bank A's objects
    show, and none fails."""
    _sign_in(client, "bkb-boss")
    before = _counts(session_factory)
    failures = []
    routes = sorted(p for m, p in page_routes(client.app) if m == "GET" and "{" not in p)  # type: ignore[arg-type]
    for route in routes:
        r = client.get(route, follow_redirects=False)
        if r.status_code >= 500:
            failures.append(f"GET {route}: {r.status_code}")
        elif any(mark in r.text for mark in VICTIM_MARKS):
            shown = [mark for mark in VICTIM_MARKS if mark in r.text]
            failures.append(f"GET {route}: {r.status_code} shows bank A's {shown}")
    assert not failures, "\n".join(failures)
    assert _counts(session_factory) == before, "reading pages wrote something"
