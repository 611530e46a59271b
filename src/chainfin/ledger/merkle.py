"""RFC 9162 §2 Merkle tree (SHA-256): hashes, proofs and their verification. Pure: no I/O.

A leaf hashes as ``SHA-256(0x00 || entry)`` and an inner node as ``SHA-256(0x01 || left ||
right)``; the tree over ``n`` entries splits at the largest power of two below ``n``, so its
root commits to the order of every entry. Proof producers raise ``ValueError`` for arguments
no proof exists for; verifiers raise a :class:`ProofError` subclass that says why.

>>> entries = [b"alpha", b"beta", b"gamma"]
>>> root, proof = root_hash(entries), inclusion_proof(entries, 2, 3)
>>> verify_inclusion(leaf_hash(b"gamma"), 2, 3, proof, root)
>>> verify_inclusion(leaf_hash(b"delta"), 2, 3, proof, root)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chainfin.ledger.merkle.RootMismatch: inclusion proof for leaf 2 of 3 leads to root ...
>>> verify_consistency(2, 3, consistency_proof(entries, 2, 3), root_hash(entries[:2]), root)

A persistent log need not keep the tree: every hash a proof uses is a fold of *perfect
subtree* hashes, addressed by :data:`NodeKey` ``(level, index)``, the subtree over leaves
``[index·2^level, (index+1)·2^level)``. The ``*_keys`` functions name the O(log n) nodes an
answer needs, so a store fetches them in one batched read and the ``*_from_nodes``
functions finish the job; :func:`integrate` returns the nodes an append creates.

>>> nodes = integrate(0, [leaf_hash(e) for e in entries], {})
>>> sorted(nodes)
[(0, 0), (0, 1), (0, 2), (1, 0)]
>>> root_keys(3), root_from_nodes(3, nodes) == root
([(1, 0), (0, 2)], True)

Policy: a consistency proof *from* the empty tree (``size1 == 0``) is refused, even 0 → 0, as
current transparency-dev/merkle does: every tree extends the empty one, so such a "proof"
checks nothing, and a caller that asks for one has a bug worth hearing about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import ClassVar

__all__ = [
    "HASH_SIZE",
    "BadHashSize",
    "EmptyTreeConsistency",
    "IndexOutOfRange",
    "InvalidSizes",
    "NodeKey",
    "ProofError",
    "RootMismatch",
    "WrongProofSize",
    "consistency_keys",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "inclusion_keys",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "integrate",
    "integration_keys",
    "leaf_hash",
    "node_hash",
    "root_from_nodes",
    "root_hash",
    "root_keys",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
"""``(level, index)``: the perfect subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

_Range = tuple[int, int]  # leaves [lo, hi) of one RFC 9162 subtree


# --- errors --------------------------------------------------------------------------------


class ProofError(Exception):
    """A proof did not verify. Subclasses say why; ``code`` is stable and machine-readable."""

    code: ClassVar[str] = "invalid-proof"


class IndexOutOfRange(ProofError):
    """The leaf index is negative or not below the tree size."""

    code: ClassVar[str] = "proof-index-out-of-range"


class InvalidSizes(ProofError):
    """Tree sizes no consistency proof can relate (negative, or the second below the first)."""

    code: ClassVar[str] = "proof-invalid-sizes"


class EmptyTreeConsistency(ProofError):
    """A consistency proof from the empty tree (``size1 == 0``): refused, it proves nothing."""

    code: ClassVar[str] = "proof-from-empty-tree"


class BadHashSize(ProofError):
    """A leaf hash, proof element or root that is not a 32-byte SHA-256 value."""

    code: ClassVar[str] = "proof-bad-hash-size"


class WrongProofSize(ProofError):
    """The proof has more or fewer hashes than the sizes and index call for."""

    code: ClassVar[str] = "proof-wrong-size"


class RootMismatch(ProofError):
    """The proof is well formed but leads to a different root than the one given."""

    code: ClassVar[str] = "proof-root-mismatch"


