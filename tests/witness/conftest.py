"""A witness in-process over a fresh data dir, and a log for it to witness."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import T0
from traceability.clock import FixedClock
from traceability.witness.app import create_app
from traceability.witness.witness import Witness, load_or_create_cosigner

from .witnesskit import WITNESS_NAME, Log


def open_witness(data_dir: Path, *logs: Log) -> Witness:
    """The witness as `suyuan witness serve` makes it, on a clock that ticks a second a reading."""
    cosigner = load_or_create_cosigner(data_dir, WITNESS_NAME)
    return Witness(cosigner, [log.key for log in logs], data_dir, FixedClock(T0, timedelta(seconds=1)))


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def witness_dir(tmp_path: Path) -> Path:
    return tmp_path / "witness"


@pytest.fixture
def witness(witness_dir: Path, log: Log) -> Witness:
    return open_witness(witness_dir, log)


@pytest.fixture
def client(witness: Witness) -> TestClient:
    return TestClient(create_app(witness))
