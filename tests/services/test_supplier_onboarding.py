"""Supplier onboarding through the service layer: passing part of a piece to a supplier of
mine, and inviting a supplier not yet on the platform — invite, register through the link,
accept the piece offered — with every refusal and what stays unchanged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    CredentialPiece,
    Enterprise,
    SupplierInvitation,
    SupplyRelation,
    User,
)
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.errors import Conflict, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.states import IllegalTransition
from chainfin.domain.uscc import make_uscc
from chainfin.services import auth, credentials, ledger, ledger_verify, onboarding, receivables
from chainfin.services.onboarding import AmountProblem, Gone, InviteSupplier, RegisterSupplier
from credit_world import ISSUED_ON, CreditWorld, build, uscc

NEW_USCC = make_uscc("9", "1", "320281", "66778899")  # 江阴市: not in the registry
PASSWORD = "a long enough secret"


@pytest.fixture
def cw(session_factory: sessionmaker[Session]) -> CreditWorld:
    return build(session_factory)


def held_by(factory: sessionmaker[Session], cw: CreditWorld, holder: str, amount: str) -> str:
    """A held piece of ``amount``: issued to t1 and accepted; for t2, passed on whole by t1
    and accepted."""
    with transaction(factory) as s:
        issued = credentials.issue(
            s,
            cw.ent("core"),
            programme_id=cw.programme_id,
            confirmation_ids=[cw.confirmation_id],
            amount=Money.parse(amount),
            maturity_on=date(2027, 5, 26),
            issued_on=ISSUED_ON,
        )
        (root,) = credentials.tree(s, cw.ent("t1"), issued.id)
        credentials.accept(s, cw.ent("t1"), root.id)
        if holder == "t1":
            return root.id
        moved = credentials.transfer(s, cw.ent("t1"), root.id, to=cw.ids["t2"])
        credentials.accept(s, cw.ent("t2"), moved.offered.id)
        return moved.offered.id


def invitation(piece_id: str | None = None, amount: str = "", **changes: str) -> InviteSupplier:
    fields = {
        "uscc": NEW_USCC,
        "name": "江阴新材料有限公司",
        "contact_name": "周明",
        "contact_mobile": "138 1234 5678",
        "product_category": "铜箔",
        **changes,
    }
    return InviteSupplier(**fields, piece_id=piece_id, amount=amount)


def registration(token: str, **changes: str) -> RegisterSupplier:
    fields = {
        "uscc": NEW_USCC.lower(),  # compared normalised
        "display_name": "周明",
        "username": "jiangyin-admin",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **changes,
    }
    return RegisterSupplier(token=token, **fields)


def new_admin(s: Session, username: str = "jiangyin-admin") -> Principal:
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    assert user.enterprise_id is not None
    assert user.roles == ["enterprise_admin"]
    return Principal.enterprise_user(
        user.id, enterprise_id=user.enterprise_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


# ---------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", AmountProblem.EMPTY),
        ("abc", AmountProblem.NOT_A_NUMBER),
        ("1e5", AmountProblem.NOT_A_NUMBER),
        ("12.345", AmountProblem.TOO_PRECISE),
        ("0", AmountProblem.NOT_POSITIVE),
        ("-5", AmountProblem.NOT_POSITIVE),
        ("50000.01", AmountProblem.MORE_THAN_PIECE),
        ("999999999999999999", AmountProblem.MORE_THAN_PIECE),
        ("999.99", AmountProblem.BELOW_MINIMUM),
        ("49500", AmountProblem.REMAINDER_BELOW_MINIMUM),
    ],
)
def test_an_amount_is_refused_for_its_first_problem(typed: str, problem: AmountProblem) -> None:
    check = onboarding.check_amount(typed, Money(50_000_00), min_piece_minor=1_000_00)
    assert (check.ok, check.problem) == (False, problem)


@pytest.mark.parametrize(
    ("typed", "left"),
    [("¥12,000.50", 37_999_50), ("50000", 0), ("1000.000", 49_000_00), ("49000", 1_000_00)],
)
def test_an_amount_as_people_type_it_leaves_the_rest(typed: str, left: int) -> None:
    check = onboarding.check_amount(typed, Money(50_000_00), min_piece_minor=1_000_00)
    assert check.ok
    assert check.remaining == Money(left)


# ---------------------------------------------------------------------------- passing on


def test_passing_part_of_a_piece_to_a_supplier_keeps_the_rest(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    piece_id = held_by(session_factory, cw, "t1", "100000.00")
    with transaction(session_factory) as s:
        assert [x.name for x in onboarding.suppliers(s, cw.ent("t1"))] == ["t2"]
        moved = onboarding.pass_on(
            s, cw.ent("t1"), onboarding.PassOn(piece_id, cw.ids["t2"], "30,000")
        )
        assert moved.kept is not None
        assert (moved.offered.amount_minor, moved.kept.amount_minor) == (30_000_00, 70_000_00)
        assert (moved.offered.holder_id, moved.offered.tier) == (cw.ids["t2"], 2)
        assert [p.id for p in onboarding.passed_on(s, cw.ent("t1"))] == [moved.offered.id]


@pytest.mark.parametrize(
    ("to", "amount", "code", "fields"),
    [
        ("x", "1000", "recipient_not_supplier", ["to"]),  # x supplies nobody here
        ("core", "1000", "recipient_not_supplier", ["to"]),  # my buyer, not my supplier
        ("t2", "100000.01", "carve_amount_invalid", ["amount"]),
        ("t2", "0.5", "piece_amount_invalid", ["amount"]),
        ("t2", "-1", "amount_not_positive", ["amount"]),
        ("x", "lots", "validation_failed", ["to", "amount"]),
    ],
)
def test_passing_on_is_refused_with_the_field_and_nothing_moves(
    session_factory: sessionmaker[Session],
    cw: CreditWorld,
    to: str,
    amount: str,
    code: str,
    fields: list[str],
) -> None:
    piece_id = held_by(session_factory, cw, "t1", "100000.00")
    command = onboarding.PassOn(piece_id, cw.ids[to], amount)
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as refused:
        onboarding.pass_on(s, cw.ent("t1"), command)
    assert refused.value.code == code
    assert [e.field for e in refused.value.errors] == fields
    with transaction(session_factory) as s:
        piece = s.get(CredentialPiece, piece_id)
        assert piece is not None
        assert piece.status == "held"


def test_another_firms_piece_is_not_found_and_a_passed_one_not_held(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    piece_id = held_by(session_factory, cw, "t1", "100000.00")
    with transaction(session_factory) as s, pytest.raises(NotFound):
        onboarding.held_piece(s, cw.ent("t2"), piece_id)
    with transaction(session_factory) as s:
        onboarding.pass_on(s, cw.ent("t1"), onboarding.PassOn(piece_id, cw.ids["t2"], "100000"))
    with transaction(session_factory) as s, pytest.raises(Conflict) as refused:
        onboarding.held_piece(s, cw.ent("t1"), piece_id)
    assert refused.value.code == "piece_not_held"


# ---------------------------------------------------------------------------- inviting


def test_invite_register_and_accept_takes_a_credential_to_tier_three(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    f = session_factory
    piece_id = held_by(f, cw, "t2", "100000.00")
    with transaction(f) as s:
        done = onboarding.invite(s, cw.ent("t2"), invitation(piece_id, "40000"))
        token, invitation_id = done.token, done.invitation.id
        assert done.created
        assert done.offered is not None
        assert done.offered.tier == 3
        row = s.get(SupplierInvitation, invitation_id)
        assert row is not None
        assert row.token_digest == onboarding.token_digest(token) != token
        assert row.expires_at == row.created_at + timedelta(days=14)
        assert (row.status, row.contact_mobile) == ("invited", "13812345678")
        firm = s.get(Enterprise, row.invitee_id)
        assert firm is not None
        assert (firm.region_code, firm.industry_code, firm.roles) == ("320281", "C36", ["supplier"])
        relation = s.scalar(select(SupplyRelation).where(SupplyRelation.seller_id == firm.id))
        assert relation is not None
        assert relation.buyer_id == cw.ids["t2"]
        (listed,) = onboarding.invitations(s, cw.ent("t2"))
        assert (listed.state, listed.contact_mobile, listed.offered) == (
            "invited",
            "138****5678",
            Money(40_000_00),
        )
    with transaction(f) as s:
        view = onboarding.join_view(s, token)
        assert (view.inviter_name, view.invitee_name, view.offered) == (
            "t2",
            "江阴新材料有限公司",
            Money(40_000_00),
        )
        onboarding.register(s, registration(token))
    with transaction(f) as s:
        admin = new_admin(s)
        (offered,) = credentials.list_pieces(s, admin).items
        assert (offered.status, offered.amount_minor, offered.tier) == ("offered", 40_000_00, 3)
        credentials.accept(s, admin, offered.id)
        row = s.get(SupplierInvitation, invitation_id)
        assert row is not None
        assert row.status == "registered"
        assert row.registered_user_id == admin.subject_id
        tiers = [p.tier for p in credentials.tree(s, cw.ent("t1"), offered.credential_id)]
        assert sorted(set(tiers)) == [1, 2, 3]
        ledger.sequence(s, "chainfin.test/ledger")
        report = ledger_verify.verify(s, origin="chainfin.test/ledger")
        assert report.ok, report.findings[:5]
    with transaction(f) as s, pytest.raises(Gone) as used:
        onboarding.register(s, registration(token, username="second-admin"))
    assert used.value.code == "supplier_invitation_closed"


def test_a_firm_already_in_the_registry_is_matched_not_registered_again(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        done = onboarding.invite(s, cw.ent("t2"), invitation(uscc=uscc(6), name="whatever"))
        assert (done.created, done.enterprise.id, done.enterprise.name) == (
            False,
            cw.ids["t3"],
            "t3",
        )
        assert (
            s.scalar(
                select(func.count())
                .select_from(SupplyRelation)
                .where(SupplyRelation.seller_id == cw.ids["t3"])
            )
            == 1
        )  # t2 already buys from t3: no second relation


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"uscc": NEW_USCC[:-1] + ("0" if NEW_USCC[-1] != "0" else "1")}, "uscc", "check digit"),
        ({"uscc": NEW_USCC[:17]}, "uscc", "length: expected 18 characters, got 17"),
        ({"uscc": "I" + NEW_USCC[1:]}, "uscc", "charset"),
        ({"uscc": uscc(5)}, "uscc", onboarding.OWN_FIRM),
        ({"uscc": make_uscc("9", "1", "999999", "66778899")}, "uscc", onboarding.REGION_UNKNOWN),
        ({"name": " "}, "name", onboarding.REQUIRED),
        ({"contact_mobile": "12345"}, "contact_mobile", onboarding.MOBILE_INVALID),
    ],
)
def test_invitations_are_refused_field_by_field_and_nothing_is_written(
    session_factory: sessionmaker[Session],
    cw: CreditWorld,
    changes: dict[str, str],
    field: str,
    reason: str,
) -> None:
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as refused:
        onboarding.invite(s, cw.ent("t2"), invitation(**changes))
    (error,) = refused.value.errors
    assert error.field == field
    assert error.reason.startswith(reason)
    if field == "uscc":
        assert refused.value.code == "uscc_invalid"
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(SupplierInvitation)) == 0
        assert s.scalar(select(Enterprise.id).where(Enterprise.uscc == NEW_USCC)) is None


def test_an_amount_too_large_for_the_piece_is_refused_before_anything_is_written(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    piece_id = held_by(session_factory, cw, "t2", "100000.00")
    with transaction(session_factory) as s, pytest.raises(ValidationFailed) as refused:
        onboarding.invite(s, cw.ent("t2"), invitation(piece_id, "100000.01"))
    assert [(e.field, e.reason) for e in refused.value.errors] == [("amount", "more_than_piece")]
    with transaction(session_factory) as s:
        assert s.scalar(select(Enterprise.id).where(Enterprise.uscc == NEW_USCC)) is None


def test_a_firm_with_users_or_an_open_link_is_not_invited_again(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        onboarding.invite(s, cw.ent("t2"), invitation())
    with transaction(session_factory) as s, pytest.raises(Conflict) as again:
        onboarding.invite(s, cw.ent("t2"), invitation())
    assert again.value.code == "supplier_invitation_already_open"
    with transaction(session_factory) as s:
        (row,) = s.scalars(select(SupplierInvitation))
        onboarding.cancel(s, cw.ent("t2"), row.id)
        token = onboarding.invite(s, cw.ent("t2"), invitation()).token
        onboarding.register(s, registration(token))
    with transaction(session_factory) as s, pytest.raises(Conflict) as on_platform:
        onboarding.invite(s, cw.ent("t1"), invitation())
    assert on_platform.value.code == "enterprise_has_users"


def test_registration_checks_the_uscc_and_the_password_rules(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        token = onboarding.invite(s, cw.ent("t2"), invitation()).token
    cases = [
        ({"uscc": uscc(6)}, "uscc_mismatch", "uscc"),  # a valid code, but another firm's
        ({"uscc": NEW_USCC[:17] + "0"}, "uscc_invalid", "uscc"),
        ({"password": "short", "password_again": "short"}, "password_too_short", "password"),
        ({"password_again": PASSWORD + "!"}, "password_mismatch", "password_again"),
    ]
    for changes, code, field in cases:
        with transaction(session_factory) as s, pytest.raises(ValidationFailed) as refused:
            onboarding.register(s, registration(token, **changes))
        assert (refused.value.code, [e.field for e in refused.value.errors]) == (code, [field])
    with transaction(session_factory) as s:
        assert s.scalar(select(User.id).where(User.username == "jiangyin-admin")) is None
        onboarding.register(s, registration(token))  # the link still works after the refusals


def test_a_link_expires_after_fourteen_days(
    session_factory: sessionmaker[Session], cw: CreditWorld, world_clock: clock.FixedClock
) -> None:
    with transaction(session_factory) as s:
        token = onboarding.invite(s, cw.ent("t2"), invitation()).token
    world_clock.advance(timedelta(days=13, hours=23))
    with transaction(session_factory) as s:
        onboarding.join_view(s, token)  # still open
    world_clock.advance(timedelta(hours=2))
    with transaction(session_factory) as s, pytest.raises(Gone) as expired:
        onboarding.register(s, registration(token))
    assert (expired.value.code, expired.value.status) == ("supplier_invitation_expired", 410)
    with transaction(session_factory) as s:
        assert [i.state for i in onboarding.invitations(s, cw.ent("t2"))] == ["expired"]
        assert onboarding.expire_lapsed(s, cw.ent("t2")) == 1
        (row,) = s.scalars(select(SupplierInvitation))
        assert row.status == "expired"
    with transaction(session_factory) as s, pytest.raises(NotFound) as unknown:
        onboarding.join_view(s, "x" * 43)
    assert unknown.value.code == "supplier_invitation_not_found"


def test_another_firm_neither_sees_nor_cancels_my_invitations(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        invitation_id = onboarding.invite(s, cw.ent("t2"), invitation()).invitation.id
    with transaction(session_factory) as s:
        assert onboarding.invitations(s, cw.ent("t1")) == []
        with pytest.raises(NotFound) as refused:
            onboarding.cancel(s, cw.ent("t1"), invitation_id)
        assert refused.value.code == "supplier_invitation_not_found"
    with transaction(session_factory) as s:
        onboarding.cancel(s, cw.ent("t2"), invitation_id)
        with pytest.raises(IllegalTransition):
            onboarding.cancel(s, cw.ent("t2"), invitation_id)


def test_cancelling_an_invitation_brings_its_offered_piece_back(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    f = session_factory
    piece_id = held_by(f, cw, "t2", "100000.00")
    with transaction(f) as s:
        done = onboarding.invite(s, cw.ent("t2"), invitation(piece_id, "40000"))
        assert done.offered is not None
        offered_id, invitation_id = done.offered.id, done.invitation.id
    with transaction(f) as s:
        onboarding.cancel(s, cw.ent("t2"), invitation_id)
    with transaction(f) as s:
        offered = s.get_one(CredentialPiece, offered_id)
        assert offered.status == "cancelled"
        held = credentials.list_pieces(
            s,
            cw.ent("t2"),
            credentials.PieceFilter(holder=cw.ids["t2"], statuses=(PieceStatus.HELD,)),
        ).items
        # the 60,000.00 kept and the 40,000.00 back: the whole 100,000.00 is t2's again
        assert sorted(p.amount_minor for p in held) == [40_000_00, 60_000_00]
        ledger.sequence(s, "chainfin.test/ledger")
        assert ledger_verify.verify(s, origin="chainfin.test/ledger").ok


def test_only_the_sender_withdraws_and_only_before_an_answer(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    f = session_factory
    piece_id = held_by(f, cw, "t1", "50000.00")
    with transaction(f) as s:
        moved = credentials.transfer(
            s, cw.ent("t1"), piece_id, to=cw.ids["t2"], amount=Money(20_000_00)
        )
        offered_id = moved.offered.id
    for who in ("t2", "core", "t3"):  # the receiver, the issuer, a stranger
        with transaction(f) as s, pytest.raises(NotFound) as refused:
            credentials.withdraw(s, cw.ent(who), offered_id)
        assert refused.value.code == "piece_not_found"
    with transaction(f) as s:
        credentials.accept(s, cw.ent("t2"), offered_id)
    with transaction(f) as s, pytest.raises(IllegalTransition) as late:
        credentials.withdraw(s, cw.ent("t1"), offered_id)
    assert late.value.code == "piece_already_answered"
    with transaction(f) as s:
        root = credentials.tree(
            s, cw.ent("t1"), s.get_one(CredentialPiece, offered_id).credential_id
        )[0]
    with transaction(f) as s, pytest.raises(NotFound):
        credentials.withdraw(s, cw.ent("t1"), root.id)  # an issue is the issuer's to cancel


def test_a_firm_the_registry_knew_waits_for_verification_before_its_admin_signs_in(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    """t2 could type any registered firm's USCC and hold the link: the firm's first
    administrator registered through it cannot act until someone else verifies them."""
    with transaction(session_factory) as s:
        done = onboarding.invite(s, cw.ent("t2"), invitation(uscc=uscc(6), name="whatever"))
        assert not done.created
        assert done.invitation.invitee_created is False
    with transaction(session_factory) as s:
        user = onboarding.register(s, registration(done.token, uscc=uscc(6)))
        assert user.active is False
        username = user.username
    with transaction(session_factory) as s, pytest.raises(NotFound):
        auth.activate_user(s, cw.ent("t2"), username)  # the inviter cannot let itself in
    with transaction(session_factory) as s:
        assert auth.activate_user(s, SYSTEM, username).active is True


def test_a_firm_the_invitation_registered_has_its_admin_at_once(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        done = onboarding.invite(s, cw.ent("t2"), invitation())
        assert done.created
    with transaction(session_factory) as s:
        assert onboarding.register(s, registration(done.token)).active is True


def test_a_piece_pledged_for_a_loan_is_neither_quoted_nor_discounted(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    """Through the service the API calls as well as through the pages: a piece registered
    to a bank backs one financing, and no bank prices it again until it is released."""
    f = session_factory
    piece_id = held_by(f, cw, "t1", "80000.00")
    with transaction(f) as s:
        quote = credentials.quote(s, cw.ent("t1"), piece_id, bank="BKB")
        receivables.register_credential_piece(
            s,
            SYSTEM,
            piece_id=piece_id,
            creditor_id=cw.ids["t1"],
            debtor_id=cw.ids["core"],
            bank_id=cw.banks["BKA"],
            amount=Money(80_000_00),
            due_on=date(2027, 5, 26),
            financing_ref="loan_test",
        )
    with transaction(f) as s, pytest.raises(Conflict) as asked:
        credentials.quote(s, cw.ent("t1"), piece_id, bank="BKB")
    assert asked.value.code == "duplicate_financing"
    with transaction(f) as s, pytest.raises(Conflict) as taken:
        credentials.finance(s, cw.ent("t1"), quote.id)  # a quote made before the pledge
    assert taken.value.code == "duplicate_financing"
