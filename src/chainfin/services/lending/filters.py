"""What the lending lists filter by, besides state: a party named the way people name it
(a USCC, or the enterprise's id) and ranges of days, inclusive at both ends."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import Enterprise
from chainfin.domain.clock import at_local
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.uscc import check_uscc
from chainfin.services.pagination import check_period


def party_id(session: Session, ref: str, *, field: str | None = None) -> str:
    """The id of the enterprise ``ref`` names (its USCC or id). An unknown enterprise
    matches nothing: a filter never tells whether an enterprise exists. With ``field``, a
    ``ref`` that is neither an enterprise id nor a well-formed USCC is a 422 naming it."""
    ref = ref.strip()
    if ref.startswith("ent_"):
        return ref
    uscc = check_uscc(ref) if len(ref) <= 40 else None  # no huge input in its cache
    if field is not None and (uscc is None or not uscc.valid):
        raise ValidationFailed(
            [FieldError(field, f"{ref[:40]!r} is neither an enterprise id nor a valid USCC")],
            code="enterprise_unknown",
        )
    code = uscc.code if uscc is not None else ref.upper()
    found = session.scalar(select(Enterprise.id).where(Enterprise.uscc == code))
    return found or ref


def days(
    column: Any, start: date | None, end: date | None, *, names: tuple[str, str]
) -> list[ColumnElement[bool]]:
    """``column`` (a date) from ``start`` through ``end``; ``names`` are the two filters'
    names, to report an empty range."""
    check_period(start, end, names=names)
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column <= end)
    return out


def instants(
    column: Any, start: date | None, end: date | None, *, names: tuple[str, str]
) -> list[ColumnElement[bool]]:
    """``column`` (a UTC timestamp) on the business days ``start`` through ``end`` (days in
    China Standard Time, like every business date)."""
    check_period(start, end, names=names)
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(column >= at_local(start))
    if end is not None:
        out.append(column < at_local(end) + timedelta(days=1))
    return out
