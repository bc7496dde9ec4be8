"""Plots, lots and their events: the records growers and regulators sign.

Every record goes through one set of steps whoever signs it (`authors`): the server with the
member's custodial key, or the member on a device of their own (protocol §9), whose signed
record is appended only if its payload is exactly what these steps write. A phone asks for
that payload first (`prepare_batch`, `prepare_event`): the same steps, stopped before the
signature, writing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from signing.ledger import EITHER_EVENT_TYPES, LOT_OWNER_ROLES, LOT_PATTERN, REGULATOR_EVENT_TYPES, LotTip
from signing.lot_state import LotState, describe, read_lots
from signing.payloads import LotRecord, batch_payload, event_payload

from ..accounts import keys
from ..accounts.actors import REGULATORS, Actor, require_role
from ..clock import Clock
from ..errors import Forbidden, Invalid
from ..findings.finding import Finding, resolve, store
from ..findings.lot_rules import batch_findings, event_findings, fact_of, refact
from ..ids import new_id
from ..ledger import records
from ..ledger.log import Appender
from ..ledger.records import unknown_lot
from ..ledger.sequencer import IdempotencyKey, Outcome, Sequencer, Work, touch
from ..photos.service import PhotoService
from ..storage.models import Batch, BatchInput, LotFact, MemberKey, Plot
from .authors import Author, Custodial, Drafting, Presigned, SignedRecord
from .inputs import EVENT_DATA, BatchIn, EventIn, PlotIn, batch_of, event_of, problems
from .lineage import ancestors
from .repeats import REPEAT_WITHIN, refuse_repeat

# Phones keep bad time, but a record dated tomorrow is a mistake worth stopping.
MAX_FUTURE = timedelta(days=1)


@dataclass(frozen=True)
class _EventDraft:
    """An event record as the server writes it, and what appending it changes beside the log."""

    payload: dict[str, Any]
    tip: LotTip  # the lot's chain before it
    cited: list[str]
    findings: list[Finding]
    fact: LotFact | None
    corrected: LotRecord | None  # the record a correction corrects


class LotService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        sequencer: Sequencer[Actor],
        signing_key: Callable[[Actor], Ed25519PrivateKey],
        photos: PhotoService,
        clock: Clock,
        backdated_days: int,
        operator_public_key: bytes,
    ) -> None:
        self._sessions = sessions
        self._sequencer = sequencer
        self._signing_key = signing_key
        self._photos = photos
        self._clock = clock
        self._backdated_days = backdated_days
        self._operator_public_key = operator_public_key

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

    # -- the three ways in: signed here, prepared for a device, signed on a device ------------

    def create_batch(self, actor: Actor, body: BatchIn, idempotency: IdempotencyKey | None) -> Outcome:
        require_role(actor, LOT_OWNER_ROLES, "create a lot")
        author = Custodial(self._signing_key(actor))
        return self._sequencer.run(actor, idempotency, self._batch_work(actor, body, author))

    def append_event(self, actor: Actor, lot: str, body: EventIn, idempotency: IdempotencyKey | None) -> Outcome:
        _may_log(actor, body.type)
        author = Custodial(self._signing_key(actor))
        return self._sequencer.run(actor, idempotency, self._event_work(actor, lot, body, author))

    def prepare_batch(self, actor: Actor, body: BatchIn) -> dict[str, Any]:
        """The batch payload the server would sign now, with a new lot code, for the member to sign."""
        require_role(actor, LOT_OWNER_ROLES, "create a lot")
        with self._sessions() as session:
            return self._draft_batch(session, actor, body, Drafting(), self._clock.now())

    def prepare_event(self, actor: Actor, lot: str, body: EventIn) -> dict[str, Any]:
        """The event payload the server would sign now, linked to the lot's newest record."""
        _may_log(actor, body.type)
        with self._sessions() as session:
            return self._draft_event(session, actor, lot, body, Drafting(), self._clock.now(), lambda: None).payload

    def append_signed(
        self, body: bytes, idempotency: IdempotencyKey | None, again: bool = False, member: str | None = None
    ) -> Outcome:
        """A record its author signed with a key of their own (protocol §9), appended byte for
        byte once every check of `authors` holds; `again` as an event's (a repeat meant);
        `member`: the only member whose key may have signed it (a signed-in grower's)."""
        signed = SignedRecord.parse(body)
        with self._sessions() as session:
            found = keys.owner(session, signed.keyid)
        if found is None:
            raise Forbidden(
                "unknown_key",
                f"no key entry registers key {signed.keyid}: register it first "
                "(POST /api/v1/growers with public_key, or the grower app)",
            )
        if member is not None and found.identity.id != member:
            raise Forbidden("not_your_key", f"key {signed.keyid} is another member's; sign with your own")
        signed.verify(found.key)
        actor = Actor(id=found.identity.id, role=found.identity.role)
        author = Presigned(signed, found.key, actor.role, self._operator_public_key)
        payload = signed.payload
        work: Work
        if payload.get("kind") == "batch":
            require_role(actor, LOT_OWNER_ROLES, "create a lot")
            work = self._batch_work(actor, batch_of(payload), author)
        elif payload.get("kind") == "event":
            event = event_of(payload, again)
            _may_log(actor, event.type)
            lot = payload.get("lot")
            if not isinstance(lot, str) or not LOT_PATTERN.fullmatch(lot):
                raise Invalid("bad_lot", "an event record names its lot: 1 to 20 characters from 0-9 and A-Z")
            work = self._event_work(actor, lot, event, author)
        else:
            raise Forbidden(
                "operator_only", "only batch and event records are sent here: the operator signs key entries"
            )
        return self._sequencer.run(actor, idempotency, work)

    # -- batches -----------------------------------------------------------------------------

    def _batch_work(self, actor: Actor, body: BatchIn, author: Author) -> Work:
        def work(session: Session, log: Appender) -> dict[str, Any]:
            payload = self._draft_batch(session, actor, body, author, log.now)
            appended = author.append(session, log, payload, None)
            lot = payload["lot"]
            session.add(
                Batch(
                    lot=lot,
                    owner_id=actor.id,
                    product=body.product,
                    variety=body.variety,
                    plot_id=payload["plot"]["id"] if payload["plot"] else None,
                    gtin=body.gtin,
                    created_index=appended.index,
                    last_seq=0,
                    last_leaf_hash=appended.leaf_hash,
                    created_at=log.now,
                )
            )
            session.flush()
            # A new lot, and those it was made from: what left them changed.
            touch(session, lot, *(item.lot for item in body.inputs))
            findings = batch_findings(session, lot, payload["inputs"])
            session.add_all(
                BatchInput(lot=lot, position=i, input_lot=item.lot, quantity=item.quantity, unit=item.unit)
                for i, item in enumerate(body.inputs)
            )
            store(session, findings, actor.id, log.now, lot=lot, index=appended.index)
            answer: dict[str, Any] = {"lot": lot, "index": appended.index, "leaf_hash": appended.leaf_hash.hex()}
            return {**answer, "warnings": [f.as_json() for f in findings]} if findings else answer

        return work

    def _draft_batch(
        self, session: Session, actor: Actor, body: BatchIn, author: Author, now: datetime
    ) -> dict[str, Any]:
        time = author.time(now)
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
        return batch_payload(
            time,
            author.new_lot(session),
            product=body.product,
            variety=body.variety,
            plot=plot_json(plot),
            grower_id=actor.id,
            inputs=[item.model_dump() for item in body.inputs],
            gtin=body.gtin,
        )

    # -- events ------------------------------------------------------------------------------

    def _event_work(self, actor: Actor, lot: str, body: EventIn, author: Author) -> Work:
        def work(session: Session, log: Appender) -> dict[str, Any]:
            draft = self._draft_event(session, actor, lot, body, author, log.now, log.finish)
            payload = draft.payload
            appended = author.append(session, log, payload, draft.tip)
            seq = payload["seq"]
            session.connection().execute(_MOVE_TIP, {"tip_lot": lot, "tip_seq": seq, "tip_leaf": appended.leaf_hash})
            touch(session, lot)
            if draft.cited:
                PhotoService.cite(session, draft.cited, lot, appended.index, actor.id)
            store(session, draft.findings, draft.tip.owner, log.now, lot=lot, index=appended.index)
            if draft.fact is not None:
                draft.fact.idx = appended.index
                session.add(draft.fact)
            if draft.corrected is not None:
                self._rejudge(session, log, lot, draft.corrected, payload["data"], appended.index)
            warnings = [f.as_json() for f in draft.findings]
            return {"index": appended.index, "seq": seq, "leaf_hash": appended.leaf_hash.hex(), "warnings": warnings}

        return work

    def _draft_event(
        self,
        session: Session,
        actor: Actor,
        lot: str,
        body: EventIn,
        author: Author,
        now: datetime,
        finish: Callable[[], None],
    ) -> _EventDraft:
        """The record and what it raises; `finish` writes the appends made earlier in this batch,
        for checks that read the lot's records."""
        time = author.time(now)
        occurred = datetime.fromisoformat(body.occurred_at)
        if occurred - now > MAX_FUTURE:
            raise Invalid(
                "future_time", f"occurred_at {body.occurred_at} is in the future; check the phone's date and time"
            )
        cited = list(dict.fromkeys(body.evidence))
        # The lot's tip is read under the lock: it is what this record links to.
        tip = session.connection().execute(_TIP, {"lot": lot}).first()
        if tip is None:
            raise unknown_lot(lot)
        if not _by_regulator(actor, body.type) and tip.owner_id != actor.id:
            raise Forbidden(
                "not_your_lot", f"lot {lot} belongs to another grower; you can only add records to your own lots"
            )
        seq = tip.last_seq + 1
        author.follows(lot, seq, tip.last_leaf_hash)
        signers = set(session.scalars(select(MemberKey.keyid).where(MemberKey.identity_id == actor.id)))
        data = body.data.model_dump(by_alias=True, exclude_none=True)
        corrected = None
        if body.type == "correction":
            corrected = self._correctable(session, finish, actor, lot, data, signers)
        elif body.type == "certificate":
            self._certifiable(session, finish, lot)
        if not body.again:
            refuse_repeat(session, lot, signers, body.type, occurred, data, cited, now - REPEAT_WITHIN)
        plot = (tip.plot_lat, tip.plot_lon) if tip.plot_lat is not None else None
        evidence, findings = self._photos.evidence(
            session, actor, lot=lot, grower_id=actor.id, occurred=occurred, plot=plot, cited=cited
        )
        fact = fact_of(lot, None, body.type, occurred, data)
        findings += event_findings(session, lot, body.type, occurred, fact, now, self._backdated_days)
        payload = event_payload(
            time,
            lot,
            seq=seq,
            prev=tip.last_leaf_hash,
            type=body.type,
            occurred_at=body.occurred_at,
            data=data,
            evidence=evidence,
        )
        chain = LotTip(owner=tip.owner_id, seq=tip.last_seq, leaf_hash=tip.last_leaf_hash)
        return _EventDraft(payload, chain, cited, findings, fact, corrected)

    def _correctable(
        self,
        session: Session,
        finish: Callable[[], None],
        actor: Actor,
        lot: str,
        data: dict[str, Any],
        signers: set[str],
    ) -> LotRecord:
        """The record a correction corrects, once it is sure the actor may, and the replacement holds."""
        finish()  # records appended earlier in this batch are read with the rest
        chain = records.of_lot(session, lot)
        target = next((r for r in chain if r.seq == data["corrects"]), None)
        if target is None or target.type in ("batch", "correction"):
            raise Invalid(
                "cannot_correct",
                f"lot {lot} has no record {data['corrects']} that can be corrected: give the seq of one of its events",
            )
        own = target.signer in signers
        if target.type in REGULATOR_EVENT_TYPES and not own:
            raise Forbidden("not_your_record", "only the regulator who signed an inspection or recall can correct it")
        if target.type not in REGULATOR_EVENT_TYPES and actor.role in REGULATORS:
            raise Forbidden("not_your_record", "a regulator corrects only its own records; the grower corrects theirs")
        replacement = data.get("replacement")
        if replacement is not None and "data" in replacement:
            try:
                model = EVENT_DATA[target.type].model_validate(replacement["data"])
            except ValidationError as exc:
                raise Invalid(
                    "bad_replacement", f"the replacement data is not a valid {target.type}'s data: {problems(exc)}"
                ) from None
            replacement["data"] = model.model_dump(by_alias=True, exclude_none=True)
        moved = replacement.get("occurred_at") if replacement is not None else None
        if moved is not None and datetime.fromisoformat(moved) - self._clock.now() > MAX_FUTURE:
            raise Invalid("future_time", "the replacement occurred_at is in the future; check the date")
        return target

    def _certifiable(self, session: Session, finish: Callable[[], None], lot: str) -> None:
        """Protocol §11: no certificate while the lot or a lot it came from shows a blocking concern."""
        finish()
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


def _by_regulator(actor: Actor, event_type: str) -> bool:
    """Whether a regulator signs this event: an inspection or recall, or a regulator's correction."""
    return event_type in REGULATOR_EVENT_TYPES or (event_type in EITHER_EVENT_TYPES and actor.role in REGULATORS)


def _may_log(actor: Actor, event_type: str) -> None:
    roles = REGULATORS if _by_regulator(actor, event_type) else LOT_OWNER_ROLES
    require_role(actor, roles, f"log a {event_type}")


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
