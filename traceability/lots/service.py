"""Plots, lots and their events: the records growers and regulators sign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from signing.keys import keyid
from signing.ledger import EITHER_EVENT_TYPES, LOT_OWNER_ROLES, REGULATOR_EVENT_TYPES
from signing.lot_state import LotState, describe, read_lots
from signing.payloads import LotRecord, batch_payload, event_payload

from ..accounts.actors import REGULATORS, Actor, require_role
from ..clock import Clock
from ..errors import Forbidden, Invalid
from ..findings.finding import resolve, store
from ..findings.lot_rules import batch_findings, event_findings, fact_of, refact
from ..ids import new_id, new_lot_code
from ..ledger import records
from ..ledger.log import Appender
from ..ledger.records import unknown_lot
from ..ledger.sequencer import IdempotencyKey, Outcome, Sequencer
from ..photos.service import PhotoService
from ..storage.models import Batch, BatchInput, Plot
from .inputs import EVENT_DATA, BatchIn, EventIn, PlotIn
from .lineage import ancestors
from .repeats import REPEAT_WITHIN, refuse_repeat

# Phones keep bad time, but a record dated tomorrow is a mistake worth stopping.
MAX_FUTURE = timedelta(days=1)


class LotService:
    def __init__(
        self,
        sequencer: Sequencer[Actor],
        signing_key: Callable[[Actor], Ed25519PrivateKey],
        photos: PhotoService,
        clock: Clock,
        backdated_days: int,
    ) -> None:
        self._sequencer = sequencer
        self._signing_key = signing_key
        self._photos = photos
        self._clock = clock
        self._backdated_days = backdated_days

    def create_plot(self, actor: Actor, body: PlotIn, idempotency: IdempotencyKey | None) -> Outcome:
        require_role(actor, LOT_OWNER_ROLES, "register a plot")

        def work(session: Session, log: Appender) -> dict[str, Any]:
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

        return self._sequencer.run(actor, idempotency, work)

    def create_batch(self, actor: Actor, body: BatchIn, idempotency: IdempotencyKey | None) -> Outcome:
        require_role(actor, LOT_OWNER_ROLES, "create a lot")
        key = self._signing_key(actor)

        def work(session: Session, log: Appender) -> dict[str, Any]:
            plot = None
            if body.plot_id is not None:
                plot = session.get(Plot, body.plot_id)
                if plot is None or plot.owner_id != actor.id:
                    raise Invalid(
                        "unknown_plot",
                        f"plot_id {body.plot_id} is not one of your plots; create it with POST /api/v1/plots",
                    )
            for item in body.inputs:
                if session.get(Batch, item.lot) is None:
                    raise Invalid("unknown_lot", f"input lot {item.lot} does not exist; check the code on its label")
            lot = new_lot_code()
            while session.get(Batch, lot) is not None:
                lot = new_lot_code()
            inputs = [item.model_dump() for item in body.inputs]
            payload = batch_payload(
                log.now,
                lot,
                product=body.product,
                variety=body.variety,
                plot=plot_json(plot),
                grower_id=actor.id,
                inputs=inputs,
                gtin=body.gtin,
            )
            appended = log.append(payload, key)
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
                    created_at=log.now,
                )
            )
            session.flush()
            findings = batch_findings(session, lot, inputs)
            session.add_all(
                BatchInput(lot=lot, position=i, input_lot=item.lot, quantity=item.quantity, unit=item.unit)
                for i, item in enumerate(body.inputs)
            )
            store(session, findings, actor.id, log.now, lot=lot, index=appended.index)
            answer: dict[str, Any] = {"lot": lot, "index": appended.index, "leaf_hash": appended.leaf_hash.hex()}
            return {**answer, "warnings": [f.as_json() for f in findings]} if findings else answer

        return self._sequencer.run(actor, idempotency, work)

    def append_event(self, actor: Actor, lot: str, body: EventIn, idempotency: IdempotencyKey | None) -> Outcome:
        by_regulator = body.type in REGULATOR_EVENT_TYPES or (
            body.type in EITHER_EVENT_TYPES and actor.role in REGULATORS
        )
        require_role(actor, REGULATORS if by_regulator else LOT_OWNER_ROLES, f"log a {body.type}")
        occurred = datetime.fromisoformat(body.occurred_at)
        if occurred - self._clock.now() > MAX_FUTURE:
            raise Invalid(
                "future_time", f"occurred_at {body.occurred_at} is in the future; check the phone's date and time"
            )
        cited = list(dict.fromkeys(body.evidence))
        key = self._signing_key(actor)
        key_id = keyid(key)

        def work(session: Session, log: Appender) -> dict[str, Any]:
            # The lot's tip is read under the lock: it is what this record links to.
            connection = session.connection()
            tip = connection.execute(_TIP, {"lot": lot}).first()
            if tip is None:
                raise unknown_lot(lot)
            if not by_regulator and tip.owner_id != actor.id:
                raise Forbidden(
                    "not_your_lot", f"lot {lot} belongs to another grower; you can only add records to your own lots"
                )
            data = body.data.model_dump(by_alias=True, exclude_none=True)
            corrected = None
            if body.type == "correction":
                corrected = self._correctable(session, log, actor, lot, data)
            elif body.type == "certificate":
                self._certifiable(session, log, lot)
            if not body.again:
                refuse_repeat(session, lot, key_id, body.type, occurred, data, cited, log.now - REPEAT_WITHIN)
            plot = (tip.plot_lat, tip.plot_lon) if tip.plot_lat is not None else None
            evidence, findings = self._photos.evidence(
                session, actor, lot=lot, grower_id=actor.id, occurred=occurred, plot=plot, cited=cited
            )
            seq = tip.last_seq + 1
            fact = fact_of(lot, None, body.type, occurred, data)
            findings += event_findings(session, lot, body.type, occurred, fact, log.now, self._backdated_days)
            payload = event_payload(
                log.now,
                lot,
                seq=seq,
                prev=tip.last_leaf_hash,
                type=body.type,
                occurred_at=body.occurred_at,
                data=data,
                evidence=evidence,
            )
            appended = log.append(payload, key)
            connection.execute(_MOVE_TIP, {"tip_lot": lot, "tip_seq": seq, "tip_leaf": appended.leaf_hash})
            if cited:
                PhotoService.cite(session, cited, lot, appended.index, actor.id)
            store(session, findings, tip.owner_id, log.now, lot=lot, index=appended.index)
            if fact is not None:
                fact.idx = appended.index
                session.add(fact)
            if corrected is not None:
                self._rejudge(session, log, lot, corrected, data, appended.index)
            warnings = [f.as_json() for f in findings]
            return {"index": appended.index, "seq": seq, "leaf_hash": appended.leaf_hash.hex(), "warnings": warnings}

        return self._sequencer.run(actor, idempotency, work)

    def _correctable(self, session: Session, log: Appender, actor: Actor, lot: str, data: dict[str, Any]) -> LotRecord:
        """The record a correction corrects, once it is sure the actor may, and the replacement holds."""
        log.finish()  # records appended earlier in this batch are read with the rest
        chain = records.of_lot(session, lot)
        target = next((r for r in chain if r.seq == data["corrects"]), None)
        if target is None or target.type in ("batch", "correction"):
            raise Invalid(
                "cannot_correct",
                f"lot {lot} has no record {data['corrects']} that can be corrected: give the seq of one of its events",
            )
        own = target.signer == keyid(self._signing_key(actor))
        if target.type in REGULATOR_EVENT_TYPES and not own:
            raise Forbidden("not_your_record", "only the regulator who signed an inspection or recall can correct it")
        if target.type not in REGULATOR_EVENT_TYPES and actor.role in REGULATORS:
            raise Forbidden("not_your_record", "a regulator corrects only its own records; the grower corrects theirs")
        replacement = data.get("replacement")
        if replacement is not None and "data" in replacement:
            try:
                model = EVENT_DATA[target.type].model_validate(replacement["data"])
            except ValidationError as exc:
                problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}" for e in exc.errors())
                raise Invalid(
                    "bad_replacement", f"the replacement data is not a valid {target.type}'s data: {problem}"
                ) from None
            replacement["data"] = model.model_dump(by_alias=True, exclude_none=True)
        moved = replacement.get("occurred_at") if replacement is not None else None
        if moved is not None and datetime.fromisoformat(moved) - self._clock.now() > MAX_FUTURE:
            raise Invalid("future_time", "the replacement occurred_at is in the future; check the date")
        return target

    def _certifiable(self, session: Session, log: Appender, lot: str) -> None:
        """Protocol §11: no certificate while the lot or a lot it came from shows a blocking concern."""
        log.finish()
        state = lot_state(session, lot)
        if state.blocking:
            reasons = "; ".join(describe(concern) for concern in state.blocking)
            raise Invalid(
                "certificate_refused",
                f"lot {lot} cannot be certified while its records show: {reasons}. "
                "If a record is wrong, correct it; a recall or a failed inspection is lifted only by its regulator.",
            )

    def _rejudge(
        self, session: Session, log: Appender, lot: str, corrected: LotRecord, data: dict[str, Any], index: int
    ) -> None:
        """The rules see the corrected record from now on; findings it no longer shows are resolved by it."""
        replacement = data.get("replacement")
        refact(session, lot, corrected, replacement)
        log.finish()
        resolve(session, lot, lot_state(session, lot), corrected.index if replacement is None else None, index)


def lot_state(session: Session, lot: str) -> LotState:
    """What the lot's records say, as pages read it, from the server's own tables (under the lock)."""
    chains = {code: records.of_lot(session, code) for code in (lot, *ancestors(session, lot))}
    derived = records.made_from(session, lot)
    return read_lots(lot, chains, derived)


def plot_json(plot: Plot | None) -> dict[str, Any] | None:
    """A plot as records and the API name it."""
    if plot is None:
        return None
    return {"id": plot.id, "name": plot.name, "location": {"lat": plot.lat, "lon": plot.lon}}


# With the plot's place, which photo checks compare with: one read under the lock.
_TIP = (
    select(Batch.owner_id, Batch.last_seq, Batch.last_leaf_hash, Plot.lat.label("plot_lat"), Plot.lon.label("plot_lon"))
    .outerjoin(Plot, Plot.id == Batch.plot_id)
    .where(Batch.lot == bindparam("lot"))
)
_MOVE_TIP = (
    update(Batch)
    .where(Batch.lot == bindparam("tip_lot"))
    .values(last_seq=bindparam("tip_seq"), last_leaf_hash=bindparam("tip_leaf"))
)
