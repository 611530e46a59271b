"""The demo's credential story runs on a seeded region and leaves balanced books."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.demo import credential_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate


def test_story_confirms_issues_passes_down_finances_and_settles(
    session_factory: sessionmaker[Session],
) -> None:
    region = generate([RegionKey.YRD], Scale.SMALL, 7)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        story = credential_story.run(s, today=date(2026, 11, 26))
    text = "\n".join(story.lines)
    for step in ("确权", "issue:", "split and pass down", "quote from", "finance:", "maturity"):
        assert step in text
    assert "stale LPR" in text  # the bundled table ends 2026-08-20
    assert story.trial_balances
    assert all(tb.balanced for tb in story.trial_balances.values())
    bank_tb = next(tb for title, tb in story.trial_balances.items() if "after maturity" in title)
    assert {r.account.code for r in bank_tb.rows} == {"1001", "6011", "6021"}
