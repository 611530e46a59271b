"""The auditor's desk over HTTP: who may open it, what a bank's auditor sees of the log and
of the audit trail (its own bank's, as the ledger API scopes it), the proofs the browser
checks (checked here in Python against chainfin.ledger), bad input, and the export that
``chainfin ledger verify-export`` accepts. The journeys are in tests/web/test_wb_audit.py."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from http_world import PASSWORD, Portal, sign_in
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Checkpoint as CheckpointRow
from chainfin.adapters.db.models import LedgerEntry, LedgerKey
from chainfin.cli import app as cli_app
from chainfin.domain.access import SYSTEM, Principal, StaffRole
from chainfin.ledger import merkle
from chainfin.ledger.note import Checkpoint, NoteVerifier, open_checkpoint
from chainfin.ledger.verifier import ExportedEntry, verify_log
from chainfin.services import audit, auth, ledger

ORIGIN = "chainfin.test/ledger"  # tests/web_http/conftest.py
SOURCE = "192.0.2.77"


@dataclass
class Desk:
    portal: Portal
    bka_only: int  # an entry bank A is a party to and bank B is not
    bkb_only: int  # an entry bank B is a party to and bank A is not
    admin_label: str


def _index(s: Session, mine: str, not_theirs: str) -> int:
    rows = s.execute(
        select(LedgerEntry.seq, LedgerEntry.parties)
        .where(LedgerEntry.seq.is_not(None))
        .order_by(LedgerEntry.seq)
    )
    return next(seq for seq, parties in rows if mine in parties and not_theirs not in parties)


@pytest.fixture
def desk(portal: Portal, session_factory: sessionmaker[Session]) -> Desk:
    world = portal.world
    with transaction(session_factory) as s:
        for username, roles, bank, name in [
            ("bka-auditor", ["auditor"], "BKA", "郑洁"),
            ("bka-admin", ["admin"], "BKA", "吴刚"),
            ("bkb-auditor", ["auditor"], "BKB", "钱峰"),
        ]:
            user = auth.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                roles=roles,
                display_name=name,
                bank_code=bank,
            )
            if username == "bka-admin":
                admin = Principal.staff(user.id, bank_id=user.bank_id, roles=[StaffRole.ADMIN])
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with transaction(session_factory) as s:
        audit.record(s, admin, "authority.grant", "user", "usr_target", {}, source=SOURCE)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)  # the audit chain's seal: a second checkpoint
        a, b = world.banks["BKA"], world.banks["BKB"]
        return Desk(portal, _index(s, a, b), _index(s, b, a), admin.label)


PAGES = [
    "/audit",
    "/audit/entries/{a}",
    "/audit/entries/{a}/proof",
    "/audit/consistency",
    "/audit/consistency/proof?first=1&second=2",
    "/audit/trail",
    "/audit/export",
    "/audit/export/download",
]


@pytest.mark.parametrize("username", ["bka-rm", "t1-admin", "t1-staff"])
def test_people_who_are_not_auditors_are_refused_every_page(
    client: TestClient, desk: Desk, username: str
) -> None:
    sign_in(client, username)
    for page in PAGES:
        r = client.get(page.format(a=desk.bka_only))
        assert r.status_code == 403, (page, r.status_code)
        assert "PK" not in r.text[:2]


def test_signed_out_people_are_sent_to_sign_in(client: TestClient, desk: Desk) -> None:
    for page in PAGES:
        r = client.get(page.format(a=desk.bka_only), follow_redirects=False)
        assert r.status_code == 303, page


def test_the_explorer_shows_checkpoints_with_their_signature_checked(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-auditor", lang="en")
    r = client.get("/audit")
    assert r.status_code == 200
    with transaction(session_factory, write=False) as s:
        cp = ledger.latest_checkpoint(s)
        assert cp is not None
    assert f'id="checkpoint-{cp.tree_size}"' in r.text
    assert f"Platform log key {ORIGIN}" in r.text
    assert "does not verify" not in r.text
    assert f'href="/audit/entries/{desk.bka_only}"' in r.text
    assert f'href="/audit/entries/{desk.bkb_only}"' not in r.text


def test_another_banks_auditor_sees_none_of_bank_as_entries(client: TestClient, desk: Desk) -> None:
    sign_in(client, "bkb-auditor")
    assert client.get(f"/audit/entries/{desk.bka_only}").status_code == 404
    assert client.get(f"/audit/entries/{desk.bka_only}/proof").status_code == 404
    listing = client.get("/audit")
    assert f'href="/audit/entries/{desk.bka_only}"' not in listing.text
    assert f'href="/audit/entries/{desk.bkb_only}"' in listing.text
    assert client.get(f"/audit/entries/{desk.bkb_only}").status_code == 200


def test_the_entry_list_filters_by_kind_and_object_and_refuses_an_unknown_kind(
    client: TestClient, desk: Desk
) -> None:
    sign_in(client, "bka-auditor", lang="en")
    t1 = desk.portal.world.ids["t1"]
    r = client.get("/audit", params={"object": t1})
    assert r.status_code == 200
    assert t1 in r.text
    r = client.get("/audit", params={"kind": "no-such-kind"})
    assert "Choose a kind from the list." in r.text
    r = client.get("/audit", params={"before": "soon"})
    assert "Enter a whole number." in r.text


def test_the_proof_the_browser_checks_verifies_with_chainfin_ledger(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-auditor")
    page = client.get(f"/audit/entries/{desk.bka_only}")
    assert page.status_code == 200
    assert 'data-verify="inclusion"' in page.text
    data = client.get(f"/audit/entries/{desk.bka_only}/proof").json()
    leaf = base64.b64decode(data["leaf_base64"])
    with transaction(session_factory, write=False) as s:
        (vkey,) = s.scalars(select(LedgerKey.vkey))
    assert vkey in page.text  # the key the browser checks against is on the page
    cp, _ = open_checkpoint(data["checkpoint"], NoteVerifier.from_vkey(vkey), origin=ORIGIN)
    assert cp.size == data["tree_size"]
    proof = [bytes.fromhex(h) for h in data["proof"]]
    merkle.verify_inclusion(merkle.leaf_hash(leaf), data["index"], cp.size, proof, cp.root_hash)
    # the bytes shown on the page are the bytes proved
    assert json.loads(leaf)["parties"] == sorted(json.loads(leaf)["parties"])


def test_consistency_between_two_checkpoints_and_its_refusals(
    client: TestClient, desk: Desk, session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, "bka-auditor", lang="en")
    with transaction(session_factory, write=False) as s:
        first, second = sorted(s.scalars(select(CheckpointRow.tree_size)))[-2:]
    assert first < second
    r = client.get("/audit/consistency")
    assert r.status_code == 200
    assert 'data-verify="consistency"' in r.text
    data = client.get("/audit/consistency/proof", params={"first": first, "second": second}).json()
    roots = []
    with transaction(session_factory, write=False) as s:
        for size in (first, second):
            roots.append(bytes(ledger.checkpoint_at(s, size).root_hash))
    proof = [bytes.fromhex(h) for h in data["proof"]]
    merkle.verify_consistency(first, second, proof, roots[0], roots[1])
    assert Checkpoint.parse(data["second_checkpoint"].split("\n\n")[0] + "\n").size == second
    backwards = client.get("/audit/consistency", params={"first": second, "second": first})
    assert backwards.status_code == 422
    assert "Choose a newer checkpoint than the first" in backwards.text
    unknown = client.get("/audit/consistency", params={"first": "x", "second": second})
    assert unknown.status_code == 422
    assert "Enter a whole number." in unknown.text
    absent = client.get("/audit/consistency", params={"first": first, "second": second + 999})
    assert absent.status_code == 422
    assert "No signed checkpoint has this tree size." in absent.text
    assert client.get("/audit/consistency/proof?first=2&second=1").status_code == 422


def test_the_audit_trail_is_searched_by_actor_and_time_and_stays_in_the_bank(
    client: TestClient, desk: Desk
) -> None:
    sign_in(client, "bka-auditor", lang="en")
    r = client.get("/audit/trail", params={"actor": "bka-admin"})
    assert r.status_code == 200
    assert "吴刚" in r.text
    assert "granted an approval authority" in r.text
    assert SOURCE in r.text
    r = client.get("/audit/trail", params={"actor": "吴刚", "target_type": "user"})
    assert SOURCE in r.text
    r = client.get("/audit/trail", params={"actor": "nobody-at-all"})
    assert SOURCE not in r.text
    assert "No audit event matches." in r.text
    r = client.get("/audit/trail", params={"since": "2000-01-01", "until": "2000-01-02"})
    assert SOURCE not in r.text
    bad = client.get("/audit/trail", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in bad.text
    reversed_range = client.get(
        "/audit/trail", params={"since": "2026-12-02", "until": "2026-12-01"}
    )
    assert reversed_range.status_code == 422
    assert "The end date is before the start date." in reversed_range.text
    client.cookies.clear()
    sign_in(client, "bkb-auditor")
    assert SOURCE not in client.get("/audit/trail").text


def _unzip(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(into)
    return into / "chainfin-ledger-export"


def test_the_export_verifies_offline_and_withholds_other_banks_entries(
    client: TestClient, desk: Desk, tmp_path: Path
) -> None:
    sign_in(client, "bka-auditor")
    r = client.get("/audit/export/download")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    folder = _unzip(r.content, tmp_path)
    lines = [json.loads(x) for x in (folder / "entries.jsonl").read_text().splitlines()]
    by_index = {row["index"]: row for row in lines}
    assert "payload" in by_index[desk.bka_only]
    assert "payload" not in by_index[desk.bkb_only]  # withheld: index and leaf hash only
    entries = [
        ExportedEntry(
            row["index"],
            row["payload"].encode() if "payload" in row else None,
            bytes.fromhex(row["leaf_hash"]),
        )
        for row in lines
    ]
    notes = [p.read_text() for p in sorted((folder / "checkpoints").glob("*.note"))]
    keys = [NoteVerifier.from_vkey(k) for k in (folder / "log.vkeys").read_text().split()]
    report = verify_log(entries, notes, keys, origin=(folder / "origin").read_text().strip())
    assert report.ok, report.findings
    assert report.withheld == int(r.headers["x-withheld"]) > 0
    assert report.entries == int(r.headers["x-entries"]) == len(lines)
    # the standalone command reads it too
    result = CliRunner().invoke(cli_app, ["ledger", "verify-export", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True


def test_a_tampered_export_fails_verification(
    client: TestClient, desk: Desk, tmp_path: Path
) -> None:
    sign_in(client, "bka-auditor")
    folder = _unzip(client.get("/audit/export/download").content, tmp_path)
    path = folder / "entries.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    withheld = next(row for row in rows if "payload" not in row)
    withheld["leaf_hash"] = ("0" if withheld["leaf_hash"][0] != "0" else "1") + withheld[
        "leaf_hash"
    ][1:]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    result = CliRunner().invoke(cli_app, ["ledger", "verify-export", str(folder), "--json"])
    assert result.exit_code == 1
    assert any(f["check"] == "checkpoint" for f in json.loads(result.output)["findings"])


def test_out_of_range_addresses_and_cursors_get_a_precise_refusal(
    client: TestClient, desk: Desk
) -> None:
    sign_in(client, "bka-auditor", lang="en")
    assert client.get(f"/audit/entries/{2**70}").status_code == 422
    assert client.get("/audit/entries/-1/proof").status_code == 422
    assert client.get("/audit/entries/99999999").status_code == 404
    assert client.get(f"/audit/consistency/proof?first=1&second={2**70}").status_code == 422
    r = client.get("/audit/trail", params={"cursor": "not-a-cursor"})
    assert r.status_code == 422
    assert "This page of the list no longer exists; start again." in r.text
    r = client.get("/audit", params={"before": str(2**70)})
    assert "Out of range." in r.text
