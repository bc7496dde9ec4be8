"""`suyuan serve` in its own process(es), as an operator would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command:
    """`python -m traceability ARGS --port P` in its own process group, once it answers `ready_path`."""

    def __init__(
        self, args: Sequence[str], env: Mapping[str, str], log: Path, ready_path: str, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        what = " ".join(["suyuan", *(a for a in args[:2] if not a.startswith("-"))])
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "traceability", *args, "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}{ready_path}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)
        self._log.close()

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes (the group uvicorn started)."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except FileNotFoundError:
                pass
        return total


class Server(Command):
    """`suyuan serve` with `workers` processes."""

    def __init__(self, env: Mapping[str, str], workers: int, log: Path, port: int | None = None) -> None:
        super().__init__(["serve", "--workers", str(workers)], env, log, "/log/key", port)


def _children(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(c) for c in children] + [g for c in children for g in _children(int(c))]
