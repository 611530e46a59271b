"""The ranking of a region's chains: entropy weights blended with head office's own (AHP or
direct), TOPSIS closeness per chain, gates that exclude chains, a seeded sensitivity run
giving each chain a rank interval, and the attractiveness × ability-to-win quadrant.

The multi-criteria methods are pymcdm's (``TOPSIS``, ``entropy_weights``, ``AHP``); this
module prepares the decision matrix, guards the cases where they would divide by zero, and
says in words why each chain lands where it does. Definitions: docs/strategy.md, "Ranking".

>>> w = parse_weights('{"direct": {"customer_share": 3, "others": 1}}')
>>> round(subjective_weights(w)[0]["customer_share"], 4)
0.2143
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from chainfin.domain.strategy.criteria import BY_KEY, CRITERIA, Criterion
from chainfin.domain.strategy.display import format_value
from chainfin.domain.strategy.ratings import at_least, is_rating
from chainfin.domain.strategy.results import (
    ChainMeasures,
    Coverage,
    RankedChain,
    Ranking,
    Weights,
)
from chainfin.domain.strategy.segments import ChainKind, default_kinds

CR_LIMIT = 0.1  # Saaty: a pairwise matrix is acceptably consistent when CR < 0.10
RECIPROCAL_TOLERANCE = 1e-6
# Shift of the min-max normalised values before the entropy method, so that no share is 0
# (pymcdm counts a column holding a 0 as entropy 0, i.e. maximally informative).
ENTROPY_SHIFT = 0.01
QUADRANT_SPLIT = 0.5
PERCENTILE_LOW, PERCENTILE_HIGH = 5, 95
SAATY_SCALE = tuple(Fraction(v) for v in range(1, 10)) + tuple(Fraction(1, v) for v in range(2, 10))

Matrix = NDArray[np.float64]
# pymcdm is imported where it is used: importing it loads matplotlib, scipy and pandas
# (about a second), which the CLI and the API need not pay to parse a weights file or
# print a template.


DEFAULT_BLEND = 0.5  # share of head office's weights in the final ones, when it gives any


class WeightsError(ValueError):
    """Head office's weights cannot be used; the message names the key or the cell."""


@dataclass(frozen=True, slots=True)
class Pairwise:
    """AHP pairwise comparisons: ``matrix[i][j]`` says how much more important
    ``criteria[i]`` is than ``criteria[j]`` on Saaty's 1–9 scale."""

    criteria: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class WeightInput:
    """Head office's own weights: ``direct`` (criterion key -> non-negative number, every
    criterion named) or ``pairwise`` comparisons, and optionally the ``blend`` to use.
    Checked on construction (:class:`WeightsError`)."""

    direct: dict[str, float] | None = None
    pairwise: Pairwise | None = None
    blend: float | None = None

    def __post_init__(self) -> None:
        if (self.direct is None) == (self.pairwise is None):
            raise WeightsError('give either "direct" or "pairwise" weights, exactly one')
        if self.blend is not None and not (math.isfinite(self.blend) and 0.0 <= self.blend <= 1.0):
            raise WeightsError(f"blend must be between 0 and 1, got {self.blend}")
        if self.direct is not None:
            _check_direct(self.direct)
        if self.pairwise is not None:
            _ahp(self.pairwise)


@dataclass(frozen=True, slots=True)
class Gates:
    """Conditions that exclude a chain before ranking: its kind restricted by credit policy,
    a midstream segment of its kind (where the cores sit) in a restricted GB/T 4754
    division, or its best core rated below
    ``min_core_rating`` (an unrated core never passes a floor)."""

    restricted_kinds: frozenset[str] = frozenset()
    restricted_divisions: frozenset[str] = frozenset()
    min_core_rating: str | None = None

    def __post_init__(self) -> None:
        if self.min_core_rating is not None and not is_rating(self.min_core_rating):
            raise ValueError(f"min_core_rating {self.min_core_rating!r} is not a rating")


# --- head office's weights ---------------------------------------------------------------


