"""The account journeys' own people in the portal world (tests/web/test_account.py), so no
journey changes the password, the sessions or the colleagues of the common world's users:

- ``acct-pw`` (吴芳, finance staff of t1): changes their password;
- ``acct-two`` (郑伟, finance staff of t1): signs in in two browsers and ends one session;
- ``acct-admin`` (黄磊, enterprise administrator of t2): invites ``acct-new`` and removes
  them again.

All with portal_world.PASSWORD. Their user ids in ``world.extra["account"]``."""

from __future__ import annotations

from portal_world import PASSWORD, PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.services import auth

PEOPLE = {  # username -> (firm, display name, role)
    "acct-pw": ("t1", "吴芳", "finance_staff"),
    "acct-two": ("t1", "郑伟", "finance_staff"),
    "acct-admin": ("t2", "黄磊", "enterprise_admin"),
}
INVITED = ("acct-new", "林晓")  # the colleague acct-admin invites: username, name


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    ids = {}
    with transaction(factory) as s:
        for username, (firm, name, role) in PEOPLE.items():
            made = auth.create_user(
                s,
                SYSTEM,
                username=username,
                display_name=name,
                password=PASSWORD,
                roles=[role],
                enterprise_uscc=world.usccs(firm),
            )
            ids[username] = made.id
    world.extra["account"] = ids
