"""RFC 9162 Merkle hashing and proofs: known answers (known-answers.md §3.7, §3.8) and properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing.errors import VerificationError
from signing.merkle import (
    EMPTY_ROOT,
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.signing.signing_testkit import DETERMINISTIC, THOROUGH

# transparency-dev/merkle testonly LeafInputs and RootHashes.
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOT_HASHES = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# RFC 9162 §2.1.5's names for the nodes of the 7-leaf example tree (§3.8).
a, b, c, d, e, f, j = (
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    )
)
g, h, i = (
    bytes.fromhex(x)
    for x in (
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    )
)
k = bytes.fromhex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")
l = bytes.fromhex("837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e")  # noqa: E741

# A fixed tree for the property tests: leaf i holds the 8-byte big-endian i.
LEAVES = [leaf_hash(n.to_bytes(8, "big")) for n in range(300)]
ROOTS = [root_hash(LEAVES[:n]) for n in range(301)]


def subtree(leaves: list[bytes]) -> Callable[[int, int], bytes]:
    return lambda lo, hi: root_hash(leaves[lo:hi])


def test_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


@pytest.mark.parametrize("size", range(9))
def test_root_hashes(size: int) -> None:
    leaves = [leaf_hash(x) for x in LEAF_INPUTS[:size]]
    assert root_hash(leaves) == ROOT_HASHES[size]
    accumulator = RootAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    assert accumulator.root() == ROOT_HASHES[size]


def test_rfc9162_example_paths_and_proofs() -> None:
    leaves = [leaf_hash(x) for x in LEAF_INPUTS[:7]]
    assert leaves == [a, b, c, d, e, f, j]
    tree = subtree(leaves)
    assert inclusion_proof(0, 7, tree) == [b, h, l]
    assert inclusion_proof(3, 7, tree) == [c, g, l]
    assert inclusion_proof(4, 7, tree) == [f, j, k]
    assert inclusion_proof(6, 7, tree) == [i, k]
    assert consistency_proof(3, 7, tree) == [c, d, g, l]
    assert consistency_proof(4, 7, tree) == [l]
    assert consistency_proof(6, 7, tree) == [i, j, k]
    root = ROOT_HASHES[7]
    for index, proof in ((0, [b, h, l]), (3, [c, g, l]), (4, [f, j, k]), (6, [i, k])):
        verify_inclusion(leaves[index], index, 7, proof, root)
    for old, proof in ((3, [c, d, g, l]), (4, [l]), (6, [i, j, k])):
        verify_consistency(old, 7, proof, ROOT_HASHES[old], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (5, 3), (-1, 4)])
def test_inclusion_proof_rejects_bad_arguments(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside a tree"):
        inclusion_proof(index, size, subtree(LEAVES))


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 5), (-1, 5), (6, 5)])
def test_consistency_proof_rejects_bad_arguments(old: int, new: int) -> None:
    with pytest.raises(ValueError, match="old tree size"):
        consistency_proof(old, new, subtree(LEAVES))


def test_consistency_proof_between_equal_sizes_is_empty() -> None:
    assert consistency_proof(5, 5, subtree(LEAVES)) == []
    verify_consistency(5, 5, [], ROOTS[5], ROOTS[5])


def test_verification_messages_name_the_failed_check() -> None:
    proof = inclusion_proof(3, 10, subtree(LEAVES))
    with pytest.raises(VerificationError, match="leaf hash is 31 bytes, want 32"):
        verify_inclusion(LEAVES[3][:31], 3, 10, proof, ROOTS[10])
    with pytest.raises(VerificationError, match="leaf index 10 is outside a tree of size 10"):
        verify_inclusion(LEAVES[3], 10, 10, proof, ROOTS[10])
    with pytest.raises(VerificationError, match="fewer than"):
        verify_inclusion(LEAVES[3], 3, 10, proof[:-1], ROOTS[10])
    with pytest.raises(VerificationError, match="more than"):
        verify_inclusion(LEAVES[3], 3, 10, [*proof, proof[0]], ROOTS[10])
    with pytest.raises(VerificationError, match="not the expected"):
        verify_inclusion(LEAVES[4], 3, 10, proof, ROOTS[10])
    with pytest.raises(VerificationError, match="old size must be at least 1"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(VerificationError, match="equal tree sizes must be empty"):
        verify_consistency(4, 4, [ROOTS[4]], ROOTS[4], ROOTS[4])
    with pytest.raises(VerificationError, match="is empty"):
        verify_consistency(4, 8, [], ROOTS[4], ROOTS[8])
    with pytest.raises(VerificationError, match="element 0 is 33 bytes"):
        verify_consistency(4, 8, [ROOTS[1] + b"x"], ROOTS[4], ROOTS[8])
    with pytest.raises(VerificationError, match="old root"):
        verify_consistency(3, 8, consistency_proof(3, 8, subtree(LEAVES)), ROOTS[4], ROOTS[8])


def test_inclusion_proof_does_not_bind_the_tree_size() -> None:
    # RFC 9162 proofs commit to the root, not to the size: leaf 0's proof in a
    # tree of 8 also "verifies" for size 5 against the same root. Verifiers must
    # take the size from the signed checkpoint, never from the proof's sender.
    proof = inclusion_proof(0, 8, subtree(LEAVES))
    verify_inclusion(LEAVES[0], 0, 5, proof, ROOTS[8])
    with pytest.raises(VerificationError):
        verify_inclusion(LEAVES[0], 0, 5, proof, ROOTS[5])


def test_subtree_hash_is_called_only_for_proof_elements() -> None:
    calls: list[tuple[int, int]] = []

    def tree(lo: int, hi: int) -> bytes:
        assert lo < hi
        calls.append((lo, hi))
        return root_hash(LEAVES[lo:hi])

    proof = inclusion_proof(123, 300, tree)
    assert len(calls) == len(proof)
    calls.clear()
    proof = consistency_proof(123, 300, tree)
    assert len(calls) == len(proof)


def test_accumulator_state_round_trip_and_validation() -> None:
    accumulator = RootAccumulator()
    for leaf in LEAVES[:13]:
        accumulator.append(leaf)
    size, hashes = accumulator.state()
    assert (size, len(hashes)) == (13, 3)
    restored = RootAccumulator.from_state(size, hashes)
    for leaf in LEAVES[13:40]:
        restored.append(leaf)
    assert (restored.size, restored.root()) == (40, ROOTS[40])
    assert accumulator.size == 13  # the state is a copy
    with pytest.raises(ValueError, match="has 3 perfect subtrees, got 2"):
        RootAccumulator.from_state(13, hashes[:2])
    with pytest.raises(ValueError, match="subtree hash is 31 bytes"):
        RootAccumulator.from_state(1, [b"x" * 31])
    with pytest.raises(ValueError, match="negative"):
        RootAccumulator.from_state(-1, [])
    with pytest.raises(ValueError, match="leaf hash is 0 bytes"):
        accumulator.append(b"")


sizes = st.integers(min_value=1, max_value=300)


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def tree_pair(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(sizes)
    return draw(st.integers(min_value=1, max_value=new)), new


def _flip_bit(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 8 * len(proof[position]) - 1))
    flipped = bytearray(proof[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(flipped), *proof[position + 1 :]]


def _drop_or_add(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    drop = data.draw(st.booleans())
    if proof and drop:
        position = data.draw(st.integers(0, len(proof) - 1))
        return proof[:position] + proof[position + 1 :]
    position = data.draw(st.integers(0, len(proof)))
    extra = data.draw(st.binary(min_size=32, max_size=32))
    return [*proof[:position], extra, *proof[position:]]


@DETERMINISTIC
@given(leaf_in_tree())
def test_generated_inclusion_proofs_verify(case: tuple[int, int]) -> None:
    index, size = case
    proof = inclusion_proof(index, size, subtree(LEAVES))
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == ROOTS[size]
    verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@THOROUGH
@given(leaf_in_tree(), st.data())
def test_tampered_inclusion_proofs_fail(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    proof = inclusion_proof(index, size, subtree(LEAVES))
    leaf, root = LEAVES[index], ROOTS[size]
    if proof:
        with pytest.raises(VerificationError):
            verify_inclusion(leaf, index, size, _flip_bit(proof, data), root)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, size, _drop_or_add(proof, data), root)
    other_index = data.draw(st.integers(0, 400).filter(lambda n: n != index))
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, other_index, size, proof, root)
    # The size is bound by the root it claims (see test_inclusion_proof_does_not_bind_the_tree_size).
    other_size = data.draw(sizes.filter(lambda n: n != size))
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, other_size, proof, ROOTS[other_size])


@DETERMINISTIC
@given(tree_pair())
def test_generated_consistency_proofs_verify(case: tuple[int, int]) -> None:
    old, new = case
    proof = consistency_proof(old, new, subtree(LEAVES))
    verify_consistency(old, new, proof, ROOTS[old], ROOTS[new])


@THOROUGH
@given(tree_pair(), st.data())
def test_tampered_consistency_proofs_fail(case: tuple[int, int], data: st.DataObject) -> None:
    old, new = case
    proof = consistency_proof(old, new, subtree(LEAVES))
    if proof:
        with pytest.raises(VerificationError):
            verify_consistency(old, new, _flip_bit(proof, data), ROOTS[old], ROOTS[new])
    with pytest.raises(VerificationError):
        verify_consistency(old, new, _drop_or_add(proof, data), ROOTS[old], ROOTS[new])
    # Other sizes fail, except size pairs whose honest proof is this same list
    # (every equal-size pair shares the empty proof).
    other_old, other_new = data.draw(
        tree_pair().filter(lambda pair: consistency_proof(pair[0], pair[1], subtree(LEAVES)) != proof)
    )
    with pytest.raises(VerificationError):
        verify_consistency(other_old, other_new, proof, ROOTS[other_old], ROOTS[other_new])


@DETERMINISTIC
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_accumulator_matches_root_hash_for_every_prefix(leaves: list[bytes]) -> None:
    accumulator = RootAccumulator()
    assert accumulator.root() == root_hash([]) == EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        accumulator = RootAccumulator.from_state(*accumulator.state())
        accumulator.append(leaf)
        assert accumulator.size == n
        assert accumulator.root() == root_hash(leaves[:n])
