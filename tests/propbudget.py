"""Hypothesis profiles: repeatable by default, random on request.

* ``ci`` (the default, for ``make test`` and CI): ``derandomize=True`` — the examples are a
  function of each test alone, so a run is reproducible and a green suite stays green — no
  example database, no deadline (a timing assertion in disguise on a loaded machine), and
  the examples each test asks for.
* ``fuzz`` (``make fuzz``, never in CI): random seeds, ten times the budget, to look for new
  counter-examples. Pin every one it finds as an explicit ``@example`` before fixing it.

Pick with ``HYPOTHESIS_PROFILE``. A test that sets its own budget writes
``max_examples=budget(N)`` so that fuzzing scales it too.
"""

from __future__ import annotations

import os

from hypothesis import settings

FUZZ_FACTOR = 10
DEFAULT_EXAMPLES = 100

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=DEFAULT_EXAMPLES
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    database=None,
    deadline=None,
    max_examples=DEFAULT_EXAMPLES * FUZZ_FACTOR,
    print_blob=True,
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "fuzz"):
    raise SystemExit(f"HYPOTHESIS_PROFILE={PROFILE!r}: use ci or fuzz")
settings.load_profile(PROFILE)


def budget(examples: int) -> int:
    """``examples`` in the repeatable profile, ten times as many when fuzzing."""
    return examples * FUZZ_FACTOR if PROFILE == "fuzz" else examples
