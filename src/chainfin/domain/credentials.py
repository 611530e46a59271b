"""Digital payable credentials (电子债权凭证): the rules that hold without a database.

A credential is the core enterprise's irrevocable promise to pay ``face`` on its maturity
date. It lives as a tree of pieces. The root piece goes to the first holder (tier 1); a holder
can split a piece into smaller ones and pass pieces to its own suppliers, each hop one tier
deeper; a bank that discounts a piece becomes its holder. Only leaves are live: a piece that
was split or passed on keeps its place in the tree (that is the lineage) but holds nothing.

Invariants the services keep and the property tests check: live pieces sum to the face less
what was settled; every piece has exactly one holder; a piece is financed at most once.

>>> split_amounts(100_00, [60_00, 40_00], min_piece_minor=10_00)
[6000, 4000]
>>> add_months(date(2026, 8, 31), 6)
datetime.date(2027, 2, 28)
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.states import CREDENTIAL_PIECE
from chainfin.domain.states import CredentialStatus as CredentialStatus
from chainfin.domain.states import IllegalTransition as IllegalTransition
from chainfin.domain.states import PieceStatus as PieceStatus

# The regulator's ceiling: a commercial bill or payable credential runs at most one year
# (票据 rules since 2022 cap tenor at 6 months by default; programmes may go up to 12).
DEFAULT_TENOR_CAP_MONTHS = 6
HARD_TENOR_CAP_MONTHS = 12


LIVE = frozenset({PieceStatus.OFFERED, PieceStatus.HELD, PieceStatus.FINANCED, PieceStatus.OVERDUE})

# The pieces' and credentials' states live with every other machine in chainfin.domain.states;
# these names stay for the callers that read them from here.
TRANSITIONS: dict[PieceStatus, frozenset[PieceStatus]] = {
    s: CREDENTIAL_PIECE.targets(s) for s in PieceStatus
}


def check_transition(piece_id: str, current: str, target: PieceStatus) -> None:
    """Raise :class:`IllegalTransition` unless some event moves ``current`` to ``target``."""
    CREDENTIAL_PIECE.event_to(current, target, subject=piece_id)


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (Aug 31 + 6 → Feb 28)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def check_tenor(issued_on: date, maturity_on: date, cap_months: int) -> None:
    """Maturity must be after issue and no later than ``cap_months`` after it."""
    if not 1 <= cap_months <= HARD_TENOR_CAP_MONTHS:
        raise ValidationFailed(
            [FieldError("tenor_cap_months", f"must be 1 to {HARD_TENOR_CAP_MONTHS}")],
            code="tenor_cap_out_of_range",
        )
    if maturity_on <= issued_on:
        raise ValidationFailed(
            [FieldError("maturity_on", "must be after the issue date")],
            code="maturity_before_issue",
        )
    latest = add_months(issued_on, cap_months)
    if maturity_on > latest:
        raise ValidationFailed(
            [
                FieldError(
                    "maturity_on",
                    f"{maturity_on} is beyond the tenor cap of {cap_months} months "
                    f"(latest {latest} for a credential issued {issued_on})",
                )
            ],
            code="tenor_too_long",
        )


def split_amounts(amount_minor: int, parts: Sequence[int], *, min_piece_minor: int) -> list[int]:
    """Check a split of ``amount_minor`` into ``parts``: two or more, each at least the
    programme's minimum piece, summing exactly to the whole."""
    errors: list[FieldError] = []
    if len(parts) < 2:
        errors.append(FieldError("amounts", "a split needs at least two pieces"))
    for i, part in enumerate(parts):
        if part < min_piece_minor:
            errors.append(
                FieldError(
                    f"amounts[{i}]",
                    f"{part} is below the programme's minimum piece of {min_piece_minor}",
                )
            )
    if sum(parts) != amount_minor:
        errors.append(
            FieldError("amounts", f"pieces sum to {sum(parts)}, the piece holds {amount_minor}")
        )
    if errors:
        raise ValidationFailed(errors)
    return list(parts)


def carve(amount_minor: int, take_minor: int, *, min_piece_minor: int) -> list[int]:
    """Pieces for passing on ``take_minor`` of a piece: the whole piece, or the part taken
    plus the remainder the holder keeps (both at least the minimum piece)."""
    if take_minor == amount_minor:
        return [amount_minor]
    if not 0 < take_minor < amount_minor:
        raise ValidationFailed(
            [FieldError("amount", f"must be between 0 and the piece's {amount_minor}")],
            code="carve_amount_invalid",
        )
    return split_amounts(
        amount_minor, [take_minor, amount_minor - take_minor], min_piece_minor=min_piece_minor
    )
