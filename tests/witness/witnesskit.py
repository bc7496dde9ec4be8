"""A log to witness, requests to a witness, and a check of cosignatures written straight
from c2sp.org/tlog-cosignature with `cryptography` (not with signing.cosignature)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.keys import generate_private_key
from signing.merkle import consistency_proof, leaf_hash, root_hash
from signing.note import Signer, Verifier

ORIGIN = "orchard.example/log"
WITNESS_NAME = "witness.example/w1"


class Log:
    """An RFC 9162 log of numbered entries with its own key. `fork(at)` is the same key
    signing a history that agrees up to entry `at` and differs after it."""

    def __init__(self, signer: Signer | None = None, fork_at: int | None = None) -> None:
        self.signer = signer or Signer(ORIGIN, generate_private_key())
        self.fork_at = fork_at
        self._leaf = cache(self._leaf_hash)

    @property
    def key(self) -> Verifier:
        return Verifier.from_key_string(self.signer.verifier_key())

    def fork(self, at: int) -> Log:
        return Log(self.signer, at)

    def _leaf_hash(self, index: int) -> bytes:
        forked = self.fork_at is not None and index >= self.fork_at
        return leaf_hash(f"{'forked ' if forked else ''}entry {index}".encode())

    def subtree(self, lo: int, hi: int) -> bytes:
        return root_hash([self._leaf(i) for i in range(lo, hi)])

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.signer.name, size, self.subtree(0, size))

    def signed(self, size: int) -> str:
        return sign_checkpoint(self.checkpoint(size), self.signer)

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(old, new, self.subtree) if 0 < old <= new else []

    def request(self, old: int, new: int, proof: Sequence[bytes] | None = None, note: str | None = None) -> bytes:
        """An add-checkpoint body: `old N`, proof lines, a blank line, the signed checkpoint."""
        hashes = self.proof(old, new) if proof is None else proof
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in hashes)]
        return ("\n".join(lines) + "\n\n" + (note if note is not None else self.signed(new))).encode()


def check_cosignature(line: str, note_text: str, vkey: str) -> int:
    """Check a `cosignature/v1` line against a witness vkey as the spec words it, and
    answer its timestamp. Asserts; shares no code with signing.cosignature."""
    name, key_id, key64 = vkey.split("+", 2)
    key = base64.b64decode(key64)
    # The vkey: type 0x04, a 32-byte Ed25519 key, key ID = SHA-256(name || 0x0A || 0x04 || key)[:4].
    assert key[0] == 0x04 and len(key) == 33
    assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == key_id
    # The line: `— <name> base64(key ID || u64 big-endian timestamp || 64-byte signature)`.
    assert line.startswith(f"\u2014 {name} ") and line.endswith("\n") and line.count("\n") == 1
    raw = base64.b64decode(line.removeprefix(f"\u2014 {name} ").removesuffix("\n"), validate=True)
    assert len(raw) == 4 + 8 + 64 and raw[:4].hex() == key_id
    timestamp = int.from_bytes(raw[4:12], "big")
    assert 0 < timestamp < 2**63
    # The message: `cosignature/v1`, `time <timestamp>`, then the whole note text.
    message = f"cosignature/v1\ntime {timestamp}\n{note_text}".encode()
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[12:], message)  # raises InvalidSignature
    return timestamp
