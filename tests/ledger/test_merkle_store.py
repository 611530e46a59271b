"""Proofs from stored perfect-subtree nodes: a log that keeps only the nodes ``integrate``
returns, and reads back only the keys the ``*_keys`` functions name, answers exactly what the
direct functions compute from all the entries."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.ledger.merkle import (
    NodeKey,
    consistency_keys,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_keys,
    inclusion_proof,
    inclusion_proof_from_nodes,
    integrate,
    integration_keys,
    leaf_hash,
    node_hash,
    root_from_nodes,
    root_hash,
    root_keys,
)


def exists(key: NodeKey, size: int) -> bool:
    """A perfect subtree exists in a tree of ``size`` leaves when it ends inside it."""
    level, index = key
    return level >= 0 and index >= 0 and (index + 1) << level <= size


def all_nodes(size: int) -> set[NodeKey]:
    return {
        (level, index)
        for level in range(max(size, 1).bit_length())
        for index in range(size >> level)
    }


def bound(size: int) -> int:
    """The documented ceiling on proof keys: ``2·ceil(log2(size))``."""
    return 2 * math.ceil(math.log2(size)) if size > 1 else 0


def only(keys: list[NodeKey], nodes: Mapping[NodeKey, bytes]) -> dict[NodeKey, bytes]:
    """The batched read: exactly the named keys, so a missing key cannot hide."""
    return {key: nodes[key] for key in keys}


def build(entries: list[bytes], batches: list[int]) -> dict[NodeKey, bytes]:
    """Append ``entries`` in batches of the given sizes (the rest in one last batch), handing
    ``integrate`` only the nodes ``integration_keys`` names; check each batch's new nodes."""
    nodes: dict[NodeKey, bytes] = {}
    size = 0
    for count in [*batches, len(entries)]:
        count = min(count, len(entries) - size)
        batch = [leaf_hash(e) for e in entries[size : size + count]]
        new = integrate(size, batch, only(integration_keys(size, count), nodes))
        assert set(new) == all_nodes(size + count) - all_nodes(size)
        assert not set(new) & set(nodes)
        nodes |= new
        size += count
        assert root_from_nodes(size, only(root_keys(size), nodes)) == root_hash(entries[:size])
    assert size == len(entries)
    return nodes


ENTRIES = [i.to_bytes(2, "big") for i in range(40)]
NODES = build(ENTRIES, [1] * len(ENTRIES))  # one leaf at a time


def test_a_tree_built_leaf_by_leaf_holds_every_perfect_subtree() -> None:
    assert set(NODES) == all_nodes(40)
    for (level, index), value in NODES.items():
        if level:
            assert value == node_hash(
                NODES[(level - 1, 2 * index)], NODES[(level - 1, 2 * index + 1)]
            )
        else:
            assert value == leaf_hash(ENTRIES[index])


@pytest.mark.parametrize("size", range(41))
def test_every_root_and_proof_of_a_small_tree_matches_the_direct_functions(size: int) -> None:
    keys = root_keys(size)
    assert len(keys) == size.bit_count()
    assert root_from_nodes(size, only(keys, NODES)) == root_hash(ENTRIES[:size])
    for index in range(size):
        keys = inclusion_keys(index, size)
        assert all(exists(key, size) for key in keys)
        got = inclusion_proof_from_nodes(index, size, only(keys, NODES))
        assert got == inclusion_proof(ENTRIES, index, size)
    for size1 in range(1, size + 1):
        keys = consistency_keys(size1, size)
        assert all(exists(key, size) for key in keys)
        got = consistency_proof_from_nodes(size1, size, only(keys, NODES))
        assert got == consistency_proof(ENTRIES, size1, size)


def test_the_empty_tree() -> None:
    assert root_keys(0) == []
    assert root_from_nodes(0, {}) == hashlib.sha256(b"").digest() == root_hash([])
    assert integration_keys(0, 5) == []
    assert integrate(0, [], {}) == {}
    assert integrate(7, [], {}) == {}


