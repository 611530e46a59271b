"""The auditor's desk's own objects (tests/web/test_wb_audit.py), added to the portal world.

- The log sequenced and a checkpoint signed (with the origin the test server signs with),
  then cosigned by a witness of bank A's, 「星湖银行审计见证」, registered by bka-auditor.
- An audit event by bka-admin (吴刚) granting an approval authority on bka-auditor's user,
  from the address ``10.20.30.40``: the trail's search by actor finds it.
- A second checkpoint after that (the audit chain's seal is an entry of its own), so two
  checkpoints can be compared for consistency.

``world.extra``: ``wb_audit_witness`` (its name), ``wb_audit_cosigned`` (the cosigned
tree size), ``wb_audit_entry`` (the index of an entry bank A is a party to, inside the
cosigned checkpoint), ``wb_audit_source`` (the event's address)."""

from __future__ import annotations

import json

from portal_world import PortalWorld
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import LedgerEntry
from chainfin.config import Settings
from chainfin.domain.access import Principal, StaffRole
from chainfin.domain.clock import epoch_seconds
from chainfin.ledger.note import Checkpoint, KeyKind, NoteSigner, cosign
from chainfin.services import audit, ledger

WITNESS = "xinghu-bank-audit-witness"
SOURCE = "10.20.30.40"
ORIGIN = str(Settings.model_fields["ledger_origin"].default)  # what the test server signs


def _staff(world: PortalWorld, username: str, role: StaffRole) -> Principal:
    bank = world.lending.credit.banks["BKA"]
    return Principal.staff(world.user_ids[username], bank_id=bank, roles=[role])


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    auditor = _staff(world, "bka-auditor", StaffRole.AUDITOR)
    bank_id = world.lending.credit.banks["BKA"]
    signer = NoteSigner.generate(WITNESS, KeyKind.COSIGNATURE_V1)
    with transaction(factory) as s:
        ledger.sequence(s, ORIGIN)
    with transaction(factory) as s:
        cp = ledger.latest_checkpoint(s)
        assert cp is not None, "the world's entries were sequenced"
        ledger.register_witness(s, auditor, vkey=signer.verifier().vkey())
        body = Checkpoint(ORIGIN, cp.tree_size, bytes(cp.root_hash))
        ledger.add_cosignature(
            s, auditor, tree_size=cp.tree_size, line=cosign(body, signer, epoch_seconds())
        )
        cosigned = cp.tree_size
        rows = s.execute(
            select(LedgerEntry.seq, LedgerEntry.payload)
            .where(LedgerEntry.seq.is_not(None), LedgerEntry.seq < cosigned)
            .order_by(LedgerEntry.seq.desc())
            .limit(500)
        )
        index = next(
            seq for seq, payload in rows if bank_id in json.loads(bytes(payload))["parties"]
        )
    with transaction(factory) as s:
        admin = _staff(world, "bka-admin", StaffRole.ADMIN)
        audit.record(
            s,
            admin,
            "authority.grant",
            "user",
            world.user_ids["bka-auditor"],
            {"level": 2},
            source=SOURCE,
        )
    with transaction(factory) as s:
        ledger.sequence(s, ORIGIN)
    world.extra.update(
        wb_audit_witness=WITNESS,
        wb_audit_cosigned=cosigned,
        wb_audit_entry=index,
        wb_audit_source=SOURCE,
    )
