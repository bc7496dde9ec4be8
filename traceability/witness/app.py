"""The witness over HTTP (c2sp.org/tlog-witness): submission and monitoring prefix `/`.

POST /add-checkpoint              cosign a checkpoint (200 with the cosignature line)
GET  /witness/key                 the witness's vkey
GET  /<sha256(origin)>/checkpoint the latest checkpoint it cosigned for that log
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .state import StateError
from .submission import Refusal
from .witness import Witness

# A checkpoint with a hundred signatures and 63 proof lines fits many times over.
MAX_BODY = 64 * 1024
TEXT = "text/plain; charset=utf-8"


def create_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await _body(request)
            # The check and the store wait on a file lock: off the event loop.
            line = await run_in_threadpool(witness.add_checkpoint, body)
        except Refusal as refusal:
            # Exactly the media type given: a 409's text/x.tlog.size carries no charset.
            return Response(refusal.body, refusal.status, headers={"Content-Type": refusal.media_type})
        except StateError as exc:
            return PlainTextResponse(f"the witness's state is damaged: {exc}\n", 500, media_type=TEXT)
        return PlainTextResponse(line, media_type=TEXT)

    async def key(request: Request) -> Response:
        return PlainTextResponse(witness.cosigner.key_string(), media_type=TEXT)

    async def checkpoint(request: Request) -> Response:
        note = witness.cosigned_note(request.path_params["origin_hash"])
        if note is None:
            return PlainTextResponse("this witness has cosigned no checkpoint of that log\n", 404, media_type=TEXT)
        return PlainTextResponse(note, media_type=TEXT, headers={"Cache-Control": "no-cache"})

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/witness/key", key, methods=["GET"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )


async def _body(request: Request) -> bytes:
    """The request body, refused while it streams in once it passes MAX_BODY."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refusal(413, f"the request body is over the limit of {MAX_BODY // 1024} KiB")
    return bytes(body)
