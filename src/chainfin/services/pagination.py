"""Cursor pagination over time-ordered ids: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.text import check_text

T = TypeVar("T")
R = TypeVar("R")
MAX_LIMIT = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    if len(cursor) > 400 or not cursor.isascii():
        raise ValidationFailed(
            [FieldError("cursor", "is not a cursor this API issued")], code="cursor_invalid"
        )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            [FieldError("cursor", "is not a cursor this API issued")], code="cursor_invalid"
        ) from None
    if not raw or len(raw) > 200 or check_text(raw) is not None:
        # the API issues cursors of ids, codes and names, stored text: never a control
        # character (PostgreSQL could not even compare a NUL)
        raise ValidationFailed(
            [FieldError("cursor", "is not a cursor this API issued")], code="cursor_invalid"
        )
    return raw


def check_period(
    start: date | datetime | None,
    end: date | datetime | None,
    *,
    names: tuple[str, str] = ("since", "until"),
) -> None:
    """Refuse a list filter's range that ends before it starts (``names``: the two query
    parameters), as a 422 ``period_invalid`` naming the end."""
    if start is not None and end is not None and end < start:
        raise ValidationFailed(
            [FieldError(names[1], f"is before {names[0]} ({start.isoformat()})")],
            code="period_invalid",
        )


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            [FieldError("limit", f"must be between 1 and {MAX_LIMIT}")], code="limit_out_of_range"
        )
    return limit


def paginate(
    session: Session,
    query: Select[Any],
    key: InstrumentedAttribute[str],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Page[R]:
    """One page of ``query`` in ascending ``key`` order (a unique, time-ordered id), starting
    after ``cursor``; ``descending``: newest first. The cursor is opaque to clients and
    stable under inserts."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    if after:
        query = query.where(key < after if descending else key > after)
    order = key.desc() if descending else key
    rows: list[R] = list(session.scalars(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(getattr(rows[-1], key.key)) if more and rows else None)


def page_of(
    items: Sequence[T], key: Callable[[T], str], *, cursor: str | None, limit: int
) -> Page[T]:
    """One page of a list computed in memory (a reference table, matched trade cases), in
    ascending ``key`` order (unique per item), starting after ``cursor``, with the same
    opaque cursors as :func:`paginate`."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    ordered = sorted(items, key=key)
    rest = [i for i in ordered if after is None or key(i) > after]
    page = rest[:limit]
    return Page(page, encode_cursor(key(page[-1])) if len(rest) > limit else None)
