"""The records an export covers, decoded, in log order, with what they need to be understood
outside Suyuan: the lot's product and GTIN, its plot, its grower, the signer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..batches import what_happened
from ..lineage import ancestors
from ..models import Batch, BatchInput, Identity, LogEntry, Plot

# Rows fetched from the database at a time: memory stays flat however long the range.
CHUNK = 500


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: str
    region: str | None = None
    agency: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class PlotInfo:
    id: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class LotInfo:
    lot: str
    product: str
    variety: str | None
    gtin: str | None
    owner: Party
    plot: PlotInfo | None
    inputs: tuple[tuple[str, float, str], ...]  # (input lot, quantity, unit)
    created_index: int
    input_gtins: dict[str, str | None] = field(default_factory=dict)  # so that inputs are named as GS1 names them


@dataclass(frozen=True)
class ExportRecord:
    index: int  # log index
    leaf_hash: str  # hex
    lot: LotInfo
    seq: int
    type: str  # "batch" for the record that created the lot, else the event type
    recorded_at: datetime  # when the log received it (UTC)
    occurred_at: datetime  # what the signer claims, with their offset (recorded_at for a batch record)
    data: dict = field(default_factory=dict)
    evidence: tuple[str, ...] = ()  # photo SHA-256s
    signer: Party | None = None


def export_records(
    session: Session, *, lot: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[ExportRecord]:
    """Lot records received in [since, until), in log order. With `lot`, that lot's records and
    those of every lot it was made from (its whole backward trace)."""
    query = select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.entry, LogEntry.signer_keyid).where(LogEntry.lot.is_not(None))
    if lot is not None:
        query = query.where(LogEntry.lot.in_([lot, *ancestors(session, lot)]))
    if since is not None:
        query = query.where(LogEntry.created_at >= since)
    if until is not None:
        query = query.where(LogEntry.created_at < until)
    lots = _Cache(session)
    rows = session.execute(query.order_by(LogEntry.idx).execution_options(yield_per=CHUNK))
    for index, leaf, entry, keyid in rows:
        payload = json.loads(entry)["payload"]
        kind, occurred, recorded, data = what_happened(payload)
        yield ExportRecord(
            index=index,
            leaf_hash=bytes(leaf).hex(),
            lot=lots.lot(payload["lot"]),
            seq=payload["seq"],
            type=kind,
            recorded_at=recorded,
            occurred_at=occurred,
            data=data,
            evidence=tuple(e["sha256"] for e in payload.get("evidence", ())),
            signer=lots.signer(keyid),
        )


class _Cache:
    """Lots and parties met so far: an export names the same few again and again."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lots: dict[str, LotInfo] = {}
        self._parties: dict[str, Party] = {}
        self._signers: dict[str, Party | None] = {}

    def lot(self, code: str) -> LotInfo:
        if code not in self._lots:
            session = self._session
            batch = session.get(Batch, code)
            plot = session.get(Plot, batch.plot_id) if batch.plot_id else None
            inputs = session.execute(
                select(BatchInput.input_lot, BatchInput.quantity, BatchInput.unit, Batch.gtin)
                .join(Batch, Batch.lot == BatchInput.input_lot)
                .where(BatchInput.lot == code)
                .order_by(BatchInput.position)
            ).all()
            self._lots[code] = LotInfo(
                lot=code,
                product=batch.product,
                variety=batch.variety,
                gtin=batch.gtin,
                owner=self._party(batch.owner_id),
                plot=PlotInfo(plot.id, plot.name, plot.lat, plot.lon) if plot else None,
                inputs=tuple((i, q, u) for i, q, u, _ in inputs),
                created_index=batch.created_index,
                input_gtins={i: gtin for i, _, _, gtin in inputs},
            )
        return self._lots[code]

    def signer(self, keyid: str) -> Party | None:
        if keyid not in self._signers:
            identity_id = self._session.execute(select(Identity.id).where(Identity.keyid == keyid)).scalar()
            self._signers[keyid] = self._party(identity_id) if identity_id else None
        return self._signers[keyid]

    def _party(self, identity_id: str) -> Party:
        if identity_id not in self._parties:
            who = self._session.get(Identity, identity_id)
            self._parties[identity_id] = Party(who.id, who.name, who.role, who.region, who.agency, who.phone)
        return self._parties[identity_id]
