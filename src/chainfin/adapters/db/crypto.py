"""Field-level encryption at rest for personal and contact data (AES-256-GCM).

Stored form: ``enc1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``. The column's purpose (for
example ``enterprise.phone``) is bound as associated data, so a ciphertext copied into
another column does not decrypt. Keys carry ids, so a new key can be made current while old
rows stay readable (``CHAINFIN_DATA_KEYS="k2:<b64>,k1:<b64>"``, the first one encrypts).

>>> cipher = FieldCipher({"k1": bytes(32)}, "k1")
>>> token = cipher.encrypt("13812345678", "enterprise.phone")
>>> token.startswith("enc1:k1:"), cipher.decrypt(token, "enterprise.phone")
(True, '13812345678')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1"


class CipherError(RuntimeError):
    """The data key is missing, malformed or does not match the stored value."""


class FieldCipher:
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise CipherError(f"current key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise CipherError(f"data key {key_id!r} must be 32 bytes, not {len(key)}")
            if not key_id.isalnum():
                raise CipherError(f"data key id {key_id!r} must be alphanumeric")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self.fingerprint = hashlib.sha256(
            b"".join(k.encode() + b"\0" + keys[k] for k in sorted(keys)) + current.encode()
        ).hexdigest()

    @classmethod
    def from_spec(cls, spec: str) -> FieldCipher:
        """``"k2:<base64 32 bytes>,k1:<base64>"``; the first key encrypts."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in filter(None, (p.strip() for p in spec.split(","))):
            key_id, sep, b64 = item.partition(":")
            if not sep:
                raise CipherError("each data key must look like <id>:<base64 of 32 bytes>")
            try:
                keys[key_id] = base64.b64decode(b64, validate=True)
            except binascii.Error:
                raise CipherError(f"data key {key_id!r} is not valid base64") from None
            order.append(key_id)
        if not order:
            raise CipherError("no data key given")
        return cls(keys, order[0])

    @staticmethod
    def new_spec(key_id: str = "k1") -> str:
        return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{PREFIX}:{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, purpose: str) -> str:
        prefix, key_id, b64 = [*token.split(":", 2), "", ""][:3]
        if prefix != PREFIX or key_id not in self._aead:
            raise CipherError(f"value is not encrypted with a known key ({prefix}:{key_id})")
        raw = base64.b64decode(b64)
        try:
            return self._aead[key_id].decrypt(raw[:12], raw[12:], purpose.encode()).decode()
        except InvalidTag:
            raise CipherError(f"{purpose}: stored value fails authentication") from None


_cipher: FieldCipher | None = None


def configure(cipher: FieldCipher) -> None:
    """Install the process's data keys (done by the app, the CLI and the tests at start).

    The keys are process-wide, so installing *different* keys while others are active is
    refused: it would make rows written a moment ago unreadable."""
    global _cipher
    if _cipher is not None and _cipher.fingerprint != cipher.fingerprint:
        raise CipherError(
            "different data keys are already configured in this process; "
            "use one CHAINFIN_DATA_KEYS per process"
        )
    _cipher = cipher


def current() -> FieldCipher:
    if _cipher is None:
        raise CipherError("no data key configured (CHAINFIN_DATA_KEYS)")
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; reads and writes see plain text."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current().encrypt(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current().decrypt(value, self.purpose)
