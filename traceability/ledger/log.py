"""The transparency log (protocol §2): serialised appends, stored subtree hashes, proofs.

Every append takes one lock (an UPDATE of the single `log_head` row) before it reads
anything it depends on, so indexes are dense and lot chains never fork on SQLite and on
PostgreSQL alike, across threads, processes and hosts. Hashes of all perfect subtrees
are stored, so a proof reads O(log n) rows in one query and never rehashes leaves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.cosignature import WitnessPolicy
from signing.keys import keyid, raw_public_key
from signing.merkle import (
    EMPTY_ROOT,
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
)
from signing.note import Signer
from signing.records import MAX_ENTRY_BYTES, sign_entry
from signing.tiles import TILE_HEIGHT, Tile, bundle

from ..errors import Invalid, TooLarge
from ..storage.models import LogEntry, LogHead, LogNode
from . import cosigned

HEAD_ID = 1
_LEVEL_SHIFT = 56
# Positions are signed 64-bit: level << 56 stays below 2**63 for levels up to 126, far
# beyond any tree (a tree of 2**62 entries has subtrees of height 62 at most).
_MAX_STORED_LEVEL = 63


def node_pos(level: int, index: int) -> int:
    return (level << _LEVEL_SHIFT) | index


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes


_LOCK_HEAD = (
    update(LogHead).where(LogHead.id == HEAD_ID).values(size=LogHead.size).returning(LogHead.size, LogHead.frontier)
)


_MOVE_HEAD = (
    update(LogHead)
    .where(LogHead.id == HEAD_ID)
    .values(
        size=bindparam("new_size"),
        root_hash=bindparam("new_root"),
        frontier=bindparam("new_frontier"),
        updated_at=bindparam("now"),
    )
)


class Appender:
    """Appends made under one hold of the lock; `finish` writes them before the commit.

    Entries and subtree hashes are written together, so a batch of appends costs one
    insert of each kind and one update of the head.
    """

    def __init__(self, session: Session, size: int, frontier: list[bytes], now: datetime) -> None:
        self._session = session
        self._accumulator = RootAccumulator.from_state(size, frontier)
        self._entries: list[dict[str, Any]] = []
        self._nodes: list[dict[str, Any]] = []
        self.now = now

    def append(self, payload: dict[str, Any], key: Ed25519PrivateKey) -> Appended:
        """Sign `payload` with `key` and add the record at the next index.

        Refuses, before anything is added, a record too large for the log.
        """
        try:
            entry = sign_entry(payload, key)
        except ValueError as exc:
            raise TooLarge("record_too_large", f"{exc}: shorten the notes or split the record in two") from None
        return self.add(entry, payload, keyid(key))

    def add(self, entry: bytes, payload: dict[str, Any], signer: str) -> Appended:
        """Add a record signed elsewhere (protocol §9), byte for byte, at the next index:
        `entry` is its canonical JSON, `payload` the payload it holds, `signer` its author's keyid.

        The caller has checked the record; this refuses only one too large for the log.
        """
        if len(entry) > MAX_ENTRY_BYTES:
            raise TooLarge(
                "record_too_large", f"the record is {len(entry)} bytes, over the log's {MAX_ENTRY_BYTES}-byte limit"
            )
        index = self.size
        leaf = leaf_hash(entry)
        self._entries.append(
            {
                "idx": index,
                "entry": entry,
                "leaf_hash": leaf,
                "kind": payload["kind"],
                # Indexed copies of the payload's own fields: a lot's records, recalls, a time range.
                "lot": payload.get("lot"),
                "seq": payload.get("seq"),
                "event_type": payload.get("type"),
                "signer_keyid": signer,
                "created_at": self.now,
            }
        )
        self._nodes.extend({"pos": node_pos(level, i), "hash": h} for level, i, h in self._accumulator.append(leaf))
        return Appended(index=index, leaf_hash=leaf)

    @property
    def size(self) -> int:
        """The index the next append gets."""
        return self._accumulator.size

    def finish(self) -> None:
        if not self._entries:
            return
        connection = self._session.connection()
        connection.execute(insert(LogEntry), self._entries)
        connection.execute(insert(LogNode), self._nodes)
        connection.execute(
            _MOVE_HEAD,
            {
                "new_size": self._accumulator.size,
                "new_root": self._accumulator.root(),
                "new_frontier": b"".join(self._accumulator.state()[1]),
                "now": self.now,
            },
        )
        self._entries, self._nodes = [], []


class LogConfigError(RuntimeError):
    """The database holds a log that does not belong to this key or origin."""


class TransparencyLog:
    """`witnesses`: the witnesses whose quorum must cosign what is served (protocol §8), or None."""

    def __init__(self, signer: Signer, witnesses: WitnessPolicy | None = None) -> None:
        self.signer = signer
        self.witnesses = witnesses
        self.origin = signer.name
        self._checkpoint_lock = threading.Lock()
        self._checkpoint: tuple[int, bytes, str] | None = None

    # -- set-up -----------------------------------------------------------------------

    def ensure_head(self, session: Session, now: datetime) -> None:
        """Create the empty log on first start; refuse a database that holds another log."""
        public_key = raw_public_key(self.signer.private_key)
        head = session.get(LogHead, HEAD_ID)
        if head is None:
            try:
                self._create_head(session, public_key, now)
                return
            except IntegrityError:
                # Another server created it at the same moment: check it is ours.
                session.rollback()
                head = session.get_one(LogHead, HEAD_ID)
        if head.origin != self.origin:
            raise LogConfigError(
                f"the database holds the log {head.origin!r}, not {self.origin!r}; "
                "a log's origin never changes (check SUYUAN_LOG_ORIGIN and SUYUAN_PUBLIC_URL)"
            )
        if head.operator_public_key != public_key:
            raise LogConfigError(
                "the log key in the data dir is not the key this database's log was started with; "
                "copy the original log-key file into SUYUAN_DATA_DIR"
            )

    def _create_head(self, session: Session, public_key: bytes, now: datetime) -> None:
        session.add(
            LogHead(
                id=HEAD_ID,
                origin=self.origin,
                operator_public_key=public_key,
                size=0,
                root_hash=EMPTY_ROOT,
                frontier=b"",
                updated_at=now,
            )
        )
        session.commit()

    # -- appending --------------------------------------------------------------------

    def begin(self, session: Session, now: datetime) -> Appender:
        """Take the append lock for the rest of the session's transaction.

        The first statement is a write, so that SQLite takes its write lock at once (a
        read first would pin a snapshot that a concurrent append can make stale); on
        PostgreSQL the UPDATE takes the row lock, and it returns the head as it is once
        every earlier append has committed.
        """
        row = session.connection().execute(_LOCK_HEAD).one()
        return Appender(session, row.size, _split(row.frontier), now)

    # -- reading --------------------------------------------------------------------

    def head(self, session: Session) -> LogHead:
        return session.execute(
            select(LogHead).where(LogHead.id == HEAD_ID).execution_options(populate_existing=True)
        ).scalar_one()

    def checkpoint(self, session: Session) -> str:
        """The signed checkpoint of the current tree (signed on demand, so never stale)."""
        return self.signed_checkpoint(self.head(session))

    def served_checkpoint(self, session: Session) -> str | None:
        """What `GET /log/checkpoint` serves: with witnesses, the newest checkpoint their quorum
        cosigned (None before the first); without, the current one."""
        if self.witnesses is None:
            return self.checkpoint(session)
        kept = cosigned.newest(session)
        return kept.note if kept else None

    def signed_checkpoint(self, head: LogHead) -> str:
        with self._checkpoint_lock:
            cached = self._checkpoint
            if cached and cached[0] == head.size and cached[1] == head.root_hash:
                return cached[2]
            text = sign_checkpoint(Checkpoint(self.origin, head.size, head.root_hash), self.signer)
            self._checkpoint = (head.size, head.root_hash, text)
            return text

    def entries(self, session: Session, start: int, end: int) -> list[bytes]:
        rows = session.execute(
            select(LogEntry.entry).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
        )
        return [bytes(entry) for (entry,) in rows]

    def tile(self, session: Session, tile: Tile) -> bytes | None:
        """A hash tile or entry bundle (c2sp.org/tlog-tiles) as served, in one indexed range
        query; None if the log is not yet big enough to hold it.

        A hash tile at level L is a row of stored subtree hashes of height 8·L, so it is read
        straight from `log_nodes`; those rows and the entries exist exactly once the tree
        covers them, so the query itself says whether the tile exists.
        """
        first, end = tile.first, tile.first + tile.width
        if end > 1 << 62:
            return None  # beyond any log the database's 64-bit integers can index
        if tile.level is None:
            rows = session.execute(
                select(LogEntry.entry).where(LogEntry.idx >= first, LogEntry.idx < end).order_by(LogEntry.idx)
            ).all()
            return bundle(bytes(entry) for (entry,) in rows) if len(rows) == tile.width else None
        level = tile.level * TILE_HEIGHT
        if level >= _MAX_STORED_LEVEL or end > 1 << _LEVEL_SHIFT:
            return None  # beyond any tree the positions can number
        rows = session.execute(
            select(LogNode.hash)
            .where(LogNode.pos >= node_pos(level, first), LogNode.pos < (level << _LEVEL_SHIFT) + end)
            .order_by(LogNode.pos)
        ).all()
        return b"".join(bytes(h) for (h,) in rows) if len(rows) == tile.width else None

    def inclusion_proof(self, session: Session, index: int, size: int) -> tuple[bytes, list[bytes]]:
        self._check_size(session, size)
        if not 0 <= index < size:
            raise Invalid("bad_index", f"index must be at least 0 and below size {size}")
        nodes = self._fetch_nodes(session, [(0, index)], lambda sub: inclusion_proof(index, size, sub))
        return nodes.hash(0, index), nodes.prove(lambda sub: inclusion_proof(index, size, sub))

    def inclusion_proofs(self, session: Session, indexes: list[int], size: int) -> dict[int, list[bytes]]:
        """Proofs of several entries against one tree size (at most the log's), their nodes read in one query."""

        def every(sub: Callable[[int, int], bytes]) -> list[bytes]:
            return [h for index in indexes for h in inclusion_proof(index, size, sub)]

        nodes = self._fetch_nodes(session, [], every)
        return {index: nodes.prove(partial(inclusion_proof, index, size)) for index in indexes}

    def consistency_proof(self, session: Session, old: int, new: int) -> list[bytes]:
        self._check_size(session, new)
        if not 1 <= old <= new:
            raise Invalid(
                "bad_size", f"old must be at least 1 and at most new ({new}); a proof from the empty tree says nothing"
            )
        nodes = self._fetch_nodes(session, [], lambda sub: consistency_proof(old, new, sub))
        return nodes.prove(lambda sub: consistency_proof(old, new, sub))

    def _check_size(self, session: Session, size: int) -> None:
        current = self.head(session).size
        if not 1 <= size <= current:
            raise Invalid("bad_size", f"size must be between 1 and the log's current size {current}")

    def _fetch_nodes(
        self,
        session: Session,
        extra: Iterable[tuple[int, int]],
        prove: Callable[[Callable[[int, int], bytes]], list[bytes]],
    ) -> _Nodes:
        # A first pass with a recording callback learns which perfect subtrees the proof
        # needs; they are then read in one query.
        wanted = set(extra)

        def record(lo: int, hi: int) -> bytes:
            wanted.update(_perfect_subtrees(lo, hi))
            return EMPTY_ROOT

        prove(record)
        positions = [node_pos(level, i) for level, i in wanted]
        rows = session.execute(select(LogNode.pos, LogNode.hash).where(LogNode.pos.in_(positions)))
        return _Nodes({pos: bytes(h) for pos, h in rows})


class _Nodes:
    def __init__(self, by_pos: dict[int, bytes]) -> None:
        self._by_pos = by_pos

    def hash(self, level: int, index: int) -> bytes:
        return self._by_pos[node_pos(level, index)]

    def subtree(self, lo: int, hi: int) -> bytes:
        blocks = [self.hash(level, i) for level, i in _perfect_subtrees(lo, hi)]
        result = blocks[-1]
        for block in reversed(blocks[:-1]):
            result = node_hash(block, result)
        return result

    def prove(self, prove: Callable[[Callable[[int, int], bytes]], list[bytes]]) -> list[bytes]:
        return prove(self.subtree)


def _perfect_subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """Split D[lo:hi] into perfect subtrees, largest first, as (level, index).

    Every range in an RFC 9162 proof starts at a multiple of the smallest power of two
    that covers it, so this split follows the binary digits of hi - lo, and folding
    the blocks from the right gives MTH(D[lo:hi]).
    """
    blocks = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo & ((1 << level) - 1):
            level -= 1
        blocks.append((level, lo >> level))
        lo += 1 << level
    return blocks


def _split(frontier: bytes) -> list[bytes]:
    return [frontier[i : i + 32] for i in range(0, len(frontier), 32)]
