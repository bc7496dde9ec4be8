"""Each log's latest cosigned checkpoint, kept in the witness's data dir.

One file per log, `<sha256(origin) hex>.checkpoint`: the checkpoint as the witness last
cosigned it, a signed note with the log's signature and the witness's cosignature (so it
is evidence in its own right, and what the monitoring endpoint serves). Reading it back
checks that cosignature, so a damaged file is noticed rather than trusted.

Checking a request against the latest checkpoint and storing the new one happen under an
exclusive `flock` on the log's lock file, which holds across threads and processes alike
(each holder opens the file itself): two requests can never both extend the same size.
A file is replaced whole and durably (`storage.durable`) before the lock is let go, so a
restart finds exactly what was last answered.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from signing.checkpoint import Checkpoint
from signing.cosignature import WitnessVerifier
from signing.errors import VerificationError
from signing.merkle import EMPTY_ROOT
from signing.note import open_note

from ..storage.durable import replace_file


class StateError(RuntimeError):
    """A state file that cannot be what this witness wrote; the message says which."""


def origin_hash(origin: str) -> str:
    """How tlog-witness names a log in paths: lowercase hex SHA-256 of its origin."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint cosigned for a log; before the first, the empty tree (which
    every tree extends) and no note."""

    size: int = 0
    root_hash: bytes = EMPTY_ROOT
    note: str | None = None


class LogState:
    """One log's state, held under its lock: read the latest, store the next."""

    def __init__(self, path: Path, origin: str, key: WitnessVerifier) -> None:
        self._path = path
        self._origin = origin
        self._key = key

    def latest(self) -> Latest:
        note = _read(self._path)
        if note is None:
            return Latest()
        try:
            checkpoint = Checkpoint.parse(open_note(note, [self._key]).text)
        except VerificationError as exc:
            raise StateError(f"{self._path} is not a checkpoint this witness cosigned ({exc})") from None
        if checkpoint.origin != self._origin:
            raise StateError(f"{self._path} holds a checkpoint of {checkpoint.origin!r}, not of {self._origin!r}")
        return Latest(checkpoint.size, checkpoint.root_hash, note)

    def store(self, cosigned_note: str) -> None:
        replace_file(self._path, cosigned_note.encode("utf-8"))


class LogStates:
    """The state files of every log, in `directory`."""

    def __init__(self, directory: Path, key: WitnessVerifier) -> None:
        self._directory = directory
        self._key = key
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self, origin: str) -> Iterator[LogState]:
        """The log's state, with no other thread or process inside the same block for it."""
        name = origin_hash(origin)
        with (self._directory / f"{name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield LogState(self._directory / f"{name}.checkpoint", origin, self._key)

    def cosigned_note(self, hashed_origin: str) -> str | None:
        """The latest cosigned checkpoint of the log whose origin hashes to `hashed_origin`
        (a rename replaces it whole, so no lock is needed to read it)."""
        if len(hashed_origin) != 64 or not all(c in "0123456789abcdef" for c in hashed_origin):
            return None
        return _read(self._directory / f"{hashed_origin}.checkpoint")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
