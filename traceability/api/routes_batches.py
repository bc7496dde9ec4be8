"""Plots, lots and events (protocol §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from .. import batches
from ..schemas import BatchIn, BatchOut, EventIn, EventOut, PlotIn, PlotOut
from .deps import ActorDep, ContextDep, IdempotencyDep, SessionDep, respond

router = APIRouter(prefix="/api/v1", tags=["lots"])

LotPath = Annotated[str, Path(pattern=r"^[0-9A-Z]{1,20}$", description="Lot code: 1-20 of 0-9A-Z")]


@router.post("/plots", status_code=201, response_model=PlotOut, summary="Register a plot (grower)")
def create_plot(body: PlotIn, actor: ActorDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(batches.create_plot(context, actor, body, idem))


@router.post("/batches", status_code=201, response_model=BatchOut, summary="Create a lot (grower): appends its batch record")
def create_batch(body: BatchIn, actor: ActorDep, session: SessionDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(batches.create_batch(session, context, actor, body, idem))


@router.post("/batches/{lot}/events", status_code=201, response_model=EventOut, summary="Append an event to a lot")
def append_event(lot: LotPath, body: EventIn, actor: ActorDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(batches.append_event(context, actor, lot, body, idem))


@router.get("/batches/{lot}", summary="A lot and its records, decoded (public)")
def read_batch(lot: LotPath, session: SessionDep) -> dict:
    return batches.read_batch(session, lot)
