"""The composition root: every service built once at start from the settings, each given only
what it uses. The web app, the `suyuan` command and the tests start here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from signing.keys import raw_public_key

from .accounts.actors import Actor, ActorCache, Authenticator, still_valid
from .accounts.keys import Keys
from .accounts.service import AccountService
from .accounts.sessions import BrowserSessions
from .clock import Clock, SystemClock
from .ledger.log import TransparencyLog
from .ledger.lot_index import LotIndex
from .ledger.sequencer import Sequencer
from .ledger.witnessing import Submitter
from .lots.service import LotService
from .photos.files import PhotoFiles
from .photos.service import PhotoService, Tolerances
from .settings import Settings
from .storage.database import make_engine, make_sessionmaker, migrate
from .storage.secrets import Sealer, admin_token, load_or_create_operator_signer


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    writer_engine: Engine
    log: TransparencyLog
    lot_index: LotIndex  # which entries belong to each lot, from the signed payloads
    sequencer: Sequencer[Actor]
    authenticator: Authenticator
    accounts: AccountService
    browser_sessions: BrowserSessions
    photos: PhotoService
    lots: LotService
    # With witnesses configured: submits checkpoints to them; the web app starts and stops it.
    submitter: Submitter | None = None

    def close(self) -> None:
        self.engine.dispose()
        self.writer_engine.dispose()


def open_services(settings: Settings, clock: Clock | None = None) -> Services:
    """First start creates the data dir, the keys and (through the migrations) the schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    engine = make_engine(settings.sqlalchemy_url)
    photo_files = PhotoFiles(settings.data_dir / "photos")
    migrate(engine, photo_files.root)
    signer = load_or_create_operator_signer(settings.data_dir, settings.origin)
    sessions = make_sessionmaker(engine)
    witnesses = settings.witness_config
    log = TransparencyLog(signer, witnesses.policy if witnesses else None)
    with sessions() as session:
        log.ensure_head(session, clock.now())
    # Appends get their own connection, so they never wait behind requests holding the pool's.
    writer_engine = make_engine(settings.sqlalchemy_url, pool_size=1, max_overflow=0)
    sequencer = Sequencer(
        make_sessionmaker(writer_engine), log, clock, still_valid, timedelta(days=settings.idempotency_days)
    )
    master = settings.master_key.get_secret_value() if settings.master_key else None
    actors = ActorCache()
    admin = admin_token(settings.data_dir, settings.admin_token.get_secret_value() if settings.admin_token else None)
    keys = Keys(Sealer.load_or_create(settings.data_dir, master), signer.private_key)
    accounts = AccountService(sessions, sequencer, keys, clock)
    photos = PhotoService(
        sessions,
        sequencer,
        photo_files,
        clock,
        Tolerances(settings.photo_time_tolerance_hours, settings.photo_distance_tolerance_km),
    )
    lot_index = LotIndex()
    submitter = Submitter(sessions, log, witnesses, clock) if witnesses else None
    if submitter is not None:
        sequencer.after_commit.append(submitter.wake)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        writer_engine=writer_engine,
        log=log,
        lot_index=lot_index,
        sequencer=sequencer,
        authenticator=Authenticator(sessions, admin, clock, actors),
        accounts=accounts,
        browser_sessions=BrowserSessions(sessions, sequencer, keys, clock, actors, settings.public_url),
        photos=photos,
        lots=LotService(
            sessions,
            sequencer,
            accounts.signing_key,
            photos,
            clock,
            settings.backdated_days,
            raw_public_key(signer.private_key),
        ),
        submitter=submitter,
    )
