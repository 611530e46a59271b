"""What access depends on is verified too (issue 13): the parties stored with each entry,
users and API clients (roles, scopes, tenant, active flag, a digest of the password or
secret hash), the audit trail, the data-access log and stored idempotent answers. Each
tampering below is done directly in the database, behind the platform's back, and must fail
``chainfin ledger verify`` (exit 1) with a finding that names what was changed. Runs on
SQLite and, when CHAINFIN_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import (
    ApiClient,
    AuditEvent,
    DataAccess,
    Enterprise,
    IdempotencyKey,
    LedgerChain,
    LedgerEntry,
    User,
)
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM, OwnerKind, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.consent import DataCategory, Purpose
from chainfin.domain.errors import NotFound
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.ledger import chain as hashchain
from chainfin.services import (
    auth,
    consent,
    idempotency,
    ledger,
    ledger_chains,
    ledger_records,
    ledger_verify,
    registry,
)
from chainfin.services.ledger_verify import Report
from testkeys import TEST_DATA_KEYS

runner = CliRunner()


def firm(n: int) -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=make_uscc("9", "1", "320505", f"{n:08d}"),
        name=f"苏州第{n}有限公司",
        region_code="320505",
        industry_code="C36",
        roles=frozenset({Role.SUPPLIER}),
        employees=50 + n,
        revenue=Money(100_000_000 + n),
        phone="13812345678",
    )


@dataclass
class World:
    origin: str
    bank_id: str
    other_bank_id: str
    enterprise_id: str
    user_id: str
    client_id: str
    staff: Principal


ANSWER = {"id": "cred_1", "amount": "1000.00", "rate": 0.0385, "lines": [{"n": 1}]}


@pytest.fixture
def world(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[World]:
    """Firms, two banks, a staff user, an API client, audit events, a data-access log with an
    allowed and a refused read, and a stored idempotent answer; all sealed and checkpointed."""
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    origin = get_settings().ledger_origin
    firms = [firm(n) for n in range(1, 4)]
    banks = [
        EnterpriseRecord(
            make_uscc("9", "1", "110000", f"0000000{n}"),
            f"第{n}银行",
            "110105",
            "J66",
            frozenset({Role.BANK}),
        )
        for n in (1, 2)
    ]
    with transaction(session_factory) as s:
        registry.import_enterprises(s, SYSTEM, [*firms, *banks])
        registry.import_relations(
            s, SYSTEM, [RelationRecord(firms[0].uscc, firms[1].uscc, "电芯", date(2022, 1, 1))]
        )
        bank = registry.create_bank(s, SYSTEM, BankRecord("B1", "第1银行", banks[0].uscc))
        other = registry.create_bank(s, SYSTEM, BankRecord("B2", "第2银行", banks[1].uscc))
        user = auth.create_user(
            s,
            SYSTEM,
            username="rm.li",
            password="correct horse battery",
            roles=["relationship_manager"],
            bank_code="B1",
        )
        client = auth.create_client(
            s,
            SYSTEM,
            name="core ERP",
            owner_kind=OwnerKind.BANK,
            owner="B1",
            scopes=["registry:read"],
        )
        ids = (bank.id, other.id, user.id, client.client_id)
    with transaction(session_factory) as s:
        staff = auth.principal_for_user(s.get_one(User, ids[2]))
        enterprise_id = registry_enterprise_id(s, firms[0].uscc)
        consent.missing_for_bank(
            s,
            enterprise_id=enterprise_id,
            bank_id=ids[0],
            actor_label=staff.label,
            categories=["invoices", "logistics"],
            purpose=Purpose.CREDIT_ASSESSMENT,
            resource="application app_1",
        )
        idempotency.remember(s, staff, "retry-1", "ab" * 32, 201, ANSWER)
    # Refused (ConsentRefused, or NotFound to a bank that is a stranger to the enterprise):
    # the attempt is logged all the same, after the rollback.
    with pytest.raises((consent.ConsentRefused, NotFound)), transaction(session_factory) as s:
        consent.require(
            s,
            staff,
            enterprise_id=enterprise_id,
            category=DataCategory.INVOICES,
            purpose=Purpose.POST_LOAN_MONITORING,
            resource="GET /v1/enterprises/x/documents",
        )
    with transaction(session_factory) as s:
        assert ledger.sequence(s, origin) is not None
    yield World(origin, ids[0], ids[1], enterprise_id, ids[2], ids[3], staff)
    get_settings.cache_clear()


def registry_enterprise_id(s: Session, uscc: str) -> str:
    return s.scalars(select(Enterprise.id).where(Enterprise.uscc == uscc)).one()


def cli_verify() -> tuple[int, dict[str, Any]]:
    r = runner.invoke(app, ["ledger", "verify", "--json"])
    return r.exit_code, json.loads(r.stdout)


def verify(f: sessionmaker[Session], w: World) -> Report:
    with f() as s:
        return ledger_verify.verify(s, origin=w.origin)


def sql(f: sessionmaker[Session], statement: Any, **params: object) -> None:
    with transaction(f) as s:
        s.execute(text(statement) if isinstance(statement, str) else statement, params)


# ------------------------------------------------------------------ untouched, and covered


def test_an_untouched_database_verifies(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    code, report = cli_verify()
    assert code == 0, report["findings"]
    with session_factory() as s:
        chains = {c.name: c.size for c in s.scalars(select(LedgerChain))}
        audits = s.scalar(select(func.count()).select_from(AuditEvent))
        accesses = s.scalar(select(func.count()).select_from(DataAccess))
        sealed = s.scalar(
            select(LedgerEntry.payload).where(LedgerEntry.event_type == "chain.sealed")
        )
    assert chains == {"audit": audits, "access": accesses, "idempotency": 1}
    assert accesses == 3  # two categories checked, one refused read kept despite the rollback
    assert sealed is not None
    anchored = json.loads(sealed)["records"]
    assert {r["id"] for r in anchored} == {"audit", "access", "idempotency"}
    assert all(set(r["clear"]) == {"size", "head"} and r["digests"] == {} for r in anchored)


def test_users_and_clients_are_on_the_log_with_digests_of_their_secrets(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        user = s.get_one(User, world.user_id)
        client = s.get_one(ApiClient, world.client_id)
        payloads = [
            json.loads(p)
            for p in s.scalars(
                select(LedgerEntry.payload).where(
                    LedgerEntry.event_type.in_(["user.created", "client.created"])
                )
            )
        ]
    by_kind = {p["records"][0]["kind"]: p["records"][0] for p in payloads}
    assert by_kind["user"]["clear"]["roles"] == ["relationship_manager"]
    assert set(by_kind["user"]["digests"]) == {"username", "display_name", "password_hash"}
    assert by_kind["client"]["clear"]["scopes"] == ["registry:read"]
    assert set(by_kind["client"]["digests"]) == {"name", "secret_hash"}
    text_log = json.dumps(payloads)
    for secret in (user.password_hash, client.secret_hash, "rm.li", "core ERP"):
        assert secret not in text_log
    assert all(p["parties"] == [world.bank_id] for p in payloads)


def test_changes_recorded_with_the_hooks_keep_verify_green(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    """What a role change, a deactivation, a password change or a secret rotation does, when
    made by the platform: the hook logs the new state and verify stays green."""
    with transaction(session_factory) as s:
        user = s.get_one(User, world.user_id)
        user.roles = ["approver", "relationship_manager"]
        ledger_records.record_user_change(s, SYSTEM, user)
        user.password_hash = auth._hasher.hash("another long password")
        ledger_records.record_user_change(s, SYSTEM, user, "user.password_changed")
        client = s.get_one(ApiClient, world.client_id)
        client.active = False
        ledger_records.record_client_change(s, SYSTEM, client)
        client.secret_hash = auth._hasher.hash("a new secret")
        ledger_records.record_client_change(s, SYSTEM, client, "client.secret_rotated")
        ledger.sequence(s, world.origin)
    report = verify(session_factory, world)
    assert report.ok, report.findings
    # `chainfin users passwd`: a new hash and a token cut-off, both on the log
    new_hash = auth.hash_password("yet another long password")
    with transaction(session_factory) as s:
        auth.change_password(s, SYSTEM, "rm.li", new_hash)
        ledger.sequence(s, world.origin)
    with session_factory() as s:
        last = s.scalars(
            select(LedgerEntry.payload).where(LedgerEntry.event_type == "user.password_changed")
        ).all()[-1]
    logged = json.loads(last)["records"][0]
    assert logged["clear"]["tokens_valid_after"] is not None
    assert "password_hash" in logged["digests"]
    assert new_hash not in last.decode()
    report = verify(session_factory, world)
    assert report.ok, report.findings
    with session_factory() as s, pytest.raises(ValueError, match="unknown user event"):
        ledger_records.record_user_change(s, SYSTEM, user, "user.promoted")


def test_every_kind_derives_its_parties_from_what_the_log_shows() -> None:
    for kind in ledger_records.KINDS.values():
        if isinstance(kind.parties, ledger_records.IdParties):
            shown = {"id", *kind.clear}
            assert set(kind.parties.fields) <= shown, (kind.name, kind.parties.fields)


def test_a_bank_added_to_an_entrys_parties_column_gains_nothing(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    outsider = Principal.staff(
        "usr_x", bank_id=world.other_bank_id, roles=[StaffRole.RELATIONSHIP_MANAGER]
    )
    with session_factory() as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.event_type == "user.created")).one()
    sql(
        session_factory,
        update(LedgerEntry)
        .where(LedgerEntry.id == entry.id)
        .values(parties=[*entry.parties, world.other_bank_id]),
    )
    with session_factory() as s, pytest.raises(NotFound):
        ledger.get_entry(s, outsider, entry_id=entry.id)
    report = verify(session_factory, world)
    widened = sorted([world.bank_id, world.other_bank_id])
    assert [str(f) for f in report.findings] == [
        f"[parties] entry {entry.seq}: stored parties {widened!r} differ from the payload's "
        f"{[world.bank_id]!r}: adds {world.other_bank_id} (opens the entry to them)"
    ]


# ------------------------------------------------------------------ tampering, class by class


def _user(w: World) -> Any:
    return update(User).where(User.id == w.user_id)


def _client(w: World) -> Any:
    return update(ApiClient).where(ApiClient.id == w.client_id)


def escalate_roles(f: sessionmaker[Session], w: World) -> None:
    sql(f, _user(w).values(roles=["admin", "relationship_manager"]))


def move_user_to_another_bank(f: sessionmaker[Session], w: World) -> None:
    sql(f, _user(w).values(bank_id=w.other_bank_id))


def flip_active(f: sessionmaker[Session], w: World) -> None:
    sql(f, _user(w).values(active=False))


def move_token_cutoff(f: sessionmaker[Session], w: World) -> None:
    sql(f, _user(w).values(tokens_valid_after=utcnow() - timedelta(days=1)))


def replace_password_hash(f: sessionmaker[Session], w: World) -> None:
    sql(f, _user(w).values(password_hash=auth._hasher.hash("attacker's password")))


def delete_user(f: sessionmaker[Session], w: World) -> None:
    sql(f, delete(User).where(User.id == w.user_id))


def insert_user(f: sessionmaker[Session], w: World) -> None:
    sql(
        f,
        insert(User).values(
            id="usr_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
            username="ghost",
            display_name="ghost",
            password_hash=auth._hasher.hash("ghost password"),
            kind="staff",
            bank_id=w.bank_id,
            roles=["admin"],
            active=True,
            created_at=utcnow(),
        ),
    )


def widen_scopes(f: sessionmaker[Session], w: World) -> None:
    sql(f, _client(w).values(scopes=["registry:read", "users:admin"]))


def replace_secret_hash(f: sessionmaker[Session], w: World) -> None:
    sql(f, _client(w).values(secret_hash=auth._hasher.hash("attacker's secret")))


def widen_parties(f: sessionmaker[Session], w: World) -> None:
    with f() as s:
        entry = s.scalars(
            select(LedgerEntry).where(LedgerEntry.event_type == "client.created")
        ).one()
    sql(
        f,
        update(LedgerEntry)
        .where(LedgerEntry.id == entry.id)
        .values(parties=[*entry.parties, w.other_bank_id]),
    )


def edit_audit(f: sessionmaker[Session], w: World) -> None:
    sql(f, "UPDATE audit_events SET action = 'user.view' WHERE action = 'user.create'")


def delete_audit(f: sessionmaker[Session], w: World) -> None:
    sql(f, "DELETE FROM audit_events WHERE chain_seq = 2")


def insert_audit(f: sessionmaker[Session], w: World) -> None:
    sql(
        f,
        insert(AuditEvent).values(
            id="aud_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
            occurred_at=utcnow() - timedelta(days=30),
            actor="system",
            actor_kind="system",
            action="user.delete",
            target_type="user",
            target_id="usr_gone",
            detail={},
        ),
    )


def insert_sealed_audit(f: sessionmaker[Session], w: World) -> None:
    """A copy of a sealed row at the next position, its digest and chain hash copied too."""
    with f() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq.desc()).limit(1)).one()
        row = {c.key: getattr(last, c.key) for c in AuditEvent.__table__.columns}
    row.update(
        id="aud_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        chain_seq=row["chain_seq"] + 1,
        chain_hash=hashchain.link(row["chain_hash"], row["chain_seq"] + 1, row["chain_digest"]),
    )
    sql(f, insert(AuditEvent).values(**row))


def _rebuild_audit_chain(s: Session) -> None:
    """What an insider holding the chain key can do: recompute every digest, position and
    chain hash, and the chain's stored head."""
    key = ledger_chains.chain_key(s, "audit")
    spec = ledger_chains.CHAINS["audit"]
    head = hashchain.genesis("audit")
    events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)))
    for n, event in enumerate(events, start=1):
        event.chain_seq = -n  # out of the way of the unique positions first
    s.flush()
    for n, event in enumerate(events, start=1):
        digest = ledger_chains.digest_of(spec, key, ledger_chains._row(event))
        head = hashchain.link(head, n, digest)
        event.chain_seq, event.chain_digest, event.chain_hash = n, digest, head
    chain = s.get_one(LedgerChain, "audit")
    chain.size, chain.head = len(events), head


