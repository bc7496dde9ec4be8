"""The log's side of witnessing (protocol §8, c2sp.org/tlog-witness): submit each new
checkpoint to every witness, collect their cosignatures, and keep the newest checkpoint that
a quorum cosigned.

It runs beside the appends, never on their path: one thread per witness, woken after each
commit and every second, so a slow or dead witness delays no append and no other witness.
Each thread signs the current checkpoint and posts `old <size the witness has>`, the
consistency proof from there, and the checkpoint; a 409 names the witness's size, and the
request is made again once from it. Whatever a witness answers is recorded (`cosigned`), for
the regulators' pages.

Several hosts (or worker processes) on one database each run their own: they race at the
witnesses, which answer the losers 409, and the compare-and-set in `cosigned.store` keeps
the newest cosigned checkpoint whoever stores it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from signing.cosignature import WitnessVerifier, verify_cosigned
from signing.encoding import b64encode
from signing.errors import VerificationError
from signing.note import Verifier

from ..clock import Clock
from ..settings import WitnessConfig
from . import cosigned
from .log import TransparencyLog

logger = logging.getLogger("suyuan")

PERIOD = 1.0  # seconds between rounds when nothing wakes a witness's thread
GAP = 0.25  # at least this between one witness's rounds: a burst of appends is one round, one write
TIMEOUT = 5.0  # a witness that has not answered by then is recorded as failing
STATUS_EVERY = timedelta(seconds=1)  # successes are recorded at most this often per witness
RECENT = 8  # cosignatures kept per witness: a quorum may form from different rounds
SIZE_MEDIA_TYPE = "text/x.tlog.size"


class _Witness:
    """One witness and what this process knows of it (touched by its own thread only)."""

    def __init__(self, position: int, verifier: WitnessVerifier, url: str) -> None:
        self.position = position
        self.verifier = verifier
        self.vkey = verifier.key_string()
        self.url = url
        self.wake = threading.Event()
        self.old = 0  # the size we believe it cosigned last
        self.has: tuple[int, bytes] | None = None  # the checkpoint it cosigned for us last
        self.unrecorded: int | None = None  # a cosigned size not yet written to the database
        self.recorded_at: datetime | None = None
        self.error: str | None = None


class _Refused(Exception):
    """The witness did not cosign; the message says why, for the status and the log."""


class Submitter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        log: TransparencyLog,
        config: WitnessConfig,
        clock: Clock,
        client: httpx.Client | None = None,
    ) -> None:
        self._sessions = sessions
        self._log = log
        self._log_key = Verifier.from_key_string(log.signer.verifier_key())
        self._policy = config.policy
        self._witnesses = [
            _Witness(i, v, url) for i, (v, url) in enumerate(zip(config.policy.witnesses, config.urls, strict=True))
        ]
        self._clock = clock
        self._client = client or httpx.Client(timeout=TIMEOUT)
        self._lock = threading.Lock()
        # Per witness (by position): (size, root) -> its cosignature line, the newest RECENT.
        self._lines: list[dict[tuple[int, bytes], str]] = [{} for _ in self._witnesses]
        self.stored_size = -1  # the newest cosigned size this process knows is stored
        self._stored_lines = 0  # how many cosignatures this process stored at that size
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life ---------------------------------------------------------------------------

    def start(self) -> None:
        vkeys = [w.vkey for w in self._witnesses]
        with self._sessions() as session:
            cosigned.ensure_witnesses(session, vkeys)
            known = cosigned.heard(session, vkeys)
        for witness in self._witnesses:
            heard = known.get(witness.vkey)
            witness.old = (heard.cosigned_size or 0) if heard else 0
        self._threads = [
            threading.Thread(target=self._run, args=(w,), name=f"witness-{w.verifier.name}", daemon=True)
            for w in self._witnesses
        ]
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """After an append: every witness's thread starts a round now (cheap, never blocks)."""
        for witness in self._witnesses:
            witness.wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(TIMEOUT + 1)
        self._client.close()

    def _run(self, witness: _Witness) -> None:
        while not self._stopping.is_set():
            witness.wake.wait(PERIOD)
            witness.wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.submit(witness)
            except Exception:  # the thread must outlive any one round
                logger.exception("witness %s: a round failed", witness.verifier.name)
            self._stopping.wait(GAP)

    # -- one round ------------------------------------------------------------------------

    def submit_all(self) -> None:
        """One round for every witness, in this thread (tests, and a first round at start)."""
        for witness in self._witnesses:
            self.submit(witness)

    def submit(self, witness: _Witness) -> None:
        """Bring `witness` to the log's current checkpoint, and keep a quorum if one forms."""
        with self._sessions() as session:
            kept = cosigned.newest(session)
            self._learn_stored(kept.size if kept else -1)
            head = self._log.head(session)
            size, root = head.size, bytes(head.root_hash)
            if witness.has == (size, root):
                self._record_success(session, witness, force=True)
                return
            note = self._log.signed_checkpoint(head)
            body = self._body(session, witness.old, size, note)
        # The HTTP exchange holds no transaction open.
        try:
            line = self._exchange(witness, body, size, note)
        except _Refused as refused:
            self._record_error(witness, str(refused))
            return
        witness.old, witness.has, witness.unrecorded = size, (size, root), size
        with self._sessions() as session:
            self._record_success(session, witness, force=witness.error is not None)
        witness.error = None
        self._collect(witness, size, root, note, line)

    def _body(self, session: Session, old: int, size: int, note: str) -> bytes:
        if old > size:
            raise _Refused(f"the witness has cosigned size {old}, beyond this log's size {size}")
        proof = self._log.consistency_proof(session, old, size) if 0 < old < size else []
        return "".join(f"{line}\n" for line in [f"old {old}", *map(b64encode, proof)]).encode() + b"\n" + note.encode()

    def _exchange(self, witness: _Witness, body: bytes, size: int, note: str) -> str:
        response = self._post(witness, body)
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(SIZE_MEDIA_TYPE):
            # Its size is not what we believed (a restart, another host): once more, from there.
            try:
                witness.old = int(response.text.strip())
            except ValueError:
                raise _Refused(f"HTTP 409 with a size that is not a number: {response.text[:100]!r}") from None
            if witness.old > size:
                raise _Refused(
                    f"the witness has cosigned size {witness.old}, beyond this log's size {size} "
                    "(another host may be ahead; if this lasts, the witness saw another history)"
                )
            with self._sessions() as session:
                body = self._body(session, witness.old, size, note)
            response = self._post(witness, body)
        if response.status_code != 200:
            raise _Refused(f"HTTP {response.status_code}: {response.text.strip()[:300]}")
        # Only a cosignature that verifies is kept.
        try:
            return verify_cosigned(note + response.text, self._log_key, [witness.verifier], 1).cosignatures[0].line
        except VerificationError as exc:
            raise _Refused(f"answered no valid cosignature: {exc}") from None

    def _post(self, witness: _Witness, body: bytes) -> httpx.Response:
        try:
            return self._client.post(f"{witness.url}/add-checkpoint", content=body)
        except httpx.HTTPError as exc:
            raise _Refused(f"cannot reach {witness.url}: {type(exc).__name__}: {exc}") from None

    # -- the quorum ----------------------------------------------------------------------

    def _collect(self, witness: _Witness, size: int, root: bytes, note: str, line: str) -> None:
        with self._lock:
            recent = self._lines[witness.position]
            recent[(size, root)] = line
            for old in sorted(recent)[:-RECENT]:
                del recent[old]
            if size < self.stored_size:
                return
            lines = [found for lines in self._lines if (found := lines.get((size, root)))]
            if len(lines) < self._policy.quorum or (size == self.stored_size and len(lines) <= self._stored_lines):
                return
        cosigned_note = note + "".join(lines)
        # What is served must verify as every verifier will check it.
        self._policy.verify(cosigned_note, self._log_key)
        with self._sessions() as session:
            if cosigned.store(session, size, root, cosigned_note, len(lines), self._clock.now()):
                logger.info("checkpoint of size %d cosigned by %d witnesses", size, len(lines))
        with self._lock:
            if size > self.stored_size or len(lines) > self._stored_lines:
                self.stored_size, self._stored_lines = size, len(lines)

    def _learn_stored(self, size: int) -> None:
        with self._lock:
            if size > self.stored_size:
                self.stored_size, self._stored_lines = size, 0

    # -- what is recorded ----------------------------------------------------------------

    def _record_success(self, session: Session, witness: _Witness, force: bool) -> None:
        if witness.unrecorded is None:
            return
        now = self._clock.now()
        if not force and witness.recorded_at is not None and now - witness.recorded_at < STATUS_EVERY:
            return
        cosigned.record_cosigned(session, witness.vkey, witness.unrecorded, now)
        witness.unrecorded, witness.recorded_at = None, now

    def _record_error(self, witness: _Witness, error: str) -> None:
        if error != witness.error:
            logger.warning("witness %s (%s): %s", witness.verifier.name, witness.url, error)
        witness.error = error
        with self._sessions() as session:
            cosigned.record_error(session, witness.vkey, error, self._clock.now())

    @property
    def witnesses(self) -> Sequence[WitnessVerifier]:
        return self._policy.witnesses
