"""The add-checkpoint request body (c2sp.org/tlog-witness), read strictly, and the
refusals a witness answers with."""

from __future__ import annotations

import re
from dataclasses import dataclass

from signing.b64 import decode_strict
from signing.checkpoint import Checkpoint
from signing.errors import VerificationError
from signing.merkle import HASH_SIZE

# tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")
_MAX_TREE_SIZE = 2**64 - 1


class Refusal(Exception):
    """A request the witness does not cosign: an HTTP status and a plain-text body."""

    def __init__(self, status: int, message: str, media_type: str = "text/plain; charset=utf-8") -> None:
        super().__init__(message)
        self.status = status
        self.body = message if message.endswith("\n") else message + "\n"
        self.media_type = media_type


def malformed(message: str) -> Refusal:
    return Refusal(400, message)


@dataclass(frozen=True)
class Submission:
    """A request to cosign `checkpoint`, the body of `note`, which extends size `old_size`
    by `proof`. Nothing in it is verified yet but its syntax."""

    old_size: int
    proof: list[bytes]
    checkpoint: Checkpoint
    note: str


def parse_submission(body: bytes) -> Submission:
    """`old <size>`, consistency proof lines (base64), a blank line, a signed checkpoint.

    Raises Refusal(400) for anything else.
    """
    # 1. The header lines end at the first blank line (none of them is empty); the note follows.
    header, blank, rest = body.partition(b"\n\n")
    if not blank:
        raise malformed("the request body has no blank line between the proof and the checkpoint")
    try:
        lines = header.decode("ascii").split("\n")
        note = rest.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("the request body is not UTF-8 text (its old size and proof lines ASCII)") from None

    # 2. The old size, in decimal without leading zeros.
    old = _OLD_LINE.fullmatch(lines[0])
    if old is None or int(old.group(1)) > _MAX_TREE_SIZE:
        raise malformed(f"the first line {lines[0][:40]!r} is not `old <tree size>`")

    # 3. At most 63 proof lines, each one base64 hash.
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise malformed(f"{len(proof_lines)} consistency proof lines, more than {MAX_PROOF_LINES}")
    proof = [_hash(line, position) for position, line in enumerate(proof_lines)]

    # 4. A checkpoint body before the note's signature lines (signatures are checked later).
    split = note.rfind("\n\n")
    if split < 0:
        raise malformed("the checkpoint is not a signed note: no blank line before its signatures")
    try:
        checkpoint = Checkpoint.parse(note[: split + 1])
    except VerificationError as exc:
        raise malformed(f"malformed checkpoint: {exc}") from None
    return Submission(int(old.group(1)), proof, checkpoint, note)


def _hash(line: str, position: int) -> bytes:
    try:
        return decode_strict(line, f"consistency proof line {position + 1}", HASH_SIZE)
    except VerificationError as exc:
        raise malformed(str(exc)) from None
