"""Signed notes, checkpoints and witness cosignatures (c2sp.org signed-note, tlog-checkpoint,
tlog-cosignature): published vectors first, then round trips, tampering, and strict parsing
tables that list every rejection with its reason, in order of precedence."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.ledger.note import (
    MAX_SIGNATURES,
    AmbiguousKeyError,
    BadSignatureError,
    Checkpoint,
    CheckpointFormatError,
    Cosignature,
    DuplicateSignatureError,
    KeyKind,
    KeyStringError,
    MalformedNoteError,
    NoteError,
    NoteSigner,
    NoteVerifier,
    SignatureLine,
    UnverifiedNoteError,
    add_signatures,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    key_id,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
    split_note,
)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- published vectors ------------------------------------------------------------------------
#
# golang.org/x/mod/sumdb/note: the package documentation's "Example" section (note.go) and
# TestOpen in note_test.go publish the PeterNeumann signer key, verifier key, text and
# signature, and the EnochRoot verifier key and signature of the doubly signed message.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = PETER_TEXT + "\n" + PETER_SIG

# c2sp.org/signed-note, "Verifier keys" section of the editor's copy (C2SP/C2SP commit
# d4c16da5e7687a016619074e78dad84b2c7238cc, as quoted by several implementations; the stored
# copy of the spec we could read predates that section).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# c2sp.org/signed-note, the opening example (no key is published for it).
QUASIMODO_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    "\n— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature: the behind-the-sofa example, with
# one log signature and one witness cosignature (no keys are published for either).
SOFA_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_LOG_SIG = (
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SOFA_WITNESS_SIG = (
    "— witness.example.com/w1 "
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SOFA_ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

# transparency-dev/formats log/note_test.go (TestSumDBNoteParsing): a real sum.golang.org
# checkpoint and the production verifier key. Its origin holds spaces and differs from the
# key name, both allowed by tlog-checkpoint.
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    "— sum.golang.org "
    "Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)

# transparency-dev/formats log/note_test.go: signer and verifier key pairs made by Go's
# note.GenerateKey (key material containing '+' on purpose or not).
GO_KEY_PAIRS = [
    (
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    ),
    (
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    ),
    (
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
    ),
    (
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
    ),
]

# transparency-dev/formats note/note_cosigv1_test.go: a live witness's cosignature/v1 vkey
# (type 0x04), an Ed25519 vkey, and cosignature payloads with a known timestamp.
REMORA_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
TEST_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIG_1727964367 = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+"
    "8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)
PLAIN_ED25519_SIG = (
    "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="
)
# transparency-dev/formats note/note_verifier_test.go: Rekor's ECDSA (type 0x02) vkey.
REKOR_ECDSA_VKEY = (
    "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0"
    "hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc="
)


def test_errors_have_stable_codes_and_one_base_class() -> None:
    codes = {
        MalformedNoteError: "malformed-note",
        DuplicateSignatureError: "duplicate-signature",
        BadSignatureError: "bad-signature",
        UnverifiedNoteError: "unverified-note",
        AmbiguousKeyError: "ambiguous-key",
        KeyStringError: "bad-key",
        CheckpointFormatError: "bad-checkpoint",
    }
    for cls, code in codes.items():
        assert issubclass(cls, NoteError)
        assert cls.code == code
    assert issubclass(DuplicateSignatureError, MalformedNoteError)


def test_go_example_signer_key_derives_the_published_verifier_key() -> None:
    """golang.org/x/mod/sumdb/note package documentation, "Example"."""
    signer = NoteSigner.from_key_string(PETER_SKEY)
    assert signer.verifier().vkey() == PETER_VKEY
    assert signer.key_string() == PETER_SKEY
    assert NoteVerifier.from_vkey(PETER_VKEY) == signer.verifier()


def test_go_example_signs_byte_for_byte() -> None:
    """Ed25519 is deterministic, so our note equals the one golang.org/x/mod/sumdb/note prints."""
    signer = NoteSigner.from_key_string(PETER_SKEY)
    assert sign_note(PETER_TEXT, [signer]) == PETER_NOTE


def test_go_example_opens() -> None:
    """golang.org/x/mod/sumdb/note package documentation: Open with PeterNeumann's vkey."""
    opened = open_note(PETER_NOTE, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert opened.body == PETER_TEXT
    assert opened.signed_by == ("PeterNeumann",)
    assert opened.cosignatures == ()
    assert opened.unverified == ()
    assert opened.verified_by(NoteVerifier.from_vkey(PETER_VKEY))


def test_go_doubly_signed_note_keeps_the_unknown_signer_unverified() -> None:
    """golang.org/x/mod/sumdb/note note_test.go TestOpen: one key known, one not."""
    opened = open_note(PETER_NOTE + ENOCH_SIG, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert opened.signed_by == ("PeterNeumann",)
    (enoch,) = opened.unverified
    assert (enoch.name, enoch.key_id.hex()) == ("EnochRoot", "af0cfe78")
    assert str(enoch) + "\n" == ENOCH_SIG


def test_go_doubly_signed_note_verifies_both_keys() -> None:
    verifiers = [NoteVerifier.from_vkey(PETER_VKEY), NoteVerifier.from_vkey(ENOCH_VKEY)]
    opened = open_note(PETER_NOTE + ENOCH_SIG, verifiers)
    assert opened.signed_by == ("PeterNeumann", "EnochRoot")
    assert opened.unverified == ()


def test_go_doubly_signed_note_with_no_known_key_is_rejected() -> None:
    with pytest.raises(UnverifiedNoteError, match="no signature from a known key"):
        open_note(PETER_NOTE + ENOCH_SIG, [])


@pytest.mark.parametrize(
    ("key", "parse"),
    [(PETER_VKEY, NoteVerifier.from_vkey), (PETER_SKEY, NoteSigner.from_key_string)],
    ids=["vkey", "skey"],
)
def test_every_mangling_of_the_go_example_keys_is_rejected(key: str, parse: object) -> None:
    """The manglings of golang.org/x/mod/sumdb/note's TestNewVerifier and TestNewSigner:
    every proper substring, and every single character bumped by one."""
    assert callable(parse)
    manglings = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
    manglings |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    manglings.discard(key)
    for mangled in manglings:
        with pytest.raises(KeyStringError):
            parse(mangled)


def test_c2sp_signed_note_verifier_key_example() -> None:
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    assert (verifier.name, verifier.key_id.hex(), verifier.kind) == (
        "example.com/foo",
        "530d903a",
        KeyKind.ED25519,
    )
    assert verifier.vkey() == SPEC_VKEY
    opened = open_note(SPEC_NOTE, [verifier])
    assert (opened.body, opened.signed_by) == (
        "This is an example message.\n",
        ("example.com/foo",),
    )


def test_c2sp_signed_note_text_may_hold_empty_lines() -> None:
    """The spec's opening example: the last empty line separates text and signatures."""
    body, (line,) = split_note(QUASIMODO_NOTE)
    assert body.endswith("\n\ned è subito sera.\n")
    assert body.count("\n") == 4
    assert line.name == "quasimodo.example/salvatore"
    assert len(line.signature) == 64
    with pytest.raises(UnverifiedNoteError):
        open_note(QUASIMODO_NOTE, [NoteVerifier.from_vkey(SPEC_VKEY)])


def test_c2sp_checkpoint_example_parses_and_round_trips() -> None:
    checkpoint = Checkpoint.parse(SOFA_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode(SOFA_ROOT)
    assert checkpoint.extensions == ()
    assert checkpoint.body() == SOFA_BODY


def test_c2sp_cosignature_example_frames_a_timestamped_signature() -> None:
    """tlog-cosignature's example line: key id (4) || timestamp (8, big-endian) || sig (64);
    its timestamp is the one in the spec's signed-message example."""
    body, (log_line, witness_line) = split_note(SOFA_BODY + "\n" + SOFA_LOG_SIG + SOFA_WITNESS_SIG)
    assert body == SOFA_BODY
    assert (log_line.name, len(log_line.signature)) == ("example.com/behind-the-sofa", 64)
    assert witness_line.name == "witness.example.com/w1"
    assert witness_line.key_id.hex() == "8d66cf3f"
    assert len(witness_line.signature) == 8 + 64
    assert cosignature_timestamp(witness_line) == 1679315147
    assert str(witness_line) + "\n" == SOFA_WITNESS_SIG


def test_c2sp_cosignature_signed_message_example() -> None:
    """tlog-cosignature, "Ed25519 signed message": the exact bytes a witness signs."""
    expected = (
        "cosignature/v1\n"
        "time 1679315147\n"
        "example.com/behind-the-sofa\n"
        "20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert cosigned_message(SOFA_BODY, 1679315147) == expected.encode()


def test_transparency_dev_cosignature_timestamp_vectors() -> None:
    """transparency-dev/formats note_cosigv1_test.go TestCosignatureTimestamp."""
    raw = base64.b64decode(COSIG_1727964367)
    assert cosignature_timestamp(SignatureLine("w", raw[:4], raw[4:])) == 1727964367
    plain = base64.b64decode(PLAIN_ED25519_SIG)
    with pytest.raises(BadSignatureError, match="64 bytes after the key id, not 72"):
        cosignature_timestamp(SignatureLine("w", plain[:4], plain[4:]))


def test_sum_golang_org_checkpoint_verifies() -> None:
    """transparency-dev/formats log/note_test.go TestSumDBNoteParsing."""
    verifier = NoteVerifier.from_vkey(SUMDB_VKEY)
    checkpoint, opened = open_checkpoint(SUMDB_NOTE, verifier, origin="go.sum database tree")
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6476701)
    assert opened.signed_by == ("sum.golang.org",)
    with pytest.raises(CheckpointFormatError, match="is not the expected 'Go rocks'"):
        open_checkpoint(SUMDB_NOTE, verifier, origin="Go rocks")


@pytest.mark.parametrize(("skey", "vkey"), GO_KEY_PAIRS, ids=lambda k: k.split("+")[0])
def test_go_generated_key_pairs_match(skey: str, vkey: str) -> None:
    """transparency-dev/formats log/note_test.go: skeys and vkeys made by note.GenerateKey."""
    signer = NoteSigner.from_key_string(skey)
    assert signer.verifier().vkey() == vkey
    assert signer.key_string() == skey


@pytest.mark.parametrize(
    ("vkey", "kind"),
    [
        (REMORA_WITNESS_VKEY, KeyKind.COSIGNATURE_V1),
        (TEST_VKEY, KeyKind.ED25519),
        (SUMDB_VKEY, KeyKind.ED25519),
    ],
)
def test_published_verifier_keys_parse_and_print_back(vkey: str, kind: KeyKind) -> None:
    """Key material may hold '+': only the first two '+' separate fields."""
    verifier = NoteVerifier.from_vkey(vkey)
    assert verifier.kind is kind
    assert verifier.key_id == key_id(verifier.name, kind, verifier.public_key)
    assert verifier.vkey() == vkey


# --- round trips ------------------------------------------------------------------------------

ROOT = bytes(range(32))
CHECKPOINT = Checkpoint("chainfin.example/ledger", 42, ROOT)


@pytest.mark.parametrize("kind", list(KeyKind))
def test_generated_keys_round_trip_through_their_strings(kind: KeyKind) -> None:
    signer = NoteSigner.generate("chainfin.example/k1", kind)
    again = NoteSigner.from_key_string(signer.key_string())
    assert again.kind is kind
    assert again.verifier() == signer.verifier()
    assert NoteVerifier.from_vkey(signer.verifier().vkey()) == signer.verifier()
    assert base64.b64decode(signer.verifier().vkey().split("+", 2)[2])[0] == kind.type_byte


def test_signer_repr_hides_the_private_key() -> None:
    signer = NoteSigner.generate("chainfin.example/k1")
    assert "private" not in repr(signer)


def test_several_signers_sign_and_all_verify_in_note_order() -> None:
    signers = [NoteSigner.generate(f"chainfin.example/k{i}") for i in range(3)]
    note = sign_note("hello\n", signers)
    opened = open_note(note, [s.verifier() for s in reversed(signers)])
    assert opened.signed_by == ("chainfin.example/k0", "chainfin.example/k1", "chainfin.example/k2")


def test_log_checkpoint_with_witness_cosignatures() -> None:
    log = NoteSigner.generate("chainfin.example/ledger")
    w1 = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    w2 = NoteSigner.generate("witness.example/w2", KeyKind.COSIGNATURE_V1)
    note = sign_checkpoint(CHECKPOINT, log)
    note = add_signatures(note, [cosign(CHECKPOINT, w1, 1_700_000_000)])
    note = add_signatures(note, [cosign(CHECKPOINT, w2, 1_700_000_005) + "\n"])
    checkpoint, opened = open_checkpoint(
        note, log.verifier(), [w1.verifier(), w2.verifier()], origin=CHECKPOINT.origin
    )
    assert checkpoint == CHECKPOINT
    assert opened.signed_by == ("chainfin.example/ledger",)
    assert opened.cosignatures == (
        Cosignature("witness.example/w1", w1.key_id, 1_700_000_000),
        Cosignature("witness.example/w2", w2.key_id, 1_700_000_005),
    )
    # A witness this verifier does not trust is kept, unverified, not rejected.
    _, opened = open_checkpoint(note, log.verifier(), [w2.verifier()])
    assert [line.name for line in opened.unverified] == ["witness.example/w1"]


def test_cosignature_covers_extension_lines() -> None:
    checkpoint = dataclasses.replace(CHECKPOINT, extensions=("ext one",))
    witness = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    line = cosign(checkpoint, witness, 7)
    tampered = CHECKPOINT.body() + "ext 0ne\n" + "\n" + line + "\n"
    with pytest.raises(BadSignatureError, match=r"cosignature \(time 7\) from key witness"):
        open_note(tampered, [witness.verifier()])
    assert open_note(checkpoint.body() + "\n" + line + "\n", [witness.verifier()]).cosignatures


def test_add_signatures_accepts_line_objects_and_rejects_malformed_lines() -> None:
    signer = NoteSigner.from_key_string(PETER_SKEY)
    body, (line,) = split_note(PETER_NOTE)
    assert (
        add_signatures(PETER_TEXT + "\n" + ENOCH_SIG, [line])
        == PETER_TEXT + "\n" + ENOCH_SIG + PETER_SIG
    )
    with pytest.raises(MalformedNoteError, match="added signature line: no em dash"):
        add_signatures(PETER_NOTE, ["-- EnochRoot abcd"])
    assert sign_note(body, [signer]) == PETER_NOTE


# --- tampering ------------------------------------------------------------------------------


def test_a_changed_body_byte_fails() -> None:
    tampered = PETER_NOTE.replace("problem,", "problem;", 1)
    with pytest.raises(
        BadSignatureError,
        match=r"signature line 1: signature from key PeterNeumann\+c74f20a3 does not verify",
    ):
        open_note(tampered, [NoteVerifier.from_vkey(PETER_VKEY)])


def _with_signature(line: SignatureLine, signature: bytes) -> str:
    return str(dataclasses.replace(line, signature=signature)) + "\n"


def test_a_changed_signature_byte_fails() -> None:
    _, (line,) = split_note(PETER_NOTE)
    for index in (0, 31, 63):
        flipped = bytearray(line.signature)
        flipped[index] ^= 0x01
        tampered = PETER_TEXT + "\n" + _with_signature(line, bytes(flipped))
        with pytest.raises(BadSignatureError):
            open_note(tampered, [NoteVerifier.from_vkey(PETER_VKEY)])


def test_a_truncated_or_extended_signature_from_a_known_key_fails() -> None:
    _, (line,) = split_note(PETER_NOTE)
    for signature in (line.signature[:-1], line.signature + b"\0"):
        with pytest.raises(BadSignatureError, match="bytes, not 64"):
            open_note(
                PETER_TEXT + "\n" + _with_signature(line, signature),
                [NoteVerifier.from_vkey(PETER_VKEY)],
            )


def test_a_signature_from_an_unknown_key_is_kept_not_trusted() -> None:
    stranger = NoteSigner.generate("PeterNeumann")  # same name, other key: unknown
    note = add_signatures(PETER_NOTE, [str(split_note(sign_note(PETER_TEXT, [stranger]))[1][0])])
    opened = open_note(note, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert opened.signed_by == ("PeterNeumann",)
    assert [line.key_id for line in opened.unverified] == [stranger.key_id]
    with pytest.raises(UnverifiedNoteError):
        open_note(sign_note(PETER_TEXT, [stranger]), [NoteVerifier.from_vkey(PETER_VKEY)])


def test_a_known_key_id_with_another_keys_signature_fails() -> None:
    impostor = NoteSigner.generate("PeterNeumann")
    signature = split_note(sign_note(PETER_TEXT, [impostor]))[1][0].signature
    _, (line,) = split_note(PETER_NOTE)
    forged = PETER_TEXT + "\n" + ENOCH_SIG + _with_signature(line, signature)
    with pytest.raises(
        BadSignatureError, match="signature line 2: signature from key PeterNeumann"
    ):
        open_note(forged, [NoteVerifier.from_vkey(PETER_VKEY), NoteVerifier.from_vkey(ENOCH_VKEY)])


def test_the_same_key_twice_is_an_error() -> None:
    with pytest.raises(
        DuplicateSignatureError, match=r"signature line 2 repeats key PeterNeumann\+c74f20a3"
    ):
        open_note(PETER_NOTE + PETER_SIG, [NoteVerifier.from_vkey(PETER_VKEY)])
    with pytest.raises(DuplicateSignatureError, match="signature line 2 repeats key EnochRoot"):
        split_note(PETER_TEXT + "\n" + ENOCH_SIG + ENOCH_SIG)  # unknown keys too
    with pytest.raises(DuplicateSignatureError):
        add_signatures(PETER_NOTE, [PETER_SIG])
    signer = NoteSigner.from_key_string(PETER_SKEY)
    with pytest.raises(DuplicateSignatureError):
        sign_note(PETER_TEXT, [signer, signer])


def test_one_key_id_under_two_names_is_two_keys() -> None:
    """The (name, key id) pair identifies a key (signed-note, "Signatures")."""
    _, (line,) = split_note(PETER_NOTE)
    other = str(dataclasses.replace(line, name="CarmenSandiego")) + "\n"
    opened = open_note(PETER_NOTE + other, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert [u.name for u in opened.unverified] == ["CarmenSandiego"]


def test_an_altered_cosignature_timestamp_fails() -> None:
    witness = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    line = SignatureLine.parse(cosign(CHECKPOINT, witness, 1_700_000_000))
    later = (1_700_000_001).to_bytes(8, "big") + line.signature[8:]
    note = CHECKPOINT.body() + "\n" + _with_signature(line, later)
    with pytest.raises(BadSignatureError, match=r"cosignature \(time 1700000001\)"):
        open_note(note, [witness.verifier()])


def test_a_cosignature_timestamp_beyond_2_63_is_rejected() -> None:
    witness = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    timestamp = 2**63
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + CHECKPOINT.body().encode()
    payload = timestamp.to_bytes(8, "big") + witness.private_key.sign(message)
    note = (
        CHECKPOINT.body() + "\n" + str(SignatureLine(witness.name, witness.key_id, payload)) + "\n"
    )
    with pytest.raises(BadSignatureError, match=r"has timestamp 9223372036854775808 > 2\^63-1"):
        open_note(note, [witness.verifier()])


def _same_key_as_log_and_witness() -> tuple[NoteSigner, NoteSigner]:
    log = NoteSigner.generate("chainfin.example/ledger")
    return log, dataclasses.replace(log, kind=KeyKind.COSIGNATURE_V1)


def test_one_key_has_different_ids_as_log_and_as_witness() -> None:
    """The type byte in the key id keeps the two roles apart, even for one Ed25519 key."""
    log, witness = _same_key_as_log_and_witness()
    assert log.key_id != witness.key_id
    log_note = sign_checkpoint(CHECKPOINT, log)
    with pytest.raises(UnverifiedNoteError):
        open_note(log_note, [witness.verifier()])
    cosigned = CHECKPOINT.body() + "\n" + cosign(CHECKPOINT, witness, 5) + "\n"
    with pytest.raises(UnverifiedNoteError):
        open_note(cosigned, [log.verifier()])


def test_a_log_signature_presented_as_a_cosignature_fails() -> None:
    log, witness = _same_key_as_log_and_witness()
    (log_line,) = split_note(sign_checkpoint(CHECKPOINT, log))[1]
    forged = SignatureLine(
        witness.name, witness.key_id, (5).to_bytes(8, "big") + log_line.signature
    )
    with pytest.raises(BadSignatureError, match=r"cosignature \(time 5\) .* does not verify"):
        open_note(CHECKPOINT.body() + "\n" + str(forged) + "\n", [witness.verifier()])
    as_is = SignatureLine(witness.name, witness.key_id, log_line.signature)
    with pytest.raises(BadSignatureError, match="is 64 bytes after the key id, not 72"):
        open_note(CHECKPOINT.body() + "\n" + str(as_is) + "\n", [witness.verifier()])


def test_a_cosignature_presented_as_a_log_signature_fails() -> None:
    log, witness = _same_key_as_log_and_witness()
    cosig = SignatureLine.parse(cosign(CHECKPOINT, witness, 5))
    for payload, reason in (
        (cosig.signature[8:], "does not verify"),
        (cosig.signature, "72 bytes, not 64"),
    ):
        forged = SignatureLine(log.name, log.key_id, payload)
        with pytest.raises(BadSignatureError, match=reason):
            open_note(CHECKPOINT.body() + "\n" + str(forged) + "\n", [log.verifier()])


def test_open_checkpoint_demands_the_log_signature() -> None:
    log = NoteSigner.generate("chainfin.example/ledger")
    witness = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    only_witness = CHECKPOINT.body() + "\n" + cosign(CHECKPOINT, witness, 5) + "\n"
    with pytest.raises(
        UnverifiedNoteError, match=r"no signature from log key chainfin\.example/ledger"
    ):
        open_checkpoint(only_witness, log.verifier(), [witness.verifier()])
    with pytest.raises(NoteError, match="is a cosignature/v1 key; a log signs with ed25519"):
        open_checkpoint(only_witness, witness.verifier())
    body_not_checkpoint = sign_note("hello\n", [log])
    with pytest.raises(CheckpointFormatError, match="checkpoint body has 1 line"):
        open_checkpoint(body_not_checkpoint, log.verifier())


def test_two_different_trusted_keys_with_one_name_and_id_are_ambiguous() -> None:
    peter = NoteVerifier.from_vkey(PETER_VKEY)
    open_note(PETER_NOTE, [peter, NoteVerifier.from_vkey(PETER_VKEY)])  # same key twice: fine
    twin = object.__new__(NoteVerifier)  # a forged collision; the constructor would refuse it
    for name, value in (
        ("name", peter.name),
        ("key_id", peter.key_id),
        ("public_key", bytes(32)),
        ("kind", peter.kind),
    ):
        object.__setattr__(twin, name, value)
    with pytest.raises(AmbiguousKeyError, match=r"share name PeterNeumann and key id c74f20a3"):
        open_note(PETER_NOTE, [peter, twin])


def test_signing_refuses_the_wrong_kind_of_key_and_bad_timestamps() -> None:
    witness = NoteSigner.generate("witness.example/w1", KeyKind.COSIGNATURE_V1)
    log = NoteSigner.generate("chainfin.example/ledger")
    with pytest.raises(NoteError, match="is a cosignature/v1 key: witnesses sign with cosign"):
        sign_note("hello\n", [witness])
    with pytest.raises(NoteError, match="is an ed25519 key; cosign needs cosignature/v1"):
        cosign(CHECKPOINT, log, 5)
    for timestamp in (-1, 2**63, True):
        with pytest.raises(NoteError, match=r"timestamp must be an int in \[0, 2\^63-1\]"):
            cosign(CHECKPOINT, witness, timestamp)
    assert cosign(CHECKPOINT, witness, 2**63 - 1)
    with pytest.raises(NoteError, match="needs at least one signer"):
        sign_note("hello\n", [])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "note body must end with a newline"),
        ("hello", "note body must end with a newline"),
        ("hel\x00lo\n", "note body contains control character U+0000"),
        ("hello\r\n", "note body contains control character U+000D"),
        ("hel\ud800lo\n", "note body is not valid UTF-8 (lone surrogate U+D800)"),
    ],
)
def test_sign_note_refuses_bodies_a_verifier_would_reject(body: str, reason: str) -> None:
    with pytest.raises(MalformedNoteError) as caught:
        sign_note(body, [NoteSigner.from_key_string(PETER_SKEY)])
    assert caught.value.message == reason


def test_a_note_may_carry_a_hundred_signatures_but_not_more() -> None:
    strangers = "".join(
        str(SignatureLine(f"stranger{i}", i.to_bytes(4, "big"), bytes(64))) + "\n"
        for i in range(99)
    )
    opened = open_note(PETER_NOTE + strangers, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert len(opened.unverified) == MAX_SIGNATURES - 1
    one_more = str(SignatureLine("stranger-x", bytes(4), bytes(64))) + "\n"
    with pytest.raises(MalformedNoteError, match="note has 101 signature lines; at most 100"):
        split_note(PETER_NOTE + strangers + one_more)


# --- strict parsing tables ------------------------------------------------------------------

SIG = PETER_SIG.removeprefix("— PeterNeumann ").removesuffix("\n")

# Each row: a note and why it is not a signed note. Rows whose text breaks several rules
# name the rule that wins. Several come from golang.org/x/mod/sumdb/note TestOpen's badMsgs.
NOTE_REJECTIONS: list[tuple[str | bytes, str]] = [
    (b"\xff" + PETER_NOTE.encode(), "note is not valid UTF-8"),
    ("\x01" + PETER_NOTE, "note contains control character U+0001"),
    ("\x01" + PETER_TEXT, "note contains control character U+0001"),  # beats: no signatures
    (PETER_NOTE.replace("\n", "\r\n"), "note contains control character U+000D"),
    (PETER_TEXT + "\n" + PETER_SIG[:-1], "note does not end with a newline"),
    (PETER_TEXT + "\n— Bad Name " + SIG, "note does not end with a newline"),
    (PETER_TEXT, "note has no blank line before its signatures"),
    (PETER_TEXT + "\n", "note has no signature lines"),
    (
        PETER_NOTE + "Unexpected line.\n",
        "signature line 2: no em dash (U+2014) and space at the start",
    ),
    (PETER_TEXT + "\n-- PeterNeumann " + SIG + "\n", "signature line 1: no em dash"),
    (PETER_TEXT + "\n—PeterNeumann " + SIG + "\n", "signature line 1: no em dash"),
    (
        PETER_TEXT + "\n— PeterNeumann\n",
        "signature line 1: no space between key name and signature",
    ),
    (PETER_TEXT + "\n—  " + SIG + "\n", "signature line 1: key name is empty"),
    (
        PETER_TEXT + "\n— Peter+Neumann " + SIG + "\n",
        "signature line 1: key name 'Peter+Neumann' contains '+'",
    ),
    (
        PETER_TEXT + "\n— Peter\u3000Neumann " + SIG + "\n",
        "signature line 1: key name 'Peter\\u3000Neumann' contains whitespace",
    ),
    (
        PETER_TEXT + "\n— Bad Name " + SIG + "\n",
        "signature line 1: signature of Bad is not canonical standard base64",
    ),
    (
        PETER_TEXT + "\n— PeterNeumann " + SIG + " \n",
        "signature line 1: signature of PeterNeumann is not canonical",
    ),
    (
        PETER_TEXT + "\n— PeterNeumann " + SIG[:-2] + "N=\n",
        "signature line 1: signature of PeterNeumann is not canonical",
    ),
    (
        PETER_TEXT + "\n— PeterNeumann AAAA\n",
        "signature line 1: signature of PeterNeumann is 3 bytes; needs a 4-byte key id",
    ),
    (PETER_TEXT + "\n— PeterNeumann \n", "signature line 1: signature of PeterNeumann is 0 bytes"),
    (PETER_NOTE + PETER_SIG, "signature line 2 repeats key PeterNeumann+c74f20a3"),
]


@pytest.mark.parametrize(("note", "reason"), NOTE_REJECTIONS)
def test_malformed_notes_are_rejected_with_their_reason(note: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedNoteError) as caught:
        split_note(note)
    assert caught.value.message.startswith(reason)
    with pytest.raises(MalformedNoteError):
        open_note(note, [NoteVerifier.from_vkey(PETER_VKEY)])


def test_a_note_body_may_be_a_single_newline_and_lines_are_kept_verbatim() -> None:
    signer = NoteSigner.from_key_string(PETER_SKEY)
    for body in ("\n", "\n\n\n", "— looks like a signature\n", "tab-free  spaces \n"):
        assert open_note(sign_note(body, [signer]), [signer.verifier()]).body == body


def root_text(raw: bytes = ROOT) -> str:
    return b64(raw)


R = root_text()
NONCANONICAL_ROOT = R[:-2] + chr(ord(R[-2]) + 1) + "="  # stray bits in the last character

# Each row: a checkpoint body and why it is refused. Where a body breaks several rules the
# row's reason is the one that wins. Several bodies come from transparency-dev/formats
# log/checkpoint_test.go TestUnmarshalLogState (our root hashes must be 32 bytes).
CHECKPOINT_REJECTIONS = [
    ("", "checkpoint body is empty"),
    (f"Log\n123\n{R}", "checkpoint body does not end with a newline"),
    ("Head\n9944", "checkpoint body does not end with a newline"),  # beats: 2 lines
    ("Head\n9944\n", "checkpoint body has 2 line(s); needs origin, tree size and root hash"),
    ("\n", "checkpoint body has 1 line(s); needs origin, tree size and root hash"),
    (f"\n9944\n{R}\n", "line 1: origin is empty"),
    ("\nbananas\nnot base64\n", "line 1: origin is empty"),  # beats: lines 2 and 3
    (f"Log\x00\n9944\n{R}\n", "line 1: origin contains control character U+0000"),
    (f"Log\r\n9944\n{R}\n", "line 1: origin contains control character U+000D"),
    (f"Log\n\n{R}\n", "line 2: tree size is empty"),
    (f"Log\nbananas\n{R}\n", "line 2: tree size 'bananas' is not a decimal number"),
    (f"Log\n-34\n{R}\n", "line 2: tree size '-34' is not a decimal number"),
    (f"Log\n+34\n{R}\n", "line 2: tree size '+34' is not a decimal number"),
    (f"Log\n0x10\n{R}\n", "line 2: tree size '0x10' is not a decimal number"),
    (f"Log\n 16\n{R}\n", "line 2: tree size ' 16' is not a decimal number"),
    (f"Log\n1_6\n{R}\n", "line 2: tree size '1_6' is not a decimal number"),
    (f"Log\n١٦\n{R}\n", "line 2: tree size '١٦' is not a decimal number"),
    (f"Log\n007\n{R}\n", "line 2: tree size '007' has a leading zero"),
    (f"Log\n00\n{R}\n", "line 2: tree size '00' has a leading zero"),
    ("Log\n00\nnot base64\n", "line 2: tree size '00' has a leading zero"),  # beats: line 3
    (f"Log\n18446744073709551616\n{R}\n", "line 2: tree size 18446744073709551616 exceeds 2^64-1"),
    (
        f"Log\n3438945738945739845734895735\n{R}\n",
        "line 2: tree size 3438945738945739845734895735 exceeds 2^64-1",
    ),
    ("Log\n123\n\n", "line 3: root hash is empty"),
    (
        "Log\n123\nThisIsn'tBase64\n",
        'line 3: root hash "ThisIsn\'tBase64" is not canonical standard base64',
    ),
    (f"Log\n123\n{R[:-1]}\n", f"line 3: root hash '{R[:-1]}' is not canonical standard base64"),
    (f"Log\n123\n {R}\n", f"line 3: root hash ' {R}' is not canonical standard base64"),
    (
        f"Log\n123\n{NONCANONICAL_ROOT}\n",
        f"line 3: root hash '{NONCANONICAL_ROOT}' is not canonical",
    ),
    ("Log\n123\nYmFuYW5hcw==\n", "line 3: root hash is 7 bytes, not 32"),
    (f"Log\n123\n{b64(bytes(33))}\n", "line 3: root hash is 33 bytes, not 32"),
    (f"Log\n123\n{R}\n\n", "line 4: extension line is empty"),
    (f"Log\n123\n{R}\n\n\n\n", "line 4: extension line is empty"),
    (f"Log\n123\n{R}\nfirst\n\nthird\n", "line 5: extension line is empty"),
    (
        f"Log\n123\n{R}\nfirst\x7f\nsec\tond\n",
        "line 5: extension line contains control character U+0009",
    ),
]


@pytest.mark.parametrize(("body", "reason"), CHECKPOINT_REJECTIONS)
def test_malformed_checkpoint_bodies_are_rejected_with_their_reason(body: str, reason: str) -> None:
    with pytest.raises(CheckpointFormatError) as caught:
        Checkpoint.parse(body)
    assert caught.value.message.startswith(reason)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"Log\n0\n{R}\n", Checkpoint("Log", 0, ROOT)),
        (f"Log\n18446744073709551615\n{R}\n", Checkpoint("Log", 2**64 - 1, ROOT)),
        (f"go.sum database tree\n9944\n{R}\n", Checkpoint("go.sum database tree", 9944, ROOT)),
        (
            f"Log\n9944\n{R}\nHere's some associated data.\n",
            Checkpoint("Log", 9944, ROOT, ("Here's some associated data.",)),
        ),
        (
            f"Log\n9944\n{R}\nlots\nof\nlines\n",
            Checkpoint("Log", 9944, ROOT, ("lots", "of", "lines")),
        ),
        (f"产业金融/账本 +1\n1\n{R}\n", Checkpoint("产业金融/账本 +1", 1, ROOT)),
    ],
)
def test_well_formed_checkpoint_bodies_parse(body: str, expected: Checkpoint) -> None:
    assert Checkpoint.parse(body) == expected
    assert expected.body() == body


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (("", 1, ROOT, ()), "origin is empty"),
        (("a\nb", 1, ROOT, ()), "origin contains a newline"),
        (("a\tb", 1, ROOT, ()), "origin contains control character U+0009"),
        (("Log", -1, ROOT, ()), "tree size must be an int in [0, 2^64-1], not -1"),
        (
            ("Log", 2**64, ROOT, ()),
            "tree size must be an int in [0, 2^64-1], not 18446744073709551616",
        ),
        (("Log", True, ROOT, ()), "tree size must be an int in [0, 2^64-1], not True"),
        (("Log", 1, ROOT[:31], ()), "root hash must be 32 bytes"),
        (("Log", 1, bytearray(ROOT), ()), "root hash must be 32 bytes"),
        (("Log", 1, ROOT, ["ext"]), "extensions must be a tuple of strings"),
        (("Log", 1, ROOT, ("",)), "extension line is empty"),
        (("Log", 1, ROOT, ("a\nb",)), "extension line contains a newline"),
    ],
)
def test_checkpoints_refuse_fields_their_body_could_not_carry(
    fields: tuple[object, ...], reason: str
) -> None:
    with pytest.raises(CheckpointFormatError) as caught:
        Checkpoint(*fields)  # type: ignore[arg-type]
    assert caught.value.message == reason


