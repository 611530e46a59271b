"""RFC 9162 Merkle tree: the transparency-dev/merkle vectors and golden probes, then
properties of random trees.

The data is ``tests/data/reference/merkle_rfc6962`` (read its ``SOURCE.md``); it is
read-only here. Every vector and every inclusion and consistency probe runs.

Size 0. ``verify_consistency`` refuses ``size1 == 0`` with ``EmptyTreeConsistency``, even
0 → 0 with equal roots and an empty proof. That follows current upstream (its older version
accepted 0 → 0) and RFC 9162 §2.1.4.1, which defines PROOF(m, D[n]) only for 0 < m. Every
tree extends the empty tree, so the check could only ever say yes; a caller asking it has
confused "no checkpoint yet" with "a checkpoint of size 0", and is better told so. A log's
first checkpoint is trusted on its signature, not on a consistency proof.

Hash sizes. Every hash a verifier is given (leaf hash, proof element, root) must be 32 bytes,
else ``BadHashSize``. Upstream checks only the leaf hash, so it accepts one probe whose two
equal roots are 12 bytes ("sizes are equal (one) and proof is empty"); we refuse it: a root
that is not a SHA-256 value is not a checkpoint of any log, and saying yes would hide a
truncated or mis-decoded root.

``DEVIATIONS`` lists the four probes where we refuse what upstream accepts, each with the error
we raise: that probe and its ``subtreeconsistency`` twin (``BadHashSize``), and two
``subtreeconsistency`` probes where upstream's subtree verifier accepts the empty subtree
``[0, 0)`` of an empty tree, which our size-0 rule refuses (``EmptyTreeConsistency``).

Subtree probes. ``subtreeinclusion`` / ``subtreeconsistency`` come from upstream's newer
subtree-proof work: a proof about the subtree over leaves ``[start, end)`` (inclusion of a
leaf in it; its consistency with a tree of ``size``). RFC 9162 §2 and our API have no such
proofs. With ``start == 0`` the subtree is the whole tree of ``end`` leaves, so those probes
are ordinary inclusion / consistency proofs and run as such; the ones with ``start > 0`` are
skipped, visibly, with the reason.
"""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainfin.ledger import merkle
from chainfin.ledger.merkle import (
    HASH_SIZE,
    BadHashSize,
    EmptyTreeConsistency,
    IndexOutOfRange,
    InvalidSizes,
    ProofError,
    RootMismatch,
    WrongProofSize,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from reference import REFERENCE

DATA = REFERENCE / "merkle_rfc6962"
VECTORS: dict[str, Any] = json.loads((DATA / "vectors.json").read_text())
PROBES: dict[str, Any] = json.loads((DATA / "proof_probes.json").read_text())
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaf_inputs_hex"]]

# Probes where we reject what upstream accepts, on purpose (see the module docstring); each
# is pinned to the error we raise, so a change of policy on either side shows up here.
DEVIATIONS: dict[str, type[ProofError]] = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": BadHashSize,
    "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json": BadHashSize,
    (
        "subtreeconsistency/additional/"
        "subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-proof-is-empty.json"
    ): EmptyTreeConsistency,
    (
        "subtreeconsistency/additional/"
        "subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json"
    ): EmptyTreeConsistency,
}


def h(hex_: str) -> bytes:
    return bytes.fromhex(hex_)


