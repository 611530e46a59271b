"""Move the wall clock of every Python process of a test run, for the date matrix.

Put this folder on ``PYTHONPATH`` and set ``CHAINFIN_TEST_WALL_CLOCK`` to an ISO 8601
instant with its offset: Python runs ``sitecustomize`` at start-up in every interpreter it
starts — pytest, its xdist workers and every CLI or server subprocess a test starts — so
they all wake up at that instant, and the wall clock ticks on from there at the real pace.

time-machine moves what reads the wall clock (``time.time``, ``datetime.now``,
``time.localtime``, ...) and leaves monotonic clocks, sleeps and timeouts real: libfaketime
does not, and under it ``time.sleep`` fails with EINVAL or ``Event.wait`` hangs.

The suite pins its own dates (tests/worldclock.py), so nothing should notice: a test that
fails only under the matrix has found a read of the wall clock that bypasses
chainfin.domain.clock.
"""

from __future__ import annotations

import os
from datetime import datetime

_WANTED = os.environ.get("CHAINFIN_TEST_WALL_CLOCK", "").strip()

if _WANTED:
    import time_machine

    _destination = datetime.fromisoformat(_WANTED)
    if _destination.tzinfo is None:
        raise SystemExit(f"CHAINFIN_TEST_WALL_CLOCK={_WANTED!r} needs an offset, e.g. +08:00")
    time_machine.travel(_destination, tick=True).start()
