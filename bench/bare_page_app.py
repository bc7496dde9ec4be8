"""The baseline for bench.public_page: a FastAPI route answering prebuilt page bytes (from BARE_PAGE_FILE)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

PAGE = Path(os.environ["BARE_PAGE_FILE"]).read_bytes()
HEADERS = {"Cache-Control": "no-cache", "ETag": 'W/"bare"'}

app = FastAPI()


@app.get("/b/{lot}")
async def page(lot: str) -> Response:
    return Response(PAGE, media_type="text/html; charset=utf-8", headers=HEADERS)


@app.get("/log/key")
async def ready() -> str:
    return "bare"
