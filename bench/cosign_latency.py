"""Witnesses (protocol §8): (a) how long after an acknowledged append `GET /log/checkpoint`
serves a checkpoint cosigned by three local witnesses that covers it; (b) append throughput
with those witnesses configured against the same server without them, in interleaved rounds
(goal >= 0.9: the submitter runs beside the appends, never on their path).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from traceability.storage.secrets import load_or_create_operator_signer
from traceability.witness.witness import load_or_create_cosigner

from .append_http import throughput
from .harness import ADMIN_TOKEN, Server, interleave, report, request, suyuan_server

WITNESSES = 3
APPENDS = 40
ROUNDS = 4
ORIGIN = "bench.test/log"  # the origin of SUYUAN_PUBLIC_URL http://bench.test


def _grower_lot(port: int) -> tuple[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    _, grower = request(port, "POST", "/api/v1/growers", {"name": "王秀英", "region": "洛川县"}, admin)
    token = json.loads(grower)["token"]
    _, batch = request(port, "POST", "/api/v1/batches", {"product": "苹果"}, {"Authorization": f"Bearer {token}"})
    return token, json.loads(batch)["lot"]


def _covered_after(port: int, lot: str, token: str, weight: int) -> float:
    """Seconds from an acknowledged append until the served checkpoint covers it."""
    body = {"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"quantity": weight, "unit": "kg"}}
    status, answer = request(port, "POST", f"/api/v1/batches/{lot}/events", body, {"Authorization": f"Bearer {token}"})
    acknowledged = time.perf_counter()
    if status != 201:
        raise RuntimeError(f"append failed: {status} {answer[:200]!r}")
    index = json.loads(answer)["index"]
    while True:
        status, note = request(port, "GET", "/log/checkpoint")
        if status == 200 and int(note.split(b"\n")[1]) > index:
            return time.perf_counter() - acknowledged
        if time.perf_counter() - acknowledged > 30:
            raise RuntimeError(f"entry {index} not cosigned within 30 s")
        time.sleep(0.005)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        log_vkey = load_or_create_operator_signer(root / "witnessed", ORIGIN).verifier_key()
        listed = []
        for i in range(WITNESSES):
            data, name = root / f"w{i}", f"witness.bench.test/w{i}"
            vkey = load_or_create_cosigner(data, name).key_string()
            args = ["-m", "traceability", "witness", "serve", "--data", str(data), "--name", name, "--log", log_vkey]
            witness = stack.enter_context(Server(args, ready_path="/witness/key"))
            listed.append(f"{vkey}@http://127.0.0.1:{witness.port}")
        witnessed = stack.enter_context(suyuan_server(root / "witnessed", extra={"SUYUAN_WITNESSES": ",".join(listed)}))
        plain = stack.enter_context(suyuan_server(root / "plain"))
        token, lot = _grower_lot(witnessed.port)
        latencies = [_covered_after(witnessed.port, lot, token, i + 1) for i in range(APPENDS)]
        plain_token, plain_lot = _grower_lot(plain.port)
        ours, baseline = interleave(
            ROUNDS,
            lambda: throughput(witnessed.port, lot, token),
            lambda: throughput(plain.port, plain_lot, plain_token),
        )
    ratios = [o / b for o, b in zip(ours, baseline, strict=True)]
    deciles = statistics.quantiles(latencies, n=10)
    report(
        f"Cosigning latency and append throughput with {WITNESSES} local witnesses, SQLite, {ROUNDS} rounds",
        [
            (f"append -> cosigned checkpoint, median of {APPENDS}", f"{statistics.median(latencies) * 1000:.0f} ms"),
            (f"append -> cosigned checkpoint, p90 of {APPENDS}", f"{deciles[8] * 1000:.0f} ms"),
            ("appends per second with witnesses (median)", f"{statistics.median(ours):.0f}"),
            ("appends per second without (median)", f"{statistics.median(baseline):.0f}"),
        ],
        "ratio with / without witnesses",
        ratios,
        ">= 0.9",
    )


if __name__ == "__main__":
    main()
