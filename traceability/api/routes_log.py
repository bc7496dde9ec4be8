"""Public, unauthenticated log endpoints (protocol §2)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from .deps import ContextDep, SessionDep

router = APIRouter(prefix="/log", tags=["log"])
MAX_ENTRIES = 1000
# Beyond any real log, and within the database's 64-bit integers.
Position = Annotated[int, Query(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=1, le=2**62)]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class EntriesOut(BaseModel):
    start: int
    entries: list[str]


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    old: int
    new: int
    proof: list[str]


@router.get("/checkpoint", response_class=PlainTextResponse, summary="The latest signed checkpoint (C2SP tlog-checkpoint)")
def checkpoint(session: SessionDep, context: ContextDep) -> PlainTextResponse:
    return PlainTextResponse(
        context.log.checkpoint(session), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/key", response_class=PlainTextResponse, summary="The log's verifier key (C2SP signed-note vkey)")
def key(context: ContextDep) -> PlainTextResponse:
    return PlainTextResponse(context.log.signer.verifier_key(), media_type="text/plain; charset=utf-8")


@router.get("/entries", response_model=EntriesOut, summary="Entries start <= i < end, at most 1,000")
def entries(
    session: SessionDep,
    context: ContextDep,
    start: Position,
    end: Position,
) -> EntriesOut:
    end = min(end, start + MAX_ENTRIES)
    return EntriesOut(start=start, entries=[_b64(e) for e in context.log.entries(session, start, end)])


@router.get("/proof/inclusion", response_model=InclusionOut, summary="RFC 9162 inclusion proof")
def inclusion(
    session: SessionDep,
    context: ContextDep,
    index: Position,
    size: Size,
) -> InclusionOut:
    leaf, proof = context.log.inclusion_proof(session, index, size)
    return InclusionOut(index=index, size=size, leaf_hash=_b64(leaf), proof=[_b64(p) for p in proof])


@router.get("/proof/consistency", response_model=ConsistencyOut, summary="RFC 9162 consistency proof")
def consistency(
    session: SessionDep,
    context: ContextDep,
    old: Size,
    new: Size,
) -> ConsistencyOut:
    proof = context.log.consistency_proof(session, old, new)
    return ConsistencyOut(old=old, new=new, proof=[_b64(p) for p in proof])
