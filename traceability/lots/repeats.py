"""The same record twice: a form sent again after the phone's Back button, or a second tap
on 保存 over a weak signal that retried without its Idempotency-Key.

A record identical to one the same member appended to the same lot minutes ago (same type,
time, data and photos) is not appended: the server answers 409 `repeated` and appends it
only when asked again with `again`. Two real harvests on one day differ in their time or
their quantity, so nothing a grower meant twice is refused.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..storage.models import LogEntry

REPEAT_WITHIN = timedelta(minutes=30)
# A record sent again after Back is one of the lot's last few: the check reads no more (by
# the lot's own index, newest first), so it costs the same however long the lot's chain.
LOOKBACK = 20


class Repeated(Conflict):
    """The record is the same as one appended minutes ago; `index` is that one's log index."""

    def __init__(self, index: int, seq: int) -> None:
        super().__init__(
            "repeated",
            f"this record is the same as record {seq} of the lot (log entry {index}), appended minutes ago; "
            'send it again with "again": true if it really happened twice',
        )
        self.index, self.seq = index, seq


def refuse_repeat(
    session: Session,
    lot: str,
    signers: Collection[str],
    event_type: str,
    occurred: datetime,
    data: Mapping[str, Any],
    evidence: Sequence[str],
    since: datetime,
) -> None:
    """`signers`: every key of the member, so that a record signed on their phone and again by
    the server on their behalf (a phone without WebCrypto's Ed25519) is one record sent twice."""
    latest = (
        select(LogEntry.idx, LogEntry.seq, LogEntry.entry, LogEntry.event_type, LogEntry.signer_keyid)
        .where(LogEntry.lot == lot, LogEntry.created_at >= since)
        .order_by(LogEntry.seq.desc())
        .limit(LOOKBACK)
    )
    for index, seq, entry, logged_type, logged_by in session.execute(latest):
        if logged_type != event_type or logged_by not in signers:
            continue
        payload = json.loads(entry)["payload"]
        if (
            datetime.fromisoformat(payload["occurred_at"]) == occurred
            and payload["data"] == data
            and [item["sha256"] for item in payload["evidence"]] == list(evidence)
        ):
            raise Repeated(index, seq or 0)