def hs(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


def probe_id(probe: dict[str, Any]) -> str:
    return str(probe["upstream_file"]).removeprefix("testdata/")


def probes(kind: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("probe", PROBES[kind], ids=probe_id)


def test_the_data_is_where_we_expect_and_complete() -> None:
    assert (DATA / "SOURCE.md").is_file()
    counts = {kind: len(PROBES[kind]) for kind in PROBES if kind != "_about"}
    assert counts == {
        "inclusion": 98,
        "consistency": 98,
        "subtreeinclusion": 204,
        "subtreeconsistency": 118,
    }
    assert len(VECTORS["derived_all_proofs"]["inclusion"]) == 36
    assert len(VECTORS["derived_all_proofs"]["consistency"]) == 28


def test_module_doctest() -> None:
    assert doctest.testmod(merkle).failed == 0


def test_the_merkle_module_imports_only_the_standard_library() -> None:
    """An auditor's standalone verifier imports it: no database, web or service layer."""
    code = (  # what importing it adds, whatever the interpreter loaded at start-up
        "import sys\nbefore = set(sys.modules)\nimport chainfin.ledger.merkle\n"
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before}"
        " - set(sys.stdlib_module_names))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(out.stdout.split()) <= {"chainfin"}


# --- vectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["hasher_cases"], ids=lambda c: c["desc"])
def test_hasher_cases(case: dict[str, str]) -> None:
    if "leaf_data_hex" in case:
        assert leaf_hash(h(case["leaf_data_hex"])).hex() == case["expected"]
    elif "left_hex" in case:
        assert node_hash(h(case["left_hex"]), h(case["right_hex"])).hex() == case["expected"]
    else:
        assert root_hash([]).hex() == case["expected"]


@pytest.mark.parametrize("index", range(8))
def test_leaf_hashes(index: int) -> None:
    assert leaf_hash(LEAVES[index]).hex() == VECTORS["leaf_hashes"][index]


@pytest.mark.parametrize(
    ("level", "index"),
    [(lv, i) for lv, row in enumerate(VECTORS["node_hashes_by_level"]) for i in range(len(row))],
)
def test_node_hashes_by_level(level: int, index: int) -> None:
    want = VECTORS["node_hashes_by_level"][level][index]
    width = 1 << level
    assert root_hash(LEAVES[index * width : (index + 1) * width]).hex() == want
    if level:
        below = VECTORS["node_hashes_by_level"][level - 1]
        assert node_hash(h(below[2 * index]), h(below[2 * index + 1])).hex() == want


@pytest.mark.parametrize("size", range(9))
def test_roots_by_tree_size(size: int) -> None:
    assert root_hash(LEAVES[:size]).hex() == VECTORS["roots_by_tree_size"][str(size)]


def _check_inclusion_case(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    assert leaf_hash(LEAVES[index]).hex() == case["leaf_hash"]
    assert [p.hex() for p in inclusion_proof(LEAVES, index, size)] == case["proof"]
    assert root_hash(LEAVES[:size]).hex() == case["expected_root"]
    verify_inclusion(h(case["leaf_hash"]), index, size, hs(case["proof"]), h(case["expected_root"]))


def _check_consistency_case(case: dict[str, Any]) -> None:
    size1, size2 = case["size1"], case["size2"]
    assert [p.hex() for p in consistency_proof(LEAVES, size1, size2)] == case["proof"]
    assert root_hash(LEAVES[:size1]).hex() == case["root1"]
    assert root_hash(LEAVES[:size2]).hex() == case["root2"]
    verify_consistency(size1, size2, hs(case["proof"]), h(case["root1"]), h(case["root2"]))


@pytest.mark.parametrize(
    "case", VECTORS["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}"
)
def test_reference_inclusion_proofs(case: dict[str, Any]) -> None:
    assert leaf_hash(h(case["leaf_data_hex"])).hex() == case["leaf_hash"]
    _check_inclusion_case(case)


@pytest.mark.parametrize(
    "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}"
)
def test_reference_consistency_proofs(case: dict[str, Any]) -> None:
    _check_consistency_case(case)


@pytest.mark.parametrize(
    "case",
    VECTORS["derived_all_proofs"]["inclusion"],
    ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}",
)
def test_derived_inclusion_proofs(case: dict[str, Any]) -> None:
    _check_inclusion_case(case)


@pytest.mark.parametrize(
    "case",
    VECTORS["derived_all_proofs"]["consistency"],
    ids=lambda c: f"{c['size1']}-to-{c['size2']}",
)
def test_derived_consistency_proofs(case: dict[str, Any]) -> None:
    _check_consistency_case(case)


# --- golden probes ----------------------------------------------------------------------------


def _expect(probe: dict[str, Any], check: Any, want: type[ProofError] | None = None) -> None:
    """Run ``check``; upstream's ``wantErr`` decides, unless we deviate (``DEVIATIONS``) or
    the caller names the exact error our policy raises."""
    want = DEVIATIONS.get(probe_id(probe), want)
    if want is not None:
        with pytest.raises(want):
            check()
    elif probe["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@probes("inclusion")
def test_inclusion_probes(probe: dict[str, Any]) -> None:
    _expect(
        probe,
        lambda: verify_inclusion(
            h(probe["leafHash"]),
            probe["leafIdx"],
            probe["treeSize"],
            hs(probe["proof"]),
            h(probe["root"]),
        ),
    )


@probes("consistency")
def test_consistency_probes(probe: dict[str, Any]) -> None:
    """The size1 == 0 probes (flagged with a ``note``) must fail for our size-0 reason."""
    empty_from = probe["size1"] == 0 and probe["size2"] >= 0
    assert ("note" in probe) == empty_from
    _expect(
        probe,
        lambda: verify_consistency(
            probe["size1"],
            probe["size2"],
            hs(probe["proof"]),
            h(probe["root1"]),
            h(probe["root2"]),
        ),
        EmptyTreeConsistency if empty_from else None,
    )


SUBTREE_SKIP = (
    "subtree proof over leaves [start, end) with start > 0: not in RFC 9162 §2 nor our API"
)


@probes("subtreeinclusion")
def test_subtree_inclusion_probes_from_leaf_zero(probe: dict[str, Any]) -> None:
    """With start == 0 the subtree is the tree of ``end`` leaves: an ordinary proof."""
    if probe["start"] != 0:
        pytest.skip(SUBTREE_SKIP)
    _expect(
        probe,
        lambda: verify_inclusion(
            h(probe["leafHash"]),
            probe["leafIdx"],
            probe["end"],
            hs(probe["proof"]),
            h(probe["root"]),
        ),
    )


@probes("subtreeconsistency")
def test_subtree_consistency_probes_from_leaf_zero(probe: dict[str, Any]) -> None:
    """With start == 0 the subtree is the tree of ``end`` leaves: an ordinary proof."""
    if probe["start"] != 0:
        pytest.skip(SUBTREE_SKIP)
    _expect(
        probe,
        lambda: verify_consistency(
            probe["end"],
            probe["size"],
            hs(probe["proof"]),
            h(probe["root1"]),
            h(probe["root2"]),
        ),
    )


# --- refusals, in order of precedence ----------------------------------------------------------

ROOT8 = root_hash(LEAVES)
ROOT6 = root_hash(LEAVES[:6])
PROOF5 = inclusion_proof(LEAVES, 5, 8)
PROOF6 = consistency_proof(LEAVES, 6, 8)
X = b"\xab" * HASH_SIZE


def _inclusion(**change: Any) -> None:
    args: dict[str, Any] = {
        "leaf_hash": leaf_hash(LEAVES[5]),
        "index": 5,
        "size": 8,
        "proof": PROOF5,
        "root": ROOT8,
    }
    verify_inclusion(**(args | change))


def _consistency(**change: Any) -> None:
    args: dict[str, Any] = {
        "size1": 6,
        "size2": 8,
        "proof": PROOF6,
        "root1": ROOT6,
        "root2": ROOT8,
    }
    verify_consistency(**(args | change))


def test_the_baselines_verify() -> None:
    _inclusion()
    _consistency()
    _consistency(size1=8, proof=[], root1=ROOT8)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"index": 8, "leaf_hash": b"", "proof": []}, IndexOutOfRange, "index 8 .* tree of 8"),
        ({"index": -1}, IndexOutOfRange, "index -1 "),
        ({"size": 0, "index": 0}, IndexOutOfRange, "index 0 .* tree of 0"),
        ({"leaf_hash": b"x" * 31, "root": b""}, BadHashSize, "leaf hash is 31 bytes, not 32"),
        ({"root": b"r" * 33, "proof": [b""]}, BadHashSize, "root is 33 bytes"),
        ({"proof": [*PROOF5[:2], b"", X, X], "root": X}, BadHashSize, r"proof\[2\] is 0 bytes"),
        ({"proof": [*PROOF5, X], "root": X}, WrongProofSize, "has 4 hashes, want 3 .too long"),
        ({"proof": PROOF5[:2]}, WrongProofSize, "has 2 hashes, want 3 .too short"),
        ({"size": 16, "proof": PROOF5}, WrongProofSize, "leaf 5 of 16 has 3 hashes, want 4"),
        ({"root": X}, RootMismatch, "leaf 5 of 8 leads to root 5dc9da79a70659a9…, not"),
        ({"index": 4}, RootMismatch, "leaf 4 of 8"),
    ],
)
def test_inclusion_refusals_in_order(
    change: dict[str, Any], error: type[ProofError], message: str
) -> None:
    with pytest.raises(error, match=message):
        _inclusion(**change)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"size1": 9, "size2": 8, "root1": b""}, InvalidSizes, "size 9 to size 8"),
        ({"size1": 0, "size2": -1}, InvalidSizes, "size 0 to size -1"),
        ({"size1": -1, "size2": 8}, InvalidSizes, "size -1 to size 8"),
        ({"size1": 0, "root1": b""}, EmptyTreeConsistency, "empty tree to size 8"),
        ({"size1": 0, "size2": 0, "proof": []}, EmptyTreeConsistency, "to size 0"),
        ({"root1": ROOT6[:31], "root2": b""}, BadHashSize, "root1 is 31 bytes, not 32"),
        ({"root2": ROOT8 + b"\x00", "proof": []}, BadHashSize, "root2 is 33 bytes"),
        ({"proof": [PROOF6[0], b"\x00"]}, BadHashSize, r"proof\[1\] is 1 bytes"),
        ({"size1": 8, "root1": X}, WrongProofSize, "from size 8 to 8 has 3 hashes, want 0"),
        ({"size1": 8, "proof": [], "root1": X}, RootMismatch, "equal sizes 8 but root1"),
        ({"proof": [*PROOF6, X], "root1": X}, WrongProofSize, "has 4 hashes, want 3 .too long"),
        ({"proof": []}, WrongProofSize, "has 0 hashes, want 3 .too short"),
        ({"proof": [PROOF6[0], X, PROOF6[2]]}, RootMismatch, "size 6 to 8 leads to root2"),
        ({"root1": X, "root2": X}, RootMismatch, "leads to root1 76e67dadbcdf1e10…"),
        ({"root2": X}, RootMismatch, "leads to root2 5dc9da79a70659a9…"),
    ],
)
def test_consistency_refusals_in_order(
    change: dict[str, Any], error: type[ProofError], message: str
) -> None:
    with pytest.raises(error, match=message):
        _consistency(**change)


