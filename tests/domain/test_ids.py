"""Prefixed ULIDs: the prefix names the kind, the body sorts by creation time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.domain.ids import PREFIXES, kind_of, new_id, new_ids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U
MAX_MS = 2**48 - 1  # a ULID holds 48 bits of milliseconds (until the year 10889)

KIND_PREFIX = [
    ("enterprise", "ent"),
    ("bank", "bnk"),
    ("platform", "plf"),
    ("chain", "chn"),
    ("relation", "rel"),
    ("user", "usr"),
    ("client", "cli"),
    ("audit", "aud"),
    ("ledger", "led"),
    ("consent", "cns"),
    ("access", "acc"),
    ("document", "doc"),
    ("registration", "reg"),
    ("programme", "prg"),
    ("payable", "cfm"),
    ("credential", "crd"),
    ("piece", "pce"),
    ("quote", "quo"),
    ("financing", "fin"),
    ("payment", "pmt"),
    ("alert", "alr"),
    ("journal", "jnl"),
    ("line", "lin"),
    ("sublimit", "sub"),
    ("cap", "cap"),
    ("reservation", "rsv"),
    ("product", "prd"),
    ("application", "app"),
    ("approval", "apv"),
    ("task", "tsk"),
    ("line_change", "lch"),
    ("loan", "lon"),
    ("repayment", "rpy"),
    ("disbursement", "dsb"),
    ("statement", "stm"),
    ("release", "rls"),
    ("device", "dev"),
    ("reading", "rdg"),
    ("dead_letter", "dlq"),
    ("model", "mdl"),
    ("monitoring", "mon"),
    ("invitation", "ivt"),
    ("price", "prc"),
    ("supplier_invitation", "sin"),
    ("notification", "ntf"),
    ("strategy_dataset", "sds"),
]

kinds = st.sampled_from([kind for kind, _ in KIND_PREFIX])
timestamps = st.integers(0, MAX_MS)
randomness = st.binary(min_size=10, max_size=10)


def decode_time(body: str) -> int:
    """The milliseconds in the first 10 characters (50 bits, of which the top 2 are zero)."""
    value = 0
    for ch in body[:10]:
        value = value * 32 + CROCKFORD.index(ch)
    return value


def test_every_kind_has_its_prefix() -> None:
    assert dict(KIND_PREFIX) == PREFIXES


@pytest.mark.parametrize(("kind", "prefix"), KIND_PREFIX)
def test_an_id_is_its_prefix_and_a_26_character_crockford_body(kind: str, prefix: str) -> None:
    identifier = new_id(kind)
    head, sep, body = identifier.partition("_")
    assert (head, sep) == (prefix, "_")
    assert len(body) == 26
    assert set(body) <= set(CROCKFORD)
    assert kind_of(identifier) == kind


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(KeyError):
        new_id("invoice")


@given(kind=kinds, now_ms=timestamps, rand=randomness)
def test_kind_of_inverts_new_id_and_the_body_carries_the_time(
    kind: str, now_ms: int, rand: bytes
) -> None:
    identifier = new_id(kind, now_ms=now_ms, randomness=rand)
    assert kind_of(identifier) == kind
    body = identifier.partition("_")[2]
    assert decode_time(body) == now_ms
    assert identifier == new_id(kind, now_ms=now_ms, randomness=rand)  # no hidden state


@given(kind=kinds, times=st.tuples(timestamps, timestamps), rands=st.tuples(randomness, randomness))
def test_ids_sort_by_creation_time(
    kind: str, times: tuple[int, int], rands: tuple[bytes, bytes]
) -> None:
    (early, late), (r1, r2) = sorted(times), rands
    first = new_id(kind, now_ms=early, randomness=r1)
    second = new_id(kind, now_ms=late, randomness=r2)
    if early < late:
        assert first < second
    else:
        assert (first < second) == (r1 < r2)  # same millisecond: the random bits decide


def test_ids_in_one_millisecond_sort_by_their_random_part() -> None:
    low = new_id("chain", now_ms=1_700_000_000_000, randomness=bytes(10))
    high = new_id("chain", now_ms=1_700_000_000_000, randomness=b"\xff" * 10)
    later = new_id("chain", now_ms=1_700_000_000_001, randomness=bytes(10))
    assert low < high < later


def test_ten_thousand_draws_are_unique() -> None:
    drawn = [new_id("enterprise") for _ in range(10_000)]
    assert len(set(drawn)) == len(drawn)


VALID_BODY = "01HZX3K7Q8M2N4P6R8T0V2W4Y6"


@pytest.mark.parametrize(
    "identifier",
    [
        "ent01HZX3K7Q8M2N4P6R8T0V2W4Y6",  # no separator
        "ent_01HZX3K7Q8M2N4P6R8T0V2W4Y",  # 25 characters
        "ent_01HZX3K7Q8M2N4P6R8T0V2W4Y6Z",  # 27 characters
        "ent_01HZX3K7Q8M2N4P6R8T0V2W4YI",  # I is not Crockford
        "ent_01HZX3K7Q8M2N4P6R8T0V2W4YU",  # nor U
        "ent_01hzx3k7q8m2n4p6r8t0v2w4y6",  # bodies are upper case
        "inv_01HZX3K7Q8M2N4P6R8T0V2W4Y6",  # unknown prefix
        "_01HZX3K7Q8M2N4P6R8T0V2W4Y6",
        "",
    ],
)
def test_kind_of_refuses_what_is_not_one_of_our_ids(identifier: str) -> None:
    assert kind_of("ent_" + VALID_BODY) == "enterprise"
    assert kind_of(identifier) is None


def test_new_ids_in_bulk_are_unique_sorted_and_well_formed() -> None:
    batch = new_ids("ledger", 5000)
    assert len(set(batch)) == 5000
    assert batch == sorted(batch)
    assert all(kind_of(i) == "ledger" for i in batch)


def test_ids_made_in_one_process_strictly_increase() -> None:
    """Many ids fall in the same millisecond; they must still sort in the order they were
    made (the log sequences entries by id, so order within a transaction depends on it)."""
    made = [new_id("ledger") for _ in range(5_000)]
    made += new_ids("ledger", 1_000)
    made += [new_id("ledger") for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
