"""The demo story's clock.

The story starts today and runs ahead: a credential matures months after it is issued, a
loan's first instalments fall due, the daily scan finds the dealer's loan overdue. Every
step runs with the platform's clock (:mod:`chainfin.domain.clock`) set to the day it
happens on, so a record is stamped with the day it reports: a repayment is booked on its
value date, a credential is settled on its payment date and not before, a loan the scan
finds overdue is overdue on the clock the server later reads. The timeline only moves
forward; a step dated before the clock is a bug in the story and is refused.

>>> from datetime import UTC, date, datetime
>>> from chainfin.domain.clock import FixedClock
>>> line = Timeline(FixedClock(datetime(2026, 12, 7, 2, tzinfo=UTC), tick=False))
>>> line.on(date(2027, 1, 18)); line.today
datetime.date(2027, 1, 18)
>>> line.on(date(2027, 1, 4))
Traceback (most recent call last):
...
ValueError: the story cannot go back from 2027-01-18 to 2027-01-04
"""

from __future__ import annotations

from datetime import date, datetime

from chainfin.domain.clock import FixedClock, at_local, business_date


class Timeline:
    """Moves ``clock`` forward through the story's days."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.started_on = business_date(clock.now())

    @property
    def today(self) -> date:
        return business_date(self.clock.now())

    def now(self) -> datetime:
        return self.clock.now()

    def on(self, day: date, hour: int = 9, minute: int = 30) -> None:
        """Go to ``day`` (at ``hour:minute`` China Standard Time if that is later than the
        clock; on the day it already shows, the clock just ticks on)."""
        if day < self.today:
            raise ValueError(f"the story cannot go back from {self.today} to {day}")
        if day > self.today:
            self.clock.set(at_local(day, hour, minute))

    @property
    def days_ahead(self) -> int:
        """How many days the story has run ahead of the day it started."""
        return (self.today - self.started_on).days
