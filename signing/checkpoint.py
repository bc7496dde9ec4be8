"""C2SP tlog-checkpoint: the log's signed tree head (protocol §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from signing.encoding import b64decode, b64encode
from signing.errors import VerificationError
from signing.merkle import HASH_SIZE
from signing.note import Note, Signer, Verifier, open_note, sign_note

_MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, tree size, root hash, and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Every field becomes one non-empty line of the body; a newline inside
        # one would make the body say something else than this object.
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line:
                raise ValueError(f"checkpoint line {line!r} must be non-empty and hold no newline")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise ValueError(f"checkpoint tree size {self.size} is outside 0..2**64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"checkpoint root hash is {len(self.root_hash)} bytes, want {HASH_SIZE}")

    def body(self) -> str:
        lines = (self.origin, str(self.size), b64encode(self.root_hash), *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body (a note's text), strictly."""
        # 1. At least three newline-terminated lines.
        if not body.endswith("\n"):
            raise VerificationError("checkpoint body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(f"checkpoint body has {len(lines)} lines, want at least 3")
        origin, size_text, root_text, *extensions = lines
        # 2. The size in plain decimal, so that each tree head has one spelling.
        if not _DECIMAL.fullmatch(size_text):
            raise VerificationError(f"checkpoint tree size {size_text!r} is not a decimal number without leading zeros")
        # 3. The root hash in base64.
        try:
            root = b64decode(root_text)
        except ValueError as e:
            raise VerificationError(f"checkpoint root hash {root_text!r} is {e}") from None
        # 4. Field values: non-empty lines, size range, 32-byte root.
        try:
            return cls(origin, int(size_text), root, tuple(extensions))
        except ValueError as e:
            raise VerificationError(str(e)) from None


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note for a checkpoint. The key name must be the origin (protocol §2)."""
    if signer.name != checkpoint.origin:
        raise ValueError(f"key name {signer.name!r} is not the checkpoint origin {checkpoint.origin!r}")
    return sign_note(checkpoint.body(), signer)


def verify_checkpoint(signed_note: bytes | str, verifier: Verifier) -> Checkpoint:
    """Verify a signed checkpoint from the log whose key is `verifier`.

    Other signatures (witness cosignatures, say) are allowed and left unverified.
    """
    return open_checkpoint(signed_note, verifier)[0]


def open_checkpoint(signed_note: bytes | str, verifier: Verifier) -> tuple[Checkpoint, Note]:
    """`verify_checkpoint`, answering the opened note too: the signatures by other
    keys (witness cosignatures) are its `unverified_sigs`, for the caller to check."""
    # 1. The note must carry a valid signature by the log's key.
    note = open_note(signed_note, [verifier])
    # 2. Its text must be a well-formed checkpoint.
    checkpoint = Checkpoint.parse(note.text)
    # 3. The key must be this log's: its name is the origin, so that a key
    #    cannot vouch for another log's tree.
    if checkpoint.origin != verifier.name:
        raise VerificationError(f"checkpoint origin {checkpoint.origin!r} is not the key name {verifier.name!r}")
    return checkpoint, note