def test_every_refusal_has_its_own_stable_code() -> None:
    kinds = [
        ProofError,
        IndexOutOfRange,
        InvalidSizes,
        EmptyTreeConsistency,
        BadHashSize,
        WrongProofSize,
        RootMismatch,
    ]
    assert all(issubclass(kind, ProofError) for kind in kinds)
    assert len({kind.code for kind in kinds}) == len(kinds)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inclusion_proof(LEAVES, 8, 8), "leaf index 8 is not in a tree of 8"),
        (lambda: inclusion_proof(LEAVES, -1, 8), "leaf index -1"),
        (lambda: inclusion_proof(LEAVES, 0, 0), "leaf index 0 is not in a tree of 0"),
        (lambda: inclusion_proof(LEAVES, 0, 9), "tree size 9 exceeds the 8 leaves"),
        (lambda: consistency_proof(LEAVES, 0, 8), "from size 0 to size 8"),
        (lambda: consistency_proof(LEAVES, 0, 0), "from size 0 to size 0"),
        (lambda: consistency_proof(LEAVES, 5, 4), "from size 5 to size 4"),
        (lambda: consistency_proof(LEAVES, 1, 9), "tree size 9 exceeds the 8 leaves"),
    ],
)
def test_producers_refuse_impossible_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_equal_sizes_give_an_empty_consistency_proof() -> None:
    assert consistency_proof(LEAVES, 5, 5) == []
    verify_consistency(5, 5, [], ROOT6, ROOT6)  # equal sizes compare roots only


