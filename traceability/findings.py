"""Findings: what looks wrong about a record or a photo. They never block a grower; they
are answered to whoever wrote the record, stored against the lot and log index, listed
for regulators (`/api/v1/audit/anomalies`) and summarised on the public page.

A finding's sentence is a template with its values apart, so that a page can say it in
the reader's language; the API answers it in English."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from .models import CredibilityWarning


@dataclass(frozen=True)
class Finding:
    code: str
    template: str  # English, with %(name)s places; marked for translation where it is written
    params: dict = field(default_factory=dict)
    sha256: str | None = None  # the photo that raised it, so a page can flag that photo

    @property
    def message(self) -> str:
        return self.template % self.params

    def as_json(self) -> dict:
        return {"code": self.code, "message": self.message}


def store(
    session: Session, findings: Iterable[Finding], grower_id: str, now: datetime,
    *, lot: str | None = None, index: int | None = None, sha256: str | None = None,
) -> None:
    session.add_all(
        CredibilityWarning(
            code=f.code, message=f.message, template=f.template, params=json.dumps(f.params, ensure_ascii=False),
            grower_id=grower_id, lot=lot, idx=index, sha256=f.sha256 or sha256, created_at=now,
        )
        for f in findings
    )
