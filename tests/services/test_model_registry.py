"""The model registry: versions, champion and challenger, scoring, stability monitoring."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, RiskModel
from chainfin.domain.errors import Conflict, NotFound
from chainfin.resources.risk import MonitoringOut
from chainfin.risk.scorecard import ModelRefused, TrainOptions
from chainfin.services import ledger, ledger_verify
from chainfin.services import models as registry
from credit_world import CreditWorld, build

DATA = Path(__file__).parents[1] / "risk" / "data" / "applications.csv"
with DATA.open(newline="") as f:
    ROWS: list[dict[str, Any]] = list(csv.DictReader(f))
COLUMNS = list(ROWS[0])
FEATURES = ("debt_ratio", "days_late_12m", "years_in_business", "sector")
V1 = TrainOptions(features=FEATURES, seed=1)
V2 = TrainOptions(features=FEATURES[:3], seed=2)
ORIGIN = "chainfin.test/ledger"


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Iterator[CreditWorld]:
    """The credit world; afterwards the log must still agree with the database."""
    yield build(session_factory)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert report.ok, report.findings[:5]


def _register(s: Session, world: CreditWorld, options: TrainOptions) -> RiskModel:
    return registry.train_and_register(
        s, world.staff("BKA"), "sme", ROWS, target="default", options=options, columns=COLUMNS
    )


def test_versions_champion_challenger_and_monitoring(
    world: CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("BKA")
    with transaction(session_factory) as s:
        v1 = _register(s, world, V1)
        v2 = _register(s, world, V2)
        ids = v1.id, v2.id
        assert (v1.version, v2.version) == (1, 2)
        assert v1.status == v2.status == "challenger"
        assert v1.id.startswith("mdl_")
        assert sum(n for _, n in v1.baseline) == len(ROWS)

    with transaction(session_factory) as s:
        with pytest.raises(NotFound, match="no champion"):
            registry.score(s, rm, "sme", ROWS[:3])
        registry.promote(s, rm, ids[0])
    with transaction(session_factory) as s:
        registry.promote(s, rm, ids[1])
    with transaction(session_factory) as s, pytest.raises(Conflict, match="champion already"):
        registry.promote(s, rm, ids[1])
    with session_factory() as s:
        status = {m.version: m.status for m in registry.models(s, rm, name="sme").items}
        assert status == {1: "retired", 2: "champion"}
        # a second champion is refused by the database itself
        s.get(RiskModel, ids[0]).status = "champion"  # type: ignore[union-attr]
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()

    with transaction(session_factory) as s:  # a rollback: v1 is champion again, v2 retired
        registry.promote(s, rm, ids[0])
        registry.promote(s, rm, ids[1])
        v3 = _register(s, world, V1)  # a fresh challenger to compare with
        v3_id = v3.id

    with session_factory() as s:
        plain = registry.score(s, rm, "sme", ROWS[:5])
        assert plain["champion"]["version"] == 2
        assert "challenger" not in plain["rows"][0]
        both = registry.score(s, rm, "sme", ROWS[:5], compare=True)
        assert both["challenger"] == {"id": v3_id, "version": 3}
        assert [r["champion"] for r in both["rows"]] == [r["champion"] for r in plain["rows"]]
        assert all(isinstance(r["challenger"]["score"], float) for r in both["rows"])
        assert any(r["challenger"]["score"] != r["champion"]["score"] for r in both["rows"])

    shifted = [
        {**r, "debt_ratio": str(float(r["debt_ratio"]) * 3) if r["debt_ratio"] else ""}
        for r in ROWS
    ]
    with transaction(session_factory) as s:
        same = registry.monitor(s, rm, ids[1], ROWS, as_of=date(2025, 1, 31), columns=COLUMNS)
        assert same.psi_e4 < 10
        assert same.status == "stable"
        assert same.alert_id is None
        moved = registry.monitor(s, rm, ids[1], shifted, as_of=date(2025, 2, 28))
        assert moved.status == "shift"
        assert moved.psi_e4 > 2500
        by_var = {v["variable"]: v for v in moved.variables}
        assert by_var["debt_ratio"]["psi_e4"] > 2500
        assert by_var["years_in_business"]["psi_e4"] < 250  # vs the binning's training part
        alert = s.get(Alert, moved.alert_id)
        assert alert is not None
        assert (alert.kind, alert.severity, alert.subject_id) == ("model_drift", "high", ids[1])
    with session_factory() as s:
        checks = registry.history(s, rm, ids[1]).items
        assert [c.status for c in checks] == ["stable", "shift"]
        out = [MonitoringOut.build(c) for c in checks]
        assert Decimal(out[1].psi) > Decimal("0.25")


def test_tampered_bytes_are_refused_and_banks_are_apart(
    world: CreditWorld, session_factory: sessionmaker[Session]
) -> None:
    rm, other = world.staff("BKA"), world.staff("BKB")
    with transaction(session_factory) as s:
        model_id = _register(s, world, V2).id
        registry.promote(s, rm, model_id)
    with session_factory() as s:
        assert registry.models(s, other).items == []
        with pytest.raises(NotFound):
            registry.get(s, other, model_id)
        with pytest.raises(NotFound):
            registry.score(s, other, "sme", ROWS[:2])
        with pytest.raises(NotFound):
            registry.history(s, other, model_id)
        row = s.get(RiskModel, model_id)
        assert row is not None
        assert registry.load(row).card["model_file"]["sha256"] == row.digest
        blob = bytearray(row.model_bytes)
        blob[len(blob) // 2] ^= 0x01
        row.model_bytes = bytes(blob)
        with pytest.raises(ModelRefused, match="stored bytes were changed"):
            registry.load(row)
        with pytest.raises(ModelRefused):
            registry.score(s, rm, "sme", ROWS[:2])
        s.rollback()
    with session_factory() as s:
        assert s.scalar(select(RiskModel.status).where(RiskModel.id == model_id)) == "champion"
