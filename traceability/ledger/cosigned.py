"""What the witnesses gave the log (protocol §8), as every host on the database reads it: the
newest checkpoint cosigned by the quorum, and each witness's last answer.

Small writes, each its own short transaction, never under the append lock: the cosigned
checkpoint moves only forward by a compare-and-set, so hosts that submit at once cannot
put an older one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..storage.models import CosignedHead, WitnessStatus

_ROW = 1


@dataclass(frozen=True)
class Cosigned:
    size: int
    root_hash: bytes
    note: str
    stored_at: datetime | None


def newest(session: Session) -> Cosigned | None:
    """The newest checkpoint that reached the quorum, or None before the first."""
    row = session.execute(
        select(CosignedHead.size, CosignedHead.root_hash, CosignedHead.note, CosignedHead.stored_at).where(
            CosignedHead.id == _ROW
        )
    ).one_or_none()
    if row is None or row.size < 0:
        return None
    return Cosigned(row.size, bytes(row.root_hash), row.note, row.stored_at)


def store(session: Session, size: int, root_hash: bytes, note: str, cosignatures: int, now: datetime) -> bool:
    """Keep `note` as the newest cosigned checkpoint unless a larger one is kept, or the same
    one with as many cosignatures (compare-and-set: more witnesses' lines let verifiers who
    trust other subsets of them check it too); commits. Answers whether it was kept."""
    newer = CosignedHead.size < size
    fuller = (CosignedHead.size == size) & (CosignedHead.root_hash == root_hash)
    fuller &= CosignedHead.cosignatures < cosignatures
    moved = session.execute(
        update(CosignedHead)
        .where(CosignedHead.id == _ROW, or_(newer, fuller))
        .values(size=size, root_hash=root_hash, note=note, cosignatures=cosignatures, stored_at=now)
    )
    session.commit()
    return bool(moved.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Heard:
    """A witness's last answer as the log recorded it."""

    vkey: str
    cosigned_size: int | None
    cosigned_at: datetime | None
    error: str | None
    error_at: datetime | None

    @property
    def failing(self) -> bool:
        """Whether its last answer was an error (not followed by a cosignature)."""
        return self.error_at is not None and (self.cosigned_at is None or self.error_at >= self.cosigned_at)


def heard(session: Session, vkeys: list[str]) -> dict[str, Heard]:
    rows = session.execute(select(WitnessStatus).where(WitnessStatus.vkey.in_(vkeys))).scalars()
    return {r.vkey: Heard(r.vkey, r.cosigned_size, r.cosigned_at, r.error, r.error_at) for r in rows}


def ensure_witnesses(session: Session, vkeys: list[str]) -> None:
    """A status row for each witness, so that recording is always an UPDATE; commits."""
    for vkey in vkeys:
        if session.get(WitnessStatus, vkey) is None:
            session.add(WitnessStatus(vkey=vkey))
            try:
                session.commit()
            except IntegrityError:  # another host made it at the same moment
                session.rollback()


def record_cosigned(session: Session, vkey: str, size: int, now: datetime) -> None:
    """The witness cosigned `size`; a host that lags never moves the size back. Commits."""
    session.execute(
        update(WitnessStatus)
        .where(
            WitnessStatus.vkey == vkey, or_(WitnessStatus.cosigned_size.is_(None), WitnessStatus.cosigned_size <= size)
        )
        .values(cosigned_size=size, cosigned_at=now)
    )
    session.commit()


def record_error(session: Session, vkey: str, error: str, now: datetime) -> None:
    session.execute(update(WitnessStatus).where(WitnessStatus.vkey == vkey).values(error=error[:2000], error_at=now))
    session.commit()
