"""The background sequencer: integrates pending entries and publishes a checkpoint every
``interval`` seconds. Several processes may run one; they take turns on the ledger lock."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.services import ledger

log = logging.getLogger("chainfin.sequencer")


class Sequencer(threading.Thread):
    def __init__(
        self, factory: sessionmaker[Session], *, origin: str, interval_seconds: float
    ) -> None:
        super().__init__(name="chainfin-sequencer", daemon=True)
        self._factory = factory
        self._origin = origin
        self._interval = interval_seconds
        self._halt = threading.Event()

    def run_once(self) -> int:
        with transaction(self._factory) as session:
            cp = ledger.sequence(session, self._origin)
            return cp.tree_size if cp is not None else -1

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            try:
                size = self.run_once()
                if size >= 0:
                    log.info("checkpoint published at tree size %d", size)
            except Exception:
                log.exception("sequencing failed; retrying in %.1fs", self._interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)
