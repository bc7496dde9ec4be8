"""The records an export covers, in log order, each with what it needs to be understood
outside Suyuan: its lot's product, GTIN, plot and grower, and who signed it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.payloads import LotRecord

from ..accounts import parties
from ..accounts.parties import Party
from ..ledger import records
from ..lots.lineage import ancestors
from ..storage.models import Batch, BatchInput, Identity, Plot


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
class Exported:
    """A record, with its lot and its signer."""

    record: LotRecord
    lot: LotInfo
    signer: Party | None


def exported(
    session: Session, *, lot: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Exported]:
    """Lot records received in [since, until), in log order. With `lot`, that lot's records and
    those of every lot it was made from (its whole backward trace)."""
    lots = _Cache(session)
    traced = (lot, *ancestors(session, lot)) if lot is not None else None
    for record in records.stream(session, lots=traced, since=since, until=until):
        yield Exported(record, lots.lot(record.lot), lots.signer(record.signer))


class _Cache:
    """Lots and parties met so far: an export names the same few again and again."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lots: dict[str, LotInfo] = {}
        self._signers: dict[str, Party | None] = {}

    def lot(self, code: str) -> LotInfo:
        if code not in self._lots:
            session = self._session
            batch = session.get_one(Batch, code)
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
                owner=parties.of(session.get_one(Identity, batch.owner_id)),
                plot=PlotInfo(plot.id, plot.name, plot.lat, plot.lon) if plot else None,
                inputs=tuple((i, q, u) for i, q, u, _ in inputs),
                created_index=batch.created_index,
                input_gtins={i: gtin for i, _, _, gtin in inputs},
            )
        return self._lots[code]

    def signer(self, keyid: str) -> Party | None:
        if keyid not in self._signers:
            self._signers[keyid] = parties.by_keyid(self._session, (keyid,)).get(keyid)
        return self._signers[keyid]
