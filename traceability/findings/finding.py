"""A finding: what looks wrong about a record or a photo. Findings never block a grower: they
are answered to whoever wrote the record (the protocol's `warnings`), stored against the lot
and log index, listed for regulators (the protocol's `anomalies`) and summarised on the
public page.

A finding's sentence is a template with its values apart, so that a page can say it in the
reader's language; the API answers it in English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.lot_state import LotState

from ..storage.models import StoredFinding

# What a photo may show (protocol §4), found when it is uploaded or cited.
PHOTO_CODES = ("exif_missing", "exif_time_mismatch", "gps_far_from_plot", "photo_reused", "photo_near_duplicate")
# What a lot's records may show (protocol §5), found when a record is appended.
RECORD_CODES = ("phi_violation", "harvest_before_planting", "backdated", "quantity_exceeds_harvest")
CODES = PHOTO_CODES + RECORD_CODES
# Record findings that the lot's records, read again after a correction, show or not.
JUDGED_AGAIN = frozenset({"phi_violation", "harvest_before_planting", "quantity_exceeds_harvest"})


@dataclass(frozen=True)
class Finding:
    code: str
    template: str  # English, with %(name)s places; marked for translation where it is written
    params: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None  # the photo that raised it, so a page can flag that photo

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    @property
    def message(self) -> str:
        return self.template % self.params

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def resolve(session: Session, lot: str, state: LotState, voided: int | None, correction: int) -> None:
    """Mark the lot's findings that its records, as corrected, no longer show as resolved by
    `correction` (the log index of the correction): those of the record it voided, and the
    record findings whose concern is gone."""
    shown = {
        (concern.code, record.index)
        for concern in state.concerns
        if concern.lot == lot
        for record in state.records
        if record.seq in concern.seqs
    }
    for finding in session.execute(
        select(StoredFinding).where(StoredFinding.lot == lot, StoredFinding.resolved_by.is_(None))
    ).scalars():
        if finding.idx == voided or (finding.code in JUDGED_AGAIN and (finding.code, finding.idx) not in shown):
            finding.resolved_by = correction


def store(
    session: Session,
    findings: Iterable[Finding],
    grower_id: str,
    now: datetime,
    *,
    lot: str | None = None,
    index: int | None = None,
    sha256: str | None = None,
) -> None:
    session.add_all(
        StoredFinding(
            code=f.code,
            message=f.message,
            template=f.template,
            params=json.dumps(f.params, ensure_ascii=False),
            grower_id=grower_id,
            lot=lot,
            idx=index,
            sha256=f.sha256 or sha256,
            created_at=now,
        )
        for f in findings
    )