def test_key_counts_stay_within_the_documented_bound_for_every_size_to_256() -> None:
    for size in range(1, 257):
        most_inclusion = max(len(inclusion_keys(i, size)) for i in range(size))
        most_consistency = max(len(consistency_keys(m, size)) for m in range(1, size + 1))
        assert most_inclusion <= bound(size), size
        assert most_consistency <= bound(size), size


@given(
    size=st.integers(1, 2**48),
    data=st.data(),
)
def test_keys_of_huge_trees_exist_and_stay_within_the_bound(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    size1 = data.draw(st.integers(1, size), label="size1")
    count = data.draw(st.integers(0, 2**20), label="count")
    for keys in (inclusion_keys(index, size), consistency_keys(size1, size)):
        assert len(keys) <= bound(size)
        assert len(set(keys)) == len(keys)
        assert all(exists(key, size) for key in keys)
    assert all(exists(key, size) for key in root_keys(size))
    needed = integration_keys(size, count)
    assert set(needed) <= set(root_keys(size))
    assert len(needed) <= size.bit_count()


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    """Up to 300 entries and a random split of their appends into batches."""
    entries = draw(st.lists(st.binary(max_size=8), min_size=1, max_size=300))
    batches = draw(st.lists(st.integers(0, 70), max_size=12))
    return entries, batches


@given(log=logs(), data=st.data())
def test_proofs_from_stored_nodes_equal_the_direct_proofs(
    log: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    entries, batches = log
    nodes = build(entries, batches)
    total = len(entries)
    for _ in range(6):
        size = data.draw(st.integers(1, total), label="size")
        prefix = entries[:size]
        assert root_from_nodes(size, only(root_keys(size), nodes)) == root_hash(prefix)

        index = data.draw(st.integers(0, size - 1), label="index")
        keys = inclusion_keys(index, size)
        assert all(exists(key, size) for key in keys)
        assert len(keys) <= bound(size)
        got = inclusion_proof_from_nodes(index, size, only(keys, nodes))
        assert got == inclusion_proof(prefix, index, size)

        size1 = data.draw(st.integers(1, size), label="size1")
        keys = consistency_keys(size1, size)
        assert all(exists(key, size) for key in keys)
        assert len(keys) <= bound(size)
        got = consistency_proof_from_nodes(size1, size, only(keys, nodes))
        assert got == consistency_proof(prefix, size1, size)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: inclusion_keys(5, 5), ValueError, "leaf index 5 is not in a tree of 5"),
        (lambda: inclusion_keys(-1, 5), ValueError, "leaf index -1"),
        (lambda: inclusion_proof_from_nodes(0, 0, {}), ValueError, "tree of 0"),
        (lambda: consistency_keys(0, 3), ValueError, "from size 0 to size 3"),
        (lambda: consistency_keys(4, 3), ValueError, "from size 4 to size 3"),
        (lambda: consistency_proof_from_nodes(0, 0, {}), ValueError, "from size 0 to size 0"),
        (lambda: root_keys(-1), ValueError, "tree size -1"),
        (lambda: integration_keys(-1, 2), ValueError, "2 leaves to a tree of -1"),
        (lambda: integration_keys(3, -2), ValueError, "-2 leaves to a tree of 3"),
        (lambda: integrate(-1, [], {}), ValueError, "tree size -1"),
        (lambda: integrate(0, [b"\x00" * 32, b"x"], {}), ValueError, "leaf hash 1 is 1 bytes"),
        (lambda: integrate(1, [b"\x00" * 32], {}), KeyError, r"\(0, 0\)"),
        (lambda: inclusion_proof_from_nodes(2, 3, {}), KeyError, r"\(1, 0\)"),
    ],
)
def test_impossible_arguments_and_missing_nodes_are_refused(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
