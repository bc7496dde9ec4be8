"""Public, unauthenticated log endpoints (protocol §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from signing.encoding import b64encode

from ..deps import ServicesDep, SessionDep
from ..outputs import ConsistencyOut, EntriesOut, InclusionOut

router = APIRouter(prefix="/log", tags=["log"])
MAX_ENTRIES = 1000
# Beyond any real log, and within the database's 64-bit integers.
Position = Annotated[int, Query(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=1, le=2**62)]


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
