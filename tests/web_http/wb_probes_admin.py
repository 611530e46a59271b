"""The administration pages' tenancy probes (loaded by test_page_tenancy.py): bank A's own
staff member, API client and an enterprise administrator waiting for bank A's verification
(t3's, registered through t1's supplier invitation; t1 is bank A's customer), tried by
other firms and by bank B's all-role ``bkb-boss``. Their names are the marks no one else's
page may show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM, OwnerKind
from chainfin.services import auth, onboarding
from credit_world import uscc

PASSWORD = "correct horse battery"
STAFF_NAME = "甄士隐"
CLIENT_NAME = "甄氏核心系统"
PENDING_NAME = "贾雨村"
MARKS = (STAFF_NAME, CLIENT_NAME, PENDING_NAME, "wb-admin-victim", "t3-waiting")


def _path(**params: str) -> Callable[[Any], tuple[dict[str, str], dict[str, Any]]]:
    return lambda v: ({name: v.ids[key] for name, key in params.items()}, {})


PROBES = {
    ("POST", "/admin/users/{user_id}/roles"): lambda v: (
        {"user_id": v.ids["wb_admin_staff"]},
        {"roles": "admin"},
    ),
    ("POST", "/admin/users/{user_id}/deactivate"): _path(user_id="wb_admin_staff"),
    ("POST", "/admin/users/{user_id}/reactivate"): _path(user_id="wb_admin_staff"),
    ("POST", "/admin/pending/{user_id}/activate"): _path(user_id="wb_admin_pending"),
    ("POST", "/admin/clients/{client_id}/rotate"): _path(client_id="wb_admin_client"),
    ("POST", "/admin/clients/{client_id}/revoke"): _path(client_id="wb_admin_client"),
}


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    with transaction(factory) as s:
        staff = auth.create_user(
            s, SYSTEM, username="wb-admin-victim", display_name=STAFF_NAME, password=PASSWORD,
            roles=["approver"], bank_code="BKA",
        )  # fmt: skip
        ids["wb_admin_staff"] = staff.id
        made = auth.create_client(
            s, SYSTEM, name=CLIENT_NAME, owner_kind=OwnerKind.BANK, owner="BKA",
            scopes=["registry:read"],
        )  # fmt: skip
        ids["wb_admin_client"] = made.client_id
        invited = onboarding.invite(
            s,
            world.ent("t1"),
            onboarding.InviteSupplier(
                uscc=uscc(6), name="t3", contact_name=PENDING_NAME, contact_mobile="13800138001"
            ),
        )
    with transaction(factory) as s:
        pending = onboarding.register(
            s,
            onboarding.RegisterSupplier(
                token=invited.token, uscc=uscc(6), display_name=PENDING_NAME,
                username="t3-waiting", password=PASSWORD, password_again=PASSWORD,
            ),
        )  # fmt: skip
        ids["wb_admin_pending"] = pending.id
