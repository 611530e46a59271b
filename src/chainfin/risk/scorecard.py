"""Credit scorecards on any tabular data: monotonic optimal binning, WoE, logistic regression
and points scaling with optbinning, evaluated on a holdout, explained with reason codes.

    model = train(rows, target="default", options=TrainOptions(folds=5))
    model.card["metrics"]["auc"]
    model.save(Path("m.pkl"))          # the pickle and its card, m.pkl.card.json
    TrainedModel.load(Path("m.pkl")).score(rows)

Pipeline: each feature is binned by optbinning's ``BinningProcess`` (numeric features with a
monotonic event rate, ``auto_asc_desc`` by default; categorical ones by event rate), replaced
by its bin's weight of evidence, and a logistic regression is fitted on the WoE; optbinning's
``Scorecard`` turns the coefficients into points (``pdo_odds``: ``pdo`` points double the
good:bad odds, ``odds``:1 at ``points``), rounded to whole points. A row's score is the sum of
its bins' points (higher is better); its PD is the regression's probability of bad.

Reason codes are the usual "points below maximum" adverse-action method: for each feature the
points the row lost against the best points that feature can give (the largest in the points
table), the three largest first (ties in feature order). A missing value, and a category not
seen in training, take the "Missing" bin's points (those of a WoE of 0, i.e. neutral).

Models are pickles: load them only from files you trust. ``TrainedModel.load`` refuses a
pickle whose SHA-256 differs from the one recorded in its card, which catches a swapped or
damaged file but not an attacker who can rewrite both.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import pickle
import platform
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from chainfin.domain.clock import utcnow
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed

FORMAT = "chainfin-scorecard/1"
MIN_CLASS_PER_PART = 5  # bads (and goods) each training and test part must hold
PSI_FLOOR = 1e-4  # share given to an empty PSI bin, so ln(a/e) stays finite
Kind = Literal["numeric", "categorical"]
Data: TypeAlias = "pd.DataFrame | Sequence[Mapping[str, object]]"
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ModelRefused(ChainfinError):
    """A model file that may not be loaded: no card, a digest mismatch, another format."""

    code = "model_refused"
    status = 422


@dataclass(frozen=True)
class TrainOptions:
    """How to train. ``features=None``: every column but the target, id and time columns."""

    features: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    id_column: str | None = None
    test_size: float = 0.3
    folds: int | None = None
    time_column: str | None = None
    seed: int = 42
    pdo: float = 20.0
    odds: float = 50.0
    points: float = 600.0
    monotonic_trend: str = "auto_asc_desc"


@dataclass(frozen=True)
class Reason:
    """One characteristic that cost points: the row's bin and points, and the best points."""

    variable: str
    bin: str
    points: float
    max_points: float

    @property
    def points_lost(self) -> float:
        return self.max_points - self.points

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "points_lost": self.points_lost}


@dataclass(frozen=True)
class Scored:
    """A scored row: ``row`` as the caller numbers rows, ``id`` from the id column if any."""

    row: int
    score: float
    pd: float
    reasons: tuple[Reason, ...]
    id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "id": self.id,
            "score": self.score,
            "pd": self.pd,
            "reasons": [r.as_dict() for r in self.reasons],
        }


# ---------------------------------------------------------------- input parsing


def _fail(field_name: str, reason: str, row: int | None = None) -> ValidationFailed:
    return ValidationFailed([FieldError(field_name, reason, row)])


