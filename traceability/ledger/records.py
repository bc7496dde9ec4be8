"""Lot records read back from the log, each decoded once into a `signing.LotRecord`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import groupby
from operator import attrgetter

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from signing.payloads import LotRecord

from ..errors import NotFound
from ..storage.models import BatchInput, LogEntry

# Rows fetched from the database at a time by `stream` and `chains_with`: memory stays flat however long the range.
CHUNK = 500
_RECORDS = select(LogEntry.idx, LogEntry.entry, LogEntry.leaf_hash)


def of_lot(session: Session, lot: str) -> list[LotRecord]:
    """A lot's records, in chain order."""
    return _decoded(session.execute(_RECORDS.where(LogEntry.lot == lot).order_by(LogEntry.seq)))


def made_from(session: Session, lot: str) -> list[LotRecord]:
    """The batch records of the lots made from `lot`, in log order."""
    made = select(BatchInput.lot).where(BatchInput.input_lot == lot)
    return _decoded(session.execute(_RECORDS.where(LogEntry.lot.in_(made), LogEntry.seq == 0).order_by(LogEntry.idx)))


def of_type(session: Session, event_type: str, lots: Iterable[str] | None = None) -> list[LotRecord]:
    """Every record of one event type (of these lots), in log order."""
    query = _RECORDS.where(LogEntry.event_type == event_type)
    if lots is not None:
        query = query.where(LogEntry.lot.in_(list(lots)))
    return _decoded(session.execute(query.order_by(LogEntry.idx)))


def chains_with(session: Session, event_type: str, lots: Iterable[str] | None = None) -> Iterator[list[LotRecord]]:
    """The whole chains, one at a time and each in chain order, of the lots (of these lots) that
    hold a record of one event type."""
    holding = select(LogEntry.lot).where(LogEntry.event_type == event_type)
    if lots is not None:
        holding = holding.where(LogEntry.lot.in_(list(lots)))
    query = _RECORDS.where(LogEntry.lot.in_(holding)).order_by(LogEntry.lot, LogEntry.seq)
    rows = session.execute(query.execution_options(yield_per=CHUNK))
    decoded = (LotRecord.from_entry(index, bytes(entry), bytes(leaf)) for index, entry, leaf in rows)
    for _, chain in groupby(decoded, key=attrgetter("lot")):
        yield list(chain)


def stream(
    session: Session, *, lots: Iterable[str] | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[LotRecord]:
    """Lot records received in [since, until) (of these lots), in log order, fetched a chunk at a time."""
    conditions: list[ColumnElement[bool]] = [LogEntry.lot.is_not(None)]
    if lots is not None:
        conditions.append(LogEntry.lot.in_(list(lots)))
    if since is not None:
        conditions.append(LogEntry.created_at >= since)
    if until is not None:
        conditions.append(LogEntry.created_at < until)
    rows = session.execute(_RECORDS.where(*conditions).order_by(LogEntry.idx).execution_options(yield_per=CHUNK))
    for index, entry, leaf in rows:
        yield LotRecord.from_entry(index, bytes(entry), bytes(leaf))


def _decoded(rows: Iterable[tuple[int, bytes, bytes]]) -> list[LotRecord]:
    return [LotRecord.from_entry(index, bytes(entry), bytes(leaf)) for index, entry, leaf in rows]


def unknown_lot(lot: str) -> NotFound:
    return NotFound("unknown_lot", f"there is no lot {lot}; check the code on the label")
