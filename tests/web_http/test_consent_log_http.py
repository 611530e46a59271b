"""The consent centre's access log, as the firm reads it: what a bank read is a sentence in
the page's language with the firm named (never an enterprise id), and the same read
repeated at the same second is one row with how many times it happened."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from http_world import Portal, sign_in
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain import clock
from chainfin.domain.consent import Purpose
from chainfin.services import consent

READ_AT = datetime(2026, 12, 7, 2, 30, 15, tzinfo=UTC)


def reads(factory: sessionmaker[Session], portal: Portal, resource: str, times: int) -> None:
    """Bank A reads t1's invoices ``times`` times in one second (refused: no grant)."""
    world = portal.world
    with clock.using(clock.FixedClock(READ_AT, tick=False)), transaction(factory) as s:
        for _ in range(times):
            consent.missing_for_bank(
                s,
                enterprise_id=world.ids["t1"],
                bank_id=world.banks["BKA"],
                actor_label="usr_bka",
                categories=["invoices"],
                purpose=Purpose.CREDIT_ASSESSMENT,
                resource=resource,
            )


def log_of(html: str) -> str:
    return html[html.index('id="log-title"') :]


def test_a_read_names_my_firm_in_my_language_and_repeats_collapse(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    t1 = portal.world.ids["t1"]
    reads(session_factory, portal, f"loan application of {t1}", 3)
    sign_in(client, "t1-admin", lang="zh-CN")
    log = log_of(client.get("/consents").text)
    assert t1 not in log
    assert "loan application of" not in log
    assert log.count("的贷款申请") == 1  # three reads at the same second: one row …
    assert "×3" in log
    assert "（共 3 次）" in log
    sign_in(client, "t1-admin", lang="en")
    log = log_of(client.get("/consents").text)
    assert "Loan application of " in log
    assert "(3 times)" in log
    assert t1 not in log


def test_text_of_an_unknown_shape_is_shown_as_it_is(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    reads(session_factory, portal, "a quarterly review", 1)
    sign_in(client, "t1-admin", lang="zh-CN")
    log = log_of(client.get("/consents").text)
    assert "a quarterly review" in log
    assert "×" not in log
