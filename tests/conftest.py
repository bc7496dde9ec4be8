"""Shared fixtures: a real database built by the real migrations, a fixed clock, factories."""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.corpus import corpus  # noqa: F401  (the fixture, for every test)
from tests.factories import Farm
from traceability.clock import FixedClock
from traceability.services import Services, open_services
from traceability.settings import Settings
from traceability.storage.database import make_engine, migrate
from traceability.web.app import create_app

ADMIN_TOKEN = "test-admin-token-0123456789abcdefghij"
T0 = datetime(2026, 9, 20, 2, 0, 0, tzinfo=UTC)
DATABASE_FILE = "suyuan.db"  # in the data dir, where Settings puts it
POSTGRES_ADMIN_URL = os.environ.get("SUYUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests as one line per reason (the photo corpus, say), not one per test."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reasons[str(report.longrepr[2]).removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}", yellow=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker("postgres")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server on this machine. In CI an unreachable server fails the run."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5, autocommit=True):
            return POSTGRES_ADMIN_URL
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def fresh_postgres_database(server: str, template: str | None = None) -> tuple[str, Callable[[], None]]:
    """A new database on `server`: empty, or a copy of `template`."""
    name = f"suyuan_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", drop


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """A database built by the real migrations once per run (per xdist worker), copied for each test."""
    url, drop = fresh_postgres_database(postgres_server)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url.rsplit("/", 1)[1]
    drop()


@pytest.fixture
def postgres(postgres_server: str, postgres_template: str) -> Iterator[str]:
    """A fresh database for one test, with the schema the migrations build."""
    url, drop = fresh_postgres_database(postgres_server, postgres_template)
    yield url
    drop()


@pytest.fixture
def empty_postgres(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database, for a test of the migrations themselves."""
    url, drop = fresh_postgres_database(postgres_server)
    yield url
    drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database built by the real migrations once per run (per xdist worker)."""
    path = tmp_path_factory.mktemp("template") / DATABASE_FILE
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def make_settings(data_dir: Path, database_url: str | None = None, **overrides) -> Settings:
    fields = {"admin_token": ADMIN_TOKEN, "public_url": "http://testserver", **overrides}
    return Settings(data_dir=data_dir, database_url=database_url, **fields)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0, step=timedelta(seconds=1))


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite unless a module or test asks for both with
    `pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)`."""
    return getattr(request, "param", "sqlite")


BOTH_DATABASES = ["sqlite", "postgres"]


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock, backend: str, request: pytest.FixtureRequest) -> Iterator[Services]:
    if backend == "postgres":
        database_url = request.getfixturevalue("postgres")
    else:
        database_url = None
        (tmp_path / "data").mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "data" / DATABASE_FILE)
    services = open_services(make_settings(tmp_path / "data", database_url), clock)
    yield services
    services.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        yield client


@pytest.fixture
def farm(client: TestClient) -> Farm:
    return Farm(client, ADMIN_TOKEN)
