"""Plots, lots (batches) and their events: the records growers and regulators sign."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from signing.ledger import LOT_OWNER_ROLES, REGULATOR_EVENT_TYPES

from . import photos
from .actors import Actor
from .clock import rfc3339_utc
from .context import Context
from .anomalies import batch_anomalies, event_anomalies, fact_of
from .errors import ApiError
from .findings import store
from .identities import signing_key
from .ids import new_id, new_lot_code
from .log import Appender
from .models import Batch, BatchInput, CredibilityWarning, Identity, LogEntry, Plot
from .schemas import BatchIn, PlotIn
from .writes import IdempotencyKey, Outcome

# Phones keep bad time, but a record dated tomorrow is a mistake worth stopping.
MAX_FUTURE = timedelta(days=1)


def require_role(actor: Actor, roles: frozenset[str] | set[str], doing: str) -> None:
    if actor.role not in roles:
        allowed = " or ".join(sorted(roles))
        raise ApiError(403, "forbidden", f"only a {allowed} can {doing}; this token belongs to a {actor.role}")


def create_plot(context: Context, actor: Actor, body: PlotIn, idempotency: IdempotencyKey | None) -> Outcome:
    require_role(actor, LOT_OWNER_ROLES, "register a plot")

    def work(session: Session, log: Appender) -> dict:
        plot = Plot(
            id=new_id("p"),
            owner_id=actor.id,
            name=body.name,
            lat=body.lat,
            lon=body.lon,
            area_mu=body.area_mu,
            created_at=log.now,
        )
        session.add(plot)
        return {"plot_id": plot.id}

    return context.sequencer.run(actor, idempotency, work)


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
    key = signing_key(context, actor)

    def work(session: Session, log: Appender) -> dict:
        lot = new_lot_code()
        while session.get(Batch, lot) is not None:
            lot = new_lot_code()
        now = log.now
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
        appended = log.append(payload, key, lot=lot, seq=0)
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
        findings = batch_anomalies(session, lot, payload["inputs"])
        session.add_all(
            BatchInput(lot=lot, position=i, input_lot=item.lot, quantity=item.quantity, unit=item.unit)
            for i, item in enumerate(body.inputs)
        )
        store(session, findings, actor.id, now, lot=lot, index=appended.index)
        answer = {"lot": lot, "index": appended.index, "leaf_hash": appended.leaf_hash.hex()}
        return {**answer, "warnings": [f.as_json() for f in findings]} if findings else answer

    return context.sequencer.run(actor, idempotency, work)


def append_event(context: Context, actor: Actor, lot: str, body, idempotency: IdempotencyKey | None) -> Outcome:
    if body.type in REGULATOR_EVENT_TYPES:
        require_role(actor, {"regulator"}, f"log a {body.type}")
    else:
        require_role(actor, LOT_OWNER_ROLES, f"log a {body.type}")
    occurred = datetime.fromisoformat(body.occurred_at)
    if occurred - context.clock.now() > MAX_FUTURE:
        raise ApiError(422, "future_time", f"occurred_at {body.occurred_at} is in the future; check the phone's date and time")
    cited = list(dict.fromkeys(body.evidence))
    key = signing_key(context, actor)

    def work(session: Session, log: Appender) -> dict:
        # The lot's tip is read under the lock: it is what this record links to.
        connection = session.connection()
        tip = connection.execute(_TIP, {"lot": lot}).first()
        if tip is None:
            raise _unknown_lot(lot)
        if body.type not in REGULATOR_EVENT_TYPES and tip.owner_id != actor.id:
            raise ApiError(403, "not_your_lot", f"lot {lot} belongs to another grower; you can only add records to your own lots")
        plot = (tip.plot_lat, tip.plot_lon) if tip.plot_lat is not None else None
        evidence, findings = photos.check_evidence(session, context, actor, lot, occurred, plot, cited)
        seq = tip.last_seq + 1
        now = log.now
        data = body.data.model_dump(by_alias=True, exclude_none=True)
        fact = fact_of(lot, None, body.type, occurred, data)
        findings += event_anomalies(session, lot, body.type, occurred, fact, now, context.settings.backdated_days)
        payload = {
            "v": 1,
            "kind": "event",
            "time": rfc3339_utc(now),
            "lot": lot,
            "seq": seq,
            "prev": tip.last_leaf_hash.hex(),
            "type": body.type,
            "occurred_at": body.occurred_at,
            "data": data,
            "evidence": evidence,
        }
        appended = log.append(payload, key, lot=lot, seq=seq, event_type=body.type)
        connection.execute(_MOVE_TIP, {"tip_lot": lot, "tip_seq": seq, "tip_leaf": appended.leaf_hash})
        if cited:
            photos.record_citations(session, cited, lot, appended.index, actor.id)
        store(session, findings, tip.owner_id, now, lot=lot, index=appended.index)
        if fact is not None:
            fact.idx = appended.index
            session.add(fact)
        warnings = [f.as_json() for f in findings]
        return {"index": appended.index, "seq": seq, "leaf_hash": appended.leaf_hash.hex(), "warnings": warnings}

    return context.sequencer.run(actor, idempotency, work)


# With the plot's place, which photo checks compare with: one read under the lock.
_TIP = (
    select(Batch.owner_id, Batch.last_seq, Batch.last_leaf_hash, Plot.lat.label("plot_lat"), Plot.lon.label("plot_lon"))
    .outerjoin(Plot, Plot.id == Batch.plot_id)
    .where(Batch.lot == bindparam("lot"))
)
_MOVE_TIP = (
    update(Batch).where(Batch.lot == bindparam("tip_lot")).values(last_seq=bindparam("tip_seq"), last_leaf_hash=bindparam("tip_leaf"))
)


def read_batch(session: Session, lot: str) -> dict:
    """A lot as anyone may see it: what it is, who grew it, and its records decoded."""
    batch = batch_or_404(session, lot)
    owner = session.get(Identity, batch.owner_id)
    rows = session.execute(
        select(LogEntry.idx, LogEntry.seq, LogEntry.leaf_hash, LogEntry.entry).where(LogEntry.lot == lot).order_by(LogEntry.seq)
    )
    inputs = session.execute(select(BatchInput).where(BatchInput.lot == lot).order_by(BatchInput.position)).scalars()
    made_into = session.execute(select(BatchInput.lot).where(BatchInput.input_lot == lot).distinct()).scalars()
    warnings = session.execute(
        select(CredibilityWarning.idx, CredibilityWarning.code, CredibilityWarning.message)
        .where(CredibilityWarning.lot == lot)
        .order_by(CredibilityWarning.idx, CredibilityWarning.id)
    )
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
        "warnings": [{"index": idx, "code": code, "message": message} for idx, code, message in warnings],
    }


def what_happened(payload: dict) -> tuple[str, datetime, datetime, dict]:
    """A lot record's kind of work ("batch" for the record that made the lot), when it
    happened as its signer says, when the log received it, and its data. A lot is made when
    its record is logged."""
    recorded = datetime.fromisoformat(payload["time"])
    if payload["kind"] == "batch":
        return "batch", recorded, recorded, {}
    return payload["type"], datetime.fromisoformat(payload["occurred_at"]), recorded, payload["data"]


def plot_view(plot: Plot | None) -> dict | None:
    if plot is None:
        return None
    return {"id": plot.id, "name": plot.name, "location": {"lat": plot.lat, "lon": plot.lon}}


def batch_or_404(session: Session, lot: str) -> Batch:
    batch = session.get(Batch, lot)
    if batch is None:
        raise _unknown_lot(lot)
    return batch


def _unknown_lot(lot: str) -> ApiError:
    return ApiError(404, "unknown_lot", f"there is no lot {lot}; check the code on the label")
