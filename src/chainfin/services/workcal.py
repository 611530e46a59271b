"""The working-day calendar the platform rolls payment dates with: official schedules from
the chinesecalendar package, overridden or extended by schedules the operator loads
(``chainfin calendar load FILE``) once the State Council publishes a new year, and a
projection (weekends + statutory holidays) for years nobody has published yet.

Loading a schedule recomputes the payment date of every live credential whose payment date
was provisional; the contractual maturity date never changes."""

from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import CalendarYear
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Forbidden
from chainfin.domain.workcal import (
    WorkingCalendar,
    YearSchedule,
    official_from_package,
    parse_schedule,
)
from chainfin.services import audit, ledger
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of


@functools.cache
def _package_years() -> dict[int, YearSchedule]:
    return official_from_package()


def calendar(session: Session) -> WorkingCalendar:
    years = dict(_package_years())
    for row in session.scalars(select(CalendarYear)):
        years[row.year] = YearSchedule.of(
            row.year, _dates(row.holidays), _dates(row.workdays), source=row.source, official=True
        )
    return WorkingCalendar(years)


def _dates(values: list[str]) -> list[date]:
    return [date.fromisoformat(v) for v in values]


def load(session: Session, actor: Principal, text: str, filename: str) -> list[CalendarYear]:
    """Store the official schedules in a file (replacing an earlier load of the same year)."""
    if not actor.is_system:
        raise Forbidden(
            "the working-day calendar is maintained by the platform operator", code="operator_only"
        )
    stored: list[CalendarYear] = []
    for schedule in parse_schedule(text, filename):
        row = session.get(CalendarYear, schedule.year) or CalendarYear(year=schedule.year)
        row.source = schedule.source[:200]
        row.holidays = sorted(d.isoformat() for d in schedule.holidays)
        row.workdays = sorted(d.isoformat() for d in schedule.workdays)
        row.loaded_by = actor.label
        row.loaded_at = utcnow()
        session.add(row)
        session.flush()
        ledger.one(session, actor, "calendar.loaded", Change("calendar_year", row_of(row)))
        audit.record(
            session, actor, "calendar.load", "calendar_year", str(row.year), {"file": filename}
        )
        stored.append(row)
    return stored
