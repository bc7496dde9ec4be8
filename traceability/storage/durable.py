"""Files written whole or not at all, and kept across a crash once written.

A reader sees the old file or the new one, never a part: the bytes go to a private
temporary file beside the target, which is fsynced and then renamed (or linked) into
place; the directory is fsynced too, since the rename lives in it and is otherwise lost
to a power cut after the caller was told the file is saved.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def replace_file(path: Path, data: bytes) -> None:
    """Put `data` at `path`, in place of any file there."""
    temporary = _write_temporary(path, data, 0o644)
    os.replace(temporary, path)
    fsync_directory(path.parent)


def create_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Create `path` holding `data` unless it exists; the first writer wins.

    A process starting at the same moment either finds no file or the complete one;
    if it made one too, the first one stays and both read it.
    """
    temporary = _write_temporary(path, data, mode)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temporary(path: Path, data: bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per writer: two may write the same file at the same moment.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary
