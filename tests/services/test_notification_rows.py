"""Notifications through the service layer: written by the ledger hook in the transaction of
the entry they come from, one per recipient who should hear of it (never the actor's own
firm), read per person, and invisible to every other firm."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry, Notification
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal
from chainfin.domain.errors import NotFound
from chainfin.domain.money import Money
from chainfin.services import auth, credentials, documents, ledger, notifications
from chainfin.services.ledger import Change
from credit_world import ISSUED_ON, CreditWorld, build, uscc

FACE = Money.parse("250000.00")


@pytest.fixture
def cw(session_factory: sessionmaker[Session]) -> CreditWorld:
    return build(session_factory)


def person(factory: sessionmaker[Session], cw: CreditWorld, firm: str, name: str) -> Principal:
    """A real user at ``firm`` (read marks name a user)."""
    number = {"core": 3, "t1": 4, "t2": 5}[firm]
    with transaction(factory) as s:
        user = auth.create_user(
            s,
            SYSTEM,
            username=name,
            password="correct horse battery",
            roles=["enterprise_admin"],
            enterprise_uscc=uscc(number),
        )
        user_id = user.id
    return Principal.enterprise_user(
        user_id, enterprise_id=cw.ids[firm], roles=[EnterpriseRole.ENTERPRISE_ADMIN]
    )


def issue(s: Session, cw: CreditWorld) -> str:
    credential = credentials.issue(
        s,
        cw.ent("core"),
        programme_id=cw.programme_id,
        confirmation_ids=[cw.confirmation_id],
        amount=FACE,
        maturity_on=date(2027, 5, 26),
        issued_on=ISSUED_ON,
    )
    return credential.id


def notified(factory: sessionmaker[Session], recipient: str) -> list[Notification]:
    with transaction(factory, write=False) as s:
        query = select(Notification).where(Notification.recipient_id == recipient)
        return list(s.scalars(query.order_by(Notification.id)))


def notified_pieces(factory: sessionmaker[Session], credential_id: str) -> list[str]:
    with transaction(factory, write=False) as s:
        return [p.id for p in credentials.tree(s, SYSTEM, credential_id)]


def test_an_issue_notifies_the_first_holder_once_with_its_amount(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    before = {e: len(notified(session_factory, cw.ids[e])) for e in ("core", "t1")}
    with transaction(session_factory) as s:
        credential_id = issue(s, cw)
    (note,) = notified(session_factory, cw.ids["t1"])[before["t1"] :]
    assert (note.topic, note.event_type) == ("credential_offered", "credential.issued")
    assert note.recipient_kind == "enterprise"
    assert (note.subject_kind, note.subject_id) == ("credential", credential_id)
    (root,) = notified_pieces(session_factory, credential_id)
    assert note.params == {
        "amount_minor": FACE.amount_minor,
        "currency": "CNY",
        "counterparty": cw.ids["core"],
        "piece_id": root,  # the offer its answer resolves
    }
    assert note.resolved_at is None
    assert len(notified(session_factory, cw.ids["core"])) == before["core"]  # its own act
    with transaction(session_factory, write=False) as s:
        entry = s.get(LedgerEntry, note.entry_id)
        assert entry is not None
        assert entry.event_type == "credential.issued"
        assert cw.ids["t1"] in entry.parties  # a recipient is always a party


def test_a_change_rolled_back_leaves_no_notification(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    before = len(notified(session_factory, cw.ids["t1"]))
    written: list[int] = []

    def issue_then_fail() -> None:
        with transaction(session_factory) as s:
            issue(s, cw)
            mine = select(func.count()).where(Notification.recipient_id == cw.ids["t1"])
            written.append(int(s.scalar(mine) or 0))
            raise RuntimeError("the caller fails after the change")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    assert written == [before + 1]  # written in the change's transaction …
    assert len(notified(session_factory, cw.ids["t1"])) == before  # … and gone with it


def test_accepting_and_passing_on_notify_the_other_side_only(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        credential_id = issue(s, cw)
    core_before = len(notified(session_factory, cw.ids["core"]))
    t2_before = len(notified(session_factory, cw.ids["t2"]))
    t1 = cw.ent("t1")
    with transaction(session_factory) as s:
        (root,) = credentials.tree(s, t1, credential_id)
        credentials.accept(s, t1, root.id)
        credentials.transfer(s, t1, root.id, to=uscc(5), amount=Money.parse("50000.00"))
    (accepted,) = notified(session_factory, cw.ids["core"])[core_before:]
    assert accepted.topic == "piece_accepted"
    assert accepted.params["counterparty"] == cw.ids["t1"]
    (offered,) = notified(session_factory, cw.ids["t2"])[t2_before:]
    assert offered.topic == "piece_offered"
    assert offered.params["amount_minor"] == 50_000_00
    assert offered.params["counterparty"] == cw.ids["t1"]
    assert (offered.subject_kind, offered.subject_id) == ("credential", credential_id)


def test_events_nobody_should_hear_of_write_nothing(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    with transaction(session_factory) as s:
        before = s.scalar(select(func.count()).select_from(Notification))
        row = {"id": cw.ids["t1"], "region_code": "320500", "industry_code": "C3985"}
        ledger.one(s, SYSTEM, "enterprise.updated", Change("enterprise", row))
        assert s.scalar(select(func.count()).select_from(Notification)) == before


def test_read_marks_are_each_persons_own(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    alice = person(session_factory, cw, "t1", "alice")
    bob = person(session_factory, cw, "t1", "bob")
    with transaction(session_factory) as s:
        issue(s, cw)
    with transaction(session_factory) as s:
        unread = notifications.unread_count(s, alice)
        assert unread >= 1
        newest = notifications.inbox(s, alice, limit=1).items[0]
        assert newest.unread
        notifications.mark_read(s, alice, newest.notification.id)
        notifications.mark_read(s, alice, newest.notification.id)  # again: no change
    with transaction(session_factory, write=False) as s:
        assert notifications.unread_count(s, alice) == unread - 1
        assert notifications.unread_count(s, bob) == unread
        assert not notifications.get(s, alice, newest.notification.id).unread
        assert notifications.get(s, bob, newest.notification.id).unread
        only_unread = notifications.inbox(s, alice, unread_only=True).items
        assert newest.notification.id not in {i.notification.id for i in only_unread}
    with transaction(session_factory) as s:
        assert notifications.mark_all_read(s, bob) == unread
    with transaction(session_factory, write=False) as s:
        assert notifications.unread_count(s, bob) == 0
        assert notifications.unread_count(s, alice) == unread - 1


def test_another_firms_notifications_are_invisible(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    carol = person(session_factory, cw, "t2", "carol")
    with transaction(session_factory) as s:
        issue(s, cw)
    theirs = notified(session_factory, cw.ids["t1"])[-1]
    with transaction(session_factory) as s:
        mine = {i.notification.id for i in notifications.inbox(s, carol).items}
        assert theirs.id not in mine
        for act in (notifications.get, notifications.mark_read):
            with pytest.raises(NotFound) as refused:
                act(s, carol, theirs.id)
            assert refused.value.code == "notification_not_found"
    with transaction(session_factory, write=False) as s:
        assert notifications.unread_count(s, SYSTEM) == 0  # no inbox without a person
        assert notifications.inbox(s, SYSTEM).items == []


def test_the_inbox_pages_newest_first(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    alice = person(session_factory, cw, "t1", "alice")
    with transaction(session_factory) as s:
        for _ in range(3):
            issue(s, cw)
    with transaction(session_factory, write=False) as s:
        first = notifications.inbox(s, alice, limit=2)
        assert first.next_cursor is not None
        rest = notifications.inbox(s, alice, limit=2, cursor=first.next_cursor)
    ids = [i.notification.id for i in first.items + rest.items]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids) >= 3


def waiting(factory: sessionmaker[Session], recipient: str, topic: str) -> dict[str, bool]:
    """The recipient's notifications of ``topic``: piece id -> resolved."""
    return {
        n.params.get("piece_id", ""): n.resolved_at is not None
        for n in notified(factory, recipient)
        if n.topic == topic
    }


