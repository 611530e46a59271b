"""A bank administrator's work on their own bank (services/staff_admin.py): each test one
rule, in the order the module's docstring lists the refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import User
from chainfin.domain.access import SYSTEM, Principal, Scope, StaffRole
from chainfin.domain.errors import ChainfinError
from chainfin.services import auth, ledger, ledger_verify, onboarding, staff_admin
from credit_world import CreditWorld, uscc

PASSWORD = "correct horse battery"
ORIGIN = "chainfin.test/ledger"


@pytest.fixture
def cw(session_factory: sessionmaker[Session]) -> CreditWorld:
    return credit_world.build(session_factory)


def _staff(f: sessionmaker[Session], username: str, roles: list[str], bank: str) -> Principal:
    with transaction(f) as s:
        user = auth.create_user(
            s, SYSTEM, username=username, password=PASSWORD, roles=roles, bank_code=bank
        )
        return auth.principal_for_user(user)


def _code(f: sessionmaker[Session], act: object) -> str:
    with pytest.raises(ChainfinError) as refused, transaction(f) as s:
        act(s)  # type: ignore[operator]
    return refused.value.code


def test_only_a_banks_administrator_administers(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    rm = _staff(session_factory, "a-rm", ["relationship_manager"], "BKA")
    assert _code(session_factory, lambda s: staff_admin.staff(s, rm)) == "scope_missing"
    firm = cw.ent("t1")  # users:admin of an enterprise
    assert _code(session_factory, lambda s: staff_admin.clients(s, firm)) == "bank_staff_only"


def test_another_banks_people_and_clients_are_not_found(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    b = _staff(session_factory, "b-admin", ["admin"], "BKB")
    with transaction(session_factory) as s:
        made = staff_admin.create_client(s, a, name="core", scopes=["registry:read"])
    code = _code(session_factory, lambda s: staff_admin.deactivate_staff(s, b, a.subject_id))
    assert code == "user_not_found"
    code = _code(session_factory, lambda s: staff_admin.revoke_client(s, b, made.client_id))
    assert code == "client_not_found"
    with transaction(session_factory, write=False) as s:
        assert [m.user.username for m in staff_admin.staff(s, b)] == ["b-admin"]
        assert staff_admin.clients(s, b) == []


def test_an_administrator_keeps_their_own_role_and_account(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    me = a.subject_id
    roles = ["auditor"]
    code = _code(session_factory, lambda s: staff_admin.set_staff_roles(s, a, me, roles))
    assert code == "self_demotion_refused"
    code = _code(session_factory, lambda s: staff_admin.deactivate_staff(s, a, me))
    assert code == "self_deactivation_refused"


def test_a_banks_client_holds_staff_scopes_but_never_users_admin() -> None:
    assert Scope.USERS_ADMIN not in staff_admin.BANK_CLIENT_SCOPES
    assert Scope.CONSENT_MANAGE not in staff_admin.BANK_CLIENT_SCOPES
    assert Scope.PLATFORM_AUDIT not in staff_admin.BANK_CLIENT_SCOPES
    assert {Scope.LOANS_APPROVE, Scope.AUDIT_READ} <= staff_admin.BANK_CLIENT_SCOPES


def test_a_client_asking_for_users_admin_is_refused(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    code = _code(
        session_factory,
        lambda s: staff_admin.create_client(s, a, name="x", scopes=["users:admin"]),
    )
    assert code == "scope_not_for_bank_clients"


def test_reactivation_does_not_revive_old_tokens(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    rm = _staff(session_factory, "a-rm", [StaffRole.RELATIONSHIP_MANAGER.value], "BKA")
    with transaction(session_factory) as s:
        staff_admin.deactivate_staff(s, a, rm.subject_id)
    with transaction(session_factory) as s:
        staff_admin.reactivate_staff(s, a, rm.subject_id)
    with session_factory() as s:
        user = s.get_one(User, rm.subject_id)
        assert user.active
        assert user.tokens_valid_after is not None


def test_a_pending_administrator_is_activated_by_the_bank_of_the_firm_that_invited_them(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    """t1 banks with A (its customer) and invites t3, which the registry knew: t3's first
    administrator waits. Bank A sees and activates them; bank B sees no one."""
    from chainfin.services import registry

    with transaction(session_factory) as s:
        registry.link_customers(s, SYSTEM, cw.banks["BKA"], [cw.ids["t1"]])
        invited = onboarding.invite(
            s,
            cw.ent("t1"),
            onboarding.InviteSupplier(
                uscc=uscc(6), name="t3", contact_name="周婷", contact_mobile="13800138000"
            ),
        )
    with transaction(session_factory) as s:
        waiting = onboarding.register(
            s,
            onboarding.RegisterSupplier(
                token=invited.token, uscc=uscc(6), display_name="周婷", username="t3-first",
                password=PASSWORD, password_again=PASSWORD,
            ),
        )  # fmt: skip
        waiting_id = waiting.id
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    b = _staff(session_factory, "b-admin", ["admin"], "BKB")
    with transaction(session_factory, write=False) as s:
        assert [p.user.id for p in staff_admin.pending_admins(s, a)] == [waiting_id]
        assert staff_admin.pending_admins(s, b) == []
    code = _code(session_factory, lambda s: staff_admin.activate_pending(s, b, waiting_id))
    assert code == "user_not_found"
    with transaction(session_factory) as s:
        assert staff_admin.activate_pending(s, a, waiting_id).active
    with transaction(session_factory, write=False) as s:
        assert staff_admin.pending_admins(s, a) == []


def test_every_change_is_on_the_log_and_verifies(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    a = _staff(session_factory, "a-admin", ["admin"], "BKA")
    with transaction(session_factory) as s:
        made = staff_admin.create_staff(
            s, a, username="a-new", display_name="新人", roles=["approver"], password=PASSWORD
        )
        new_id = made.id
        client = staff_admin.create_client(s, a, name="core", scopes=["loans:read"])
    with transaction(session_factory) as s:
        staff_admin.set_staff_roles(s, a, new_id, ["approver", "risk_officer"])
        staff_admin.grant_authority(s, a, new_id, 3)
        staff_admin.rotate_secret(s, a, client.client_id)
        staff_admin.revoke_client(s, a, client.client_id)
        staff_admin.deactivate_staff(s, a, new_id)
    with transaction(session_factory) as s:
        staff_admin.reactivate_staff(s, a, new_id)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with transaction(session_factory, write=False) as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
        assert report.ok, report.findings[:5]
        assert s.scalar(select(User.roles).where(User.id == new_id)) == ["approver", "risk_officer"]
