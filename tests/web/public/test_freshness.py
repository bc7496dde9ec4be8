"""The freshness check under the page cache (traceability/web/public/freshness.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.orchard import grow, recall
from traceability.ledger.sequencer import NOTIFY_BYTES, _payloads
from traceability.services import open_services
from traceability.web.app import create_app
from traceability.web.public.freshness import NotifiedTips, SharedReadTips


def run(make_coroutine):
    """asyncio.run in a thread of its own: Playwright's session fixture keeps a loop running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(make_coroutine())).result()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_request_gone_while_its_read_is_shared_leaves_the_others_answered(farm, client):
    lot = grow(farm).packed_lot
    reader = client.app.state.public.tips.reads
    assert isinstance(reader, SharedReadTips)

    async def three_requests_one_leaves() -> tuple[dict, dict]:
        first = asyncio.create_task(reader((lot,)))
        await asyncio.sleep(0)  # the first starts the read; the next two wait for another
        second, third = asyncio.create_task(reader((lot,))), asyncio.create_task(reader(("NOSUCHLOT", lot)))
        await asyncio.sleep(0)
        second.cancel()
        return await asyncio.wait_for(asyncio.gather(first, third), timeout=10)

    first, third = run(three_requests_one_leaves)
    assert lot in first and set(third) == {lot}


def test_sqlite_sees_a_commit_of_another_connection_at_once(farm, client):
    orchard = grow(farm)
    lot = orchard.field_lot

    async def tip() -> tuple[int, int]:
        return (await client.app.state.public.tips((lot,)))[lot][0]

    seq, taken = run(tip)
    farm.event(orchard.grower, lot, "observation", {"note": "又巡了一遍果园"})
    assert run(tip) == (seq + 1, taken)
    # A lot made from it changes what left it, which its page weighs.
    farm.batch(orchard.grower, "苹果汁", inputs=[{"lot": lot, "quantity": 10, "unit": "kg"}])
    assert run(tip) == (seq + 1, taken + 1)


def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within time"
        time.sleep(0.01)


@pytest.fixture
def second(clock, services) -> Iterator[TestClient]:
    """Another server on the same database (another worker, or another host), listening."""
    other = open_services(make_settings(services.settings.data_dir, services.settings.database_url), clock)
    try:
        app = create_app(other)
        with TestClient(app) as client:
            until(lambda: app.state.public.tips.listening)
            yield client
    finally:
        other.close()


def heard(reader: NotifiedTips, lot: str) -> None:
    """Another server hears of a commit one hop after it (PostgreSQL signals its listeners
    while committing): a bound, not a barrier; well within a second even on a loaded machine."""
    until(lambda: lot not in reader._known, seconds=1)


def listener(client: TestClient) -> NotifiedTips:
    reader = cast(FastAPI, client.app).state.public.tips
    assert isinstance(reader, NotifiedTips)
    return reader


def shown(client: TestClient, lot: str) -> str:
    answer = client.get(f"/b/{lot}", params={"lang": "en"})
    assert answer.status_code == 200
    return answer.text


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_another_server_answers_from_memory_and_hears_of_records_and_recalls(farm, client, second):
    orchard = grow(farm)
    lot, reader = orchard.packed_lot, listener(second)
    assert 'role="alert"' not in shown(second, lot)
    assert lot in reader._known and orchard.field_lot in reader._known  # the next request reads nothing
    farm.event(orchard.grower, lot, "observation", {"note": "礼盒已装车"})  # through the first server
    heard(reader, lot)
    assert "礼盒已装车" in shown(second, lot)
    recall(farm, orchard, orchard.field_lot)
    heard(reader, orchard.field_lot)
    assert shown(second, lot).count('role="alert"') == 1
    # The appending server forgot them on commit, before answering.
    assert "礼盒已装车" in shown(client, lot) and shown(client, lot).count('role="alert"') == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_lost_listener_falls_back_to_reading_then_listens_again_and_misses_nothing(farm, client, second, postgres):
    orchard = grow(farm)
    lot, reader = orchard.packed_lot, listener(second)
    assert "礼盒已装车" not in shown(second, lot)
    pid = reader.backend_pid
    assert pid is not None
    with psycopg.connect(postgres.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # Committed while nobody of the second server listens: its notification never arrives.
        farm.event(orchard.grower, lot, "observation", {"note": "礼盒已装车"})
        until(lambda: reader.backend_pid != pid)
        until(lambda: not reader.listening or reader.backend_pid is not None)
        assert "礼盒已装车" in shown(second, lot)  # read afresh, listening or not
        until(lambda: reader.listening)
        assert "礼盒已装车" in shown(second, lot)  # everything read once again on reconnect
        assert lot in reader._known and orchard.field_lot in reader._known
        recall(farm, orchard, orchard.field_lot)
        heard(reader, orchard.field_lot)
        assert shown(second, lot).count('role="alert"') == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_appending_server_forgets_before_it_answers(farm, client):
    orchard = grow(farm)
    lot, reader = orchard.packed_lot, listener(client)
    until(lambda: reader.listening)
    assert "礼盒已装车" not in shown(client, lot)
    assert lot in reader._known
    farm.event(orchard.grower, lot, "observation", {"note": "礼盒已装车"})
    assert lot not in reader._known  # no waiting for the notification: forgotten on commit
    assert "礼盒已装车" in shown(client, lot)


def test_notifications_stay_under_the_payload_limit():
    lots = {f"LOT{i:07d}" for i in range(2000)}
    payloads = _payloads(lots)
    assert len(payloads) > 1 and all(len(p.encode()) <= NOTIFY_BYTES for p in payloads)
    assert sorted(lot for p in payloads for lot in p.split()) == sorted(lots)
