"""Post-loan early warning: signals from a borrower's trade, policies, alerts and their
life (acknowledge, resolve with a note, escalate)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert
from chainfin.domain import clock
from chainfin.domain import early_warning as rules
from chainfin.domain.errors import Conflict, NotFound, ValidationFailed
from chainfin.domain.money import Money
from chainfin.services import alerts, documents, early_warning, ledger, ledger_verify
from chainfin.services.lending import applications, loans
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending

D = Decimal


# ---------------------------------------------------------------------------- policies

DROP = rules.Trend("drop", "orders", 3, D("-0.30"))
RISE = rules.Trend("later", "days", 3, D("15"), relative=False)
CAP = rules.Threshold("cancel", "share", ">", D("0.10"))


@pytest.mark.parametrize(
    ("policy", "series", "fires"),
    [
        (DROP, {"orders": [D(100), D(100), D(100), D(70)]}, True),  # exactly -30 %
        (DROP, {"orders": [D(100), D(100), D(100), D(71)]}, False),
        (DROP, {"orders": [D(100), D(100), D(71)]}, False),  # window not full
        (DROP, {"orders": [D(0), D(0), D(0), D(0)]}, False),  # no base to fall from
        (DROP, {"orders": [D(100), None, D(100), D(10)]}, False),  # a gap in the window
        (DROP, {}, False),
        (RISE, {"days": [D(30), D(30), D(30), D(45)]}, True),
        (RISE, {"days": [D(30), D(30), D(30), D(44)]}, False),
        (RISE, {"days": [D(30), D(30), D(30), None]}, False),
        (CAP, {"share": [D("0.11")]}, True),
        (CAP, {"share": [D("0.10")]}, False),
        (CAP, {"share": [None]}, False),
    ],
)
def test_each_policy_fires_at_its_bound(
    policy: rules.Policy, series: rules.Signals, fires: bool
) -> None:
    assert bool(policy.evaluate(series)) is fires


def test_all_of_and_any_of_compose() -> None:
    both = rules.AllOf("both", (DROP, CAP), "critical")
    either = rules.AnyOf("either", (DROP, CAP))
    falling = {"orders": [D(100)] * 3 + [D(50)], "share": [D(0)]}
    assert both.evaluate(falling) == ()
    (hit,) = either.evaluate(falling)
    assert (hit.code, hit.severity) == ("either", "medium")
    (hit,) = both.evaluate({**falling, "share": [D("0.5")]})
    assert hit.severity == "critical"
    assert "orders 50" in hit.message


def test_policies_are_data() -> None:
    for policy in rules.DEFAULT_POLICIES:
        assert rules.policy_from_dict(policy.to_dict()) == policy
    with pytest.raises(ValidationFailed, match=r"policy\.policies\[0\]\.signal"):
        rules.policy_from_dict(
            {"type": "any_of", "code": "x", "policies": [{"type": "trend", "code": "y"}]}
        )
    with pytest.raises(ValidationFailed, match=r"policy\.type"):
        rules.policy_from_dict({"type": "magic"})
    with pytest.raises(ValidationFailed, match="window"):
        rules.Trend("t", "s", 0, D("-0.1"))


# ---------------------------------------------------------------------------- the scan


def _month_start(day: date, back: int) -> date:
    year, month = day.year, day.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _doc(kind: str, number: str, on: date, total: str, **extra: str) -> dict[str, str]:
    return {
        "kind": kind,
        "number": number,
        "seller_uscc": uscc(4),
        "buyer_uscc": uscc(3),
        "issue_date": on.isoformat(),
        "currency": "CNY",
        "total": total,
        **extra,
    }


def shrinking_business(s: Session, world: LendingWorld) -> date:
    """t1's last six months with its core: orders fall from 1,000,000.00 to 300,000.00 in
    the last month, it invoices nobody that month, and the core pays a late invoice after
    about sixty days where it used to pay in thirty. Returns the scan date."""
    last = _month_start(TODAY, 0) - timedelta(days=1)  # the end of last month
    rows = []
    for back in range(6, 0, -1):
        start = _month_start(last, back - 1)
        rows.append(
            _doc("purchase_order", f"EW-PO-{back}", start + timedelta(days=4),
                 "300000.00" if back == 1 else "1000000.00")
        )  # fmt: skip
        if back >= 3:
            number = f"2632000000000000{back:04d}"
            invoiced = start + timedelta(days=2)
            rows.append(_doc("invoice", f"EW-INV-{back}", invoiced, "500000.00",
                             invoice_number=number, tax="0.00"))  # fmt: skip
            rows.append(_doc("payment", f"EW-PAY-{back}", invoiced + timedelta(days=30),
                             "500000.00", invoice_number=number))  # fmt: skip
    late_number = "26320000000000009999"
    late_invoice = _month_start(last, 2)
    rows.append(_doc("invoice", "EW-INV-LATE", late_invoice, "200000.00",
                     invoice_number=late_number, tax="0.00"))  # fmt: skip
    rows.append(_doc("payment", "EW-PAY-LATE", last, "200000.00", invoice_number=late_number))
    documents.ingest(s, world.ent("t1"), documents.parse_rows(rows))
    return last


def test_a_shrinking_borrower_raises_owned_alerts(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        app = applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        assert app.status == "approved"
        loans.disburse(
            s, rm, debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
        as_of = shrinking_business(s, world)
    with transaction(session_factory) as s:
        series = early_warning.signals(s, [world.ids["t1"]], world.credit.banks["BKA"], as_of)
        t1 = series[world.ids["t1"]]
        assert t1["orders_received"][-4:] == [D(1_000_000)] * 3 + [D(300_000)]
        assert t1["customers"][-1] == 0
        result = early_warning.scan(s, rm, as_of=as_of)
        assert result.by_code == {
            "order_volume_drop": 1,
            "customer_loss": 1,
            "core_paying_later": 1,
            "business_shrinking": 1,
        }
        # the documents raised them as they arrived (the incremental path); the full rescan
        # sees the same four warnings and raises nothing new
        assert result.alerts_raised == 0
        kinds = sorted(s.scalars(select(Alert.kind).where(Alert.kind.like("ew_%"))))
        assert kinds == [
            "ew_business_shrinking",
            "ew_core_paying_later",
            "ew_customer_loss",
            "ew_order_volume_drop",
        ]
    with transaction(session_factory) as s:
        (critical,) = s.scalars(select(Alert).where(Alert.severity == "critical"))
        assert critical.kind == "ew_business_shrinking"
        alerts.acknowledge(s, rm, critical.id, note="calling the CFO")
        with pytest.raises(ValidationFailed, match="note"):
            alerts.resolve(s, rm, critical.id, note=" ")
        alerts.resolve(s, rm, critical.id, note="core moved volume to a new plant; watch")
        with pytest.raises(Conflict):
            alerts.resolve(s, rm, critical.id, note="again")
        with pytest.raises(NotFound):
            alerts.acknowledge(s, world.credit.staff("BKB"), critical.id)
        later = clock.utcnow() + timedelta(hours=25)
        # the three open ones: high escalates after a day, medium after three
        assert alerts.escalate(s, rm, now=later) == 1
        assert alerts.escalate(s, rm, now=later + timedelta(days=3)) == 3
    with transaction(session_factory) as s:
        ledger.sequence(s, "chainfin.test/ledger")
    with session_factory() as s:
        report = ledger_verify.verify(s, origin="chainfin.test/ledger")
        assert report.ok, report.findings[:3]


def test_no_consent_no_signals(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory, consent_all=False)
    with transaction(session_factory) as s:
        result = early_warning.scan(s, world.staff("rm"), as_of=TODAY)
        # the line's obligor (the core) gave no consent for monitoring: not read
        assert (result.subjects, result.without_consent, result.warnings) == (1, 1, 0)


def test_slower_deliveries_are_a_signal(session_factory: sessionmaker[Session]) -> None:
    world = build_lending(session_factory)
    last = _month_start(TODAY, 0) - timedelta(days=1)
    rows = []
    for back in range(4, 0, -1):
        ordered = _month_start(last, back - 1) + timedelta(days=1)
        takes = 20 if back == 1 else 5
        number = f"EW-DPO-{back}"
        rows.append(_doc("purchase_order", number, ordered, "100000.00", order_number=number))
        rows.append(
            _doc("goods_receipt", f"EW-GR-{back}", ordered + timedelta(days=takes), "100000.00",
                 order_number=number, delivery_number=f"EW-DN-{back}")
        )  # fmt: skip
    with transaction(session_factory) as s:
        documents.ingest(s, world.ent("t1"), documents.parse_rows(rows))
    with session_factory() as s:
        t1 = early_warning.signals(s, [world.ids["t1"]], world.credit.banks["BKA"], last)
        series = t1[world.ids["t1"]]
        assert series["delivery_days"][-4:] == [D(5), D(5), D(5), D(20)]
        codes = [h.code for h in rules.evaluate(rules.DEFAULT_POLICIES, series)]
        assert "delivery_delays" in codes
