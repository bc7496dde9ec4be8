"""Throughput of the public page `GET /b/{lot}` against a bare FastAPI route answering the same bytes.

The lot is the demo's packed lot. Both servers are single uvicorn processes on loopback,
loaded by `wrk` (Debian's package: `apt-get install wrk`) with keep-alive connections, in
alternating rounds. Every request of ours checks that the lot has no new record before
answering from the page cache (SQLite: a pragma; PostgreSQL: nothing while its lots
listener is up, see traceability/web/public/freshness.py). Goal: ratio >= 0.8 (PostgreSQL,
issue 13: >= 1.0).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .harness import Server, interleave, open_bench_services, report, request, suyuan_server

CONNECTIONS = 16
SECONDS = 5
ROUNDS = 4


def wrk(port: int, path: str) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrong answers:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(found.group(1))


def main(database_url: str | None = None) -> float:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    from traceability.cli.demo import seed

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        services = open_bench_services(data, database_url)
        lot = seed(services).lots["packed lot (gift boxes)"]
        services.close()
        with suyuan_server(data, database_url) as suyuan:
            path = f"/b/{lot}?lang=zh"
            status, page = request(suyuan.port, "GET", path)
            assert status == 200, page
            (Path(tmp) / "page.html").write_bytes(page)
            with Server(
                ["-m", "uvicorn", "bench.bare_page_app:app", "--log-level", "warning"],
                {"BARE_PAGE_FILE": str(Path(tmp) / "page.html")},
            ) as bare:
                ours, baseline = interleave(ROUNDS, lambda: wrk(suyuan.port, path), lambda: wrk(bare.port, path))
    ratios = [o / b for o, b in zip(ours, baseline, strict=True)]
    database = "PostgreSQL" if database_url else "SQLite"
    report(
        f"Public page throughput, {database}, {len(page):,} bytes, wrk {CONNECTIONS} connections x {SECONDS} s, {ROUNDS} rounds",
        [
            ("GET /b/{lot} per second (median)", f"{sorted(ours)[len(ours) // 2]:.0f}"),
            ("bare route, same bytes, per second (median)", f"{sorted(baseline)[len(baseline) // 2]:.0f}"),
        ],
        "ratio page / bare route",
        ratios,
        ">= 0.8",
    )
    return sorted(ratios)[len(ratios) // 2]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temporary data dir)")
    main(parser.parse_args().database_url)