def _rows_text(rows: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _frame(data: Data, columns: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
    else:
        cols = (
            list(columns)
            if columns is not None
            else list(dict.fromkeys(k for r in data for k in r))
        )
        frame = pd.DataFrame.from_records(list(data), columns=cols)
    if frame.shape[0] == 0:
        raise _fail("file", "no rows")
    return frame


def _require(frame: pd.DataFrame, wanted: Sequence[str], what: str) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            [FieldError(c, f"no such column ({what})") for c in missing],
            f"missing column(s): {', '.join(missing)}; the data has: "
            + ", ".join(map(str, frame.columns)),
        )


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return bool(value is pd.NA or value is pd.NaT)


def _numeric(series: pd.Series, name: str, first_row: int) -> FloatArray:
    """Parse a numeric column; missing cells become NaN, anything else must be a finite number."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values: FloatArray = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            rows = [int(i) + first_row for i in bad]
            raise _fail(name, f"not a finite number in {_rows_text(rows)}", rows[0])
        return values
    out = np.full(len(series), np.nan)
    bad_rows: list[int] = []
    first_bad = ""
    for i, value in enumerate(series.tolist()):
        if _is_missing(value):
            continue
        try:
            number = float(str(value).strip()) if not isinstance(value, int | float) else value
        except ValueError:
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            bad_rows.append(i + first_row)
            first_bad = first_bad or repr(value)
            continue
        out[i] = number
    if bad_rows:
        raise _fail(
            name,
            f"not a number: {first_bad} in {_rows_text(bad_rows)} (a numeric column; if it "
            "is a category, declare it categorical)",
            bad_rows[0],
        )
    return out


def _categorical(series: pd.Series) -> npt.NDArray[np.object_]:
    return np.array([None if _is_missing(v) else _label(v) for v in series.tolist()], dtype=object)


def _label(value: object) -> str:
    """A value as text: 1.0 and 1 are both "1", True is "1"."""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _looks_numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    present = [v for v in series.tolist() if not _is_missing(v)]
    if not present:
        return True
    parsed = 0
    for v in present:
        try:
            float(str(v).strip())
            parsed += 1
        except ValueError:
            pass
    return parsed * 2 >= len(present)


def _features_matrix(
    frame: pd.DataFrame, features: Sequence[str], kinds: Mapping[str, Kind], first_row: int
) -> pd.DataFrame:
    errors: list[FieldError] = []
    columns: dict[str, object] = {}
    for name in features:
        try:
            if kinds[name] == "numeric":
                columns[name] = _numeric(frame[name], name, first_row)
            else:
                columns[name] = _categorical(frame[name])
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return pd.DataFrame(columns, columns=list(features))


def _target(frame: pd.DataFrame, target: str, bad: object | None, first_row: int) -> IntArray:
    values = frame[target].tolist()
    missing = [i + first_row for i, v in enumerate(values) if _is_missing(v)]
    if missing:
        raise _fail(
            target, f"target missing in {_rows_text(missing)}; every row needs one", missing[0]
        )
    labels = [_label(v) for v in values]
    seen = sorted(set(labels))
    shown = ", ".join(repr(s) for s in seen[:20]) + (" …" if len(seen) > 20 else "")
    if bad is None:
        if not set(seen) <= {"0", "1"}:
            raise _fail(
                target,
                f"the target must be 0 or 1 (1 = bad) unless the bad value is named "
                f"(--bad); values seen: {shown}",
            )
        bad_label = "1"
    else:
        bad_label = _label(bad)
        if bad_label not in seen:
            raise _fail(target, f"no row has the bad value {bad_label!r}; values seen: {shown}")
    y = np.array([1 if v == bad_label else 0 for v in labels], dtype=np.int64)
    if y.min() == y.max():
        kind = "bad" if y[0] == 1 else "good"
        raise _fail(target, f"every row is {kind} ({shown}); a scorecard needs both classes")
    return y


# ---------------------------------------------------------------- metrics


def ks_statistic(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """Largest distance between the cumulative score distributions of bads and goods."""
    yy = np.asarray(y)
    s = np.asarray(score, dtype=np.float64)
    bads, goods = np.sort(s[yy == 1]), np.sort(s[yy == 0])
    grid = np.unique(s)
    cdf_bad = np.searchsorted(bads, grid, side="right") / len(bads)
    cdf_good = np.searchsorted(goods, grid, side="right") / len(goods)
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index Σ (a−e)·ln(a/e) over bins cut at the deciles of
    ``expected`` (equal values share a bin, so there may be fewer than ``bins``); an empty
    bin counts as a share of ``PSI_FLOOR``."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=len(edges) + 1)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    es = np.maximum(e_share / len(e), PSI_FLOOR)
    as_ = np.maximum(a_share / len(a), PSI_FLOOR)
    return float(np.sum((as_ - es) * np.log(as_ / es)))


def calibration_table(
    y: npt.ArrayLike, pd_: npt.ArrayLike, groups: int = 10
) -> list[dict[str, Any]]:
    """Deciles of predicted PD (sorted, split into equal counts): predicted vs observed."""
    yy = np.asarray(y)
    p = np.asarray(pd_, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    table = []
    for k, idx in enumerate(np.array_split(order, groups), start=1):
        if idx.size == 0:
            continue
        table.append(
            {
                "decile": k,
                "count": int(idx.size),
                "pd_min": float(p[idx].min()),
                "pd_max": float(p[idx].max()),
                "predicted_pd": float(p[idx].mean()),
                "bads": int(yy[idx].sum()),
                "observed_bad_rate": float(yy[idx].mean()),
            }
        )
    return table


def _discrimination(y: IntArray, score: FloatArray) -> dict[str, float]:
    auc = float(roc_auc_score(y, -score))  # higher score = better, so −score ranks bads
    return {"auc": auc, "ks": ks_statistic(y, score), "gini": 2 * auc - 1}


# ---------------------------------------------------------------- fitting


@contextmanager
def _quiet() -> Iterator[None]:
    """optbinning builds tables with pandas idioms pandas 3 deprecates; its warnings are
    about optbinning's code, not the caller's data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _fit_scorecard(
    x: pd.DataFrame, y: IntArray, kinds: Mapping[str, Kind], options: TrainOptions
) -> Any:
    features = list(x.columns)
    numeric = [f for f in features if kinds[f] == "numeric"]
    process = BinningProcess(
        features,
        categorical_variables=[f for f in features if kinds[f] == "categorical"] or None,
        binning_fit_params={f: {"monotonic_trend": options.monotonic_trend} for f in numeric},
    )
    scorecard = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": options.pdo,
            "odds": options.odds,
            "scorecard_points": options.points,
        },
        rounding=True,
    )
    with _quiet():
        scorecard.fit(x, y)
    return scorecard


