"""The DERIVED 70,000-entry tree (known-answers.md §3.9): roots, proofs and checkpoint."""

from __future__ import annotations

import base64

import pytest

from signing.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from signing.keys import private_key_from_seed
from signing.merkle import (
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from signing.note import Signer, Verifier

SIZE = 70000
ROOTS = {
    1: "PnB3/S9m1ongzuanz1s3vy3KfJea81bQoxy8XIVgXH0=",
    2: "p9kYlLYfv0Y3jYjj4bH3rvOVMsUEtIS9MVUdFeCgnf8=",
    3: "m0ll+LIgukL3A5rQeByWbPkLsa6hWoBYbWNLMiqx9M4=",
    7: "Rc6n7cqVQ+5VdaV3TQ2PqTIai+CEs/tlf6T20HGjyUw=",
    8: "sVrNixzPepuBwE9psn5cq9Z+kL4Ob/ak0e2HAEpPDME=",
    255: "uzuXQ+CBGOpYOud98EoUSaBgHN5vdRRtecLKtjZs4hA=",
    256: "FeLdSXOuRN6MjPMEj9mNF62q6mKH9OBgalWmQ2F0CMA=",
    257: "1BjAhzJZvOfQVhqwBEhhEkFsHESQhlQVNCv+BuZzFGw=",
    65536: "vJvKkJUW1b8UjCvy3qCg2fcXzkmH0v51BNZpQ2O0FZg=",
    70000: "B1kWeg+Y416ALUb/fH0p0sPwOmOiVt62q7/zV6kbY7E=",
}
INCLUSION_12345 = """
7uBCkq1wf0J07medFtWaIkt4r+CWfkw9cjrtqoA3Wbk= C8uPPNu/76qAlPypH1130V+9+aTLZBQRp/axHqhfR90=
YL80c4QCg3guqGr1xXKHldwfr0uZT/L/BXsPg6yY2HM= 0mdzDDKp1Lg8WId8Q/L53bhvZsHXO0tgAc/8o50iocw=
k3BaJLuIFrtwk0fyaC3W0xJyaSSPfKPtvvIb4MD8PdE= IV5ZP7gQxoG1v/8KXf77QrxstHl9ucWY4nLraMHbT/U=
+9LkUhdPgeCGSW0osvm/K9y4kpQSQLxq0Lr3fsjWWrA= 379RSP3G1oRgCo9UYhcHMfN/Pg4VyOco5Zma7x5vkWY=
P9muGH4a5rRgtNvBRE1WmFBAAAKVfGRr1h43+QEIJ6E= 6w6YhiIiJiz04W29bRJ6E/e8fqqWn5WebdENoNAEgRc=
V7Di+MWASou12KxBKDP+UgHUtDr57Dky4z6Zr3855eE= VUzzC2/HJmZWUtq6rIR+ltcFE498megHvoZZrxzjRZU=
DUt/XAPfnIloeoOtxHHvC7f/zPs9972hXsSijqkc9Fw= NAidrDqlU/XmFVLe8l3Fntf1cfUz4Ppnee4XT8l0Tyw=
9YiUl+GvOITOQnBPMCGwWm0hp4Ew4olQNHN/ucp/MSE= +dFi/3qzbZ14BZQ61Mx63Pnx55dIK2h7GDgh7JQPS3c=
UYZI1oHPOYaHp741UVKJEZEM2y+KUVNH6X7b8TRJAjg=
"""
CONSISTENCY_257 = """
5kz1m/vPPFdDzNnto6gRp5ZmiXF6hJnlse8MsfM79LY= vYeyzamd9bZCrJwKl9O8dvmSHizOFgWPqkS8lU27Bl8=
7eqDK367Uj2zLK1mh1I74YiZc+J73s6nmgtsbJRcdB0= a8s5cIa/dTj2k2F5C78FdqmXwBH6obNv/yb1zADUhWM=
s1N0WH8OnMY2maex97A3mDJknI1NugMWnGViJWuMPAY= N7VVNqwTDquLgFkD1gfsWeOsiuX8FBJkemEdPlROtyw=
2aCiFDWMS9MUqRSaCsAxRhA51P9XGfSMotxlDI+5F0w= w+0KbzgSGbVTUBn+2x8ek9gHakNLQMI/anJ2Ea8hfcs=
eXLDz9QrKTrN3ubBM45fKVI/Q068q2GdIfCVTcZBq60= FeLdSXOuRN6MjPMEj9mNF62q6mKH9OBgalWmQ2F0CMA=
P/QkSHMvt8r009KLSBbXnzPUkAVlmTLe1xweseqOFVc= ASrU/JtARbnr5kiUwaiJ19NG2JKocbFz0tc6MxphZq0=
CwUN/EWUkIhh4DF48qbI3GxV65eiuvbjJvuDk5Z8pcI= qDW8GsxiI82GGWzj3767+0V27qwNvs80WbLOPN3/i9Q=
6iMEmx2ElDSgduclCoers++VGspaOzW1CW5JXdJyRBc= 9YiUl+GvOITOQnBPMCGwWm0hp4Ew4olQNHN/ucp/MSE=
+dFi/3qzbZ14BZQ61Mx63Pnx55dIK2h7GDgh7JQPS3c= UYZI1oHPOYaHp741UVKJEZEM2y+KUVNH6X7b8TRJAjg=
"""
CHECKPOINT = (
    "example.com/derived\n"
    "70000\n"
    "B1kWeg+Y416ALUb/fH0p0sPwOmOiVt62q7/zV6kbY7E=\n"
    "\n"
    "— example.com/derived "
    "ReI6M3r5Tu+7KMEdS8W71Zd3DmYA3cZ3Q9A+WbMndPJxfjAoUdQCtY4cJFX2Fjrmez7Dw+d66PIf817bOf5f4V4coA0=\n"
)
VKEY = "example.com/derived+45e23a33+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


def _hashes(text: str) -> list[bytes]:
    return [base64.b64decode(x) for x in text.split()]


class PerfectSubtrees:
    """Every perfect subtree's hash, level by level: what a log stores to prove in O(log n)."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[n], below[n + 1]) for n in range(0, len(below) - 1, 2)])
        self.calls: list[tuple[int, int]] = []

    def subtree_hash(self, lo: int, hi: int) -> bytes:
        self.calls.append((lo, hi))
        return self._mth(lo, hi)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.levels[n.bit_length() - 1][lo // n]
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))


@pytest.fixture(scope="module")
def tree() -> PerfectSubtrees:
    return PerfectSubtrees([leaf_hash(n.to_bytes(8, "big")) for n in range(SIZE)])


def test_roots_at_listed_sizes(tree: PerfectSubtrees) -> None:
    accumulator = RootAccumulator()
    for leaf in tree.levels[0]:
        accumulator.append(leaf)
        if accumulator.size in ROOTS:
            assert base64.b64encode(accumulator.root()).decode() == ROOTS[accumulator.size]
    assert root_hash(tree.levels[0]) == base64.b64decode(ROOTS[SIZE])


def test_inclusion_proof_for_12345(tree: PerfectSubtrees) -> None:
    leaf = tree.levels[0][12345]
    assert leaf.hex() == "59affda4d5e9f4808c0719fcc01807a15d2768a713b164a05626949676b9b78b"
    proof = inclusion_proof(12345, SIZE, tree.subtree_hash)
    assert proof == _hashes(INCLUSION_12345)
    assert len(tree.calls) == len(proof) == 17
    verify_inclusion(leaf, 12345, SIZE, proof, base64.b64decode(ROOTS[SIZE]))


def test_consistency_proofs(tree: PerfectSubtrees) -> None:
    tree.calls.clear()
    proof = consistency_proof(257, SIZE, tree.subtree_hash)
    assert proof == _hashes(CONSISTENCY_257)
    assert len(tree.calls) == len(proof) == 18
    verify_consistency(257, SIZE, proof, base64.b64decode(ROOTS[257]), base64.b64decode(ROOTS[SIZE]))
    assert consistency_proof(65536, SIZE, tree.subtree_hash) == [tree.subtree_hash(65536, SIZE)]


def test_checkpoint_with_all_zero_seed() -> None:
    signer = Signer("example.com/derived", private_key_from_seed(bytes(32)))
    assert signer.verifier_key() == VKEY
    checkpoint = Checkpoint("example.com/derived", SIZE, base64.b64decode(ROOTS[SIZE]))
    assert sign_checkpoint(checkpoint, signer) == CHECKPOINT
    assert verify_checkpoint(CHECKPOINT, Verifier.from_key_string(VKEY)) == checkpoint
