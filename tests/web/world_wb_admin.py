"""The administration journeys' own objects (tests/web/test_wb_admin.py), added to the
portal world (world.extra["wb_admin"]), built through the services:

- ``wb-adm-appr`` (陶然, approver of 星湖银行 BKA, no credit authority yet): the authority
  journey grants them a level;
- 江阴澄江铜材有限公司 (USCC 91320281665544336K, 江阴市), a firm the registry knew, invited
  by the dealer (星湖新能源汽车销售有限公司, a customer of BKA) as its supplier; its first
  administrator ``wb-adm-firm`` (蒋琳) registered through the link and waits for BKA to
  verify them: the pending journey activates them.

No other journey touches these people; the staff member the journey creates
(:data:`NEW_STAFF`) is made by the journey itself."""

from __future__ import annotations

from portal_world import PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, onboarding, registry

APPROVER = ("wb-adm-appr", "陶然")
FIRM_USCC = make_uscc("9", "1", "320281", "66554433")
FIRM_NAME = "江阴澄江铜材有限公司"
FIRM_ADMIN = ("wb-adm-firm", "蒋琳")
NEW_STAFF = ("wb-adm-new", "韩梅")  # created by the staff journey


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    ids: dict[str, str] = {}
    with transaction(factory) as s:
        made = auth.create_user(
            s, SYSTEM, username=APPROVER[0], display_name=APPROVER[1], password=PASSWORD,
            roles=["approver"], bank_code="BKA",
        )  # fmt: skip
        ids["approver"] = made.id
        registry.import_enterprises(
            s,
            SYSTEM,
            [
                EnterpriseRecord(
                    uscc=FIRM_USCC, name=FIRM_NAME, region_code="320281", industry_code="C32",
                    roles=frozenset({Role.SUPPLIER}),
                )
            ],
        )  # fmt: skip
    with transaction(factory) as s:
        invited = onboarding.invite(
            s,
            world.user("dealer"),
            onboarding.InviteSupplier(
                uscc=FIRM_USCC, name=FIRM_NAME, contact_name=FIRM_ADMIN[1],
                contact_mobile="13900139000",
            ),
        )  # fmt: skip
        assert not invited.created, "the registry knew the firm: its admin must wait"
    with transaction(factory) as s:
        waiting = onboarding.register(
            s,
            onboarding.RegisterSupplier(
                token=invited.token, uscc=FIRM_USCC, display_name=FIRM_ADMIN[1],
                username=FIRM_ADMIN[0], password=PASSWORD, password_again=PASSWORD,
            ),
        )  # fmt: skip
        ids["firm_admin"] = waiting.id
    world.extra["wb_admin"] = ids
