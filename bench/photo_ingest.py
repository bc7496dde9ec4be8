"""Ingesting a 2 MB phone photo over HTTP against the bare work in the same process.

The bare work is what ingest cannot avoid: SHA-256 of the bytes, `exifread`, a Pillow
draft decode and the two resizes (display and thumbnail), timed here in this process.
The HTTP side is `POST /api/v1/photos` on a `suyuan serve` process, each round with fresh
bytes (one changed byte in a JPEG comment) so nothing is served from the store. Goal: the
HTTP ingest takes at most 1.5 times the bare work.
"""

from __future__ import annotations

import hashlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import exifread
import httpx
from PIL import Image

from tests.corpus import CORPUS, MISSING

from .harness import ADMIN_TOKEN, interleave, report, suyuan_server

# A 2.2 MB phone photo of the corpus (SUYUAN_TEST_CORPUS, see tests/data/README.md).
PHOTO = "jpg/mobile/HMD_Nokia_8.3_5G.jpg"
UPLOADS = 12
ROUNDS = 6


def variants(data: bytes, count: int, start: int) -> list[bytes]:
    """The same photo with a distinct JPEG comment right after SOI: new bytes, same picture."""
    return [data[:2] + b"\xff\xfe\x00\x0a" + f"{start + i:08d}".encode() + data[2:] for i in range(count)]


def bare_work(data: bytes) -> None:
    hashlib.sha256(data).hexdigest()
    exifread.process_file(io.BytesIO(data), details=False)
    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", (1600, 1600))
    image = opened.convert("RGB")
    # Each copy from the next larger one: the cheapest honest way to make both.
    for limit, quality in ((1600, 82), (320, 75)):
        image.thumbnail((limit, limit))
        image.save(io.BytesIO(), "JPEG", quality=quality)


def main() -> float:
    if CORPUS is None:
        raise SystemExit(MISSING)
    data = (CORPUS / PHOTO).read_bytes()
    counter = iter(range(1_000_000))
    with (
        tempfile.TemporaryDirectory() as tmp,
        suyuan_server(Path(tmp)) as server,
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client,
    ):
        grower = client.post(
            "/api/v1/growers",
            json={"name": "王秀英", "region": "洛川县"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ).json()
        headers = {"Authorization": f"Bearer {grower['token']}"}

        def over_http() -> float:
            photos = variants(data, UPLOADS, next(counter) * UPLOADS)
            began = time.perf_counter()
            for photo in photos:
                response = client.post(
                    "/api/v1/photos", files={"file": ("IMG.jpg", photo, "image/jpeg")}, headers=headers
                )
                assert response.status_code == 201, response.text
            return (time.perf_counter() - began) / UPLOADS

        def bare() -> float:
            photos = variants(data, UPLOADS, next(counter) * UPLOADS)
            began = time.perf_counter()
            for photo in photos:
                bare_work(photo)
            return (time.perf_counter() - began) / UPLOADS

        http_times, bare_times = interleave(ROUNDS, over_http, bare)
    ratios = [h / b for h, b in zip(http_times, bare_times, strict=True)]
    report(
        f"Photo ingest, {len(data) / 1e6:.1f} MB phone photo ({Path(PHOTO).name}), {UPLOADS} uploads x {ROUNDS} rounds",
        [
            ("POST /api/v1/photos, ms per photo (median)", f"{statistics.median(http_times) * 1000:.0f}"),
            ("bare work in process, ms per photo (median)", f"{statistics.median(bare_times) * 1000:.0f}"),
        ],
        "ratio HTTP ingest / bare work",
        ratios,
        "<= 1.5",
    )
    return statistics.median(ratios)


if __name__ == "__main__":
    main()