def test_the_root_does_not_commit_to_the_tree_size() -> None:
    """Leaf 5's audit path has the same shape in trees of 7 and 8 leaves, so the size-7 proof
    "verifies" against the size-7 root under either size; likewise PROOF(6, 8) passes as a
    proof from 6 to 7 leaves with the size-8 root. RFC 9162 roots do not encode the size: a
    verifier must take size and root together from one signed checkpoint."""
    proof = inclusion_proof(LEAVES, 5, 7)
    root7 = root_hash(LEAVES[:7])
    verify_inclusion(leaf_hash(LEAVES[5]), 5, 7, proof, root7)
    verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof, root7)
    with pytest.raises(WrongProofSize):
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 6, proof, root7)
    verify_consistency(6, 7, PROOF6, ROOT6, ROOT8)
    with pytest.raises(RootMismatch):
        verify_consistency(6, 7, consistency_proof(LEAVES, 6, 7), ROOT6, ROOT8)


# --- properties of random trees -----------------------------------------------------------------

entry_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)
two_or_more = st.lists(st.binary(max_size=12), min_size=2, max_size=70)
# Distinct entries, where a property needs every subtree hash to differ (two equal entries
# may legitimately trade places in a proof).
distinct_entries = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)


def inclusion_shape(index: int, size: int) -> list[str] | None:
    """Which side each audit-path hash joins on, bottom up, from the RFC 9162 recursion;
    ``None`` when no proof exists. Equal shapes make the verifier compute the same root."""
    if not 0 <= index < size:
        return None
    sides: list[str] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        if index < mid:
            sides.append("right")
            hi = mid
        else:
            sides.append("left")
            lo = mid
    return sides[::-1]


