"""Typed errors with a stable machine code, a human message and what to do about it.

Every error a user can cause derives from :class:`ChainfinError`. The API turns them into
RFC 9457 problem+json (``code`` becomes the problem type), the CLI prints ``diagnostics()``.

Every code comes from one registry, :data:`CODES` (:mod:`chainfin.domain.error_codes`):
snake_case, with its HTTP status, title, when it happens and what the client can do. An
error built with a code the registry does not list, or with a status the registry does not
give that code, raises :class:`UnregisteredCode` — so a typo fails the first test that
reaches it instead of reaching a client.

>>> NotFound.of("loan", "loan_1").code
'loan_not_found'
>>> ValidationFailed([FieldError("amount", "must be positive")], code="amount_not_positive").status
422
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chainfin.domain.error_codes import CODES, ErrorCode

__all__ = [
    "CODES",
    "ChainfinError",
    "Conflict",
    "ErrorCode",
    "FieldError",
    "Forbidden",
    "NotFound",
    "Unauthenticated",
    "UnregisteredCode",
    "UnsupportedMediaType",
    "ValidationFailed",
]


class UnregisteredCode(LookupError):
    """A programming error: an error code that is not in :data:`CODES` (or is used with
    another status than the registry gives it)."""


@dataclass(frozen=True)
class FieldError:
    """One precise problem with one input field, optionally in one row of a batch."""

    field: str
    reason: str
    row: int | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "reason": self.reason}
        if self.row is not None:
            out["row"] = self.row
        return out

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.reason}"


class ChainfinError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for a person."""

    code: str = "error"
    status: int = 400
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if code is not None:  # a specific refusal within the class (e.g. "line_frozen")
            self.code = code
        _check_registered(self.code, self.status)

    def details(self) -> dict[str, object]:
        """Machine-readable facts about this refusal beyond its code (added to the problem
        body), e.g. which state machine refused and what it would have accepted."""
        return {}

    def diagnostics(self) -> str:
        """What went wrong and what to do about it, for a person reading a terminal."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


def _check_registered(code: str, status: int) -> None:
    entry = CODES.get(code)
    if entry is None:
        raise UnregisteredCode(f"error code {code!r} is not in chainfin.domain.error_codes")
    if entry.status is not None and entry.status != status:
        raise UnregisteredCode(
            f"error code {code!r} is registered with status {entry.status}, raised with {status}"
        )


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)


class ValidationFailed(ChainfinError):
    """Input broke one or more rules. Nothing was written."""

    code = "validation_failed"
    status = 422

    def __init__(
        self, errors: list[FieldError], message: str | None = None, *, code: str | None = None
    ) -> None:
        self.errors = list(errors)
        summary = message or "; ".join(str(e) for e in self.errors[:5])
        if len(self.errors) > 5:
            summary += f"; and {len(self.errors) - 5} more"
        super().__init__(
            summary, hint="Correct the listed fields and resubmit; nothing was written.", code=code
        )


class NotFound(ChainfinError):
    """The thing does not exist, or the caller may not know that it exists."""

    code = "not_found"
    status = 404

    @classmethod
    def of(cls, resource: str, key: object = None) -> NotFound:
        """``no <resource> <key>`` with the code ``<resource>_not_found`` (spaces become
        underscores: ``NotFound.of("credit line", "line_1")`` is ``credit_line_not_found``)."""
        what = f"no {resource}" if key is None else f"no {resource} {key!r}"
        return cls(what, code=f"{resource.replace(' ', '_')}_not_found")


class Forbidden(ChainfinError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class Unauthenticated(ChainfinError):
    """No valid credentials were presented."""

    code = "unauthenticated"
    status = 401


class Conflict(ChainfinError):
    """The request conflicts with the current state (a duplicate, an illegal transition)."""

    code = "conflict"
    status = 409


class UnsupportedMediaType(ValidationFailed):
    """The body is in a format (Content-Type) the operation does not take."""

    code = "unsupported_media_type"
    status = 415
