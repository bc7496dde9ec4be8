"""Is a cached page still current? The last record number of each lot it shows, read fresh
for every request, cheaply enough that the cache pays.

- SQLite: `PRAGMA data_version` changes whenever another connection (another thread,
  process or the writer) commits. While it stands still, nothing changed and no query
  runs; when it moves, the tips are read again.
- PostgreSQL: requests that arrive while a read is in flight share the next one. Each
  answer comes from a read that started after its request arrived, so a record committed
  before the request is always seen, on any host.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, bindparam, func, select
from starlette.concurrency import run_in_threadpool

from ...storage.database import sqlite_path
from ...storage.models import Batch, BatchInput

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


def tips_reader(engine: Engine) -> SQLiteTips | SharedReadTips:
    if engine.dialect.name == "sqlite":
        return SQLiteTips(sqlite_path(engine))
    return SharedReadTips(engine)
