"""The firms of the portal's HTTP tests: the credential world (core buys from t1, t1 from
t2; banks A and B fund the core's programme) with people who sign in to the pages, and a
credential of 1,234,567.89 issued to t1 and waiting for its acceptance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import auth, credentials, registry

PASSWORD = "correct horse battery"
FACE = Money(1_234_567_89)
MATURITY = date(2027, 2, 20)


@dataclass
class Portal:
    world: credit_world.CreditWorld
    credential_id: str
    piece_id: str  # the root piece, offered to t1


def build(factory: sessionmaker[Session]) -> Portal:
    world = credit_world.build(factory)
    with transaction(factory) as s:
        registry.link_customers(s, SYSTEM, world.banks["BKA"], [world.ids["t1"]])
        for username, roles, bank, firm, name in [
            ("t1-admin", ["enterprise_admin"], None, "t1", "李会计"),
            ("t1-staff", ["finance_staff"], None, "t1", "王出纳"),
            ("t2-admin", ["enterprise_admin"], None, "t2", None),
            ("bka-rm", ["relationship_manager"], "BKA", None, "张经理"),
        ]:
            auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=roles,
                display_name=name,
                bank_code=bank,
                enterprise_uscc=credit_world.uscc(4 if firm == "t1" else 5) if firm else None,
            )
        credential = credentials.issue(
            s,
            world.ent("core"),
            programme_id=world.programme_id,
            confirmation_ids=[world.confirmation_id],
            amount=FACE,
            maturity_on=MATURITY,
            issued_on=credit_world.ISSUED_ON,
        )
        (root,) = credentials.tree(s, SYSTEM, credential.id)
    return Portal(world, credential.id, root.id)


def sign_in(client: TestClient, username: str, lang: str | None = None) -> None:
    """Sign in through the pages' form; the cookie stays in ``client``."""
    if lang is not None:
        client.cookies.set("lang", lang)
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def csrf_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
