"""The onboarding journeys' own objects (tests/web/test_onboarding.py), added to the portal
world through the services.

- An invoice of ¥250,000.00 from t1 to the core (``INV-ONB-1``), confirmed by the core, and
  two credentials the core issued on it to t1, both accepted by t1:
  - ¥150,000.00, which t1 still holds: the pass-on journey passes ¥58,000.00 of it to t2;
  - ¥100,000.00, which t1 passed on whole to t2 and t2 accepted: t2 holds it at tier 2,
    and the invitation journey offers ¥37,000.00 of it to a tier-3 firm it invites.
- The firm invited is not on the platform: 江阴华铜新材料有限公司, USCC
  913202817766554423 (江阴市), a valid code no world registers.
"""

from __future__ import annotations

from datetime import date

from portal_world import MATURITY, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.money import Money
from chainfin.domain.uscc import make_uscc
from chainfin.services import credentials, documents
from credit_world import ISSUED_ON

INVOICE = "250000.00"
TO_PASS = "150000.00"  # held by t1: the pass-on journey passes PASSED of it to t2
PASSED = "58000.00"
PASS_KEPT = "92000.00"
AT_TIER_2 = "100000.00"  # held by t2: the invitation journey offers OFFERED of it
OFFERED = "37000.00"
OFFER_KEPT = "63000.00"
NEW_FIRM = "江阴华铜新材料有限公司"
NEW_USCC = make_uscc("9", "1", "320281", "77665544")
NEW_ADMIN = ("huatong-admin", "钱立")  # the username and name the new firm's admin chooses


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    t1, t2, core = world.user("supplier"), world.user("supplier2"), world.user("core")
    invoice = {
        "kind": "invoice",
        "number": "INV-ONB-1",
        "seller_uscc": world.usccs("t1"),
        "buyer_uscc": world.usccs("core"),
        "issue_date": "2026-11-19",
        "currency": "CNY",
        "total": INVOICE,
        "tax": "0.00",
        "invoice_number": "26320000000000009301",
        "due_date": "2027-02-19",
    }
    ids: dict[str, str] = {}
    with transaction(factory) as s:
        report = documents.ingest(s, t1, documents.parse_rows([invoice]))
        document_id = str(report.rows[0].document_id)
        documents.confirm(s, core, document_id)
        payable = credentials.confirm(
            s,
            core,
            supplier=world.usccs("t1"),
            amount=Money.parse(INVOICE),
            due_on=date(2027, 2, 19),
            document_ids=[document_id],
        )
        for key, amount in (("to_pass", TO_PASS), ("at_tier_2", AT_TIER_2)):
            issued = credentials.issue(
                s,
                core,
                programme_id=world.lending.credit.programme_id,
                confirmation_ids=[payable.id],
                amount=Money.parse(amount),
                maturity_on=MATURITY,
                issued_on=ISSUED_ON,
            )
            ids[f"{key}_credential"] = issued.id
    with transaction(factory) as s:
        for key in ("to_pass", "at_tier_2"):
            (root,) = credentials.tree(s, t1, ids[f"{key}_credential"])
            credentials.accept(s, t1, root.id)
            ids[key] = root.id
        moved = credentials.transfer(s, t1, ids["at_tier_2"], to=world.usccs("t2"))
        credentials.accept(s, t2, moved.offered.id)
        ids["at_tier_2"] = moved.offered.id
    world.extra["onboarding"] = ids
