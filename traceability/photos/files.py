"""Photos on disk, addressed by the SHA-256 of the original's bytes.

Originals are kept byte for byte (their hash is what records cite); the public copies
are made at upload. Files are written whole or not at all (a temporary file then a
rename), and a second upload of the same bytes writes nothing. A file's bytes are
trusted nowhere: `copies` checks them against the hashes the records bind.
"""

from __future__ import annotations

from pathlib import Path

from signing.photos import PhotoFile

from ..storage.durable import replace_file


class PhotoFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def original(self, sha256: str) -> Path:
        return self.root / "originals" / sha256[:2] / sha256

    def display(self, sha256: str) -> Path:
        return self.root / "public" / sha256[:2] / f"{sha256}.jpg"

    def thumbnail(self, sha256: str) -> Path:
        return self.root / "public" / sha256[:2] / f"{sha256}.thumb.jpg"

    def path(self, sha256: str, name: PhotoFile) -> Path:
        """Where the file the evidence item names `name` is kept."""
        where = {"original": self.original, "display": self.display, "thumb": self.thumbnail}[name]
        return where(sha256)

    def save(self, sha256: str, original: bytes, display: bytes, thumbnail: bytes) -> None:
        for path, data in (
            (self.original(sha256), original),
            (self.display(sha256), display),
            (self.thumbnail(sha256), thumbnail),
        ):
            if not path.exists():
                write(path, data)


def read(path: Path) -> bytes | None:
    """A file's bytes, or None when it is gone."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write(path: Path, data: bytes) -> None:
    """Put `data` at `path` whole, in place of any file there."""
    replace_file(path, data)
