"""Appends from many writers through several server processes sharing one database."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from signing.note import Verifier
from tests.conftest import ADMIN_TOKEN
from tests.servers import Server
from traceability.cli.monitor import audit_log

WRITERS = 8
APPENDS_PER_WRITER = 12


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_eight_writers_through_three_processes_keep_the_log_dense_and_chains_unbroken(database, request, tmp_path):
    env = {
        **os.environ,
        "SUYUAN_DATA_DIR": str(tmp_path / "data"),
        "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUYUAN_PUBLIC_URL": "http://suyuan.test",
    }
    if database == "postgres":
        env["SUYUAN_DATABASE_URL"] = request.getfixturevalue("postgres")
    # One host running two workers, and a second "host" on the same database.
    servers = [Server(env, 2, tmp_path / "a.log"), Server(env, 1, tmp_path / "b.log")]
    try:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=servers[0].url, timeout=60) as client:
            grower = client.post("/api/v1/growers", json={"name": "王秀英", "region": "洛川县"}, headers=admin).json()
            headers = {"Authorization": f"Bearer {grower['token']}"}
            lots = [
                client.post("/api/v1/batches", json={"product": p}, headers=headers).json()["lot"]
                for p in ("苹果", "梨")
            ]

        def writer(number: int) -> list[dict]:
            server = servers[number % len(servers)]
            acknowledged = []
            with httpx.Client(base_url=server.url, timeout=60) as client:
                for i in range(APPENDS_PER_WRITER):
                    lot = lots[(number + i) % 2]
                    body = {
                        "type": "observation",
                        "occurred_at": "2026-09-18T09:00:00+08:00",
                        "data": {"note": f"writer {number} #{i}"},
                    }
                    response = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers)
                    assert response.status_code == 201, response.text
                    acknowledged.append({**response.json(), "lot": lot})
            return acknowledged

        with ThreadPoolExecutor(WRITERS) as pool:
            acknowledged = [a for batch in pool.map(writer, range(WRITERS)) for a in batch]

        assert len(acknowledged) == WRITERS * APPENDS_PER_WRITER
        indexes = sorted(a["index"] for a in acknowledged)
        assert len(set(indexes)) == len(indexes)
        for lot in lots:
            seqs = sorted(a["seq"] for a in acknowledged if a["lot"] == lot)
            assert seqs == list(range(1, len(seqs) + 1))

        for server in servers:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                key = Verifier.from_key_string(client.get("/log/key").text)
                # Dense indexes, unbroken chains, every signature and the root: the full audit.
                report = audit_log(client, key)
                assert report.entries == 1 + 2 + len(acknowledged)
                served = client.get("/log/entries", params={"start": 0, "end": report.entries}).json()["entries"]
                import base64

                from signing.merkle import leaf_hash

                for ack in acknowledged:
                    assert leaf_hash(base64.b64decode(served[ack["index"]])).hex() == ack["leaf_hash"]
    finally:
        for server in servers:
            server.stop()
