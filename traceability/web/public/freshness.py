"""Is a cached page still current? The last record number of each lot it shows, read fresh
for every request, cheaply enough that the cache pays.

- SQLite: `PRAGMA data_version` changes whenever another connection (another thread,
  process or the writer) commits. While it stands still, nothing changed and no query
  runs; when it moves, the tips are read again.
- PostgreSQL (`NotifiedTips`): every append transaction notifies the lots it changed
  (`pg_notify`, see ledger/sequencer.py), delivered when, and only if, it commits. Each
  process keeps one listening connection, in a thread of its own, and forgets the tips of the
  lots it hears of; requests answer from the tips they know, with no database round trip,
  and read only those they do not know. The appending process also forgets them on its
  committing thread, before the append is answered. Reads that started before a lot was
  forgotten do not store what they read. While the listening connection is lost (or before
  it is up), every request reads, as `SharedReadTips` does; once it is back, everything is
  read again once (what was committed while nobody listened was never heard of).
- `SharedReadTips`: requests that arrive while a read is in flight share the next one. Each
  answer comes from a read that started after its request arrived, so a record committed
  before the request is always seen, on any host.

How fresh on another host: PostgreSQL queues a transaction's notifications before it
commits and signals the listening backends while committing, before the writer's COMMIT
returns; the notification then travels one hop to the listening process, whose thread
waits on its socket. A page on another host therefore lags a commit by that hop (well
under a millisecond on a LAN, typically less than the writer's own answer takes to reach
its client and a new request to reach another host), not by any polling period. On the
appending host, and in fallback, there is no lag at all.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, bindparam, func, select
from starlette.concurrency import run_in_threadpool

from ...ledger.sequencer import LOTS_CHANNEL
from ...storage.database import sqlite_path
from ...storage.models import Batch, BatchInput

logger = logging.getLogger("suyuan")

# One stuck read must not hold every page of the process for long.
READ_TIMEOUT_SECONDS = 10
# lot -> ((last seq, lots made from it), GTIN): the first changes whenever what its page says may.
Tips = dict[str, tuple[tuple[int, int], str | None]]

# A lot made from this one changes what left it, which its page weighs.
_TAKEN = select(func.count()).select_from(BatchInput).where(BatchInput.input_lot == Batch.lot).scalar_subquery()
_TIPS = select(Batch.lot, Batch.last_seq, _TAKEN, Batch.gtin).where(Batch.lot.in_(bindparam("lots", expanding=True)))
_SQLITE_TIPS = (
    f"SELECT b.lot, b.last_seq, (SELECT count(*) FROM {BatchInput.__tablename__} i WHERE i.input_lot = b.lot), "
    f"b.gtin FROM {Batch.__tablename__} b WHERE b.lot IN "
)


def read_tips(connection: Connection, lots: Iterable[str]) -> Tips:
    rows = connection.execute(_TIPS, {"lots": list(lots)})
    return {lot: ((seq, taken), gtin) for lot, seq, taken, gtin in rows}


class SQLiteTips:
    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._known: dict[str, tuple[tuple[int, int], str | None] | None] = {}

    async def __call__(self, lots: tuple[str, ...]) -> Tips:
        # Runs on the event loop: a pragma that reads shared memory, and rarely an indexed read.
        connection = self._connect()
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._known.clear()
            self._data_version = version
        missing = [lot for lot in lots if lot not in self._known]
        if missing:
            marks = ",".join("?" * len(missing))
            found = {
                lot: ((seq, taken), gtin)
                for lot, seq, taken, gtin in connection.execute(f"{_SQLITE_TIPS}({marks})", missing)
            }
            self._known.update((lot, found.get(lot)) for lot in missing)
        return {lot: tip for lot in lots if (tip := self._known[lot]) is not None}

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # Autocommit, so that no read transaction pins an old snapshot between requests.
            self._connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class SharedReadTips:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiting: list[tuple[tuple[str, ...], asyncio.Future]] = []
        self._reading = False
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, lots: tuple[str, ...]) -> Tips:
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append((lots, answer))
        if not self._reading:
            self._reading = True
            # Kept, so that the loop's weak reference is not the only one while it runs.
            self._task = asyncio.create_task(self._read_while_waited_for())
        return await answer

    async def _read_while_waited_for(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                wanted = {lot for lots, _ in batch for lot in lots}
                try:
                    found = await asyncio.wait_for(run_in_threadpool(self._read, wanted), READ_TIMEOUT_SECONDS)
                except Exception as exc:  # noqa: BLE001  (each waiting request answers the error its own way)
                    for _, answer in batch:
                        if not answer.done():  # a request cancelled meanwhile has gone
                            answer.set_exception(exc)
                    continue
                for lots, answer in batch:
                    if not answer.done():
                        answer.set_result({lot: found[lot] for lot in lots if lot in found})
        finally:
            self._reading = False

    def _read(self, lots: set[str]) -> Tips:
        with self._engine.connect() as connection:
            return read_tips(connection, lots)

    def close(self) -> None:
        pass


# How long the listening thread waits between checks that it should stop, and before it
# connects again when its connection is lost.
LISTEN_POLL_SECONDS = 0.5
RECONNECT_SECONDS = 0.5
# Between waits the listener asks the server something: a connection that silently stopped
# answering (a host or network gone without a word) is not trusted once it has not
# answered for this long, and the kernel gives it up soon after (TCP keepalives and
# user timeout, below).
TRUSTED_SECONDS = 2.0
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": 5000,
}


Tip = tuple[tuple[int, int], str | None]
# Not yet known, or forgotten: unlike None (there is no such lot), it must be read.
_UNKNOWN: Tip = ((-1, -1), "unknown")


class NotifiedTips:
    """Tips kept in memory while PostgreSQL tells this process which lots changed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.reads = SharedReadTips(engine)
        self._known: dict[str, Tip | None] = {}
        # Moves whenever anything is forgotten: a read that saw it move stores nothing.
        self._epoch = 0
        self._lock = threading.Lock()
        self.listening = False
        self._answered_at = 0.0  # time.monotonic() of the listening connection's last answer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: psycopg.Connection | None = None

    async def __call__(self, lots: tuple[str, ...]) -> Tips:
        if not self.listening or time.monotonic() - self._answered_at > TRUSTED_SECONDS:
            return await self.reads(lots)
        # The listener's thread may forget a lot meanwhile: each is looked up once.
        seen = {lot: self._known.get(lot, _UNKNOWN) for lot in lots}
        missing = tuple(lot for lot, tip in seen.items() if tip is _UNKNOWN)
        if missing:
            epoch = self._epoch  # before the read starts: a change heard of since voids it
            found = await self.reads(missing)
            with self._lock:
                if epoch == self._epoch and self.listening:
                    self._known.update((lot, found.get(lot)) for lot in missing)
            seen.update((lot, found.get(lot)) for lot in missing)
        return {lot: tip for lot, tip in seen.items() if tip is not None and tip is not _UNKNOWN}

    def forget(self, lots: Iterable[str]) -> None:
        """These lots changed (called by the listener, and by this process's appends)."""
        with self._lock:
            self._epoch += 1
            for lot in lots:
                self._known.pop(lot, None)

    def _forget_all(self, listening: bool) -> None:
        with self._lock:
            self._epoch += 1
            self._known.clear()
            self.listening = listening

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="suyuan-lots-listener", daemon=True)
            self._thread.start()

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process, while there is one."""
        connection = self._connection
        return connection.info.backend_pid if connection is not None and self.listening else None

    def _conninfo(self) -> str:
        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return make_conninfo(url, application_name="suyuan lots listener", **_KEEPALIVES)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    self._connection = conn
                    conn.execute(f"LISTEN {LOTS_CHANNEL}")
                    self._answered_at = time.monotonic()
                    # Listening from here on: what committed before is read afresh.
                    self._forget_all(listening=True)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=LISTEN_POLL_SECONDS):
                            self.forget(note.payload.split())
                        conn.execute("SELECT 1")
                        self._answered_at = time.monotonic()
            except Exception:  # lost: every request reads until it is back
                if not self._stop.is_set():
                    logger.warning("the lots listener lost its connection; pages read every request", exc_info=True)
            finally:
                self._connection = None
                self._forget_all(listening=False)
            self._stop.wait(RECONNECT_SECONDS)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=LISTEN_POLL_SECONDS * 4)
            self._thread = None


def tips_reader(engine: Engine) -> SQLiteTips | NotifiedTips:
    if engine.dialect.name == "sqlite":
        return SQLiteTips(sqlite_path(engine))
    return NotifiedTips(engine)
