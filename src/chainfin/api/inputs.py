"""The API's input rules in one place (docs/security.md, "Input").

Request bodies derive from :class:`Input`: unknown fields are refused, and every value is
checked after pydantic has parsed it — text against ``domain.text`` (single-line unless the
field is one of ``MULTILINE``), dates against the business-date range, instants for a UTC
offset and range (``domain.bounds``). Query and path parameters use the annotated types
below. Amounts are decimal strings; :func:`money` parses one with its currency and names
the field when it is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from chainfin.domain.bounds import INT64_MAX, check_business_date, check_instant
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.text import check_text

# Free text where a person may write several lines; every other text field is one line.
MULTILINE = frozenset({"note", "reason", "findings", "description", "comment"})


def _refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError("unsafe_input", "{reason}", {"reason": reason})


def tree_problems(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every value inside free-form JSON that may not be stored, as (path, reason): text
    against ``domain.text`` (multi-line allowed; keys single-line), numbers that are not
    finite (Python's JSON reader takes ``NaN`` and ``Infinity``, which no JSON column can
    hold) or beyond a 64-bit integer."""
    where = path or "value"
    if isinstance(value, str):
        if (reason := check_text(value, multiline=True)) is not None:
            yield where, reason
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield where, f"{value!r} is not a finite number"
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > INT64_MAX:
            yield where, "is beyond a 64-bit integer"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            reason = check_text(key) if isinstance(key, str) else None
            name = str(key) if reason is None else ascii(key)  # never echo what was refused
            inner = f"{path}.{name}" if path else name
            if reason is not None:
                yield inner, f"the key: {reason}"
            yield from tree_problems(item, inner)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from tree_problems(item, f"{path}[{i}]")


def _check(value: Any, *, multiline: bool, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if isinstance(value, str):
        if (reason := check_text(value, multiline=multiline)) is not None:
            raise _refuse(prefix + reason)
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > INT64_MAX:
            raise _refuse(prefix + "is beyond a 64-bit integer")
    elif isinstance(value, datetime):
        if (reason := check_instant(value)) is not None:
            raise _refuse(prefix + reason)
    elif isinstance(value, date):
        if (reason := check_business_date(value)) is not None:
            raise _refuse(prefix + reason)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse(prefix + f"{value!r} is not a finite number")
    elif isinstance(value, Mapping):
        # free-form objects (product configuration, pricing, a checklist, model rows)
        for path, reason in tree_problems(value):
            raise _refuse(f"{where}.{path}: {reason}" if where else f"{path}: {reason}")
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            _check(item, multiline=multiline, where=f"{where}[{i}]" if where else f"[{i}]")


class Input(BaseModel):
    """Base of every request body: unknown fields refused, every value checked (text,
    dates, instants, and integers within 64 bits)."""

    model_config = ConfigDict(extra="forbid")
    multiline: ClassVar[frozenset[str]] = MULTILINE

    @field_validator("*", mode="after")
    @classmethod
    def _safe(cls, value: Any, info: ValidationInfo) -> Any:
        _check(value, multiline=info.field_name in cls.multiline)
        return value


def _business_date(value: date | None) -> date | None:
    if value is not None and (reason := check_business_date(value)) is not None:
        raise _refuse(reason)
    return value


def _instant(value: datetime | None) -> datetime | None:
    if value is not None and (reason := check_instant(value)) is not None:
        raise _refuse(reason)
    return value


def _one_line(value: str | None) -> str | None:
    if value is not None and (reason := check_text(value)) is not None:
        raise _refuse(reason)
    return value


BusinessDate = Annotated[date, AfterValidator(_business_date)]
Instant = Annotated[datetime, AfterValidator(_instant)]
Name = Annotated[str, AfterValidator(_one_line)]
# A position or size in the ledger (or any count): what a 64-bit SQL integer holds.
Index = Annotated[int, Path(ge=0, le=INT64_MAX)]
Size = Annotated[int, Path(ge=1, le=INT64_MAX)]
QuerySize = Annotated[int, Query(ge=1, le=INT64_MAX)]


def check_tree(value: object, field: str = "") -> None:
    """Refuse free-form JSON (a checklist, a configuration) carrying unsafe text; ``field``
    prefixes the paths reported."""
    errors = [
        FieldError(f"{field}.{path}" if field else path, reason)
        for path, reason in tree_problems(value)
    ]
    if errors:
        raise ValidationFailed(errors)


def money(text: str, currency: str, field: str) -> Money:
    """A decimal string as money in ``currency``; malformed or too large is a 422 naming the
    field. (Whether zero or a negative amount makes sense is the service's to say, with
    every other problem of the request at once.)"""
    try:
        return Money.parse(text, currency)
    except MoneyError as exc:
        raise ValidationFailed([FieldError(field, exc.message)], code="invalid_money") from None
