"""A log served by `suyuan serve` with witnesses run by `suyuan witness serve`, each in its own
process, as an operator and the witnesses' operators run them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.servers import Command, Server, free_port
from traceability.settings import Settings
from traceability.storage.secrets import load_or_create_operator_signer
from traceability.witness.witness import load_or_create_cosigner

ADMIN_TOKEN = "quorum-admin-token-0123456789abcdef"
# Witness names as their vkeys carry them: a market regulator and two cooperatives.
NAMES = ("城口县市场监督管理局", "witness.coop.example/w2", "witness.consumers.example/w3")
T = TypeVar("T")


@dataclass
class WitnessProcess:
    name: str
    data: Path
    port: int
    log_vkey: str
    process: Command | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def vkey(self) -> str:
        return load_or_create_cosigner(self.data, self.name).key_string()

    def start(self) -> None:
        args = ["witness", "serve", "--data", str(self.data), "--name", self.name, "--log", self.log_vkey]
        log = self.data.with_suffix(f".{time.monotonic_ns()}.log")
        self.process = Command(args, os.environ, log, "/witness/key", self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


def log_env(data: Path, port: int, witnesses: Sequence[WitnessProcess] = (), quorum: int | None = None) -> dict:
    env = {
        **os.environ,
        "SUYUAN_DATA_DIR": str(data),
        "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUYUAN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SUYUAN_WITNESSES": ",".join(f"{w.vkey}@{w.url}" for w in witnesses),
    }
    if quorum is not None:
        env["SUYUAN_WITNESS_QUORUM"] = str(quorum)
    return env


def log_vkey(data: Path, port: int) -> str:
    """The log's key, made in its data dir before anything starts (as `suyuan serve` would)."""
    settings = Settings(data_dir=data, public_url=f"http://127.0.0.1:{port}")
    data.mkdir(parents=True, exist_ok=True)
    return load_or_create_operator_signer(data, settings.origin).verifier_key()


@dataclass
class Quorum:
    log: Server
    log_vkey: str
    witnesses: list[WitnessProcess]


@contextmanager
def quorum(root: Path, count: int = 3, quorum: int | None = None) -> Iterator[Quorum]:
    """`count` witnesses and a log that submits to them, all started; stopped at the end."""
    port = free_port()
    vkey = log_vkey(root / "log", port)
    witnesses = [WitnessProcess(name, root / f"w{i}", free_port(), vkey) for i, name in enumerate(NAMES[:count])]
    with ExitStack() as stack:
        for witness in witnesses:
            witness.start()
            stack.callback(witness.stop)
        server = Server(log_env(root / "log", port, witnesses, quorum), 1, root / "log.log", port=port)
        stack.callback(server.stop)
        yield Quorum(server, vkey, witnesses)


def eventually(check: Callable[[], T | None], within: float = 5.0, what: str = "it") -> T:
    """The first truthy answer of `check`, asked every 50 ms for `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        time.sleep(0.05)
