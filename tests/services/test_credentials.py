"""Payable credentials through the service layer: the whole life of one credential, and
every rule that refuses something, with what stays unchanged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    Alert,
    Credential,
    CredentialPiece,
    CredentialProgramme,
    PayableConfirmation,
)
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import Conflict, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import books, credentials, ledger, ledger_verify
from credit_world import ISSUED_ON, CreditWorld, build

CNY = Money.parse


@pytest.fixture
def cw(session_factory: sessionmaker[Session]) -> CreditWorld:
    return build(session_factory)


def issue(factory: sessionmaker[Session], cw: CreditWorld, amount: str = "1000000.00") -> str:
    with transaction(factory) as s:
        c = credentials.issue(
            s,
            cw.ent("core"),
            programme_id=cw.programme_id,
            confirmation_ids=[cw.confirmation_id],
            amount=CNY(amount),
            maturity_on=date(2027, 5, 26),
            issued_on=ISSUED_ON,
        )
        return c.id


def root_of(s: Session, credential_id: str) -> CredentialPiece:
    piece = s.scalar(
        select(CredentialPiece).where(
            CredentialPiece.credential_id == credential_id, CredentialPiece.parent_id.is_(None)
        )
    )
    assert piece is not None
    return piece


def live_sum(s: Session, credential_id: str) -> int:
    pieces = s.scalars(
        select(CredentialPiece).where(
            CredentialPiece.credential_id == credential_id,
            CredentialPiece.status.in_(["offered", "held", "financed", "overdue"]),
        )
    )
    return sum(p.amount_minor - p.settled_minor for p in pieces)


def test_the_whole_life_of_a_credential_down_three_tiers(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    f = session_factory
    cid = issue(f, cw)
    with transaction(f) as s:
        credential = s.get(Credential, cid)
        assert credential is not None
        # 2027-05-26 is a Wednesday; 2027 has no official schedule yet: provisional
        assert (credential.maturity_on, credential.payment_on) == (date(2027, 5, 26),) * 2
        assert credential.payment_provisional is True
        programme = s.get(CredentialProgramme, cw.programme_id)
        assert programme is not None
        assert (programme.pending_minor, programme.posted_minor) == (1_000_000_00, 0)
        root = root_of(s, cid)
        credentials.accept(s, cw.ent("t1"), root.id)
        s.refresh(programme)
        assert (programme.pending_minor, programme.posted_minor) == (0, 1_000_000_00)
        a, _b = credentials.split(s, cw.ent("t1"), root.id, [CNY("600000.00"), CNY("400000.00")])
        moved = credentials.transfer(s, cw.ent("t1"), a.id, to=cw.ids["t2"])
        assert moved.offered.tier == 2
        assert moved.kept is None
        credentials.accept(s, cw.ent("t2"), moved.offered.id)
        part = credentials.transfer(
            s, cw.ent("t2"), moved.offered.id, to=cw.ids["t3"], amount=CNY("250000.00")
        )
        assert part.kept is not None
        assert part.kept.amount_minor == 350_000_00
        assert part.offered.tier == 3
        assert part.offered.lineage == [root.id, a.id, moved.offered.id]
        credentials.accept(s, cw.ent("t3"), part.offered.id)
        assert live_sum(s, cid) == 1_000_000_00
        t3_piece = part.offered.id
        order = [p.id for p in credentials.tree(s, cw.ent("core"), cid)]
        for piece in credentials.tree(s, cw.ent("core"), cid):  # depth first: a branch is
            below = [
                p.id for p in credentials.tree(s, cw.ent("core"), cid) if piece.id in p.lineage
            ]
            at = order.index(piece.id)  # contiguous right after its piece
            assert order[at + 1 : at + 1 + len(below)] == below
    with transaction(f) as s:
        q = credentials.quote(s, cw.ent("t3"), t3_piece, bank="BKA", as_of=ISSUED_ON)
        terms = q.terms
        assert terms["fixing"]["fixed_on"] == "2026-08-20"
        assert any("2026-08-20" in w for w in terms["warnings"])  # more than a month old
        fin = credentials.finance(s, cw.ent("t3"), q.id)
        assert credentials.finance(s, cw.ent("t3"), q.id).id == fin.id  # idempotent
        assert fin.face_minor == fin.net_minor + fin.discount_minor + fin.fees_minor
        held = credentials.PieceFilter(holder=cw.bank_ents["BKA"])
        holdings = credentials.list_pieces(s, cw.staff("BKA"), held).items
        assert [p.amount_minor for p in holdings] == [250_000_00]
    with transaction(f) as s, pytest.raises(Conflict, match="only held pieces"):
        credentials.quote(s, cw.ent("t3"), t3_piece, bank="BKA", as_of=ISSUED_ON)
    with transaction(f) as s:
        pay = credentials.settle(
            s,
            cw.ent("core"),
            cid,
            amount=CNY("1000000.00"),
            payment_ref="PAY-1",
            paid_on=date(2027, 5, 26),
        )
        assert {a["holder_id"]: a["principal_minor"] for a in pay.allocations} == {
            cw.ids["t1"]: 400_000_00,
            cw.ids["t2"]: 350_000_00,
            cw.bank_ents["BKA"]: 250_000_00,
        }
        again = credentials.settle(
            s, cw.ent("core"), cid, amount=CNY("1000000.00"), payment_ref="PAY-1"
        )
        assert again.id == pay.id
        credential = s.get(Credential, cid)
        assert credential is not None
        assert credential.status == "settled"
        assert live_sum(s, cid) == 0
        programme = s.get(CredentialProgramme, cw.programme_id)
        assert programme is not None
        assert (programme.pending_minor, programme.posted_minor) == (
            0,
            0,
        )
        for book in ("BKA", "platform"):
            tb = books.trial_balance(s, SYSTEM, book)
            assert tb.balanced
        bank_tb = {
            r.account.code: (r.debit_minor, r.credit_minor)
            for r in books.trial_balance(s, SYSTEM, "BKA").rows
        }
        # discounted asset fully collected; the whole discount earned by payment date
        assert "1301" not in bank_tb
        assert "2502" not in bank_tb
        assert bank_tb["6011"] == (0, fin.discount_minor)
        ledger.sequence(s, "chainfin.test/ledger")
        report = ledger_verify.verify(s, origin="chainfin.test/ledger")
        assert report.ok, report.findings[:5]


def test_programme_limit_is_reserved_two_phase_and_never_exceeded(
    session_factory: sessionmaker[Session],
) -> None:
    cw = build(session_factory, line=Money(1_500_000_00), second_line=None)
    first = issue(session_factory, cw, "1000000.00")
    with transaction(session_factory) as s, pytest.raises(Conflict, match=r"available 500000\.00"):
        credentials.issue(
            s,
            cw.ent("core"),
            programme_id=cw.programme_id,
            confirmation_ids=[cw.confirmation_id],
            amount=CNY("600000.00"),
            maturity_on=date(2027, 5, 26),
            issued_on=ISSUED_ON,
        )
    with transaction(session_factory) as s:
        credentials.cancel(s, cw.ent("core"), first)  # before acceptance: allowed
        programme = s.get(CredentialProgramme, cw.programme_id)
        assert programme is not None
        assert programme.pending_minor == 0
        conf = s.get(PayableConfirmation, cw.confirmation_id)
        assert conf is not None
        assert conf.issued_minor == 0


def test_issue_refusals(session_factory: sessionmaker[Session], cw: CreditWorld) -> None:
    def attempt(**kw: object) -> ValidationFailed:
        args: dict[str, object] = {
            "programme_id": cw.programme_id,
            "confirmation_ids": [cw.confirmation_id],
            "amount": CNY("1000.00"),
            "maturity_on": date(2027, 5, 26),
            "issued_on": ISSUED_ON,
        }
        args.update(kw)
        with transaction(session_factory) as s, pytest.raises(ValidationFailed) as err:
            credentials.issue(s, cw.ent("core"), **args)  # type: ignore[arg-type]
        return err.value

    assert "tenor cap of 6 months" in str(attempt(maturity_on=date(2027, 5, 27)))
    assert "exceeds the confirmed payables" in str(attempt(amount=CNY("3000000.01")))
    assert "minimum piece" in str(attempt(amount=CNY("999.99")))


def test_cannot_cancel_after_acceptance_and_rejection_returns_the_piece(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    cid = issue(session_factory, cw)
    with transaction(session_factory) as s:
        root = root_of(s, cid)
        credentials.accept(s, cw.ent("t1"), root.id)
        offer = credentials.transfer(s, cw.ent("t1"), root.id, to=cw.ids["t2"])
        credentials.reject(s, cw.ent("t2"), offer.offered.id, reason="not ours")
        back = s.scalars(
            select(CredentialPiece).where(CredentialPiece.parent_id == offer.offered.id)
        ).one()
        assert (back.holder_id, back.status, back.tier) == (cw.ids["t1"], "held", 1)
        assert live_sum(s, cid) == 1_000_000_00
    with transaction(session_factory) as s, pytest.raises(Conflict, match="before the first"):
        credentials.cancel(s, cw.ent("core"), cid)


def test_transfer_only_to_own_suppliers_and_split_minimum(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    cid = issue(session_factory, cw)
    with transaction(session_factory) as s:
        root = root_of(s, cid)
        credentials.accept(s, cw.ent("t1"), root.id)
        root_id = root.id
    with transaction(session_factory) as s, pytest.raises(ValidationFailed, match="not a supplier"):
        credentials.transfer(s, cw.ent("t1"), root_id, to=cw.ids["x"])
    with transaction(session_factory) as s, pytest.raises(ValidationFailed, match="minimum piece"):
        credentials.split(s, cw.ent("t1"), root_id, [CNY("999999.01"), CNY("0.99")])
    with transaction(session_factory) as s, pytest.raises(Exception, match="no piece"):
        credentials.split(s, cw.ent("t2"), root_id, [CNY("500000.00"), CNY("500000.00")])


def test_late_partial_payment_goes_overdue_with_penalty_and_alert(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    cid = issue(session_factory, cw)
    with transaction(session_factory) as s:
        root = root_of(s, cid)
        credentials.accept(s, cw.ent("t1"), root.id)
        q = credentials.quote(s, cw.ent("t1"), root.id, bank="BKB", as_of=ISSUED_ON)
        credentials.finance(s, cw.ent("t1"), q.id)
    with transaction(session_factory) as s:
        marked = credentials.mark_overdue(s, SYSTEM, date(2027, 6, 2))
        assert [c.id for c in marked] == [cid]
        assert s.scalars(select(Alert).where(Alert.subject_id == cid)).all()
        (bank_alert,) = credentials.alerts(s, cw.staff("BKB"))
        assert bank_alert.kind == "credential_overdue"
        assert credentials.alerts(s, cw.staff("BKA")) == []
    with transaction(session_factory) as s:
        pay = credentials.settle(
            s,
            cw.ent("core"),
            cid,
            amount=CNY("500000.00"),
            payment_ref="PART-1",
            paid_on=date(2027, 6, 5),
        )
        assert pay.penalty_minor > 0
        credential = s.get(Credential, cid)
        assert credential is not None
        assert credential.status == "overdue"
        assert books.trial_balance(s, SYSTEM, "BKB").balanced
        rows = {r.account.code for r in books.trial_balance(s, SYSTEM, "BKB").rows}
        assert {"1302", "6031"} <= rows


def test_the_database_refuses_unbalanced_and_edited_journals(
    session_factory: sessionmaker[Session], cw: CreditWorld
) -> None:
    cid = issue(session_factory, cw)
    with transaction(session_factory) as s:
        credentials.accept(s, cw.ent("t1"), root_of(s, cid).id)
    unbalanced_lines = text(
        "INSERT INTO journal_lines VALUES ('jnl_x', 1, 'BKA', '1001', 'CNY', 100),"
        " ('jnl_x', 2, 'BKA', '6011', 'CNY', -99)"
    )
    with pytest.raises(DBAPIError), transaction(session_factory) as s:  # noqa: PT012
        s.execute(unbalanced_lines)
        s.execute(
            text(
                "INSERT INTO journals (id, book_id, kind, ref, value_on, memo, created_by,"
                " created_at) VALUES ('jnl_x', 'BKA', 'x', 'x', '2026-11-26', '', 'x',"
                " '2026-11-26 00:00:00+00:00')"
            )
        )
    with pytest.raises(DBAPIError), transaction(session_factory) as s:
        s.execute(text("UPDATE journal_lines SET amount_minor = amount_minor + 1"))
    with pytest.raises(DBAPIError), transaction(session_factory) as s:
        s.execute(text("DELETE FROM journals"))
