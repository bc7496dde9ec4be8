"""The log as c2sp.org/tlog-tiles (protocol §10): hash tiles and entry bundles, their caching,
partial tiles for every size, and 404/400 for the rest. Go reads them in tests/interop."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from signing.merkle import leaf_hash, root_hash
from signing.tiles import TILE_WIDTH, Tile, tiles_for, unbundle
from tests.conftest import BOTH_DATABASES
from tests.factories import grow_log_raw

IMMUTABLE = "public, max-age=31536000, immutable"


def entries_of(size: int) -> list[bytes]:
    """What grow_log_raw appends."""
    return [f'{{"entry":{i}}}'.encode() for i in range(size)]


def expected_tile(tile: Tile, leaves: list[bytes]) -> bytes:
    span = TILE_WIDTH ** (tile.level or 0)
    return b"".join(root_hash(leaves[(tile.first + k) * span : (tile.first + k + 1) * span]) for k in range(tile.width))


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_every_tile_of_the_tree_holds_what_the_entries_hash_to(services, client):
    size = 2 * TILE_WIDTH * TILE_WIDTH // 2 + 300  # 65,836: two levels of full and partial tiles
    grow_log_raw(services, size)
    entries = entries_of(size)
    leaves = [leaf_hash(e) for e in entries]
    checked = 0
    for level in (0, 1, 2):
        for tile in tiles_for(level, size)[-3:]:
            response = client.get(f"/log/{tile.path}")
            assert response.status_code == 200, tile.path
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.content == expected_tile(tile, leaves), tile.path
            checked += 1
    for tile in tiles_for(None, size)[-2:]:
        response = client.get(f"/log/{tile.path}")
        assert unbundle(response.content) == entries[tile.first : tile.first + tile.width]
        checked += 1
    assert checked == 3 + 2 + 1 + 2


def test_full_tiles_are_immutable_and_partial_ones_exist_for_every_size(services, client):
    grow_log_raw(services, 257)
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert full.headers["cache-control"] == IMMUTABLE
    assert client.get("/log/tile/entries/000").headers["cache-control"] == IMMUTABLE
    # A partial tile for every size the log has had, each a prefix of the full tile.
    for width in range(1, 256):
        partial = client.get(f"/log/tile/0/000.p/{width}")
        assert partial.status_code == 200
        assert partial.content == full.content[: 32 * width]
        assert "immutable" not in partial.headers["cache-control"]
        assert partial.headers["cache-control"].startswith("public, max-age=")
    assert client.get("/log/tile/0/001.p/1").status_code == 200
    assert client.get("/log/tile/1/000.p/1").content == root_hash([leaf_hash(e) for e in entries_of(256)])
    assert len(unbundle(client.get("/log/tile/entries/001.p/1").content)) == 1


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001.p/2",  # beyond the tree's size
        "tile/0/001",
        "tile/0/002.p/1",
        "tile/1/000",
        "tile/1/000.p/2",
        "tile/2/000.p/1",
        "tile/entries/001.p/2",
        "tile/entries/001",
        "tile/63/x999/x999/x999/x999/x999/x999/999",  # beyond anything the positions number
        "tile/7/x999/x999/x999/x999/x999/999",
        "tile/entries/x999/x999/x999/x999/x999/x999/999",
    ],
)
def test_a_tile_beyond_the_tree_is_404_and_not_cached(services, client, path):
    grow_log_raw(services, 257)
    response = client.get(f"/log/{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_such_tile"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/x000/001",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/64/000",
        "tile/data/000",
        "tile/",
        "tile/0/000/",
    ],
)
def test_a_path_that_is_not_a_tile_is_400(services, client, path):
    grow_log_raw(services, 3)
    response = client.get(f"/log/{path}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_tile_path"


def test_the_empty_log_has_no_tiles(client):
    assert client.get("/log/tile/0/000.p/1").status_code == 404
    assert client.get("/log/tile/entries/000.p/1").status_code == 404


def test_a_tile_is_one_indexed_query(services, client):
    grow_log_raw(services, 600)
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        statements.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        for path in ("tile/0/001", "tile/1/000.p/2", "tile/entries/002.p/88", "tile/0/009"):
            statements.clear()
            client.get(f"/log/{path}")
            assert len(statements) == 1, statements
            assert "BETWEEN" in statements[0] or ">=" in statements[0]
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
