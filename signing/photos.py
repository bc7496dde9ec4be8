"""Which file of a cited photo some bytes are (protocol §1, §4).

A record's evidence item names the original by its `sha256`; since photos bind their public
copies, it also names the display copy (`display`, served at `/p/{sha256}.jpg`) and the
thumbnail (`thumb`, at `/p/{sha256}/thumb.jpg`) by the SHA-256 of their bytes. So anyone
holding the signed record and some bytes fetched for it can tell, with nothing else, whether
they are one of the files the signer vouched for. Items of records from before copies were
bound carry `sha256` alone: for those only the original can be recognised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal

PhotoFile = Literal["original", "display", "thumb"]
# The copies a page serves, named in the evidence item by these fields.
COPIES: tuple[PhotoFile, ...] = ("display", "thumb")
PHOTO_COPIES = frozenset(COPIES)
# The item's field that names each file.
_FIELDS: tuple[tuple[PhotoFile, str], ...] = (("original", "sha256"), ("display", "display"), ("thumb", "thumb"))


def photo_file(item: Mapping[str, object], data: bytes) -> PhotoFile | None:
    """The file of the photo `item` cites that `data` is, or None when it is none of them."""
    digest = hashlib.sha256(data).hexdigest()
    return next((name for name, field in _FIELDS if item.get(field) == digest), None)
