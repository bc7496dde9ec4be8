"""`suyuan verify --server` checks the proofs the server serves, not only its entries.

Everyone else who checks this log relies on those proofs: a buyer's proof bundle carries
inclusion proofs, other monitors and witnesses ask for consistency proofs. A server that
served its entries faithfully but wrong proofs would pass an audit of the entries alone, so
once the entries are known to hash to the checkpoint, a sample of proofs spread over the log
is asked for and checked against what the entries themselves give: their leaf hashes and the
roots of their prefixes. A full check of every proof would cost a request per entry; a
server that lies about some proofs is caught by a sample when it lies about many, and a
scheduled monitor samples again on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from signing.checkpoint import Checkpoint
from signing.errors import VerificationError
from signing.merkle import verify_consistency, verify_inclusion

from . import log_client

SAMPLE = 16


@dataclass(frozen=True)
class ProofsChecked:
    inclusion: int
    consistency: int


def sample(size: int, count: int = SAMPLE) -> list[int]:
    """Up to `count` entry indexes spread evenly over a tree of `size`, the first and the last among them."""
    if size <= count:
        return list(range(size))
    return sorted({round(i * (size - 1) / (count - 1)) for i in range(count)})


def consistency_sizes(first: int, size: int) -> list[int]:
    """The older tree sizes to ask consistency proofs from: those whose roots the entries of
    this run give (the prefixes from `first` on), below the checkpoint's own size."""
    return [index + 1 for index in sample(size) if first < index + 1 < size]


def check_served_proofs(
    client: httpx.Client,
    checkpoint: Checkpoint,
    known_leaf: Callable[[int], bytes | None],
    roots: Mapping[int, bytes],
) -> ProofsChecked:
    """`known_leaf(i)`: the leaf hash of entry i as this run computed it from the entries (None
    for an entry an earlier run checked). `roots`: the root of the tree at each of
    `consistency_sizes`, from the entries."""
    size, root = checkpoint.size, checkpoint.root_hash
    indexes = sample(size)
    # 1. For each sampled entry, the server's inclusion proof leads from the entry's leaf hash
    # to the checkpoint's root. An entry an earlier run checked has no leaf hash here: a
    # proof that leads from the leaf hash the server names to the root shows that hash is
    # the entry's all the same (another would take a collision of SHA-256).
    for index in indexes:
        where = f"/log/proof/inclusion?index={index}&size={size}"
        served_leaf, proof = log_client.inclusion_proof(client, index, size)
        expected = known_leaf(index)
        if expected is not None and served_leaf != expected:
            raise VerificationError(
                f"entry {index}: the server's inclusion proof ({where}) is for leaf hash {served_leaf.hex()}, "
                f"not {expected.hex()}, the hash of the entry it serves"
            )
        try:
            verify_inclusion(served_leaf, index, size, proof, root)
        except VerificationError as exc:
            raise VerificationError(
                f"entry {index}: the inclusion proof the server serves ({where}) is wrong: {exc}"
            ) from None
    # 2. From each older size, the server's consistency proof leads from that prefix's root to
    # the checkpoint's.
    for old in sorted(roots):
        proof = log_client.consistency_proof(client, old, size)
        try:
            verify_consistency(old, size, proof, roots[old], root)
        except VerificationError as exc:
            raise VerificationError(
                f"the consistency proof the server serves from tree size {old} to {size} "
                f"(/log/proof/consistency?old={old}&new={size}) is wrong: {exc}"
            ) from None
    return ProofsChecked(len(indexes), len(roots))
