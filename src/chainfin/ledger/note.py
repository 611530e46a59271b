"""C2SP signed notes, checkpoints and witness cosignatures, with Ed25519 keys.

Implemented from the text of three specifications:

* ``c2sp.org/signed-note``: a body ending in a newline, a blank line, then one or more
  signature lines ``— <key name> <base64(key id || signature)>``, where the key id is
  ``SHA-256(key name || 0x0A || signature type || public key)[:4]``. Ed25519 is type 0x01.
  Verifier keys (vkeys) read ``<name>+<hex key id>+<base64(type || public key)>``.
* ``c2sp.org/tlog-checkpoint``: the body of a log's signed tree head (origin, decimal tree
  size, base64 root hash, optional extension lines, each line ending in a newline).
* ``c2sp.org/tlog-cosignature``: a witness's timestamped Ed25519 signature (type 0x04) over
  ``cosignature/v1\\ntime <POSIX seconds>\\n`` followed by the checkpoint body; its payload is
  key id (4) || timestamp (8, big-endian) || signature (64).

Signer keys follow golang.org/x/mod/sumdb/note:
``PRIVATE+KEY+<name>+<hex key id>+<base64(type || 32-byte seed)>``; type 0x04 there marks a
witness (cosignature/v1) key. This module imports only the standard library and
``cryptography``, so an auditor's standalone verifier can vendor it.

>>> v = NoteVerifier.from_vkey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
>>> (v.name, v.key_id.hex(), str(v.kind))
('PeterNeumann', 'c74f20a3', 'ed25519')
>>> Checkpoint.parse("example.com/log\\n0x10\\n" + "A" * 43 + "=\\n")
Traceback (most recent call last):
...
chainfin.ledger.note.CheckpointFormatError: line 2: tree size '0x10' is not a decimal number
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
COSIGNATURE_HEADER = "cosignature/v1"
# golang.org/x/mod/sumdb/note refuses more than 100; the spec asks verifiers to accept 16.
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1
MAX_TREE_SIZE = 2**64 - 1
HASH_SIZE = 32
_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # below U+0020, except the newline
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"[0-9]+")


class KeyKind(StrEnum):
    """What a key signs: plain note signatures, or witness cosignatures of checkpoints."""

    ED25519 = "ed25519"
    COSIGNATURE_V1 = "cosignature/v1"

    @property
    def type_byte(self) -> int:
        """The signature type identifier byte of c2sp.org/signed-note."""
        return _TYPE_BYTES[self]


_TYPE_BYTES: dict[KeyKind, int] = {KeyKind.ED25519: 0x01, KeyKind.COSIGNATURE_V1: 0x04}
_KINDS_BY_TYPE: dict[int, KeyKind] = {byte: kind for kind, byte in _TYPE_BYTES.items()}


# --- errors ---------------------------------------------------------------------------------


class NoteError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for a person."""

    code = "note-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedNoteError(NoteError):
    """The text is not a signed note: framing, characters or a signature line is wrong."""

    code = "malformed-note"


class DuplicateSignatureError(MalformedNoteError):
    """Two signature lines carry the same key (same name and key id)."""

    code = "duplicate-signature"


class BadSignatureError(NoteError):
    """A signature from a known key does not verify: the whole note is rejected."""

    code = "bad-signature"


class UnverifiedNoteError(NoteError):
    """No signature from a known key (or from the required key) verified."""

    code = "unverified-note"


class AmbiguousKeyError(NoteError):
    """Two different trusted keys share a name and key id, so a signature line can't name one."""

    code = "ambiguous-key"


class KeyStringError(NoteError):
    """A key name, verifier key or signer key string is not well formed."""

    code = "bad-key"


class CheckpointFormatError(NoteError):
    """A checkpoint body or field breaks c2sp.org/tlog-checkpoint."""

    code = "bad-checkpoint"


# --- small validators: each returns a reason, or None when the value is fine ------------------


def _character_problem(text: str) -> str | None:
    found = _CONTROL.search(text)
    if found:
        return f"contains control character U+{ord(found.group()):04X}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid UTF-8 (lone surrogate U+{ord(text[exc.start]):04X})"
    return None


