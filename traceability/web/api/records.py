"""Records signed by their author with a key the server does not hold (protocol §9): the grower
app on a phone, and API clients with keys of their own. The signature is the credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import IdempotencyDep, LotsDep, respond

router = APIRouter(prefix="/api/v1", tags=["lots"])

_RECORD = {
    "type": "object",
    "required": ["payload", "signatures"],
    "properties": {
        "payload": {"type": "object", "description": "A batch or event payload (protocol §1), time = signing time"},
        "signatures": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["keyid", "sig"],
                "properties": {"keyid": {"type": "string"}, "sig": {"type": "string", "contentEncoding": "base64"}},
            },
        },
    },
}


@router.post(
    "/records",
    status_code=201,
    summary="Append a record its author signed with their own key; a stale seq/prev gets 409 with the lot's tip",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _RECORD}}}},
)
async def append_record(
    request: Request,
    lots: LotsDep,
    idem: IdempotencyDep,
    again: Annotated[bool, Query(description="An event the same as one appended minutes ago, meant twice")] = False,
) -> JSONResponse:
    # The body is read as bytes: it is checked as the signed record it is, not as a model.
    body = await request.body()
    return respond(await run_in_threadpool(lots.append_signed, body, idem, again))
