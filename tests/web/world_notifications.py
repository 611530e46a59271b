"""The notifications journeys' own objects (tests/web/test_notifications.py), added to the
portal world.

- Two more people at t2 (铜陵极片制造有限公司), ``t2-clerk`` (孙悦) and ``t2-cashier``
  (周倩): read marks are each person's own, so each journey reads t2's notifications as
  its own person and finds them all unread, whatever the other journeys did.
- An invoice of ¥100,000.00 from t1 to the core, confirmed by the core, and a credential of
  ¥100,000.00 the core issued on it to t1. t1 accepted it and passed it on to t2 in two
  pieces, ¥66,000.00 and then ¥34,000.00, both waiting for t2's answer: each transfer's
  ledger entry notified t2 ("a credential piece was passed to you").
"""

from __future__ import annotations

from datetime import date

from portal_world import MATURITY, PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import auth, credentials, documents
from credit_world import ISSUED_ON

FACE = "100000.00"
FIRST = "66000.00"  # passed to t2 first
SECOND = "34000.00"  # the rest, passed to t2 after
PEOPLE = {"t2-clerk": "孙悦", "t2-cashier": "周倩"}


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    t1, core = world.user("supplier"), world.user("core")
    ids: dict[str, str] = {}
    invoice = {
        "kind": "invoice",
        "number": "INV-NT-1",
        "seller_uscc": world.usccs("t1"),
        "buyer_uscc": world.usccs("core"),
        "issue_date": "2026-11-18",
        "currency": "CNY",
        "total": FACE,
        "tax": "0.00",
        "invoice_number": "26320000000000009201",
        "due_date": "2027-02-18",
    }
    with transaction(factory) as s:
        for username, display in PEOPLE.items():
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                display_name=display,
                password=PASSWORD,
                roles=["enterprise_admin"],
                enterprise_uscc=world.usccs("t2"),
            )
            ids[username] = user.id
        report = documents.ingest(s, t1, documents.parse_rows([invoice]))
        document_id = str(report.rows[0].document_id)
        documents.confirm(s, core, document_id)
        payable = credentials.confirm(
            s,
            core,
            supplier=world.usccs("t1"),
            amount=Money.parse(FACE),
            due_on=date(2027, 2, 18),
            document_ids=[document_id],
        )
        credential = credentials.issue(
            s,
            core,
            programme_id=world.lending.credit.programme_id,
            confirmation_ids=[payable.id],
            amount=Money.parse(FACE),
            maturity_on=MATURITY,
            issued_on=ISSUED_ON,
        )
        ids["credential"] = credential.id
    with transaction(factory) as s:
        (root,) = credentials.tree(s, t1, credential.id)
        credentials.accept(s, t1, root.id)
        first = credentials.transfer(
            s, t1, root.id, to=world.usccs("t2"), amount=Money.parse(FIRST)
        )
        assert first.kept is not None
        second = credentials.transfer(s, t1, first.kept.id, to=world.usccs("t2"))
        ids["first_piece"], ids["second_piece"] = first.offered.id, second.offered.id
    world.extra["notifications"] = ids
