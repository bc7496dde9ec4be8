"""The baseline for bench.append_http: a FastAPI route that only parses the same body."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from traceability.lots.inputs import EventIn
from traceability.web.deps import LotPath

app = FastAPI()


@app.post("/api/v1/batches/{lot}/events", status_code=201)
def parse_only(lot: LotPath, body: EventIn) -> JSONResponse:
    return JSONResponse({"index": 0, "seq": 0, "leaf_hash": "", "warnings": []}, status_code=201)


@app.get("/log/key")
def ready() -> str:
    return "bare"
