"""Scorecards on a small fixed dataset (tests/risk/data/applications.csv: 500 applications,
debt ratio, days late, years in business and sector, generated once with a seeded numpy RNG
from a known monotone logistic model and stored): the points table and three rows' reason
codes are pinned; the metrics, splits, refusals and the model file's digest are checked."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainfin.domain.errors import ValidationFailed
from chainfin.risk.scorecard import (
    ModelRefused,
    TrainedModel,
    TrainOptions,
    card_path_for,
    ks_statistic,
    psi,
    train,
)

DATA = Path(__file__).parent / "data" / "applications.csv"
ROWS: list[dict[str, object]] = list(csv.DictReader(io.StringIO(DATA.read_text())))
COLUMNS = list(ROWS[0])
OPTIONS = TrainOptions(id_column="app_id", exclude=("applied_on",))

# (variable, bin, points) — bins are [lower, upper), edges shown to 6 significant digits;
# whole points (pdo 20, odds 50:1 at 600). A missing value takes the neutral "Missing" points.
POINTS_TABLE = [
    ("debt_ratio", "[-inf, 0.135)", 189.0),
    ("debt_ratio", "[0.135, 0.225)", 164.0),
    ("debt_ratio", "[0.225, 0.685)", 157.0),
    ("debt_ratio", "[0.685, 0.885)", 129.0),
    ("debt_ratio", "[0.885, 1.175)", 112.0),
    ("debt_ratio", "[1.175, inf)", 102.0),
    ("debt_ratio", "Missing", 130.0),
    ("days_late_12m", "[-inf, 0.5)", 151.0),
    ("days_late_12m", "[0.5, 2.5)", 140.0),
    ("days_late_12m", "[2.5, 3.5)", 127.0),
    ("days_late_12m", "[3.5, 12.5)", 107.0),
    ("days_late_12m", "[12.5, inf)", 68.0),
    ("days_late_12m", "Missing", 130.0),
    ("years_in_business", "[-inf, 2.35)", 120.0),
    ("years_in_business", "[2.35, 8.85)", 126.0),
    ("years_in_business", "[8.85, 10.8)", 133.0),
    ("years_in_business", "[10.8, 16.55)", 135.0),
    ("years_in_business", "[16.55, inf)", 172.0),
    ("years_in_business", "Missing", 130.0),
    ("sector", "manufacturing", 152.0),
    ("sector", "wholesale", 137.0),
    ("sector", "logistics", 118.0),
    ("sector", "retail", 93.0),
    ("sector", "Missing", 130.0),
]

# row index → (score, PD to 4 places, [(variable, bin, points, max points)])
REASONS = {
    0: (
        531.0,
        0.1816,
        [
            ("debt_ratio", "[1.175, inf)", 102.0, 189.0),
            ("years_in_business", "[2.35, 8.85)", 126.0, 172.0),
            ("days_late_12m", "[-inf, 0.5)", 151.0, 151.0),  # best bin: nothing lost
        ],
    ),
    4: (
        513.0,
        0.2949,
        [
            ("debt_ratio", "[0.685, 0.885)", 129.0, 189.0),
            ("years_in_business", "[2.35, 8.85)", 126.0, 172.0),
            ("sector", "logistics", 118.0, 152.0),
        ],
    ),
    11: (
        497.0,
        0.4198,
        [
            ("debt_ratio", "[0.885, 1.175)", 112.0, 189.0),
            ("years_in_business", "[2.35, 8.85)", 126.0, 172.0),
            ("days_late_12m", "[3.5, 12.5)", 107.0, 151.0),
        ],
    ),
}


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return train(ROWS, "default", options=OPTIONS, columns=COLUMNS, first_row=2)


def refused(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, int | None]]:
    return [(e.field, e.row) for e in exc.value.errors]


def test_points_table_is_pinned(model: TrainedModel) -> None:
    table = [(r["variable"], r["bin"], r["points"]) for r in model.points_table]
    assert table == POINTS_TABLE
    card = model.card
    assert card["columns"]["kinds"] == {
        "debt_ratio": "numeric",
        "days_late_12m": "numeric",
        "years_in_business": "numeric",
        "sector": "categorical",
    }
    assert card["scaling"]["pdo"] == 20
    assert card["scaling"]["odds"] == 50
    assert card["scaling"]["points"] == 600
    # monotone event rates, as asked of the binning
    for var in ("debt_ratio", "days_late_12m"):
        rates = [r["event_rate"] for r in model.points_table if r["variable"] == var][:-1]
        assert rates == sorted(rates)


@pytest.mark.parametrize("index", sorted(REASONS))
def test_reason_codes_are_pinned(model: TrainedModel, index: int) -> None:
    score, pd_, reasons = REASONS[index]
    for scored in (model.score_one(ROWS[index]), model.score([ROWS[index]], columns=COLUMNS)[0]):
        assert scored.score == score
        assert round(scored.pd, 4) == pd_
        got = [(r.variable, r.bin, r.points, r.max_points) for r in scored.reasons]
        assert got == reasons
        assert [r.points_lost for r in scored.reasons] == sorted(
            (r.points_lost for r in scored.reasons), reverse=True
        )


def test_fast_path_equals_optbinning(model: TrainedModel) -> None:
    frame = pd.DataFrame(ROWS)[model.features]
    batch = model.score(ROWS, columns=COLUMNS, first_row=2, id_column="app_id")
    reference = model.scorecard.score(_matrix(model, frame))
    reference_pd = model.scorecard.predict_proba(_matrix(model, frame))[:, 1]
    assert [s.score for s in batch] == list(reference)
    assert np.allclose([s.pd for s in batch], reference_pd, rtol=0, atol=1e-12)
    for row, s in zip(ROWS, batch, strict=True):
        one = model.score_one(row)
        assert one.score == s.score
        assert one.reasons == s.reasons
        assert math.isclose(one.pd, s.pd, rel_tol=0, abs_tol=1e-12)
    assert batch[0].id == "A0001"
    assert batch[0].row == 2
    # a category never seen in training scores as missing
    odd = {**ROWS[0], "sector": "mining"}
    assert model.score_one(odd).score == model.score([odd], columns=COLUMNS)[0].score


def _matrix(model: TrainedModel, frame: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame(
        {
            f: pd.to_numeric(frame[f]).astype(float) if k == "numeric" else frame[f].astype(object)
            for f, k in model.kinds.items()
        }
    )
    return x


def test_metrics(model: TrainedModel) -> None:
    m = model.card["metrics"]
    assert m["auc"] > 0.75
    assert m["baseline_logistic_auc"] > 0.7
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert 0 < m["ks"] <= 1
    assert m["psi"] < 0.1
    assert model.card["split"]["method"] == "stratified-holdout"
    assert (m["train_rows"], m["test_rows"]) == (350, 150)
    cal = model.card["calibration"]
    assert len(cal) == 10
    assert sum(d["count"] for d in cal) == 150
    assert cal[0]["predicted_pd"] < cal[-1]["predicted_pd"]
    assert cal[0]["observed_bad_rate"] < cal[-1]["observed_bad_rate"]


def test_psi_and_ks() -> None:
    sample = np.random.default_rng(1).normal(600, 40, 1000)
    assert psi(sample, sample) == 0.0
    assert psi(sample, sample + 40) > 0.25
    assert ks_statistic([0, 0, 1, 1], [700, 650, 500, 550]) == 1.0
    assert ks_statistic([0, 1, 0, 1], [600, 600, 600, 600]) == 0.0


def test_kfold_and_time_holdout() -> None:
    kfold = train(
        ROWS, "default", options=TrainOptions(id_column="app_id", exclude=("applied_on",), folds=3)
    )
    m = kfold.card["metrics"]
    assert len(m["folds"]) == 3
    assert m["auc"] == pytest.approx(np.mean([f["auc"] for f in m["folds"]]))
    assert kfold.card["split"]["method"] == "stratified-kfold"
    assert "all rows" in kfold.card["split"]["model_fitted_on"]

    timed = train(
        ROWS, "default", options=TrainOptions(id_column="app_id", time_column="applied_on")
    )
    split = timed.card["split"]
    assert split["method"] == "time-holdout"
    assert split["time_column"] == "applied_on"
    assert split["train_until"] <= split["test_from"]
    assert "applied_on" not in timed.features
    assert timed.card["metrics"]["test_rows"] == 150
    assert timed.card["metrics"]["auc"] > 0.6


def test_bad_value_and_dataframe_input() -> None:
    frame = pd.DataFrame(ROWS)
    frame["status"] = frame.pop("default").map({"1": "defaulted", "0": "performing"})
    model = train(frame, "status", bad="defaulted", options=OPTIONS)
    assert model.card["target"] == {
        "column": "status",
        "bad": "defaulted",
        "rule": "rows whose target equals the bad value are bad (1); all others good",
    }
    with pytest.raises(ValidationFailed, match=r"'defaulted', 'performing'") as exc:
        train(frame, "status", options=OPTIONS)
    assert refused(exc) == [("status", None)]
    with pytest.raises(ValidationFailed, match="no row has the bad value 'Y'"):
        train(frame, "status", bad="Y", options=OPTIONS)


def test_bad_input_is_refused_by_column_and_row() -> None:
    def bad(rows: list[dict[str, object]]) -> list[tuple[str, int | None]]:
        with pytest.raises(ValidationFailed) as exc:
            train(rows, "default", options=OPTIONS, columns=COLUMNS, first_row=2)
        return refused(exc)

    with pytest.raises(ValidationFailed, match=r"missing column.*nope") as exc:
        train(ROWS, "nope", columns=COLUMNS)
    assert refused(exc) == [("nope", None)]

    rows = [dict(r) for r in ROWS]
    rows[6]["debt_ratio"] = "0,45"
    rows[9]["years_in_business"] = "inf"
    assert bad(rows) == [("debt_ratio", 8), ("years_in_business", 11)]

    rows = [dict(r) for r in ROWS]
    rows[3]["default"] = ""
    rows[20]["default"] = ""
    with pytest.raises(ValidationFailed, match="target missing in rows 5, 22") as exc:
        train(rows, "default", options=OPTIONS, columns=COLUMNS, first_row=2)
    assert refused(exc) == [("default", 5)]

    one_class = [{**r, "default": "0"} for r in ROWS]
    with pytest.raises(ValidationFailed, match="every row is good"):
        train(one_class, "default", options=OPTIONS, columns=COLUMNS)

    few = [{**r, "default": "1" if i < 12 else "0"} for i, r in enumerate(ROWS)]
    with pytest.raises(ValidationFailed, match="12 bad and 488 good rows; a 30% holdout") as exc:
        train(few, "default", options=OPTIONS, columns=COLUMNS)
    assert refused(exc) == [("default", None)]
    with pytest.raises(ValidationFailed, match="5 folds need at least 25"):
        train(few, "default", options=TrainOptions(exclude=("app_id", "applied_on"), folds=5))

    with pytest.raises(ValidationFailed, match="no rows"):
        train([], "default", columns=COLUMNS)

    rows = [dict(r) for r in ROWS]
    rows[2]["applied_on"] = "last spring"
    with pytest.raises(ValidationFailed, match="ISO 8601") as exc:
        train(
            rows,
            "default",
            options=TrainOptions(id_column="app_id", time_column="applied_on"),
            first_row=2,
        )
    assert refused(exc) == [("applied_on", 4)]


def test_scoring_refuses_missing_columns_and_bad_numbers(model: TrainedModel) -> None:
    rows = [{k: v for k, v in r.items() if k != "days_late_12m"} for r in ROWS[:3]]
    with pytest.raises(ValidationFailed, match="days_late_12m") as exc:
        model.score(rows, columns=list(rows[0]))
    assert refused(exc) == [("days_late_12m", None)]
    with pytest.raises(ValidationFailed) as exc:
        model.score([{**ROWS[0], "debt_ratio": "n/a"}], columns=COLUMNS, first_row=2)
    assert refused(exc) == [("debt_ratio", 2)]
    with pytest.raises(ValidationFailed) as exc:
        model.score_one({**ROWS[0], "debt_ratio": "n/a"}, row_number=7)
    assert refused(exc) == [("debt_ratio", 7)]


def test_save_load_and_digest(model: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    card_path = model.save(path)
    assert card_path == card_path_for(path) == tmp_path / "m.pkl.card.json"
    loaded = TrainedModel.load(path)
    assert loaded.card["model_file"]["sha256"] == model.card["model_file"]["sha256"]
    assert [s.score for s in loaded.score(ROWS[:20])] == [s.score for s in model.score(ROWS[:20])]
    assert loaded.version_drift() == []

    blob = bytearray(path.read_bytes())
    blob[-2] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelRefused, match="SHA-256"):
        TrainedModel.load(path)
    card_path.unlink()
    with pytest.raises(ModelRefused, match="no readable card"):
        TrainedModel.load(path)
