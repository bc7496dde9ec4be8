"""Public, unauthenticated log endpoints (protocol §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from signing.encoding import b64encode
from signing.tiles import parse_tile_path

from ..deps import ServicesDep, SessionDep
from ..errors import error_response
from ..outputs import ConsistencyOut, EntriesOut, InclusionOut

router = APIRouter(prefix="/log", tags=["log"])
MAX_ENTRIES = 1000
# Beyond any real log, and within the database's 64-bit integers.
Position = Annotated[int, Query(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=1, le=2**62)]
# A full tile never changes. A partial one never changes either, but it is only a stopgap
# until its full tile exists (and may then go), so caches keep it for a day.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=86400"


@router.get(
    "/checkpoint", response_class=PlainTextResponse, summary="The latest signed checkpoint (C2SP tlog-checkpoint)"
)
def checkpoint(session: SessionDep, services: ServicesDep) -> PlainTextResponse:
    served = services.log.served_checkpoint(session)
    if served is None:
        # With witnesses, only a cosigned checkpoint is served; the first comes within seconds.
        return PlainTextResponse(
            "no checkpoint has been cosigned by the witnesses' quorum yet; try again in a few seconds\n",
            503,
            media_type="text/plain; charset=utf-8",
            headers={"Retry-After": "2", "Cache-Control": "no-cache"},
        )
    return PlainTextResponse(served, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/key", response_class=PlainTextResponse, summary="The log's verifier key (C2SP signed-note vkey)")
def key(services: ServicesDep) -> PlainTextResponse:
    return PlainTextResponse(services.log.signer.verifier_key(), media_type="text/plain; charset=utf-8")


@router.get("/entries", response_model=EntriesOut, summary="Entries start <= i < end, at most 1,000")
def entries(
    session: SessionDep,
    services: ServicesDep,
    start: Position,
    end: Position,
) -> EntriesOut:
    end = min(end, start + MAX_ENTRIES)
    return EntriesOut(start=start, entries=[b64encode(e) for e in services.log.entries(session, start, end)])


@router.get("/proof/inclusion", response_model=InclusionOut, summary="RFC 9162 inclusion proof")
def inclusion(
    session: SessionDep,
    services: ServicesDep,
    index: Position,
    size: Size,
) -> InclusionOut:
    leaf, proof = services.log.inclusion_proof(session, index, size)
    return InclusionOut(index=index, size=size, leaf_hash=b64encode(leaf), proof=[b64encode(p) for p in proof])


@router.get("/proof/consistency", response_model=ConsistencyOut, summary="RFC 9162 consistency proof")
def consistency(
    session: SessionDep,
    services: ServicesDep,
    old: Size,
    new: Size,
) -> ConsistencyOut:
    proof = services.log.consistency_proof(session, old, new)
    return ConsistencyOut(old=old, new=new, proof=[b64encode(p) for p in proof])


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    summary="A hash tile `tile/<L>/<N>[.p/<W>]` or entry bundle `tile/entries/<N>[.p/<W>]` (c2sp.org/tlog-tiles)",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def tile(path: str, session: SessionDep, services: ServicesDep) -> Response:
    no_cache = {"Cache-Control": "no-cache"}
    try:
        wanted = parse_tile_path(path)
    except ValueError as exc:
        return error_response(400, "bad_tile_path", str(exc), no_cache)
    data = services.log.tile(session, wanted)
    if data is None:
        return error_response(
            404, "no_such_tile", f"the log does not hold {wanted.path} yet: see /log/checkpoint for its size", no_cache
        )
    cache = PARTIAL_TILE_CACHE if wanted.partial else FULL_TILE_CACHE
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})
