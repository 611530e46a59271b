"""The date every test world lives on. Tests never read the wall clock: an autouse fixture
(``world_clock`` in conftest.py) puts a :class:`FixedClock` at :data:`WORLD_NOW` in force for
each test, ticking on at the real pace so timestamps keep their order. A test that needs
time to pass moves that clock (``world_clock.advance(...)``); one that needs another day
sets it (``world_clock.set(...)``). CLI runs in a subprocess get ``CHAINFIN_CLOCK``.

The suite must pass whatever the machine's clock says; CI runs it with the process clock
moved to stressful dates (see ``tests/timetravel/``)."""

from __future__ import annotations

from datetime import date

from chainfin.domain.clock import at_local

WORLD_DAY = date(2026, 11, 26)
"""Business date of every test world (a Thursday, an ordinary working day)."""

WORLD_NOW = at_local(WORLD_DAY, 10)
"""10:00 China Standard Time on :data:`WORLD_DAY`, as a UTC instant: far from midnight in
both Beijing and UTC, so no test crosses a date while it runs."""

WORLD_CLOCK_ENV = {"CHAINFIN_CLOCK": WORLD_NOW.isoformat()}
"""Environment for a CLI or server subprocess that must live on the same day."""