def parse_weights(text: str) -> WeightInput:
    """A weights file (JSON) as a :class:`WeightInput`; :class:`WeightsError` names what is
    wrong. See :func:`weights_template` and docs/strategy.md for the two formats."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WeightsError(f"weights: not JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError:
        raise WeightsError("weights: nested too deeply to be a weights file") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise WeightsError(f"weights: not a weights file ({exc})") from None
    if not isinstance(data, dict):
        raise WeightsError("weights: the file must hold a JSON object")
    unknown = sorted(set(data) - {"direct", "pairwise", "blend"})
    if unknown:
        raise WeightsError(
            f"weights: unknown key {unknown[0]!r} (expected direct, pairwise, blend)"
        )
    blend = data.get("blend")
    if blend is not None and (isinstance(blend, bool) or not isinstance(blend, int | float)):
        raise WeightsError(f"blend must be a number between 0 and 1, got {blend!r}")
    direct = None
    pairwise = None
    if "direct" in data:
        direct = _parse_direct(data["direct"])
    if "pairwise" in data:
        pairwise = _parse_pairwise(data["pairwise"])
    return WeightInput(
        direct=direct, pairwise=pairwise, blend=None if blend is None else float(blend)
    )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WeightsError(f"{where} must be a number, got {str(value)[:20]!r}")
    try:
        number = float(value)
    except OverflowError:
        raise WeightsError(f"{where} is too large a number") from None
    if not math.isfinite(number):
        raise WeightsError(f"{where} must be finite, got {number!r}")
    return number


def _parse_direct(raw: object) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise WeightsError("direct: must be an object of criterion -> weight")
    given = {str(k): _number(v, f"direct.{k}") for k, v in raw.items()}
    others = given.pop("others", None)
    _check_direct(given, partial=others is not None)
    if others is not None:
        if others < 0:
            raise WeightsError(f"direct.others must be 0 or more, got {others:g}")
        for c in CRITERIA:
            given.setdefault(c.key, others)
        _check_direct(given)
    return {c.key: given[c.key] for c in CRITERIA}


def _check_direct(direct: Mapping[str, float], *, partial: bool = False) -> None:
    for key, value in direct.items():
        if key not in BY_KEY:
            raise WeightsError(f"direct: unknown criterion {key!r}")
        if not math.isfinite(value) or value < 0:
            raise WeightsError(f"direct.{key} must be 0 or more, got {value:g}")
    if partial:
        return
    missing = [c.key for c in CRITERIA if c.key not in direct]
    if missing:
        raise WeightsError(
            f"direct: no weight for {', '.join(missing)} (name every criterion, or give "
            '"others": a weight for the ones not named)'
        )
    if not any(v > 0 for v in direct.values()):
        raise WeightsError("direct: at least one weight must be above 0")


# A pairwise cell given as text: a whole number or a fraction of whole numbers of at most
# three digits each ("3", "1/3", "1 / 9"). Nothing else is parsed: ``Fraction("1e20000000")``
# would compute 10**20000000 before the scale check could refuse it.
_CELL_TEXT = re.compile(r"^\s*(\d{1,3})\s*(?:/\s*(\d{1,3})\s*)?$")


def _cell(value: object, where: str) -> float:
    if isinstance(value, str):
        m = _CELL_TEXT.match(value)
        if m is None or (m.group(2) is not None and int(m.group(2)) == 0):
            shown = value if len(value) <= 20 else value[:20] + "…"
            raise WeightsError(f"{where} must be a number or a fraction such as 1/3, got {shown!r}")
        return float(Fraction(int(m.group(1)), int(m.group(2) or 1)))
    return _number(value, where)


def _parse_pairwise(raw: object) -> Pairwise:
    if not isinstance(raw, dict):
        raise WeightsError('pairwise: must be an object with "criteria" and "matrix"')
    unknown = sorted(set(raw) - {"criteria", "matrix"})
    if unknown:
        raise WeightsError(f"pairwise: unknown key {unknown[0]!r} (expected criteria, matrix)")
    criteria = raw.get("criteria")
    matrix = raw.get("matrix")
    if not isinstance(criteria, list) or not all(isinstance(k, str) for k in criteria):
        raise WeightsError("pairwise.criteria must be a list of criterion keys")
    if not isinstance(matrix, list) or not all(isinstance(row, list) for row in matrix):
        raise WeightsError("pairwise.matrix must be a list of rows (lists of numbers)")
    rows = tuple(
        tuple(_cell(v, f"pairwise.matrix[{i}][{j}]") for j, v in enumerate(row))
        for i, row in enumerate(matrix)
    )
    return Pairwise(criteria=tuple(criteria), matrix=rows)


def _check_pairwise(p: Pairwise) -> Matrix:
    n = len(p.criteria)
    for key in p.criteria:
        if key not in BY_KEY:
            raise WeightsError(f"pairwise.criteria: unknown criterion {key!r}")
    repeated = sorted({k for k in p.criteria if p.criteria.count(k) > 1})
    if repeated:
        raise WeightsError(f"pairwise.criteria: {repeated[0]!r} is listed twice")
    if n < 2:
        raise WeightsError("pairwise.criteria: compare at least two criteria")
    if len(p.matrix) != n:
        raise WeightsError(f"pairwise.matrix has {len(p.matrix)} rows for {n} criteria")
    for i, row in enumerate(p.matrix):
        if len(row) != n:
            raise WeightsError(f"pairwise.matrix[{i}] has {len(row)} cells for {n} criteria")
    m = np.array(p.matrix, dtype=float)
    for i in range(n):
        for j in range(n):
            cell = f"pairwise.matrix[{i}][{j}] ({p.criteria[i]} vs {p.criteria[j]})"
            v = float(m[i, j])
            if not math.isfinite(v) or v <= 0:
                raise WeightsError(f"{cell} must be positive, got {v:g}")
            if i == j and abs(v - 1.0) > RECIPROCAL_TOLERANCE:
                raise WeightsError(f"{cell} must be 1 (a criterion against itself), got {v:g}")
            if not any(abs(v - float(s)) <= RECIPROCAL_TOLERANCE for s in SAATY_SCALE):
                raise WeightsError(f"{cell} must be on Saaty's scale 1..9 or 1/2..1/9, got {v:g}")
            if j > i and abs(m[j, i] * v - 1.0) > RECIPROCAL_TOLERANCE:
                raise WeightsError(
                    f"pairwise.matrix[{j}][{i}] must be 1/{v:g} (the reciprocal of "
                    f"pairwise.matrix[{i}][{j}]), got {float(m[j, i]):g}"
                )
    return m


def _ahp(p: Pairwise) -> tuple[dict[str, float], float]:
    """AHP weights of the listed criteria and the consistency ratio; refuses CR >= 0.1."""
    m = _check_pairwise(p)
    # Snap cells to the exact scale values (a file may say 0.333333 for 1/3).
    snapped = np.vectorize(lambda v: float(min(SAATY_SCALE, key=lambda s: abs(float(s) - v))))(m)
    from pymcdm.weights.subjective import AHP  # type: ignore[import-untyped]

    ahp = AHP(matrix=snapped)
    w = np.asarray(ahp(), dtype=float)
    cr = float(ahp.get_cr())
    if cr >= CR_LIMIT:
        raise WeightsError(
            f"pairwise comparisons are inconsistent: consistency ratio CR = {cr:.3f} "
            f"(AHP needs CR < {CR_LIMIT:.2f}); revise the comparisons"
        )
    return {k: float(x) for k, x in zip(p.criteria, w, strict=True)}, max(cr, 0.0)


def subjective_weights(w: WeightInput) -> tuple[dict[str, float], str, float | None]:
    """Head office's weights over every criterion (summing to 1), the method ("direct" or
    "ahp") and AHP's consistency ratio. Criteria a pairwise matrix leaves out get 0."""
    if w.pairwise is not None:
        listed, cr = _ahp(w.pairwise)
        return {c.key: listed.get(c.key, 0.0) for c in CRITERIA}, "ahp", cr
    direct = w.direct or {}  # WeightInput guarantees exactly one of the two
    total = sum(direct.values())
    return {c.key: direct.get(c.key, 0.0) / total for c in CRITERIA}, "direct", None


