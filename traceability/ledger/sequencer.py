"""Where every write is sequenced, made idempotent, and committed.

Writes that must not interleave (all of them append to the log, or must be idempotent)
run as jobs under the log's append lock. Jobs that arrive while a transaction is
committing are taken together into the next one (group commit): one lock, one fsync
for all of them, each acknowledged only after its commit. A job refuses (a DomainError)
only before it writes anything, so a refused job never leaves half its changes in a
batch; any other error aborts the whole batch, and nothing of it is stored.

Before each job, under the lock, the sequencer calls its guard with the job's author: the
accounts service refuses there a token or key revoked since the request was authenticated.

Jobs name the lots whose tips (last record, lots made from them) they change (`touch`). On
PostgreSQL the batch's transaction notifies them on `LOTS_CHANNEL` before it commits, so
every listening process hears of them exactly when the change is committed; after the commit,
`lots_committed` listeners (this process's page cache) hear of them on the committing thread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ..clock import Clock
from ..errors import DomainError, Invalid
from ..storage.models import IdempotentResponse
from .log import Appender, TransparencyLog

logger = logging.getLogger("suyuan")

# Secrets shown once: never kept in a stored answer; a replay gets fresh ones from `reissue`.
SECRET_FIELDS = frozenset({"token", "url"})
MAX_BATCH = 256
# PostgreSQL's channel for the lots an append changed: space-separated names, at most
# NOTIFY_BYTES a notification (the server refuses payloads of 8000 bytes or more).
LOTS_CHANNEL = "suyuan_lots"
NOTIFY_BYTES = 7000
_TOUCHED = "suyuan.touched_lots"
PRUNE_EVERY = timedelta(hours=1)

Work = Callable[[Session, Appender], dict[str, Any]]
Reissue = Callable[[Session, dict[str, Any]], dict[str, Any]]


def touch(session: Session, *lots: str) -> None:
    """Say that this transaction changes the tips of these lots (what their pages weigh)."""
    session.info.setdefault(_TOUCHED, set()).update(lots)


def _payloads(lots: set[str]) -> list[str]:
    payloads: list[str] = []
    for lot in sorted(lots):
        if payloads and len(payloads[-1]) + 1 + len(lot.encode()) <= NOTIFY_BYTES:
            payloads[-1] += " " + lot
        else:
            payloads.append(lot)
    return payloads


class Author(Protocol):
    """Who a job is for: its idempotency keys are theirs alone."""

    @property
    def id(self) -> str: ...


A = TypeVar("A", bound=Author)


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: bytes  # SHA-256 over method, path and body: a reused key must mean the same request


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class _Job(Generic[A]):
    actor: A
    idempotency: IdempotencyKey | None
    work: Work
    status: int
    reissue: Reissue | None
    done: bool = False
    outcome: Outcome | None = None
    error: BaseException | None = None


class Sequencer(Generic[A]):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        log: TransparencyLog,
        clock: Clock,
        guard: Callable[[Session, A], None],
        remember: timedelta = timedelta(days=30),
    ) -> None:
        self._sessions = sessions
        self._log = log
        self._clock = clock
        self._guard = guard
        self._remember = remember
        self._next_prune = datetime.min.replace(tzinfo=UTC)
        self._pending: list[_Job[A]] = []
        self._pending_lock = threading.Lock()
        # Held by the thread committing a batch; the others queue behind it.
        self._leader = threading.Lock()
        # Called after each commit, on the committing thread: they must be quick and never raise
        # (the witnesses' submitter only sets events here).
        self.after_commit: list[Callable[[], None]] = []
        # Called after each commit with the lots it touched, on the committing thread: same rules.
        self.lots_committed: list[Callable[[frozenset[str]], None]] = []

    def run(
        self,
        actor: A,
        idempotency: IdempotencyKey | None,
        work: Work,
        status: int = 201,
        reissue: Reissue | None = None,
    ) -> Outcome:
        job = _Job(actor, idempotency, work, status, reissue)
        with self._pending_lock:
            self._pending.append(job)
        with self._leader:
            if not job.done:
                with self._pending_lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                self._commit(batch)
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        return job.outcome

    def _commit(self, batch: list[_Job[A]]) -> None:
        try:
            with self._sessions() as session:
                log = self._log.begin(session, self._clock.now())
                for job in batch:
                    try:
                        job.outcome = self._run_one(session, log, job)
                    except DomainError as refused:
                        job.error = refused
                log.finish()
                touched = frozenset(session.info.pop(_TOUCHED, ()))
                if touched and session.get_bind().dialect.name == "postgresql":
                    # In the transaction: delivered if, and only when, it commits.
                    for payload in _payloads(set(touched)):
                        session.execute(select(func.pg_notify(LOTS_CHANNEL, payload)))
                session.commit()
            for listener in self.after_commit:
                listener()
            if touched:
                for heard in self.lots_committed:
                    heard(touched)
        except BaseException as failure:  # nothing of the batch was stored
            for job in batch:
                if not isinstance(job.error, DomainError):
                    job.error = failure
                job.outcome = None
            if not isinstance(failure, Exception):
                raise
        finally:
            for job in batch:
                job.done = True
        self._prune()

    def _prune(self) -> None:
        """Forget stored answers older than the remembering period, at most once an hour."""
        now = self._clock.now()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        try:
            with self._sessions() as session:
                session.execute(delete(IdempotentResponse).where(IdempotentResponse.created_at < now - self._remember))
                session.commit()
        except Exception:  # the batch is committed and must be answered: pruning waits an hour
            logger.exception("could not forget old Idempotency-Key answers")

    def _run_one(self, session: Session, log: Appender, job: _Job[A]) -> Outcome:
        # Jobs mix ORM objects and Core statements: each sees what the ones before it wrote.
        session.flush()
        self._guard(session, job.actor)
        if job.idempotency is not None:
            stored = session.get(IdempotentResponse, (job.actor.id, job.idempotency.key), populate_existing=True)
            if stored is not None:
                if stored.request_hash != job.idempotency.request_hash:
                    raise Invalid(
                        "idempotency_key_reused",
                        "this Idempotency-Key was already used for a different request; use a new key for a new request",
                    )
                body = json.loads(stored.body)
                if job.reissue is not None:
                    body = job.reissue(session, body)
                return Outcome(stored.status_code, body, replayed=True)
        body = job.work(session, log)
        if job.idempotency is not None:
            session.add(
                IdempotentResponse(
                    actor_id=job.actor.id,
                    key=job.idempotency.key,
                    request_hash=job.idempotency.request_hash,
                    status_code=job.status,
                    body=json.dumps({k: v for k, v in body.items() if k not in SECRET_FIELDS}, ensure_ascii=False),
                    created_at=log.now,
                )
            )
        return Outcome(job.status, body)