def rewrite_audit_chain(f: sessionmaker[Session], w: World) -> None:
    """An event edited and the chain rebuilt with its key: only the anchor on the log
    disagrees."""
    with transaction(f) as s:
        s.execute(update(AuditEvent).where(AuditEvent.chain_seq == 1).values(action="nothing"))
        _rebuild_audit_chain(s)


def shorten_audit_chain(f: sessionmaker[Session], w: World) -> None:
    """An event deleted and the chain rebuilt with its key."""
    with transaction(f) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.chain_seq == 1))
        _rebuild_audit_chain(s)


def edit_access(f: sessionmaker[Session], w: World) -> None:
    sql(f, "UPDATE data_access_log SET purpose = 'financing' WHERE category = 'logistics'")


def delete_access(f: sessionmaker[Session], w: World) -> None:
    """The refused read, the one an enterprise would want to see, removed."""
    sql(f, "DELETE FROM data_access_log WHERE purpose = 'post_loan_monitoring'")


def edit_answer(f: sessionmaker[Session], w: World) -> None:
    sql(f, update(IdempotencyKey).values(response={**ANSWER, "amount": "9000.00"}))


def edit_chain_head(f: sessionmaker[Session], w: World) -> None:
    sql(f, update(LedgerChain).where(LedgerChain.name == "access").values(head=bytes(32)))


