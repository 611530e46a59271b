"""Personal and contact fields are encrypted at rest and bound to their column."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db import crypto
from chainfin.adapters.db.crypto import CipherError, FieldCipher
from chainfin.adapters.db.models import Enterprise
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import registry
from testkeys import TEST_DATA_KEYS


def firm() -> EnterpriseRecord:
    return EnterpriseRecord(
        uscc=make_uscc("9", "1", "320505", "00000042"),
        name="苏州甲",
        region_code="320505",
        industry_code="C36",
        roles=frozenset({Role.SUPPLIER}),
        legal_representative="王小明",
        phone="13812345678",
        address="苏州市工业园区星湖街1号",
    )


def test_stored_bytes_are_ciphertext_and_reads_are_plain(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s, s.begin():
        registry.import_enterprises(s, SYSTEM, [firm()])
    with session_factory() as s:
        raw = s.execute(text("SELECT legal_representative, phone, address FROM enterprises")).one()
        ent = s.scalars(select(Enterprise)).one()
    assert all(value.startswith("enc1:t1:") for value in raw)
    assert "13812345678" not in "".join(raw)
    assert (ent.legal_representative, ent.phone) == ("王小明", "13812345678")


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s, s.begin():
        registry.import_enterprises(s, SYSTEM, [firm()])
        s.execute(text("UPDATE enterprises SET address = phone"))
    with session_factory() as s, pytest.raises(CipherError, match=r"enterprise\.address"):
        s.scalars(select(Enterprise)).one()


def test_rotation_keeps_old_rows_readable() -> None:
    old = FieldCipher.from_spec("k1:" + "A" * 43 + "=")
    token = old.encrypt("13812345678", "enterprise.phone")
    rotated = FieldCipher.from_spec(f"{FieldCipher.new_spec('k2')},k1:{'A' * 43}=")
    assert rotated.decrypt(token, "enterprise.phone") == "13812345678"
    assert rotated.encrypt("x", "p").startswith("enc1:k2:")
    with pytest.raises(CipherError, match="known key"):
        FieldCipher.from_spec(FieldCipher.new_spec("k3")).decrypt(token, "enterprise.phone")


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "no data key"),
        ("k1", "must look like"),
        ("k1:!!!", "not valid base64"),
        ("k1:AAAA", "must be 32 bytes"),
    ],
)
def test_bad_key_specs_are_refused(spec: str, reason: str) -> None:
    with pytest.raises(CipherError, match=reason):
        FieldCipher.from_spec(spec)


def test_unconfigured_process_refuses_to_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_cipher", None)
    with pytest.raises(CipherError, match="no data key configured"):
        crypto.current()


def test_switching_keys_mid_process_is_refused() -> None:
    active = crypto.current()
    crypto.configure(FieldCipher.from_spec(TEST_DATA_KEYS))  # the same keys: fine
    with pytest.raises(CipherError, match="different data keys"):
        crypto.configure(FieldCipher.from_spec(FieldCipher.new_spec("k9")))
    assert crypto.current() is not None
    assert crypto.current().fingerprint == active.fingerprint
