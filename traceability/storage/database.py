"""Engines, sessions and the migrations that create the schema."""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


# Enough connections for every request thread (AnyIO's default pool has 40) to hold one.
POOL_SIZE, POOL_OVERFLOW = 10, 40


def make_engine(url: str, pool_size: int = POOL_SIZE, max_overflow: int = POOL_OVERFLOW) -> Engine:
    if url.startswith("sqlite"):
        # A writer waits for the lock instead of failing; 30 s covers many queued appends.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: an acknowledged append survives a power cut, not only a crash of the process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine, photos: Path | None = None) -> Config:
    """`photos` is the photos directory, for migrations that read stored photos (0009)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["photos"] = photos
    return config


def migrate(engine: Engine, photos: Path | None = None) -> None:
    """Bring the schema to the newest migration (the only way the schema is created); a
    database that holds photos needs their directory, `photos`.

    Servers starting together must not both migrate: on PostgreSQL `env.py` holds an
    advisory lock, and for SQLite a file lock beside the database serialises them.
    """
    config = alembic_config(engine, photos)
    if engine.dialect.name != "sqlite":
        command.upgrade(config, "head")
        return
    lock_path = Path(sqlite_path(engine)).with_suffix(".migrate-lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(config, "head")


def sqlite_path(engine: Engine) -> str:
    """The file of a SQLite database (the engines here are never in memory)."""
    path = engine.url.database
    if not path:
        raise ValueError("a SQLite database in memory has no file")
    return path
