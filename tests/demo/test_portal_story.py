"""The demo's people: after the stories, every firm of the story has a user who can sign in,
and each finds its portal work waiting (docs/portal.md, "Walking the journeys in make
demo")."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    Bank,
    Credential,
    CredentialProgramme,
    Enterprise,
    ProgrammeFunder,
    User,
)
from chainfin.demo import credential_story, lending_story, portal_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.timeline import Timeline
from chainfin.domain.access import EnterpriseRole, Principal
from chainfin.domain.clock import FixedClock
from chainfin.domain.credentials import PieceStatus
from chainfin.domain.money import Money
from chainfin.domain.uscc import check_uscc
from chainfin.services import auth, credentials, documents
from chainfin.web import treasury


def test_every_firm_of_the_story_signs_in_and_finds_its_work(
    session_factory: sessionmaker[Session], tmp_path: Path, world_clock: FixedClock
) -> None:
    timeline = Timeline(world_clock)
    region = generate([RegionKey.JJJ], Scale.SMALL, 42)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        story = credential_story.run(s, timeline)
    with transaction(session_factory) as s:
        lending_story.run(s, timeline, out_dir=tmp_path)
    with transaction(session_factory) as s:
        portal = portal_story.run(s, timeline)

    names = [u for u, _ in portal.users]
    assert {"core-treasury", "tier1", "tier2", "tier3", "borrower", "dealer"} <= set(names)
    with transaction(session_factory, write=False) as s:
        me: dict[str, Principal] = {}
        for username in names:
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None
            assert user.enterprise_id is not None
            assert auth.verify_secret(user.password_hash, demo_seed.DEMO_PASSWORD)
            me[username] = Principal.enterprise_user(
                user.id, enterprise_id=user.enterprise_id, roles=[EnterpriseRole.ENTERPRISE_ADMIN]
            )
        core = s.get_one(Enterprise, story.core_id)
        assert me["core-treasury"].enterprise_id == core.id

        # the core has two invoices to confirm, the newest first on its desk, and the story
        # says which
        waiting = documents.awaiting_confirmation(s, me["core-treasury"])
        assert len(waiting) == 2
        newest = documents.awaiting_confirmation_page(s, me["core-treasury"], limit=2).items
        assert sorted(d.number for d in newest) == sorted(portal.awaiting)
        text = "\n".join(portal.lines)
        assert all(number in text for number in portal.awaiting)
        # a credential accepted by tier 1 is due: the treasury's payment run lists it today
        run = treasury.maturity_calendar(s, me["core-treasury"])["run"]
        due = [d for d in run if d.credential.id == portal.due_credential_id]
        assert len(due) == 1
        assert due[0].credential.payment_on <= timeline.today
        assert due[0].credential.status in ("active", "overdue")
        assert Money.parse(due[0].due.principal) == portal_story.DUE
        assert [h.holder_id for h in due[0].holders] == [me["tier1"].enterprise_id]
        assert "payment run" in text
        programme = s.get_one(CredentialProgramme, due[0].credential.programme_id)
        assert programme.name == f"{core.name}供应商债权凭证计划"
        # tier 1 holds a piece and is offered another; tier 2 holds what tier 1 passed on
        t1 = credentials.list_pieces(
            s, me["tier1"], credentials.PieceFilter(holder=me["tier1"].enterprise_id)
        ).items
        assert {p.status for p in t1} >= {PieceStatus.HELD, PieceStatus.OFFERED}
        t2 = credentials.list_pieces(
            s, me["tier2"], credentials.PieceFilter(holder=me["tier2"].enterprise_id)
        ).items
        assert any(
            p.status == PieceStatus.HELD
            and p.amount_minor == portal_story.PASSED_TO_TIER2.amount_minor
            for p in t2
        )
        held = next(p for p in t1 if p.status == PieceStatus.HELD)
        funders = s.scalars(
            select(Bank.code)
            .join(ProgrammeFunder, ProgrammeFunder.bank_id == Bank.id)
            .join(Credential, Credential.programme_id == ProgrammeFunder.programme_id)
            .where(Credential.id == held.credential_id)
        ).all()
    # two banks fund the programme, and each quotes for tier 1's piece: there is a choice
    assert len(funders) == 2
    with transaction(session_factory) as s:
        for code in funders:
            quote = credentials.quote(s, me["tier1"], held.id, bank=code)
            assert quote.terms["net_proceeds"]["amount"]

    # the code printed for the invite journey is valid and no firm has it
    assert check_uscc(portal.invite_example).valid
    with transaction(session_factory, write=False) as s:
        taken = s.scalar(select(Enterprise.id).where(Enterprise.uscc == portal.invite_example))
        assert taken is None
