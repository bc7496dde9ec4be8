"""Append throughput over HTTP, against a bare FastAPI route that only parses the same body.

Both servers are single uvicorn processes on loopback, driven by the same client
threads with keep-alive connections, in alternating rounds. Goal: ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import tempfile
import threading
import time
from pathlib import Path

from .harness import ADMIN_TOKEN, Server, interleave, report, request, suyuan_server

CLIENTS = 16
PER_CLIENT = 60
ROUNDS = 4
_WEIGHTS = itertools.count()  # across rounds too


def throughput(port: int, lot: str, token: str) -> float:
    # Each harvest weighs a little more than the last, so the server's check for a record sent
    # twice runs on every append, and finds none.
    bodies = [
        json.dumps(
            {
                "type": "harvest",
                "occurred_at": "2026-09-18T09:00:00+08:00",
                "data": {"quantity": 1200 + next(_WEIGHTS) / 1000, "unit": "jin", "note": "晴天采摘"},
            }
        ).encode()
        for _ in range(CLIENTS * PER_CLIENT)
    ]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    failures = []

    def client(first: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in bodies[first : first + PER_CLIENT]:
            connection.request("POST", f"/api/v1/batches/{lot}/events", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                failures.append(response.status)
        connection.close()

    threads = [threading.Thread(target=client, args=(c * PER_CLIENT,)) for c in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} appends failed: {failures[:5]}")
    return CLIENTS * PER_CLIENT / elapsed


def main(database_url: str | None = None, workers: int = 1) -> float:
    with (
        tempfile.TemporaryDirectory() as tmp,
        suyuan_server(Path(tmp), database_url, workers) as suyuan,
        Server(["-m", "uvicorn", "bench.bare_app:app", "--log-level", "warning", "--workers", str(workers)]) as bare,
    ):
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        _, grower = request(suyuan.port, "POST", "/api/v1/growers", {"name": "王秀英", "region": "洛川县"}, admin)
        token = json.loads(grower)["token"]
        _, batch = request(
            suyuan.port, "POST", "/api/v1/batches", {"product": "苹果"}, {"Authorization": f"Bearer {token}"}
        )
        lot = json.loads(batch)["lot"]
        ours, baseline = interleave(
            ROUNDS, lambda: throughput(suyuan.port, lot, token), lambda: throughput(bare.port, lot, token)
        )
    ratios = [o / b for o, b in zip(ours, baseline, strict=True)]
    database = "PostgreSQL" if database_url else "SQLite (WAL, synchronous=FULL)"
    report(
        f"Append throughput over HTTP, {database}, {workers} worker(s) each, {CLIENTS} clients x {PER_CLIENT} appends, {ROUNDS} rounds",
        [
            ("signed appends per second (median)", f"{sorted(ours)[len(ours) // 2]:.0f}"),
            ("bare parse-only route, per second (median)", f"{sorted(baseline)[len(baseline) // 2]:.0f}"),
        ],
        "ratio appends / bare route",
        ratios,
        ">= 0.5",
    )
    return sorted(ratios)[len(ratios) // 2]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temporary data dir)")
    parser.add_argument("--workers", type=int, default=1, help="server processes on each side")
    arguments = parser.parse_args()
    main(arguments.database_url, arguments.workers)
