"""The demo's risk story runs on a seeded region after the credential and lending stories:
telemetry raises a margin call, the early-warning scan sees the core paying later, and a
shock to the core spreads down its chain; the log still verifies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert
from chainfin.demo import credential_story, lending_story, risk_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.services import ledger, ledger_verify
from worldclock import WORLD_DAY

TODAY = WORLD_DAY  # an applicant cannot backdate: dates here are relative to the world's day
ORIGIN = "chainfin.test/ledger"


def test_risk_story_margin_call_payment_delay_and_contagion(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    region = generate([RegionKey.JJJ], Scale.SMALL, 42)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        credential_story.run(s, today=TODAY)
    with transaction(session_factory) as s:
        lending_story.run(s, today=TODAY, out_dir=tmp_path)
    with transaction(session_factory) as s:
        story = risk_story.run(s, today=TODAY)
    text = "\n".join(story.lines)
    assert story.seconds < 10
    # the supplier keeps trading with the core: only the payment delay is a warning on it
    assert story.early_warning["by_code"] == {"core_paying_later": 1}

    with session_factory() as s:
        # one margin call from the telemetry, on the pledge; the scan's earlier one resolved
        from_iot = s.scalars(select(Alert).where(Alert.rule == "iot.margin_call")).all()
        assert [a.id for a in from_iot] == [story.margin_call_alert_id]
        assert from_iot[0].kind == "margin_call"
        assert from_iot[0].state == "acknowledged"
        resolved = s.scalars(select(Alert).where(Alert.state == "resolved")).all()
        assert [a.kind for a in resolved] == ["margin_call"]
        assert resolved[0].note
        # one payment-delay warning on the supplier
        delays = s.scalars(select(Alert).where(Alert.kind == "ew_core_paying_later")).all()
        assert [a.id for a in delays] == [story.payment_delay_alert_id]
    assert "ew_core_paying_later" in story.open_alerts

    # the telemetry's handling is counted: a duplicate and a malformed message among them
    counters = story.iot_counters
    assert counters["duplicate"] == 1
    assert counters["malformed"] == 1
    assert counters["received"] == sum(v for k, v in counters.items() if k != "received")
    assert "chainfin iot listen" in text

    # the core's default spreads: DebtRank above zero, the core first at full distress
    result = story.contagion
    assert result["debtrank"] > 0
    assert result["top"][0]["id"] == result["scenario"]["core_id"]
    assert result["top"][0]["tier"] == "core"
    assert result["top"][0]["h"] == 1.0
    assert story.delay["scenario"]["days"] == risk_story.DELAY_DAYS
    assert 0 < story.delay["debtrank"] <= result["debtrank"]
    assert "portfolio by core" in text
    assert "portfolio by industry_section" in text

    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok


def test_the_story_opens_with_a_scorecard_on_the_regions_chain_data() -> None:
    from chainfin.demo.trade_history import generate_history

    region = generate(list(RegionKey), Scale.SMALL, 42)
    history = generate_history(region, seed=42)
    story = risk_story.RiskStory()
    risk_story._scorecard(region, history, 42, story)
    assert story.scorecard_auc is not None
    assert story.scorecard_auc > 0.5
    assert "a plain logistic regression on the same split" in story.lines[1]
    assert "lowest score" in story.lines[2]