def _fit_baseline(x: pd.DataFrame, y: IntArray, kinds: Mapping[str, Kind]) -> Pipeline:
    """Plain logistic regression on the raw features: numeric ones median-imputed and
    standardised, categorical ones one-hot (missing as its own category)."""
    numeric = [f for f in x.columns if kinds[f] == "numeric"]
    categorical = [f for f in x.columns if kinds[f] == "categorical"]
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
        )
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    model = Pipeline(
        [("prep", ColumnTransformer(parts)), ("lr", LogisticRegression(max_iter=1000))]
    )
    xx = x.copy()
    for f in categorical:
        xx[f] = xx[f].map(lambda v: "(missing)" if v is None else v).astype(object)
    with _quiet():
        model.fit(xx, y)
    return model


def _baseline_pd(model: Pipeline, x: pd.DataFrame, kinds: Mapping[str, Kind]) -> FloatArray:
    xx = x.copy()
    for f in (f for f in x.columns if kinds[f] == "categorical"):
        xx[f] = xx[f].map(lambda v: "(missing)" if v is None else v).astype(object)
    with _quiet():
        return np.asarray(model.predict_proba(xx)[:, 1], dtype=np.float64)


# ---------------------------------------------------------------- the fitted model


@dataclass
class _Variable:
    """One characteristic's points, as a lookup: numeric splits (bins are [lo, hi)) or
    category → bin; the last two slots are optbinning's Special and Missing bins."""

    name: str
    kind: Kind
    splits: list[float]
    categories: dict[str, int]
    points: list[float]  # by optbinning bin index; [-1] is Missing
    logit: list[float]  # coefficient × WoE by bin index, as predict_proba uses it
    unknown_logit: float  # for a category not seen in training
    labels: list[str]
    max_points: float

    def index(self, value: object) -> int:
        if _is_missing(value):
            return len(self.points) - 1
        if self.kind == "numeric":
            return bisect.bisect_right(self.splits, float(value))  # type: ignore[arg-type]
        return self.categories.get(_label(value), -1)


def _fmt(x: float) -> str:
    return "-inf" if x == -math.inf else "inf" if x == math.inf else f"{x:.6g}"


