"""Where the vendored public reference data lives: ``tests/data/reference/<folder>/``, each
folder with the ``SOURCE.md`` that says where it came from and under what licence.

Tests import it the way they import ``credit_world`` (``tests/`` is on ``sys.path``)::

    from reference import REFERENCE

    DATA = REFERENCE / "iso20022"
"""

from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
