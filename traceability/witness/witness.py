"""What a witness checks before it cosigns, in the order c2sp.org/tlog-witness gives."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from signing.checkpoint import open_checkpoint
from signing.cosignature import Cosigner, cosign
from signing.errors import VerificationError
from signing.merkle import EMPTY_ROOT, verify_consistency
from signing.note import Verifier

from ..clock import Clock, SystemClock
from ..storage.secrets import load_or_create_signer
from .state import LogStates
from .submission import Refusal, parse_submission

KEY_FILE = "witness-key"
STATE_DIR = "logs"
# The Content-Type of a 409's body, the size the witness last cosigned (tlog-witness).
SIZE_MEDIA_TYPE = "text/x.tlog.size"

log = logging.getLogger(__name__)


def load_or_create_cosigner(data_dir: Path, name: str) -> Cosigner:
    """The witness's key, made at first start (mode 0600, race-safe like the log's key).

    Kept in Go's note signer form (`PRIVATE+KEY+<name>+...`), the form Go's
    transparency-dev/formats `NewSignerForCosignatureV1` reads.
    """
    signer = load_or_create_signer(
        data_dir / KEY_FILE,
        name,
        "a witness's name is part of its identity: pass the key's name, or use another data dir for a new witness",
    )
    return Cosigner(signer.name, signer.private_key)


class Witness:
    """Cosigns each configured log's checkpoints, each only if it extends the last one."""

    def __init__(
        self, cosigner: Cosigner, logs: Sequence[Verifier], data_dir: Path, clock: Clock | None = None
    ) -> None:
        self._logs: dict[str, Verifier] = {}
        for key in logs:
            # A log's key name is its origin (protocol §2), and a log has one key.
            if key.name in self._logs:
                raise ValueError(f"two keys for the log {key.name!r}: give each log's key once")
            self._logs[key.name] = key
        self.cosigner = cosigner
        self.states = LogStates(data_dir / STATE_DIR, cosigner.verifier())
        self._clock = clock or SystemClock()

    @property
    def logs(self) -> list[Verifier]:
        return list(self._logs.values())

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for the checkpoint submitted in `body`; raises Refusal."""
        # 1. The request's syntax: old size, proof hashes, a checkpoint body (400).
        submission = parse_submission(body)
        origin = submission.checkpoint.origin

        # 2. A log this witness is configured for (404).
        key = self._logs.get(origin)
        if key is None:
            raise Refusal(404, f"unknown log {origin!r}: this witness cosigns only the logs it was configured with")

        # 3. Signed by that log's key; other signatures are ignored, a bad one by the key fails (403).
        try:
            checkpoint, note = open_checkpoint(submission.note, key)
        except VerificationError as exc:
            raise Refusal(403, f"the checkpoint is not signed by the key of {origin!r}: {exc}") from None

        # 4. The old size cannot be past the new one (400).
        old, size = submission.old_size, checkpoint.size
        if old > size:
            raise Refusal(400, f"old size {old} is larger than the checkpoint's size {size}")

        with self.states.locked(origin) as state:
            latest = state.latest()
            # 5. The client extends what this witness last cosigned, or learns its size (409).
            if old != latest.size:
                raise Refusal(409, f"{latest.size}\n", SIZE_MEDIA_TYPE)
            # 6. The new tree extends it (422): the empty tree has the empty root and is
            #    extended by every tree without a proof; an equal size needs the same root.
            try:
                if size == 0 and checkpoint.root_hash != EMPTY_ROOT:
                    raise VerificationError("a checkpoint of size 0 must have the root hash of the empty tree")
                if old == 0 and submission.proof:
                    raise VerificationError("a consistency proof from size 0 must be empty")
                if old > 0:
                    verify_consistency(old, size, submission.proof, latest.root_hash, checkpoint.root_hash)
            except VerificationError as exc:
                # tlog-witness: such a request "might be proof of log misbehavior".
                log.warning(
                    "refused a checkpoint of %s that does not extend size %d: %s\n%s",
                    origin,
                    old,
                    exc,
                    body.decode(errors="replace"),
                )
                raise Refusal(422, f"the checkpoint does not extend the one of size {old}: {exc}") from None
            # 7. Cosign, and keep it (with the log's own signature) before answering.
            line = cosign(checkpoint, self.cosigner, int(self._clock.now().timestamp()))
            state.store(note.text + "\n" + "".join(sig.line() for sig in note.sigs) + line)
        return line

    def cosigned_note(self, hashed_origin: str) -> str | None:
        """The latest checkpoint cosigned for a log, named by its origin's hash, or None."""
        return self.states.cosigned_note(hashed_origin)
