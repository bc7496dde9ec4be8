"""A 100 MB upload is refused with 413 while it streams in, never held in memory."""

from __future__ import annotations

import http.client
import os

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import Server

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 - 3)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    env = {**os.environ, "SUYUAN_DATA_DIR": str(tmp / "data"), "SUYUAN_ADMIN_TOKEN": ADMIN_TOKEN}
    running = Server(env, 1, tmp / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(server) -> str:
    import httpx

    response = httpx.post(
        f"{server.url}/api/v1/growers",
        json={"name": "王", "region": "洛川"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    return response.json()["token"]


def post_streaming(server, token: str, declared_length: int | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    boundary = "suyuanboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    connection.putrequest("POST", "/api/v1/photos")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    if declared_length is None:
        connection.putheader("Transfer-Encoding", "chunked")
    else:
        connection.putheader("Content-Length", str(declared_length))
    connection.endheaders()
    try:
        sent = 0
        for piece in (head, *[CHUNK] * (HUNDRED_MB // len(CHUNK))):
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if declared_length is None else piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading: that is the point
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_100_mb_upload_is_refused_without_being_held_in_memory(server, token, declared):
    before = server.rss_bytes()
    status, body = post_streaming(server, token, HUNDRED_MB + 200 if declared else None)
    assert status == 413, body
    assert b"too_large" in body
    assert server.rss_bytes() - before < 48 * 1024 * 1024
