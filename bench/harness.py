"""What the benchmarks share: servers in their own processes, interleaved rounds, ratios."""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traceability.services import Services

ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijkl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A uvicorn process serving `args`; stopped by `stop()` or the context manager."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, ready_path: str = "/log/key") -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, *args, "--port", str(self.port)],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "GET", ready_path)
                if status < 500:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server {args} did not start")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def suyuan_server(
    data_dir: Path, database_url: str | None = None, workers: int = 1, extra: dict[str, str] | None = None
) -> Server:
    env = {
        "SUYUAN_DATA_DIR": str(data_dir),
        "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUYUAN_PUBLIC_URL": "http://bench.test",
        **(extra or {}),
    }
    if database_url:
        env["SUYUAN_DATABASE_URL"] = database_url
    return Server(["-m", "traceability", "serve", "--workers", str(workers)], env)


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def interleave(rounds: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Run a and b alternately (a b b a a b ...) so drift on a shared machine hits both alike."""
    results_a: list[float] = []
    results_b: list[float] = []
    for i in range(rounds):
        pair = (a, b) if i % 2 == 0 else (b, a)
        for run in pair:
            (results_a if run is a else results_b).append(run())
    return results_a, results_b


def report(title: str, rows: list[tuple[str, str]], ratio_name: str, ratios: list[float], goal: str) -> None:
    print(f"\n{title}")
    for label, value in rows:
        print(f"  {label:<44} {value}")
    print(
        f"  {ratio_name:<44} {statistics.median(ratios):.2f}  (per round: {', '.join(f'{r:.2f}' for r in ratios)}; goal {goal})"
    )


def open_bench_services(data_dir: Path, database_url: str | None = None) -> Services:
    """The service's own services on `data_dir`, for building logs without HTTP in between."""
    from traceability.services import open_services
    from traceability.settings import Settings

    return open_services(
        Settings(data_dir=data_dir, database_url=database_url, admin_token=ADMIN_TOKEN, public_url="http://bench.test")
    )