# --- hashing -------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``): where RFC 9162 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, by the RFC's recursive definition."""
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of the raw ``leaves``; SHA-256 of ``b""`` for no leaves."""
    if not leaves:
        return _EMPTY_ROOT
    return _mth([leaf_hash(leaf) for leaf in leaves])


# --- proofs from the entries (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 PROOF) -----------------------


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if m < k:
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def _check_prefix(size: int, leaves: Sequence[bytes]) -> None:
    if size > len(leaves):
        raise ValueError(f"tree size {size} exceeds the {len(leaves)} leaves given")


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")


def _check_sizes(size1: int, size2: int) -> None:
    if not 0 < size1 <= size2:
        raise ValueError(
            f"no consistency proof from size {size1} to size {size2}; need 0 < size1 <= size2"
        )


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` raw ``leaves``,
    bottom up (RFC 9162 §2.1.3.1)."""
    _check_index(index, size)
    _check_prefix(size, leaves)
    return _path(index, [leaf_hash(leaf) for leaf in leaves[:size]])


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """The proof that the tree of the first ``size2`` raw ``leaves`` extends the one of the
    first ``size1`` (RFC 9162 §2.1.4.1); empty when the sizes are equal."""
    _check_sizes(size1, size2)
    _check_prefix(size2, leaves)
    return _subproof(size1, [leaf_hash(leaf) for leaf in leaves[:size2]], True)


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ---------------------------------------------


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise BadHashSize(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        _check_hash(f"proof[{i}]", element)


def _check_proof_length(what: str, proof: Sequence[bytes], want: int) -> None:
    if len(proof) != want:
        more_or_less = "too long" if len(proof) > want else "too short"
        raise WrongProofSize(f"{what} has {len(proof)} hashes, want {want} ({more_or_less})")


def _short(value: bytes) -> str:
    return value.hex()[:16] + "…"


def _inclusion_length(index: int, size: int) -> int:
    """Hashes in the audit path: the levels below where the paths to ``index`` and to the last
    leaf meet, plus one left sibling per set bit of ``index`` above that point."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Refusals, in order of precedence: :class:`IndexOutOfRange`, :class:`BadHashSize` (leaf
    hash, root, then proof elements), :class:`WrongProofSize`, :class:`RootMismatch`.
    The root does not commit to ``size``: take both from the same signed checkpoint.
    """
    if not 0 <= index < size:
        raise IndexOutOfRange(f"leaf index {index} is not in a tree of {size} leaves")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof_hashes(proof)
    what = f"inclusion proof for leaf {index} of {size}"
    _check_proof_length(what, proof, _inclusion_length(index, size))
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # The length check above makes the RFC's "sn == 0 at the end" hold; keep it as a guard.
    if sn != 0:  # pragma: no cover - unreachable after the length check
        raise WrongProofSize(f"{what} stopped below the root (sn={sn})")
    if r != root:
        raise RootMismatch(f"{what} leads to root {_short(r)}, not the given {_short(root)}")


def _consistency_length(size1: int, size2: int) -> int:
    """Hashes in PROOF(size1, size2) for 0 < size1 < size2: the inclusion path of leaf
    ``size1 - 1`` above the largest perfect subtree ending at ``size1``, plus that subtree's
    hash unless it is the whole old tree (``size1`` a power of two)."""
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    return (0 if size1 == 1 << shift else 1) + inner - shift + border


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` leaves with ``root2`` extends the tree of ``size1``
    leaves with ``root1``.

    Refusals, in order of precedence: :class:`InvalidSizes` (negative, or ``size2 < size1``),
    :class:`EmptyTreeConsistency` (``size1 == 0``, even 0 → 0), :class:`BadHashSize` (root1,
    root2, then proof elements), :class:`WrongProofSize`, :class:`RootMismatch`. Equal sizes
    need an empty proof and equal roots, as upstream transparency-dev/merkle accepts.
    """
    if size1 < 0 or size2 < size1:
        raise InvalidSizes(f"no consistency from size {size1} to size {size2}")
    if size1 == 0:
        raise EmptyTreeConsistency(
            f"consistency from the empty tree to size {size2} proves nothing; refused"
        )
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof_hashes(proof)
    what = f"consistency proof from size {size1} to {size2}"
    if size1 == size2:
        _check_proof_length(what, proof, 0)
        if root1 != root2:
            raise RootMismatch(f"equal sizes {size1} but root1 {_short(root1)} != {_short(root2)}")
        return
    _check_proof_length(what, proof, _consistency_length(size1, size2))
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # pragma: no cover - unreachable after the length check
        raise WrongProofSize(f"{what} stopped below the root (sn={sn})")
    if fr != root1:
        raise RootMismatch(f"{what} leads to root1 {_short(fr)}, not the given {_short(root1)}")
    if sr != root2:
        raise RootMismatch(f"{what} leads to root2 {_short(sr)}, not the given {_short(root2)}")


# --- proofs from stored perfect-subtree nodes ------------------------------------------------


def _pieces(lo: int, hi: int) -> list[NodeKey]:
    """The perfect subtrees that tile ``[lo, hi)``, largest (leftmost) first. ``lo`` must be
    a multiple of the largest of them, which holds for every subtree of an RFC 9162 tree."""
    keys: list[NodeKey] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def _fold(keys: Sequence[NodeKey], nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of a subtree from its :func:`_pieces`: the right edge folds from the right."""
    acc = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        acc = node_hash(nodes[key], acc)
    return acc


def _keys(ranges: Sequence[_Range]) -> list[NodeKey]:
    return [key for lo, hi in ranges for key in _pieces(lo, hi)]


def _hashes(ranges: Sequence[_Range], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    return [_fold(_pieces(lo, hi), nodes) for lo, hi in ranges]


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """PATH(index, size) as leaf ranges, bottom up; only the first left turn taken on the
    tree's right edge can yield an imperfect range."""
    _check_index(index, size)
    siblings: list[_Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            siblings.append((mid, hi))
            hi = mid
        else:
            siblings.append((lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def _consistency_ranges(size1: int, size2: int) -> list[_Range]:
    """PROOF(size1, size2) as leaf ranges, in proof order (RFC 9162 SUBPROOF, unrolled)."""
    _check_sizes(size1, size2)
    siblings: list[_Range] = []
    lo, hi, whole = 0, size2, True
    while hi != size1:  # invariant: lo < size1 <= hi
        mid = lo + _split(hi - lo)
        if size1 <= mid:
            siblings.append((mid, hi))
            hi = mid
        else:
            siblings.append((lo, mid))
            lo, whole = mid, False
    if not whole:
        siblings.append((lo, hi))
    siblings.reverse()
    return siblings


def root_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees whose fold is the root of a ``size``-leaf tree, left to right:
    one per set bit of ``size``, so at most ``floor(log2(size)) + 1`` keys."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    return _pieces(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """The root of a ``size``-leaf tree from the nodes named by :func:`root_keys`."""
    keys = root_keys(size)
    return _fold(keys, nodes) if keys else _EMPTY_ROOT


def inclusion_keys(index: int, size: int) -> list[NodeKey]:
    """The nodes :func:`inclusion_proof_from_nodes` reads: at most ``2·ceil(log2(size))``."""
    return _keys(_inclusion_ranges(index, size))


def inclusion_proof_from_nodes(
    index: int, size: int, nodes: Mapping[NodeKey, bytes]
) -> list[bytes]:
    """:func:`inclusion_proof` from the nodes named by :func:`inclusion_keys`."""
    return _hashes(_inclusion_ranges(index, size), nodes)


def consistency_keys(size1: int, size2: int) -> list[NodeKey]:
    """The nodes :func:`consistency_proof_from_nodes` reads: at most
    ``2·ceil(log2(size2))`` (none when the sizes are equal)."""
    return _keys(_consistency_ranges(size1, size2))


def consistency_proof_from_nodes(
    size1: int, size2: int, nodes: Mapping[NodeKey, bytes]
) -> list[bytes]:
    """:func:`consistency_proof` from the nodes named by :func:`consistency_keys`."""
    return _hashes(_consistency_ranges(size1, size2), nodes)


def integration_keys(size: int, count: int) -> list[NodeKey]:
    """The existing nodes :func:`integrate` reads to append ``count`` leaves to a ``size``-leaf
    tree: the left siblings on its right edge whose parents the append completes (a subset of
    :func:`root_keys`, so at most ``floor(log2(size)) + 1``)."""
    if size < 0 or count < 0:
        raise ValueError(f"cannot append {count} leaves to a tree of {size}")
    # A root piece (level, index) has an even index; its parent ends at (index + 2)·2^level.
    return [(level, i) for level, i in root_keys(size) if (i + 2) << level <= size + count]


def integrate(
    size: int, leaf_hashes: Sequence[bytes], nodes: Mapping[NodeKey, bytes]
) -> dict[NodeKey, bytes]:
    """Append ``leaf_hashes`` to a ``size``-leaf tree: every perfect-subtree node the append
    creates (each new leaf at level 0, and each parent it completes at every level). ``nodes``
    needs only the keys :func:`integration_keys` names; a missing one raises ``KeyError``."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    new: dict[NodeKey, bytes] = {}
    for offset, h in enumerate(leaf_hashes):
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash {offset} is {len(h)} bytes, not {HASH_SIZE}")
        level, index = 0, size + offset
        new[(level, index)] = h
        while index & 1:  # a right child: its parent is complete now
            left = (level, index - 1)
            h = node_hash(new[left] if left in new else nodes[left], h)
            level, index = level + 1, index >> 1
            new[(level, index)] = h
    return new
