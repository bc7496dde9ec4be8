"""Where the service reads the time, so tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (or by `step` on every reading)."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        self._now = start.astimezone(UTC)
        self._step = step

    def now(self) -> datetime:
        current = self._now
        self._now += self._step
        return current

    def advance(self, delta: timedelta) -> None:
        self._now += delta
