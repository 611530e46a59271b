"""DebtRank: how much of a network's economic value a shock to some firms puts in distress.

Reference: S. Battiston, M. Puliga, R. Kaushik, P. Tasca, G. Caldarelli, "DebtRank: Too
Central to Fail? Financial Networks, the FED and Systemic Risk", *Scientific Reports* 2, 541
(2012), doi:10.1038/srep00541.

The model, exactly as implemented here:

- Nodes ``i`` (firms) have equity ``E_i > 0`` and economic value ``V_i >= 0``; the relative
  value is ``v_i = V_i / sum(V)`` (so ``sum(v) = 1``; at least one value must be positive).
- ``A_ij >= 0`` is ``i``'s exposure to ``j`` (``i`` is the *holder*, ``j`` the *counterparty*;
  parallel edges are summed first). The impact of ``j`` on ``i`` is
  ``W_ij = min(1, A_ij / E_i)``: the fraction of ``i``'s equity lost if ``j`` fails outright.
- Each node has a distress ``h_i`` in ``[0, 1]`` and a state ``s_i`` in {Undistressed,
  Distressed, Inactive}. At ``t = 1``: ``h_i(1) = psi_i`` (the shock, a fraction in
  ``(0, 1]``, for shocked nodes; 0 otherwise), ``s_i(1) = D`` if ``h_i(1) > 0`` else ``U``.
- For ``t >= 2``:
  ``h_i(t) = min(1, h_i(t-1) + sum_{j : s_j(t-1) = D} W_ij * h_j(t-1))`` for every node (an
  inactive node's distress can still grow); then a node that was ``D`` at ``t-1`` becomes
  ``I``, and an undistressed node with ``h_i(t) > 0`` becomes ``D``. Inactive stays inactive.
  So each node passes distress on exactly once, in the round after it became distressed:
  there is no reverberation around cycles (the paper's rule). Stop at the first ``T`` with
  no distressed node.
- DebtRank ``R = sum_i h_i(T) v_i - sum_i h_i(1) v_i``: the loss the shock caused beyond
  itself. ``total = sum_i h_i(T) v_i`` includes the shock. ``0 <= R <= 1 - sum_i psi_i v_i``.

``rounds`` is the number of times ``t`` at which some node was distressed (``T - 1``): 1 when
the shocked firms pass distress to no one, 2 when their holders were hit and passed it to no
one, and so on.

Decisions beyond the paper:

- Self-loops (a firm exposed to itself) are **refused** with the row named: the paper's
  network has none, and under the rule above a self-exposure would amplify the firm's own
  shock once, which no balance sheet means.
- Edges with exposure 0 are accepted and carry nothing. Nodes nobody is exposed to are fine.
- Monotone in the shock *for the same shocked firms* (raising any ``psi_i`` never lowers any
  ``h``), but shocking an *additional* firm can lower some ``h``: a shocked firm is inactive
  from ``t = 2`` and so never passes on the distress it later receives.

The propagation holds the impact matrix column-wise (CSC: column ``j`` lists the holders
exposed to ``j``), so each round touches only the edges into the newly distressed nodes'
holders: a run costs ``O(nodes + edges reached)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse

from chainfin.domain.errors import FieldError, ValidationFailed

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]

NODE_COLUMNS: Final = ("id", "equity", "value")
EDGE_COLUMNS: Final = ("holder", "counterparty", "exposure")
MAX_ERRORS: Final = 100  # stop collecting after this many, so a wrong file is reported quickly

UNDISTRESSED: Final = 0
DISTRESSED: Final = 1
INACTIVE: Final = 2


class _TooMany(Exception):
    pass


class _Errors:
    """Collects field errors; stops the scan (with a final note) after ``MAX_ERRORS``."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, reason: str, row: int | None = None) -> None:
        self.items.append(FieldError(field, reason, row))
        if len(self.items) >= MAX_ERRORS:
            self.items.append(FieldError(field, f"stopped after {MAX_ERRORS} errors", row))
            raise _TooMany

    def raise_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