PETER_MATERIAL = PETER_VKEY.split("+", 2)[2]
PETER_PUBLIC = base64.b64decode(PETER_MATERIAL)[1:]

# Each row: a verifier key string and why it is refused, rules in order of precedence.
VKEY_REJECTIONS = [
    (PETER_SKEY, "this is a signer (private) key, not a verifier key"),
    ("PeterNeumann", "key must be <name>+<key id>+<key material>; got 1 field(s)"),
    ("PeterNeumann+c74f20a3", "key must be <name>+<key id>+<key material>; got 2 field(s)"),
    ("+c74f20a3+" + PETER_MATERIAL, "key name is empty"),
    ("Peter Neumann+c74f20a3+" + PETER_MATERIAL, "key name 'Peter Neumann' contains whitespace"),
    (
        "Peter\u00a0Neumann+c74f20a3+" + PETER_MATERIAL,
        "key name 'Peter\\xa0Neumann' contains whitespace",
    ),
    (
        "Peter\x00+c74f20a3+" + PETER_MATERIAL,
        "key name 'Peter\\x00' contains control character U+0000",
    ),
    ("PeterNeumann+C74F20A3+" + PETER_MATERIAL, "key id 'C74F20A3' is not 8 lowercase hex digits"),
    ("PeterNeumann+c74f20a+" + PETER_MATERIAL, "key id 'c74f20a' is not 8 lowercase hex digits"),
    (
        "PeterNeumann+0xc74f20a3+" + PETER_MATERIAL,
        "key id '0xc74f20a3' is not 8 lowercase hex digits",
    ),
    (
        "PeterNeumann+c74f20a3+" + PETER_MATERIAL + "!",
        "public key is not canonical standard base64",
    ),
    (
        "PeterNeumann+c74f20a3+" + PETER_MATERIAL + " ",
        "public key is not canonical standard base64",
    ),
    # golang.org/x/mod/sumdb/note TestNewVerifier: wrong-length key with adjusted hash (Go
    # takes the non-canonical "==" tail; we refuse it first).
    (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "public key is not canonical standard base64",
    ),
    ("PeterNeumann+c74f20a3+", "public key is empty"),
    # golang.org/x/mod/sumdb/note TestNewVerifier: unknown algorithm, with adjusted hash.
    (
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "signature type 0x65 is not supported (only 0x01 Ed25519 and 0x04 cosignature/v1)",
    ),
    (REKOR_ECDSA_VKEY, "signature type 0x02 is not supported"),
    (
        "PeterNeumann+c74f20a3+" + b64(b"\x01" + PETER_PUBLIC[:31]),
        "public key is 31 bytes after the type byte, not 32",
    ),
    (
        "PeterNeumann+c74f20a3+" + b64(b"\x01" + PETER_PUBLIC + b"\0"),
        "public key is 33 bytes after the type byte, not 32",
    ),
    (
        "PeterNeumann+c74f20a4+" + PETER_MATERIAL,
        "key id c74f20a4 does not match the key (expected c74f20a3)",
    ),
    (
        "PeterNeumann+c74f20a3+" + b64(b"\x04" + PETER_PUBLIC),
        "key id c74f20a3 does not match the key (expected "
        + key_id("PeterNeumann", KeyKind.COSIGNATURE_V1, PETER_PUBLIC).hex()
        + ")",
    ),
    ("PeterNeuman+c74f20a3+" + PETER_MATERIAL, "key id c74f20a3 does not match the key (expected "),
]


