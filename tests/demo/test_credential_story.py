"""The demo's credential story runs on a seeded region and leaves balanced books."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.demo import credential_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.timeline import Timeline
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import FixedClock
from chainfin.services import credentials
from worldclock import WORLD_DAY


def test_story_confirms_issues_passes_down_finances_and_settles(
    session_factory: sessionmaker[Session], world_clock: FixedClock
) -> None:
    region = generate([RegionKey.YRD], Scale.SMALL, 7)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        timeline = Timeline(world_clock)
        story = credential_story.run(s, timeline)
    with transaction(session_factory) as s:
        credential_story.mature(s, timeline, story)
        settled = credentials.get(s, SYSTEM, story.credential_id)
    # settled on its payment date, with the clock there: never before it
    assert timeline.today == settled.payment_on > WORLD_DAY
    assert settled.status == "settled"
    text = "\n".join(story.lines)
    for step in ("确权", "issue:", "split and pass down", "quote from", "finance:", "maturity"):
        assert step in text
    assert "stale LPR" in text  # the bundled table ends 2026-08-20
    assert story.trial_balances
    assert all(tb.balanced for tb in story.trial_balances.values())
    bank_tb = next(tb for title, tb in story.trial_balances.items() if "after maturity" in title)
    assert {r.account.code for r in bank_tb.rows} == {"1001", "6011", "6021"}
