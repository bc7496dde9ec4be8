"""A scheduled monitor run on a large log: `suyuan verify --server --state` after a day's new
entries, against the first (full) run that made its state file.

The log has about 100,000 entries (100 growers, 1,000 lots of 99 events each); then a day
adds 1,000 entries (10 more growers' lots). Reported: the seconds of each run on this
machine, and their ratio. The incremental run fetches and checks only the new entries, plus
one consistency proof and the state file (registered keys, lot tips, compact range).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from signing.note import Verifier
from traceability.cli.monitor import audit_log

from .harness import suyuan_server
from .verify_log import build_season


def main(growers: int = 100) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data, state = Path(tmp) / "data", Path(tmp) / "monitor.json"
        started = time.perf_counter()
        build_season(data, growers=growers, lots_per_grower=10, events_per_lot=99)
        built = time.perf_counter() - started
        with (
            suyuan_server(data) as server,
            httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120) as client,
        ):
            key = Verifier.from_key_string(client.get("/log/key").text)
            began = time.perf_counter()
            full = audit_log(client, key, state)
            full_seconds = time.perf_counter() - began
        # A day's records, appended while the monitor is not running.
        build_season(data, growers=1, lots_per_grower=10, events_per_lot=99)
        with (
            suyuan_server(data) as server,
            httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120) as client,
        ):
            began = time.perf_counter()
            daily = audit_log(client, key, state)
            daily_seconds = time.perf_counter() - began
        state_bytes = state.stat().st_size
    print(f"\nIncremental monitor on a log of {full.checkpoint.size:,} entries (built in {built:.0f} s)")
    print(f"  {'first run, all entries, seconds':<52} {full_seconds:.2f}")
    print(f"  {f'next run, {daily.entries:,} new entries, seconds':<52} {daily_seconds:.2f}")
    print(f"  {'state file':<52} {state_bytes / 1024:.0f} KiB")
    print(f"  {'ratio next run / first run':<52} {daily_seconds / full_seconds:.3f}")
    return daily_seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--growers", type=int, default=100, help="growers of 10 lots of 100 records each (100: about 100,000 entries)"
    )
    main(parser.parse_args().growers)