def weights_template() -> str:
    """A weights file to start from: direct weights (edit the numbers; they are normalised)."""
    example: dict[str, object] = {
        "direct": {c.key: (2 if c.group == "ability" else 1) for c in CRITERIA},
        "blend": 0.5,
    }
    return json.dumps(example, indent=2, ensure_ascii=False) + "\n"


# --- gates -------------------------------------------------------------------------------


def gate_messages(
    cm: ChainMeasures, gates: Gates, kinds: Mapping[str, ChainKind]
) -> tuple[str, ...]:
    """Why ``gates`` exclude the chain (empty when they do not)."""
    out: list[str] = []
    if cm.kind in gates.restricted_kinds:
        out.append(f"excluded: chain kind {cm.kind} is restricted")
    kind = kinds.get(cm.kind)
    # The chain's own sector is where its cores sit: the midstream segments. A restricted
    # division among the suppliers (steel sheet for an EV chain) does not make it restricted.
    for seg in kind.segments if kind else ():
        if seg.stage == "midstream" and seg.division in gates.restricted_divisions:
            out.append(
                f"excluded: midstream segment {seg.division} ({seg.examples_zh}) "
                "is in a restricted division"
            )
    if gates.min_core_rating is not None:
        core = cm.measures.get("core_strength")
        rating = core.inputs.get("core_rating") if core else None
        rated = rating if isinstance(rating, str) and is_rating(rating) else None
        if not at_least(rated, gates.min_core_rating):
            shown = f"core rating {rated}" if rated else "core unrated"
            out.append(f"excluded: {shown} below the floor {gates.min_core_rating}")
    return tuple(out)


