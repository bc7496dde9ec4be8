"""Where a lot came from and where it went: the closure of "made from" (batch inputs), at
any depth, in one recursive query (a recall must reach through any number of repackings)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..storage.models import Batch, BatchInput


def ancestors(session: Session, lot: str) -> tuple[str, ...]:
    """Every lot this one was made from, in log order. Fixed when the lot is created."""
    return _walk(session, (lot,), BatchInput.lot, BatchInput.input_lot)


def descendants(session: Session, *lots: str) -> tuple[str, ...]:
    """Every lot made from these, in log order."""
    return _walk(session, lots, BatchInput.input_lot, BatchInput.lot)


def _walk(
    session: Session, lots: tuple[str, ...], source: InstrumentedAttribute[str], target: InstrumentedAttribute[str]
) -> tuple[str, ...]:
    walk = select(target.label("lot")).where(source.in_(lots)).cte("walk", recursive=True)
    # UNION, not UNION ALL: each lot is visited once, however many paths lead to it, so lots
    # made from the two before them, over and over, cannot make the walk explode.
    walk = walk.union(select(target).join(walk, source == walk.c.lot))
    rows = session.execute(
        select(Batch.lot)
        .join(walk, Batch.lot == walk.c.lot)
        .where(Batch.lot.not_in(lots))
        .order_by(Batch.created_index)
    )
    return tuple(rows.scalars())