@pytest.mark.parametrize(("text", "reason"), VKEY_REJECTIONS)
def test_malformed_verifier_keys_are_rejected_with_their_reason(text: str, reason: str) -> None:
    with pytest.raises(KeyStringError) as caught:
        NoteVerifier.from_vkey(text)
    assert caught.value.message.startswith(reason)


PETER_SEED_MATERIAL = PETER_SKEY.split("+", 4)[4]
PETER_SEED = base64.b64decode(PETER_SEED_MATERIAL)[1:]

SKEY_REJECTIONS = [
    (PETER_VKEY, "signer key must start with 'PRIVATE+KEY+'"),
    ("private+key+PeterNeumann+c74f20a3+" + PETER_SEED_MATERIAL, "signer key must start with"),
    ("PRIVATE+KEY+PeterNeumann", "key must be <name>+<key id>+<key material>; got 1 field(s)"),
    ("PRIVATE+KEY++c74f20a3+" + PETER_SEED_MATERIAL, "key name is empty"),
    (
        "PRIVATE+KEY+Peter Neumann+c74f20a3+" + PETER_SEED_MATERIAL,
        "key name 'Peter Neumann' contains whitespace",
    ),
    (
        "PRIVATE+KEY+PeterNeumann+c74f20a+" + PETER_SEED_MATERIAL,
        "key id 'c74f20a' is not 8 lowercase hex digits",
    ),
    (
        "PRIVATE+KEY+PeterNeumann+c74f20a3+" + PETER_SEED_MATERIAL[:-1],
        "private key is not canonical standard base64",
    ),
    ("PRIVATE+KEY+PeterNeumann+c74f20a3+", "private key is empty"),
    (
        "PRIVATE+KEY+PeterNeumann+c74f20a3+" + b64(b"\x02" + PETER_SEED),
        "signature type 0x02 is not supported",
    ),
    (
        "PRIVATE+KEY+PeterNeumann+c74f20a3+" + b64(b"\x01" + PETER_SEED[:31]),
        "private key is 31 bytes after the type byte",
    ),
    (
        "PRIVATE+KEY+PeterNeumann+c74f20a4+" + PETER_SEED_MATERIAL,
        "key id c74f20a4 does not match the key (expected c74f20a3)",
    ),
    (
        "PRIVATE+KEY+EnochRoot+c74f20a3+" + PETER_SEED_MATERIAL,
        "key id c74f20a3 does not match the key (expected ",
    ),
]