# --- the decision matrix -----------------------------------------------------------------


@dataclass(slots=True)
class _Problem:
    chains: list[ChainMeasures]
    criteria: list[Criterion]
    raw: Matrix  # chains × criteria, gaps filled
    filled: list[list[str]]  # per chain, the criteria filled with the worst value
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _value(cm: ChainMeasures, key: str) -> float | None:
    m = cm.measures.get(key)
    if m is None or m.value is None or not math.isfinite(m.value):
        return None
    return float(m.value)


def _problem(chains: list[ChainMeasures]) -> _Problem:
    criteria: list[Criterion] = []
    columns: list[list[float]] = []
    filled: list[list[str]] = [[] for _ in chains]
    notes: list[str] = []
    dropped: list[str] = []
    for c in CRITERIA:
        values = [_value(cm, c.key) for cm in chains]
        seen = [v for v in values if v is not None]
        if chains and not seen:
            dropped.append(c.key)
            notes.append(f"{c.label_en} ({c.key}) missing for every chain: left out of the ranking")
            continue
        worst = (min(seen) if c.benefit else max(seen)) if seen else 0.0
        for i, v in enumerate(values):
            if v is None:
                filled[i].append(c.key)
        gaps = [cm.chain_key for cm, v in zip(chains, values, strict=True) if v is None]
        if gaps:
            notes.append(
                f"{c.label_en} ({c.key}) missing for {', '.join(gaps)}: counted at the least "
                "favourable observed value"
            )
        criteria.append(c)
        columns.append([worst if v is None else v for v in values])
    raw = np.array(columns, dtype=float).T if columns and chains else np.zeros((len(chains), 0))
    return _Problem(
        chains, criteria, raw.reshape(len(chains), len(criteria)), filled, notes, dropped
    )


def directional_minmax(raw: Matrix, benefit: Sequence[bool]) -> Matrix:
    """Each column scaled to [0, 1] with 1 the best chain (cost criteria inverted); a column
    with no spread is 0 throughout."""
    out = np.zeros_like(raw, dtype=float)
    if raw.shape[0] == 0:
        return out
    for j, good in enumerate(benefit):
        col = raw[:, j]
        lo, hi = float(col.min()), float(col.max())
        if hi > lo:
            out[:, j] = (col - lo) / (hi - lo) if good else (hi - col) / (hi - lo)
    return out


