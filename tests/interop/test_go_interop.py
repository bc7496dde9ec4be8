"""Go's own golang.org/x/mod (sumdb/note, sumdb/tlog) accepts Suyuan's checkpoints and proofs."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from signing.merkle import leaf_hash, root_hash

GOCHECK = Path(__file__).with_name("gocheck") / "main.go"
# Debian's golang-golang-x-mod-dev puts the module in GOPATH form here: no network needed.
GOPATH = "/usr/share/gocode"


def go_toolchain(package: str, cache: Path) -> tuple[str, dict[str, str]]:
    """The `go` command and its environment for building against Debian's golang.org/x/mod
    `package`, offline; skipped without them, failed under CI=true."""
    go = shutil.which("go")
    if go is None or not Path(GOPATH, "src/golang.org/x/mod", package).is_dir():
        message = "needs Go and golang.org/x/mod (apt-get install golang-go golang-golang-x-mod-dev)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return go, {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(cache / "gocache"), "GOFLAGS": ""}


def go_check(payload: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    go, env = go_toolchain("sumdb/note", tmp_path)
    return subprocess.run(
        [go, "run", str(GOCHECK)], input=json.dumps(payload), env=env, capture_output=True, text=True, timeout=300
    )


def test_go_verifies_checkpoints_and_proofs(farm, client, tmp_path):
    grower = farm.grower("王秀英")
    lot = farm.batch(grower)["lot"]
    for i in range(9):
        farm.harvest(grower, lot, 100 + i)
    entries = [
        base64.b64decode(e) for e in client.get("/log/entries", params={"start": 0, "end": 100}).json()["entries"]
    ]
    size = len(entries)
    leaves = [leaf_hash(e) for e in entries]
    payload = {
        "vkey": client.get("/log/key").text,
        "checkpoint": client.get("/log/checkpoint").text,
        "inclusion": [
            {
                "index": i,
                "entry": base64.b64encode(entries[i]).decode(),
                "proof": client.get("/log/proof/inclusion", params={"index": i, "size": size}).json()["proof"],
            }
            for i in range(size)
        ],
        "consistency": [
            {
                "old": m,
                "old_root": base64.b64encode(root_hash(leaves[:m])).decode(),
                "proof": client.get("/log/proof/consistency", params={"old": m, "new": size}).json()["proof"],
            }
            for m in range(1, size + 1)
        ],
    }
    result = go_check(payload, tmp_path)
    assert result.stdout.strip() == "ok", result.stdout + result.stderr

    # And Go notices a forgery: a checkpoint whose root was changed.
    lines = payload["checkpoint"].split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    forged = go_check({**payload, "checkpoint": "\n".join(lines)}, tmp_path)
    assert forged.returncode == 1 and "checkpoint" in forged.stdout
