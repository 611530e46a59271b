"""The auditor's desk in the pages' tenancy matrix (test_page_tenancy.py): bank A's ledger
entry (one bank B is no party to) by its index, its page and the proof the browser checks,
and an audit event of bank A's people whose address only bank A's trail shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry
from chainfin.domain.access import Principal, StaffRole
from chainfin.services import audit, ledger

ORIGIN = "chainfin.test/ledger"  # tests/web_http/conftest.py
MARK_SOURCE = "198.51.100.231"  # the address of bank A's audit event

PROBES = {
    ("GET", "/audit/entries/{index}"): lambda v: ({"index": v.ids["wb_audit_entry"]}, {}),
    ("GET", "/audit/entries/{index}/proof"): lambda v: ({"index": v.ids["wb_audit_entry"]}, {}),
}
MARKS = (MARK_SOURCE,)


def extend(factory: sessionmaker[Session], world: Any, ids: dict[str, str]) -> None:
    bank_a, bank_b = world.credit.banks["BKA"], world.credit.banks["BKB"]
    admin = Principal.staff("usr_wb_audit_admin", bank_id=bank_a, roles=[StaffRole.ADMIN])
    with transaction(factory) as s:
        audit.record(s, admin, "authority.grant", "user", "usr_wb_audit", {}, source=MARK_SOURCE)
    with transaction(factory) as s:
        ledger.sequence(s, ORIGIN)
        rows = s.execute(
            select(LedgerEntry.seq, LedgerEntry.parties)
            .where(LedgerEntry.seq.is_not(None))
            .order_by(LedgerEntry.seq.desc())
        )
        ids["wb_audit_entry"] = str(
            next(seq for seq, parties in rows if bank_a in parties and bank_b not in parties)
        )