@pytest.mark.parametrize(("text", "reason"), SKEY_REJECTIONS)
def test_malformed_signer_keys_are_rejected_without_echoing_the_secret(
    text: str, reason: str
) -> None:
    with pytest.raises(KeyStringError) as caught:
        NoteSigner.from_key_string(text)
    assert caught.value.message.startswith(reason)
    assert PETER_SEED_MATERIAL[4:20] not in caught.value.message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "key name is empty"),
        ("a b", "key name 'a b' contains whitespace"),
        ("a\u2003b", "key name 'a\\u2003b' contains whitespace"),
        ("a+b", "key name 'a+b' contains '+'"),
        ("a\x1bb", "key name 'a\\x1bb' contains control character U+001B"),
        ("a\ud800", "key name 'a\\ud800' is not valid UTF-8 (lone surrogate U+D800)"),
    ],
)
def test_key_names_follow_the_spec(name: str, reason: str) -> None:
    with pytest.raises(KeyStringError) as caught:
        NoteSigner.generate(name)
    assert caught.value.message == reason
    with pytest.raises(KeyStringError):
        NoteVerifier.from_public_key(name, PETER_PUBLIC)


def test_a_verifier_refuses_a_key_id_that_is_not_its_own() -> None:
    with pytest.raises(KeyStringError, match="key id 00000000 does not match the key"):
        NoteVerifier("PeterNeumann", bytes(4), PETER_PUBLIC)
    with pytest.raises(KeyStringError, match="public key must be 32 bytes"):
        NoteVerifier("PeterNeumann", bytes(4), PETER_PUBLIC[:31])


