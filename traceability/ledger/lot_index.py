"""Which log entries belong to each lot, read from the signed entries themselves.

The `lot`, `seq` and `signer_keyid` columns of `log_entries` are there for queries that only
list or count; no signature covers them, so anyone able to edit the database could move a
recall to another lot by changing one of them. What a page, a bundle or a certificate
decision reads is chosen here instead, from the payloads: a lot's chain (every record whose
signed `lot` is the lot), the lots it was made from (its batch record's `inputs`), the batch
records of lots made from it, and the `key` entries that name who signed.

Each process keeps the index in memory and reads only the entries appended since it last
looked, so a page costs one small query more than before, on any host.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.payloads import LotRecord, display_name

from ..storage.models import LogEntry
from .records import unknown_lot

CHUNK = 2000


@dataclass(frozen=True)
class Party:
    """Who a key belongs to, as its signed `key` entry says."""

    keyid: str
    id: str
    role: str
    name: str
    region: str | None
    agency: str | None
    registered_by: str | None
    index: int  # of its key entry

    @property
    def display(self) -> str:
        """The name a page shows: a regulator with the agency they act for."""
        return display_name(self.name, self.agency)


@dataclass(frozen=True)
class Made:
    """What a lot's signed batch record says it is, and who signed it."""

    product: str
    variety: str | None
    signer: str


class LotIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.size = 0  # entries read so far
        self._chains: dict[str, list[int]] = defaultdict(list)
        self._made_from: dict[str, tuple[str, ...]] = {}
        self._made: dict[str, Made] = {}
        self._taken_by: dict[str, list[int]] = defaultdict(list)  # lot -> batch entries of lots made from it
        self._parties: dict[str, Party] = {}
        self._keyids: dict[str, str] = {}  # subject id -> keyid
        self._revoked: dict[str, int] = {}  # keyid -> index of its key_revoke entry

    def catch_up(self, session: Session, size: int) -> None:
        """Read the entries below `size` not read yet (the log head the caller's session sees)."""
        if size <= self.size:
            return
        with self._lock:
            rows = session.execute(
                select(LogEntry.idx, LogEntry.entry)
                .where(LogEntry.idx >= self.size, LogEntry.idx < size)
                .order_by(LogEntry.idx)
                .execution_options(yield_per=CHUNK)
            )
            for index, entry in rows:
                self._read(index, _raw(entry))
            self.size = max(self.size, size)

    def _read(self, index: int, entry: bytes) -> None:
        try:
            record = json.loads(entry)
            payload = record["payload"]
            kind = payload["kind"]
            if kind in ("batch", "event"):
                self._chains[payload["lot"]].append(index)
            if kind == "batch":
                signer = record["signatures"][0]["keyid"]
                self._made[payload["lot"]] = Made(str(payload["product"]), payload.get("variety"), signer)
                made_from = tuple(item["lot"] for item in payload["inputs"])
                self._made_from[payload["lot"]] = made_from
                for source in dict.fromkeys(made_from):
                    self._taken_by[source].append(index)
            elif kind == "key":
                subject = payload["subject"]
                party = Party(
                    payload["keyid"],
                    subject["id"],
                    payload["role"],
                    str(subject.get("name", "")),
                    subject.get("region"),
                    subject.get("agency"),
                    subject.get("registered_by"),
                    index,
                )
                self._parties[party.keyid] = party
                self._keyids[party.id] = party.keyid
            elif kind == "key_revoke":
                self._revoked[payload["keyid"]] = index
        except (ValueError, KeyError, TypeError):
            # An entry that is not a record cannot belong to a lot; verifying whatever
            # bundle should have held it fails at the gap it leaves in a chain.
            pass

    def exists(self, lot: str) -> bool:
        return lot in self._chains

    def chain(self, lot: str) -> list[int]:
        """The lot's entries in log order (its chain order)."""
        return list(self._chains.get(lot, ()))

    def made(self, lot: str) -> Made | None:
        return self._made.get(lot)

    def made_from(self, lot: str) -> tuple[str, ...]:
        return self._made_from.get(lot, ())

    def ancestors(self, lot: str) -> tuple[str, ...]:
        """Every lot this one was made from, at any depth, each once."""
        seen: dict[str, None] = {}
        todo = list(self.made_from(lot))
        while todo:
            source = todo.pop(0)
            if source not in seen and source != lot:
                seen[source] = None
                todo += self.made_from(source)
        return tuple(seen)

    def taken_by(self, lot: str) -> list[int]:
        """The batch entries of lots made from this one."""
        return list(self._taken_by.get(lot, ()))

    def party(self, keyid: str) -> Party | None:
        return self._parties.get(keyid)

    def party_of(self, subject_id: str) -> Party | None:
        keyid = self._keyids.get(subject_id)
        return self._parties.get(keyid) if keyid else None

    def key_entries(self, keyids: Iterable[str]) -> set[int]:
        """The key entries (and revocations) of these keys, which a verifier needs to check their signatures."""
        found = set()
        for keyid in keyids:
            party = self._parties.get(keyid)
            if party is not None:
                found.add(party.index)
            if keyid in self._revoked:
                found.add(self._revoked[keyid])
        return found


def entries(session: Session, indexes: Iterable[int]) -> dict[int, bytes]:
    wanted = sorted(set(indexes))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(LogEntry.idx, LogEntry.entry).where(LogEntry.idx.in_(wanted[start : start + CHUNK]))
        )
        found.update((index, _raw(entry)) for index, entry in rows)
    return found


def _raw(entry: bytes | str) -> bytes:
    """An entry as stored; SQLite hands back text if someone wrote text over it, and that
    must fail verification, not the page."""
    return entry.encode() if isinstance(entry, str) else bytes(entry)


def lot_records(session: Session, index: LotIndex, lot: str) -> list[LotRecord]:
    """A lot's records as the signed entries say, in chain order. The caller has caught the index up."""
    chain = index.chain(lot)
    if not chain:
        raise unknown_lot(lot)
    found = entries(session, chain)
    return [LotRecord.from_entry(i, found[i]) for i in chain if i in found]
