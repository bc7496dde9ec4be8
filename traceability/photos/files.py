"""Photos on disk, addressed by the SHA-256 of the original's bytes.

Originals are kept byte for byte (their hash is what records cite); the public copies
are made once at upload. Files are written whole or not at all (a temporary file then a
rename), and a second upload of the same bytes writes nothing.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


class PhotoFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def original(self, sha256: str) -> Path:
        return self.root / "originals" / sha256[:2] / sha256

    def display(self, sha256: str) -> Path:
        return self.root / "public" / sha256[:2] / f"{sha256}.jpg"

    def thumbnail(self, sha256: str) -> Path:
        return self.root / "public" / sha256[:2] / f"{sha256}.thumb.jpg"

    def save(self, sha256: str, original: bytes, display: bytes, thumbnail: bytes) -> None:
        for path, data in (
            (self.original(sha256), original),
            (self.display(sha256), display),
            (self.thumbnail(sha256), thumbnail),
        ):
            _write_once(path, data)


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per writer: two threads may store the same new photo at the same moment.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