def _name_problem(name: str) -> str | None:
    if not name:
        return "key name is empty"
    if any(ch.isspace() for ch in name):
        return f"key name {name!r} contains whitespace"
    if "+" in name:
        return f"key name {name!r} contains '+'"
    problem = _character_problem(name)
    return f"key name {name!r} {problem}" if problem else None


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64: padded, no whitespace, no stray bits. None when it isn't."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id(name: str, kind: KeyKind, public_key: bytes) -> bytes:
    """The 4-byte key id: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([kind.type_byte]) + public_key
    return hashlib.sha256(material).digest()[:4]


def _split_key_fields(text: str) -> tuple[str, str, str]:
    # Names and hex ids hold no '+', so the first two '+' split; base64 may hold more.
    name, sep1, rest = text.partition("+")
    hex_id, sep2, material = rest.partition("+")
    if not (sep1 and sep2):
        raise KeyStringError(
            f"key must be <name>+<key id>+<key material>; got {text.count('+') + 1} field(s)"
        )
    problem = _name_problem(name)
    if problem:
        raise KeyStringError(problem)
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise KeyStringError(f"key id {hex_id!r} is not 8 lowercase hex digits")
    return name, hex_id, material


def _decode_key_material(material: str, what: str) -> tuple[KeyKind, bytes]:
    raw = _b64decode(material)
    if raw is None:
        raise KeyStringError(f"{what} is not canonical standard base64")
    if not raw:
        raise KeyStringError(f"{what} is empty")
    kind = _KINDS_BY_TYPE.get(raw[0])
    if kind is None:
        raise KeyStringError(
            f"signature type 0x{raw[0]:02x} is not supported "
            "(only 0x01 Ed25519 and 0x04 cosignature/v1)"
        )
    if len(raw) - 1 != _KEY_SIZE:
        raise KeyStringError(f"{what} is {len(raw) - 1} bytes after the type byte, not {_KEY_SIZE}")
    return kind, raw[1:]


def _check_key_id(claimed_hex: str, actual: bytes) -> None:
    if claimed_hex != actual.hex():
        raise KeyStringError(
            f"key id {claimed_hex} does not match the key (expected {actual.hex()})"
        )


# --- keys -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted public key: its name, 4-byte key id, 32-byte Ed25519 key and kind."""

    name: str
    key_id: bytes
    public_key: bytes
    kind: KeyKind = KeyKind.ED25519

    def __post_init__(self) -> None:
        problem = _name_problem(self.name)
        if problem:
            raise KeyStringError(problem)
        if not isinstance(self.kind, KeyKind):
            raise KeyStringError(f"kind must be a KeyKind, not {self.kind!r}")
        if type(self.public_key) is not bytes or len(self.public_key) != _KEY_SIZE:
            raise KeyStringError(f"public key must be {_KEY_SIZE} bytes")
        if type(self.key_id) is not bytes:
            raise KeyStringError("key id must be bytes")
        _check_key_id(self.key_id.hex(), key_id(self.name, self.kind, self.public_key))

    @classmethod
    def from_public_key(
        cls, name: str, public_key: bytes, kind: KeyKind = KeyKind.ED25519
    ) -> NoteVerifier:
        problem = _name_problem(name)
        if problem:
            raise KeyStringError(problem)
        return cls(name, key_id(name, kind, public_key), public_key, kind)

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        """Parse ``<name>+<hex key id>+<base64(type || public key)>``."""
        if text.startswith(PRIVATE_KEY_PREFIX):
            raise KeyStringError("this is a signer (private) key, not a verifier key")
        name, hex_id, material = _split_key_fields(text)
        kind, public_key = _decode_key_material(material, "public key")
        _check_key_id(hex_id, key_id(name, kind, public_key))
        return cls(name, bytes.fromhex(hex_id), public_key, kind)

    def vkey(self) -> str:
        material = _b64encode(bytes([self.kind.type_byte]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def _verify(self, body: bytes, line: SignatureLine) -> int | None:
        """Check one signature line of ours; return its timestamp for a cosignature."""
        who = f"key {self.name}+{self.key_id.hex()}"
        public_key = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.kind is KeyKind.ED25519:
            if len(line.signature) != _SIGNATURE_SIZE:
                raise BadSignatureError(
                    f"signature from {who} is {len(line.signature)} bytes, not {_SIGNATURE_SIZE}"
                )
            message, signature, timestamp = body, line.signature, None
        else:
            timestamp = cosignature_timestamp(line)
            if timestamp > MAX_TIMESTAMP:
                raise BadSignatureError(
                    f"cosignature from {who} has timestamp {timestamp} > 2^63-1"
                )
            message = _cosignature_prefix(timestamp) + body
            signature = line.signature[_TIMESTAMP_SIZE:]
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            what = "signature" if timestamp is None else f"cosignature (time {timestamp})"
            raise BadSignatureError(f"{what} from {who} does not verify") from None
        return timestamp


@dataclass(frozen=True, slots=True, eq=False)
class NoteSigner:
    """A private Ed25519 key with its name. ``kind`` COSIGNATURE_V1 makes it a witness key;
    ``dataclasses.replace(signer, kind=...)`` reuses one key for the other kind."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    kind: KeyKind = KeyKind.ED25519

    def __post_init__(self) -> None:
        problem = _name_problem(self.name)
        if problem:
            raise KeyStringError(problem)
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise KeyStringError("private key must be an Ed25519PrivateKey")
        if not isinstance(self.kind, KeyKind):
            raise KeyStringError(f"kind must be a KeyKind, not {self.kind!r}")

    @classmethod
    def generate(cls, name: str, kind: KeyKind = KeyKind.ED25519) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate(), kind)

    @classmethod
    def from_key_string(cls, text: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>``.

        Error messages never quote the key material."""
        if not text.startswith(PRIVATE_KEY_PREFIX):
            raise KeyStringError(f"signer key must start with {PRIVATE_KEY_PREFIX!r}")
        name, hex_id, material = _split_key_fields(text.removeprefix(PRIVATE_KEY_PREFIX))
        kind, seed = _decode_key_material(material, "private key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed), kind)
        _check_key_id(hex_id, signer.key_id)
        return signer

    def key_string(self) -> str:
        """The secret ``PRIVATE+KEY+...`` form. Treat it like the key itself."""
        material = _b64encode(bytes([self.kind.type_byte]) + self.private_key.private_bytes_raw())
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{material}"

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.key_id, self.public_key, self.kind)


# --- signature lines and notes --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureLine:
    """One ``— <name> <base64(key id || signature)>`` line, verified or not.

    ``signature`` is everything after the key id: 64 bytes for Ed25519, timestamp (8) and
    signature (64) for a cosignature/v1."""

    name: str
    key_id: bytes
    signature: bytes

    def __str__(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}"

    @classmethod
    def parse(cls, text: str) -> SignatureLine:
        if not text.startswith(SIGNATURE_PREFIX):
            raise MalformedNoteError("no em dash (U+2014) and space at the start")
        name, space, encoded = text.removeprefix(SIGNATURE_PREFIX).partition(" ")
        if not space:
            raise MalformedNoteError("no space between key name and signature")
        problem = _name_problem(name)
        if problem:
            raise MalformedNoteError(problem)
        raw = _b64decode(encoded)
        if raw is None:
            raise MalformedNoteError(f"signature of {name} is not canonical standard base64")
        if len(raw) < 5:
            raise MalformedNoteError(
                f"signature of {name} is {len(raw)} bytes; needs a 4-byte key id and a signature"
            )
        return cls(name, raw[:4], raw[4:])


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified witness cosignature: who, which key, and when (POSIX seconds)."""

    name: str
    key_id: bytes
    timestamp: int


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """What :func:`open_note` established.

    ``signed_by`` names the Ed25519 note keys whose signatures verified, ``cosignatures`` the
    verified witness cosignatures; ``unverified`` keeps the lines from keys not trusted here."""

    body: str
    signed_by: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...]
    unverified: tuple[SignatureLine, ...]
    verified: tuple[SignatureLine, ...]

    def verified_by(self, verifier: NoteVerifier) -> bool:
        return any(
            line.name == verifier.name and line.key_id == verifier.key_id for line in self.verified
        )


def cosignature_timestamp(line: SignatureLine) -> int:
    """The timestamp a cosignature/v1 line claims. Unverified: read it only to display or
    to pick lines; trust it only from :func:`open_note`."""
    if len(line.signature) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
        raise BadSignatureError(
            f"cosignature from key {line.name}+{line.key_id.hex()} is {len(line.signature)} "
            f"bytes after the key id, not {_TIMESTAMP_SIZE + _SIGNATURE_SIZE} "
            "(8-byte timestamp, 64-byte signature)"
        )
    return int.from_bytes(line.signature[:_TIMESTAMP_SIZE], "big")


def _cosignature_prefix(timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n".encode("ascii")


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, time line, then the checkpoint body."""
    _check_timestamp(timestamp)
    return _cosignature_prefix(timestamp) + body.encode("utf-8")


def _check_timestamp(timestamp: int) -> None:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"timestamp must be an int in [0, 2^63-1], got {timestamp!r}")


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise MalformedNoteError("note body must end with a newline")
    problem = _character_problem(body)
    if problem:
        raise MalformedNoteError(f"note body {problem}")


def split_note(note: str | bytes) -> tuple[str, tuple[SignatureLine, ...]]:
    """Parse a signed note without verifying it: its body and its signature lines."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
    problem = _character_problem(note)
    if problem:
        raise MalformedNoteError(f"note {problem}")
    if not note.endswith("\n"):
        raise MalformedNoteError("note does not end with a newline")
    cut = note.rfind("\n\n")  # the last empty line separates body and signatures
    if cut < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    body, block = note[: cut + 1], note[cut + 2 :]
    if not block:
        raise MalformedNoteError("note has no signature lines")
    texts = block[:-1].split("\n")
    if len(texts) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has {len(texts)} signature lines; at most {MAX_SIGNATURES}")
    lines: list[SignatureLine] = []
    seen: set[tuple[str, bytes]] = set()
    for number, text in enumerate(texts, 1):
        try:
            line = SignatureLine.parse(text)
        except MalformedNoteError as exc:
            raise MalformedNoteError(f"signature line {number}: {exc.message}") from None
        _add_unique(seen, line, number)
        lines.append(line)
    return body, tuple(lines)


def _add_unique(seen: set[tuple[str, bytes]], line: SignatureLine, number: int) -> None:
    key = (line.name, line.key_id)
    if key in seen:
        raise DuplicateSignatureError(
            f"signature line {number} repeats key {line.name}+{line.key_id.hex()}"
        )
    seen.add(key)


def _join(body: str, lines: Iterable[SignatureLine]) -> str:
    return body + "\n" + "".join(f"{line}\n" for line in lines)


def sign_note(body: str, signers: Iterable[NoteSigner]) -> str:
    """Sign ``body`` (which ends in a newline) with Ed25519 note keys."""
    _check_body(body)
    lines: list[SignatureLine] = []
    seen: set[tuple[str, bytes]] = set()
    message = body.encode("utf-8")
    for number, signer in enumerate(signers, 1):
        if signer.kind is not KeyKind.ED25519:
            raise NoteError(
                f"key {signer.name} is a {signer.kind} key: witnesses sign with cosign()"
            )
        line = SignatureLine(signer.name, signer.key_id, signer.private_key.sign(message))
        _add_unique(seen, line, number)
        lines.append(line)
    if not lines:
        raise NoteError("sign_note needs at least one signer")
    return _join(body, lines)


def add_signatures(note: str, lines: Iterable[str | SignatureLine]) -> str:
    """Append signature lines (a witness's cosignature, say) to a signed note.

    Checks the framing and rejects repeated keys; verifies nothing: :func:`open_note` does."""
    body, existing = split_note(note)
    combined = list(existing)
    seen = {(line.name, line.key_id) for line in existing}
    for line in lines:
        if isinstance(line, str):
            try:
                line = SignatureLine.parse(line.removesuffix("\n"))
            except MalformedNoteError as exc:
                raise MalformedNoteError(f"added signature line: {exc.message}") from None
        combined.append(line)
        _add_unique(seen, line, len(combined))
    if len(combined) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note would have {len(combined)} signature lines")
    return _join(body, combined)


def _index(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if known.setdefault(key, verifier) != verifier:
            raise AmbiguousKeyError(
                f"two trusted keys share name {verifier.name} and key id {verifier.key_id.hex()}"
            )
    return known


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """Verify every signature from a known key; keep the others as unverified.

    A signature from a known key that fails is an error for the whole note, and so is a
    note that no known key signed (c2sp.org/signed-note, "Signatures")."""
    body, lines = split_note(note)
    known = _index(verifiers)
    message = body.encode("utf-8")
    signed_by: list[str] = []
    cosignatures: list[Cosignature] = []
    verified: list[SignatureLine] = []
    unverified: list[SignatureLine] = []
    for number, line in enumerate(lines, 1):
        verifier = known.get((line.name, line.key_id))
        if verifier is None:
            unverified.append(line)
            continue
        try:
            timestamp = verifier._verify(message, line)
        except BadSignatureError as exc:
            raise BadSignatureError(f"signature line {number}: {exc.message}") from None
        verified.append(line)
        if timestamp is None:
            signed_by.append(line.name)
        else:
            cosignatures.append(Cosignature(line.name, line.key_id, timestamp))
    if not verified:
        names = ", ".join(f"{line.name}+{line.key_id.hex()}" for line in lines)
        raise UnverifiedNoteError(f"note has no signature from a known key (signed by {names})")
    return VerifiedNote(
        body, tuple(signed_by), tuple(cosignatures), tuple(unverified), tuple(verified)
    )


# --- checkpoints ----------------------------------------------------------------------------


def _origin_problem(origin: str) -> str | None:
    if not origin:
        return "origin is empty"
    if "\n" in origin:
        return "origin contains a newline"
    problem = _character_problem(origin)
    return f"origin {problem}" if problem else None


def _extension_problem(extension: str) -> str | None:
    if not extension:
        return "extension line is empty"
    if "\n" in extension:
        return "extension line contains a newline"
    problem = _character_problem(extension)
    return f"extension line {problem}" if problem else None


def _size_problem(text: str) -> str | None:
    if not text:
        return "tree size is empty"
    if not _DECIMAL.fullmatch(text):
        return f"tree size {text!r} is not a decimal number"
    if text != "0" and text.startswith("0"):
        return f"tree size {text!r} has a leading zero"
    if int(text) > MAX_TREE_SIZE:
        return f"tree size {text} exceeds 2^64-1"
    return None


def _root_problem(text: str) -> str | None:
    if not text:
        return "root hash is empty"
    raw = _b64decode(text)
    if raw is None:
        return f"root hash {text!r} is not canonical standard base64"
    if len(raw) != HASH_SIZE:
        return f"root hash is {len(raw)} bytes, not {HASH_SIZE}"
    return None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, tree size, RFC 9162 root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _origin_problem(self.origin)
        if problem:
            raise CheckpointFormatError(problem)
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointFormatError(
                f"tree size must be an int in [0, 2^64-1], not {self.size!r}"
            )
        if type(self.root_hash) is not bytes or len(self.root_hash) != HASH_SIZE:
            raise CheckpointFormatError(f"root hash must be {HASH_SIZE} bytes")
        if type(self.extensions) is not tuple:
            raise CheckpointFormatError("extensions must be a tuple of strings")
        for extension in self.extensions:
            problem = _extension_problem(extension)
            if problem:
                raise CheckpointFormatError(problem)

    def body(self) -> str:
        lines = (self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Strictly parse a checkpoint body; errors name the first bad line."""
        if not body:
            raise CheckpointFormatError("checkpoint body is empty")
        if not body.endswith("\n"):
            raise CheckpointFormatError("checkpoint body does not end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointFormatError(
                f"checkpoint body has {len(lines)} line(s); needs origin, tree size and root hash"
            )
        checks = [_origin_problem, _size_problem, _root_problem]
        checks += [_extension_problem] * (len(lines) - 3)
        for number, (check, line) in enumerate(zip(checks, lines, strict=True), 1):
            problem = check(line)
            if problem:
                raise CheckpointFormatError(f"line {number}: {problem}")
        root_hash = base64.b64decode(lines[2])
        return cls(lines[0], int(lines[1]), root_hash, tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The log's signed note for ``checkpoint``."""
    return sign_note(checkpoint.body(), [signer])


def cosign(checkpoint: Checkpoint, signer: NoteSigner, timestamp: int) -> str:
    """A witness's cosignature/v1 line (no trailing newline) for ``checkpoint`` at
    ``timestamp`` POSIX seconds. Append it with :func:`add_signatures`."""
    if signer.kind is not KeyKind.COSIGNATURE_V1:
        raise NoteError(f"key {signer.name} is an {signer.kind} key; cosign needs cosignature/v1")
    message = cosigned_message(checkpoint.body(), timestamp)
    payload = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signer.private_key.sign(message)
    return str(SignatureLine(signer.name, signer.key_id, payload))


def open_checkpoint(
    note: str | bytes,
    log: NoteVerifier,
    witnesses: Iterable[NoteVerifier] = (),
    *,
    origin: str | None = None,
) -> tuple[Checkpoint, VerifiedNote]:
    """Open a checkpoint note that ``log`` must have signed, verifying any known witnesses.

    ``origin``, when given, must equal the origin line (the log's key name only SHOULD)."""
    if log.kind is not KeyKind.ED25519:
        raise NoteError(f"log key {log.name} is a {log.kind} key; a log signs with ed25519")
    opened = open_note(note, [log, *witnesses])
    if not opened.verified_by(log):
        raise UnverifiedNoteError(
            f"checkpoint has no signature from log key {log.name}+{log.key_id.hex()}"
        )
    checkpoint = Checkpoint.parse(opened.body)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointFormatError(f"origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint, opened
