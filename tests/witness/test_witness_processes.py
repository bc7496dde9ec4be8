"""`suyuan witness serve` in real processes, over HTTP, as an operator runs it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from signing.cosignature import WitnessVerifier, verify_cosigned
from tests.servers import Command
from traceability.witness.state import origin_hash
from traceability.witness.witness import STATE_DIR

from .witnesskit import ORIGIN, Log, check_cosignature


@contextmanager
def witness_process(data: Path, name: str, log: Log) -> Iterator[Command]:
    args = ["witness", "serve", "--data", str(data), "--name", name, "--log", log.signer.verifier_key()]
    process = Command(args, os.environ, data.with_suffix(f".{time.monotonic_ns()}.log"), "/witness/key")
    try:
        yield process
    finally:
        process.stop()


def add(url: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{url}/add-checkpoint", content=body, timeout=60)


def test_two_witnesses_cosign_a_log_and_a_restart_forgets_nothing(tmp_path: Path) -> None:
    log = Log()
    names = ["witness.example/w1", "witness.example/w2"]
    with witness_process(tmp_path / "w1", names[0], log) as w1, witness_process(tmp_path / "w2", names[1], log) as w2:
        vkeys = [httpx.get(f"{w.url}/witness/key").text for w in (w1, w2)]
        for old, new in ((0, 5), (5, 9)):
            lines = [add(w.url, log.request(old, new)).text for w in (w1, w2)]
            for line, vkey in zip(lines, vkeys, strict=True):
                check_cosignature(line, log.checkpoint(new).body(), vkey)
            # The log's checkpoint with both cosignatures: a quorum of two.
            note = log.signed(new) + "".join(lines)
            witnesses = [WitnessVerifier.from_key_string(vkey) for vkey in vkeys]
            assert verify_cosigned(note, log.key, witnesses, 2).witnesses == names
        w1.stop()
        with witness_process(tmp_path / "w1", names[0], log) as restarted:
            assert httpx.get(f"{restarted.url}/witness/key").text == vkeys[0]
            response = add(restarted.url, log.request(0, 12))
            assert (response.status_code, response.headers["content-type"], response.text) == (
                409,
                "text/x.tlog.size",
                "9\n",
            )
            assert add(restarted.url, log.fork(at=4).request(9, 12)).status_code == 422
            assert add(restarted.url, log.request(9, 12)).status_code == 200
    # `suyuan witness key` reads the same key from the data dir.
    printed = subprocess.run(
        [sys.executable, "-m", "traceability", "witness", "key", "--data", str(tmp_path / "w2"), "--name", names[1]],
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout == vkeys[1] + "\n"


def test_two_processes_on_one_data_dir_cosign_one_of_two_diverging_extensions(tmp_path: Path) -> None:
    log = Log()
    fork = log.fork(at=10)  # agrees with the log up to size 10: both extend size 9
    data = tmp_path / "witness"
    with witness_process(data, "witness.example/w1", log) as a, witness_process(data, "witness.example/w1", log) as b:
        assert add(a.url, log.request(0, 9)).status_code == 200
        urls = [a.url, b.url]
        requests = [(log if i % 2 else fork).request(9, 12) for i in range(24)]
        # Hold the log's lock here, a third process's way: no request can be decided while it is held.
        with (data / STATE_DIR / f"{origin_hash(ORIGIN)}.lock").open("a") as lock, ThreadPoolExecutor(24) as pool:
            fcntl.flock(lock, fcntl.LOCK_EX)
            futures = [pool.submit(add, urls[(i // 2) % 2], body) for i, body in enumerate(requests)]
            time.sleep(1)
            assert not any(f.done() for f in futures)
            fcntl.flock(lock, fcntl.LOCK_UN)
            responses = [f.result() for f in futures]
        assert sorted(r.status_code for r in responses) == [200] + [409] * 23
        assert {r.text for r in responses if r.status_code == 409} == {"12\n"}
        served = [httpx.get(f"{url}/{origin_hash(ORIGIN)}/checkpoint").text for url in urls]
        (winner,) = [requests[i] for i, r in enumerate(responses) if r.status_code == 200]
        assert served[0] == served[1]
        assert served[0].startswith(winner.decode().split("\n\n", 1)[1])
