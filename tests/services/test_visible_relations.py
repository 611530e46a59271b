"""scoping.visible_relations applies relation_condition's rule to pairs already read: for
every kind of principal it keeps exactly the relations the query condition would."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import credit_world
from chainfin.adapters.db.models import SupplyRelation
from chainfin.domain.access import SYSTEM, Principal
from chainfin.services import scoping


def _by_query(s: Session, p: Principal) -> set[tuple[str, str]]:
    rows = s.execute(
        select(SupplyRelation.seller_id, SupplyRelation.buyer_id).where(
            scoping.relation_condition(p)
        )
    )
    return {(str(a), str(b)) for a, b in rows}


def test_the_pairs_kept_are_those_the_condition_selects(
    session_factory: sessionmaker[Session],
) -> None:
    world = credit_world.build(session_factory)
    principals = [
        SYSTEM,
        world.staff("BKA"),
        world.staff("BKB"),
        world.ent("t1"),
        world.ent("t3"),
    ]
    with session_factory() as s:
        every = _by_query(s, SYSTEM)
        assert every, "the world has supply relations"
        for p in principals:
            kept = set(scoping.visible_relations(s, p, sorted(every)))
            assert kept == _by_query(s, p), p
