"""The lineage page (/credentials/{id}) as t1 reads it: the bank that financed a piece is
named as the financing bank (not as a tier of the supply chain), and once the credential
is paid its payment date is a fact, no longer marked provisional."""

from __future__ import annotations

from fastapi.testclient import TestClient
from http_world import FACE, MATURITY, Portal, sign_in
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Credential
from chainfin.domain.access import SYSTEM
from chainfin.domain.money import Money
from chainfin.services import credentials

PROVISIONAL = "（兑付日暂定）"


def finance_half(factory: sessionmaker[Session], portal: Portal) -> None:
    """t1 accepts, has half financed by bank A; the payment date rests on a provisional
    calendar."""
    t1 = portal.world.ent("t1")
    with transaction(factory) as s:
        credentials.accept(s, t1, portal.piece_id)
        _kept, financed = credentials.split(
            s, t1, portal.piece_id, [Money(FACE.amount_minor - 500_000_00), Money(500_000_00)]
        )
        quote = credentials.quote(s, t1, financed.id, bank="BKA")
        credentials.finance(s, t1, quote.id)
        row = s.get(Credential, portal.credential_id)
        assert row is not None
        row.payment_provisional = True


def test_the_financing_bank_is_named_as_such_and_a_paid_date_is_not_provisional(
    client: TestClient, portal: Portal, session_factory: sessionmaker[Session]
) -> None:
    finance_half(session_factory, portal)
    sign_in(client, "t1-admin", lang="zh-CN")
    html = client.get(f"/credentials/{portal.credential_id}").text
    assert PROVISIONAL in html  # not paid yet: the date may still move
    pieces = html[html.index('id="tree-title"') :]
    bank_line = next(line for line in pieces.splitlines() if "融资银行" in line)
    assert "第 1 级" not in bank_line  # the bank is not a tier of the chain
    assert "第 1 级" in pieces  # t1's own piece is
    with transaction(session_factory) as s:
        credentials.settle(
            s,
            SYSTEM,
            portal.credential_id,
            amount=FACE,
            payment_ref="PAY-LINEAGE-1",
            paid_on=MATURITY,
        )
        row = s.get(Credential, portal.credential_id)
        assert row is not None
        assert row.status == "settled"
        assert row.payment_provisional  # the flag stays: the page reads the state
    html = client.get(f"/credentials/{portal.credential_id}").text
    assert PROVISIONAL not in html
