"""The enterprise portal over HTTP: each test names one behaviour a person relies on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, csrf_token, sign_in
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import ConsentGrant, CredentialPiece
from chainfin.domain.access import SYSTEM
from chainfin.services import auth, credentials, documents

# ---------------------------------------------------------------------------- language


def test_chinese_is_the_default_language(client: TestClient, portal: Portal) -> None:
    r = client.get("/")
    assert '<html lang="zh-CN">' in r.text
    assert "登录" in r.text
    assert "lang" not in r.cookies


def test_lang_in_the_query_sets_the_cookie_and_the_html_lang(
    client: TestClient, portal: Portal
) -> None:
    r = client.get("/?lang=en")
    assert '<html lang="en">' in r.text
    assert "Sign in" in r.text
    assert r.cookies["lang"] == "en"
    again = client.get("/")  # the cookie keeps the choice
    assert '<html lang="en">' in again.text
    back = client.get("/?lang=zh-CN")
    assert '<html lang="zh-CN">' in back.text
    assert back.cookies["lang"] == "zh-CN"


def test_an_unknown_language_falls_back_to_chinese(client: TestClient, portal: Portal) -> None:
    r = client.get("/?lang=fr")
    assert '<html lang="zh-CN">' in r.text
    assert "lang" not in r.cookies


def test_the_header_links_to_the_other_language(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    zh = client.get("/credentials").text
    assert 'href="/credentials?lang=en"' in zh
    assert 'hreflang="en"' in zh
    en = client.get("/credentials?lang=en").text
    assert 'href="/credentials?lang=zh-CN"' in en


def test_amounts_and_dates_are_written_the_chinese_way(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/credentials").text
    assert "¥1,234,567.89" in html
    assert "2027年2月20日" in html


# ---------------------------------------------------------------------------- home


def test_home_names_the_firm_the_person_and_the_role_never_an_id(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/").text
    assert "t1" in html
    assert portal.world.ids["t1"] not in html
    assert "李会计" in html
    assert "企业管理员" in html
    assert "bank A" in html  # my banks, by name
    assert "staff:" not in html
    assert "enterprise:usr" not in html
    assert 'action="/logout"' in html


def test_home_shows_the_piece_offered_to_me(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/").text
    assert "Credentials offered to you" in html
    assert "CN¥1,234,567.89" in html
    assert "core" in html  # the issuer, named
    assert f'href="/credentials#piece-{portal.piece_id}"' in html


def test_home_lists_the_newest_documents_to_confirm_with_page_links(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    rows = [
        {
            "kind": "invoice",
            "number": f"T2-INV-{n}",
            "seller_uscc": credit_world.uscc(5),
            "buyer_uscc": credit_world.uscc(4),
            "issue_date": f"2026-11-{n + 10:02d}",
            "currency": "CNY",
            "total": "1000.00",
            "tax": "0.00",
            "invoice_number": f"2632000000000009{n:04d}",
            "due_date": "2027-03-01",
        }
        for n in range(1, 8)
    ]
    with transaction(session_factory) as s:
        report = documents.ingest(s, portal.world.ent("t2"), documents.parse_rows(rows))
        newest = str(report.rows[-1].document_id)
    sign_in(client, "t1-admin")
    html = client.get("/").text
    assert "/v1/" not in html  # every link is a page, never the JSON API
    assert f'href="/documents/{newest}"' in html
    assert "T2-INV-7" in html
    assert "T2-INV-3" in html
    assert "T2-INV-2" not in html
    assert "T2-INV-1" not in html
    assert "共 7 份待确认单据，此处显示最新的 5 份。" in html
    assert 'href="/documents?side=buyer">查看全部 7 份' in html


def test_the_inbox_keeps_the_pieces_my_firm_held_as_history(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        t1 = portal.world.ent("t1")
        credentials.accept(s, t1, portal.piece_id)
        quote = credentials.quote(s, t1, portal.piece_id, bank="BKA")
        credentials.finance(s, t1, quote.id)
    sign_in(client, "t1-admin")
    html = client.get("/credentials").text
    past = html.split('id="past-title"')[1]
    assert "历史凭证" in past
    assert "1,234,567.89" in past
    assert "已融资" in past
    assert f'href="/credentials/{portal.credential_id}"' in past  # the lineage


def test_home_says_in_words_when_nothing_needs_me(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t2-admin", lang="en")
    html = client.get("/").text
    assert "Nothing needs you right now." in html
    assert "You hold no credentials." in html


def test_bank_staff_see_their_bank_and_their_name(client: TestClient, portal: Portal) -> None:
    sign_in(client, "bka-rm")
    html = client.get("/").text
    assert "bank A" in html
    assert "张经理" in html
    assert "客户经理" in html
    assert "usr_" not in html


# ---------------------------------------------------------------------------- CSRF


def test_a_form_without_the_token_is_refused(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    r = client.post(f"/credentials/pieces/{portal.piece_id}/accept")
    assert r.status_code == 403
    assert "表单已失效" in r.text
    assert _piece_status(client, portal) == "offered"


def test_a_form_with_a_wrong_token_is_refused(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    r = client.post(f"/credentials/pieces/{portal.piece_id}/accept", data={"csrf_token": "0" * 64})
    assert r.status_code == 403
    r = client.post("/logout", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.get("/credentials").status_code == 200  # still signed in


def test_an_htmx_post_without_the_token_shows_the_refusal_in_the_page(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin", lang="en")
    r = client.post(f"/consents/{portal.piece_id}/revoke", headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert r.headers["hx-retarget"] == "#main"
    assert "<html" not in r.text
    assert "This was refused" in r.text


def test_another_sessions_token_is_refused(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    first = csrf_token(client.get("/").text)
    client.post("/logout", data={"csrf_token": first})
    sign_in(client, "t1-admin")
    r = client.post(f"/credentials/pieces/{portal.piece_id}/accept", data={"csrf_token": first})
    assert r.status_code == 403


def test_a_cross_site_post_is_refused_even_with_the_token(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/").text)
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/accept",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403


def test_every_form_of_a_signed_in_page_carries_the_token(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    for path in ("/", "/credentials", "/consents"):
        html = client.get(path).text
        token = csrf_token(html)
        forms = re.findall(r"<form[^>]*>(.*?)</form>", html, re.S)
        assert forms, path
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, path
        assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in html


def test_signing_out_with_the_token_ends_the_session(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/").text)
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 200  # followed to the sign-in form
    assert 'action="/login"' in r.text
    assert client.get("/credentials", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------------- credentials


def test_the_inbox_lists_my_piece_with_issuer_tier_and_actions(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/credentials").text
    row = _row(html, f"piece-{portal.piece_id}")
    assert "CN¥1,234,567.89" in row
    assert "February 20, 2027" in row
    assert ">core</a>" in row
    assert "Offered to you" in row
    assert f'hx-post="/credentials/pieces/{portal.piece_id}/accept"' in row
    assert ">Accept</button>" in row
    assert ">Reject</button>" in row


def test_accepting_a_piece_with_htmx_swaps_its_row(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/credentials").text)
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/accept",
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    assert r.text.lstrip().startswith(f'<tr id="piece-{portal.piece_id}">')
    assert "Held" in r.text
    assert "<html" not in r.text
    assert _piece_status(client, portal) == "held"


def test_accepting_twice_shows_why_in_the_row(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/credentials").text)
    hx = {"HX-Request": "true", "X-CSRF-Token": token}
    client.post(f"/credentials/pieces/{portal.piece_id}/accept", headers=hx)
    r = client.post(f"/credentials/pieces/{portal.piece_id}/accept", headers=hx)
    assert r.status_code == 409
    assert 'role="alert"' in r.text
    assert "Held" in r.text


def test_a_plain_form_accept_goes_back_to_the_inbox(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin")
    token = csrf_token(client.get("/credentials").text)
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/accept",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/credentials"
    assert "持有中" in client.get("/credentials").text


def test_rejecting_a_piece_records_the_reason(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/credentials").text)
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/reject",
        data={"reason": "wrong amount"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    assert "Rejected" in r.text
    assert _piece_status(client, portal) == "rejected"


def test_the_lineage_names_each_holder(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    html = client.get(f"/credentials/{portal.credential_id}").text
    assert "Credential issued by core" in html
    assert "CN¥1,234,567.89" in html
    assert "tier 1" in html
    assert client.get("/credentials/crd_nothing").status_code == 404


def test_a_firm_cannot_answer_another_firms_piece(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t2-admin", lang="en")
    token = csrf_token(client.get("/").text)
    r = client.post(
        f"/credentials/pieces/{portal.piece_id}/accept",
        data={"csrf_token": token},
    )
    assert r.status_code == 409
    assert "no longer offered to you" in r.text
    assert _piece_status(client, portal) == "offered"


# ---------------------------------------------------------------------------- consent


def _grant(client: TestClient, token: str, **fields: object) -> object:
    data = {
        "csrf_token": token,
        "bank_code": "BKA",
        "categories": ["invoices", "trade_documents"],
        "purposes": ["credit_assessment"],
        "expires_on": "2027-06-30",
        **fields,
    }
    return client.post("/consents", data=data, follow_redirects=False)


def test_granting_and_revoking_consent(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/consents").text)
    r = _grant(client, token)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    html = client.get("/consents").text
    with session_factory() as s:
        grant = s.scalars(select(ConsentGrant)).one()
    row = _row(html, f"consent-{grant.id}")
    assert "bank A" in row
    assert "Invoices" in row
    assert "Credit assessment" in row
    assert "Active" in row
    revoked = client.post(
        f"/consents/{grant.id}/revoke", headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert revoked.status_code == 200
    assert revoked.text.lstrip().startswith(f'<tr id="consent-{grant.id}">')
    assert "Revoked" in revoked.text
    assert "hx-post" not in revoked.text  # nothing left to revoke
    with session_factory() as s:
        assert s.get(ConsentGrant, grant.id).revoked_at is not None  # type: ignore[union-attr]


def test_grant_errors_are_shown_next_to_their_fields(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/consents").text)
    r = _grant(client, token, categories=[], purposes=[], expires_on="2020-01-01")
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert 'id="categories-error"' in html
    assert "Choose at least one data category." in html
    past = _grant(client, token, expires_on="2020-01-01")
    assert 'id="expires_on-error"' in past.text  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in past.text  # type: ignore[attr-defined]
    unknown = _grant(client, token, bank_code="NOPE")
    assert 'id="bank_code-error"' in unknown.text  # type: ignore[attr-defined]
    # what was typed is kept
    assert 'value="2027-06-30"' in unknown.text  # type: ignore[attr-defined]


def test_finance_staff_read_consents_but_cannot_grant(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-staff", lang="en")
    html = client.get("/consents").text
    assert 'action="/consents"' not in html
    refused = _grant(client, csrf_token(html))
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "administrator grants and revokes" in refused.text  # type: ignore[attr-defined]


def test_the_access_log_shows_who_read_what(client: TestClient, portal: Portal) -> None:
    sign_in(client, "t1-admin", lang="en")
    token = csrf_token(client.get("/consents").text)
    _grant(client, token)
    client.cookies.clear()
    rm = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "bka-rm", "password": "correct horse battery"},
    ).json()["access_token"]
    t1 = portal.world.ids["t1"]
    allowed = client.get(
        f"/v1/enterprises/{t1}/documents",
        params={"kind": "invoice"},
        headers={"Authorization": f"Bearer {rm}"},
    )
    assert allowed.status_code == 200
    refused = client.get(
        f"/v1/enterprises/{t1}/documents",
        params={"kind": "waybill", "purpose": "post_loan_monitoring"},
        headers={"Authorization": f"Bearer {rm}"},
    )
    assert refused.status_code == 403
    sign_in(client, "t1-admin", lang="en")
    html = client.get("/consents").text
    assert "Who read your data" in html
    assert "Allowed" in html
    assert "Refused" in html


def test_a_role_without_credentials_gets_a_page_not_json(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        auth.create_user(
            s, SYSTEM, username="bka-admin", password=PASSWORD, roles=["admin"], bank_code="BKA"
        )
    sign_in(client, "bka-admin", lang="en")
    r = client.get("/credentials")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "Your role does not work with credentials." in r.text


def test_pages_need_sign_in(client: TestClient, portal: Portal) -> None:
    for path in ("/credentials", "/consents", f"/credentials/{portal.credential_id}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == "/"


# ---------------------------------------------------------------------------- offline


def test_docs_load_nothing_from_outside(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert "http" not in r.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in r.text
    assert "<script>" not in r.text  # the init script is a file
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "https:" not in csp
    for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        asset = client.get(src)
        assert asset.status_code == 200, src
        assert "immutable" in asset.headers["cache-control"]


def test_static_files_are_cached_long_even_when_signed_in(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    html = client.get("/").text
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        r = client.get(src)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (
        client.get("/static/vendor/htmx/htmx.min.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/%2e%2e/pages.py").status_code == 404


def test_pages_have_no_external_url_and_no_inline_script(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin")
    for path in ("/", "/credentials", "/consents", f"/credentials/{portal.credential_id}"):
        html = client.get(path).text
        assert "http://" not in html, path
        assert "https://" not in html, path
        assert "<script>" not in html, path
        assert " style=" not in html, path


# ---------------------------------------------------------------------------- helpers


def _row(html: str, row_id: str) -> str:
    start = html.index(f'<tr id="{row_id}">')
    return html[start : html.index("</tr>", start)]


def _piece_status(client: TestClient, portal: Portal) -> str:
    factory: sessionmaker[Session] = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        piece = s.get(CredentialPiece, portal.piece_id)
        assert piece is not None
        return piece.status


def test_a_link_from_a_refused_read_fills_the_grant_form_in(
    client: TestClient, portal: Portal
) -> None:
    sign_in(client, "t1-admin", lang="en")
    query = "bank_code=BKB&categories=financial_statements&categories=bogus"
    query += "&purposes=credit_assessment"
    html = client.get(f"/consents?{query}").text
    assert '<option value="BKB" selected>' in html
    assert 'value="financial_statements" checked' in html
    assert 'value="credit_assessment" checked' in html
    assert 'value="bogus"' not in html  # only known categories are kept
