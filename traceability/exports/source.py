"""The records an export covers, in log order, each with what it needs to be understood
outside Suyuan: its lot's product, GTIN, plot and grower, who signed it, and the correction
that holds for it (protocol §11).

A correction is not a business event: it travels with the record it corrects. It comes
later in the log than that record, so the corrections of the exported lots are read before
the first record goes out; an export reads the corrected view as of the moment it is made.
A time window that holds a correction but not the record it corrects (logged before the
window) brings that record in where the correction was logged, once, so that no window
hides a correction it received."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.lot_state import apply_correction, holding_corrections
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
    """A record as logged, with its lot, its signer and the correction that holds for it."""

    record: LotRecord
    lot: LotInfo
    signer: Party | None
    correction: LotRecord | None = None

    @property
    def effective(self) -> LotRecord | None:
        """The record as its correction leaves it: None when the correction voids it."""
        return self.record if self.correction is None else apply_correction(self.record, self.correction)


def exported(
    session: Session, *, lot: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Exported]:
    """Lot records received in [since, until), in log order, corrections aside (see the module's
    description). With `lot`, that lot's records and those of every lot it was made from (its
    whole backward trace)."""
    lots = _Cache(session)
    traced = (lot, *ancestors(session, lot)) if lot is not None else None
    corrections = _Corrections(session, traced)
    for record in records.stream(session, lots=traced, since=since, until=until):
        if record.type == "correction":
            missed = corrections.unexported(record)
            if missed is None:
                continue
            record = missed
        yield Exported(record, lots.lot(record.lot), lots.signer(record.signer), corrections.of(record))


class _Corrections:
    """The corrected records of the exported lots and the correction that holds for each, and
    which of them the export has given so far."""

    def __init__(self, session: Session, lots: tuple[str, ...] | None) -> None:
        self._found: dict[tuple[str, int], tuple[LotRecord, LotRecord]] = {}
        # Chain by chain, keeping only the corrected records: memory stays with the corrections.
        for chain in records.chains_with(session, "correction", lots):
            by_seq = {record.seq: record for record in chain}
            for seq, correction in holding_corrections(chain).items():
                self._found[chain[0].lot, seq] = (by_seq[seq], correction)
        self._given: set[tuple[str, int]] = set()

    def of(self, record: LotRecord) -> LotRecord | None:
        key = (record.lot, record.seq)
        if key not in self._found:
            return None
        self._given.add(key)
        return self._found[key][1]

    def unexported(self, correction: LotRecord) -> LotRecord | None:
        """The record `correction` corrects, if the export has not given it (it was logged
        before the window); None if it has, or if `correction` corrects nothing it may."""
        key = (correction.lot, correction.data.get("corrects"))
        if key in self._given or key not in self._found:
            return None
        return self._found[key][0]


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
