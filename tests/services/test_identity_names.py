"""Who may know a firm by name on a page (services/identity.party_names): the core that
issued a credential names every holder down the tiers; a firm does not learn the names of
firms further down than its own branch, nor of strangers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.money import Money
from chainfin.services import credentials, identity
from credit_world import ISSUED_ON, build


def test_the_issuer_names_every_holder_and_a_stranger_names_none(
    session_factory: sessionmaker[Session],
) -> None:
    cw = build(session_factory)
    with transaction(session_factory) as s:
        issued = credentials.issue(
            s,
            cw.ent("core"),
            programme_id=cw.programme_id,
            confirmation_ids=[cw.confirmation_id],
            amount=Money(100_000_00),
            maturity_on=date(2027, 5, 26),
            issued_on=ISSUED_ON,
        )
        (root,) = credentials.tree(s, cw.ent("t1"), issued.id)
        credentials.accept(s, cw.ent("t1"), root.id)
        to_t2 = credentials.transfer(s, cw.ent("t1"), root.id, to=cw.ids["t2"]).offered
        credentials.accept(s, cw.ent("t2"), to_t2.id)
        to_t3 = credentials.transfer(s, cw.ent("t2"), to_t2.id, to=cw.ids["t3"]).offered
        credentials.accept(s, cw.ent("t3"), to_t3.id)
    holders = [cw.ids[k] for k in ("t1", "t2", "t3")]
    with transaction(session_factory, write=False) as s:
        by_core = identity.party_names(s, cw.ent("core"), holders)
        assert set(by_core) == set(holders)
        by_stranger = identity.party_names(s, cw.ent("x"), [cw.ids["t3"]])
        assert by_stranger == {}
