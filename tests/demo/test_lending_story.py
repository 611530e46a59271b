"""The demo's lending story runs on a seeded region after the credential story: one of each
product, an automatic approval, a referral through maker and checker, declines with their
reasons, a valid pain.001, a reconciled camt.053, a classified book and balanced books."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Loan
from chainfin.adapters.formats.iso20022 import check_balances, read_camt053, validate_pain001
from chainfin.demo import credential_story, lending_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, generate
from chainfin.demo.timeline import Timeline
from chainfin.domain.clock import FixedClock
from chainfin.services import ledger, ledger_verify

# the story runs on the real date, as `chainfin demo` runs it: an applicant may not backdate
ORIGIN = "chainfin.test/ledger"


def test_lending_story_decides_disburses_reconciles_and_balances(
    session_factory: sessionmaker[Session], tmp_path: Path, world_clock: FixedClock
) -> None:
    timeline = Timeline(world_clock)
    region = generate([RegionKey.JJJ], Scale.SMALL, 42)
    with transaction(session_factory) as s:
        demo_seed.seed(s, region, with_users=False)
    with transaction(session_factory) as s:
        credential_story.run(s, timeline)
    with transaction(session_factory) as s:
        story = lending_story.run(s, timeline, out_dir=tmp_path)
    text = "\n".join(story.lines)

    # one of each product; the receivable one approved by the rules in well under a second
    assert story.decisions == {
        "receivable": "approved",
        "order": "approved",
        "dealer": "approved",
        "inventory": "referred",
        "duplicate": "declined",
        "advance": "declined",
    }
    assert story.auto_seconds > 0  # timed and reported; how fast is bench/lending.py's job
    assert "approved by the rules in" in text
    # the referral went through due diligence, maker and checker, and its condition
    assert story.referred["status"] == "approved"
    assert story.referred["tasks"] == ["financial_analysis", "site_visit"]
    assert story.referred["approvals"] == ["maker", "checker"]
    assert story.referred["conditions_met"]
    for step in (
        "reason new_customer",
        "site visit:",
        "financial analysis:",
        "revenue cross-check",
    ):
        assert step in text
    assert "four eyes" in text
    assert "duplicate_financing" in story.declined["duplicate"]
    assert "advance_rate_exceeded" in story.declined["advance"]

    # one valid pain.001 next to the database
    assert story.pain001_path is not None
    assert story.pain001_path.parent == tmp_path
    assert story.pain001_problems == []
    assert validate_pain001(story.pain001_path.read_bytes()) == []
    assert len(story.disbursed) == 4

    # the bank's camt.053 came back: every disbursement and the repayment matched, the
    # unrelated credit listed with its reason
    assert story.camt053_path is not None
    [statement] = read_camt053(story.camt053_path.read_bytes())
    assert check_balances(statement) == []
    matched = story.reconciliation["matched"]
    assert sorted(m["loan_id"] for m in matched if m["kind"] == "disbursement") == sorted(
        story.disbursed
    )
    [repayment] = [m for m in matched if m["kind"] == "repayment"]
    assert repayment["basis"] == "reference"
    [unmatched] = story.reconciliation["unmatched"]
    assert unmatched["reason"] == "no_loan_reference"
    assert unmatched["credit"]

    # weeks later: the unpaid dealer loan is overdue, the pledge under a margin call
    book = {row["product"]: row for row in story.loan_book}
    assert book["dealer_financing"]["status"] == "overdue"
    assert book["dealer_financing"]["category"] == "special_mention"
    assert book["receivable_financing"]["dpd"] == 0
    assert story.scan["margin_calls"] == 1
    assert story.trial_balances
    assert all(tb.balanced for tb in story.trial_balances.values())

    with session_factory() as s:
        assert len(s.scalars(select(Loan)).all()) == 4
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        assert ledger_verify.verify(s, origin=ORIGIN).ok
