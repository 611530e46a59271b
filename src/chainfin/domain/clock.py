"""The one clock. Every layer reads the time from here; nothing else reads the wall clock.

Instants are aware UTC datetimes (a naive datetime is a bug, so it is refused at the
boundary). Business dates — value dates, due dates, "today" for a scan or a quote — are
dates in China Standard Time (Asia/Shanghai, UTC+8 all year: China has kept no daylight
saving time since 1991), so a loan applied for at 07:30 in Suzhou is dated that day, not
the UTC day before.

The clock is injectable: the API, the CLI and the demo run on :class:`SystemClock`; a test
pins a test world's date with :class:`FixedClock` (which by default ticks on from its start
at the real pace, so instants still increase and timestamps keep their order), and the
demo story can run a clock of its own. ``CHAINFIN_CLOCK`` (an ISO 8601 instant, read by
:mod:`chainfin.config`) starts a process on a ticking fixed clock; production refuses it.

>>> from datetime import datetime, UTC
>>> with using(FixedClock(datetime(2027, 12, 31, 17, 30, tzinfo=UTC), tick=False)):
...     utcnow().isoformat(), today().isoformat()
('2027-12-31T17:30:00+00:00', '2028-01-01')
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China Standard Time: business dates are dates here."""

ENV_VAR = "CHAINFIN_CLOCK"


class Clock(Protocol):
    """Something that tells the time: an aware UTC instant."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that starts at ``start``. With ``tick`` (the default) it moves on at the real
    pace from there, so successive instants increase as they would in production; without
    it, it stands still until :meth:`advance` or :meth:`set` moves it."""

    def __init__(self, start: datetime, *, tick: bool = True) -> None:
        self._lock = threading.Lock()
        self._start = ensure_utc(start)
        self._tick = tick
        self._started = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            if not self._tick:
                return self._start
            return self._start + timedelta(seconds=time.monotonic() - self._started)

    def set(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (forward or back)."""
        instant = ensure_utc(instant)
        with self._lock:
            self._start, self._started = instant, time.monotonic()

    def advance(self, delta: timedelta) -> None:
        """Move the clock by ``delta``."""
        self.set(self.now() + delta)

    def __repr__(self) -> str:
        return f"FixedClock({self.now().isoformat()}, tick={self._tick})"


_current: Clock = SystemClock()


def current() -> Clock:
    """The clock in force."""
    return _current


def set_clock(clock: Clock) -> Clock:
    """Put ``clock`` in force for the whole process; return the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Put ``clock`` in force for the duration of a ``with`` block."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return _current.now()


def local_now() -> datetime:
    """The current instant in China Standard Time."""
    return _current.now().astimezone(SHANGHAI)


def today() -> date:
    """Today's business date (China Standard Time)."""
    return local_now().date()


def business_date(instant: datetime) -> date:
    """The business date (China Standard Time) of an aware ``instant``."""
    return ensure_utc(instant).astimezone(SHANGHAI).date()


def at_local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """The UTC instant of ``hour:minute`` China Standard Time on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def epoch_seconds() -> int:
    """The current instant as whole seconds since the Unix epoch."""
    return int(_current.now().timestamp())


def wall_epoch_ms() -> int:
    """The machine's clock in milliseconds, whatever clock is in force: for the time part
    of record ids only, which must keep their order across every process writing to one
    database (a test or demo clock set back or ahead must not reorder them)."""
    return time.time_ns() // 1_000_000


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes rather than guess their zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset (``2027-12-31T23:10:00+08:00``), or a date alone,
    read as 09:00 China Standard Time that day."""
    text = text.strip()
    try:
        if len(text) == 10:
            return at_local(date.fromisoformat(text), 9)
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValueError(
            f"{ENV_VAR}={text!r} is not an ISO 8601 instant with an offset, "
            "e.g. 2027-12-31T23:10:00+08:00, or a date such as 2027-12-31"
        ) from exc
