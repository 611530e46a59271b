"""Typed errors with a stable machine code, a human message and what to do about it.

Every error a user can cause derives from :class:`ChainfinError`. The API turns them into
RFC 9457 problem+json (``code`` becomes the problem type), the CLI prints ``diagnostics()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def diagnostics(self) -> str:
        """What went wrong and what to do about it, for a person reading a terminal."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)


class ValidationFailed(ChainfinError):
    """Input broke one or more rules. Nothing was written."""

    code = "validation-failed"
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

    code = "not-found"
    status = 404


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
