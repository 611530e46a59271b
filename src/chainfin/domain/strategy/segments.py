"""The segment tree of each kind of industrial chain (产业链图谱): upstream → midstream →
downstream, each segment a GB/T 4754-2017 division at a stage, some flagged critical (a
segment whose absence or single supplier stops the chain: cells for an EV maker, lithography
equipment for a fab).

The table is ``domain/data/chain_segments.csv`` (kind, kind_zh, kind_en, stage, division,
examples_zh, critical); a bank replaces it with its own by giving a ``segments.csv`` of the
same columns among its strategy inputs (see docs/strategy.md).

A firm sits on the segment of its stage and division. Its stage follows from its position
in the chain: the core and tier-1 suppliers are midstream (assembly and key parts), tier-2
and further suppliers upstream (materials and components), buyers of the core downstream.

>>> [s.division for s in segments_of("pv") if s.critical]
['C38', 'C39', 'C26']
>>> stage_of("upstream", 1), stage_of("upstream", 3), stage_of("core", 0)
('midstream', 'upstream', 'midstream')
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

STAGES = ("upstream", "midstream", "downstream")


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # the chain kind: nev, auto, ic, pv, electronics, appliance, pharma, steel, ...
    stage: str  # upstream | midstream | downstream
    division: str  # GB/T 4754-2017 division, e.g. "C38"
    examples_zh: str
    critical: bool

    @property
    def key(self) -> str:
        return f"{self.stage}:{self.division}"


@dataclass(frozen=True, slots=True)
class ChainKind:
    key: str
    label_zh: str
    label_en: str
    segments: tuple[Segment, ...]


class SegmentTableError(ValueError):
    """A segments table that cannot be used; the message names the row and the field."""


def parse_segments(text: str) -> dict[str, ChainKind]:
    """Chain kinds from a segments CSV; :class:`SegmentTableError` names the first bad row."""
    reader = csv.DictReader(text.splitlines())
    wanted = {"kind", "kind_zh", "kind_en", "stage", "division", "examples_zh", "critical"}
    missing = wanted - set(reader.fieldnames or ())
    if missing:
        raise SegmentTableError(f"segments: missing columns {', '.join(sorted(missing))}")
    labels: dict[str, tuple[str, str]] = {}
    rows: dict[str, list[Segment]] = {}
    seen: set[tuple[str, str, str]] = set()
    for n, row in enumerate(reader, start=2):
        kind, stage, division = row["kind"].strip(), row["stage"].strip(), row["division"].strip()
        if not kind:
            raise SegmentTableError(f"segments row {n}: kind is empty")
        if stage not in STAGES:
            raise SegmentTableError(f"segments row {n}: stage must be one of {', '.join(STAGES)}")
        if not division or len(division) > 3:
            raise SegmentTableError(f"segments row {n}: division must be a GB/T 4754 division")
        critical = row["critical"].strip()
        if critical not in ("0", "1"):
            raise SegmentTableError(f"segments row {n}: critical must be 0 or 1")
        if (kind, stage, division) in seen:
            raise SegmentTableError(f"segments row {n}: {kind} {stage} {division} is repeated")
        seen.add((kind, stage, division))
        labels.setdefault(kind, (row["kind_zh"].strip() or kind, row["kind_en"].strip() or kind))
        rows.setdefault(kind, []).append(
            Segment(kind, stage, division, row["examples_zh"].strip(), critical == "1")
        )
    return {k: ChainKind(k, labels[k][0], labels[k][1], tuple(rows[k])) for k in sorted(rows)}


@cache
def default_kinds() -> dict[str, ChainKind]:
    text = resources.files("chainfin.domain").joinpath("data/chain_segments.csv").read_text("utf-8")
    return parse_segments(text)


def segments_of(kind: str) -> tuple[Segment, ...]:
    found = default_kinds().get(kind)
    return found.segments if found else ()


def stage_of(side: str, tier: int) -> str:
    """The stage of a chain position: ``side`` is core, upstream or downstream."""
    if side == "downstream":
        return "downstream"
    if side == "upstream" and tier >= 2:
        return "upstream"
    return "midstream"
