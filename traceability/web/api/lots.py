"""Plots, lots and events (protocol §4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ...lots.inputs import BatchIn, EventIn, PlotIn
from ...reads.lots import lot_json, lot_tip
from ..deps import ActorDep, IdempotencyDep, LotPath, LotsDep, SessionDep, respond
from ..outputs import BatchOut, EventOut, PlotOut, TipOut

router = APIRouter(prefix="/api/v1", tags=["lots"])


@router.post("/plots", status_code=201, response_model=PlotOut, summary="Register a plot (grower)")
def create_plot(body: PlotIn, actor: ActorDep, lots: LotsDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(lots.create_plot(actor, body, idem))


@router.post(
    "/batches", status_code=201, response_model=BatchOut, summary="Create a lot (grower): appends its batch record"
)
def create_batch(body: BatchIn, actor: ActorDep, lots: LotsDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(lots.create_batch(actor, body, idem))


@router.post("/batches/{lot}/events", status_code=201, response_model=EventOut, summary="Append an event to a lot")
def append_event(lot: LotPath, body: EventIn, actor: ActorDep, lots: LotsDep, idem: IdempotencyDep) -> JSONResponse:
    return respond(lots.append_event(actor, lot, body, idem))


@router.get("/batches/{lot}", summary="A lot and its records, decoded (public)")
def read_batch(lot: LotPath, session: SessionDep) -> dict[str, Any]:
    return lot_json(session, lot)


@router.get(
    "/batches/{lot}/tip",
    response_model=TipOut,
    summary="The lot's newest record, which the next record signed elsewhere follows (public)",
)
def read_tip(lot: LotPath, session: SessionDep) -> dict[str, Any]:
    return lot_tip(session, lot)
