"""Inclusion-proof latency over HTTP at 100,000 entries against 100 entries.

Two servers, one per log, answer GET /log/proof/inclusion for random indexes of their
whole tree, in alternating rounds on keep-alive connections. A proof reads its O(log n)
stored subtree hashes in one query, so the ratio should stay near 1. Goal: <= 1.5.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from signing.keys import keyid
from signing.payloads import key_payload

from .harness import interleave, open_bench_services, report, suyuan_server

SMALL, LARGE = 100, 100_000
REQUESTS = 400
ROUNDS = 6
PER_TRANSACTION = 5_000


def build_log(data_dir: Path, size: int) -> None:
    """`size` operator-signed key registrations, appended through the log's own Appender."""
    services = open_bench_services(data_dir)
    operator = services.log.signer.private_key
    written = 0
    while written < size:
        with services.sessions() as session:
            log = services.log.begin(session, services.clock.now())
            for _ in range(min(PER_TRANSACTION, size - written)):
                public_key = os.urandom(32)
                subject = {"id": f"g-{written}", "name": "果农", "region": "洛川县"}
                log.append(key_payload(log.now, keyid(public_key), public_key, "grower", subject), operator)
                written += 1
            log.finish()
            session.commit()
    services.close()


def median_latency(port: int, size: int, rng: random.Random) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    for _ in range(REQUESTS):
        index = rng.randrange(size)
        began = time.perf_counter()
        connection.request("GET", f"/log/proof/inclusion?index={index}&size={size}")
        response = connection.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - began)
        assert response.status == 200 and len(json.loads(body)["proof"]) <= 17, body
    connection.close()
    return statistics.median(latencies)


def main() -> float:
    with tempfile.TemporaryDirectory() as small_dir, tempfile.TemporaryDirectory() as large_dir:
        started = time.perf_counter()
        build_log(Path(small_dir), SMALL)
        build_log(Path(large_dir), LARGE)
        built = time.perf_counter() - started
        rng = random.Random(20261129)
        with suyuan_server(Path(small_dir)) as small, suyuan_server(Path(large_dir)) as large:
            large_times, small_times = interleave(
                ROUNDS, lambda: median_latency(large.port, LARGE, rng), lambda: median_latency(small.port, SMALL, rng)
            )
    ratios = [big / little for big, little in zip(large_times, small_times, strict=True)]
    report(
        f"Inclusion proof latency over HTTP, SQLite ({REQUESTS} requests x {ROUNDS} rounds; logs built in {built:.0f} s)",
        [
            (f"median at {LARGE:,} entries, ms", f"{statistics.median(large_times) * 1000:.2f}"),
            (f"median at {SMALL} entries, ms", f"{statistics.median(small_times) * 1000:.2f}"),
        ],
        f"ratio {LARGE:,} / {SMALL}",
        ratios,
        "<= 1.5",
    )
    return statistics.median(ratios)


if __name__ == "__main__":
    main()
