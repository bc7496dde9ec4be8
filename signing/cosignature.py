"""Witness cosignatures: Ed25519 `cosignature/v1` per c2sp.org/tlog-cosignature (protocol §8).

A witness cosigns a checkpoint only after checking that it extends the last one the
witness cosigned; a verifier that demands cosignatures from a quorum of witnesses it
trusts cannot be shown a history (a split view) that those witnesses did not all see.

The API, for the log, the witness and the verifiers alike:

- `Cosigner(name, private_key)`: a witness's key; `cosign(checkpoint, cosigner,
  timestamp)` is its cosignature line on a checkpoint.
- `WitnessVerifier.from_key_string(vkey)`: a witness's public key, from its vkey
  `<name>+<8 hex key ID>+<base64(0x04 || public key)>`.
- `verify_cosigned(signed_note, log_key, witnesses, quorum)`: the checkpoint and the
  cosignatures that verified, or `VerificationError` when fewer than `quorum` witnesses
  cosigned it.

The wire format: a note signature line `— <name> base64(key ID || timestamp || signature)`,
key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4], timestamp a big-endian u64 of
POSIX seconds, and the Ed25519 signature over `cosignature/v1\\ntime <timestamp>\\n`
followed by the whole note text (the checkpoint body with any extension lines, without
the signature lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.checkpoint import Checkpoint, open_checkpoint
from signing.encoding import b64decode, b64encode
from signing.errors import VerificationError
from signing.keys import raw_public_key
from signing.note import Signature, Verifier, VerifierList, require_signer_name

_ALG_COSIGNATURE_V1 = 0x04
_TIMESTAMP_SIZE = 8
_SIGNATURE_SIZE = 64
# tlog-cosignature: the timestamp "MUST NOT exceed 2^63 - 1".
MAX_TIMESTAMP = 2**63 - 1


def cosigned_message(note_text: bytes, timestamp: int) -> bytes:
    """What a `cosignature/v1` signs: a header line, a time line, then the note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + note_text


class WitnessVerifier(Verifier):
    """A witness's Ed25519 public key, verifying `cosignature/v1` note signatures.

    A `note.Verifier` of signature type 0x04: the same name, key ID and vkey rules, but
    each signature is a timestamp and an Ed25519 signature over `cosigned_message`.
    """

    ALGORITHM = _ALG_COSIGNATURE_V1
    ALGORITHM_NAME = "Ed25519 cosignature/v1"

    def verify(self, message: bytes, sig: bytes) -> bool:
        """Whether `sig` (timestamp || signature, after the key ID) cosigns the note text `message`."""
        timestamp = _timestamp(sig)
        if timestamp is None:
            return False
        return super().verify(cosigned_message(message, timestamp), sig[_TIMESTAMP_SIZE:])


def _timestamp(sig: bytes) -> int | None:
    """The timestamp of a cosignature's bytes, or None when they cannot be one."""
    if len(sig) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
        return None
    timestamp = int.from_bytes(sig[:_TIMESTAMP_SIZE], "big")
    return timestamp if timestamp <= MAX_TIMESTAMP else None


class Cosigner:
    """A witness's named Ed25519 key that cosigns checkpoints.

    tlog-cosignature: the signed message does not commit to the name, so one key must
    serve one witness name only, and never also sign plain notes.
    """

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        require_signer_name(name)
        self._verifier = WitnessVerifier(name, raw_public_key(private_key))
        self.name = name
        self.key_id = self._verifier.key_id
        self._private_key = private_key

    def verifier(self) -> WitnessVerifier:
        return self._verifier

    def key_string(self) -> str:
        """The witness's vkey, `<name>+<8 hex key ID>+<base64(0x04 || public key)>`."""
        return self._verifier.key_string()

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)


def cosign(checkpoint: Checkpoint, cosigner: Cosigner, timestamp: int) -> str:
    """The cosignature line `— <name> <base64>` and a newline, by `cosigner` on `checkpoint`,
    dated `timestamp` (POSIX seconds). Append it to the checkpoint's signed note.

    The checkpoint's body is what is signed: `Checkpoint.parse` is strict, so a parsed
    checkpoint's `body()` is the note text it came from, byte for byte.
    """
    # tlog-witness: a witness's cosignature "MUST NOT omit the timestamp", so never zero.
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} is outside 1..2**63-1")
    stamp = timestamp.to_bytes(_TIMESTAMP_SIZE, "big")
    signature = cosigner.sign(cosigned_message(checkpoint.body().encode("utf-8"), timestamp))
    raw = cosigner.key_id.to_bytes(4, "big") + stamp + signature
    return Signature(cosigner.name, cosigner.key_id, b64encode(raw)).line()


