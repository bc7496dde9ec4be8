"""c2sp.org/tlog-tiles: tile paths and entry bundles, the math a tile reader and server share.

A hash tile at level L, index N holds the hashes of the perfect subtrees of height 8·L
numbered 256·N to 256·N + W - 1, concatenated; an entry bundle at index N holds the
entries 256·N to 256·N + W - 1, each prefixed by its length as a big-endian uint16. W is
256 for a full tile; a partial one (W from 1 to 255) has `.p/W` after N in its path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
ENTRIES = "entries"

_PATH = re.compile(r"(0|[1-9][0-9]?|entries)/((?:x[0-9]{3}/){0,20})([0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


@dataclass(frozen=True)
class Tile:
    """`level` is None for an entry bundle."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise ValueError(f"a tile's level is from 0 to {MAX_LEVEL}")
        if self.index < 0:
            raise ValueError("a tile's index is at least 0")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(f"a tile's width is from 1 to {TILE_WIDTH}")

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def first(self) -> int:
        """The index (within its level) of the tile's first hash or entry."""
        return self.index * TILE_WIDTH

    @property
    def path(self) -> str:
        """The path below the log's prefix: `tile/0/x001/234/067.p/8`."""
        level = ENTRIES if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"


def encode_index(n: int) -> str:
    """N as zero-padded groups of three digits, all but the last prefixed with x: 1234067 → x001/x234/067."""
    digits = str(n)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_tile_path(path: str) -> Tile:
    """The tile a path below `tile/` names (`0/x001/234`, `entries/005.p/3`).

    Only the one canonical spelling of each tile is accepted: no leading zero groups, no
    `.p/256`. Raises ValueError for anything else.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"{path!r} is not a tile path: LEVEL/N[.p/W], N as x001/x234/067")
    level_text, upper, last, width_text = match.groups()
    index = int(upper.replace("x", "").replace("/", "") + last)
    level = None if level_text == ENTRIES else int(level_text)
    width = int(width_text) if width_text else TILE_WIDTH
    if width_text and width >= TILE_WIDTH:
        raise ValueError(f"a partial tile's width is from 1 to {TILE_WIDTH - 1}")
    tile = Tile(level, index, width)
    if tile.path != f"tile/{path}":
        raise ValueError(f"{path!r} is not the canonical path of its tile ({tile.path})")
    return tile


def tiles_for(level: int | None, size: int) -> list[Tile]:
    """The tiles of a tree of `size` entries at one level (None: entry bundles), full then partial."""
    count = size >> (TILE_HEIGHT * (level or 0))
    full, rest = divmod(count, TILE_WIDTH)
    return [Tile(level, n) for n in range(full)] + ([Tile(level, full, rest)] if rest else [])


def bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry prefixed by its length as a big-endian uint16."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise ValueError("an entry in a bundle is at most 65,535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; ValueError if it is cut short."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("the entry bundle ends inside a length prefix")
        length = int.from_bytes(data[at : at + 2], "big")
        at += 2
        if at + length > len(data):
            raise ValueError("the entry bundle ends inside an entry")
        entries.append(data[at : at + length])
        at += length
    return entries