def _number(raw: object) -> float | str:
    """The value as a finite float, or the reason it is not one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "is required"
    if isinstance(raw, bool):
        return f"is not a number: {raw!r}"
    if isinstance(raw, str):
        try:
            x = float(raw.strip())
        except ValueError:
            return f"is not a number: {raw.strip()!r}"
    elif isinstance(raw, Real):
        x = float(raw)
    else:
        return f"is not a number: {raw!r}"
    if not math.isfinite(x):
        return f"must be a finite number, got {raw!r}"
    return x


def _total_value_problem(total: float) -> str | None:
    if total == 0:
        return "all values are 0; at least one must be >0"
    if not math.isfinite(total):
        return "the values sum to more than a float can hold; use a larger unit"
    return None


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    s = str(raw).strip()
    return s or None


@dataclass(frozen=True, eq=False)
class Network:
    """A validated network: ``impact`` is ``W`` (``W[i, j] = min(1, A_ij / E_i)``) held
    column-wise as a ``scipy.sparse.csc_array``. Build it with :meth:`from_rows` or
    :meth:`from_arrays`; its arrays are read-only."""

    ids: tuple[str, ...]
    equity: FloatArray
    value: FloatArray
    impact: Any  # scipy.sparse.csc_array (scipy ships no type information)
    index: Mapping[str, int]

    @property
    def n_nodes(self) -> int:
        return len(self.ids)

    @property
    def n_links(self) -> int:
        """Distinct (holder, counterparty) pairs with a positive impact."""
        return int(self.impact.nnz)

    @property
    def relative_value(self) -> FloatArray:
        out: FloatArray = self.value / self.value.sum()
        return out

    @classmethod
    def from_rows(
        cls,
        nodes: Iterable[Mapping[str, object]],
        edges: Iterable[Mapping[str, object]],
        *,
        first_row: int = 1,
        nodes_source: str = "nodes",
        edges_source: str = "edges",
    ) -> Network:
        """Nodes ``{id, equity, value}`` and edges ``{holder, counterparty, exposure}`` (values
        may be strings, as read from CSV). Errors name ``"{source}:{column}"`` and the row,
        counting the first row of each iterable as ``first_row`` (2 for a CSV with a header)."""
        errs = _Errors()
        ids: list[str] = []
        equity: list[float] = []
        value: list[float] = []
        seen: dict[str, int] = {}
        holder: list[int] = []
        counterparty: list[int] = []
        exposure: list[float] = []
        try:
            for row_no, row in enumerate(nodes, start=first_row):
                nid = _text(row.get("id"))
                eq = _number(row.get("equity"))
                val = _number(row.get("value"))
                if nid is None:
                    errs.add(f"{nodes_source}:id", "is required", row_no)
                elif nid in seen:
                    errs.add(f"{nodes_source}:id", f"duplicate of row {seen[nid]}", row_no)
                if isinstance(eq, str):
                    errs.add(f"{nodes_source}:equity", eq, row_no)
                elif eq <= 0:
                    errs.add(f"{nodes_source}:equity", f"must be positive, got {eq:g}", row_no)
                if isinstance(val, str):
                    errs.add(f"{nodes_source}:value", val, row_no)
                elif val < 0:
                    errs.add(f"{nodes_source}:value", f"must not be negative, got {val:g}", row_no)
                if nid is not None and nid not in seen:
                    seen[nid] = row_no
                    ids.append(nid)
                    equity.append(eq if isinstance(eq, float) else math.nan)
                    value.append(val if isinstance(val, float) else math.nan)
            if not ids and not errs.items:
                errs.add(nodes_source, "no nodes")
            index = {nid: k for k, nid in enumerate(ids)}
            for row_no, row in enumerate(edges, start=first_row):
                ends: list[int] = []
                for column in ("holder", "counterparty"):
                    ref = _text(row.get(column))
                    if ref is None:
                        errs.add(f"{edges_source}:{column}", "is required", row_no)
                    elif ref not in index:
                        reason = f"{ref!r} is not a node in {nodes_source}"
                        errs.add(f"{edges_source}:{column}", reason, row_no)
                    else:
                        ends.append(index[ref])
                amount = _number(row.get("exposure"))
                if isinstance(amount, str):
                    errs.add(f"{edges_source}:exposure", amount, row_no)
                elif amount < 0:
                    reason = f"must not be negative, got {amount:g}"
                    errs.add(f"{edges_source}:exposure", reason, row_no)
                if len(ends) == 2 and ends[0] == ends[1]:
                    reason = "is the holder itself: self-exposures are refused"
                    errs.add(f"{edges_source}:counterparty", reason, row_no)
                if len(ends) == 2 and isinstance(amount, float):
                    holder.append(ends[0])
                    counterparty.append(ends[1])
                    exposure.append(amount)
        except _TooMany:
            pass
        errs.raise_any()
        if problem := _total_value_problem(sum(value)):
            raise ValidationFailed(
                [FieldError(f"{nodes_source}:value", problem)], code="network_file_invalid"
            )
        return cls._build(
            tuple(ids),
            np.asarray(equity, dtype=np.float64),
            np.asarray(value, dtype=np.float64),
            np.asarray(holder, dtype=np.int64),
            np.asarray(counterparty, dtype=np.int64),
            np.asarray(exposure, dtype=np.float64),
            index,
        )

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str],
        equity: npt.ArrayLike,
        value: npt.ArrayLike,
        holder: npt.ArrayLike,
        counterparty: npt.ArrayLike,
        exposure: npt.ArrayLike,
    ) -> Network:
        """The vectorised constructor: ``holder`` and ``counterparty`` are node positions
        (0-based indexes into ``ids``). Errors name ``nodes:…`` / ``edges:…`` and the 1-based
        row (position + 1)."""
        errs = _Errors()
        eq = np.asarray(equity, dtype=np.float64)
        val = np.asarray(value, dtype=np.float64)
        hold = np.asarray(holder)
        cp = np.asarray(counterparty)
        amt = np.asarray(exposure, dtype=np.float64)
        n = len(ids)
        try:
            if n == 0:
                errs.add("nodes", "no nodes")
            if eq.shape != (n,) or val.shape != (n,):
                errs.add("nodes", f"equity and value must each have {n} entries, one per id")
            m = amt.shape[0] if amt.ndim == 1 else -1
            if m < 0 or hold.shape != (m,) or cp.shape != (m,):
                errs.add("edges", "holder, counterparty and exposure must be equally long 1-D")
            for arr, name in ((hold, "holder"), (cp, "counterparty")):
                if arr.size and not np.issubdtype(arr.dtype, np.integer):
                    errs.add(f"edges:{name}", "must be integer node positions")
            errs.raise_any()
            seen: dict[str, int] = {}
            for k, nid in enumerate(ids):
                if not isinstance(nid, str) or not nid.strip():
                    errs.add("nodes:id", "is required", k + 1)
                elif nid in seen:
                    errs.add("nodes:id", f"duplicate of row {seen[nid]}", k + 1)
                else:
                    seen[nid] = k + 1
            checks: list[tuple[str, npt.NDArray[np.bool_], str]] = [
                ("nodes:equity", ~(np.isfinite(eq) & (eq > 0)), "must be positive and finite"),
                ("nodes:value", ~(np.isfinite(val) & (val >= 0)), "must be >= 0 and finite"),
                ("edges:holder", (hold < 0) | (hold >= n), f"is not a node position 0..{n - 1}"),
                ("edges:counterparty", (cp < 0) | (cp >= n), f"is not a node position 0..{n - 1}"),
                ("edges:counterparty", hold == cp, "is the holder itself: self-exposures refused"),
                ("edges:exposure", ~(np.isfinite(amt) & (amt >= 0)), "must be >= 0 and finite"),
            ]
            for name, bad, reason in checks:
                for k in np.flatnonzero(bad)[:MAX_ERRORS].tolist():
                    errs.add(name, reason, k + 1)
            errs.raise_any()
            with np.errstate(over="ignore"):
                total = float(val.sum())
            if problem := _total_value_problem(total):
                errs.add("nodes:value", problem)
        except _TooMany:
            pass
        errs.raise_any()
        return cls._build(
            tuple(ids),
            eq.copy(),
            val.copy(),
            hold.astype(np.int64),
            cp.astype(np.int64),
            amt,
            {nid: k for k, nid in enumerate(ids)},
        )

    @classmethod
    def _build(
        cls,
        ids: tuple[str, ...],
        equity: FloatArray,
        value: FloatArray,
        holder: IndexArray,
        counterparty: IndexArray,
        exposure: FloatArray,
        index: Mapping[str, int],
    ) -> Network:
        n = len(ids)
        # COO -> CSC sums parallel (holder, counterparty) edges: A_ij first, then the cap.
        a = sparse.coo_array((exposure, (holder, counterparty)), shape=(n, n)).tocsc()
        a.sum_duplicates()
        # In CSC, indices are row numbers: the holder i of each stored A_ij.
        with np.errstate(over="ignore"):  # a huge A_ij / E_i is capped at 1 anyway
            a.data = np.minimum(1.0, a.data / equity[a.indices])
        a.eliminate_zeros()
        for arr in (equity, value, a.data, a.indices, a.indptr):
            arr.setflags(write=False)
        return cls(ids, equity, value, a, index)


@dataclass(frozen=True)
class Distress:
    """One node's outcome: final distress ``h``, its ``shock`` ``h(1)``, relative value ``v``
    and its share of the loss ``h * v``."""

    id: str
    h: float
    shock: float
    value: float
    loss: float


@dataclass(frozen=True, eq=False)
class Result:
    ids: tuple[str, ...]
    shock: FloatArray  # h(1)
    h: FloatArray  # h(T)
    relative_value: FloatArray
    rounds: int
    debtrank: float  # sum (h(T) - h(1)) v: the loss beyond the shock
    total: float  # sum h(T) v: including the shock
    initial: float  # sum h(1) v: the shock itself

    @property
    def distressed(self) -> int:
        """How many nodes end with ``h > 0`` (the shocked ones included)."""
        return int(np.count_nonzero(self.h > 0))

    def h_of(self, node_id: str) -> float:
        return float(self.h[self.ids.index(node_id)])

    def top(self, n: int) -> list[Distress]:
        """The ``n`` most distressed nodes: highest ``h``, then highest loss, then id."""
        h = self.h.tolist()
        v = self.relative_value.tolist()
        ranked = sorted(
            np.flatnonzero(self.h > 0).tolist(), key=lambda k: (-h[k], -h[k] * v[k], self.ids[k])
        )
        return [
            Distress(
                id=self.ids[k],
                h=float(self.h[k]),
                shock=float(self.shock[k]),
                value=float(self.relative_value[k]),
                loss=float(self.h[k] * self.relative_value[k]),
            )
            for k in ranked[: max(n, 0)]
        ]

    def to_dict(self) -> dict[str, object]:
        shocked = np.flatnonzero(self.shock > 0).tolist()
        return {
            "debtrank": self.debtrank,
            "total": self.total,
            "initial": self.initial,
            "rounds": self.rounds,
            "distressed": self.distressed,
            "shock": {self.ids[k]: float(self.shock[k]) for k in shocked},
            "h": dict(zip(self.ids, self.h.tolist(), strict=True)),
        }


def parse_shocks(specs: Iterable[str], field: str = "shock") -> dict[str, float]:
    """``ID=FRACTION[,ID=FRACTION...]`` (one or more specs) as ``{id: fraction}``. The id is
    everything before the last ``=``; a firm named twice is refused. Ranges are checked by
    :func:`debtrank`."""
    errs: list[FieldError] = []
    out: dict[str, float] = {}
    for spec in specs:
        for part in spec.split(","):
            item = part.strip()
            if not item:
                errs.append(FieldError(field, f"empty item in {spec!r}"))
                continue
            nid, sep, frac = item.rpartition("=")
            nid = nid.strip()
            if not sep or not nid:
                errs.append(FieldError(field, f"{item!r} is not ID=FRACTION"))
                continue
            x = _number(frac)
            if isinstance(x, str):
                errs.append(FieldError(f"{field}[{nid}]", f"fraction {x}"))
            elif nid in out:
                errs.append(FieldError(f"{field}[{nid}]", "is named twice"))
            else:
                out[nid] = x
    if errs:
        raise ValidationFailed(errs)
    return out


def debtrank(network: Network, shocks: Mapping[str, float]) -> Result:
    """Shock the named nodes (``{id: fraction in (0, 1]}``) and propagate by the rules in the
    module docstring."""
    if not shocks:
        raise ValidationFailed(
            [FieldError("shock", "name at least one firm to shock")], code="shock_empty"
        )
    errs: list[FieldError] = []
    psi = np.zeros(network.n_nodes, dtype=np.float64)
    for nid, frac in shocks.items():
        k = network.index.get(nid)
        if k is None:
            errs.append(FieldError(f"shock[{nid}]", "is not a node of the network"))
        x = _number(frac)
        if isinstance(x, str):
            errs.append(FieldError(f"shock[{nid}]", f"fraction {x}"))
        elif not 0 < x <= 1:
            errs.append(FieldError(f"shock[{nid}]", f"fraction must be in (0, 1], got {x:g}"))
        elif k is not None:
            psi[k] = x
    if errs:
        raise ValidationFailed(errs)
    return run(network, psi)


def run(network: Network, psi: npt.ArrayLike) -> Result:
    """:func:`debtrank` with the shock as an array over the nodes (0 = not shocked)."""
    h0 = np.array(psi, dtype=np.float64)
    if h0.shape != (network.n_nodes,) or not np.all((h0 >= 0) & (h0 <= 1)):
        raise ValidationFailed(
            [FieldError("shock", f"must be {network.n_nodes} fractions in [0, 1]")],
            code="shock_invalid",
        )
    if not np.any(h0 > 0):
        raise ValidationFailed(
            [FieldError("shock", "name at least one firm to shock")], code="shock_empty"
        )
    h0.setflags(write=False)
    h, rounds = _propagate(network.impact, h0)
    v = network.relative_value
    return Result(
        ids=network.ids,
        shock=h0,
        h=h,
        relative_value=v,
        rounds=rounds,
        debtrank=float((h - h0) @ v),
        total=float(h @ v),
        initial=float(h0 @ v),
    )


def _propagate(impact: Any, h0: FloatArray) -> tuple[FloatArray, int]:
    indptr: IndexArray = impact.indptr.astype(np.int64)
    holders = impact.indices
    weights = impact.data
    h = h0.copy()
    state = np.zeros(h.size, dtype=np.int8)
    active: IndexArray = np.flatnonzero(h > 0)  # D at t = 1
    state[active] = DISTRESSED
    rounds = 0
    while active.size:
        rounds += 1
        starts = indptr[active]
        lengths = indptr[active + 1] - starts
        n_edges = int(lengths.sum())
        state[active] = INACTIVE  # D at t-1 -> I at t
        if n_edges == 0:
            break
        # Positions of every stored W_ij in the columns j of the distressed nodes.
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        pos = offsets + np.arange(n_edges, dtype=np.int64)
        targets = holders[pos]
        push = weights[pos] * np.repeat(h[active], lengths)  # uses h(t-1), read before writing
        np.add.at(h, targets, push)
        touched = np.unique(targets)
        h[touched] = np.minimum(h[touched], 1.0)
        fresh = touched[(state[touched] == UNDISTRESSED) & (h[touched] > 0)]
        state[fresh] = DISTRESSED
        active = fresh
    h.setflags(write=False)
    return h, rounds
