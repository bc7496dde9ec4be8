"""`suyuan verify --server URL --log-key VKEY --state FILE` on a schedule: an incremental
transparency-log monitor (issue #5, item 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from starlette.types import ASGIApp, Receive, Scope, Send

from signing.canonical import canonical_json
from signing.errors import VerificationError
from signing.note import Verifier
from tests.conftest import ADMIN_TOKEN
from tests.factories import Farm, grow_log_raw
from tests.servers import Server
from traceability.cli import log_client
from traceability.cli.monitor import audit_log
from traceability.services import Services
from traceability.storage.models import LogEntry
from traceability.web.app import create_app


def season(farm: Farm, lots: int = 3) -> None:
    grower = farm.grower()
    for _ in range(lots):
        lot = farm.batch(grower)["lot"]
        farm.harvest(grower, lot)


def counting(client) -> list[str]:
    """Records the entry pages and bundles the monitor asks for."""
    asked: list[str] = []

    def record(request: httpx.Request) -> None:
        if request.url.path == "/log/entries":
            asked.append(str(request.url.params))
        elif request.url.path.startswith("/log/tile/entries/"):
            asked.append(request.url.path.removeprefix("/log/"))

    client.event_hooks["request"].append(record)
    return asked


class NoTiles:
    """ASGI middleware: a server of an older version, which answers 404 to every tile."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/log/tile/"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


@pytest.fixture(params=["tiles", "json"])
def reading(request: pytest.FixtureRequest, services: Services) -> Iterator[tuple[str, TestClient]]:
    """A client of a server that serves entry bundles (protocol §10), or of one that does not."""
    app = create_app(services)
    with TestClient(app if request.param == "tiles" else NoTiles(app)) as client:
        yield request.param, client


def test_a_second_run_checks_only_the_new_entries(reading, tmp_path):
    how, client = reading
    farm = Farm(client, ADMIN_TOKEN)
    state = tmp_path / "monitor.json"
    season(farm)
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    first = audit_log(client, log_key, state)
    assert first.entries == first.checkpoint.size and first.previous_size is None
    season(farm, lots=2)
    asked = counting(client)
    second = audit_log(client, log_key, state)
    assert second.previous_size == first.checkpoint.size
    assert second.entries == second.checkpoint.size - first.checkpoint.size == 5  # a key, two lots, two harvests
    if how == "tiles":
        # The one bundle that holds the new entries (with the old ones: bundles start at multiples of 256).
        assert asked == [f"tile/entries/000.p/{second.checkpoint.size}"]
    else:
        assert asked == [
            f"tile/entries/000.p/{second.checkpoint.size}",  # asked once, answered 404
            f"start={first.checkpoint.size}&end={second.checkpoint.size}",
        ]
    # Nothing new: nothing fetched, and the same verdict.
    asked.clear()
    third = audit_log(client, log_key, state)
    assert third.entries == 0 and asked == [] and third.lots == 5 and third.keys == 2


def test_a_long_log_is_read_from_bundles_that_a_cache_can_keep(services, client, tmp_path):
    """Full bundles, immutable, then the partial one; a bundle that does not come whole is read again as JSON."""
    grow_log_raw(services, 1300)
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    reader = log_client.EntryReader(client, 1300)
    reader.probe(0)
    assert reader.tiles and reader.pages(0) == [(0, 1024), (1024, 1300)]
    assert reader.pages(700) == [(700, 1024), (1024, 1300)]
    asked = counting(client)
    read = reader.read(0, 1024) + reader.read(1024, 1300)
    assert read == [f'{{"entry":{i}}}'.encode() for i in range(1300)]
    assert asked == [
        "tile/entries/001",
        "tile/entries/002",
        "tile/entries/003",
        "tile/entries/004",
        "tile/entries/005.p/20",
    ]
    # Entries from bundles and from JSON are the same entries.
    assert [log_client.decode_entry(i, e) for i, e in enumerate(log_client.entries(client, 1000, 1300), 1000)] == read[
        1000:
    ]
    # The audit gets as far as the records' rules (these placeholder entries are not records).
    with pytest.raises(VerificationError, match="entry 0:"):
        audit_log(client, log_key)
    # A bundle that does not come whole (an entry gone from the database) is read again as
    # JSON, so that the audit names the missing entry exactly.
    with services.sessions() as session:
        session.execute(delete(LogEntry).where(LogEntry.idx == 600))
        session.commit()
    asked.clear()
    assert client.get("/log/tile/entries/002").status_code == 404
    asked.clear()
    page = reader.read(512, 1024)
    assert asked == ["tile/entries/002", "start=512&end=1024"]
    assert len(page) == 511 and log_client.decode_entry(600, page[88]) == b'{"entry":601}'