def _variables(scorecard: Any, kinds: Mapping[str, Kind]) -> list[_Variable]:
    table = scorecard.table(style="detailed")
    process = scorecard.binning_process_
    out = []
    for name in map(str, process.get_support(names=True)):
        rows = table[table["Variable"] == name]
        points = [float(p) for p in rows["Points"]]
        coef = float(rows["Coefficient"].iloc[0])
        optb = process.get_binned_variable(name)
        n_bins = len(points) - 2
        with _quiet():
            if kinds[name] == "numeric":
                splits = [float(s) for s in optb.splits]
                edges = [-math.inf, *splits, math.inf]
                labels = [f"[{_fmt(edges[i])}, {_fmt(edges[i + 1])})" for i in range(n_bins)]
                probe: list[object] = [(edges[i] if i else edges[1] - 1.0) for i in range(n_bins)]
                categories: dict[str, int] = {}
                unknown = 0.0
            else:
                splits = []
                groups = [[str(c) for c in group] for group in optb.splits]
                categories = {c: i for i, group in enumerate(groups) for c in group}
                labels = [", ".join(group) for group in groups]
                probe = [group[0] for group in groups]
                unknown = coef * float(
                    optb.transform(np.array(["\x00unseen"], dtype=object), metric="woe")[0]
                )
            dtype = np.float64 if kinds[name] == "numeric" else object
            woe = optb.transform(np.array(probe, dtype=dtype), metric="woe")
        logit = [coef * float(w) for w in woe] + [0.0, 0.0]  # Special, Missing: WoE 0
        out.append(
            _Variable(
                name=name,
                kind=kinds[name],
                splits=splits,
                categories=categories,
                points=points,
                logit=logit,
                unknown_logit=unknown,
                labels=[*labels, "Special", "Missing"],
                max_points=max(points),
            )
        )
    return out


def _points_table(scorecard: Any, variables: Sequence[_Variable]) -> list[dict[str, Any]]:
    table = scorecard.table(style="detailed")
    out = []
    for var in variables:
        rows = table[table["Variable"] == var.name].reset_index(drop=True)
        edges = [-math.inf, *var.splits, math.inf]
        groups: dict[int, list[str]] = {}
        for c, i in var.categories.items():
            groups.setdefault(i, []).append(c)
        for i, r in rows.iterrows():
            k = int(i)
            if var.labels[k] == "Special":
                continue  # no special codes are configured: never used
            regular = k < len(var.labels) - 2
            entry: dict[str, Any] = {
                "variable": var.name,
                "bin_id": k,
                "bin": var.labels[k],
                "count": int(r["Count"]),
                "count_pct": float(r["Count (%)"]),
                "event_rate": float(r["Event rate"]),
                "woe": float(r["WoE"]),
                "iv": float(r["IV"]),
                "points": float(r["Points"]),
            }
            if regular and var.kind == "numeric":
                entry["lower"] = None if k == 0 else edges[k]
                entry["upper"] = None if k == len(edges) - 2 else edges[k + 1]
            elif regular:
                entry["categories"] = groups[k]
            out.append(entry)
    return out


