"""What regulators read (protocol §5): findings (the protocol's anomalies), recalls, growers,
lots and a lot's whole trace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signing.lot_state import holding_corrections
from signing.payloads import LotRecord, utc_time

from ..accounts import parties
from ..ledger import records
from ..ledger.lot_index import LotIndex
from ..lots.lineage import ancestors, descendants
from ..storage.models import Batch, Identity, LogHead, StoredFinding
from .lots import lot_head


@dataclass(frozen=True)
class FindingFilter:
    lot: str | None = None
    grower: str | None = None
    code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int | None = None  # the last id of the previous page
    limit: int = 100


def findings(session: Session, wanted: FindingFilter, *, localizable: bool = False) -> dict[str, Any]:
    """Findings about lot records, oldest first, a page at a time. `localizable` adds each
    message's template and values, for a page that says it in its reader's language."""
    query = select(StoredFinding).where(StoredFinding.lot.is_not(None))
    for column, value in (
        (StoredFinding.lot, wanted.lot),
        (StoredFinding.grower_id, wanted.grower),
        (StoredFinding.code, wanted.code),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(StoredFinding.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(StoredFinding.created_at < wanted.until)
    if wanted.after is not None:
        query = query.where(StoredFinding.id > wanted.after)
    rows = session.execute(query.order_by(StoredFinding.id).limit(wanted.limit + 1)).scalars().all()
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
                "recorded_at": utc_time(row.created_at),
                # The log index of the correction after which the records no longer show it.
                "resolved_by": row.resolved_by,
                **({"template": row.template, "params": json.loads(row.params or "{}")} if localizable else {}),
            }
            for row in page
        ],
        "next": page[-1].id if len(rows) > wanted.limit else None,
    }


def recalls(session: Session) -> dict[str, Any]:
    """Every recall, newest first, with the lots it reaches (all made from the recalled lot),
    and, for one its regulator withdrew, the correction that withdrew it."""
    found = records.of_type(session, "recall")
    withdrawn = _withdrawn(session, found)
    regulators = parties.by_keyid(session, {record.signer for record in found})
    listed = []
    for record in found[::-1]:
        regulator = regulators[record.signer]
        correction = withdrawn.get(record.index)
        listed.append(
            {
                "lot": record.lot,
                "index": record.index,
                "reason": record.data["reason"],
                "occurred_at": record.record["payload"]["occurred_at"],
                "recorded_at": record.record["payload"]["time"],
                "regulator": {"id": regulator.id, "name": regulator.name, "agency": regulator.agency},
                "affected": list(descendants(session, record.lot)),
                "withdrawn": None
                if correction is None
                else {"index": correction.index, "reason": correction.data["reason"]},
            }
        )
    return {"recalls": listed}


def recalled_lots(session: Session) -> set[str]:
    """Lots recalled themselves (by a recall not withdrawn), or made from a recalled lot."""
    found = records.of_type(session, "recall")
    withdrawn = _withdrawn(session, found)
    sources = tuple(dict.fromkeys(record.lot for record in found if record.index not in withdrawn))
    return {*sources, *descendants(session, *sources)} if sources else set()


def _withdrawn(session: Session, found: list[LotRecord]) -> dict[int, LotRecord]:
    """Log index of each of these records that a correction withdrew -> that correction."""
    chains: dict[str, list[LotRecord]] = {}
    for record in (*found, *records.of_type(session, "correction", {r.lot for r in found})):
        chains.setdefault(record.lot, []).append(record)
    withdrawn = {}
    for chain in chains.values():
        by_seq = {record.seq: record for record in chain}
        for seq, correction in holding_corrections(sorted(chain, key=lambda r: r.seq)).items():
            if "replacement" not in correction.data:
                withdrawn[by_seq[seq].index] = correction
    return withdrawn


def growers(session: Session) -> list[dict[str, Any]]:
    lots = dict(session.execute(select(Batch.owner_id, func.count()).group_by(Batch.owner_id)).all())
    found = dict(
        session.execute(
            select(StoredFinding.grower_id, func.count())
            .where(StoredFinding.lot.is_not(None))
            .group_by(StoredFinding.grower_id)
        ).all()
    )
    rows = session.execute(
        select(Identity).where(Identity.role.in_(("grower", "cooperative"))).order_by(Identity.created_at, Identity.id)
    ).scalars()
    return [
        {
            "id": who.id,
            "name": who.name,
            "role": who.role,
            "region": who.region,
            "phone": who.phone,
            "registered_at": who.created_at,
            "revoked": who.revoked_index is not None,
            "lots": lots.get(who.id, 0),
            "findings": found.get(who.id, 0),
        }
        for who in rows
    ]


def lots(
    session: Session,
    index: LotIndex,
    *,
    grower: str | None = None,
    codes: tuple[str, ...] | None = None,
    limit: int = 500,
    recalled: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Newest first. What each lot is, who grew it and how many records it has are read from
    its signed entries (`index`); the table only chooses and orders them. `recalled`:
    `recalled_lots`, when the caller has it already (a flag for the list: the lot's own page
    reads its recall from the signed records)."""
    query = select(Batch)
    if grower is not None:
        query = query.where(Batch.owner_id == grower)
    if codes is not None:
        query = query.where(Batch.lot.in_(codes))
    rows = session.execute(query.order_by(Batch.created_index.desc()).limit(limit)).scalars().all()
    index.catch_up(session, session.execute(select(LogHead.size)).scalar_one())
    recalled = recalled_lots(session) if recalled is None else recalled
    found = dict(
        session.execute(
            select(StoredFinding.lot, func.count())
            .where(StoredFinding.lot.in_([batch.lot for batch in rows]))
            .group_by(StoredFinding.lot)
        ).all()
    )
    listed = []
    for batch in rows:
        made = index.made(batch.lot)
        if made is None:
            continue  # no signed record makes it: nothing to show
        grower_party = index.party(made.signer)
        listed.append(
            {
                "lot": batch.lot,
                "product": made.product,
                "variety": made.variety,
                "grower": grower_party.name if grower_party else "",
                "grower_id": grower_party.id if grower_party else None,
                "created_at": batch.created_at,
                "records": len(index.chain(batch.lot)),
                "findings": found.get(batch.lot, 0),
                "recalled": batch.lot in recalled,
            }
        )
    return listed


def lot_trace(session: Session, index: LotIndex, lot: str) -> dict[str, Any]:
    """One lot with its whole trace: back to the field lots, forward to every lot made from it.
    Its records, and what they show, are read verified (`reading.read_lot`)."""
    head = lot_head(session, lot)
    recalled = recalled_lots(session)
    backward, forward = ancestors(session, lot), descendants(session, lot)
    related = (*backward, *forward)
    summary = {row["lot"]: row for row in lots(session, index, codes=related, limit=len(related), recalled=recalled)}
    return {
        "lot": head,
        "recalled": lot in recalled,
        "findings": findings(session, FindingFilter(lot=lot, limit=1000), localizable=True)["anomalies"],
        "backward": [summary[code] for code in backward if code in summary],
        "forward": [summary[code] for code in forward if code in summary],
    }
