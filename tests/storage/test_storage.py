"""Storage, keys and configuration: what an operator relies on without looking."""

from __future__ import annotations

import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import inspect, text

from tests.conftest import make_settings
from traceability.ledger.log import LogConfigError
from traceability.services import open_services
from traceability.settings import Settings
from traceability.storage.database import make_engine, migrate
from traceability.storage.models import Base
from traceability.storage.secrets import KeyFileError


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_migrations_build_exactly_the_models(database, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}" if database == "sqlite" else request.getfixturevalue("empty_postgres")
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # a second start finds nothing to do
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_renamed_table_carries_its_name_in_its_constraints_and_indexes(database, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}" if database == "sqlite" else request.getfixturevalue("empty_postgres")
    engine = make_engine(url)
    migrate(engine)
    found = inspect(engine)
    names = [found.get_pk_constraint("findings")["name"]]
    names += [key["name"] for key in found.get_foreign_keys("findings")]
    names += [index["name"] for index in found.get_indexes("findings")]
    engine.dispose()
    assert len(names) == 7 and all(
        str(name).startswith(("pk_findings", "fk_findings_", "ix_findings_")) for name in names
    )


def test_sqlite_runs_in_wal_mode_with_full_sync(services):
    with services.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_first_start_makes_private_key_files(services):
    for name in ("log-key", "master-key"):
        mode = stat.S_IMODE((services.settings.data_dir / name).stat().st_mode)
        assert mode == 0o600, name
    assert (services.settings.data_dir / "log-key").read_text().startswith("PRIVATE+KEY+testserver/log+")


def test_private_keys_and_tokens_never_sit_in_the_database_in_the_clear(farm, services):
    from signing.keys import raw_seed

    grower = farm.grower()
    seed = raw_seed(services.accounts.signing_key(services.authenticator.authenticate(grower.token)))
    services.close()
    stored = b"".join(p.read_bytes() for p in services.settings.data_dir.glob("suyuan.db*"))
    assert seed not in stored
    assert grower.token.encode() not in stored
    assert len(stored) > 10_000


def test_a_different_master_key_cannot_open_custodial_keys(farm, services, tmp_path):
    from traceability.storage.models import MemberKey
    from traceability.storage.secrets import Sealer

    grower = farm.grower()
    with services.sessions() as session:
        key = session.get_one(MemberKey, grower.keyid)
        assert key.private_key_sealed is not None and key.custody == "custodial"
        with pytest.raises(KeyFileError, match="master key"):
            Sealer(b"\x01" * 32).unseal(key.private_key_sealed, key.keyid)


def test_the_origin_of_a_log_never_changes(services, clock):
    services.close()
    with pytest.raises(KeyFileError, match="origin"):
        open_services(make_settings(services.settings.data_dir, public_url="http://elsewhere.example"), clock)
    settings = make_settings(
        services.settings.data_dir, log_origin="testserver/log", public_url="http://elsewhere.example"
    )
    open_services(settings, clock).close()


def test_a_database_is_bound_to_its_log_key(services, clock, tmp_path):
    services.close()
    url = f"sqlite:///{services.settings.data_dir / 'suyuan.db'}"
    with pytest.raises(LogConfigError, match="log key"):
        open_services(make_settings(tmp_path / "other", database_url=url), clock)


def test_origin_defaults_to_the_public_host(monkeypatch, tmp_path):
    monkeypatch.delenv("SUYUAN_LOG_ORIGIN", raising=False)
    assert Settings(data_dir=tmp_path, public_url="https://trace.example.cn").origin == "trace.example.cn/log"
    assert Settings(data_dir=tmp_path, public_url="http://127.0.0.1:8000/").origin == "127.0.0.1:8000/log"
    assert Settings(data_dir=tmp_path, log_origin="suyuan.example/log").origin == "suyuan.example/log"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({}, "SUYUAN_ADMIN_TOKEN"),
        ({"admin_token": "short"}, "SUYUAN_ADMIN_TOKEN"),
        ({"admin_token": "x" * 40, "public_url": "http://trace.example.cn"}, "https"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, complaint, tmp_path):
    with pytest.raises(ValidationError, match=complaint):
        Settings(env="production", data_dir=tmp_path, **overrides)
    Settings(env="production", data_dir=tmp_path, admin_token="x" * 40, public_url="https://trace.example.cn")


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_migration_0010_moves_every_key_into_member_keys_and_back(database, request, tmp_path):
    """Identities made before keys held by the grower keep their custodial key, their tokens and
    their lots; a grower's sealed key still opens and signs."""
    from alembic import command

    from traceability.storage.database import alembic_config

    url = f"sqlite:///{tmp_path / 'm.db'}" if database == "sqlite" else request.getfixturevalue("empty_postgres")
    engine = make_engine(url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    now = "2026-09-20 02:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO identities (id, role, name, region, keyid, public_key, private_key_sealed, key_index, "
                "registered_by, created_at) VALUES ('g-1', 'grower', '王', '洛川', :keyid, :public, :sealed, 0, "
                "'admin', :now)"
            ),
            {"keyid": "ab" * 32, "public": b"\x01" * 32, "sealed": b"sealed", "now": now},
        )
        connection.execute(
            text("INSERT INTO tokens (token_hash, identity_id, created_at, kind) VALUES (:hash, 'g-1', :now, 'api')"),
            {"hash": b"\x02" * 32, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO plots (id, owner_id, name, lat, lon, created_at) VALUES ('p-1', 'g-1', '后山', 35, 109, :now)"
            ),
            {"now": now},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        moved = connection.execute(
            text("SELECT identity_id, custody, holder, private_key_sealed, key_index FROM member_keys")
        ).one()
        assert tuple(moved[:3]) == ("g-1", "custodial", None) and bytes(moved[3]) == b"sealed" and moved[4] == 0
        assert "keyid" not in {c["name"] for c in inspect(connection).get_columns("identities")}
        assert connection.execute(text("SELECT identity_id FROM tokens")).scalar() == "g-1"
        assert connection.execute(text("SELECT owner_id FROM plots")).scalar() == "g-1"
        if database == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    command.downgrade(config, "0009")
    with engine.connect() as connection:
        back = connection.execute(text("SELECT keyid, private_key_sealed, key_index FROM identities")).one()
        assert back[0] == "ab" * 32 and bytes(back[1]) == b"sealed" and back[2] == 0
    engine.dispose()
