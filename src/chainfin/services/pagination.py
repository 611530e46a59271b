"""Cursor pagination over time-ordered ids: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from chainfin.domain.errors import FieldError, ValidationFailed

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
        raise ValidationFailed([FieldError("cursor", "is not a cursor this API issued")])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        raise ValidationFailed([FieldError("cursor", "is not a cursor this API issued")]) from None
    if not raw or len(raw) > 200:
        raise ValidationFailed([FieldError("cursor", "is not a cursor this API issued")])
    return raw


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed([FieldError("limit", f"must be between 1 and {MAX_LIMIT}")])
    return limit


def paginate(
    session: Session,
    query: Select[Any],
    key: InstrumentedAttribute[str],
    *,
    cursor: str | None,
    limit: int,
) -> Page[R]:
    """One page of ``query`` in ascending ``key`` order (a unique, time-ordered id), starting
    after ``cursor``. The cursor is opaque to clients and stable under inserts."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    if after:
        query = query.where(key > after)
    rows: list[R] = list(session.scalars(query.order_by(key).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(getattr(rows[-1], key.key)) if more and rows else None)
