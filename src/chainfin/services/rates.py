"""Reference rates: the Loan Prime Rate table quotes are priced from.

The table ships with every fixing from the reformed LPR's first (2019-08-20) to the latest the
release knows (``chainfin/domain/data/lpr.csv``, the public record as published by the
National Interbank Funding Center); the operator adds each month's fixing with
``chainfin rates lpr set DATE RATE_1Y RATE_5Y``. Every fixing goes on the ledger, so a quote
that names its fixing can be checked against the rate the platform had on record.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import LprFixing as LprRow
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import FieldError, Forbidden, ValidationFailed
from chainfin.domain.pricing import LprFixing, parse_lpr_csv
from chainfin.services import audit, idempotency, ledger
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of

BUNDLED_SOURCE = "NIFC/PBoC LPR publications (bundled table)"


def _bp(rate: Decimal, field: str) -> int:
    bp = rate * 100
    if bp != bp.to_integral_value():
        raise ValidationFailed(
            [FieldError(field, f"{rate}% is finer than one basis point")], code="rate_too_fine"
        )
    return int(bp)


def _pct(bp: int) -> str:
    return f"{Decimal(bp) / 100:.2f}"


def to_domain(row: LprRow) -> LprFixing:
    return LprFixing(row.fixed_on, Decimal(row.rate_1y_bp) / 100, Decimal(row.rate_5y_bp) / 100)


def set_fixing(
    session: Session, actor: Principal, fixing: LprFixing, *, source: str
) -> tuple[LprRow, bool]:
    """Record a fixing; the same fixing again is a no-op, a different one for a date on
    record is refused with ``exists_with_different_request`` (a published fixing is never
    revised)."""
    if not actor.is_system:
        raise Forbidden(
            "reference rates are maintained by the platform operator", code="operator_only"
        )
    r1 = _bp(fixing.rate_1y, "rate_1y")
    r5 = _bp(fixing.rate_5y, "rate_5y")
    existing = session.get(LprRow, fixing.fixed_on)
    if existing is not None:  # published fixings are not revised
        idempotency.same_request(
            f"the LPR fixing of {fixing.fixed_on}",
            {"rate_1y_pct": _pct(existing.rate_1y_bp), "rate_5y_pct": _pct(existing.rate_5y_bp)},
            {"rate_1y_pct": _pct(r1), "rate_5y_pct": _pct(r5)},
        )
        return existing, False
    row = LprRow(
        fixed_on=fixing.fixed_on,
        rate_1y_bp=r1,
        rate_5y_bp=r5,
        source=source[:200],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "rates.lpr_fixed", Change("lpr_fixing", row_of(row)))
    audit.record(session, actor, "rates.lpr_set", "lpr_fixing", fixing.fixed_on.isoformat(), {})
    return row, True


def load_csv(session: Session, actor: Principal, text: str, *, source: str) -> int:
    """Load a table of fixings (``date,lpr_1y,lpr_5y``); returns how many were new."""
    added = 0
    for fixing in parse_lpr_csv(text):
        _, new = set_fixing(session, actor, fixing, source=source)
        added += new
    return added


def load_bundled(session: Session, actor: Principal) -> int:
    text = resources.files("chainfin.domain").joinpath("data/lpr.csv").read_text("utf-8")
    return load_csv(session, actor, text, source=BUNDLED_SOURCE)


def fixings(session: Session) -> list[LprFixing]:
    return [to_domain(r) for r in session.scalars(select(LprRow).order_by(LprRow.fixed_on))]


def in_force(session: Session, on: date) -> LprFixing | None:
    row = session.scalar(
        select(LprRow).where(LprRow.fixed_on <= on).order_by(LprRow.fixed_on.desc()).limit(1)
    )
    return to_domain(row) if row is not None else None
