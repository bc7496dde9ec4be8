"""What regulators read (protocol §5): anomalies and recalls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .clock import rfc3339_utc
from .batches import read_batch, what_happened
from .lineage import ancestors, descendants
from .models import Batch, CredibilityWarning, Identity, LogEntry


@dataclass(frozen=True)
class AnomalyFilter:
    lot: str | None = None
    grower: str | None = None
    code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int | None = None  # the last id of the previous page
    limit: int = 100


def anomalies(session: Session, wanted: AnomalyFilter, *, localizable: bool = False) -> dict:
    """Findings about lot records, oldest first, a page at a time. `localizable` adds each
    message's template and values, for a page that says it in its reader's language."""
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
                **({"template": row.template, "params": json.loads(row.params or "{}")} if localizable else {}),
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


def recalled_lots(session: Session) -> set[str]:
    """Lots recalled themselves, or made from a recalled lot."""
    sources = tuple(session.execute(select(LogEntry.lot).where(LogEntry.event_type == "recall").distinct()).scalars())
    return {*sources, *descendants(session, *sources)} if sources else set()


def growers(session: Session) -> list[dict]:
    lots = dict(session.execute(select(Batch.owner_id, func.count()).group_by(Batch.owner_id)).all())
    found = dict(
        session.execute(
            select(CredibilityWarning.grower_id, func.count()).where(CredibilityWarning.lot.is_not(None)).group_by(CredibilityWarning.grower_id)
        ).all()
    )
    rows = session.execute(
        select(Identity).where(Identity.role.in_(("grower", "cooperative"))).order_by(Identity.created_at, Identity.id)
    ).scalars()
    return [
        {
            "id": who.id, "name": who.name, "role": who.role, "region": who.region, "phone": who.phone,
            "registered_at": who.created_at, "revoked": who.revoked_index is not None,
            "lots": lots.get(who.id, 0), "anomalies": found.get(who.id, 0),
        }
        for who in rows
    ]


def lots(
    session: Session, *, grower: str | None = None, codes: tuple[str, ...] | None = None, limit: int = 500,
    recalled: set[str] | None = None,
) -> list[dict]:
    """`recalled`: `recalled_lots`, when the caller has it already."""
    query = select(Batch, Identity.name).join(Identity, Identity.id == Batch.owner_id)
    if grower is not None:
        query = query.where(Batch.owner_id == grower)
    if codes is not None:
        query = query.where(Batch.lot.in_(codes))
    rows = session.execute(query.order_by(Batch.created_index.desc()).limit(limit)).all()
    recalled = recalled_lots(session) if recalled is None else recalled
    found = dict(
        session.execute(
            select(CredibilityWarning.lot, func.count())
            .where(CredibilityWarning.lot.in_([batch.lot for batch, _ in rows]))
            .group_by(CredibilityWarning.lot)
        ).all()
    )
    return [
        {
            "lot": batch.lot, "product": batch.product, "variety": batch.variety, "grower": name, "grower_id": batch.owner_id,
            "created_at": batch.created_at, "records": batch.last_seq + 1, "anomalies": found.get(batch.lot, 0),
            "recalled": batch.lot in recalled,
        }
        for batch, name in rows
    ]


def lot_trace(session: Session, lot: str) -> dict:
    """One lot with its whole trace: back to the field lots, forward to every lot made from it."""
    batch = read_batch(session, lot)
    recalled = recalled_lots(session)
    backward, forward = ancestors(session, lot), descendants(session, lot)
    related = (*backward, *forward)
    summary = {row["lot"]: row for row in lots(session, codes=related, limit=len(related), recalled=recalled)}
    return {
        "lot": batch,
        "recalled": lot in recalled,
        "records": lot_records(session, batch),
        "anomalies": anomalies(session, AnomalyFilter(lot=lot, limit=1000), localizable=True)["anomalies"],
        "backward": [summary[code] for code in backward],
        "forward": [summary[code] for code in forward],
    }


def lot_records(session: Session, batch: dict) -> list[dict]:
    """A lot's records (`read_batch`), each as what happened when, with whom it was signed by."""
    keyids = {r["record"]["signatures"][0]["keyid"] for r in batch["records"]}
    names = dict(session.execute(select(Identity.keyid, Identity.name).where(Identity.keyid.in_(keyids))).all())
    records = []
    for r in batch["records"]:
        kind, occurred, recorded, data = what_happened(r["record"]["payload"])
        records.append({
            "index": r["index"], "seq": r["seq"], "type": kind, "occurred_at": occurred, "recorded_at": recorded, "data": data,
            "signer": names.get(r["record"]["signatures"][0]["keyid"], "?"),
        })
    return records