# --- properties -----------------------------------------------------------------------------

line_text = st.text(st.characters(codec="utf-8", min_codepoint=0x20), min_size=1, max_size=40)


@given(
    origin=line_text,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text, max_size=3).map(tuple),
)
def test_checkpoints_round_trip_through_their_body(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    body = checkpoint.body()
    assert Checkpoint.parse(body) == checkpoint
    assert Checkpoint.parse(body).body() == body


PETER = NoteSigner.from_key_string(PETER_SKEY)
body_text = st.text(
    st.characters(codec="utf-8", min_codepoint=0x20) | st.just("\n"), max_size=60
).map(lambda text: text + "\n")


@given(body=body_text)
def test_any_well_formed_body_signs_and_opens_to_itself(body: str) -> None:
    opened = open_note(sign_note(body, [PETER]), [PETER.verifier()])
    assert opened.body == body


@given(data=st.data())
def test_no_single_character_change_to_a_signed_body_verifies(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(PETER_TEXT) - 1))
    replacement = data.draw(
        st.sampled_from("\n Aa.,;'0~é").filter(lambda ch: ch != PETER_TEXT[index])
    )
    tampered = PETER_TEXT[:index] + replacement + PETER_TEXT[index + 1 :]
    with pytest.raises(NoteError):
        open_note(tampered + "\n" + PETER_SIG, [PETER.verifier()])
