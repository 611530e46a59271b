"""Cursor pagination over time-ordered ids: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from chainfin.domain.errors import FieldError, ValidationFailed

T = TypeVar("T")
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
