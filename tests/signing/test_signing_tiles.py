"""c2sp.org/tlog-tiles paths and entry bundles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing.tiles import TILE_WIDTH, Tile, bundle, encode_index, parse_tile_path, tiles_for, unbundle

tiles = st.builds(
    Tile,
    level=st.none() | st.integers(0, 63),
    index=st.integers(0, 2**64),
    width=st.integers(1, TILE_WIDTH),
)


@given(tiles)
def test_every_tile_path_reads_back_as_its_tile(tile):
    assert tile.path.startswith("tile/")
    assert parse_tile_path(tile.path.removeprefix("tile/")) == tile


@given(st.integers(0, 10**30))
def test_an_index_is_groups_of_three_digits_all_but_the_last_with_an_x(n):
    groups = encode_index(n).split("/")
    assert all(len(g) == 4 and g[0] == "x" for g in groups[:-1])
    assert len(groups[-1]) == 3
    assert int("".join(groups).replace("x", "")) == n
    assert len(groups) == 1 or groups[0] != "x000"


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 1234067, 8), "tile/0/x001/x234/067.p/8"),  # the example in c2sp.org/tlog-tiles
        (Tile(None, 1234067), "tile/entries/x001/x234/067"),
        (Tile(0, 0), "tile/0/000"),
        (Tile(1, 999, 255), "tile/1/999.p/255"),
        (Tile(63, 1000), "tile/63/x001/000"),
    ],
)
def test_known_paths(tile, path):
    assert tile.path == path
    assert parse_tile_path(path.removeprefix("tile/")) == tile


@pytest.mark.parametrize(
    "path",
    [
        "",
        "0",
        "0/",
        "0/1",  # not three digits
        "0/0001",
        "0/x000/001",  # a leading zero group
        "0/x001",  # x on the last group
        "0/001/002",  # no x on an upper group
        "00/000",  # a level with a leading zero
        "64/000",  # beyond level 63
        "-1/000",
        "data/000",  # Go's sumdb name for entries, not tlog-tiles'
        "0/000.p/0",
        "0/000.p/256",  # a full tile has no .p
        "0/000.p/08",
        "0/000.p/",
        "0/000.p",
        "0/000/",
        "entries/000.p/1000",
        "0/０００",  # fullwidth digits
    ],
)
def test_anything_but_a_canonical_tile_path_is_refused(path):
    with pytest.raises(ValueError, match=r"tile|level|width"):
        parse_tile_path(path)


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_a_bundle_reads_back_as_its_entries(entries):
    data = bundle(entries)
    assert len(data) == sum(2 + len(e) for e in entries)
    assert unbundle(data) == entries


def test_a_bundle_prefixes_each_entry_with_its_length_big_endian():
    assert bundle([b"ab", b"c" * 300]) == b"\x00\x02ab\x01\x2c" + b"c" * 300
    with pytest.raises(ValueError, match="65,535"):
        bundle([bytes(65536)])


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x05abc", b"\x00\x01a\x00"])
def test_a_cut_bundle_is_refused(data):
    with pytest.raises(ValueError, match="ends inside"):
        unbundle(data)


@pytest.mark.parametrize(
    ("level", "size", "expected"),
    [
        (0, 0, []),
        (0, 1, [Tile(0, 0, 1)]),
        (0, 256, [Tile(0, 0)]),
        (0, 257, [Tile(0, 0), Tile(0, 1, 1)]),
        (1, 257, [Tile(1, 0, 1)]),
        (1, 255, []),
        (None, 513, [Tile(None, 0), Tile(None, 1), Tile(None, 2, 1)]),
        (2, 70_000, [Tile(2, 0, 1)]),
    ],
)
def test_the_tiles_of_a_tree(level, size, expected):
    assert tiles_for(level, size) == expected
