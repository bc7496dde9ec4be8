"""Rendered public pages, kept while the records they show are unchanged.

A page is current while the last record number of its lot, and of every lot it was made
from, is what it was at rendering: a new record or a recall on any of them changes that
version, and the very next request renders afresh. Checking costs a pragma (SQLite) or
nothing while PostgreSQL's notifications say the lots are unchanged (see `freshness`), so
several processes or hosts can each keep their own cache.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Rendered:
    version: tuple
    etag: bytes
    body: bytes
    gzipped: bytes
    # With witnesses: the cosigned size that would cover a page rendered before its records
    # were cosigned ("not yet cosigned"); it is stale once the cosigned checkpoint gets there.
    awaiting: int | None = None

    def current(self, cosigned_size: int) -> bool:
        return self.awaiting is None or cosigned_size < self.awaiting


class PageCache:
    def __init__(self, size: int = 4096) -> None:
        self._pages: OrderedDict[tuple, Rendered] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        # What a lot was made from never changes once the lot exists.
        self.lineage: dict[str, tuple[str, ...]] = {}

    def get(self, key: tuple, version: tuple) -> Rendered | None:
        page = self._pages.get(key)
        return page if page is not None and page.version == version else None

    def put(self, key: tuple, version: tuple, body: bytes, awaiting: int | None = None) -> Rendered:
        digest = hashlib.sha256(repr((key, version, awaiting is None)).encode()).hexdigest()[:32]
        # Weak: a page rendered elsewhere may name a later checkpoint, but it says the same.
        page = Rendered(version, f'W/"{digest}"'.encode(), body, gzip.compress(body, 6, mtime=0), awaiting)
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
        return page
