"""Plots, lots (batches) and their events: the records growers and regulators sign."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.ledger import LOT_OWNER_ROLES, REGULATOR_EVENT_TYPES
from signing.records import sign_record

from .clock import rfc3339_utc
from .context import Context
from .errors import ApiError
from .identities import Actor, signing_key
from .ids import new_id, new_lot_code
from .models import Batch, BatchInput, Identity, LogEntry, LogHead, Plot
from .schemas import BatchIn, PlotIn
from .writes import IdempotencyKey, Outcome, run_write

# Phones keep bad time, but a record dated tomorrow is a mistake worth stopping.
MAX_FUTURE = timedelta(days=1)


def require_role(actor: Actor, roles: frozenset[str] | set[str], doing: str) -> None:
    if actor.role not in roles:
        allowed = " or ".join(sorted(roles))
        raise ApiError(403, "forbidden", f"only a {allowed} can {doing}; this token belongs to a {actor.role}")


def create_plot(session: Session, context: Context, actor: Actor, body: PlotIn, idempotency: IdempotencyKey | None) -> Outcome:
    require_role(actor, LOT_OWNER_ROLES, "register a plot")

    def work(_head: LogHead) -> dict:
        plot = Plot(
            id=new_id("p"),
            owner_id=actor.id,
            name=body.name,
            lat=body.lat,
            lon=body.lon,
            area_mu=body.area_mu,
            created_at=context.clock.now(),
        )
        session.add(plot)
        return {"plot_id": plot.id}

    return run_write(session, context, actor.id, idempotency, work)


def create_batch(session: Session, context: Context, actor: Actor, body: BatchIn, idempotency: IdempotencyKey | None) -> Outcome:
    require_role(actor, LOT_OWNER_ROLES, "create a lot")
    plot = None
    if body.plot_id is not None:
        plot = session.get(Plot, body.plot_id)
        if plot is None or plot.owner_id != actor.id:
            raise ApiError(422, "unknown_plot", f"plot_id {body.plot_id} is not one of your plots; create it with POST /api/v1/plots")
    for item in body.inputs:
        if session.get(Batch, item.lot) is None:
            raise ApiError(422, "unknown_lot", f"input lot {item.lot} does not exist; check the code on its label")
    key = signing_key(context, actor.identity)

    def work(head: LogHead) -> dict:
        lot = new_lot_code()
        while session.get(Batch, lot) is not None:
            lot = new_lot_code()
        now = context.clock.now()
        payload = {
            "v": 1,
            "kind": "batch",
            "time": rfc3339_utc(now),
            "lot": lot,
            "seq": 0,
            "prev": None,
            "product": body.product,
            "variety": body.variety,
            "plot": plot_view(plot),
            "grower": {"id": actor.id},
            "inputs": [item.model_dump() for item in body.inputs],
        }
        if body.gtin:
            payload["gtin"] = body.gtin
        appended = context.log.append(session, head, sign_record(payload, key), now, lot=lot, seq=0)
        session.add(
            Batch(
                lot=lot,
                owner_id=actor.id,
                product=body.product,
                variety=body.variety,
                plot_id=plot.id if plot else None,
                gtin=body.gtin,
                created_index=appended.index,
                last_seq=0,
                last_leaf_hash=appended.leaf_hash,
                created_at=now,
            )
        )
        session.flush()
        session.add_all(
            BatchInput(lot=lot, position=i, input_lot=item.lot, quantity=item.quantity, unit=item.unit)
            for i, item in enumerate(body.inputs)
        )
        return {"lot": lot, "index": appended.index, "leaf_hash": appended.leaf_hash.hex()}

    return run_write(session, context, actor.id, idempotency, work)


def append_event(
    session: Session, context: Context, actor: Actor, lot: str, body, idempotency: IdempotencyKey | None
) -> Outcome:
    batch = batch_or_404(session, lot)
    if body.type in REGULATOR_EVENT_TYPES:
        require_role(actor, {"regulator"}, f"log a {body.type}")
    else:
        require_role(actor, LOT_OWNER_ROLES, f"log a {body.type}")
        if batch.owner_id != actor.id:
            raise ApiError(403, "not_your_lot", f"lot {lot} belongs to another grower; you can only add records to your own lots")
    occurred = datetime.fromisoformat(body.occurred_at)
    if occurred - context.clock.now() > MAX_FUTURE:
        raise ApiError(422, "future_time", f"occurred_at {body.occurred_at} is in the future; check the phone's date and time")
    for sha256 in body.evidence:
        raise ApiError(422, "unknown_photo", f"photo {sha256} was never uploaded; upload it with POST /api/v1/photos first")
    key = signing_key(context, actor.identity)

    def work(head: LogHead) -> dict:
        tip = session.get(Batch, lot, populate_existing=True)
        seq = tip.last_seq + 1
        now = context.clock.now()
        payload = {
            "v": 1,
            "kind": "event",
            "time": rfc3339_utc(now),
            "lot": lot,
            "seq": seq,
            "prev": tip.last_leaf_hash.hex(),
            "type": body.type,
            "occurred_at": body.occurred_at,
            "data": body.data.model_dump(by_alias=True, exclude_none=True),
            "evidence": [],
        }
        appended = context.log.append(session, head, sign_record(payload, key), now, lot=lot, seq=seq, event_type=body.type)
        tip.last_seq = seq
        tip.last_leaf_hash = appended.leaf_hash
        return {"index": appended.index, "seq": seq, "leaf_hash": appended.leaf_hash.hex(), "warnings": []}

    return run_write(session, context, actor.id, idempotency, work)


def read_batch(session: Session, lot: str) -> dict:
    """A lot as anyone may see it: what it is, who grew it, and its records decoded."""
    batch = batch_or_404(session, lot)
    owner = session.get(Identity, batch.owner_id)
    rows = session.execute(
        select(LogEntry.idx, LogEntry.seq, LogEntry.leaf_hash, LogEntry.entry).where(LogEntry.lot == lot).order_by(LogEntry.seq)
    )
    inputs = session.execute(select(BatchInput).where(BatchInput.lot == lot).order_by(BatchInput.position)).scalars()
    made_into = session.execute(select(BatchInput.lot).where(BatchInput.input_lot == lot).distinct()).scalars()
    return {
        "lot": batch.lot,
        "product": batch.product,
        "variety": batch.variety,
        "gtin": batch.gtin,
        "grower": {"id": owner.id, "name": owner.name, "region": owner.region},
        "plot": plot_view(session.get(Plot, batch.plot_id) if batch.plot_id else None),
        "inputs": [{"lot": i.input_lot, "quantity": i.quantity, "unit": i.unit} for i in inputs],
        "made_into": sorted(made_into),
        "records": [
            {"index": idx, "seq": seq, "leaf_hash": bytes(leaf).hex(), "record": json.loads(entry)}
            for idx, seq, leaf, entry in rows
        ],
    }


def plot_view(plot: Plot | None) -> dict | None:
    if plot is None:
        return None
    return {"id": plot.id, "name": plot.name, "location": {"lat": plot.lat, "lon": plot.lon}}


def batch_or_404(session: Session, lot: str) -> Batch:
    batch = session.get(Batch, lot)
    if batch is None:
        raise ApiError(404, "unknown_lot", f"there is no lot {lot}; check the code on the label")
    return batch