def test_answering_an_offer_resolves_the_notification_that_asked_for_it(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    alice = person(session_factory, cw, "t2", "alice")
    t1 = cw.ent("t1")
    with transaction(session_factory) as s:
        credential_id = issue(s, cw)
        (root,) = credentials.tree(s, t1, credential_id)
        credentials.accept(s, t1, root.id)
        first = credentials.transfer(s, t1, root.id, to=uscc(5), amount=Money.parse("1000.00"))
        assert first.kept is not None
        second = credentials.transfer(
            s, t1, first.kept.id, to=uscc(5), amount=Money.parse("2000.00")
        )
        assert second.kept is not None
        third = credentials.transfer(s, t1, second.kept.id, to=uscc(5))
    assert waiting(session_factory, cw.ids["t1"], "credential_offered") == {root.id: True}
    with transaction(session_factory, write=False) as s:
        unread = notifications.unread_count(s, alice)
    offered = (first.offered.id, second.offered.id, third.offered.id)
    with transaction(session_factory) as s:
        credentials.accept(s, alice, first.offered.id)
        credentials.reject(s, alice, second.offered.id)
    mine = waiting(session_factory, cw.ids["t2"], "piece_offered")
    assert [mine[p] for p in offered] == [True, True, False]  # only the answered ones
    with transaction(session_factory) as s:
        assert notifications.unread_count(s, alice) == unread - 2
        items = {
            i.notification.params.get("piece_id"): i for i in notifications.inbox(s, alice).items
        }
        assert items[first.offered.id].resolved
        assert not items[first.offered.id].unread
        assert items[third.offered.id].unread
        unread_only = notifications.inbox(s, alice, unread_only=True).items
        assert first.offered.id not in {i.notification.params.get("piece_id") for i in unread_only}
        credentials.withdraw(s, t1, third.offered.id)  # the sender takes it back
    assert waiting(session_factory, cw.ids["t2"], "piece_offered")[third.offered.id]


def test_confirming_a_document_resolves_the_request_to_confirm_it(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    invoice = {
        "kind": "invoice",
        "number": "INV-RES-1",
        "seller_uscc": uscc(4),
        "buyer_uscc": uscc(3),
        "issue_date": ISSUED_ON.isoformat(),
        "currency": "CNY",
        "total": "5000.00",
        "tax": "0.00",
        "invoice_number": f"{ISSUED_ON.year % 100:02d}320000000000009302",
        "due_date": "2027-02-18",
    }
    with transaction(session_factory) as s:
        report = documents.ingest(s, cw.ent("t1"), documents.parse_rows([invoice]))
        document_id = str(report.rows[0].document_id)

    def request() -> Notification:
        (note,) = [
            n
            for n in notified(session_factory, cw.ids["core"])
            if n.topic == "invoice_to_confirm" and n.subject_id == document_id
        ]
        return note

    assert request().resolved_at is None
    with transaction(session_factory) as s:
        documents.confirm(s, cw.ent("core"), document_id)
    assert request().resolved_at is not None
