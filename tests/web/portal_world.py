"""The world the browser tests sign in to: the lending world (tests/lending_world.py, itself
the credit world) under Chinese names, plus what a portal user sees on arrival. Built
through the services, like every other test world.

- 星湖银行 (BKA) leads the core's credential programme; 东海银行 (BKB) joined it. Staff of
  BKA: ``bka-rm``, ``bka-ck1``, ``bka-ck3`` (relationship managers and approvers, from the
  lending world; ck1 has approval authority level 1, ck3 level 3), ``bka-risk``,
  ``bka-admin``, ``bka-auditor`` (:data:`STAFF`); of BKB: ``bkb-rm`` and ``bkb-boss`` (every
  staff role: what it meets on bank A's objects is tenancy, not a missing role).
- ``supplier``: the administrator of 恒锂电芯材料有限公司 (t1, a tier-1 supplier). It holds
  one credential of ¥800,000.00 and is offered three more: ¥500,000.00 (never touched by a
  test: the home page lists it), ¥300,000.00 (the accept journey takes it) and
  ¥200,000.00 (the reject journey refuses it).
- ``supplier2``: 铜陵极片制造有限公司 (t2, t1's supplier); ``core``: the core enterprise's
  treasury; ``dealer``: 星湖新能源汽车销售有限公司 (x, the lending world's dealer, which
  buys from the core).
- Consents of the supplier: everything to BKA (the lending world), invoices for credit
  assessment to BKB (the revoke journey revokes it); its access log has one read BKA was
  allowed and one BKB was refused. One open platform alert about the supplier (a bank's
  own alerts are not shown to the enterprise).

Every journey that changes something changes its own object, so the tests can run in any
order on one world per test process.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.money import Money
from chainfin.services import alerts, auth, consent, credentials
from credit_world import ISSUED_ON, uscc
from lending_world import LendingWorld, build_lending

PASSWORD = "correct horse battery"

NAMES = {
    "bank A": "星湖银行",
    "bank B": "东海银行",
    "core": "星湖动力电池股份有限公司",
    "t1": "恒锂电芯材料有限公司",
    "t2": "铜陵极片制造有限公司",
    "t3": "江阴精密铜箔有限公司",
    "x": "星湖新能源汽车销售有限公司",
}

USERS = {  # username -> (firm key, display name)
    "supplier": ("t1", "陈静"),
    "supplier2": ("t2", "刘洋"),
    "core": ("core", "王海"),
    "dealer": ("x", "赵敏"),
}

STAFF = [  # the bank workbench's people: username, display name, roles, bank
    ("bka-risk", "周敏", ["risk_officer"], "BKA"),
    ("bka-admin", "吴刚", ["admin"], "BKA"),
    ("bka-auditor", "郑洁", ["auditor"], "BKA"),
    (
        "bkb-boss",
        "钱峰",
        ["relationship_manager", "risk_officer", "approver", "admin", "auditor"],
        "BKB",
    ),
]

MATURITY = date(2027, 5, 26)
HELD = "800000.00"
OFFERED_SHOWN = "500000.00"  # listed on the home page; no test acts on it
OFFERED_TO_ACCEPT = "300000.00"
OFFERED_TO_REJECT = "200000.00"
ALERT_MESSAGE = "核心企业付款日临近：持有凭证将于2027年5月26日到期，请核对收款账户"


@dataclass
class PortalWorld:
    lending: LendingWorld
    user_ids: dict[str, str]  # username -> user id
    credential_ids: dict[str, str]  # amount -> credential id
    bkb_consent_id: str
    extra: dict[str, Any] = field(default_factory=dict)  # each world_<area>.py's own ids

    @property
    def ids(self) -> dict[str, str]:
        return self.lending.ids

    def usccs(self, key: str) -> str:
        return uscc({"bank A": 1, "bank B": 2, "core": 3, "t1": 4, "t2": 5, "t3": 6, "x": 7}[key])

    def user(self, username: str) -> Principal:
        key = USERS[username][0]
        return Principal.enterprise_user(
            self.user_ids[username],
            enterprise_id=self.ids[key],
            roles=[EnterpriseRole.ENTERPRISE_ADMIN],
        )


def build_portal(factory: sessionmaker[Session]) -> PortalWorld:
    lending = build_lending(factory, names=NAMES)
    credit = lending.credit
    world = PortalWorld(lending, {}, {}, "")
    with transaction(factory) as s:
        for username, (key, display) in USERS.items():
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                display_name=display,
                password=PASSWORD,
                roles=["enterprise_admin"],
                enterprise_uscc=world.usccs(key),
            )
            world.user_ids[username] = user.id
        bkb = auth.create_user(
            s,
            SYSTEM,
            username="bkb-rm",
            display_name="孙立",
            password=PASSWORD,
            roles=["relationship_manager"],
            bank_code="BKB",
        )
        world.user_ids["bkb-rm"] = bkb.id
        for username, display, roles, bank in STAFF:
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                display_name=display,
                password=PASSWORD,
                roles=roles,
                bank_code=bank,
            )
            world.user_ids[username] = user.id
    with transaction(factory) as s:
        for amount in (HELD, OFFERED_SHOWN, OFFERED_TO_ACCEPT, OFFERED_TO_REJECT):
            issued = credentials.issue(
                s,
                world.user("core"),
                programme_id=credit.programme_id,
                confirmation_ids=[credit.confirmation_id],
                amount=Money.parse(amount),
                maturity_on=MATURITY,
                issued_on=ISSUED_ON,
            )
            world.credential_ids[amount] = issued.id
    with transaction(factory) as s:
        (held,) = credentials.tree(s, world.user("supplier"), world.credential_ids[HELD])
        credentials.accept(s, world.user("supplier"), held.id)
        grant = consent.grant(
            s,
            world.user("supplier"),
            bank_code="BKB",
            categories=[DataCategory.INVOICES.value],
            purposes=[Purpose.CREDIT_ASSESSMENT.value],
            expires_at=utcnow() + timedelta(days=180),
        )
        world.bkb_consent_id = grant.id
        consent.require(
            s,
            lending.staff("rm", StaffRole.RELATIONSHIP_MANAGER),
            enterprise_id=credit.ids["t1"],
            category=DataCategory.INVOICES,
            purpose=Purpose.CREDIT_ASSESSMENT,
            resource="invoice INV-C-1",
        )
        consent.missing_for_bank(
            s,
            enterprise_id=credit.ids["t1"],
            bank_id=credit.banks["BKB"],
            actor_label=f"staff:{world.user_ids['bkb-rm']}",
            categories=[DataCategory.FINANCIAL_STATEMENTS.value],
            purpose=Purpose.CREDIT_ASSESSMENT,
            resource="financial statements 2026",
        )
        alerts.raise_alert(
            s,
            SYSTEM,
            kind="credential_due",
            severity="medium",
            subject_kind="credential",
            subject_id=world.credential_ids[HELD],
            bank_id=None,  # the platform's alert: an enterprise sees those about it
            enterprise_id=credit.ids["t1"],
            message=ALERT_MESSAGE,
        )
    for extend in extensions():
        extend(factory, world)
    return world


def extensions() -> list[Any]:
    """Each journey's own objects: ``world_<area>.py`` beside this module defines
    ``extend(factory, world)``, which adds them (and their ids under ``world.extra``)
    after the common world is built, in the modules' name order."""
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("world_*.py"))
    return [importlib.import_module(name).extend for name in names]
