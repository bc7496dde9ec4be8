"""A photo's public copies, served only as the records bind them (protocol §1, §4).

A record that cites a photo binds, next to the original's SHA-256, the SHA-256 of its display
copy and thumbnail (`display`, `thumb`); the photo's row keeps the same two hashes, so every
record citing it binds the same bytes. (Records from before the copies were bound carry the
original's hash alone: for them the row's hashes, taken by migration 0009 from the files as
they then were, are the reference.)

What is served is checked with `signing.photos.photo_file`, the function an auditor uses on
the bytes they fetched. When a copy's file is not the bound copy (replaced, damaged, lost):

- it is made again from the original, if the original still hashes to the SHA-256 the
  records cite, and served (and written back over the bad file) only if the new bytes hash
  to the bound value. Re-encoding is deterministic on a given Pillow and libjpeg (checked on
  the corpus by tests/photos/test_copies.py), so on this installation the copy made again
  *is* the genuine copy, and a replaced file mends itself;
- otherwise (the original replaced or gone too, or an upgraded encoder making other bytes)
  the answer is 404 `photo_changed`: bytes the record does not vouch for are never shown as
  the photo it cites. 404 rather than 410: restoring the file from a backup serves it again.

Each request reads the file, hashes it and sends those very bytes, with no cache of earlier
checks: a cache keyed on size and modification time would let one read be checked and
another sent, and a copy (at most 1600 px, a few hundred KB) hashes in well under a
millisecond; browsers keep the copies for a year anyway. Originals are never served.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from signing.photos import COPIES, PhotoFile, photo_file

from ..errors import DomainError, NotFound
from ..storage.models import Photo
from .files import PhotoFiles, read, write
from .images import open_image, public_copies


def evidence_item(photo: Photo) -> dict[str, str]:
    """How a record cites `photo`: the original's hash and type, and its copies' hashes."""
    item = {"sha256": photo.sha256, "media_type": photo.media_type}
    copies = {"display": photo.display_sha256, "thumb": photo.thumb_sha256}
    return item | {name: digest for name, digest in copies.items() if digest is not None}


def genuine_copy(files: PhotoFiles, item: Mapping[str, str], copy: PhotoFile) -> bytes:
    """The bytes of the copy `item` binds as `copy`, from its file or made again from the
    original; NotFound `photo_changed` when neither gives them."""
    path = files.path(item["sha256"], copy)
    data = read(path)
    if data is not None and photo_file(item, data) == copy:
        return data
    made = _made_again(files, item)
    if made is None or photo_file(item, made[copy]) != copy:
        raise NotFound(
            "photo_changed",
            "the file of this photo was changed or lost on the server since records cited it, so it is not "
            "shown: it may not be the picture the records cite. The operator can restore it from a backup",
        )
    write(path, made[copy])
    return made[copy]


def copy_hashes(files: PhotoFiles, sha256: str) -> dict[PhotoFile, str | None]:
    """The SHA-256 of each copy of a stored photo as its file now is (made again from a genuine
    original when the file is lost), or None when neither exists: for migration 0009."""
    item = {"sha256": sha256}
    found = {copy: read(files.path(sha256, copy)) for copy in COPIES}
    made = _made_again(files, item) if None in found.values() else None
    hashes: dict[PhotoFile, str | None] = {}
    for copy, data in found.items():
        if data is None and made is not None:
            data = made[copy]
        hashes[copy] = hashlib.sha256(data).hexdigest() if data is not None else None
    return hashes


def _made_again(files: PhotoFiles, item: Mapping[str, str]) -> dict[PhotoFile, bytes] | None:
    """The copies made afresh from the original, if the original is still the one `item` cites."""
    original = read(files.original(item["sha256"]))
    if original is None or photo_file(item, original) != "original":
        return None
    try:
        display, thumb = public_copies(open_image(original))
    except DomainError:  # a decoder that no longer takes the original makes no copy of it
        return None
    return {"display": display, "thumb": thumb}