def consistency_shape(size1: int, size2: int) -> tuple[list[str], bool] | None:
    """The SUBPROOF recursion's turns, bottom up, and whether the old root is in the proof."""
    if not 0 < size1 <= size2:
        return None
    turns: list[str] = []
    lo, hi, whole = 0, size2, True
    while hi != size1:
        mid = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        if size1 <= mid:
            turns.append("right")
            hi = mid
        else:
            turns.append("left")
            lo, whole = mid, False
    return turns[::-1], whole


def flip(value: bytes, bit: int) -> bytes:
    bit %= 8 * len(value)
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def accepted(check: Any) -> bool:
    try:
        check()
    except ProofError:
        return False
    return True


@given(entries=entry_lists)
def test_every_inclusion_proof_verifies(entries: list[bytes]) -> None:
    size = len(entries)
    root = root_hash(entries)
    for index in range(size):
        verify_inclusion(
            leaf_hash(entries[index]), index, size, inclusion_proof(entries, index, size), root
        )


@given(entries=entry_lists, data=st.data())
def test_every_consistency_proof_verifies(entries: list[bytes], data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, len(entries)), label="size2")
    root2 = root_hash(entries[:size2])
    for size1 in range(1, size2 + 1):
        proof = consistency_proof(entries, size1, size2)
        verify_consistency(size1, size2, proof, root_hash(entries[:size1]), root2)


@given(entries=entry_lists, data=st.data())
def test_a_flipped_bit_anywhere_in_an_inclusion_check_is_rejected(
    entries: list[bytes], data: st.DataObject
) -> None:
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    parts = [leaf_hash(entries[index]), *inclusion_proof(entries, index, size), root_hash(entries)]
    where = data.draw(st.integers(0, len(parts) - 1), label="where")
    parts[where] = flip(parts[where], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(RootMismatch):
        verify_inclusion(parts[0], index, size, parts[1:-1], parts[-1])


@given(entries=two_or_more, data=st.data())
def test_a_flipped_bit_anywhere_in_a_consistency_check_is_rejected(
    entries: list[bytes], data: st.DataObject
) -> None:
    size2 = len(entries)
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    proof = consistency_proof(entries, size1, size2)
    parts = [root_hash(entries[:size1]), root_hash(entries), *proof]
    where = data.draw(st.integers(0, len(parts) - 1), label="where")
    parts[where] = flip(parts[where], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(RootMismatch):
        verify_consistency(size1, size2, parts[2:], parts[0], parts[1])


@given(entries=distinct_entries, data=st.data())
def test_an_inclusion_proof_is_rejected_for_any_other_index(
    entries: list[bytes], data: st.DataObject
) -> None:
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index), label="other")
    proof, root = inclusion_proof(entries, index, size), root_hash(entries)
    with pytest.raises(IndexOutOfRange if not 0 <= other < size else ProofError):
        verify_inclusion(leaf_hash(entries[index]), other, size, proof, root)


@given(entries=distinct_entries, data=st.data())
def test_an_inclusion_proof_under_another_size_is_rejected_unless_it_has_the_same_shape(
    entries: list[bytes], data: st.DataObject
) -> None:
    """See ``test_the_root_does_not_commit_to_the_tree_size``: a different size is refused
    exactly when the audit path would differ in length or in the side of any hash."""
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, 2 * size + 2).filter(lambda n: n != size), label="other")
    proof, root = inclusion_proof(entries, index, size), root_hash(entries)
    ok = accepted(lambda: verify_inclusion(leaf_hash(entries[index]), index, other, proof, root))
    assert ok == (inclusion_shape(index, other) == inclusion_shape(index, size))


@given(entries=distinct_entries, data=st.data())
def test_a_consistency_proof_under_other_sizes_is_rejected_unless_it_has_the_same_shape(
    entries: list[bytes], data: st.DataObject
) -> None:
    size2 = len(entries)
    size1 = data.draw(st.integers(1, size2), label="size1")
    sizes = st.tuples(st.integers(-1, size2 + 2), st.integers(-1, 2 * size2 + 2))
    other = data.draw(sizes.filter(lambda s: s != (size1, size2)), label="other sizes")
    proof = consistency_proof(entries, size1, size2)
    root1, root2 = root_hash(entries[:size1]), root_hash(entries)
    ok = accepted(lambda: verify_consistency(*other, proof, root1, root2))
    assert ok == (consistency_shape(*other) == consistency_shape(size1, size2))