def test_a_bad_new_entry_is_named_by_the_incremental_run(farm, client, services, tmp_path):
    state = tmp_path / "monitor.json"
    season(farm)
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    before = audit_log(client, log_key, state).checkpoint.size
    season(farm, lots=1)
    with services.sessions() as session:
        entry = session.get(LogEntry, before + 2).entry
        session.execute(update(LogEntry).where(LogEntry.idx == before + 2).values(entry=entry.replace(b"500", b"900")))
        session.commit()
    with pytest.raises(VerificationError, match=f"entry {before + 2}"):
        audit_log(client, log_key, state)
    # The state still holds the last checkpoint that verified.
    assert json.loads(state.read_text())["tree"]["size"] == before


def test_a_damaged_or_foreign_state_file_is_refused_with_advice(farm, client, tmp_path):
    state = tmp_path / "monitor.json"
    season(farm)
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    audit_log(client, log_key, state)
    saved = json.loads(state.read_text())
    saved["tree"]["hashes"][0] = saved["tree"]["hashes"][-1][::-1]
    state.write_text(json.dumps(saved))
    with pytest.raises(VerificationError, match="move it away to start afresh"):
        audit_log(client, log_key, state)
    state.write_text("{not json")
    with pytest.raises(VerificationError, match="not a monitor state file"):
        audit_log(client, log_key, state)


def test_a_state_file_of_an_older_version_gets_one_full_audit(farm, client, tmp_path):
    state = tmp_path / "monitor.json"
    season(farm)
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    checkpoint = client.get("/log/checkpoint").text
    state.write_text(json.dumps({"log_key": log_key.key_string(), "checkpoint": checkpoint}))
    season(farm, lots=1)
    report = audit_log(client, log_key, state)
    assert report.entries == report.checkpoint.size  # everything, once
    season(farm, lots=1)
    assert audit_log(client, log_key, state).entries == 3  # then incremental


def monitor(server: str, log_key: str, state) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "traceability",
            "verify",
            "--server",
            server,
            "--log-key",
            log_key,
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_two_servers_from_copies_of_one_log_that_diverge_are_caught(tmp_path):
    """The operator shows this monitor one history, then another (a split view)."""
    env = {**os.environ, "SUYUAN_DATA_DIR": str(tmp_path / "a"), "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN}
    first = Server(env, 1, tmp_path / "a.log")
    try:
        with httpx.Client(base_url=first.url, timeout=30) as client:
            season(Farm(client, ADMIN_TOKEN))
            log_key = client.get("/log/key").text
    finally:
        first.stop()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    servers = {
        name: Server({**env, "SUYUAN_DATA_DIR": str(tmp_path / name)}, 1, tmp_path / f"{name}.serve.log")
        for name in "ab"
    }
    try:
        for name, server in servers.items():  # each copy goes its own way
            with httpx.Client(base_url=server.url, timeout=30) as client:
                Farm(client, ADMIN_TOKEN).grower(f"只在{name}里的种植者")
        state = tmp_path / "monitor.json"
        seen_a = monitor(servers["a"].url, log_key, state)
        assert seen_a.returncode == 0, seen_a.stderr
        assert "log verified" in seen_a.stdout
        seen_b = monitor(servers["b"].url, log_key, state)
        assert seen_b.returncode == 1
        assert "different tree of the same size" in seen_b.stderr and "split view" in seen_b.stderr
        # Once B has grown past A's size, it must still prove it extends what A showed: it cannot.
        with httpx.Client(base_url=servers["b"].url, timeout=30) as client:
            season(Farm(client, ADMIN_TOKEN), lots=1)
        seen_b = monitor(servers["b"].url, log_key, state)
        assert seen_b.returncode == 1 and "not an extension" in seen_b.stderr
        assert monitor(servers["a"].url, log_key, state).returncode == 0
    finally:
        for server in servers.values():
            server.stop()


def test_a_monitor_that_first_saw_an_empty_log_follows_it_as_it_grows(client, tmp_path):
    state = tmp_path / "monitor.json"
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    assert audit_log(client, log_key, state).checkpoint.size == 0
    season(Farm(client, ADMIN_TOKEN))
    assert audit_log(client, log_key, state).previous_size == 0


def test_an_entry_with_a_field_of_the_wrong_type_is_named(farm, client, services):
    season(farm)
    with services.sessions() as session:
        last = session.query(LogEntry).order_by(LogEntry.idx.desc()).first()
        record = json.loads(last.entry)
        record["payload"]["lot"] = [record["payload"]["lot"]]  # well-formed JSON, a field of the wrong type
        broken = canonical_json(record)
        session.execute(update(LogEntry).where(LogEntry.idx == last.idx).values(entry=broken))
        session.commit()
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    with pytest.raises(VerificationError, match=f"entry {last.idx}"):
        audit_log(client, log_key)