TAMPERING: dict[str, tuple[Callable[[sessionmaker[Session], World], None], str, str, str]] = {
    # case: (tamper, check, where (a format of the world), message fragment)
    "a bank added to an entry's parties": (widen_parties, "parties", "entry ", "adds {other}"),
    "a user's roles escalated": (escalate_roles, "state", "user {user} field roles", "'admin'"),
    "a user moved to another bank": (
        move_user_to_another_bank,
        "state",
        "user {user} field bank_id",
        "database has '{other}'",
    ),
    "a user's active flag flipped": (flip_active, "state", "user {user} field active", "False"),
    "a user's token cut-off moved": (
        move_token_cutoff,
        "state",
        "user {user} field tokens_valid_after",
        "entry",
    ),
    "a password hash replaced": (
        replace_password_hash,
        "state",
        "user {user} field password_hash",
        "does not match the digest",
    ),
    "a user deleted": (delete_user, "state", "user {user}", "missing from the database"),
    "a user inserted": (
        insert_user,
        "state",
        "user usr_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "not on the log",
    ),
    "a client's scopes widened": (
        widen_scopes,
        "state",
        "client {client} field scopes",
        "users:admin",
    ),
    "a client's secret hash replaced": (
        replace_secret_hash,
        "state",
        "client {client} field secret_hash",
        "does not match the digest",
    ),
    "an audit event edited": (edit_audit, "chain", "audit_event aud_", "does not match its digest"),
    "an audit event deleted": (delete_audit, "chain", "audit chain", "position 2 is missing"),
    "an audit event inserted": (
        insert_audit,
        "chain",
        "audit_event aud_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "has no digest",
    ),
    "an audit event inserted with a copied digest and link": (
        insert_sealed_audit,
        "chain",
        "audit_event aud_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "does not match its digest",
    ),
    "an audit event edited, the chain rebuilt with its key": (
        rewrite_audit_chain,
        "chain",
        "audit chain",
        "no longer give the head anchored in entry",
    ),
    "an audit event deleted, the chain rebuilt with its key": (
        shorten_audit_chain,
        "chain",
        "audit chain",
        "are sealed: rows deleted",
    ),
    "an access-log row edited": (edit_access, "chain", "data_access acc_", "does not match"),
    "an access-log row deleted": (delete_access, "chain", "access chain", "deleted"),
    "a stored idempotent answer edited": (
        edit_answer,
        "chain",
        "idempotency_key {staff}/retry-1",
        "does not match its digest",
    ),
    "a chain's stored head edited": (edit_chain_head, "chain", "ledger_chains access", "records"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_fails_verify_with_a_precise_finding(
    world: World, session_factory: sessionmaker[Session], case: str
) -> None:
    tamper, check, where, message = TAMPERING[case]
    names = {
        "user": world.user_id,
        "client": world.client_id,
        "other": world.other_bank_id,
        "staff": world.staff.label,
    }
    tamper(session_factory, world)
    code, report = cli_verify()
    assert code == 1, case
    findings = report["findings"]
    assert any(
        f["check"] == check
        and f["where"].startswith(where.format(**names))
        and message.format(**names) in f["message"]
        for f in findings
    ), findings


def test_a_tampered_answer_is_refused_at_replay(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        assert idempotency.replay(s, world.staff, "retry-1", "ab" * 32) == (201, ANSWER)
    edit_answer(session_factory, world)
    with session_factory() as s, pytest.raises(idempotency.StoredAnswerTampered):
        idempotency.replay(s, world.staff, "retry-1", "ab" * 32)


def test_a_row_edited_before_it_is_sealed_is_never_sealed(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        registry.import_enterprises(s, SYSTEM, [firm(9)])
    sql(session_factory, "UPDATE audit_events SET actor = 'someone else' WHERE chain_seq IS NULL")
    with transaction(session_factory) as s:
        ledger.sequence(s, world.origin)
    with session_factory() as s:
        pending = s.scalars(select(AuditEvent.id).where(AuditEvent.chain_seq.is_(None))).all()
    assert len(pending) == 1
    report = verify(session_factory, world)
    assert [(f.check, f.where) for f in report.findings] == [("chain", f"audit_event {pending[0]}")]


def test_sealing_is_idempotent_and_anchors_only_growth(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        assert ledger.sequence(s, world.origin) is None  # nothing new: no entry, no checkpoint
    with transaction(session_factory) as s:
        consent.missing_for_bank(
            s,
            enterprise_id=world.enterprise_id,
            bank_id=world.bank_id,
            actor_label=world.staff.label,
            categories=["iot"],
            purpose=Purpose.POST_LOAN_MONITORING,
            resource="loan ln_1",
        )
        ledger.sequence(s, world.origin)
    with session_factory() as s:
        last = s.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1)).one()
    body = json.loads(last.payload)
    assert body["type"] == "chain.sealed"
    assert [(r["id"], r["clear"]["size"]) for r in body["records"]] == [("access", 4)]
    assert verify(session_factory, world).ok


def test_concurrent_writers_and_sealers_give_gap_free_chains(
    session_factory: sessionmaker[Session],
) -> None:
    """Writers only insert (the first ones race to create the chain's key); sealers take
    turns on the chain's row: every position is used once and verify is green."""
    origin = "chainfin.test/ledger"
    writers, per_writer = 8, 6
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def work(w: int) -> None:
        start.wait()
        try:
            for k in range(per_writer):
                with transaction(session_factory) as s:
                    registry.import_enterprises(s, SYSTEM, [firm(100 + w * 10 + k)])
                if k % 2 == 1:
                    with transaction(session_factory) as s:
                        ledger.sequence(s, origin)
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with transaction(session_factory) as s:
        ledger.sequence(s, origin)
    with session_factory() as s:
        positions = sorted(s.scalars(select(AuditEvent.chain_seq)))
        report = ledger_verify.verify(s, origin=origin)
    assert positions == list(range(1, writers * per_writer + 1))
    assert report.ok, report.findings


def test_rows_from_before_the_chain_are_adopted_by_its_first_seal_only(
    session_factory: sessionmaker[Session],
) -> None:
    """A database upgraded to migration 0014 has audit events without digests: the chain's
    first seal adopts them; a digest-less row after that is never sealed and is reported."""
    origin = "chainfin.test/ledger"

    def old_event(n: int) -> dict[str, Any]:
        return {
            "id": f"aud_00000000000000000000000{n:03d}",
            "occurred_at": utcnow(),
            "actor": "system:operator",
            "actor_kind": "system",
            "action": "enterprise.import",
            "target_type": "enterprise",
            "detail": {"created": n},
        }

    with transaction(session_factory) as s:
        s.execute(insert(AuditEvent), [old_event(n) for n in range(3)])
    with transaction(session_factory) as s:
        ledger.sequence(s, origin)
    with session_factory() as s:
        assert sorted(s.scalars(select(AuditEvent.chain_seq))) == [1, 2, 3]
        assert ledger_verify.verify(s, origin=origin).ok
    with transaction(session_factory) as s:
        s.execute(insert(AuditEvent), [old_event(9)])
        ledger.sequence(s, origin)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=origin)
    assert [str(f) for f in report.findings] == [
        "[chain] audit_event aud_00000000000000000000000009: has no digest: not written by "
        "the platform"
    ]
