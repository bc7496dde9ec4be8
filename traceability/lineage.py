"""Where a lot came from and where it went: the closure of "made from" (batch inputs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import BatchInput

# Deeper chains of "made from" are not real supply chains; the walk stops there.
MAX_DEPTH = 32


def ancestors(session: Session, lot: str) -> tuple[str, ...]:
    """Every lot this one was made from, at any depth, nearest first. Fixed when the lot is created."""
    return _walk(session, lot, BatchInput.lot, BatchInput.input_lot)


def descendants(session: Session, lot: str) -> tuple[str, ...]:
    """Every lot made from this one, at any depth, nearest first."""
    return _walk(session, lot, BatchInput.input_lot, BatchInput.lot)


def _walk(session: Session, lot: str, source, target) -> tuple[str, ...]:
    found: list[str] = []
    frontier = [lot]
    for _ in range(MAX_DEPTH):
        step = session.execute(select(target).where(source.in_(frontier)).distinct()).scalars()
        frontier = [other for other in step if other not in found and other != lot]
        if not frontier:
            break
        found += frontier
    return tuple(found)
