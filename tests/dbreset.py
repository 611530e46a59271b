"""Emptying the test database between tests (and between Hypothesis examples)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, text, update

from chainfin.adapters.db.models import Base, LedgerState


def empty_database(engine: Engine) -> None:
    """Delete every row and reset the log's state. The books refuse deletes (append-only
    triggers), so PostgreSQL skips user triggers for this transaction, and SQLite drops
    them and puts them back."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            triggers = []
        else:
            triggers = list(
                conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
            )
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "ledger_state":
                conn.execute(table.delete())
        for _name, sql in triggers:
            conn.execute(text(sql))
        conn.execute(
            update(LedgerState).values(tree_size=0, root_hash=hashlib.sha256(b"").digest())
        )
