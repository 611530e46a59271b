"""What the lending lists filter by, besides state: a party named the way people name it
(a USCC, or the enterprise's id) and ranges of days, inclusive at both ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Enterprise
from chainfin.domain.errors import FieldError, ValidationFailed


def party_id(session: Session, ref: str) -> str:
    """The id of the enterprise ``ref`` names (its USCC or id). An unknown enterprise
    matches nothing: a filter never tells whether an enterprise exists."""
    ref = ref.strip()
    if ref.startswith("ent_"):
        return ref
    found = session.scalar(select(Enterprise.id).where(Enterprise.uscc == ref.upper()))
    return found or ref


def days(
    column: Any, start: date | None, end: date | None, *, names: tuple[str, str]
) -> list[ColumnElement[bool]]:
    """``column`` (a date) from ``start`` through ``end``; ``names`` are the two filters'
    names, to report an empty range."""
    _check_range(start, end, names)
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column <= end)
    return out


def instants(
    column: Any, start: date | None, end: date | None, *, names: tuple[str, str]
) -> list[ColumnElement[bool]]:
    """``column`` (a UTC timestamp) on the days ``start`` through ``end`` (UTC days)."""
    _check_range(start, end, names)
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(column >= datetime.combine(start, time.min, UTC))
    if end is not None:
        out.append(column < datetime.combine(end + timedelta(days=1), time.min, UTC))
    return out


def _check_range(start: date | None, end: date | None, names: tuple[str, str]) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed(
            [FieldError(names[1], f"is before {names[0]} ({start})")], code="period_invalid"
        )