@dataclass(frozen=True)
class Cosignature:
    """A cosignature that verified: whose, when, and its line as the note carries it."""

    witness: str
    key_id: int
    timestamp: int
    line: str


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint signed by its log, and the cosignatures of it that verified (one per
    witness, in the order the witnesses were given)."""

    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]

    @property
    def witnesses(self) -> list[str]:
        """The names of the witnesses whose cosignatures verified."""
        return [c.witness for c in self.cosignatures]


def verify_cosigned(
    signed_note: bytes | str, log_key: Verifier, witnesses: Sequence[WitnessVerifier], quorum: int
) -> CosignedCheckpoint:
    """Verify a checkpoint signed by the log whose key is `log_key` and cosigned by at
    least `quorum` of `witnesses`.

    Raises VerificationError saying what failed; ValueError when the policy itself is
    impossible (a quorum below 0 or above the number of distinct witnesses).
    """
    # 1. The policy: a quorum the witnesses given can reach. A witness given twice counts once.
    distinct = list({w.key_string(): w for w in witnesses}.values())
    if not 0 <= quorum <= len(distinct):
        raise ValueError(f"a quorum of {quorum} cannot be met by {len(distinct)} distinct witnesses")
    known = VerifierList(*distinct)

    # 2. The log's own signature on a well-formed checkpoint of its origin; every other
    #    signature line is left unverified by this step.
    checkpoint, note = open_checkpoint(signed_note, log_key)

    # 3. Every line by a known witness (its name and key ID) must verify, as signed-note
    #    asks of known keys: a witness's bad cosignature fails the note, it is not just
    #    left uncounted. Lines by other keys are ignored.
    text = note.text.encode("utf-8")
    verified: dict[str, Cosignature] = {}
    for sig in note.unverified_sigs:
        if not known.knows(sig.name, sig.key_id):
            continue
        witness = known.verifier(sig.name, sig.key_id)
        raw = b64decode(sig.base64)[4:]
        timestamp = _timestamp(raw)
        if timestamp is None or not witness.verify(text, raw):
            raise VerificationError(f"invalid cosignature by witness {sig.name}+{sig.key_id:08x}")
        verified.setdefault(witness.key_string(), Cosignature(sig.name, sig.key_id, timestamp, sig.line()))

    # 4. At least `quorum` distinct witnesses cosigned it.
    if len(verified) < quorum:
        missing = ", ".join(w.name for w in distinct if w.key_string() not in verified)
        raise VerificationError(
            f"checkpoint of size {checkpoint.size} has {len(verified)} valid cosignatures of the {quorum} "
            f"needed from {len(distinct)} witnesses (none from: {missing})"
        )
    return CosignedCheckpoint(
        checkpoint, tuple(verified[w.key_string()] for w in distinct if w.key_string() in verified)
    )


@dataclass(frozen=True)
class WitnessPolicy:
    """Which witnesses a verifier trusts and how many of them must cosign (protocol §8),
    passed explicitly to every check that needs it."""

    witnesses: tuple[WitnessVerifier, ...]
    quorum: int

    @classmethod
    def of(cls, vkeys: Sequence[str], quorum: int | None = None) -> WitnessPolicy:
        """From witness vkeys; the quorum defaults to all of them. Raises VerificationError
        for a vkey that is not a cosignature/v1 key, ValueError for an impossible quorum."""
        witnesses = tuple(WitnessVerifier.from_key_string(vkey) for vkey in vkeys)
        distinct = len({w.key_string() for w in witnesses})
        wanted = distinct if quorum is None else quorum
        if not 1 <= wanted <= distinct:
            raise ValueError(f"a quorum of {wanted} cannot be met by {distinct} distinct witnesses")
        return cls(witnesses, wanted)

    def verify(self, signed_note: bytes | str, log_key: Verifier) -> CosignedCheckpoint:
        return verify_cosigned(signed_note, log_key, self.witnesses, self.quorum)
