"""The ledger from a participant's side: a write returns a signed receipt; once sequenced,
the receipt resolves to an index and an inclusion proof that the participant verifies
against a checkpoint signed by the log key it fetched; witnesses cosign after checking
consistency."""

from __future__ import annotations

import base64

from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain import clock
from chainfin.ledger import merkle
from chainfin.ledger.canonical import canonical
from chainfin.ledger.note import (
    Checkpoint,
    KeyKind,
    NoteSigner,
    NoteVerifier,
    cosign,
    open_note,
)
from chainfin.services import ledger

ORIGIN = "chainfin.test/ledger"


def sequence(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        ledger.sequence(s, ORIGIN)


def log_verifiers(client: TestClient) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(k["vkey"]) for k in client.get("/v1/ledger/keys").json()["log"]]


def create_firm(client: TestClient, headers: dict[str, str], n: int) -> dict:  # type: ignore[type-arg]
    from apiworld import uscc

    r = client.post(
        "/v1/enterprises",
        json={
            "uscc": uscc("320505", 500 + n),
            "name": f"新公司{n}",
            "region_code": "320505",
            "industry_code": "C36",
            "roles": "supplier",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_write_returns_a_signed_receipt_that_resolves_to_a_verified_inclusion(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    rm = login(client, "a-rm")
    firm = create_firm(client, rm, 1)
    receipt = firm["receipt"]
    assert receipt["origin"] == ORIGIN
    assert [e["event_type"] for e in receipt["entries"]] == ["enterprise.registered"]
    # the promise is signed by the log key published at /v1/ledger/keys
    sequence(session_factory)
    keys = log_verifiers(client)
    key = next(k for k in keys if k.key_id.hex() == receipt["key_id"])
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    promise = canonical(
        {
            "origin": receipt["origin"],
            "integrate_by": receipt["integrate_by"].replace("+00:00", "Z"),
            "entries": [[e["entry_id"], e["leaf_hash"]] for e in receipt["entries"]],
        }
    )
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(
        base64.b64decode(receipt["signature"]), promise
    )
    entry_id = receipt["entries"][0]["entry_id"]
    status = client.get(f"/v1/ledger/receipts/{entry_id}", headers=rm).json()
    assert status["status"] == "sequenced"
    inc = status["inclusion"]
    checkpoint = Checkpoint.parse(open_note(inc["checkpoint"], keys).body)
    assert checkpoint.size == inc["tree_size"]
    merkle.verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        inc["index"],
        checkpoint.size,
        [bytes.fromhex(h) for h in inc["proof"]],
        checkpoint.root_hash,
    )
    assert inc["leaf_hash"] == receipt["entries"][0]["leaf_hash"]


def test_receipt_is_pending_until_sequenced(client: TestClient, world: World) -> None:
    rm = login(client, "a-rm")
    entry_id = create_firm(client, rm, 2)["receipt"]["entries"][0]["entry_id"]
    assert client.get(f"/v1/ledger/receipts/{entry_id}", headers=rm).json()["status"] == "pending"


def test_entries_are_for_parties_and_auditors_only(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    rm = login(client, "a-rm")
    entry_id = create_firm(client, rm, 3)["receipt"]["entries"][0]["entry_id"]
    sequence(session_factory)
    size = client.get("/v1/ledger/checkpoint").json()["tree_size"]
    # (not the last entry: the one after it anchors the audit chain's new head)
    last = client.get(f"/v1/ledger/receipts/{entry_id}", headers=rm).json()["inclusion"]["index"]
    entry = client.get(f"/v1/ledger/entries/{last}", headers=rm)
    assert entry.status_code == 200
    assert entry.json()["payload"]["type"] == "enterprise.registered"
    assert (
        client.get(f"/v1/ledger/entries/{last}", headers=login(client, "b-rm")).status_code == 404
    )
    assert (
        client.get(f"/v1/ledger/entries/{last}", headers=login(client, "coreB")).status_code == 404
    )
    # a bank's auditor reads the entries its bank is a party to, not every entry
    assert (
        client.get(f"/v1/ledger/entries/{last}", headers=login(client, "a-auditor")).status_code
        == 200
    )
    proof = client.get(f"/v1/ledger/entries/{last}/inclusion", headers=rm).json()
    assert proof["tree_size"] == size


def test_public_checkpoint_and_consistency(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    assert client.get("/v1/ledger/checkpoint").status_code in (200, 404)
    sequence(session_factory)
    first = client.get("/v1/ledger/checkpoint").json()
    create_firm(client, login(client, "a-rm"), 4)
    sequence(session_factory)
    second = client.get("/v1/ledger/checkpoint").json()
    r = client.get(
        "/v1/ledger/consistency",
        params={"first": first["tree_size"], "second": second["tree_size"]},
    ).json()
    merkle.verify_consistency(
        first["tree_size"],
        second["tree_size"],
        [bytes.fromhex(h) for h in r["proof"]],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
    )
    bad = client.get("/v1/ledger/consistency", params={"first": 1, "second": 10**9})
    assert bad.status_code == 422


def test_witness_registers_and_cosigns_after_checking_consistency(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    admin = login(client, "a-admin")
    witness = NoteSigner.generate("bank-a-witness", KeyKind.COSIGNATURE_V1)
    r = client.post("/v1/ledger/witnesses", json={"vkey": witness.verifier().vkey()}, headers=admin)
    assert r.status_code == 201, r.text
    log_key_as_witness = client.post(
        "/v1/ledger/witnesses",
        json={"vkey": NoteSigner.generate("x").verifier().vkey()},
        headers=admin,
    )
    assert log_key_as_witness.status_code == 422
    sequence(session_factory)
    cp = client.get("/v1/ledger/checkpoint").json()
    checkpoint = Checkpoint.parse(open_note(cp["note"], log_verifiers(client)).body)
    line = cosign(checkpoint, witness, clock.epoch_seconds())
    signed = client.post(
        f"/v1/ledger/checkpoints/{cp['tree_size']}/cosignatures",
        json={"signature_line": line},
        headers=admin,
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["cosigned_by"] == ["bank-a-witness"]
    opened = open_note(signed.json()["note"], [*log_verifiers(client), witness.verifier()])
    assert [c.name for c in opened.cosignatures] == ["bank-a-witness"]
    # another bank cannot submit this witness's cosignatures
    create_firm(client, login(client, "a-rm"), 5)
    sequence(session_factory)
    cp2 = client.get("/v1/ledger/checkpoint").json()
    line2 = cosign(
        Checkpoint.parse(open_note(cp2["note"], log_verifiers(client)).body),
        witness,
        clock.epoch_seconds(),
    )
    foreign = client.post(
        f"/v1/ledger/checkpoints/{cp2['tree_size']}/cosignatures",
        json={"signature_line": line2},
        headers=login(client, "b-rm"),
    )
    assert foreign.status_code == 403
    # a forged cosignature (wrong key under the witness's name) is refused
    impostor = NoteSigner.generate("bank-a-witness", KeyKind.COSIGNATURE_V1)
    forged = cosign(
        Checkpoint.parse(open_note(cp2["note"], log_verifiers(client)).body),
        impostor,
        clock.epoch_seconds(),
    )
    r = client.post(
        f"/v1/ledger/checkpoints/{cp2['tree_size']}/cosignatures",
        json={"signature_line": forged},
        headers=admin,
    )
    assert r.status_code == 422
    ok = client.post(
        f"/v1/ledger/checkpoints/{cp2['tree_size']}/cosignatures",
        json={"signature_line": line2},
        headers=admin,
    )
    assert ok.status_code == 201
    again = client.post(
        f"/v1/ledger/checkpoints/{cp['tree_size']}/cosignatures",
        json={"signature_line": line},
        headers=admin,
    )
    assert again.status_code == 409
