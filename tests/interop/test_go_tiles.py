"""Go's own golang.org/x/mod/sumdb/tlog reads Suyuan's log as c2sp.org/tlog-tiles over HTTP:
a TileReader over `/log/tile/...` proves the tree hash, inclusion and consistency, and a
tile changed in flight is caught."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing.tiles import TILE_WIDTH, Tile
from tests.factories import grow_log_raw
from tests.servers import free_port
from traceability.services import Services
from traceability.web.app import create_app

from .test_go_interop import go_toolchain

TILECHECK = Path(__file__).with_name("tilecheck")


@pytest.fixture(scope="module")
def tilecheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go tile reader, built once."""
    out = tmp_path_factory.mktemp("tilecheck")
    go, env = go_toolchain("sumdb/tlog", out)
    binary = out / "tilecheck"
    subprocess.run(
        [go, "build", "-o", str(binary), "."], cwd=TILECHECK, env=env, check=True, capture_output=True, timeout=300
    )
    return binary


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` over real HTTP on 127.0.0.1, in a thread of this process: its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def root_now(services: Services) -> str:
    with services.sessions() as session:
        return base64.b64encode(services.log.head(session).root_hash).decode()


def check(binary: Path, base: str, vkey: str, indexes: list[int], old: list[dict]) -> subprocess.CompletedProcess:
    payload = {"base": f"{base}/log/", "vkey": vkey, "indexes": indexes, "old": old}
    return subprocess.run([binary], input=json.dumps(payload), capture_output=True, text=True, timeout=300)


def interesting(size: int) -> list[int]:
    """Entries at the edges of tiles, within a tree of `size`."""
    return sorted({i for i in (0, 1, 254, 255, 256, 257, size // 2, size - 2, size - 1) if 0 <= i < size})


def test_go_reads_the_log_as_tiles_at_sizes_making_full_and_partial_tiles(services, tilecheck):
    vkey = services.log.signer.verifier_key()
    seen: list[dict] = []
    with serving(create_app(services)) as base:
        for size in (1, 2, 255, 256, 257, 511, 512, 65_536, 70_000):
            grow_log_raw(services, size)
            result = check(tilecheck, base, vkey, interesting(size), seen)
            assert result.returncode == 0 and result.stdout.startswith(f"ok {size} "), result.stdout + result.stderr
            seen.append({"size": size, "root": root_now(services)})


class FlipOneByte:
    """ASGI middleware: the body of every response whose path starts with `prefix` has
    one byte flipped, as a bad cache or a lying mirror would serve it."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def flipping(message: dict) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                body = bytearray(message["body"])
                body[len(body) // 2] ^= 0x01
                message = {**message, "body": bytes(body)}
            await send(message)

        await self.app(scope, receive, flipping)


@pytest.mark.parametrize(
    ("prefix", "failure"),
    [
        ("/log/tile/0/000", "entry 0: "),  # a full hash tile at level 0
        ("/log/tile/0/001.p/", "tree hash"),  # a partial one
        ("/log/tile/1/", "tree hash"),  # a level-1 tile
        ("/log/tile/entries/000", "entry 0: "),  # an entry bundle
    ],
)
def test_go_catches_a_flipped_byte_in_a_tile(services, tilecheck, prefix, failure):
    grow_log_raw(services, 300)
    vkey = services.log.signer.verifier_key()
    with serving(create_app(services)) as base:
        assert check(tilecheck, base, vkey, [0, 299], []).returncode == 0
    with serving(FlipOneByte(create_app(services), prefix)) as base:
        result = check(tilecheck, base, vkey, [0, 299], [])
    assert result.returncode == 1 and result.stdout.startswith(failure), result.stdout + result.stderr


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.builds(
            Tile, level=st.none() | st.integers(0, 63), index=st.integers(0, 2**40), width=st.integers(1, TILE_WIDTH)
        ),
        min_size=1,
        max_size=50,
    )
)
def test_go_reads_our_tile_paths_as_the_same_tiles(tilecheck, tiles):
    result = subprocess.run(
        [tilecheck], input=json.dumps({"paths": [t.path for t in tiles]}), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split("\n")[:-1] == [
        f"{-1 if t.level is None else t.level} {t.index} {t.width}" for t in tiles
    ]