def entropy(raw: Matrix, benefit: Sequence[bool]) -> NDArray[np.float64]:
    """Entropy weights: min-max by direction, shifted by :data:`ENTROPY_SHIFT`, then pymcdm's
    entropy method over the columns that vary; a column without spread gets 0. When no
    column varies (one chain, or identical chains) the weights are equal."""
    n = raw.shape[1]
    if n == 0:
        return np.zeros(0)
    spread = raw.max(axis=0) > raw.min(axis=0) if raw.shape[0] else np.zeros(n, dtype=bool)
    if raw.shape[0] < 2 or not spread.any():
        return np.full(n, 1.0 / n)
    from pymcdm.weights import entropy_weights  # type: ignore[import-untyped]

    shifted = directional_minmax(raw, benefit)[:, spread] + ENTROPY_SHIFT
    w = np.zeros(n)
    w[spread] = entropy_weights(shifted)
    total = w.sum()
    return w / total if total > 0 else np.where(spread, 1.0 / spread.sum(), 0.0)


def topsis(
    raw: Matrix, weights: NDArray[np.float64], benefit: Sequence[bool]
) -> NDArray[np.float64]:
    """pymcdm TOPSIS closeness (min-max normalisation) per row. Columns without spread or
    weight cannot separate the chains and are left out; when none is left, every chain sits
    on the ideal and scores 1.0."""
    m, n = raw.shape
    if m == 0:
        return np.zeros(0)
    use = (raw.max(axis=0) > raw.min(axis=0)) & (weights > 0) if n else np.zeros(0, dtype=bool)
    if m < 2 or not use.any():
        return np.ones(m)
    w = weights[use] / weights[use].sum()
    types = np.array([1 if b else -1 for b, u in zip(benefit, use, strict=True) if u])
    from pymcdm import normalizations  # type: ignore[import-untyped]
    from pymcdm.methods import TOPSIS  # type: ignore[import-untyped]

    method = TOPSIS(normalization_function=normalizations.minmax_normalization)
    return np.asarray(method(raw[:, use], w, types, validation=False), dtype=float)


def _ranks(scores: NDArray[np.float64], keys: Sequence[str]) -> NDArray[np.int64]:
    """Rank 1 = highest score; ties go to the smaller chain key."""
    order = sorted(range(len(keys)), key=lambda i: (-round(float(scores[i]), 12), keys[i]))
    ranks = np.empty(len(keys), dtype=np.int64)
    for r, i in enumerate(order, start=1):
        ranks[i] = r
    return ranks


