"""What regulators read (protocol §5): anomalies and recalls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import rfc3339_utc
from .lineage import descendants
from .models import CredibilityWarning, Identity, LogEntry


@dataclass(frozen=True)
class AnomalyFilter:
    lot: str | None = None
    grower: str | None = None
    code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int | None = None  # the last id of the previous page
    limit: int = 100


def anomalies(session: Session, wanted: AnomalyFilter) -> dict:
    """Findings about lot records, oldest first, a page at a time."""
    query = select(CredibilityWarning).where(CredibilityWarning.lot.is_not(None))
    for column, value in (
        (CredibilityWarning.lot, wanted.lot),
        (CredibilityWarning.grower_id, wanted.grower),
        (CredibilityWarning.code, wanted.code),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(CredibilityWarning.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(CredibilityWarning.created_at < wanted.until)
    if wanted.after is not None:
        query = query.where(CredibilityWarning.id > wanted.after)
    rows = session.execute(query.order_by(CredibilityWarning.id).limit(wanted.limit + 1)).scalars().all()
    page = rows[: wanted.limit]
    return {
        "anomalies": [
            {
                "id": row.id,
                "code": row.code,
                "lot": row.lot,
                "index": row.idx,
                "grower": row.grower_id,
                "message": row.message,
                "photo": row.sha256,
                "recorded_at": rfc3339_utc(row.created_at),
            }
            for row in page
        ],
        "next": page[-1].id if len(rows) > wanted.limit else None,
    }


def recalls(session: Session) -> dict:
    """Every recall, newest first, with the lots it reaches: all made from the recalled lot."""
    rows = session.execute(
        select(LogEntry.idx, LogEntry.lot, LogEntry.entry, Identity.id, Identity.name, Identity.agency)
        .join(Identity, Identity.keyid == LogEntry.signer_keyid)
        .where(LogEntry.event_type == "recall")
        .order_by(LogEntry.idx.desc())
    )
    listed = []
    for index, lot, entry, regulator_id, name, agency in rows:
        payload = json.loads(entry)["payload"]
        listed.append({
            "lot": lot,
            "index": index,
            "reason": payload["data"]["reason"],
            "occurred_at": payload["occurred_at"],
            "recorded_at": payload["time"],
            "regulator": {"id": regulator_id, "name": name, "agency": agency},
            "affected": list(descendants(session, lot)),
        })
    return {"recalls": listed}
