"""RFC 9162 §2.1 Merkle tree hashing, proofs, and proof verification.

Proof generation is generic over a `subtree_hash(lo, hi)` callback returning
MTH(D[lo:hi]), called only for the ranges that become proof elements, so a
storage-backed log pays O(log n) lookups per proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from signing.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """RFC 9162's k: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over the given leaf hashes: the RFC 9162 §2.1.1 definition, read literally."""

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = _split(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


class RootAccumulator:
    """The root of a growing tree in O(log n) memory.

    Holds the roots of the perfect subtrees that the tree decomposes into, one
    per set bit of the size, largest (leftmost) first; `state()` and
    `from_state()` let a verifier persist it between runs.
    """

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> RootAccumulator:
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} perfect subtrees, got {len(hashes)} hashes")
        for h in hashes:
            _require_hash_size(h, "subtree hash")
        accumulator = cls()
        accumulator._size = size
        accumulator._hashes = list(hashes)
        return accumulator

    def state(self) -> tuple[int, list[bytes]]:
        return self._size, list(self._hashes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; returns the perfect subtrees it completes as (level, index, hash),
        the leaf itself first (level 0), so a log can store every subtree hash once."""
        _require_hash_size(leaf_hash, "leaf hash")
        # Each trailing set bit of the old size is a perfect subtree of the
        # same height as the one being completed: merge them, like a carry.
        h = leaf_hash
        carry = self._size
        level = 0
        completed = [(0, carry, h)]
        while carry & 1:
            h = node_hash(self._hashes.pop(), h)
            carry >>= 1
            level += 1
            completed.append((level, carry, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            root = node_hash(h, root)
        return root


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:size]) per RFC 9162 §2.1.3.1, leaf to root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subtree_hash(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree_hash(lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old, D[0:new]) per RFC 9162 §2.1.4.1; [] when old == new."""
    if old < 1:
        raise ValueError(f"old tree size {old} must be at least 1")
    if old > new:
        raise ValueError(f"old tree size {old} is larger than new tree size {new}")
    proof: list[bytes] = []
    # SUBPROOF(m, D[lo:hi], b), unrolled: b stays true while the old tree is
    # the left edge of the range, where the verifier already knows its hash.
    lo, hi, m, known = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_hash(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(lo, lo + k))
            lo, m, known = lo + k, m - k, False
    if not known:
        proof.append(subtree_hash(lo, hi))
    proof.reverse()
    return proof


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof implies (RFC 9162 §2.1.3.2, steps 1-4 and sn == 0)."""
    # 1. The leaf must lie inside the tree.
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    # 2. Hashes must be SHA-256 sized (the transparency-dev/merkle convention).
    _require_hash_size(leaf_hash, "leaf hash", VerificationError)
    for position, element in enumerate(proof):
        _require_hash_size(element, f"inclusion proof element {position}", VerificationError)
    # 3. Walk from the leaf to the root; fn is the node's index at the current
    #    level and sn the last index at that level.
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError(
                f"inclusion proof has {len(proof)} elements, more than leaf {index} of a tree of size {size} needs"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # 4. The walk must end at the root.
    if sn != 0:
        raise VerificationError(
            f"inclusion proof has {len(proof)} elements, fewer than leaf {index} of a tree of size {size} needs"
        )
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`."""
    # 1. Compute the root the proof implies (RFC 9162 §2.1.3.2).
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # 2. It must be the expected root.
    if calculated != root:
        raise VerificationError(
            f"inclusion proof for leaf {index} of tree size {size} leads to root "
            f"{calculated.hex()}, not the expected {root.hex()}"
        )


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """Check that the tree of `new_size` leaves with `new_root` extends the one with `old_root`.

    RFC 9162 §2.1.4.2, with the transparency-dev/merkle conventions for what the
    RFC leaves open:

    - `old_size` must be at least 1: every tree extends the empty tree, so a
      proof from size 0 proves nothing and is rejected.
    - When `old_size == new_size` the proof is valid iff it is empty and
      `old_root == new_root`, compared as the bytes given.
    - Proof elements must be 32 bytes.
    """
    # 1. Sizes: 1 <= old_size <= new_size.
    if old_size < 1:
        raise VerificationError(f"consistency proof from tree size {old_size}: the old size must be at least 1")
    if old_size > new_size:
        raise VerificationError(f"old tree size {old_size} is larger than new tree size {new_size}")

    # 2. Equal sizes: nothing to prove beyond equal roots.
    if old_size == new_size:
        if proof:
            raise VerificationError(
                f"consistency proof between equal tree sizes must be empty, got {len(proof)} elements"
            )
        if old_root != new_root:
            raise VerificationError(f"trees of the same size {old_size} have different roots")
        return

    # 3. A growing tree always needs a non-empty proof of 32-byte hashes.
    if not proof:
        raise VerificationError(f"consistency proof from tree size {old_size} to {new_size} is empty")
    for position, element in enumerate(proof):
        _require_hash_size(element, f"consistency proof element {position}", VerificationError)

    # 4. A perfect old tree is itself a node of the new one: its root starts the path.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)

    # 5. Skip the levels where the old tree's last node is a right child.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1

    # 6. Rebuild both roots together: fr from the nodes left of the old
    #    tree's edge only, sr from every node.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(f"consistency proof from tree size {old_size} to {new_size} has too many elements")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1

    # 7. The walk must end at the root, at both expected roots.
    if sn != 0:
        raise VerificationError(f"consistency proof from tree size {old_size} to {new_size} has too few elements")
    if fr != old_root:
        raise VerificationError(f"consistency proof leads to old root {fr.hex()}, not the expected {old_root.hex()}")
    if sr != new_root:
        raise VerificationError(f"consistency proof leads to new root {sr.hex()}, not the expected {new_root.hex()}")


def _require_hash_size(h: bytes, what: str, error: type[Exception] = ValueError) -> None:
    if len(h) != HASH_SIZE:
        raise error(f"{what} is {len(h)} bytes, want {HASH_SIZE}")