def sensitivity(
    raw: Matrix,
    weights: NDArray[np.float64],
    benefit: Sequence[bool],
    keys: Sequence[str],
    *,
    draws: int,
    noise: float,
    seed: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each chain's rank interval: ``draws`` rankings with every weight multiplied by a
    uniform factor in [1 − noise, 1 + noise] (numpy PCG64 seeded with ``seed``) and
    renormalised; the 5th percentile (numpy method "lower") and the 95th ("higher")."""
    base = _ranks(topsis(raw, weights, benefit), keys)
    if draws <= 0 or len(keys) == 0:
        return base, base
    rng = np.random.Generator(np.random.PCG64(seed))
    factors = rng.uniform(1.0 - noise, 1.0 + noise, size=(draws, len(weights)))
    ranks = np.empty((draws, len(keys)), dtype=np.int64)
    for d in range(draws):
        w = weights * factors[d]
        total = w.sum()
        w = w / total if total > 0 else weights
        ranks[d] = _ranks(topsis(raw, w, benefit), keys)
    low = np.percentile(ranks, PERCENTILE_LOW, axis=0, method="lower").astype(np.int64)
    high = np.percentile(ranks, PERCENTILE_HIGH, axis=0, method="higher").astype(np.int64)
    return low, high


def quadrant(attractiveness: float | None, ability: float | None) -> str | None:
    """pursue (both high), build (attractive, weak position), maintain (strong position, less
    attractive), watch (both low); high means >= 0.5."""
    if attractiveness is None or ability is None:
        return None
    attractive = attractiveness >= QUADRANT_SPLIT
    able = ability >= QUADRANT_SPLIT
    if attractive:
        return "pursue" if able else "build"
    return "maintain" if able else "watch"


# --- reasons -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Why:
    text: str
    strongest: tuple[str, ...] = ()
    weakest: str | None = None
    filled: tuple[str, ...] = ()


def _reason(p: _Problem, i: int, norm: Matrix, weights: NDArray[np.float64]) -> _Why:
    cm = p.chains[i]
    if not p.criteria:
        return _Why("no criterion could be measured")
    if len(p.chains) == 1:
        return _Why("the only chain left to rank: nothing to compare it with")

    def show(j: int) -> str:
        c = p.criteria[j]
        m = cm.measures.get(c.key)
        unit = m.unit if m else "index"
        return f"{c.label_en} {format_value(float(p.raw[i, j]), unit)}"

    # Only criteria that tell the chains apart can be a reason: a criterion on which every
    # chain has the same value (all 0, say) is neither a strength nor a weakness.
    telling = [j for j in range(len(p.criteria)) if np.ptp(p.raw[:, j]) > 0]
    contrib = norm[i] * weights
    strongest = sorted(telling, key=lambda j: (-contrib[j], j))[:2]
    strongest = [j for j in strongest if contrib[j] > 0]
    weighted = [j for j in telling if weights[j] > 0] or telling
    # The weakest is another criterion than the strongest ones, and one on which the chain
    # is not the best of all (a chain best on everything names no weakness).
    others = [j for j in weighted if j not in strongest and norm[i, j] < 1.0]
    weakest = min(others, key=lambda j: (norm[i, j], -weights[j], j)) if others else None
    parts = []
    if strongest:
        parts.append("strongest " + " and ".join(show(j) for j in strongest))
    else:
        parts.append("no criterion above the weakest chain")
    if weakest is not None:
        parts.append(f"weakest {show(weakest)}")
    if p.filled[i]:
        names = ", ".join(BY_KEY[k].label_en for k in p.filled[i])
        parts.append(f"{names} missing, counted at the worst observed value")
    return _Why(
        "; ".join(parts),
        tuple(p.criteria[j].key for j in strongest),
        p.criteria[weakest].key if weakest is not None else None,
        tuple(p.filled[i]),
    )


# --- the ranking -------------------------------------------------------------------------


def _group_score(p: _Problem, final: NDArray[np.float64], group: str) -> NDArray[np.float64] | None:
    idx = [j for j, c in enumerate(p.criteria) if c.group == group]
    if not idx:
        return None
    w = final[idx]
    w = w / w.sum() if w.sum() > 0 else np.full(len(idx), 1.0 / len(idx))
    return topsis(p.raw[:, idx], w, [p.criteria[j].benefit for j in idx])


def rank(
    measures: Sequence[ChainMeasures],
    *,
    region: str,
    as_of: date,
    weights: WeightInput | None = None,
    blend: float | None = None,
    gates: Gates = Gates(),
    draws: int = 500,
    noise: float = 0.2,
    seed: int = 17,
    coverage: Coverage | None = None,
    kinds: Mapping[str, ChainKind] | None = None,
) -> Ranking:
    """Rank the chains (see the module docstring and docs/strategy.md). ``blend`` given
    here wins over a blend in ``weights``, which wins over :data:`DEFAULT_BLEND`.
    ``kinds`` is the segment table the division gate reads (default: the platform's)."""
    if blend is None:  # an explicit blend wins; else the weights file's; else DEFAULT_BLEND
        blend = (
            weights.blend if weights is not None and weights.blend is not None else DEFAULT_BLEND
        )
    if not (0.0 <= blend <= 1.0):
        raise WeightsError(f"blend must be between 0 and 1, got {blend}")
    if not (0.0 <= noise < 1.0):
        raise ValueError(f"noise must be in [0, 1), got {noise}")
    table = kinds if kinds is not None else default_kinds()
    gated = {cm.chain_key: gate_messages(cm, gates, table) for cm in measures}
    eligible = sorted((cm for cm in measures if not gated[cm.chain_key]), key=lambda c: c.chain_key)
    excluded = sorted((cm for cm in measures if gated[cm.chain_key]), key=lambda c: c.chain_key)
    p = _problem(eligible)
    benefit = [c.benefit for c in p.criteria]
    keys = [c.key for c in p.criteria]
    ent = entropy(p.raw, benefit)

    record = _blend(p, ent, weights, blend)
    final = np.array([record.final[k] for k in keys], dtype=float)

    scores = topsis(p.raw, final, benefit)
    ranks = _ranks(scores, [cm.chain_key for cm in eligible])
    low, high = sensitivity(
        p.raw,
        final,
        benefit,
        [cm.chain_key for cm in eligible],
        draws=draws,
        noise=noise,
        seed=seed,
    )
    attr = _group_score(p, final, "attractiveness")
    able = _group_score(p, final, "ability")
    norm = directional_minmax(p.raw, benefit)

    ranked = []
    for i, cm in enumerate(eligible):
        a = float(attr[i]) if attr is not None else None
        b = float(able[i]) if able is not None else None
        why = _reason(p, i, norm, final)
        ranked.append(
            RankedChain(
                chain_key=cm.chain_key,
                name=cm.name,
                kind=cm.kind,
                score=float(scores[i]),
                rank=int(ranks[i]),
                rank_low=int(low[i]),
                rank_high=int(high[i]),
                attractiveness=a,
                ability=b,
                quadrant=quadrant(a, b),
                reason=why.text,
                strongest=why.strongest,
                weakest=why.weakest,
                filled=why.filled,
            )
        )
    ranked.sort(key=lambda r: r.rank or 0)
    out = ranked + [
        RankedChain(
            chain_key=cm.chain_key,
            name=cm.name,
            kind=cm.kind,
            score=None,
            rank=None,
            rank_low=None,
            rank_high=None,
            attractiveness=None,
            ability=None,
            quadrant=None,
            excluded_by=gated[cm.chain_key],
            reason="; ".join(gated[cm.chain_key]),
        )
        for cm in excluded
    ]
    if not eligible:
        p.notes.append("no chain left to rank" if measures else "no chains in the region")
    return Ranking(
        region=region,
        as_of=as_of,
        criteria=tuple(keys),
        weights=record,
        chains=tuple(out),
        draws=draws,
        noise=noise,
        seed=seed,
        coverage=_coverage(p, coverage),
    )


def _blend(
    p: _Problem, ent: NDArray[np.float64], weights: WeightInput | None, blend: float
) -> Weights:
    """final = blend × subjective + (1 − blend) × entropy, renormalised; the subjective
    weights restricted to the criteria used and renormalised first."""
    keys = [c.key for c in p.criteria]
    entropy_by_key = {k: float(v) for k, v in zip(keys, ent, strict=True)}
    if weights is None:
        return Weights(entropy_by_key, None, None, None, 0.0, dict(entropy_by_key))
    full, method, cr = subjective_weights(weights)
    sub = np.array([full[k] for k in keys], dtype=float)
    if sub.sum() > 0:
        sub = sub / sub.sum()
    else:
        p.notes.append("head office's weights name only criteria left out: entropy weights used")
    mixed = blend * sub + (1.0 - blend) * ent
    final = mixed / mixed.sum() if mixed.sum() > 0 else ent
    return Weights(
        entropy=entropy_by_key,
        subjective={k: float(v) for k, v in zip(keys, sub, strict=True)},
        subjective_method=method,
        consistency_ratio=cr,
        blend=blend,
        final={k: float(v) for k, v in zip(keys, final, strict=True)},
    )


def _coverage(p: _Problem, given: Coverage | None) -> Coverage:
    cells = len(p.chains) * len(CRITERIA)
    gaps = sum(len(f) for f in p.filled) + len(p.chains) * len(p.dropped)
    share = (cells - gaps) / cells if cells else 0.0
    if given is not None:
        return Coverage(
            share=given.share,
            inputs_present=given.inputs_present,
            inputs_missing=given.inputs_missing,
            notes=given.notes + tuple(p.notes),
        )
    return Coverage(
        share=share,
        inputs_present=tuple(c.key for c in p.criteria),
        inputs_missing=tuple(p.dropped),
        notes=tuple(p.notes),
    )
