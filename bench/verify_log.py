"""`suyuan verify --server` against raw Ed25519 verification of the same signatures.

The log is a farm season written through the real services: growers' keys, lots, and
events signed by the growers. The audit fetches every entry over HTTP and checks its
canonical form, signature, key registration, chain and the root; the baseline only
verifies the same number of Ed25519 signatures over messages prepared in advance.
Goal: ratio (raw time / audit time) >= 0.7.
"""

from __future__ import annotations

import base64
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signing.keys import keyid
from signing.note import Verifier
from signing.records import parse_entry, signed_message
from traceability.accounts.actors import ADMIN
from traceability.cli.monitor import audit_log
from traceability.lots import inputs
from traceability.lots.inputs import BatchIn

from .harness import interleave, open_bench_services, report, suyuan_server

GROWERS = 20
LOTS_PER_GROWER = 5
EVENTS_PER_LOT = 98
ROUNDS = 3


def build_season(
    data_dir: Path, growers: int = GROWERS, lots_per_grower: int = LOTS_PER_GROWER, events_per_lot: int = EVENTS_PER_LOT
) -> None:
    """growers × (1 key entry + lots_per_grower × (1 batch + events_per_lot events)) entries."""
    services = open_bench_services(data_dir)
    harvest = inputs.event(
        {
            "type": "harvest",
            "occurred_at": "2026-09-18T09:00:00+08:00",
            "data": {"quantity": 1200, "unit": "jin", "note": "晴天采摘"},
            "again": True,  # the same record over and over, on purpose: no question asked
        }
    )
    spray = inputs.event(
        {
            "type": "input",
            "occurred_at": "2026-08-01T07:30:00+08:00",
            "data": {"product": "阿维菌素", "kind": "pesticide", "dose": "3000倍液", "phi_days": 14},
            "again": True,
        }
    )
    for g in range(growers):
        token = services.accounts.register(
            ADMIN, "grower", {"name": f"果农{g}", "region": "陕西省延安市洛川县"}, None, None
        ).body["token"]
        grower = services.authenticator.authenticate(token)
        for _ in range(lots_per_grower):
            lot = services.lots.create_batch(grower, BatchIn(product="苹果", variety="红富士"), None).body["lot"]
            for e in range(events_per_lot):
                services.lots.append_event(grower, lot, spray if e % 4 == 0 else harvest, None)
    services.close()


def main() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_season(Path(tmp))
        built = time.perf_counter() - started
        with (
            suyuan_server(Path(tmp)) as server,
            httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client,
        ):
            key = Verifier.from_key_string(client.get("/log/key").text)
            size = int(client.get("/log/checkpoint").text.split("\n")[1])
            records = []
            for start in range(0, size, 1000):
                for encoded in client.get("/log/entries", params={"start": start, "end": start + 1000}).json()[
                    "entries"
                ]:
                    records.append(parse_entry(base64.b64decode(encoded)))
            # The baseline gets everything ready: keys loaded, messages canonicalised.
            loaded = {
                r["payload"]["keyid"]: Ed25519PublicKey.from_public_bytes(base64.b64decode(r["payload"]["public_key"]))
                for r in records
                if r["payload"]["kind"] == "key"
            }
            loaded[keyid(key.public_key)] = Ed25519PublicKey.from_public_bytes(key.public_key)
            prepared = [
                (
                    loaded[r["signatures"][0]["keyid"]],
                    base64.b64decode(r["signatures"][0]["sig"]),
                    signed_message(r["payload"]),
                )
                for r in records
            ]

            def raw() -> float:
                began = time.perf_counter()
                for public_key, signature, message in prepared:
                    public_key.verify(signature, message)
                return time.perf_counter() - began

            def audit() -> float:
                began = time.perf_counter()
                report_ = audit_log(client, key)
                assert report_.entries == size
                return time.perf_counter() - began

            raw_times, audit_times = interleave(ROUNDS, raw, audit)
    ratios = [r / a for r, a in zip(raw_times, audit_times, strict=True)]
    report(
        f"suyuan verify --server over a log of {size} entries ({GROWERS} growers, {GROWERS * LOTS_PER_GROWER} lots; built in {built:.0f} s)",
        [
            ("full audit, seconds (median)", f"{sorted(audit_times)[len(audit_times) // 2]:.2f}"),
            ("raw Ed25519 verify of as many signatures, seconds", f"{sorted(raw_times)[len(raw_times) // 2]:.2f}"),
        ],
        "ratio raw / audit",
        ratios,
        ">= 0.7",
    )
    return sorted(ratios)[len(ratios) // 2]


if __name__ == "__main__":
    main()