class TrainedModel:
    """A fitted scorecard with its card (metrics, points table, columns, digest)."""

    def __init__(self, scorecard: Any, card: dict[str, Any]) -> None:
        self.scorecard = scorecard
        self._card = card
        self.features: list[str] = list(card["columns"]["features"])
        self.kinds: dict[str, Kind] = dict(card["columns"]["kinds"])
        self._variables = _variables(scorecard, self.kinds)
        self._intercept = float(np.ravel(scorecard.estimator_.intercept_)[0])

    @property
    def card(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._card))  # type: ignore[no-any-return]

    @property
    def points_table(self) -> list[dict[str, Any]]:
        return list(self.card["points_table"])

    # -- scoring

    def score(
        self,
        data: Data,
        *,
        columns: Sequence[str] | None = None,
        first_row: int = 1,
        id_column: str | None = None,
    ) -> list[Scored]:
        """Score a batch through optbinning (bin indices, points) and the regression (PD)."""
        frame = _frame(data, columns)
        _require(frame, [*self.features, *([id_column] if id_column else [])], "the model's")
        x = _features_matrix(frame, self.features, self.kinds, first_row)
        with _quiet():
            idx = self.scorecard.binning_process_.transform(
                x, metric="indices", metric_special="empirical", metric_missing="empirical"
            )
            pd_ = np.asarray(self.scorecard.predict_proba(x)[:, 1], dtype=np.float64)
        pts = np.column_stack(
            [np.asarray(v.points)[idx[v.name].to_numpy()] for v in self._variables]
        )
        ids = (
            [None if _is_missing(v) else _label(v) for v in frame[id_column]] if id_column else None
        )
        return self._assemble(idx, pts, pts.sum(axis=1), pd_, first_row, ids)

    def _assemble(
        self,
        idx: pd.DataFrame,
        pts: FloatArray,
        score: FloatArray,
        pd_: FloatArray,
        first_row: int,
        ids: list[str | None] | None,
    ) -> list[Scored]:
        maxes = np.array([v.max_points for v in self._variables])
        top = np.argsort(-(maxes - pts), axis=1, kind="stable")[:, :3]
        index = idx.to_numpy()
        out = []
        for r in range(len(score)):
            reasons = tuple(
                Reason(
                    variable=self._variables[j].name,
                    bin=self._variables[j].labels[int(index[r, j])],
                    points=float(pts[r, j]),
                    max_points=float(maxes[j]),
                )
                for j in top[r]
            )
            out.append(
                Scored(
                    row=first_row + r,
                    score=float(score[r]),
                    pd=float(pd_[r]),
                    reasons=reasons,
                    id=ids[r] if ids else None,
                )
            )
        return out

    def score_one(self, row: Mapping[str, object], *, row_number: int = 1) -> Scored:
        """Score one application without pandas: the points table as per-variable lookups
        (bisect on the splits). Gives exactly the points of :meth:`score`."""
        total = 0.0
        logit = self._intercept
        lost: list[tuple[float, int, Reason]] = []
        for j, var in enumerate(self._variables):
            value = row.get(var.name)
            if var.kind == "numeric" and not _is_missing(value):
                try:
                    value = float(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise _fail(var.name, f"not a number: {value!r}", row_number) from None
                if not math.isfinite(value):
                    raise _fail(var.name, f"not a finite number: {value!r}", row_number)
            k = var.index(value)
            points = var.points[k]
            total += points
            logit += var.unknown_logit if k == -1 else var.logit[k]
            reason = Reason(var.name, var.labels[k], points, var.max_points)
            lost.append((-(var.max_points - points), j, reason))
        lost.sort(key=lambda t: (t[0], t[1]))
        return Scored(
            row=row_number,
            score=total,
            pd=1.0 / (1.0 + math.exp(-logit)),
            reasons=tuple(t[2] for t in lost[:3]),
        )

    # -- files

    def save(self, path: Path) -> Path:
        """Write the pickle at ``path`` and the card at ``<path>.card.json``; return the
        card's path."""
        blob = pickle.dumps(
            {"format": FORMAT, "scorecard": self.scorecard, "card": self._card},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self._card["model_file"] = {
            "name": path.name,
            "sha256": hashlib.sha256(blob).hexdigest(),
            "bytes": len(blob),
        }
        _write_atomic(path, blob)
        card_path = card_path_for(path)
        _write_atomic(card_path, (json.dumps(self._card, indent=1) + "\n").encode())
        return card_path

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        """Load a model the card vouches for. Pickles run code when loaded: trusted files
        only. Refused: no card, a digest that differs from the card's, another format."""
        card_path = card_path_for(path)
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise ModelRefused(f"cannot read the model {path}: {exc.strerror}") from None
        try:
            card = json.loads(card_path.read_text())
            expected = card["model_file"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ModelRefused(
                f"no readable card {card_path.name} beside {path.name}; a model is loaded "
                "only with the card that records its SHA-256"
            ) from None
        actual = hashlib.sha256(blob).hexdigest()
        if actual != expected:
            raise ModelRefused(
                f"{path.name} has SHA-256 {actual}, its card records {expected}: the file was "
                "changed or replaced after training; not loaded"
            )
        state = pickle.loads(blob)  # noqa: S301 - digest-checked, trusted files only
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ModelRefused(f"{path.name} is not a {FORMAT} model")
        return cls(state["scorecard"], card)

    def version_drift(self) -> list[str]:
        """Libraries whose installed version differs from the one the model was trained with."""
        now = _versions()
        then = self._card.get("versions", {})
        return [f"{k} {then[k]} → {now.get(k)}" for k in sorted(then) if then[k] != now.get(k)]


def card_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".card.json")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in ("optbinning", "scikit-learn", "numpy", "pandas", "scipy"):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "?"
    return out


# ---------------------------------------------------------------- training


@dataclass
class _Split:
    method: str
    parts: list[tuple[IntArray, IntArray]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def _time_order(frame: pd.DataFrame, column: str, first_row: int) -> IntArray:
    series = frame[column]
    missing = [i + first_row for i, v in enumerate(series.tolist()) if _is_missing(v)]
    if missing:
        raise _fail(column, f"time missing in {_rows_text(missing)}", missing[0])
    if _looks_numeric(series):
        keys: Any = _numeric(series, column, first_row)
    else:
        parsed = pd.to_datetime(series.map(str), errors="coerce", format="ISO8601", utc=True)
        bad = [i + first_row for i, v in enumerate(parsed.isna().tolist()) if v]
        if bad:
            raise _fail(column, f"not a number or ISO 8601 date/time in {_rows_text(bad)}", bad[0])
        keys = parsed.to_numpy()
    return np.argsort(keys, kind="stable").astype(np.int64)


def _split(
    frame: pd.DataFrame, y: IntArray, target: str, options: TrainOptions, first_row: int
) -> _Split:
    n, n_bad = len(y), int(y.sum())
    n_good = n - n_bad
    if options.folds is not None and options.time_column is not None:
        raise _fail("folds", "k-fold and a time-based holdout exclude each other; pick one")
    if options.folds is not None:
        k = options.folds
        if k < 2:
            raise _fail("folds", f"at least 2 folds; got {k}")
        need = MIN_CLASS_PER_PART * k
        if min(n_bad, n_good) < need:
            raise _fail(
                target,
                f"{n_bad} bad and {n_good} good rows; {k} folds need at least {need} of each "
                f"(every fold's test part holds {MIN_CLASS_PER_PART})",
            )
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=options.seed)
        parts = [
            (tr.astype(np.int64), te.astype(np.int64)) for tr, te in folds.split(np.zeros(n), y)
        ]
        return _Split("stratified-kfold", parts, {"folds": k, "seed": options.seed})
    if not 0.05 <= options.test_size <= 0.5:
        raise _fail("test_size", f"between 0.05 and 0.5; got {options.test_size}")
    if options.time_column is not None:
        order = _time_order(frame, options.time_column, first_row)
        cut = round(n * (1 - options.test_size))
        train, test = np.sort(order[:cut]), np.sort(order[cut:])
        for part, idx in (("training", train), ("test", test)):
            bads = int(y[idx].sum())
            if min(bads, len(idx) - bads) < MIN_CLASS_PER_PART:
                raise _fail(
                    target,
                    f"the time-based {part} part has {bads} bad and {len(idx) - bads} good "
                    f"rows; each part needs at least {MIN_CLASS_PER_PART} of each",
                )
        times = frame[options.time_column].tolist()
        return _Split(
            "time-holdout",
            [(train, test)],
            {
                "time_column": options.time_column,
                "test_size": options.test_size,
                "train_until": str(times[order[cut - 1]]),
                "test_from": str(times[order[cut]]),
            },
        )
    need = math.ceil(MIN_CLASS_PER_PART / min(options.test_size, 1 - options.test_size))
    if min(n_bad, n_good) < need:
        raise _fail(
            target,
            f"{n_bad} bad and {n_good} good rows; a {options.test_size:.0%} holdout needs at "
            f"least {need} of each (each part holds {MIN_CLASS_PER_PART})",
        )
    train, test = train_test_split(
        np.arange(n), test_size=options.test_size, stratify=y, random_state=options.seed
    )
    return _Split(
        "stratified-holdout",
        [(np.sort(train).astype(np.int64), np.sort(test).astype(np.int64))],
        {"test_size": options.test_size, "seed": options.seed},
    )


def _evaluate(
    x: pd.DataFrame,
    y: IntArray,
    kinds: Mapping[str, Kind],
    train: IntArray,
    test: IntArray,
    options: TrainOptions,
) -> tuple[Any, dict[str, Any], FloatArray]:
    xtr, xte = x.iloc[train].reset_index(drop=True), x.iloc[test].reset_index(drop=True)
    scorecard = _fit_scorecard(xtr, y[train], kinds, options)
    with _quiet():
        s_tr = np.asarray(scorecard.score(xtr), dtype=np.float64)
        s_te = np.asarray(scorecard.score(xte), dtype=np.float64)
        pd_te = np.asarray(scorecard.predict_proba(xte)[:, 1], dtype=np.float64)
    baseline = _fit_baseline(xtr, y[train], kinds)
    metrics: dict[str, Any] = {
        **_discrimination(y[test], s_te),
        "train_auc": _discrimination(y[train], s_tr)["auc"],
        "baseline_logistic_auc": float(roc_auc_score(y[test], _baseline_pd(baseline, xte, kinds))),
        "psi": psi(s_tr, s_te),
        "train_rows": len(train),
        "test_rows": len(test),
        "test_bads": int(y[test].sum()),
    }
    return scorecard, metrics, pd_te


def train(
    data: Data,
    target: str,
    bad: object | None = None,
    options: TrainOptions | None = None,
    *,
    columns: Sequence[str] | None = None,
    first_row: int = 1,
) -> TrainedModel:
    """Train and evaluate a scorecard. ``data``: a DataFrame or rows (mappings; give
    ``columns`` so absent columns are told from empty ones). ``bad``: the target's value
    that means bad (default: the target is 0/1, 1 = bad). ``first_row``: the number of the
    first row in error messages (2 for a CSV file under its header)."""
    options = options or TrainOptions()
    started = time.perf_counter()
    frame = _frame(data, columns)
    skip = {target, options.id_column, options.time_column} - {None}
    features = (
        list(options.features)
        if options.features is not None
        else [str(c) for c in frame.columns if c not in skip and c not in options.exclude]
    )
    _require(
        frame,
        [target, *features, *options.categorical, *sorted(str(c) for c in skip if c != target)],
        "named for training",
    )
    clash = sorted(set(features) & skip)
    if clash:
        raise _fail(clash[0], "the target, id and time columns cannot be features")
    if not features:
        raise _fail("features", "no feature columns left to train on")
    kinds: dict[str, Kind] = {
        f: "categorical" if f in options.categorical or not _looks_numeric(frame[f]) else "numeric"
        for f in features
    }
    y = _target(frame, target, bad, first_row)
    x = _features_matrix(frame, features, kinds, first_row)
    split = _split(frame, y, target, options, first_row)

    if split.method == "stratified-kfold":
        per_fold = []
        oof_pd = np.zeros(len(y))
        for train_idx, test_idx in split.parts:
            _, m, pd_te = _evaluate(x, y, kinds, train_idx, test_idx, options)
            per_fold.append(m)
            oof_pd[test_idx] = pd_te
        keys = ("auc", "ks", "gini", "train_auc", "baseline_logistic_auc", "psi")
        metrics: dict[str, Any] = {k: float(np.mean([m[k] for m in per_fold])) for k in keys}
        metrics["folds"] = per_fold
        calibration = calibration_table(y, oof_pd)
        scorecard = _fit_scorecard(x, y, kinds, options)  # the model kept: refit on all rows
        split.detail["model_fitted_on"] = "all rows (the metrics are the folds' means)"
    else:
        train_idx, test_idx = split.parts[0]
        scorecard, metrics, pd_te = _evaluate(x, y, kinds, train_idx, test_idx, options)
        calibration = calibration_table(y[test_idx], pd_te)
        split.detail["model_fitted_on"] = "the training part only"

    factor = options.pdo / math.log(2)
    card: dict[str, Any] = {
        "format": FORMAT,
        "target": {
            "column": target,
            "bad": "1" if bad is None else _label(bad),
            "rule": "rows whose target equals the bad value are bad (1); all others good",
        },
        "columns": {
            "features": features,
            "kinds": kinds,
            "id_column": options.id_column,
            "time_column": options.time_column,
        },
        "data": {"rows": len(y), "bads": int(y.sum()), "bad_rate": float(y.mean())},
        "split": {"method": split.method, **split.detail},
        "scaling": {
            "method": "pdo_odds",
            "pdo": options.pdo,
            "odds": options.odds,
            "points": options.points,
            "factor": factor,
            "offset": options.points - factor * math.log(options.odds),
            "rounding": "whole points per bin",
        },
        "binning": {"monotonic_trend": options.monotonic_trend, "library": "optbinning"},
        "metrics": metrics,
        "calibration": calibration,
        "points_table": [],
        "versions": _versions(),
        "trained_at": utcnow().isoformat(),
        "training_seconds": 0.0,
    }
    model = TrainedModel(scorecard, card)
    card["points_table"] = _points_table(scorecard, model._variables)
    card["training_seconds"] = round(time.perf_counter() - started, 3)
    return model
