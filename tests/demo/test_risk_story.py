"""The demo's risk story runs on a seeded region after the credential and lending stories:
telemetry raises a margin call, the early-warning scan sees the core paying later, and a
shock to the core spreads down its chain; the log still verifies."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, Base, Credential, Loan
from chainfin.demo import credential_story, lending_story, risk_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.timeline import Timeline
from chainfin.domain.clock import FixedClock
from chainfin.domain.loans import LoanStatus
from chainfin.services import ledger, ledger_verify
from chainfin.services.lending import loans

ORIGIN = "chainfin.test/ledger"


def test_risk_story_margin_call_payment_delay_and_contagion(
    session_factory: sessionmaker[Session], tmp_path: Path, world_clock: FixedClock
) -> None:
    timeline = Timeline(world_clock)
    region = generate([RegionKey.JJJ], Scale.SMALL, 42)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        told = credential_story.run(s, timeline)
    with transaction(session_factory) as s:
        lending = lending_story.run(s, timeline, out_dir=tmp_path)
    with transaction(session_factory) as s:
        story = risk_story.run(s, timeline)
    text = "\n".join(story.lines)
    # the core pays the supplier later: one payment-delay warning; the story's other
    # borrowers placed their platform orders in the lending story's month only, and the
    # scan says so (orders fell to nothing in the last complete month)
    assert story.early_warning["by_code"]["core_paying_later"] == 1
    assert set(story.early_warning["by_code"]) <= {"core_paying_later", "order_volume_drop"}

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
    assert Decimal(result["debtrank_pct"]) > 0
    assert result["top"][0]["id"] == result["scenario"]["core_id"]
    assert result["top"][0]["tier"] == "core"
    assert result["top"][0]["distress_pct"] == "100"
    assert story.delay["scenario"]["days"] == risk_story.DELAY_DAYS
    assert 0 < Decimal(story.delay["debtrank_pct"]) <= Decimal(result["debtrank_pct"])
    assert "portfolio by core" in text
    assert "portfolio by industry_section" in text

    with transaction(session_factory) as s:
        lending_story.direct_debits(s, timeline, lending, through=told.payment_on)
    with transaction(session_factory) as s:
        credential_story.mature(s, timeline, told)
    with transaction(session_factory) as s:
        lending_story.close(s, timeline, lending)
    assert timeline.days_ahead > 150  # the credential matured months after the story began
    with session_factory() as s:
        assert_the_world_agrees_with_its_clock(s, timeline)

    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok


def assert_the_world_agrees_with_its_clock(s: Session, timeline: Timeline) -> None:
    """What the platform shows on the day the story ends: nothing stamped after the clock, no
    value date ahead of it, every loan's status its status that day, no credential settled
    before its payment date."""
    today, now = timeline.today, timeline.now()
    for table in Base.metadata.sorted_tables:
        for column in ("created_at", "updated_at", "occurred_at", "sequenced_at"):
            if column in table.c:
                latest = s.scalar(select(func.max(table.c[column])))
                assert latest is None or latest <= now, (table.name, column, latest, now)
        for column in ("value_on", "paid_on", "issue_date", "booking_date"):
            if column in table.c:
                latest = s.scalar(select(func.max(table.c[column])))
                assert latest is None or latest <= today, (table.name, column, latest, today)
    statuses = Counter()
    for loan in s.scalars(select(Loan).where(Loan.start_on.is_not(None))):
        position = loans.position(loan, today)
        statuses[loan.status] += 1
        if loan.status == LoanStatus.OVERDUE:
            assert position.dpd > 0, (loan.reference, loan.status, position)
        elif loan.status in (LoanStatus.DISBURSED, LoanStatus.CURRENT):
            assert position.dpd == 0, (loan.reference, loan.status, position)
        elif loan.status == LoanStatus.SETTLED:
            assert position.principal_outstanding.is_zero(), (loan.reference, position)
    assert statuses[LoanStatus.OVERDUE] == 1  # the dealer's, still unpaid
    assert statuses[LoanStatus.SETTLED] >= 2, statuses  # repaid by direct debit on time
    for credential in s.scalars(select(Credential)):
        if credential.status == "settled":
            assert credential.payment_on <= today, (credential.id, credential.payment_on)
        else:
            assert credential.payment_on > today or credential.status == "overdue"


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
