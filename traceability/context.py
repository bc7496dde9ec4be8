"""What the services share: settings, clock, the log and key material. Built once at start."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .actors import ActorCache
from .clock import Clock, SystemClock
from .db import make_engine, make_sessionmaker, migrate
from .freshness import SharedReadTips, SQLiteTips, tips_reader
from .ids import new_token
from .keystore import Sealer, load_or_create_operator_signer, write_secret
from .log import TransparencyLog
from .page_cache import PageCache
from .photo_store import PhotoStore
from .settings import Settings
from .writes import Sequencer


@dataclass
class Context:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    log: TransparencyLog
    sealer: Sealer
    admin_token_hash: bytes
    sequencer: Sequencer
    writer_engine: Engine
    photos: PhotoStore
    actors: ActorCache
    pages: PageCache
    tips: SQLiteTips | SharedReadTips

    def close(self) -> None:
        self.tips.close()
        self.engine.dispose()
        self.writer_engine.dispose()


def open_context(settings: Settings, clock: Clock | None = None) -> Context:
    """First start creates the data dir, the keys and (through the migrations) the schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    signer = load_or_create_operator_signer(settings.data_dir, settings.origin)
    master = settings.master_key.get_secret_value() if settings.master_key else None
    sessions = make_sessionmaker(engine)
    log = TransparencyLog(signer)
    # Appends get their own connection, so they never wait behind requests holding the pool's.
    writer_engine = make_engine(settings.sqlalchemy_url, pool_size=1, max_overflow=0)
    context = Context(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        log=log,
        sealer=Sealer.load_or_create(settings.data_dir, master),
        admin_token_hash=hashlib.sha256(admin_token(settings).encode()).digest(),
        sequencer=Sequencer(make_sessionmaker(writer_engine), log, clock, timedelta(days=settings.idempotency_days)),
        writer_engine=writer_engine,
        photos=PhotoStore(settings.data_dir / "photos"),
        actors=ActorCache(),
        pages=PageCache(),
        tips=tips_reader(engine),
    )
    with context.sessions() as session:
        context.log.ensure_head(session, clock.now())
    return context


ADMIN_TOKEN_FILE = "admin-token"


def admin_token(settings: Settings) -> str:
    """SUYUAN_ADMIN_TOKEN, or in development one made at first start and kept in the data dir."""
    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if not path.exists():
        write_secret(path, new_token() + "\n")
    return path.read_text(encoding="ascii").strip()
